//! Seeded randomness: every stochastic method draws from one ChaCha8 stream seeded by its
//! `seed` setting, so the same seed gives the same attributions on every platform.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator of a method run.
pub(crate) fn seeded(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A standard normal draw (Box–Muller; `rand_distr` is not a dependency).
pub(crate) fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // 1 − u lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A uniformly random permutation of `0..n`.
pub(crate) fn permutation(rng: &mut ChaCha8Rng, n: usize) -> Vec<i64> {
    let mut p: Vec<i64> = (0..n as i64).collect();
    p.shuffle(rng);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_draws_have_unit_variance() {
        let mut rng = seeded(1);
        let v: Vec<f64> = (0..20_000).map(|_| standard_normal(&mut rng)).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }

    #[test]
    fn same_seed_same_permutation() {
        assert_eq!(
            permutation(&mut seeded(7), 10),
            permutation(&mut seeded(7), 10)
        );
        assert_ne!(
            permutation(&mut seeded(7), 10),
            permutation(&mut seeded(8), 10)
        );
    }
}
