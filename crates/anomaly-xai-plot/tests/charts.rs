//! Every chart writes a decodable PNG of the requested size and rejects bad input.

use std::path::PathBuf;

use anomaly_xai_plot::{
    draw_bar_chart, draw_recall_curves, draw_sensor_figure, BarChart, PlotError, RecallLine,
    RecallPanel, SensorFigure,
};
use ndarray::Array2;

fn out(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plot-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

fn assert_png(path: &PathBuf, size: (u32, u32)) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!((img.width(), img.height()), size);
    // Something besides the white background was drawn.
    let rgb = img.to_rgb8();
    let non_white = rgb.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(non_white > 1000, "only {non_white} drawn pixels");
}

fn curve(label: &str, m: usize, shift: f64) -> RecallLine {
    RecallLine {
        label: label.into(),
        recall: (1..=m)
            .map(|i| (i as f64 / m as f64 + shift).min(1.0))
            .collect(),
    }
}

fn panels() -> Vec<RecallPanel> {
    ["null", "random", "adversarial"]
        .iter()
        .map(|t| RecallPanel {
            title: t.to_string(),
            curves: vec![
                curve("LRP", 30, 0.3),
                curve("Kernel SHAP", 30, 0.25),
                curve("residual", 30, 0.0),
            ],
        })
        .collect()
}

#[test]
fn recall_curves_write_a_png_of_the_requested_size() {
    let path = out("recall.png");
    draw_recall_curves(&path, &panels(), (1200, 400)).unwrap();
    assert_png(&path, (1200, 400));
    // A single m still draws (the x range is widened around it).
    let path = out("recall-one.png");
    let one = vec![RecallPanel {
        title: "one".into(),
        curves: vec![curve("a", 1, 0.0)],
    }];
    draw_recall_curves(&path, &one, (400, 300)).unwrap();
    assert_png(&path, (400, 300));
}

