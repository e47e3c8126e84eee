//! Properties every score must have, checked on random inputs.

use loc_metrics::{
    recall_at_m, region_mean, Overlap, PixelGroup, Protocol, RankMetric, RankOptions, Region,
    Selection, SetScore, Ties,
};
use ndarray::{aview1, Array1, Array2};
use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

/// A score vector of `d` features and a non-empty ground truth among them,
/// listed in random order (the order a truth is written in must not matter).
fn vector_and_truth(max_d: usize) -> impl Strategy<Value = (Vec<f32>, Vec<usize>)> {
    (1..=max_d).prop_flat_map(|d| {
        (
            prop::collection::vec(-2.0f32..2.0, d),
            prop::sample::subsequence((0..d).collect::<Vec<_>>(), 1..=d).prop_shuffle(),
        )
    })
}

/// Distinct scores: set selections break ties by index, which a permutation changes.
fn distinct(scores: &[f32]) -> bool {
    let mut v = scores.to_vec();
    v.sort_by(f32::total_cmp);
    v.windows(2).all(|w| w[0] != w[1])
}

fn protocol() -> Protocol {
    let mut p = Protocol::extended();
    p.selections.extend([
        Selection::AllPositive,
        Selection::gt_ratio(1.0),
        Selection::gt_ratio_unfiltered(2.5),
        Selection::mass_fraction(0.5),
        Selection::mass_fraction(1.0),
        Selection::top_k(1),
    ]);
    p.rank_metrics.extend([
        RankMetric::HitRate { ratio: 0.5 },
        RankMetric::Ndcg { ratio: 3.0 },
    ]);
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_score_lies_in_the_unit_interval((scores, truth) in vector_and_truth(40)) {
        let v = protocol().score_vector(aview1(&scores), &truth).unwrap();
        for x in &v.values {
            prop_assert!((0.0..=1.0).contains(x), "{x}");
        }
    }

    #[test]
    fn iou_never_exceeds_f1((scores, truth) in vector_and_truth(40)) {
        let p = protocol();
        for s in &p.selections {
            let set = s.select_scores(aview1(&scores), truth.len()).unwrap();
            let o = Overlap::new(&set, &truth, scores.len()).unwrap();
            prop_assert!(o.iou() <= o.f1() + 1e-15);
            // Dice and Jaccard are tied: F1 = 2 IoU / (1 + IoU).
            prop_assert!((o.f1() - 2.0 * o.iou() / (1.0 + o.iou())).abs() < 1e-12);
        }
    }

    #[test]
    fn the_filter_only_removes_features((scores, truth) in vector_and_truth(40), ratio in 0.5f64..3.0) {
        let filtered = Selection::gt_ratio(ratio).select_scores(aview1(&scores), truth.len()).unwrap();
        let all = Selection::gt_ratio_unfiltered(ratio).select_scores(aview1(&scores), truth.len()).unwrap();
        prop_assert!(filtered.len() <= all.len());
        prop_assert_eq!(&all[..filtered.len()], &filtered[..]);
    }

    #[test]
    fn permuting_features_changes_nothing(
        (scores, truth) in vector_and_truth(30),
        seed in any::<u64>(),
    ) {
        prop_assume!(distinct(&scores));
        let d = scores.len();
        let mut perm: Vec<usize> = (0..d).collect();
        rand::seq::SliceRandom::shuffle(&mut perm[..], &mut StdRng::seed_from_u64(seed));
        // Feature f moves to position perm[f].
        let mut moved = vec![0.0f32; d];
        for (f, &s) in scores.iter().enumerate() {
            moved[perm[f]] = s;
        }
        let moved_truth: Vec<usize> = truth.iter().map(|&f| perm[f]).collect();
        let p = protocol();
        let a = p.score_vector(aview1(&scores), &truth).unwrap();
        let b = p.score_vector(aview1(&moved), &moved_truth).unwrap();
        prop_assert_eq!(&a.values, &b.values);
        for (sa, sb) in a.selected.iter().zip(&b.selected) {
            let mapped: Vec<usize> = sa.iter().map(|&f| perm[f]).collect();
            prop_assert_eq!(&mapped, sb);
        }
    }

    #[test]
    fn averaged_rank_scores_ignore_feature_order_even_with_ties(
        levels in prop::collection::vec(0u8..4, 1..25),
        seed in any::<u64>(),
    ) {
        // Few distinct values: many ties.
        let scores: Vec<f32> = levels.iter().map(|&l| f32::from(l) * 0.5 - 0.5).collect();
        let d = scores.len();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut truth: Vec<usize> = (0..d).filter(|_| rng.gen_bool(0.4)).collect();
        if truth.is_empty() {
            truth.push(rng.gen_range(0..d));
        }
        let mut perm: Vec<usize> = (0..d).collect();
        rand::seq::SliceRandom::shuffle(&mut perm[..], &mut rng);
        let mut moved = vec![0.0f32; d];
        for (f, &s) in scores.iter().enumerate() {
            moved[perm[f]] = s;
        }
        let moved_truth: Vec<usize> = truth.iter().map(|&f| perm[f]).collect();
        for m in RankMetric::DEFAULT {
            let a = m.compute(aview1(&scores), &truth, RankOptions::default()).unwrap();
            let b = m.compute(aview1(&moved), &moved_truth, RankOptions::default()).unwrap();
            prop_assert!((a - b).abs() < 1e-12, "{m}: {a} vs {b}");
        }
        let rows = Array2::from_shape_fn((truth.len(), d), |(_, f)| scores[f]);
        let moved_rows = Array2::from_shape_fn((truth.len(), d), |(_, f)| moved[f]);
        let a = recall_at_m(rows.view(), &truth, Ties::Average).unwrap();
        let b = recall_at_m(moved_rows.view(), &moved_truth, Ties::Average).unwrap();
        for (x, y) in a.recall.iter().zip(&b.recall) {
            prop_assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn a_perfect_explanation_scores_one(
        (noise, truth) in vector_and_truth(40),
        ratio in 1.0f64..3.0,
        k_extra in 0usize..5,
    ) {
        // Truth features score 1 + small noise, all others ≤ 0.
        let scores: Vec<f32> = noise
            .iter()
            .enumerate()
            .map(|(f, &x)| if truth.contains(&f) { 1.0 + x.abs() } else { -x.abs() })
            .collect();
        let n = truth.len();
        let picks_exactly_the_truth = [
            Selection::AllPositive,
            Selection::gt_ratio(ratio),
            Selection::top_k(n + k_extra),
            Selection::mass_fraction(1.0),
        ];
        let p = Protocol::new(picks_exactly_the_truth.to_vec(), SetScore::ALL.to_vec(), vec![
            RankMetric::HIT_100, RankMetric::HIT_150, RankMetric::NDCG_100, RankMetric::NDCG_150,
        ]);
        let v = p.score_vector(aview1(&scores), &truth).unwrap();
        for (c, x) in p.columns().iter().zip(&v.values) {
            prop_assert_eq!(*x, 1.0, "{}", c);
        }
    }

    #[test]
    fn ap_of_perfect_and_reversed_rankings(n_pos in 1usize..50, n_neg in 0usize..200) {
        let labels: Vec<u8> = (0..n_pos + n_neg).map(|i| u8::from(i < n_pos)).collect();
        let perfect: Vec<f64> = (0..labels.len()).map(|i| -(i as f64)).collect();
        let reversed: Vec<f64> = (0..labels.len()).map(|i| i as f64).collect();
        let rank = |s: &[f64]| {
            let mut g = PixelGroup::new(0.5).unwrap();
            g.push(aview1(s), aview1(&labels)).unwrap();
            g.rank()
        };
        let (good, bad, flat) = (rank(&perfect), rank(&reversed), rank(&vec![0.0; labels.len()]));
        prop_assert_eq!(good.average_precision().unwrap(), 1.0);
        prop_assert!((good.average_precision_thresholds(1000).unwrap() - 1.0).abs() < 1e-12
            || n_neg == 0);
        let prevalence = n_pos as f64 / labels.len() as f64;
        // Reversed: the j-th positive comes after all negatives, at precision j / (n_neg + j).
        let want: f64 = (1..=n_pos).map(|j| j as f64 / (n_neg + j) as f64).sum::<f64>() / n_pos as f64;
        let ap = bad.average_precision().unwrap();
        prop_assert!((ap - want).abs() < 1e-12);
        prop_assert!(ap <= prevalence + 1e-12);
        // All tied: a single threshold at precision = prevalence.
        prop_assert!((flat.average_precision().unwrap() - prevalence).abs() < 1e-12);
        if n_neg > 0 {
            prop_assert_eq!(good.auroc().unwrap(), 1.0);
            prop_assert_eq!(bad.auroc().unwrap(), 0.0);
            prop_assert_eq!(flat.auroc().unwrap(), 0.5);
        }
    }

    #[test]
    fn auroc_of_random_scores_is_about_one_half(seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let n = 4000;
        let scores: Vec<f32> = (0..n).map(|_| rng.gen()).collect();
        let labels: Vec<u8> = (0..n).map(|_| u8::from(rng.gen_bool(0.3))).collect();
        let mut g = PixelGroup::new(0.5).unwrap();
        g.push(aview1(&scores), aview1(&labels)).unwrap();
        let r = g.rank();
        // Standard error ≈ sqrt((P + N + 1) / (12 P N)) ≈ 0.01; allow 5 of them.
        prop_assert!((r.auroc().unwrap() - 0.5).abs() < 0.05);
        let ap = r.average_precision().unwrap();
        prop_assert!((ap - r.prevalence()).abs() < 0.05, "{ap}");
    }

    #[test]
    fn recall_curves_rise_to_one(
        rows in prop::collection::vec(prop::collection::vec(-1.0f32..1.0, 6), 1..20),
        seed in any::<u64>(),
    ) {
        let m = Array2::from_shape_fn((rows.len(), 6), |(i, f)| rows[i][f]);
        let mut rng = StdRng::seed_from_u64(seed);
        let corrupted: Vec<usize> = (0..rows.len()).map(|_| rng.gen_range(0..6)).collect();
        for ties in [Ties::Average, Ties::LowerIndexFirst] {
            let c = recall_at_m(m.view(), &corrupted, ties).unwrap();
            prop_assert!(c.recall.windows(2).all(|w| w[0] <= w[1] + 1e-15));
            prop_assert_eq!(c.at(6), Some(1.0));
        }
    }

    #[test]
    fn region_evaluation_equals_scoring_each_region_mean(
        values in prop::collection::vec(-1.0f32..1.0, 60),
        bounds in prop::collection::vec((0usize..9, 1usize..4, 0usize..6), 1..6),
    ) {
        let scores = Array2::from_shape_vec((10, 6), values).unwrap();
        let regions: Vec<Region> = bounds
            .iter()
            .map(|&(s, len, f)| Region::new(s, (s + len).min(10), vec![f]).unwrap())
            .collect();
        let p = Protocol::extended();
        let report = p.evaluate_regions(scores.view(), &regions).unwrap();
        let mut sum = vec![0.0; report.columns.len()];
        for (r, res) in regions.iter().zip(&report.regions) {
            let mean: Array1<f64> = region_mean(scores.view(), r).unwrap();
            let v = p.score_vector(mean.view(), &r.features).unwrap();
            prop_assert_eq!(&v.values, &res.values);
            prop_assert_eq!(&v.selected, &res.selected);
            for (s, x) in sum.iter_mut().zip(&v.values) {
                *s += x;
            }
        }
        for (s, m) in sum.iter().zip(&report.mean) {
            prop_assert!((s / regions.len() as f64 - m).abs() < 1e-12);
        }
    }
}
