//! The printed PDF as a reader sees it: its text layer (pdftotext), fonts (pdffonts),
//! PDF/A identification (pdfinfo) and the QR scanned off a 200 dpi rendering (pdftoppm,
//! zbarimg). The tools come from poppler-utils and zbar-tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;
use yizhan_core::document::{Document, DocumentKind, DocumentNumber};
use yizhan_core::money::{format_yuan, to_chinese_uppercase};
use yizhan_voucher::pdf::{Marks, qr_url_in, render};

/// As long as a real one: the key fields, then a 32-byte digest and a 64-byte signature
/// in unpadded base64url.
const URL: &str = "http://127.0.0.1:8750/verify?k=voucher&n=PZ0000001234&p=2019-320105-47-01-123456\
&t=306000000&at=1795487405&d=counter-03\
&h=Qm9vdHN0cmFwLWRpZ2VzdC1mb3ItdGhlLXZvdWNoZXI\
&s=U2lnbmF0dXJlLW9mLXRoZS1jb3VudGVyLWtleS1vdmVyLXRoZS1kaWdlc3Qtb2YtdGhlLXZvdWNoZXItLS0tLQ";

/// The specimen under a number of `kind`, on two planning permits.
fn sample(kind: DocumentKind) -> Document {
    Document {
        number: DocumentNumber { kind, serial: 1234 },
        planning_permit_nos: vec!["建字第320105202600001号".into(), "建字第320105202600002号".into()],
        ..Document::specimen()
    }
}

/// Runs a reader tool and returns its standard output. A missing tool fails the test:
/// these checks are the point of the suite, not optional extras.
fn run(tool: &str, args: &[&str]) -> String {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}); install the test tools with `scripts/deps.sh --test`")
    });
    assert!(
        output.status.success(),
        "{tool} {args:?} exited with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("{tool} printed non-UTF-8: {e}"))
}

struct Written {
    _dir: TempDir,
    path: PathBuf,
}

impl Written {
    fn new(pdf: &[u8]) -> Written {
        let dir = TempDir::new().expect("a temporary directory");
        let path = dir.path().join("document.pdf");
        std::fs::write(&path, pdf).expect("the PDF is written");
        Written { _dir: dir, path }
    }

