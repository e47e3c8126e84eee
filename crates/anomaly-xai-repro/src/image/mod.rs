//! Paper 2's image experiment (section 4.2) as a pipeline, next to the series one: train a
//! convolutional autoencoder on defect-free images ([`train_image_model`]), explain the
//! reconstruction error of every defective test image with every method
//! ([`ImageLocalizer::run`]), and score the relevance maps against the defect masks with
//! pixel average precision per defect group, averaged over the groups (paper 2, Table 1)
//! and pooled over all pixels ([`ImageRun::table`]); a Figure-3-like grid per group
//! ([`ImageRun::draw_grids`]).
//!
//! The methods are the one method list of the workspace ([`MethodSpec`]); paper 2's set is
//! [`paper2_methods`]. [`tensor`] turns batches of images into the model's `[N, 1, H, W]`
//! tensors and maps back into arrays.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind};

use anomaly_xai::attrib::{IntegratedGradients, Occlusion};
use anomaly_xai::error::{Error, Result};
use anomaly_xai::image::augment::{train_val_split, Augment};
use anomaly_xai::image::colormap::{Colormap, Scaling};
use anomaly_xai::image::grid::{Grid, Panel};
use anomaly_xai::image::ImageSample;
use anomaly_xai::lrp::Preset;
use anomaly_xai::method::{Context, MethodSpec, PreparedMethod};
use anomaly_xai::metrics::{PixelGroup, PixelScores, Table, TableRow};
use anomaly_xai::models::recon_error::sample_errors;
use anomaly_xai::models::train::{train, TrainConfig, TrainSummary};
use anomaly_xai::models::{ConvAe, ConvAeConfig, ErrorNorm, ExplainedError, LayerModel};

pub mod tensor;

use tensor::{samples_to_tensor, tensor_to_maps};

/// How the convolutional autoencoder is built and trained (paper 2: 10 % of the defect-free
/// images for validation, random rotations and flips, Adam with early stopping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageModelSettings {
    /// The model: [`ConvAeConfig::paper2`] (128×128) or [`ConvAeConfig::small`].
    pub model: ConvAeConfig,
    /// Augmented training samples; the validation part gets a tenth (at least 1).
    pub augmented: usize,
    /// Training settings (`val_fraction` is set from `augmented`).
    pub train: TrainConfig,
    /// Seed of the split, the augmentation and the initial weights.
    pub seed: u64,
}

/// A trained image model and how it was trained.
#[derive(Debug)]
pub struct TrainedImages {
    /// The model.
    pub model: ConvAe,
    /// The training summary.
    pub summary: TrainSummary,
    /// Defect-free images used for training / validation (before augmentation).
    pub n_images: (usize, usize),
    /// Augmented samples for training / validation.
    pub n_augmented: (usize, usize),
    /// Mean L2 reconstruction error of the training images (not augmented).
    pub mean_train_error: f64,
}

/// Splits `images` (defect-free), augments both parts and trains a [`ConvAe`].
///
/// # Errors
/// Invalid settings, images of different sizes, or training failures.
pub fn train_image_model(images: &[ImageSample], s: &ImageModelSettings) -> Result<TrainedImages> {
    if s.augmented == 0 {
        return Err(Error::InvalidSetting {
            setting: "augmented",
            value: "0".into(),
            rule: "must be at least 1".into(),
        });
    }
    let (train_imgs, val_imgs) = train_val_split(images, 0.1, s.seed)?;
    let aug = Augment::default();
    let n_val = (s.augmented / 10).max(1);
    let mut samples = aug.expand(&train_imgs, s.augmented, s.seed)?;
    samples.extend(aug.expand(&val_imgs, n_val, s.seed.wrapping_add(1))?);
    let x_all = samples_to_tensor(&samples, Device::Cpu)?;
    drop(samples);
    let model = ConvAe::seeded(&s.model, Device::Cpu, s.seed)?;
    // The trainer validates on the last ⌊N·f⌋ samples; +0.5 makes the floor exact.
    let cfg = TrainConfig {
        val_fraction: (n_val as f64 + 0.5) / (s.augmented + n_val) as f64,
        seed: s.seed,
        ..s.train.clone()
    };
    let summary = train(&model, &x_all, &cfg)?;
    let train_x = samples_to_tensor(&train_imgs, Device::Cpu)?;
    let mean_train_error = tch::no_grad(|| -> Result<f64> {
        let e = sample_errors(&train_x, &model.forward(&train_x)?, ErrorNorm::SquaredL2)?;
        Ok(e.f_mean(Kind::Double)?.f_double_value(&[])?)
    })?;
    Ok(TrainedImages {
        model,
        summary,
        n_images: (train_imgs.len(), val_imgs.len()),
        n_augmented: (s.augmented, n_val),
        mean_train_error,
    })
}

