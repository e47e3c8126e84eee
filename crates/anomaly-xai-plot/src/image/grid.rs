//! Figure grids like paper 2's Figure 3: one row per sample, one column per panel (image,
//! ground-truth mask, then one explanation per method), with column titles and optional
//! row labels, written as one PNG.
//!
//! Every panel is scaled to fit a `cell × cell` square (nearest neighbour, so pixels stay
//! crisp; aspect ratio kept, centred) on a white background. Text uses DejaVu Sans,
//! embedded from `assets/fonts/` (licence in `assets/fonts/LICENSE-DejaVu.txt`) and drawn
//! through plotters' `ab_glyph` font support.
//!
//! ```
//! use ndarray::Array2;
//! use anomaly_xai_plot::image::grid::{Grid, Panel};
//! let mut g = Grid::new(["image", "mask", "LRP-L1"], 32);
//! let img = Array2::from_elem((16, 16), 0.5f32);
//! g.push_row("blob_0", vec![Panel::gray(img.clone()), Panel::gray(img.clone()), Panel::heat(img)])?;
//! let pic = g.render()?;
//! assert_eq!(pic.dimensions(), g.dimensions()?);
//! # Ok::<(), anomaly_xai_plot::image::ImageError>(())
//! ```

use std::path::Path;
use std::sync::OnceLock;

use ::image::{imageops, RgbImage};
use ndarray::Array2;
use plotters::style::{FontDesc, FontFamily, FontStyle};
use serde::{Deserialize, Serialize};

use super::colormap::{Colormap, Scaling};
use super::error::{ImageError, Result};
use super::heatmap::{render_gray, render_map, save_png};

/// The family name under which the embedded font is registered with plotters.
const FONT_FAMILY: &str = "anomaly-xai DejaVu Sans";
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT_SIZE: f64 = 14.0;
const PAD: u32 = 4;

fn font() -> Result<FontDesc<'static>> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok()
    });
    if !ok {
        return Err(ImageError::Draw {
            what: "grid".into(),
            reason: "embedded font is invalid".into(),
        });
    }
    Ok(FontDesc::new(
        FontFamily::Name(FONT_FAMILY),
        FONT_SIZE,
        FontStyle::Normal,
    ))
}

/// One cell of a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Panel {
    /// A grayscale image or binary mask, values clamped to `[0, 1]`.
    Gray(Array2<f32>),
    /// A map coloured by a colormap after scaling.
    Map {
        /// The values.
        values: Array2<f32>,
        /// The colormap.
        colormap: Colormap,
        /// The scaling to `[0, 1]`.
        scaling: Scaling,
    },
    /// An empty (white) cell.
    Empty,
}

impl Panel {
    /// A grayscale panel.
    pub fn gray(img: Array2<f32>) -> Self {
        Panel::Gray(img)
    }

    /// A heatmap panel: inferno, scaled per image.
    pub fn heat(values: Array2<f32>) -> Self {
        Panel::Map {
            values,
            colormap: Colormap::Inferno,
            scaling: Scaling::PerImage,
        }
    }

    fn render(&self) -> Result<Option<RgbImage>> {
        Ok(match self {
            Panel::Gray(img) => Some(render_gray(img)?),
            Panel::Map {
                values,
                colormap,
                scaling,
            } => Some(render_map(values, *colormap, *scaling)?),
            Panel::Empty => None,
        })
    }
}

/// A row of panels with an optional label drawn on its left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridRow {
    /// Drawn left of the row; empty for none.
    pub label: String,
    /// One panel per column.
    pub panels: Vec<Panel>,
}

/// A titled grid of panels; see the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Column titles; their count fixes the number of panels per row.
    pub columns: Vec<String>,
    /// The rows, top to bottom.
    pub rows: Vec<GridRow>,
    /// Side of the square each panel is fitted into, in pixels.
    pub cell: u32,
}

