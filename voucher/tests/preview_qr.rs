//! The on-screen preview is faithful enough to scan: the QR in a 1600-pixel-wide preview
//! decodes (zbarimg, from zbar-tools) to exactly the URL the PDF was rendered with.

use std::process::Command;

use yizhan_core::document::Document;
use yizhan_voucher::pdf::{Marks, render};
use yizhan_voucher::preview::preview_png;

/// As long as a real one, about 250 characters: the key fields, then a 32-byte digest and
/// a 64-byte signature in unpadded base64url.
const URL: &str = "http://127.0.0.1:8750/verify?k=voucher&n=PZ0000001234&p=2019-320105-47-01-123456\
&t=306000000&at=1795487405&d=counter-03\
&h=Qm9vdHN0cmFwLWRpZ2VzdC1mb3ItdGhlLXZvdWNoZXI\
&s=U2lnbmF0dXJlLW9mLXRoZS1jb3VudGVyLWtleS1vdmVyLXRoZS1kaWdlc3Qtb2YtdGhlLXZvdWNoZXItLS0tLQ";

fn sample() -> Document {
    Document::specimen()
}

#[test]
fn the_qr_in_a_1600_px_preview_scans_to_the_verification_url() {
    assert!(URL.len() >= 240, "the URL is only {} characters", URL.len());
    let pdf = render(&sample(), URL, &Marks::default()).unwrap();
    let png = preview_png(&pdf, 1600).unwrap();

    let dir = tempfile::TempDir::new().expect("a temporary directory");
    let path = dir.path().join("preview.png");
    std::fs::write(&path, &png).expect("the preview is written");
    let output = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run zbarimg ({e}); install the test tools with `scripts/deps.sh --test`"));
    assert!(
        output.status.success(),
        "zbarimg found no code in the preview ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let decoded = String::from_utf8(output.stdout).expect("zbarimg prints UTF-8");
    assert_eq!(decoded.trim_end_matches('\n'), URL);
}