/// Paper 2's methods for images of `size` pixels a side: the residual and LRP (z-box on
/// the first convolution over the `[0, 1]` pixel range, z⁺ elsewhere) of the L1 and of the
/// L2 error, and with `reference`, Occlusion (squares of `size/16`, half-overlapping) and
/// Integrated Gradients (32 points) of the L2 error, both from black.
///
/// # Errors
/// A setting a method rejects (e.g. a size below 2).
pub fn paper2_methods(size: usize, reference: bool, progress: bool) -> Result<Vec<MethodSpec>> {
    let conv = Preset::Paper2Conv {
        low: 0.0,
        high: 1.0,
    };
    let mut methods = vec![
        MethodSpec::residual(ErrorNorm::L1).labelled("Residual-L1"),
        MethodSpec::residual(ErrorNorm::SquaredL2).labelled("Residual-L2"),
        MethodSpec::lrp(conv).norm(ErrorNorm::L1).labelled("LRP-L1"),
        MethodSpec::lrp(conv)
            .norm(ErrorNorm::SquaredL2)
            .labelled("LRP-L2"),
    ];
    if reference {
        let w = (size / 16).max(2) as i64;
        let occlusion = Occlusion::params()
            .window([1, w, w])
            .strides([1, w / 2, w / 2])
            .batch_size(256)
            .progress(progress)
            .check()?;
        let ig = IntegratedGradients::params()
            .n_steps(32)
            .batch_size(64)
            .check()?;
        methods.push(MethodSpec::attrib(occlusion).labelled("Occlusion-L2"));
        methods.push(MethodSpec::attrib(ig).labelled("IG-L2"));
    }
    Ok(methods)
}

/// Explains defective images with several methods and scores the maps (see the module
/// docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageLocalizer {
    /// The methods, in table order.
    pub methods: Vec<MethodSpec>,
    /// The explained error (paper 2: the mean L2 error of the image).
    pub error: ExplainedError,
    /// Images explained per call.
    pub batch: usize,
    /// A mask pixel is a defect pixel when its value is at least this.
    pub mask_threshold: f64,
}

impl ImageLocalizer {
    /// `methods` explaining the mean L2 error, 16 images per call, masks at 0.5.
    pub fn new(methods: Vec<MethodSpec>) -> Self {
        ImageLocalizer {
            methods,
            error: ExplainedError::new(ErrorNorm::SquaredL2),
            batch: 16,
            mask_threshold: 0.5,
        }
    }

