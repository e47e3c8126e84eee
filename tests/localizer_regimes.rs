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
//! A trained model's scores move with the CPU kernels libtorch picks as much as with the
//! training seed, so every check runs with the kernels pinned ([`pinned_kernels::here`])
//! and on a lead that [`sweep`] shows to be wide over seeds: one seed where every seed
//! clears the bar by far (few independent sensors), the mean of [`CORRELATED_SEEDS`]
//! seeds where single seeds come close to chance (a correlated group).
//!
//! `cargo test --release --test localizer_regimes -- --ignored --nocapture` runs the seed
//! sweep the margins come from.

use anomaly_xai::attrib::{BaselineSpec, FeatureAblation, Occlusion};
use anomaly_xai::data::synthetic::{generate, Regime, SyntheticConfig};
use anomaly_xai::localizer::{Grouping, LocalizationRun, Localizer, LocalizerConfig};
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

/// A group shift at the scale where perturbing one sensor at a time fails: the preset's
/// 19 sensors in 3 groups, windows of [`GROUP_SHIFT_WINDOW`], otherwise shrunk as
/// [`small`].
fn group_shift(seed: u64) -> SyntheticConfig {
    SyntheticConfig {
        n_train: 1500,
        n_test: 1200,
        n_anomalies: 12,
        anomaly_len: 8..=24,
        min_gap: 40,
        ..Regime::GroupShift.config(seed)
    }
}

/// Windows long enough for a group's normal swing to exceed its shift, as a server's
/// metrics swing over the main job's windows of 50: then a sensor put back to its mean
/// for a whole window disagrees with its group by more than the fault moved it.
const GROUP_SHIFT_WINDOW: usize = 40;

