//! `anomaly-xai explain`: a saved explainer and a live series with alarm spans (given, or
//! raised by a threshold on the detector's window score) to one JSON line per alarm with
//! the ranked sensors.

use std::ops::Range;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use anomaly_xai::explainer::Explainer;
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::persist::SavedModel;
use anomaly_xai::models::windows::sliding_windows_tensor;
use anomaly_xai::models::{ErrorNorm, LstmAe, TorchScriptDetector};
use anomaly_xai::ndarray::Array2;

use crate::error::{CliError, Result};
use crate::fit::detector_stem;
use crate::series::{Half, SeriesArgs};

/// `explain`'s flags.
#[derive(Args, Debug, Clone)]
pub struct ExplainArgs {
    /// The explainer that `fit` saved
    #[arg(long)]
    pub explainer: PathBuf,
    /// The TorchScript module it was fitted with [default: the LSTM autoencoder saved
    /// beside the explainer]
    #[arg(long)]
    pub torchscript: Option<PathBuf>,
    /// The live series (an SMD machine's test half, or a CSV file).
    #[command(flatten)]
    pub series: SeriesArgs,
    /// Alarm spans, comma-separated `start-end` steps (end exclusive), e.g. `100-120,300-310`
    #[arg(
        long,
        conflicts_with = "threshold",
        required_unless_present = "threshold"
    )]
    pub alarms: Option<String>,
    /// Raise alarms where the detector's score of the window ending at a step (mean L1
    /// error of its cells, on the scaled series) is above this; each run of such steps is
    /// one alarm
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Sensors per alarm in the output
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// libtorch threads (0: libtorch's default)
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
}

/// `start-end,start-end`, each non-empty.
fn parse_spans(text: &str) -> Result<Vec<Range<usize>>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let bad = |rule: &str| CliError::Arg {
                arg: "--alarms",
                value: s.to_string(),
                rule: rule.to_string(),
            };
            let (a, b) = s.split_once('-').ok_or_else(|| bad("expected start-end"))?;
            let a: usize = a.trim().parse().map_err(|_| bad("start is not a step"))?;
            let b: usize = b.trim().parse().map_err(|_| bad("end is not a step"))?;
            if b <= a {
                return Err(bad("end must lie after start (end exclusive)"));
            }
            Ok(a..b)
        })
        .collect()
}

/// Runs `explain`.
///
/// # Errors
/// Every argument is checked before any work ([`CliError::Arg`]); then the explainer's
/// (another detector, a damaged file), the data's and the explanations' errors.
pub fn explain(args: &ExplainArgs) -> Result<()> {
    args.series.check()?;
    if !args.explainer.is_file() {
        return Err(CliError::Arg {
            arg: "--explainer",
            value: args.explainer.display().to_string(),
            rule: "is not a file".into(),
        });
    }
    let spans = match &args.alarms {
        Some(text) => {
            let spans = parse_spans(text)?;
            if spans.is_empty() {
                return Err(CliError::Arg {
                    arg: "--alarms",
                    value: text.clone(),
                    rule: "names no span".into(),
                });
            }
            Some(spans)
        }
        None => None,
    };
    if let Some(t) = args.threshold.filter(|t| !t.is_finite()) {
        return Err(CliError::Arg {
            arg: "--threshold",
            value: t.to_string(),
            rule: "must be a finite number".into(),
        });
    }
    if args.top == 0 {
        return Err(CliError::Arg {
            arg: "--top",
            value: "0".into(),
            rule: "must be at least 1".into(),
        });
    }
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    let explainer = match &args.torchscript {
        Some(ts) => {
            // The sample shape is the saved explainer's; the module is checked against it.
            let shape = saved_shape(&args.explainer)?;
            let d = TorchScriptDetector::autoencoder(ts, shape, tch::Device::Cpu)
                .map_err(anomaly_xai::Error::from)?;
            Explainer::load(&args.explainer, d).map_err(|e| refused(args, e))?
        }
        None => {
            let stem = detector_stem(&args.explainer);
            let d = LstmAe::load(&stem, tch::Device::Cpu).map_err(anomaly_xai::Error::from)?;
            Explainer::load(&args.explainer, d).map_err(|e| refused(args, e))?
        }
    };
    let live = args.series.read(Half::Test)?.values;
    let spans = match (spans, args.threshold) {
        (Some(s), _) => s,
        (None, Some(t)) => threshold_spans(&explainer, &live, t)?,
        (None, None) => unreachable!("clap requires --alarms or --threshold"),
    };
    if spans.is_empty() {
        eprintln!("no alarm: no window scores above the threshold");
    }
    for (i, span) in spans.into_iter().enumerate() {
        let x = explainer.explain(live.view(), span.clone())?;
        let line = json!({
            "alarm": i + 1,
            "span": [span.start, span.end],
            "method": x.answer.method,
            "top": x.top(args.top),
        });
        println!("{line}");
    }
    Ok(())
}

