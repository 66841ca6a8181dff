//! `yizhan-hub`: run the data centre, seed demo data, or simulate the departments.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use sm3::Digest;
use clap::{Args, Parser, Subcommand};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use yizhan_core::clock::Clock;
use yizhan_core::tariff::Tariff;
use yizhan_hub::alerts::{self, AlertDesk};
use yizhan_hub::config::{DEFAULT_DUE_DAYS, DEFAULT_LISTEN, load_tariff};
use yizhan_hub::connectors::planning_cdc;
use yizhan_hub::ingest::AssessmentRules;
use yizhan_hub::keys::KeyFile;
use yizhan_hub::store::StoreUrl;
use yizhan_core::document::{DocumentKind, DocumentSettings};
use yizhan_hub::simulate::SimulateOptions;
use yizhan_hub::{Hub, HubConfig};

#[derive(Parser)]
#[command(
    name = "yizhan-hub",
    version,
    about = "一站 数据中心：接收各部门数据，向各窗口同步"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the ingest and sync API.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        rules: RulesArgs,
        #[arg(long, default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        #[command(flatten)]
        tls: TlsArgs,
        /// A name counters or phones reach the hub by, beyond those on its certificate;
        /// requests addressed to any other name are refused. Repeatable.
        #[arg(long = "host-name")]
        host_names: Vec<String>,
        /// A second listener for the public: the verification page phones reach from a
        /// document's QR code, and nothing else of the hub (HTTPS too with --tls-cert).
        #[arg(long)]
        public_listen: Option<SocketAddr>,
        /// Demo mode: the shipped demo tariff, and this many demo projects (default 5000)
        /// seeded when the database is empty. Without it, --tariff is required.
        #[arg(long, num_args = 0..=1, default_missing_value = "5000", value_name = "PROJECTS")]
        demo: Option<usize>,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[command(flatten)]
        connectors: ConnectorArgs,
        #[command(flatten)]
        alerts: AlertArgs,
        /// Send messages to applicants (document issued, permit linked) by writing them,
        /// recipient masked, as JSON lines to this file; without it they stay queued.
        #[arg(long)]
        notify_log: Option<PathBuf>,
    },
    /// Check a voucher or invoice PDF: its QR's signature against the registered key,
    /// its state, and whether the file is the one issued. Exit status 0 only when valid.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// The PDF file.
        file: PathBuf,
    },
    /// Seed demo projects into a database, then exit.
    Demo {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        rules: RulesArgs,
        #[arg(long, default_value_t = 5_000)]
        projects: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Set what every voucher and invoice names and links to: the issuing unit (收款单位),
    /// its 票据代码 and the public verify address printed in QR codes. Recorded in the
    /// change log and handed to every counter, which issues nothing until it has them.
    /// A hub serving this database passes the change on at its counters' next poll.
    DocumentSettings {
        #[command(flatten)]
        store: StoreArgs,
        /// 收款单位, as printed on every document and around its seal.
        #[arg(long)]
        unit_name: String,
        /// 票据代码 of the unit's invoices (8 digits).
        #[arg(long)]
        invoice_code: String,
        /// The verification page as a phone reaches it, e.g. https://yizhan.example.gov.cn/verify.
        #[arg(long)]
        verify_url: String,
        /// A document kind (voucher, invoice) the clerk who recorded a project's 复核 may
        /// issue too; by default every kind needs a second clerk (four eyes). Repeatable.
        #[arg(long = "single-clerk", value_parser = parse_kind)]
        single_clerk: Vec<DocumentKind>,
        /// Who sets them, recorded with the change.
        #[arg(long)]
        by: String,
    },
    /// Remove the change log up to a seq (counters behind it load a snapshot), then exit.
    Compact {
        #[command(flatten)]
        store: StoreArgs,
        /// Keep only changes after this seq; default: keep the last `--keep` changes.
        #[arg(long)]
        through: Option<u64>,
        /// With no --through: how many of the newest changes to keep.
        #[arg(long, default_value_t = 1_000_000)]
        keep: u64,
    },
    /// Accounts: `admin init` creates the first security and system administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Counter PCs: `device add` makes the one-time enrolment code of a PC (the first ones,
    /// the administrators' own, before anyone can sign in; later ones from the app too).
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// The hub's private certificate authority: `ca init` makes it, `ca issue` the server
    /// certificate the hub serves HTTPS with. Counters trust this CA and no other.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// The audit trail: verify its chain, or prune records older than 180 days.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Post realistic department events to a running demo hub, beside it on its server.
    Simulate {
        /// Base URL of the hub.
        #[arg(long, default_value = "http://127.0.0.1:8640")]
        hub: String,
        /// The hub's CA certificate (PEM), for an https:// hub.
        #[arg(long)]
        hub_ca: Option<PathBuf>,
        /// The hub's store, read for what is outstanding.
        #[command(flatten)]
        store: StoreArgs,
        /// Events per second.
        #[arg(long)]
        rate: f64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Stop after this many seconds (default: run until stopped).
        #[arg(long)]
        duration: Option<u64>,
        #[command(flatten)]
        rules: RulesArgs,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// On a hub with no accounts: the first 安全管理员 and 系统管理员, each with a one-time
    /// password shown once, to be changed at first sign-in. There is no default account.
    Init {
        #[command(flatten)]
        store: StoreArgs,
        /// The security administrator's account, real name and department.
        #[arg(long)]
        security_account: String,
        #[arg(long)]
        security_name: String,
        /// The system administrator's account, real name and department.
        #[arg(long)]
        system_account: String,
        #[arg(long)]
        system_name: String,
        #[arg(long, default_value = "信息中心")]
        department: String,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Prints the enrolment code (valid 24 hours) of the PC to be enrolled as `--id`.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// The device id, as documents and the audit trail name the PC: `jn-window-03`.
        #[arg(long)]
        id: String,
        /// What the window calls it: `江宁区 3 号窗口`.
        #[arg(long)]
        name: String,
        /// Districts (GB/T 2260 codes) whose projects the PC holds; none: the whole city.
        #[arg(long = "district")]
        districts: Vec<String>,
        /// Who makes the code, for the audit trail.
        #[arg(long)]
        by: String,
    },
}

#[derive(Subcommand)]
enum CaCommand {
    /// Makes the CA (`ca.pem` for every counter, `ca.key` kept offline) in `--dir` and
    /// prints its fingerprint, which the counters' first-run screen shows for comparison.
    Init {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "一站数据中心 CA")]
        name: String,
    },
    /// Issues the hub's server certificate, valid two years, signed by the CA in `--dir`.
    Issue {
        #[arg(long)]
        dir: PathBuf,
        /// A DNS name or IP address counters and phones reach the hub by. Repeatable.
        #[arg(long = "name", required = true)]
        names: Vec<String>,
        /// Where to write the certificate chain (PEM) for --tls-cert.
        #[arg(long)]
        cert: PathBuf,
        /// Where to write its private key (PEM, mode 0600) for --tls-key.
        #[arg(long)]
        key: PathBuf,
    },
}

