//! Training-set augmentation (paper 2: "random rotations and flips") and the 10 %
//! train/validation split.
//!
//! A transform is drawn per sample from a seeded [`ChaCha8Rng`] and applied identically to
//! the image and its mask:
//! 1. a rotation by a random multiple of 90° (exact: no interpolation, square images stay
//!    square) when [`Augment::rot90`] is set;
//! 2. a further rotation by a uniform angle in `[-max_angle_deg, max_angle_deg]` about the
//!    image centre, when that is positive: bilinear sampling with the reflect-101 border
//!    (so no black corners appear), the mask sampled the same way and thresholded at 0.5;
//! 3. a horizontal flip with probability ½ when [`Augment::hflip`] is set, then a vertical
//!    flip with probability ½ when [`Augment::vflip`] is set.
//!
//! The default uses 90° multiples and both flips only, which maps every pixel onto a pixel
//! (the 8 symmetries of the square), right for textures and tiles that have no natural
//! orientation; set `max_angle_deg` for objects that do.
//!
//! Paper 2 takes 10 % of the training images as validation and then generates 10 000
//! training and 1 000 validation samples by augmentation. [`train_val_split`] splits
//! *before* augmenting, so no validation image is a rotated copy of a training image.

use ndarray::{Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::preprocess::Border;
use super::sample::ImageSample;
use crate::error::{check_finite, check_non_empty, DataError, Result};

/// Random rotations and flips; see the module docs for the exact transform.
///
/// ```
/// use anomaly_data::image::augment::Augment;
/// use anomaly_data::image::ImageSample;
/// use ndarray::Array2;
/// let s = ImageSample {
///     name: "a".into(),
///     image: Array2::from_shape_fn((8, 8), |(r, c)| (r * 8 + c) as f32 / 63.0),
///     mask: None,
///     group: "good".into(),
/// };
/// let more = Augment::default().expand(std::slice::from_ref(&s), 20, 7)?;
/// assert_eq!(more.len(), 20);
/// // The same seed gives the same samples.
/// assert_eq!(more, Augment::default().expand(&[s], 20, 7)?);
/// # Ok::<(), anomaly_data::DataError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Rotate by a random multiple of 90°.
    pub rot90: bool,
    /// Largest extra rotation angle in degrees, in `[0, 45]`; 0 turns it off.
    pub max_angle_deg: f32,
    /// Flip left-right with probability ½.
    pub hflip: bool,
    /// Flip top-bottom with probability ½.
    pub vflip: bool,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            rot90: true,
            max_angle_deg: 0.0,
            hflip: true,
            vflip: true,
        }
    }
}

/// One drawn transform, so that image and mask get the same one.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Transform {
    quarter_turns: u8,
    angle_rad: f32,
    hflip: bool,
    vflip: bool,
}

