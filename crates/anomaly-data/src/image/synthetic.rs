//! A synthetic defect dataset with exact masks, built from CC0 textures that ship with
//! the crate (`crates/anomaly-data/data/textures/`, see its `LICENSE.md`): the embedded
//! default of the image pipeline, usable without any download.
//!
//! - **Training images**: random square crops (side [`SyntheticConfig::crop`]) of the
//!   textures, resized to [`SyntheticConfig::size`], defect-free.
//! - **Test images**: further random crops, each with one pasted defect, one group per
//!   [`DefectKind`]:
//!   - `blob`: a filled ellipse (random centre, semi-axes, orientation);
//!   - `scratch`: a thin curve (a quadratic Bézier of random length, bend and width).
//!
//!   Each defect is brighter or darker ([`Polarity`], at random by default): every covered
//!   pixel is blended towards white or black, `v' = (1 - α) v + α t` with `t ∈ {0, 1}` and `α` drawn once per
//!   defect from [`SyntheticConfig::strength`]. Edges are hard, so the mask is exactly
//!   the set of pixels that were changed (a pixel already equal to `t` stays as it is).
//!
//! Train and test crops come from the same textures and may overlap, like the defect-free
//! and defective parts of one MVTec object class; only the defects are new at test time.
//! Geometry is in output pixels, after resizing, so masks are exact at the output size.
//! Everything is deterministic per [`SyntheticConfig::seed`], whatever the thread count.
//! Samples are named `good_<i>_<texture>` and `<kind>_<j>_<texture>` (zero-padded
//! indices), so the folder written by [`write_generic`](super::dataset::write_generic)
//! reads back in the same order.
//!
//! ```
//! use anomaly_data::image::synthetic::{generate, SyntheticConfig};
//! let cfg = SyntheticConfig { size: 32, crop: 64, n_train: 4, n_test_per_group: 2, ..Default::default() };
//! let ds = generate(&cfg)?;
//! assert_eq!((ds.train.len(), ds.test.len()), (4, 4));
//! assert_eq!(ds.groups(), vec!["blob".to_string(), "scratch".to_string()]);
//! assert!(ds.test.iter().all(|s| s.mask.as_ref().unwrap().sum() > 0.0));
//! # Ok::<(), anomaly_data::DataError>(())
//! ```

use std::str::FromStr;

use ndarray::{Array2, Axis, Slice};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::dataset::DefectDataset;
use super::preprocess::{grayscale, resize};
use super::sample::{ImageSample, GOOD_GROUP};
use crate::error::{check_finite, check_non_empty, DataError, Result};

/// A CC0 texture embedded in the crate (512×512, 8-bit grayscale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Texture {
    /// Brick wall (regular structure; CC0Textures).
    Brick,
    /// Grass (fine stochastic structure; linolafett, CC0).
    Grass,
    /// Gravel (coarse stochastic structure; CC0Textures).
    Gravel,
}

impl Texture {
    /// Every embedded texture.
    pub const ALL: [Texture; 3] = [Texture::Brick, Texture::Grass, Texture::Gravel];

    /// Lower-case name, used in sample names.
    pub fn name(self) -> &'static str {
        match self {
            Texture::Brick => "brick",
            Texture::Grass => "grass",
            Texture::Gravel => "gravel",
        }
    }

    /// The embedded PNG file.
    pub fn png_bytes(self) -> &'static [u8] {
        match self {
            Texture::Brick => include_bytes!("../../data/textures/brick.png"),
            Texture::Grass => include_bytes!("../../data/textures/grass.png"),
            Texture::Gravel => include_bytes!("../../data/textures/gravel.png"),
        }
    }

    /// Decodes the texture to grayscale `[0, 1]`, `[512, 512]`.
    pub fn load(self) -> Result<Array2<f32>> {
        let img =
            ::image::load_from_memory(self.png_bytes()).map_err(|source| DataError::Codec {
                path: format!("embedded data/textures/{}.png", self.name()).into(),
                source,
            })?;
        grayscale(&img)
    }
}

impl FromStr for Texture {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self> {
        Texture::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| DataError::InvalidParam {
                what: "synthetic",
                param: "texture",
                value: s.into(),
                rule: "must be one of brick, grass, gravel",
            })
    }
}

/// The kind of pasted defect; each kind is one test group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefectKind {
    /// A filled ellipse.
    Blob,
    /// A thin curved line.
    Scratch,
}

