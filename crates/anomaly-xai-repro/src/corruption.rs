//! Paper 2's corruption validation end to end on a real table: train a dense autoencoder
//! on the normal rows, corrupt held-out clean rows (null, random, adversarial), explain
//! every corrupted sample with each method, and score the explanations by recall@m.
//!
//! Protocol (the defaults, [`ValidationConfig::paper`]):
//! * data: the table's normal rows (benign tumours, normal traffic), split seeded into
//!   70 % training rows and 30 % held-out rows; min-max scaling fitted on the training
//!   rows ([`anomaly_xai::models::MinMaxScaler`]);
//! * detector: a [`DenseAe`] trained with the L2 (MSE) loss on the training rows;
//! * corruptions: [`CorruptionGenerator`] with the training rows as reference and the
//!   held-out rows as pool, `K = 100` samples per corruption;
//! * methods, all explaining the mean squared reconstruction error: LRP (Deep-Taylor L2
//!   seed, w² on the first layer, z⁺ elsewhere: [`Preset::Paper2Dense`]), Kernel SHAP
//!   (1000 coalitions, a background of up to 755 training rows, as the paper), the L2
//!   residual, Occlusion (one feature at a time), Integrated Gradients (50
//!   Gauss-Legendre points) and, beyond the paper, LRP with ε on every layer
//!   ([`Preset::Epsilon`]) and deviation LRP from each sample's reconstruction and from the
//!   training mean ([`MethodSpec::lrp_deviation`]). Occlusion and IG replace features by
//!   the training mean: a zero baseline would make the null corruption (`x_c = 0`)
//!   invisible to both, since they credit `x_c − x'_c`;
//! * reference row, after the methods: "Deviation from normal (no detector)", each
//!   feature's absolute distance from its training mean ([`MethodSpec::deviation`]): what
//!   a method recalls above it is what the autoencoder and the explanation add;
//! * score: recall@m for `m = 1..M` ([`anomaly_xai::metrics::recall_at_m`], ties averaged), and the
//!   wall time per explanation (each method explains the `K` samples of a corruption in
//!   one call; time / `K`; one untimed call per method first, the best of five runs
//!   for calls under a second, the median over the corruptions).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use anomaly_xai::attrib::{BaselineSpec, IntegratedGradients, KernelShap, Occlusion};
use anomaly_xai::data::{load_breast_cancer, load_nsl_kdd, NslKddSplit, Table};
use anomaly_xai::lrp::{Preset, RootPoint};
use anomaly_xai::metrics::{median, recall_at_m, Ties};
use anomaly_xai::models::convert::{array_to_tensor, tensor_to_array};
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::{
    DenseAe, DenseAeConfig, ErrorNorm, ExplainedError, LayerModel, MinMaxScaler,
};
use ndarray::{Array2, Ix2};
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use anomaly_xai::corruption::{Corruption, CorruptionGenerator, CorruptionParams, TriesSummary};
use anomaly_xai::error::{Error, Result};
use anomaly_xai::method::{Context, Method, MethodSpec, PreparedMethod};
#[cfg(feature = "plot")]
use anomaly_xai::plot::{RecallLine, RecallPanel};

/// Which table the validation runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableSource {
    /// Breast cancer (30 features; benign rows are normal).
    BreastCancer,
    /// NSL-KDD `KDDTrain+_20Percent`, its 38 numeric features; `normal` rows are normal.
    NslKdd,
}

impl FromStr for TableSource {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "breast-cancer" => Ok(TableSource::BreastCancer),
            "nsl-kdd" => Ok(TableSource::NslKdd),
            _ => Err(Error::InvalidSetting {
                setting: "data",
                value: s.to_string(),
                rule: "must be breast-cancer or nsl-kdd".into(),
            }),
        }
    }
}

