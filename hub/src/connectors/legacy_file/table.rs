//! Rows in, outcomes out: the header found, each row converted through the planning
//! conversion every route shares, repeats of a permit recognised.

use super::*;

/// Rows in, outcomes out, in file order: finds the header, converts each row, and
/// recognises repeated 规划许可证号.
pub(super) struct Table {
    /// CSV rows must have the header's number of cells; XLSX rows are sparse by nature.
    pub(super) strict_width: bool,
    pub(super) header: Option<Header>,
    /// Rows before the header that name no known column.
    pub(super) title_rows: Vec<usize>,
    pub(super) rows: Vec<LegacyRow>,
    /// Cleaned 规划许可证号 → index in `rows` of its first row.
    pub(super) first_of: HashMap<String, usize>,
}

impl Table {
    pub(super) fn new(strict_width: bool) -> Table {
        Table {
            strict_width,
            header: None,
            title_rows: Vec::new(),
            rows: Vec::new(),
            first_of: HashMap::new(),
        }
    }

    /// Until the header is known any column may hold it; after, only its columns matter.
    pub(super) fn wants_column(&self, column: u32) -> bool {
        match &self.header {
            None => column < MAX_COLUMNS,
            Some(header) => header.columns.iter().any(|(_, i)| *i == column as usize),
        }
    }

    pub(super) fn push(&mut self, row: usize, cells: Vec<Cell>) -> Result<(), FileError> {
        if cells.iter().all(Cell::is_blank) {
            return Ok(());
        }
        let Some(header) = &self.header else {
            let names_a_field = cells.iter().any(|c| field_of_header(c.shown()).is_some());
            if names_a_field {
                self.header = Some(Header::from_row(row, &cells)?);
            } else if self.title_rows.len() < MAX_TITLE_ROWS {
                self.title_rows.push(row);
            } else {
                return Err(no_header(self.title_rows[0]));
            }
            return Ok(());
        };
        if self.rows.len() == MAX_ROWS {
            return Err(FileError::TooManyRows { limit: MAX_ROWS });
        }
        if self.strict_width && cells.len() != header.width {
            let problem = RowProblem {
                field: WHOLE_ROW.to_owned(),
                problem: format!(
                    "本行有{}列，表头有{}列：多半是某个单元格里有未加引号的逗号，各列已错位",
                    cells.len(),
                    header.width
                ),
                value: cells.iter().map(Cell::shown).collect::<Vec<_>>().join(","),
            };
            self.rows.push(LegacyRow {
                row,
                outcome: Outcome::Rejected(vec![problem]),
                written: written(header, &cells),
            });
            return Ok(());
        }
        let mut outcome = convert(header, &cells);
        let permit_no = header
            .column(Field::PermitNo)
            .and_then(|i| cells.get(i))
            .map(|c| clean_code(c.shown()))
            .unwrap_or_default();
        if !permit_no.is_empty() {
            match self.first_of.get(&permit_no) {
                None => {
                    self.first_of.insert(permit_no, self.rows.len());
                }
                Some(&first) => {
                    let first = &self.rows[first];
                    outcome = match (&first.outcome, outcome) {
                        (Outcome::Record(a), Outcome::Record(b)) if *a == b => Outcome::Repeat {
                            first_row: first.row,
                        },
                        (earlier, later) => {
                            let problem = match earlier {
                                Outcome::Rejected(_) => format!(
                                    "与第{}行的规划许可证号相同，第{}行也有错误：请改正后只保留一行",
                                    first.row, first.row
                                ),
                                _ => format!(
                                    "与第{}行的规划许可证号相同但内容不同：请核对哪一行是正确的",
                                    first.row
                                ),
                            };
                            let mut problems = match later {
                                Outcome::Rejected(problems) => problems,
                                _ => Vec::new(),
                            };
                            problems.insert(
                                0,
                                RowProblem {
                                    field: header.name(Field::PermitNo).to_owned(),
                                    problem,
                                    value: permit_no,
                                },
                            );
                            Outcome::Rejected(problems)
                        }
                    };
                }
            }
        }
        let written = match outcome {
            Outcome::Rejected(_) => written(header, &cells),
            _ => Vec::new(),
        };
        self.rows.push(LegacyRow { row, outcome, written });
        Ok(())
    }

    pub(super) fn finish(self, kind: FileKind) -> Result<LegacyFile, FileError> {
        let header = match (self.header, self.title_rows.first()) {
            (Some(header), _) => header,
            (None, Some(&first)) => return Err(no_header(first)),
            (None, None) => return Err(FileError::Empty),
        };
        Ok(LegacyFile {
            kind,
            header_row: header.row,
            ignored_columns: header.ignored,
            rows: self.rows,
        })
    }
}

pub(super) fn no_header(row: usize) -> FileError {
    FileError::MissingColumns {
        header_row: row,
        missing: Field::ALL
            .into_iter()
            .filter(|f| f.required())
            .map(header_name)
            .collect(),
    }
}

/// The row's cells as the planning conversion reads them: the export's own mistakes (a
/// code Excel stored as a number, a date cell where no date belongs) are named here, the
/// rest is the same for every route ([`planning_record`]).
pub(super) fn convert(header: &Header, cells: &[Cell]) -> Outcome {
    let value = |field: Field| -> SourceValue {
        let Some(cell) = header.column(field).and_then(|i| cells.get(i)).filter(|c| !c.is_blank()) else {
            return SourceValue::Blank;
        };
        let shown = cell.shown().to_owned();
        let unreadable = |problem: &str| SourceValue::Unreadable { problem: problem.to_owned(), shown: shown.clone() };
        match cell {
            // Excel keeps 15 significant digits: an 18-character USCC typed as a number
            // has already lost its tail, and no cleaning brings it back.
            Cell::Number { value, .. } if field.is_code() && value.abs() >= 1e15 => {
                unreadable("代码被 Excel 存成了数字，超过15位的部分已经丢失：请把该列设为文本后重新录入")
            }
            // 20261124 typed into a cell becomes a number; other numbers are not dates.
            Cell::Number { .. } if field == Field::ApprovedOn && shown.len() != 8 => unreadable(NOT_DATE),
            Cell::Text(_) | Cell::Number { .. } => SourceValue::Text(shown),
            Cell::Date { on, .. } => SourceValue::Date { on: *on, shown },
            Cell::Unusable { problem, .. } => unreadable(problem),
        }
    };
    match planning_record(value) {
        Ok(record) => Outcome::Record(record),
        Err(problems) => Outcome::Rejected(
            problems
                .into_iter()
                .map(|p| RowProblem { field: header.name(p.field).to_owned(), problem: p.problem, value: p.shown })
                .collect(),
        ),
    }
}
