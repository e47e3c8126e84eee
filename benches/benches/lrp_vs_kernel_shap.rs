//! LRP against Kernel SHAP on paper 2's autoencoders: one forward and one backward sweep
//! against a forward pass per coalition and background sample.
//!
//! * Dense (tables): [`DenseAeConfig::default`], 30 features (the breast-cancer table),
//!   encoder `[16, 8]`. LRP with paper 2's dense preset (w² first, z⁺ elsewhere) and the
//!   Deep-Taylor L2 seed, on 1 record and on a batch of 755; Kernel SHAP with paper 2's
//!   setting, 1000 evaluations per explanation and a background set of 755 records, every
//!   feature its own player, on 1 record.
//! * Convolutional (images): [`ConvAeConfig::paper2`] (Table 2, 1 × 128 × 128, 14
//!   convolutions). LRP with the conv preset (z-box on [0, 1] first) on 1 image and on 8;
//!   Kernel SHAP on 1 image over 64 superpixels (16 × 16 patches) with a zero baseline and
//!   200 samples (per-pixel players are out of reach: 16 384 of them).
//!
//! Inputs are seeded uniform noise in [0, 1] (the cost does not depend on the values),
//! `ANOMALY_XAI_BENCH_THREADS` libtorch threads (default 2). Run:
//! `cargo bench -p anomaly-xai-bench --bench lrp_vs_kernel_shap`. Without `--bench` (as
//! `cargo test --all-targets` runs it) the models are small and the settings cheap, so the
//! check stays fast in a debug build. `docs/performance.md` has the numbers.

use anomaly_xai::attrib::{Attribution, Baseline, ErrorScorer, FeatureMask, KernelShap, Request};
use anomaly_xai::lrp::{Lrp, Preset};
use anomaly_xai::models::{ConvAe, ConvAeConfig, DenseAe, DenseAeConfig, ErrorNorm};
use anomaly_xai_bench::{bench_mode, bench_threads};
use criterion::{black_box, criterion_main, BenchmarkId, Criterion};
use tch::{Device, Kind, Tensor};

/// Group ids `[1, side, side]` of square `patch × patch` superpixels, row-major.
fn patches(side: i64, patch: i64) -> Result<FeatureMask, Box<dyn std::error::Error>> {
    let per_row = side / patch;
    let idx = Tensor::f_arange(side, (Kind::Int64, Device::Cpu))?.f_floor_divide_scalar(patch)?;
    let ids = idx
        .f_unsqueeze(1)?
        .f_mul_scalar(per_row)?
        .f_add(&idx.f_unsqueeze(0)?)?;
    Ok(FeatureMask::from_tensor(&ids.f_unsqueeze(0)?)?)
}

fn dense(c: &mut Criterion, full: bool) -> Result<(), Box<dyn std::error::Error>> {
    let (background, samples, batch) = if full { (755, 1000, 755) } else { (8, 20, 4) };
    let cfg = DenseAeConfig::default();
    let ae = DenseAe::seeded(&cfg, Device::Cpu, 0)?;
    let opts = (Kind::Float, Device::Cpu);
    let one = Tensor::rand([1, cfg.input], opts);
    let many = Tensor::rand([batch, cfg.input], opts);
    let bg = Tensor::rand([background, cfg.input], opts);
    let lrp = Lrp::new(ErrorNorm::SquaredL2, Preset::Paper2Dense)?;
    let shap = KernelShap::params()
        .n_samples(samples)
        .progress(false)
        .check()?;
    let scorer = ErrorScorer::new(&ae, ErrorNorm::SquaredL2)?;
    let plain = Request::default();
    let with_bg = Request::with_baseline(Baseline::Distribution(bg));

    let mut g = c.benchmark_group(format!("dense_ae_{}", cfg.input));
    g.sample_size(10);
    g.bench_with_input(BenchmarkId::new("lrp", 1), &one, |b, x| {
        b.iter(|| {
            lrp.attribute(&ae, black_box(x), &plain)
                .expect("lrp")
                .scores
        })
    });
    g.bench_with_input(BenchmarkId::new("lrp", batch), &many, |b, x| {
        b.iter(|| {
            lrp.attribute(&ae, black_box(x), &plain)
                .expect("lrp")
                .scores
        })
    });
    g.bench_with_input(
        BenchmarkId::new(
            format!("kernel_shap_{samples}_samples_{background}_background"),
            1,
        ),
        &one,
        |b, x| {
            b.iter(|| {
                shap.attribute(&scorer, black_box(x), &with_bg)
                    .expect("kernel shap")
                    .scores
            })
        },
    );
    g.finish();
    Ok(())
}

fn conv(c: &mut Criterion, full: bool) -> Result<(), Box<dyn std::error::Error>> {
    let (cfg, patch, samples, batch) = if full {
        (ConvAeConfig::paper2(), 16, 200, 8)
    } else {
        (ConvAeConfig::small(16, 2), 4, 10, 2)
    };
    let ae = ConvAe::seeded(&cfg, Device::Cpu, 0)?;
    let [ch, h, w] = cfg.input;
    let opts = (Kind::Float, Device::Cpu);
    let one = Tensor::rand([1, ch, h, w], opts);
    let many = Tensor::rand([batch, ch, h, w], opts);
    let lrp = Lrp::new(
        ErrorNorm::SquaredL2,
        Preset::Paper2Conv {
            low: 0.0,
            high: 1.0,
        },
    )?;
    let shap = KernelShap::params()
        .n_samples(samples)
        .progress(false)
        .check()?;
    let scorer = ErrorScorer::new(&ae, ErrorNorm::SquaredL2)?;
    let plain = Request::default();
    let superpixels = Request::with_baseline(Baseline::Zero).mask(patches(h, patch)?);

    let mut g = c.benchmark_group(format!("conv_ae_{h}x{w}"));
    g.sample_size(10);
    g.bench_with_input(BenchmarkId::new("lrp", 1), &one, |b, x| {
        b.iter(|| {
            lrp.attribute(&ae, black_box(x), &plain)
                .expect("lrp")
                .scores
        })
    });
    g.bench_with_input(BenchmarkId::new("lrp", batch), &many, |b, x| {
        b.iter(|| {
            lrp.attribute(&ae, black_box(x), &plain)
                .expect("lrp")
                .scores
        })
    });
    let groups = (h / patch) * (w / patch);
    g.bench_with_input(
        BenchmarkId::new(
            format!("kernel_shap_{samples}_samples_{groups}_superpixels"),
            1,
        ),
        &one,
        |b, x| {
            b.iter(|| {
                shap.attribute(&scorer, black_box(x), &superpixels)
                    .expect("kernel shap")
                    .scores
            })
        },
    );
    g.finish();
    Ok(())
}

fn bench(c: &mut Criterion) {
    let full = bench_mode();
    tch::set_num_threads(bench_threads());
    tch::manual_seed(0);
    if let Err(e) = dense(c, full) {
        panic!("lrp_vs_kernel_shap (dense): {e}");
    }
    if let Err(e) = conv(c, full) {
        panic!("lrp_vs_kernel_shap (conv): {e}");
    }
}

#[allow(missing_docs)] // `criterion_group!` expands to an undocumented `pub fn`.
mod harness {
    // No plots: criterion's plotters backend needs a system font and panics without one.
    criterion::criterion_group! {
        name = benches;
        config = criterion::Criterion::default().without_plots();
        targets = super::bench
    }
}
criterion_main!(harness::benches);
