//! Colormaps and value scaling for heatmaps.
//!
//! - [`Colormap::Inferno`]: perceptually uniform, dark (low) to bright yellow (high), for
//!   non-negative maps such as residuals and LRP relevance. The 256 entries are
//!   matplotlib's `inferno` (Nathaniel Smith and Stéfan van der Walt, CC0), rounded to 8 bits.
//! - [`Colormap::Gray`]: black to white.
//! - [`Colormap::BlueWhiteRed`]: diverging, for signed relevance: blue (negative), white
//!   (zero), red (positive); ColorBrewer's RdBu end colours, interpolated linearly in sRGB.
//!
//! [`Scaling`] turns values into the colormap's `[0, 1]` input. Per image (the default),
//! sequential maps stretch `[min, max]` of the image to `[0, 1]`, and the diverging map
//! sends `0` to white and `±max |v|` to the ends, so the sign is never shifted. A fixed
//! range compares images on one scale instead.

use anomaly_data::check_finite;
use serde::{Deserialize, Serialize};

use super::error::{ImageError, Result};

/// A colormap from `[0, 1]` to 8-bit RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Colormap {
    /// matplotlib's inferno (sequential).
    #[default]
    Inferno,
    /// Black to white (sequential).
    Gray,
    /// Blue, white, red (diverging, centred at 0.5).
    BlueWhiteRed,
}

impl Colormap {
    /// Whether the map is diverging (centred on zero under [`Scaling::PerImage`]).
    pub fn is_diverging(self) -> bool {
        matches!(self, Colormap::BlueWhiteRed)
    }

    /// The colour of `t`, clamped to `[0, 1]`; NaN maps to 0.
    ///
    /// ```
    /// use anomaly_xai_plot::image::colormap::Colormap;
    /// assert_eq!(Colormap::Inferno.rgb(0.0), [0, 0, 4]);
    /// assert_eq!(Colormap::Inferno.rgb(1.0), [252, 255, 164]);
    /// assert_eq!(Colormap::BlueWhiteRed.rgb(0.5), [247, 247, 247]);
    /// ```
    pub fn rgb(self, t: f32) -> [u8; 3] {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        match self {
            Colormap::Inferno => {
                let x = t * 255.0;
                let i = (x.floor() as usize).min(254);
                lerp(INFERNO[i], INFERNO[i + 1], x - i as f32)
            }
            Colormap::Gray => {
                let g = (t * 255.0).round() as u8;
                [g, g, g]
            }
            Colormap::BlueWhiteRed => {
                if t < 0.5 {
                    lerp(BLUE, WHITE, t * 2.0)
                } else {
                    lerp(WHITE, RED, t * 2.0 - 1.0)
                }
            }
        }
    }
}

const BLUE: [u8; 3] = [33, 102, 172];
const WHITE: [u8; 3] = [247, 247, 247];
const RED: [u8; 3] = [178, 24, 43];

fn lerp(a: [u8; 3], b: [u8; 3], f: f32) -> [u8; 3] {
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * f).round() as u8;
    [mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2])]
}

/// How values are mapped to the colormap's `[0, 1]`; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum Scaling {
    /// Per image: `[min, max]` → `[0, 1]` (sequential) or `[-m, m]`, `m = max |v|`
    /// (diverging). A constant image maps to 0 (sequential) or 0.5 (diverging).
    #[default]
    PerImage,
    /// One range for every image: `[lo, hi]` → `[0, 1]`, values outside clamped.
    Fixed {
        /// Value drawn at 0.
        lo: f32,
        /// Value drawn at 1.
        hi: f32,
    },
}

impl Scaling {
    /// Maps `values` to `[0, 1]` for `colormap`. Errors on a non-finite value or a fixed
    /// range that is not finite and increasing.
    pub fn normalise(self, values: &[f32], colormap: Colormap) -> Result<Vec<f32>> {
        check_finite("heatmap values", values.iter())?;
        let (lo, hi) = match self {
            Scaling::Fixed { lo, hi } => {
                if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                    return Err(ImageError::InvalidParam {
                        what: "heatmap scaling",
                        param: "range",
                        value: format!("[{lo}, {hi}]"),
                        rule: "must be finite with lo < hi",
                    });
                }
                (lo, hi)
            }
            Scaling::PerImage if colormap.is_diverging() => {
                let m = values.iter().fold(0f32, |m, v| m.max(v.abs()));
                if m == 0.0 {
                    return Ok(vec![0.5; values.len()]);
                }
                (-m, m)
            }
            Scaling::PerImage => {
                let lo = values.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                if hi <= lo {
                    return Ok(vec![0.0; values.len()]);
                }
                (lo, hi)
            }
        };
        Ok(values
            .iter()
            .map(|v| ((v - lo) / (hi - lo)).clamp(0.0, 1.0))
            .collect())
    }
}