    /// Explains every image of `test` (each with a defect mask) and scores the maps per
    /// group (`ImageSample::group`).
    ///
    /// # Errors
    /// Every method is checked against `ctx` before any work; an image without a mask, or
    /// whose mask holds no defect pixel, is an error naming it.
    pub fn run(&self, ctx: &Context<'_>, test: &[ImageSample]) -> Result<ImageRun> {
        if self.batch == 0 || self.methods.is_empty() || test.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "image localizer",
                value: format!(
                    "batch {}, {} methods, {} test images",
                    self.batch,
                    self.methods.len(),
                    test.len()
                ),
                rule: "needs a batch of at least 1, a method and a test image".into(),
            });
        }
        if let Some(s) = test
            .iter()
            .find(|s| s.mask.as_ref().is_none_or(|m| m.sum() <= 0.0))
        {
            return Err(Error::InvalidSetting {
                setting: "test images",
                value: s.name.clone(),
                rule: "every test image needs a mask with at least one defect pixel".into(),
            });
        }
        let prepared: Vec<PreparedMethod> = self
            .methods
            .iter()
            .map(|m| m.prepare(ctx, &self.error, None, None))
            .collect::<Result<_>>()?;
        let labels: Vec<String> = self.methods.iter().map(MethodSpec::label).collect();
        let mut maps: Vec<Vec<Array2<f32>>> = vec![Vec::with_capacity(test.len()); prepared.len()];
        let mut seconds = vec![0.0; prepared.len()];
        let mut errors = Vec::with_capacity(test.len());
        for chunk in test.chunks(self.batch) {
            let x = samples_to_tensor(chunk, ctx.detector.device())?;
            let e = tch::no_grad(|| ctx.detector.cell_errors(&x, ErrorNorm::SquaredL2))?;
            errors.extend(anomaly_xai::models::convert::tensor_to_f64s(
                &e.f_flatten(1, -1)?.f_mean_dim(1, false, None)?,
            )?);
            for (k, m) in prepared.iter().enumerate() {
                let t0 = Instant::now();
                let r = m.explain(ctx, &x)?;
                seconds[k] += t0.elapsed().as_secs_f64();
                maps[k].extend(tensor_to_maps(&r)?);
            }
        }
        self.score(labels, maps, seconds, errors, test)
    }

    fn score(
        &self,
        labels: Vec<String>,
        maps: Vec<Vec<Array2<f32>>>,
        seconds: Vec<f64>,
        errors: Vec<f64>,
        test: &[ImageSample],
    ) -> Result<ImageRun> {
        // Groups in order of first appearance, as `DefectDataset::groups`.
        let mut group_names: Vec<String> = Vec::new();
        for s in test {
            if !group_names.contains(&s.group) {
                group_names.push(s.group.clone());
            }
        }
        let mut pooled_groups: Vec<PixelGroup> = labels
            .iter()
            .map(|_| PixelGroup::new(self.mask_threshold))
            .collect::<Result<_, _>>()?;
        let mut groups = Vec::new();
        for g in &group_names {
            let idx: Vec<usize> = (0..test.len()).filter(|&i| &test[i].group == g).collect();
            let mut scores = Vec::new();
            for k in 0..labels.len() {
                let mut pg = PixelGroup::new(self.mask_threshold)?;
                for &i in &idx {
                    let mask = test[i].mask_or_zeros();
                    pg.push(maps[k][i].view(), mask.view())?;
                    pooled_groups[k].push(maps[k][i].view(), mask.view())?;
                }
                scores.push(pg.rank().scores()?);
            }
            let n = idx.len().max(1) as f64;
            groups.push(GroupResult {
                group: g.clone(),
                n_images: idx.len(),
                defect_fraction: idx
                    .iter()
                    .map(|&i| test[i].mask_or_zeros().mean().unwrap_or(0.0) as f64)
                    .sum::<f64>()
                    / n,
                mean_reconstruction_error: idx.iter().map(|&i| errors[i]).sum::<f64>() / n,
                scores,
            });
        }
        let pooled = pooled_groups
            .into_iter()
            .map(|pg| pg.rank().scores())
            .collect::<Result<Vec<_>, _>>()?;
        let n_images = test.len().max(1) as f64;
        Ok(ImageRun {
            methods: labels,
            groups,
            pooled,
            milliseconds_per_image: seconds.iter().map(|s| 1e3 * s / n_images).collect(),
            defect_fraction: test
                .iter()
                .map(|s| s.mask_or_zeros().mean().unwrap_or(0.0) as f64)
                .sum::<f64>()
                / n_images,
            maps,
        })
    }
}

/// One defect group's scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupResult {
    /// The group.
    pub group: String,
    /// Images in it.
    pub n_images: usize,
    /// Mean share of defect pixels per image (the AP of a random map).
    pub defect_fraction: f64,
    /// Mean L2 reconstruction error of its images.
    pub mean_reconstruction_error: f64,
    /// Pixel scores per method, in method order.
    pub scores: Vec<PixelScores>,
}

