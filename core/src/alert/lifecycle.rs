//! How evaluation moves an alert: raised when its rule first fires on a subject, left
//! alone while the same firing repeats (one alert per rule and subject), escalated when
//! its deadline passes unanswered or its condition worsens, and resolved when the
//! condition clears.

use time::OffsetDateTime;

use super::engine::Firing;
use super::rules::Rule;
use super::{Alert, AlertState, Escalation, EscalationCause, Resolution};

/// The alert kept under one key after an evaluation at `now`: `firing` is what its rule
/// found (with the rule), `None` when it found nothing or the rule is gone. Returns the
/// new alert only when it differs from `current`, so evaluating the same facts again
/// writes nothing.
pub fn advance(
    current: Option<&Alert>,
    firing: Option<(&Firing, &Rule)>,
    now: OffsetDateTime,
) -> Option<Alert> {
    let next = match (current, firing) {
        (None, Some((firing, rule))) => Some(raise(firing, rule, now)),
        // The same finding, no deadline passed: nothing to write (and nothing to copy).
        (Some(alert), Some((firing, rule)))
            if alert.is_active()
                && firing.level <= alert.level
                && firing.message == alert.message
                && alert.owner_role == rule.owner_role
                && (alert.state != AlertState::Open || now < alert.respond_by) =>
        {
            None
        }
        (Some(alert), Some((firing, rule))) if !alert.is_active() => {
            let cleared = alert.resolution.as_ref().is_none_or(|r| r.condition_cleared);
            // Resolved by a clerk while the condition still held: that was the answer to
            // this condition, so it stays resolved until the condition clears once.
            cleared.then(|| raise(firing, rule, now))
        }
        (Some(alert), Some((firing, rule))) => {
            let mut next = alert.clone();
            if firing.level > next.level {
                next.escalations.push(Escalation {
                    at: now,
                    from: next.level,
                    to: firing.level,
                    cause: EscalationCause::Worsened,
                    by: None,
                    reason: None,
                });
                next.level = firing.level;
                if next.state == AlertState::Open {
                    next.respond_by = now + rule.respond_within(next.level);
                }
            }
            next.message.clone_from(&firing.message);
            next.owner_role.clone_from(&rule.owner_role);
            escalate_in_place(&mut next, rule, now);
            Some(next)
        }
        (Some(alert), None) if alert.is_active() => {
            let mut next = alert.clone();
            next.state = AlertState::Resolved;
            next.resolution = Some(Resolution {
                by: None,
                at: now,
                reason: "情况已消除，系统自动解除".into(),
                condition_cleared: true,
            });
            Some(next)
        }
        (Some(alert), None) => {
            let mut next = alert.clone();
            if let Some(resolution) = next.resolution.as_mut() {
                resolution.condition_cleared = true;
            }
            Some(next)
        }
        (None, None) => None,
    };
    next.filter(|next| Some(next) != current)
}

/// The alert after its response deadlines up to `now`, when any passed unanswered; `None`
/// when nothing changes. Each missed deadline steps one level up, dated when it was
/// missed, so the result does not depend on how often the clock ticks.
pub fn escalate(alert: &Alert, rule: &Rule, now: OffsetDateTime) -> Option<Alert> {
    let mut next = alert.clone();
    escalate_in_place(&mut next, rule, now);
    (next != *alert).then_some(next)
}

fn escalate_in_place(alert: &mut Alert, rule: &Rule, now: OffsetDateTime) {
    while alert.state == AlertState::Open && now >= alert.respond_by {
        let Some(to) = alert.level.escalated() else { break };
        alert.escalations.push(Escalation {
            at: alert.respond_by,
            from: alert.level,
            to,
            cause: EscalationCause::Unanswered,
            by: None,
            reason: None,
        });
        alert.level = to;
        alert.respond_by += rule.respond_within(to);
    }
}

