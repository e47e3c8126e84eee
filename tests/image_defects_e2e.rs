//! The image pipeline end to end with a real model and LRP: a tiny synthetic defect set,
//! paper 2's preprocessing and augmentation, a bias-free `ConvAe::small` trained on the
//! defect-free crops, then LRP (z-box on the first convolution, z⁺ elsewhere) of the
//! reconstruction error. Also relevance bookkeeping on paper 2's full Table 2 layer list.

use anomaly_xai::attrib::{Attribution, Request, Residual};
use anomaly_xai::image::augment::{train_val_split, Augment};
use anomaly_xai::image::preprocess::Preprocess;
use anomaly_xai::image::synthetic::{generate, Polarity, SyntheticConfig, Texture};
use anomaly_xai::image::ImageSample;
use anomaly_xai::lrp::{Lrp, Preset};
use anomaly_xai::models::recon_error::ErrorNorm;
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::{ConvAe, ConvAeConfig, LayerKind};
use anomaly_xai_repro::image::tensor::{samples_to_tensor, tensor_to_maps};
use ndarray::Array2;
use tch::{Device, Kind, Tensor};

const PAPER2_CONV: Preset = Preset::Paper2Conv {
    low: 0.0,
    high: 1.0,
};

/// Under z-box and z⁺ with a non-negative seed and no biases, no layer creates relevance:
/// z-box conserves exactly (its denominator is non-negative on the box, and biases cancel),
/// z⁺ loses only the relevance of neurons without positive input, and ReLU and nearest
/// upsampling pass it on unchanged.
#[test]
fn lrp_on_the_paper2_layer_list_never_creates_relevance() {
    tch::manual_seed(0);
    let cfg = ConvAeConfig {
        bias: false,
        ..ConvAeConfig::paper2()
    };
    let ae = ConvAe::seeded(&cfg, Device::Cpu, 7).unwrap();
    let x = Tensor::rand([1, 1, 128, 128], (Kind::Float, Device::Cpu));
    for seed in [ErrorNorm::L1, ErrorNorm::SquaredL2] {
        let e = Lrp::new(seed, PAPER2_CONV)
            .unwrap()
            .explain(&ae, &x)
            .unwrap();
        let out = e.trace.output_sums[0];
        assert!(
            (out - e.error.double_value(&[0])).abs() < 1e-6 * out,
            "the seed sums to the error"
        );
        let layers = &e.trace.layers;
        assert_eq!(
            layers.len(),
            14 + 14 + 6,
            "14 convolutions, 14 ReLUs, 6 upsamplings"
        );
        assert!(layers[0].rule.starts_with("z-box"), "{}", layers[0].rule);
        let tol = 1e-5 * out;
        let mut above = out;
        for l in layers.iter().rev() {
            let r = l.input_sums[0];
            match l.kind {
                LayerKind::Activation(_) | LayerKind::UpsampleNearest => {
                    assert!(
                        (r - above).abs() <= tol,
                        "layer {} {:?}: {r} vs {above}",
                        l.index,
                        l.kind
                    )
                }
                _ => assert!(
                    r <= above + tol,
                    "layer {} ({}) creates relevance: {r} > {above}",
                    l.index,
                    l.rule
                ),
            }
            above = r;
        }
        // z-box itself conserves: the input receives what the first convolution's output had.
        assert!((layers[0].input_sums[0] - layers[1].input_sums[0]).abs() <= tol);
    }
}

/// Mean map value per defect pixel and per background pixel, for each sample.
fn inside_outside(samples: &[ImageSample], maps: &[Array2<f32>]) -> Vec<(f32, f32)> {
    samples
        .iter()
        .zip(maps)
        .map(|(s, r)| {
            let m = s.mask.as_ref().unwrap();
            let (mut sum_in, mut sum_out, mut n_in) = (0.0, 0.0, 0.0);
            for (v, &k) in r.iter().zip(m) {
                if k > 0.0 {
                    sum_in += v;
                    n_in += 1.0;
                } else {
                    sum_out += v;
                }
            }
            (sum_in / n_in, sum_out / (m.len() as f32 - n_in))
        })
        .collect()
}

/// Images where the defect's mean beats the background's, and the ratio of the means.
fn summary(stats: &[(f32, f32)]) -> (usize, f32) {
    let wins = stats.iter().filter(|(i, o)| i > o).count();
    let (i, o) = stats
        .iter()
        .fold((0.0, 0.0), |(a, b), (i, o)| (a + i, b + o));
    (wins, i / o)
}

