//! Exact Shapley values of a game given by all its coalition values.

use anomaly_xai::{Error, Result};

/// The exact Shapley values of the `m`-player game whose value at coalition `z` is
/// `values[z]` (bit `g` of `z` says whether player `g` is in), `values.len() = 2^m`:
///
/// `φ_j = Σ_{S ∌ j} |S|! (m − |S| − 1)! / m! · (v(S ∪ {j}) − v(S))`.
///
/// ```
/// use anomaly_xai_bench::shapley::exact::shapley_values;
/// // v(∅) = 0, v({0}) = 1, v({1}) = 2, v({0, 1}) = 4: the interaction 1 is shared.
/// let phi = shapley_values(&[0.0, 1.0, 2.0, 4.0])?;
/// assert_eq!(phi, vec![1.5, 2.5]);
/// # Ok::<(), anomaly_xai::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] when the number of values is not a power of two of at least 2.
pub fn shapley_values(values: &[f64]) -> Result<Vec<f64>> {
    let n = values.len();
    if n < 2 || !n.is_power_of_two() {
        return Err(Error::InvalidSetting {
            setting: "coalition values",
            value: n.to_string(),
            rule: "must be 2^m of them for m ≥ 1 players".into(),
        });
    }
    let m = n.trailing_zeros() as usize;
    // w(k) = k! (m − k − 1)! / m!, built up without factorials.
    let mut w = vec![0.0; m];
    w[0] = 1.0 / m as f64;
    for k in 1..m {
        w[k] = w[k - 1] * k as f64 / (m - k) as f64;
    }
    Ok((0..m)
        .map(|j| {
            (0..n)
                .filter(|s| s >> j & 1 == 0)
                .map(|s| w[(s as u64).count_ones() as usize] * (values[s | 1 << j] - values[s]))
                .sum()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// `v(z) = Σ_{g ∈ z} c_g`: every player's value is its own contribution.
    #[test]
    fn additive_game_gives_each_player_its_contribution() {
        let c = [0.5, -2.0, 3.25, 0.0, 1.0, -0.75];
        let values: Vec<f64> = (0..1usize << c.len())
            .map(|z| (0..c.len()).filter(|g| z >> g & 1 == 1).map(|g| c[g]).sum())
            .collect();
        let phi = shapley_values(&values).unwrap();
        for (p, e) in phi.iter().zip(c) {
            assert!((p - e).abs() < 1e-12, "{phi:?} vs {c:?}");
        }
    }

    /// A linear model `f(x) = wᵀx + b` against a baseline: `φ_g = w_g (x_g − x̄_g)`.
    #[test]
    fn linear_model_gives_weight_times_distance_to_baseline() {
        let w = [1.5, -0.5, 2.0, 0.25];
        let x = [1.0, 2.0, -1.0, 4.0];
        let base = [0.5, 0.0, 1.0, -4.0];
        let f = |z: usize| -> f64 {
            let cell = |g: usize| if z >> g & 1 == 1 { x[g] } else { base[g] };
            (0..4).map(|g| w[g] * cell(g)).sum::<f64>() + 0.3
        };
        let values: Vec<f64> = (0..16).map(f).collect();
        let phi = shapley_values(&values).unwrap();
        for g in 0..4 {
            assert!((phi[g] - w[g] * (x[g] - base[g])).abs() < 1e-12, "{phi:?}");
        }
    }

    #[test]
    fn random_game_is_efficient_and_symmetric_players_share_equally() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let m = 7;
        let mut values: Vec<f64> = (0..1usize << m).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let phi = shapley_values(&values).unwrap();
        let sum: f64 = phi.iter().sum();
        assert!((sum - (values[(1 << m) - 1] - values[0])).abs() < 1e-12);
        // Players 0 and 1 made symmetric: v(S ∪ {0}) = v(S ∪ {1}) for S without both.
        for z in 0..1usize << m {
            if z & 0b11 == 0b01 {
                values[z] = values[z ^ 0b11];
            }
        }
        let phi = shapley_values(&values).unwrap();
        assert!((phi[0] - phi[1]).abs() < 1e-12, "{phi:?}");
    }

    #[test]
    fn refuses_a_table_of_other_length() {
        for n in [0, 1, 3, 12] {
            let err = shapley_values(&vec![0.0; n]).unwrap_err();
            assert!(err.to_string().contains(&n.to_string()), "{err}");
        }
    }
}