/// HTTPS: required on any address but loopback.
#[derive(Args)]
struct TlsArgs {
    /// The server certificate chain (PEM), e.g. from `yizhan-hub ca issue`.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Its private key (PEM), readable by the service user only.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

impl TlsArgs {
    /// What to serve `addresses` with: plain HTTP only when every one is loopback.
    fn load(&self, addresses: &[SocketAddr]) -> anyhow::Result<Option<yizhan_hub::ServerTls>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(yizhan_hub::ServerTls::load(cert, key)?)),
            _ => {
                if let Some(open) = addresses.iter().find(|a| !a.ip().is_loopback()) {
                    anyhow::bail!("{open} 不是本机地址：请用 --tls-cert 和 --tls-key 提供 HTTPS 证书（明文 HTTP 只用于本机调试）");
                }
                Ok(None)
            }
        }
    }

    fn on_record(&self) -> serde_json::Value {
        serde_json::json!({ "tls_cert": self.tls_cert, "tls_key": self.tls_key })
    }
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every record's MAC from the last checkpoint on; names the first record that
    /// was changed, removed or inserted. Exit status 0 only when the trail is intact.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove records older than `--days` (at least 180), leaving a sealed checkpoint.
    Prune {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, default_value_t = yizhan_hub::audit::RETENTION_DAYS)]
        days: i64,
    },
}

