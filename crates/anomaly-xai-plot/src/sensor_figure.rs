//! Paper 1, Figure 3: one anomalous region of a multi-sensor machine. Left, the scaled
//! series around the region (shaded), the sensors that matter in colour and the rest in
//! grey; right, the top-k sensors by attribution as horizontal bars, true sensors in their
//! own colour, and the list of true sensors.

use std::ops::Range;
use std::path::Path;

use ndarray::ArrayView2;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::{draw_err, invalid, prepare, Result, FAMILY, TAB10};

const CHART: &str = "sensor figure";

/// At most this many series are drawn in colour on the left; the others are grey.
const MAX_HIGHLIGHTED: usize = 8;

/// What [`draw_sensor_figure`] draws. Sensors are 0-based here and shown 1-based (as in
/// SMD's labels) unless `names` are given.
#[derive(Debug, Clone)]
pub struct SensorFigure<'a> {
    /// The scaled series around the region, time × sensors.
    pub series: ArrayView2<'a, f32>,
    /// The absolute time index of `series`' first row.
    pub start: usize,
    /// The anomalous region, absolute `[start, end)`, inside the series.
    pub region: Range<usize>,
    /// One attribution score per sensor (e.g. averaged over the region).
    pub attribution: &'a [f32],
    /// The region's labelled sensors, 0-based.
    pub true_sensors: &'a [usize],
    /// Optional sensor names, one per sensor.
    pub names: Option<&'a [String]>,
    /// How many sensors the bar chart shows (clipped to the number of sensors).
    pub top_k: usize,
    /// Title above the figure, e.g. "machine-1-1, region 24679-24682, Occlusion".
    pub title: String,
}

impl SensorFigure<'_> {
    fn name(&self, sensor: usize) -> String {
        match self.names {
            Some(n) => n[sensor].clone(),
            None => format!("s{}", sensor + 1),
        }
    }

    fn validate(&self) -> Result<()> {
        let (t, s) = self.series.dim();
        if t == 0 || s == 0 {
            return Err(invalid(
                CHART,
                format!("series is empty ({t} steps x {s} sensors)"),
            ));
        }
        if let Some(((i, j), v)) = self.series.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(invalid(
                CHART,
                format!("series[{i}, {j}] = {v} is not finite"),
            ));
        }
        if self.attribution.len() != s {
            return Err(invalid(
                CHART,
                format!(
                    "{} attribution scores for {s} sensors",
                    self.attribution.len()
                ),
            ));
        }
        if let Some((j, v)) = self
            .attribution
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
        {
            return Err(invalid(
                CHART,
                format!("attribution[{j}] = {v} is not finite"),
            ));
        }
        if let Some(&j) = self.true_sensors.iter().find(|&&j| j >= s) {
            return Err(invalid(
                CHART,
                format!("true sensor {j} out of range for {s} sensors"),
            ));
        }
        if let Some(n) = self.names {
            if n.len() != s {
                return Err(invalid(CHART, format!("{} names for {s} sensors", n.len())));
            }
        }
        let end = self.start + t;
        let r = &self.region;
        if r.start >= r.end || r.start < self.start || r.end > end {
            return Err(invalid(
                CHART,
                format!(
                    "region {}..{} is empty or outside the series {}..{end}",
                    r.start, r.end, self.start
                ),
            ));
        }
        if self.top_k == 0 {
            return Err(invalid(CHART, "top_k = 0 must be at least 1"));
        }
        Ok(())
    }
}

