//! Clerk commands at the hub: each decided by the domain rules (`yizhan_core::command`)
//! against the hub's own rows, inside the transaction that writes its effect, and run
//! once per command id.

use time::OffsetDateTime;
use yizhan_core::clock::shanghai_date;
use yizhan_core::command::{Issued, Rejection, decide};
use yizhan_sync::protocol::{CommandEnvelope, CommandOutcome, CommandResult};

use crate::error::HubError;
use crate::hub::Hub;
use crate::store::{Decider, RowWrite, project_records};

impl Hub {
    pub async fn run_command(&self, envelope: CommandEnvelope) -> Result<CommandResult, HubError> {
        let refused = self.check_issue(&envelope.device_id, &envelope.action).await?;
        let decider = decider(envelope.clone(), shanghai_date(OffsetDateTime::now_utc()), refused);
        let action = envelope.action.clone();
        let command_id = envelope.command_id.clone();
        let run = self.store().run_command(envelope, decider).await?;
        if run.outcome.is_ok() {
            self.notify_applicant(&action).await?;
            // What a command wrote can raise an alert of its own (a document in conflict).
            if let Some(desk) = self.alert_desk() {
                desk.touched(vec![action.project_key().to_owned()]);
            }
        }
        let result = CommandResult {
            command_id,
            outcome: match run.outcome {
                Ok(seq) => CommandOutcome::Accepted { seq },
                Err(Rejection { code, reason }) => CommandOutcome::Rejected { code, reason },
            },
            repeated: run.repeated,
        };
        tracing::info!(
            command_id = %result.command_id,
            outcome = ?result.outcome,
            repeated = result.repeated,
            "指令已处理"
        );
        Ok(result)
    }
}

/// `refused`: what the hub found wrong before the domain rules (a document's signature
/// or segment), recorded as the command's answer like any rejection.
fn decider(envelope: CommandEnvelope, today: time::Date, refused: Option<Rejection>) -> Decider {
    Box::new(move |rows| {
        if let Some(rejection) = refused.clone() {
            return Ok(Err(rejection));
        }
        let records = project_records(rows)?;
        let issued = Issued {
            command_id: &envelope.command_id,
            clerk: &envelope.clerk,
            device_id: &envelope.device_id,
            at: envelope.issued_at,
        };
        Ok(decide(&envelope.action, &issued, &records, today).map(|effect| {
            vec![RowWrite {
                entity: effect.entity(),
                key: effect.key().to_owned(),
                project_code: envelope.action.project_key().to_owned(),
                payload: effect.payload(),
            }]
        }))
    })
}
