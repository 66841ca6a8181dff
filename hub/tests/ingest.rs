//! The ingest endpoints over real HTTP: what a good record writes, that re-sends are
//! idempotent, and that every kind of bad input is refused with an `ApiError` naming
//! record and field while nothing at all is written.

mod common;

use common::{CODE, TestHub, USCC, clearance, notice, payment, planning};
use serde_json::{Value, json};
use time::macros::date;
use yizhan_core::entity::{Area, EntityKind, FeeAssessment, FeeKind};
use yizhan_core::tariff::Tariff;

fn payload<T: for<'de> serde::Deserialize<'de>>(row: &yizhan_hub::store::StateRow) -> T {
    serde_json::from_str(&row.payload).unwrap()
}

#[tokio::test]
async fn planning_writes_project_approval_and_infra_assessment_in_one_logged_transaction() {
    let hub = TestHub::start().await;
    let (status, report) = hub.post("planning", json!([planning("G1", CODE)])).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({"received": 1, "changed": 1, "unchanged": 0, "head": 3})
    );

    let store = hub.hub.store();
    let project = store.get(EntityKind::Project, CODE).await.unwrap().unwrap();
    assert_eq!(payload::<Value>(&project)["uscc"], USCC);
    assert!(
        store
            .get(EntityKind::PlanningApproval, "G1")
            .await
            .unwrap()
            .is_some()
    );
    let row = store
        .get(
            EntityKind::FeeAssessment,
            &FeeAssessment::key_for(CODE, FeeKind::Infra),
        )
        .await
        .unwrap()
        .unwrap();
    let assessment: FeeAssessment = payload(&row);
    let expected = Tariff::demo()
        .infra_fee(Area::from_hundredths(5_000_000), Area::from_hundredths(20_000), date!(2025 - 06 - 01))
        .unwrap();
    assert_eq!(assessment.amount_fen, expected.amount_fen);
    assert_eq!(assessment.basis, expected.basis);
    assert_eq!(
        (assessment.assessed_on, assessment.due_on),
        (date!(2025 - 06 - 01), date!(2025 - 07 - 01))
    );

    // One log entry per row written, in seq order, all with the ingest origin.
    let log = hub.log().await;
    let seqs: Vec<u64> = log.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert!(
        log.iter()
            .all(|c| c["origin"] == "ingest:planning" && c["version"] == 1),
        "{log:?}"
    );
    assert_eq!(store.project_rows(CODE).await.unwrap().len(), 3);
}

