//! Change events in Debezium's JSON envelope, as Debezium Server's HTTP sink posts them
//! (`debezium.sink.type=http`, `debezium.format.value=json`): one event per request, or a
//! JSON array of events with `debezium.sink.http.batch.enabled=true`; each event either
//! `{"schema": …, "payload": envelope}` or the bare envelope when
//! `debezium.format.value.schemas.enable=false`. The sink posts the value only, never the
//! key, so a row is known by its columns.
//!
//! A department whose database Debezium already reads (MySQL, PostgreSQL, Oracle, SQL
//! Server, …) feeds the hub by pointing the sink here: its table's columns carry our
//! record's field names (renamed with Debezium's SMTs where they differ), and each
//! column's value is read in the encoding Debezium gives the column's type.

use std::collections::HashMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};
use yizhan_core::clock::SHANGHAI;
use yizhan_core::serde_date::DATE_FORMAT;
use yizhan_sync::protocol::{
    CivilDefenceNotice, DeliveryReport, FieldError, PaymentRecord, TaxClearanceRecord,
};

use super::{Connector, SourceChange};
use crate::etl::clean;
use crate::error::HubError;
use crate::hub::Hub;
use crate::ingest::IngestRecord;
use crate::routes::ingest::read_record;

/// What a column's value becomes in our record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    /// Text; a number is taken as its digits, for ids kept in integer columns.
    Text,
    /// A whole number in the field's unit: fen, 0.01 m².
    Whole,
    /// A civil date.
    Date,
    /// An instant.
    Instant,
}

/// A record type a Debezium table can feed.
pub(crate) trait DebeziumRecord: IngestRecord {
    /// Every field of the record and what its column must become.
    const COLUMNS: &'static [(&'static str, Column)];
}

impl DebeziumRecord for CivilDefenceNotice {
    const COLUMNS: &'static [(&'static str, Column)] = &[
        ("notice_no", Column::Text),
        ("project_code", Column::Text),
        ("civil_defence_area", Column::Whole),
        ("amount_fen", Column::Whole),
        ("issued_on", Column::Date),
        ("due_on", Column::Date),
    ];
}

impl DebeziumRecord for TaxClearanceRecord {
    const COLUMNS: &'static [(&'static str, Column)] = &[
        ("clearance_no", Column::Text),
        ("project_code", Column::Text),
        ("tax_office", Column::Text),
        ("issued_on", Column::Date),
    ];
}

impl DebeziumRecord for PaymentRecord {
    const COLUMNS: &'static [(&'static str, Column)] = &[
        ("payment_id", Column::Text),
        ("project_code", Column::Text),
        ("fee_kind", Column::Text),
        ("amount_fen", Column::Whole),
        ("channel", Column::Text),
        ("reference", Column::Text),
        ("received_at", Column::Instant),
    ];
}

/// Columns a department may keep in the everyday unit, as finance and planning databases
/// do (`DECIMAL(…,2)` of 元 or m²), instead of ours; their value is taken ×100, exactly.
const EVERYDAY_UNITS: [(&str, &str); 2] = [
    ("amount_yuan", "amount_fen"),
    ("civil_defence_area_m2", "civil_defence_area"),
];

/// Debezium's semantic types (the `name` of a column's schema) that change how a value
/// reads.
const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
const MILLI_TIMESTAMPS: [&str; 2] = [
    "io.debezium.time.Timestamp",
    "org.apache.kafka.connect.data.Timestamp",
];
const MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
const NANO_TIMESTAMP: &str = "io.debezium.time.NanoTimestamp";

/// The fields of `source` that say where in the database's log an event was, connector
/// by connector (MySQL binlog, PostgreSQL WAL, Oracle SCN, SQL Server LSN): the position
/// the hub shows for the connector and the location of a quarantined event.
const OFFSET_FIELDS: [&str; 11] = [
    "file",
    "pos",
    "row",
    "gtid",
    "lsn",
    "txId",
    "scn",
    "commit_scn",
    "change_lsn",
    "commit_lsn",
    "event_serial_no",
];

const TRUNCATED: &str = "源表被整表清空（truncate）：数据中心不会因此删除任何记录。请核实源表；确需删除的记录请逐条删除，以产生删除事件";
const FLOAT_MONEY: &str =
    "以浮点数发送的小数会丢失精度：请设置 decimal.handling.mode=string 或 precise";

