//! The default localizer on both kinds of system (few independent sensors per fault; many
//! correlated sensors per fault, most of them labelled): small synthetic machines of
//! each [`Regime`], prepared as the main job prepares SMD machines ([`PreparedMachine`]:
//! min-max scaling, an LSTM autoencoder, normal reference windows from the validation
//! part of the training data), explained by every method of
//! [`anomaly_xai::defaults::methods`] under [`LocalizerConfig::default`]'s normalization. Every
//! method must beat the chance row of its regime by a margin, with the positive filter of
//! GT@120% and without it; two methods the default set leaves out must miss it, so that
//! the check is seen to fail.
//!
//! The default suite runs one seed per regime; `cargo test --release --test
//! localizer_regimes -- --ignored --nocapture` runs the seed sweep the margins come from.

use anomaly_xai::attrib::Occlusion;
use anomaly_xai::data::synthetic::{generate, Regime, SyntheticConfig};
use anomaly_xai::localizer::{LocalizationRun, Localizer, LocalizerConfig};
use anomaly_xai::lrp::Preset;
use anomaly_xai::method::MethodSpec;
use anomaly_xai::metrics::{Column, Selection, SetScore};
use anomaly_xai::models::train::TrainConfig;
use anomaly_xai_repro::{paper1, MachineSettings, PreparedMachine};

const WINDOW: usize = 16;

const GT_IOU: Column = Column::Set {
    selection: Selection::GT_120,
    score: SetScore::Iou,
};
const GT_IOU_UNFILTERED: Column = Column::Set {
    selection: Selection::GT_120_UNFILTERED,
    score: SetScore::Iou,
};

/// The regime's preset shrunk to 10 sensors, 800 + 600 steps and 6 anomalies of 8 to 24
/// steps, so that a debug build trains and explains it in seconds. The regime's defining
/// settings (which target, how many sensors per fault, factors, magnitude) stay.
fn small(regime: Regime, seed: u64) -> SyntheticConfig {
    SyntheticConfig {
        n_sensors: 12,
        n_train: 1500,
        n_test: 1200,
        n_anomalies: 12,
        anomaly_len: 8..=24,
        min_gap: 40,
        sensors_per_anomaly: 1..=2,
        ..regime.config(seed)
    }
}

/// The main job's preparation at a small scale: windows of 16, stride 2, hidden size 16.
fn settings() -> MachineSettings {
    MachineSettings {
        window: WINDOW,
        train_stride: 2,
        hidden: 16,
        train: TrainConfig {
            epochs: 20,
            batch_size: 32,
            lr: 1e-2,
            patience: None,
            quiet: true,
            ..TrainConfig::default()
        },
        reference_windows: 32,
        baseline_windows: 256,
        attention: false,
        ..MachineSettings::default()
    }
}

fn run(regime: Regime, seed: u64, methods: Vec<MethodSpec>) -> LocalizationRun {
    tch::set_num_threads(1);
    let machine = generate(&small(regime, seed))
        .unwrap()
        .into_smd(format!("{regime}-{seed}"));
    let m = PreparedMachine::prepare(&machine, &settings(), None, false).unwrap();
    let config = LocalizerConfig {
        window: WINDOW,
        max_windows: 4,
        progress: false,
        ..LocalizerConfig::default()
    };
    Localizer::new(config, methods)
        .run(
            &m.context(),
            m.test.view(),
            &machine.regions,
            &paper1::protocol(),
        )
        .unwrap()
}

/// GT@120% IoU of every method (filtered, unfiltered) and the chance row, per regime.
fn scores(run: &LocalizationRun) -> (f64, Vec<(String, f64, f64)>) {
    let chance = run.chance.mean_of(GT_IOU).unwrap();
    let rows = run
        .runs
        .iter()
        .map(|r| {
            (
                r.method.label(),
                r.report.mean_of(GT_IOU).unwrap(),
                r.report.mean_of(GT_IOU_UNFILTERED).unwrap(),
            )
        })
        .collect();
    (chance, rows)
}

