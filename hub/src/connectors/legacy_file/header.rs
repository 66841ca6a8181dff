//! Which column holds which field: the export's headers, the spellings in use, and the
//! header row found among title rows.

use super::*;

/// The header the export writes first, then other spellings in use, all in the form
/// [`normalise_header`] gives.
pub(super) fn headers(field: Field) -> &'static [&'static str] {
    match field {
        Field::PermitNo => &["规划许可证号", "工程规划许可证号"],
        Field::ProjectCode => &["项目编号", "项目代码"],
        Field::Name => &["项目名称"],
        Field::Builder => &["建设单位"],
        Field::Uscc => &["统一社会信用代码"],
        Field::District => &["行政区划代码", "区划代码"],
        Field::Phone => &["联系电话"],
        Field::ApprovedOn => &["批准日期"],
        Field::Residential => &["住宅面积(㎡)"],
        Field::NonResidential => &["非住宅面积(㎡)"],
        Field::CivilDefence => &["人防面积(㎡)"],
        Field::ExemptionAmount => &["配套费减免金额(元)"],
        Field::ExemptionBasis => &["减免依据"],
    }
}

/// The header a problem names when the file's own spelling is not known.
pub(crate) fn header_name(field: Field) -> &'static str {
    headers(field)[0]
}

pub(super) fn field_of_header(header: &str) -> Option<Field> {
    let header = normalise_header(header);
    Field::ALL.into_iter().find(|&f| headers(f).contains(&header.as_str()))
}

/// `（人防面积 ㎡）` and `人防面积(m²)` are the same column to a clerk, so to us.
pub(super) fn normalise_header(header: &str) -> String {
    let mut header: String = trim(header)
        .chars()
        .map(halfwidth)
        .filter(|c| !is_space(*c))
        .collect();
    for unit in ["(平方米)", "(平米)", "(m²)", "(M²)", "(m2)", "(M2)"] {
        header = header.replace(unit, "(㎡)");
    }
    header
}

pub(super) struct Header {
    pub(super) row: usize,
    pub(super) width: usize,
    /// Each column's header text as in the file, trimmed.
    pub(super) names: Vec<String>,
    pub(super) columns: Vec<(Field, usize)>,
    pub(super) ignored: Vec<String>,
}

impl Header {
    pub(super) fn from_row(row: usize, cells: &[Cell]) -> Result<Header, FileError> {
        let names: Vec<String> = cells.iter().map(|c| c.shown().to_owned()).collect();
        let mut columns: Vec<(Field, usize)> = Vec::new();
        let mut ignored = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let Some(field) = field_of_header(name) else {
                if !name.is_empty() {
                    ignored.push(name.clone());
                }
                continue;
            };
            if let Some((_, first)) = columns.iter().find(|(f, _)| *f == field) {
                return Err(FileError::DuplicateColumn {
                    field: header_name(field),
                    first_column: first + 1,
                    second_column: i + 1,
                });
            }
            columns.push((field, i));
        }
        let missing: Vec<&'static str> = Field::ALL
            .into_iter()
            .filter(|f| f.required() && !columns.iter().any(|(c, _)| c == f))
            .map(header_name)
            .collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns {
                header_row: row,
                missing,
            });
        }
        Ok(Header {
            row,
            width: cells.len(),
            names,
            columns,
            ignored,
        })
    }

    pub(super) fn column(&self, field: Field) -> Option<usize> {
        self.columns
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, i)| *i)
    }

    /// The header the clerk will look for: the file's own, or the usual one for an
    /// optional column the file does not have.
    pub(super) fn name(&self, field: Field) -> &str {
        self.column(field)
            .map_or(header_name(field), |i| self.names[i].as_str())
    }
}

/// Each known column's header and cell, as the file has them.
pub(super) fn written(header: &Header, cells: &[Cell]) -> Vec<(String, String)> {
    Field::ALL
        .into_iter()
        .filter_map(|field| {
            let column = header.column(field)?;
            let shown = cells.get(column).map_or("", Cell::shown);
            Some((header.name(field).to_owned(), shown.to_owned()))
        })
        .collect()
}