fn invalid(r: Result<(), PlotError>) -> String {
    match r {
        Err(e @ PlotError::InvalidInput { .. }) => e.to_string(),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn recall_curves_reject_bad_input() {
    let p = out("bad-recall.png");
    assert!(invalid(draw_recall_curves(&p, &[], (800, 300))).contains("no panels"));
    let mut bad = panels();
    bad[1].curves[2].recall.pop();
    let msg = invalid(draw_recall_curves(&p, &bad, (800, 300)));
    assert!(msg.contains("`residual` has 29 points"), "{msg}");
    let mut bad = panels();
    bad[0].curves[0].recall[4] = 1.5;
    assert!(invalid(draw_recall_curves(&p, &bad, (800, 300))).contains("recall@5 = 1.5"));
    let mut bad = panels();
    bad[2].curves[1].recall[0] = f64::NAN;
    invalid(draw_recall_curves(&p, &bad, (800, 300)));
    let mut bad = panels();
    bad[2].curves.clear();
    assert!(invalid(draw_recall_curves(&p, &bad, (800, 300))).contains("no curves"));
    let mut bad = panels();
    bad[0].curves[1].recall.clear();
    assert!(invalid(draw_recall_curves(&p, &bad, (800, 300))).contains("is empty"));
    assert!(invalid(draw_recall_curves(out("x.jpg"), &panels(), (800, 300))).contains(".png"));
    assert!(invalid(draw_recall_curves(&p, &panels(), (100, 300))).contains("minimum"));
    assert!(!p.exists());
}

#[test]
fn unwritable_paths_are_draw_errors_naming_the_path() {
    let p = out("no-such-dir").join("deeper").join("r.png");
    match draw_recall_curves(&p, &panels(), (800, 300)) {
        Err(PlotError::Draw { path, .. }) => assert!(path.contains("no-such-dir")),
        other => panic!("expected a Draw error, got {other:?}"),
    }
}

fn series() -> Array2<f32> {
    Array2::from_shape_fn((60, 12), |(t, j)| {
        let base = ((t as f32) * 0.2 + j as f32).sin() * 0.3 + 0.5;
        if (30..36).contains(&t) && [2, 5, 7].contains(&j) {
            base + 0.4
        } else {
            base
        }
    })
}

#[test]
fn sensor_figure_writes_a_png_of_the_requested_size() {
    let s = series();
    let attribution: Vec<f32> = (0..12)
        .map(|j| {
            if [2, 5, 9].contains(&j) {
                1.0 + j as f32 * 0.1
            } else {
                0.05 * j as f32 - 0.2
            }
        })
        .collect();
    let names: Vec<String> = (0..12).map(|j| format!("sensor {j}")).collect();
    let mut fig = SensorFigure {
        series: s.view(),
        start: 1000,
        region: 1030..1036,
        attribution: &attribution,
        true_sensors: &[2, 5, 7],
        names: None,
        top_k: 5,
        title: "synthetic machine, region 1030-1036".into(),
    };
    let path = out("sensors.png");
    draw_sensor_figure(&path, &fig, (1200, 450)).unwrap();
    assert_png(&path, (1200, 450));
    fig.names = Some(&names);
    fig.top_k = 40;
    fig.true_sensors = &[];
    let path = out("sensors-named.png");
    draw_sensor_figure(&path, &fig, (900, 400)).unwrap();
    assert_png(&path, (900, 400));
}

#[test]
fn sensor_figure_rejects_bad_input() {
    let s = series();
    let attribution = vec![0.5f32; 12];
    let fig = SensorFigure {
        series: s.view(),
        start: 1000,
        region: 1030..1036,
        attribution: &attribution,
        true_sensors: &[2, 5],
        names: None,
        top_k: 5,
        title: String::new(),
    };
    let p = out("bad-sensors.png");
    let short = vec![0.5f32; 11];
    let msg = invalid(draw_sensor_figure(
        &p,
        &SensorFigure {
            attribution: &short,
            ..fig.clone()
        },
        (900, 400),
    ));
    assert!(
        msg.contains("11 attribution scores for 12 sensors"),
        "{msg}"
    );
    let empty = Array2::<f32>::zeros((0, 12));
    assert!(invalid(draw_sensor_figure(
        &p,
        &SensorFigure {
            series: empty.view(),
            ..fig.clone()
        },
        (900, 400)
    ))
    .contains("empty"));
    let msg = invalid(draw_sensor_figure(
        &p,
        &SensorFigure {
            region: 1050..1070,
            ..fig.clone()
        },
        (900, 400),
    ));
    assert!(msg.contains("region 1050..1070"), "{msg}");
    invalid(draw_sensor_figure(
        &p,
        &SensorFigure {
            region: 1030..1030,
            ..fig.clone()
        },
        (900, 400),
    ));
    let msg = invalid(draw_sensor_figure(
        &p,
        &SensorFigure {
            true_sensors: &[12],
            ..fig.clone()
        },
        (900, 400),
    ));
    assert!(msg.contains("true sensor 12"), "{msg}");
    invalid(draw_sensor_figure(
        &p,
        &SensorFigure {
            top_k: 0,
            ..fig.clone()
        },
        (900, 400),
    ));
    let names = vec!["a".to_string(); 3];
    invalid(draw_sensor_figure(
        &p,
        &SensorFigure {
            names: Some(&names),
            ..fig.clone()
        },
        (900, 400),
    ));
    let mut nan = s.clone();
    nan[[3, 4]] = f32::NAN;
    let msg = invalid(draw_sensor_figure(
        &p,
        &SensorFigure {
            series: nan.view(),
            ..fig.clone()
        },
        (900, 400),
    ));
    assert!(msg.contains("series[3, 4]"), "{msg}");
    assert!(!p.exists());
}

fn bars(log_scale: bool) -> BarChart {
    BarChart {
        title: "seconds per explanation".into(),
        value_label: "seconds".into(),
        labels: vec![
            "LRP".into(),
            "residual".into(),
            "IG".into(),
            "Kernel SHAP".into(),
        ],
        values: vec![2.1e-4, 3.0e-5, 4.0e-3, 1.3],
        log_scale,
    }
}

#[test]
fn bar_charts_write_pngs_on_linear_and_log_axes() {
    for log in [false, true] {
        let path = out(&format!("bars-{log}.png"));
        draw_bar_chart(&path, &bars(log), (640, 400)).unwrap();
        assert_png(&path, (640, 400));
    }
    let mut signed = bars(false);
    signed.values = vec![-0.2, 0.5, 0.0, 0.1];
    let path = out("bars-signed.png");
    draw_bar_chart(&path, &signed, (640, 400)).unwrap();
    assert_png(&path, (640, 400));
}

#[test]
fn bar_charts_reject_bad_input() {
    let p = out("bad-bars.png");
    let mut b = bars(true);
    b.values[2] = 0.0;
    assert!(invalid(draw_bar_chart(&p, &b, (640, 400))).contains("`IG` = 0 must be > 0"));
    let mut b = bars(false);
    b.labels.pop();
    assert!(invalid(draw_bar_chart(&p, &b, (640, 400))).contains("3 labels for 4 values"));
    let mut b = bars(false);
    b.values[0] = f64::INFINITY;
    invalid(draw_bar_chart(&p, &b, (640, 400)));
    let b = BarChart {
        labels: vec![],
        values: vec![],
        ..bars(false)
    };
    assert!(invalid(draw_bar_chart(&p, &b, (640, 400))).contains("no bars"));
    assert!(!p.exists());
}
