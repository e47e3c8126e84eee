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
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.features.nrows()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.features.ncols()
    }

    /// Indices of the normal rows, ascending.
    pub fn normal_indices(&self) -> Vec<usize> {
        (0..self.n_rows()).filter(|&i| self.normal[i]).collect()
    }

    /// Indices of the anomalous rows, ascending.
    pub fn anomalous_indices(&self) -> Vec<usize> {
        (0..self.n_rows()).filter(|&i| !self.normal[i]).collect()
    }

    /// A new table with the given rows, in the given order (repeats allowed).
    ///
    /// # Errors
    /// [`DataError::RowOutOfRange`] naming the first index past the end.
    pub fn select(&self, rows: &[usize]) -> Result<Table> {
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
