//! The synthetic machine generator: determinism, exact ground truth, the kinds' shapes,
//! correlated sensors, and one error per impossible setting.

use anomaly_data::synthetic::{
    generate, AnomalyKind, AnomalyTarget, Polarity, Regime, SyntheticConfig,
};
use anomaly_data::DataError;
use ndarray::{Array2, Axis};
use proptest::prelude::*;

fn cfg(seed: u64) -> SyntheticConfig {
    SyntheticConfig {
        seed,
        ..SyntheticConfig::default()
    }
}

/// Cells where `test` differs from `clean_test`.
fn changed(test: &Array2<f32>, clean: &Array2<f32>) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for ((t, f), &v) in test.indexed_iter() {
        if v != clean[[t, f]] {
            out.push((t, f));
        }
    }
    out
}

/// Every structural promise of a generated machine, for any valid configuration.
fn check_invariants(c: &SyntheticConfig) {
    let m = generate(c).unwrap();
    assert_eq!(m.train.dim(), (c.n_train, c.n_sensors));
    assert_eq!(m.test.dim(), (c.n_test, c.n_sensors));
    assert_eq!(m.clean_test.dim(), (c.n_test, c.n_sensors));
    assert_eq!(m.labels.len(), c.n_test);
    assert_eq!(m.regions.len(), c.n_anomalies);
    assert_eq!(m.kinds.len(), c.n_anomalies);
    assert!(m.train.iter().chain(m.test.iter()).all(|v| v.is_finite()));
    let mut prev_end = 0;
    for (r, kind) in m.regions.iter().zip(&m.kinds) {
        // In time order, after at least min_gap normal steps, inside the test half.
        assert!(r.start >= prev_end + c.min_gap, "{r:?} after {prev_end}");
        assert!(r.end <= c.n_test);
        assert!(c.anomaly_len.contains(&r.len()), "{r:?}");
        assert!(c.sensors_per_anomaly.contains(&r.features.len()), "{r:?}");
        assert!(r.features.windows(2).all(|w| w[0] < w[1]), "{r:?}");
        assert!(r.features.iter().all(|&f| f < c.n_sensors));
        assert!(c.kinds.contains(kind));
        prev_end = r.end;
    }
    // Labels are exactly the union of the regions.
    for (t, &l) in m.labels.iter().enumerate() {
        assert_eq!(l, m.regions.iter().any(|r| r.contains(t)), "step {t}");
    }
    // The test half differs from the clean one only inside regions × their sensors...
    for (t, f) in changed(&m.test, &m.clean_test) {
        assert!(
            m.regions
                .iter()
                .any(|r| r.contains(t) && r.features.contains(&f)),
            "cell ({t}, {f}) changed outside every planted region"
        );
    }
    // ... and every planted sensor of every region is changed somewhere in it.
    for r in &m.regions {
        for &f in &r.features {
            assert!(
                r.span().any(|t| m.test[[t, f]] != m.clean_test[[t, f]]),
                "sensor {f} of {r:?} unchanged"
            );
        }
    }
}

#[test]
fn invariants_hold_for_the_default_and_every_kind_alone() {
    check_invariants(&SyntheticConfig::default());
    for kind in AnomalyKind::ALL {
        for seed in 0..4 {
            check_invariants(&SyntheticConfig {
                kinds: vec![kind],
                seed,
                ..SyntheticConfig::default()
            });
        }
    }
}

#[test]
fn same_seed_same_machine_other_seed_other_machine() {
    let a = generate(&cfg(3)).unwrap();
    assert_eq!(a, generate(&cfg(3)).unwrap());
    let b = generate(&cfg(4)).unwrap();
    assert_ne!(a.train, b.train);
    assert_ne!(a.regions, b.regions);
}

#[test]
fn anomaly_settings_do_not_change_the_clean_data() {
    let a = generate(&cfg(5)).unwrap();
    let b = generate(&SyntheticConfig {
        n_anomalies: 2,
        kinds: vec![AnomalyKind::NoiseBurst],
        magnitude: 2.0,
        ..cfg(5)
    })
    .unwrap();
    assert_eq!(a.train, b.train);
    assert_eq!(a.clean_test, b.clean_test);
    assert_ne!(a.test, b.test);
}

#[test]
fn zero_anomalies_give_a_clean_test_half() {
    let m = generate(&SyntheticConfig {
        n_anomalies: 0,
        kinds: vec![],
        ..cfg(1)
    })
    .unwrap();
    assert!(m.regions.is_empty() && m.kinds.is_empty());
    assert_eq!(m.test, m.clean_test);
    assert!(m.labels.iter().all(|&l| !l));
}

