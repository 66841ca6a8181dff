//! The app's admin area against a real hub: a planning export uploaded with its progress,
//! the connector it feeds, and its bad row worked in the quarantine.

use yizhan_sync::protocol::QuarantineState;
use yizhan_tests::hub::TestHub;

const EXPORT: &str = "规划许可证号,项目编号,项目名称,建设单位,统一社会信用代码,行政区划代码,批准日期,住宅面积(㎡),非住宅面积(㎡),人防面积(㎡)
建字第3201152026900001号,2026-320115-70-01-900001,江宁区东山街道社区服务中心,南京钟山置业有限公司,91350100M000100Y43,320115,2026-11-20,0,1500.5,0
建字第3201152026900002号,2026-320115-70-01-900002,江宁区东山街道幼儿园,南京钟山置业有限公司,91350100M000100Y43,320115,2026-11-21,0,2000,0
建字第3201152026900003号,2026-320115-70-01-900003,江宁区东山街道菜场,南京钟山置业有限公司,91350100M000100Y43,320115,2026-02-30,0,800,0
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_uploaded_from_the_app_reports_progress_and_its_bad_row_is_worked() {
    let hub = TestHub::start(20).await;
    let admin = hub.operator("sysadmin").await;
    let mut heard = Vec::new();
    let report = admin
        .import_planning("规划审批20261124.csv", EXPORT.as_bytes().to_vec(), |done, total| heard.push((done, total)))
        .await
        .unwrap();
    assert_eq!(heard.first(), Some(&(0, 3)));
    assert_eq!(heard.last(), Some(&(3, 3)));
    assert_eq!((report.delivery.changed, report.delivery.quarantined), (2, 1));
    assert_eq!(report.delivery.problems[0].record, 4, "the row as Excel numbers it");
    assert_eq!(report.delivery.problems[0].field, "批准日期");

    let connectors = admin.connectors().await.unwrap();
    let file = connectors.iter().find(|c| c.name == "planning-file").expect("the file connector is listed");
    assert_eq!((file.kind.as_str(), file.applied, file.quarantined), ("legacy_file", 2, 1));

    // The supervisor works the quarantine (a business duty, not the system administrator's).
    assert!(admin.dismiss(1, "规划局确认").await.unwrap_err().to_string().contains("quarantine:correct"));
    let admin = hub.operator("chief01").await;
    let open = admin.quarantine(Some(QuarantineState::Open)).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].location, "第4行");
    let error = admin.dismiss(open[0].id, "").await.unwrap_err();
    assert!(error.to_string().contains("原因"), "{error}");
    admin.dismiss(open[0].id, "规划局确认批准日期为笔误，另行补录").await.unwrap();
    assert!(admin.quarantine(Some(QuarantineState::Open)).await.unwrap().is_empty());
    let closed = admin.quarantine(Some(QuarantineState::Dismissed)).await.unwrap();
    assert_eq!(closed[0].closed_by.as_deref(), Some("李建国（chief01）"), "the session's person, not a name sent");
    let admin = hub.operator("sysadmin").await;

    let again = admin.import_planning("规划审批20261124.csv", EXPORT.as_bytes().to_vec(), |_, _| {}).await.unwrap();
    assert!(again.already_imported);
    let garbage = admin.import_planning("图片.csv", vec![0, 159, 146, 150], |_, _| {}).await.unwrap_err();
    assert!(garbage.to_string().contains("文件无法导入"), "{garbage}");
}
