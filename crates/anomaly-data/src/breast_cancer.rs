//! The breast-cancer table (UCI Wisconsin diagnostic, scikit-learn's copy) in
//! `shared/data/tabular/breast_cancer`: 569 rows, 30 features, 357 benign (normal) rows.

use std::path::Path;

use crate::csv_table::{read_rows, records, Columns, LabelRule};
use crate::error::{DataError, Result};
use crate::table::Table;
use crate::text::{read_names, read_text};

/// Loads the breast-cancer table from the directory holding `breast_cancer.csv` and
/// `feature_names.txt`.
///
/// The CSV's header `569,30,malignant,benign` gives the row and feature counts, which are
/// checked; the column names come from `feature_names.txt`, the last field of a row is the
/// target. Target 1 (benign) rows are normal, target 0 (malignant) rows anomalous, any
/// other target is an error. The rows are read by the same rules as any
/// [`CsvTable`](crate::CsvTable) (label column `target`, normal `1`, anomalous `0`).
///
/// ```no_run
/// use anomaly_data::load_breast_cancer;
/// let t = load_breast_cancer("../shared/data/tabular/breast_cancer")?;
/// assert_eq!((t.n_rows(), t.n_features(), t.normal_indices().len()), (569, 30, 357));
/// # Ok::<(), anomaly_data::DataError>(())
/// ```
///
/// # Errors
/// [`DataError::Io`] for a file that cannot be read; [`DataError::Parse`] for a header
/// that is not `rows,features,..` or a row of the wrong width; [`DataError::Field`] for a
/// value that is not a finite number or a target other than 0 and 1;
/// [`DataError::Content`] for an empty file, a names file of another length than the
/// header announces, or another number of rows.
pub fn load_breast_cancer(dir: impl AsRef<Path>) -> Result<Table> {
    let dir = dir.as_ref();
    let names_path = dir.join("feature_names.txt");
    let mut names = read_names(&names_path)?;
    let path = dir.join("breast_cancer.csv");
    let text = read_text(&path)?;
    let mut records = records(&text, 0, &path)?;
    let Some((_, header)) = records.next().transpose()? else {
        return Err(DataError::Content {
            path: path.clone(),
            reason: "empty file".into(),
        });
    };
    let count = |i: usize| header.get(i).and_then(|s| s.parse::<usize>().ok());
    let (Some(n_rows), Some(n_features)) = (count(0), count(1)) else {
        return Err(DataError::Parse {
            path: path.clone(),
            line: 1,
            reason: format!(
                "header `{}` is not `rows,features,..`",
                header.iter().collect::<Vec<_>>().join(",")
            ),
        });
    };
    if names.len() != n_features {
        return Err(DataError::Content {
            path: names_path,
            reason: format!("{} names for {n_features} features", names.len()),
        });
    }
    names.push("target".into());
    let columns = Columns {
        names: &names,
        label: n_features,
        keep: (0..n_features).collect(),
    };
    let anomalous = ["0".to_string()];
    let labels = LabelRule {
        normal: "1",
        anomalous: Some(&anomalous),
    };
    let (table, _) = read_rows(records, &path, &columns, &labels)?;
    if table.n_rows() != n_rows {
        return Err(DataError::Content {
            path,
            reason: format!("header announces {n_rows} rows, found {}", table.n_rows()),
        });
    }
    Ok(table)
}
