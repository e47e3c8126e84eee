//! The NSL-KDD intrusion-detection tables in `shared/data/tabular/nsl_kdd`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::csv_table::{read_rows, records, Columns, LabelRule};
use crate::error::{DataError, Result};
use crate::table::Table;
use crate::text::{read_names, read_text};

/// The NSL-KDD files shipped in `shared/data/tabular/nsl_kdd`.
///
/// | file | rows | features | normal |
/// |---|---|---|---|
/// | `KDDTrain+_20Percent.txt.xz` | 25192 | 38 numeric of 41 | 13449 `normal` |
/// | `KDDTest+.txt.xz` | 22544 | 38 numeric of 41 | 9711 `normal` |
/// | `KDDTest-21.txt.xz` | 11850 | 38 numeric of 41 | 2152 `normal` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NslKddSplit {
    /// `KDDTrain+_20Percent.txt.xz`: 25192 rows, 13449 normal.
    Train20,
    /// `KDDTest+.txt.xz`: 22544 rows, 9711 normal.
    Test,
    /// `KDDTest-21.txt.xz`: 11850 rows, 2152 normal (the hard subset).
    Test21,
}

impl NslKddSplit {
    /// The file name of the split.
    pub fn file_name(self) -> &'static str {
        match self {
            NslKddSplit::Train20 => "KDDTrain+_20Percent.txt.xz",
            NslKddSplit::Test => "KDDTest+.txt.xz",
            NslKddSplit::Test21 => "KDDTest-21.txt.xz",
        }
    }
}

/// NSL-KDD's categorical columns, dropped by the loader (0-based field indices).
///
/// The three categorical columns (`protocol_type`, `service`, `flag`) are dropped rather
/// than one-hot encoded: one-hot columns are not independent features (corrupting one of
/// them alone yields a record no encoder can produce), which would make "corrupt exactly
/// one feature" ill-posed. The label and difficulty columns are dropped too; the label
/// only sets [`Table::normal`].
pub const NSL_KDD_CATEGORICAL: [usize; 3] = [1, 2, 3];

/// Fields of an NSL-KDD line: 41 features, the attack type, the difficulty.
const FIELDS: usize = 43;
/// The attack type's field: `normal` marks a normal row.
const LABEL: usize = 41;

/// Loads one NSL-KDD split from the directory holding it and `field_names.txt`.
///
/// # Errors
/// As [`load_nsl_kdd_file`].
pub fn load_nsl_kdd(dir: impl AsRef<Path>, split: NslKddSplit) -> Result<Table> {
    load_nsl_kdd_file(dir.as_ref().join(split.file_name()))
}

/// Loads an NSL-KDD CSV (xz-compressed when the name ends in `.xz`, plain text otherwise)
/// with `field_names.txt` beside it: 43 fields per line, the 41 features, the attack type
/// (`normal` marks a normal row) and the difficulty. Keeps the 38 numeric features,
/// dropping [`NSL_KDD_CATEGORICAL`], the label and the difficulty.
///
/// # Errors
/// [`DataError::Io`] for a file that cannot be read; [`DataError::Content`] for a names
/// file without 43 names or a file without rows; [`DataError::Parse`] for a line without
/// 43 fields; [`DataError::Field`] for a kept value that is not a finite number or an
/// empty label.
pub fn load_nsl_kdd_file(path: impl AsRef<Path>) -> Result<Table> {
    let path = path.as_ref();
    let names_path = path
        .parent()
        .unwrap_or(Path::new("."))
        .join("field_names.txt");
    let names = read_names(&names_path)?;
    if names.len() != FIELDS {
        return Err(DataError::Content {
            path: names_path,
            reason: format!("{} field names, expected {FIELDS}", names.len()),
        });
    }
    let columns = Columns {
        names: &names,
        label: LABEL,
        keep: (0..LABEL)
            .filter(|j| !NSL_KDD_CATEGORICAL.contains(j))
            .collect(),
    };
    let labels = LabelRule {
        normal: "normal",
        anomalous: None,
    };
    let text = read_text(path)?;
    let (table, _) = read_rows(records(&text, 0, path)?, path, &columns, &labels)?;
    Ok(table)
}
