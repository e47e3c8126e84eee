//! Saving a fitted explainer, and loading it back for the same detector.
//!
//! The file is one JSON object: the format's name and version (checked first), a record
//! of the detector it was fitted for, the settings, the methods, the scaler, the normal
//! windows the baselines come from, the reference windows, and every run's reference
//! statistics. Loading runs no attribution: it checks each method against the detector
//! again and rebuilds its baseline from the saved windows (a mean, a selection of them),
//! then reads the statistics as they were saved, so a loaded explainer explains bit for
//! bit like the one that was saved.

use std::path::Path;

use ndarray::{Array3, Ix3};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tch::{Kind, Tensor};

use crate::defaults::LeftOut;
use crate::error::{Error, Result};
use crate::localizer::{Localizer, LocalizerConfig};
use crate::method::{Context, MethodSpec};
use crate::models::convert::{array_to_tensor, tensor_to_array};
use crate::models::{Detector, MinMaxScaler};

use super::{prepare_runs, Explainer, Missing, State, Stats};

/// The `format` field of a saved explainer.
pub const FORMAT: &str = "anomaly-xai explainer";

/// The format version this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Which detector an explainer was fitted for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorRecord {
    /// Its description ([`Detector::describe`]).
    pub name: String,
    /// Its sample shape `[window, sensors]`.
    pub sample_shape: Vec<i64>,
    /// `sha256:` and the hex SHA-256 of its weights ([`Detector::weights`]: each name,
    /// shape and the little-endian `f32` values, in order); `None` for a detector whose
    /// weights the library cannot read.
    pub fingerprint: Option<String>,
}

impl DetectorRecord {
    /// The record of `detector`.
    ///
    /// # Errors
    /// When its weights cannot be read.
    pub fn of(detector: &dyn Detector) -> Result<Self> {
        let weights = detector.weights()?;
        let fingerprint = match weights.is_empty() {
            true => None,
            false => {
                let mut h = Sha256::new();
                for (name, t) in &weights {
                    h.update((name.len() as u64).to_le_bytes());
                    h.update(name.as_bytes());
                    let size = t.size();
                    h.update((size.len() as u64).to_le_bytes());
                    for d in size {
                        h.update(d.to_le_bytes());
                    }
                    let values = Vec::<f32>::try_from(
                        t.f_detach()?
                            .f_to_kind(Kind::Float)?
                            .f_to_device(tch::Device::Cpu)?
                            .f_flatten(0, -1)?,
                    )?;
                    for v in values {
                        h.update(v.to_le_bytes());
                    }
                }
                let digest = h.finalize();
                Some(format!(
                    "sha256:{}",
                    digest
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                ))
            }
        };
        Ok(DetectorRecord {
            name: detector.describe(),
            sample_shape: detector.sample_shape(),
            fingerprint,
        })
    }

    /// Whether `other` is the same detector: same sample shape and same fingerprint;
    /// without a fingerprint on either side, the same description.
    pub fn matches(&self, other: &DetectorRecord) -> bool {
        self.sample_shape == other.sample_shape
            && match (&self.fingerprint, &other.fingerprint) {
                (None, None) => self.name == other.name,
                (a, b) => a == b,
            }
    }

    fn show(&self) -> String {
        format!(
            "{} (samples {:?}, weights {})",
            self.name,
            self.sample_shape,
            self.fingerprint.as_deref().unwrap_or("not readable")
        )
    }
}

/// Everything a saved explainer holds.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    format: String,
    version: u32,
    detector: DetectorRecord,
    config: LocalizerConfig,
    methods: Vec<MethodSpec>,
    answer: usize,
    names: Option<Vec<String>>,
    scaler: Option<MinMaxScaler>,
    left_out: Vec<LeftOut>,
    missing: Missing,
    training_mean: Vec<f32>,
    constant: Vec<bool>,
    baseline_windows: Array3<f32>,
    reference_windows: Array3<f32>,
    stats: Vec<Stats>,
}

/// Only the header, read before the rest.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u64,
}

