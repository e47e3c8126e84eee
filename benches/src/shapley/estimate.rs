//! Kernel SHAP's configurations under test, run at every budget and seed, and their error
//! against the true Shapley values.

use anomaly_xai::attrib::perturbation::kernel_shap::CoalitionSampling;
use anomaly_xai::attrib::{Attribution, Baseline, FeatureMask, KernelShap, Request};
use anomaly_xai::Result;
use serde::Serialize;
use tch::{Kind, Tensor};

use super::game::Game;
use super::lookup::Lookup;

/// One Kernel SHAP configuration under test.
#[derive(Debug, Clone, Copy)]
pub struct Estimator {
    /// Its name in the output (`ours_...`).
    pub name: &'static str,
    /// How coalitions are drawn.
    pub sampling: CoalitionSampling,
    /// Whether each coalition comes with its complement.
    pub paired: bool,
    /// Whether the fit is constrained to sum to `f(x) − f(baseline)`.
    pub efficiency: bool,
}

/// Captum's scheme, the previous default, and the two stratified samplers (leverage being
/// the default now).
pub const ESTIMATORS: [Estimator; 4] = [
    Estimator {
        name: "ours_captum_scheme",
        sampling: CoalitionSampling::Independent,
        paired: false,
        efficiency: false,
    },
    Estimator {
        name: "ours_old_default",
        sampling: CoalitionSampling::Independent,
        paired: true,
        efficiency: true,
    },
    Estimator {
        name: "ours_stratified_kernel",
        sampling: CoalitionSampling::StratifiedKernel,
        paired: true,
        efficiency: true,
    },
    Estimator {
        name: "ours_stratified_leverage",
        sampling: CoalitionSampling::StratifiedLeverage,
        paired: true,
        efficiency: true,
    },
];

/// One row of the output: an estimator at a budget on a game, over all seeds and samples.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The game.
    pub game: String,
    /// The estimator ([`Estimator::name`]).
    pub estimator: String,
    /// Kernel SHAP's `n_samples`.
    pub budget: usize,
    /// Mean distinct coalitions evaluated per sample (the full and the empty one included).
    pub evals: f64,
    /// Mean over seeds of the mean over samples of [`rel_error`].
    pub rel_error: f64,
    /// Standard error of `rel_error` over the seeds.
    pub rel_error_se: f64,
    /// Mean [`top3`] over seeds and samples.
    pub top3: f64,
    /// Seeds run.
    pub seeds: u64,
    /// Samples explained per seed.
    pub samples: usize,
}

/// `‖est − exact‖₂ / ‖exact‖₂`.
pub fn rel_error(est: &[f64], exact: &[f64]) -> f64 {
    let d: f64 = est.iter().zip(exact).map(|(a, b)| (a - b).powi(2)).sum();
    let n: f64 = exact.iter().map(|b| b * b).sum();
    (d / n).sqrt()
}

/// The share of the three largest values of `exact` found among the three largest of `est`.
pub fn top3(est: &[f64], exact: &[f64]) -> f64 {
    let top = |v: &[f64]| {
        let mut i: Vec<usize> = (0..v.len()).collect();
        i.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
        i.truncate(3);
        i
    };
    let (a, b) = (top(est), top(exact));
    b.iter().filter(|g| a.contains(g)).count() as f64 / b.len() as f64
}

/// Per sample of `scores` `[B, ..]`, the value of each of the `m` groups of `ids` (every
/// cell of a group carries it: the first is read).
///
/// # Errors
/// libtorch's error for scores whose cells do not match `ids`.
pub fn group_values(scores: &Tensor, ids: &Tensor, m: usize) -> Result<Vec<Vec<f64>>> {
    let b = scores.size()[0];
    let ids = Vec::<i64>::try_from(ids.flatten(0, -1))?;
    let mut first = vec![usize::MAX; m];
    for (c, &g) in ids.iter().enumerate() {
        first[g as usize] = first[g as usize].min(c);
    }
    let flat = scores.f_reshape([b, -1])?.to_kind(Kind::Double);
    (0..b)
        .map(|i| {
            let row = Vec::<f64>::try_from(flat.get(i))?;
            Ok(first.iter().map(|&c| row[c]).collect())
        })
        .collect()
}

/// Runs every estimator at every budget with seeds `0..seeds`: `run` explains every
/// sample with the given settings and returns, per sample, the group values and the
/// evaluations used; `truth` holds the true values per sample.
///
/// # Errors
/// A setting Kernel SHAP refuses (a budget below 3); `run`'s error.
pub fn measure(
    game: &str,
    truth: &[Vec<f64>],
    seeds: u64,
    budgets: &[usize],
    run: impl Fn(&KernelShap) -> Result<Vec<(Vec<f64>, usize)>>,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for est in &ESTIMATORS {
        for &budget in budgets {
            let mut per_seed = Vec::new();
            let (mut evals, mut agree) = (0.0, 0.0);
            for seed in 0..seeds {
                let method = KernelShap::params()
                    .n_samples(budget)
                    .sampling(est.sampling)
                    .paired(est.paired)
                    .efficiency(est.efficiency)
                    .seed(seed)
                    .progress(false)
                    .batch_size(4096)
                    .check()?;
                let mut err = 0.0;
                for ((phi, n), exact) in run(&method)?.iter().zip(truth) {
                    err += rel_error(phi, exact);
                    agree += top3(phi, exact);
                    evals += *n as f64;
                }
                per_seed.push(err / truth.len() as f64);
            }
            let n = per_seed.len() as f64;
            let mean = per_seed.iter().sum::<f64>() / n;
            let var = per_seed.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            let runs = n * truth.len() as f64;
            rows.push(Row {
                game: game.into(),
                estimator: est.name.into(),
                budget,
                evals: evals / runs,
                rel_error: mean,
                rel_error_se: (var / n).sqrt(),
                top3: agree / runs,
                seeds,
                samples: truth.len(),
            });
        }
    }
    Ok(rows)
}

