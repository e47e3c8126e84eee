//! Defect-image datasets: defect-free training images and defective test images with
//! pixel masks, grouped by defect class, read from three folder layouts.
//!
//! ## Layouts
//!
//! **Magnetic tile** ([`Layout::MagneticTile`], the data of Huang, Qiu and Yuan,
//! "Saliency of magnetic tile surface defects"):
//! ```text
//! ROOT/MT_Free/Imgs/<name>.jpg          defect-free → training set
//! ROOT/MT_<Class>/Imgs/<name>.jpg       defective  → test group <Class> (e.g. "Blowhole")
//! ROOT/MT_<Class>/Imgs/<name>.png       its mask, same size
//! ```
//! The masks are anti-aliased (edge values 1..254); a pixel is a defect pixel when its
//! mask value is at least [`MASK_THRESHOLD`] (128 of 255). The masks of `MT_Free` are
//! all zero and are not read.
//!
//! **MVTec AD** ([`Layout::MvTec`]):
//! ```text
//! ROOT/train/good/<name>.png                   defect-free → training set
//! ROOT/test/<group>/<name>.png                 test group <group>
//! ROOT/ground_truth/<group>/<name>_mask.png    its mask (none for test/good)
//! ```
//!
//! **Generic** ([`Layout::Generic`], for any `--data-dir`; [`write_generic`] writes it):
//! ```text
//! ROOT/train/<name>.<ext>             defect-free → training set
//! ROOT/test/<group>/<name>.<ext>      test group <group>
//! ROOT/masks/<group>/<name>.png       its mask; a test image without one is defect-free
//! ```
//!
//! Images may be PNG or JPEG (`.png`, `.jpg`, `.jpeg`, any case), in any pixel format;
//! they are converted to grayscale in `[0, 1]` ([`grayscale`]).
//! Files are read in sorted name order, so a dataset is the same on every machine.
//! Masks are binarised on loading: 1.0 where the stored value is at least half of the
//! format's maximum ([`MASK_THRESHOLD`] for 8-bit), else 0.0.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::preprocess::{grayscale, Preprocess};
use super::sample::{ImageSample, GOOD_GROUP};
use crate::error::{check_finite, check_non_empty, DataError, Result};

/// Value (of 255) from which a pixel of an 8-bit mask counts as defective.
pub const MASK_THRESHOLD: u8 = 128;

/// Which folder layout a dataset uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Layout {
    /// Detect from the folder: `MT_*` subfolders → magnetic tile; a `ground_truth`
    /// folder → MVTec; `train` and `test` folders → generic.
    #[default]
    Auto,
    /// `MT_<Class>/Imgs/<name>.jpg` + `<name>.png`.
    MagneticTile,
    /// `train/good`, `test/<group>`, `ground_truth/<group>/<name>_mask.png`.
    MvTec,
    /// `train`, `test/<group>`, `masks/<group>/<name>.png`.
    Generic,
}

impl FromStr for Layout {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "auto" => Ok(Layout::Auto),
            "magnetictile" | "mt" => Ok(Layout::MagneticTile),
            "mvtec" => Ok(Layout::MvTec),
            "generic" => Ok(Layout::Generic),
            _ => Err(DataError::InvalidParam {
                what: "dataset",
                param: "layout",
                value: s.into(),
                rule: "must be one of auto, magnetic-tile, mvtec, generic",
            }),
        }
    }
}

/// A defect dataset: defect-free training images and grouped test images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefectDataset {
    /// Defect-free images to train on (group [`GOOD_GROUP`], no masks).
    pub train: Vec<ImageSample>,
    /// Test images, sorted by group, then name.
    pub test: Vec<ImageSample>,
}

impl DefectDataset {
    /// Loads a dataset from `root` in the given layout, applying `prep` to every image
    /// right after decoding (so full-size images are not all held at once).
    pub fn load(root: impl AsRef<Path>, layout: Layout, prep: Option<&Preprocess>) -> Result<Self> {
        let root = root.as_ref();
        if let Some(p) = prep {
            p.check()?;
        }
        match resolve_layout(root, layout)? {
            Layout::MagneticTile => load_magnetic_tile(root, prep),
            Layout::MvTec => load_mvtec(root, prep),
            Layout::Generic | Layout::Auto => load_generic(root, prep),
        }
    }