/// Paper 2's methods, all explaining the mean squared reconstruction error, in report
/// order: LRP (paper 2's dense preset), LRP with ε on every layer (not in the paper; it
/// shows what the input-independent w² first layer costs), Kernel SHAP (`kernel_shap`
/// coalitions over up to `background` training rows), the L2 residual, Occlusion of one
/// feature at a time and Integrated Gradients (`ig_steps` Gauss-Legendre points), both from
/// the training mean; then, not in the paper, deviation LRP from each sample's
/// reconstruction and from the training mean ([`MethodSpec::lrp_deviation`]), which sees a
/// lowered feature as well as a raised one.
pub fn paper_methods(
    kernel_shap: usize,
    background: usize,
    ig_steps: usize,
) -> Result<Vec<MethodSpec>> {
    Ok(vec![
        MethodSpec::lrp(Preset::Paper2Dense).labelled("LRP"),
        MethodSpec::lrp(Preset::Epsilon { eps: 1e-6 }).labelled("LRP eps"),
        MethodSpec::attrib(KernelShap::params().n_samples(kernel_shap).check()?)
            .baseline(BaselineSpec::Background {
                n: background as i64,
            })
            .labelled("Kernel SHAP"),
        MethodSpec::residual(ErrorNorm::SquaredL2).labelled("Residual L2"),
        MethodSpec::attrib(Occlusion::params().window([1]).check()?)
            .baseline(BaselineSpec::FeatureMeans)
            .labelled("Occlusion"),
        MethodSpec::attrib(IntegratedGradients::params().n_steps(ig_steps).check()?)
            .baseline(BaselineSpec::FeatureMeans)
            .labelled("Integrated Gradients"),
        MethodSpec::lrp_deviation(RootPoint::Reconstruction).labelled("LRP dev recon"),
        MethodSpec::lrp_deviation(RootPoint::Baseline).labelled("LRP dev mean"),
    ])
}

/// Everything a validation run needs; serialised into its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationConfig {
    /// The table.
    pub data: TableSource,
    /// The directory holding `breast_cancer/` and `nsl_kdd/` (`shared/data/tabular`).
    pub data_dir: PathBuf,
    /// Corrupted samples per corruption (`K`).
    pub k: usize,
    /// Seed of the split, the model's initial weights, training and Kernel SHAP; the
    /// corruption seed is in [`ValidationConfig::corruption`].
    pub seed: u64,
    /// Share of the normal rows used for training; the rest is the corruption pool.
    pub train_fraction: f64,
    /// Encoder widths of the [`DenseAe`] (the decoder mirrors them).
    pub hidden: Vec<i64>,
    /// Training settings (the loss should be L2, the explained error).
    pub train: TrainConfig,
    /// Corruption settings.
    pub corruption: CorruptionParams,
    /// The methods to run, in report order ([`paper_methods`] by default). They explain
    /// the mean squared reconstruction error; baselines come from the training rows.
    pub methods: Vec<MethodSpec>,
}

impl ValidationConfig {
    /// The paper's settings on `data`: `K = 100`, Kernel SHAP with 1000 coalitions and up
    /// to 755 background rows, thresholds 0.3 / 0.5 / 0.3.
    pub fn paper(data: TableSource, data_dir: impl Into<PathBuf>) -> Result<Self> {
        let (epochs, batch_size, patience) = match data {
            TableSource::BreastCancer => (400, 32, 40),
            TableSource::NslKdd => (60, 256, 8),
        };
        Ok(ValidationConfig {
            data,
            data_dir: data_dir.into(),
            k: 100,
            seed: 0,
            train_fraction: 0.7,
            hidden: vec![16, 8],
            train: TrainConfig {
                epochs,
                batch_size,
                lr: 3e-3,
                patience: Some(patience),
                loss: ErrorNorm::SquaredL2,
                quiet: true,
                ..TrainConfig::default()
            },
            corruption: CorruptionParams::default(),
            methods: paper_methods(1000, 755, 50)?,
        })
    }

    /// A quick run for smoke tests and demos: `K = 10`, fewer epochs, 200 Kernel SHAP
    /// coalitions over 100 background rows, 16 IG points, 50 I-FGSM steps.
    pub fn quick(data: TableSource, data_dir: impl Into<PathBuf>) -> Result<Self> {
        let mut c = Self::paper(data, data_dir)?;
        c.k = 10;
        c.train.epochs = c.train.epochs.min(80);
        c.methods = paper_methods(200, 100, 16)?;
        c.corruption.ifgsm.max_steps = 50;
        Ok(c)
    }
}

