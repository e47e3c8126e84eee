//! The localization pipeline end to end on a tiny synthetic machine with planted
//! anomalous sensors: scale, window, train a small LSTM autoencoder, explain
//! every planted region with several methods, and check that the planted sensors score
//! high, while the same scores against shuffled ground truth score at chance. Then the
//! pipeline's errors on bad input.

use std::ops::RangeInclusive;

use anomaly_xai::attrib::{BaselineSpec, FeatureAblation, IntegratedGradients, Occlusion};
use anomaly_xai::data::synthetic::{
    generate, AnomalyKind, Polarity, SyntheticConfig, SyntheticMachine,
};
use anomaly_xai::localizer::{LocalizationRun, Localizer, LocalizerConfig, Normalization};
use anomaly_xai::lrp::{Preset, RootPoint};
use anomaly_xai::method::{Context, MethodSpec};
use anomaly_xai::metrics::{Column, Protocol, RankMetric, Region, Selection, SetScore};
use anomaly_xai::models::convert::array_to_tensor;
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::windows::sliding_windows;
use anomaly_xai::models::ErrorNorm;
use anomaly_xai::models::{LstmAe, LstmAeConfig, MinMaxScaler};
use anomaly_xai::Error;
use ndarray::{Array2, ArrayView1};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Tensor};

const WINDOW: usize = 16;
const SENSORS: usize = 8;

/// 8 sensors on 3 factors, 600 + 400 steps, 6 level shifts of the sensors' whole normal
/// range (magnitude 1) on 2 or 3 sensors each: strong enough that a working pipeline
/// finds them whatever the training noise, on few enough sensors that chance stays far
/// below perfect (about 0.25 GT@120% IoU).
fn machine_config(seed: u64, polarity: Polarity, len: RangeInclusive<usize>) -> SyntheticConfig {
    SyntheticConfig {
        n_sensors: SENSORS,
        n_factors: 3,
        n_train: 600,
        n_test: 400,
        n_anomalies: 6,
        sensors_per_anomaly: 2..=3,
        anomaly_len: len,
        min_gap: 40,
        kinds: vec![AnomalyKind::LevelShift],
        magnitude: 1.0,
        polarity,
        noise: 0.02,
        seed,
        ..SyntheticConfig::default()
    }
}

/// Upward shifts about as long as a window: every method of [`all_methods`] sees them.
/// (Whole-window occlusion of a region only a few steps long occludes mostly normal
/// steps, and LRP-ε's relevance takes the sign of the input, so a drop towards 0 reads
/// as negative relevance; [`both_directions`] covers drops with the methods that see
/// them.)
fn rises(seed: u64) -> SyntheticConfig {
    machine_config(seed, Polarity::Up, 12..=20)
}

/// Shorter shifts up or down.
fn both_directions(seed: u64) -> SyntheticConfig {
    machine_config(seed, Polarity::Both, 6..=12)
}

/// Occlusion by patches of `steps` × 1 sensor, side by side.
fn occlusion(steps: i64) -> MethodSpec {
    MethodSpec::attrib(
        Occlusion::params()
            .window([steps, 1])
            .strides([steps, 1])
            .check()
            .unwrap(),
    )
}

fn ig() -> MethodSpec {
    MethodSpec::attrib(IntegratedGradients::params().n_steps(8).check().unwrap())
}

fn all_methods() -> Vec<MethodSpec> {
    vec![
        MethodSpec::residual(ErrorNorm::L1),
        occlusion(WINDOW as i64),
        ig(),
        MethodSpec::lrp(Preset::LstmDefault),
        MethodSpec::attrib(FeatureAblation::default()).baseline(BaselineSpec::FeatureMeans),
    ]
}

/// Methods whose scores do not depend on which side of 0 the anomaly lies: the residual,
/// integrated gradients (its path crosses the anomaly whatever its sign), occlusion by
/// time-local patches of 4 steps (so a short region's own steps are occluded) and
/// deviation LRP from the window's reconstruction and from the training mean (a drop is a
/// deviation as a rise is).
fn sign_free_methods() -> Vec<MethodSpec> {
    vec![
        MethodSpec::residual(ErrorNorm::L1),
        occlusion(4),
        ig(),
        MethodSpec::lrp_deviation(RootPoint::Reconstruction),
        MethodSpec::lrp_deviation(RootPoint::Baseline),
    ]
}

