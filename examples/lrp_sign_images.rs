//! Dark and bright image defects: paper 2's LRP next to deviation LRP and the residual.
//!
//! Paper 2's LRP rules follow the signal present in the input, so a defect darker than the
//! texture carries less of it than one brighter; deviation LRP
//! ([`MethodSpec::lrp_deviation`]) explains the error's deviation from a reference point
//! and sees both. The data: the synthetic defect set of
//! [`anomaly_xai::image::synthetic`] (brick crops, 64×64, blobs and scratches with exact
//! masks), once with every defect darker than the texture and once with every defect
//! brighter. The defect-free training crops do not depend on the polarity (checked), so one
//! model serves both test sets: [`train_image_model`] with `image_defects`'s defaults
//! (`ConvAeConfig::small(64, 16)`, 2000 + 200 augmented samples, L2 loss, at most 30
//! epochs with early stopping). The methods run through the image pipeline
//! ([`ImageLocalizer`]): paper 2's residual and LRP rows ([`paper2_methods`]) and deviation
//! LRP of the L1 and the L2 error from each image's reconstruction and from the training
//! images' mean image. Pixel AP per defect group, mean over the groups; chance is the
//! share of defect pixels.
//!
//! Run: `cargo run --release --example lrp_sign_images -- --help`.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anomaly_xai::attrib::BaselineSpec;
use anomaly_xai::image::preprocess::Preprocess;
use anomaly_xai::image::synthetic::{generate, Polarity, SyntheticConfig, Texture};
use anomaly_xai::image::ImageSample;
use anomaly_xai::lrp::RootPoint;
use anomaly_xai::method::{Context, MethodSpec};
use anomaly_xai::models::train::TrainConfig;
use anomaly_xai::models::{ConvAeConfig, ErrorNorm};
use anomaly_xai::{Error, Result};
use anomaly_xai_repro::image::tensor::samples_to_tensor;
use anomaly_xai_repro::image::{
    paper2_methods, train_image_model, ImageLocalizer, ImageModelSettings, ImageRun,
};
use clap::Parser;
use tch::Device;

#[derive(Parser, Debug)]
#[command(about = "Dark and bright image defects: paper 2's LRP vs deviation LRP")]
struct Args {
    /// Image side
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Defect-free training crops
    #[arg(long, default_value_t = 200)]
    n_train: usize,
    /// Test images per defect group and polarity
    #[arg(long, default_value_t = 20)]
    n_test: usize,
    /// Augmented training samples
    #[arg(long, default_value_t = 2000)]
    augmented: usize,
    /// Most training epochs
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Stop training after the first epoch that ends later than this many seconds
    #[arg(long)]
    max_seconds: Option<f64>,
    /// Seed of the data, split, augmentation, weights and shuffling
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// libtorch threads
    #[arg(long, default_value_t = 1)]
    threads: i32,
    /// Where table.md goes
    #[arg(long, default_value = "results/lrp_sign_images")]
    out: PathBuf,
}

fn main() -> ExitCode {
    common::exit_code(run(Args::parse()))
}

fn data(args: &Args, polarity: Polarity) -> Result<(Vec<ImageSample>, Vec<ImageSample>)> {
    let cfg = SyntheticConfig {
        textures: vec![Texture::Brick],
        crop: 2 * args.size,
        size: args.size,
        n_train: args.n_train,
        n_test_per_group: args.n_test,
        polarity,
        seed: args.seed,
        ..SyntheticConfig::default()
    };
    let ds = generate(&cfg)?.preprocess(&Preprocess::with_size(args.size))?;
    Ok((ds.train, ds.test))
}