/// Draws `fig` into the PNG `path` of `size` pixels (width, height).
///
/// The left panel colours the union of the true sensors and the top-k sensors (at most
/// eight, by attribution); the legend marks true sensors with `*`.
///
/// ```no_run
/// use anomaly_xai_plot::{draw_sensor_figure, SensorFigure};
/// let series = ndarray::Array2::<f32>::zeros((40, 5));
/// let fig = SensorFigure {
///     series: series.view(),
///     start: 100,
///     region: 120..125,
///     attribution: &[0.1, 0.9, 0.0, 0.3, 0.2],
///     true_sensors: &[1, 3],
///     names: None,
///     top_k: 3,
///     title: "demo".into(),
/// };
/// draw_sensor_figure("sensors.png", &fig, (1200, 450))?;
/// # Ok::<(), anomaly_xai_plot::PlotError>(())
/// ```
///
/// # Errors
/// [`crate::PlotError::InvalidInput`] for an empty series, lengths that disagree, a
/// non-finite value, a sensor index or region out of range, or `top_k = 0`;
/// [`crate::PlotError::Draw`] when plotters cannot draw or write the file.
pub fn draw_sensor_figure(
    path: impl AsRef<Path>,
    fig: &SensorFigure<'_>,
    size: (u32, u32),
) -> Result<()> {
    let path = path.as_ref();
    prepare(CHART, path, size)?;
    fig.validate()?;
    let (t, s) = fig.series.dim();
    let k = fig.top_k.min(s);
    let mut order: Vec<usize> = (0..s).collect();
    order.sort_by(|&a, &b| {
        fig.attribution[b]
            .total_cmp(&fig.attribution[a])
            .then(a.cmp(&b))
    });
    let top = &order[..k];
    let mut highlighted: Vec<usize> = Vec::new();
    for &j in fig.true_sensors.iter().chain(top) {
        if !highlighted.contains(&j) && highlighted.len() < MAX_HIGHLIGHTED {
            highlighted.push(j);
        }
    }
    let is_true = |j: usize| fig.true_sensors.contains(&j);

    let err = draw_err(path);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let root = root.titled(&fig.title, (FAMILY, 20)).map_err(&err)?;
    let (left, right) = root.split_horizontally((size.0 as f64 * 0.62) as u32);

    // Left: the series.
    let (lo, hi) = fig
        .series
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let pad = ((hi - lo) * 0.05).max(1e-3);
    let (y0, y1) = (f64::from(lo - pad), f64::from(hi + pad));
    let x_end = (fig.start + t.max(2) - 1) as f64;
    let mut chart = ChartBuilder::on(&left)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(fig.start as f64..x_end, y0..y1)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("time step")
        .y_desc("scaled value")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 14))
        .draw()
        .map_err(&err)?;
    let shade = RGBColor(214, 39, 40).mix(0.15).filled();
    // The region covers whole steps, [start, end), so it is shaded up to end − 1 + 1.
    let (r0, r1) = (fig.region.start as f64 - 0.5, fig.region.end as f64 - 0.5);
    chart
        .draw_series(std::iter::once(Rectangle::new([(r0, y0), (r1, y1)], shade)))
        .map_err(&err)?;
    let column = |j: usize| {
        let start = fig.start as f64;
        fig.series
            .column(j)
            .iter()
            .enumerate()
            .map(move |(i, &v)| (start + i as f64, f64::from(v)))
            .collect::<Vec<_>>()
    };
    for j in (0..s).filter(|j| !highlighted.contains(j)) {
        chart
            .draw_series(LineSeries::new(
                column(j),
                RGBColor(190, 190, 190).stroke_width(1),
            ))
            .map_err(&err)?;
    }
    for (i, &j) in highlighted.iter().enumerate() {
        let color = TAB10[i % TAB10.len()];
        let label = if is_true(j) {
            format!("{} *", fig.name(j))
        } else {
            fig.name(j)
        };
        chart
            .draw_series(LineSeries::new(column(j), color.stroke_width(2)))
            .map_err(&err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FAMILY, 12))
        .draw()
        .map_err(&err)?;

    // Right: top-k bars (best at the top) and the true sensor list underneath.
    let (bars_area, list_area) = right.split_vertically(right.dim_in_pixel().1.saturating_sub(50));
    let values: Vec<f64> = top.iter().map(|&j| f64::from(fig.attribution[j])).collect();
    let (vmin, vmax) = values
        .iter()
        .fold((0.0f64, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    let span = if vmax > vmin { vmax - vmin } else { 1.0 };
    let x_range = (vmin - 0.05 * span)..(vmax + 0.05 * span);
    let mut bars = ChartBuilder::on(&bars_area)
        .margin(10)
        .caption(format!("top {k} sensors"), (FAMILY, 16))
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(x_range, (0..k - 1).into_segmented())
        .map_err(&err)?;
    let names: Vec<String> = top.iter().map(|&j| fig.name(j)).collect();
    let label_of = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) if *i < k => names[k - 1 - i].clone(),
        _ => String::new(),
    };
    // plotters' integer ranges include their end, so `0..k - 1` holds the k bars.
    bars.configure_mesh()
        .disable_y_mesh()
        .x_desc("attribution")
        .y_labels(k)
        .y_label_formatter(&label_of)
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 14))
        .draw()
        .map_err(&err)?;
    let (true_color, other_color) = (RGBColor(214, 39, 40), RGBColor(31, 119, 180));
    bars.draw_series(top.iter().enumerate().map(|(rank, &j)| {
        let row = k - 1 - rank;
        let color = if is_true(j) { true_color } else { other_color };
        let v = f64::from(fig.attribution[j]);
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(row)),
                (v, SegmentValue::Exact(row + 1)),
            ],
            color.filled(),
        );
        bar.set_margin(3, 3, 0, 0);
        bar
    }))
    .map_err(&err)?;
    let mut listed: Vec<usize> = fig.true_sensors.to_vec();
    listed.sort_unstable();
    listed.dedup();
    let list = if listed.is_empty() {
        "true sensors: none".to_string()
    } else {
        format!(
            "true sensors (red): {}",
            listed
                .iter()
                .map(|&j| fig.name(j))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    list_area
        .draw(&Text::new(
            list,
            (10, 10),
            (FAMILY, 14).into_font().color(&BLACK),
        ))
        .map_err(&err)?;
    root.present().map_err(&err)?;
    Ok(())
}
