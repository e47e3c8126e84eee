//! The localization metrics at the scale of whole experiments (criterion; elements per
//! second):
//!
//! * `region_scoring`: the extended protocol over 5 000 regions of a 1 M-step series of
//!   38 sensors, and point-wise HitRate / NDCG over all its anomalous steps;
//! * `pixel`: exact pixel AP, AP at paper 2's 1000 thresholds and AUROC on 1 M and 10 M
//!   values (a test set of 400 maps of 128 × 128 holds 6.6 M);
//! * `recall_at_m`: paper 2's corruption validation over 100 000 explanations of 122
//!   features (NSL-KDD's width after one-hot encoding), average tie handling;
//! * `chance`: the expected (random-ranking) report of paper 1's protocol for 5 000
//!   regions of 38 sensors, the "chance" row every table prints.
//!
//! `cargo bench -p loc-metrics`. Inputs are seeded random. Without `--bench` (as
//! `cargo test --all-targets` runs it) the sizes are tiny, so the check stays fast.

use criterion::{black_box, criterion_main, BenchmarkId, Criterion, Throughput};
use loc_metrics::{
    evaluate_pointwise, points_from_regions, recall_at_m, PixelGroup, Protocol, RankMetric,
    RankOptions, Region, Ties,
};
use ndarray::{Array2, ArrayView1};
use rand::{rngs::StdRng, Rng, SeedableRng};

const SENSORS: usize = 38;

/// Whether criterion measures (`cargo bench`) rather than checks (`cargo test`).
fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// A long SMD-like score matrix and many regions with random sensor sets.
fn series(steps: usize, n_regions: usize) -> (Array2<f32>, Vec<Region>) {
    let mut rng = StdRng::seed_from_u64(7);
    let scores = Array2::from_shape_simple_fn((steps, SENSORS), || rng.gen_range(-0.5f32..1.0));
    let regions = (0..n_regions)
        .map(|_| {
            let len = rng.gen_range(5..200);
            let start = rng.gen_range(0..steps - len);
            let n = rng.gen_range(1..=SENSORS / 2);
            let mut features = rand::seq::index::sample(&mut rng, SENSORS, n).into_vec();
            features.sort_unstable();
            Region::new(start, start + len, features).expect("valid by construction")
        })
        .collect();
    (scores, regions)
}

fn region_scoring(c: &mut Criterion) {
    let mut g = c.benchmark_group("region_scoring");
    g.sample_size(20);
    let (steps, n_regions) = if bench_mode() {
        (1_000_000, 5_000)
    } else {
        (2_000, 10)
    };
    let (scores, regions) = series(steps, n_regions);
    let protocol = Protocol::extended();
    g.throughput(Throughput::Elements(regions.len() as u64));
    g.bench_function(format!("extended_protocol_{n_regions}_regions"), |b| {
        b.iter(|| {
            protocol
                .evaluate_regions(black_box(scores.view()), &regions)
                .expect("valid")
        })
    });
    let steps = points_from_regions(&regions, scores.nrows())
        .expect("valid")
        .iter()
        .filter(|&&a| a)
        .count();
    g.throughput(Throughput::Elements(steps as u64));
    g.bench_function("pointwise_hitrate_ndcg_anomalous_steps", |b| {
        b.iter(|| {
            evaluate_pointwise(
                black_box(scores.view()),
                &regions,
                &RankMetric::DEFAULT,
                RankOptions::default(),
            )
            .expect("valid")
        })
    });
    g.finish();
}

fn pixel_ap(c: &mut Criterion) {
    let mut g = c.benchmark_group("pixel");
    g.sample_size(10);
    let sizes: &[usize] = if bench_mode() {
        &[1_000_000, 10_000_000]
    } else {
        &[1_000]
    };
    for &n in sizes {
        let mut rng = StdRng::seed_from_u64(11);
        let mask: Vec<u8> = (0..n)
            .map(|_| if rng.gen_bool(0.03) { 255 } else { 0 })
            .collect();
        // Defective pixels score higher on average, with heavy overlap.
        let relevance: Vec<f32> = mask
            .iter()
            .map(|&m| rng.gen::<f32>() + if m > 0 { 0.5 } else { 0.0 })
            .collect();
        let group = || {
            let mut grp = PixelGroup::new(128.0).expect("finite");
            grp.push(
                ArrayView1::from(&relevance[..]),
                ArrayView1::from(&mask[..]),
            )
            .expect("valid");
            grp
        };
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("collect_rank_exact_ap", n), &n, |b, _| {
            b.iter(|| group().rank().average_precision().expect("has positives"))
        });
        let ranked = group().rank();
        g.bench_with_input(
            BenchmarkId::new("ap_1000_thresholds_ranked", n),
            &n,
            |b, _| {
                b.iter(|| {
                    ranked
                        .average_precision_thresholds(1000)
                        .expect("has positives")
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("auroc_ranked", n), &n, |b, _| {
            b.iter(|| ranked.auroc().expect("both classes"))
        });
    }
    g.finish();
}

fn recall(c: &mut Criterion) {
    let (n, d) = if bench_mode() {
        (100_000, 122)
    } else {
        (100, 10)
    };
    let mut rng = StdRng::seed_from_u64(3);
    let scores = Array2::from_shape_simple_fn((n, d), || rng.gen_range(0.0f32..1.0));
    let corrupted: Vec<usize> = (0..n).map(|_| rng.gen_range(0..d)).collect();
    let mut g = c.benchmark_group("recall_at_m");
    g.sample_size(10).throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("{n}_explanations_{d}_features"), |b| {
        b.iter(|| recall_at_m(black_box(scores.view()), &corrupted, Ties::Average).expect("valid"))
    });
    g.finish();
}

fn chance(c: &mut Criterion) {
    let n = if bench_mode() { 5_000 } else { 20 };
    let mut rng = StdRng::seed_from_u64(9);
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

#[allow(missing_docs)] // `criterion_group!` expands to an undocumented `pub fn`.
mod harness {
    use super::{chance, pixel_ap, recall, region_scoring};
    criterion::criterion_group!(benches, region_scoring, pixel_ap, recall, chance);
}
criterion_main!(harness::benches);
