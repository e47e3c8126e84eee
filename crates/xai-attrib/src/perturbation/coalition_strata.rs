//! Size-stratified coalition designs for Kernel SHAP: a fixed number of coalitions of
//! each size, drawn without replacement in complementary pairs, each size carrying
//! exactly its share of the Shapley kernel.
//!
//! The Shapley kernel gives all coalitions of size `s` out of `M` groups together the
//! mass `μ(s) = (M − 1) / (s (M − s))`. Drawing `i.i.d.` from the kernel (Captum's scheme,
//! [`CoalitionSampling::Independent`]) leaves three sources of noise that cost
//! evaluations and buy nothing:
//!
//! * **the sizes are random**: how much of the fit each size gets varies from run to run.
//!   Here size `s` gets a fixed number `n_s` of coalitions, each weighted `μ(s) / n_s`, so
//!   every size carries exactly its kernel mass (stratification);
//! * **repeats**: a size with few coalitions (`M` of size 1) is drawn again and again.
//!   Here whole sizes are enumerated, with their exact kernel weights, while the budget
//!   allows (as SHAP's `KernelExplainer` does, from the smallest and largest sizes
//!   inwards), and the rest are drawn without replacement;
//! * **imbalance**: within a size, some groups are drawn more often than others. Here the
//!   coalitions of a size are cut from a stream of random permutations of the groups, so
//!   every group appears in them equally often (up to one) while each coalition is still
//!   a uniformly random subset of its size.
//!
//! Every coalition comes with its complement (paired or antithetic sampling, Covert & Lee
//! 2021): the Shapley value depends on the game only through `v(z) − v(¬z)`, which a pair
//! measures exactly, so the additive part of the game is fitted without error.
//!
//! How many coalitions each size gets follows an allocation over sizes
//! ([`CoalitionSampling`]): the same for every size (the default), which is sampling by
//! the leverage scores of the Kernel SHAP regression (Musco & Witter 2024, "Provably
//! accurate Shapley value estimation via leverage score sampling": every coalition of
//! size `s` has leverage `∝ 1 / C(M, s)`, so every size has the same total), or in
//! proportion to the kernel mass `μ(s)` (SHAP's choice). Measured against exact Shapley
//! values (`benches/examples/kernel_shap_accuracy.rs`) the two are within a few percent of
//! each other up to 16 groups; with 30 to 38 groups at 200 evaluations the leverage
//! allocation is 10-20 % closer on the LSTM detector and the synthetic function (the
//! middle sizes, which the kernel starves, carry most of the interactions), and within 8 %
//! on the dense one.

use std::collections::HashSet;

use rand::seq::index::sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::coalitions::{binomial, size_mass, Design};

/// How Kernel SHAP chooses its coalitions when it cannot enumerate all `2^M` of them.
///
/// Whatever the choice, `n_samples` bounds the number of distinct coalitions evaluated
/// (the full and the empty one included), and all `2^M` are enumerated with their exact
/// weights when they fit in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoalitionSampling {
    /// Independent draws from the Shapley kernel: a size `s` with probability
    /// `∝ (M − 1)/(s (M − s))`, then a uniform subset of that size, each draw weighted 1
    /// and repeated draws merged into one evaluation (Captum's sampler; with `paired`,
    /// every draw is followed by its complement).
    Independent,
    /// Sizes stratified in proportion to their kernel mass (SHAP's `KernelExplainer`
    /// allocation), the smallest and largest sizes enumerated while the budget allows,
    /// the rest drawn without replacement in complementary pairs from balanced
    /// permutation streams (see the module docs).
    StratifiedKernel,
    /// As [`CoalitionSampling::StratifiedKernel`], but with the same number of
    /// coalitions for every size: sampling by the leverage scores of the Kernel SHAP
    /// regression (Musco & Witter 2024), which bound its error for any game.
    #[default]
    StratifiedLeverage,
}

/// One size pair `{k, m − k}` (a single size when `k = m − k`).
#[derive(Debug, Clone, Copy)]
struct Pair {
    k: usize,
    /// Whether `k = m − k`: the pair is one size, closed under complement.
    middle: bool,
}

impl Pair {
    /// Coalitions of the pair's sizes.
    fn coalitions(&self, m: usize) -> f64 {
        let c = binomial(m, self.k);
        if self.middle {
            c
        } else {
            2.0 * c
        }
    }

