//! The live-alarm explainer on detectors whose error is known: the ranking it answers, the
//! scores it reports, its JSON.

use anomaly_xai::explainer::{Explainer, Explanation, NormalReference};
use anomaly_xai::method::MethodSpec;
use anomaly_xai::models::{ArrayDetector, ErrorNorm};
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

/// Normal data around 0.5: every sensor's residual is at most 0.1.
fn normal(steps: usize) -> Array2<f32> {
    Array2::from_shape_fn((steps, SENSORS), |(t, f)| {
        0.5 + 0.1 * ((t as f32) * 0.37 + f as f32 * 1.3).sin()
    })
}

/// A live series: normal, but in `[100, 104)` sensor 2 reads 3.0 and sensor 0 reads 1.5.
fn live() -> Array2<f32> {
    let mut x = normal(200);
    x.slice_mut(s![100..104, 2]).fill(3.0);
    x.slice_mut(s![100..104, 0]).fill(1.5);
    x
}

fn explainer() -> Explainer {
    Explainer::builder(half())
        .sensor_names(["a", "b", "c", "d"])
        .fit(normal(300).view(), NormalReference::HeldOut(200..300))
        .unwrap()
}

#[test]
fn the_residual_ranks_the_sensors_the_known_error_points_at() {
    let e = explainer();
    assert_eq!((e.window(), e.sensors()), (WINDOW, SENSORS));
    // A plain-Rust detector serves no gradient method and no LRP: left out, with why.
    assert_eq!(e.answer_label(), "Residual L2");
    assert!(e
        .left_out()
        .iter()
        .any(|l| l.method.starts_with("Integrated Gradients")
            && l.reason.contains("not differentiable")));
    let x = e.explain(live().view(), 100..104).unwrap();
    let order: Vec<usize> = x.ranked().iter().map(|s| s.sensor).collect();
    assert_eq!(&order[..2], &[2, 0]);
    assert_eq!(x.ranked()[0].name.as_deref(), Some("c"));
    // Every cell of the span is 3.0 on sensor 2: its raw L2 residual is (3.0 − 0.5)² over
    // every (window, step) of the span, and 1.0² on sensor 0.
    assert!(
        (x.ranked()[0].raw - 6.25).abs() < 1e-6,
        "{}",
        x.ranked()[0].raw
    );
    assert!(
        (x.ranked()[1].raw - 1.0).abs() < 1e-6,
        "{}",
        x.ranked()[1].raw
    );
    // Nothing normal comes close: the smallest p-value (1 / 33 with 32 reference windows).
    assert!((x.ranked()[0].p_value - 1.0 / 33.0).abs() < 1e-12);
    assert!(x.ranked()[3].p_value > 0.1);
    // Every method that was kept agrees on the first sensor.
    for m in &x.methods {
        assert_eq!(m.ranking[0].sensor, 2, "{}", m.method);
    }
    // The cell map covers the span; sensor 2's cells are its L2 residual.
    assert_eq!(x.cells.dim(), (4, SENSORS));
    assert!(x.cells.column(2).iter().all(|&v| (v - 6.25).abs() < 1e-5));
    // Windows end in the span: 101 − 10 + 1 = 91 .. 94.
    assert_eq!(x.window_starts, vec![91, 92, 93, 94]);
}

#[test]
fn a_scale_normalized_score_is_the_raw_one_over_the_usual_magnitude() {
    let e = Explainer::builder(half())
        .methods(vec![MethodSpec::residual(ErrorNorm::L1)])
        .fit(normal(300).view(), NormalReference::Series(normal(120)))
        .unwrap();
    assert_eq!(e.answer_label(), "Residual L1");
    let x = e.explain(live().view(), 100..104).unwrap();
    let top = &x.ranked()[0];
    assert_eq!(top.sensor, 2);
    assert!((top.raw - 2.5).abs() < 1e-6);
    // Normal |x − 0.5| of a sine of amplitude 0.1 is at most 0.1: the score is over 25.
    assert!(top.score > 25.0, "{}", top.score);
}

#[test]
fn the_explanation_round_trips_through_json() {
    let x = explainer().explain(live().view(), 100..104).unwrap();
    let json = serde_json::to_string(&x).unwrap();
    assert!(json.contains("\"name\":\"c\""));
    let back: Explanation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, x);
}

#[test]
fn inputs_that_do_not_fit_the_detector_say_which_input() {
    let err = Explainer::builder(half())
        .fit(
            Array2::<f32>::zeros((300, 3)).view(),
            NormalReference::HeldOut(200..300),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Shape {
                what: "normal series",
                ..
            }
        ),
        "{err}"
    );
    let err = Explainer::builder(half())
        .fit(
            normal(300).view(),
            NormalReference::Series(Array2::zeros((50, 5))),
        )
        .unwrap_err();
    assert!(err.to_string().contains("normal reference series"), "{err}");
    let err = Explainer::builder(half())
        .fit(normal(300).view(), NormalReference::HeldOut(295..300))
        .unwrap_err();
    assert!(err.to_string().contains("295..300"), "{err}");
    let err = explainer()
        .explain(Array2::<f32>::zeros((50, 5)).view(), 10..12)
        .unwrap_err();
    assert!(err.to_string().contains("live series"), "{err}");
    let err = Explainer::builder(half())
        .answer("Residual L3")
        .fit(normal(300).view(), NormalReference::HeldOut(200..300))
        .unwrap_err();
    assert!(err.to_string().contains("Residual L3"), "{err}");
}

#[test]
fn an_explainer_is_send_and_sync() {
    fn held_by_a_service<T: Send + Sync>(_: &T) {}
    held_by_a_service(&explainer());
}
