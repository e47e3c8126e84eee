//! A detector trained in PyTorch: a TorchScript module (`torch.jit.script(model).save(path)`)
//! loaded with `tch::CModule`.
//!
//! Two kinds of module fit the pipeline:
//!
//! * a **reconstructing** module `[B, ..sample] -> [B, ..sample]` (an autoencoder):
//!   [`TorchScriptDetector::autoencoder`]; its error is the reconstruction error of every
//!   cell;
//! * a **forecasting** module `[B, context, F] -> [B, horizon, F]`:
//!   [`TorchScriptDetector::forecaster`]; its samples are windows of `context + horizon`
//!   steps, and its error is the forecast error of the last `horizon` steps (0 at the
//!   context steps), as for [`crate::LstmForecaster`].
//!
//! The sample shape is the user's to give (a TorchScript file does not record it); loading
//! runs the module once on a probe batch of zeros of that shape, so a module that does not
//! fit it fails at load, naming the file and both shapes, not in the middle of a run.
//! Every later output is checked again (shape, finite values).
//!
//! Gradients flow through the module (libtorch's autograd runs inside TorchScript), so
//! gradient methods (Saliency, Integrated Gradients, Gradient SHAP) work as well as the
//! perturbation methods. LRP needs a layer list, which a TorchScript module does not
//! expose: it is refused before any work. The module runs in evaluation mode (dropout off,
//! batch norm with its running statistics). On CUDA, cuDNN differentiates recurrent layers
//! only in training mode; gradient methods through a TorchScript LSTM therefore need the
//! CPU (or `torch.backends.cudnn.enabled = False` at export).

use std::path::{Path, PathBuf};

use tch::{CModule, Device, IValue, Kind, TchError, Tensor};

use crate::checks::{check_finite_samples, check_samples};
use crate::detector::Detector;
use crate::error::{ModelError, Result};
use crate::explained_error::OutputCells;
use crate::forecaster::ForecastSplit;
use crate::recon_error::{cell_errors, ErrorNorm};

/// What the module predicts.
#[derive(Debug, Clone, Copy)]
enum Output {
    /// Every cell of its input.
    Reconstruction,
    /// The last steps of a window from the steps before them.
    Forecast(ForecastSplit),
}

/// A TorchScript module as a [`Detector`] (see the module docs).
///
/// ```no_run
/// use ae_models::{Detector, ErrorNorm, TorchScriptDetector};
/// use tch::{Device, Kind, Tensor};
/// // An LSTM autoencoder exported from PyTorch for windows of 50 steps of 38 sensors.
/// let detector = TorchScriptDetector::autoencoder("lstm_ae.pt", vec![50, 38], Device::Cpu)?;
/// let windows = Tensor::zeros([4, 50, 38], (Kind::Float, Device::Cpu));
/// assert_eq!(detector.cell_errors(&windows, ErrorNorm::L1)?.size(), vec![4, 50, 38]);
/// # Ok::<(), ae_models::ModelError>(())
/// ```
#[derive(Debug)]
pub struct TorchScriptDetector {
    module: CModule,
    path: PathBuf,
    sample_shape: Vec<i64>,
    device: Device,
    output: Output,
}

/// Batch size of the probe run at load time: two, so that a module whose output shape
/// depends on a batch of one (a traced `squeeze`, a baked-in batch size) is caught too.
const PROBE_BATCH: i64 = 2;

impl TorchScriptDetector {
    /// Loads a reconstructing module `[B, ..sample_shape] -> [B, ..sample_shape]` onto
    /// `device`.
    ///
    /// # Errors
    /// [`ModelError::Io`] naming a missing or unreadable file; [`ModelError::CorruptFile`]
    /// for a file that is not a TorchScript module; [`ModelError::InvalidParam`] for an
    /// empty sample shape or a size below 1; [`ModelError::TorchScript`] when the module's
    /// `forward` fails on a probe batch `[2, ..sample_shape]` of zeros or returns no
    /// tensor; [`ModelError::ShapeMismatch`] naming the file and both shapes when its
    /// output does not have the input's shape.
    pub fn autoencoder(
        path: impl AsRef<Path>,
        sample_shape: Vec<i64>,
        device: Device,
    ) -> Result<Self> {
        check_shape(&sample_shape)?;
        Self::load(path.as_ref(), sample_shape, device, Output::Reconstruction)
    }

