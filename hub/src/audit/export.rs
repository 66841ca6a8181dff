//! The audit trail as the audit administrator takes it away: CSV (UTF-8 with a byte-order
//! mark, so spreadsheet programs read the Chinese right) and XLSX, times in Asia/Shanghai.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use yizhan_core::clock::SHANGHAI;

use crate::store::AuditRecord;

const HEADERS: [&str; 12] = ["编号", "时间（北京时间）", "终端本地时间", "用户", "角色", "终端", "来源地址", "事件", "对象", "结果", "原因", "详情"];

fn shanghai(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(SHANGHAI);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn row(r: &AuditRecord) -> [String; 12] {
    [
        r.id.to_string(),
        shanghai(r.at),
        r.local_at.map(shanghai).unwrap_or_default(),
        r.user.clone(),
        r.role.clone(),
        r.device.clone(),
        r.address.clone(),
        r.event.clone(),
        r.object.clone(),
        if r.result == "success" { "成功".into() } else { "失败".into() },
        r.reason.clone(),
        r.detail.clone(),
    ]
}

pub fn csv(records: &[AuditRecord]) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(HEADERS).expect("writing to memory");
    for r in records {
        out.write_record(row(r)).expect("writing to memory");
    }
    out.into_inner().expect("writing to memory")
}

pub fn xlsx(records: &[AuditRecord]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("审计记录")?;
    let bold = Format::new().set_bold();
    for (col, title) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &bold)?;
    }
    for (i, r) in records.iter().enumerate() {
        for (col, value) in row(r).iter().enumerate() {
            sheet.write_string(i as u32 + 1, col as u16, value)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}