/// A saved explainer that does not load (another detector, a damaged file), named.
fn refused(args: &ExplainArgs, e: anomaly_xai::Error) -> CliError {
    CliError::Arg {
        arg: "--explainer",
        value: args.explainer.display().to_string(),
        rule: e.to_string(),
    }
}

/// The sample shape a saved explainer records (`detector.sample_shape`).
fn saved_shape(path: &std::path::Path) -> Result<Vec<i64>> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|source| CliError::Json {
        path: path.to_path_buf(),
        what: "a saved explainer",
        source,
    })?;
    v.pointer("/detector/sample_shape")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .ok_or_else(|| CliError::Arg {
            arg: "--explainer",
            value: path.display().to_string(),
            rule: "records no detector sample shape".into(),
        })
}

/// The runs of steps whose window (ending there) scores above `threshold`.
fn threshold_spans(
    explainer: &Explainer,
    live: &Array2<f32>,
    threshold: f32,
) -> Result<Vec<Range<usize>>> {
    let window = explainer.window();
    let scores = window_scores(explainer, live)?;
    let mut spans = Vec::new();
    let mut start = None;
    for (k, &s) in scores.iter().enumerate() {
        let step = k + window - 1;
        match (s > threshold, start) {
            (true, None) => start = Some(step),
            (false, Some(a)) => {
                spans.push(a..step);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        spans.push(a..live.nrows());
    }
    Ok(spans)
}

/// The detector's score of every window of `live` (scaled as the explainer scales): the
/// mean L1 error of its cells, in blocks of 512 windows.
fn window_scores(explainer: &Explainer, live: &Array2<f32>) -> anomaly_xai::Result<Vec<f32>> {
    let scaled = match explainer.scaler() {
        Some(s) => s.transform(&live.view())?,
        None => live.clone(),
    };
    let t = array_to_tensor(&scaled.view().into_dyn(), tch::Device::Cpu)?;
    let windows = sliding_windows_tensor(&t, explainer.window(), 1)?;
    let n = windows.size()[0];
    let _guard = tch::no_grad_guard();
    let mut scores: Vec<f32> = Vec::with_capacity(n as usize);
    let mut k = 0;
    while k < n {
        let b = 512.min(n - k);
        let x = windows.f_narrow(0, k, b)?.f_contiguous()?;
        let e = explainer.with_detector(|d| d.cell_errors(&x, ErrorNorm::L1))?;
        let mean = e.f_mean_dim([1, 2].as_slice(), false, tch::Kind::Float)?;
        scores.extend(Vec::<f32>::try_from(mean)?);
        k += b;
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::parse_spans;

    #[test]
    fn spans_parse_and_bad_ones_are_named() {
        assert_eq!(parse_spans("1-3, 10-20").unwrap(), vec![1..3, 10..20]);
        for bad in ["3-3", "5-2", "a-2", "4", "1-b"] {
            let e = parse_spans(bad).unwrap_err().to_string();
            assert!(e.contains("--alarms") && e.contains(bad), "{e}");
        }
    }
}