    /// Distinct complementary pairs `{z, ¬z}` among them.
    fn complement_pairs(&self, m: usize) -> f64 {
        self.coalitions(m) / 2.0
    }

    /// The pair's share of the allocation over sizes.
    fn share(&self, m: usize, sampling: CoalitionSampling) -> f64 {
        let per_size = match sampling {
            CoalitionSampling::StratifiedLeverage => 1.0,
            _ => size_mass(m, self.k),
        };
        if self.middle {
            per_size
        } else {
            2.0 * per_size
        }
    }
}

/// `budget` distinct proper coalitions of `m ≥ 2` groups (fewer by one when the pairs
/// leave one over), stratified by size as the module docs describe; `sampling` must be
/// one of the stratified choices. Weights average 1, the scale of
/// [`super::coalitions::enumerate`].
pub(crate) fn sample_stratified(
    m: usize,
    budget: usize,
    sampling: CoalitionSampling,
    rng: &mut ChaCha8Rng,
) -> Design {
    let mut design = Design {
        m,
        z: Vec::new(),
        weights: Vec::new(),
    };
    let mut pairs: Vec<Pair> = (1..=m / 2)
        .map(|k| Pair {
            k,
            middle: 2 * k == m,
        })
        .collect();
    // Enumerate whole size pairs, outermost first, while the budget left would give the
    // pair at least as many coalitions as it has.
    let mut left = budget;
    while let Some(&pair) = pairs.first() {
        let total: f64 = pairs.iter().map(|p| p.share(m, sampling)).sum();
        let count = pair.coalitions(m);
        if left as f64 * pair.share(m, sampling) / total < count {
            break;
        }
        enumerate_pair(&mut design, pair);
        left -= count as usize;
        pairs.remove(0);
    }
    let units = allocate(m, &pairs, left / 2, sampling, rng);
    for (pair, u) in pairs.iter().zip(units) {
        if u > 0 {
            draw_pair(&mut design, *pair, u, rng);
        }
    }
    if design.len() == 0 && budget > 0 {
        // A budget of one coalition cannot hold a pair: one of the outer size, unpaired.
        let z = Balanced::new(m).next(1, rng);
        design.z.extend(z);
        design.weights.push(1.0);
    }
    let mean = design.weights.iter().sum::<f64>() / design.len().max(1) as f64;
    if mean > 0.0 {
        design.weights.iter_mut().for_each(|w| *w /= mean);
    }
    design
}

/// Every coalition of the pair's sizes, each with its exact kernel weight.
fn enumerate_pair(design: &mut Design, pair: Pair) {
    let m = design.m;
    let sizes: &[usize] = if pair.middle {
        &[pair.k]
    } else {
        &[pair.k, m - pair.k]
    };
    for &s in sizes {
        let w = size_mass(m, s) / binomial(m, s);
        for_each_subset(m, s, |z| {
            design.z.extend_from_slice(z);
            design.weights.push(w);
        });
    }
}

