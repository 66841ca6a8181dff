//! The planning database as the connector reaches it: one conninfo gives both the
//! ordinary SQL connection (checks, snapshot, slot lag) and the replication connection,
//! and the questions asked of the server about its settings, publication and slot.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use pgwire_replication::{Lsn, ReplicationConfig, TlsConfig};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, NoTls, Socket};

use super::record::TABLE;

/// Pinned on both connections: the snapshot's and the stream's text renderings of a date
/// must be the same text, whatever the role's or database's defaults say.
const SESSION_OPTIONS: &str = "-c datestyle=ISO,YMD -c timezone=UTC -c extra_float_digits=3";
/// How the hub shows up in `pg_stat_activity` and `pg_stat_replication`.
const APPLICATION_NAME: &str = "yizhan-hub planning-cdc";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// A killed hub's walsender lets go of the slot once the server sees the connection gone.
const SLOT_RELEASE_WAIT: Duration = Duration::from_secs(15);

/// What is wrong at the source, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("规划库变更捕获的设置不正确：{0}")]
    Config(String),
    #[error("无法连接规划库 {target}：{error}。请检查网络、地址、账号和密码")]
    Connect { target: String, error: String },
    #[error("规划库查询失败：{0}")]
    Sql(String),
    #[error("规划库没有在 {0:?} 内响应")]
    Timeout(Duration),
    #[error(
        "规划库未开启逻辑复制（wal_level = {0}）：请数据库管理员设置 wal_level = logical 并重启数据库"
    )]
    WalLevel(String),
    #[error(
        "规划库账号没有复制权限（{0}）：请数据库管理员执行 ALTER ROLE 该账号 REPLICATION，并在 pg_hba.conf 中允许它连接本库"
    )]
    NoReplication(String),
    #[error(
        "规划库中没有发布 {0}：请数据库管理员执行 CREATE PUBLICATION {0} FOR TABLE planning_approval"
    )]
    NoPublication(String),
    #[error(
        "发布 {0} 中没有 planning_approval 表：请数据库管理员执行 ALTER PUBLICATION {0} ADD TABLE planning_approval"
    )]
    NotPublished(String),
    #[error("发布 {publication} 中有多张 planning_approval 表（{schemas}）：请只保留一张")]
    AmbiguousTable {
        publication: String,
        schemas: String,
    },
    #[error(
        "复制槽 {slot} 不是本连接器的（属于数据库 {database}，插件 {plugin}）：请换一个复制槽名，或由数据库管理员核实后删除它"
    )]
    ForeignSlot {
        slot: String,
        database: String,
        plugin: String,
    },
    #[error(
        "复制槽 {slot} 正被另一个连接（进程 {pid}）占用：是否有另一个数据中心实例在读取同一规划库？请停掉它，或为本实例换一个复制槽名"
    )]
    SlotBusy { slot: String, pid: i32 },
    #[error("规划库建立复制槽的答复无法识别：{0}")]
    SlotAnswer(String),
}

impl From<tokio_postgres::Error> for SourceError {
    fn from(error: tokio_postgres::Error) -> SourceError {
        SourceError::Sql(described(&error))
    }
}

/// The error with its causes: tokio-postgres shows only "db error" and keeps the server's
/// message (say, permission denied for table planning_approval) in the source.
fn described(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push('：');
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

#[derive(Debug, Clone)]
enum Endpoint {
    Tcp(String),
    /// A Unix socket directory, such as `/var/run/postgresql`.
    Socket(String),
}

/// TLS to the source as libpq's `sslmode=verify-full` asks for it: the server's certificate
/// checked against the CA in `sslrootcert`, and its name against the host connected to.
#[derive(Clone)]
struct SourceTls {
    ca_file: PathBuf,
    roots: Arc<rustls::RootCertStore>,
}

#[derive(Clone)]
pub(crate) struct Source {
    sql: tokio_postgres::Config,
    tls: Option<SourceTls>,
    endpoint: Endpoint,
    port: u16,
    user: String,
    password: String,
    pub(crate) dbname: String,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Source({self})")
    }
}

/// Without the password, for logs and messages.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.endpoint {
            Endpoint::Tcp(host) => write!(f, "{}@{host}:{}/{}", self.user, self.port, self.dbname)?,
            Endpoint::Socket(dir) => write!(f, "{}@{dir}:{}/{}", self.user, self.port, self.dbname)?,
        }
        match &self.tls {
            Some(tls) => write!(f, "（TLS verify-full，CA {}）", tls.ca_file.display()),
            None => Ok(()),
        }
    }
}