    fn arg(&self) -> &str {
        path_str(&self.path)
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// The text layer laid out as on the page, with every run of whitespace made one space so
/// a field matches however wide the gaps around and inside it are set.
fn page_text(pdf: &[u8]) -> String {
    let file = Written::new(pdf);
    let text = run("pdftotext", &["-layout", "-enc", "UTF-8", file.arg(), "-"]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_shows(text: &str, expected: &str) {
    let expected = expected.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains(&expected), "the page does not show {expected:?}; it reads:\n{text}");
}

fn render_ok(doc: &Document, marks: &Marks) -> Vec<u8> {
    render(doc, URL, marks).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_voucher_shows_every_field_and_the_shanghai_date() {
    let doc = sample(DocumentKind::Voucher);
    let text = page_text(&render_ok(&doc, &Marks { reprint: true, voided: None }));

    for field in [
        "建设工程规费缴费凭证",
        "南京市建设工程收费综合窗口",
        "凭证号码：PZ0000001234",
        "南京演示置业有限公司",
        "91320105MA1W8XQ258",
        "王芳",
        "李强",
        "2019-320105-47-01-123456",
        "演示花园一期",
        "建字第320105202600001号、建字第320105202600002号",
        "施工许可证号：待关联",
        "counter-03",
        "补打",
        "扫码验真",
    ] {
        assert_shows(&text, field);
    }
    for line in &doc.lines {
        for field in [&line.item_code, &line.item_name, &line.basis, &format_yuan(line.amount_fen)] {
            assert_shows(&text, field);
        }
    }
    assert_shows(&text, &to_chinese_uppercase(doc.total_fen));
    assert_shows(&text, "人民币叁佰零陆万元整");
    assert_shows(&text, "¥3,060,000.00");
    assert_shows(&text, "开票日期：2026年11月24日");
    assert!(!text.contains("2026年11月23日"), "the UTC date is printed:\n{text}");
    assert!(!text.contains("作废"), "an unvoided copy says 作废:\n{text}");
}

#[test]
fn an_invoice_shows_its_code_number_and_check_code_and_a_voided_one_says_why() {
    let mut doc = sample(DocumentKind::Invoice);
    doc.construction_permit_no = "320105202611240101".into();
    let marks = Marks { reprint: false, voided: Some("交款人名称有误，已重新开具".into()) };
    let text = page_text(&render_ok(&doc, &marks));

    assert_shows(&text, "非税收入统一票据");
    assert_shows(&text, "票据代码：32010126");
    assert_shows(&text, "票据号码：0000001234");
    assert_shows(&text, &format!("校验码：{}", doc.check_code()));
    assert_shows(&text, "施工许可证号：320105202611240101");
    assert_shows(&text, "作废");
    assert_shows(&text, "交款人名称有误，已重新开具");
    assert!(!text.contains("待关联"), "a linked permit still reads 待关联:\n{text}");
    assert!(!text.contains("补打"), "an original says 补打:\n{text}");
}

#[test]
fn awkward_totals_are_printed_in_words_as_the_convention_writes_them() {
    for (fen, words, figure) in [
        (100_000_005, "人民币壹佰万元零伍分", "¥1,000,000.05"),
        (10_700_053, "人民币壹拾万零柒仟元零伍角叁分", "¥107,000.53"),
        (100_000_000_050, "人民币壹拾亿元零伍角", "¥1,000,000,000.50"),
    ] {
        let mut doc = sample(DocumentKind::Voucher);
        doc.lines.truncate(1);
        doc.lines[0].amount_fen = fen;
        doc.total_fen = fen;
        assert_eq!(to_chinese_uppercase(fen), words);
        let text = page_text(&render_ok(&doc, &Marks::default()));
        assert_shows(&text, &format!("（大写）{words}"));
        assert_shows(&text, figure);
    }
}

#[test]
fn the_font_is_embedded_as_a_subset() {
    let file = Written::new(&render_ok(&sample(DocumentKind::Invoice), &Marks::default()));
    let listing = run("pdffonts", &[file.arg()]);
    // name  type  encoding  emb  sub  uni  object ID, under two header lines.
    let fonts: Vec<Vec<&str>> = listing.lines().skip(2).map(|l| l.split_whitespace().collect()).collect();
    assert!(!fonts.is_empty(), "no fonts listed:\n{listing}");
    for font in &fonts {
        let name = font[0];
        let (tag, rest) = name.split_once('+').unwrap_or_else(|| panic!("{name} has no subset tag:\n{listing}"));
        assert!(tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()), "{name}:\n{listing}");
        assert!(rest.starts_with("NotoSansCJK"), "{name}:\n{listing}");
        let [emb, sub, uni] = font[font.len() - 5..font.len() - 2] else { unreachable!() };
        assert_eq!((emb, sub, uni), ("yes", "yes", "yes"), "{name}:\n{listing}");
    }
}

#[test]
fn the_pdf_identifies_itself_as_pdf_a() {
    let file = Written::new(&render_ok(&sample(DocumentKind::Voucher), &Marks::default()));
    let xmp = run("pdfinfo", &["-meta", file.arg()]);
    let value_after = |key: &str| {
        let at = xmp.find(key).unwrap_or_else(|| panic!("no {key} in the XMP:\n{xmp}"));
        xmp[at + key.len()..].chars().find(char::is_ascii_alphanumeric)
    };
    assert!(matches!(value_after("pdfaid:part"), Some('2' | '3')), "{xmp}");
    assert!(matches!(value_after("pdfaid:conformance"), Some('B' | 'b')), "{xmp}");
    let info = run("pdfinfo", &[file.arg()]);
    assert!(info.contains("建设工程规费缴费凭证 PZ0000001234"), "the title is not set:\n{info}");
    assert!(info.contains("Pages:           1"), "{info}");
}

#[test]
fn the_qr_scans_to_the_verification_url() {
    let pdf = render_ok(&sample(DocumentKind::Voucher), &Marks { reprint: true, voided: None });
    assert_eq!(qr_url_in(&pdf).as_deref(), Some(URL));
    let file = Written::new(&pdf);
    let png_root = file.path.with_file_name("page");
    run("pdftoppm", &["-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile", file.arg(), path_str(&png_root)]);
    let png = png_root.with_extension("png");
    let scanned = run("zbarimg", &["-q", "--raw", "-Sdisable", "-Sqrcode.enable", path_str(&png)]);
    assert_eq!(scanned.trim_end_matches('\n'), URL);
}
