//! Small real data: windows of the Server Machine Dataset (machine-1-2), one sensor
//! corrupted, explained with every method through a per-sensor mask. Skipped with a
//! message when the shared data directory is absent.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use tch::{Device, Kind, Tensor};
use xai_attrib::{
    ArrayScorer, Attribution, Baseline, FeatureAblation, FeatureMask, FnScorer, GradientShap,
    IntegratedGradients, KernelShap, Occlusion, Request, Saliency, Scorer, ShapleyValueSampling,
};

/// A method behind the trait object every harness uses.
type Method = Box<dyn Attribution<dyn Scorer>>;

const T: i64 = 20;
const F: i64 = 38;

/// `ANOMALY_XAI_DATA`, or a `shared/data` directory beside an ancestor of this crate.
fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ANOMALY_XAI_DATA") {
        return Some(PathBuf::from(dir));
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared").join("data");
        if candidate.is_dir() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// The first `rows` rows of a machine's training series, `[rows, 38]`.
fn smd_rows(machine: &str, rows: usize) -> Option<Tensor> {
    let path = data_dir()?
        .join("smd")
        .join("train")
        .join(format!("{machine}.txt.xz"));
    let file = std::fs::File::open(&path).ok()?;
    let reader = BufReader::new(xz2::read::XzDecoder::new(file));
    let mut values = Vec::with_capacity(rows * F as usize);
    for line in reader.lines().take(rows) {
        let line = line.expect("readable SMD text");
        values.extend(
            line.split(',')
                .map(|v| v.trim().parse::<f32>().expect("a number")),
        );
    }
    assert_eq!(
        values.len(),
        rows * F as usize,
        "{} has 38 columns",
        path.display()
    );
    Some(Tensor::from_slice(&values).reshape([rows as i64, F]))
}

#[test]
fn every_method_finds_a_corrupted_sensor_in_smd_windows() {
    let Some(series) = smd_rows("machine-1-2", 600) else {
        eprintln!("skipping: shared/data/smd (set ANOMALY_XAI_DATA) was not found");
        return;
    };
    // Non-overlapping windows of 20 steps; the detector's statistics come from all of them
    // (SMD drifts, so windows outside the fitted stretch would already look anomalous).
    let train = series.reshape([30, T, F]);
    let test = train.narrow(0, 25, 3).copy();
    // Detector: mean squared z-score per cell.
    let mean = train.mean_dim([0i64, 1].as_slice(), false, Kind::Float);
    let std = train
        .std_dim([0i64, 1].as_slice(), false, false)
        .clamp_min(0.05);
    let (m, s) = (mean.shallow_clone(), std.shallow_clone());
    let detector = FnScorer::new("z-score", move |x: &Tensor| {
        Ok(x.f_sub(&m)?.f_div(&s)?.f_square()?.f_mean_dim(
            [1i64, 2].as_slice(),
            false,
            Kind::Float,
        )?)
    });
    // Corrupt a different sensor in each window: +8 standard deviations over the last five
    // steps.
    let corrupted = [3i64, 17, 30];
    for (b, &c) in corrupted.iter().enumerate() {
        let mut cells = test.get(b as i64).narrow(0, T - 5, 5).select(1, c);
        let bumped = &cells + std.get(c) * 8.0;
        cells.copy_(&bumped);
    }
    let mask = FeatureMask::per_sensor(T, F).unwrap();
    let req = Request::with_baseline(Baseline::feature_means(&train).unwrap()).mask(mask.clone());
    let dist =
        Request::with_baseline(Baseline::Distribution(train.narrow(0, 0, 8))).mask(mask.clone());
    let methods: Vec<(Method, &Request)> = vec![
        (Box::new(Saliency::default()), &req),
        (Box::new(IntegratedGradients::default()), &req),
        (
            Box::new(GradientShap::params().n_samples(20).check().unwrap()),
            &dist,
        ),
        (Box::new(FeatureAblation::default()), &req),
        (
            Box::new(
                Occlusion::params()
                    .window([5, 1])
                    .strides([5, 1])
                    .check()
                    .unwrap(),
            ),
            &req,
        ),
        (
            Box::new(
                ShapleyValueSampling::params()
                    .n_permutations(3)
                    .check()
                    .unwrap(),
            ),
            &req,
        ),
        (
            Box::new(KernelShap::params().n_samples(100).check().unwrap()),
            &req,
        ),
        (
            Box::new(KernelShap::params().n_samples(60).check().unwrap()),
            &dist,
        ),
    ];
    for (method, request) in methods {
        let a = method
            .attribute(&detector as &dyn Scorer, &test, request)
            .unwrap();
        let per_sensor = mask.group_means(&a.scores).unwrap();
        let top = per_sensor.argmax(1, false);
        assert_eq!(
            Vec::<i64>::try_from(&top).unwrap(),
            corrupted.to_vec(),
            "{}",
            method.name()
        );
    }
    // The same detector written in plain Rust, explained by a perturbation method.
    let (mv, sv) = (common::values(&mean), common::values(&std));
    let plain = ArrayScorer::new(
        "z-score (ndarray)",
        move |x: ndarray::ArrayViewD<'_, f32>| {
            x.outer_iter()
                .map(|w| {
                    let n = w.len() as f64;
                    w.indexed_iter()
                        .map(|(i, &v)| ((v as f64 - mv[i[1]]) / sv[i[1]]).powi(2))
                        .sum::<f64>() as f32
                        / n as f32
                })
                .collect()
        },
    );
    let a = FeatureAblation::default()
        .attribute(&plain, &test, &req)
        .unwrap();
    let top = mask.group_means(&a.scores).unwrap().argmax(1, false);
    assert_eq!(Vec::<i64>::try_from(&top).unwrap(), corrupted.to_vec());
    assert_eq!(test.device(), Device::Cpu);
}
