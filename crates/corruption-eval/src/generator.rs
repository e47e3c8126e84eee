//! The generator: picks clean samples, corrupts one feature, keeps the anomalous ones.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::corruption::Corruption;
use crate::error::{CorruptionError, Result};
use crate::ifgsm::optimise_feature;
use crate::normalize::{quantile, ScoreNormalizer};
use crate::params::CorruptionParams;
use crate::reconstruct::{check_reconstruction, Reconstruct};

/// One kept corrupted sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorruptedSample {
    /// Row of the pool it was made from.
    pub row: usize,
    /// The corrupted feature `c`.
    pub feature: usize,
    /// The clean sample.
    pub original: Vec<f32>,
    /// The corrupted sample: equal to `original` except at `feature`.
    pub corrupted: Vec<f32>,
    /// Its normalised anomaly score, in `(T, 1]`.
    pub score: f64,
    /// Its raw anomaly score (mean squared reconstruction error).
    pub raw_score: f64,
    /// The number of tries made when it was kept (its try's 1-based index).
    pub tries: usize,
}

/// How a generation went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriesSummary {
    /// The corruption.
    pub corruption: Corruption,
    /// Its acceptance threshold.
    pub threshold: f64,
    /// Samples asked for (`K`).
    pub requested: usize,
    /// Samples kept.
    pub accepted: usize,
    /// Tries made (up to and including the last kept one, or all `max_tries`).
    pub tries: usize,
    /// Whether `max_tries` ran out before `K` samples were kept.
    pub exhausted: bool,
}

/// The kept samples of one corruption and the summary of tries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorruptionSet {
    /// Number of features `F` of every sample.
    pub n_features: usize,
    /// Kept samples, in the order of their tries.
    pub samples: Vec<CorruptedSample>,
    /// The summary.
    pub summary: TriesSummary,
}

impl CorruptionSet {
    /// The corrupted samples as a matrix `[K, F]`.
    pub fn corrupted(&self) -> Array2<f32> {
        stack(self.samples.iter().map(|s| &s.corrupted), self.n_features)
    }

    /// The clean originals as a matrix `[K, F]`.
    pub fn originals(&self) -> Array2<f32> {
        stack(self.samples.iter().map(|s| &s.original), self.n_features)
    }

    /// The corrupted feature of every sample.
    pub fn features(&self) -> Vec<usize> {
        self.samples.iter().map(|s| s.feature).collect()
    }
}

fn stack<'a>(rows: impl ExactSizeIterator<Item = &'a Vec<f32>>, f: usize) -> Array2<f32> {
    let n = rows.len();
    let mut flat = Vec::with_capacity(n * f);
    for r in rows {
        flat.extend_from_slice(r);
    }
    Array2::from_shape_vec((n, f), flat).expect("every sample has n_features values")
}

/// Generates corrupted samples for one detector; see the [crate docs](crate) for the
/// protocol. Built with [`CorruptionGenerator::new`], which checks the settings and fixes
/// the feature ranges, the score normaliser and the clean limit from the reference rows.
pub struct CorruptionGenerator<'m> {
    recon: &'m Reconstruct<'m>,
    params: CorruptionParams,
    low: Vec<f32>,
    high: Vec<f32>,
    normalizer: ScoreNormalizer,
    clean_limit: f64,
    device: Device,
}

impl std::fmt::Debug for CorruptionGenerator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorruptionGenerator")
            .field("params", &self.params)
            .field("normalizer", &self.normalizer)
            .field("clean_limit", &self.clean_limit)
            .field("n_features", &self.low.len())
            .finish_non_exhaustive()
    }
}