/// matplotlib's inferno, 256 entries.
#[rustfmt::skip]
const INFERNO: [[u8; 3]; 256] = [
    [0, 0, 4], [1, 0, 5], [1, 1, 6], [1, 1, 8], [2, 1, 10], [2, 2, 12],
    [2, 2, 14], [3, 2, 16], [4, 3, 18], [4, 3, 20], [5, 4, 23], [6, 4, 25],
    [7, 5, 27], [8, 5, 29], [9, 6, 31], [10, 7, 34], [11, 7, 36], [12, 8, 38],
    [13, 8, 41], [14, 9, 43], [16, 9, 45], [17, 10, 48], [18, 10, 50], [20, 11, 52],
    [21, 11, 55], [22, 11, 57], [24, 12, 60], [25, 12, 62], [27, 12, 65], [28, 12, 67],
    [30, 12, 69], [31, 12, 72], [33, 12, 74], [35, 12, 76], [36, 12, 79], [38, 12, 81],
    [40, 11, 83], [41, 11, 85], [43, 11, 87], [45, 11, 89], [47, 10, 91], [49, 10, 92],
    [50, 10, 94], [52, 10, 95], [54, 9, 97], [56, 9, 98], [57, 9, 99], [59, 9, 100],
    [61, 9, 101], [62, 9, 102], [64, 10, 103], [66, 10, 104], [68, 10, 104], [69, 10, 105],
    [71, 11, 106], [73, 11, 106], [74, 12, 107], [76, 12, 107], [77, 13, 108], [79, 13, 108],
    [81, 14, 108], [82, 14, 109], [84, 15, 109], [85, 15, 109], [87, 16, 110], [89, 16, 110],
    [90, 17, 110], [92, 18, 110], [93, 18, 110], [95, 19, 110], [97, 19, 110], [98, 20, 110],
    [100, 21, 110], [101, 21, 110], [103, 22, 110], [105, 22, 110], [106, 23, 110], [108, 24, 110],
    [109, 24, 110], [111, 25, 110], [113, 25, 110], [114, 26, 110], [116, 26, 110], [117, 27, 110],
    [119, 28, 109], [120, 28, 109], [122, 29, 109], [124, 29, 109], [125, 30, 109], [127, 30, 108],
    [128, 31, 108], [130, 32, 108], [132, 32, 107], [133, 33, 107], [135, 33, 107], [136, 34, 106],
    [138, 34, 106], [140, 35, 105], [141, 35, 105], [143, 36, 105], [144, 37, 104], [146, 37, 104],
    [147, 38, 103], [149, 38, 103], [151, 39, 102], [152, 39, 102], [154, 40, 101], [155, 41, 100],
    [157, 41, 100], [159, 42, 99], [160, 42, 99], [162, 43, 98], [163, 44, 97], [165, 44, 96],
    [166, 45, 96], [168, 46, 95], [169, 46, 94], [171, 47, 94], [173, 48, 93], [174, 48, 92],
    [176, 49, 91], [177, 50, 90], [179, 50, 90], [180, 51, 89], [182, 52, 88], [183, 53, 87],
    [185, 53, 86], [186, 54, 85], [188, 55, 84], [189, 56, 83], [191, 57, 82], [192, 58, 81],
    [193, 58, 80], [195, 59, 79], [196, 60, 78], [198, 61, 77], [199, 62, 76], [200, 63, 75],
    [202, 64, 74], [203, 65, 73], [204, 66, 72], [206, 67, 71], [207, 68, 70], [208, 69, 69],
    [210, 70, 68], [211, 71, 67], [212, 72, 66], [213, 74, 65], [215, 75, 63], [216, 76, 62],
    [217, 77, 61], [218, 78, 60], [219, 80, 59], [221, 81, 58], [222, 82, 56], [223, 83, 55],
    [224, 85, 54], [225, 86, 53], [226, 87, 52], [227, 89, 51], [228, 90, 49], [229, 92, 48],
    [230, 93, 47], [231, 94, 46], [232, 96, 45], [233, 97, 43], [234, 99, 42], [235, 100, 41],
    [235, 102, 40], [236, 103, 38], [237, 105, 37], [238, 106, 36], [239, 108, 35], [239, 110, 33],
    [240, 111, 32], [241, 113, 31], [241, 115, 29], [242, 116, 28], [243, 118, 27], [243, 120, 25],
    [244, 121, 24], [245, 123, 23], [245, 125, 21], [246, 126, 20], [246, 128, 19], [247, 130, 18],
    [247, 132, 16], [248, 133, 15], [248, 135, 14], [248, 137, 12], [249, 139, 11], [249, 140, 10],
    [249, 142, 9], [250, 144, 8], [250, 146, 7], [250, 148, 7], [251, 150, 6], [251, 151, 6],
    [251, 153, 6], [251, 155, 6], [251, 157, 7], [252, 159, 7], [252, 161, 8], [252, 163, 9],
    [252, 165, 10], [252, 166, 12], [252, 168, 13], [252, 170, 15], [252, 172, 17], [252, 174, 18],
    [252, 176, 20], [252, 178, 22], [252, 180, 24], [251, 182, 26], [251, 184, 29], [251, 186, 31],
    [251, 188, 33], [251, 190, 35], [250, 192, 38], [250, 194, 40], [250, 196, 42], [250, 198, 45],
    [249, 199, 47], [249, 201, 50], [249, 203, 53], [248, 205, 55], [248, 207, 58], [247, 209, 61],
    [247, 211, 64], [246, 213, 67], [246, 215, 70], [245, 217, 73], [245, 219, 76], [244, 221, 79],
    [244, 223, 83], [244, 225, 86], [243, 227, 90], [243, 229, 93], [242, 230, 97], [242, 232, 101],
    [242, 234, 105], [241, 236, 109], [241, 237, 113], [241, 239, 117], [241, 241, 121], [242, 242, 125],
    [242, 244, 130], [243, 245, 134], [243, 246, 138], [244, 248, 142], [245, 249, 146], [246, 250, 150],
    [248, 251, 154], [249, 252, 157], [250, 253, 161], [252, 255, 164],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inferno_gets_brighter_and_interpolates_between_entries() {
        let lum = |c: [u8; 3]| {
            0.299 * f32::from(c[0]) + 0.587 * f32::from(c[1]) + 0.114 * f32::from(c[2])
        };
        for i in 0..255 {
            assert!(lum(INFERNO[i + 1]) >= lum(INFERNO[i]) - 1.0, "entry {i}");
        }
        assert_eq!(Colormap::Inferno.rgb(128.0 / 255.0), INFERNO[128]);
        assert_eq!(Colormap::Inferno.rgb(2.0), INFERNO[255]);
        assert_eq!(Colormap::Inferno.rgb(f32::NAN), INFERNO[0]);
    }

    #[test]
    fn diverging_map_has_blue_white_red() {
        assert_eq!(Colormap::BlueWhiteRed.rgb(0.0), BLUE);
        assert_eq!(Colormap::BlueWhiteRed.rgb(1.0), RED);
        assert_eq!(Colormap::Gray.rgb(1.0), [255, 255, 255]);
    }

    #[test]
    fn scaling_per_image_and_fixed() {
        let v = [1.0f32, 2.0, 3.0];
        assert_eq!(
            Scaling::PerImage.normalise(&v, Colormap::Inferno).unwrap(),
            vec![0.0, 0.5, 1.0]
        );
        // Diverging keeps zero at the centre.
        let s = [-1.0f32, 0.0, 2.0];
        assert_eq!(
            Scaling::PerImage
                .normalise(&s, Colormap::BlueWhiteRed)
                .unwrap(),
            vec![0.25, 0.5, 1.0]
        );
        assert_eq!(
            Scaling::PerImage
                .normalise(&[4.0, 4.0], Colormap::Inferno)
                .unwrap(),
            vec![0.0, 0.0]
        );
        let f = Scaling::Fixed { lo: 0.0, hi: 2.0 }
            .normalise(&v, Colormap::Gray)
            .unwrap();
        assert_eq!(f, vec![0.5, 1.0, 1.0]);
        let e = Scaling::Fixed { lo: 1.0, hi: 1.0 }
            .normalise(&v, Colormap::Gray)
            .unwrap_err();
        assert!(e.to_string().contains("range = [1, 1]"), "{e}");
        let e = Scaling::PerImage
            .normalise(&[0.0, f32::NAN], Colormap::Gray)
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
