//! Paper 2's image preprocessing: grayscale, Gaussian filter (kernel 3, σ 0.5), resize
//! to a square (128×128 in the paper).
//!
//! Images are `Array2<f32>` of shape `[height, width]` with values in `[0, 1]`.
//!
//! Conventions (paper 2 does not state them; these follow OpenCV, which its kernel-size
//! wording suggests):
//! - **Grayscale** uses the ITU-R BT.601 luma weights `0.299 R + 0.587 G + 0.114 B`, as
//!   OpenCV's `cvtColor(.., GRAY)` and Pillow's `convert("L")` do. Alpha is ignored.
//! - **Gaussian filter**: the 1-D kernel `k_i ∝ exp(-(i - r)² / (2σ²))`, `r = (n-1)/2`, is
//!   normalised to sum 1 and applied separably (rows, then columns), which equals the 2-D
//!   outer-product kernel. Borders default to [`Border::Reflect101`] (`dcb|abcd|cba`, OpenCV's
//!   default); [`Border::Replicate`] (`aaa|abcd|ddd`) is the alternative.
//! - **Resize** is bilinear on pixel centres (`src = (dst + 0.5) · in/out - 0.5`) and, when
//!   shrinking, widens the triangle filter by the shrink factor so that every source pixel
//!   contributes (Pillow's `BILINEAR`), instead of sampling 4 pixels and aliasing. Weights
//!   are renormalised at the borders, so a constant image stays constant. The aspect ratio
//!   is not kept: paper 2 resizes every image to 128×128.
//! - **Masks** are never blurred; they are resized with the same filter and thresholded at
//!   0.5, so they stay binary and aligned with their image.

use ::image::DynamicImage;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::sample::ImageSample;
use crate::error::{check_finite, check_non_empty, DataError, Result};

/// Converts a decoded image of any pixel format to grayscale in `[0, 1]`, shape
/// `[height, width]`, with BT.601 luma weights (gray images are only rescaled).
pub fn grayscale(img: &DynamicImage) -> Result<Array2<f32>> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let values: Vec<f32> = match img {
        DynamicImage::ImageLuma8(buf) => {
            buf.as_raw().iter().map(|&v| f32::from(v) / 255.0).collect()
        }
        DynamicImage::ImageLuma16(buf) => buf
            .as_raw()
            .iter()
            .map(|&v| f32::from(v) / 65535.0)
            .collect(),
        other => other
            .to_rgb32f()
            .as_raw()
            .chunks_exact(3)
            .map(|p| (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]).clamp(0.0, 1.0))
            .collect(),
    };
    let n = values.len();
    Array2::from_shape_vec((h, w), values).map_err(|_| DataError::ShapeMismatch {
        what: "grayscale".into(),
        expected: format!("{h}×{w} pixels"),
        got: vec![n],
    })
}

/// How a filter reads pixels beyond the image border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Border {
    /// Mirror without repeating the edge pixel, `dcb|abcd|cba` (OpenCV's default).
    #[default]
    Reflect101,
    /// Repeat the edge pixel, `aaa|abcd|ddd`.
    Replicate,
}

impl Border {
    /// Maps a possibly out-of-range index onto `0..n` (`n ≥ 1`).
    pub(crate) fn index(self, i: isize, n: usize) -> usize {
        let n = n as isize;
        if n == 1 {
            return 0;
        }
        match self {
            Border::Replicate => i.clamp(0, n - 1) as usize,
            Border::Reflect101 => {
                // Reflection is periodic with period 2(n-1), which also covers kernels
                // wider than the image.
                let period = 2 * (n - 1);
                let m = i.rem_euclid(period);
                (if m < n { m } else { period - m }) as usize
            }
        }
    }
}

/// A Gaussian filter: odd kernel size and standard deviation in pixels.
///
/// [`GaussianBlur::paper2`] is paper 2's kernel 3, σ 0.5.
///
/// ```
/// use anomaly_data::image::preprocess::GaussianBlur;
/// let k = GaussianBlur::paper2().kernel_1d()?;
/// assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-6);
/// assert!((k[1] - 0.786_986).abs() < 1e-5);
/// # Ok::<(), anomaly_data::DataError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GaussianBlur {
    /// Kernel side length, odd and at least 1.
    pub kernel: usize,
    /// Standard deviation in pixels, finite and positive.
    pub sigma: f64,
    /// Border handling.
    #[serde(default)]
    pub border: Border,
}

