//! CSV text as rows of cells: quotes, separators and size limits.

use super::*;

pub(super) fn read_csv(text: &str, encoding: Encoding) -> Result<LegacyFile, FileError> {
    if let Some(line) = unclosed_quote(text) {
        return Err(FileError::UnclosedQuote { line });
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        // A row with too few or too many cells is the row's problem, not the file's.
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut table = Table::new(true);
    let mut record = csv::StringRecord::new();
    // Excel shows a quoted cell with line breaks as one row, so those breaks must not
    // count as rows the way they count as lines.
    let mut breaks_in_cells = 0;
    let (mut line, mut counted_to) = (1, 0);
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            // Valid UTF-8 with balanced quotes leaves the reader nothing to object to;
            // mapped all the same, since a panic is never the answer to a file.
            Err(e) => return Err(FileError::Malformed(e.to_string())),
        }
        // The reader's position is where the previous record stopped: before the blank
        // lines it skips, and before the \n of a \r\n. Its line count lags likewise.
        let after_previous = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .map_or(0, |b| b.min(text.len()));
        let start = after_previous
            + text.as_bytes()[after_previous..]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        line += text.as_bytes()[counted_to..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted_to = start;
        let row = line - breaks_in_cells;
        for (i, cell) in record.iter().enumerate() {
            check_size(cell, row, i)?;
        }
        breaks_in_cells += record
            .iter()
            .map(|c| c.matches('\n').count())
            .sum::<usize>();
        table.push(
            row,
            record.iter().map(|c| Cell::Text(c.to_owned())).collect(),
        )?;
    }
    table.finish(FileKind::Csv(encoding))
}

/// The line on which a quote opens that never closes, read as the csv crate reads
/// (RFC 4180): a quote opens a field only at the field's start, and `""` inside quotes is
/// a literal quote. Left alone, such a quote silently swallows every row after it.
pub(super) fn unclosed_quote(text: &str) -> Option<usize> {
    let mut line = 1;
    let mut opened_on = None;
    let mut field_start = true;
    let mut bytes = text.bytes().peekable();
    while let Some(b) = bytes.next() {
        match opened_on {
            Some(_) if b == b'"' => {
                if bytes.peek() == Some(&b'"') {
                    bytes.next();
                } else {
                    opened_on = None;
                }
            }
            None if b == b'"' && field_start => opened_on = Some(line),
            _ => {}
        }
        if b == b'\n' {
            line += 1;
        }
        field_start = opened_on.is_none() && matches!(b, b',' | b'\n' | b'\r');
    }
    opened_on
}

pub(super) fn check_size(text: &str, row: usize, column: usize) -> Result<(), FileError> {
    if text.len() > MAX_CELL_CHARS && text.chars().count() > MAX_CELL_CHARS {
        return Err(FileError::CellTooLarge {
            row,
            column: column + 1,
            limit: MAX_CELL_CHARS,
        });
    }
    Ok(())
}
