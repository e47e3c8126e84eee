//! LRP cost against one forward pass, on the three model families at their paper sizes:
//! the dense autoencoder of the tabular experiments, paper 1's LSTM autoencoder (38 sensors,
//! windows of 50, two layers of 64 each side) and paper 2's 14-layer convolutional
//! autoencoder (128 × 128). Weights are seeded, untrained: the cost does not depend on them.
//! Deviation LRP (from a mean reference row and from the reconstruction) is timed beside.

use std::hint::black_box;
use std::time::Duration;

use ae_models::{
    ConvAe, ConvAeConfig, DenseAe, DenseAeConfig, ErrorNorm, LayerModel, LstmAe, LstmAeConfig,
};
use criterion::{criterion_main, Criterion};
use lrp_ae::{Lrp, Preset, Root, RootPoint};
use tch::{Device, Kind, Tensor};

fn case<A: LayerModel>(c: &mut Criterion, name: &str, ae: &A, batch: i64, preset: Preset) {
    tch::manual_seed(0);
    let mut shape = vec![batch];
    shape.extend(ae.sample_shape());
    let x = Tensor::rand(&shape, (Kind::Float, Device::Cpu));
    let lrp = Lrp::new(ErrorNorm::SquaredL2, preset).unwrap();
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("forward", |b| {
        b.iter(|| tch::no_grad(|| black_box(ae.forward(&x).unwrap())))
    });
    g.bench_function(format!("lrp {preset}"), |b| {
        b.iter(|| black_box(lrp.explain(ae, &x).unwrap()))
    });
    // Deviation LRP: from one reference row appended to the batch (the per-feature mean of
    // the batch stands in for the training mean), and from each sample's reconstruction.
    let dims: Vec<i64> = (0..x.dim() as i64 - 1).collect();
    let mean = Root::Tensor(x.mean_dim(dims.as_slice(), false, Kind::Float));
    for (root, reference) in [
        (RootPoint::Baseline, mean),
        (RootPoint::Reconstruction, Root::Reconstruction),
    ] {
        let eps = lrp_ae::DEVIATION_EPSILON;
        let dev = Lrp::new(ErrorNorm::SquaredL2, Preset::Deviation { eps, root }).unwrap();
        g.bench_function(format!("lrp deviation {root:?}"), |b| {
            b.iter(|| black_box(dev.explain_deviation(ae, &x, &reference).unwrap()))
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    // `ANOMALY_XAI_BENCH_THREADS`, as in the root benches, so all figures can be taken alike.
    if let Some(t) = std::env::var("ANOMALY_XAI_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|&t| t >= 1)
    {
        tch::set_num_threads(t);
    }
    let dense = DenseAe::seeded(&DenseAeConfig::new(30, vec![16, 8]), Device::Cpu, 0).unwrap();
    case(c, "dense_30_batch256", &dense, 256, Preset::Paper2Dense);
    let lstm = LstmAe::seeded(&LstmAeConfig::default(), Device::Cpu, 0).unwrap();
    case(c, "lstm_paper1_batch64", &lstm, 64, Preset::LstmDefault);
    let conv = ConvAe::seeded(&ConvAeConfig::paper2(), Device::Cpu, 0).unwrap();
    case(
        c,
        "conv_paper2_batch4",
        &conv,
        4,
        Preset::Paper2Conv {
            low: 0.0,
            high: 1.0,
        },
    );
}

#[allow(missing_docs)] // `criterion_group!` expands to an undocumented `pub fn`.
mod harness {
    criterion::criterion_group!(lrp, super::benches);
}
criterion_main!(harness::lrp);