impl Grid {
    /// An empty grid with these column titles and cell size.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>, cell: u32) -> Self {
        Grid {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            cell,
        }
    }

    /// Appends a row; errors when the number of panels differs from the number of columns.
    pub fn push_row(&mut self, label: impl Into<String>, panels: Vec<Panel>) -> Result<()> {
        if panels.len() != self.columns.len() {
            return Err(ImageError::ShapeMismatch {
                what: "grid row".into(),
                expected: format!("{} panels, one per column", self.columns.len()),
                got: vec![panels.len()],
            });
        }
        self.rows.push(GridRow {
            label: label.into(),
            panels,
        });
        Ok(())
    }

    fn check(&self) -> Result<()> {
        if self.cell == 0 || self.cell > 4096 {
            return Err(ImageError::InvalidParam {
                what: "grid",
                param: "cell",
                value: self.cell.to_string(),
                rule: "must be in 1..=4096 pixels",
            });
        }
        if self.columns.is_empty() || self.rows.is_empty() {
            return Err(ImageError::ShapeMismatch {
                what: "grid".into(),
                expected: "at least one column and one row".into(),
                got: vec![self.rows.len(), self.columns.len()],
            });
        }
        for (i, row) in self.rows.iter().enumerate() {
            if row.panels.len() != self.columns.len() {
                return Err(ImageError::ShapeMismatch {
                    what: format!("grid row {i}"),
                    expected: format!("{} panels", self.columns.len()),
                    got: vec![row.panels.len()],
                });
            }
        }
        Ok(())
    }

    /// Width of the text column of row labels, 0 when no row has a label.
    fn label_width(&self, font: &FontDesc<'_>) -> Result<u32> {
        let mut w = 0;
        for row in self.rows.iter().filter(|r| !r.label.is_empty()) {
            w = w.max(text_width(font, &row.label)? + 2 * PAD);
        }
        Ok(w)
    }

    fn header_height(&self) -> u32 {
        if self.columns.iter().any(|c| !c.is_empty()) {
            (FONT_SIZE * 1.6) as u32
        } else {
            0
        }
    }

    /// The picture's `(width, height)` in pixels.
    pub fn dimensions(&self) -> Result<(u32, u32)> {
        self.check()?;
        let label_w = self.label_width(&font()?)?;
        let (n_cols, n_rows) = (self.columns.len() as u32, self.rows.len() as u32);
        Ok((
            label_w + PAD + n_cols * (self.cell + PAD),
            self.header_height() + PAD + n_rows * (self.cell + PAD),
        ))
    }

    /// Draws the grid.
    pub fn render(&self) -> Result<RgbImage> {
        let (w, h) = self.dimensions()?;
        let font = font()?;
        let label_w = self.label_width(&font)?;
        let header = self.header_height();
        let mut pic = RgbImage::from_pixel(w, h, ::image::Rgb([255, 255, 255]));
        let cell_x = |j: u32| label_w + PAD + j * (self.cell + PAD);
        let cell_y = |i: u32| header + PAD + i * (self.cell + PAD);
        for (j, title) in self.columns.iter().enumerate() {
            let tw = text_width(&font, title)?;
            // Centre over the cell; a title wider than its cell starts at the cell's left.
            let x = cell_x(j as u32) as i32 + (self.cell as i32 - tw as i32).max(0) / 2;
            draw_text(&mut pic, &font, title, x, header as i32 / 2)?;
        }
        for (i, row) in self.rows.iter().enumerate() {
            let y0 = cell_y(i as u32);
            if !row.label.is_empty() {
                draw_text(
                    &mut pic,
                    &font,
                    &row.label,
                    PAD as i32,
                    (y0 + self.cell / 2) as i32,
                )?;
            }
            for (j, panel) in row.panels.iter().enumerate() {
                let Some(p) = panel.render()? else { continue };
                let (pw, ph) = p.dimensions();
                let scale = self.cell as f64 / pw.max(ph) as f64;
                let (dw, dh) = (
                    ((pw as f64 * scale).round() as u32).max(1),
                    ((ph as f64 * scale).round() as u32).max(1),
                );
                let fitted = imageops::resize(&p, dw, dh, imageops::FilterType::Nearest);
                let x = cell_x(j as u32) + (self.cell - dw) / 2;
                let y = y0 + (self.cell - dh) / 2;
                imageops::replace(&mut pic, &fitted, i64::from(x), i64::from(y));
            }
        }
        Ok(pic)
    }

    /// Draws the grid and writes it as a PNG (creating the folder).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        save_png(&self.render()?, path)
    }
}

fn text_width(font: &FontDesc<'_>, text: &str) -> Result<u32> {
    font.box_size(text)
        .map(|(w, _)| w)
        .map_err(|e| ImageError::Draw {
            what: format!("text `{text}`"),
            reason: e.to_string(),
        })
}