impl Explainer {
    /// Writes the fitted explainer to `path` (JSON; see the module docs of the format).
    ///
    /// # Errors
    /// [`Error::Io`] naming the path; when the detector's weights cannot be read.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let state = self.lock();
        let window = |t: &Tensor| -> Result<Array3<f32>> {
            let a = tensor_to_array(t)?;
            let shape = a.shape().to_vec();
            a.into_dimensionality::<Ix3>().map_err(|_| Error::Shape {
                what: "explainer windows",
                expected: "[windows, steps, sensors]".into(),
                got: shape,
            })
        };
        let saved = Saved {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            detector: DetectorRecord::of(&*state.detector)?,
            config: self.localizer.config.clone(),
            methods: self.localizer.methods.clone(),
            answer: self.answer,
            names: self.names.clone(),
            scaler: self.scaler.clone(),
            left_out: self.left_out.clone(),
            missing: self.missing,
            training_mean: self.training_mean.clone(),
            constant: self.constant.clone(),
            baseline_windows: window(&state.baseline_windows)?,
            reference_windows: window(&state.reference_windows)?,
            stats: state.runs.iter().map(|r| r.stats.clone()).collect(),
        };
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut w, &saved)?;
        std::io::Write::flush(&mut w).map_err(|e| Error::io(path, e))
    }

    /// Reads an explainer saved with [`Explainer::save`] for `detector`, which must be
    /// the detector it was fitted for.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::SavedExplainer`] for a file
    /// that is not a saved explainer or is damaged; [`Error::FormatVersion`] for another
    /// format version; [`Error::OtherDetector`] for another detector (another sample
    /// shape, other weights).
    pub fn load(path: impl AsRef<Path>, detector: impl Detector + Send + 'static) -> Result<Self> {
        Self::load_boxed(path, Box::new(detector))
    }

    /// [`Explainer::load`] of a boxed detector.
    ///
    /// # Errors
    /// As [`Explainer::load`].
    pub fn load_boxed(path: impl AsRef<Path>, detector: Box<dyn Detector + Send>) -> Result<Self> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let bad = |problem: String| Error::SavedExplainer {
            path: shown.clone(),
            problem,
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let header: Header =
            serde_json::from_str(&text).map_err(|e| bad(format!("no format header ({e})")))?;
        if header.format != FORMAT {
            return Err(bad(format!("format {:?}, not {FORMAT:?}", header.format)));
        }
        if header.version != u64::from(FORMAT_VERSION) {
            return Err(Error::FormatVersion {
                path: shown,
                found: header.version,
                supported: FORMAT_VERSION,
            });
        }
        let saved: Saved = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let given = DetectorRecord::of(&*detector)?;
        if !saved.detector.matches(&given) {
            return Err(Error::OtherDetector {
                saved: saved.detector.show(),
                given: given.show(),
            });
        }
        let (window, sensors) = crate::defaults::series_shape(&*detector)?;
        for (what, w) in [
            ("baseline windows", &saved.baseline_windows),
            ("reference windows", &saved.reference_windows),
        ] {
            let (_, t, f) = w.dim();
            if (t, f) != (window, sensors) || w.iter().any(|v| !v.is_finite()) {
                return Err(bad(format!(
                    "{what} of shape {:?} (or not finite) for a detector of samples [{window}, {sensors}]",
                    w.shape()
                )));
            }
        }
        let names_ok = saved.names.as_ref().is_none_or(|n| n.len() == sensors);
        if saved.training_mean.len() != sensors
            || saved.constant.len() != sensors
            || saved.training_mean.iter().any(|v| !v.is_finite())
            || !names_ok
        {
            return Err(bad(format!(
                "training means, constant sensors or names not one per each of {sensors} sensors"
            )));
        }
        if saved.answer >= saved.methods.len() || saved.config.window != window {
            return Err(bad(format!(
                "answer {} of {} methods, window {} for a detector of window {window}",
                saved.answer,
                saved.methods.len(),
                saved.config.window
            )));
        }
        for s in &saved.stats {
            let ok = s.centre.len() == sensors
                && s.scale.len() == sensors
                && s.reference.ncols() == sensors
                && s.reference.nrows() >= 2;
            if !ok {
                return Err(bad(format!(
                    "reference statistics for {} sensors, not {sensors}",
                    s.centre.len()
                )));
            }
        }
        let device = detector.device();
        let baseline_windows = array_to_tensor(&saved.baseline_windows.view().into_dyn(), device)?;
        let reference_windows =
            array_to_tensor(&saved.reference_windows.view().into_dyn(), device)?;
        let localizer = Localizer::new(saved.config, saved.methods);
        let runs = {
            let ctx = Context {
                detector: &*detector,
                attention: None,
                train: Some(&baseline_windows),
                reference: Some(&reference_windows),
            };
            prepare_runs(&localizer, &ctx, sensors, Some(saved.stats))
                .map_err(|e| bad(format!("its methods do not fit the detector: {e}")))?
        };
        Ok(Explainer {
            localizer,
            sensors,
            names: saved.names,
            scaler: saved.scaler,
            left_out: saved.left_out,
            answer: saved.answer,
            missing: saved.missing,
            training_mean: saved.training_mean,
            constant: saved.constant,
            describe: detector.describe(),
            state: std::sync::Mutex::new(State {
                detector,
                baseline_windows,
                reference_windows,
                runs,
            }),
        })
    }
}