/// The answer to a Debezium delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebeziumReport {
    #[serde(flatten)]
    pub delivery: DeliveryReport,
    /// Events that change no row: schema changes, heartbeats, tombstones.
    pub skipped: usize,
}

/// A column's schema, when the converter sends one.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct ColumnType {
    name: Option<String>,
    /// A `Decimal`'s scale: its value is an unscaled integer.
    scale: Option<u32>,
}

/// One row change of a request.
struct Event {
    payload: Map<String, Value>,
    types: HashMap<String, ColumnType>,
}

/// Delivers a request's events in order, as connector `connector`.
pub(crate) async fn deliver<R: DebeziumRecord>(
    hub: &Hub,
    connector: &Connector,
    body: &[u8],
) -> Result<DebeziumReport, HubError> {
    let (events, skipped) = read_events(body)?;
    // A delivery writes its records before its removals, so a row deleted and then
    // created again in one request (how a primary key update arrives) must not share one:
    // a new delivery starts at the first event after a delete that is not a delete.
    let mut parts: Vec<Vec<(usize, Event)>> = vec![Vec::new()];
    let mut deleting = false;
    for (index, event) in events {
        let deletes = event.op() == "d";
        if deleting && !deletes {
            parts.push(Vec::new());
        }
        deleting = deletes;
        parts
            .last_mut()
            .expect("parts starts with one")
            .push((index, event));
    }
    let mut total: Option<DeliveryReport> = None;
    for part in parts {
        let position = part.last().map(|(_, event)| event.location());
        let newest = part
            .iter()
            .filter_map(|(_, event)| event.source_time())
            .max();
        let changes = part
            .iter()
            .enumerate()
            .map(|(at, (_, event))| event.change::<R>(at))
            .collect();
        let mut report = hub.deliver(connector, changes, position, newest).await?;
        for problem in &mut report.problems {
            problem.record = part[problem.record].0;
        }
        total = Some(match total {
            None => report,
            Some(sum) => DeliveryReport {
                received: sum.received + report.received,
                changed: sum.changed + report.changed,
                unchanged: sum.unchanged + report.unchanged,
                withdrawn: sum.withdrawn + report.withdrawn,
                quarantined: sum.quarantined + report.quarantined,
                head: report.head,
                problems: [sum.problems, report.problems].concat(),
            },
        });
    }
    Ok(DebeziumReport {
        delivery: total.expect("at least one delivery"),
        skipped,
    })
}

/// The row changes of a request with their index in it, and how many events were not row
/// changes. A body that is not Debezium JSON at all is refused whole: the sink is set up
/// wrong (another format, another URL), and answering it with an error stops Debezium
/// before it sends more.
fn read_events(body: &[u8]) -> Result<(Vec<(usize, Event)>, usize), HubError> {
    let posted: Value = serde_json::from_slice(body)
        .map_err(|e| HubError::MalformedJson(format!("第 {} 行第 {} 列", e.line(), e.column())))?;
    let posted = match posted {
        Value::Array(events) => events,
        event => vec![event],
    };
    let mut events = Vec::new();
    let mut skipped = 0;
    for (index, event) in posted.into_iter().enumerate() {
        let (schema, payload) = match event {
            Value::Object(mut event)
                if event.contains_key("schema") && event.contains_key("payload") =>
            {
                (
                    event.remove("schema"),
                    event.remove("payload").unwrap_or(Value::Null),
                )
            }
            event => (None, event),
        };
        match payload {
            // Without `op` an event is a schema change (`ddl`) or a heartbeat (`ts_ms`).
            Value::Object(payload) if payload.contains_key("op") => events.push((
                index,
                Event {
                    payload,
                    types: schema.map(|s| column_types(&s)).unwrap_or_default(),
                },
            )),
            Value::Object(_) | Value::Null => skipped += 1,
            _ => {
                return Err(HubError::InvalidBody(format!(
                    "第 {index} 个事件：应为 Debezium 的 JSON 事件（debezium.format.value=json）"
                )));
            }
        }
    }
    Ok((events, skipped))
}

