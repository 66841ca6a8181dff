//! `POST /v1/commands`: the counters' outboxes arrive here, each command read and run on
//! its own so that one bad command is answered as rejected without holding up the rest.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::Extension;
use serde_json::value::RawValue;
use yizhan_core::id::CommandId;
use yizhan_sync::protocol::{
    CommandBatch, CommandEnvelope, CommandOutcome, CommandResult, CommandResults, FieldError,
};

use super::access::SourceAddress;
use super::ingest::{describe, read_body, read_list};
use crate::devices::DeviceCaller;
use crate::error::HubError;
use crate::hub::Hub;

/// Most commands per request: a counter back from days offline sends its outbox in
/// several requests, each answered within a few seconds.
pub const MAX_COMMANDS_PER_REQUEST: usize = 1_000;

pub async fn commands(
    State(hub): State<Hub>,
    Extension(SourceAddress(address)): Extension<SourceAddress>,
    Extension(caller): Extension<DeviceCaller>,
    body: Body,
) -> Result<Json<CommandResults>, HubError> {
    let body = read_body(body).await?;
    let raw = read_list(&body, |batch: CommandBatch<Box<RawValue>>| batch.commands)?;
    if raw.len() > MAX_COMMANDS_PER_REQUEST {
        return Err(HubError::InvalidBody(format!(
            "commands：一次最多 {MAX_COMMANDS_PER_REQUEST} 条指令，收到 {} 条",
            raw.len()
        )));
    }
    let read: Vec<Result<CommandEnvelope, (String, String)>> =
        raw.iter().map(|raw| read_command(raw)).collect();
    // A command without a readable id cannot be answered on its own: the counter could
    // not tell which of its commands the answer is for.
    let unidentified: Vec<FieldError> = raw
        .iter()
        .zip(&read)
        .enumerate()
        .filter(|(_, (raw, read))| read.is_err() && command_id(raw).is_none())
        .map(|(record, (_, read))| {
            let (field, problem) = read.as_ref().err().cloned().unwrap_or_default();
            FieldError {
                record,
                source_id: None,
                field: if field == "command_id" { field } else { "command_id".into() },
                problem: if problem.is_empty() { "缺少必填字段".into() } else { problem },
            }
        })
        .collect();
    if !unidentified.is_empty() {
        return Err(HubError::InvalidRecords(unidentified));
    }
    // The readable commands run as one batch; each unreadable one is answered in its place.
    let mut readable = Vec::with_capacity(read.len());
    let mut places = Vec::new();
    for (raw, read) in raw.iter().zip(read) {
        match read {
            // A counter sends its own outbox: another's commands are not its to relay.
            Ok(envelope) if envelope.device_id != caller.device_id => {
                places.push(Some((raw, ("device_id".into(), format!("与发出请求的终端 {} 不符", caller.device_id)))));
            }
            Ok(envelope) => {
                readable.push((envelope, action_text(raw).unwrap_or_default().to_owned()));
                places.push(None);
            }
            Err(problem) => places.push(Some((raw, problem))),
        }
    }
    let mut run = hub.run_commands(readable, &address).await?.into_iter();
    let results = places
        .into_iter()
        .map(|place| match place {
            None => run.next().expect("one result for every command run"),
            Some((raw, (field, problem))) => CommandResult {
                command_id: command_id(raw).expect("commands without a readable id were refused above"),
                outcome: CommandOutcome::Rejected {
                    code: "invalid_command".into(),
                    reason: format!("指令格式错误，{field}：{problem}。请更新本程序后重新操作。"),
                },
                repeated: false,
            },
        })
        .collect();
    let head = hub.store().head().await?;
    Ok(Json(CommandResults { results, head }))
}

fn read_command(raw: &RawValue) -> Result<CommandEnvelope, (String, String)> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
        .map_err(|e| describe(e.path(), e.inner()))
}

/// The action exactly as the counter sent it: its signature covers these bytes, not a
/// re-encoding of them.
fn action_text(raw: &RawValue) -> Option<&str> {
    #[derive(serde::Deserialize)]
    struct Signed<'a> {
        #[serde(borrow)]
        action: &'a RawValue,
    }
    serde_json::from_str::<Signed<'_>>(raw.get()).ok().map(|signed| signed.action.get())
}

fn command_id(raw: &RawValue) -> Option<CommandId> {
    let value: serde_json::Value = serde_json::from_str(raw.get()).ok()?;
    value.get("command_id")?.as_str()?.parse().ok()
}
