//! Coalition designs for Kernel SHAP: which groups are present in each evaluated input,
//! and the regression weight of each.
//!
//! The Shapley kernel gives a coalition of size `k` out of `M` groups the weight
//! `π(k) = (M − 1) / (C(M, k) · k · (M − k))`. Sampling sizes with probability
//! `∝ (M − 1)/(k (M − k))` and then a uniform subset of that size draws coalitions with
//! probability `∝ π`, so sampled coalitions get weight 1 each (Captum's scheme).

use std::collections::HashMap;

use rand::seq::index::sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Proper coalitions (neither empty nor full) with their regression weights.
#[derive(Debug, Clone)]
pub(crate) struct Design {
    /// Number of groups `M`.
    pub(crate) m: usize,
    /// `C × M` presence flags, row-major.
    pub(crate) z: Vec<bool>,
    /// `C` weights.
    pub(crate) weights: Vec<f64>,
}

impl Design {
    /// Number of coalitions `C`.
    pub(crate) fn len(&self) -> usize {
        self.weights.len()
    }

    fn push(&mut self, index: &mut HashMap<Vec<bool>, usize>, z: Vec<bool>, weight: f64) {
        match index.get(&z) {
            Some(&i) => self.weights[i] += weight,
            None => {
                index.insert(z.clone(), self.weights.len());
                self.z.extend(z);
                self.weights.push(weight);
            }
        }
    }
}

/// `C(m, k)` in floating point (`inf` when it overflows).
pub(crate) fn binomial(m: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (m - i) as f64 / (i + 1) as f64)
}

/// The Shapley-kernel mass of all coalitions of size `s` out of `m` together,
/// `(m − 1) / (s (m − s))`.
pub(crate) fn size_mass(m: usize, s: usize) -> f64 {
    (m - 1) as f64 / (s * (m - s)) as f64
}

/// Every proper coalition of `m ≤ 30` groups with its exact Shapley-kernel weight, scaled
/// so that the weights average 1 (the scale of sampled coalitions).
pub(crate) fn enumerate(m: usize) -> Design {
    let count = (1usize << m) - 2;
    let mut design = Design {
        m,
        z: Vec::with_capacity(count * m),
        weights: Vec::with_capacity(count),
    };
    let mut total = 0.0;
    for bits in 1..(1usize << m) - 1 {
        let z: Vec<bool> = (0..m).map(|g| bits >> g & 1 == 1).collect();
        let k = z.iter().filter(|&&v| v).count();
        let w = (m - 1) as f64 / (binomial(m, k) * (k * (m - k)) as f64);
        total += w;
        design.z.extend(z);
        design.weights.push(w);
    }
    let scale = count as f64 / total;
    design.weights.iter_mut().for_each(|w| *w *= scale);
    design
}

/// `draws` coalitions of `m ≥ 2` groups from the Shapley kernel; with `paired`, every
/// draw is followed by its complement (antithetic sampling; the kernel is symmetric under
/// complement, so the pair is still a draw from it). Repeated coalitions are merged into
/// one row whose weight counts its draws, which leaves the least-squares fit unchanged
/// and saves their evaluations.
pub(crate) fn sample_kernel(m: usize, draws: usize, paired: bool, rng: &mut ChaCha8Rng) -> Design {
    let sizes: Vec<f64> = (1..m).map(|k| size_mass(m, k)).collect();
    let total: f64 = sizes.iter().sum();
    let mut design = Design {
        m,
        z: Vec::new(),
        weights: Vec::new(),
    };
    let mut index = HashMap::new();
    let mut drawn = 0;
    while drawn < draws {
        let mut u = rng.gen::<f64>() * total;
        let mut k = m - 1;
        for (i, p) in sizes.iter().enumerate() {
            if u < *p {
                k = i + 1;
                break;
            }
            u -= p;
        }
        let mut z = vec![false; m];
        for g in sample(rng, m, k).into_iter() {
            z[g] = true;
        }
        drawn += 1;
        if paired && drawn < draws {
            let complement: Vec<bool> = z.iter().map(|v| !v).collect();
            design.push(&mut index, z, 1.0);
            design.push(&mut index, complement, 1.0);
            drawn += 1;
        } else {
            design.push(&mut index, z, 1.0);
        }
    }
    design
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;

    #[test]
    fn enumeration_lists_every_proper_coalition_with_symmetric_weights() {
        let d = enumerate(4);
        assert_eq!(d.len(), 14);
        assert!((d.weights.iter().sum::<f64>() - 14.0).abs() < 1e-12);
        // Size-1 and size-3 coalitions weigh the same and more than size-2 ones.
        let size = |i: usize| d.z[i * 4..(i + 1) * 4].iter().filter(|&&v| v).count();
        let w = |k: usize| {
            (0..14)
                .filter(|&i| size(i) == k)
                .map(|i| d.weights[i])
                .next()
                .unwrap()
        };
        assert!((w(1) - w(3)).abs() < 1e-12 && w(1) > w(2));
        // π(1)/π(2) for M = 4: (3/(4·3)) / (3/(6·4)) = 2.
        assert!((w(1) / w(2) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn sampled_sizes_follow_the_kernel_and_pairs_are_complements() {
        let mut rng = seeded(3);
        let d = sample_kernel(6, 4000, false, &mut rng);
        let mut per_size = [0.0; 7];
        for i in 0..d.len() {
            per_size[d.z[i * 6..(i + 1) * 6].iter().filter(|&&v| v).count()] += d.weights[i];
        }
        // p(k) ∝ 5 / (k (6 − k)): p(1) / p(3) = (1/5) / (1/9) = 1.8.
        let ratio = per_size[1] / per_size[3];
        assert!((ratio - 1.8).abs() < 0.2, "{ratio}");
        assert!((d.weights.iter().sum::<f64>() - 4000.0).abs() < 1e-9);
        let d = sample_kernel(5, 6, true, &mut seeded(1));
        let row = |i: usize| d.z[i * 5..(i + 1) * 5].to_vec();
        let first = row(0);
        let complement: Vec<bool> = first.iter().map(|v| !v).collect();
        assert!((0..d.len()).any(|i| row(i) == complement));
    }
}