/// One method's result on one corruption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodResult {
    /// The method's label.
    pub method: String,
    /// `recall[m − 1]` = recall@m, `m = 1..=M`.
    pub recall: Vec<f64>,
    /// Wall time of explaining all `K` samples in one call, in seconds (the best of up to
    /// five runs for calls under a second).
    pub seconds: f64,
    /// `seconds / K`: the cost of an explanation when explanations are batched.
    pub seconds_per_explanation: f64,
    /// Wall time of explaining the first sample alone (batch of one; best of up to five
    /// runs under a second): the latency of a single explanation.
    pub seconds_one_sample: f64,
}

/// One corruption's samples and every method's result on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorruptionResult {
    /// How generation went (tries, acceptance).
    pub summary: TriesSummary,
    /// The corrupted feature of every sample.
    pub features: Vec<usize>,
    /// One entry per method.
    pub methods: Vec<MethodResult>,
}

/// The whole run, serialisable to JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// The settings.
    pub config: ValidationConfig,
    /// Feature names.
    pub feature_names: Vec<String>,
    /// Training rows.
    pub n_train: usize,
    /// Held-out (pool) rows.
    pub n_pool: usize,
    /// Pool rows clean enough to corrupt.
    pub n_clean: usize,
    /// Epochs trained and the best epoch's loss (validation loss when there is one).
    pub epochs_run: usize,
    /// The model's loss at its best epoch.
    pub best_loss: f64,
    /// One entry per corruption (null, random, adversarial); one without any accepted
    /// sample has no method results.
    pub corruptions: Vec<CorruptionResult>,
    /// Median over the corruptions of each method's seconds per explanation.
    pub seconds_per_explanation: Vec<(String, f64)>,
    /// Kernel SHAP's time per explanation over LRP's (batched), when both ran.
    pub kernel_shap_over_lrp: Option<f64>,
    /// Median over the corruptions of each method's single-sample latency.
    pub seconds_one_sample: Vec<(String, f64)>,
    /// Kernel SHAP's single-sample latency over LRP's, when both ran.
    pub kernel_shap_over_lrp_one_sample: Option<f64>,
}

