//! The corruption generators on a small trained dense autoencoder: each corruption
//! changes exactly one feature, the adversarial one moves error onto the other features,
//! runs repeat per seed, and bad input is an error.

use ae_models::train::{train, TrainConfig};
use ae_models::{DenseAe, DenseAeConfig, ErrorNorm, LayerModel, MinMaxScaler};
use corruption_eval::{
    Corruption, CorruptionError, CorruptionGenerator, CorruptionParams, CorruptionSet,
};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

const F: usize = 8;

/// Records on a 2-d manifold in 8 dimensions (plus a little noise), min-max scaled on the
/// training part: an autoencoder with a 2-unit bottleneck reconstructs them well, and
/// changing one coordinate alone leaves the manifold.
fn data(seed: u64) -> (Tensor, Tensor) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mix: Vec<[f32; 3]> = (0..F)
        .map(|_| {
            [
                rng.gen_range(-1.0..1.0),
                rng.gen_range(-1.0..1.0),
                rng.gen_range(-0.5..0.5),
            ]
        })
        .collect();
    let n = 512;
    let mut raw = Array2::<f32>::zeros((n, F));
    for i in 0..n {
        let (z1, z2): (f32, f32) = (rng.gen(), rng.gen());
        for (j, m) in mix.iter().enumerate() {
            raw[[i, j]] = m[0] * z1 + m[1] * z2 + m[2] + rng.gen_range(-0.01..0.01);
        }
    }
    let train_rows = raw.slice(ndarray::s![..384, ..]);
    let scaler = MinMaxScaler::fit(&train_rows).unwrap();
    let scaled = scaler.transform(&raw.view()).unwrap();
    let t = Tensor::from_slice(scaled.as_slice().unwrap()).reshape([n as i64, F as i64]);
    (t.narrow(0, 0, 384), t.narrow(0, 384, 128))
}

fn trained_model(train_rows: &Tensor) -> DenseAe {
    tch::set_num_threads(1);
    let mut cfg = DenseAeConfig::new(F as i64, vec![6, 2]);
    cfg.bottleneck_activation = None;
    let ae = DenseAe::seeded(&cfg, Device::Cpu, 3).unwrap();
    let tc = TrainConfig {
        epochs: 250,
        batch_size: 64,
        lr: 1e-2,
        val_fraction: 0.0,
        patience: None,
        clip_norm: None,
        loss: ErrorNorm::SquaredL2,
        quiet: true,
        ..TrainConfig::default()
    };
    train(&ae, train_rows, &tc).unwrap();
    ae
}

fn params() -> CorruptionParams {
    CorruptionParams {
        seed: 11,
        batch_size: 64,
        ..CorruptionParams::default()
    }
}

fn check_one_feature_changed(set: &CorruptionSet, pool: &Tensor, threshold: f64) {
    let pool: Vec<f32> = Vec::try_from(pool.flatten(0, -1)).unwrap();
    let mut last_try = 0;
    for s in &set.samples {
        assert_eq!(&pool[s.row * F..(s.row + 1) * F], s.original.as_slice());
        for i in 0..F {
            let (a, b) = (s.original[i].to_bits(), s.corrupted[i].to_bits());
            if i == s.feature {
                assert_ne!(a, b, "feature {i} unchanged");
            } else {
                assert_eq!(a, b, "feature {i} != c = {} changed", s.feature);
            }
        }
        assert!(s.score > threshold && s.score <= 1.0, "score {}", s.score);
        assert!(s.tries > last_try, "tries must increase");
        last_try = s.tries;
    }
    assert_eq!(set.summary.tries, last_try.max(set.summary.tries));
}

#[test]
fn each_corruption_changes_exactly_feature_c_and_passes_its_threshold() {
    let (train_rows, pool) = data(1);
    let ae = trained_model(&train_rows);
    let recon = |x: &Tensor| ae.forward(x);
    let mut p = params();
    p.ifgsm.max_steps = 40;
    let generator = CorruptionGenerator::new(&recon, &train_rows, p.clone()).unwrap();
    for kind in Corruption::ALL {
        let set = generator.generate(&pool, kind, 12).unwrap();
        let s = &set.summary;
        assert_eq!(
            (s.corruption, s.requested, s.accepted, s.exhausted),
            (kind, 12, 12, false),
            "{kind}: {s:?}"
        );
        assert!(s.tries >= 12);
        assert_eq!(s.threshold, p.thresholds.get(kind));
        check_one_feature_changed(&set, &pool, s.threshold);
        if kind == Corruption::Null {
            assert!(set.samples.iter().all(|s| s.corrupted[s.feature] == 0.0));
        }
        assert_eq!(set.corrupted().dim(), (12, F));
        assert_eq!(set.features().len(), 12);
    }
}

