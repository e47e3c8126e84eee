//! Paper 2's image experiment (section 4.2, Table 1, Figure 3): which pixels of a defective
//! image make up a convolutional autoencoder's reconstruction error?
//!
//! Data: by default a synthetic set made at run time from the CC0 textures embedded in the
//! `anomaly-data` crate (`crates/anomaly-data/data/textures/`, scikit-image; see its
//! `LICENSE.md`): random crops as
//! defect-free training images, and test crops with pasted blobs and scratches whose masks
//! are exact (`anomaly_xai::image::synthetic`). `--data-dir` reads any folder in the
//! magnetic-tile, MVTec or generic layout (`anomaly_xai::image::dataset`), e.g. the
//! magnetic-tile defects of Huang, Qiu and Yuan in `../shared/data/images/magnetic_tile`:
//! train on the defect-free tiles, score every defect class against its masks.
//!
//! Pipeline (paper 2): grayscale, Gaussian filter (kernel 3, σ 0.5), resize to S×S;
//! 10 % of the defect-free images for validation; random rotations and flips to augment
//! both parts; a convolutional autoencoder trained with Adam on the augmented set with
//! early stopping on the validation part. Then, for every test image, Residual-L1/L2
//! (the per-pixel error), LRP-L1/L2 (the Deep-Taylor reconstruction seed, z-box on the
//! first convolution, z⁺ elsewhere) and, with `--reference`, Occlusion and Integrated
//! Gradients of the mean L2 error. Scores: pixel average precision per defect group,
//! averaged over the groups (as the paper) and pooled over all pixels, each exact and with
//! the paper's 1000 thresholds, like paper 2's Table 1; a PNG grid per group like its
//! Figure 3; everything also as JSON.
//!
//! The model: paper 2's Table 2 (`ConvAeConfig::paper2`, 128×128, 14 convolutions) with
//! `--full`; by default the six-convolution `ConvAeConfig::small` at 64×64, because the
//! full one trains at only a few samples per second on two CPU cores (see `--help`).
//! On a machine shared with other jobs, `--threads 1` can be an order of magnitude faster
//! than libtorch's default thread pool.
//!
//! Run: `cargo run --release --example image_defects -- --help`.

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use anomaly_xai::attrib::{
    Attribution, Baseline, IntegratedGradients, Norm, Occlusion, ReconstructionError, Request,
    Residual,
};
use anomaly_xai::image::augment::{train_val_split, Augment};
use anomaly_xai::image::colormap::{Colormap, Scaling};
use anomaly_xai::image::grid::{Grid, Panel};
use anomaly_xai::image::preprocess::Preprocess;
use anomaly_xai::image::synthetic::{generate, Polarity, SyntheticConfig, Texture};
use anomaly_xai::image::tensor::{samples_to_tensor, tensor_to_maps};
use anomaly_xai::image::{DefectDataset, ImageSample, Layout};
use anomaly_xai::lrp::{Lrp, OutputSeed, Preset};
use anomaly_xai::metrics::{PixelGroup, PixelScores, Table, TableRow};
use anomaly_xai::models::recon_error::{sample_errors, ErrorNorm};
use anomaly_xai::models::train::{train, TrainConfig, TrainSummary};
use anomaly_xai::models::{Autoencoder, ConvAe, ConvAeConfig};
use clap::Parser;
use ndarray::Array2;
use serde::Serialize;
use tch::{Device, Tensor};

type BoxError = Box<dyn std::error::Error>;

