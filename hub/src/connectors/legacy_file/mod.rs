//! The planning department's legacy daily export (the USB stick): a CSV (UTF-8 with or
//! without BOM, or GBK as Windows writes it) or an XLSX of planning approvals, read into
//! [`PlanningRecord`]s for the hub's ingest path.
//!
//! Pure: bytes in, rows out. Every data row keeps the row number the clerk sees when the
//! file is opened in Excel (the header is row 1 when it is on the first line), and a row
//! that cannot become a record names each column and problem, so it can be quarantined and
//! fixed. What the hub checks on ingest (USCC check character, project-code shape,
//! districts, phone shape, text length) is left to it: this module reads, maps headers,
//! cleans and converts types.

use std::collections::HashMap;
use std::fmt;
use std::io::Cursor;

use calamine::{DataRef, ExcelDateTime, Reader, Xlsx, XlsxFormulaMetadata};
use encoding_rs::{DecoderResult, GBK};
use sm3::{Digest, Sm3};
use time::{Date, Month};
use yizhan_sync::protocol::PlanningRecord;

use crate::etl::planning::{PlanningField as Field, SourceValue, planning_record};

mod cell;
mod decode;
mod delimited;
mod header;
mod table;
mod xlsx;

use cell::*;
use decode::*;
use delimited::*;
use header::*;
pub(crate) use header::header_name;
use table::*;
use xlsx::*;
use crate::etl::clean::{NOT_DATE, clean_code, halfwidth, is_space, trim};

/// A day's approvals are a few hundred rows; far beyond this the file is not an export.
const MAX_ROWS: usize = 200_000;
/// Five times the longest text the hub accepts: a longer cell is a broken file (a runaway
/// quote, binary data), not a long name.
const MAX_CELL_CHARS: usize = 1_000;
/// Columns further right are never read: an export has about fifteen, and a hostile XLSX
/// can place a cell at column 16,384.
const MAX_COLUMNS: u32 = 1_024;
/// Rows above the header that name no known column (a title such as
/// 「2026年11月24日规划审批数据」); more than this and the file is not an export.
const MAX_TITLE_ROWS: usize = 5;
/// What a problem that concerns the whole row (not one column) names as its field.
pub const WHOLE_ROW: &str = "整行";

/// Where the text of a CSV came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Gbk,
}

/// Told apart by content, never by file name: clerks rename files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv(Encoding),
    Xlsx,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Csv(Encoding::Utf8) => "CSV（UTF-8 编码）",
            FileKind::Csv(Encoding::Gbk) => "CSV（GBK 编码）",
            FileKind::Xlsx => "Excel 工作簿（.xlsx）",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LegacyFile {
    pub kind: FileKind,
    /// The row the column headers were found on.
    pub header_row: usize,
    /// Headers that match no field, as written in the file: shown to the clerk so that a
    /// misspelt optional column (say 联系电话 written 联系方式) does not go unnoticed.
    pub ignored_columns: Vec<String>,
    /// Data rows in file order; completely blank rows are left out.
    pub rows: Vec<LegacyRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LegacyRow {
    /// 1-based, as Excel numbers the row.
    pub row: usize,
    pub outcome: Outcome,
    /// For a rejected row, each known column's header and cell as written: what an
    /// operator corrects, and [`read_cells`] reads again. Empty for other rows.
    pub written: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every row is a record: boxing it would cost an allocation per row to save space on the few that are not"
)]
pub enum Outcome {
    /// Ready for the hub's ingest path (which still validates it).
    Record(PlanningRecord),
    /// The same 规划许可证号 with the same content as an earlier row: nothing new, and
    /// not bad data either, so it is counted as unchanged rather than quarantined.
    Repeat { first_row: usize },
    /// Cannot be imported as it stands: every problem found in the row.
    Rejected(Vec<RowProblem>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The column header as written in the file, or [`WHOLE_ROW`].
    pub field: String,
    /// What is wrong and what is expected, in Chinese. It does not repeat the value,
    /// which may be personal data (a phone number): that is in `value`, for the
    /// quarantine table to show or mask.
    pub problem: String,
    /// The cell as found (trimmed); for a whole-row problem, the row's cells joined by commas.
    pub value: String,
}

/// Why a file cannot be read at all. Each message says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("文件为空：没有表头，也没有数据")]
    Empty,
    #[error("不是 CSV 或 XLSX 文件（含有二进制内容）：请从规划系统重新导出")]
    NotText,
    #[error("这是旧版 Excel 97-2003 文件（.xls）：请在 Excel 中另存为 .xlsx 或 CSV 后再导入")]
    OldExcel,
    #[error(
        "这是 UTF-16 编码的文本（Excel 的「Unicode 文本」）：请另存为 CSV（UTF-8 或 GBK）后再导入"
    )]
    Utf16,
    #[error(
        "第{line}行（文件第{offset}字节起）无法按 {encoding} 解码：文件可能已损坏或混用了编码，请从规划系统重新导出"
    )]
    Undecodable {
        encoding: &'static str,
        line: usize,
        offset: usize,
    },
    #[error("第{line}行的双引号没有配对，之后的内容都会读错：请检查该行，或从规划系统重新导出")]
    UnclosedQuote { line: usize },
    #[error("文件内容无法读取（{0}）：请确认文件完整，或在 Excel 中打开后重新另存")]
    Malformed(String),
    #[error("第{row}行第{column}列的内容超过{limit}个字符，不像是导出的数据：请检查文件是否损坏")]
    CellTooLarge {
        row: usize,
        column: usize,
        limit: usize,
    },
    #[error("数据超过{limit}行，不像是一天的导出：请分批导出后再导入")]
    TooManyRows { limit: usize },
    #[error("第{header_row}行的表头缺少必需的列：{}", .missing.join("、"))]
    MissingColumns {
        header_row: usize,
        missing: Vec<&'static str>,
    },
    #[error(
        "表头中第{first_column}列和第{second_column}列都是「{field}」，无法确定用哪一列：请删去其中一列"
    )]
    DuplicateColumn {
        field: &'static str,
        first_column: usize,
        second_column: usize,
    },
}

