//! Groups of features that move together on normal data: complete-linkage clustering of
//! their correlations, so that a perturbation method can perturb a group whose members a
//! model reconstructs from one shared latent as a whole ([`crate::FeatureMask::correlated`]).
//!
//! Why: a model that reconstructs every member of a correlated group from what the group
//! shares follows a fault that displaces the whole group for all members together. Putting
//! one member back to normal then makes it disagree with the rest of its group, and the
//! error goes *up*: one-feature-at-a-time perturbation credits the displaced members with
//! negative effects. Perturbing the group together asks what the group's displacement
//! did, which is the question.
//!
//! The rule, with no constant tuned to a data set: two features belong together when
//! `|r| ≥ min_correlation`, and complete linkage makes that hold for *every* pair of a
//! group (a chain of correlated pairs does not join uncorrelated ends). With
//! [`DEFAULT_MIN_CORRELATION`] = 0.5: in a one-latent model `r_ij = l_i l_j`, so two features
//! whose shared latent carries more than half of each one's variance (`l² > 0.5`)
//! correlate by more than 0.5, and a feature that shares less with the group than it owns
//! stays on its own.

use crate::error::{Result, XaiError};

/// The correlation every pair of a group reaches by default (see the module docs).
pub const DEFAULT_MIN_CORRELATION: f64 = 0.5;

/// Pearson correlations `[F][F]` of the columns of `rows` (row-major, `n × f`). A constant
/// column correlates with nothing (0), and with itself 1.
pub fn correlations(rows: &[f64], f: usize) -> Vec<Vec<f64>> {
    let n = rows.len().checked_div(f).unwrap_or(0);
    let mean: Vec<f64> = (0..f)
        .map(|j| (0..n).map(|i| rows[i * f + j]).sum::<f64>() / n.max(1) as f64)
        .collect();
    let mut cov = vec![vec![0.0; f]; f];
    for i in 0..n {
        let row = &rows[i * f..(i + 1) * f];
        for a in 0..f {
            let da = row[a] - mean[a];
            for b in a..f {
                cov[a][b] += da * (row[b] - mean[b]);
            }
        }
    }
    let sd: Vec<f64> = (0..f).map(|a| cov[a][a].sqrt()).collect();
    let mut r = vec![vec![0.0; f]; f];
    for a in 0..f {
        r[a][a] = 1.0;
        for b in a + 1..f {
            let v = if sd[a] > 0.0 && sd[b] > 0.0 {
                (cov[a][b] / (sd[a] * sd[b])).clamp(-1.0, 1.0)
            } else {
                0.0
            };
            r[a][b] = v;
            r[b][a] = v;
        }
    }
    r
}

/// Complete-linkage clusters of the features of the correlation matrix `r`: repeatedly
/// joins the two groups whose *least* correlated pair (in `|r|`) is the most correlated,
/// while that pair reaches `min_correlation`. Returns each feature's group id, numbered
/// `0..n` in order of each group's first feature.
///
/// # Errors
/// [`XaiError::InvalidParam`] for a `min_correlation` outside `(0, 1]` or not finite.
pub fn complete_linkage(r: &[Vec<f64>], min_correlation: f64) -> Result<Vec<i64>> {
    if !(min_correlation.is_finite() && min_correlation > 0.0 && min_correlation <= 1.0) {
        return Err(XaiError::InvalidParam {
            method: "feature_mask",
            param: "min_correlation",
            value: min_correlation.to_string(),
            rule: "must be in (0, 1]",
        });
    }
    let f = r.len();
    let mut groups: Vec<Vec<usize>> = (0..f).map(|i| vec![i]).collect();
    loop {
        let mut best: Option<(usize, usize, f64)> = None;
        for a in 0..groups.len() {
            for b in a + 1..groups.len() {
                let link = groups[a]
                    .iter()
                    .flat_map(|&i| groups[b].iter().map(move |&j| r[i][j].abs()))
                    .fold(f64::INFINITY, f64::min);
                if link >= min_correlation && best.is_none_or(|(_, _, l)| link > l) {
                    best = Some((a, b, link));
                }
            }
        }
        let Some((a, b, _)) = best else { break };
        let joined = groups.remove(b);
        groups[a].extend(joined);
    }
    for g in &mut groups {
        g.sort_unstable();
    }
    groups.sort_unstable_by_key(|g| g[0]);
    let mut ids = vec![0i64; f];
    for (k, g) in groups.iter().enumerate() {
        for &i in g {
            ids[i] = k as i64;
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlations_of_exact_columns() {
        // Columns: x, 2x + 1, −x, constant.
        let rows: Vec<f64> = [0.0, 1.0, 2.0, 3.0]
            .iter()
            .flat_map(|&x| [x, 2.0 * x + 1.0, -x, 5.0])
            .collect();
        let r = correlations(&rows, 4);
        assert!((r[0][1] - 1.0).abs() < 1e-12);
        assert!((r[0][2] + 1.0).abs() < 1e-12);
        assert_eq!(r[0][3], 0.0);
        assert_eq!(r[3][3], 1.0);
    }

    #[test]
    fn complete_linkage_needs_every_pair_and_numbers_groups_by_first_feature() {
        // 0-1 and 1-2 correlate, 0-2 do not: complete linkage keeps 2 apart from {0, 1}
        // (the strongest pair joins first). 3 correlates negatively with 4.
        let r = vec![
            vec![1.0, 0.9, 0.2, 0.0, 0.0],
            vec![0.9, 1.0, 0.6, 0.0, 0.0],
            vec![0.2, 0.6, 1.0, 0.0, 0.1],
            vec![0.0, 0.0, 0.0, 1.0, -0.8],
            vec![0.0, 0.0, 0.1, -0.8, 1.0],
        ];
        assert_eq!(complete_linkage(&r, 0.5).unwrap(), vec![0, 0, 1, 2, 2]);
        // A threshold of 1: every feature on its own.
        assert_eq!(complete_linkage(&r, 1.0).unwrap(), vec![0, 1, 2, 3, 4]);
        // Low enough, the chain closes.
        assert_eq!(complete_linkage(&r, 0.15).unwrap(), vec![0, 0, 0, 1, 1]);
        let err = complete_linkage(&r, 0.0).unwrap_err();
        assert!(err.to_string().contains("min_correlation"), "{err}");
    }
}