impl<'m> CorruptionGenerator<'m> {
    /// Builds a generator for the detector `recon`, with `reference` `[R, F]` (f32,
    /// finite; typically the training rows) defining each feature's range, the score
    /// normaliser and the clean limit.
    ///
    /// # Errors
    /// [`CorruptionError::InvalidParam`] for a bad setting; `ShapeMismatch` / `NonFinite`
    /// for a bad reference or reconstruction; `DegenerateScores` when all reference rows
    /// score the same.
    pub fn new(
        recon: &'m Reconstruct<'m>,
        reference: &Tensor,
        params: CorruptionParams,
    ) -> Result<Self> {
        params.check()?;
        let (_, f) = check_matrix("reference", reference, None)?;
        let mut generator = CorruptionGenerator {
            recon,
            params,
            low: Vec::new(),
            high: Vec::new(),
            normalizer: ScoreNormalizer { lo: 0.0, hi: 1.0 },
            clean_limit: 0.0,
            device: reference.device(),
        };
        let scores = generator.score_rows(reference, f)?;
        generator.normalizer =
            ScoreNormalizer::from_reference(&scores, generator.params.score_upper_quantile)?;
        generator.clean_limit = quantile(&scores, generator.params.clean_quantile)?;
        let _guard = tch::no_grad_guard();
        generator.low = to_vec(&reference.f_amin(0, false)?)?;
        generator.high = to_vec(&reference.f_amax(0, false)?)?;
        Ok(generator)
    }

    /// The checked settings.
    pub fn params(&self) -> &CorruptionParams {
        &self.params
    }

    /// Number of features `F`.
    pub fn n_features(&self) -> usize {
        self.low.len()
    }

    /// Per-feature `(min, max)` over the reference rows: the random corruption's range and
    /// the adversarial corruption's clipping bounds.
    pub fn feature_range(&self) -> (&[f32], &[f32]) {
        (&self.low, &self.high)
    }

    /// The score normaliser fixed from the reference rows.
    pub fn normalizer(&self) -> ScoreNormalizer {
        self.normalizer
    }

    /// Pool rows with a raw score at most this are clean.
    pub fn clean_limit(&self) -> f64 {
        self.clean_limit
    }

    /// Raw anomaly scores (mean squared reconstruction error) of the rows of `x` `[B, F]`,
    /// computed under no-grad in batches of `batch_size` rows.
    pub fn scores(&self, x: &Tensor) -> Result<Vec<f64>> {
        let (_, f) = check_matrix("samples", x, Some(self.n_features()))?;
        self.score_rows(x, f)
    }

    /// [`CorruptionGenerator::scores`] normalised to `[0, 1]`.
    pub fn normalized_scores(&self, x: &Tensor) -> Result<Vec<f64>> {
        Ok(self
            .scores(x)?
            .into_iter()
            .map(|s| self.normalizer.normalize(s))
            .collect())
    }

    /// Indices of the rows of `pool` whose raw score is at most [`Self::clean_limit`].
    pub fn clean_rows(&self, pool: &Tensor) -> Result<Vec<usize>> {
        let scores = self.scores(pool)?;
        Ok((0..scores.len())
            .filter(|&i| scores[i] <= self.clean_limit)
            .collect())
    }

    /// The null corruption of row `b` of `x` at `features[b]`.
    pub fn null(&self, x: &Tensor, features: &[usize]) -> Result<Tensor> {
        let values = vec![self.params.null_value; features.len()];
        self.replace(x, features, &values)
    }

    /// The random corruption of row `b` of `x` at `c = features[b]`:
    /// `lo_c + fractions[b] (hi_c − lo_c)`, with `fractions` in `[0, 1]`.
    pub fn random(&self, x: &Tensor, features: &[usize], fractions: &[f32]) -> Result<Tensor> {
        if fractions.len() != features.len() {
            return Err(CorruptionError::ShapeMismatch {
                what: "random fractions",
                expected: format!("{} (one per feature index)", features.len()),
                got: fractions.len().to_string(),
            });
        }
        if let Some(u) = fractions.iter().find(|u| !(0.0..=1.0).contains(*u)) {
            return Err(CorruptionError::InvalidParam {
                param: "random fraction",
                value: u.to_string(),
                rule: "must be in [0, 1]",
            });
        }
        self.check_features(features)?;
        let values: Vec<f32> = features
            .iter()
            .zip(fractions)
            .map(|(&c, &u)| self.low[c] + u * (self.high[c] - self.low[c]))
            .collect();
        self.replace(x, features, &values)
    }