#[tokio::test]
async fn identical_resend_appends_nothing_and_a_correction_is_a_new_version() {
    let hub = TestHub::start().await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    hub.post("payments", json!([payment("P1", CODE, 100_000)]))
        .await;
    let head = hub.head().await;

    for (source, record) in [
        ("planning", planning("G1", CODE)),
        ("payments", payment("P1", CODE, 100_000)),
    ] {
        let (status, report) = hub.post(source, json!([record])).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(
            report,
            json!({"received": 1, "changed": 0, "unchanged": 1, "head": head})
        );
    }
    assert_eq!(hub.log().await.len() as u64, head);

    // The builder's name corrected: the project row moves to version 2, the approval and
    // the assessment (same areas, same date) do not change.
    let mut corrected = planning("G1", CODE);
    corrected["name"] = json!("江宁区秣陵街道保障性住房二期（调整）");
    let (_, report) = hub.post("planning", json!([corrected])).await;
    assert_eq!(report["changed"], 1);
    assert_eq!(report["head"], head + 1);
    let store = hub.hub.store();
    assert_eq!(
        store
            .get(EntityKind::Project, CODE)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert_eq!(
        store
            .get(EntityKind::PlanningApproval, "G1")
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );

    let (_, report) = hub
        .post("payments", json!([payment("P1", CODE, 150_000)]))
        .await;
    assert_eq!(
        (report["changed"].as_u64(), report["head"].as_u64()),
        (Some(1), Some(head + 2))
    );
    let row = store.get(EntityKind::Payment, "P1").await.unwrap().unwrap();
    assert_eq!(
        (row.version, payload::<Value>(&row)["amount_fen"].as_i64()),
        (2, Some(150_000))
    );
}

#[tokio::test]
async fn civil_defence_notice_and_tax_clearance_are_written_for_a_known_project() {
    let hub = TestHub::start().await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    let (status, report) = hub
        .post("civil-defence", json!([notice("RF1", CODE)]))
        .await;
    assert_eq!(status, 200, "{report}");
    let (status, report) = hub.post("tax", json!([clearance("WS1", CODE)])).await;
    assert_eq!(status, 200, "{report}");
    let store = hub.hub.store();
    let key = FeeAssessment::key_for(CODE, FeeKind::CivilDefence);
    let assessment: FeeAssessment = payload(
        &store
            .get(EntityKind::FeeAssessment, &key)
            .await
            .unwrap()
            .unwrap(),
    );
    assert_eq!(assessment.basis, "人防征收联系单 RF1");
    assert_eq!(assessment.due_on, date!(2025 - 07 - 31));
    assert!(
        store
            .get(EntityKind::TaxClearance, "WS1")
            .await
            .unwrap()
            .is_some()
    );
    let origins: Vec<Value> = hub
        .log()
        .await
        .iter()
        .map(|c| c["origin"].clone())
        .collect();
    assert_eq!(
        &origins[3..],
        [json!("ingest:civil-defence"), json!("ingest:tax")]
    );
}

fn with(mut record: Value, field: &str, value: Value) -> Value {
    record[field] = value;
    record
}

fn without(mut record: Value, field: &str) -> Value {
    record.as_object_mut().unwrap().remove(field);
    record
}

/// Each case: endpoint, a bad record, the field that must be named.
fn bad_records() -> Vec<(&'static str, Value, &'static str)> {
    let other = "2025-320115-70-01-000002";
    vec![
        (
            "payments",
            with(payment("B1", CODE, 1), "amount_fen", json!(-500)),
            "amount_fen",
        ),
        (
            "payments",
            with(payment("B2", CODE, 1), "amount_fen", json!(0)),
            "amount_fen",
        ),
        (
            "payments",
            with(payment("B3", CODE, 1), "amount_fen", json!(12.5)),
            "amount_fen",
        ),
        (
            "payments",
            payment("B4", "2025-320115-70-01-999999", 100),
            "project_code",
        ),
        (
            "payments",
            with(payment("B5", CODE, 100), "channel", json!("  ")),
            "channel",
        ),
        (
            "payments",
            with(payment("B6", CODE, 100), "fee_kind", json!("water")),
            "fee_kind",
        ),
        (
            "payments",
            without(payment("B7", CODE, 100), "reference"),
            "reference",
        ),
        (
            "payments",
            with(payment("B8", CODE, 100), "bank", json!("x")),
            "bank",
        ),
        ("payments", payment("", CODE, 100), "payment_id"),
        (
            "planning",
            with(planning("B9", other), "uscc", json!("91350100M000100Y4")),
            "uscc",
        ),
        (
            "planning",
            with(planning("B10", other), "uscc", json!("9135010OM000100Y43")),
            "uscc",
        ),
        (
            "planning",
            planning("B11", "2025-32011-70-01-000002"),
            "project_code",
        ),
        (
            "planning",
            with(planning("B12", other), "district_code", json!("320100")),
            "district_code",
        ),
        (
            "planning",
            with(planning("B13", other), "residential_area", json!(-1)),
            "residential_area",
        ),
        (
            "planning",
            with(planning("B14", other), "civil_defence_area", json!(10.5)),
            "civil_defence_area",
        ),
        (
            "planning",
            with(planning("B15", other), "builder", json!("")),
            "builder",
        ),
        (
            "planning",
            with(planning("B16", other), "approved_on", json!("2025/06/01")),
            "approved_on",
        ),
        (
            "planning",
            with(planning("B17", other), "approved_on", json!("2001-01-01")),
            "approved_on",
        ),
        (
            "planning",
            with(planning("B18", other), "contact_phone", json!("12345")),
            "contact_phone",
        ),
        (
            "planning",
            with(
                planning("B19", other),
                "infra_exemption",
                json!({"amount_fen": 1_000_000_000_000i64, "basis": "x"}),
            ),
            "infra_exemption.amount_fen",
        ),
        (
            "planning",
            with(
                planning("B20", other),
                "infra_exemption",
                json!({"amount_fen": 1.5, "basis": "x"}),
            ),
            "infra_exemption.amount_fen",
        ),
        (
            "civil-defence",
            with(notice("B21", CODE), "amount_fen", json!(1)),
            "amount_fen",
        ),
        (
            "civil-defence",
            with(notice("B22", CODE), "civil_defence_area", json!(-100)),
            "civil_defence_area",
        ),
        ("civil-defence", notice("B23", other), "project_code"),
        (
            "civil-defence",
            with(notice("B24", CODE), "due_on", json!("2025-06-30")),
            "due_on",
        ),
        (
            "tax",
            with(clearance("B25", CODE), "tax_office", json!("")),
            "tax_office",
        ),
        ("tax", clearance("B26", other), "project_code"),
        ("tax", clearance(" B27", CODE), "clearance_no"),
    ]
}

#[tokio::test]
async fn every_bad_record_is_refused_naming_record_source_and_field_and_nothing_is_written() {
    let hub = TestHub::start().await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    let head = hub.head().await;

    for (source, bad, field) in bad_records() {
        // A good record first: all-or-nothing means it must not be written either.
        let good = match source {
            "payments" => payment("GOOD", CODE, 100),
            "planning" => planning("GOOD", "2025-320115-70-01-000003"),
            "civil-defence" => notice("GOOD", CODE),
            _ => clearance("GOOD", CODE),
        };
        let id_field = match source {
            "payments" => "payment_id",
            "planning" => "planning_permit_no",
            "civil-defence" => "notice_no",
            _ => "clearance_no",
        };
        let source_id = bad[id_field].clone();
        let (status, error) = hub.post(source, json!([good, bad])).await;
        assert_eq!(status, 422, "{source} {field}: {error}");
        assert_eq!(error["code"], "invalid_record", "{error}");
        assert!(
            error["message"].as_str().unwrap().contains("整批未写入"),
            "{error}"
        );
        let errors = error["errors"].as_array().unwrap();
        assert!(!errors.is_empty(), "{error}");
        for e in errors {
            assert_eq!(e["record"], 1, "only the bad record is named: {error}");
        }
        let named = errors.iter().find(|e| e["field"] == field);
        let named = named.unwrap_or_else(|| panic!("{source}: field {field} not named in {error}"));
        assert!(!named["problem"].as_str().unwrap().is_empty());
        if source_id.as_str().is_some_and(|s| !s.is_empty()) {
            assert_eq!(named["source_id"], source_id, "{error}");
        }
        assert_eq!(
            hub.head().await,
            head,
            "{source} {field}: something was written"
        );
        assert!(
            hub.hub
                .store()
                .get(EntityKind::Payment, "GOOD")
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(hub.log().await.len() as u64, head);
    assert_eq!(
        hub.hub
            .store()
            .project_rows("2025-320115-70-01-000003")
            .await
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn one_answer_lists_every_failing_record() {
    let hub = TestHub::start().await;
    hub.post("planning", json!([planning("G1", CODE)])).await;
    let records = json!([
        with(payment("A", CODE, 1), "amount_fen", json!(-1)),
        payment("B", CODE, 1),
        with(payment("C", CODE, 1), "amount_fen", json!(0.5)),
        with(
            with(
                payment("D", "2025-320115-70-01-999999", 1),
                "channel",
                json!("")
            ),
            "amount_fen",
            json!(0)
        ),
    ]);
    let (status, error) = hub.post("payments", records).await;
    assert_eq!(status, 422, "{error}");
    let named: Vec<(u64, &str)> = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["record"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        named,
        [
            (0, "amount_fen"),
            (2, "amount_fen"),
            (3, "amount_fen"),
            (3, "channel"),
            (3, "project_code")
        ],
        "{error}"
    );
    assert!(
        error["message"].as_str().unwrap().starts_with("3 条记录"),
        "{error}"
    );
}

#[tokio::test]
async fn malformed_and_misshapen_bodies_get_api_error_json() {
    let hub = TestHub::start().await;
    for (body, status, code) in [
        (&b"{\"records\": [ {"[..], 400, "malformed_json"),
        (b"not json", 400, "malformed_json"),
        (b"", 400, "malformed_json"),
        (b"{\"records\": {}}", 400, "invalid_body"),
        (b"{\"records\": [], \"extra\": 1}", 400, "invalid_body"),
        (b"[]", 400, "invalid_body"),
    ] {
        let (got, error) = hub.post_raw("payments", body.to_vec()).await;
        assert_eq!(
            (got, error["code"].as_str()),
            (status, Some(code)),
            "{}: {error}",
            String::from_utf8_lossy(body)
        );
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(hub.head().await, 0);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_with_api_error_json() {
    let hub = TestHub::start().await;
    let record = payment("P", CODE, 1).to_string();
    let copies = 10 * 1024 * 1024 / record.len() + 1;
    let body = format!("{{\"records\":[{}]}}", vec![record; copies].join(","));
    assert!(body.len() > 10 * 1024 * 1024);
    let (status, error) = hub.post_raw("payments", body.into_bytes()).await;
    assert_eq!(status, 413, "{error}");
    assert_eq!(error["code"], "body_too_large");
    assert!(
        error["message"].as_str().unwrap().contains("4 MiB"),
        "{error}"
    );
}

#[tokio::test]
async fn an_empty_batch_is_accepted_and_writes_nothing() {
    let hub = TestHub::start().await;
    let (status, report) = hub.post("tax", json!([])).await;
    assert_eq!(
        (status, report),
        (
            200,
            json!({"received": 0, "changed": 0, "unchanged": 0, "head": 0})
        )
    );
}
