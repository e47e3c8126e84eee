//! The training loop.

use std::fmt;
use std::time::Instant;

use ndarray::ArrayViewD;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{COptimizer, Device, Kind, Tensor};

use super::collapse::{self, CollapseCheck};
use super::config::TrainConfig;
use super::early_stop::{EarlyStopping, Verdict};
use super::progress;
use super::trainable_detector::TrainableDetector;
use crate::checks::{check_f32_samples, check_finite_array};
use crate::convert::array_to_tensor;
use crate::error::{ModelError, Result};

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// The monitored loss stopped improving for `patience` epochs.
    Patience,
    /// All epochs ran.
    MaxEpochs,
    /// `max_seconds` passed.
    TimeLimit,
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Epochs completed.
    pub epochs_run: usize,
    /// The 1-based epoch whose weights the model holds now (the best monitored loss):
    /// `train_losses[best_epoch - 1]`.
    pub best_epoch: usize,
    /// The validation loss of the best epoch; `None` without validation.
    pub best_val_loss: Option<f64>,
    /// Mean training loss per epoch (over the epoch's mini-batches, weighted by size,
    /// measured while the weights changed).
    pub train_losses: Vec<f64>,
    /// Validation loss after each epoch (empty without validation).
    pub val_losses: Vec<f64>,
    /// Why training ended.
    pub stop: StopReason,
    /// Samples trained on.
    pub n_train: usize,
    /// Samples held out for validation.
    pub n_val: usize,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
    /// Training samples per second of optimisation (forward, backward and update; the
    /// validation passes excluded).
    pub train_samples_per_second: f64,
    /// Whether the trained model reconstructs better than a constant output, i.e. whether
    /// its output depends on its input, measured on its training samples; `None` when
    /// those are all equal. A collapsed model is also reported on stderr unless `quiet`.
    #[serde(default)]
    pub collapse: Option<CollapseCheck>,
}

impl TrainSummary {
    /// Which samples of the training data were held out for validation and never fitted:
    /// the last [`TrainSummary::n_val`] of them, `n_train..n_train + n_val` (empty without
    /// validation). With windows of a series at stride `s`, window `k` starts at step
    /// `k · s`, so the steps from `n_train · s` on were never fitted as a sample's start,
    /// whatever `val_fraction` was: the normal reference data of an explanation comes from
    /// there, not from a guess.
    ///
    /// ```
    /// use ae_models::{train::{train, TrainConfig}, DenseAe, DenseAeConfig};
    /// use tch::{Device, Kind, Tensor};
    /// let ae = DenseAe::seeded(&DenseAeConfig::new(4, vec![3]), Device::Cpu, 0)?;
    /// let data = Tensor::rand([40, 4], (Kind::Float, Device::Cpu));
    /// let cfg = TrainConfig { epochs: 1, val_fraction: 0.25, quiet: true, ..TrainConfig::default() };
    /// assert_eq!(train(&ae, &data, &cfg)?.held_out(), 30..40);
    /// # Ok::<(), ae_models::ModelError>(())
    /// ```
    pub fn held_out(&self) -> std::ops::Range<usize> {
        self.n_train..self.n_train + self.n_val
    }
}

impl fmt::Display for TrainSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} epochs ({:?}), best epoch {}",
            self.epochs_run, self.stop, self.best_epoch
        )?;
        if let Some(v) = self.best_val_loss {
            write!(f, ", validation loss {v:.6}")?;
        }
        if let Some(t) = self.train_losses.get(self.best_epoch.saturating_sub(1)) {
            write!(f, ", training loss {t:.6}")?;
        }
        write!(
            f,
            "; {} + {} samples, {:.1} s, {:.0} samples/s",
            self.n_train, self.n_val, self.seconds, self.train_samples_per_second
        )?;
        match &self.collapse {
            Some(c) if c.collapsed => write!(
                f,
                "; COLLAPSED: no better than a constant output (explained fraction {:.3})",
                c.explained
            ),
            _ => Ok(()),
        }
    }
}

