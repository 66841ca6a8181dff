//! The `yizhan-replica` command: the counter's sync client without the app. Operators run
//! it to diagnose a counter's replica; the crash tests run it as a process to kill.
//!
//! Every status change is printed to stdout as one JSON line (`SyncStatus`), errors to
//! stderr. Exit codes: 0 done (or stopped by Ctrl-C), 1 sync failed, 2 bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;
use yizhan_core::clock::Clock;

use crate::client::{ClientOptions, HubLink, SyncClient};
use crate::replica::Replica;
use yizhan_voucher::signature::CounterKey;

const USAGE: &str = "用法：yizhan-replica --db 副本文件 --hub 数据中心地址 [--hub-ca CA证书] [--once] [--limit 每批条数] [--counter-key 密钥文件]
  --hub-ca       数据中心的 CA 证书（PEM）：https:// 地址必需，只信任它签发的证书
  --once         取得全量数据（如需要）、追到数据中心的最新变更、上传待上传指令和审计记录后退出
  --limit        每批最多取多少条变更（默认 5000）
  --counter-key  本终端签名私钥所在文件（64 位十六进制）：上传指令前在数据中心登记其公钥，审计记录以它签名上传";

#[derive(Debug)]
struct Args {
    db: PathBuf,
    hub: String,
    hub_ca: Option<PathBuf>,
    once: bool,
    batch_limit: Option<u32>,
    counter_key: Option<PathBuf>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut db, mut hub, mut hub_ca, mut once, mut batch_limit, mut counter_key) = (None, None, None, false, None, None);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} 后缺少取值"));
        match arg.as_str() {
            "--db" => db = Some(PathBuf::from(value()?)),
            "--hub" => hub = Some(value()?),
            "--hub-ca" => hub_ca = Some(PathBuf::from(value()?)),
            "--once" => once = true,
            "--counter-key" => counter_key = Some(PathBuf::from(value()?)),
            "--limit" => {
                let text = value()?;
                batch_limit = Some(
                    text.parse()
                        .map_err(|_| format!("--limit 应为正整数，实际为 {text:?}"))?,
                );
            }
            other => return Err(format!("不认识的参数 {other:?}")),
        }
    }
    Ok(Args {
        db: db.ok_or("缺少 --db")?,
        hub: hub.ok_or("缺少 --hub")?,
        hub_ca,
        once,
        batch_limit,
        counter_key,
    })
}

/// The hub as `--hub` and `--hub-ca` name it.
fn hub_link(args: &Args) -> Result<HubLink, String> {
    let ca = args.hub_ca.as_deref().map(|path| std::fs::read(path).map_err(|e| format!("--hub-ca {}：{e}", path.display()))).transpose()?;
    HubLink::new(&args.hub, ca.as_deref()).map_err(|e| e.to_string())
}

/// The counter key kept in `path` as its secret's hex.
fn read_counter_key(path: &std::path::Path) -> Result<CounterKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--counter-key {}：{e}", path.display()))?;
    CounterKey::from_secret_hex(text.trim()).map_err(|e| format!("--counter-key {}：{e}", path.display()))
}

pub fn main() -> ExitCode {
    main_on(Clock::system())
}

/// [`main`] with the replica's dates and deadlines judged on `clock`: how the benchmarks
/// run a counter on the day their demo data was made for.
pub fn main_on(clock: Clock) -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("{problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("无法启动：{error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args, clock))
}

async fn run(args: Args, clock: Clock) -> ExitCode {
    let replica = match Replica::open_with_clock(&args.db, clock) {
        Ok(replica) => replica,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let counter_key = match args.counter_key.as_deref().map(read_counter_key).transpose() {
        Ok(key) => key,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let hub = match hub_link(&args) {
        Ok(hub) => hub,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let mut options = ClientOptions { counter_key, ..ClientOptions::default() };
    if let Some(limit) = args.batch_limit {
        options.batch_limit = limit;
    }
    let client = match SyncClient::new(replica, &hub, options) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };

    let mut status = client.status();
    let printer = tokio::spawn(async move {
        loop {
            let line = serde_json::to_string(&*status.borrow_and_update()).expect("SyncStatus serialises");
            println!("{line}");
            // Ends when the client, and with it the sender, is dropped.
            if status.changed().await.is_err() {
                break;
            }
        }
    });
    let shutdown = CancellationToken::new();
    let on_interrupt = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });

    let code = if args.once {
        // Caught up again after delivering: the hub's answers to the commands come back
        // through the feed.
        let result = async {
            client.catch_up(&shutdown).await?;
            if client.drain_outbox(&shutdown).await? > 0 {
                client.catch_up(&shutdown).await?;
            }
            client.send_audit_trail(&shutdown).await?;
            Ok::<_, crate::client::SyncError>(())
        }
        .await;
        drop(client);
        match result {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        }
    } else {
        client.run(shutdown).await;
        ExitCode::SUCCESS
    };
    let _ = printer.await;
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Result<Args, String> {
        parse(text.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn reads_every_flag_and_refuses_what_it_does_not_know() {
        let parsed = args("--db r.sqlite3 --hub http://h:1 --once --limit 100").unwrap();
        assert_eq!(
            (parsed.db, parsed.hub.as_str(), parsed.once, parsed.batch_limit),
            (PathBuf::from("r.sqlite3"), "http://h:1", true, Some(100))
        );
        assert!(args("--hub http://h:1").unwrap_err().contains("--db"));
        assert!(args("--db x --hub y --limit many").unwrap_err().contains("--limit"));
        assert!(args("--db x --hub y --fast").unwrap_err().contains("--fast"));
        assert!(args("--db").unwrap_err().contains("缺少取值"));
    }
}
