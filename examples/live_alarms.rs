//! Live alarms, explained as they happen: the embedded SMD machine's detector (the demo's
//! LSTM autoencoder, trained once and cached under `results/cache`), an alarm threshold
//! calibrated on normal data only, and the test half replayed step by step as if it
//! arrived live. Each alarm is explained by an [`Explainer`] fitted once, and printed as
//! one JSON line on stdout (progress goes to stderr), so the output pipes into `jq`:
//!
//! ```text
//! cargo run --release --example live_alarms | jq -c '{at: .raised_at, top: [.top[].sensor]}'
//! ```
//!
//! The detector's score of a step is the mean L1 error of the window that ends there. The
//! threshold is a high quantile (`--quantile`, default 0.995) of the scores of the normal
//! windows the detector was not fitted on (the trainer's validation windows). An alarm
//! starts at the first step above it and is explained as soon as it has lasted
//! `--alarm-steps` steps (default 8) or has ended, whichever comes first, from the live
//! series up to that step only; no new alarm starts before the score falls back below the
//! threshold. Scores are computed in blocks of steps, as a service that polls would; each
//! decision uses only the data up to its step.
//!
//! Run: `cargo run --release --example live_alarms` (about a minute or two with the model
//! cached, plus its training on a fresh clone).

mod common;

use std::process::ExitCode;
use std::time::Instant;

use anomaly_xai::explainer::{Explainer, NormalReference};
use anomaly_xai::models::windows::{sliding_windows_tensor, window_count};
use anomaly_xai::models::ErrorNorm;
use anomaly_xai::{Error, Result};
use anomaly_xai_repro::MachineSettings;
use clap::Parser;
use ndarray::{s, Array2};
use serde_json::json;
use tch::Tensor;

#[derive(Parser, Debug)]
#[command(
    about = "Replays the embedded SMD machine's test half live and explains every alarm as one JSON line"
)]
struct Args {
    /// Quantile of the normal held-out windows' scores used as the alarm threshold
    #[arg(long, default_value_t = 0.995)]
    quantile: f64,
    /// An alarm is explained once it has lasted this many steps (or has ended)
    #[arg(long, default_value_t = 8)]
    alarm_steps: usize,
    /// Sensors printed per alarm
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Explain with the residual alone instead of the default methods
    #[arg(long)]
    residual_only: bool,
    /// Stop after this many steps of the test half (0: all of it)
    #[arg(long, default_value_t = 0)]
    steps: usize,
}

fn main() -> ExitCode {
    common::exit_code(run(Args::parse()))
}

fn run(args: Args) -> Result<()> {
    if !(0.5..1.0).contains(&args.quantile) || args.alarm_steps == 0 {
        return Err(Error::InvalidSetting {
            setting: "--quantile / --alarm-steps",
            value: format!("{} / {}", args.quantile, args.alarm_steps),
            rule: "the quantile must lie in [0.5, 1), the alarm steps be at least 1".into(),
        });
    }
    // One libtorch thread, as the demo: the LSTM's small matrices gain little from more.
    tch::set_num_threads(1);
    let machine = common::smd()?;
    eprintln!("{}: preparing the detector", machine.name);
    let prepared = common::prepare(&machine)?;
    let settings = MachineSettings::default();
    let window = settings.window;

    // The trainer fitted the first windows at the training stride and held the last
    // `val_fraction` out: those steps are the normal reference.
    let n = window_count(machine.train.nrows(), window, settings.train_stride)?;
    let n_train = n - (n as f64 * settings.train.val_fraction).floor() as usize;
    let held_out = n_train * settings.train_stride..(n - 1) * settings.train_stride + window;

    let started = Instant::now();
    let detector = prepared.model;
    let scaler = prepared.scaler.with_clip(-settings.clip, settings.clip)?;
    let mut builder = Explainer::builder(detector).scaler(scaler.clone());
    if args.residual_only {
        builder = builder.methods(vec![anomaly_xai::method::MethodSpec::residual(
            ErrorNorm::SquaredL2,
        )]);
    }
    let explainer = builder.fit(
        machine.train.view(),
        NormalReference::HeldOut(held_out.clone()),
    )?;
    eprintln!(
        "explainer fitted in {:.1} s: {} methods, answer {}; left out: {}",
        started.elapsed().as_secs_f64(),
        explainer.methods().len(),
        explainer.answer_label(),
        match explainer.left_out().len() {
            0 => "none".to_string(),
            _ => explainer
                .left_out()
                .iter()
                .map(|l| format!("{} ({})", l.method, l.reason))
                .collect::<Vec<_>>()
                .join(", "),
        }
    );

    // The threshold, from normal windows only.
    let normal = scaler.transform(&machine.train.slice(s![held_out.clone(), ..]))?;
    let mut normal_scores = window_scores(&explainer, &normal, window)?;
    normal_scores.sort_by(f32::total_cmp);
    let q = ((normal_scores.len() - 1) as f64 * args.quantile).round() as usize;
    let threshold = normal_scores[q];
    eprintln!(
        "threshold {threshold:.5}: the {} quantile of {} normal held-out windows",
        args.quantile,
        normal_scores.len()
    );

    // The test half, replayed.
    let live = match args.steps {
        0 => machine.test.view(),
        k => machine.test.slice(s![..k.min(machine.test.nrows()), ..]),
    };
    let scores = window_scores(&explainer, &scaler.transform(&live)?, window)?;
    let mut alarm: Option<(usize, bool)> = None;
    let mut count = 0;
    for (k, &score) in scores.iter().enumerate() {
        let t = k + window - 1; // the step the window ends at
        let above = score > threshold;
        if alarm.is_none() && above {
            alarm = Some((t, false));
        }
        let Some((start, explained)) = alarm else {
            continue;
        };
        let end = if above { t + 1 } else { t };
        if !explained && (!above || end - start >= args.alarm_steps) {
            count += 1;
            let began = Instant::now();
            let x = explainer.explain(live.slice(s![..end, ..]), start..end)?;
            let ms = began.elapsed().as_secs_f64() * 1e3;
            let line = json!({
                "alarm": count,
                "raised_at": start,
                "span": [start, end],
                "score": score,
                "threshold": threshold,
                "method": x.answer.method,
                "top": x.top(args.top),
                "ms": (ms * 10.0).round() / 10.0,
            });
            println!("{line}");
            alarm = Some((start, true));
        }
        if !above {
            alarm = None;
        }
    }
    eprintln!(
        "{count} alarms over {} steps, {:.1} s in all",
        live.nrows(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The detector's score of every window of `series` (already scaled): the mean L1 error
/// of its cells, in blocks of 512 windows.
fn window_scores(explainer: &Explainer, series: &Array2<f32>, window: usize) -> Result<Vec<f32>> {
    let t =
        anomaly_xai::models::convert::array_to_tensor(&series.view().into_dyn(), tch::Device::Cpu)?;
    let windows = sliding_windows_tensor(&t, window, 1)?;
    let n = windows.size()[0];
    let _guard = tch::no_grad_guard();
    let mut out = Vec::with_capacity(n as usize);
    let mut k = 0;
    while k < n {
        let b = 512.min(n - k);
        let x = windows.f_narrow(0, k, b)?.f_contiguous()?;
        let e: Tensor = explainer.with_detector(|d| d.cell_errors(&x, ErrorNorm::L1))?;
        out.extend(Vec::<f32>::try_from(e.f_mean_dim(
            [1, 2].as_slice(),
            false,
            tch::Kind::Float,
        )?)?);
        k += b;
    }
    Ok(out)
}
