//! Printing: the PDF is handed to the operating system's spooler, which owns drivers,
//! queues and paper handling. On Linux and macOS that is CUPS through its command-line
//! tools (`lpstat`, `lp`), so nothing links against libcups and a machine without CUPS
//! still runs the app and gets a clear message when it tries to print. On Windows the
//! printers are read from WMI and the file goes to the PDF reader registered for the
//! `PrintTo` verb, both through PowerShell, which every supported Windows has.

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Printer {
    pub name: String,
    pub is_default: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// No spooler to hand the job to; the message says what to do about it.
    #[error("{0}")]
    NoSpooler(String),
    #[error("找不到打印机 {0:?}，请重新选择打印机")]
    NoSuchPrinter(String),
    /// The spooler's own complaint, in the clerk's language where CUPS has a translation.
    #[error("打印服务拒绝了打印任务：{0}")]
    Refused(String),
    #[error("调用打印服务失败：{0}")]
    Io(#[source] std::io::Error),
}

#[cfg(not(windows))]
pub use cups::{print_pdf, printers};

#[cfg(windows)]
pub use windows_spooler::{print_pdf, printers};

/// Only a name the spooler itself lists is printed to, so no name can smuggle in an
/// option, a second destination or a command; control characters are refused outright.
fn listed_printer(printer: &str, listed: &[Printer]) -> Result<(), PrintError> {
    if printer.is_empty() || printer.chars().any(char::is_control) || !listed.iter().any(|p| p.name == printer) {
        return Err(PrintError::NoSuchPrinter(printer.to_owned()));
    }
    Ok(())
}

#[cfg(not(windows))]
mod cups {
    use std::io::{ErrorKind, Write};
    use std::process::{Command, Output, Stdio};

    use super::{listed_printer, PrintError, Printer};

    const NO_CUPS: &str = "未找到打印服务（CUPS），请安装并启动 cups";

    /// The destinations CUPS offers, the default one marked.
    pub fn printers() -> Result<Vec<Printer>, PrintError> {
        let names = lpstat("-e")?;
        if names.trim().is_empty() && !lpstat("-r")?.contains("scheduler is running") {
            // lpstat lists nothing, and exits 0, when it cannot reach the scheduler: say
            // so rather than let the clerk hunt for a printer that was never missing.
            return Err(PrintError::NoSpooler(format!("{NO_CUPS}（调度器未运行）")));
        }
        let default = lpstat("-d")?;
        let default = default.trim().strip_prefix("system default destination: ");
        Ok(names
            .lines()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| Printer { name: name.to_owned(), is_default: Some(name) == default })
            .collect())
    }

    /// Sends one PDF to `printer` (by name) with `title` as the job name; returns the
    /// spooler's job id.
    pub fn print_pdf(printer: &str, title: &str, pdf: &[u8]) -> Result<String, PrintError> {
        listed_printer(printer, &printers()?)?;
        let title: String = title.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();

        // lp keeps the clerk's locale: its errors are shown to them, and the job id is
        // found without relying on the English wording.
        let mut lp = Command::new("lp")
            .args(["-d", printer, "-t", &title, "-o", "media=A5", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        let mut stdin = lp.stdin.take().expect("stdin is piped");
        // lp may give up before reading everything (a queue that rejects jobs); its exit
        // status and stderr then say why, which is worth more than the broken pipe.
        match stdin.write_all(pdf) {
            Err(e) if e.kind() != ErrorKind::BrokenPipe => return Err(PrintError::Io(e)),
            _ => drop(stdin),
        }
        let output = lp.wait_with_output().map_err(PrintError::Io)?;
        if !output.status.success() {
            return Err(PrintError::Refused(complaint(&output)));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        // The job is queued once lp exits 0, so an unrecognised confirmation is passed on
        // as it stands rather than reported as a failure the clerk would answer by
        // printing again.
        Ok(job_id(&stdout).unwrap_or(stdout.trim()).to_owned())
    }

    /// Runs `lpstat` in the C locale, whose wording [`printers`] parses.
    fn lpstat(option: &str) -> Result<String, PrintError> {
        let output = Command::new("lpstat")
            .arg(option)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .map_err(spawn_error)?;
        if !output.status.success() {
            return Err(PrintError::NoSpooler(format!("{NO_CUPS}（{}）", complaint(&output))));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn spawn_error(e: std::io::Error) -> PrintError {
        match e.kind() {
            ErrorKind::NotFound => PrintError::NoSpooler(NO_CUPS.to_owned()),
            _ => PrintError::Io(e),
        }
    }

    fn complaint(output: &Output) -> String {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if stderr.is_empty() { format!("退出状态 {}", output.status) } else { stderr }
    }

    /// The `PRINTER-N` of lp's "request id is PRINTER-N (1 file(s))", or of its
    /// translations ("请求 ID 为 PRINTER-N（1 个文件）", where no space ends the id).
    pub(super) fn job_id(stdout: &str) -> Option<&str> {
        stdout.split_whitespace().find_map(|token| {
            token.match_indices('-').rev().find_map(|(dash, _)| {
                let digits = token[dash + 1..].bytes().take_while(u8::is_ascii_digit).count();
                (dash > 0 && digits > 0).then(|| &token[..dash + 1 + digits])
            })
        })
    }
}

/// Compiled and tested on every system: only the two functions that call PowerShell are
/// Windows-only, so a Linux build checks everything else in here.
#[cfg(any(windows, test))]
mod windows_spooler {
    #[cfg(windows)]
    use super::listed_printer;
    use super::{PrintError, Printer};

    /// `Get-CimInstance Win32_Printer | ConvertTo-Json` of `Name` and `Default`: one
    /// object for a single printer, an array for several.
    pub(super) fn parse_printers(json: &str) -> Result<Vec<Printer>, PrintError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Listed {
            name: String,
            #[serde(default)]
            default: bool,
        }
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(Listed),
            Many(Vec<Listed>),
        }
        if json.trim().is_empty() {
            return Ok(Vec::new());
        }
        let listed = match serde_json::from_str::<OneOrMany>(json.trim()) {
            Ok(OneOrMany::One(p)) => vec![p],
            Ok(OneOrMany::Many(ps)) => ps,
            Err(e) => return Err(PrintError::NoSpooler(format!("无法读取 Windows 打印机列表：{e}"))),
        };
        Ok(listed.into_iter().map(|p| Printer { name: p.name, is_default: p.default }).collect())
    }

    /// A PowerShell single-quoted literal: nothing inside is interpreted but `''`.
    pub(super) fn quoted(text: &str) -> String {
        format!("'{}'", text.replace('\'', "''"))
    }

    /// The PowerShell that hands `file` to the registered PDF reader's `PrintTo` verb.
    pub(super) fn print_to(file: &str, printer: &str) -> String {
        format!(
            "Start-Process -FilePath {} -Verb PrintTo -ArgumentList {} -WindowStyle Hidden",
            quoted(file),
            quoted(&format!("\"{printer}\""))
        )
    }

    /// The temporary file's name: the job title kept to letters, digits and dashes, so a
    /// title can name no other folder and needs no quoting beyond [`quoted`].
    pub(super) fn spool_file_name(title: &str, stamp: u128) -> String {
        let safe: String = title.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect();
        format!("yizhan-{safe}-{stamp}.pdf")
    }

    #[cfg(windows)]
    fn powershell(script: &str) -> Result<String, PrintError> {
        let output = std::process::Command::new("powershell.exe")
            .args(["-NoProfile", "-NonInteractive", "-Command", script])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(PrintError::Io)?;
        if !output.status.success() {
            return Err(PrintError::Refused(String::from_utf8_lossy(&output.stderr).trim().to_owned()));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    #[cfg(windows)]
    pub fn printers() -> Result<Vec<Printer>, PrintError> {
        parse_printers(&powershell("Get-CimInstance -ClassName Win32_Printer | Select-Object Name,Default | ConvertTo-Json -Compress")?)
    }

    /// Writes the PDF to a temporary file (the reader opens it after this returns) and
    /// asks the reader to print it; the "job id" is the file, since Windows gives none.
    #[cfg(windows)]
    pub fn print_pdf(printer: &str, title: &str, pdf: &[u8]) -> Result<String, PrintError> {
        listed_printer(printer, &printers()?)?;
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let file = std::env::temp_dir().join(spool_file_name(title, stamp));
        std::fs::write(&file, pdf).map_err(PrintError::Io)?;
        powershell(&print_to(&file.to_string_lossy(), printer))?;
        Ok(file.to_string_lossy().into_owned())
    }
}

#[cfg(all(test, not(windows)))]
mod tests {
    use super::cups::job_id;
    use super::windows_spooler::{parse_printers, print_to, spool_file_name};
    use super::{listed_printer, PrintError, Printer};

    #[test]
    fn only_a_printer_the_spooler_lists_is_printed_to() {
        let listed = [Printer { name: "票据打印机".into(), is_default: true }];
        assert!(listed_printer("票据打印机", &listed).is_ok());
        for name in ["", "其他打印机", "票据打印机\n-o job-sheets=none", "票据打印机 -d 其他打印机"] {
            assert!(matches!(listed_printer(name, &listed), Err(PrintError::NoSuchPrinter(n)) if n == name), "{name:?}");
        }
    }

    #[test]
    fn a_windows_spool_file_name_cannot_leave_the_temporary_folder() {
        assert_eq!(spool_file_name("凭证 PZ-001", 7), "yizhan-凭证_PZ-001-7.pdf");
        assert_eq!(spool_file_name(r"..\..\Windows\x", 7), "yizhan-______Windows_x-7.pdf");
    }

    #[test]
    fn windows_printers_are_read_from_one_object_or_a_list() {
        let one = parse_printers(r#"{"Name":"HP LaserJet 票据","Default":true}"#).unwrap();
        assert_eq!(one, [Printer { name: "HP LaserJet 票据".into(), is_default: true }]);
        let many = parse_printers(r#"[{"Name":"A","Default":false},{"Name":"B","Default":true}]"#).unwrap();
        assert_eq!(many.iter().filter(|p| p.is_default).map(|p| p.name.as_str()).collect::<Vec<_>>(), ["B"]);
        assert!(parse_printers("").unwrap().is_empty(), "no printer installed");
        assert!(parse_printers("Get-CimInstance : 拒绝访问").is_err());
    }

    #[test]
    fn a_windows_print_command_keeps_quotes_in_names_inert() {
        let script = print_to(r"C:\Temp\yizhan-PZ1.pdf", "O'Brien's printer");
        assert_eq!(
            script,
            r#"Start-Process -FilePath 'C:\Temp\yizhan-PZ1.pdf' -Verb PrintTo -ArgumentList '"O''Brien''s printer"' -WindowStyle Hidden"#
        );
    }

    #[test]
    fn the_job_id_is_read_from_lp_in_english_and_in_chinese() {
        assert_eq!(job_id("request id is Yizhan-PDF-12 (1 file(s))\n"), Some("Yizhan-PDF-12"));
        assert_eq!(job_id("请求 ID 为 Yizhan-PDF-12（1 个文件）\n"), Some("Yizhan-PDF-12"));
        assert_eq!(job_id("request id is HP_LaserJet-7 (0 file(s))"), Some("HP_LaserJet-7"));
        assert_eq!(job_id("something else entirely"), None);
    }
}