/// Reads a daily export. A file-level error means nothing in it can be trusted; a bad
/// row only rejects that row.
pub fn read(bytes: &[u8]) -> Result<LegacyFile, FileError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(FileError::OldExcel);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(FileError::Utf16);
    }
    // GBK and UTF-8 never encode a character with a NUL byte.
    if bytes.contains(&0) {
        return Err(FileError::NotText);
    }
    let (text, encoding) = decode(bytes)?;
    read_csv(&text, encoding)
}

/// Hex SM3 of the file as received: the same export imported twice is recognised.
pub fn checksum(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

/// One row given as headers and cells (a rejected row as an operator corrected it), read
/// as a one-row export would be: the same cleaning, conversions and problems.
pub fn read_cells(cells: &[(String, String)]) -> Result<Outcome, FileError> {
    let mut out = csv::WriterBuilder::new().from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, record: Vec<&str>| {
        out.write_record(record).map_err(|e| FileError::Malformed(e.to_string()))
    };
    write(&mut out, cells.iter().map(|(header, _)| header.as_str()).collect())?;
    write(&mut out, cells.iter().map(|(_, cell)| cell.as_str()).collect())?;
    let bytes = out.into_inner().map_err(|e| FileError::Malformed(e.to_string()))?;
    let file = read(&bytes)?;
    file.rows.into_iter().next().map(|r| r.outcome).ok_or(FileError::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etl::clean::NO_SUCH_DAY;
    use crate::etl::planning::EMPTY;
    use yizhan_core::entity::{Area, Exemption};
    use rand::{Rng, SeedableRng};
    use rust_xlsxwriter::{Format, Workbook, Worksheet};
    use time::macros::date;

    const HEADER: &str = "规划许可证号,项目编号,项目名称,建设单位,统一社会信用代码,行政区划代码,联系电话,批准日期,住宅面积(㎡),非住宅面积(㎡),人防面积(㎡),配套费减免金额(元),减免依据";
    /// One row of HEADER's columns, each quoted so any test value can stand in a cell.
    const GOOD: [&str; 13] = [
        "建字第320106202600001号",
        "2026-320106-47-01-000001",
        "鼓楼区社区养老服务中心（一期）",
        "南京市鼓楼城市建设有限公司",
        "91350100M000100Y43",
        "320106",
        "13812341234",
        "2026-11-24",
        "1234.56",
        "200",
        "0",
        "5000",
        "2019年第76号公告",
    ];

    fn good_record() -> PlanningRecord {
        PlanningRecord {
            planning_permit_no: "建字第320106202600001号".into(),
            project_code: "2026-320106-47-01-000001".into(),
            name: "鼓楼区社区养老服务中心（一期）".into(),
            builder: "南京市鼓楼城市建设有限公司".into(),
            uscc: "91350100M000100Y43".into(),
            district_code: "320106".into(),
            contact_phone: Some("13812341234".into()),
            approved_on: date!(2026 - 11 - 24),
            residential_area: Area::from_hundredths(123_456),
            non_residential_area: Area::from_hundredths(20_000),
            civil_defence_area: Area::ZERO,
            infra_exemption: Some(Exemption {
                amount_fen: 500_000,
                basis: "2019年第76号公告".into(),
            }),
        }
    }

    fn line(cells: &[&str]) -> String {
        cells
            .iter()
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// GOOD with column `column` set to `value`.
    fn good_with(column: usize, value: &str) -> String {
        let mut cells = GOOD;
        cells[column] = value;
        line(&cells)
    }

    fn csv(lines: &[String]) -> Vec<u8> {
        format!("{HEADER}\n{}\n", lines.join("\n")).into_bytes()
    }

    fn read_ok(bytes: &[u8]) -> LegacyFile {
        read(bytes).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The only data row of a file.
    fn only(bytes: &[u8]) -> Outcome {
        let file = read_ok(bytes);
        assert_eq!(file.rows.len(), 1, "{:?}", file.rows);
        assert_eq!(file.rows[0].row, 2);
        file.rows.into_iter().next().unwrap().outcome
    }

    fn record(outcome: Outcome) -> PlanningRecord {
        match outcome {
            Outcome::Record(record) => record,
            other => panic!("expected a record, got {other:?}"),
        }
    }

    fn problems(outcome: &Outcome) -> Vec<(&str, &str, &str)> {
        match outcome {
            Outcome::Rejected(problems) => problems
                .iter()
                .map(|p| (p.field.as_str(), p.problem.as_str(), p.value.as_str()))
                .collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    /// The record read from GOOD with one cell changed.
    fn with(column: usize, value: &str) -> PlanningRecord {
        record(only(&csv(&[good_with(column, value)])))
    }

    /// The single problem of GOOD with one cell changed: (field, problem).
    fn problem_with(column: usize, value: &str) -> (String, String) {
        let outcome = only(&csv(&[good_with(column, value)]));
        let found = problems(&outcome);
        assert_eq!(found.len(), 1, "{value:?}: {found:?}");
        (found[0].0.to_owned(), found[0].1.to_owned())
    }

    #[test]
    fn utf8_with_and_without_bom_and_gbk_read_to_the_same_records() {
        let text = format!(
            "{HEADER}\r\n{}\r\n{}\r\n",
            line(&GOOD),
            good_with(0, "建字第320106202600002号")
        );
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&gbk).is_err(),
            "the GBK bytes must not pass as UTF-8"
        );
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());

        let utf8 = read_ok(text.as_bytes());
        let with_bom = read_ok(&bom);
        let from_gbk = read_ok(&gbk);
        assert_eq!(utf8.kind, FileKind::Csv(Encoding::Utf8));
        assert_eq!(with_bom.kind, FileKind::Csv(Encoding::Utf8));
        assert_eq!(from_gbk.kind, FileKind::Csv(Encoding::Gbk));
        assert_eq!(from_gbk.kind.to_string(), "CSV（GBK 编码）");
        let second = PlanningRecord {
            planning_permit_no: "建字第320106202600002号".into(),
            ..good_record()
        };
        let expected = vec![
            LegacyRow {
                row: 2,
                outcome: Outcome::Record(good_record()),
                written: Vec::new(),
            },
            LegacyRow {
                row: 3,
                outcome: Outcome::Record(second),
                written: Vec::new(),
            },
        ];
        for file in [utf8, with_bom, from_gbk] {
            assert_eq!(file.header_row, 1);
            assert_eq!(file.ignored_columns, Vec::<String>::new());
            assert_eq!(file.rows, expected);
        }
    }

    fn xlsx(
        build: impl FnOnce(&mut Worksheet) -> Result<(), rust_xlsxwriter::XlsxError>,
    ) -> Vec<u8> {
        let mut book = Workbook::new();
        build(book.add_worksheet()).unwrap();
        book.save_to_buffer().unwrap()
    }

    /// Writes GOOD's cells as text on `row`, with `permit_no` in the first column and
    /// nothing at all in the columns `blank`.
    fn write_text_row(
        sheet: &mut Worksheet,
        row: u32,
        permit_no: &str,
        blank: &[usize],
    ) -> Result<(), rust_xlsxwriter::XlsxError> {
        for (c, value) in GOOD.iter().enumerate() {
            if !blank.contains(&c) {
                sheet.write_string(row, c as u16, if c == 0 { permit_no } else { value })?;
            }
        }
        Ok(())
    }

    #[test]
    fn xlsx_rows_keep_their_numbers_and_name_their_problems() {
        let bytes = xlsx(|sheet| {
            for (c, header) in HEADER.split(',').enumerate() {
                sheet.write_string(0, c as u16, header)?;
            }
            sheet.write_string(0, 13, "备注")?;
            let date_format = Format::new().set_num_format("yyyy-mm-dd");
            let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 11, 24)?;

            // Row 2: real date and number cells where a clerk's Excel puts them.
            write_text_row(sheet, 1, GOOD[0], &[])?;
            sheet.write_number(1, 5, 320106)?;
            sheet.write_number(1, 6, 13812341234.0)?;
            sheet.write_datetime_with_format(1, 7, &day, &date_format)?;
            sheet.write_number(1, 8, 1234.56)?;
            sheet.write_number(1, 9, 200)?;
            sheet.write_number(1, 10, 0)?;
            sheet.write_number(1, 11, 5000)?;
            sheet.write_string(1, 13, "无")?;
            // A stray cell far to the right is not a column of ours.
            sheet.write_string(1, 9000, "x")?;

            // Row 3: impossible date, negative area, empty builder.
            write_text_row(sheet, 2, "建字第320106202600003号", &[3])?;
            sheet.write_string(2, 7, "2026-02-30")?;
            sheet.write_string(2, 10, "-12.5")?;

            // Row 4 is blank. Row 5 repeats row 2 in other spellings.
            write_text_row(sheet, 4, GOOD[0], &[])?;
            sheet.write_string(4, 7, "2026年11月24日")?;
            sheet.write_string(4, 8, "1,234.56")?;

            // Row 6: same permit as row 2, another area.
            write_text_row(sheet, 5, GOOD[0], &[])?;
            sheet.write_number(5, 8, 999)?;

            // Row 7: a formula, a USCC Excel turned into a number, a boolean.
            write_text_row(sheet, 6, "建字第320106202600007号", &[])?;
            sheet.write_formula(6, 10, "=1+1")?;
            sheet.write_number(6, 4, 913501001000100000.0)?;
            sheet.write_boolean(6, 6, true)?;

            // Row 8: a date typed as the number 20261124, no exemption, no phone.
            write_text_row(sheet, 7, "建字第320106202600008号", &[6, 11, 12])?;
            sheet.write_number(7, 7, 20261124)?;
            Ok(())
        });

        let file = read_ok(&bytes);
        assert_eq!(file.kind, FileKind::Xlsx);
        assert_eq!(file.header_row, 1);
        assert_eq!(file.ignored_columns, ["备注"]);
        let numbers: Vec<usize> = file.rows.iter().map(|r| r.row).collect();
        assert_eq!(numbers, [2, 3, 5, 6, 7, 8]);

        assert_eq!(file.rows[0].outcome, Outcome::Record(good_record()));
        assert_eq!(
            problems(&file.rows[1].outcome),
            [
                ("建设单位", EMPTY, ""),
                ("批准日期", NO_SUCH_DAY, "2026-02-30"),
                ("人防面积(㎡)", "面积应为非负数", "-12.5"),
            ]
        );
        assert_eq!(file.rows[2].outcome, Outcome::Repeat { first_row: 2 });
        assert_eq!(
            problems(&file.rows[3].outcome),
            [(
                "规划许可证号",
                "与第2行的规划许可证号相同但内容不同：请核对哪一行是正确的",
                "建字第320106202600001号"
            )]
        );
        let row7 = problems(&file.rows[4].outcome);
        let fields: Vec<&str> = row7.iter().map(|p| p.0).collect();
        assert_eq!(fields, ["统一社会信用代码", "联系电话", "人防面积(㎡)"]);
        assert!(row7[0].1.contains("超过15位"), "{}", row7[0].1);
        assert_eq!(row7[1].2, "TRUE");
        assert!(row7[2].1.contains("公式"), "{}", row7[2].1);
        assert_eq!(row7[2].2, "=1+1");
        assert_eq!(
            record(file.rows[5].outcome.clone()),
            PlanningRecord {
                planning_permit_no: "建字第320106202600008号".into(),
                contact_phone: None,
                infra_exemption: None,
                ..good_record()
            }
        );
    }

    #[test]
    fn a_header_may_sit_under_a_title_and_be_spelt_loosely() {
        let bytes = format!(
            "2026年11月24日规划审批数据,,\n\n\u{3000}规划许可证号 ,项目代码,项目名称,建设单位,统一社会信用代码,区划代码,批准日期,住宅面积（平方米）,非住宅面积（ｍ²）,人防面积 (m2),备注\n{}\n",
            line(&[
                GOOD[0], GOOD[1], GOOD[2], GOOD[3], GOOD[4], GOOD[5], GOOD[7], GOOD[8], GOOD[9],
                GOOD[10], "加急"
            ])
        );
        let file = read_ok(bytes.as_bytes());
        assert_eq!(file.header_row, 3);
        assert_eq!(file.ignored_columns, ["备注"]);
        assert_eq!(file.rows.len(), 1);
        assert_eq!(file.rows[0].row, 4);
        assert_eq!(
            record(file.rows[0].outcome.clone()),
            PlanningRecord {
                contact_phone: None,
                infra_exemption: None,
                ..good_record()
            }
        );
    }

    #[test]
    fn missing_and_repeated_columns_are_named() {
        let without = HEADER.replace(",批准日期", "").replace(",人防面积(㎡)", "");
        assert_eq!(
            read(format!("{without}\n").as_bytes()),
            Err(FileError::MissingColumns {
                header_row: 1,
                missing: vec!["批准日期", "人防面积(㎡)"],
            })
        );
        let twice = format!("{HEADER},区划代码\n");
        assert_eq!(
            read(twice.as_bytes()),
            Err(FileError::DuplicateColumn {
                field: "行政区划代码",
                first_column: 6,
                second_column: 14,
            })
        );
        let unrelated = read(b"a,b,c\n1,2,3\n").unwrap_err();
        assert!(
            matches!(&unrelated, FileError::MissingColumns { header_row: 1, missing } if missing.len() == 10),
            "{unrelated:?}"
        );
        assert_eq!(
            unrelated.to_string(),
            "第1行的表头缺少必需的列：规划许可证号、项目编号、项目名称、建设单位、统一社会信用代码、行政区划代码、批准日期、住宅面积(㎡)、非住宅面积(㎡)、人防面积(㎡)"
        );
    }

    #[test]
    fn codes_are_cleaned_of_full_width_characters_and_spaces() {
        assert_eq!(
            with(4, " ９１３５０１００ｍ０００１００ｙ４３\u{3000}").uscc,
            "91350100M000100Y43"
        );
        assert_eq!(with(4, "91350100m000 100y43").uscc, "91350100M000100Y43");
        assert_eq!(
            with(1, "２０２６－３２０１０６－４７－０１－００００８８").project_code,
            "2026-320106-47-01-000088"
        );
        assert_eq!(
            with(1, "2026—320106–47-01-000088").project_code,
            "2026-320106-47-01-000088"
        );
        assert_eq!(
            with(0, "建字第 320106２０２６00001号").planning_permit_no,
            "建字第320106202600001号"
        );
        assert_eq!(with(5, "３２０１０６").district_code, "320106");
        assert_eq!(
            with(6, "138 1234 1234").contact_phone.as_deref(),
            Some("13812341234")
        );
        assert_eq!(
            with(6, "０２５－８４５６１２３４").contact_phone.as_deref(),
            Some("025-84561234")
        );
        assert_eq!(with(6, " \u{a0}").contact_phone, None);
        let padded = with(2, "\u{3000}\u{a0}鼓楼区 养老中心\u{200b} ");
        assert_eq!(padded.name, "鼓楼区 养老中心");
        // Names keep their full-width punctuation: it is part of the name.
        assert_eq!(with(3, "（南京）建设公司").builder, "（南京）建设公司");
    }

    #[test]
    fn areas_convert_exactly_to_hundredths_of_a_square_metre() {
        for (text, expected) in [
            ("1234.56", 123_456),
            ("0.01", 1),
            ("0.1", 10),
            ("1,234.56", 123_456),
            ("1，234.56", 123_456),
            ("１２３４．５６", 123_456),
            ("12", 1_200),
            ("1234.5", 123_450),
            ("\u{3000}88.8\u{a0}", 8_880),
            ("1,000,000", 100_000_000),
            ("0", 0),
            ("12㎡", 1_200),
            ("12 平方米", 1_200),
        ] {
            assert_eq!(with(10, text).civil_defence_area, Area::from_hundredths(expected), "{text}");
        }
        let field = "人防面积(㎡)".to_owned();
        for (text, problem) in [
            ("1.234", "面积最多保留两位小数（精确到0.01平方米）"),
            ("-12.5", "面积应为非负数"),
            ("－12.5", "面积应为非负数"),
            ("12亩", "应为面积数字（单位：平方米），如 1234.56"),
            ("1,23.4", "千分位逗号位置不对，应每三位一个，如 1,234.56"),
            ("1.2.3", "应为面积数字（单位：平方米），如 1234.56"),
            (
                "¥12",
                "应为面积数字（单位：平方米），如 1234.56，不能带货币符号",
            ),
            ("99999999999999999999", "面积数值过大"),
            ("", EMPTY),
        ] {
            assert_eq!(
                problem_with(10, text),
                (field.clone(), problem.to_owned()),
                "{text}"
            );
        }
        let outcome = only(&csv(&[good_with(8, "-0.5")]));
        assert_eq!(
            problems(&outcome),
            [("住宅面积(㎡)", "面积应为非负数", "-0.5")]
        );
    }

    #[test]
    fn dates_are_read_in_every_spelling_and_impossible_days_refused() {
        for text in [
            "2026-11-24",
            "2026/11/24",
            "2026.11.24",
            "20261124",
            "2026年11月24日",
            "２０２６－１１－２４",
            "2026-11-24 00:00:00",
            "2026-11-24T09:30:00.000",
            " 2026/11/24 ",
        ] {
            assert_eq!(with(7, text).approved_on, date!(2026 - 11 - 24), "{text}");
        }
        assert_eq!(with(7, "2026/1/5").approved_on, date!(2026 - 01 - 05));
        assert_eq!(with(7, "2024-02-29").approved_on, date!(2024 - 02 - 29));
        let field = "批准日期".to_owned();
        for (text, problem) in [
            ("2026-02-30", NO_SUCH_DAY),
            ("2025-02-29", NO_SUCH_DAY),
            ("2026-13-01", NO_SUCH_DAY),
            ("20260001", NO_SUCH_DAY),
            ("24/11/2026", NOT_DATE),
            ("2026-11", NOT_DATE),
            ("2026-11/24", NOT_DATE),
            ("2026-11-24 下午", NOT_DATE),
            ("26-11-24", NOT_DATE),
            ("2026年11月24", NOT_DATE),
            ("", EMPTY),
        ] {
            assert_eq!(
                problem_with(7, text),
                (field.clone(), problem.to_owned()),
                "{text}"
            );
        }
    }

    #[test]
    fn an_exemption_needs_both_its_amount_and_its_basis() {
        let mut neither = GOOD;
        neither[11] = "";
        neither[12] = "";
        assert_eq!(record(only(&csv(&[line(&neither)]))).infra_exemption, None);
        assert_eq!(
            with(11, "1,234.5").infra_exemption,
            Some(Exemption {
                amount_fen: 123_450,
                basis: "2019年第76号公告".into()
            })
        );
        assert_eq!(with(11, "０.０１").infra_exemption.unwrap().amount_fen, 1);
        assert_eq!(
            problem_with(12, ""),
            (
                "减免依据".to_owned(),
                "填写了减免金额，必须同时填写减免依据".to_owned()
            )
        );
        assert_eq!(
            problem_with(11, " "),
            (
                "配套费减免金额(元)".to_owned(),
                "填写了减免依据，必须同时填写减免金额".to_owned()
            )
        );
        assert_eq!(
            problem_with(11, "-5"),
            (
                "配套费减免金额(元)".to_owned(),
                "减免金额应为非负数".to_owned()
            )
        );
        let (field, problem) = problem_with(11, "12.345");
        assert_eq!(field, "配套费减免金额(元)");
        assert!(problem.contains("最多保留两位小数"), "{problem}");
    }

    #[test]
    fn a_basis_without_its_amount_column_names_the_usual_header() {
        let header = HEADER.replace(",配套费减免金额(元)", "");
        let mut cells = GOOD.to_vec();
        cells.remove(11);
        let outcome = only(format!("{header}\n{}\n", line(&cells)).as_bytes());
        assert_eq!(
            problems(&outcome),
            [(
                "配套费减免金额(元)",
                "填写了减免依据，必须同时填写减免金额",
                ""
            )]
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_rows_are_numbered_as_excel_shows_them() {
        let mut multiline = GOOD;
        multiline[0] = "建字第320106202600002号";
        multiline[2] = "养老服务中心\r\n（二期）";
        let mut last = GOOD;
        last[0] = "建字第320106202600003号";
        let text = format!(
            "{HEADER}\r\n\r\n{}\r\n,,,,,,,,,,,,\r\n{}\r\n{}",
            line(&GOOD),
            line(&multiline),
            line(&last)
        );
        let file = read_ok(text.as_bytes());
        let numbers: Vec<usize> = file.rows.iter().map(|r| r.row).collect();
        assert_eq!(numbers, [3, 5, 6]);
        assert_eq!(
            record(file.rows[1].outcome.clone()).name,
            "养老服务中心\r\n（二期）"
        );
        assert!(matches!(file.rows[2].outcome, Outcome::Record(_)));
    }

    #[test]
    fn repeated_permits_are_repeats_when_identical_and_problems_when_not() {
        let mut respelt = GOOD;
        respelt[7] = "2026/11/24";
        respelt[8] = "１,２３４.５６";
        let mut bad = GOOD;
        bad[0] = "建字第9号";
        bad[2] = "";
        let file = read_ok(&csv(&[
            line(&GOOD),
            line(&respelt),
            good_with(8, "1234.57"),
            line(&bad),
            line(&bad),
        ]));
        assert_eq!(file.rows[0].outcome, Outcome::Record(good_record()));
        assert_eq!(file.rows[1].outcome, Outcome::Repeat { first_row: 2 });
        assert_eq!(
            problems(&file.rows[2].outcome),
            [(
                "规划许可证号",
                "与第2行的规划许可证号相同但内容不同：请核对哪一行是正确的",
                "建字第320106202600001号"
            )]
        );
        assert_eq!(problems(&file.rows[3].outcome), [("项目名称", EMPTY, "")]);
        assert_eq!(
            problems(&file.rows[4].outcome),
            [
                (
                    "规划许可证号",
                    "与第5行的规划许可证号相同，第5行也有错误：请改正后只保留一行",
                    "建字第9号"
                ),
                ("项目名称", EMPTY, ""),
            ]
        );
    }

    #[test]
    fn a_row_with_too_few_or_too_many_cells_is_rejected_whole() {
        let shifted = format!("{},南京,某公司,{}", &line(&GOOD[..3]), line(&GOOD[4..]));
        let short = line(&GOOD[..12]);
        let file = read_ok(&csv(&[shifted, short]));
        let problem = |i: usize| match &file.rows[i].outcome {
            Outcome::Rejected(p) => (p.len(), p[0].field.clone(), p[0].problem.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            problem(0),
            (
                1,
                WHOLE_ROW.to_owned(),
                "本行有14列，表头有13列：多半是某个单元格里有未加引号的逗号，各列已错位".to_owned()
            )
        );
        assert_eq!(
            problem(1).2,
            "本行有12列，表头有13列：多半是某个单元格里有未加引号的逗号，各列已错位"
        );
        assert!(
            matches!(&file.rows[0].outcome, Outcome::Rejected(p) if p[0].value.starts_with("建字第320106202600001号,2026-320106"))
        );
    }

    #[test]
    fn an_unclosed_quote_is_a_file_error_on_its_line() {
        let plain = GOOD.join(",");
        let text = format!(
            "{HEADER}\n{plain}\n\"建字第2号,{}\n{plain}\n",
            GOOD[1..].join(",")
        );
        assert_eq!(
            read(text.as_bytes()),
            Err(FileError::UnclosedQuote { line: 3 })
        );
        // A quote inside an unquoted cell is only a character.
        let inner = format!(
            "{HEADER}\n{}\n",
            GOOD.join(",").replace("有限公司", "\"有限\"公司")
        );
        assert_eq!(
            record(only(inner.as_bytes())).builder,
            "南京市鼓楼城市建设\"有限\"公司"
        );
    }

    #[test]
    fn oversized_cells_and_files_are_refused() {
        let long = "建".repeat(MAX_CELL_CHARS);
        assert_eq!(with(2, &long).name, long);
        let longer = "a".repeat(MAX_CELL_CHARS + 1);
        assert_eq!(
            read(&csv(&[good_with(2, &longer)])),
            Err(FileError::CellTooLarge {
                row: 2,
                column: 3,
                limit: MAX_CELL_CHARS
            })
        );
        let xlsx_long = xlsx(|sheet| {
            for (c, header) in HEADER.split(',').enumerate() {
                sheet.write_string(0, c as u16, header)?;
            }
            write_text_row(sheet, 1, &longer, &[])?;
            Ok(())
        });
        assert_eq!(
            read(&xlsx_long),
            Err(FileError::CellTooLarge {
                row: 2,
                column: 1,
                limit: MAX_CELL_CHARS
            })
        );
        // The last cell a sheet can have: read cell by cell, not as a 17-billion-cell range.
        let far_corner = xlsx(|sheet| {
            for (c, header) in HEADER.split(',').enumerate() {
                sheet.write_string(0, c as u16, header)?;
            }
            write_text_row(sheet, 1, GOOD[0], &[])?;
            sheet.write_string(1_048_575, 16_383, "x")?;
            Ok(())
        });
        let file = read_ok(&far_corner);
        assert_eq!(file.rows.len(), 1);
        assert_eq!(file.rows[0].outcome, Outcome::Record(good_record()));
        let mut rows = format!("{HEADER}\n");
        rows.push_str(&"x\n".repeat(MAX_ROWS + 1));
        assert_eq!(
            read(rows.as_bytes()),
            Err(FileError::TooManyRows { limit: MAX_ROWS })
        );
    }

    #[test]
    fn what_is_not_an_export_is_told_apart() {
        assert_eq!(read(b""), Err(FileError::Empty));
        assert_eq!(read(b"\r\n \r\n,,,\r\n"), Err(FileError::Empty));
        assert_eq!(read(b"\xEF\xBB\xBF"), Err(FileError::Empty));
        let header_only = read_ok(format!("{HEADER}\n").as_bytes());
        assert_eq!(header_only.rows, []);
        assert_eq!(read(b"abc\0def"), Err(FileError::NotText));
        assert_eq!(
            read(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0"),
            Err(FileError::OldExcel)
        );
        assert_eq!(read(b"\xFF\xFE\x89\x5B"), Err(FileError::Utf16));

        let (header, _, _) = encoding_rs::GBK.encode(HEADER);
        let mut bad_gbk = header.into_owned();
        let offset = bad_gbk.len() + 1 + 3;
        bad_gbk.extend_from_slice(b"\nabc\xFFdef\n");
        assert_eq!(
            read(&bad_gbk),
            Err(FileError::Undecodable {
                encoding: "GBK",
                line: 2,
                offset
            })
        );
        let mut bad_utf8 = b"\xEF\xBB\xBF".to_vec();
        bad_utf8.extend_from_slice(HEADER.as_bytes());
        let offset = bad_utf8.len() + 1;
        bad_utf8.extend_from_slice(b"\n\xC4\xE3\xBA\xC3\n");
        assert_eq!(
            read(&bad_utf8),
            Err(FileError::Undecodable {
                encoding: "UTF-8",
                line: 2,
                offset
            })
        );
    }

    /// A valid ZIP holding one stored file: a ZIP, but no workbook.
    fn zip_of(name: &str, data: &[u8]) -> Vec<u8> {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let (crc, size, name_len) = (crc.sum(), data.len() as u32, name.len() as u16);
        let mut zip = Vec::new();
        zip.extend_from_slice(&0x0403_4b50_u32.to_le_bytes());
        for field in [20_u16, 0, 0, 0, 0] {
            zip.extend_from_slice(&field.to_le_bytes());
        }
        for field in [crc, size, size] {
            zip.extend_from_slice(&field.to_le_bytes());
        }
        zip.extend_from_slice(&name_len.to_le_bytes());
        zip.extend_from_slice(&0_u16.to_le_bytes());
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(data);
        let directory_at = zip.len() as u32;
        zip.extend_from_slice(&0x0201_4b50_u32.to_le_bytes());
        for field in [20_u16, 20, 0, 0, 0, 0] {
            zip.extend_from_slice(&field.to_le_bytes());
        }
        for field in [crc, size, size] {
            zip.extend_from_slice(&field.to_le_bytes());
        }
        for field in [name_len, 0, 0, 0, 0] {
            zip.extend_from_slice(&field.to_le_bytes());
        }
        zip.extend_from_slice(&0_u32.to_le_bytes());
        zip.extend_from_slice(&0_u32.to_le_bytes());
        zip.extend_from_slice(name.as_bytes());
        let directory_len = zip.len() as u32 - directory_at;
        zip.extend_from_slice(&0x0605_4b50_u32.to_le_bytes());
        for field in [0_u16, 0, 1, 1] {
            zip.extend_from_slice(&field.to_le_bytes());
        }
        zip.extend_from_slice(&directory_len.to_le_bytes());
        zip.extend_from_slice(&directory_at.to_le_bytes());
        zip.extend_from_slice(&0_u16.to_le_bytes());
        zip
    }

    #[test]
    fn a_zip_that_is_not_a_workbook_and_a_cut_workbook_are_refused() {
        let not_xlsx = read(&zip_of("readme.txt", b"hello"));
        assert!(
            matches!(not_xlsx, Err(FileError::Malformed(_))),
            "{not_xlsx:?}"
        );
        let whole = xlsx(|sheet| {
            for (c, header) in HEADER.split(',').enumerate() {
                sheet.write_string(0, c as u16, header)?;
            }
            write_text_row(sheet, 1, GOOD[0], &[])
        });
        assert_eq!(
            read_ok(&whole).rows[0].outcome,
            Outcome::Record(good_record())
        );
        let cut = read(&whole[..whole.len() / 2]);
        assert!(matches!(cut, Err(FileError::Malformed(_))), "{cut:?}");
        let empty_sheet = read(&xlsx(|_| Ok(())));
        assert_eq!(empty_sheet, Err(FileError::Empty));
    }

    #[test]
    fn garbage_never_panics() {
        let workbook = xlsx(|sheet| {
            for (c, header) in HEADER.split(',').enumerate() {
                sheet.write_string(0, c as u16, header)?;
            }
            write_text_row(sheet, 1, GOOD[0], &[])
        });
        let text = csv(&[line(&GOOD), good_with(7, "2026-02-30")]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261124);
        for round in 0..400 {
            let mut bytes = match round % 4 {
                0 => (0..rng.random_range(0..2000))
                    .map(|_| rng.random())
                    .collect(),
                1 => workbook[..rng.random_range(0..workbook.len())].to_vec(),
                2 => text.clone(),
                _ => workbook.clone(),
            };
            if round % 4 >= 2 {
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(0..bytes.len());
                    bytes[at] = rng.random();
                }
            }
            // Whatever the answer, it must be an answer.
            let _ = read(&bytes);
        }
    }

    #[test]
    fn the_checksum_is_sm3_in_hex() {
        // GB/T 32905-2016, example 1.
        assert_eq!(
            checksum(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