impl GaussianBlur {
    /// Paper 2's filter: kernel 3, σ 0.5, OpenCV's reflect-101 border.
    pub fn paper2() -> Self {
        GaussianBlur {
            kernel: 3,
            sigma: 0.5,
            border: Border::Reflect101,
        }
    }

    /// Checks the settings, naming the first bad one.
    pub fn check(&self) -> Result<()> {
        if self.kernel == 0 || self.kernel.is_multiple_of(2) {
            return Err(DataError::InvalidParam {
                what: "gaussian blur",
                param: "kernel",
                value: self.kernel.to_string(),
                rule: "must be odd and at least 1",
            });
        }
        if !(self.sigma.is_finite() && self.sigma > 0.0) {
            return Err(DataError::InvalidParam {
                what: "gaussian blur",
                param: "sigma",
                value: self.sigma.to_string(),
                rule: "must be finite and positive",
            });
        }
        Ok(())
    }

    /// The normalised 1-D kernel (sums to 1); the 2-D kernel is its outer product.
    pub fn kernel_1d(&self) -> Result<Vec<f32>> {
        self.check()?;
        let r = (self.kernel / 2) as f64;
        let w: Vec<f64> = (0..self.kernel)
            .map(|i| {
                let d = i as f64 - r;
                (-d * d / (2.0 * self.sigma * self.sigma)).exp()
            })
            .collect();
        let s: f64 = w.iter().sum();
        Ok(w.iter().map(|v| (v / s) as f32).collect())
    }

    /// The normalised 2-D kernel, `[kernel, kernel]`.
    pub fn kernel_2d(&self) -> Result<Array2<f32>> {
        let k = self.kernel_1d()?;
        Ok(Array2::from_shape_fn((k.len(), k.len()), |(i, j)| {
            k[i] * k[j]
        }))
    }

    /// Filters an image. Errors on an empty image or a non-finite pixel.
    pub fn apply(&self, img: &Array2<f32>) -> Result<Array2<f32>> {
        check_non_empty("gaussian blur input", img.shape())?;
        check_finite("gaussian blur input", img.iter())?;
        let k = self.kernel_1d()?;
        let (h, w) = img.dim();
        let r = (k.len() / 2) as isize;
        let src = img.as_standard_layout();
        let src = contiguous(&src)?;
        // Rows: shifted, whole-slice multiply-adds in the interior (fast even unoptimised),
        // then the few border pixels through the border rule.
        let mut tmp = vec![0f32; h * w];
        for (line, out) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
            let inner = w.saturating_sub(2 * r as usize);
            for (j, &wt) in k.iter().enumerate().filter(|_| inner > 0) {
                for (o, s) in out[r as usize..r as usize + inner]
                    .iter_mut()
                    .zip(&line[j..j + inner])
                {
                    *o += wt * s;
                }
            }
            for i in (0..w as isize).filter(|&i| i < r || i >= r + inner as isize) {
                out[i as usize] = k
                    .iter()
                    .enumerate()
                    .map(|(j, &wt)| wt * line[self.border.index(i + j as isize - r, w)])
                    .sum();
            }
        }
        // Columns: each output row accumulates whole (border-mapped) input rows.
        let mut out = vec![0f32; h * w];
        for (i, dst) in out.chunks_exact_mut(w).enumerate() {
            for (j, &wt) in k.iter().enumerate() {
                let sr = self.border.index(i as isize + j as isize - r, h);
                for (d, s) in dst.iter_mut().zip(&tmp[sr * w..(sr + 1) * w]) {
                    *d += wt * s;
                }
            }
        }
        to_array(h, w, out)
    }
}

fn contiguous<'a>(a: &'a ndarray::CowArray<'_, f32, ndarray::Ix2>) -> Result<&'a [f32]> {
    a.as_slice().ok_or_else(|| DataError::ShapeMismatch {
        what: "image".into(),
        expected: "a contiguous array".into(),
        got: a.shape().to_vec(),
    })
}

fn to_array(h: usize, w: usize, values: Vec<f32>) -> Result<Array2<f32>> {
    let n = values.len();
    Array2::from_shape_vec((h, w), values).map_err(|_| DataError::ShapeMismatch {
        what: "filter output".into(),
        expected: format!("{h}×{w} values"),
        got: vec![n],
    })
}