/// What [`ImageLocalizer::run`] produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRun {
    /// Method labels, in order.
    pub methods: Vec<String>,
    /// Per defect group.
    pub groups: Vec<GroupResult>,
    /// Pixel scores of all pixels pooled, per method.
    pub pooled: Vec<PixelScores>,
    /// Wall time per image and method, milliseconds (images explained in batches).
    pub milliseconds_per_image: Vec<f64>,
    /// Mean share of defect pixels over all test images.
    pub defect_fraction: f64,
    /// The relevance maps, per method, in test order (not serialized).
    #[serde(skip)]
    pub maps: Vec<Vec<Array2<f32>>>,
}

impl ImageRun {
    /// Paper 2's Table 1: per group AP and AP@1000 (its 1000 thresholds), their mean over
    /// the groups (as the paper) and over all pixels pooled, in percent; a chance row last
    /// (a random map's AP is the share of defect pixels).
    pub fn table(&self) -> Result<Table> {
        let mut columns = Vec::new();
        for g in &self.groups {
            columns.extend([format!("{} AP", g.group), format!("{} AP@1000", g.group)]);
        }
        columns
            .extend(["mean AP", "mean AP@1000", "pooled AP", "pooled AP@1000"].map(String::from));
        let mut table = Table::new(columns);
        let n_groups = self.groups.len().max(1) as f64;
        for (k, label) in self.methods.iter().enumerate() {
            let mut cells = Vec::new();
            for g in &self.groups {
                cells.extend([
                    g.scores[k].average_precision,
                    g.scores[k].average_precision_1000,
                ]);
            }
            let mean = |f: fn(&PixelScores) -> f64| {
                self.groups.iter().map(|g| f(&g.scores[k])).sum::<f64>() / n_groups
            };
            cells.extend([
                mean(|s| s.average_precision),
                mean(|s| s.average_precision_1000),
                self.pooled[k].average_precision,
                self.pooled[k].average_precision_1000,
            ]);
            table.push(TableRow::new(label.clone(), cells))?;
        }
        let mut chance: Vec<f64> = self
            .groups
            .iter()
            .flat_map(|g| [g.defect_fraction, g.defect_fraction])
            .collect();
        let mean_defect = self.groups.iter().map(|g| g.defect_fraction).sum::<f64>() / n_groups;
        chance.extend([
            mean_defect,
            mean_defect,
            self.defect_fraction,
            self.defect_fraction,
        ]);
        table.push(TableRow::new("chance (random ranking)", chance))?;
        Ok(table)
    }

    /// One PNG grid per group in `dir` (image, mask, then every method's map) of its first
    /// `per_group` images; signed maps (LRP with z-box can be) use a diverging colormap.
    /// Returns the files written.
    ///
    /// # Errors
    /// Drawing failures, naming the file.
    pub fn draw_grids(
        &self,
        test: &[ImageSample],
        dir: &Path,
        per_group: usize,
    ) -> Result<Vec<PathBuf>> {
        let mut titles = vec!["image".to_string(), "mask".to_string()];
        titles.extend(self.methods.iter().cloned());
        let mut files = Vec::new();
        for g in &self.groups {
            let mut grid = Grid::new(titles.clone(), 128);
            for (i, s) in test
                .iter()
                .enumerate()
                .filter(|(_, s)| s.group == g.group)
                .take(per_group)
            {
                let mut panels = vec![Panel::gray(s.image.clone()), Panel::gray(s.mask_or_zeros())];
                for maps in &self.maps {
                    let map = maps[i].clone();
                    panels.push(if map.iter().any(|&v| v < 0.0) {
                        Panel::Map {
                            values: map,
                            colormap: Colormap::BlueWhiteRed,
                            scaling: Scaling::PerImage,
                        }
                    } else {
                        Panel::heat(map)
                    });
                }
                grid.push_row(s.name.clone(), panels)?;
            }
            let file = dir.join(format!("grid_{}.png", g.group.replace(['/', ' '], "_")));
            grid.save(&file)?;
            files.push(file);
        }
        Ok(files)
    }
}