impl Source {
    pub(crate) fn parse(conninfo: &str) -> Result<Source, SourceError> {
        let (conninfo, sslmode, sslrootcert) = take_tls_params(conninfo)?;
        let mut sql = tokio_postgres::Config::from_str(&conninfo)
            .map_err(|e| SourceError::Config(format!("规划库连接串无法解析（{e}）：应为 postgres://用户:密码@主机:5432/库名 或 host=… dbname=…")))?;
        let tls = match (sslmode.as_deref(), sslrootcert) {
            (None | Some("disable"), None) => None,
            (Some("verify-full"), Some(ca_file)) => Some(SourceTls::load(PathBuf::from(ca_file))?),
            (Some("verify-full"), None) => {
                return Err(SourceError::Config("sslmode=verify-full 还需要 sslrootcert=规划库的 CA 证书文件（PEM）".into()));
            }
            (None | Some("disable"), Some(_)) => {
                return Err(SourceError::Config("sslrootcert 只与 sslmode=verify-full 一起使用".into()));
            }
            (Some(mode), _) => {
                return Err(SourceError::Config(format!(
                    "sslmode={mode} 不能防止他人冒充规划库：请用 sslmode=verify-full 并以 sslrootcert 指定规划库的 CA 证书（或经本机套接字、专网连接，不写 sslmode）"
                )));
            }
        };
        let endpoint = match sql.get_hosts() {
            [Host::Tcp(host)] => Endpoint::Tcp(host.clone()),
            [Host::Unix(dir)] => Endpoint::Socket(dir.to_string_lossy().into_owned()),
            [] => return Err(SourceError::Config("规划库连接串中没有主机（host）".into())),
            _ => {
                return Err(SourceError::Config(
                    "规划库连接串只能有一个主机（host）".into(),
                ));
            }
        };
        let port = match sql.get_ports() {
            [] => 5432,
            [port] => *port,
            _ => {
                return Err(SourceError::Config(
                    "规划库连接串只能有一个端口（port）".into(),
                ));
            }
        };
        let user = sql
            .get_user()
            .ok_or_else(|| SourceError::Config("规划库连接串中没有用户名（user）".into()))?
            .to_owned();
        let password = String::from_utf8(sql.get_password().unwrap_or_default().to_vec())
            .map_err(|_| SourceError::Config("规划库密码不是 UTF-8 文本".into()))?;
        let dbname = sql.get_dbname().unwrap_or(&user).to_owned();
        if tls.is_some() {
            match &endpoint {
                Endpoint::Socket(_) => {
                    return Err(SourceError::Config("经本机套接字连接规划库不用 TLS：请去掉 sslmode=verify-full".into()));
                }
                Endpoint::Tcp(host) if host.parse::<std::net::IpAddr>().is_ok() => {
                    return Err(SourceError::Config(format!(
                        "sslmode=verify-full 要按规划库证书上的主机名连接（host=db.example），而不是 IP 地址 {host}"
                    )));
                }
                Endpoint::Tcp(_) => {}
            }
            sql.ssl_mode(SslMode::Require);
        }
        sql.options(SESSION_OPTIONS)
            .application_name(APPLICATION_NAME);
        if sql.get_connect_timeout().is_none() {
            sql.connect_timeout(CONNECT_TIMEOUT);
        }
        Ok(Source {
            sql,
            tls,
            endpoint,
            port,
            user,
            password,
            dbname,
        })
    }

    pub(crate) async fn connect(&self) -> Result<Client, SourceError> {
        match &self.tls {
            Some(tls) => self.connect_with(tokio_postgres_rustls::MakeRustlsConnect::new(tls.client_config())).await,
            None => self.connect_with(NoTls).await,
        }
    }

    async fn connect_with<T>(&self, tls: T) -> Result<Client, SourceError>
    where
        T: MakeTlsConnect<Socket>,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let (client, connection) = self.sql.connect(tls).await.map_err(|e| SourceError::Connect {
            target: self.to_string(),
            error: described(&e),
        })?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "规划库 SQL 连接已断开");
            }
        });
        Ok(client)
    }

    /// The replication session: streaming from `start`, and reporting `start` as what
    /// is confirmed until the stream confirms more, so nothing past the hub's own
    /// position is ever confirmed on its behalf.
    pub(crate) fn replication(
        &self,
        slot: &str,
        publication: &str,
        start: Lsn,
    ) -> ReplicationConfig {
        let config = match &self.endpoint {
            Endpoint::Tcp(host) => ReplicationConfig::new(
                host,
                &self.user,
                &self.password,
                &self.dbname,
                slot,
                publication,
            )
            .with_port(self.port)
            .with_tls(match &self.tls {
                Some(tls) => TlsConfig::verify_full(Some(tls.ca_file.clone())),
                None => TlsConfig::disabled(),
            }),
            Endpoint::Socket(dir) => ReplicationConfig::unix(
                dir,
                self.port,
                &self.user,
                &self.password,
                &self.dbname,
                slot,
                publication,
            ),
        };
        config
            .with_start_lsn(start)
            .with_ack_lsn(start)
            .with_status_interval(Duration::from_secs(1))
            .with_wakeup_interval(Duration::from_secs(10))
            .with_options(SESSION_OPTIONS)
            .with_application_name(APPLICATION_NAME)
    }
}