/// Per-feature squared errors `φ(x, i)` of a batch.
fn phi(ae: &DenseAe, x: &Tensor) -> Vec<Vec<f64>> {
    let e = (x - ae.forward(x).unwrap()).square();
    let rows = e.size()[0];
    (0..rows)
        .map(|r| Vec::<f64>::try_from(e.get(r).to_kind(Kind::Double)).unwrap())
        .collect()
}

/// The random start, its adversarial result and the clean sample for `n` clean rows of
/// the pool, feature `b % F` of row `b`, under `theta`.
fn adversarial_batch(
    ae: &DenseAe,
    train_rows: &Tensor,
    pool: &Tensor,
    theta: f64,
    n: usize,
) -> AdvBatch {
    let recon = |x: &Tensor| ae.forward(x);
    let mut p = params();
    p.ifgsm.theta = theta;
    let g = CorruptionGenerator::new(&recon, train_rows, p).unwrap();
    let clean = g.clean_rows(pool).unwrap();
    assert!(clean.len() >= 16, "{} clean rows", clean.len());
    let rows: Vec<i64> = (0..n).map(|b| clean[b % clean.len()] as i64).collect();
    let x = pool.index_select(0, &Tensor::from_slice(&rows));
    let features: Vec<usize> = (0..n).map(|b| b % F).collect();
    let fractions: Vec<f32> = (0..n).map(|b| (b as f32 * 0.618).fract()).collect();
    let start = g.random(&x, &features, &fractions).unwrap();
    let adv = g.adversarial(&start, &features).unwrap();
    let accepted = g
        .normalized_scores(&adv)
        .unwrap()
        .iter()
        .map(|&s| s > g.params().thresholds.adversarial)
        .collect();
    let value = |t: &Tensor| {
        (0..n)
            .map(|b| t.double_value(&[b as i64, features[b] as i64]))
            .collect()
    };
    AdvBatch {
        clean: phi(ae, &x),
        start: phi(ae, &start),
        adv: phi(ae, &adv),
        x_clean: value(&x),
        x_start: value(&start),
        x_adv: value(&adv),
        features,
        accepted,
    }
}

struct AdvBatch {
    clean: Vec<Vec<f64>>,
    start: Vec<Vec<f64>>,
    adv: Vec<Vec<f64>>,
    x_clean: Vec<f64>,
    x_start: Vec<f64>,
    x_adv: Vec<f64>,
    features: Vec<usize>,
    accepted: Vec<bool>,
}