const GT_IOU: Column = Column::Set {
    selection: Selection::GT_120,
    score: SetScore::Iou,
};
const GT_IOU_UNFILTERED: Column = Column::Set {
    selection: Selection::GT_120_UNFILTERED,
    score: SetScore::Iou,
};

fn protocol() -> Protocol {
    Protocol::new(
        vec![Selection::GT_120, Selection::GT_120_UNFILTERED],
        SetScore::PAPER.to_vec(),
        vec![RankMetric::HIT_150],
    )
}

/// A trained detector on a scaled synthetic machine.
struct Fixture {
    machine: SyntheticMachine,
    test: Array2<f32>,
    train_windows: Tensor,
    model: LstmAe,
}

fn fixture(config: &SyntheticConfig) -> Fixture {
    tch::set_num_threads(1);
    let machine = generate(config).unwrap();
    // As the SMD job does: scaler fitted on train, test clipped to [-3, 3].
    let scaler = MinMaxScaler::fit(&machine.train.view()).unwrap();
    let train_scaled = scaler.transform(&machine.train.view()).unwrap();
    let test = scaler
        .with_clip(-3.0, 3.0)
        .unwrap()
        .transform(&machine.test.view())
        .unwrap();
    let windows = sliding_windows(&train_scaled.view(), WINDOW, 2).unwrap();
    let train_windows = array_to_tensor(&windows.data.view().into_dyn(), Device::Cpu).unwrap();
    let model_config = LstmAeConfig::new(SENSORS as i64, WINDOW as i64, 16);
    let model = LstmAe::seeded(&model_config, Device::Cpu, 0).unwrap();
    let cfg = TrainConfig {
        epochs: 20,
        batch_size: 32,
        lr: 1e-2,
        patience: None,
        quiet: true,
        ..TrainConfig::default()
    };
    let summary = train(&model, &train_windows, &cfg).unwrap();
    // The best epoch's weights are kept; they must beat the first epoch's.
    let (first, best) = (summary.val_losses[0], summary.best_val_loss.unwrap());
    assert!(
        best < first,
        "training did not lower the validation loss: {:?}",
        summary.val_losses
    );
    Fixture {
        machine,
        test,
        train_windows,
        model,
    }
}

fn localizer(methods: Vec<MethodSpec>) -> Localizer {
    // Raw scores: these checks are about the pipeline's plumbing, and the contexts here
    // hold no reference windows (tests/localizer_regimes.rs runs the default).
    let config = LocalizerConfig {
        window: WINDOW,
        max_windows: 4,
        normalization: Normalization::None,
        progress: false,
        ..LocalizerConfig::default()
    };
    Localizer::new(config, methods)
}

fn run_pipeline(fx: &Fixture, methods: Vec<MethodSpec>) -> LocalizationRun {
    let ctx = Context {
        train: Some(&fx.train_windows),
        ..Context::new(&fx.model)
    };
    localizer(methods)
        .run(&ctx, fx.test.view(), &fx.machine.regions, &protocol())
        .unwrap()
}

/// The planted sensors' mean rank in one score vector, as a fraction of the last rank:
/// 0 when they are the top-scored sensors, 1 when they are the bottom ones; a random
/// ranking gives 0.5 on average.
fn relative_rank(scores: ArrayView1<'_, f64>, truth: &[usize]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let rank = |s: &usize| order.iter().position(|o| o == s).unwrap() as f64;
    truth.iter().map(rank).sum::<f64>() / truth.len() as f64 / (scores.len() - 1) as f64
}

/// [`relative_rank`] averaged over the regions.
fn mean_relative_rank(scores: &Array2<f64>, regions: &[Region]) -> f64 {
    let total: f64 = scores
        .rows()
        .into_iter()
        .zip(regions)
        .map(|(row, r)| relative_rank(row, &r.features))
        .sum();
    total / regions.len() as f64
}