impl SourceTls {
    fn load(ca_file: PathBuf) -> Result<SourceTls, SourceError> {
        let unusable = |problem: &str| SourceError::Config(format!("sslrootcert {}：{problem}", ca_file.display()));
        let pem = std::fs::read(&ca_file).map_err(|e| unusable(&format!("无法读取（{e}）")))?;
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            let certificate = certificate.map_err(|_| unusable("不是 PEM 格式的证书"))?;
            roots.add(certificate).map_err(|e| unusable(&format!("证书无法使用（{e}）")))?;
        }
        if roots.is_empty() {
            return Err(unusable("文件中没有证书"));
        }
        Ok(SourceTls { ca_file, roots: Arc::new(roots) })
    }

    fn client_config(&self) -> rustls::ClientConfig {
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring offers TLS 1.2 and 1.3")
            .with_root_certificates(Arc::clone(&self.roots))
            .with_no_client_auth()
    }
}

/// The conninfo without `sslmode` and `sslrootcert`, and their values: tokio-postgres
/// knows no `verify-full`, so the connector reads them itself, in either form of conninfo.
fn take_tls_params(conninfo: &str) -> Result<(String, Option<String>, Option<String>), SourceError> {
    let is_tls = |key: &str| key == "sslmode" || key == "sslrootcert";
    let value = |params: &[(String, String)], key: &str| params.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    if conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://") {
        let Ok(mut url) = reqwest::Url::parse(conninfo) else {
            return Ok((conninfo.to_owned(), None, None));
        };
        let (taken, kept): (Vec<_>, Vec<_>) = url.query_pairs().into_owned().partition(|(k, _)| is_tls(k));
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
        return Ok((url.to_string(), value(&taken, "sslmode"), value(&taken, "sslrootcert")));
    }
    let params = key_values(conninfo).ok_or_else(|| SourceError::Config("规划库连接串无法解析：引号未闭合或缺少 =".into()))?;
    let mut rest = String::new();
    let mut taken = Vec::new();
    for (key, value, span) in params {
        if is_tls(&key) {
            taken.push((key, value));
        } else {
            rest.push_str(&conninfo[span]);
            rest.push(' ');
        }
    }
    Ok((rest.trim_end().to_owned(), value(&taken, "sslmode"), value(&taken, "sslrootcert")))
}

/// `key = value` pairs of a libpq conninfo, each with where it stands in the text; a value
/// may be single-quoted, with `\'` and `\\` inside. `None` when the text does not parse.
fn key_values(text: &str) -> Option<Vec<(String, String, Range<usize>)>> {
    let mut params = Vec::new();
    let mut chars = text.char_indices().peekable();
    let skip_spaces = |chars: &mut std::iter::Peekable<std::str::CharIndices>| while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {};
    loop {
        skip_spaces(&mut chars);
        let Some(&(start, _)) = chars.peek() else { return Some(params) };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_spaces(&mut chars);
        chars.next_if(|(_, c)| *c == '=')?;
        skip_spaces(&mut chars);
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next()?.1 {
                    '\'' => break,
                    '\\' => value.push(chars.next()?.1),
                    c => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                value.push(if c == '\\' { chars.next()?.1 } else { c });
            }
        }
        let end = chars.peek().map_or(text.len(), |(i, _)| *i);
        params.push((key, value, start..end));
    }
}

/// The approvals table as the publication has it.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub schema: String,
    /// `"schema"."planning_approval"`, for SQL.
    pub quoted: String,
}

impl Table {
    pub fn is(&self, schema: &str, table: &str) -> bool {
        schema == self.schema && table == TABLE
    }

    /// `schema.table` as a Truncate message names it.
    pub fn is_named(&self, full_name: &str) -> bool {
        full_name
            .split_once('.')
            .is_some_and(|(schema, table)| self.is(schema, table))
    }
}