#[derive(Args)]
struct AlertArgs {
    /// Folder of alert rules files (TOML, one per department; docs/operations.md, 预警规则):
    /// each replaces the built-in file of the same name, others are added. Read again on
    /// every tick; a file with a problem is refused and the rules in force stay.
    #[arg(long)]
    alert_rules: Option<PathBuf>,
    /// Seconds between evaluations of deadlines, feeds and the quarantine.
    #[arg(long, default_value_t = alerts::DEFAULT_TICK.as_secs())]
    alert_tick: u64,
}

impl AlertArgs {
    fn desk(&self) -> anyhow::Result<AlertDesk> {
        if let Some(dir) = &self.alert_rules {
            anyhow::ensure!(dir.is_dir(), "--alert-rules {} 不是文件夹", dir.display());
        }
        Ok(AlertDesk::new(self.alert_rules.clone(), Clock::system(), Duration::from_secs(self.alert_tick.max(1))))
    }
}

/// The department feeds this hub runs beside its API; each flag starts one.
#[derive(Args)]
struct ConnectorArgs {
    /// Folder the planning department's daily export (CSV or XLSX) is dropped into: each
    /// file is imported, then moved to 已导入/ or 无法导入/.
    #[arg(long)]
    import_dir: Option<PathBuf>,
    /// Seconds between looks into --import-dir.
    #[arg(long, default_value_t = 10)]
    import_every: u64,
    /// The departments' push keys (TOML; docs/api.md, 部门推送接口): which department may
    /// push which records to /v1/push/*. Without it every push is refused.
    #[arg(long)]
    push_keys: Option<PathBuf>,
    /// The planning department's database, captured by logical replication: a URL
    /// (postgres://user:password@host:5432/planning) or key=value conninfo. The role needs
    /// REPLICATION and SELECT on planning_approval (docs/operations.md).
    #[arg(long, env = "YIZHAN_PLANNING_CDC", hide_env_values = true)]
    planning_cdc: Option<String>,
    /// The replication slot the hub creates and reads in the planning database.
    #[arg(long, default_value = planning_cdc::DEFAULT_SLOT)]
    planning_cdc_slot: String,
    /// The publication of planning_approval the department's DBA created.
    #[arg(long, default_value = planning_cdc::DEFAULT_PUBLICATION)]
    planning_cdc_publication: String,
    /// MiB of WAL the slot may hold unconfirmed before the connector reports a failure.
    #[arg(long, default_value_t = planning_cdc::DEFAULT_LAG_ALARM_BYTES / (1024 * 1024))]
    planning_cdc_lag_alarm_mib: i64,
}

impl ConnectorArgs {
    /// The hub with the departments' push keys, when a keys file is given: a file with
    /// any problem stops the start, naming the line.
    fn with_push_keys(&self, hub: Hub) -> anyhow::Result<Hub> {
        let Some(path) = &self.push_keys else {
            return Ok(hub);
        };
        let keys = yizhan_hub::push::PushKeys::load(path)?;
        tracing::info!(keys = keys.len(), file = %path.display(), "已载入部门推送密钥");
        Ok(hub.with_push_keys(keys))
    }

    /// The connectors as the audit trail keeps them: the push keys by their file's SM3
    /// (which tells a changed key without showing it), the planning database without its
    /// password.
    fn on_record(&self) -> anyhow::Result<serde_json::Value> {
        let push_keys = match &self.push_keys {
            Some(path) => {
                let bytes = std::fs::read(path).with_context(|| format!("无法读取 {}", path.display()))?;
                serde_json::json!({ "file": path, "sm3": hex::encode(sm3::Sm3::digest(&bytes)) })
            }
            None => serde_json::Value::Null,
        };
        let planning_cdc = match &self.planning_cdc {
            Some(source) => self.planning_cdc_config(source)?.on_record(),
            None => serde_json::Value::Null,
        };
        Ok(serde_json::json!({
            "import_dir": self.import_dir,
            "import_every": self.import_every,
            "push_keys": push_keys,
            "planning_cdc": planning_cdc,
        }))
    }

