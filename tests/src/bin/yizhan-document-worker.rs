//! Issues vouchers for one project from the replica's segment, one after another, and
//! prints each number once it is committed: `--db FILE --key HEX --project CODE --count N`.
//! The crash suite kills it without warning and checks that no number was lost or printed
//! twice.

use std::io::Write;

use yizhan_core::document::{DocumentKind, IssueContext};
use yizhan_sync::replica::{Issued, Issuer, Replica};
use yizhan_voucher::issue::print_new;
use yizhan_voucher::signature::CounterKey;

fn arg(name: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name).unwrap_or_else(|| panic!("{name} is required"));
    args[at + 1].clone()
}

fn main() {
    let mut replica = Replica::open(std::path::Path::new(&arg("--db"))).expect("open the replica");
    let key = CounterKey::from_secret_hex(&arg("--key")).expect("a signing key");
    let project = arg("--project").parse().expect("a project code");
    let count: usize = arg("--count").parse().expect("a count");
    let issuer = Issuer::new("clerk02".parse().expect("an account"), "陈静（clerk02）", key.clone());
    let mut out = std::io::stdout();
    for _ in 0..count {
        let mut number = None;
        replica
            .issue_document(&project, DocumentKind::Voucher, &issuer, replica.clock().now(), |to| {
                let ctx = IssueContext { unit: &to.settings.unit, issuer: issuer.clerk(), device_id: &to.device_id, at: to.at };
                let printed = print_new(to.records, to.number, &ctx, &key, &to.settings.verify_url)?;
                number = Some(to.number.display());
                Ok(Issued { action: printed.action, pdf: printed.pdf })
            })
            .expect("issue a voucher");
        writeln!(out, "{}", number.expect("the maker ran")).expect("stdout");
        out.flush().expect("stdout");
    }
}