    /// Loads a forecasting module `[B, context, n_features] -> [B, horizon, n_features]`
    /// onto `device`. Its samples are windows `[context + horizon, n_features]`.
    ///
    /// # Errors
    /// As [`TorchScriptDetector::autoencoder`], the probe batch being `[2, context,
    /// n_features]` and the expected output `[2, horizon, n_features]`;
    /// [`ModelError::InvalidParam`] naming `context / horizon / n_features` when one is
    /// below 1.
    pub fn forecaster(
        path: impl AsRef<Path>,
        context: i64,
        horizon: i64,
        n_features: i64,
        device: Device,
    ) -> Result<Self> {
        let window = context.checked_add(horizon).filter(|_| n_features >= 1);
        let Some(window) = window.filter(|_| context >= 1 && horizon >= 1) else {
            return Err(ModelError::InvalidParam {
                what: "TorchScriptDetector::forecaster",
                param: "context / horizon / n_features",
                value: format!("{context} / {horizon} / {n_features}"),
                rule: "must each be at least 1 (and the window must fit in i64)",
            });
        };
        Self::load(
            path.as_ref(),
            vec![window, n_features],
            device,
            Output::Forecast(ForecastSplit { context, horizon }),
        )
    }

    fn load(path: &Path, sample_shape: Vec<i64>, device: Device, output: Output) -> Result<Self> {
        let shown = path.display().to_string();
        std::fs::metadata(path).map_err(|source| ModelError::Io {
            path: shown.clone(),
            source,
        })?;
        let mut module =
            CModule::load_on_device(path, device).map_err(|e| ModelError::CorruptFile {
                path: shown.clone(),
                reason: format!("not a TorchScript module: {}", load_reason(&e)),
            })?;
        module.f_set_eval()?;
        let detector = TorchScriptDetector {
            module,
            path: path.to_path_buf(),
            sample_shape,
            device,
            output,
        };
        let mut probe_shape = vec![PROBE_BATCH];
        probe_shape.extend(detector.input_shape());
        let probe = Tensor::f_zeros(&probe_shape, (Kind::Float, device))?;
        let _guard = tch::no_grad_guard();
        let _checked = detector.run(&probe)?;
        Ok(detector)
    }

    /// The shape of one sample the module itself reads: the whole sample, or a
    /// forecaster's context.
    fn input_shape(&self) -> Vec<i64> {
        match self.output {
            Output::Reconstruction => self.sample_shape.clone(),
            Output::Forecast(split) => vec![split.context, self.sample_shape[1]],
        }
    }

    /// The shape the module must answer `input` with.
    fn output_shape(&self, input: &Tensor) -> Vec<i64> {
        let mut shape = input.size();
        if let Output::Forecast(split) = self.output {
            shape[1] = split.horizon;
        }
        shape
    }

    /// Runs the module on what it reads, checks the answer's type and shape.
    fn run(&self, input: &Tensor) -> Result<Tensor> {
        let shown = || self.path.display().to_string();
        let out = self
            .module
            .forward_is(&[IValue::Tensor(input.shallow_clone())])
            .map_err(|e| ModelError::TorchScript {
                path: shown(),
                reason: format!(
                    "forward of a batch {:?} failed: {}",
                    input.size(),
                    first_line(&e)
                ),
            })?;
        let IValue::Tensor(out) = out else {
            return Err(ModelError::TorchScript {
                path: shown(),
                reason: format!(
                    "forward returned {} instead of one tensor",
                    ivalue_kind(&out)
                ),
            });
        };
        let want = self.output_shape(input);
        if out.size() != want {
            return Err(ModelError::ShapeMismatch {
                what: format!(
                    "output of TorchScript module {} for a batch {:?}",
                    shown(),
                    input.size()
                ),
                expected: match self.output {
                    Output::Reconstruction => format!("{want:?} (the input's shape)"),
                    Output::Forecast(s) => format!("{want:?} ({} forecast steps)", s.horizon),
                },
                got: out.size(),
            });
        }
        Ok(out)
    }

    /// The module's prediction for a batch `x: [B, ..sample]`: the reconstruction
    /// `[B, ..sample]`, or a forecaster's forecast `[B, horizon, F]` of the last steps.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] for a batch of another sample shape, or an output of
    /// the wrong shape; [`ModelError::TorchScript`] when `forward` fails;
    /// [`ModelError::NonFinite`] naming the first sample and cell of the output (for a
    /// forecaster, of its forecast) that is NaN or infinite.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor> {
        check_samples(&self.describe(), &self.sample_shape, x)?;
        let input = match self.output {
            Output::Reconstruction => x.shallow_clone(),
            Output::Forecast(split) => split.split(x)?.0,
        };
        let out = self.run(&input)?;
        check_finite_samples(
            &out.f_detach()?,
            0,
            &format!("output of TorchScript module {}", self.path.display()),
        )?;
        Ok(out)
    }

    /// The module's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Detector for TorchScriptDetector {
    fn sample_shape(&self) -> Vec<i64> {
        self.sample_shape.clone()
    }

    fn device(&self) -> Device {
        self.device
    }

    fn cell_errors(&self, x: &Tensor, norm: ErrorNorm) -> Result<Tensor> {
        let prediction = self.predict(x)?;
        match self.output {
            Output::Reconstruction => cell_errors(x, &prediction, norm),
            Output::Forecast(split) => split.cell_errors(x, &prediction, norm),
        }
    }

    fn predicted_cells(&self) -> OutputCells {
        match self.output {
            Output::Reconstruction => OutputCells::all(),
            Output::Forecast(split) => split.predicted_cells(),
        }
    }

    fn weights(&self) -> Result<Vec<(String, Tensor)>> {
        self.module
            .named_parameters()
            .map_err(|e| ModelError::TorchScript {
                path: self.path.display().to_string(),
                reason: format!("reading the parameters: {}", first_line(&e)),
            })
    }

    fn describe(&self) -> String {
        let kind = match self.output {
            Output::Reconstruction => "autoencoder",
            Output::Forecast(_) => "forecaster",
        };
        format!("TorchScript {kind} {}", self.path.display())
    }
}