#[test]
fn normal_values_span_about_zero_to_one() {
    let c = cfg(2);
    let m = generate(&c).unwrap();
    let whole = ndarray::concatenate(Axis(0), &[m.train.view(), m.clean_test.view()]).unwrap();
    // Noiseless sensors span exactly [0, 1] over train and test; noise moves the extremes
    // by a few standard deviations at most.
    let tol = 6.0 * c.noise;
    for (f, col) in whole.columns().into_iter().enumerate() {
        let min = col.iter().copied().fold(f32::INFINITY, f32::min);
        let max = col.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert!(min.abs() < tol, "sensor {f}: min {min}");
        assert!((max - 1.0).abs() < tol, "sensor {f}: max {max}");
    }
}

fn correlation(a: ndarray::ArrayView1<'_, f32>, b: ndarray::ArrayView1<'_, f32>) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (
        a.iter().map(|&v| f64::from(v)).sum::<f64>() / n,
        b.iter().map(|&v| f64::from(v)).sum::<f64>() / n,
    );
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    sab / (saa * sbb).sqrt()
}

#[test]
fn sensors_are_correlated_in_groups() {
    // 8 sensors on 3 factors: some sensors share a main factor and move together, unlike
    // independent noise (whose correlations over 1000 steps are about ±0.03).
    for seed in 0..5 {
        let m = generate(&cfg(seed)).unwrap();
        let f = m.n_sensors();
        let mut strongest: f64 = 0.0;
        let mut sum = 0.0;
        let mut pairs = 0.0;
        for i in 0..f {
            for j in i + 1..f {
                let r = correlation(m.train.column(i), m.train.column(j)).abs();
                strongest = strongest.max(r);
                sum += r;
                pairs += 1.0;
            }
        }
        assert!(strongest > 0.8, "seed {seed}: strongest |r| = {strongest}");
        assert!(sum / pairs > 0.2, "seed {seed}: mean |r| = {}", sum / pairs);
    }
}

#[test]
fn level_shifts_are_exactly_plus_or_minus_the_magnitude() {
    let c = SyntheticConfig {
        kinds: vec![AnomalyKind::LevelShift],
        magnitude: 0.75,
        ..cfg(9)
    };
    let m = generate(&c).unwrap();
    for r in &m.regions {
        for &f in &r.features {
            let d0 = m.test[[r.start, f]] - m.clean_test[[r.start, f]];
            assert!((d0.abs() - 0.75).abs() < 1e-5, "{d0}");
            for t in r.span() {
                let d = m.test[[t, f]] - m.clean_test[[t, f]];
                assert!((d - d0).abs() < 1e-5, "step {t} sensor {f}: {d} vs {d0}");
            }
        }
    }
}

#[test]
fn spikes_are_triangles_peaking_at_twice_the_magnitude() {
    // Odd lengths put a step exactly in the middle.
    let c = SyntheticConfig {
        kinds: vec![AnomalyKind::Spike],
        anomaly_len: 9..=9,
        magnitude: 0.5,
        ..cfg(4)
    };
    let m = generate(&c).unwrap();
    for r in &m.regions {
        for &f in &r.features {
            let d: Vec<f32> = r
                .span()
                .map(|t| m.test[[t, f]] - m.clean_test[[t, f]])
                .collect();
            // len 9: centre 4, half-width 5: shape 1 - |i - 4| / 5.
            for (i, v) in d.iter().enumerate() {
                let expected = 1.0 - (i as f32 - 4.0).abs() / 5.0;
                assert!((v.abs() - expected).abs() < 1e-5, "{d:?}");
                assert_eq!(v.signum(), d[0].signum());
            }
        }
    }
}

