//! What the explainer does with messy live data: missing values, sensors constant in
//! training, spans shorter than a window, spans at the very start of a series.

use anomaly_xai::explainer::{Explainer, Missing, NormalReference};
use anomaly_xai::models::ArrayDetector;
use anomaly_xai::Error;
use ndarray::{s, Array2, ArrayViewD};

const WINDOW: usize = 10;
const SENSORS: usize = 4;

/// Predicts every cell as 0.5: the residual of a cell is `|x − 0.5|` (L1) or its square.
fn half() -> ArrayDetector<impl Fn(ArrayViewD<'_, f32>) -> ndarray::ArrayD<f32> + Send> {
    ArrayDetector::new(
        "one half",
        vec![WINDOW as i64, SENSORS as i64],
        |x: ArrayViewD<'_, f32>| x.mapv(|_| 0.5),
    )
    .unwrap()
}

/// Normal data around 0.5; sensor 3 is constant (0.5) when `constant`.
fn normal(steps: usize, constant: bool) -> Array2<f32> {
    Array2::from_shape_fn((steps, SENSORS), |(t, f)| match (f, constant) {
        (3, true) => 0.5,
        _ => 0.5 + 0.1 * ((t as f32) * 0.37 + f as f32 * 1.3).sin(),
    })
}

fn explainer(missing: Missing, constant: bool) -> Explainer {
    Explainer::builder(half())
        .sensor_names(["a", "b", "c", "d"])
        .missing(missing)
        .fit(
            normal(300, constant).view(),
            NormalReference::HeldOut(200..300),
        )
        .unwrap()
}

#[test]
fn a_missing_value_is_an_error_naming_its_sensor_and_step() {
    let mut live = normal(200, false);
    live.slice_mut(s![100..104, 2]).fill(3.0);
    live[[97, 1]] = f32::NAN;
    let err = explainer(Missing::Refuse, false)
        .explain(live.view(), 100..104)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingValue {
                step: 97,
                sensor: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("sensor 1 (b)"), "{err}");
    // A gap outside the explained windows (91..=103) is never read.
    live[[97, 1]] = 0.5;
    live[[20, 1]] = f32::NAN;
    explainer(Missing::Refuse, false)
        .explain(live.view(), 100..104)
        .unwrap();
}

#[test]
fn imputation_fills_in_the_training_mean_and_marks_the_sensor() {
    let mut live = normal(200, false);
    live.slice_mut(s![100..104, 2]).fill(3.0);
    live.slice_mut(s![95..98, 1]).fill(f32::NAN);
    let e = explainer(Missing::TrainingMean, false);
    let x = e.explain(live.view(), 100..104).unwrap();
    assert_eq!(x.imputed, vec![1]);
    assert_eq!(x.ranked()[0].sensor, 2);
    for m in &x.methods {
        for s in &m.ranking {
            assert_eq!(s.imputed, s.sensor == 1, "{}", m.method);
        }
    }
    // The same as explaining the series with the mean written in by hand.
    let mut filled = live.clone();
    filled.slice_mut(s![95..98, 1]).fill(e.training_mean()[1]);
    let y = e.explain(filled.view(), 100..104).unwrap();
    assert_eq!(x.ranked()[0].raw, y.ranked()[0].raw);
    assert_eq!(x.cells, y.cells);
    assert!(y.imputed.is_empty());
    // The mark is in the JSON.
    let json = serde_json::to_string(&x).unwrap();
    assert!(json.contains("\"imputed\":[1]"), "{json}");
}

#[test]
fn a_sensor_constant_in_training_ranks_first_when_it_moves_and_not_when_it_stays() {
    let e = explainer(Missing::Refuse, true);
    assert_eq!(e.constant_sensors(), vec![3]);
    // It stays at its constant value: the fault on sensor 2 ranks first, every score is
    // finite.
    let mut live = normal(200, true);
    live.slice_mut(s![100..104, 2]).fill(3.0);
    let x = e.explain(live.view(), 100..104).unwrap();
    assert_eq!(x.ranked()[0].sensor, 2);
    let d = x.ranked().iter().find(|s| s.sensor == 3).unwrap();
    assert!(d.constant_in_training && d.score.is_finite() && d.score.abs() < 1e-6);
    assert!(serde_json::to_string(&x).is_ok());
    // It moves a little (less than sensor 2): it never moved in normal operation, so it
    // is the most unusual.
    live.slice_mut(s![100..104, 3]).fill(0.6);
    let x = e.explain(live.view(), 100..104).unwrap();
    assert_eq!(x.ranked()[0].sensor, 3);
    assert!(x.ranked()[0].score.is_finite());
}

#[test]
fn a_span_shorter_than_a_window_is_explained_by_the_windows_ending_in_it() {
    let mut live = normal(200, false);
    live[[120, 0]] = 2.0;
    let x = explainer(Missing::Refuse, false)
        .explain(live.view(), 120..121)
        .unwrap();
    // One step: the one window that ends there.
    assert_eq!(x.window_starts, vec![111]);
    assert_eq!(x.cells.dim(), (1, SENSORS));
    assert_eq!(x.ranked()[0].sensor, 0);
}

#[test]
fn a_span_at_the_very_start_is_explained_by_the_first_window() {
    let mut live = normal(200, false);
    live.slice_mut(s![0..3, 2]).fill(3.0);
    let e = explainer(Missing::Refuse, false);
    let x = e.explain(live.view(), 0..3).unwrap();
    assert_eq!(x.window_starts, vec![0]);
    assert_eq!(x.ranked()[0].sensor, 2);
    // A series shorter than one window cannot be explained: the error says so.
    let err = e.explain(live.slice(s![0..5, ..]), 0..3).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Shape {
                what: "live series",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("steps >= 10"), "{err}");
}