#[derive(Parser, Debug)]
#[command(about = "Pixel localization of image defects: residual vs LRP (paper 2, Table 1)")]
struct Args {
    /// Folder of images and masks [default: the embedded synthetic set]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Layout of --data-dir: auto, magnetic-tile, mvtec or generic
    #[arg(long, default_value = "auto")]
    layout: String,
    /// Texture of the synthetic set: brick, grass or gravel
    #[arg(long, default_value = "brick")]
    texture: String,
    /// Defect-free images of the synthetic set
    #[arg(long, default_value_t = 200)]
    n_train: usize,
    /// Test images per defect group of the synthetic set
    #[arg(long, default_value_t = 20)]
    n_test: usize,
    /// Synthetic defects brighter, darker, or either at random: random, bright or dark
    #[arg(long, default_value = "random")]
    polarity: String,
    /// Paper 2's Table 2 model at 128×128 with 10000 + 1000 augmented samples (slow: about
    /// 8 training samples/s on one CPU core, some 25 minutes an epoch)
    #[arg(long)]
    full: bool,
    /// Image side S [default: 64, or 128 with --full]
    #[arg(long)]
    size: Option<usize>,
    /// Channels of the small model's first convolution
    #[arg(long, default_value_t = 16)]
    channels: i64,
    /// Convolutions without biases (LRP then conserves relevance up to its stabiliser)
    #[arg(long)]
    no_bias: bool,
    /// Augmented training samples (validation gets a tenth) [default: 2000, or 10000 with --full]
    #[arg(long)]
    augmented: Option<usize>,
    /// Most training epochs
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Early-stopping patience
    #[arg(long, default_value_t = 4)]
    patience: usize,
    /// Mini-batch size
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Adam learning rate
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Stop training after the first epoch that ends later than this many seconds
    #[arg(long)]
    max_seconds: Option<f64>,
    /// At most this many test images per group (real data sets can be large)
    #[arg(long)]
    max_test: Option<usize>,
    /// Also run Occlusion and Integrated Gradients of the mean L2 error
    #[arg(long)]
    reference: bool,
    /// Samples per group drawn in the PNG grids
    #[arg(long, default_value_t = 3)]
    figure_samples: usize,
    /// Where results (markdown, JSON, PNG) go
    #[arg(long, default_value = "results/image_defects")]
    out: PathBuf,
    /// Seed of data generation, split, augmentation, weights and shuffling
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// libtorch threads (0: libtorch's default)
    #[arg(long, default_value_t = 0)]
    threads: i32,
    /// No progress bars
    #[arg(long)]
    quiet: bool,
}

/// The explanation methods, in table order.
#[derive(Debug, Clone, Copy)]
enum Method {
    Residual(Norm),
    Lrp(OutputSeed),
    Occlusion,
    IntegratedGradients,
}

impl Method {
    fn label(self) -> &'static str {
        match self {
            Method::Residual(Norm::L1) => "Residual-L1",
            Method::Residual(_) => "Residual-L2",
            Method::Lrp(OutputSeed::DeepTaylorL1) => "LRP-L1",
            Method::Lrp(_) => "LRP-L2",
            Method::Occlusion => "Occlusion-L2",
            Method::IntegratedGradients => "IG-L2",
        }
    }

    /// Relevance maps `[B, 1, S, S]` for a batch of images.
    fn explain(
        self,
        ae: &ConvAe,
        x: &Tensor,
        occlusion: &Occlusion,
        ig: &IntegratedGradients,
    ) -> Result<Tensor, BoxError> {
        Ok(match self {
            Method::Residual(norm) => {
                Residual::new(norm)
                    .attribute(ae, x, &Request::default())?
                    .scores
            }
            // Images live in [0, 1]: the z-box bounds of the first convolution.
            Method::Lrp(seed) => {
                Lrp::new(
                    seed,
                    Preset::Paper2Conv {
                        low: 0.0,
                        high: 1.0,
                    },
                )?
                .explain(ae, x)?
                .relevance
            }
            Method::Occlusion => {
                let scorer = ReconstructionError::new(ae, Norm::L2);
                occlusion
                    .attribute(&scorer, x, &Request::with_baseline(Baseline::Zero))?
                    .scores
            }
            Method::IntegratedGradients => {
                let scorer = ReconstructionError::new(ae, Norm::L2);
                ig.attribute(&scorer, x, &Request::with_baseline(Baseline::Zero))?
                    .scores
            }
        })
    }
}

#[derive(Serialize)]
struct GroupResult {
    group: String,
    n_images: usize,
    defect_fraction: f64,
    mean_reconstruction_error: f64,
    methods: Vec<MethodScore>,
}

#[derive(Serialize)]
struct MethodScore {
    method: String,
    scores: PixelScores,
}

#[derive(Serialize)]
struct GroupMean {
    method: String,
    average_precision: f64,
    average_precision_1000: f64,
}

#[derive(Serialize)]
struct MethodCost {
    method: String,
    milliseconds_per_image: f64,
}

