//! The first worksheet of an XLSX as rows of cells, read cell by cell.

use super::*;

/// Reads the first worksheet cell by cell rather than as a dense range: a sheet with one
/// cell at A1 and one at XFD1048576 would otherwise allocate billions of cells.
pub(super) fn read_xlsx(bytes: &[u8]) -> Result<LegacyFile, FileError> {
    let xlsx_error = |e: calamine::XlsxError| FileError::Malformed(e.to_string());
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let sheet = book
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| FileError::Malformed("工作簿中没有工作表".into()))?;
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(xlsx_error)?;
    let mut table = Table::new(false);
    let mut current: Option<(u32, Vec<(u32, Cell)>)> = None;
    while let Some(found) = cells
        .next_cell_with_formula_metadata()
        .map_err(xlsx_error)?
    {
        let (r, c) = found.pos;
        let row = r as usize + 1;
        if let Some((at, _)) = &current
            && r < *at
        {
            return Err(FileError::Malformed(format!(
                "第{row}行出现在第{}行之后",
                at + 1
            )));
        }
        if current.as_ref().is_some_and(|(at, _)| r > *at)
            && let Some((at, row_cells)) = current.take()
        {
            table.push(at as usize + 1, dense(row_cells))?;
        }
        let (_, row_cells) = current.get_or_insert_with(|| (r, Vec::new()));
        if !table.wants_column(c) {
            continue;
        }
        let cell = match found.formula {
            Some(formula) => Cell::formula(&formula),
            None => Cell::from_xlsx(found.value),
        };
        if let Cell::Text(text) = &cell {
            check_size(text, row, c as usize)?;
        }
        row_cells.push((c, cell));
    }
    if let Some((at, row_cells)) = current {
        table.push(at as usize + 1, dense(row_cells))?;
    }
    table.finish(FileKind::Xlsx)
}

pub(super) fn dense(mut cells: Vec<(u32, Cell)>) -> Vec<Cell> {
    cells.sort_by_key(|(c, _)| *c);
    let mut row = Vec::new();
    for (c, cell) in cells {
        let c = c as usize;
        if row.len() <= c {
            row.resize_with(c + 1, Cell::blank);
        }
        row[c] = cell;
    }
    row
}