/// What must hold before anything is read: logical WAL, the publication, the table in it.
pub(crate) async fn check(sql: &Client, publication: &str) -> Result<Table, SourceError> {
    let wal_level: String = sql.query_one("SHOW wal_level", &[]).await?.get(0);
    if wal_level != "logical" {
        return Err(SourceError::WalLevel(wal_level));
    }
    let exists = sql
        .query_opt(
            "SELECT 1 FROM pg_publication WHERE pubname = $1",
            &[&publication],
        )
        .await?
        .is_some();
    if !exists {
        return Err(SourceError::NoPublication(publication.to_owned()));
    }
    let tables = sql
        .query(
            "SELECT schemaname::text, format('%I.%I', schemaname, tablename)
             FROM pg_publication_tables WHERE pubname = $1 AND tablename = $2",
            &[&publication, &TABLE],
        )
        .await?;
    match tables.as_slice() {
        [] => Err(SourceError::NotPublished(publication.to_owned())),
        [row] => Ok(Table {
            schema: row.get(0),
            quoted: row.get(1),
        }),
        _ => Err(SourceError::AmbiguousTable {
            publication: publication.to_owned(),
            schemas: tables
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("、"),
        }),
    }
}

/// The slot as the server has it.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub active_pid: Option<i32>,
    /// Invalidated for holding more WAL than `max_slot_wal_keep_size`: it can stream no more.
    pub lost: bool,
    /// What the hub last confirmed; never past the hub's stored position, unless the
    /// hub's database went back in time.
    pub confirmed: Option<Lsn>,
}

