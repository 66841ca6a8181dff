//! Clerk commands at the hub: each decided by the domain rules (`yizhan_core::command`)
//! against the hub's own rows, inside the transaction that writes its effect and its
//! audit record, and run once per command id.
//!
//! Who issued a command is the counter's word, signed with its registered key when the
//! command was queued; the hub trusts that, never the body's clerk. It accepts the command
//! only if that person held the permission when they issued it, and flags one from an
//! account disabled since.

use std::collections::{BTreeSet, HashMap};

use time::OffsetDateTime;
use tokio::sync::oneshot;
use yizhan_core::access::Permission;
use yizhan_core::account::Account;
use yizhan_core::alert::handling::{AlertHandling, assignee_account};
use yizhan_core::clock::{shanghai_date, shanghai_minute};
use yizhan_core::id::DeviceId;
use yizhan_core::command::{ClerkAction, Issued, Rejection, decide};
use yizhan_core::document::{DocumentKind, four_eyes};
use yizhan_sync::protocol::{CommandEnvelope, CommandOutcome, CommandResult, clerk_label};
use yizhan_voucher::signature::PublicKey;

use crate::accounts::standing::standing_at;
use crate::audit::{Actor, AuditEvent, Entry};
use crate::documents::signed_by;
use crate::error::HubError;
use crate::hub::Hub;
use crate::store::{CommandAudit, Decider, RowWrite, Standing, UserRecord, UserStatus, project_records};

/// The person the hub holds a command to be from, and how they stand now.
struct Attested {
    account: Account,
    /// As documents and rows name them, from the hub's own account record.
    clerk: String,
    roles: String,
    disabled_since: bool,
}

/// A clerk's account as a batch's vetting reads it, once for all the clerk's commands.
struct Clerk {
    user: UserRecord,
    standings: Vec<Standing>,
    roles: String,
}

/// What vetting a batch reads from the store, once for all its commands: each device's key
/// and each clerk's account as they are when the batch arrives (`None`: not registered, no
/// such account).
struct Known {
    keys: HashMap<DeviceId, Option<PublicKey>>,
    clerks: HashMap<Account, Option<Clerk>>,
}

/// A command as the hub found it before running it: who it is from, and what is wrong
/// with it that the domain rules do not see (the document's signature or segment, the
/// assignee).
struct Vetted {
    envelope: CommandEnvelope,
    attested: Result<Attested, Rejection>,
    refused: Option<Rejection>,
}

impl Hub {
    /// Runs a counter's commands from `address` in their order; each `(envelope, action)`
    /// with the action exactly as sent, which the counter's signature covers.
    ///
    /// The commands' SM2 signatures, most of the work of vetting them, depend on nothing a
    /// command writes: they are checked on every core from the start, running ahead of the
    /// commands, which are written one at a time.
    pub async fn run_commands(&self, commands: Vec<(CommandEnvelope, String)>, address: &str) -> Result<Vec<CommandResult>, HubError> {
        let known = self.known(&commands).await?;
        let signatures = check_signatures(&known.keys, &commands);
        let mut results = Vec::with_capacity(commands.len());
        for ((envelope, _), signed) in commands.into_iter().zip(signatures) {
            let signed = signed.await.expect("every signature check answers");
            let vetted = self.vet(&known, envelope, signed).await?;
            results.push(self.run_vetted(vetted, address).await?);
        }
        Ok(results)
    }

    async fn known(&self, commands: &[(CommandEnvelope, String)]) -> Result<Known, HubError> {
        let mut known = Known { keys: HashMap::new(), clerks: HashMap::new() };
        for (envelope, _) in commands {
            if !known.keys.contains_key(&envelope.device_id) {
                known.keys.insert(envelope.device_id.clone(), self.counter_public_key(&envelope.device_id).await?);
            }
            if let Some(account) = &envelope.account
                && !known.clerks.contains_key(account)
            {
                known.clerks.insert(account.clone(), self.clerk(account).await?);
            }
        }
        Ok(known)
    }

    async fn clerk(&self, account: &Account) -> Result<Option<Clerk>, HubError> {
        let Some(user) = self.store().user(account).await? else {
            return Ok(None);
        };
        let standings = self.store().standings(account).await?;
        let roles = self.roles_held(account).await?;
        Ok(Some(Clerk { user, standings, roles }))
    }

