//! Does a trained model's output depend on its input?
//!
//! An autoencoder can train into a state whose reconstruction is the same for every input,
//! e.g. a dense model whose ReLU bottleneck is dead for all samples: the decoder then
//! learns the average sample and the loss stops falling at a plausible value. Its anomaly
//! scores and every explanation of it are meaningless, yet training ends normally.
//!
//! The criterion compares the model with the best reconstruction that ignores its input.
//! For the loss's norm, the best constant reconstruction of a set of samples is their
//! per-cell median (L1) or mean (L2). With `loss` the model's mean cell error on the
//! samples and `spread` the constant's,
//!
//! ```text
//! explained = 1 − loss / spread
//! ```
//!
//! is the fraction of the samples' spread that the reconstructions account for (for L2 the
//! coefficient of determination R²). Every model whose output does not depend on its input
//! is a constant on these samples, and no constant beats the best one, so such a model has
//! `explained ≤ 0`: the check cannot miss a collapsed model, and it flags exactly the
//! models that reconstruct no better than one. The ratio is scale-free (multiplying the data
//! by any factor leaves it unchanged) and needs no tuned threshold. As a diagnostic,
//! `output_spread` is the spread of the reconstructions themselves over that of the inputs,
//! 0 for a constant output (exactly for L1; up to the rounding of a float mean for L2).
//!
//! The samples are the model's *training* samples (at most 4096, evenly spaced): the
//! question is whether it learnt anything beyond a constant from the data it was fitted
//! to. On the validation samples the best constant is an oracle fitted to them; where they
//! are the latest stretch of a drifting series it beats healthy models. Measured on 24
//! runs of a dense AE on toy records whose validation block lies outside the training
//! range: on the validation samples all 24 came out at or below 0, well-trained ones
//! included; on the training samples the 8 well-trained runs explained 0.69 to 0.90, the
//! 7 whose ReLU bottleneck had died (output spread 0) −0.67 to −0.08, and the 9 barely
//! trained ones (learning rate 1e-3, 200 steps) −0.61 to 0.09. On SMD machine-1-2 the
//! demo's cached models (20 epochs, stride-10 windows) explain 0.35 (LSTM AE) and 0.34
//! (attention LSTM AE) of their training windows; the LSTM AE after one epoch, −0.36.
//!
//! A forecaster is measured on the cells it predicts
//! ([`super::TrainableDetector::targets_and_predictions`]): its forecast steps against the
//! best constant forecast of them. A forecaster whose forecast ignores its context is such
//! a constant, so the same bound holds and the same check flags it.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use super::trainable_detector::TrainableDetector;
use crate::error::Result;
use crate::recon_error::ErrorNorm;

/// How much a trained model's reconstructions depend on its input (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollapseCheck {
    /// The training samples measured (all of them, or 4096 evenly spaced ones).
    pub samples: usize,
    /// `1 − loss / spread`: the fraction of the samples' spread around their best constant
    /// reconstruction that the model's reconstructions account for; 1 is perfect, `≤ 0` no
    /// better than a constant.
    pub explained: f64,
    /// The spread of the reconstructions around their own median (L1) or mean (L2) over the
    /// same of the inputs; 0 (up to rounding) when the output is the same for every sample.
    pub output_spread: f64,
    /// `explained ≤ 0`: the model reconstructs no better than an output that ignores its
    /// input.
    pub collapsed: bool,
}

/// The spread of `x` `[N, ..]` around its best per-cell constant for `norm`: the mean cell
/// error of the per-cell median (L1) or mean (L2).
fn spread(x: &Tensor, norm: ErrorNorm) -> Result<f64> {
    // Contiguous first: libtorch 2.13's CPU `median(dim)` returns garbage for stride-0
    // (expanded) inputs, and training data may be an overlapping strided view of a series.
    let x = &x.f_contiguous()?;
    let centre = match norm {
        ErrorNorm::L1 => x.f_median_dim(0, true)?.0,
        ErrorNorm::SquaredL2 => x.f_mean_dim([0i64].as_slice(), true, Kind::Float)?,
    };
    let centre = centre.f_expand_as(x)?;
    Ok(norm.mean_loss(x, &centre)?.f_double_value(&[])?)
}

/// The most training samples the check looks at; above it, evenly spaced ones.
const MAX_SAMPLES: usize = 4096;

