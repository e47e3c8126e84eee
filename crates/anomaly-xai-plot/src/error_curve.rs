//! Error against cost on log-log axes: one panel per problem, one line per estimator
//! (e.g. Kernel SHAP's distance to the exact Shapley values against model evaluations).

use std::path::Path;

use plotters::prelude::*;

use crate::{draw_err, invalid, prepare, Result, FAMILY, TAB10};

const CHART: &str = "error curve";

/// One estimator's line: `(cost, error)` points, both strictly positive.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorLine {
    /// The estimator's name, shown in the legend.
    pub label: String,
    /// `(cost, error)` pairs, drawn in the order given.
    pub points: Vec<(f64, f64)>,
}

/// One panel: a title (e.g. the detector) and the lines of every estimator.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorPanel {
    /// Panel title.
    pub title: String,
    /// One line per estimator.
    pub lines: Vec<ErrorLine>,
}

/// The axis descriptions and the layout of [`draw_error_curves`].
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorAxes {
    /// The cost axis (x), e.g. "model evaluations per sample".
    pub cost: String,
    /// The error axis (y), e.g. "relative L2 error".
    pub error: String,
    /// Panels per row (at least 1); further panels go on further rows.
    pub columns: usize,
}

/// Draws `panels` into the PNG `path` of `size` pixels (width, height), `axes.columns` to a
/// row, both axes logarithmic. An estimator keeps its colour in every panel, so the legend
/// is drawn once, for the lines of the first panel, in its top right (its error axis
/// reaches higher to make room); every point is marked.
///
/// ```no_run
/// use anomaly_xai_plot::{draw_error_curves, ErrorAxes, ErrorLine, ErrorPanel};
/// let panel = ErrorPanel {
///     title: "synthetic".into(),
///     lines: vec![ErrorLine { label: "ours".into(), points: vec![(50.0, 0.2), (200.0, 0.05)] }],
/// };
/// let axes = ErrorAxes { cost: "evaluations".into(), error: "relative error".into(), columns: 3 };
/// draw_error_curves("error.png", &[panel], &axes, (900, 360))?;
/// # Ok::<(), anomaly_xai_plot::PlotError>(())
/// ```
///
/// # Errors
/// [`crate::PlotError::InvalidInput`] for no panels, no columns, a panel without lines, a
/// line without points, or a cost or error that is not finite and positive;
/// [`crate::PlotError::Draw`] when plotters cannot draw or write the file.
pub fn draw_error_curves(
    path: impl AsRef<Path>,
    panels: &[ErrorPanel],
    axes: &ErrorAxes,
    size: (u32, u32),
) -> Result<()> {
    let path = path.as_ref();
    prepare(CHART, path, size)?;
    validate(panels)?;
    if axes.columns == 0 {
        return Err(invalid(CHART, "columns = 0 must be at least 1"));
    }
    let mut labels: Vec<&str> = Vec::new();
    for l in panels.iter().flat_map(|p| &p.lines) {
        if !labels.contains(&l.label.as_str()) {
            labels.push(&l.label);
        }
    }
    let err = draw_err(path);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let columns = axes.columns.min(panels.len());
    let areas = root.split_evenly((panels.len().div_ceil(columns), columns));
    for (n, (area, panel)) in areas.iter().zip(panels).enumerate() {
        let points = || panel.lines.iter().flat_map(|l| &l.points);
        let (x_lo, x_hi) = bounds(points().map(|p| p.0));
        let (y_lo, y_hi) = bounds(points().map(|p| p.1));
        let headroom = if n == 0 { 5.0 } else { 1.5 };
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, (FAMILY, 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(
                (x_lo / 1.2..x_hi * 1.2)
                    .log_scale()
                    .with_key_points(round_ticks(x_lo / 1.2, x_hi * 1.2)),
                (y_lo / 1.5..y_hi * headroom)
                    .log_scale()
                    .with_key_points(round_ticks(y_lo / 1.5, y_hi * headroom)),
            )
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc(&axes.cost)
            .y_desc(&axes.error)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .bold_line_style(BLACK.mix(0.08))
            .label_style((FAMILY, 12))
            .axis_desc_style((FAMILY, 14))
            .draw()
            .map_err(&err)?;
        for line in &panel.lines {
            let i = labels.iter().position(|l| *l == line.label).unwrap_or(0);
            let color = TAB10[i % TAB10.len()];
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(&err)?
                .label(line.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(
                    line.points
                        .iter()
                        .map(|&p| Circle::new(p, 3, color.filled())),
                )
                .map_err(&err)?;
        }
        if n == 0 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font((FAMILY, 12))
                .draw()
                .map_err(&err)?;
        }
    }
    root.present().map_err(&err)?;
    Ok(())
}

/// The smallest and largest of positive values (validated beforehand).
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// 1, 2 and 5 times the powers of ten within `[lo, hi]`: the ticks of a log axis.
fn round_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = m * decade;
            if (lo..=hi).contains(&v) {
                out.push(v);
            }
        }
        decade *= 10.0;
    }
    out
}