/// The regions with their sensors relabelled by a random permutation of the sensor
/// indices (a fresh one per region and draw), `draws` times over.
fn shuffled_truth(regions: &[Region], draws: usize, seed: u64) -> Vec<Region> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(regions.len() * draws);
    for _ in 0..draws {
        for r in regions {
            let mut perm: Vec<usize> = (0..SENSORS).collect();
            perm.shuffle(&mut rng);
            let features = r.features.iter().map(|&f| perm[f]).collect();
            out.push(Region::new(r.start, r.end, features).unwrap());
        }
    }
    out
}

/// What a method must reach: GT@120% IoU above chance by `iou_margin` (with and without
/// the positive filter), and the planted sensors' mean relative rank below `max_rank`.
struct Bar {
    iou_margin: f64,
    max_rank: f64,
}

fn bar(iou_margin: f64, max_rank: f64) -> Bar {
    Bar {
        iou_margin,
        max_rank,
    }
}

/// Checks every method of `run` against its bar; returns a summary line for the log.
fn check_run(fx: &Fixture, run: &LocalizationRun, bars: &[Bar]) -> String {
    let regions = &fx.machine.regions;
    assert_eq!(run.runs.len(), bars.len());
    let chance = run.chance.mean_of(GT_IOU).unwrap();
    // With 2-3 of 8 sensors planted, GT@120% picks 3-4 sensors: the best possible IoU is
    // 2/3-3/4 (1 when only the planted sensors score positive), chance about 0.25.
    assert!((0.15..0.35).contains(&chance), "chance {chance}");
    let mut summary = format!("chance IoU {chance:.3}");
    for (r, bar) in run.runs.iter().zip(bars) {
        let label = r.method.label();
        assert_eq!(r.scores.dim(), (regions.len(), SENSORS), "{label}");
        assert!(r.scores.iter().all(|v| v.is_finite()), "{label}");
        let iou = r.report.mean_of(GT_IOU).unwrap();
        let unfiltered = r.report.mean_of(GT_IOU_UNFILTERED).unwrap();
        let rank = mean_relative_rank(&r.scores, regions);
        summary.push_str(&format!(
            "; {label}: IoU {iou:.3} (unfiltered {unfiltered:.3}), rank {rank:.3}"
        ));
        assert!(iou > chance + bar.iou_margin, "{label}: {summary}");
        assert!(unfiltered > chance + bar.iou_margin, "{label}: {summary}");
        assert!(rank < bar.max_rank, "{label}: {summary}");
    }

    // Negative control: every method's very scores, against randomly relabelled sensors,
    // score at chance (averaged over permutations, the IoU of a fixed ranking *is* the
    // chance level), so the margins above come from the planted sensors and would vanish
    // if the pipeline mixed up sensor indices.
    let draws = 40;
    let shuffled = shuffled_truth(regions, draws, 1);
    let control_chance = protocol()
        .chance(&shuffled, SENSORS)
        .unwrap()
        .mean_of(GT_IOU_UNFILTERED)
        .unwrap();
    for r in &run.runs {
        let repeated =
            ndarray::concatenate(ndarray::Axis(0), &vec![r.scores.view(); draws]).unwrap();
        let control = protocol()
            .evaluate_vectors(&shuffled, repeated.view())
            .unwrap();
        let iou = control.mean_of(GT_IOU_UNFILTERED).unwrap();
        let rank = mean_relative_rank(&repeated, &shuffled);
        let label = r.method.label();
        assert!(
            (iou - control_chance).abs() < 0.06,
            "{label}: shuffled truth IoU {iou} vs {control_chance}"
        );
        assert!(
            (rank - 0.5).abs() < 0.08,
            "{label}: shuffled truth rank {rank}"
        );
        summary.push_str(&format!(
            "; {label} on shuffled truth: IoU {iou:.3}, rank {rank:.3}"
        ));
    }
    summary
}