/// Calls `f` with every subset of size `k` of `0..m`, as presence flags.
fn for_each_subset(m: usize, k: usize, mut f: impl FnMut(&[bool])) {
    let mut idx: Vec<usize> = (0..k).collect();
    let mut z = vec![false; m];
    loop {
        z.iter_mut().for_each(|v| *v = false);
        idx.iter().for_each(|&i| z[i] = true);
        f(&z);
        // Advance to the next combination in lexicographic order.
        let Some(i) = (0..k).rev().find(|&i| idx[i] < m - k + i) else {
            return;
        };
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

/// Complementary pairs per size pair: `units` in proportion to the shares, rounded by
/// systematic sampling from a random start (each pair gets the floor or the ceiling of
/// its share, and the ceiling with probability equal to the fraction), and never more
/// than the pair has.
fn allocate(
    m: usize,
    pairs: &[Pair],
    units: usize,
    sampling: CoalitionSampling,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let mut out = vec![0usize; pairs.len()];
    let mut open: Vec<usize> = (0..pairs.len()).collect();
    let mut left = units;
    // A pair whose share exceeds what it has takes all of it; the rest is shared again.
    while left > 0 && !open.is_empty() {
        let total: f64 = open.iter().map(|&i| pairs[i].share(m, sampling)).sum();
        let start: f64 = rng.gen();
        let mut cum = 0.0;
        let mut given = 0;
        let mut full = Vec::new();
        for &i in &open {
            let expected = left as f64 * pairs[i].share(m, sampling) / total;
            let before = (cum - start).ceil().max(0.0);
            cum += expected;
            let after = (cum - start).ceil().max(0.0);
            let cap = pairs[i].complement_pairs(m) - out[i] as f64;
            let n = (after - before).min(cap);
            out[i] += n as usize;
            given += n as usize;
            if n >= cap {
                full.push(i);
            }
        }
        // Rounding can leave the total one off; settle it on the last open pairs.
        given = given.min(left);
        left -= given;
        open.retain(|i| !full.contains(i));
        if full.is_empty() && left > 0 {
            // Systematic rounding fell short by rounding error: give the rest in order.
            for &i in &open {
                if left == 0 {
                    break;
                }
                out[i] += 1;
                left -= 1;
            }
        }
    }
    out
}

/// `units` distinct complementary pairs of the pair's sizes, weighted so that each size
/// carries its kernel mass.
fn draw_pair(design: &mut Design, pair: Pair, units: usize, rng: &mut ChaCha8Rng) {
    let m = design.m;
    let k = pair.k;
    let drawn = draw_distinct(m, pair, units, rng);
    let per_size = if pair.middle { 2 * units } else { units };
    let w_k = size_mass(m, k) / per_size as f64;
    let w_c = size_mass(m, m - k) / per_size as f64;
    for z in drawn {
        let complement: Vec<bool> = z.iter().map(|v| !v).collect();
        design.z.extend_from_slice(&z);
        design.weights.push(w_k);
        design.z.extend(complement);
        design.weights.push(w_c);
    }
}

/// Most subsets of one size that are listed to draw from without rejection.
const MAX_LISTED: f64 = 1e6;

/// `units` coalitions of the pair's size `k`, no two equal or (for the middle size)
/// complementary. Drawn from a balanced stream; when more than half of them are wanted,
/// they are picked from the full list instead, so that rejection never dominates.
fn draw_distinct(m: usize, pair: Pair, units: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<bool>> {
    let (k, middle) = (pair.k, pair.middle);
    let available = pair.complement_pairs(m);
    if 2.0 * units as f64 > available && available <= MAX_LISTED {
        let mut all = Vec::new();
        for_each_subset(m, k, |z| {
            // For the middle size keep one of each complementary pair: the one without the
            // last group.
            if !middle || !z[m - 1] {
                all.push(z.to_vec());
            }
        });
        return sample(rng, all.len(), units)
            .into_iter()
            .map(|i| all[i].clone())
            .collect();
    }
    let mut stream = Balanced::new(m);
    let mut seen: HashSet<Vec<bool>> = HashSet::new();
    let mut out = Vec::with_capacity(units);
    while out.len() < units {
        let z = stream.next(k, rng);
        let key = if middle && z[m - 1] {
            z.iter().map(|v| !v).collect()
        } else {
            z.clone()
        };
        if seen.insert(key) {
            out.push(z);
        }
    }
    out
}

/// Subsets cut from a stream of random permutations of `0..m`: every group is used once
/// per round, so after `r` rounds every group has appeared exactly `r` times, while each
/// draw is a uniformly random subset of its size (the stream is exchangeable). Requires
/// `k < m`.
struct Balanced {
    pool: Vec<usize>,
    m: usize,
}

impl Balanced {
    fn new(m: usize) -> Self {
        Balanced {
            pool: (0..m).collect(),
            m,
        }
    }

    fn next(&mut self, k: usize, rng: &mut ChaCha8Rng) -> Vec<bool> {
        let mut z = vec![false; self.m];
        for _ in 0..k {
            if self.pool.is_empty() {
                self.pool = (0..self.m).collect();
            }
            // Groups already in this draw (from the previous round) wait in the pool for
            // the next draw; with `k < m` there is always another to take.
            let i = loop {
                let i = rng.gen_range(0..self.pool.len());
                if !z[self.pool[i]] {
                    break i;
                }
            };
            z[self.pool.swap_remove(i)] = true;
        }
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;

    fn size(d: &Design, i: usize) -> usize {
        d.z[i * d.m..(i + 1) * d.m].iter().filter(|&&v| v).count()
    }

    fn rows(d: &Design) -> HashSet<Vec<bool>> {
        (0..d.len())
            .map(|i| d.z[i * d.m..(i + 1) * d.m].to_vec())
            .collect()
    }

    #[test]
    fn every_size_carries_its_kernel_mass_and_rows_are_distinct() {
        for sampling in [
            CoalitionSampling::StratifiedKernel,
            CoalitionSampling::StratifiedLeverage,
        ] {
            for (m, budget) in [(10, 100), (11, 57), (16, 198), (38, 198), (38, 48)] {
                let d = sample_stratified(m, budget, sampling, &mut seeded(4));
                assert!(d.len() <= budget && d.len() + 1 >= budget, "{m} {budget}");
                assert_eq!(rows(&d).len(), d.len(), "duplicates for m = {m}");
                let mut mass = vec![0.0; m];
                for i in 0..d.len() {
                    let s = size(&d, i);
                    assert!(s > 0 && s < m);
                    mass[s] += d.weights[i];
                }
                // Sizes that got coalitions carry the kernel mass, relative to each other.
                let first = (1..m).find(|&s| mass[s] > 0.0).unwrap();
                let scale = mass[first] / size_mass(m, first);
                for (s, &got) in mass.iter().enumerate().skip(1) {
                    if got > 0.0 {
                        let want = scale * size_mass(m, s);
                        assert!((got - want).abs() < 1e-9 * want, "m {m} size {s}");
                    }
                }
                assert!((d.weights.iter().sum::<f64>() / d.len() as f64 - 1.0).abs() < 1e-12);
                // Complements are present for every row.
                let set = rows(&d);
                assert!(set
                    .iter()
                    .all(|z| set.contains(&z.iter().map(|v| !v).collect::<Vec<_>>())));
            }
        }
    }

    #[test]
    fn the_outer_sizes_are_enumerated_first() {
        // 16 groups, 198 coalitions: sizes 1 and 15 (32 coalitions) fit, sizes 2 and 14
        // (240) do not.
        let d = sample_stratified(16, 198, CoalitionSampling::StratifiedKernel, &mut seeded(1));
        let n = |s: usize| (0..d.len()).filter(|&i| size(&d, i) == s).count();
        assert_eq!((n(1), n(15)), (16, 16));
        assert!(n(2) > 0 && n(2) < 120 && n(2) == n(14));
        assert!(n(8) > 0);
        assert_eq!(d.len(), 198);
    }

    #[test]
    fn groups_appear_equally_often_within_a_size() {
        let mut rng = seeded(2);
        let mut stream = Balanced::new(7);
        let mut count = [0usize; 7];
        for _ in 0..21 {
            for (g, v) in stream.next(3, &mut rng).into_iter().enumerate() {
                count[g] += usize::from(v);
            }
        }
        // 21 draws of 3 out of 7 use every group exactly 9 times.
        assert!(count.iter().all(|&c| c == 9), "{count:?}");
    }

    #[test]
    fn allocation_rounds_to_the_total_and_respects_what_each_size_has() {
        let pairs: Vec<Pair> = (2..=5).map(|k| Pair { k, middle: k == 5 }).collect();
        for seed in 0..20 {
            let u = allocate(
                10,
                &pairs,
                37,
                CoalitionSampling::StratifiedLeverage,
                &mut seeded(seed),
            );
            assert_eq!(u.iter().sum::<usize>(), 37, "{u:?}");
            // Equal shares of 37 units over 3.5 size-equivalents: ~10.6 per two-size pair.
            assert!(u[..3].iter().all(|&n| (10..=11).contains(&n)), "{u:?}");
        }
        // Three pairs of sizes {1, 3} and {2, 2} of 4 groups: 4 + 3 complementary pairs.
        let small = [
            Pair {
                k: 1,
                middle: false,
            },
            Pair { k: 2, middle: true },
        ];
        let u = allocate(
            4,
            &small,
            7,
            CoalitionSampling::StratifiedKernel,
            &mut seeded(0),
        );
        assert_eq!(u, vec![4, 3]);
    }

    #[test]
    fn subsets_are_listed_in_full() {
        let mut n = 0;
        for_each_subset(6, 2, |z| {
            assert_eq!(z.iter().filter(|&&v| v).count(), 2);
            n += 1;
        });
        assert_eq!(n, 15);
        let mut n = 0;
        for_each_subset(4, 0, |_| n += 1);
        assert_eq!(n, 1);
    }
}