    fn planning_cdc_config(&self, source: &str) -> anyhow::Result<planning_cdc::CdcConfig> {
        Ok(planning_cdc::CdcConfig::new(source, &self.planning_cdc_slot, &self.planning_cdc_publication)?
            .with_lag_alarm_bytes(self.planning_cdc_lag_alarm_mib.saturating_mul(1024 * 1024)))
    }

    /// Starts each configured connector as a task that stops with `shutdown`.
    fn start(&self, hub: &Hub, shutdown: &CancellationToken) -> anyhow::Result<Vec<JoinHandle<()>>> {
        let mut tasks = Vec::new();
        if let Some(dir) = &self.import_dir {
            anyhow::ensure!(dir.is_dir(), "--import-dir {} 不是文件夹", dir.display());
            tasks.push(tokio::spawn(yizhan_hub::connectors::watched_folder::watch(
                hub.clone(),
                dir.clone(),
                Duration::from_secs(self.import_every.max(1)),
                shutdown.clone(),
            )));
        }
        if let Some(source) = &self.planning_cdc {
            tasks.push(tokio::spawn(planning_cdc::run(hub.clone(), self.planning_cdc_config(source)?, shutdown.clone())));
        }
        Ok(tasks)
    }
}

#[derive(Args)]
struct StoreArgs {
    /// Where the hub's data is: sqlite://FILE (created if missing).
    #[arg(long, conflicts_with = "db", value_name = "URL")]
    store: Option<StoreUrl>,
    /// SQLite database file (created if missing): the same as --store sqlite://FILE.
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// The file the hub's SM2 signing key is kept in, readable only by the service user
    /// (made on first start; keep a copy apart from the database backups). Default: beside
    /// the database, `hub.sqlite3` → `hub.signing-key`.
    #[arg(long)]
    key_file: Option<PathBuf>,
}

#[derive(Args)]
struct RulesArgs {
    /// Tariff file (TOML) as the competent department set it; required unless in demo
    /// mode, which uses the shipped demo tariff.
    #[arg(long)]
    tariff: Option<PathBuf>,
    /// Days from approval to the infrastructure fee's due date.
    #[arg(long, default_value_t = DEFAULT_DUE_DAYS)]
    due_days: u32,
}

impl RulesArgs {
    /// The assessment rules; outside `demo` mode only a real tariff file assesses, so no
    /// production hub assesses fees at demo rates by leaving a flag out.
    fn rules(&self, demo: bool) -> anyhow::Result<AssessmentRules> {
        let tariff = match (&self.tariff, demo) {
            (Some(path), _) => load_tariff(path)?,
            (None, true) => Tariff::demo(),
            (None, false) => anyhow::bail!(
                "未指定收费标准文件：请用 --tariff 指定主管部门核定的收费标准（格式见 assets/tariff-demo.toml）；仅演示时可加 --demo 使用演示费率"
            ),
        };
        if tariff.demo {
            anyhow::ensure!(
                demo,
                "收费标准文件标为演示（demo = true），不能用于生产：请换用主管部门核定的收费标准，或加 --demo 以演示模式启动"
            );
            tracing::warn!("使用演示收费标准：核定金额仅供演示，不是真实费率");
        }
        Ok(AssessmentRules {
            tariff,
            due_days: self.due_days,
        })
    }
}