/// The types of the row's columns, from the envelope's schema: `before` and `after` share
/// the table's.
fn column_types(schema: &Value) -> HashMap<String, ColumnType> {
    let row = schema["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["field"] == "after" || f["field"] == "before");
    row.and_then(|r| r["fields"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|column| {
            let ty = ColumnType {
                name: column["name"].as_str().map(str::to_owned),
                scale: column["parameters"]["scale"]
                    .as_str()
                    .and_then(|s| s.parse().ok()),
            };
            Some((column["field"].as_str()?.to_owned(), ty))
        })
        .collect()
}

impl Event {
    fn op(&self) -> &str {
        self.payload["op"].as_str().unwrap_or_default()
    }

    fn source(&self) -> Option<&Map<String, Value>> {
        self.payload.get("source")?.as_object()
    }

    /// The table and where in the database's log: `renfang.cd_notice file=mysql-bin.000003 pos=805 row=0`.
    fn location(&self) -> String {
        let Some(source) = self.source() else {
            return "（事件无 source）".to_owned();
        };
        let table: Vec<&str> = ["db", "schema", "table"]
            .iter()
            .filter_map(|k| source.get(*k)?.as_str())
            .collect();
        let offset: Vec<String> = OFFSET_FIELDS
            .iter()
            .filter_map(|k| match source.get(*k)? {
                Value::Null => None,
                Value::String(s) => Some(format!("{k}={s}")),
                v => Some(format!("{k}={v}")),
            })
            .collect();
        format!("{} {}", table.join("."), offset.join(" "))
    }

    /// When the change was made in the database.
    fn source_time(&self) -> Option<OffsetDateTime> {
        let ms = self.source()?.get("ts_ms")?.as_i64()?;
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
    }

    /// The change this event brings; an event that cannot be applied is quarantined with
    /// the reason, so Debezium goes on with the events behind it.
    fn change<R: DebeziumRecord>(&self, index: usize) -> SourceChange<R> {
        let location = self.location();
        let raw = Value::Object(self.payload.clone()).to_string();
        let row = |name: &str| self.payload.get(name).and_then(Value::as_object);
        let refused =
            |source_id: Option<String>, field: &str, problem: &str| SourceChange::Upsert {
                location: location.clone(),
                raw: raw.clone(),
                record: Err(vec![FieldError {
                    record: index,
                    source_id,
                    field: field.to_owned(),
                    problem: problem.to_owned(),
                }]),
            };
        match self.op() {
            "c" | "u" | "r" => {
                let Some(after) = row("after") else {
                    return refused(None, "after", "新增、修改和快照事件须有 after");
                };
                let source_id = after.get(R::ID_FIELD).and_then(as_text);
                let record = self.normalize::<R>(after).map_err(|problems| {
                    problems
                        .into_iter()
                        .map(|(field, problem)| FieldError {
                            record: index,
                            source_id: source_id.clone(),
                            field,
                            problem,
                        })
                        .collect()
                });
                let record = record.and_then(|normalized| {
                    let json = serde_json::value::to_raw_value(&normalized)
                        .expect("a JSON object serialises");
                    read_record::<R>(index, &json)
                });
                SourceChange::Upsert {
                    location,
                    raw,
                    record,
                }
            }
            "d" => {
                let before = row("before");
                let read = |field: &str| before.and_then(|b| b.get(field)).and_then(as_text);
                match (read(R::ID_FIELD), read("project_code")) {
                    (Some(source_id), Some(project_code)) => SourceChange::Withdraw {
                        location,
                        source_id,
                        project_code,
                    },
                    (source_id, _) => refused(
                        source_id,
                        "before",
                        &format!(
                            "删除事件的 before 须有 {} 和 project_code：请让源库记录整行旧值（MySQL binlog_row_image=FULL，PostgreSQL REPLICA IDENTITY FULL，Oracle 全列补充日志）",
                            R::ID_FIELD
                        ),
                    ),
                }
            }
            "t" => refused(None, "op", TRUNCATED),
            op => refused(
                None,
                "op",
                &format!("不认识的操作 {op:?}：应为 c、u、d、r 或 t"),
            ),
        }
    }

    /// The row with our field names and encodings (dates `YYYY-MM-DD`, instants RFC
    /// 3339, whole numbers), or every column that cannot become its field. Columns that
    /// are none of the record's fields are left out: a table has more than we take.
    fn normalize<R: DebeziumRecord>(
        &self,
        row: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Vec<(String, String)>> {
        let mut record = Map::new();
        let mut problems = Vec::new();
        for &(field, column) in R::COLUMNS {
            let everyday = EVERYDAY_UNITS
                .iter()
                .find(|(_, ours)| *ours == field)
                .map(|(name, _)| *name)
                .filter(|name| row.contains_key(*name));
            let (name, shift) = match (row.contains_key(field), everyday) {
                (true, Some(name)) => {
                    problems.push((
                        name.to_owned(),
                        format!("与 {field} 表示同一字段：两列只能保留一列"),
                    ));
                    continue;
                }
                (true, None) => (field, 0),
                (false, Some(name)) => (name, 2),
                // The record's reader names the missing field.
                (false, None) => continue,
            };
            match convert(column, &row[name], self.types.get(name), shift) {
                Ok(value) => {
                    record.insert(field.to_owned(), value);
                }
                Err(problem) => problems.push((name.to_owned(), problem)),
            }
        }
        if problems.is_empty() {
            Ok(record)
        } else {
            Err(problems)
        }
    }
}

/// A column's value as our field's JSON. A value of a type the field cannot take is
/// passed on unchanged for the record's reader to name (`应为字符串`, `不能为 null`).
fn convert(
    column: Column,
    value: &Value,
    ty: Option<&ColumnType>,
    shift: u32,
) -> Result<Value, String> {
    let name = ty.and_then(|t| t.name.as_deref());
    Ok(match (column, value) {
        (_, Value::Null) => Value::Null,
        (Column::Text, Value::Number(n)) if n.is_i64() || n.is_u64() => {
            Value::String(n.to_string())
        }
        (Column::Whole, _) => Value::from(whole(value, ty, shift)?),
        (Column::Date, Value::Number(n)) => {
            let n = n.as_i64().ok_or("日期应为整数天数")?;
            let date = match name {
                Some(name) => match unit_of(name) {
                    Some(per_second) => wall_clock(n, per_second)?.date(),
                    None => epoch_day(n)?,
                },
                None => epoch_day(n)?,
            };
            Value::String(date.format(DATE_FORMAT).expect("a date formats"))
        }
        (Column::Date, Value::String(text)) => {
            let date = match OffsetDateTime::parse(text, &Rfc3339) {
                // A zoned timestamp (a `TIMESTAMP` column) is a date in Beijing.
                Ok(instant) => instant.to_offset(SHANGHAI).date(),
                Err(_) => clean::parse_date(text).map_err(str::to_owned)?,
            };
            Value::String(date.format(DATE_FORMAT).expect("a date formats"))
        }
        (Column::Instant, Value::Number(n)) => {
            let n = n.as_i64().ok_or("时间应为整数")?;
            let per_second = name.and_then(unit_of).ok_or(
                "整数时间须有 schema 才知道单位（毫秒、微秒或纳秒）：请设置 debezium.format.value.schemas.enable=true，或改用带时区的时间列",
            )?;
            // `DATETIME`-like columns hold Beijing wall-clock time, which Debezium
            // encodes as if it were UTC.
            utc_text(wall_clock(n, per_second)?.replace_offset(SHANGHAI))
        }
        (Column::Instant, Value::String(text)) => match OffsetDateTime::parse(text, &Rfc3339) {
            Ok(instant) => utc_text(instant),
            Err(_) => value.clone(),
        },
        _ => value.clone(),
    })
}

/// Instants are kept in UTC, whatever offset they arrived with.
fn utc_text(instant: OffsetDateTime) -> Value {
    Value::String(
        instant
            .to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .expect("an instant formats"),
    )
}

/// Ticks per second of a timestamp type, `None` for a day count.
fn unit_of(name: &str) -> Option<i64> {
    if MILLI_TIMESTAMPS.contains(&name) {
        Some(1_000)
    } else if name == MICRO_TIMESTAMP {
        Some(1_000_000)
    } else if name == NANO_TIMESTAMP {
        Some(1_000_000_000)
    } else {
        None
    }
}

fn wall_clock(ticks: i64, per_second: i64) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(ticks) * i128::from(1_000_000_000 / per_second),
    )
    .map_err(|_| format!("时间值 {ticks} 超出范围"))
}

/// `io.debezium.time.Date`: days since 1970-01-01.
fn epoch_day(days: i64) -> Result<Date, String> {
    const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;
    i32::try_from(UNIX_EPOCH_JULIAN_DAY + days)
        .ok()
        .and_then(|day| Date::from_julian_day(day).ok())
        .ok_or_else(|| {
            format!(
                "整数日期按 1970-01-01 起的天数读取，{days} 超出范围：若该列是毫秒时间戳（如 Oracle DATE），请设置 debezium.format.value.schemas.enable=true"
            )
        })
}

/// A whole number in the field's unit from any of Debezium's encodings of a number,
/// `shift` decimal places from the column's unit (2 for 元 → fen).
fn whole(value: &Value, ty: Option<&ColumnType>, shift: u32) -> Result<i64, String> {
    let (unscaled, scale) = decimal(value, ty)?;
    let exact = if scale > shift {
        let divisor = 10i128.pow(scale - shift);
        if unscaled % divisor != 0 {
            return Err(if shift == 0 {
                format!(
                    "应为整数（金额以分、面积以0.01平方米计）；以元或平方米计的列请改名为 {}",
                    EVERYDAY_UNITS.map(|(name, _)| name).join(" 或 ")
                )
            } else {
                format!("最多 {shift} 位小数（元到分、平方米到0.01平方米）")
            });
        }
        unscaled / divisor
    } else {
        unscaled * 10i128.pow(shift - scale)
    };
    i64::try_from(exact).map_err(|_| "数值超出范围".to_owned())
}

/// An exact decimal as `(unscaled, scale)`: an integer, a decimal string
/// (`decimal.handling.mode=string`), a `Decimal`'s base64 two's-complement bytes with the
/// schema's scale (`precise`, the default) or PostgreSQL's variable-scale `{scale, value}`.
fn decimal(value: &Value, ty: Option<&ColumnType>) -> Result<(i128, u32), String> {
    match value {
        Value::Number(n) => n.as_i64().map(|n| (i128::from(n), 0)).ok_or_else(|| FLOAT_MONEY.to_owned()),
        Value::String(text) if ty.and_then(|t| t.name.as_deref()) == Some(DECIMAL) => {
            let scale = ty.and_then(|t| t.scale).ok_or("Decimal 的 schema 缺少 scale 参数")?;
            Ok((unscaled_bytes(text)?, scale))
        }
        Value::String(text) => decimal_text(text).ok_or_else(|| {
            format!(
                "{text:?} 不是数字：若源列是 DECIMAL 且 decimal.handling.mode=precise，请设置 debezium.format.value.schemas.enable=true（需要 schema 中的 scale），或改用 decimal.handling.mode=string"
            )
        }),
        Value::Object(variable) => {
            let scale = variable.get("scale").and_then(Value::as_u64).and_then(|s| u32::try_from(s).ok());
            match (scale, variable.get("value").and_then(Value::as_str)) {
                (Some(scale), Some(bytes)) => Ok((unscaled_bytes(bytes)?, scale)),
                _ => Err("应为数字".to_owned()),
            }
        }
        _ => Err("应为数字".to_owned()),
    }
}

fn unscaled_bytes(encoded: &str) -> Result<i128, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| format!("{encoded:?} 不是 Decimal 的 base64 编码"))?;
    if bytes.is_empty() || bytes.len() > 16 {
        return Err(format!("{encoded:?} 不是可读的 Decimal"));
    }
    // Big-endian two's complement: sign-extend from the first byte.
    let mut buffer = if bytes[0] & 0x80 != 0 {
        [0xff; 16]
    } else {
        [0; 16]
    };
    buffer[16 - bytes.len()..].copy_from_slice(&bytes);
    Ok(i128::from_be_bytes(buffer))
}

