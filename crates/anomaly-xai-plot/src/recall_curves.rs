//! Paper 2, Figure 2: recall@m against m, one panel per corruption, one line per method.

use std::path::Path;

use plotters::prelude::*;

use crate::{draw_err, invalid, prepare, Result, FAMILY, TAB10};

const CHART: &str = "recall curves";

/// One method's line in a recall panel (named apart from `loc_metrics::RecallCurve`, the
/// computed curve it is drawn from): `recall[m − 1]` is recall@m for `m = 1..=M`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecallLine {
    /// The method's name, shown in the legend.
    pub label: String,
    /// Recall@m for `m = 1..=M`, each in `[0, 1]`.
    pub recall: Vec<f64>,
}

/// One panel: a title (e.g. the corruption) and the curves of every method.
#[derive(Debug, Clone, PartialEq)]
pub struct RecallPanel {
    /// Panel title.
    pub title: String,
    /// One curve per method, all of the same length `M`.
    pub curves: Vec<RecallLine>,
}

/// Draws `panels` side by side into the PNG `path` of `size` pixels (width, height).
/// A method keeps its colour in every panel.
///
/// ```no_run
/// use anomaly_xai_plot::{draw_recall_curves, RecallLine, RecallPanel};
/// let panel = RecallPanel {
///     title: "null".into(),
///     curves: vec![RecallLine { label: "LRP".into(), recall: vec![0.8, 0.95, 1.0] }],
/// };
/// draw_recall_curves("recall.png", &[panel], (900, 320))?;
/// # Ok::<(), anomaly_xai_plot::PlotError>(())
/// ```
///
/// # Errors
/// [`crate::PlotError::InvalidInput`] for no panels, a panel without curves, an empty
/// curve, curves of different lengths within a panel, or a recall outside `[0, 1]`;
/// [`crate::PlotError::Draw`] when plotters cannot draw or write the file.
pub fn draw_recall_curves(
    path: impl AsRef<Path>,
    panels: &[RecallPanel],
    size: (u32, u32),
) -> Result<()> {
    let path = path.as_ref();
    prepare(CHART, path, size)?;
    validate(panels)?;
    let mut labels: Vec<&str> = Vec::new();
    for c in panels.iter().flat_map(|p| &p.curves) {
        if !labels.contains(&c.label.as_str()) {
            labels.push(&c.label);
        }
    }
    let err = draw_err(path);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let areas = root.split_evenly((1, panels.len()));
    for (area, panel) in areas.iter().zip(panels) {
        let m = panel.curves[0].recall.len();
        let x_range = if m == 1 { 0.5..1.5 } else { 1.0..m as f64 };
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, (FAMILY, 20))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x_range, 0.0..1.02)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("m")
            .y_desc("recall@m")
            .x_labels(m.min(10))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .draw()
            .map_err(&err)?;
        for curve in &panel.curves {
            let i = labels.iter().position(|l| *l == curve.label).unwrap_or(0);
            let color = TAB10[i % TAB10.len()];
            let points = curve
                .recall
                .iter()
                .enumerate()
                .map(|(j, &r)| ((j + 1) as f64, r));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(&err)?
                .label(curve.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FAMILY, 13))
            .draw()
            .map_err(&err)?;
    }
    root.present().map_err(&err)?;
    Ok(())
}

fn validate(panels: &[RecallPanel]) -> Result<()> {
    if panels.is_empty() {
        return Err(invalid(CHART, "no panels"));
    }
    for p in panels {
        let Some(first) = p.curves.first() else {
            return Err(invalid(CHART, format!("panel `{}` has no curves", p.title)));
        };
        let m = first.recall.len();
        for c in &p.curves {
            if c.recall.is_empty() {
                return Err(invalid(
                    CHART,
                    format!("panel `{}`: curve `{}` is empty", p.title, c.label),
                ));
            }
            if c.recall.len() != m {
                return Err(invalid(
                    CHART,
                    format!(
                        "panel `{}`: curve `{}` has {} points, `{}` has {m}",
                        p.title,
                        c.label,
                        c.recall.len(),
                        first.label
                    ),
                ));
            }
            if let Some((j, r)) = c
                .recall
                .iter()
                .enumerate()
                .find(|(_, r)| !(0.0..=1.0).contains(*r))
            {
                return Err(invalid(
                    CHART,
                    format!(
                        "panel `{}`: curve `{}` has recall@{} = {r}, outside [0, 1]",
                        p.title,
                        c.label,
                        j + 1
                    ),
                ));
            }
        }
    }
    Ok(())
}