/// The main job's preparation at a small scale: windows of `window`, stride 2, hidden
/// size 16.
fn settings(window: usize) -> MachineSettings {
    MachineSettings {
        window,
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
    run_on(&small(regime, seed), WINDOW, methods, Grouping::PerSensor)
}

fn run_on(
    cfg: &SyntheticConfig,
    window: usize,
    methods: Vec<MethodSpec>,
    grouping: Grouping,
) -> LocalizationRun {
    tch::set_num_threads(1);
    let machine = generate(cfg)
        .unwrap()
        .into_smd(format!("seed-{}", cfg.seed));
    let m = PreparedMachine::prepare(&machine, &settings(window), None, false).unwrap();
    let config = LocalizerConfig {
        window,
        max_windows: 4,
        progress: false,
        grouping,
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

/// Leads averaged over `seeds` (one trained machine each, trained side by side), and
/// the summary lines of the runs.
fn mean_leads(
    regime: Regime,
    seeds: std::ops::Range<u64>,
    methods: fn() -> Vec<MethodSpec>,
) -> (Vec<(String, f64, f64)>, String) {
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = seeds
            .map(|seed| s.spawn(move || leads(regime, seed, methods())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let n = runs.len() as f64;
    let mut mean: Vec<(String, f64, f64)> = runs[0]
        .0
        .iter()
        .map(|(l, ..)| (l.clone(), 0.0, 0.0))
        .collect();
    for (leads, _) in &runs {
        for (m, (_, filtered, unfiltered)) in mean.iter_mut().zip(leads) {
            m.1 += filtered / n;
            m.2 += unfiltered / n;
        }
    }
    let summary = runs
        .into_iter()
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join("\n");
    (mean, summary)
}

fn default_methods() -> Vec<MethodSpec> {
    anomaly_xai::defaults::methods(WINDOW as i64, 200, 5, &[0]).unwrap()
}

/// Two methods the default set leaves out. Occlusion with a zero baseline: on min-max
/// scaled data zero is every sensor's training minimum, so `error(x) − error(0)` is
/// negative for almost every sensor and the filter drops the labelled ones. LRP through
/// the LSTM follows the signal that is present, so the sensors a fault pulls down get
/// less relevance, not more.
fn left_out_methods() -> Vec<MethodSpec> {
    let zero = MethodSpec::attrib(
        Occlusion::params()
            .window([WINDOW as i64, 1])
            .strides([WINDOW as i64, 1])
            .check()
            .unwrap(),
    );
    vec![zero, MethodSpec::lrp(Preset::LstmDefault)]
}

/// Seeds averaged on a correlated group: there a single seed's lead ranges from about 0
/// to 0.3 for some default methods (Feature Permutation; deviation LRP from the
/// reconstruction) and from −0.3 to about 0 for the left-out ones, so one seed's verdict
/// is luck; the mean of 3 is not (see the margin).
const CORRELATED_SEEDS: u64 = 3;

// Margins, from the sweep below (seeds 0-7, kernels pinned). Few independent sensors:
// every default method's smallest lead over any seed is 0.195, so one seed and a third
// of that. A correlated group: over every choice of 3 of the 8 seeds, the default
// methods' smallest mean lead is 0.051 and the left-out methods' largest is −0.041, so
// the mean of 3 seeds is checked against 0.02, between the two with room on each side.
const MARGIN_FEW: f64 = 0.06;
const MARGIN_CORRELATED: f64 = 0.02;

#[test]
fn every_default_method_beats_chance_on_few_independent_sensors() {
    if !pinned_kernels::here() {
        return;
    }
    let (leads, summary) = leads(Regime::FewSensors, 0, default_methods());
    eprintln!("{summary}");
    for (label, filtered, unfiltered) in &leads {
        assert!(*filtered > MARGIN_FEW, "{label}: {summary}");
        assert!(*unfiltered > MARGIN_FEW, "{label}: {summary}");
    }
}

#[test]
fn every_default_method_beats_chance_on_a_correlated_group() {
    if !pinned_kernels::here() {
        return;
    }
    let (mean, summary) = mean_leads(
        Regime::CorrelatedGroup,
        0..CORRELATED_SEEDS,
        default_methods,
    );
    eprintln!("{summary}");
    for (label, filtered, unfiltered) in &mean {
        eprintln!("{label}: mean lead {filtered:.3} ({unfiltered:.3} unfiltered)");
        assert!(
            *filtered > MARGIN_CORRELATED,
            "{label}: mean lead {filtered:.3}\n{summary}"
        );
        assert!(
            *unfiltered > MARGIN_CORRELATED,
            "{label}: mean lead {unfiltered:.3} unfiltered\n{summary}"
        );
    }
}

/// The check can fail: two methods the default set leaves out ([`left_out_methods`])
/// miss it, below chance with the positive filter where a fault moves a correlated group.
#[test]
fn a_zero_baseline_and_lstm_lrp_fall_below_chance_on_a_correlated_group() {
    if !pinned_kernels::here() {
        return;
    }
    let (mean, summary) = mean_leads(
        Regime::CorrelatedGroup,
        0..CORRELATED_SEEDS,
        left_out_methods,
    );
    eprintln!("{summary}");
    for (label, filtered, _) in &mean {
        eprintln!("{label}: mean lead {filtered:.3}");
        assert!(
            *filtered < MARGIN_CORRELATED,
            "{label}: mean lead {filtered:.3}\n{summary}"
        );
    }
}

/// The seed sweep the margins come from, per regime: every default method's smallest
/// lead over chance (filtered, unfiltered) over single seeds and over the means of any
/// [`CORRELATED_SEEDS`] seeds, and the left-out methods' largest. Each regime's checks
/// must hold for every seed (few independent sensors) and for every choice of seeds (a
/// correlated group), not only for the seeds the default suite runs.
#[test]
#[ignore = "seed sweep of the regime checks; the default suite runs one seed or three"]
fn sweep() {
    if !pinned_kernels::here() {
        return;
    }
    let n_default = default_methods().len();
    let all = || {
        let mut m = default_methods();
        m.extend(left_out_methods());
        m
    };
    let k = CORRELATED_SEEDS as usize;
    // The group shift has its own checks, at its own window length.
    for regime in [Regime::FewSensors, Regime::CorrelatedGroup] {
        // Per method, the (filtered, unfiltered) lead of every seed.
        let mut table: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for seed in 0..8 {
            let (leads, summary) = leads(regime, seed, all());
            eprintln!("{summary}");
            if table.is_empty() {
                table = leads
                    .iter()
                    .map(|(l, ..)| (l.clone(), Vec::new()))
                    .collect();
            }
            for (t, (_, f, u)) in table.iter_mut().zip(leads) {
                t.1.push((f, u));
            }
        }
        for (i, (label, by_seed)) in table.iter().enumerate() {
            let kept = i < n_default;
            let (f1, u1) = extreme(by_seed, kept);
            let (fk, uk) = extreme(&subset_means(by_seed, k), kept);
            let which = if kept {
                "smallest"
            } else {
                "left out, largest"
            };
            eprintln!(
                "{regime}: {label}: {which} lead {f1:.3} ({u1:.3} unfiltered), \
                 mean of {k} seeds {fk:.3} ({uk:.3})"
            );
            match (regime, kept) {
                (Regime::FewSensors, true) => {
                    assert!(f1 > MARGIN_FEW && u1 > MARGIN_FEW, "{regime}: {label}")
                }
                (Regime::CorrelatedGroup, true) => assert!(
                    fk > MARGIN_CORRELATED && uk > MARGIN_CORRELATED,
                    "{regime}: {label}"
                ),
                (Regime::CorrelatedGroup, false) => {
                    assert!(fk < MARGIN_CORRELATED, "{regime}: {label}")
                }
                _ => {}
            }
        }
    }
}

/// The mean of every choice of `k` of the values.
fn subset_means(values: &[(f64, f64)], k: usize) -> Vec<(f64, f64)> {
    let n = values.len();
    (0u32..1 << n)
        .filter(|mask| mask.count_ones() as usize == k)
        .map(|mask| {
            let picked = (0..n).filter(|i| mask >> i & 1 == 1).map(|i| values[i]);
            let (f, u) = picked.fold((0.0, 0.0), |(a, b), (f, u)| (a + f, b + u));
            (f / k as f64, u / k as f64)
        })
        .collect()
}

/// The smallest (`min`) or largest filtered and unfiltered values.
fn extreme(values: &[(f64, f64)], min: bool) -> (f64, f64) {
    let pick = |a: f64, b: f64| if min { a.min(b) } else { a.max(b) };
    let start = if min {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    };
    values
        .iter()
        .fold((start, start), |(f, u), &(a, b)| (pick(f, a), pick(u, b)))
}

/// Per method: its label and GT@120% IoU, filtered and unfiltered.
type Scores = Vec<(String, f64, f64)>;

/// Per grouping, every method's GT@120% IoU (filtered, unfiltered), the deviation row,
/// then chance, averaged over `seeds` machines of [`group_shift`] (each trained once,
/// side by side, and explained under every grouping); and the per-machine lines.
fn group_shift_scores(
    seeds: std::ops::Range<u64>,
    methods: fn(i64) -> Vec<MethodSpec>,
) -> (Vec<(Grouping, Scores)>, String) {
    const GROUPINGS: [Grouping; 2] = [Grouping::PerSensor, Grouping::Correlated];
    let w = GROUP_SHIFT_WINDOW;
    let per_machine: Vec<Vec<LocalizationRun>> = std::thread::scope(|s| {
        let handles: Vec<_> = seeds
            .map(|seed| {
                s.spawn(move || {
                    tch::set_num_threads(1);
                    let machine = generate(&group_shift(seed))
                        .unwrap()
                        .into_smd(format!("group-shift-{seed}"));
                    let m = PreparedMachine::prepare(&machine, &settings(w), None, false).unwrap();
                    GROUPINGS
                        .map(|grouping| {
                            let config = LocalizerConfig {
                                window: w,
                                max_windows: 4,
                                progress: false,
                                grouping,
                                ..LocalizerConfig::default()
                            };
                            Localizer::new(config, methods(w as i64))
                                .run(
                                    &m.context(),
                                    m.test.view(),
                                    &machine.regions,
                                    &paper1::protocol(),
                                )
                                .unwrap()
                        })
                        .to_vec()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let n = per_machine.len() as f64;
    let mut summary = String::new();
    let mut out = Vec::new();
    for (g, grouping) in GROUPINGS.into_iter().enumerate() {
        let mut mean: Vec<(String, f64, f64)> = Vec::new();
        for (i, runs) in per_machine.iter().enumerate() {
            let r = &runs[g];
            let mut rows: Vec<(String, f64, f64)> = r
                .runs
                .iter()
                .chain(r.deviation.as_ref())
                .map(|m| {
                    let unfiltered = m.report.mean_of(GT_IOU_UNFILTERED).unwrap();
                    (
                        m.method.label(),
                        m.report.mean_of(GT_IOU).unwrap(),
                        unfiltered,
                    )
                })
                .collect();
            let unfiltered = r.chance.mean_of(GT_IOU_UNFILTERED).unwrap();
            rows.push((
                "chance".into(),
                r.chance.mean_of(GT_IOU).unwrap(),
                unfiltered,
            ));
            summary.push_str(&format!("group-shift {grouping:?} machine {i}:"));
            for (l, f, u) in &rows {
                summary.push_str(&format!(" {l} {f:.3} ({u:.3});"));
            }
            summary.push('\n');
            if mean.is_empty() {
                mean = rows.iter().map(|(l, ..)| (l.clone(), 0.0, 0.0)).collect();
            }
            for (m, (_, f, u)) in mean.iter_mut().zip(&rows) {
                m.1 += f / n;
                m.2 += u / n;
            }
        }
        out.push((grouping, mean));
    }
    (out, summary)
}

/// The methods that perturb the pipeline's groups, as the default set runs them (Feature
/// Permutation, Shapley Value Sampling, Kernel SHAP), and Feature Ablation with the
/// training mean (whole-window Occlusion's computation, over the pipeline's groups).
fn grouped_perturbations(window: i64) -> Vec<MethodSpec> {
    let mut m: Vec<MethodSpec> = anomaly_xai::defaults::methods(window, 200, 5, &[0])
        .unwrap()
        .into_iter()
        .filter(|m| {
            let l = m.label();
            l.starts_with("Feature Permutation")
                || l.starts_with("Shapley")
                || l.starts_with("Kernel")
        })
        .collect();
    m.push(MethodSpec::attrib(FeatureAblation::default()).baseline(BaselineSpec::FeatureMeans));
    m
}

/// Group-shift machines averaged per check.
const GROUP_SHIFT_SEEDS: u64 = 3;

/// Where a fault shifts a correlated group, perturbing the group together pays: every
/// method that perturbs the pipeline's groups scores higher with correlated groups
/// ([`Grouping::Correlated`]) than one sensor at a time, by a margin, on the mean of
/// [`GROUP_SHIFT_SEEDS`] machines. Reverting the grouping (one group per sensor) gives the
/// same scores, and the check fails.
#[test]
fn correlated_groups_lift_every_grouped_perturbation_on_a_group_shift() {
    if !pinned_kernels::here() {
        return;
    }
    let (by_grouping, summary) = group_shift_scores(0..GROUP_SHIFT_SEEDS, grouped_perturbations);
    eprintln!("{summary}");
    let (per_sensor, correlated) = (&by_grouping[0].1, &by_grouping[1].1);
    let methods = grouped_perturbations(GROUP_SHIFT_WINDOW as i64).len();
    for ((label, one, _), (_, grouped, _)) in per_sensor.iter().zip(correlated).take(methods) {
        eprintln!("{label}: {one:.3} one sensor at a time, {grouped:.3} correlated groups");
        assert!(
            grouped - one > MARGIN_GROUPED,
            "{label}: {one:.3} -> {grouped:.3}\n{summary}"
        );
    }
}

/// The least a grouped perturbation method gains from correlated groups on a group
/// shift (measured: 0.05 to 0.11 on the mean of 3 machines).
const MARGIN_GROUPED: f64 = 0.02;

/// Every method of the default set and Feature Ablation with the training mean, with one
/// group per sensor and with correlated groups, on group-shift machines, and the deviation
/// row: the numbers of `docs/reproduction/regimes.md`. `SEEDS=8` for more machines.
#[test]
#[ignore = "measurement on the group-shift regime; prints the mean of the machines per grouping"]
fn group_shift_table() {
    if !pinned_kernels::here() {
        return;
    }
    let seeds: u64 = std::env::var("SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(GROUP_SHIFT_SEEDS);
    let all = |w: i64| {
        let mut m = anomaly_xai::defaults::methods(w, 200, 5, &[0]).unwrap();
        m.push(MethodSpec::attrib(FeatureAblation::default()).baseline(BaselineSpec::FeatureMeans));
        m
    };
    let (by_grouping, summary) = group_shift_scores(0..seeds, all);
    eprintln!("{summary}");
    for (grouping, mean) in by_grouping {
        eprintln!("group-shift {grouping:?}, mean of {seeds} machines:");
        for (l, f, u) in &mean {
            eprintln!("  {l}: {f:.3} ({u:.3})");
        }
    }
}

/// Every default method and the deviation row on the first two regimes, as their checks
/// run them, mean of `SEEDS` machines (default 8): the margins over chance and over the
/// deviation row of `docs/reproduction/regimes.md` and `defaults::methods`.
/// `GROUPING=correlated` perturbs correlated groups instead of one sensor at a time.
#[test]
#[ignore = "measurement of the deviation row on the first two regimes; prints means"]
fn deviation_row_table() {
    if !pinned_kernels::here() {
        return;
    }
    let seeds: u64 = std::env::var("SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let grouping = match std::env::var("GROUPING").as_deref() {
        Ok("correlated") => Grouping::Correlated,
        _ => Grouping::PerSensor,
    };
    for regime in [Regime::FewSensors, Regime::CorrelatedGroup] {
        let runs: Vec<LocalizationRun> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..seeds)
                .map(|seed| {
                    s.spawn(move || {
                        run_on(&small(regime, seed), WINDOW, default_methods(), grouping)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut mean: Scores = Vec::new();
        for r in &runs {
            let mut rows: Scores = r
                .runs
                .iter()
                .chain(r.deviation.as_ref())
                .map(|m| {
                    let unfiltered = m.report.mean_of(GT_IOU_UNFILTERED).unwrap();
                    (
                        m.method.label(),
                        m.report.mean_of(GT_IOU).unwrap(),
                        unfiltered,
                    )
                })
                .collect();
            let unfiltered = r.chance.mean_of(GT_IOU_UNFILTERED).unwrap();
            rows.push((
                "chance".into(),
                r.chance.mean_of(GT_IOU).unwrap(),
                unfiltered,
            ));
            if mean.is_empty() {
                mean = rows.iter().map(|(l, ..)| (l.clone(), 0.0, 0.0)).collect();
            }
            for (m, (_, f, u)) in mean.iter_mut().zip(&rows) {
                m.1 += f / seeds as f64;
                m.2 += u / seeds as f64;
            }
        }
        eprintln!("{regime}, {grouping:?}, mean of {seeds} machines:");
        for (l, f, u) in &mean {
            eprintln!("  {l}: {f:.3} ({u:.3})");
        }
    }
}
