//! `anomaly-xai fit`: a detector and a normal series to a saved explainer
//! ([`anomaly_xai::explainer::Explainer`]). The detector is the crate's LSTM autoencoder,
//! trained here on the normal series (min-max scaled, test values clipped as
//! `smd_localization` does; saved beside the explainer as `EXPLAINER.detector.*`), or a
//! TorchScript autoencoder (`--torchscript`, taking the series as the file holds it, or
//! min-max scaled with `--minmax`).

use std::path::{Path, PathBuf};

use clap::Args;

use anomaly_xai::data::SmdMachine;
use anomaly_xai::explainer::{Explainer, NormalReference};
use anomaly_xai::models::persist::{Overwrite, SavedModel};
use anomaly_xai::models::windows::window_count;
use anomaly_xai::models::{MinMaxScaler, TorchScriptDetector};
use anomaly_xai_repro::{MachineSettings, PreparedMachine};

use crate::error::{CliError, Result};
use crate::series::{Half, SeriesArgs};

/// `fit`'s flags.
#[derive(Args, Debug, Clone)]
pub struct FitArgs {
    /// The normal series (an SMD machine's training half, or a CSV file).
    #[command(flatten)]
    pub series: SeriesArgs,
    /// A TorchScript autoencoder `[batch, window, sensors] -> same` instead of training
    /// the LSTM autoencoder here
    #[arg(long)]
    pub torchscript: Option<PathBuf>,
    /// The TorchScript module's window (with --torchscript)
    #[arg(long, requires = "torchscript")]
    pub window: Option<usize>,
    /// With --torchscript: min-max scale every series (fitted on the normal series, live
    /// values clipped to ±3, as the LSTM autoencoder trained here always is) before the
    /// module sees it; without it the module takes the values as the files hold them
    #[arg(long, requires = "torchscript")]
    pub minmax: bool,
    /// Where the explainer is saved (JSON); the trained detector goes beside it
    /// (`OUT.detector.safetensors`, `OUT.detector.json`)
    #[arg(long)]
    pub out: PathBuf,
    /// Most training epochs of the LSTM autoencoder; early stopping may end sooner
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Stride of the training windows
    #[arg(long, default_value_t = 10)]
    pub train_stride: usize,
    /// libtorch threads (0: libtorch's default)
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
    /// No progress output
    #[arg(long)]
    pub quiet: bool,
}

/// The detector files saved beside the explainer `out`.
pub fn detector_stem(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".detector");
    PathBuf::from(s)
}

/// Runs `fit`.
///
/// # Errors
/// Every argument is checked before any work ([`CliError::Arg`], [`CliError::Io`]); then
/// the data's, training's and explainer's errors.
pub fn fit(args: &FitArgs) -> Result<()> {
    args.series.check()?;
    if args.threads < 0 {
        return Err(CliError::Arg {
            arg: "--threads",
            value: args.threads.to_string(),
            rule: "must be 0 (libtorch's default) or more".into(),
        });
    }
    if let Some(ts) = &args.torchscript {
        if !ts.is_file() {
            return Err(CliError::Arg {
                arg: "--torchscript",
                value: ts.display().to_string(),
                rule: "is not a file".into(),
            });
        }
        if args.window.unwrap_or(0) == 0 {
            return Err(CliError::Arg {
                arg: "--window",
                value: format!("{:?}", args.window),
                rule: "a TorchScript module needs its window, at least 1".into(),
            });
        }
    }
    let settings = MachineSettings {
        train_stride: args.train_stride,
        attention: false,
        train: anomaly_xai::models::train::TrainConfig {
            epochs: args.epochs,
            quiet: args.quiet,
            ..MachineSettings::default().train
        },
        ..MachineSettings::default()
    };
    settings.train.check().map_err(anomaly_xai::Error::from)?;
    if settings.train_stride == 0 {
        return Err(CliError::Arg {
            arg: "--train-stride",
            value: "0".into(),
            rule: "must be at least 1".into(),
        });
    }
    // The output's directory must take files before anything is trained.
    let dir = match args.out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io(&dir, e))?;
    let probe = dir.join(format!(".anomaly-xai-probe.{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| CliError::io(&probe, e))?;
    std::fs::remove_file(&probe).map_err(|e| CliError::io(&probe, e))?;
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }

    let normal = args.series.read(Half::Train)?;
    let explainer = match &args.torchscript {
        Some(ts) => {
            let window = args.window.expect("checked") as i64;
            let sensors = normal.values.ncols() as i64;
            let detector =
                TorchScriptDetector::autoencoder(ts, vec![window, sensors], tch::Device::Cpu)
                    .map_err(anomaly_xai::Error::from)?;
            let mut b = Explainer::builder(detector);
            if let Some(names) = &normal.names {
                b = b.sensor_names(names.clone());
            }
            if args.minmax {
                let scaler = MinMaxScaler::fit(&normal.values.view())
                    .and_then(|s| s.with_clip(-settings.clip, settings.clip))
                    .map_err(anomaly_xai::Error::from)?;
                b = b.scaler(scaler);
            }
            // The module was not fitted on this series as far as this command knows: all of
            // it is the normal reference.
            b.fit(
                normal.values.view(),
                NormalReference::HeldOut(0..normal.values.nrows()),
            )?
        }
        None => {
            let machine = SmdMachine {
                name: normal.name.clone(),
                train: normal.values.clone(),
                test: normal.values.clone(),
                test_labels: Vec::new(),
                regions: Vec::new(),
            };
            let prepared = PreparedMachine::prepare(&machine, &settings, None, false)?;
            prepared
                .model
                .save_with(detector_stem(&args.out), Overwrite::Always)
                .map_err(anomaly_xai::Error::from)?;
            // The trainer held the last `val_fraction` of the training windows out: those
            // steps are the normal reference the detector never fitted.
            let (w, stride) = (settings.window, settings.train_stride);
            let n =
                window_count(normal.values.nrows(), w, stride).map_err(anomaly_xai::Error::from)?;
            let n_train = n - (n as f64 * settings.train.val_fraction).floor() as usize;
            let held_out = n_train * stride..(n - 1) * stride + w;
            let scaler = prepared
                .scaler
                .with_clip(-settings.clip, settings.clip)
                .map_err(anomaly_xai::Error::from)?;
            let mut b = Explainer::builder(prepared.model).scaler(scaler);
            if let Some(names) = &normal.names {
                b = b.sensor_names(names.clone());
            }
            b.fit(normal.values.view(), NormalReference::HeldOut(held_out))?
        }
    };
    explainer.save(&args.out)?;
    eprintln!(
        "fitted {} on {} ({} steps): methods {}; saved {}",
        explainer.detector_name(),
        normal.name,
        normal.values.nrows(),
        explainer.method_labels().join(", "),
        args.out.display()
    );
    Ok(())
}