/// A 1-D linear map: output `i` is `Σ w · input[j]` over the `(j, w)` of entry `i`.
type Taps = Vec<Vec<(usize, f32)>>;

/// Applies `rows` along the height and `cols` along the width (the resize is separable).
fn separable(img: &Array2<f32>, rows: &Taps, cols: &Taps) -> Result<Array2<f32>> {
    let (h, w) = img.dim();
    let (oh, ow) = (rows.len(), cols.len());
    let src = img.as_standard_layout();
    let src = contiguous(&src)?;
    let mut tmp = vec![0f32; h * ow];
    for (row, out) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(ow)) {
        for (o, taps) in out.iter_mut().zip(cols) {
            let mut acc = 0f32;
            for &(j, wt) in taps {
                acc += wt * row[j];
            }
            *o = acc;
        }
    }
    let mut out = vec![0f32; oh * ow];
    for (dst, taps) in out.chunks_exact_mut(ow).zip(rows) {
        for &(j, wt) in taps {
            for (d, s) in dst.iter_mut().zip(&tmp[j * ow..(j + 1) * ow]) {
                *d += wt * s;
            }
        }
    }
    to_array(oh, ow, out)
}

/// Per output index, the source indices and weights of a triangle (bilinear) filter.
fn resample_weights(n_in: usize, n_out: usize) -> Taps {
    let scale = n_in as f64 / n_out as f64;
    let support = scale.max(1.0);
    (0..n_out)
        .map(|o| {
            let centre = (o as f64 + 0.5) * scale;
            let lo = (centre - support).floor().max(0.0) as usize;
            let hi = ((centre + support).ceil() as usize).min(n_in);
            let mut ws: Vec<(usize, f64)> = (lo..hi)
                .map(|i| {
                    (
                        i,
                        (1.0 - ((i as f64 + 0.5) - centre).abs() / support).max(0.0),
                    )
                })
                .filter(|&(_, w)| w > 0.0)
                .collect();
            if ws.is_empty() {
                // Cannot happen for n_in ≥ 1, but a nearest pick keeps this total.
                ws.push(((centre as usize).min(n_in - 1), 1.0));
            }
            let s: f64 = ws.iter().map(|&(_, w)| w).sum();
            ws.into_iter().map(|(i, w)| (i, (w / s) as f32)).collect()
        })
        .collect()
}

/// Resizes an image to `[height, width]` with the bilinear (antialiased when shrinking)
/// filter described in the module docs.
///
/// ```
/// use ndarray::Array2;
/// use anomaly_data::image::preprocess::resize;
/// let flat = Array2::from_elem((37, 53), 0.25f32);
/// let small = resize(&flat, 16, 16)?;
/// assert!(small.iter().all(|&v| (v - 0.25).abs() < 1e-6));
/// # Ok::<(), anomaly_data::DataError>(())
/// ```
pub fn resize(img: &Array2<f32>, height: usize, width: usize) -> Result<Array2<f32>> {
    check_non_empty("resize input", img.shape())?;
    check_finite("resize input", img.iter())?;
    if height == 0 || width == 0 {
        return Err(DataError::InvalidParam {
            what: "resize",
            param: "output size",
            value: format!("{height}×{width}"),
            rule: "must be at least 1×1",
        });
    }
    let (h, w) = img.dim();
    separable(
        img,
        &resample_weights(h, height),
        &resample_weights(w, width),
    )
}

/// Resizes a binary mask: the same filter as [`resize`], then `≥ 0.5` → 1, else 0.
pub fn resize_mask(mask: &Array2<f32>, height: usize, width: usize) -> Result<Array2<f32>> {
    Ok(resize(mask, height, width)?.mapv(|v| if v >= 0.5 { 1.0 } else { 0.0 }))
}

/// Paper 2's preprocessing of one sample (after the grayscale conversion that loading
/// does): optional Gaussian filter of the image, then resize of image and mask to
/// `size × size`.
///
/// ```
/// use anomaly_data::image::preprocess::Preprocess;
/// let p = Preprocess::paper2();
/// assert_eq!(p.size, 128);
/// assert_eq!(p.blur.unwrap().kernel, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    /// Output side length in pixels.
    pub size: usize,
    /// The Gaussian filter applied before resizing, if any.
    pub blur: Option<GaussianBlur>,
}