#[test]
fn polarity_sets_the_direction_and_nothing_else() {
    let base = SyntheticConfig {
        kinds: vec![AnomalyKind::LevelShift, AnomalyKind::Spike],
        ..cfg(12)
    };
    let both = generate(&base).unwrap();
    let mut signs = Vec::new();
    for polarity in [Polarity::Up, Polarity::Down] {
        let m = generate(&SyntheticConfig {
            polarity,
            ..base.clone()
        })
        .unwrap();
        // Same regions, sensors and kinds: only the direction differs.
        assert_eq!(
            (&m.regions, &m.kinds, &m.train),
            (&both.regions, &both.kinds, &both.train)
        );
        let want = if polarity == Polarity::Up { 1.0 } else { -1.0 };
        for r in &m.regions {
            for &f in &r.features {
                for t in r.span() {
                    let d = m.test[[t, f]] - m.clean_test[[t, f]];
                    assert_eq!(d.signum(), want, "{polarity:?} step {t} sensor {f}: {d}");
                }
                let d = both.test[[r.start, f]] - both.clean_test[[r.start, f]];
                signs.push(d.signum());
            }
        }
    }
    // With both directions, both occur.
    assert!(signs.contains(&1.0) && signs.contains(&-1.0), "{signs:?}");
}

#[test]
fn noise_bursts_have_the_magnitude_as_standard_deviation() {
    let c = SyntheticConfig {
        n_anomalies: 2,
        sensors_per_anomaly: 3..=3,
        anomaly_len: 300..=300,
        kinds: vec![AnomalyKind::NoiseBurst],
        magnitude: 0.4,
        ..cfg(6)
    };
    let m = generate(&c).unwrap();
    let mut d = Vec::new();
    for r in &m.regions {
        for &f in &r.features {
            d.extend(
                r.span()
                    .map(|t| f64::from(m.test[[t, f]] - m.clean_test[[t, f]])),
            );
        }
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    // 1800 draws: the sample sd is within a few percent of 0.4.
    assert!((sd - 0.4).abs() < 0.04, "sd {sd}");
    assert!(mean.abs() < 0.05, "mean {mean}");
}

#[test]
fn correlation_breaks_decouple_the_sensor_from_its_group() {
    // Long breaks on every sensor but one: over the region, the broken sensors no longer
    // track the sensors they tracked during training.
    let c = SyntheticConfig {
        n_factors: 1,
        n_anomalies: 1,
        sensors_per_anomaly: 4..=4,
        anomaly_len: 400..=400,
        kinds: vec![AnomalyKind::CorrelationBreak],
        ..cfg(8)
    };
    let m = generate(&c).unwrap();
    let r = &m.regions[0];
    let span = r.start..r.end;
    let intact: Vec<usize> = (0..m.n_sensors())
        .filter(|f| !r.features.contains(f))
        .collect();
    for &f in &r.features {
        for &g in &intact {
            let before = correlation(m.train.column(f), m.train.column(g)).abs();
            let during = correlation(
                m.test.slice(ndarray::s![span.clone(), f]),
                m.test.slice(ndarray::s![span.clone(), g]),
            )
            .abs();
            // One factor drives everything: the pair was strongly coupled in training.
            assert!(before > 0.7, "sensors {f},{g}: {before}");
            assert!(
                during < before - 0.3,
                "sensors {f},{g}: {before} -> {during}"
            );
        }
    }
}

#[test]
fn into_smd_keeps_the_data_and_labels() {
    let m = generate(&cfg(0)).unwrap();
    let smd = m.clone().into_smd("synthetic-0");
    assert_eq!(smd.name, "synthetic-0");
    assert_eq!((smd.train, smd.test), (m.train, m.test));
    assert_eq!(smd.test_labels, m.labels);
    assert_eq!(smd.regions, m.regions);
}

#[test]
fn config_and_machine_round_trip_through_json() {
    let c = SyntheticConfig {
        kinds: vec![AnomalyKind::Spike, AnomalyKind::CorrelationBreak],
        ..cfg(11)
    };
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<SyntheticConfig>(&json).unwrap(), c);
    let partial: SyntheticConfig = serde_json::from_str(r#"{"n_sensors": 5, "seed": 2}"#).unwrap();
    assert_eq!((partial.n_sensors, partial.n_test), (5, 1000));
    assert!(serde_json::from_str::<SyntheticConfig>(r#"{"n_sensor": 5}"#).is_err());
    let m = generate(&SyntheticConfig {
        n_train: 50,
        n_test: 200,
        n_anomalies: 2,
        ..c
    })
    .unwrap();
    let back: anomaly_data::synthetic::SyntheticMachine =
        serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}

#[test]
fn kinds_parse_from_their_names() {
    for k in AnomalyKind::ALL {
        assert_eq!(k.name().parse::<AnomalyKind>().unwrap(), k);
        assert_eq!(k.to_string(), k.name());
    }
    assert_eq!(
        "Level-Shift".parse::<AnomalyKind>().unwrap(),
        AnomalyKind::LevelShift
    );
    let e = "drift".parse::<AnomalyKind>().unwrap_err();
    assert!(e.to_string().contains("drift"), "{e}");
}

/// The error of `c`, and its message.
fn error(c: SyntheticConfig) -> (DataError, String) {
    let e = generate(&c).unwrap_err();
    let msg = e.to_string();
    (e, msg)
}

#[test]
fn every_impossible_setting_is_an_error_naming_its_value() {
    let base = SyntheticConfig::default;
    for (setting, c) in [
        (
            "n_sensors",
            SyntheticConfig {
                n_sensors: 0,
                sensors_per_anomaly: 1..=1,
                ..base()
            },
        ),
        (
            "n_factors",
            SyntheticConfig {
                n_factors: 0,
                ..base()
            },
        ),
        (
            "n_train",
            SyntheticConfig {
                n_train: 0,
                ..base()
            },
        ),
    ] {
        let (e, msg) = error(c);
        assert!(
            matches!(e, DataError::InvalidParam { what: "synthetic", param, .. } if param == setting),
            "{msg}"
        );
        assert!(msg.contains(&format!("{setting} = 0")), "{msg}");
    }
    #[allow(clippy::reversed_empty_ranges)]
    let (_, msg) = error(SyntheticConfig {
        anomaly_len: 9..=3,
        ..base()
    });
    assert!(msg.contains("anomaly_len = 9..=3"), "{msg}");
    let (_, msg) = error(SyntheticConfig {
        sensors_per_anomaly: 0..=2,
        ..base()
    });
    assert!(msg.contains("sensors_per_anomaly = 0..=2"), "{msg}");

    let (e, msg) = error(SyntheticConfig {
        sensors_per_anomaly: 2..=9,
        ..base()
    });
    assert!(
        matches!(
            e,
            DataError::TooManySensors {
                per_anomaly: 9,
                n_sensors: 8
            }
        ),
        "{msg}"
    );

    let (e, msg) = error(SyntheticConfig {
        n_test: 300,
        ..base()
    });
    // 6 · (30 + 50) = 480 > 300.
    assert!(
        matches!(
            e,
            DataError::AnomaliesDoNotFit {
                needed: 480,
                n_test: 300,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("480") && msg.contains("300"), "{msg}");
    // Exactly fitting is fine, and then the regions are packed with min_gap between them.
    let m = generate(&SyntheticConfig {
        n_test: 480,
        anomaly_len: 30..=30,
        ..base()
    })
    .unwrap();
    let starts: Vec<usize> = m.regions.iter().map(|r| r.start).collect();
    assert_eq!(starts, vec![50, 130, 210, 290, 370, 450]);

    let (_, msg) = error(SyntheticConfig {
        kinds: vec![],
        ..base()
    });
    assert!(msg.contains("kinds = []"), "{msg}");
    let (_, msg) = error(SyntheticConfig {
        magnitude: f32::NAN,
        ..base()
    });
    assert!(msg.contains("magnitude = NaN"), "{msg}");
    let (_, msg) = error(SyntheticConfig {
        magnitude: 0.0,
        ..base()
    });
    assert!(msg.contains("magnitude = 0"), "{msg}");
    let (_, msg) = error(SyntheticConfig {
        noise: -0.1,
        ..base()
    });
    assert!(msg.contains("noise = -0.1"), "{msg}");
    // A huge request overflows no counter.
    let (e, _) = error(SyntheticConfig {
        n_anomalies: usize::MAX,
        ..base()
    });
    assert!(matches!(e, DataError::AnomaliesDoNotFit { .. }));
}

prop_compose! {
    fn small_config()(
        n_sensors in 1usize..10,
        n_factors in 1usize..5,
        n_train in 1usize..40,
        n_anomalies in 0usize..5,
        max_len in 1usize..12,
        min_len_frac in 0.0f64..1.0,
        min_gap in 0usize..10,
        spare in 0usize..50,
        per_frac in (0.0f64..1.0, 0.0f64..1.0),
        kind_mask in 1usize..16,
        magnitude in 0.01f32..3.0,
        polarity in prop_oneof![Just(Polarity::Both), Just(Polarity::Up), Just(Polarity::Down)],
        noise in 0.0f32..0.2,
        seed in any::<u64>(),
    ) -> SyntheticConfig {
        let min_len = 1 + ((max_len - 1) as f64 * min_len_frac) as usize;
        let hi = 1 + ((n_sensors - 1) as f64 * per_frac.0.max(per_frac.1)) as usize;
        let lo = 1 + ((hi - 1) as f64 * per_frac.0.min(per_frac.1)) as usize;
        let kinds = AnomalyKind::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| kind_mask & (1 << i) != 0)
            .map(|(_, k)| k)
            .collect();
        SyntheticConfig {
            n_sensors,
            n_factors,
            n_train,
            n_test: (n_anomalies * (max_len + min_gap) + spare).max(1),
            n_anomalies,
            sensors_per_anomaly: lo..=hi,
            anomaly_len: min_len..=max_len,
            min_gap,
            kinds,
            magnitude,
            polarity,
            noise,
            seed,
            ..SyntheticConfig::default()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn invariants_hold_for_any_valid_config(c in small_config()) {
        check_invariants(&c);
    }
}

// ---- factor anomalies and the two regimes ------------------------------------------

/// A small machine whose anomalies disturb one latent factor each.
fn factor_cfg(seed: u64, kind: AnomalyKind) -> SyntheticConfig {
    SyntheticConfig {
        n_sensors: 12,
        n_factors: 2,
        target: AnomalyTarget::Factor,
        magnitude: 1.0,
        kinds: vec![kind],
        seed,
        ..SyntheticConfig::default()
    }
}

#[test]
fn a_factor_anomaly_moves_its_sensors_together_and_labels_the_ones_that_move_enough() {
    for kind in AnomalyKind::ALL {
        for seed in 0..3 {
            let c = factor_cfg(seed, kind);
            let m = generate(&c).unwrap();
            assert_eq!(m.regions.len(), c.n_anomalies);
            let diff = &m.test - &m.clean_test;
            // Nothing changes outside the regions.
            for (t, row) in diff.axis_iter(Axis(0)).enumerate() {
                if !m.labels[t] {
                    assert!(row.iter().all(|&d| d == 0.0), "step {t} changed");
                }
            }
            for r in &m.regions {
                let block = diff.slice(ndarray::s![r.start..r.end, ..]);
                // Every sensor's displacement is its own multiple of one shape (the
                // factor's disturbance): the block has rank one.
                let (big_t, big_f) = {
                    let mut best = (0, 0, 0.0f32);
                    for ((t, f), &v) in block.indexed_iter() {
                        if v.abs() > best.2 {
                            best = (t, f, v.abs());
                        }
                    }
                    (best.0, best.1)
                };
                for ((t, f), &v) in block.indexed_iter() {
                    let cross = block[[t, big_f]] * block[[big_t, f]];
                    let direct = v * block[[big_t, big_f]];
                    assert!(
                        (cross - direct).abs() <= 1e-4 * block[[big_t, big_f]].powi(2).max(1e-6),
                        "{kind} seed {seed}: not rank one at ({t}, {f})"
                    );
                }
                // The labelled sensors are exactly those displaced by min_displacement on
                // average (or, when none is, the one displaced most).
                let mean_abs: Vec<f32> = block
                    .columns()
                    .into_iter()
                    .map(|c| c.iter().map(|v| v.abs()).sum::<f32>() / c.len() as f32)
                    .collect();
                let above: Vec<usize> = (0..c.n_sensors)
                    .filter(|&f| mean_abs[f] >= c.min_displacement * (1.0 + 1e-5))
                    .collect();
                let below: Vec<usize> = (0..c.n_sensors)
                    .filter(|&f| mean_abs[f] < c.min_displacement * (1.0 - 1e-5))
                    .collect();
                assert!(
                    above.iter().all(|f| r.features.contains(f)),
                    "{kind}: {r:?}"
                );
                if !above.is_empty() {
                    assert!(
                        below.iter().all(|f| !r.features.contains(f)),
                        "{kind}: {r:?}"
                    );
                } else {
                    assert_eq!(r.features.len(), 1);
                }
            }
        }
    }
}

#[test]
fn factor_anomalies_plant_into_the_same_normal_data() {
    let sensors = generate(&cfg(4)).unwrap();
    let factor = generate(&SyntheticConfig {
        target: AnomalyTarget::Factor,
        ..cfg(4)
    })
    .unwrap();
    assert_eq!(sensors.train, factor.train);
    assert_eq!(sensors.clean_test, factor.clean_test);
    assert_ne!(sensors.test, factor.test);
}

#[test]
fn a_negative_or_nan_min_displacement_is_an_error_naming_it() {
    for v in [-0.1f32, f32::NAN] {
        let e = generate(&SyntheticConfig {
            min_displacement: v,
            ..cfg(0)
        })
        .unwrap_err();
        assert!(e.to_string().contains("min_displacement"), "{e}");
    }
}

/// The expected GT@120% IoU of a random ranking for a region of `n` of `f` sensors:
/// `k = ceil(1.2 n)` picks, IoU = i / (k + n − i), `i` hypergeometric.
fn chance_iou(n: usize, f: usize) -> f64 {
    let k = ((1.2 * n as f64) - 1e-9).ceil() as usize;
    let k = k.min(f);
    let ln_choose = |a: usize, b: usize| -> f64 {
        (1..=b)
            .map(|j| ((a + 1 - j) as f64).ln() - (j as f64).ln())
            .sum()
    };
    let total = ln_choose(f, k);
    (0..=k.min(n))
        .filter(|&i| k - i <= f - n)
        .map(|i| {
            let p = (ln_choose(n, i) + ln_choose(f - n, k - i) - total).exp();
            p * i as f64 / (k + n - i) as f64
        })
        .sum()
}

#[test]
fn the_regimes_have_their_promised_shape_and_chance_level() {
    for regime in Regime::ALL {
        assert_eq!(regime.name().parse::<Regime>().unwrap(), regime);
        let (mut sizes, mut chance) = (Vec::new(), 0.0);
        for seed in 0..6 {
            let c = regime.config(seed);
            assert_eq!(c.seed, seed);
            let m = generate(&c).unwrap();
            assert_eq!(m.n_sensors(), 19);
            assert_eq!(m.regions.len(), 12);
            for r in &m.regions {
                sizes.push(r.features.len());
                chance += chance_iou(r.features.len(), 19) / 72.0;
            }
        }
        let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        match regime {
            // 1 to 3 sensors of 19: chance about 0.08.
            Regime::FewSensors => {
                assert!((1.5..2.5).contains(&mean), "{mean}");
                assert!((0.05..0.12).contains(&chance), "{chance}");
            }
            // About half the sensors: chance about 0.4, as on the held-out system.
            Regime::CorrelatedGroup => {
                assert!((8.0..12.0).contains(&mean), "{mean}");
                assert!((0.35..0.45).contains(&chance), "{chance}");
            }
            // One group of about 6 of 19 sensors: chance about 0.25.
            Regime::GroupShift => {
                assert!((5.0..8.0).contains(&mean), "{mean}");
                assert!((0.2..0.3).contains(&chance), "{chance}");
            }
        }
    }
    assert_eq!("b".parse::<Regime>().unwrap(), Regime::CorrelatedGroup);
    assert_eq!("c".parse::<Regime>().unwrap(), Regime::GroupShift);
    assert!("d"
        .parse::<Regime>()
        .unwrap_err()
        .to_string()
        .contains("regime"));
}

#[test]
fn noise_spread_gives_each_sensor_its_own_noise_level_within_the_promised_range() {
    let c = SyntheticConfig {
        n_sensors: 12,
        n_train: 4000,
        noise_spread: 1.0,
        ..cfg(3)
    };
    let noisy = generate(&c).unwrap();
    let quiet = generate(&SyntheticConfig {
        noise: 0.0,
        ..c.clone()
    })
    .unwrap();
    let sd: Vec<f64> = (&noisy.train - &quiet.train)
        .columns()
        .into_iter()
        .map(|col| {
            let n = col.len() as f64;
            let mean = col.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            (col.iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n)
                .sqrt()
        })
        .collect();
    let e = std::f64::consts::E;
    for s in &sd {
        // noise · e^u, u in [-1, 1]; 4000 draws estimate σ within a few percent.
        assert!((0.02 / e * 0.9..0.02 * e * 1.1).contains(s), "{sd:?}");
    }
    let (lo, hi) = sd
        .iter()
        .fold((f64::MAX, 0.0f64), |(l, h), &s| (l.min(s), h.max(s)));
    assert!(hi / lo > 2.0, "{sd:?}");
    // Without a spread every sensor has the same noise (the default output is pinned).
    let flat = generate(&SyntheticConfig {
        noise_spread: 0.0,
        ..c
    })
    .unwrap();
    assert_ne!(flat.train, noisy.train);
    let bad = generate(&SyntheticConfig {
        noise_spread: -1.0,
        ..cfg(0)
    })
    .unwrap_err();
    assert!(bad.to_string().contains("noise_spread"), "{bad}");
}