/// Checks that every size is at least 1 (and that there is one).
fn check_shape(sizes: &[i64]) -> Result<()> {
    if sizes.is_empty() || sizes.iter().any(|&d| d < 1) {
        return Err(ModelError::InvalidParam {
            what: "TorchScriptDetector",
            param: "sample shape",
            value: format!("{sizes:?}"),
            rule: "must hold at least one size, each at least 1",
        });
    }
    Ok(())
}

/// libtorch's reason for refusing to load a file, in one sentence: its first sentence
/// without the "internal error" framing and the advice paragraph that follows it, and the
/// common cases said in a user's words.
fn load_reason(e: &TchError) -> String {
    let text = first_line(e);
    let text = text.trim_start_matches("Internal torch error:").trim();
    let text = text
        .trim_start_matches("PytorchStreamReader failed reading zip archive:")
        .trim();
    let sentence = text
        .split(". ")
        .next()
        .unwrap_or(text)
        .trim_end_matches('.');
    if sentence.contains("failed finding central directory") {
        "its zip archive has no central directory (the file was cut short or damaged)".into()
    } else if sentence.contains("not a ZIP archive") {
        "it is not a zip archive, which is what torch.jit.save writes".into()
    } else if let Some(name) = sentence.strip_prefix("PytorchStreamReader failed locating file ") {
        let name = name.split(':').next().unwrap_or(name);
        format!(
            "its archive has no {name} (was it saved with torch.save instead of torch.jit.save?)"
        )
    } else {
        sentence.to_string()
    }
}

/// A libtorch error without its C++ backtrace: its first three lines and, when the
/// TorchScript traceback puts it further down, the cause line (`RuntimeError: expected
/// input[2, 50, 38] to have 38 channels, but got 50 channels instead`), which says what
/// was wrong.
fn first_line(e: &TchError) -> String {
    let text = e.to_string();
    let text = text.split("Exception raised from").next().unwrap_or("");
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let head = &lines[..lines.len().min(3)];
    let cause = lines.iter().rev().find(|l| {
        l.split_once(": ")
            .is_some_and(|(kind, _)| kind.ends_with("Error") && !kind.contains(' '))
    });
    match cause {
        Some(c) if !head.contains(c) => format!("{} ... {c}", head.join(" ")),
        _ => head.join(" "),
    }
}

fn ivalue_kind(v: &IValue) -> &'static str {
    match v {
        IValue::None => "None",
        IValue::Tuple(_) => "a tuple",
        IValue::TensorList(_) => "a list of tensors",
        IValue::GenericList(_)
        | IValue::IntList(_)
        | IValue::DoubleList(_)
        | IValue::BoolList(_) => "a list",
        IValue::GenericDict(_) => "a dict",
        _ => "a value of another type",
    }
}

#[cfg(test)]
mod tests {
    use super::first_line;
    use tch::TchError;

    #[test]
    fn a_torchscript_error_keeps_its_cause_line() {
        let e = TchError::Torch(
            "The following operation failed in the TorchScript interpreter.\n\
             Traceback of TorchScript, serialized code (most recent call last):\n\
             \x20 File \"code/__torch__.py\", line 12, in forward\n\
             \x20   x = self.conv(x)\n\
             \x20 File \"code/torch/nn/modules/conv.py\", line 23, in forward\n\
             RuntimeError: Given groups=1, weight of size [16, 38, 3], expected input[2, 50, 38] to have 38 channels, but got 50 channels instead\n\
             Exception raised from foo at bar.cpp:1"
                .into(),
        );
        let m = first_line(&e);
        assert!(m.contains("The following operation failed"), "{m}");
        assert!(
            m.ends_with(
                "expected input[2, 50, 38] to have 38 channels, but got 50 channels instead"
            ),
            "{m}"
        );
        assert!(!m.contains("bar.cpp"), "{m}");
        // A short message is kept whole, once.
        let e = TchError::Torch("RuntimeError: shape mismatch".into());
        let m = first_line(&e);
        assert!(m.ends_with("RuntimeError: shape mismatch"), "{m}");
        assert_eq!(m.matches("shape mismatch").count(), 1, "{m}");
    }
}