pub(crate) async fn slot(
    sql: &Client,
    name: &str,
    dbname: &str,
) -> Result<Option<Slot>, SourceError> {
    let row = sql
        .query_opt(
            "SELECT coalesce(database::text, ''), coalesce(plugin::text, ''), active_pid,
                    coalesce(wal_status = 'lost', false), confirmed_flush_lsn::text
             FROM pg_replication_slots WHERE slot_name = $1",
            &[&name],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (database, plugin): (String, String) = (row.get(0), row.get(1));
    if database != dbname || plugin != "pgoutput" {
        return Err(SourceError::ForeignSlot {
            slot: name.to_owned(),
            database,
            plugin,
        });
    }
    Ok(Some(Slot {
        active_pid: row.get(2),
        lost: row.get(3),
        confirmed: row
            .get::<_, Option<String>>(4)
            .and_then(|lsn| Lsn::parse(&lsn).ok()),
    }))
}

/// Waits for the walsender of a stopped or killed hub to let go of the slot.
pub(crate) async fn wait_released(
    sql: &Client,
    name: &str,
    dbname: &str,
) -> Result<(), SourceError> {
    let deadline = tokio::time::Instant::now() + SLOT_RELEASE_WAIT;
    loop {
        match slot(sql, name, dbname).await? {
            Some(Slot {
                active_pid: Some(pid),
                ..
            }) if tokio::time::Instant::now() >= deadline => {
                return Err(SourceError::SlotBusy {
                    slot: name.to_owned(),
                    pid,
                });
            }
            Some(Slot {
                active_pid: Some(_),
                ..
            }) => tokio::time::sleep(Duration::from_millis(200)).await,
            _ => return Ok(()),
        }
    }
}

pub(crate) async fn drop_slot(sql: &Client, name: &str) -> Result<(), SourceError> {
    sql.execute("SELECT pg_drop_replication_slot($1)", &[&name])
        .await?;
    Ok(())
}

/// WAL written since the slot's confirmed position, in bytes: what the hub has yet to
/// confirm, and what the server keeps on disk for it.
pub(crate) async fn slot_lag(sql: &Client, name: &str) -> Result<Option<i64>, SourceError> {
    let query = async {
        sql.query_opt(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint
             FROM pg_replication_slots WHERE slot_name = $1",
            &[&name],
        )
        .await
    };
    // A source gone silent (a dropped network) would otherwise hold the stream up for
    // as long as TCP retransmits.
    let timeout = Duration::from_secs(10);
    let row = tokio::time::timeout(timeout, query)
        .await
        .map_err(|_| SourceError::Timeout(timeout))??;
    Ok(row.and_then(|r| r.get(0)))
}

/// The answer to CREATE_REPLICATION_SLOT … (SNAPSHOT 'export'): the consistent point and
/// the exported snapshot's name.
pub(crate) fn created_slot(
    rows: &[pgwire_replication::QueryRow],
) -> Result<(Lsn, String), SourceError> {
    let text = |i: usize| -> Option<String> {
        let bytes = rows.first()?.get(i)?.as_ref()?;
        String::from_utf8(bytes.to_vec()).ok()
    };
    let answer = || format!("{:?}", rows.first());
    let point = text(1)
        .and_then(|t| Lsn::parse(&t).ok())
        .ok_or_else(|| SourceError::SlotAnswer(answer()))?;
    let snapshot = text(2)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| SourceError::SlotAnswer(answer()))?;
    Ok((point, snapshot))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_key_value_conninfo_give_both_connections_and_no_password_is_shown() {
        let url = Source::parse("postgres://repl:s3cret@10.1.2.3:6543/planning").unwrap();
        assert_eq!(url.to_string(), "repl@10.1.2.3:6543/planning");
        let config = url.replication("yizhan_planning", "yizhan_planning", Lsn(7));
        assert_eq!(
            (config.host.as_str(), config.port, config.password.as_str()),
            ("10.1.2.3", 6543, "s3cret")
        );
        assert_eq!(config.start_lsn, Lsn(7));
        assert!(format!("{url:?}").contains("repl@") && !format!("{url:?}").contains("s3cret"));

        let socket = Source::parse("host=/var/run/postgresql user=postgres").unwrap();
        assert_eq!(socket.dbname, "postgres");
        assert!(socket.replication("s", "p", Lsn(0)).is_unix_socket());
    }

    #[tokio::test]
    async fn a_failed_connection_says_why() {
        let source = Source::parse("host=127.0.0.1 port=1 user=planning dbname=planning").unwrap();
        let error = source.connect().await.unwrap_err().to_string();
        assert!(
            error.starts_with("无法连接规划库 planning@127.0.0.1:1/planning："),
            "{error}"
        );
        assert!(error.contains("refused"), "the cause is shown: {error}");
    }

    #[test]
    fn what_the_connector_cannot_honour_is_refused_up_front() {
        for bad in [
            "host=a user=u sslmode=require",
            "host=a user=u sslmode=prefer",
            "host=a user=u sslmode=verify-ca sslrootcert=/etc/ssl/ca.pem",
            "host=a user=u sslmode=verify-full",
            "host=a user=u sslrootcert=/etc/ssl/ca.pem",
            "host=a user=u sslmode=verify-full sslrootcert=/nonexistent/ca.pem",
            "host=10.0.0.5 user=u sslmode=verify-full sslrootcert=/nonexistent/ca.pem",
            "postgres://u@a/db?sslmode=require",
            "host=a user='u",
            "host=a,b user=u",
            "postgres://h/db",
            "not a conninfo =",
        ] {
            let error = Source::parse(bad).unwrap_err();
            assert!(matches!(error, SourceError::Config(_)), "{bad}: {error}");
        }
    }

    #[test]
    fn tls_settings_are_read_from_either_form_and_the_rest_passes_through() {
        let (rest, mode, ca) =
            take_tls_params(r"host=db.example  user='plan ning' sslmode = verify-full password='it\'s' sslrootcert='/etc/a b.pem' dbname=p").unwrap();
        assert_eq!(rest, r"host=db.example user='plan ning' password='it\'s' dbname=p");
        assert_eq!((mode.as_deref(), ca.as_deref()), (Some("verify-full"), Some("/etc/a b.pem")));
        let parsed = tokio_postgres::Config::from_str(&rest).unwrap();
        assert_eq!((parsed.get_user(), parsed.get_password()), (Some("plan ning"), Some(&b"it's"[..])));

        let (rest, mode, ca) = take_tls_params("postgres://u:p%40ss@db.example:6543/planning?sslmode=verify-full&connect_timeout=5&sslrootcert=%2Fetc%2Fca.pem").unwrap();
        assert_eq!(rest, "postgres://u:p%40ss@db.example:6543/planning?connect_timeout=5");
        assert_eq!((mode.as_deref(), ca.as_deref()), (Some("verify-full"), Some("/etc/ca.pem")));
        assert_eq!(take_tls_params("postgres://u@db/planning?sslmode=disable").unwrap().0, "postgres://u@db/planning");

        let dir = tempfile::tempdir().unwrap();
        let ca = crate::tls::CaFiles::in_dir(dir.path());
        ca.init("规划库 CA").unwrap();
        let source = Source::parse(&format!("host=db.example user=u sslmode=verify-full sslrootcert={}", ca.certificate.display())).unwrap();
        assert!(source.to_string().contains("verify-full"), "{source}");
        let refused = Source::parse(&format!("host=db.example user=u sslmode=verify-full sslrootcert={}", ca.key.display())).unwrap_err();
        assert!(refused.to_string().contains("没有证书"), "{refused}");
    }
}