fn raise(firing: &Firing, rule: &Rule, now: OffsetDateTime) -> Alert {
    Alert {
        rule_id: firing.rule_id.clone(),
        subject: firing.subject.clone(),
        project_code: firing.project_code.clone(),
        department: rule.department.clone(),
        owner_role: rule.owner_role.clone(),
        raised_level: firing.level,
        level: firing.level,
        message: firing.message.clone(),
        runbook: rule.runbook.clone(),
        quarantine_id: firing.quarantine_id,
        raised_at: now,
        respond_by: now + rule.respond_within(firing.level),
        state: AlertState::Open,
        responded: None,
        assignee: None,
        notes: Vec::new(),
        escalations: Vec::new(),
        resolution: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::engine::FeeDue;
    use crate::alert::rules::RuleSet;
    use crate::alert::{AlertLevel, Handled, Sla};
    use crate::entity::FeeKind;
    use time::Duration;
    use time::macros::{date, datetime};

    const CODE: &str = "2019-320105-47-01-123456";
    const T0: OffsetDateTime = datetime!(2026-11-24 01:00 UTC);

    fn overdue_firing(rules: &RuleSet, outstanding_fen: i64) -> Firing {
        let dues = [FeeDue { fee_kind: FeeKind::Infra, due_on: date!(2026 - 11 - 01), outstanding_fen }];
        let firings = rules.project_firings(CODE, &dues, date!(2026 - 11 - 24));
        assert_eq!(firings.len(), 1, "long overdue is not also due soon");
        firings.into_iter().next().unwrap()
    }

    #[test]
    fn a_firing_raises_once_and_repeats_change_nothing() {
        let rules = RuleSet::built_in();
        let rule = rules.rule("payment-overdue").unwrap();
        let firing = overdue_firing(&rules, 100);
        let raised = advance(None, Some((&firing, rule)), T0).expect("raised");
        assert_eq!((raised.level, raised.state, raised.raised_at), (AlertLevel::Orange, AlertState::Open, T0));
        assert_eq!(raised.respond_by, T0 + Duration::days(1));
        assert_eq!(raised.department, "收费窗口");
        for minutes in [1, 10, 60] {
            assert_eq!(advance(Some(&raised), Some((&firing, rule)), T0 + Duration::minutes(minutes)), None, "deduplicated");
        }
        let part_paid = overdue_firing(&rules, 50);
        let updated = advance(Some(&raised), Some((&part_paid, rule)), T0 + Duration::hours(1)).expect("message follows");
        assert_eq!((updated.raised_at, updated.level), (T0, AlertLevel::Orange));
        assert!(updated.message.contains("¥0.50"), "{}", updated.message);
    }

    #[test]
    fn it_resolves_itself_when_the_condition_clears_and_is_raised_afresh_later() {
        let rules = RuleSet::built_in();
        let rule = rules.rule("payment-overdue").unwrap();
        let firing = overdue_firing(&rules, 100);
        let raised = advance(None, Some((&firing, rule)), T0).unwrap();
        let resolved = advance(Some(&raised), None, T0 + Duration::hours(2)).expect("resolved");
        assert_eq!(resolved.state, AlertState::Resolved);
        let resolution = resolved.resolution.as_ref().unwrap();
        assert_eq!((resolution.by.as_deref(), resolution.condition_cleared), (None, true));
        assert_eq!(advance(Some(&resolved), None, T0 + Duration::hours(3)), None);
        let again = advance(Some(&resolved), Some((&firing, rule)), T0 + Duration::hours(4)).expect("a new episode");
        assert_eq!((again.state, again.raised_at, again.resolution.is_none()), (AlertState::Open, T0 + Duration::hours(4), true));
    }

    #[test]
    fn a_clerks_resolution_holds_while_the_condition_does() {
        let rules = RuleSet::built_in();
        let rule = rules.rule("payment-overdue").unwrap();
        let firing = overdue_firing(&rules, 100);
        let mut resolved = advance(None, Some((&firing, rule)), T0).unwrap();
        resolved.state = AlertState::Resolved;
        resolved.resolution = Some(Resolution { by: Some("科长".into()), at: T0, reason: "已承诺缴费".into(), condition_cleared: false });
        assert_eq!(advance(Some(&resolved), Some((&firing, rule)), T0 + Duration::days(2)), None);
        let cleared = advance(Some(&resolved), None, T0 + Duration::days(3)).expect("records that it cleared");
        assert!(cleared.resolution.as_ref().unwrap().condition_cleared);
        assert!(advance(Some(&cleared), Some((&firing, rule)), T0 + Duration::days(4)).is_some(), "raised again");
    }

    #[test]
    fn the_clock_changes_an_alert_exactly_when_its_escalation_time_has_come() {
        let rules = RuleSet::built_in();
        let rule = rules.rule("payment-overdue").unwrap();
        let raised = advance(None, Some((&overdue_firing(&rules, 100), rule)), T0).unwrap();
        let red = escalate(&raised, rule, T0 + Duration::days(30)).expect("escalated to red");
        assert_eq!(red.level, AlertLevel::Red);
        let mut answered = raised.clone();
        answered.state = AlertState::Acknowledged;
        let resolved = advance(Some(&raised), None, T0).unwrap();
        for alert in [&raised, &red, &answered, &resolved] {
            for hours in [0, 23, 24, 25, 24 * 40] {
                let now = T0 + Duration::hours(hours);
                assert_eq!(
                    escalate(alert, rule, now).is_some(),
                    alert.escalates_at().is_some_and(|at| now >= at),
                    "{:?} {:?} at +{hours} h",
                    alert.level,
                    alert.state
                );
            }
        }
        assert_eq!(red.escalates_at(), None, "red is as high as it goes: past its deadline, nothing more happens");
    }

    #[test]
    fn unanswered_alerts_escalate_at_each_missed_deadline_and_answered_ones_do_not() {
        let rules = RuleSet::built_in();
        let rule = rules.rule("payment-due-soon").unwrap();
        let dues = [FeeDue { fee_kind: FeeKind::Infra, due_on: date!(2026 - 11 - 28), outstanding_fen: 100 }];
        let firing = rules.project_firings(CODE, &dues, date!(2026 - 11 - 24)).remove(0);
        let raised = advance(None, Some((&firing, rule)), T0).unwrap();
        assert_eq!(raised.level, AlertLevel::Yellow);
        assert_eq!(escalate(&raised, rule, T0 + Duration::days(3) - Duration::seconds(1)), None, "not yet");
        assert_eq!(raised.sla(T0 + Duration::days(1)), Sla::Pending);

        // Yellow 3 days, orange 1 day: five days unanswered pass both deadlines.
        let late = escalate(&raised, rule, T0 + Duration::days(5)).expect("escalated");
        assert_eq!(late.level, AlertLevel::Red);
        let steps: Vec<_> = late.escalations.iter().map(|e| (e.from, e.to, e.at, e.cause)).collect();
        assert_eq!(
            steps,
            [
                (AlertLevel::Yellow, AlertLevel::Orange, T0 + Duration::days(3), EscalationCause::Unanswered),
                (AlertLevel::Orange, AlertLevel::Red, T0 + Duration::days(4), EscalationCause::Unanswered),
            ]
        );
        assert_eq!(late.sla(T0 + Duration::days(5)), Sla::Missed);
        assert_eq!(escalate(&late, rule, T0 + Duration::days(30)), None, "red is the top");

        let mut answered = raised.clone();
        answered.state = AlertState::Acknowledged;
        answered.responded = Some(Handled { by: "王芳".into(), at: T0 + Duration::hours(1) });
        assert_eq!(escalate(&answered, rule, T0 + Duration::days(10)), None);
        assert_eq!(answered.sla(T0 + Duration::days(10)), Sla::Met);
    }

    #[test]
    fn a_worsening_condition_raises_the_level_and_says_why() {
        let rules = RuleSet::built_in();
        let rule = rules.rule("sync-lag").unwrap();
        let counter = |minutes: i64| crate::alert::engine::SystemSignal::Counter {
            device: "counter-03".into(),
            last_contact: Some(T0 - Duration::minutes(minutes)),
            started_at: T0 - Duration::days(1),
            log_problem: None,
            mismatch: None,
            serials_left: Vec::new(),
            clock_skew_seconds: None,
        };
        let yellow = rules.system_firings(&counter(20), T0).remove(0);
        let raised = advance(None, Some((&yellow, rule)), T0).unwrap();
        let red = rules.system_firings(&counter(130), T0 + Duration::minutes(110)).remove(0);
        let worse = advance(Some(&raised), Some((&red, rule)), T0 + Duration::minutes(110)).unwrap();
        assert_eq!((worse.raised_level, worse.level), (AlertLevel::Yellow, AlertLevel::Red));
        assert_eq!(worse.escalations[0].cause, EscalationCause::Worsened);
        assert_eq!(worse.respond_by, T0 + Duration::minutes(110) + Duration::minutes(30));
        assert_eq!(worse.sla(T0 + Duration::minutes(111)), Sla::Pending, "worsening is not a missed deadline");
    }
}
