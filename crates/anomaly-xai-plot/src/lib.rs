//! # anomaly-xai-plot
//!
//! The pictures of anomaly-xai, drawn with `plotters` (bitmap backend) and the `image`
//! crate, re-exported by the facade as `anomaly_xai::plot` (feature `plot`) and
//! `anomaly_xai::image::{colormap, heatmap, grid}` (feature `image`):
//! - PNG charts: paper 2's Figure 2 ([`draw_recall_curves`]), paper 1's Figure 3
//!   ([`draw_sensor_figure`]), reconstruction-error curves ([`draw_error_curves`]) and a
//!   per-method bar chart ([`draw_bar_chart`]);
//! - with the `image` feature, [`image`]: colormaps, heatmaps of relevance or residual maps
//!   and figure grids like paper 2's Figure 3.
//!
//! Inputs are plain slices and `ndarray` arrays, so nothing here depends on libtorch.
//! Every chart validates its input first (lengths agree, nothing empty, values finite) and
//! returns a [`PlotError`] naming the problem; drawing failures name the output path.
//!
//! Text is rendered with DejaVu Sans, shipped in `assets/fonts/` (its licence is
//! `assets/fonts/LICENSE-DejaVu.txt`) and compiled into the library, so charts look the
//! same on every machine and need no system fonts.
//!
//! ```
//! use anomaly_xai_plot::{draw_bar_chart, BarChart};
//! let path = std::env::temp_dir().join("anomaly-xai-plot-crate-doc.png");
//! let chart = BarChart {
//!     title: "IoU per method".into(),
//!     value_label: "IoU".into(),
//!     labels: vec!["Residual L1".into(), "Occlusion".into()],
//!     values: vec![41.2, 37.5],
//!     log_scale: false,
//! };
//! draw_bar_chart(&path, &chart, (480, 320))?;
//! # Ok::<(), anomaly_xai_plot::PlotError>(())
//! ```

mod bars;
mod error_curve;
mod recall_curves;
mod sensor_figure;

#[cfg(feature = "image")]
pub mod image;

pub use bars::{draw_bar_chart, BarChart};
pub use error_curve::{draw_error_curves, ErrorAxes, ErrorLine, ErrorPanel};
pub use recall_curves::{draw_recall_curves, RecallLine, RecallPanel};
pub use sensor_figure::{draw_sensor_figure, SensorFigure};

use std::path::Path;
use std::sync::OnceLock;

use plotters::drawing::DrawingAreaErrorKind;
use plotters::style::{FontStyle, RGBColor};
use thiserror::Error;

/// The font every chart uses, registered under plotters' `sans-serif` family.
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// The family name charts ask for.
pub(crate) const FAMILY: &str = "sans-serif";

/// Smallest accepted image size: below it axes and labels no longer fit.
pub const MIN_SIZE: (u32, u32) = (320, 240);

/// Everything that can go wrong while drawing a chart.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The data handed to a chart is unusable (e.g. lengths disagree, a list is empty, a
    /// value is not finite).
    #[error("{chart}: {reason}")]
    InvalidInput {
        /// The chart.
        chart: &'static str,
        /// What is wrong, naming the value.
        reason: String,
    },
    /// plotters failed while drawing or writing the file.
    #[error("{path}: drawing failed: {reason}")]
    Draw {
        /// The output file.
        path: String,
        /// plotters' message.
        reason: String,
    },
    /// The embedded font could not be registered.
    #[error("font DejaVu Sans could not be registered: {0}")]
    Font(String),
}

/// Result alias of the charts.
pub type Result<T, E = PlotError> = std::result::Result<T, E>;

/// Registers the embedded font once per process.
pub(crate) fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
                .map_err(|_| "not a valid TrueType font".to_string())
        })
        .clone()
        .map_err(PlotError::Font)
}

/// Checks the output path (a `.png` file) and the size; registers the font.
pub(crate) fn prepare(chart: &'static str, path: &Path, size: (u32, u32)) -> Result<()> {
    let png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !png {
        return Err(PlotError::InvalidInput {
            chart,
            reason: format!("output {} must end in .png", path.display()),
        });
    }
    if size.0 < MIN_SIZE.0 || size.1 < MIN_SIZE.1 {
        return Err(PlotError::InvalidInput {
            chart,
            reason: format!(
                "size {}x{} is below the minimum {}x{}",
                size.0, size.1, MIN_SIZE.0, MIN_SIZE.1
            ),
        });
    }
    ensure_font()
}

/// Maps a plotters error to [`PlotError::Draw`] naming `path`.
pub(crate) fn draw_err<E: std::error::Error + Send + Sync>(
    path: &Path,
) -> impl Fn(DrawingAreaErrorKind<E>) -> PlotError + '_ {
    move |e| PlotError::Draw {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// An [`PlotError::InvalidInput`] for `chart`.
pub(crate) fn invalid(chart: &'static str, reason: impl Into<String>) -> PlotError {
    PlotError::InvalidInput {
        chart,
        reason: reason.into(),
    }
}

/// Ten distinguishable colours (matplotlib's "tab10"), for lines and highlighted series.
pub(crate) const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
