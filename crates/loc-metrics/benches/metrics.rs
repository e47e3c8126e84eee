//! Throughput of region scoring, point-wise rank scores and pixel AP on large inputs.
//!
//! `cargo bench -p loc-metrics` (criterion; reports elements per second).

use criterion::{black_box, criterion_main, BenchmarkId, Criterion, Throughput};
use loc_metrics::{
    evaluate_pointwise, points_from_regions, PixelGroup, Protocol, RankMetric, RankOptions, Region,
};
use ndarray::{Array2, ArrayView1};
use rand::{rngs::StdRng, Rng, SeedableRng};

const SENSORS: usize = 38;

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
    let (scores, regions) = series(1_000_000, 5_000);
    let protocol = Protocol::extended();
    g.throughput(Throughput::Elements(regions.len() as u64));
    g.bench_function("extended_protocol_5000_regions", |b| {
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
    for &n in &[1_000_000usize, 10_000_000] {
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

#[allow(missing_docs)] // `criterion_group!` expands to an undocumented `pub fn`.
mod harness {
    use super::{pixel_ap, region_scoring};
    criterion::criterion_group!(benches, region_scoring, pixel_ap);
}
criterion_main!(harness::benches);
