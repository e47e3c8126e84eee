//! A table of numeric features with a normal/anomalous flag per row.

use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// A table of numeric features with a normal/anomalous flag per row: what every table
/// loader of this crate returns ([`load_breast_cancer`](crate::load_breast_cancer),
/// [`load_nsl_kdd`](crate::load_nsl_kdd), [`CsvTable`](crate::CsvTable)).
///
/// An autoencoder is trained on the normal rows only; the rest are the real anomalies.
/// Scale the features with a scaler fitted on the training rows (e.g. `ae_models`'s
/// `MinMaxScaler`).
///
/// ```no_run
/// use anomaly_data::load_breast_cancer;
/// let table = load_breast_cancer("../shared/data/tabular/breast_cancer")?;
/// let benign = table.select(&table.normal_indices())?;
/// assert_eq!(benign.n_features(), 30);
/// # Ok::<(), anomaly_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Rows × features, as read (unscaled).
    pub features: Array2<f32>,
    /// One name per feature column.
    pub names: Vec<String>,
    /// One flag per row: `true` for a normal record (benign, normal traffic).
    pub normal: Vec<bool>,
}

impl Table {
    /// A table of `features`, one name per column and one flag per row, checked.
    ///
    /// # Errors
    /// As [`Table::check`].
    pub fn new(features: Array2<f32>, names: Vec<String>, normal: Vec<bool>) -> Result<Table> {
        let table = Table {
            features,
            names,
            normal,
        };
        table.check()?;
        Ok(table)
    }

    /// Checks that there is one name per feature column and one flag per row (the fields
    /// are public, so a table built by hand or read from JSON may break this).
    ///
    /// # Errors
    /// [`DataError::InvalidParam`] naming both lengths.
    pub fn check(&self) -> Result<()> {
        let bad = |param, value: usize, rule| {
            Err(DataError::InvalidParam {
                what: "table",
                param,
                value: value.to_string(),
                rule,
            })
        };
        if self.names.len() != self.n_features() {
            return bad(
                "names.len()",
                self.names.len(),
                "must equal the number of feature columns (features.ncols())",
            );
        }
        if self.normal.len() != self.n_rows() {
            return bad(
                "normal.len()",
                self.normal.len(),
                "must equal the number of rows (features.nrows())",
            );
        }
        Ok(())
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.features.nrows()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.features.ncols()
    }

    /// Indices of the normal rows, ascending (rows without a flag, in a table that
    /// [`Table::check`] refuses, are in neither list).
    pub fn normal_indices(&self) -> Vec<usize> {
        self.flagged(true)
    }

    /// Indices of the anomalous rows, ascending.
    pub fn anomalous_indices(&self) -> Vec<usize> {
        self.flagged(false)
    }

    fn flagged(&self, normal: bool) -> Vec<usize> {
        (0..self.n_rows().min(self.normal.len()))
            .filter(|&i| self.normal[i] == normal)
            .collect()
    }

    /// A new table with the given rows, in the given order (repeats allowed).
    ///
    /// # Errors
    /// As [`Table::check`]; [`DataError::RowOutOfRange`] naming the first index past the
    /// end.
    pub fn select(&self, rows: &[usize]) -> Result<Table> {
        self.check()?;
        if let Some(&row) = rows.iter().find(|&&i| i >= self.n_rows()) {
            return Err(DataError::RowOutOfRange {
                row,
                n_rows: self.n_rows(),
            });
        }
        Ok(Table {
            features: self.features.select(Axis(0), rows),
            names: self.names.clone(),
            normal: rows.iter().map(|&i| self.normal[i]).collect(),
        })
    }

    /// Shuffles `rows` with a seeded generator and splits it in two: the first
    /// `round(fraction · len)` indices and the rest. The same seed gives the same split.
    pub fn shuffled_split(rows: &[usize], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
        let mut shuffled = rows.to_vec();
        shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let first =
            ((fraction.clamp(0.0, 1.0) * rows.len() as f64).round() as usize).min(rows.len());
        let rest = shuffled.split_off(first);
        (shuffled, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_list_of_another_length_is_an_error_not_a_panic() {
        let short = Table {
            features: Array2::zeros((3, 2)),
            names: vec!["a".into(), "b".into()],
            normal: vec![true],
        };
        assert_eq!(short.normal_indices(), [0]);
        assert!(short.anomalous_indices().is_empty());
        let e = short.select(&[0, 2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "table: normal.len() = 1 must equal the number of rows (features.nrows())"
        );
        let e = Table::new(Array2::zeros((1, 2)), vec!["a".into()], vec![true]).unwrap_err();
        assert!(e.to_string().contains("names.len() = 1"), "{e}");
        assert!(Table::new(Array2::zeros((1, 1)), vec!["a".into()], vec![false]).is_ok());
    }
}