/// [`measure`] on a tabulated game against its exact values: one sample at a time, each
/// on its [`Lookup`].
///
/// # Errors
/// As [`measure`].
pub fn measure_table(game: &Game, seeds: u64, budgets: &[usize]) -> Result<Vec<Row>> {
    let lookups: Vec<Lookup> = (0..game.values.len())
        .map(|i| Lookup::new(game, i))
        .collect::<Result<_>>()?;
    measure(&game.name, &game.exact, seeds, budgets, |method| {
        let mut out = Vec::new();
        for (i, lookup) in lookups.iter().enumerate() {
            let x = game.x.get(i as i64).unsqueeze(0);
            let req =
                Request::with_baseline(Baseline::Tensor(game.baseline.get(i as i64).unsqueeze(0)))
                    .mask(FeatureMask::from_tensor(&game.ids)?);
            let a = method.attribute(lookup, &x, &req)?;
            out.push((
                group_values(&a.scores, &game.ids, game.m)?.remove(0),
                a.forward_evals,
            ));
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_xai::attrib::FnScorer;
    use tch::Device;

    #[test]
    fn relative_error_and_top3_agreement() {
        assert_eq!(rel_error(&[3.0, 4.0], &[3.0, 4.0]), 0.0);
        assert!((rel_error(&[3.0, 0.0], &[0.0, 4.0]) - 1.25).abs() < 1e-12);
        let (up, down) = ([0.0, 1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0, 0.0]);
        assert_eq!(top3(&down, &up), 1.0 / 3.0);
        assert_eq!(top3(&[0.1, 5.0, 4.0, 3.0], &[0.0, 3.0, 2.0, 1.0]), 1.0);
    }

    #[test]
    fn group_values_read_one_cell_per_group() {
        let scores = Tensor::from_slice(&[1.0f32, 1.0, 2.0, 5.0, 5.0, 6.0]).reshape([2, 3]);
        let ids = Tensor::from_slice(&[1i64, 1, 0]);
        let v = group_values(&scores, &ids, 2).unwrap();
        assert_eq!(v, vec![vec![2.0, 1.0], vec![6.0, 5.0]]);
    }

    /// On an additive game the weighted fit is exact for every sampler and seed, so every
    /// row's error is rounding; evaluations never exceed the budget.
    #[test]
    fn every_estimator_is_exact_on_an_additive_game() {
        let w = Tensor::from_slice(&[1.0, -2.0, 0.5, 3.0, 0.25, -1.5, 2.0, 1.0]);
        let f = FnScorer::new("linear", move |x: &Tensor| Ok(x.f_matmul(&w)?));
        let x = Tensor::linspace(-2.0, 3.0, 16, (Kind::Double, Device::Cpu)).reshape([2, 8]);
        let ids = Tensor::arange(8, (Kind::Int64, Device::Cpu));
        let game = Game::tabulate("linear", String::new(), &f, &x, &x.ones_like(), &ids).unwrap();
        let rows = measure_table(&game, 2, &[40]).unwrap();
        assert_eq!(rows.len(), ESTIMATORS.len());
        for r in &rows {
            assert!(r.rel_error < 1e-9, "{r:?}");
            assert_eq!((r.top3, r.seeds, r.samples), (1.0, 2, 2));
            assert!(r.evals <= 40.0, "{r:?}");
        }
    }

    /// On a game with interactions the estimates are off at a small budget, and the error
    /// falls once every coalition can be evaluated.
    #[test]
    fn error_is_measured_against_the_exact_values() {
        let f = FnScorer::new("product", |x: &Tensor| {
            Ok(x.f_prod_dim_int(1, false, Kind::Double)?
                .f_add(&x.f_sum_dim_intlist(1, false, None)?)?)
        });
        let x = Tensor::from_slice(&[2.0, 3.0, -1.0, 1.5, 0.5, 4.0]).reshape([1, 6]);
        let ids = Tensor::arange(6, (Kind::Int64, Device::Cpu));
        let game = Game::tabulate("product", String::new(), &f, &x, &x.ones_like(), &ids).unwrap();
        let rows = measure_table(&game, 3, &[10, 64]).unwrap();
        let leverage = |b: usize| {
            rows.iter()
                .find(|r| r.estimator == "ours_stratified_leverage" && r.budget == b)
                .unwrap()
                .rel_error
        };
        assert!(leverage(10) > 1e-3, "{rows:?}");
        assert!(leverage(64) < 1e-9, "{rows:?}");
    }
}