impl Default for Preprocess {
    fn default() -> Self {
        Self::paper2()
    }
}

impl Preprocess {
    /// Paper 2: Gaussian filter kernel 3, σ 0.5, then 128×128.
    pub fn paper2() -> Self {
        Preprocess {
            size: 128,
            blur: Some(GaussianBlur::paper2()),
        }
    }

    /// Paper 2's filter with another output size (e.g. 32 for quick tests).
    pub fn with_size(size: usize) -> Self {
        Preprocess {
            size,
            ..Self::paper2()
        }
    }

    /// Checks the settings, naming the first bad one.
    pub fn check(&self) -> Result<()> {
        if self.size == 0 {
            return Err(DataError::InvalidParam {
                what: "preprocess",
                param: "size",
                value: "0".into(),
                rule: "must be at least 1",
            });
        }
        self.blur.as_ref().map_or(Ok(()), GaussianBlur::check)
    }

    /// Preprocesses an image alone.
    pub fn image(&self, img: &Array2<f32>) -> Result<Array2<f32>> {
        self.check()?;
        let blurred;
        let src = match &self.blur {
            Some(b) => {
                blurred = b.apply(img)?;
                &blurred
            }
            None => img,
        };
        resize(src, self.size, self.size)
    }

    /// Preprocesses a sample: image filtered and resized, mask resized and re-binarised.
    pub fn apply(&self, sample: &ImageSample) -> Result<ImageSample> {
        if let Some(m) = &sample.mask {
            if m.dim() != sample.image.dim() {
                return Err(DataError::ShapeMismatch {
                    what: format!("mask of sample `{}`", sample.name),
                    expected: format!("the image's {:?}", sample.image.shape()),
                    got: m.shape().to_vec(),
                });
            }
        }
        let image = self
            .image(&sample.image)
            .map_err(|e| in_sample(e, &sample.name))?;
        let mask = match &sample.mask {
            Some(m) => {
                Some(resize_mask(m, self.size, self.size).map_err(|e| in_sample(e, &sample.name))?)
            }
            None => None,
        };
        Ok(ImageSample {
            name: sample.name.clone(),
            image,
            mask,
            group: sample.group.clone(),
        })
    }

    /// Preprocesses many samples in parallel, keeping their order.
    pub fn apply_all(&self, samples: &[ImageSample]) -> Result<Vec<ImageSample>> {
        use rayon::prelude::*;
        samples.par_iter().map(|s| self.apply(s)).collect()
    }
}