impl StoreArgs {
    fn open(&self, AssessmentRules { tariff, due_days }: AssessmentRules) -> anyhow::Result<Hub> {
        let store = match (&self.store, &self.db) {
            (Some(url), _) => url.clone(),
            (None, Some(file)) => StoreUrl::Sqlite(file.clone()),
            (None, None) => anyhow::bail!("请用 --store sqlite://文件路径（或 --db 文件路径）指定数据中心的数据库"),
        };
        let key_file = match (&self.key_file, &store) {
            (Some(file), _) => file.clone(),
            (None, StoreUrl::Sqlite(path)) => KeyFile::beside(path).path().to_owned(),
        };
        Hub::open(HubConfig { store: store.clone(), key_file, tariff, due_days })
            .with_context(|| format!("无法打开数据库 {store}"))
    }
}

async fn bind(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address).await.with_context(|| format!("无法监听 {address}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            store,
            rules,
            listen,
            tls,
            host_names,
            public_listen,
            demo,
            seed,
            connectors,
            alerts,
            notify_log,
        } => {
            let server_tls = tls.load(&[listen].into_iter().chain(public_listen).collect::<Vec<_>>())?;
            let hub = store.open(rules.rules(demo.is_some())?)?;
            hub.note_assessment_rules().await?;
            hub.note_configuration("connectors", connectors.on_record()?).await?;
            hub.note_configuration(
                "listeners",
                serde_json::json!({ "listen": listen, "public_listen": public_listen, "tls": tls.on_record(), "host_names": host_names }),
            )
            .await?;
            // Over HTTPS the names on the certificate; in plain HTTP this machine's own.
            let names = server_tls.iter().flat_map(|t| t.names().to_vec()).chain(host_names.iter().cloned());
            let mut hub = connectors
                .with_push_keys(hub)?
                .with_alert_desk(alerts.desk()?)
                .with_host_names(yizhan_hub::routes::edges::HostNames::new(names, server_tls.is_none()));
            if demo.is_some() {
                hub = hub.with_demo_ingest();
                print_demo_accounts(&hub.seed_demo_accounts().await?);
            }
            if let Some(path) = notify_log {
                hub = hub.with_notify_channel(std::sync::Arc::new(yizhan_hub::notify::LogChannel { path }));
            }
            if let Some(projects) = demo
                && hub.store().head().await? == 0
            {
                seed_demo(&hub, projects, seed).await?;
            }
            let listener = bind(listen).await?;
            let public = match public_listen {
                Some(address) => Some(bind(address).await?),
                None => None,
            };
            if demo.is_some() && hub.document_settings().await?.is_none() {
                let scheme = if server_tls.is_some() { "https" } else { "http" };
                let verify_at = public.as_ref().unwrap_or(&listener).local_addr()?;
                let verify_url = format!("{scheme}://{verify_at}/verify");
                let demo_settings = DocumentSettings::new("一站演示收费窗口（演示）", "00000000", &verify_url)
                    .expect("the demo settings are well formed");
                hub.set_document_settings(&demo_settings, "演示数据").await?;
            }
            tracing::info!(address = %listener.local_addr()?, https = server_tls.is_some(), "数据中心已启动");
            let shutdown = CancellationToken::new();
            let tasks = connectors.start(&hub, &shutdown)?;
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("正在停止");
                stop.cancel();
            });
            let public_server = match public {
                Some(listener) => {
                    tracing::info!(address = %listener.local_addr()?, "公众核验入口已启动");
                    let serving = yizhan_hub::serve_public_until(listener, server_tls.clone(), hub.clone(), shutdown.clone().cancelled_owned());
                    Some(tokio::spawn(serving))
                }
                None => None,
            };
            yizhan_hub::serve_until(listener, server_tls, hub, shutdown.clone().cancelled_owned()).await?;
            shutdown.cancel();
            if let Some(server) = public_server {
                server.await??;
            }
            for task in tasks {
                let _ = task.await;
            }
        }
        Command::Verify { store, file } => {
            let pdf = std::fs::read(&file).with_context(|| format!("无法读取 {}", file.display()))?;
            let (verification, file_match) = store.open(assessing_nothing())?.verify_pdf(&pdf).await?;
            let checked = &verification.checked;
            println!("票据 {}：{}", checked.number, checked.verdict_zh);
            match &checked.verdict {
                yizhan_voucher::verify::Verdict::Voided { reason }
                | yizhan_voucher::verify::Verdict::Conflict { reason }
                | yizhan_voucher::verify::Verdict::Forged { reason } => println!("  {reason}"),
                _ => {}
            }
            println!("  项目 {}，金额 {}，终端 {}", checked.project_code, yizhan_core::money::format_yuan(checked.total_fen), checked.device_id);
            println!("  {}", file_match.name_zh());
            let valid = checked.verdict == yizhan_voucher::verify::Verdict::Valid
                && matches!(file_match, yizhan_hub::documents::FileMatch::Original | yizhan_hub::documents::FileMatch::Reprint);
            if !valid {
                std::process::exit(1);
            }
        }
        Command::Demo {
            store,
            rules,
            projects,
            seed,
        } => {
            let hub = store.open(rules.rules(true)?)?;
            seed_demo(&hub, projects, seed).await?;
        }
        Command::DocumentSettings { store, unit_name, invoice_code, verify_url, single_clerk, by } => {
            let mut settings = DocumentSettings::new(&unit_name, &invoice_code, &verify_url).map_err(|r| anyhow::anyhow!(r.reason))?;
            settings.single_clerk_kinds = single_clerk.into_iter().collect();
            anyhow::ensure!(!by.trim().is_empty(), "请用 --by 写明设置人");
            if !settings.reachable_by_phones() {
                tracing::warn!(verify_url = settings.verify_url, "查验地址指向本机，办事人用手机扫码无法访问：正式使用请填写对外可访问的地址");
            }
            store.open(assessing_nothing())?.set_document_settings(&settings, &by).await?;
            println!("票据设置已记录：收款单位 {}，票据代码 {}，查验地址 {}", settings.unit.name, settings.unit.invoice_code, settings.verify_url);
        }
        Command::Compact {
            store,
            through,
            keep,
        } => {
            let hub = store.open(assessing_nothing())?;
            let head = hub.store().head().await?;
            let horizon = hub
                .store()
                .compact(through.unwrap_or(head.saturating_sub(keep)))
                .await?;
            tracing::info!(head, horizon, "日志压缩完成：早于水位的窗口将重新获取快照");
        }
        Command::Admin { command: AdminCommand::Init { store, security_account, security_name, system_account, system_name, department } } => {
            let hub = store.open(assessing_nothing())?;
            let person = |account: String, real_name: String| yizhan_sync::protocol::NewUser {
                account,
                real_name,
                department: department.clone(),
            };
            let made = hub
                .init_administrators(person(security_account, security_name), person(system_account, system_name))
                .await?;
            println!("已创建首批管理员。一次性密码只显示这一次，请当面交给本人；首次登录须修改密码并绑定动态口令：");
            for (title, one) in ["安全管理员", "系统管理员"].iter().zip(made) {
                println!("  {title}  账号 {}  一次性密码 {}", one.account, one.password);
            }
        }
        Command::Device { command: DeviceCommand::Add { store, id, name, districts, by } } => {
            anyhow::ensure!(!by.trim().is_empty(), "请用 --by 写明生成登记码的人");
            let hub = store.open(assessing_nothing())?;
            let scope = if districts.is_empty() {
                yizhan_core::access::DataScope::All
            } else {
                yizhan_core::access::DataScope::Districts(districts.into_iter().collect())
            };
            let device_id = id.parse().map_err(|e| anyhow::anyhow!("--id：{e}"))?;
            let by = yizhan_hub::audit::Actor { user: by.trim().to_owned(), role: "console".into(), ..Default::default() };
            let new = yizhan_sync::protocol::device::NewDevice { device_id, name, scope };
            let code = hub.new_device(&by, new).await?;
            println!("终端 {} 的登记码（{} 前有效，只能使用一次）：", code.device_id, yizhan_core::clock::shanghai_minute(code.expires_at));
            println!("{}", code.code);
        }
        Command::Ca { command: CaCommand::Init { dir, name } } => {
            let ca = yizhan_hub::tls::CaFiles::in_dir(&dir);
            let fingerprint = ca.init(&name)?;
            println!("已生成 CA：证书 {}（发给各窗口），私钥 {}（离线保管，只用于签发服务器证书）", ca.certificate.display(), ca.key.display());
            println!("CA 指纹（SHA-256），各窗口首次运行时核对：");
            println!("{fingerprint}");
        }
        Command::Ca { command: CaCommand::Issue { dir, names, cert, key } } => {
            let fingerprint = yizhan_hub::tls::CaFiles::in_dir(&dir).issue(&names, &cert, &key)?;
            println!("已签发服务器证书 {}（私钥 {}），适用于 {}", cert.display(), key.display(), names.join("、"));
            println!("启动：yizhan-hub serve --tls-cert {} --tls-key {} …（CA 指纹 {fingerprint}）", cert.display(), key.display());
        }
        Command::Audit { command: AuditCommand::Verify { store } } => {
            let hub = store.open(assessing_nothing())?;
            match hub.verify_audit().await? {
                yizhan_hub::audit::Verification::Intact { records, from_id, head_id } => {
                    println!("审计记录完整：第 {from_id}–{head_id} 条，共 {records} 条校验通过");
                }
                yizhan_hub::audit::Verification::Broken { id, problem } => {
                    println!("审计记录被篡改：第 {id} 条。{problem}");
                    std::process::exit(1);
                }
            }
        }
        Command::Audit { command: AuditCommand::Prune { store, days } } => {
            let hub = store.open(assessing_nothing())?;
            let removed = hub.prune_audit(time::Duration::days(days)).await?;
            println!("已剪裁 {removed} 条 {days} 天前的审计记录，校验将从新的检查点开始");
        }
        Command::Simulate {
            hub,
            hub_ca,
            store,
            rate,
            seed,
            duration,
            rules,
        } => {
            let opened = store.open(assessing_nothing())?;
            let hub_ca = hub_ca.map(|path| std::fs::read(&path).with_context(|| format!("无法读取 {}", path.display()))).transpose()?;
            let options = SimulateOptions {
                hub,
                hub_ca,
                store: opened.shared_store(),
                rate,
                seed,
                duration: duration.map(Duration::from_secs),
                rules: rules.rules(true)?,
            };
            let summary = tokio::select! {
                summary = yizhan_hub::simulate::run(options) => summary?,
                _ = tokio::signal::ctrl_c() => {
                    tracing::info!("模拟已停止");
                    return Ok(());
                }
            };
            tracing::info!(?summary, "模拟结束");
        }
    }
    Ok(())
}

