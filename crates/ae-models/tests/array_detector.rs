//! A detector written in plain Rust: a closure that answers wrongly is a typed error naming
//! what it answered, never a panic or a NaN score.

use ae_models::anomaly_scores::anomaly_scores;
use ae_models::{ArrayDetector, Detector, ErrorNorm, ModelError};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};
use tch::{Device, Kind, Tensor};

fn batch(b: i64) -> Tensor {
    Tensor::rand([b, 5, 3], (Kind::Float, Device::Cpu))
}

#[test]
fn a_closure_that_returns_another_batch_size_is_named() {
    // Drops the last sample of every batch.
    let d = ArrayDetector::new("drops one", vec![5, 3], |x: ArrayViewD<'_, f32>| {
        let n = x.len_of(Axis(0));
        x.slice_axis(Axis(0), (0..n - 1).into()).to_owned()
    })
    .unwrap();
    let err = d.cell_errors(&batch(4), ErrorNorm::L1).unwrap_err();
    assert!(matches!(err, ModelError::ShapeMismatch { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("drops one") && msg.contains("[4, 5, 3]") && msg.contains("[3, 5, 3]"),
        "{msg}"
    );
    // Another sample shape, too.
    let flat = ArrayDetector::new("flat", vec![5, 3], |x: ArrayViewD<'_, f32>| {
        ArrayD::zeros(IxDyn(&[x.len_of(Axis(0)), 15]))
    })
    .unwrap();
    let msg = flat
        .cell_errors(&batch(2), ErrorNorm::L1)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("[2, 15]"), "{msg}");
}

#[test]
fn a_closure_that_returns_nan_names_the_sample_and_cell() {
    let d = ArrayDetector::new("nan at (3, 1)", vec![5, 3], |x: ArrayViewD<'_, f32>| {
        let mut y = x.to_owned();
        y[[1, 3, 1]] = f32::NAN;
        y
    })
    .unwrap();
    let err = d.cell_errors(&batch(2), ErrorNorm::SquaredL2).unwrap_err();
    // Sample 1, cell (3, 1): flat index 15 + 3·3 + 1.
    assert!(
        matches!(err, ModelError::NonFinite { index: 25, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("nan at (3, 1)") && msg.contains("sample 1, cell [3, 1]"),
        "{msg}"
    );
    // Scoring a data set stops at the same place instead of returning NaN scores.
    assert!(anomaly_scores(&d, &batch(6), ErrorNorm::L1, 4).is_err());
}

#[test]
fn a_batch_of_another_shape_is_refused_before_the_closure_runs() {
    let d = ArrayDetector::new("never called", vec![5, 3], |_: ArrayViewD<'_, f32>| {
        unreachable!("the batch is checked first")
    })
    .unwrap();
    let err = d
        .cell_errors(
            &Tensor::zeros([2, 4, 3], (Kind::Float, Device::Cpu)),
            ErrorNorm::L1,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[batch, 5, 3]") && err.contains("[2, 4, 3]"),
        "{err}"
    );
}

/// A detector whose samples hold no cell: the mean error of nothing would be NaN.
struct NoCells;

impl Detector for NoCells {
    fn sample_shape(&self) -> Vec<i64> {
        vec![0, 3]
    }
    fn device(&self) -> Device {
        Device::Cpu
    }
    fn cell_errors(&self, x: &Tensor, _: ErrorNorm) -> ae_models::Result<Tensor> {
        Ok(x.zeros_like())
    }
}

#[test]
fn a_sample_shape_without_cells_is_refused_not_scored_nan() {
    let err =
        ArrayDetector::new("empty", vec![0, 3], |x: ArrayViewD<'_, f32>| x.to_owned()).unwrap_err();
    assert!(matches!(err, ModelError::ShapeMismatch { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("`empty`") && msg.contains("[0, 3]"), "{msg}");
    assert!(ArrayDetector::new("scalar", vec![], |x: ArrayViewD<'_, f32>| x.to_owned()).is_err());
    // Any detector: its scores are an error, not NaN.
    let data = Tensor::zeros([2, 0, 3], (Kind::Float, Device::Cpu));
    let err = anomaly_scores(&NoCells, &data, ErrorNorm::L1, 4).unwrap_err();
    assert!(err.to_string().contains("[0, 3]"), "{err}");
}
