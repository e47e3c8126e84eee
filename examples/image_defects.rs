//! Paper 2's image experiment (section 4.2, Table 1, Figure 3): which pixels of a defective
//! image make up a convolutional autoencoder's reconstruction error?
//!
//! Data: by default a synthetic set made at run time from the CC0 textures shipped with
//! `anomaly-data` (random crops as defect-free training images, test crops with pasted
//! blobs and scratches of exact masks). `--data-dir` reads any folder in the
//! magnetic-tile, MVTec or generic layout, e.g. `../shared/data/images/magnetic_tile`.
//! Pipeline ([`anomaly_xai_repro::image`]): paper 2's preprocessing and augmentation, a
//! [`ConvAeConfig::small`] at 64×64 (`--full`: paper 2's Table 2 model at 128×128), the
//! residual and LRP of the L1 and L2 errors (`--reference` adds Occlusion and Integrated
//! Gradients), pixel AP per defect group, a PNG grid per group, JSON.
//!
//! Run: `cargo run --release --example image_defects -- --help`.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use anomaly_xai::image::preprocess::Preprocess;
use anomaly_xai::image::synthetic::{generate, Polarity, SyntheticConfig, Texture};
use anomaly_xai::image::{DefectDataset, Layout};
use anomaly_xai::method::Context;
use anomaly_xai::models::train::TrainConfig;
use anomaly_xai::models::{ConvAeConfig, ErrorNorm};
use anomaly_xai::{Error, Result};
use anomaly_xai_repro::image::{
    paper2_methods, train_image_model, ImageLocalizer, ImageModelSettings,
};
use clap::Parser;

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
    /// Paper 2's Table 2 model at 128×128 with 10000 + 1000 augmented samples (slow)
    #[arg(long)]
    full: bool,
    /// Image side S [default: 64, or 128 with --full]
    #[arg(long)]
    size: Option<usize>,
    /// Channels of the small model's first convolution
    #[arg(long, default_value_t = 16)]
    channels: i64,
    /// Convolutions without biases
    #[arg(long)]
    no_bias: bool,
    /// Augmented training samples [default: 2000, or 10000 with --full]
    #[arg(long)]
    augmented: Option<usize>,
    /// Most training epochs
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Early-stopping patience
    #[arg(long, default_value_t = 4)]
    patience: usize,
    /// Stop training after the first epoch that ends later than this many seconds
    #[arg(long)]
    max_seconds: Option<f64>,
    /// At most this many test images per group
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

fn main() -> ExitCode {
    common::exit_code(run(Args::parse()))
}

fn run(args: Args) -> Result<()> {
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    tch::manual_seed(args.seed as i64);
    let size = args.size.unwrap_or(if args.full { 128 } else { 64 });
    if args.full && size != 128 {
        return Err(Error::InvalidSetting {
            setting: "--size",
            value: size.to_string(),
            rule: "must be 128 with --full (paper 2's model)".into(),
        });
    }
    let localizer = ImageLocalizer::new(paper2_methods(size, args.reference, !args.quiet)?);
    let (name, mut data) = load(&args, size)?;
    if let Some(m) = args.max_test {
        let groups = data.groups();
        data.test = groups
            .iter()
            .flat_map(|g| data.group(g).take(m).cloned().collect::<Vec<_>>())
            .collect();
    }
    // Defect-free test images (MVTec's test/good) have no defect pixel to find, nor have
    // masks of defects too thin to survive resizing.
    let before = data.test.len();
    data.test
        .retain(|s| s.mask.as_ref().is_some_and(|m| m.sum() > 0.0));
    println!(
        "data: {name}: {} defect-free training images, {} test images in {} groups ({} left out without defect pixels)",
        data.train.len(),
        data.test.len(),
        data.groups().len(),
        before - data.test.len()
    );
    let settings = ImageModelSettings {
        model: ConvAeConfig {
            bias: !args.no_bias,
            ..if args.full {
                ConvAeConfig::paper2()
            } else {
                ConvAeConfig::small(size as i64, args.channels)
            }
        },
        augmented: args
            .augmented
            .unwrap_or(if args.full { 10_000 } else { 2_000 }),
        train: TrainConfig {
            epochs: args.epochs,
            batch_size: 32,
            patience: Some(args.patience),
            loss: ErrorNorm::SquaredL2,
            max_seconds: args.max_seconds,
            quiet: args.quiet,
            ..TrainConfig::default()
        },
        seed: args.seed,
    };
    let trained = train_image_model(&data.train, &settings)?;
    println!("trained: {}", trained.summary);
    let run = localizer.run(&Context::new(&trained.model), &data.test)?;
    let md = format!(
        "## Pixel average precision (%), {name}, {size}×{size}\n\n{}\nmean L2 reconstruction error of the training images: {:.5}\n\ncost per image: {}\n",
        run.table()?.to_markdown(),
        trained.mean_train_error,
        run.methods
            .iter()
            .zip(&run.milliseconds_per_image)
            .map(|(m, ms)| format!("{m} {ms:.1} ms"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("\n{md}");
    std::fs::create_dir_all(&args.out).map_err(|e| Error::io(&args.out, e))?;
    let write = |file: &str, text: String| {
        let path = args.out.join(file);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    };
    write("table.md", md)?;
    write("results.json", serde_json::to_string_pretty(&run)?)?;
    for file in run.draw_grids(&data.test, &args.out, args.figure_samples)? {
        println!("figure: {}", file.display());
    }
    Ok(())
}

/// The data set: a folder, or the synthetic set from the shipped textures.
fn load(args: &Args, size: usize) -> Result<(String, DefectDataset)> {
    let prep = Preprocess::with_size(size);
    if let Some(dir) = &args.data_dir {
        let layout: Layout = args.layout.parse()?;
        return Ok((
            dir.display().to_string(),
            DefectDataset::load(dir, layout, Some(&prep))?,
        ));
    }
    let texture: Texture = args.texture.parse()?;
    let polarity = match args.polarity.as_str() {
        "random" => Polarity::Random,
        "bright" => Polarity::Bright,
        "dark" => Polarity::Dark,
        other => {
            return Err(Error::InvalidSetting {
                setting: "--polarity",
                value: other.into(),
                rule: "must be random, bright or dark".into(),
            })
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
    Ok((name, generate(&cfg)?.preprocess(&prep)?))
}