#[derive(Serialize)]
struct Results {
    data: String,
    size: usize,
    model: ConvAeConfig,
    n_train_images: usize,
    n_val_images: usize,
    n_augmented_train: usize,
    n_augmented_val: usize,
    training: TrainSummary,
    mean_train_error: f64,
    groups: Vec<GroupResult>,
    mean_over_groups: Vec<GroupMean>,
    pooled: Vec<MethodScore>,
    cost: Vec<MethodCost>,
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    tch::manual_seed(args.seed as i64);
    let size = args.size.unwrap_or(if args.full { 128 } else { 64 });
    let n_aug = args
        .augmented
        .unwrap_or(if args.full { 10_000 } else { 2_000 });
    if args.full && size != 128 {
        return Err(format!("--full uses paper 2's 128×128 model; drop --size {size}").into());
    }
    let prep = Preprocess::with_size(size);
    fs::create_dir_all(&args.out)?;

    // 1. Data.
    let start = Instant::now();
    let (data_name, mut data) = match &args.data_dir {
        Some(dir) => {
            let layout: Layout = args.layout.parse()?;
            (
                dir.display().to_string(),
                DefectDataset::load(dir, layout, Some(&prep))?,
            )
        }
        None => {
            let texture: Texture = args.texture.parse()?;
            let polarity = match args.polarity.as_str() {
                "random" => Polarity::Random,
                "bright" => Polarity::Bright,
                "dark" => Polarity::Dark,
                other => {
                    return Err(
                        format!("--polarity {other}: must be random, bright or dark").into(),
                    )
                }
            };
            let cfg = SyntheticConfig {
                textures: vec![texture],
                crop: 2 * size,
                size,
                n_train: args.n_train,
                n_test_per_group: args.n_test,
                polarity,
                seed: args.seed,
                ..SyntheticConfig::default()
            };
            let name = format!(
                "synthetic ({} crops, {} blobs and scratches)",
                texture.name(),
                args.polarity
            );
            (name, generate(&cfg)?.preprocess(&prep)?)
        }
    };
    if let Some(m) = args.max_test {
        let groups = data.groups();
        data.test = groups
            .iter()
            .flat_map(|g| data.group(g).take(m).cloned().collect::<Vec<_>>())
            .collect();
    }
    // Defect-free test images (MVTec's test/good) have no defect pixel to find, nor have
    // masks of defects too thin to survive resizing (one break of the magnetic tiles at 64).
    let before = data.test.len();
    data.test
        .retain(|s| s.mask.as_ref().is_some_and(|m| m.sum() > 0.0));
    if data.test.len() < before {
        println!(
            "left out {} test images without defect pixels",
            before - data.test.len()
        );
    }
    let groups = data.groups();
    println!(
        "data: {data_name}: {} defect-free training images, {} test images in {} groups ({:.1} s)",
        data.train.len(),
        data.test.len(),
        groups.len(),
        start.elapsed().as_secs_f64()
    );

