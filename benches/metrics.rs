//! The localization metrics at the scale of whole experiments, fed the way the pipelines
//! feed them: attribution tensors copied out of libtorch, then scored.
//!
//! * `recall_at_m`: paper 2's corruption validation over 100 000 explanations of 122
//!   features (NSL-KDD's width after one-hot encoding), average tie handling.
//! * `pixel_ap`: a test set of 400 relevance maps of 128 × 128 (6.6 M pixels) from a
//!   `[N, 1, 128, 128]` tensor with its defect masks: copy out, collect, rank, then exact
//!   AP, AP at paper 2's 1000 thresholds and AUROC.
//! * `chance`: the expected (random-ranking) report of paper 1's protocol for 5 000
//!   regions of 38 sensors, the "chance" row every table prints.
//!
//! Region scoring, HitRate/NDCG and flat pixel AP on 1–10 M values are in
//! `crates/loc-metrics/benches/metrics.rs`. Inputs are seeded random. Without `--bench`
//! (as `cargo test --all-targets` runs it) the sizes are tiny.

use anomaly_xai::metrics::{recall_at_m, PixelGroup, Protocol, Region, Ties};
use anomaly_xai::models::convert::tensor_to_array;
use criterion::{black_box, criterion_main, Criterion, Throughput};
use ndarray::{Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// Whether criterion measures (`cargo bench`) rather than checks (`cargo test`).
fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn recall(c: &mut Criterion, full: bool) {
    let (n, d) = if full { (100_000, 122) } else { (100, 10) };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let scores = Array2::from_shape_simple_fn((n, d), || rng.gen_range(0.0f32..1.0));
    let corrupted: Vec<usize> = (0..n).map(|_| rng.gen_range(0..d)).collect();
    let mut g = c.benchmark_group("recall_at_m");
    g.sample_size(10).throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("{n}_explanations_{d}_features"), |b| {
        b.iter(|| recall_at_m(black_box(scores.view()), &corrupted, Ties::Average).expect("valid"))
    });
    g.finish();
}

fn pixel_ap(c: &mut Criterion, full: bool) {
    let (n, side) = if full { (400, 128) } else { (2, 16) };
    tch::manual_seed(5);
    let opts = (Kind::Float, Device::Cpu);
    // Defects are 3 % of the pixels and score higher on average, with heavy overlap.
    let mask = Tensor::rand([n, 1, side, side], opts)
        .lt(0.03)
        .to_kind(Kind::Float);
    let relevance = Tensor::rand([n, 1, side, side], opts) + &mask * 0.5;
    let collect = || -> PixelGroup {
        let r = tensor_to_array(&relevance).expect("float tensor");
        let m = tensor_to_array(&mask).expect("float tensor");
        let mut group = PixelGroup::new(0.5).expect("finite threshold");
        for (ri, mi) in r.axis_iter(Axis(0)).zip(m.axis_iter(Axis(0))) {
            group.push(ri, mi).expect("same shape, finite");
        }
        group
    };
    let mut g = c.benchmark_group("pixel_ap");
    g.sample_size(10)
        .throughput(Throughput::Elements((n * side * side) as u64));
    let id = |what: &str| format!("{what}_{n}_maps_{side}x{side}");
    g.bench_function(id("copy_collect_rank_exact_ap"), |b| {
        b.iter(|| collect().rank().average_precision().expect("has positives"))
    });
    let ranked = collect().rank();
    g.bench_function(id("ap_1000_thresholds"), |b| {
        b.iter(|| {
            ranked
                .average_precision_thresholds(1000)
                .expect("has positives")
        })
    });
    g.bench_function(id("auroc"), |b| {
        b.iter(|| ranked.auroc().expect("both classes"))
    });
    g.finish();
}

fn chance(c: &mut Criterion, full: bool) {
    const SENSORS: usize = 38;
    let n = if full { 5_000 } else { 20 };
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let regions: Vec<Region> = (0..n)
        .map(|i| {
            let k = rng.gen_range(1..=SENSORS / 2);
            let mut features = rand::seq::index::sample(&mut rng, SENSORS, k).into_vec();
            features.sort_unstable();
            Region::new(10 * i, 10 * i + 5, features).expect("valid by construction")
        })
        .collect();
    let protocol = Protocol::paper();
    let mut g = c.benchmark_group("chance");
    g.sample_size(10).throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("paper_protocol_{n}_regions"), |b| {
        b.iter(|| {
            protocol
                .chance(black_box(&regions), SENSORS)
                .expect("valid")
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let full = bench_mode();
    recall(c, full);
    pixel_ap(c, full);
    chance(c, full);
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