/// For the commands that read and tidy the store but assess no fee (verify, compact).
fn assessing_nothing() -> AssessmentRules {
    AssessmentRules { tariff: Tariff::demo(), due_days: DEFAULT_DUE_DAYS }
}

/// Says which accounts a newcomer signs in with: every start of a demo hub, not only the
/// first, since the window's sign-in screen is what they meet next.
fn print_demo_accounts(made: &[(yizhan_core::account::Account, yizhan_core::access::BuiltinRole)]) {
    use yizhan_hub::accounts::admin::{DEMO_ACCOUNTS, DEMO_PASSWORD};
    let when = if made.is_empty() { "此前已建立" } else { "已建立" };
    println!("演示账号（{when}；初始密码均为 {DEMO_PASSWORD}，仅限演示）：");
    for (account, name, role) in DEMO_ACCOUNTS {
        let factor = if role.needs_second_factor() { "，首次登录绑定动态口令" } else { "" };
        println!("  {account:<10} {name}  {}{factor}", role.name());
    }
}

async fn seed_demo(hub: &Hub, projects: usize, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let summary = yizhan_hub::demo::seed(hub, projects, seed).await?;
    tracing::info!(
        projects = summary.projects,
        head = summary.head,
        seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
        "演示数据已写入"
    );
    Ok(())
}

fn parse_kind(text: &str) -> Result<DocumentKind, String> {
    DocumentKind::parse(text.trim()).ok_or_else(|| format!("票据种类应为 voucher（缴费凭证）或 invoice（非税收入票据），收到 {text:?}"))
}