/// Draws black text whose vertical middle is at `mid_y`, blending glyph coverage.
fn draw_text(
    pic: &mut RgbImage,
    font: &FontDesc<'_>,
    text: &str,
    x: i32,
    mid_y: i32,
) -> Result<()> {
    // plotters puts the baseline at y + size/2; capitals reach ~0.73 em above it, so their
    // middle is at y + size/2 - 0.36 size ≈ y + 0.14 size.
    let y = mid_y - (0.14 * FONT_SIZE) as i32;
    let (w, h) = (pic.width() as i32, pic.height() as i32);
    let drawn = font.draw(text, (x, y), |px, py, coverage| {
        if (0..w).contains(&px) && (0..h).contains(&py) {
            let p = pic.get_pixel_mut(px as u32, py as u32);
            for ch in p.0.iter_mut() {
                *ch = (f32::from(*ch) * (1.0 - coverage.clamp(0.0, 1.0))).round() as u8;
            }
        }
        Ok::<(), std::convert::Infallible>(())
    });
    match drawn {
        Ok(Ok(())) => Ok(()),
        Ok(Err(never)) => match never {},
        Err(e) => Err(ImageError::Draw {
            what: format!("text `{text}`"),
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_png_has_the_computed_size_and_panels_where_expected() {
        let img = Array2::from_shape_fn((16, 16), |(r, _)| r as f32 / 15.0);
        let mut mask = Array2::<f32>::zeros((16, 16));
        mask[[8, 8]] = 1.0;
        let mut g = Grid::new(["image", "mask", "residual L1", "LRP-L2"], 48);
        for k in 0..3 {
            g.push_row(
                format!("sample {k}"),
                vec![
                    Panel::gray(img.clone()),
                    Panel::gray(mask.clone()),
                    Panel::heat(img.clone()),
                    Panel::Map {
                        values: img.mapv(|v| v - 0.5),
                        colormap: Colormap::BlueWhiteRed,
                        scaling: Scaling::PerImage,
                    },
                ],
            )
            .unwrap();
        }
        let (w, h) = g.dimensions().unwrap();
        let label_w = g.label_width(&font().unwrap()).unwrap();
        assert!(label_w > 40, "labels must take room: {label_w}");
        assert_eq!(w, label_w + PAD + 4 * (48 + PAD));
        assert_eq!(h, g.header_height() + PAD + 3 * (48 + PAD));
        let path =
            std::env::temp_dir().join(format!("anomaly-xai-grid-{}/g.png", std::process::id()));
        g.save(&path).unwrap();
        let back = ::image::open(&path).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (w, h));
        // Bottom-left pixel of the first image panel of row 0 is the brightest gray.
        let (x0, y0) = (label_w + PAD, g.header_height() + PAD);
        assert_eq!(back.get_pixel(x0, y0).0, [0, 0, 0]);
        assert_eq!(back.get_pixel(x0, y0 + 47).0, [255, 255, 255]);
        // The mask's single pixel becomes a 3×3 block in the middle of its cell.
        let mx = x0 + 48 + PAD;
        assert_eq!(back.get_pixel(mx + 25, y0 + 25).0, [255, 255, 255]);
        assert_eq!(back.get_pixel(mx + 10, y0 + 10).0, [0, 0, 0]);
        // Titles darken some header pixels.
        let dark = (0..w)
            .flat_map(|x| (0..g.header_height()).map(move |y| (x, y)))
            .filter(|&(x, y)| back.get_pixel(x, y).0[0] < 128)
            .count();
        assert!(
            dark > 20,
            "column titles were not drawn ({dark} dark pixels)"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn non_square_panels_are_fitted_and_bad_grids_are_named() {
        let mut g = Grid::new(["a"], 20);
        g.push_row("", vec![Panel::gray(Array2::ones((5, 10)))])
            .unwrap();
        let pic = g.render().unwrap();
        assert_eq!(
            pic.dimensions(),
            (PAD + 20 + PAD, g.header_height() + PAD + 20 + PAD)
        );
        let e = g.push_row("", vec![]).unwrap_err();
        assert!(e.to_string().contains("1 panels"), "{e}");
        let e = Grid::new(["a"], 8).render().unwrap_err();
        assert!(
            e.to_string().contains("at least one column and one row"),
            "{e}"
        );
        let mut g0 = g.clone();
        g0.cell = 0;
        assert!(g0.render().unwrap_err().to_string().contains("cell = 0"));
        let mut bad = g.clone();
        bad.rows[0].panels[0] = Panel::heat(Array2::from_elem((2, 2), f32::NAN));
        assert!(matches!(
            bad.render().unwrap_err(),
            ImageError::Data(anomaly_data::DataError::NonFinite { .. })
        ));
    }
}