impl DefectKind {
    /// The group name, `"blob"` or `"scratch"`.
    pub fn name(self) -> &'static str {
        match self {
            DefectKind::Blob => "blob",
            DefectKind::Scratch => "scratch",
        }
    }
}

/// Whether pasted defects are brighter or darker than the texture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    /// Brighter or darker with probability ½ each.
    #[default]
    Random,
    /// Blended towards white.
    Bright,
    /// Blended towards black.
    Dark,
}

/// Settings of the synthetic set. Fractions are of the output side [`size`](Self::size).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyntheticConfig {
    /// Textures to crop from; crops cycle through them in order.
    pub textures: Vec<Texture>,
    /// Side of the square cut from a texture, in texture pixels (at most the texture's side).
    pub crop: usize,
    /// Side of the output images in pixels (at least 8).
    pub size: usize,
    /// Number of defect-free training images.
    pub n_train: usize,
    /// Number of test images per defect kind.
    pub n_test_per_group: usize,
    /// Defect kinds, one test group each, in this order (at least one).
    pub defects: Vec<DefectKind>,
    /// Range of blob semi-axes, as fractions of `size`, within `(0, 0.5]`.
    pub blob_radius: (f32, f32),
    /// Range of scratch chord lengths, as fractions of `size`, within `(0, 1]`.
    pub scratch_length: (f32, f32),
    /// Range of scratch widths in output pixels, within `[1, size / 4]`.
    pub scratch_width: (f32, f32),
    /// Range of the blend weight `α` towards white or black, within `(0, 1]`.
    pub strength: (f32, f32),
    /// Whether defects are brighter, darker, or either at random.
    pub polarity: Polarity,
    /// Seed of everything random.
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            textures: vec![Texture::Brick],
            crop: 256,
            size: 128,
            n_train: 200,
            n_test_per_group: 20,
            defects: vec![DefectKind::Blob, DefectKind::Scratch],
            blob_radius: (0.04, 0.12),
            scratch_length: (0.3, 0.7),
            scratch_width: (1.0, 2.5),
            strength: (0.5, 0.9),
            polarity: Polarity::Random,
            seed: 0,
        }
    }
}

impl SyntheticConfig {
    /// Checks the settings, naming the first bad one.
    pub fn check(&self) -> Result<()> {
        let bad = |param, value: String, rule| {
            Err(DataError::InvalidParam {
                what: "synthetic",
                param,
                value,
                rule,
            })
        };
        let range_ok = |(lo, hi): (f32, f32), min: f32, max: f32, open_min: bool| {
            lo.is_finite()
                && hi.is_finite()
                && lo <= hi
                && hi <= max
                && if open_min { lo > min } else { lo >= min }
        };
        if self.textures.is_empty() {
            return bad("textures", "[]".into(), "must name at least one texture");
        }
        if self.defects.is_empty() {
            return bad("defects", "[]".into(), "must name at least one defect kind");
        }
        if self.size < 8 {
            return bad("size", self.size.to_string(), "must be at least 8");
        }
        if self.crop == 0 {
            return bad("crop", "0".into(), "must be at least 1");
        }
        if !range_ok(self.blob_radius, 0.0, 0.5, true) {
            return bad(
                "blob_radius",
                format!("{:?}", self.blob_radius),
                "must be a range lo ≤ hi within (0, 0.5]",
            );
        }
        if !range_ok(self.scratch_length, 0.0, 1.0, true) {
            return bad(
                "scratch_length",
                format!("{:?}", self.scratch_length),
                "must be a range lo ≤ hi within (0, 1]",
            );
        }
        if !range_ok(self.scratch_width, 1.0, (self.size / 4) as f32, false) {
            return bad(
                "scratch_width",
                format!("{:?}", self.scratch_width),
                "must be a range lo ≤ hi within [1, size / 4]",
            );
        }
        if !range_ok(self.strength, 0.0, 1.0, true) {
            return bad(
                "strength",
                format!("{:?}", self.strength),
                "must be a range lo ≤ hi within (0, 1]",
            );
        }
        Ok(())
    }
}

