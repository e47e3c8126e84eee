//! Games too large to enumerate: the truth is a reference estimate, and the model is
//! evaluated in every run.

use std::fs;
use std::path::Path;
use std::time::Instant;

use anomaly_xai::attrib::{
    Attribution, Baseline, FeatureMask, KernelShap, Request, Scorer, ShapleyValueSampling,
};
use anomaly_xai::data::DataError;
use anomaly_xai::{Error, Result};
use tch::{Kind, Tensor};

use super::estimate::{group_values, measure, rel_error, Row};
use super::games::Export;

/// Reference Shapley values of `[S, ..]` samples, the mean of two independent estimators
/// with `budget` evaluations each: Kernel SHAP (stratified, its default) and Shapley Value
/// Sampling (permutations). Also returns half their mean relative distance, which
/// estimates the reference's own error.
///
/// # Errors
/// A budget the methods refuse; the scorer's error.
pub fn reference(
    scorer: &dyn Scorer,
    x: &Tensor,
    baseline: &Tensor,
    ids: &Tensor,
    budget: usize,
) -> Result<(Vec<Vec<f64>>, f64)> {
    let m = (ids.f_max()?.f_int64_value(&[])? + 1) as usize;
    let req = || -> Result<Request> {
        Ok(
            Request::with_baseline(Baseline::Tensor(baseline.shallow_clone()))
                .mask(FeatureMask::from_tensor(ids)?),
        )
    };
    let ks = KernelShap::params()
        .n_samples(budget)
        .seed(1_000_003)
        .progress(false)
        .batch_size(4096)
        .check()?
        .attribute(scorer, x, &req()?)?;
    let svs = ShapleyValueSampling::params()
        .n_permutations((budget / m).max(1))
        .seed(1_000_003)
        .progress(false)
        .batch_size(4096)
        .check()?
        .attribute(scorer, x, &req()?)?;
    let (a, b) = (
        group_values(&ks.scores, ids, m)?,
        group_values(&svs.scores, ids, m)?,
    );
    let mean: Vec<Vec<f64>> = a
        .iter()
        .zip(&b)
        .map(|(p, q)| p.iter().zip(q).map(|(u, v)| (u + v) / 2.0).collect())
        .collect();
    let gap = a
        .iter()
        .zip(&b)
        .zip(&mean)
        .map(|((p, q), r)| rel_error(p, q) / 2.0 * norm(q) / norm(r))
        .sum::<f64>()
        / a.len() as f64;
    Ok((mean, gap))
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|u| u * u).sum::<f64>().sqrt()
}

/// A large game: its detector, samples and groups.
pub struct LargeGame<'a> {
    /// The game's name, also its file name.
    pub name: &'a str,
    /// What the detector, the samples and the grouping are.
    pub description: String,
    /// The detector's explained output.
    pub scorer: &'a dyn Scorer,
    /// The explained inputs, `[S, ..sample]`.
    pub x: Tensor,
    /// One baseline per input, `[S, ..sample]`.
    pub baseline: Tensor,
    /// Group id of every cell, in the sample's shape.
    pub ids: Tensor,
    /// The model, for the Captum script to rebuild.
    pub export: Export,
}

/// The runs of [`measure_large`].
#[derive(Debug, Clone, Copy)]
pub struct LargeRuns<'a> {
    /// Evaluations of each of the reference's two estimators.
    pub reference_budget: usize,
    /// Seeds per estimator and budget.
    pub seeds: u64,
    /// Kernel SHAP's budgets.
    pub budgets: &'a [usize],
}

