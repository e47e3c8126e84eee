//! Renders images, masks and relevance or residual maps as RGB pictures and PNG files.
//!
//! A map of `[height, width]` becomes a picture of `width × height` pixels, one pixel per
//! value, coloured by a [`Colormap`] after [`Scaling`] (per image by default: see
//! [`colormap`](super::colormap)). Grayscale images are drawn with values clamped to
//! `[0, 1]`, not stretched, so that they look as the model sees them.

use std::path::Path;

use ::image::RgbImage;
use anomaly_data::{check_finite, check_non_empty};
use ndarray::Array2;

use super::colormap::{Colormap, Scaling};
use super::error::{ImageError, Result};

/// Colours a map with `colormap` after `scaling`.
///
/// ```
/// use ndarray::array;
/// use anomaly_xai_plot::image::colormap::{Colormap, Scaling};
/// use anomaly_xai_plot::image::heatmap::render_map;
/// let pic = render_map(&array![[0.0f32, 1.0, 2.0]], Colormap::Gray, Scaling::PerImage)?;
/// assert_eq!(pic.dimensions(), (3, 1));
/// assert_eq!(pic.get_pixel(1, 0).0, [128, 128, 128]);
/// # Ok::<(), anomaly_xai_plot::image::ImageError>(())
/// ```
pub fn render_map(map: &Array2<f32>, colormap: Colormap, scaling: Scaling) -> Result<RgbImage> {
    check_non_empty("heatmap", map.shape())?;
    let values: Vec<f32> = map.iter().copied().collect();
    let t = scaling.normalise(&values, colormap)?;
    let (h, w) = map.dim();
    let raw: Vec<u8> = t.iter().flat_map(|&v| colormap.rgb(v)).collect();
    rgb_from_raw(w, h, raw)
}

/// Draws a grayscale image (or a binary mask) with values clamped to `[0, 1]`.
pub fn render_gray(img: &Array2<f32>) -> Result<RgbImage> {
    check_non_empty("gray image", img.shape())?;
    check_finite("gray image", img.iter())?;
    render_map(img, Colormap::Gray, Scaling::Fixed { lo: 0.0, hi: 1.0 })
}

/// Writes a map as a PNG of `width × height` pixels (creating the folder).
pub fn write_map_png(
    map: &Array2<f32>,
    path: impl AsRef<Path>,
    colormap: Colormap,
    scaling: Scaling,
) -> Result<()> {
    save_png(&render_map(map, colormap, scaling)?, path)
}

/// Saves an RGB picture as PNG, creating the folder.
pub fn save_png(pic: &RgbImage, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| ImageError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    pic.save_with_format(path, ::image::ImageFormat::Png)
        .map_err(|source| ImageError::Codec {
            path: path.display().to_string(),
            source,
        })
}

fn rgb_from_raw(w: usize, h: usize, raw: Vec<u8>) -> Result<RgbImage> {
    RgbImage::from_raw(w as u32, h as u32, raw).ok_or_else(|| ImageError::ShapeMismatch {
        what: "rgb picture".into(),
        expected: "3 bytes per pixel".into(),
        got: vec![h, w],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn heatmap_png_decodes_with_the_right_size_and_colours() {
        let map = Array2::from_shape_fn((7, 11), |(r, c)| (r * 11 + c) as f32);
        let path = std::env::temp_dir()
            .join(format!("anomaly-xai-heatmap-{}", std::process::id()))
            .join("map.png");
        write_map_png(&map, &path, Colormap::Inferno, Scaling::PerImage).unwrap();
        let back = ::image::open(&path).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (11, 7));
        assert_eq!(back.get_pixel(0, 0).0, Colormap::Inferno.rgb(0.0));
        assert_eq!(back.get_pixel(10, 6).0, Colormap::Inferno.rgb(1.0));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn gray_is_clamped_not_stretched() {
        let pic = render_gray(&array![[0.25f32, 2.0, -1.0]]).unwrap();
        assert_eq!(pic.get_pixel(0, 0).0, [64, 64, 64]);
        assert_eq!(pic.get_pixel(1, 0).0, [255, 255, 255]);
        assert_eq!(pic.get_pixel(2, 0).0, [0, 0, 0]);
    }

    #[test]
    fn empty_and_non_finite_maps_are_rejected() {
        let e =
            render_map(&Array2::zeros((0, 4)), Colormap::Inferno, Scaling::PerImage).unwrap_err();
        assert!(e.to_string().contains("[0, 4]"), "{e}");
        let e = render_map(
            &array![[1.0f32, f32::NAN]],
            Colormap::Inferno,
            Scaling::PerImage,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                ImageError::Data(anomaly_data::DataError::NonFinite { index: 1, .. })
            ),
            "{e}"
        );
    }
}