/// Measures `model` on its training samples `0 .. n_train` of `data` (at most
/// [`MAX_SAMPLES`] of them, evenly spaced), in batches of `batch_size`. `None` when the
/// samples are all equal, so that no output can be told from a constant.
pub(crate) fn check<M: TrainableDetector + ?Sized>(
    model: &M,
    data: &Tensor,
    n_train: usize,
    batch_size: usize,
    norm: ErrorNorm,
) -> Result<Option<CollapseCheck>> {
    let _guard = tch::no_grad_guard();
    let n = n_train.min(MAX_SAMPLES);
    let picks: Vec<i64> = (0..n).map(|i| (i * n_train / n) as i64).collect();
    let idx = Tensor::f_from_slice(&picks)?.f_to_device(data.device())?;
    let x = data.f_index_select(0, &idx)?.f_to_device(model.device())?;
    // The predicted cells and their predictions: for an autoencoder the samples and their
    // reconstructions, for a forecaster the forecast steps and their forecasts.
    let (mut targets, mut outs) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start < n {
        let size = batch_size.min(n - start);
        let (t, y) = model.targets_and_predictions(&x.f_narrow(0, start as i64, size as i64)?)?;
        targets.push(t);
        outs.push(y);
        start += size;
    }
    let (x, y) = (Tensor::f_cat(&targets, 0)?, Tensor::f_cat(&outs, 0)?);
    Ok(
        measure(&x, &y, norm)?.map(|(explained, output_spread)| CollapseCheck {
            samples: n,
            explained,
            output_spread,
            // NaN (a non-finite loss, which training already rejects) counts as collapsed.
            collapsed: explained.is_nan() || explained <= 0.0,
        }),
    )
}

/// `(explained, output_spread)` of reconstructions `y` of samples `x`; `None` when the
/// samples have no spread.
fn measure(x: &Tensor, y: &Tensor, norm: ErrorNorm) -> Result<Option<(f64, f64)>> {
    let input_spread = spread(x, norm)?;
    if input_spread.is_nan() || input_spread <= 0.0 {
        return Ok(None);
    }
    let loss = norm.mean_loss(x, y)?.f_double_value(&[])?;
    Ok(Some((
        1.0 - loss / input_spread,
        spread(y, norm)? / input_spread,
    )))
}

impl CollapseCheck {
    /// The warning training prints for a collapsed model.
    pub fn warning(&self) -> String {
        format!(
            "warning: the trained model reconstructs no better than a constant output: on {} of its training samples it explains a fraction {:.3} (<= 0) of their spread, and its output varies {:.3e} times as much as its input. \
             Its scores and explanations carry no information about the input; train again with another seed, more epochs, another learning rate, or a bottleneck without ReLU.",
            self.samples,
            self.explained,
            self.output_spread
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn spread_is_the_best_constant_loss() {
        // Column 0: 1, 2, 6 -> median 2, mean abs dev 5/3; mean 3, mean squared dev 14/3.
        let x = Tensor::from_slice(&[1.0f32, 0.0, 2.0, 0.0, 6.0, 0.0]).reshape([3, 2]);
        let l1 = spread(&x, ErrorNorm::L1).unwrap();
        let l2 = spread(&x, ErrorNorm::SquaredL2).unwrap();
        assert!((l1 - 5.0 / 6.0).abs() < 1e-6, "{l1}");
        assert!((l2 - 14.0 / 6.0).abs() < 1e-5, "{l2}");
        assert_eq!(
            spread(
                &Tensor::ones([4, 3], (Kind::Float, Device::Cpu)),
                ErrorNorm::L1
            )
            .unwrap(),
            0.0
        );
        let ones = Tensor::ones([4, 3], (Kind::Float, Device::Cpu));
        assert_eq!(measure(&ones, &ones, ErrorNorm::SquaredL2).unwrap(), None);
    }

    #[test]
    fn no_constant_output_explains_anything() {
        // The guarantee the check rests on: whatever constant a model outputs, for either
        // norm, the explained fraction is at most 0.
        tch::manual_seed(7);
        let x = Tensor::rand([64, 5], (Kind::Float, Device::Cpu)) * 3.0 - 1.0;
        for norm in [ErrorNorm::L1, ErrorNorm::SquaredL2] {
            for k in 0..20 {
                let row = if k == 0 {
                    x.median_dim(0, true).0
                } else if k == 1 {
                    x.mean_dim([0i64].as_slice(), true, Kind::Float)
                } else {
                    Tensor::rand([1, 5], (Kind::Float, Device::Cpu)) * 2.0 - 0.5
                };
                let y = row.expand_as(&x);
                let (explained, output_spread) = measure(&x, &y, norm).unwrap().unwrap();
                assert!(explained <= 1e-6, "{norm:?} constant {k}: {explained}");
                assert!(
                    output_spread < 1e-10,
                    "{norm:?} constant {k}: {output_spread}"
                );
            }
            // A perfect reconstruction explains everything.
            let (e, s) = measure(&x, &x, norm).unwrap().unwrap();
            assert_eq!((e, s), (1.0, 1.0));
        }
    }

    #[test]
    fn the_measure_is_scale_free() {
        tch::manual_seed(3);
        let x = Tensor::rand([32, 4], (Kind::Float, Device::Cpu));
        let y = &x * 0.7 + Tensor::rand([32, 4], (Kind::Float, Device::Cpu)) * 0.1;
        for norm in [ErrorNorm::L1, ErrorNorm::SquaredL2] {
            let (e1, s1) = measure(&x, &y, norm).unwrap().unwrap();
            let (e2, s2) = measure(&(&x * 1000.0), &(&y * 1000.0), norm)
                .unwrap()
                .unwrap();
            assert!((e1 - e2).abs() < 1e-4 && (s1 - s2).abs() < 1e-4, "{norm:?}");
            assert!(e1 > 0.0 && e1 < 1.0, "{e1}");
        }
    }
}