/// Measures a game too large to enumerate: the reference, then every estimator with the
/// model evaluated in every run (all samples in one call). Writes the game into `dir` for
/// the Captum script: `NAME.safetensors` (inputs, baselines, mask, reference, the model's
/// outputs), `NAME.model.safetensors` (its weights) and `NAME.json`. Returns the rows and
/// the game's description for `ours.json`.
///
/// # Errors
/// [`Error::Io`] or [`DataError::Content`] naming a file that cannot be written; the
/// estimators' and the scorer's errors.
pub fn measure_large(
    game: &LargeGame<'_>,
    runs: LargeRuns<'_>,
    dir: &Path,
) -> Result<(Vec<Row>, serde_json::Value)> {
    let LargeGame {
        name,
        scorer,
        x,
        baseline,
        ids,
        ..
    } = game;
    let m = (ids.f_max()?.f_int64_value(&[])? + 1) as usize;
    let start = Instant::now();
    let (truth, gap) = reference(*scorer, x, baseline, ids, runs.reference_budget)?;
    eprintln!(
        "{name}: {m} groups, {} samples, reference from 2 x {} evaluations in {:.1} s, \
         half-distance of the two estimators {gap:.4}",
        truth.len(),
        runs.reference_budget,
        start.elapsed().as_secs_f64()
    );
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let f_x = tch::no_grad(|| scorer.score(x))?;
    let flat: Vec<f64> = truth.concat();
    let unwritable = |path: std::path::PathBuf| {
        move |e: tch::TchError| DataError::Content {
            path,
            reason: e.to_string(),
        }
    };
    let path = dir.join(format!("{name}.safetensors"));
    Tensor::write_safetensors(
        &[
            ("x", x.shallow_clone()),
            ("baseline", baseline.shallow_clone()),
            ("ids", ids.shallow_clone()),
            (
                "reference",
                Tensor::from_slice(&flat).reshape([truth.len() as i64, -1]),
            ),
            ("f_x", f_x.to_kind(Kind::Double)),
        ],
        &path,
    )
    .map_err(unwritable(path.clone()))?;
    let weights: Vec<(&str, &Tensor)> = game
        .export
        .weights
        .iter()
        .map(|(n, t)| (n.as_str(), t))
        .collect();
    let path = dir.join(format!("{name}.model.safetensors"));
    Tensor::write_safetensors(&weights, &path).map_err(unwritable(path.clone()))?;
    let meta = serde_json::json!({
        "name": name,
        "description": game.description,
        "groups": m,
        "samples": truth.len(),
        "sample_shape": &x.size()[1..],
        "truth": "reference",
        "reference_budget": runs.reference_budget,
        "reference_gap": gap,
        "model": game.export.meta,
    });
    let path = dir.join(format!("{name}.json"));
    fs::write(&path, serde_json::to_string_pretty(&meta)?).map_err(|e| Error::io(&path, e))?;
    let start = Instant::now();
    let rows = measure(name, &truth, runs.seeds, runs.budgets, |method| {
        let req = Request::with_baseline(Baseline::Tensor(baseline.shallow_clone()))
            .mask(FeatureMask::from_tensor(ids)?);
        let a = method.attribute(*scorer, x, &req)?;
        Ok(group_values(&a.scores, ids, m)?
            .into_iter()
            .map(|phi| (phi, a.forward_evals))
            .collect())
    })?;
    eprintln!("  measured in {:.1} s", start.elapsed().as_secs_f64());
    Ok((rows, meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_xai::attrib::FnScorer;
    use tch::Device;

    /// On a linear model both estimators are exact, so the reference is `w (x − x̄)` and
    /// the two agree.
    #[test]
    fn reference_of_a_linear_model_is_exact() {
        let w = Tensor::linspace(-1.0, 2.0, 24, (Kind::Double, Device::Cpu));
        let f = FnScorer::new("linear", {
            let w = w.shallow_clone();
            move |x: &Tensor| Ok(x.f_matmul(&w)?)
        });
        let x = Tensor::linspace(0.5, 3.0, 48, (Kind::Double, Device::Cpu)).reshape([2, 24]);
        let ids = Tensor::arange(24, (Kind::Int64, Device::Cpu));
        let (phi, gap) = reference(&f, &x, &x.zeros_like(), &ids, 200).unwrap();
        let want = Vec::<f64>::try_from((&x * &w).get(1)).unwrap();
        assert!(rel_error(&phi[1], &want) < 1e-9, "{phi:?}");
        assert!(gap < 1e-9, "{gap}");
    }
}