/// Every method's lead over chance (filtered, unfiltered) and a summary for the log.
fn leads(regime: Regime, seed: u64, methods: Vec<MethodSpec>) -> (Vec<(String, f64, f64)>, String) {
    let run = run(regime, seed, methods);
    let (chance, rows) = scores(&run);
    let mut summary = format!("{regime} seed {seed}: chance {chance:.3}");
    for (label, iou, unfiltered) in &rows {
        summary.push_str(&format!("; {label} {iou:.3} ({unfiltered:.3})"));
    }
    let leads = rows
        .into_iter()
        .map(|(label, iou, unfiltered)| (label, iou - chance, unfiltered - chance))
        .collect();
    (leads, summary)
}

/// Every default method above chance by `margin`, filtered and unfiltered.
fn check(regime: Regime, seed: u64, margin: f64) {
    let (leads, summary) = leads(regime, seed, default_methods());
    eprintln!("{summary}");
    for (label, filtered, unfiltered) in &leads {
        assert!(*filtered > margin, "{label}: {summary}");
        assert!(*unfiltered > margin, "{label}: {summary}");
    }
}

fn default_methods() -> Vec<MethodSpec> {
    anomaly_xai::defaults::methods(WINDOW as i64, 200, 5, &[0]).unwrap()
}

// Margins: about half the smallest lead over chance of any default method over seeds
// 0-7 (the sweep below), so that seed 0 passing is not luck.
const MARGIN_FEW: f64 = 0.06;
const MARGIN_CORRELATED: f64 = 0.01;

#[test]
fn every_default_method_beats_chance_on_few_independent_sensors() {
    check(Regime::FewSensors, 0, MARGIN_FEW);
}

#[test]
fn every_default_method_beats_chance_on_a_correlated_group() {
    check(Regime::CorrelatedGroup, 0, MARGIN_CORRELATED);
}

/// The check can fail: two methods the default set leaves out miss it, below chance
/// with the positive filter where a fault moves a correlated group. Occlusion with a zero
/// baseline: on min-max scaled data zero is every sensor's training minimum, so
/// `error(x) − error(0)` is negative for almost every sensor and the filter drops the
/// labelled ones. LRP through the LSTM follows the signal that is present, so the sensors
/// a fault pulls down get less relevance, not more.
#[test]
fn a_zero_baseline_and_lstm_lrp_fall_below_chance_on_a_correlated_group() {
    let zero = MethodSpec::attrib(
        Occlusion::params()
            .window([WINDOW as i64, 1])
            .strides([WINDOW as i64, 1])
            .check()
            .unwrap(),
    );
    let lrp = MethodSpec::lrp(Preset::LstmDefault);
    let (leads, summary) = leads(Regime::CorrelatedGroup, 0, vec![zero, lrp]);
    eprintln!("{summary}");
    for (label, filtered, _) in &leads {
        assert!(*filtered < MARGIN_CORRELATED, "{label}: {summary}");
    }
}

/// The seed sweep the margins come from: every default method's smallest lead over
/// chance, filtered and unfiltered, per regime; each must stay above chance.
#[test]
#[ignore = "seed sweep of the regime checks; the default suite runs one seed"]
fn every_default_method_beats_chance_on_both_regimes_for_every_seed() {
    for regime in Regime::ALL {
        let mut smallest: Vec<(String, f64, f64)> = Vec::new();
        for seed in 0..8 {
            let (leads, summary) = leads(regime, seed, default_methods());
            eprintln!("{summary}");
            if smallest.is_empty() {
                smallest = leads;
            } else {
                for (s, l) in smallest.iter_mut().zip(leads) {
                    s.1 = s.1.min(l.1);
                    s.2 = s.2.min(l.2);
                }
            }
        }
        for (label, filtered, unfiltered) in &smallest {
            eprintln!(
                "{regime}: {label}: smallest lead {filtered:.3} ({unfiltered:.3} unfiltered)"
            );
        }
        for (label, filtered, unfiltered) in &smallest {
            assert!(*filtered > 0.0 && *unfiltered > 0.0, "{regime}: {label}");
        }
    }
}
