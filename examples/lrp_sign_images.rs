//! Dark and bright image defects: paper 2's LRP next to deviation LRP and the residual.
//!
//! The synthetic defect set of `anomaly_data::image::synthetic` (brick crops, 64×64, blobs
//! and scratches with exact masks), once with every defect darker than the texture and
//! once with every defect brighter. The defect-free training crops do not depend on the
//! polarity, so one `ConvAe::small(64, 16)` (30 epochs at most, early stopping, 2000 + 200
//! augmented samples, L2 loss, as `examples/image_defects.rs`) serves both test sets.
//! Pixel AP per defect group, mean over the groups; chance is the defect pixels' share.
//!
//! Run: `cargo run --release --example lrp_sign_images -- [--seed 0] [--epochs 30]`.

use std::time::Instant;

use anomaly_xai::data::image::augment::{train_val_split, Augment};
use anomaly_xai::data::image::preprocess::Preprocess;
use anomaly_xai::data::image::synthetic::{generate, Polarity, SyntheticConfig, Texture};
use anomaly_xai::data::image::ImageSample;
use anomaly_xai::image::tensor::{samples_to_tensor, tensor_to_maps};
use anomaly_xai::lrp::{Lrp, Preset, Reference, RootPoint, DEVIATION_EPSILON};
use anomaly_xai::metrics::PixelGroup;
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::{Autoencoder, ConvAe, ConvAeConfig, ErrorNorm};
use ndarray::Array2;
use tch::{Device, Kind, Tensor};

type BoxError = Box<dyn std::error::Error>;

#[derive(Clone, Copy)]
enum Method {
    Residual(ErrorNorm),
    Paper2(ErrorNorm),
    Deviation(ErrorNorm, RootPoint),
}

impl Method {
    fn label(self) -> String {
        match self {
            Method::Residual(n) => format!("Residual {n:?}"),
            Method::Paper2(n) => format!("LRP paper2-conv {n:?}"),
            Method::Deviation(n, RootPoint::Reconstruction) => format!("LRP dev x̂ {n:?}"),
            Method::Deviation(n, RootPoint::Baseline) => format!("LRP dev mean {n:?}"),
        }
    }