fn decimal_text(text: &str) -> Option<(i128, u32)> {
    let text = text.trim();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let unscaled: i128 = format!("{whole}{fraction}").parse().ok()?;
    Some((sign * unscaled, u32::try_from(fraction.len()).ok()?))
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn typed(name: &str, scale: Option<u32>) -> ColumnType {
        ColumnType {
            name: Some(name.to_owned()),
            scale,
        }
    }

    #[test]
    fn decimals_read_exactly_in_each_encoding() {
        // 1234.56 as Kafka Connect encodes it: 123456 = 0x01E240.
        let precise = typed(DECIMAL, Some(2));
        assert_eq!(decimal(&json!("AeJA"), Some(&precise)), Ok((123_456, 2)));
        // -1.00 = -100 = 0xFF9C.
        assert_eq!(decimal(&json!("/5w="), Some(&precise)), Ok((-100, 2)));
        assert_eq!(decimal(&json!("1234.56"), None), Ok((123_456, 2)));
        assert_eq!(
            decimal(&json!({"scale": 1, "value": "AeJA"}), None),
            Ok((123_456, 1))
        );
        assert_eq!(decimal(&json!(42), None), Ok((42, 0)));
        assert!(decimal(&json!(12.5), None).unwrap_err().contains("浮点数"));
        assert!(
            decimal(&json!("AeJA"), None)
                .unwrap_err()
                .contains("precise")
        );
    }

    #[test]
    fn whole_numbers_take_yuan_and_square_metres_with_two_places_and_nothing_finer() {
        assert_eq!(whole(&json!("1234.56"), None, 2), Ok(123_456));
        assert_eq!(whole(&json!("1234.5"), None, 2), Ok(123_450));
        assert_eq!(whole(&json!(1234), None, 2), Ok(123_400));
        assert_eq!(whole(&json!("123456.00"), None, 0), Ok(123_456));
        assert!(
            whole(&json!("1234.567"), None, 2)
                .unwrap_err()
                .contains("最多 2 位小数")
        );
        assert!(
            whole(&json!("1234.5"), None, 0)
                .unwrap_err()
                .contains("amount_yuan")
        );
    }

    #[test]
    fn dates_and_instants_read_as_debezium_encodes_them() {
        let date =
            |value: Value, ty: Option<ColumnType>| convert(Column::Date, &value, ty.as_ref(), 0);
        // 2025-07-01 is day 20270 since the epoch.
        assert_eq!(date(json!(20_270), None), Ok(json!("2025-07-01")));
        assert_eq!(
            date(json!(20_270), Some(typed("io.debezium.time.Date", None))),
            Ok(json!("2025-07-01"))
        );
        // An Oracle DATE: milliseconds of a wall-clock time.
        assert_eq!(
            date(
                json!(1_751_365_800_000_i64),
                Some(typed("io.debezium.time.Timestamp", None))
            ),
            Ok(json!("2025-07-01"))
        );
        // 2025-06-30T16:30:00Z is already 1 July in Beijing.
        assert_eq!(
            date(json!("2025-06-30T16:30:00Z"), None),
            Ok(json!("2025-07-01"))
        );
        assert_eq!(date(json!("2025/7/1"), None), Ok(json!("2025-07-01")));
        assert!(
            date(json!(1_751_365_800_000_i64), None)
                .unwrap_err()
                .contains("schemas.enable")
        );

        let instant =
            |value: Value, ty: Option<ColumnType>| convert(Column::Instant, &value, ty.as_ref(), 0);
        // DATETIME 2025-06-15 10:30:00 (Beijing) as Debezium's UTC-based milliseconds.
        let expected = Ok(json!("2025-06-15T02:30:00Z"));
        assert_eq!(
            instant(
                json!(1_749_983_400_000_i64),
                Some(typed("io.debezium.time.Timestamp", None))
            ),
            expected
        );
        assert_eq!(
            instant(
                json!(1_749_983_400_000_000_i64),
                Some(typed(MICRO_TIMESTAMP, None))
            ),
            expected
        );
        assert_eq!(instant(json!("2025-06-15T10:30:00+08:00"), None), expected);
        assert!(
            instant(json!(1_749_983_400_000_i64), None)
                .unwrap_err()
                .contains("单位")
        );
    }

    #[test]
    fn the_schema_gives_each_column_its_type() {
        let schema = json!({"type": "struct", "fields": [
            {"type": "struct", "field": "before", "optional": true, "name": "t.Value", "fields": [
                {"type": "bytes", "field": "amount_yuan", "name": DECIMAL, "version": 1,
                 "parameters": {"scale": "2", "connect.decimal.precision": "14"}},
                {"type": "int32", "field": "issued_on", "name": "io.debezium.time.Date", "version": 1},
                {"type": "string", "field": "notice_no"}
            ]},
            {"type": "string", "field": "op", "optional": false}
        ]});
        let types = column_types(&schema);
        assert_eq!(types["amount_yuan"], typed(DECIMAL, Some(2)));
        assert_eq!(types["issued_on"], typed("io.debezium.time.Date", None));
        assert_eq!(types["notice_no"], ColumnType::default());
    }
}