/// Adds the sample's name to shape and value errors so a bad file can be found.
fn in_sample(e: DataError, name: &str) -> DataError {
    match e {
        DataError::ShapeMismatch {
            what,
            expected,
            got,
        } => DataError::ShapeMismatch {
            what: format!("{what} (sample `{name}`)"),
            expected,
            got,
        },
        DataError::NonFinite { what, index } => DataError::NonFinite {
            what: format!("{what} (sample `{name}`)"),
            index,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn paper2_kernel_sums_to_one_and_matches_the_hand_computed_3x3_case() {
        let k = GaussianBlur::paper2().kernel_2d().unwrap();
        assert_abs_diff_eq!(k.sum(), 1.0, epsilon = 1e-6);
        // 1-D weights ∝ [e^-2, 1, e^-2], normalised by 1 + 2e^-2 = 1.270_670_6.
        let (edge, centre) = (0.135_335_28 / 1.270_670_6, 1.0 / 1.270_670_6);
        let expected = array![
            [edge * edge, edge * centre, edge * edge],
            [centre * edge, centre * centre, centre * edge],
            [edge * edge, edge * centre, edge * edge]
        ];
        for (a, b) in k.iter().zip(expected.iter()) {
            assert_abs_diff_eq!(*a, *b as f32, epsilon = 1e-6);
        }
        assert_abs_diff_eq!(k[[1, 1]], 0.619_347, epsilon = 1e-5);
        assert_abs_diff_eq!(k[[0, 0]], 0.011_344, epsilon = 1e-5);
    }

    #[test]
    fn blur_of_a_delta_is_the_kernel_and_borders_reflect() {
        let mut img = Array2::<f32>::zeros((5, 5));
        img[[2, 2]] = 1.0;
        let b = GaussianBlur::paper2();
        let out = b.apply(&img).unwrap();
        let k = b.kernel_2d().unwrap();
        for i in 0..3 {
            for j in 0..3 {
                assert_abs_diff_eq!(out[[1 + i, 1 + j]], k[[i, j]], epsilon = 1e-7);
            }
        }
        assert_abs_diff_eq!(out.sum(), 1.0, epsilon = 1e-6);
        // A delta in the corner: reflect-101 mirrors the neighbour (index -1 → 1), so
        // the corner keeps centre², and (0,1) gets centre·edge from the delta only.
        let mut corner = Array2::<f32>::zeros((4, 4));
        corner[[0, 0]] = 1.0;
        let out = b.apply(&corner).unwrap();
        assert_abs_diff_eq!(out[[0, 0]], k[[1, 1]], epsilon = 1e-7);
        assert_abs_diff_eq!(out[[0, 1]], k[[1, 0]], epsilon = 1e-7);
        let rep = GaussianBlur {
            border: Border::Replicate,
            ..b
        }
        .apply(&corner)
        .unwrap();
        // Replicate: the corner sees itself through 2×2 of the 3×3 taps.
        let e = k[[0, 0]] + 2.0 * k[[0, 1]] + k[[1, 1]];
        assert_abs_diff_eq!(rep[[0, 0]], e, epsilon = 1e-7);
    }

    #[test]
    fn reflect101_index_is_periodic_and_handles_tiny_images() {
        let b = Border::Reflect101;
        let got: Vec<usize> = (-4..8).map(|i| b.index(i, 4)).collect();
        assert_eq!(got, vec![2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1]);
        assert_eq!(b.index(-3, 1), 0);
        let img = array![[0.5f32]];
        assert_abs_diff_eq!(GaussianBlur::paper2().apply(&img).unwrap()[[0, 0]], 0.5);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn blur_equals_the_naive_2d_convolution(
            h in 1usize..8, w in 1usize..8, kernel in 0usize..3, replicate in proptest::bool::ANY,
            seed in 0u32..1000,
        ) {
            let border = if replicate { Border::Replicate } else { Border::Reflect101 };
            let b = GaussianBlur { kernel: 2 * kernel + 1, sigma: 0.8, border };
            let img = Array2::from_shape_fn((h, w), |(r, c)| {
                ((r * 31 + c * 17 + seed as usize) % 13) as f32 / 12.0
            });
            let k = b.kernel_2d().unwrap();
            let rad = kernel as isize;
            let naive = Array2::from_shape_fn((h, w), |(r, c)| {
                let mut acc = 0.0;
                for i in 0..k.nrows() {
                    for j in 0..k.ncols() {
                        let sr = border.index(r as isize + i as isize - rad, h);
                        let sc = border.index(c as isize + j as isize - rad, w);
                        acc += k[[i, j]] * img[[sr, sc]];
                    }
                }
                acc
            });
            let got = b.apply(&img).unwrap();
            for (a, e) in got.iter().zip(naive.iter()) {
                proptest::prop_assert!((a - e).abs() < 1e-5, "{a} vs {e}");
            }
            let flat = b.apply(&Array2::from_elem((h, w), 0.3)).unwrap();
            proptest::prop_assert!(flat.iter().all(|v| (v - 0.3).abs() < 1e-6));
        }
    }

    #[test]
    fn blur_rejects_bad_settings_and_values() {
        let bad = GaussianBlur {
            kernel: 4,
            ..GaussianBlur::paper2()
        };
        assert!(bad.check().unwrap_err().to_string().contains("kernel = 4"));
        let bad = GaussianBlur {
            sigma: f64::NAN,
            ..GaussianBlur::paper2()
        };
        assert!(bad.check().unwrap_err().to_string().contains("sigma = NaN"));
        let img = array![[0.0f32, f32::INFINITY]];
        let e = GaussianBlur::paper2().apply(&img).unwrap_err();
        assert!(matches!(e, DataError::NonFinite { index: 1, .. }), "{e}");
        let e = GaussianBlur::paper2()
            .apply(&Array2::zeros((0, 3)))
            .unwrap_err();
        assert!(e.to_string().contains("[0, 3]"), "{e}");
    }

    #[test]
    fn resize_keeps_constants_and_upsamples_bilinearly() {
        for (h, w, oh, ow) in [
            (7, 9, 128, 128),
            (300, 200, 128, 128),
            (5, 5, 5, 5),
            (1, 1, 4, 3),
        ] {
            let img = Array2::from_elem((h, w), 0.7f32);
            let out = resize(&img, oh, ow).unwrap();
            assert_eq!(out.dim(), (oh, ow));
            assert!(out.iter().all(|&v| (v - 0.7).abs() < 1e-6));
        }
        // 2 → 4 pixels: centres map to -0.25, 0.25, 0.75, 1.25 → clamp, ¾/¼ mixes, clamp.
        let row = array![[0.0f32, 1.0]];
        let out = resize(&row, 1, 4).unwrap();
        for (a, b) in out.iter().zip([0.0f32, 0.25, 0.75, 1.0]) {
            assert_abs_diff_eq!(*a, b, epsilon = 1e-6);
        }
        // Same size is the identity.
        let img = Array2::from_shape_fn((4, 6), |(r, c)| (r * 6 + c) as f32 / 24.0);
        assert_eq!(resize(&img, 4, 6).unwrap(), img);
    }

    #[test]
    fn shrinking_averages_instead_of_aliasing() {
        // A 1-pixel checkerboard shrunk 4× must come out flat grey, not black or white.
        let img = Array2::from_shape_fn((64, 64), |(r, c)| ((r + c) % 2) as f32);
        let out = resize(&img, 16, 16).unwrap();
        assert!(out.iter().all(|&v| (v - 0.5).abs() < 0.05), "{out:?}");
    }

    #[test]
    fn masks_stay_binary_and_aligned() {
        let mut m = Array2::<f32>::zeros((40, 40));
        m.indexed_iter_mut()
            .filter(|((r, c), _)| (10..20).contains(r) && (20..30).contains(c))
            .for_each(|(_, v)| *v = 1.0);
        let out = resize_mask(&m, 20, 20).unwrap();
        assert!(out.iter().all(|&v| v == 0.0 || v == 1.0));
        assert_eq!(out.sum(), 25.0);
        assert_eq!(out[[5, 10]], 1.0);
        assert_eq!(out[[4, 10]], 0.0);
    }

    #[test]
    fn preprocess_applies_blur_then_resize_and_checks_size() {
        let s = ImageSample {
            name: "x".into(),
            image: Array2::from_elem((50, 30), 0.3),
            mask: Some(Array2::zeros((50, 30))),
            group: "g".into(),
        };
        let out = Preprocess::with_size(16).apply(&s).unwrap();
        assert_eq!(out.image.dim(), (16, 16));
        assert_eq!(out.mask.unwrap().dim(), (16, 16));
        assert!(out.image.iter().all(|&v| (v - 0.3).abs() < 1e-6));
        let e = Preprocess::with_size(0).apply(&s).unwrap_err();
        assert!(e.to_string().contains("size = 0"), "{e}");
        let mut bad = s.clone();
        bad.image[[3, 3]] = f32::NAN;
        let e = Preprocess::with_size(8).apply(&bad).unwrap_err();
        assert!(e.to_string().contains("sample `x`"), "{e}");
        let mut bad = s.clone();
        bad.mask = Some(Array2::zeros((5, 3)));
        let e = Preprocess::with_size(8).apply(&bad).unwrap_err();
        assert!(
            e.to_string().contains("mask of sample `x`") && e.to_string().contains("[5, 3]"),
            "{e}"
        );
    }

    #[test]
    fn grayscale_uses_bt601_weights() {
        let rgb = ::image::RgbImage::from_raw(2, 1, vec![255, 0, 0, 0, 255, 0]).unwrap();
        let g = grayscale(&DynamicImage::ImageRgb8(rgb)).unwrap();
        assert_eq!(g.dim(), (1, 2));
        assert_abs_diff_eq!(g[[0, 0]], 0.299, epsilon = 1e-6);
        assert_abs_diff_eq!(g[[0, 1]], 0.587, epsilon = 1e-6);
        let l = ::image::GrayImage::from_raw(1, 2, vec![0, 255]).unwrap();
        assert_eq!(
            grayscale(&DynamicImage::ImageLuma8(l)).unwrap(),
            array![[0.0], [1.0]]
        );
    }
}