    /// The adversarial corruption of row `b` of `start` at `features[b]`: I-FGSM on that
    /// feature alone (see [`IfgsmParams`](crate::IfgsmParams)). `start` is usually a random corruption
    /// of a clean sample at the same features, as the paper recommends.
    pub fn adversarial(&self, start: &Tensor, features: &[usize]) -> Result<Tensor> {
        let (b, _) = check_matrix("adversarial start", start, Some(self.n_features()))?;
        self.check_batch_features(b, features)?;
        let idx = self.index_tensor(features)?;
        let pick = |v: &[f32]| -> Result<Tensor> {
            let vals: Vec<f32> = features.iter().map(|&c| v[c]).collect();
            Ok(Tensor::f_from_slice(&vals)?.f_to_device(self.device)?)
        };
        let (low, high) = (pick(&self.low)?, pick(&self.high)?);
        let best = optimise_feature(self.recon, start, &idx, &low, &high, &self.params.ifgsm)?;
        let _guard = tch::no_grad_guard();
        Ok(start
            .f_detach()?
            .f_scatter(1, &idx, &best.f_unsqueeze(1)?)?)
    }

    /// Generates up to `k` corrupted samples of kind `kind` from the clean rows of `pool`
    /// `[N, F]`; see the [crate docs](crate). Stops early, with
    /// [`TriesSummary::exhausted`] set, when `max_tries` run out.
    ///
    /// # Errors
    /// `InvalidParam` for `k = 0`; `ShapeMismatch` / `NonFinite` for a bad pool;
    /// `NoCleanSamples` when no pool row is clean.
    pub fn generate(&self, pool: &Tensor, kind: Corruption, k: usize) -> Result<CorruptionSet> {
        if k == 0 {
            return Err(CorruptionError::InvalidParam {
                param: "k",
                value: "0".into(),
                rule: "must be at least 1",
            });
        }
        let f = self.n_features();
        let clean = self.clean_rows(pool)?;
        if clean.is_empty() {
            return Err(CorruptionError::NoCleanSamples {
                pool: pool.size()[0] as usize,
                limit: self.clean_limit,
                quantile: self.params.clean_quantile,
            });
        }
        let threshold = self.params.thresholds.get(kind);
        let mut rng = ChaCha8Rng::seed_from_u64(self.params.seed);
        let progress = progress_bar(k as u64, kind);
        let mut samples = Vec::with_capacity(k);
        let mut tries = 0usize;
        while samples.len() < k && tries < self.params.max_tries {
            let n = self.params.batch_size.min(self.params.max_tries - tries);
            let mut rows = Vec::with_capacity(n);
            let mut features = Vec::with_capacity(n);
            let mut fractions = Vec::with_capacity(n);
            for _ in 0..n {
                rows.push(clean[rng.gen_range(0..clean.len())]);
                features.push(rng.gen_range(0..f));
                fractions.push(rng.gen::<f32>());
            }
            let row_idx =
                Tensor::f_from_slice(&rows.iter().map(|&r| r as i64).collect::<Vec<_>>())?
                    .f_to_device(self.device)?;
            let x = pool.f_index_select(0, &row_idx)?;
            let corrupted = match kind {
                Corruption::Null => self.null(&x, &features)?,
                Corruption::Random => self.random(&x, &features, &fractions)?,
                Corruption::Adversarial => {
                    let start = self.random(&x, &features, &fractions)?;
                    self.adversarial(&start, &features)?
                }
            };
            let raw = self.score_rows(&corrupted, f)?;
            let (before, after) = (to_vec(&x)?, to_vec(&corrupted)?);
            for i in 0..n {
                tries += 1;
                let c = features[i];
                let (orig, corr) = (&before[i * f..(i + 1) * f], &after[i * f..(i + 1) * f]);
                // A corruption that leaves x_c as it was (e.g. null on a feature already at
                // 0) is no corruption: its anomaly, if any, is not caused by feature c.
                let changed = orig[c].to_bits() != corr[c].to_bits();
                let score = self.normalizer.normalize(raw[i]);
                if changed && score > threshold {
                    samples.push(CorruptedSample {
                        row: rows[i],
                        feature: c,
                        original: orig.to_vec(),
                        corrupted: corr.to_vec(),
                        score,
                        raw_score: raw[i],
                        tries,
                    });
                    progress.inc(1);
                    if samples.len() == k {
                        break;
                    }
                }
            }
            progress.set_message(format!("{tries} tries"));
        }
        progress.finish_and_clear();
        let accepted = samples.len();
        Ok(CorruptionSet {
            n_features: f,
            samples,
            summary: TriesSummary {
                corruption: kind,
                threshold,
                requested: k,
                accepted,
                tries,
                exhausted: accepted < k,
            },
        })
    }

