//! A cell as read from either kind of file, before its column is known.

use super::*;

/// A cell as read, before it is known which column it is in.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Text(String),
    /// An XLSX number, as the shortest decimal that reads back as the same binary value
    /// (what Excel shows for a typed-in 1234.56), so no float rounding reaches the areas.
    Number {
        text: String,
        value: f64,
    },
    /// An XLSX cell formatted as a date; `None` when its serial is no calendar day.
    Date {
        on: Option<Date>,
        shown: String,
    },
    /// A formula, an error value, a boolean or a duration: nothing an export should hold.
    Unusable {
        shown: String,
        problem: &'static str,
    },
}

impl Cell {
    pub(super) fn blank() -> Cell {
        Cell::Text(String::new())
    }

    pub(super) fn from_xlsx(value: DataRef<'_>) -> Cell {
        let number = |value: f64| Cell::Number {
            text: value.to_string(),
            value,
        };
        match value {
            DataRef::Empty => Cell::blank(),
            DataRef::String(s) | DataRef::DateTimeIso(s) => Cell::Text(s),
            DataRef::SharedString(s) => Cell::Text(s.to_owned()),
            // Beyond 2^53 the float is not the integer, but Excel keeps only 15 digits
            // anyway; the code fields say so.
            DataRef::Int(i) => number(i as f64),
            DataRef::Float(f) => number(f),
            DataRef::DateTime(d) if d.is_duration() => Cell::Unusable {
                shown: d.as_f64().to_string(),
                problem: "单元格是时长格式，不是日期或数字",
            },
            DataRef::DateTime(d) => excel_date(d),
            DataRef::DurationIso(s) => Cell::Unusable {
                shown: s,
                problem: "单元格是时长格式，不是日期或数字",
            },
            DataRef::Bool(b) => Cell::Unusable {
                shown: if b { "TRUE" } else { "FALSE" }.to_owned(),
                problem: "单元格是逻辑值（TRUE/FALSE），不是文本、数字或日期",
            },
            DataRef::Error(e) => Cell::Unusable {
                shown: e.to_string(),
                problem: "单元格是 Excel 错误值：请改正后重新保存",
            },
        }
    }

    /// Refused even with a cached value: a file not last saved by Excel may carry a
    /// stale or placeholder result (0), which would be imported as if it were data.
    pub(super) fn formula(formula: &XlsxFormulaMetadata) -> Cell {
        let shown = match formula {
            XlsxFormulaMetadata::Normal { formula }
            | XlsxFormulaMetadata::Shared { formula, .. } => {
                format!("={formula}")
            }
            // A cell of a shared formula carries only the group's index.
            _ => "=（共享公式）".to_owned(),
        };
        Cell::Unusable {
            shown,
            problem: "单元格是公式，不是导出的数据：请复制该列并「选择性粘贴→数值」后重新保存",
        }
    }

    /// What the clerk sees in the cell, trimmed: the value a problem reports.
    pub(super) fn shown(&self) -> &str {
        match self {
            Cell::Text(text) => trim(text),
            Cell::Number { text, .. } => text,
            Cell::Date { shown, .. } | Cell::Unusable { shown, .. } => shown,
        }
    }

    pub(super) fn is_blank(&self) -> bool {
        matches!(self, Cell::Text(text) if trim(text).is_empty())
    }
}

/// Serials below 1 or from 10000-01-01 on are no date Excel can show; calamine would
/// clamp them to a real-looking date.
pub(super) fn excel_date(d: ExcelDateTime) -> Cell {
    let serial = d.as_f64();
    if !(1.0..2_958_466.0).contains(&serial) {
        return Cell::Date {
            on: None,
            shown: serial.to_string(),
        };
    }
    let (year, month, day, ..) = d.to_ymd_hms_milli();
    let shown = format!("{year:04}-{month:02}-{day:02}");
    // Excel's 1900-02-29, which never was, fails here.
    let on = Month::try_from(month)
        .ok()
        .and_then(|m| Date::from_calendar_date(i32::from(year), m, day).ok());
    Cell::Date { on, shown }
}