/// Trains `model` to reconstruct `data` `[N, ..sample_shape]` (a forecaster: to predict
/// the cells it predicts; see [`TrainableDetector`]).
///
/// The last `⌊N · val_fraction⌋` samples are the validation set (in order, never shuffled
/// into training: with windows of a time series, validation is the latest stretch); the
/// others are shuffled each epoch with `cfg.seed` and cut into mini-batches. Each step
/// computes the mean L1 or L2 cell error of the predicted cells
/// ([`TrainableDetector::targets_and_predictions`]; for an autoencoder every cell of its
/// reconstruction), back-propagates, rescales the gradients when
/// their global norm exceeds `clip_norm` (as `torch.nn.utils.clip_grad_norm_`) and takes
/// an Adam step. After each epoch the validation loss is computed under no-grad; the
/// weights of the best epoch are kept and restored at the end, so the model leaves
/// training in its best state. `data` may live on any device (a strided view such as
/// [`crate::windows::sliding_windows_tensor`] is fine); every batch is gathered and moved
/// to the model's device. Finally the trained model is compared with the best constant
/// prediction of its training samples ([`TrainSummary::collapse`]), and a model that
/// is no better than one is reported on stderr (unless `quiet`).
///
/// ```
/// use ae_models::{train::{train, TrainConfig}, DenseAe, DenseAeConfig};
/// use tch::{Device, Kind, Tensor};
/// let ae = DenseAe::seeded(&DenseAeConfig::new(4, vec![3]), Device::Cpu, 0)?;
/// let data = Tensor::rand([40, 4], (Kind::Float, Device::Cpu));
/// let cfg = TrainConfig { epochs: 3, batch_size: 8, quiet: true, ..TrainConfig::default() };
/// let summary = train(&ae, &data, &cfg)?;
/// assert_eq!((summary.n_train, summary.n_val), (32, 8));
/// assert_eq!(summary.val_losses.len(), summary.epochs_run);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
///
/// # Errors
/// [`ModelError::InvalidParam`] for a bad config or too few samples for the split;
/// shape, dtype and non-finite errors of `data`; [`ModelError::Diverged`] when a loss
/// turns NaN or infinite (the model then holds the best weights seen before).
pub fn train<M: TrainableDetector + ?Sized>(
    model: &M,
    data: &Tensor,
    cfg: &TrainConfig,
) -> Result<TrainSummary> {
    cfg.check()?;
    check_data(model, data)?;
    let start = Instant::now();
    let n = data.size()[0] as usize;
    let n_val = (n as f64 * cfg.val_fraction).floor() as usize;
    if n == 0 || (cfg.val_fraction > 0.0 && (n_val == 0 || n_val >= n)) {
        return Err(ModelError::InvalidParam {
            what: "train",
            param: "val_fraction",
            value: format!("{} of {n} samples", cfg.val_fraction),
            rule: "must leave at least one sample for validation and one for training",
        });
    }
    let n_train = n - n_val;
    let params: Vec<Tensor> = model
        .named_parameters()
        .iter()
        .map(|(_, t)| t.shallow_clone())
        .collect();
    if params.is_empty() {
        return Err(ModelError::InvalidParam {
            what: "train",
            param: "model",
            value: "0 parameters".into(),
            rule: "must have trainable parameters",
        });
    }
    let mut opt = COptimizer::adam(cfg.lr, 0.9, 0.999, 0.0, 1e-8, false)?;
    for p in &params {
        opt.add_parameters(p, 0)?;
    }
    let mut best = Snapshot::take(&params)?;
    let mut stopper = EarlyStopping::new(cfg.patience, cfg.min_delta);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut order: Vec<i64> = (0..n_train as i64).collect();
    let n_batches = n_train.div_ceil(cfg.batch_size);
    let bar = progress::bar((cfg.epochs * n_batches) as u64, cfg.quiet);
    let (mut train_losses, mut val_losses) = (Vec::new(), Vec::new());
    let mut train_seconds = 0.0;
    let mut stop = StopReason::MaxEpochs;
    bar.set_message(format!("1/{}", cfg.epochs));

    for epoch in 1..=cfg.epochs {
        let epoch_start = Instant::now();
        if cfg.shuffle {
            order.shuffle(&mut rng);
        }
        let train_loss = run_epoch(model, data, &order, cfg, &params, &mut opt, &bar)?;
        train_seconds += epoch_start.elapsed().as_secs_f64();
        train_losses.push(train_loss);
        if !train_loss.is_finite() {
            best.restore(&params)?;
            return Err(ModelError::Diverged {
                what: "training",
                epoch,
                loss: train_loss,
            });
        }
        let monitored = if n_val > 0 {
            let v = evaluate(model, data, n_train, n_val, cfg)?;
            val_losses.push(v);
            if !v.is_finite() {
                best.restore(&params)?;
                return Err(ModelError::Diverged {
                    what: "validation",
                    epoch,
                    loss: v,
                });
            }
            v
        } else {
            train_loss
        };
        // Shown while the next epoch runs: its number and the losses of this one.
        let next = (epoch + 1).min(cfg.epochs);
        bar.set_message(match val_losses.last() {
            Some(v) => format!("{next}/{} (train {train_loss:.5}, val {v:.5})", cfg.epochs),
            None => format!("{next}/{} (train {train_loss:.5})", cfg.epochs),
        });
        let verdict = stopper.observe(monitored);
        if verdict == Verdict::Improved {
            best.update(&params)?;
        }
        if verdict == Verdict::Stop {
            stop = StopReason::Patience;
            break;
        }
        if epoch < cfg.epochs
            && cfg
                .max_seconds
                .is_some_and(|s| start.elapsed().as_secs_f64() > s)
        {
            stop = StopReason::TimeLimit;
            break;
        }
    }
    bar.finish_and_clear();
    // The first epoch always improves on nothing, so a best epoch exists.
    let best_epoch = stopper.best().map_or(train_losses.len(), |(e, _)| e);
    if best_epoch != train_losses.len() {
        best.restore(&params)?;
    }
    let epochs_run = train_losses.len();
    let collapse = collapse::check(model, data, n_train, cfg.batch_size, cfg.loss)?;
    if let Some(c) = collapse.as_ref().filter(|c| c.collapsed && !cfg.quiet) {
        eprintln!("{}", c.warning());
    }
    Ok(TrainSummary {
        epochs_run,
        best_epoch,
        best_val_loss: val_losses.get(best_epoch - 1).copied(),
        train_losses,
        val_losses,
        stop,
        n_train,
        n_val,
        seconds: start.elapsed().as_secs_f64(),
        train_samples_per_second: (n_train * epochs_run) as f64 / train_seconds.max(1e-9),
        collapse,
    })
}