/// Paper 2's rows and the deviation rows, each of the L1 and the L2 error.
fn methods(size: usize) -> Result<Vec<MethodSpec>> {
    let mut methods = paper2_methods(size, false, false)?;
    for norm in [ErrorNorm::L1, ErrorNorm::SquaredL2] {
        methods.push(
            MethodSpec::lrp_deviation(RootPoint::Reconstruction)
                .norm(norm)
                .labelled(format!("LRP deviation (reconstruction)-{norm}")),
        );
    }
    for norm in [ErrorNorm::L1, ErrorNorm::SquaredL2] {
        // The mean training image, pixel by pixel (a texture has no per-column mean).
        methods.push(
            MethodSpec::lrp_deviation(RootPoint::Baseline)
                .baseline(BaselineSpec::SampleMeans)
                .norm(norm)
                .labelled(format!("LRP deviation (train mean)-{norm}")),
        );
    }
    Ok(methods)
}

/// Mean AP over the defect groups, in percent, per method.
fn mean_ap(run: &ImageRun) -> Vec<f64> {
    let n = run.groups.len().max(1) as f64;
    (0..run.methods.len())
        .map(|k| {
            100.0
                * run
                    .groups
                    .iter()
                    .map(|g| g.scores[k].average_precision)
                    .sum::<f64>()
                / n
        })
        .collect()
}

fn run(args: Args) -> Result<()> {
    tch::set_num_threads(args.threads);
    tch::manual_seed(args.seed as i64);
    let start = Instant::now();
    let (train_dark, test_dark) = data(&args, Polarity::Dark)?;
    let (train_bright, test_bright) = data(&args, Polarity::Bright)?;
    if train_dark != train_bright {
        return Err(Error::InvalidSetting {
            setting: "synthetic data",
            value: format!("seed {}", args.seed),
            rule: "the defect-free training crops must not depend on the polarity".into(),
        });
    }
    let settings = ImageModelSettings {
        model: ConvAeConfig::small(args.size as i64, 16),
        augmented: args.augmented,
        train: TrainConfig {
            epochs: args.epochs,
            batch_size: 32,
            patience: Some(4),
            loss: ErrorNorm::SquaredL2,
            max_seconds: args.max_seconds,
            quiet: true,
            ..TrainConfig::default()
        },
        seed: args.seed,
    };
    let trained = train_image_model(&train_dark, &settings)?;
    println!(
        "trained: {} ({:.0} s)",
        trained.summary,
        start.elapsed().as_secs_f64()
    );
    let train_x = samples_to_tensor(&train_dark, Device::Cpu)?;
    let ctx = Context {
        train: Some(&train_x),
        ..Context::new(&trained.model)
    };
    let localizer = ImageLocalizer::new(methods(args.size)?);
    let dark = localizer.run(&ctx, &test_dark)?;
    let bright = localizer.run(&ctx, &test_bright)?;
    let (ap_dark, ap_bright) = (mean_ap(&dark), mean_ap(&bright));
    let mut md = format!(
        "## Pixel AP (%), mean over blob and scratch, brick {0}×{0}, {1} test images per group and polarity\n\n\
         trained: {2}\n\n\
         | method | dark | bright | ms per image (dark, bright) |\n|---|---:|---:|---:|\n",
        args.size, args.n_test, trained.summary
    );
    for (k, label) in dark.methods.iter().enumerate() {
        md.push_str(&format!(
            "| {label} | {:.1} | {:.1} | {:.1}, {:.1} |\n",
            ap_dark[k],
            ap_bright[k],
            dark.milliseconds_per_image[k],
            bright.milliseconds_per_image[k]
        ));
    }
    let chance = |run: &ImageRun| {
        100.0 * run.groups.iter().map(|g| g.defect_fraction).sum::<f64>()
            / run.groups.len().max(1) as f64
    };
    md.push_str(&format!(
        "| chance (defect share) | {:.1} | {:.1} | |\n\n{:.0} s in all\n",
        chance(&dark),
        chance(&bright),
        start.elapsed().as_secs_f64()
    ));
    println!("\n{md}");
    std::fs::create_dir_all(&args.out).map_err(|e| Error::io(&args.out, e))?;
    let path = args.out.join("table.md");
    std::fs::write(&path, md).map_err(|e| Error::io(&path, e))?;
    Ok(())
}
