//! Printing through CUPS to the cups-pdf virtual printer `Yizhan-PDF`, which writes each
//! job as a PDF file: the voucher sent to it must come out on A5 with its QR intact.
//! `scripts/cups-pdf.sh` starts the scheduler and adds the queue; poppler-utils and zbar
//! read the result.
//!
//! The QR is what is checked, not the text: on its way through CUPS (PDF to PostScript,
//! back to PDF by Ghostscript) the embedded CJK font becomes outlines, so the printed file
//! has no text layer for pdftotext to read. The QR's URL carries the voucher number.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use yizhan_core::document::{Document, DocumentKind, DocumentNumber};
use yizhan_voucher::pdf::{Marks, render};
use yizhan_voucher::print::{PrintError, print_pdf, printers};

const QUEUE: &str = "Yizhan-PDF";
const CUPS_PDF_CONF: &str = "/etc/cups/cups-pdf.conf";

fn voucher(serial: u64) -> Document {
    Document { number: DocumentNumber { kind: DocumentKind::Voucher, serial }, ..Document::specimen() }
}

fn require_queue() {
    let listed = printers().unwrap_or_else(|e| panic!("{e}; run scripts/cups-pdf.sh first"));
    assert!(
        listed.iter().any(|p| p.name == QUEUE),
        "CUPS does not list {QUEUE} (it lists {listed:?}); run scripts/cups-pdf.sh first"
    );
}

/// The folders cups-pdf writes into, read from its configuration as cups-pdf does:
/// `Out` for jobs of a known user, with that user's ${HOME} and ${USER}, and
/// `AnonDirName` for anonymous ones. This test's jobs belong to the user running it.
fn output_dirs() -> Vec<PathBuf> {
    let conf = std::fs::read_to_string(CUPS_PDF_CONF)
        .unwrap_or_else(|e| panic!("cannot read {CUPS_PDF_CONF} ({e}); install printer-driver-cups-pdf"));
    let setting = |key: &str| {
        conf.lines()
            .rev()
            .find_map(|line| line.trim().strip_prefix(key)?.strip_prefix(char::is_whitespace))
            .map(str::trim)
    };
    let user = String::from_utf8(Command::new("id").arg("-un").output().expect("id runs").stdout)
        .expect("a UTF-8 user name");
    let home = std::env::var("HOME").expect("HOME is set");
    let out = setting("Out")
        .unwrap_or("/var/spool/cups-pdf/${USER}")
        .replace("${HOME}", &home)
        .replace("${USER}", user.trim());
    let anon = setting("AnonDirName").unwrap_or("/var/spool/cups-pdf/ANONYMOUS");
    vec![PathBuf::from(out), PathBuf::from(anon)]
}

fn pdfs_in(dirs: &[PathBuf]) -> HashSet<PathBuf> {
    dirs.iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "pdf"))
        .collect()
}

/// Runs a poppler or zbar tool, None when it fails: cups-pdf may still be writing the file.
/// A tool that is missing fails the test.
fn read_with(tool: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}); install the test tools with `scripts/deps.sh --test`")
    });
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn utf8(path: &Path) -> &str {
    path.to_str().unwrap_or_else(|| panic!("{path:?} is not UTF-8"))
}

/// The QR on page 1 of a PDF, scanned off a 150 dpi rendering.
fn qr_in(pdf: &Path, scratch: &Path) -> Option<String> {
    let page = scratch.join("page");
    read_with("pdftoppm", &["-r", "150", "-png", "-singlefile", "-f", "1", "-l", "1", utf8(pdf), utf8(&page)])?;
    let text = read_with("zbarimg", &["-q", "--raw", "-Sdisable", "-Sqrcode.enable", utf8(&page.with_extension("png"))])?;
    Some(text.trim_end_matches('\n').to_owned())
}

#[test]
fn a_voucher_printed_to_cups_pdf_comes_out_on_a5_with_its_qr() {
    require_queue();

    // A number and title of this run alone, so a file from an earlier or a concurrent run
    // cannot pass for this one.
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let serial = u64::try_from(nanos % 10_000_000_000).unwrap();
    let doc = voucher(serial);
    let number = doc.number.display();
    let url = format!("http://127.0.0.1:8750/verify?k=voucher&n={number}");
    let pdf = render(&doc, &url, &Marks::default()).unwrap();

    let dirs = output_dirs();
    let before = pdfs_in(&dirs);
    let job = print_pdf(QUEUE, &format!("yizhan-test-{number}"), &pdf).unwrap_or_else(|e| panic!("{e}"));
    assert!(job.starts_with(&format!("{QUEUE}-")), "job id {job:?}");

    let scratch = tempfile::TempDir::new().expect("a temporary directory");
    let deadline = Instant::now() + Duration::from_secs(30);
    let printed = loop {
        let new: Vec<_> = pdfs_in(&dirs).difference(&before).cloned().collect();
        if let Some(path) = new.iter().find(|path| qr_in(path, scratch.path()).as_deref() == Some(url.as_str())) {
            break path.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no PDF with the QR of {number} appeared in {dirs:?} within 30 s of job {job} \
             (new files: {new:?}); see /var/log/cups/error_log and cups-pdf_log there"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    // The queue's default is A4, so an A5 page shows that `media=A5` reached the spooler.
    let info = read_with("pdfinfo", &[utf8(&printed)]).expect("pdfinfo reads the printed PDF");
    let size = info.lines().find(|l| l.starts_with("Page size:")).unwrap_or_default();
    assert!(size.ends_with("(A5)"), "{printed:?} is not A5: {size:?}");
    // Kept above when a check fails, for a look; a passing run leaves nothing behind.
    std::fs::remove_file(&printed).expect("the printed PDF is removed");
}

#[test]
fn an_unknown_printer_is_refused() {
    require_queue();
    let err = print_pdf("no-such-printer", "t", b"%PDF-").unwrap_err();
    assert!(matches!(&err, PrintError::NoSuchPrinter(name) if name == "no-such-printer"), "{err:?}");
}

#[test]
fn a_name_that_could_smuggle_options_is_refused() {
    require_queue();
    for name in [format!("{QUEUE}\n-o job-sheets=standard"), format!("{QUEUE}\0"), String::new()] {
        let err = print_pdf(&name, "t", b"%PDF-").unwrap_err();
        assert!(matches!(&err, PrintError::NoSuchPrinter(n) if *n == name), "{name:?}: {err:?}");
    }
}

#[test]
fn printers_are_listed_with_at_most_one_default() {
    require_queue();
    let listed = printers().unwrap();
    assert!(listed.iter().filter(|p| p.is_default).count() <= 1, "{listed:?}");
}