    /// The test groups in order of first appearance.
    pub fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for s in &self.test {
            if !groups.contains(&s.group) {
                groups.push(s.group.clone());
            }
        }
        groups
    }

    /// The test samples of one group.
    pub fn group<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a ImageSample> + 'a {
        self.test.iter().filter(move |s| s.group == group)
    }

    /// Applies `prep` to every sample (in parallel), keeping order.
    pub fn preprocess(&self, prep: &Preprocess) -> Result<Self> {
        Ok(DefectDataset {
            train: prep.apply_all(&self.train)?,
            test: prep.apply_all(&self.test)?,
        })
    }
}

/// Resolves [`Layout::Auto`] by looking at the folder; checks that `root` exists.
pub fn resolve_layout(root: &Path, layout: Layout) -> Result<Layout> {
    if !root.is_dir() {
        return Err(DataError::Missing {
            path: root.to_path_buf(),
            what: "dataset folder".into(),
        });
    }
    if layout != Layout::Auto {
        return Ok(layout);
    }
    let has_mt = subdirs(root)?
        .iter()
        .any(|d| file_name(d).starts_with("MT_"));
    if has_mt {
        Ok(Layout::MagneticTile)
    } else if root.join("ground_truth").is_dir() {
        Ok(Layout::MvTec)
    } else if root.join("train").is_dir() && root.join("test").is_dir() {
        Ok(Layout::Generic)
    } else {
        Err(DataError::Content {
            path: root.to_path_buf(),
            reason: "no known layout: expected MT_<Class>/Imgs folders (magnetic tile), \
                     train/test/ground_truth (MVTec) or train/test/masks (generic)"
                .into(),
        })
    }
}

/// A test image file and where its mask should be (`None`: defect-free by layout).
struct Entry {
    image: PathBuf,
    mask: Option<PathBuf>,
    group: String,
    mask_required: bool,
}

fn load_magnetic_tile(root: &Path, prep: Option<&Preprocess>) -> Result<DefectDataset> {
    let train_files = tile_images(
        &root.join("MT_Free").join("Imgs"),
        "defect-free folder MT_Free/Imgs",
    )?;
    let mut entries = Vec::new();
    for class_dir in subdirs(root)? {
        let dir_name = file_name(&class_dir);
        let Some(class) = dir_name.strip_prefix("MT_") else {
            continue;
        };
        if class == "Free" {
            continue;
        }
        for image in tile_images(&class_dir.join("Imgs"), "image folder")? {
            let mask = image.with_extension("png");
            entries.push(Entry {
                image,
                mask: Some(mask),
                group: class.to_string(),
                mask_required: true,
            });
        }
    }
    finish(root, train_files, entries, prep)
}

/// The JPEG images of a magnetic-tile folder (its PNGs are the masks).
fn tile_images(dir: &Path, what: &str) -> Result<Vec<PathBuf>> {
    let files: Vec<PathBuf> = image_files(dir, what)?
        .into_iter()
        .filter(|p| has_ext(p, &["jpg", "jpeg"]))
        .collect();
    if files.is_empty() {
        return Err(DataError::Content {
            path: dir.to_path_buf(),
            reason: format!("{what} holds no .jpg images (its .png files are masks)"),
        });
    }
    Ok(files)
}

fn load_mvtec(root: &Path, prep: Option<&Preprocess>) -> Result<DefectDataset> {
    let train_files = image_files(
        &root.join("train").join(GOOD_GROUP),
        "training folder train/good",
    )?;
    let test_root = root.join("test");
    let mut entries = Vec::new();
    for group_dir in existing_subdirs(&test_root, "test folder")? {
        let group = file_name(&group_dir);
        let good = group == GOOD_GROUP;
        for image in image_files(&group_dir, "test group folder")? {
            let mask = (!good).then(|| {
                root.join("ground_truth")
                    .join(&group)
                    .join(format!("{}_mask.png", stem(&image)))
            });
            entries.push(Entry {
                image,
                mask,
                group: group.clone(),
                mask_required: !good,
            });
        }
    }
    finish(root, train_files, entries, prep)
}

fn load_generic(root: &Path, prep: Option<&Preprocess>) -> Result<DefectDataset> {
    let train_files = image_files(&root.join("train"), "training folder train")?;
    let test_root = root.join("test");
    let mut entries = Vec::new();
    for group_dir in existing_subdirs(&test_root, "test folder")? {
        let group = file_name(&group_dir);
        for image in image_files(&group_dir, "test group folder")? {
            let mask = root
                .join("masks")
                .join(&group)
                .join(format!("{}.png", stem(&image)));
            entries.push(Entry {
                image,
                mask: Some(mask),
                group: group.clone(),
                mask_required: false,
            });
        }
    }
    finish(root, train_files, entries, prep)
}