fn others(e: &[f64], c: usize) -> f64 {
    e.iter()
        .enumerate()
        .filter(|&(i, _)| i != c)
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn adversarial_raises_the_other_features_error_and_never_lowers_its_objective() {
    if !pinned_kernels::here() {
        return;
    }
    let (train_rows, pool) = data(2);
    let ae = trained_model(&train_rows);
    let theta = 0.3;
    let a = adversarial_batch(&ae, &train_rows, &pool, theta, 64);
    let r = |e: &[f64], c: usize| others(e, c) - theta * e[c];
    for (b, &c) in a.features.iter().enumerate() {
        // The best iterate is kept, so the objective never falls below the random start's.
        assert!(r(&a.adv[b], c) >= r(&a.start[b], c) - 1e-6, "sample {b}");
    }
    let kept: Vec<usize> = (0..64).filter(|&b| a.accepted[b]).collect();
    assert!(
        kept.len() >= 6,
        "only {} adversarial samples pass the threshold",
        kept.len()
    );
    for &b in &kept {
        let c = a.features[b];
        // The anomaly shows on the other features: their error rose above the random
        // start's and far above the clean sample's.
        assert!(others(&a.adv[b], c) > others(&a.start[b], c), "sample {b}");
        assert!(
            others(&a.adv[b], c) > 2.0 * others(&a.clean[b], c),
            "sample {b}"
        );
    }
}

#[test]
fn a_dominant_theta_does_not_raise_the_corrupted_features_error() {
    let (train_rows, pool) = data(2);
    let ae = trained_model(&train_rows);
    let a = adversarial_batch(&ae, &train_rows, &pool, 3.0, 48);
    let mut closer = 0;
    for (b, &c) in a.features.iter().enumerate() {
        assert!(a.adv[b][c] <= a.start[b][c] + 1e-7, "sample {b}: φ_c rose");
        closer +=
            usize::from((a.x_adv[b] - a.x_clean[b]).abs() <= (a.x_start[b] - a.x_clean[b]).abs());
    }
    // Minimising φ_c on a smooth autoencoder walks x_c back towards its clean value.
    assert!(
        closer >= 40,
        "x_c moved towards the clean value on {closer}/48"
    );
}

#[test]
fn generation_repeats_per_seed_and_does_not_depend_on_the_batch_size() {
    let (train_rows, pool) = data(3);
    let ae = trained_model(&train_rows);
    let recon = |x: &Tensor| ae.forward(x);
    let run = |p: CorruptionParams, kind| {
        CorruptionGenerator::new(&recon, &train_rows, p)
            .unwrap()
            .generate(&pool, kind, 8)
            .unwrap()
    };
    // BLAS may round differently for other batch shapes: the kept samples must agree,
    // the scores up to rounding.
    let same_samples = |a: &CorruptionSet, b: &CorruptionSet| {
        a.samples.len() == b.samples.len()
            && a.samples.iter().zip(&b.samples).all(|(x, y)| {
                (x.row, x.feature, x.tries, &x.corrupted)
                    == (y.row, y.feature, y.tries, &y.corrupted)
                    && (x.raw_score - y.raw_score).abs() <= 1e-6 * x.raw_score.abs().max(1e-9)
            })
    };
    for kind in [Corruption::Null, Corruption::Random] {
        let a = run(params(), kind);
        assert_eq!(a, run(params(), kind), "{kind}: same seed");
        assert!(
            same_samples(
                &a,
                &run(
                    CorruptionParams {
                        batch_size: 5,
                        ..params()
                    },
                    kind
                )
            ),
            "{kind}: batch size"
        );
        assert!(
            !same_samples(
                &a,
                &run(
                    CorruptionParams {
                        seed: 12,
                        ..params()
                    },
                    kind
                )
            ),
            "{kind}: other seed"
        );
    }
    let mut p = params();
    p.ifgsm.max_steps = 20;
    let a = run(p.clone(), Corruption::Adversarial);
    assert_eq!(a, run(p, Corruption::Adversarial));
    // Try t of every corruption uses the same row and feature.
    let random = run(params(), Corruption::Random);
    let all_tries = |s: &CorruptionSet| {
        s.samples
            .iter()
            .map(|s| (s.tries, s.row, s.feature))
            .collect::<Vec<_>>()
    };
    for (t, row, c) in all_tries(&a) {
        if let Some(&(_, r2, c2)) = all_tries(&random).iter().find(|x| x.0 == t) {
            assert_eq!((row, c), (r2, c2));
        }
    }
}

#[test]
fn scores_are_normalised_on_the_reference_rows() {
    if !pinned_kernels::here() {
        return;
    }
    let (train_rows, pool) = data(4);
    let ae = trained_model(&train_rows);
    let recon = |x: &Tensor| ae.forward(x);
    let g = CorruptionGenerator::new(&recon, &train_rows, params()).unwrap();
    let s = g.normalized_scores(&train_rows).unwrap();
    let (lo, hi) = s
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    assert_eq!((lo, hi), (0.0, 1.0));
    let raw = g.scores(&train_rows).unwrap();
    let below = raw.iter().filter(|&&r| r <= g.clean_limit()).count();
    assert!(
        (below as f64 - 192.0).abs() <= 1.0,
        "median split: {below} of 384"
    );
    let n = g.normalizer();
    assert!(n.hi > n.lo && n.lo >= 0.0);
    let (low, high) = g.feature_range();
    assert!(low.iter().all(|&v| v == 0.0) && high.iter().all(|&v| v == 1.0));
    assert!(g.clean_rows(&pool).unwrap().len() > 20);
    // A quantile below 1 clips the worst training rows to 1.
    let q = CorruptionParams {
        score_upper_quantile: 0.9,
        ..params()
    };
    let g = CorruptionGenerator::new(&recon, &train_rows, q).unwrap();
    let ones = g
        .normalized_scores(&train_rows)
        .unwrap()
        .iter()
        .filter(|&&v| v == 1.0)
        .count();
    assert!((38..=40).contains(&ones), "{ones}");
}

#[test]
fn bad_input_is_an_error_naming_the_value() {
    let (train_rows, pool) = data(5);
    let ae = trained_model(&train_rows);
    let recon = |x: &Tensor| ae.forward(x);
    let g = CorruptionGenerator::new(&recon, &train_rows, params()).unwrap();
    let x = pool.narrow(0, 0, 2);

    let err = g.null(&x, &[0, F]).unwrap_err();
    assert!(
        matches!(
            err,
            CorruptionError::FeatureOutOfRange {
                feature: 8,
                n_features: 8
            }
        ),
        "{err}"
    );
    assert!(matches!(
        g.adversarial(&x, &[1, 9]),
        Err(CorruptionError::FeatureOutOfRange { feature: 9, .. })
    ));
    assert!(matches!(
        g.null(&x, &[0]),
        Err(CorruptionError::ShapeMismatch { .. })
    ));
    let err = g.random(&x, &[0, 1], &[0.5, 1.5]).unwrap_err();
    assert!(err.to_string().contains("1.5"), "{err}");

    let bad = pool.copy();
    let _ = bad.get(3).get(5).fill_(f64::NAN);
    let err = g.generate(&bad, Corruption::Null, 1).unwrap_err();
    assert!(
        matches!(
            err,
            CorruptionError::NonFinite {
                row: 3,
                feature: 5,
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        g.generate(&pool, Corruption::Null, 0),
        Err(CorruptionError::InvalidParam { param: "k", .. })
    ));
    let wide = Tensor::zeros([3, F as i64 + 1], (Kind::Float, Device::Cpu));
    assert!(matches!(
        g.scores(&wide),
        Err(CorruptionError::ShapeMismatch { .. })
    ));
    let doubles = pool.to_kind(Kind::Double);
    assert!(matches!(
        g.scores(&doubles),
        Err(CorruptionError::ShapeMismatch { .. })
    ));

    for (edit, param) in [
        (
            Box::new(|p: &mut CorruptionParams| p.thresholds.random = 1.5)
                as Box<dyn Fn(&mut CorruptionParams)>,
            "thresholds.random",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.thresholds.null = -0.1),
            "thresholds.null",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.thresholds.adversarial = 1.0),
            "thresholds.adversarial",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.ifgsm.alpha = 0.0),
            "ifgsm.alpha",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.ifgsm.theta = f64::NAN),
            "ifgsm.theta",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.ifgsm.halve_every = 0),
            "ifgsm.halve_every",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.ifgsm.max_steps = 0),
            "ifgsm.max_steps",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.clean_quantile = 0.0),
            "clean_quantile",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.score_upper_quantile = 1.2),
            "score_upper_quantile",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.max_tries = 0),
            "max_tries",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.batch_size = 0),
            "batch_size",
        ),
        (
            Box::new(|p: &mut CorruptionParams| p.null_value = f32::INFINITY),
            "null_value",
        ),
    ] {
        let mut p = params();
        edit(&mut p);
        match CorruptionGenerator::new(&recon, &train_rows, p) {
            Err(CorruptionError::InvalidParam { param: got, .. }) => assert_eq!(got, param),
            other => panic!("{param}: expected InvalidParam, got {other:?}"),
        }
    }

    // A detector whose output has the wrong shape, and one that cannot separate rows.
    let narrow = |x: &Tensor| Ok(x.narrow(1, 0, 3));
    assert!(matches!(
        CorruptionGenerator::new(&narrow, &train_rows, params()),
        Err(CorruptionError::ShapeMismatch {
            what: "reconstruction",
            ..
        })
    ));
    let constant = |x: &Tensor| Ok(x.zeros_like());
    let flat = Tensor::ones([4, F as i64], (Kind::Float, Device::Cpu));
    assert!(matches!(
        CorruptionGenerator::new(&constant, &flat, params()),
        Err(CorruptionError::DegenerateScores { .. })
    ));
    assert!("adversarial".parse::<Corruption>().is_ok());
    assert!(matches!(
        "nul".parse::<Corruption>(),
        Err(CorruptionError::InvalidParam { .. })
    ));
}

#[test]
fn too_few_tries_stop_early_and_say_so() {
    let (train_rows, pool) = data(6);
    let ae = trained_model(&train_rows);
    let recon = |x: &Tensor| ae.forward(x);
    let p = CorruptionParams {
        max_tries: 3,
        ..params()
    };
    let g = CorruptionGenerator::new(&recon, &train_rows, p).unwrap();
    let set = g.generate(&pool, Corruption::Random, 50).unwrap();
    assert!(set.summary.exhausted && set.summary.tries == 3 && set.samples.len() <= 3);
}
