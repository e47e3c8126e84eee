//! A fitted explainer held by a service: saved and loaded bit for bit, refused for another
//! detector or a damaged file, and explaining from several threads at once.

use std::sync::Arc;

use anomaly_xai::attrib::{BaselineSpec, IntegratedGradients};
use anomaly_xai::explainer::{Explainer, Explanation, NormalReference, FORMAT_VERSION};
use anomaly_xai::method::MethodSpec;
use anomaly_xai::models::{ArrayDetector, ErrorNorm, LstmAe, LstmAeConfig};
use anomaly_xai::Error;
use ndarray::{s, Array2, ArrayViewD};
use tch::Device;

const WINDOW: usize = 10;
const SENSORS: usize = 4;

fn half() -> ArrayDetector<impl Fn(ArrayViewD<'_, f32>) -> ndarray::ArrayD<f32> + Send> {
    ArrayDetector::new(
        "one half",
        vec![WINDOW as i64, SENSORS as i64],
        |x: ArrayViewD<'_, f32>| x.mapv(|_| 0.5),
    )
    .unwrap()
}

fn lstm(seed: u64) -> LstmAe {
    LstmAe::seeded(
        &LstmAeConfig::new(SENSORS as i64, WINDOW as i64, 8),
        Device::Cpu,
        seed,
    )
    .unwrap()
}

fn normal(steps: usize) -> Array2<f32> {
    Array2::from_shape_fn((steps, SENSORS), |(t, f)| {
        0.5 + 0.1 * ((t as f32) * 0.37 + f as f32 * 1.3).sin()
    })
}

fn live() -> Array2<f32> {
    let mut x = normal(200);
    x.slice_mut(s![100..104, 2]).fill(3.0);
    x.slice_mut(s![150..160, 1]).fill(-1.0);
    x
}

/// The explanation without its timings, which differ from run to run.
fn untimed(mut x: Explanation) -> Explanation {
    x.answer.seconds = 0.0;
    for m in &mut x.methods {
        m.seconds = 0.0;
    }
    x
}

fn lstm_explainer(seed: u64) -> Explainer {
    Explainer::builder(lstm(seed))
        .methods(vec![
            MethodSpec::residual(ErrorNorm::SquaredL2),
            MethodSpec::attrib(IntegratedGradients::params().n_steps(8).check().unwrap())
                .baseline(BaselineSpec::FeatureMeans),
        ])
        .sensor_names(["a", "b", "c", "d"])
        .fit(normal(300).view(), NormalReference::HeldOut(200..300))
        .unwrap()
}

#[test]
fn a_saved_explainer_loads_and_explains_bit_for_bit() {
    let dir = tempdir();
    for (name, fitted, detector) in [
        (
            "plain.json",
            Explainer::builder(half())
                .fit(normal(300).view(), NormalReference::HeldOut(200..300))
                .unwrap(),
            None,
        ),
        ("lstm.json", lstm_explainer(0), Some(lstm(0))),
    ] {
        let path = dir.join(name);
        fitted.save(&path).unwrap();
        let loaded = match detector {
            Some(d) => Explainer::load(&path, d).unwrap(),
            None => Explainer::load(&path, half()).unwrap(),
        };
        assert_eq!(loaded.method_labels(), fitted.method_labels());
        for span in [100..104, 150..160, 0..3] {
            let a = untimed(fitted.explain(live().view(), span.clone()).unwrap());
            let b = untimed(loaded.explain(live().view(), span).unwrap());
            assert_eq!(a, b, "{name}");
        }
        // Saved again, the file is the same.
        let again = dir.join(format!("again-{name}"));
        loaded.save(&again).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&again).unwrap()
        );
    }
}

#[test]
fn another_detector_a_damaged_file_or_another_version_is_refused() {
    let dir = tempdir();
    let path = dir.join("lstm.json");
    lstm_explainer(0).save(&path).unwrap();
    // Other weights.
    let err = Explainer::load(&path, lstm(1)).unwrap_err();
    assert!(matches!(err, Error::OtherDetector { .. }), "{err}");
    assert!(err.to_string().contains("sha256:"), "{err}");
    // Another kind of detector, with the same sample shape.
    let err = Explainer::load(&path, half()).unwrap_err();
    assert!(matches!(err, Error::OtherDetector { .. }), "{err}");
    let text = std::fs::read_to_string(&path).unwrap();
    // Another version.
    let other = dir.join("v2.json");
    std::fs::write(
        &other,
        text.replacen(&format!("\"version\":{FORMAT_VERSION}"), "\"version\":2", 1),
    )
    .unwrap();
    let err = Explainer::load(&other, lstm(0)).unwrap_err();
    assert!(
        matches!(err, Error::FormatVersion { found: 2, .. }),
        "{err}"
    );
    // Cut short, and not an explainer at all.
    let cut = dir.join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let err = Explainer::load(&cut, lstm(0)).unwrap_err();
    assert!(matches!(err, Error::SavedExplainer { .. }), "{err}");
    let other = dir.join("other.json");
    std::fs::write(&other, r#"{"format": "something else", "version": 1}"#).unwrap();
    let err = Explainer::load(&other, lstm(0)).unwrap_err();
    assert!(matches!(err, Error::SavedExplainer { .. }), "{err}");
    assert!(err.to_string().contains("something else"), "{err}");
    // A damaged body: reference statistics for another sensor count.
    let damaged = dir.join("damaged.json");
    let body = text.replacen(
        "\"centre\":{\"v\":1,\"dim\":[4]",
        "\"centre\":{\"v\":1,\"dim\":[3]",
        1,
    );
    assert_ne!(body, text);
    std::fs::write(&damaged, body).unwrap();
    let err = Explainer::load(&damaged, lstm(0)).unwrap_err();
    assert!(matches!(err, Error::SavedExplainer { .. }), "{err}");
}

#[test]
fn several_threads_get_the_answers_of_one() {
    let explainer = Arc::new(lstm_explainer(0));
    let spans: Vec<_> = (0..8).map(|i| 90 + 10 * i..95 + 10 * i).collect();
    let one: Vec<Explanation> = spans
        .iter()
        .map(|s| untimed(explainer.explain(live().view(), s.clone()).unwrap()))
        .collect();
    let handles: Vec<_> = (0..4)
        .map(|k| {
            let explainer = Arc::clone(&explainer);
            let spans = spans.clone();
            std::thread::spawn(move || {
                // Each thread walks the spans from another start.
                (0..spans.len())
                    .map(|i| {
                        let j = (i + 2 * k) % spans.len();
                        (
                            j,
                            untimed(explainer.explain(live().view(), spans[j].clone()).unwrap()),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for (j, x) in h.join().unwrap() {
            assert_eq!(x, one[j]);
        }
    }
}

/// A fresh folder under the target directory's tmp.
fn tempdir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "explainer-saved-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