/// Bars for [`all_methods`] on [`rises`]. Over data seeds 0-7 the worst values seen were
/// IoU − chance 0.45 / 0.40 / 0.40 / 0.32 / 0.40 and relative ranks 0.14 / 0.18 / 0.17 /
/// 0.21 / 0.17 (residual, occlusion, IG, LRP, ablation; unfiltered IoU where lower); each
/// bar leaves about 0.1 to spare and still needs far better than chance (rank 0.5).
fn all_bars() -> Vec<Bar> {
    let attribution = || bar(0.25, 0.3);
    vec![
        bar(0.3, 0.25),  // residual
        attribution(),   // occlusion
        attribution(),   // integrated gradients
        bar(0.15, 0.35), // LRP
        attribution(),   // feature ablation
    ]
}

/// Bars for [`sign_free_methods`] on [`both_directions`]; worst over seeds 0-7: IoU −
/// chance 0.40 / 0.34 / 0.40 / 0.40 / 0.39, ranks 0.16 / 0.15 / 0.14 / 0.16 / 0.16
/// (residual, occlusion, IG, deviation LRP from the reconstruction and from the mean).
fn sign_free_bars() -> Vec<Bar> {
    vec![
        bar(0.3, 0.25), // residual
        bar(0.2, 0.3),  // occlusion 4x1
        bar(0.25, 0.3), // integrated gradients
        bar(0.3, 0.25), // deviation LRP from the reconstruction
        bar(0.3, 0.25), // deviation LRP from the training mean
    ]
}

#[test]
fn planted_sensors_score_high_end_to_end() {
    if !pinned_kernels::here() {
        return;
    }
    let fx = fixture(&rises(7));
    let run = run_pipeline(&fx, all_methods());
    eprintln!("{}", run.table().unwrap().to_markdown());
    eprintln!("{}", check_run(&fx, &run, &all_bars()));
    // The run is a plain serialisable record.
    let json = serde_json::to_string(&run).unwrap();
    assert!(json.contains("\"chance\""));
}

#[test]
fn rises_and_drops_are_both_localized() {
    if !pinned_kernels::here() {
        return;
    }
    let fx = fixture(&both_directions(7));
    assert_eq!(fx.machine.regions.len(), 6);
    let run = run_pipeline(&fx, sign_free_methods());
    eprintln!("{}", run.table().unwrap().to_markdown());
    eprintln!("{}", check_run(&fx, &run, &sign_free_bars()));
}

/// The same checks over several synthetic machines (`cargo test --test localizer_e2e --
/// --ignored`; about 20 s in a debug build).
#[test]
#[ignore = "seed sweep of the end-to-end checks; the default suite runs one seed"]
fn planted_sensors_score_high_for_every_seed() {
    if !pinned_kernels::here() {
        return;
    }
    for seed in 0..8 {
        let fx = fixture(&rises(seed));
        let run = run_pipeline(&fx, all_methods());
        eprintln!("rises, seed {seed}: {}", check_run(&fx, &run, &all_bars()));
        let fx = fixture(&both_directions(seed));
        let run = run_pipeline(&fx, sign_free_methods());
        eprintln!(
            "both directions, seed {seed}: {}",
            check_run(&fx, &run, &sign_free_bars())
        );
    }
}

// ---- errors -------------------------------------------------------------------------

/// An untrained model and a small clean series: enough to reach every check.
fn error_setup() -> (LstmAe, Array2<f32>, Tensor) {
    tch::set_num_threads(1);
    let config = LstmAeConfig::new(SENSORS as i64, WINDOW as i64, 4);
    let model = LstmAe::seeded(&config, Device::Cpu, 0).unwrap();
    let m = generate(&SyntheticConfig {
        n_train: 64,
        n_test: 100,
        n_anomalies: 0,
        ..SyntheticConfig::default()
    })
    .unwrap();
    let windows = sliding_windows(&m.train.view(), WINDOW, 8).unwrap();
    let train = array_to_tensor(&windows.data.view().into_dyn(), Device::Cpu).unwrap();
    (model, m.test, train)
}

fn run_err(
    model: &LstmAe,
    train: Option<&Tensor>,
    series: &Array2<f32>,
    regions: &[Region],
    methods: Vec<MethodSpec>,
    window: usize,
) -> Error {
    let mut l = localizer(methods);
    l.config.window = window;
    let ctx = Context {
        train,
        ..Context::new(model)
    };
    match l.run(&ctx, series.view(), regions, &protocol()) {
        Ok(_) => panic!("the run should have failed"),
        Err(e) => e,
    }
}