    async fn vet(&self, known: &Known, mut envelope: CommandEnvelope, signed: bool) -> Result<Vetted, HubError> {
        let attested = attest(known, &envelope, signed);
        let refused = match &attested {
            Ok(person) => {
                envelope.clerk = person.clerk.clone();
                let key = known.keys.get(&envelope.device_id).and_then(Option::as_ref);
                match self.check_issue(&envelope.device_id, key, &envelope.action).await? {
                    Some(rejection) => Some(rejection),
                    None => self.check_assignee(&envelope.action).await?,
                }
            }
            Err(rejection) => Some(rejection.clone()),
        };
        Ok(Vetted { envelope, attested, refused })
    }

    async fn run_vetted(&self, vetted: Vetted, address: &str) -> Result<CommandResult, HubError> {
        let Vetted { envelope, attested, refused } = vetted;
        let audit = self.command_audit(&envelope, attested.as_ref().ok(), address);
        // Four eyes is decided on the project's rows inside the command's transaction; the
        // settings say for which kinds it is off.
        let single_clerk = match &envelope.action {
            ClerkAction::IssueDocument { .. } => self.document_settings().await?.map(|s| s.single_clerk_kinds).unwrap_or_default(),
            _ => BTreeSet::new(),
        };
        let decider = decider(envelope.clone(), shanghai_date(OffsetDateTime::now_utc()), refused, single_clerk);
        let action = envelope.action.clone();
        let command_id = envelope.command_id.clone();
        let run = self.store().run_command(envelope, decider, audit).await.inspect_err(|e| {
            self.audit_in_doubt(format!("指令 {command_id} 未能执行或其审计记录未能写入（{e}）"));
        })?;
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

    /// An alert is assigned to a person who may handle it: an active account holding
    /// `alert:handle` now.
    async fn check_assignee(&self, action: &ClerkAction) -> Result<Option<Rejection>, HubError> {
        let ClerkAction::HandleAlert { handling: AlertHandling::Assign { assignee }, .. } = action else {
            return Ok(None);
        };
        let account = match assignee_account(assignee) {
            Ok(account) => account,
            Err(rejection) => return Ok(Some(rejection)),
        };
        let standing = self.standing_at(&account, self.clock().now()).await?;
        Ok(match standing {
            Some(s) if s.active && s.permissions.contains(&Permission::AlertHandle) => None,
            Some(s) if s.active => Some(Rejection::new(
                "assignee_not_permitted",
                format!("{account} 没有处理预警（alert:handle）的权限，不能指派给该账号。"),
            )),
            _ => Some(Rejection::new("assignee_unknown", format!("数据中心没有在用的账号 {account}，不能指派。"))),
        })
    }

    /// The audit record of the command's run: under the attested person, or under the
    /// account the envelope claims when its signature did not hold.
    fn command_audit(&self, envelope: &CommandEnvelope, attested: Option<&Attested>, address: &str) -> CommandAudit {
        let (key, at) = (self.audit_key().clone(), self.clock().now());
        let actor = Actor {
            user: attested.map_or_else(
                || envelope.account.as_ref().map_or_else(String::new, |a| format!("{a}（未核实）")),
                |p| p.account.to_string(),
            ),
            role: attested.map(|p| p.roles.clone()).unwrap_or_default(),
            device: envelope.device_id.to_string(),
            address: address.to_owned(),
        };
        let event = if attested.is_some_and(|p| p.disabled_since) {
            AuditEvent::ClerkCommandDisabledAccount
        } else {
            AuditEvent::ClerkCommand
        };
        let object = match envelope.action.project_code() {
            Some(code) => format!("{} {code}", envelope.action.kind()),
            None => envelope.action.kind().to_owned(),
        };
        let (command_id, base_seq, local_at) = (envelope.command_id.to_string(), envelope.base_seq, envelope.issued_at);
        Box::new(move |run, tail| {
            let mut entry = Entry::new(&actor, event, object).detail(serde_json::json!({
                "command_id": command_id,
                "base_seq": base_seq,
                "seq": run.outcome.as_ref().ok().copied().flatten(),
                "repeated": run.repeated,
            }));
            entry.local_at = Some(local_at);
            if let Err(rejection) = &run.outcome {
                entry = entry.failed(format!("{}：{}", rejection.code, rejection.reason));
            }
            crate::audit::seal(&key, entry, at, tail)
        })
    }
}

/// `refused`: what the hub found wrong before the domain rules (the signature, the
/// clerk's standing, a document's signature or segment), recorded as the command's answer
/// like any rejection. `single_clerk`: the document kinds four eyes is off for.
fn decider(envelope: CommandEnvelope, today: time::Date, refused: Option<Rejection>, single_clerk: BTreeSet<DocumentKind>) -> Decider {
    Box::new(move |rows| {
        if let Some(rejection) = refused.clone() {
            return Ok(Err(rejection));
        }
        let records = project_records(rows)?;
        if let ClerkAction::IssueDocument { document, .. } = &envelope.action
            && let Err(rejection) = four_eyes(&single_clerk, document.number.kind, records.final_check.as_ref(), &envelope.clerk)
        {
            return Ok(Err(rejection));
        }
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

/// Each command's signature checked on the blocking pool, a thread per core, each taking
/// every n-th command in order: the first answers come at once and the rest well before
/// their command's turn. The answers are in the commands' order; a command without a
/// signature or a registered key is answered `false`.
fn check_signatures(keys: &HashMap<DeviceId, Option<PublicKey>>, commands: &[(CommandEnvelope, String)]) -> Vec<oneshot::Receiver<bool>> {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let mut shares: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    let mut answers = Vec::with_capacity(commands.len());
    for (i, (envelope, action_json)) in commands.iter().enumerate() {
        let (answer, answered) = oneshot::channel();
        answers.push(answered);
        let key = keys.get(&envelope.device_id).cloned().flatten();
        let check = key.zip(envelope.signature.clone()).map(|(key, signature)| (key, envelope.signed_text(action_json), signature));
        shares[i % threads].push((check, answer));
    }
    for share in shares {
        tokio::task::spawn_blocking(move || {
            for (check, answer) in share {
                let _ = answer.send(check.is_some_and(|(key, text, signature)| signed_by(&key, &text, &signature)));
            }
        });
    }
    answers
}

/// Who the command is from, by the counter's signature (`signed`: whether it holds), and
/// whether that person could issue it when they did; a rejection for the counter otherwise.
fn attest(known: &Known, envelope: &CommandEnvelope, signed: bool) -> Result<Attested, Rejection> {
    let device = &envelope.device_id;
    let (Some(account), Some(_)) = (&envelope.account, &envelope.signature) else {
        return Err(Rejection::new(
            "unsigned_command",
            "该指令没有本窗口的签名和办理人账号（登录功能启用前排队的指令），数据中心不予受理。请登录后重新办理。",
        ));
    };
    if !known.keys.get(device).is_some_and(Option::is_some) {
        return Err(Rejection::new("unknown_counter", format!("终端 {device} 未登记签名公钥，指令无法核验，数据中心不予受理。")));
    }
    if !signed {
        return Err(Rejection::new(
            "bad_signature",
            format!("指令的签名与终端 {device} 登记的公钥不符（办理人、时间或内容被改动过），数据中心不予受理。"),
        ));
    }
    let Some(Some(Clerk { user, standings, roles })) = known.clerks.get(account) else {
        return Err(Rejection::new("unknown_clerk", format!("办理人账号 {account} 在数据中心不存在，指令不予受理。")));
    };
    let clerk = clerk_label(&user.real_name, &user.account);
    let when = shanghai_minute(envelope.issued_at);
    let needed = envelope.action.permission();
    match standing_at(standings, envelope.issued_at) {
        Some(standing) if standing.active && standing.permissions.contains(&needed) => {}
        Some(standing) if standing.active => {
            return Err(Rejection::new(
                "not_permitted",
                format!("{clerk} 在办理时（{when}）没有「{}」权限，指令不予受理。", needed.as_str()),
            ));
        }
        _ => return Err(Rejection::new("clerk_not_active", format!("{clerk} 的账号在办理时（{when}）未启用，指令不予受理。"))),
    }
    Ok(Attested { account: account.clone(), clerk, roles: roles.clone(), disabled_since: user.status == UserStatus::Disabled })
}