    // 2. Split, augment, train.
    let (train_imgs, val_imgs) = train_val_split(&data.train, 0.1, args.seed)?;
    let aug = Augment::default();
    let n_val_aug = (n_aug / 10).max(1);
    let mut samples = aug.expand(&train_imgs, n_aug, args.seed)?;
    samples.extend(aug.expand(&val_imgs, n_val_aug, args.seed.wrapping_add(1))?);
    let x_all = samples_to_tensor(&samples, Device::Cpu)?;
    drop(samples);
    let model_cfg = ConvAeConfig {
        bias: !args.no_bias,
        ..if args.full {
            ConvAeConfig::paper2()
        } else {
            ConvAeConfig::small(size as i64, args.channels)
        }
    };
    let ae = ConvAe::seeded(&model_cfg, Device::Cpu, args.seed)?;
    // The trainer validates on the last ⌊N·f⌋ samples; +0.5 makes the floor exact.
    let val_fraction = (n_val_aug as f64 + 0.5) / (n_aug + n_val_aug) as f64;
    let train_cfg = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        val_fraction,
        patience: Some(args.patience),
        loss: ErrorNorm::L2,
        seed: args.seed,
        max_seconds: args.max_seconds,
        quiet: args.quiet,
        ..TrainConfig::default()
    };
    println!(
        "training {} on {n_aug} + {n_val_aug} augmented samples of {size}×{size} ({} + {} images)",
        if args.full {
            "ConvAe (paper 2, Table 2)"
        } else {
            "ConvAe::small"
        },
        train_imgs.len(),
        val_imgs.len()
    );
    let summary = train(&ae, &x_all, &train_cfg)?;
    println!("trained: {summary}");
    let train_x = samples_to_tensor(&train_imgs, Device::Cpu)?;
    let mean_train_error = tch::no_grad(|| -> Result<f64, BoxError> {
        let e = sample_errors(&train_x, &ae.forward(&train_x)?, ErrorNorm::L2)?;
        Ok(e.f_mean(tch::Kind::Double)?.f_double_value(&[])?)
    })?;
    drop(x_all);

    // 3. Explain every test image with every method.
    let mut methods = vec![
        Method::Residual(Norm::L1),
        Method::Residual(Norm::L2),
        Method::Lrp(OutputSeed::DeepTaylorL1),
        Method::Lrp(OutputSeed::DeepTaylorL2),
    ];
    if args.reference {
        methods.extend([Method::Occlusion, Method::IntegratedGradients]);
    }
    let window = (size / 16).max(2) as i64;
    let occlusion = Occlusion::params()
        .window([1, window, window])
        .strides([1, window / 2, window / 2])
        .batch_size(256)
        .progress(!args.quiet)
        .check()?;
    let ig = IntegratedGradients::params()
        .n_steps(32)
        .batch_size(64)
        .check()?;
    let mut maps: Vec<Vec<Array2<f32>>> = vec![Vec::with_capacity(data.test.len()); methods.len()];
    let mut seconds = vec![0.0; methods.len()];
    let mut test_errors = Vec::with_capacity(data.test.len());
    for chunk in data.test.chunks(16) {
        let x = samples_to_tensor(chunk, Device::Cpu)?;
        let e = tch::no_grad(|| -> Result<Tensor, BoxError> {
            Ok(sample_errors(&x, &ae.forward(&x)?, ErrorNorm::L2)?)
        })?;
        test_errors.extend(Vec::<f64>::try_from(e.f_to_kind(tch::Kind::Double)?)?);
        for (k, m) in methods.iter().enumerate() {
            let t0 = Instant::now();
            let r = m.explain(&ae, &x, &occlusion, &ig)?;
            seconds[k] += t0.elapsed().as_secs_f64();
            maps[k].extend(tensor_to_maps(&r)?);
        }
    }

    // 4. Pixel AP per group and overall (paper 2, Table 1).
    let mut group_results = Vec::new();
    let mut overall_groups: Vec<PixelGroup> = methods
        .iter()
        .map(|_| PixelGroup::new(0.5))
        .collect::<Result<_, _>>()?;
    let mut columns: Vec<String> = Vec::new();
    let mut per_method_cells: Vec<Vec<f64>> = vec![Vec::new(); methods.len()];
    for g in &groups {
        let idx: Vec<usize> = (0..data.test.len())
            .filter(|&i| &data.test[i].group == g)
            .collect();
        let mut scores = Vec::new();
        for (k, m) in methods.iter().enumerate() {
            let mut pg = PixelGroup::new(0.5)?;
            for &i in &idx {
                let mask = data.test[i].mask_or_zeros();
                pg.push(maps[k][i].view(), mask.view())?;
                overall_groups[k].push(maps[k][i].view(), mask.view())?;
            }
            let s = pg.rank().scores()?;
            per_method_cells[k].extend([s.average_precision, s.average_precision_1000]);
            scores.push(MethodScore {
                method: m.label().into(),
                scores: s,
            });
        }
        columns.extend([format!("{g} AP"), format!("{g} AP@1000")]);
        let defect_fraction = idx
            .iter()
            .map(|&i| data.test[i].mask_or_zeros().mean().unwrap_or(0.0) as f64)
            .sum::<f64>()
            / idx.len().max(1) as f64;
        let mean_err = idx.iter().map(|&i| test_errors[i]).sum::<f64>() / idx.len().max(1) as f64;
        group_results.push(GroupResult {
            group: g.clone(),
            n_images: idx.len(),
            defect_fraction,
            mean_reconstruction_error: mean_err,
            methods: scores,
        });
    }
    // Paper 2 averages the groups' APs; pooling all pixels instead mixes groups whose
    // relevance scales differ, so both are reported.
    columns.extend(["mean AP", "mean AP@1000", "pooled AP", "pooled AP@1000"].map(String::from));
    let mut overall = Vec::new();
    let mut mean_over_groups = Vec::new();
    let mut table = Table::new(columns);
    for (k, pg) in overall_groups.into_iter().enumerate() {
        let n_groups = group_results.len().max(1) as f64;
        let mean = |f: fn(&PixelScores) -> f64| {
            group_results
                .iter()
                .map(|g| f(&g.methods[k].scores))
                .sum::<f64>()
                / n_groups
        };
        let means = GroupMean {
            method: methods[k].label().into(),
            average_precision: mean(|s| s.average_precision),
            average_precision_1000: mean(|s| s.average_precision_1000),
        };
        let s = pg.rank().scores()?;
        per_method_cells[k].extend([
            means.average_precision,
            means.average_precision_1000,
            s.average_precision,
            s.average_precision_1000,
        ]);
        mean_over_groups.push(means);
        overall.push(MethodScore {
            method: methods[k].label().into(),
            scores: s,
        });
        table.push(TableRow::new(
            methods[k].label(),
            per_method_cells[k].clone(),
        ))?;
    }
    // Chance: a random ranking's AP is the share of defect pixels.
    let mut chance: Vec<f64> = group_results
        .iter()
        .flat_map(|g| [g.defect_fraction, g.defect_fraction])
        .collect();
    let all_defect = data
        .test
        .iter()
        .map(|s| s.mask_or_zeros().mean().unwrap_or(0.0) as f64)
        .sum::<f64>()
        / data.test.len().max(1) as f64;
    let mean_defect = group_results.iter().map(|g| g.defect_fraction).sum::<f64>()
        / group_results.len().max(1) as f64;
    chance.extend([mean_defect, mean_defect, all_defect, all_defect]);
    table.push(TableRow::new("chance (random ranking)", chance))?;
    let cost: Vec<MethodCost> = methods
        .iter()
        .zip(&seconds)
        .map(|(m, s)| MethodCost {
            method: m.label().into(),
            milliseconds_per_image: 1e3 * s / data.test.len().max(1) as f64,
        })
        .collect();

    let md = format!(
        "## Pixel average precision (%), {data_name}, {size}×{size}\n\n{}\n\
         mean L2 reconstruction error: training images {mean_train_error:.5}; {}\n\n\
         cost per image: {}\n",
        table.to_markdown(),
        group_results
            .iter()
            .map(|g| format!(
                "{} {:.5} ({} images, {:.2} % defect pixels)",
                g.group,
                g.mean_reconstruction_error,
                g.n_images,
                100.0 * g.defect_fraction
            ))
            .collect::<Vec<_>>()
            .join("; "),
        cost.iter()
            .map(|c| format!("{} {:.1} ms", c.method, c.milliseconds_per_image))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("\n{md}");
    fs::write(args.out.join("table.md"), &md)?;

    // 5. Figure-3-like grids: image, mask, then every method.
    let mut titles = vec!["image".to_string(), "mask".to_string()];
    titles.extend(methods.iter().map(|m| m.label().to_string()));
    for g in &groups {
        let mut grid = Grid::new(titles.clone(), 128);
        let picked: Vec<(usize, &ImageSample)> = data
            .test
            .iter()
            .enumerate()
            .filter(|(_, s)| &s.group == g)
            .take(args.figure_samples)
            .collect();
        for (i, s) in picked {
            let mut panels = vec![Panel::gray(s.image.clone()), Panel::gray(s.mask_or_zeros())];
            for (k, _) in methods.iter().enumerate() {
                // LRP with z-box can be signed; a diverging map shows the sign honestly.
                let signed = maps[k][i].iter().any(|&v| v < 0.0);
                panels.push(if signed {
                    Panel::Map {
                        values: maps[k][i].clone(),
                        colormap: Colormap::BlueWhiteRed,
                        scaling: Scaling::PerImage,
                    }
                } else {
                    Panel::heat(maps[k][i].clone())
                });
            }
            grid.push_row(s.name.clone(), panels)?;
        }
        let file = args
            .out
            .join(format!("grid_{}.png", g.replace(['/', ' '], "_")));
        grid.save(&file)?;
        println!("figure: {}", file.display());
    }

    let results = Results {
        data: data_name,
        size,
        model: model_cfg,
        n_train_images: train_imgs.len(),
        n_val_images: val_imgs.len(),
        n_augmented_train: n_aug,
        n_augmented_val: n_val_aug,
        training: summary,
        mean_train_error,
        groups: group_results,
        mean_over_groups,
        pooled: overall,
        cost,
    };
    let json = args.out.join("results.json");
    fs::write(&json, serde_json::to_string_pretty(&results)?)?;
    println!("results: {}", json.display());
    Ok(())
}