/// Generates the synthetic set from the embedded textures.
pub fn generate(cfg: &SyntheticConfig) -> Result<DefectDataset> {
    cfg.check()?;
    let textures: Vec<(String, Array2<f32>)> = cfg
        .textures
        .iter()
        .map(|t| Ok((t.name().to_string(), t.load()?)))
        .collect::<Result<_>>()?;
    generate_from(&textures, cfg)
}

/// Generates the synthetic set from any named grayscale textures in `[0, 1]` (`cfg.textures`
/// is ignored; crops cycle through `textures` in order).
pub fn generate_from(
    textures: &[(String, Array2<f32>)],
    cfg: &SyntheticConfig,
) -> Result<DefectDataset> {
    cfg.check()?;
    if textures.is_empty() {
        return Err(DataError::InvalidParam {
            what: "synthetic",
            param: "textures",
            value: "[]".into(),
            rule: "must hold at least one texture",
        });
    }
    for (name, t) in textures {
        let (h, w) = t.dim();
        if h < cfg.crop || w < cfg.crop {
            return Err(DataError::ShapeMismatch {
                what: format!("texture `{name}`"),
                expected: format!("at least the crop size {0}×{0}", cfg.crop),
                got: vec![h, w],
            });
        }
        check_finite(&format!("texture `{name}`"), t.iter())?;
    }
    let rng_for = |stream: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(stream);
        rng
    };
    let train = (0..cfg.n_train)
        .into_par_iter()
        .map(|i| {
            let (name, tex) = &textures[i % textures.len()];
            let image = random_crop(tex, cfg, &mut rng_for(i as u64))?;
            Ok(ImageSample {
                name: format!("{GOOD_GROUP}_{i:04}_{name}"),
                image,
                mask: None,
                group: GOOD_GROUP.into(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let jobs: Vec<(usize, DefectKind, usize)> = cfg
        .defects
        .iter()
        .enumerate()
        .flat_map(|(g, &k)| (0..cfg.n_test_per_group).map(move |j| (g, k, j)))
        .collect();
    let test = jobs
        .into_par_iter()
        .map(|(g, kind, j)| {
            // Test streams live above 2^32 so they never meet a training stream.
            let mut rng = rng_for((1u64 << 32) + ((g as u64) << 24) + j as u64);
            let (name, tex) = &textures[j % textures.len()];
            let mut image = random_crop(tex, cfg, &mut rng)?;
            let mask = paste_defect(&mut image, kind, cfg, &mut rng)?;
            Ok(ImageSample {
                name: format!("{}_{j:04}_{name}", kind.name()),
                image,
                mask: Some(mask),
                group: kind.name().into(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(DefectDataset { train, test })
}

fn random_crop(
    tex: &Array2<f32>,
    cfg: &SyntheticConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Array2<f32>> {
    let (h, w) = tex.dim();
    let r = rng.gen_range(0..=h - cfg.crop);
    let c = rng.gen_range(0..=w - cfg.crop);
    resize(
        &tex.slice_axis(Axis(0), Slice::from(r..r + cfg.crop))
            .slice_axis(Axis(1), Slice::from(c..c + cfg.crop))
            .to_owned(),
        cfg.size,
        cfg.size,
    )
}

/// Pastes one defect of `kind` into `image` (in place) and returns its mask (1.0 on every
/// changed pixel). Uses the geometry ranges of `cfg` relative to the image's shorter side.
pub fn paste_defect(
    image: &mut Array2<f32>,
    kind: DefectKind,
    cfg: &SyntheticConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Array2<f32>> {
    cfg.check()?;
    check_non_empty("paste_defect image", image.shape())?;
    let (h, w) = image.dim();
    let side = h.min(w) as f32;
    let mut mask = match kind {
        DefectKind::Blob => blob_mask(h, w, side, cfg, rng),
        DefectKind::Scratch => scratch_mask(h, w, side, cfg, rng),
    };
    if mask.iter().all(|&v| v == 0.0) {
        // A degenerate draw on a tiny image: keep the defect visible with its centre pixel.
        mask[[h / 2, w / 2]] = 1.0;
    }
    // Drawn in every case, so that the polarity setting leaves the geometry unchanged.
    let bright = rng.gen_bool(0.5);
    let target = match cfg.polarity {
        Polarity::Random => f32::from(u8::from(bright)),
        Polarity::Bright => 1.0,
        Polarity::Dark => 0.0,
    };
    let alpha = rng.gen_range(cfg.strength.0..=cfg.strength.1);
    for (v, &m) in image.iter_mut().zip(mask.iter()) {
        if m > 0.0 {
            *v = (1.0 - alpha) * *v + alpha * target;
        }
    }
    Ok(mask)
}

fn uniform(rng: &mut ChaCha8Rng, (lo, hi): (f32, f32)) -> f32 {
    if lo == hi {
        lo
    } else {
        rng.gen_range(lo..=hi)
    }
}

fn blob_mask(
    h: usize,
    w: usize,
    side: f32,
    cfg: &SyntheticConfig,
    rng: &mut ChaCha8Rng,
) -> Array2<f32> {
    let cy = rng.gen_range(0.15..=0.85) * (h as f32 - 1.0);
    let cx = rng.gen_range(0.15..=0.85) * (w as f32 - 1.0);
    let a = (uniform(rng, cfg.blob_radius) * side).max(1.0);
    let b = (uniform(rng, cfg.blob_radius) * side).max(1.0);
    let (sin, cos) = rng.gen_range(0.0..std::f32::consts::PI).sin_cos();
    Array2::from_shape_fn((h, w), |(r, c)| {
        let (x, y) = (c as f32 - cx, r as f32 - cy);
        let (u, v) = ((x * cos + y * sin) / a, (-x * sin + y * cos) / b);
        f32::from(u8::from(u * u + v * v <= 1.0))
    })
}

fn scratch_mask(
    h: usize,
    w: usize,
    side: f32,
    cfg: &SyntheticConfig,
    rng: &mut ChaCha8Rng,
) -> Array2<f32> {
    let (hm, wm) = (h as f32 - 1.0, w as f32 - 1.0);
    let p0 = (rng.gen_range(0.1..=0.9) * wm, rng.gen_range(0.1..=0.9) * hm);
    let len = uniform(rng, cfg.scratch_length) * side;
    let phi = rng.gen_range(0.0..std::f32::consts::TAU);
    let p2 = (
        (p0.0 + len * phi.cos()).clamp(0.0, wm),
        (p0.1 + len * phi.sin()).clamp(0.0, hm),
    );
    let bend = rng.gen_range(-0.25..=0.25) * len;
    let (mx, my) = ((p0.0 + p2.0) / 2.0, (p0.1 + p2.1) / 2.0);
    let p1 = (mx - bend * phi.sin(), my + bend * phi.cos());
    let half = uniform(rng, cfg.scratch_width) / 2.0;
    // Dense enough that consecutive points are under half a pixel apart.
    let n = ((2.0 * len).ceil() as usize).max(2);
    let pts: Vec<(f32, f32)> = (0..=n)
        .map(|i| {
            let t = i as f32 / n as f32;
            let (a, b, c) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t);
            (
                a * p0.0 + b * p1.0 + c * p2.0,
                a * p0.1 + b * p1.1 + c * p2.1,
            )
        })
        .collect();
    Array2::from_shape_fn((h, w), |(r, c)| {
        let p = (c as f32, r as f32);
        let near = pts
            .windows(2)
            .any(|seg| segment_distance(p, seg[0], seg[1]) <= half);
        f32::from(u8::from(near))
    })
}

fn segment_distance(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (qx, qy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - qx).powi(2) + (p.1 - qy).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tiny() -> SyntheticConfig {
        SyntheticConfig {
            size: 32,
            crop: 64,
            n_train: 6,
            n_test_per_group: 3,
            ..Default::default()
        }
    }

    #[test]
    fn textures_decode_to_512_squares_and_parse_by_name() {
        for t in Texture::ALL {
            let a = t.load().unwrap();
            assert_eq!(a.dim(), (512, 512));
            assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
            assert_eq!(t.name().parse::<Texture>().unwrap(), t);
        }
        assert!("marble"
            .parse::<Texture>()
            .unwrap_err()
            .to_string()
            .contains("texture = marble"));
    }

    #[test]
    fn generation_is_deterministic_per_seed_and_sized() {
        let a = generate(&tiny()).unwrap();
        let b = generate(&tiny()).unwrap();
        assert_eq!(a, b);
        let c = generate(&SyntheticConfig { seed: 1, ..tiny() }).unwrap();
        assert_ne!(a.test[0].image, c.test[0].image);
        assert_eq!(a.train.len(), 6);
        assert_eq!(a.test.len(), 6);
        for s in a.train.iter().chain(&a.test) {
            assert_eq!(s.image.dim(), (32, 32));
        }
        let names: std::collections::HashSet<_> = a.test.iter().map(|s| &s.name).collect();
        assert_eq!(names.len(), 6);
        let three = generate(&SyntheticConfig {
            textures: Texture::ALL.to_vec(),
            ..tiny()
        })
        .unwrap();
        assert_eq!(three.train[1].name, "good_0001_grass");
        assert_eq!(three.test[2].name, "blob_0002_gravel");
    }

    #[test]
    fn bad_settings_are_named() {
        let cases: Vec<(SyntheticConfig, &str)> = vec![
            (SyntheticConfig { size: 4, ..tiny() }, "size = 4"),
            (
                SyntheticConfig {
                    textures: vec![],
                    ..tiny()
                },
                "textures = []",
            ),
            (
                SyntheticConfig {
                    defects: vec![],
                    ..tiny()
                },
                "defects = []",
            ),
            (
                SyntheticConfig {
                    blob_radius: (0.2, 0.1),
                    ..tiny()
                },
                "blob_radius",
            ),
            (
                SyntheticConfig {
                    scratch_width: (1.0, 20.0),
                    ..tiny()
                },
                "scratch_width",
            ),
            (
                SyntheticConfig {
                    strength: (0.0, 0.5),
                    ..tiny()
                },
                "strength",
            ),
        ];
        for (cfg, needle) in cases {
            let e = generate(&cfg).unwrap_err();
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
        }
        let e = generate(&SyntheticConfig {
            crop: 600,
            ..tiny()
        })
        .unwrap_err();
        assert!(e.to_string().contains("crop size 600"), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn masks_cover_exactly_the_pasted_pixels(seed in 0u64..10_000, scratch in any::<bool>(), side in 8usize..40) {
            let cfg = tiny();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Values strictly inside (0, 1), so blending towards 0 or 1 changes every pixel.
            let clean = Array2::from_shape_fn((side, side + 3), |(r, c)| 0.1 + 0.8 * (((r * 7 + c * 3) % 11) as f32 / 10.0));
            let mut img = clean.clone();
            let kind = if scratch { DefectKind::Scratch } else { DefectKind::Blob };
            let mask = paste_defect(&mut img, kind, &cfg, &mut rng).unwrap();
            prop_assert!(mask.sum() >= 1.0);
            for ((a, b), m) in img.iter().zip(clean.iter()).zip(mask.iter()) {
                prop_assert!(*m == 0.0 || *m == 1.0);
                prop_assert_eq!(a != b, *m == 1.0);
            }
        }
    }

    #[test]
    fn polarity_sets_the_direction_and_keeps_the_geometry() {
        let mut masks = Vec::new();
        for polarity in [Polarity::Bright, Polarity::Dark, Polarity::Random] {
            let ds = generate(&SyntheticConfig {
                polarity,
                n_train: 0,
                ..tiny()
            })
            .unwrap();
            for s in &ds.test {
                let m = s.mask.as_ref().unwrap();
                let mean = s
                    .image
                    .iter()
                    .zip(m)
                    .filter(|(_, &k)| k > 0.0)
                    .map(|(v, _)| v)
                    .sum::<f32>()
                    / m.sum();
                match polarity {
                    Polarity::Bright => assert!(mean > 0.5, "{}: {mean}", s.name),
                    Polarity::Dark => assert!(mean < 0.5, "{}: {mean}", s.name),
                    Polarity::Random => {}
                }
            }
            masks.push(ds.test.iter().map(|s| s.mask.clone()).collect::<Vec<_>>());
        }
        assert_eq!(masks[0], masks[1]);
        assert_eq!(masks[0], masks[2]);
    }

    #[test]
    fn generated_masks_are_binary_nonempty_and_leave_most_pixels_clean() {
        let ds = generate(&SyntheticConfig {
            size: 64,
            crop: 128,
            n_train: 0,
            n_test_per_group: 10,
            ..Default::default()
        })
        .unwrap();
        for s in &ds.test {
            let m = s.mask.as_ref().unwrap();
            let area = m.sum() / m.len() as f32;
            assert!(m.iter().all(|&v| v == 0.0 || v == 1.0));
            assert!(area > 0.0 && area < 0.25, "{}: area {area}", s.name);
        }
    }
}