    fn explain(self, ae: &ConvAe, x: &Tensor, mean: &Tensor) -> Result<Tensor, BoxError> {
        Ok(match self {
            Method::Residual(n) => {
                let r = x - tch::no_grad(|| ae.forward(x))?;
                match n {
                    ErrorNorm::L1 => r.abs(),
                    ErrorNorm::L2 => r.square(),
                }
            }
            Method::Paper2(n) => {
                Lrp::new(
                    n,
                    Preset::Paper2Conv {
                        low: 0.0,
                        high: 1.0,
                    },
                )?
                .explain(ae, x)?
                .relevance
            }
            Method::Deviation(n, root) => {
                let lrp = Lrp::new(
                    n,
                    Preset::Deviation {
                        eps: DEVIATION_EPSILON,
                        root,
                    },
                )?;
                let reference = match root {
                    RootPoint::Reconstruction => Reference::Reconstruction,
                    RootPoint::Baseline => Reference::Tensor(mean.shallow_clone()),
                };
                lrp.explain_deviation(ae, x, &reference)?.relevance
            }
        })
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn data(polarity: Polarity, seed: u64) -> Result<(Vec<ImageSample>, Vec<ImageSample>), BoxError> {
    let size = 64;
    let cfg = SyntheticConfig {
        textures: vec![Texture::Brick],
        crop: 2 * size,
        size,
        n_train: 200,
        n_test_per_group: 20,
        polarity,
        seed,
        ..SyntheticConfig::default()
    };
    let ds = generate(&cfg)?.preprocess(&Preprocess::with_size(size))?;
    Ok((ds.train, ds.test))
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = arg(&args, "--seed").map_or(Ok(0), |v| v.parse())?;
    let epochs: usize = arg(&args, "--epochs").map_or(Ok(30), |v| v.parse())?;
    tch::set_num_threads(1);
    tch::manual_seed(seed as i64);
    let start = Instant::now();
    let (train_dark, test_dark) = data(Polarity::Dark, seed)?;
    let (train_bright, test_bright) = data(Polarity::Bright, seed)?;
    if train_dark != train_bright {
        return Err("the training crops differ between polarities".into());
    }
    let (train_imgs, val_imgs) = train_val_split(&train_dark, 0.1, seed)?;
    let (n_aug, n_val) = (2000, 200);
    let aug = Augment::default();
    let mut samples = aug.expand(&train_imgs, n_aug, seed)?;
    samples.extend(aug.expand(&val_imgs, n_val, seed.wrapping_add(1))?);
    let x_all = samples_to_tensor(&samples, Device::Cpu)?;
    let ae = ConvAe::seeded(&ConvAeConfig::small(64, 16), Device::Cpu, seed)?;
    let tc = TrainConfig {
        epochs,
        batch_size: 32,
        lr: 1e-3,
        val_fraction: (n_val as f64 + 0.5) / (n_aug + n_val) as f64,
        patience: Some(4),
        loss: ErrorNorm::L2,
        seed,
        quiet: true,
        ..TrainConfig::default()
    };
    let summary = train(&ae, &x_all, &tc)?;
    println!(
        "trained ConvAe::small(64, 16): {summary} ({:.0} s)",
        start.elapsed().as_secs_f64()
    );
    let train_x = samples_to_tensor(&train_dark, Device::Cpu)?;
    let mean = train_x.mean_dim(0, false, Kind::Float);
    let methods = [
        Method::Residual(ErrorNorm::L1),
        Method::Residual(ErrorNorm::L2),
        Method::Paper2(ErrorNorm::L1),
        Method::Paper2(ErrorNorm::L2),
        Method::Deviation(ErrorNorm::L1, RootPoint::Reconstruction),
        Method::Deviation(ErrorNorm::L2, RootPoint::Reconstruction),
        Method::Deviation(ErrorNorm::L1, RootPoint::Baseline),
        Method::Deviation(ErrorNorm::L2, RootPoint::Baseline),
    ];
    println!("\npixel AP (%), mean over blob and scratch; ms per image in brackets\n");
    println!("| method | dark | bright |\n|---|---:|---:|");
    let mut rows: Vec<Vec<String>> = methods.iter().map(|m| vec![m.label()]).collect();
    let mut chance = Vec::new();
    for test in [&test_dark, &test_bright] {
        let groups: Vec<String> = {
            let mut g: Vec<String> = test.iter().map(|s| s.group.clone()).collect();
            g.dedup();
            g
        };
        let x = samples_to_tensor(test, Device::Cpu)?;
        let mut prevalence = 0.0;
        for g in &groups {
            let idx: Vec<usize> = (0..test.len()).filter(|&i| &test[i].group == g).collect();
            let (pos, all) = idx.iter().fold((0.0, 0.0), |(p, a), &i| {
                let m = test[i].mask_or_zeros();
                (p + m.sum() as f64, a + m.len() as f64)
            });
            prevalence += pos / all / groups.len() as f64;
        }
        chance.push(prevalence);
        for (k, m) in methods.iter().enumerate() {
            let t0 = Instant::now();
            let mut maps: Vec<Array2<f32>> = Vec::with_capacity(test.len());
            for i in (0..test.len()).step_by(16) {
                let n = 16.min(test.len() - i) as i64;
                let r = m.explain(&ae, &x.narrow(0, i as i64, n), &mean)?;
                maps.extend(tensor_to_maps(&r.to_kind(Kind::Float))?);
            }
            let ms = t0.elapsed().as_secs_f64() * 1e3 / test.len() as f64;
            let mut ap = 0.0;
            for g in &groups {
                let mut pg = PixelGroup::new(0.5)?;
                for i in (0..test.len()).filter(|&i| &test[i].group == g) {
                    pg.push(maps[i].view(), test[i].mask_or_zeros().view())?;
                }
                ap += pg.rank().scores()?.average_precision / groups.len() as f64;
            }
            rows[k].push(format!("{:.1} ({ms:.1})", 100.0 * ap));
        }
    }
    for r in rows {
        println!("| {} |", r.join(" | "));
    }
    println!(
        "| chance (defect share) | {:.1} | {:.1} |",
        100.0 * chance[0],
        100.0 * chance[1]
    );
    println!("\n{:.0} s in all", start.elapsed().as_secs_f64());
    Ok(())
}