/// Decodes every file in parallel (with a progress bar on a terminal).
fn finish(
    root: &Path,
    train_files: Vec<PathBuf>,
    entries: Vec<Entry>,
    prep: Option<&Preprocess>,
) -> Result<DefectDataset> {
    if entries.is_empty() {
        return Err(DataError::Content {
            path: root.to_path_buf(),
            reason: "no test images found".into(),
        });
    }
    let bar = indicatif::ProgressBar::new((train_files.len() + entries.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("loading images {bar:30} {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let train = train_files
        .par_iter()
        .map(|p| {
            let s = ImageSample {
                name: stem(p),
                image: read_gray(p)?,
                mask: None,
                group: GOOD_GROUP.into(),
            };
            bar.inc(1);
            maybe_prep(s, prep)
        })
        .collect::<Result<Vec<_>>>()?;
    let test = entries
        .par_iter()
        .map(|e| {
            let image = read_gray(&e.image)?;
            let mask = match &e.mask {
                Some(m) if m.is_file() => Some(read_mask(m, image.dim())?),
                Some(m) if e.mask_required => {
                    return Err(DataError::Missing {
                        path: m.clone(),
                        what: format!("mask of test image `{}`", e.image.display()),
                    })
                }
                _ => None,
            };
            bar.inc(1);
            maybe_prep(
                ImageSample {
                    name: stem(&e.image),
                    image,
                    mask,
                    group: e.group.clone(),
                },
                prep,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    bar.finish_and_clear();
    Ok(DefectDataset { train, test })
}

fn maybe_prep(s: ImageSample, prep: Option<&Preprocess>) -> Result<ImageSample> {
    match prep {
        Some(p) => p.apply(&s),
        None => Ok(s),
    }
}

/// Reads an image file as grayscale `[0, 1]`.
pub fn read_gray(path: &Path) -> Result<Array2<f32>> {
    if !path.is_file() {
        return Err(DataError::Missing {
            path: path.to_path_buf(),
            what: "image file".into(),
        });
    }
    let img = ::image::ImageReader::open(path)
        .map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .with_guessed_format()
        .map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .decode()
        .map_err(|source| DataError::Codec {
            path: path.to_path_buf(),
            source,
        })?;
    let g = grayscale(&img)?;
    if g.is_empty() {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            reason: "image has no pixels".into(),
        });
    }
    Ok(g)
}

/// Reads a mask file, binarised at half the format's maximum, and checks its shape.
pub fn read_mask(path: &Path, expected: (usize, usize)) -> Result<Array2<f32>> {
    let m = read_gray(path)?;
    if m.dim() != expected {
        return Err(DataError::ShapeMismatch {
            what: format!("mask {}", path.display()),
            expected: format!("the image's [{}, {}]", expected.0, expected.1),
            got: m.shape().to_vec(),
        });
    }
    // 127.5/255 sits between 127 and 128, so 8-bit masks split exactly at MASK_THRESHOLD.
    Ok(m.mapv(|v| if v >= 0.5 { 1.0 } else { 0.0 }))
}

/// Writes a dataset in the generic layout (8-bit grayscale PNGs), creating folders.
/// Reading it back gives the same samples up to 8-bit quantisation of the images.
pub fn write_generic(dataset: &DefectDataset, root: impl AsRef<Path>) -> Result<()> {
    let root = root.as_ref();
    for s in &dataset.train {
        save_gray(
            &s.image,
            &root.join("train").join(format!("{}.png", s.name)),
        )?;
    }
    for s in &dataset.test {
        check_component("group", &s.group)?;
        save_gray(
            &s.image,
            &root
                .join("test")
                .join(&s.group)
                .join(format!("{}.png", s.name)),
        )?;
        if let Some(m) = &s.mask {
            save_gray(
                m,
                &root
                    .join("masks")
                    .join(&s.group)
                    .join(format!("{}.png", s.name)),
            )?;
        }
    }
    Ok(())
}

/// Saves a `[0, 1]` array as an 8-bit grayscale PNG (values clamped), creating the folder.
pub fn save_gray(img: &Array2<f32>, path: &Path) -> Result<()> {
    check_non_empty(&format!("image for {}", path.display()), img.shape())?;
    check_finite(&format!("image for {}", path.display()), img.iter())?;
    check_component("file name", &file_name(path))?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|source| DataError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let (h, w) = img.dim();
    let raw: Vec<u8> = img
        .iter()
        .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let buf = ::image::GrayImage::from_raw(w as u32, h as u32, raw).ok_or_else(|| {
        DataError::ShapeMismatch {
            what: "save_gray".into(),
            expected: "width × height bytes".into(),
            got: vec![h, w],
        }
    })?;
    buf.save(path).map_err(|source| DataError::Codec {
        path: path.to_path_buf(),
        source,
    })
}

/// Rejects names that would escape their folder.
fn check_component(what: &'static str, name: &str) -> Result<()> {
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(DataError::InvalidParam {
            what: "write_generic",
            param: what,
            value: format!("{name:?}"),
            rule: "must be a plain, non-empty file name",
        });
    }
    Ok(())
}

fn has_ext(p: &Path, exts: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = fs::read_dir(dir).map_err(|source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|source| DataError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        out.push(e.path());
    }
    out.sort();
    Ok(out)
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(read_dir_sorted(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .collect())
}

fn existing_subdirs(dir: &Path, what: &str) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(DataError::Missing {
            path: dir.to_path_buf(),
            what: what.into(),
        });
    }
    subdirs(dir)
}

/// The PNG/JPEG files of a folder that must exist and hold at least one.
fn image_files(dir: &Path, what: &str) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(DataError::Missing {
            path: dir.to_path_buf(),
            what: what.into(),
        });
    }
    let files: Vec<PathBuf> = read_dir_sorted(dir)?
        .into_iter()
        .filter(|p| p.is_file() && has_ext(p, &["png", "jpg", "jpeg"]))
        .collect();
    if files.is_empty() {
        return Err(DataError::Content {
            path: dir.to_path_buf(),
            reason: format!("{what} holds no .png/.jpg images"),
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_dir(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("anomaly-xai-dataset-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn layout_parses_names_and_rejects_others() {
        assert_eq!(
            "magnetic-tile".parse::<Layout>().unwrap(),
            Layout::MagneticTile
        );
        assert_eq!("MVTec".parse::<Layout>().unwrap(), Layout::MvTec);
        let e = "coco".parse::<Layout>().unwrap_err();
        assert!(e.to_string().contains("layout = coco"), "{e}");
    }

    #[test]
    fn loaders_error_on_a_missing_dir() {
        let missing = std::env::temp_dir().join("anomaly-xai-definitely-missing-dir");
        for layout in [
            Layout::Auto,
            Layout::MagneticTile,
            Layout::MvTec,
            Layout::Generic,
        ] {
            let e = DefectDataset::load(&missing, layout, None).unwrap_err();
            assert!(matches!(e, DataError::Missing { .. }), "{e}");
            assert!(
                e.to_string().contains("anomaly-xai-definitely-missing-dir"),
                "{e}"
            );
        }
    }

    #[test]
    fn unknown_layout_and_missing_subfolders_are_named() {
        let d = tmp_dir("unknown");
        let e = DefectDataset::load(&d, Layout::Auto, None).unwrap_err();
        assert!(e.to_string().contains("no known layout"), "{e}");
        let e = DefectDataset::load(&d, Layout::MvTec, None).unwrap_err();
        assert!(e.to_string().contains("train/good"), "{e}");
        fs::create_dir_all(d.join("MT_Free/Imgs")).unwrap();
        let e = DefectDataset::load(&d, Layout::Auto, None).unwrap_err();
        assert!(e.to_string().contains("holds no .png/.jpg images"), "{e}");
        // Masks alone are not images in this layout.
        save_gray(&Array2::zeros((2, 2)), &d.join("MT_Free/Imgs/a.png")).unwrap();
        let e = DefectDataset::load(&d, Layout::Auto, None).unwrap_err();
        assert!(e.to_string().contains("no .jpg images"), "{e}");
        // A defect class whose mask is missing is named.
        ::image::GrayImage::new(2, 2)
            .save(d.join("MT_Free/Imgs/a.jpg"))
            .unwrap();
        fs::create_dir_all(d.join("MT_Crack/Imgs")).unwrap();
        ::image::GrayImage::new(2, 2)
            .save(d.join("MT_Crack/Imgs/c.jpg"))
            .unwrap();
        let e = DefectDataset::load(&d, Layout::Auto, None).unwrap_err();
        assert!(e.to_string().contains("c.png: mask of test image"), "{e}");
        save_gray(&Array2::ones((2, 2)), &d.join("MT_Crack/Imgs/c.png")).unwrap();
        let ds = DefectDataset::load(&d, Layout::Auto, None).unwrap();
        assert_eq!(
            (ds.train.len(), ds.groups()),
            (1, vec!["Crack".to_string()])
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn mvtec_layout_reads_masks_and_requires_them_for_defects() {
        let d = tmp_dir("mvtec");
        let img = Array2::from_shape_fn((6, 8), |(r, c)| (r * 8 + c) as f32 / 47.0);
        let mut mask = Array2::<f32>::zeros((6, 8));
        mask[[2, 3]] = 1.0;
        save_gray(&img, &d.join("train/good/000.png")).unwrap();
        save_gray(&img, &d.join("test/good/000.png")).unwrap();
        save_gray(&img, &d.join("test/crack/000.png")).unwrap();
        save_gray(&mask, &d.join("ground_truth/crack/000_mask.png")).unwrap();
        let ds = DefectDataset::load(&d, Layout::Auto, None).unwrap();
        assert_eq!(ds.train.len(), 1);
        assert_eq!(ds.groups(), vec!["crack".to_string(), "good".to_string()]);
        let crack = ds.group("crack").next().unwrap();
        assert_eq!(crack.mask.as_ref().unwrap(), &mask);
        assert!((crack.image[[5, 7]] - 1.0).abs() < 1e-6);
        assert!(ds.group("good").next().unwrap().mask.is_none());
        fs::remove_file(d.join("ground_truth/crack/000_mask.png")).unwrap();
        let e = DefectDataset::load(&d, Layout::MvTec, None).unwrap_err();
        assert!(
            e.to_string().contains("000_mask.png") && e.to_string().contains("mask of test image"),
            "{e}"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn masks_of_the_wrong_size_and_undecodable_files_are_named() {
        let d = tmp_dir("badmask");
        save_gray(&Array2::zeros((4, 4)), &d.join("train/a.png")).unwrap();
        save_gray(&Array2::zeros((4, 4)), &d.join("test/g/b.png")).unwrap();
        save_gray(&Array2::zeros((3, 4)), &d.join("masks/g/b.png")).unwrap();
        let e = DefectDataset::load(&d, Layout::Generic, None).unwrap_err();
        assert!(
            matches!(e, DataError::ShapeMismatch { .. }) && e.to_string().contains("b.png"),
            "{e}"
        );
        fs::write(d.join("masks/g/b.png"), b"not a png").unwrap();
        let e = DefectDataset::load(&d, Layout::Generic, None).unwrap_err();
        assert!(
            matches!(e, DataError::Codec { .. }) && e.to_string().contains("b.png"),
            "{e}"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn eight_bit_masks_split_at_128() {
        let d = tmp_dir("threshold");
        let p = d.join("m.png");
        ::image::GrayImage::from_raw(3, 1, vec![127, 128, 255])
            .unwrap()
            .save(&p)
            .unwrap();
        assert_eq!(
            read_mask(&p, (1, 3)).unwrap(),
            ndarray::array![[0.0, 1.0, 1.0]]
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn generic_layout_round_trips_and_preprocesses_on_load() {
        let d = tmp_dir("generic");
        let img = Array2::from_shape_fn((10, 12), |(r, c)| ((r + c) % 5) as f32 / 4.0);
        let mut mask = Array2::<f32>::zeros((10, 12));
        mask.indexed_iter_mut()
            .filter(|((r, c), _)| (2..6).contains(r) && (4..10).contains(c))
            .for_each(|(_, v)| *v = 1.0);
        let ds = DefectDataset {
            train: vec![ImageSample {
                name: "t0".into(),
                image: img.clone(),
                mask: None,
                group: GOOD_GROUP.into(),
            }],
            test: vec![
                ImageSample {
                    name: "d0".into(),
                    image: img.clone(),
                    mask: Some(mask.clone()),
                    group: "blob".into(),
                },
                ImageSample {
                    name: "ok".into(),
                    image: img.clone(),
                    mask: None,
                    group: "blob".into(),
                },
            ],
        };
        write_generic(&ds, &d).unwrap();
        let back = DefectDataset::load(&d, Layout::Auto, None).unwrap();
        assert_eq!(back.train.len(), 1);
        assert_eq!(back.test[0].mask.as_ref().unwrap(), &mask);
        assert!(back.test[1].mask.is_none());
        for (a, b) in back.test[0].image.iter().zip(img.iter()) {
            assert!((a - b).abs() <= 0.5 / 255.0 + 1e-6);
        }
        let small =
            DefectDataset::load(&d, Layout::Generic, Some(&Preprocess::with_size(5))).unwrap();
        assert_eq!(small.test[0].image.dim(), (5, 5));
        assert_eq!(small.test[0].mask.as_ref().unwrap().dim(), (5, 5));
        let mut bad = ds.clone();
        bad.test[0].group = "../x".into();
        assert!(write_generic(&bad, &d)
            .unwrap_err()
            .to_string()
            .contains("group"));
        fs::remove_dir_all(&d).unwrap();
    }
}