impl ValidationReport {
    /// One Figure-2 panel per corruption with samples.
    #[cfg(feature = "plot")]
    pub fn panels(&self) -> Vec<RecallPanel> {
        self.corruptions
            .iter()
            .filter(|c| !c.methods.is_empty())
            .map(|c| RecallPanel {
                title: format!(
                    "{} (K = {}, T = {})",
                    c.summary.corruption, c.summary.accepted, c.summary.threshold
                ),
                curves: c
                    .methods
                    .iter()
                    .map(|m| RecallLine {
                        label: m.method.clone(),
                        recall: m.recall.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Markdown: per corruption, a table of recall@m (rows `m = 1..=M`, one column per
    /// method), then the time per explanation.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        for c in &self.corruptions {
            let t = &c.summary;
            let _ = writeln!(
                s,
                "\n{} corruption: {} samples (threshold {}) in {} tries{}\n",
                t.corruption,
                t.accepted,
                t.threshold,
                t.tries,
                if t.exhausted {
                    format!(", fewer than the {} requested", t.requested)
                } else {
                    String::new()
                }
            );
            if c.methods.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "| m | {} |",
                c.methods
                    .iter()
                    .map(|m| m.method.as_str())
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            let _ = writeln!(s, "|---|{}", "---|".repeat(c.methods.len()));
            let m_max = c.methods.first().map_or(0, |m| m.recall.len());
            for m in 0..m_max {
                let cells: Vec<String> = c
                    .methods
                    .iter()
                    .map(|r| format!("{:.3}", r.recall[m]))
                    .collect();
                let _ = writeln!(s, "| {} | {} |", m + 1, cells.join(" | "));
            }
        }
        let _ = writeln!(
            s,
            "\n| method | seconds per explanation, batched | seconds, one sample alone |\n|---|---|---|"
        );
        for (m, t) in &self.seconds_per_explanation {
            let one = self
                .seconds_one_sample
                .iter()
                .find(|(x, _)| x == m)
                .map(|&(_, t)| t);
            let one = one.map_or("-".to_string(), |t| format!("{t:.3e}"));
            let _ = writeln!(s, "| {m} | {t:.3e} | {one} |");
        }
        for (what, r) in [
            ("batched", self.kernel_shap_over_lrp),
            ("one sample", self.kernel_shap_over_lrp_one_sample),
        ] {
            if let Some(r) = r {
                let _ = writeln!(
                    s,
                    "\nKernel SHAP / LRP time per explanation ({what}): {r:.0} ({:.1} orders of magnitude)",
                    r.log10()
                );
            }
        }
        s
    }
}

/// Runs of a method that are timed, at most, when each is faster than
/// [`REPEAT_BELOW_SECONDS`].
const TIMING_REPEATS: usize = 5;

/// Methods faster than this per batch are timed [`TIMING_REPEATS`] times.
const REPEAT_BELOW_SECONDS: f64 = 1.0;

/// Explains `x` with `method` and times it; fast calls are timed again and the best run
/// kept, as a single millisecond-long run measures the allocator and thread pool as much
/// as the method.
fn timed(ctx: &Context<'_>, method: &PreparedMethod, x: &Tensor) -> Result<(Tensor, f64)> {
    let start = Instant::now();
    let scores = method.explain(ctx, x)?;
    let mut seconds = start.elapsed().as_secs_f64();
    for _ in 1..TIMING_REPEATS {
        if seconds >= REPEAT_BELOW_SECONDS {
            break;
        }
        let again = Instant::now();
        let _repeat = method.explain(ctx, x)?;
        seconds = seconds.min(again.elapsed().as_secs_f64());
    }
    Ok((scores, seconds))
}

/// Runs the validation (see the module docs).
///
/// # Errors
/// Any error of loading, training, generating or explaining, with its cause.
pub fn run_validation(cfg: &ValidationConfig) -> Result<ValidationReport> {
    if cfg.k == 0
        || cfg.methods.is_empty()
        || !(cfg.train_fraction > 0.0 && cfg.train_fraction < 1.0)
    {
        return Err(Error::InvalidSetting {
            setting: "validation config",
            value: format!(
                "k = {}, {} methods, train_fraction = {}",
                cfg.k,
                cfg.methods.len(),
                cfg.train_fraction
            ),
            rule: "needs k >= 1, at least one method and 0 < train_fraction < 1".into(),
        });
    }
    let table = match cfg.data {
        TableSource::BreastCancer => load_breast_cancer(cfg.data_dir.join("breast_cancer"))?,
        TableSource::NslKdd => load_nsl_kdd(cfg.data_dir.join("nsl_kdd"), NslKddSplit::Train20)?,
    };
    let (train_rows, pool_rows) =
        Table::shuffled_split(&table.normal_indices(), cfg.train_fraction, cfg.seed);
    let (train_t, pool_t) = (table.select(&train_rows)?, table.select(&pool_rows)?);
    let scaler = MinMaxScaler::fit(&train_t.features.view())?;
    let to_tensor = |a: &Array2<f32>| -> Result<Tensor> {
        Ok(array_to_tensor(
            &scaler.transform(&a.view())?.view().into_dyn(),
            Device::Cpu,
        )?)
    };
    let (train_x, pool_x) = (to_tensor(&train_t.features)?, to_tensor(&pool_t.features)?);

    let f = table.n_features() as i64;
    let ae = DenseAe::seeded(
        &DenseAeConfig::new(f, cfg.hidden.clone()),
        Device::Cpu,
        cfg.seed,
    )?;
    let summary = train(
        &ae,
        &train_x,
        &TrainConfig {
            seed: cfg.seed,
            ..cfg.train.clone()
        },
    )?;
    let best_loss = summary
        .best_val_loss
        .or_else(|| {
            summary
                .train_losses
                .get(summary.best_epoch.saturating_sub(1))
                .copied()
        })
        .unwrap_or(f64::NAN);

    let recon = |x: &Tensor| ae.forward(x);
    let generator = CorruptionGenerator::new(&recon, &train_x, cfg.corruption.clone())?;
    let n_clean = generator.clean_rows(&pool_x)?.len();
    let ctx = Context {
        detector: &ae,
        attention: None,
        train: Some(&train_x),
        reference: None,
    };
    let error = ExplainedError::new(ErrorNorm::SquaredL2);
    // The reference row last: each feature's distance from its training mean, no detector.
    let deviation = MethodSpec::deviation();
    let mut all_methods = cfg.methods.clone();
    if !all_methods.iter().any(|m| m.label() == deviation.label()) {
        all_methods.push(deviation);
    }
    let prepared: Vec<PreparedMethod> = all_methods
        .iter()
        .map(|m| m.prepare(&ctx, &error, None, None))
        .collect::<Result<_>>()?;
    // One untimed explanation per method first: the first call of a method pays for
    // libtorch's lazy initialisation, which is not the method's cost.
    let first = pool_x.f_narrow(0, 0, 1)?;
    for method in &prepared {
        let _warm = method.explain(&ctx, &first)?;
    }

    let mut corruptions = Vec::new();
    for kind in Corruption::ALL {
        let set = generator.generate(&pool_x, kind, cfg.k)?;
        if set.samples.is_empty() {
            corruptions.push(CorruptionResult {
                summary: set.summary,
                features: vec![],
                methods: vec![],
            });
            continue;
        }
        let x = array_to_tensor(&set.corrupted().view().into_dyn(), Device::Cpu)?;
        let features = set.features();
        let mut methods = Vec::new();
        for method in &prepared {
            let (scores, seconds) = timed(&ctx, method, &x)?;
            let (_, seconds_one_sample) = timed(&ctx, method, &x.f_narrow(0, 0, 1)?)?;
            let scores = tensor_to_array(&scores)?
                .into_dimensionality::<Ix2>()
                .map_err(|_| Error::Shape {
                    what: "attribution scores",
                    expected: format!("[{}, {f}]", features.len()),
                    got: scores.size().iter().map(|&d| d as usize).collect(),
                })?;
            let curve = recall_at_m(scores.view(), &features, Ties::Average)?;
            methods.push(MethodResult {
                method: method.spec().label(),
                recall: curve.recall,
                seconds,
                seconds_per_explanation: seconds / features.len() as f64,
                seconds_one_sample,
            });
        }
        corruptions.push(CorruptionResult {
            summary: set.summary,
            features,
            methods,
        });
    }

    let labels: Vec<String> = all_methods.iter().map(MethodSpec::label).collect();
    let per_method = |pick: fn(&MethodResult) -> f64| -> Vec<(String, f64)> {
        labels
            .iter()
            .filter_map(|m| {
                let times: Vec<f64> = corruptions
                    .iter()
                    .flat_map(|c| c.methods.iter().filter(|r| &r.method == m).map(pick))
                    .collect();
                median(times).map(|t| (m.clone(), t))
            })
            .collect()
    };
    // Kernel SHAP against paper 2's LRP: the first of each in the list.
    let first_label = |is: fn(&Method) -> bool| {
        cfg.methods
            .iter()
            .find(|m| is(&m.method))
            .map(MethodSpec::label)
    };
    let kernel_shap = first_label(|m| {
        matches!(
            m,
            Method::Attrib(anomaly_xai::attrib::MethodSpec::KernelShap(_))
        )
    });
    let lrp = first_label(|m| {
        matches!(
            m,
            Method::Lrp {
                preset: Preset::Paper2Dense
            }
        )
    });
    let ratio = |times: &[(String, f64)]| {
        let of = |m: &Option<String>| {
            times
                .iter()
                .find(|(x, _)| Some(x) == m.as_ref())
                .map(|&(_, t)| t)
        };
        match (of(&kernel_shap), of(&lrp)) {
            (Some(k), Some(l)) if l > 0.0 => Some(k / l),
            _ => None,
        }
    };
    let seconds_per_explanation = per_method(|r| r.seconds_per_explanation);
    let seconds_one_sample = per_method(|r| r.seconds_one_sample);
    let kernel_shap_over_lrp = ratio(&seconds_per_explanation);
    let kernel_shap_over_lrp_one_sample = ratio(&seconds_one_sample);
    Ok(ValidationReport {
        config: cfg.clone(),
        feature_names: table.names.clone(),
        n_train: train_rows.len(),
        n_pool: pool_rows.len(),
        n_clean,
        epochs_run: summary.epochs_run,
        best_loss,
        corruptions,
        seconds_per_explanation,
        kernel_shap_over_lrp,
        seconds_one_sample,
        kernel_shap_over_lrp_one_sample,
    })
}
