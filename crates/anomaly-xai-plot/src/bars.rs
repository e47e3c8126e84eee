//! A bar chart of one number per method (a metric, or a wall time on a log axis).

use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{draw_err, invalid, prepare, Result, FAMILY, TAB10};

const CHART: &str = "bar chart";

/// What [`draw_bar_chart`] draws: one bar per label.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Title above the chart.
    pub title: String,
    /// The value axis' description, e.g. "seconds per explanation".
    pub value_label: String,
    /// One label per bar (e.g. method names).
    pub labels: Vec<String>,
    /// One finite value per bar; strictly positive when `log_scale`.
    pub values: Vec<f64>,
    /// A logarithmic value axis, for quantities spanning orders of magnitude.
    pub log_scale: bool,
}

impl BarChart {
    fn validate(&self) -> Result<()> {
        if self.values.is_empty() {
            return Err(invalid(CHART, "no bars"));
        }
        if self.labels.len() != self.values.len() {
            return Err(invalid(
                CHART,
                format!(
                    "{} labels for {} values",
                    self.labels.len(),
                    self.values.len()
                ),
            ));
        }
        if let Some((i, v)) = self.values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(invalid(
                CHART,
                format!("value of `{}` = {v} is not finite", self.labels[i]),
            ));
        }
        if self.log_scale {
            if let Some((i, v)) = self.values.iter().enumerate().find(|(_, &v)| v <= 0.0) {
                return Err(invalid(
                    CHART,
                    format!(
                        "value of `{}` = {v} must be > 0 on a log scale",
                        self.labels[i]
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Draws `chart` into the PNG `path` of `size` pixels (width, height), each bar labelled
/// with its value.
///
/// ```no_run
/// use anomaly_xai_plot::{draw_bar_chart, BarChart};
/// let chart = BarChart {
///     title: "time per explanation".into(),
///     value_label: "seconds".into(),
///     labels: vec!["LRP".into(), "Kernel SHAP".into()],
///     values: vec![2e-4, 0.9],
///     log_scale: true,
/// };
/// draw_bar_chart("times.png", &chart, (640, 400))?;
/// # Ok::<(), anomaly_xai_plot::PlotError>(())
/// ```
///
/// # Errors
/// [`crate::PlotError::InvalidInput`] for no bars, labels and values of different
/// lengths, a non-finite value, or a value `<= 0` on a log scale;
/// [`crate::PlotError::Draw`] when plotters cannot draw or write the file.
pub fn draw_bar_chart(path: impl AsRef<Path>, chart: &BarChart, size: (u32, u32)) -> Result<()> {
    let path = path.as_ref();
    prepare(CHART, path, size)?;
    chart.validate()?;
    let err = draw_err(path);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let n = chart.values.len();
    let labels = &chart.labels;
    let label_of = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) if *i < n => labels[*i].clone(),
        _ => String::new(),
    };
    let bar = |i: usize, base: f64, v: f64| {
        let mut r = Rectangle::new(
            [
                (SegmentValue::Exact(i), base),
                (SegmentValue::Exact(i + 1), v),
            ],
            TAB10[i % TAB10.len()].filled(),
        );
        r.set_margin(0, 0, 8, 8);
        r
    };
    let text_style =
        TextStyle::from((FAMILY, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    let value_text = |i: usize, v: f64| {
        Text::new(
            format_value(v),
            (SegmentValue::CenterOf(i), v),
            text_style.clone(),
        )
    };
    let (vmin, vmax) = chart
        .values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    // plotters' integer ranges include their end, so `0..n - 1` holds the n bars.
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(&chart.title, (FAMILY, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    if chart.log_scale {
        let range = (vmin / 2.0)..(vmax * 4.0);
        let mut c = builder
            .build_cartesian_2d((0..n - 1).into_segmented(), range.log_scale())
            .map_err(&err)?;
        c.configure_mesh()
            .disable_x_mesh()
            .y_desc(&chart.value_label)
            .x_labels(n)
            .x_label_formatter(&label_of)
            .y_label_formatter(&|v| axis_value(*v))
            .label_style((FAMILY, 12))
            .axis_desc_style((FAMILY, 14))
            .draw()
            .map_err(&err)?;
        let base = vmin / 2.0;
        c.draw_series(
            chart
                .values
                .iter()
                .enumerate()
                .map(|(i, &v)| bar(i, base, v)),
        )
        .map_err(&err)?;
        c.draw_series(
            chart
                .values
                .iter()
                .enumerate()
                .map(|(i, &v)| value_text(i, v)),
        )
        .map_err(&err)?;
    } else {
        let (lo, hi) = (vmin.min(0.0), vmax.max(0.0));
        let span = if hi > lo { hi - lo } else { 1.0 };
        let range = (lo - 0.02 * span)..(hi + 0.12 * span);
        let mut c = builder
            .build_cartesian_2d((0..n - 1).into_segmented(), range)
            .map_err(&err)?;
        c.configure_mesh()
            .disable_x_mesh()
            .y_desc(&chart.value_label)
            .x_labels(n)
            .x_label_formatter(&label_of)
            .label_style((FAMILY, 12))
            .axis_desc_style((FAMILY, 14))
            .draw()
            .map_err(&err)?;
        c.draw_series(
            chart
                .values
                .iter()
                .enumerate()
                .map(|(i, &v)| bar(i, 0.0, v)),
        )
        .map_err(&err)?;
        c.draw_series(
            chart
                .values
                .iter()
                .enumerate()
                .map(|(i, &v)| value_text(i, v)),
        )
        .map_err(&err)?;
    }
    root.present().map_err(&err)?;
    Ok(())
}

/// Tick labels of the log axis: plain decimals near 1, `1e-3` style elsewhere.
fn axis_value(v: f64) -> String {
    if (1e-2..1e4).contains(&v.abs()) {
        format_value(v)
    } else {
        format!("{v:.0e}")
    }
}

/// Three significant digits, switching to scientific notation far from 1.
fn format_value(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-2..1e4).contains(&a) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