/// [`train`] on an `ndarray` (e.g. [`crate::windows::Windows::data`]), copied to a CPU
/// tensor first.
///
/// # Errors
/// As [`train`].
pub fn train_array<M: TrainableDetector + ?Sized>(
    model: &M,
    data: &ArrayViewD<'_, f32>,
    cfg: &TrainConfig,
) -> Result<TrainSummary> {
    check_finite_array(data, "training data")?;
    train(model, &array_to_tensor(data, Device::Cpu)?, cfg)
}

/// Checks that `data` is a batch of `model`'s samples, `f32` and finite.
fn check_data<M: TrainableDetector + ?Sized>(model: &M, data: &Tensor) -> Result<()> {
    check_f32_samples(
        "train",
        &model.sample_shape(),
        data,
        "autoencoder input (models hold f32 parameters)",
    )
}

/// The mean cell error of the cells `model` predicts in the batch `x`: for an autoencoder
/// exactly `cfg.loss.mean_loss(&x, &model.forward(&x)?)`.
fn batch_loss<M: TrainableDetector + ?Sized>(
    model: &M,
    x: &Tensor,
    cfg: &TrainConfig,
) -> Result<Tensor> {
    let (target, prediction) = model.targets_and_predictions(x)?;
    cfg.loss.mean_loss(&target, &prediction)
}

fn run_epoch<M: TrainableDetector + ?Sized>(
    model: &M,
    data: &Tensor,
    order: &[i64],
    cfg: &TrainConfig,
    params: &[Tensor],
    opt: &mut COptimizer,
    bar: &indicatif::ProgressBar,
) -> Result<f64> {
    let device = model.device();
    // Summed on the device: reading each batch's loss would synchronise a GPU every step.
    let mut total = Tensor::f_zeros([], (Kind::Double, device))?;
    for batch in order.chunks(cfg.batch_size) {
        let idx = Tensor::f_from_slice(batch)?.f_to_device(data.device())?;
        let x = data.f_index_select(0, &idx)?.f_to_device(device)?;
        opt.zero_grad()?;
        let loss = batch_loss(model, &x, cfg)?;
        loss.f_backward()?;
        if let Some(max_norm) = cfg.clip_norm {
            clip_grad_norm(params, max_norm)?;
        }
        opt.step()?;
        total = total.f_add(
            &loss
                .f_detach()?
                .f_to_kind(Kind::Double)?
                .f_mul_scalar(batch.len() as f64)?,
        )?;
        bar.inc(1);
    }
    Ok(total.f_double_value(&[])? / order.len() as f64)
}

fn evaluate<M: TrainableDetector + ?Sized>(
    model: &M,
    data: &Tensor,
    from: usize,
    len: usize,
    cfg: &TrainConfig,
) -> Result<f64> {
    let _guard = tch::no_grad_guard();
    let mut total = 0.0;
    let mut start = from;
    while start < from + len {
        let size = cfg.batch_size.min(from + len - start);
        let x = data
            .f_narrow(0, start as i64, size as i64)?
            .f_to_device(model.device())?;
        let loss = batch_loss(model, &x, cfg)?;
        total += loss.f_double_value(&[])? * size as f64;
        start += size;
    }
    Ok(total / len as f64)
}