/// Tick labels: plain decimals near 1, `2e-4` style far from it.
fn tick(v: f64) -> String {
    if (1e-3..1e6).contains(&v) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

fn validate(panels: &[ErrorPanel]) -> Result<()> {
    if panels.is_empty() {
        return Err(invalid(CHART, "no panels"));
    }
    for p in panels {
        if p.lines.is_empty() {
            return Err(invalid(CHART, format!("panel `{}` has no lines", p.title)));
        }
        for l in &p.lines {
            if l.points.is_empty() {
                return Err(invalid(
                    CHART,
                    format!("panel `{}`: line `{}` has no points", p.title, l.label),
                ));
            }
            let bad = |v: f64| !(v.is_finite() && v > 0.0);
            if let Some(&(c, e)) = l.points.iter().find(|&&(c, e)| bad(c) || bad(e)) {
                return Err(invalid(
                    CHART,
                    format!(
                        "panel `{}`: line `{}` has the point ({c}, {e}); costs and errors \
                         must be finite and > 0 on log axes",
                        p.title, l.label
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(points: Vec<(f64, f64)>) -> ErrorPanel {
        ErrorPanel {
            title: "p".into(),
            lines: vec![ErrorLine {
                label: "a".into(),
                points,
            }],
        }
    }

    #[test]
    fn ticks_are_round_and_readable() {
        let t = round_ticks(40.0, 2400.0);
        assert_eq!(t, vec![50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]);
        let t = round_ticks(0.011, 0.54);
        assert_eq!(t.len(), 5, "{t:?}");
        assert_eq!(tick(200.0), "200");
        assert_eq!(tick(0.05), "0.05");
        assert_eq!(tick(2e-4), "2e-4");
    }

    #[test]
    fn bad_points_are_named() {
        let e = validate(&[panel(vec![(50.0, 0.1), (100.0, 0.0)])]).unwrap_err();
        assert!(e.to_string().contains("(100, 0)"), "{e}");
        assert!(validate(&[panel(vec![])]).is_err());
        assert!(validate(&[]).is_err());
        assert!(validate(&[panel(vec![(f64::NAN, 0.1)])]).is_err());
        assert!(validate(&[panel(vec![(50.0, 0.1), (200.0, 0.02)])]).is_ok());
    }

    #[test]
    fn a_chart_is_written() {
        let dir = std::env::temp_dir().join(format!("error-curve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("e.png");
        let mut axes = ErrorAxes {
            cost: "evaluations".into(),
            error: "error".into(),
            columns: 2,
        };
        let mut p = panel(vec![(50.0, 0.3), (200.0, 0.1), (1000.0, 0.04)]);
        p.lines.push(ErrorLine {
            label: "b".into(),
            points: vec![(50.0, 0.2), (1000.0, 0.01)],
        });
        draw_error_curves(&path, &[p.clone(), p.clone(), p.clone()], &axes, (800, 640)).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 1000);
        axes.columns = 0;
        let e = draw_error_curves(&path, &[p], &axes, (800, 320)).unwrap_err();
        assert!(e.to_string().contains("columns = 0"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
