//! The vocabulary of demo records: real place names of Nanjing's districts, kinds of
//! building with plausible floor areas, and the parts company names are made of. The
//! companies and projects they make up are fictitious.

/// A kind of project and what such projects look like.
pub struct Use {
    pub name: &'static str,
    /// 国民经济行业 division used in the project code.
    pub industry: &'static str,
    /// Floor area ranges in m², `(0, 0)` for none.
    pub residential: (i64, i64),
    pub non_residential: (i64, i64),
    /// Relative frequency among demo projects.
    pub weight: u32,
    /// Exempt from the infrastructure fee (community elderly care and childcare).
    pub exempt: bool,
    /// Large enough to owe a civil-defence basement.
    pub basement: bool,
}

const fn kind(
    name: &'static str,
    industry: &'static str,
    residential: (i64, i64),
    non_residential: (i64, i64),
    weight: u32,
) -> Use {
    Use {
        name,
        industry,
        residential,
        non_residential,
        weight,
        exempt: false,
        basement: true,
    }
}

pub const USES: &[Use] = &[
    kind("保障性住房", "70", (20_000, 150_000), (1_000, 8_000), 12),
    kind("商品住宅", "70", (10_000, 150_000), (500, 10_000), 20),
    kind("人才公寓", "70", (5_000, 40_000), (300, 3_000), 6),
    kind("安置房", "70", (20_000, 120_000), (1_000, 6_000), 8),
    kind("商业综合体", "70", (0, 0), (30_000, 200_000), 6),
    kind("智能制造产业园", "39", (0, 0), (10_000, 120_000), 10),
    kind("研发办公楼", "73", (0, 0), (8_000, 60_000), 8),
    Use {
        basement: false,
        ..kind("物流仓储中心", "59", (0, 0), (10_000, 80_000), 5)
    },
    kind("实验小学", "83", (0, 0), (6_000, 25_000), 3),
    kind("初级中学", "83", (0, 0), (10_000, 40_000), 2),
    kind("社区卫生服务中心", "84", (0, 0), (2_000, 8_000), 2),
    kind("人民医院门急诊楼", "84", (0, 0), (15_000, 60_000), 1),
    Use {
        exempt: true,
        basement: false,
        ..kind("社区养老服务中心", "85", (0, 0), (2_000, 15_000), 2)
    },
    Use {
        exempt: true,
        basement: false,
        ..kind("社区托育中心", "85", (0, 0), (1_000, 6_000), 1)
    },
];

pub const EXEMPTION_BASIS: &str = "财政部 税务总局 发展改革委 民政部 商务部 卫生健康委公告2019年第76号（社区养老、托育服务设施免征城市基础设施配套费）";

/// Streets and areas, in `NANJING_DISTRICTS` order.
pub const PLACES: [&[&str]; 11] = [
    &[
        "玄武门街道",
        "新街口街道",
        "梅园新村街道",
        "锁金村街道",
        "孝陵卫街道",
        "红山街道",
    ],
    &[
        "夫子庙街道",
        "中华门街道",
        "双塘街道",
        "秦虹街道",
        "光华路街道",
        "红花街道",
    ],
    &[
        "河西中央商务区",
        "南苑街道",
        "兴隆街道",
        "沙洲街道",
        "双闸街道",
        "江心洲街道",
    ],
    &[
        "湖南路街道",
        "华侨路街道",
        "宁海路街道",
        "热河南路街道",
        "挹江门街道",
        "幕府山街道",
    ],
    &[
        "江浦街道",
        "桥林街道",
        "汤泉街道",
        "永宁街道",
        "星甸街道",
        "顶山街道",
    ],
    &[
        "仙林街道",
        "尧化街道",
        "马群街道",
        "迈皋桥街道",
        "燕子矶街道",
        "八卦洲街道",
    ],
    &[
        "雨花街道",
        "赛虹桥街道",
        "铁心桥街道",
        "西善桥街道",
        "板桥街道",
        "梅山街道",
    ],
    &[
        "秣陵街道",
        "东山街道",
        "淳化街道",
        "汤山街道",
        "禄口街道",
        "江宁街道",
        "麒麟街道",
    ],
    &[
        "雄州街道",
        "龙池街道",
        "葛塘街道",
        "竹镇镇",
        "横梁街道",
        "马鞍街道",
    ],
    &["永阳街道", "柘塘街道", "洪蓝街道", "石湫街道", "白马镇"],
    &["淳溪街道", "古柏街道", "桠溪街道", "东坝街道", "阳江镇"],
];

pub const PHASES: &[&str] = &[
    "",
    "",
    "一期",
    "二期",
    "三期",
    "（北地块）",
    "（南地块）",
    "A地块",
];

pub const BUILDER_WORDS: &[&str] = &[
    "金陵", "钟山", "紫金", "秦淮", "玄武", "石城", "栖霞", "江北", "滨江", "仙林", "汇景", "华泰",
    "宁远", "锦绣", "鼎盛", "安居", "城建", "新港", "天元", "嘉业", "恒通", "瑞华", "同创", "宏图",
];

pub const BUILDER_SUFFIXES: &[&str] = &[
    "置业有限公司",
    "建设发展有限公司",
    "房地产开发有限公司",
    "城市建设投资有限公司",
    "实业有限公司",
    "产业园开发有限公司",
    "投资集团有限公司",
];

pub const CHANNELS: &[&str] = &[
    "非税支付平台",
    "非税支付平台",
    "非税支付平台",
    "建设银行",
    "工商银行",
    "南京银行",
    "农业银行",
    "中国银行",
    "江苏银行",
];