/// Scales all gradients by `min(1, max_norm / (‖g‖ + 1e-6))`, `‖g‖` the L2 norm of all of
/// them together, exactly as `torch.nn.utils.clip_grad_norm_`, without leaving the device.
pub(crate) fn clip_grad_norm(params: &[Tensor], max_norm: f64) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let mut grads = Vec::with_capacity(params.len());
    for p in params {
        let g = p.f_grad()?;
        if g.defined() {
            grads.push(g);
        }
    }
    if grads.is_empty() {
        return Ok(());
    }
    let squares = grads
        .iter()
        .map(|g| g.f_square()?.f_sum(Kind::Float))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let norm = Tensor::f_stack(&squares, 0)?.f_sum(Kind::Float)?.f_sqrt()?;
    let coef = norm
        .f_add_scalar(1e-6)?
        .f_reciprocal()?
        .f_mul_scalar(max_norm)?
        .f_clamp_max(1.0)?;
    for g in &mut grads {
        let _ = g.f_mul_(&coef)?;
    }
    Ok(())
}

/// Copies of the parameters at the best epoch.
struct Snapshot(Vec<Tensor>);

impl Snapshot {
    fn take(params: &[Tensor]) -> Result<Self> {
        let _guard = tch::no_grad_guard();
        let mut copies = Vec::with_capacity(params.len());
        for p in params {
            let mut c = p.f_zeros_like()?;
            c.f_copy_(p)?;
            copies.push(c);
        }
        Ok(Snapshot(copies))
    }

    fn update(&mut self, params: &[Tensor]) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for (s, p) in self.0.iter_mut().zip(params) {
            s.f_copy_(p)?;
        }
        Ok(())
    }

    fn restore(&self, params: &[Tensor]) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for (s, p) in self.0.iter().zip(params) {
            p.shallow_clone().f_copy_(s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_autoencoder_trains_on_exactly_its_reconstruction_loss() {
        // The trainer's loss of an autoencoder must stay the mean cell error of x and its
        // reconstruction, bit for bit, value and gradients (cached weights depend on it).
        use crate::{LayerModel, LstmAe, LstmAeConfig, Trainable};
        let ae = LstmAe::seeded(&LstmAeConfig::new(3, 6, 4), Device::Cpu, 0).unwrap();
        let x = Tensor::rand([5, 6, 3], (Kind::Float, Device::Cpu));
        for loss in [crate::ErrorNorm::L1, crate::ErrorNorm::SquaredL2] {
            let cfg = TrainConfig {
                loss,
                ..TrainConfig::default()
            };
            let grads = |l: Tensor| -> (f64, Vec<Tensor>) {
                for (_, p) in ae.parameters() {
                    let mut g = p.grad();
                    if g.defined() {
                        let _ = g.zero_();
                    }
                }
                l.backward();
                let value = l.double_value(&[]);
                (
                    value,
                    ae.parameters()
                        .iter()
                        .map(|(_, p)| p.grad().copy())
                        .collect(),
                )
            };
            let (ours, g_ours) = grads(batch_loss(&ae, &x, &cfg).unwrap());
            let direct = cfg.loss.mean_loss(&x, &ae.forward(&x).unwrap()).unwrap();
            let (reference, g_ref) = grads(direct);
            assert_eq!(ours.to_bits(), reference.to_bits(), "{loss:?}");
            assert!(
                g_ours.iter().zip(&g_ref).all(|(a, b)| a.equal(b)),
                "{loss:?}"
            );
        }
    }

    #[test]
    fn clipping_matches_the_definition() {
        let a = Tensor::from_slice(&[3.0f32]).set_requires_grad(true);
        let b = Tensor::from_slice(&[4.0f32]).set_requires_grad(true);
        // Gradients (3, 4): global norm 5.
        (a.square() * 0.5 + b.square() * 0.5)
            .sum(Kind::Float)
            .backward();
        clip_grad_norm(&[a.shallow_clone(), b.shallow_clone()], 1.0).unwrap();
        let (ga, gb) = (a.grad().double_value(&[0]), b.grad().double_value(&[0]));
        assert!(
            (ga - 0.6).abs() < 1e-5 && (gb - 0.8).abs() < 1e-5,
            "{ga} {gb}"
        );
        // Below the threshold nothing changes.
        clip_grad_norm(&[a.shallow_clone(), b.shallow_clone()], 10.0).unwrap();
        assert!((a.grad().double_value(&[0]) - 0.6).abs() < 1e-6);
    }
}