/// Bright defects draw LRP relevance; dark ones do not: z⁺ sends relevance to inputs that
/// carry signal, so the relevance of a black blob lands on the bright texture around it
/// (printed, not asserted). The residual finds both.
#[test]
fn a_pasted_defect_gets_more_lrp_relevance_than_the_background() {
    if !pinned_kernels::here() {
        return;
    }
    tch::manual_seed(0);
    // One thread: libtorch's thread pool slows small convolutions down by an order of
    // magnitude when other processes share the two cores.
    tch::set_num_threads(1);
    let cfg = SyntheticConfig {
        textures: vec![Texture::Brick],
        size: 32,
        crop: 64,
        n_train: 60,
        n_test_per_group: 8,
        strength: (0.8, 1.0),
        blob_radius: (0.1, 0.18),
        scratch_width: (2.0, 3.0),
        polarity: Polarity::Bright,
        seed: 3,
        ..SyntheticConfig::default()
    };
    let prep = Preprocess::with_size(32);
    let data = generate(&cfg).unwrap().preprocess(&prep).unwrap();
    let dark = generate(&SyntheticConfig {
        polarity: Polarity::Dark,
        n_train: 0,
        ..cfg.clone()
    })
    .unwrap()
    .preprocess(&prep)
    .unwrap();
    let (train_imgs, val_imgs) = train_val_split(&data.train, 0.1, 0).unwrap();
    let aug = Augment::default();
    let mut samples = aug.expand(&train_imgs, 600, 1).unwrap();
    samples.extend(aug.expand(&val_imgs, 60, 2).unwrap());
    let x = samples_to_tensor(&samples, Device::Cpu).unwrap();
    let model_cfg = ConvAeConfig {
        bias: false,
        ..ConvAeConfig::small(32, 8)
    };
    let ae = ConvAe::seeded(&model_cfg, Device::Cpu, 0).unwrap();
    let train_cfg = TrainConfig {
        epochs: 15,
        batch_size: 32,
        lr: 3e-3,
        val_fraction: 60.5 / 660.0,
        patience: None,
        loss: ErrorNorm::SquaredL2,
        quiet: true,
        ..TrainConfig::default()
    };
    let summary_train = train(&ae, &x, &train_cfg).unwrap();
    assert_eq!(summary_train.n_val, 60);
    let (first, best) = (
        summary_train.val_losses[0],
        summary_train.best_val_loss.unwrap(),
    );
    assert!(
        best < 0.5 * first,
        "training must learn the texture: {first} → {best}"
    );

    let n = data.test.len();
    for (polarity, set) in [("bright", &data.test), ("dark", &dark.test)] {
        let x = samples_to_tensor(set, Device::Cpu).unwrap();
        let residual = Residual::new(ErrorNorm::L1)
            .attribute(&ae, &x, &Request::default())
            .unwrap();
        let (wins, ratio) = summary(&inside_outside(
            set,
            &tensor_to_maps(&residual.scores).unwrap(),
        ));
        eprintln!("residual-L1, {polarity} defects: defect wins in {wins}/{n} images, mean ratio {ratio:.2}");
        assert!(
            wins * 4 >= n * 3 && ratio > 2.0,
            "residual, {polarity}: {wins}/{n}, ratio {ratio}"
        );
        for seed in [ErrorNorm::L1, ErrorNorm::SquaredL2] {
            let e = Lrp::new(seed, PAPER2_CONV)
                .unwrap()
                .explain(&ae, &x)
                .unwrap();
            // Trained and bias-free: almost all of the error reaches the pixels.
            let gap = e.trace.max_relative_gap(1e-12);
            assert!(
                gap < 0.05,
                "{seed:?}: {:.1} % of the relevance lost",
                100.0 * gap
            );
            let (wins, ratio) =
                summary(&inside_outside(set, &tensor_to_maps(&e.relevance).unwrap()));
            eprintln!(
                "{seed:?}, {polarity} defects: defect wins in {wins}/{n} images, mean ratio {ratio:.2}, \
                 relevance lost {:.3} %",
                100.0 * gap
            );
            if polarity == "bright" {
                assert!(
                    wins * 4 >= n * 3 && ratio > 2.0,
                    "{seed:?}, bright: {wins}/{n}, ratio {ratio}"
                );
            }
        }
    }
}