fn residual() -> Vec<MethodSpec> {
    vec![MethodSpec::residual(ErrorNorm::L1)]
}

#[test]
fn a_region_outside_the_series_is_an_error_naming_it() {
    let (model, test, _) = error_setup();
    let region = Region::new(90, 120, vec![1]).unwrap();
    let e = run_err(
        &model,
        None,
        &test,
        std::slice::from_ref(&region),
        residual(),
        WINDOW,
    );
    let msg = e.to_string();
    assert!(msg.contains("120") && msg.contains("100"), "{msg}");
    // A sensor beyond the series' width too.
    let wide = Region::new(40, 50, vec![SENSORS]).unwrap();
    let msg = run_err(&model, None, &test, &[wide], residual(), WINDOW).to_string();
    assert!(msg.contains(&SENSORS.to_string()), "{msg}");
    // Explaining one region directly reports the range as such.
    let l = localizer(residual());
    let ctx = Context::new(&model);
    let prepared = l.prepare(&ctx, SENSORS).unwrap();
    let e = l
        .explain_region(&ctx, &prepared[0], test.view(), &region)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::RegionOutOfRange {
                start: 90,
                end: 120,
                n_steps: 100
            }
        ),
        "{e}"
    );
}

#[test]
fn a_window_longer_than_the_series_is_an_error_naming_it() {
    let (model, test, _) = error_setup();
    let region = Region::new(40, 50, vec![1]).unwrap();
    let e = run_err(
        &model,
        None,
        &test,
        std::slice::from_ref(&region),
        residual(),
        101,
    );
    assert!(
        matches!(
            e,
            Error::InvalidSetting {
                setting: "window",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("101"), "{e}");
    let e = run_err(&model, None, &test, &[region], residual(), 0);
    assert!(
        matches!(
            e,
            Error::InvalidSetting {
                setting: "window",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn nan_in_the_series_is_an_error_naming_the_cell() {
    let (model, mut test, _) = error_setup();
    test[[57, 3]] = f32::NAN;
    let region = Region::new(40, 50, vec![1]).unwrap();
    let e = run_err(
        &model,
        None,
        &test,
        std::slice::from_ref(&region),
        residual(),
        WINDOW,
    );
    match &e {
        Error::NonFinite { index, .. } => assert_eq!(index, &vec![57, 3]),
        other => panic!("expected NonFinite, got {other}"),
    }
    test[[57, 3]] = f32::INFINITY;
    let e = run_err(&model, None, &test, &[region], residual(), WINDOW);
    assert!(matches!(e, Error::NonFinite { .. }), "{e}");
}

#[test]
fn attention_without_an_attention_model_is_a_clear_error() {
    let (model, test, _) = error_setup();
    let region = Region::new(40, 50, vec![1]).unwrap();
    let e = run_err(
        &model,
        None,
        &test,
        &[region],
        vec![MethodSpec::attention()],
        WINDOW,
    );
    assert!(matches!(e, Error::MissingCapability { .. }), "{e}");
    assert!(e.to_string().contains("attention model"), "{e}");
}

#[test]
fn a_training_baseline_without_training_windows_is_a_clear_error() {
    let (model, test, train) = error_setup();
    let region = Region::new(40, 50, vec![1]).unwrap();
    let ablation =
        vec![MethodSpec::attrib(FeatureAblation::default()).baseline(BaselineSpec::FeatureMeans)];
    let e = run_err(
        &model,
        None,
        &test,
        std::slice::from_ref(&region),
        ablation.clone(),
        WINDOW,
    );
    assert!(matches!(e, Error::MissingTrainingData { .. }), "{e}");
    assert!(e.to_string().contains("Feature Ablation"), "{e}");
    // With the windows it runs.
    let ctx = Context {
        train: Some(&train),
        ..Context::new(&model)
    };
    let run = localizer(ablation)
        .run(&ctx, test.view(), &[region], &protocol())
        .unwrap();
    assert_eq!(run.runs[0].scores.dim(), (1, SENSORS));
}

#[test]
fn no_regions_no_methods_and_misplaced_seeds_are_errors() {
    let (model, test, _) = error_setup();
    let e = run_err(&model, None, &test, &[], residual(), WINDOW);
    assert!(e.to_string().contains("region"), "{e}");
    let region = Region::new(40, 50, vec![1]).unwrap();
    let e = run_err(
        &model,
        None,
        &test,
        std::slice::from_ref(&region),
        vec![],
        WINDOW,
    );
    assert!(
        matches!(
            e,
            Error::InvalidSetting {
                setting: "methods",
                ..
            }
        ),
        "{e}"
    );
    // Seeds repeat methods that draw random numbers; on a deterministic one they are an
    // error, not a silent no-op.
    let seeded = vec![MethodSpec::residual(ErrorNorm::L1).seeds([0, 1])];
    let e = run_err(
        &model,
        None,
        &test,
        std::slice::from_ref(&region),
        seeded,
        WINDOW,
    );
    assert!(
        matches!(
            e,
            Error::InvalidSetting {
                setting: "seeds",
                ..
            }
        ),
        "{e}"
    );
    let mut l = localizer(residual());
    l.config.max_windows = 0;
    let e = l
        .run(&Context::new(&model), test.view(), &[region], &protocol())
        .unwrap_err();
    assert!(e.to_string().contains("max_windows = 0"), "{e}");
}

// ---- the deviation from normal ------------------------------------------------------

/// The reference row is the plain formula, worked out here without the pipeline: per
/// sensor, the mean absolute distance of the region's values from the training mean (each
/// step weighted by the number of windows that cover it, as the pipeline folds windows),
/// divided by its usual size on normal data (the median over the reference windows of
/// each window's mean distance). The detector, untrained here, plays no part.
#[test]
fn the_deviation_row_is_the_distance_from_the_training_mean_over_its_usual_size() {
    let (model, test, _) = error_setup();
    let train_series = generate(&SyntheticConfig {
        n_train: 96,
        n_test: 64,
        n_anomalies: 0,
        seed: 5,
        ..SyntheticConfig::default()
    })
    .unwrap();
    let train = sliding_windows(&train_series.train.view(), WINDOW, 8)
        .unwrap()
        .data;
    let reference = sliding_windows(&train_series.test.view(), WINDOW, 4)
        .unwrap()
        .data;
    let (train_t, reference_t) = (
        array_to_tensor(&train.view().into_dyn(), Device::Cpu).unwrap(),
        array_to_tensor(&reference.view().into_dyn(), Device::Cpu).unwrap(),
    );
    let mean: Vec<f64> = (0..SENSORS)
        .map(|f| {
            let col = train.index_axis(ndarray::Axis(2), f);
            col.iter().map(|&v| f64::from(v)).sum::<f64>() / col.len() as f64
        })
        .collect();
    let usual: Vec<f64> = (0..SENSORS)
        .map(|f| {
            let mut per_window: Vec<f64> = reference
                .outer_iter()
                .map(|w| {
                    w.column(f)
                        .iter()
                        .map(|&v| (f64::from(v) - mean[f]).abs())
                        .sum::<f64>()
                        / WINDOW as f64
                })
                .collect();
            per_window.sort_by(f64::total_cmp);
            per_window[per_window.len() / 2] // an odd count of windows
        })
        .collect();
    assert_eq!(reference.shape()[0] % 2, 1);
    // Regions no longer than a window, all of whose ending windows are explained: step t
    // of [start, end) lies in the end − t windows that end at or after it.
    let regions = vec![
        Region::new(40, 45, vec![1]).unwrap(),
        Region::new(70, 72, vec![2, 3]).unwrap(),
    ];
    let mut l = localizer(vec![MethodSpec::deviation()]);
    l.config.normalization = Normalization::Scale;
    l.config.max_windows = 8;
    let ctx = Context {
        train: Some(&train_t),
        reference: Some(&reference_t),
        ..Context::new(&model)
    };
    let run = l.run(&ctx, test.view(), &regions, &protocol()).unwrap();
    assert_eq!(run.runs.len(), 1);
    assert_eq!(
        run.runs[0].method.label(),
        "Deviation from normal (no detector)"
    );
    for (r, region) in regions.iter().enumerate() {
        for f in 0..SENSORS {
            let (mut sum, mut weight) = (0.0, 0.0);
            for t in region.start..region.end {
                let w = (region.end - t) as f64;
                sum += w * (f64::from(test[[t, f]]) - mean[f]).abs();
                weight += w;
            }
            let want = sum / weight / usual[f];
            let got = run.runs[0].scores[[r, f]];
            assert!(
                (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                "region {r}, sensor {f}: pipeline {got}, by hand {want}"
            );
        }
    }
    // A method list without it: the run adds the same row as its reference row, next to
    // chance, and changes none of the methods' numbers.
    assert!(run.deviation.is_none(), "the list held the row already");
    let mut l = localizer(vec![MethodSpec::residual(ErrorNorm::L1)]);
    l.config.normalization = Normalization::Scale;
    l.config.max_windows = 8;
    let with_row = l.run(&ctx, test.view(), &regions, &protocol()).unwrap();
    let deviation = with_row.deviation.as_ref().expect("a reference row");
    assert_eq!(deviation.scores, run.runs[0].scores);
    let table = with_row.table().unwrap();
    let labels: Vec<&str> = table.rows.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Residual L1",
            "Deviation from normal (no detector)",
            "chance (random ranking)"
        ]
    );
    let pooled = LocalizationRun::pooled_table(&[&with_row, &with_row], false).unwrap();
    assert_eq!(pooled.rows[1], table.rows[1]);
    let without_train = Context { train: None, ..ctx };
    let alone = l
        .run(&without_train, test.view(), &regions, &protocol())
        .unwrap();
    assert!(alone.deviation.is_none());
    assert_eq!(alone.runs[0].scores, with_row.runs[0].scores);
}

/// Correlated groups on an additive detector (its error is the mean of `|x|` over the
/// window's cells, a sum of one term per sensor): a cluster's effect is the sum of its
/// members' own effects, and each member carries an equal share of it.
#[test]
fn a_correlated_group_shares_the_sum_of_its_members_effects_equally() {
    use anomaly_xai::localizer::{Aggregation, Grouping};
    use anomaly_xai::models::ArrayDetector;
    // Sensors 0 and 1 move together (1 = 1 − 2·0), sensor 2 on its own.
    let steps = 400;
    let series = Array2::from_shape_fn((steps, 3), |(t, f)| {
        let a = (t as f32 * 0.3).sin();
        match f {
            0 => a,
            1 => 1.0 - 2.0 * a,
            _ => (t as f32 * 0.71).cos() * (t as f32 * 0.05).sin(),
        }
    });
    let train = sliding_windows(&series.slice(ndarray::s![..300, ..]), WINDOW, 4)
        .unwrap()
        .data;
    let train = array_to_tensor(&train.view().into_dyn(), Device::Cpu).unwrap();
    let zero = ArrayDetector::new(
        "zero",
        vec![WINDOW as i64, 3],
        |x: ndarray::ArrayViewD<'_, f32>| ndarray::ArrayD::zeros(x.shape()),
    )
    .unwrap();
    let ctx = Context {
        train: Some(&train),
        ..Context::new(&zero)
    };
    let regions = vec![Region::new(320, 330, vec![0, 1]).unwrap()];
    let ablation =
        MethodSpec::attrib(FeatureAblation::default()).baseline(BaselineSpec::FeatureMeans);
    let scores = |grouping: Grouping| {
        let mut l = localizer(vec![ablation.clone()]);
        l.config.grouping = grouping;
        l.config.aggregation = Aggregation::WholeWindow;
        let run = l.run(&ctx, series.view(), &regions, &protocol()).unwrap();
        run.runs[0].scores.row(0).to_vec()
    };
    let (one, grouped) = (scores(Grouping::PerSensor), scores(Grouping::Correlated));
    let cluster = one[0] + one[1];
    assert!(cluster.abs() > 1e-3, "{one:?}");
    for f in [0, 1] {
        assert!(
            (grouped[f] - cluster / 2.0).abs() < 1e-5,
            "{grouped:?} vs {one:?}"
        );
    }
    assert!((grouped[2] - one[2]).abs() < 1e-6, "{grouped:?} vs {one:?}");
}