impl Augment {
    /// Checks the settings, naming the first bad one.
    pub fn check(&self) -> Result<()> {
        if !(self.max_angle_deg.is_finite() && (0.0..=45.0).contains(&self.max_angle_deg)) {
            return Err(DataError::InvalidParam {
                what: "augment",
                param: "max_angle_deg",
                value: self.max_angle_deg.to_string(),
                rule: "must be in [0, 45] (larger turns are covered by rot90)",
            });
        }
        Ok(())
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> Transform {
        // Every draw is made whether or not it is used, so that switching one option off
        // does not reshuffle the others.
        let q: u8 = rng.gen_range(0..4);
        let a: f32 = rng.gen_range(-1.0..=1.0);
        let h: bool = rng.gen_bool(0.5);
        let v: bool = rng.gen_bool(0.5);
        Transform {
            quarter_turns: if self.rot90 { q } else { 0 },
            angle_rad: a * self.max_angle_deg.to_radians(),
            hflip: self.hflip && h,
            vflip: self.vflip && v,
        }
    }

    /// Applies one random transform to an image and, identically, to its mask.
    pub fn apply(
        &self,
        image: &Array2<f32>,
        mask: Option<&Array2<f32>>,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Array2<f32>, Option<Array2<f32>>)> {
        self.check()?;
        check_non_empty("augment input", image.shape())?;
        check_finite("augment input", image.iter())?;
        if let Some(m) = mask {
            if m.dim() != image.dim() {
                return Err(DataError::ShapeMismatch {
                    what: "augment mask".into(),
                    expected: format!("the image's {:?}", image.shape()),
                    got: m.shape().to_vec(),
                });
            }
        }
        let t = self.draw(rng);
        let image = transform(image, t);
        let mask = mask.map(|m| transform(m, t).mapv(|v| if v >= 0.5 { 1.0 } else { 0.0 }));
        Ok((image, mask))
    }

    /// Generates `n` augmented samples, cycling through `samples` in order (sample `i` of
    /// the output comes from input `i mod len`, named `<name>_aug<i>`). Deterministic for
    /// a given `seed` and independent of the number of threads.
    pub fn expand(&self, samples: &[ImageSample], n: usize, seed: u64) -> Result<Vec<ImageSample>> {
        self.check()?;
        if samples.is_empty() && n > 0 {
            return Err(DataError::InvalidParam {
                what: "augment",
                param: "samples",
                value: "[]".into(),
                rule: "must not be empty when n > 0",
            });
        }
        (0..n)
            .into_par_iter()
            .map(|i| {
                let src = &samples[i % samples.len()];
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(i as u64);
                let (image, mask) = self.apply(&src.image, src.mask.as_ref(), &mut rng)?;
                Ok(ImageSample {
                    name: format!("{}_aug{i}", src.name),
                    image,
                    mask,
                    group: src.group.clone(),
                })
            })
            .collect()
    }
}

fn transform(img: &Array2<f32>, t: Transform) -> Array2<f32> {
    let mut v = img.view();
    // A quarter turn counter-clockwise is a transpose and a top-bottom flip; both are
    // stride tricks on the view.
    for _ in 0..t.quarter_turns {
        v = v.reversed_axes();
        v.invert_axis(Axis(0));
    }
    let rotated;
    if t.angle_rad != 0.0 {
        rotated = rotate_bilinear(&v.to_owned(), t.angle_rad);
        v = rotated.view();
    }
    if t.hflip {
        v.invert_axis(Axis(1));
    }
    if t.vflip {
        v.invert_axis(Axis(0));
    }
    // One copy, into standard layout.
    v.as_standard_layout().into_owned()
}

/// Rotates by `angle` radians about the centre (the sign picks the direction); output
/// keeps the shape.
fn rotate_bilinear(img: &Array2<f32>, angle: f32) -> Array2<f32> {
    let (h, w) = img.dim();
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let (sin, cos) = angle.sin_cos();
    let border = Border::Reflect101;
    let at = |r: isize, c: isize| img[[border.index(r, h), border.index(c, w)]];
    Array2::from_shape_fn((h, w), |(r, c)| {
        // Inverse map: rotate the output coordinate back by -angle (image rows point down).
        let (dy, dx) = (r as f32 - cy, c as f32 - cx);
        let sx = cos * dx - sin * dy + cx;
        let sy = sin * dx + cos * dy + cy;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as isize, y0 as isize);
        (1.0 - fy) * ((1.0 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
            + fy * ((1.0 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1))
    })
}

/// Splits samples into training and validation sets: a seeded shuffle, then the first
/// `round(val_fraction · n)` (at least 1 when `val_fraction > 0` and `n ≥ 2`, at most
/// `n - 1`) go to validation. Both parts keep the input's relative order.
///
/// ```
/// use anomaly_data::image::augment::train_val_split;
/// let (train, val) = train_val_split(&(0..20).collect::<Vec<_>>(), 0.1, 3)?;
/// assert_eq!((train.len(), val.len()), (18, 2));
/// # Ok::<(), anomaly_data::DataError>(())
/// ```
pub fn train_val_split<T: Clone>(
    samples: &[T],
    val_fraction: f64,
    seed: u64,
) -> Result<(Vec<T>, Vec<T>)> {
    if !(val_fraction.is_finite() && (0.0..1.0).contains(&val_fraction)) {
        return Err(DataError::InvalidParam {
            what: "train_val_split",
            param: "val_fraction",
            value: val_fraction.to_string(),
            rule: "must be in [0, 1)",
        });
    }
    let n = samples.len();
    let mut n_val = (val_fraction * n as f64).round() as usize;
    if val_fraction > 0.0 && n >= 2 {
        n_val = n_val.clamp(1, n - 1);
    }
    let mut idx: Vec<usize> = (0..n).collect();
    rand::seq::SliceRandom::shuffle(idx.as_mut_slice(), &mut ChaCha8Rng::seed_from_u64(seed));
    let mut is_val = vec![false; n];
    for &i in &idx[..n_val] {
        is_val[i] = true;
    }
    let (mut train, mut val) = (Vec::with_capacity(n - n_val), Vec::with_capacity(n_val));
    for (s, v) in samples.iter().zip(is_val) {
        if v {
            val.push(s.clone())
        } else {
            train.push(s.clone())
        }
    }
    Ok((train, val))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn argmax(a: &Array2<f32>) -> (usize, usize) {
        let (mut best, mut at) = (f32::MIN, (0, 0));
        for ((r, c), &v) in a.indexed_iter() {
            if v > best {
                best = v;
                at = (r, c);
            }
        }
        at
    }

    fn centroid(a: &Array2<f32>) -> (f32, f32) {
        let (mut sr, mut sc, mut s) = (0.0, 0.0, 0.0);
        for ((r, c), &v) in a.indexed_iter() {
            sr += v * r as f32;
            sc += v * c as f32;
            s += v;
        }
        (sr / s, sc / s)
    }

    #[test]
    fn quarter_turn_is_counter_clockwise_and_flips_mirror() {
        let a = ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
        let t = |q, h, v| {
            transform(
                &a,
                Transform {
                    quarter_turns: q,
                    angle_rad: 0.0,
                    hflip: h,
                    vflip: v,
                },
            )
        };
        assert_eq!(t(1, false, false), ndarray::array![[2.0, 4.0], [1.0, 3.0]]);
        assert_eq!(t(4 % 4, false, false), a);
        assert_eq!(t(0, true, false), ndarray::array![[2.0, 1.0], [4.0, 3.0]]);
        assert_eq!(t(0, false, true), ndarray::array![[3.0, 4.0], [1.0, 2.0]]);
        assert_eq!(t(2, false, false), t(0, true, true));
    }

    #[test]
    fn small_angle_rotation_keeps_constants_and_moves_a_block_with_its_mask() {
        let flat = Array2::from_elem((9, 9), 0.4f32);
        assert!(rotate_bilinear(&flat, 0.3)
            .iter()
            .all(|&v| (v - 0.4).abs() < 1e-6));
        let aug = Augment {
            rot90: false,
            max_angle_deg: 30.0,
            hflip: false,
            vflip: false,
        };
        // Near the centre, so that reflected border samples never reach the block.
        let mut img = Array2::<f32>::zeros((33, 33));
        img.indexed_iter_mut()
            .filter(|((r, c), _)| (12..18).contains(r) && (17..23).contains(c))
            .for_each(|(_, v)| *v = 1.0);
        let mask = img.clone();
        for seed in 0..10 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (i2, m2) = aug.apply(&img, Some(&mask), &mut rng).unwrap();
            let m2 = m2.unwrap();
            assert!(m2.iter().all(|&v| v == 0.0 || v == 1.0));
            let (ci, cm) = (centroid(&i2), centroid(&m2));
            assert!(
                (ci.0 - cm.0).abs() < 0.5 && (ci.1 - cm.1).abs() < 0.5,
                "{ci:?} vs {cm:?}"
            );
            assert!((m2.sum() - 36.0).abs() <= 8.0, "mask area {}", m2.sum());
        }
    }

    #[test]
    fn bad_settings_and_shapes_are_named() {
        let bad = Augment {
            max_angle_deg: 90.0,
            ..Augment::default()
        };
        assert!(bad
            .check()
            .unwrap_err()
            .to_string()
            .contains("max_angle_deg = 90"));
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let e = Augment::default()
            .apply(
                &Array2::zeros((4, 4)),
                Some(&Array2::zeros((4, 3))),
                &mut rng,
            )
            .unwrap_err();
        assert!(e.to_string().contains("[4, 3]"), "{e}");
        assert!(Augment::default().expand(&[], 3, 0).is_err());
        assert!(train_val_split(&[1, 2, 3], 1.0, 0)
            .unwrap_err()
            .to_string()
            .contains("val_fraction = 1"));
    }

    #[test]
    fn split_is_seeded_disjoint_and_covers_everything() {
        let xs: Vec<usize> = (0..60).collect();
        let (t1, v1) = train_val_split(&xs, 0.1, 42).unwrap();
        let (t2, v2) = train_val_split(&xs, 0.1, 42).unwrap();
        assert_eq!((t1.clone(), v1.clone()), (t2, v2));
        assert_eq!(v1.len(), 6);
        let mut all: Vec<usize> = t1.iter().chain(&v1).copied().collect();
        all.sort();
        assert_eq!(all, xs);
        let (_, v3) = train_val_split(&xs, 0.1, 43).unwrap();
        assert_ne!(v1, v3);
        assert_eq!(train_val_split(&[7, 8], 0.1, 0).unwrap().1.len(), 1);
        assert_eq!(train_val_split(&[7], 0.1, 0).unwrap().1.len(), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn a_pixel_marked_in_the_mask_follows_the_transform(
            h in 1usize..9, w in 1usize..9, r in 0usize..9, c in 0usize..9, seed in 0u64..1000,
        ) {
            let (r, c) = (r % h, c % w);
            // Square images for 90° turns; any shape for flips only.
            for (aug, hh, ww) in [
                (Augment::default(), h, h),
                (Augment { rot90: false, ..Augment::default() }, h, w),
            ] {
                let (r, c) = (r % hh, c % ww);
                let mut img = Array2::from_elem((hh, ww), 0.2f32);
                img[[r, c]] = 1.0;
                let mut mask = Array2::<f32>::zeros((hh, ww));
                mask[[r, c]] = 1.0;
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let (i2, m2) = aug.apply(&img, Some(&mask), &mut rng).unwrap();
                let m2 = m2.unwrap();
                prop_assert_eq!(m2.sum(), 1.0);
                prop_assert_eq!(argmax(&i2), argmax(&m2));
                let mut sorted: Vec<f32> = i2.iter().copied().collect();
                let mut orig: Vec<f32> = img.iter().copied().collect();
                sorted.sort_by(f32::total_cmp);
                orig.sort_by(f32::total_cmp);
                prop_assert_eq!(sorted, orig);
            }
        }

        #[test]
        fn expand_is_deterministic_per_seed(seed in 0u64..1000, n in 0usize..12) {
            let s = ImageSample {
                name: "s".into(),
                image: Array2::from_shape_fn((5, 5), |(r, c)| (r * 5 + c) as f32 / 24.0),
                mask: Some(Array2::from_shape_fn((5, 5), |(r, _)| (r < 2) as u8 as f32)),
                group: "g".into(),
            };
            let a = Augment::default().expand(std::slice::from_ref(&s), n, seed).unwrap();
            let b = Augment::default().expand(std::slice::from_ref(&s), n, seed).unwrap();
            prop_assert_eq!(a.len(), n);
            prop_assert_eq!(a, b);
        }
    }
}