    fn replace(&self, x: &Tensor, features: &[usize], values: &[f32]) -> Result<Tensor> {
        let (b, _) = check_matrix("samples", x, Some(self.n_features()))?;
        self.check_batch_features(b, features)?;
        let _guard = tch::no_grad_guard();
        let idx = self.index_tensor(features)?;
        let src = Tensor::f_from_slice(values)?
            .f_to_device(x.device())?
            .f_unsqueeze(1)?;
        Ok(x.f_detach()?.f_scatter(1, &idx, &src)?)
    }

    fn index_tensor(&self, features: &[usize]) -> Result<Tensor> {
        let idx: Vec<i64> = features.iter().map(|&c| c as i64).collect();
        Ok(Tensor::f_from_slice(&idx)?
            .f_to_device(self.device)?
            .f_unsqueeze(1)?)
    }

    fn check_features(&self, features: &[usize]) -> Result<()> {
        let n_features = self.n_features();
        match features.iter().find(|&&c| c >= n_features) {
            Some(&feature) => Err(CorruptionError::FeatureOutOfRange {
                feature,
                n_features,
            }),
            None => Ok(()),
        }
    }

    fn check_batch_features(&self, b: usize, features: &[usize]) -> Result<()> {
        if features.len() != b {
            return Err(CorruptionError::ShapeMismatch {
                what: "feature indices",
                expected: format!("{b} (one per row)"),
                got: features.len().to_string(),
            });
        }
        self.check_features(features)
    }

    /// Scores rows already checked to be `[B, f]`, finite, f32.
    fn score_rows(&self, x: &Tensor, f: usize) -> Result<Vec<f64>> {
        let _guard = tch::no_grad_guard();
        let n = x.size()[0];
        let mut scores = Vec::with_capacity(n as usize);
        let step = self.params.batch_size as i64;
        let mut start = 0;
        while start < n {
            let len = step.min(n - start);
            let chunk = x.f_narrow(0, start, len)?;
            let x_hat = (self.recon)(&chunk)?;
            check_reconstruction(&chunk, &x_hat)?;
            let err = to_vec(&chunk.f_sub(&x_hat)?.f_square()?)?;
            for (i, row) in err.chunks(f).enumerate() {
                if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                    return Err(CorruptionError::NonFinite {
                        what: "reconstruction error",
                        row: start as usize + i,
                        feature: j,
                    });
                }
                scores.push(row.iter().map(|&v| f64::from(v)).sum::<f64>() / f as f64);
            }
            start += len;
        }
        Ok(scores)
    }
}

fn progress_bar(len: u64, kind: Corruption) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{kind:>11} corruption [{{bar:30}}] {{pos}}/{{len}} kept, {{msg}}"
    )) {
        bar.set_style(style);
    }
    bar
}

/// Checks that `x` is a finite f32 matrix `[B, F]` with `B, F >= 1` (and `F = want` when
/// given); returns `(B, F)`.
fn check_matrix(what: &'static str, x: &Tensor, want: Option<usize>) -> Result<(usize, usize)> {
    let size = x.size();
    let shape_err = |expected: String| CorruptionError::ShapeMismatch {
        what,
        expected,
        got: format!("{size:?} of {:?}", x.kind()),
    };
    let expected = match want {
        Some(f) => format!("an f32 matrix [rows >= 1, {f}]"),
        None => "an f32 matrix [rows >= 1, features >= 1]".to_string(),
    };
    if size.len() != 2 || size[0] < 1 || size[1] < 1 || x.kind() != Kind::Float {
        return Err(shape_err(expected));
    }
    let (b, f) = (size[0] as usize, size[1] as usize);
    if want.is_some_and(|w| w != f) {
        return Err(shape_err(expected));
    }
    let values = to_vec(x)?;
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(CorruptionError::NonFinite {
            what,
            row: i / f,
            feature: i % f,
        });
    }
    Ok((b, f))
}

fn to_vec(t: &Tensor) -> Result<Vec<f32>> {
    let flat = t
        .f_detach()?
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Float)?
        .f_contiguous()?
        .f_view([-1])?;
    Ok(Vec::<f32>::try_from(&flat)?)
}
