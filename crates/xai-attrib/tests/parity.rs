//! Parity with Captum 0.9 on committed fixtures (`tests/fixtures/parity/captum/`, written by
//! `xtask/crosscheck/make_fixtures.py`; `cargo xtask crosscheck` regenerates and compares
//! them). No Python needed: each fixture holds its model's weights, the inputs, the settings
//! and Captum's answer.
//!
//! Deterministic methods must match Captum elementwise (f32, `atol = rtol = 1e-5`); sampling
//! methods must come within the fixture's tolerance of the exact values (Shapley values by
//! enumeration, the Gradient SHAP expectation) for every listed seed. Cases whose `requires`
//! names a feature parity.rs does not know fail. Run with `--nocapture`
//! to see every case's largest difference.

#[path = "../../../tests/fixtures/parity/reader.rs"]
mod reader;

use ae_models::state_dict::StateDict;
use ae_models::{ErrorNorm, LayerModel, LstmAe, LstmAeConfig, Sequential};
use serde_json::Value;
use tch::{Device, Kind, Tensor};
use xai_attrib::{
    Attribution, Baseline, ErrorScorer, FeatureAblation, FeatureMask, FeaturePermutation, FnScorer,
    GradientShap, InputXGradient, IntegratedGradients, KernelShap, Occlusion, Quadrature, Request,
    Saliency, Scorer, ShapleyValueSampling, Strides, Target, TargetScorer,
};

/// The features a fixture case's `requires` may name, all built: a case
/// requiring anything else fails rather than being skipped.
const BUILT: &[&str] = &[
    "target",
    "multiply_by_inputs",
    "mask_batch_dim",
    "mask_per_example",
    "scalar_stride",
];

/// The model of a fixture.
enum Model {
    Sequential(Sequential),
    Lstm(LstmAe),
    /// `f(x) = Σ_i w_i tanh(x_i) + c_i x_i²`.
    Additive(Tensor, Tensor),
    /// `f(x) = w·x + b`.
    Linear(Tensor, Tensor),
}

fn model(fixture: &Value) -> Model {
    let m = &fixture["model"];
    match m["kind"].as_str().unwrap() {
        "sequential" => Model::Sequential(reader::sequential(m)),
        "lstm_ae" => {
            let n = |k: &str| m[k].as_i64().unwrap();
            let cfg = LstmAeConfig::with_depths(
                n("n_features"),
                n("window"),
                n("hidden"),
                n("encoder_layers") as usize,
                n("decoder_layers") as usize,
            );
            let sd = StateDict::new(
                m["state_dict"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), reader::tensor(v))),
            );
            Model::Lstm(LstmAe::from_state_dict(&cfg, sd, Device::Cpu).expect("PyTorch state_dict"))
        }
        "additive" => Model::Additive(reader::tensor(&m["w"]), reader::tensor(&m["c"])),
        "linear" => Model::Linear(reader::tensor(&m["weight"]), reader::tensor(&m["bias"])),
        other => panic!("unknown model kind {other}"),
    }
}

/// What the case explains: the reconstruction error, or the model output (the target's
/// column of it, one for every sample or one per sample).
fn scorer<'m>(fixture: &Value, model: &'m Model, target: Option<Target>) -> Box<dyn Scorer + 'm> {
    let s = &fixture["scorer"];
    match (s["kind"].as_str().unwrap(), model) {
        ("reconstruction", m) => {
            let norm = match s["norm"].as_str().unwrap() {
                "l1" => ErrorNorm::L1,
                "l2" => ErrorNorm::SquaredL2,
                other => panic!("unknown norm {other}"),
            };
            let ae: &dyn LayerModel = match m {
                Model::Sequential(m) => m,
                Model::Lstm(m) => m,
                _ => panic!("no reconstruction for this model"),
            };
            Box::new(ErrorScorer::new(ae, norm).expect("the fixture's model"))
        }
        ("output", Model::Sequential(m)) => Box::new(
            TargetScorer::new(
                "classifier",
                move |x: &Tensor| Ok(m.forward(x)?),
                target.expect("a multi-output model needs a target"),
            )
            .expect("the fixture's target"),
        ),
        ("output", Model::Additive(w, c)) => {
            Box::new(FnScorer::new("additive", move |x: &Tensor| {
                let terms = x.f_tanh()?.f_mul(w)?.f_add(&x.f_square()?.f_mul(c)?)?;
                Ok(terms.f_sum_dim_intlist(1, false, Kind::Float)?)
            }))
        }
        ("output", Model::Linear(w, b)) => Box::new(FnScorer::new("linear", move |x: &Tensor| {
            Ok(x.f_matmul(w)?.f_add(b)?)
        })),
        (kind, _) => panic!("unknown scorer {kind}"),
    }
}

fn request(fixture: &Value, case: &Value) -> Request {
    let b = &case["baseline"];
    let baseline = match b["kind"].as_str().unwrap() {
        "zero" => Baseline::Zero,
        "constant" => Baseline::Constant(b["value"].as_f64().unwrap()),
        "tensor" => Baseline::Tensor(reader::named(fixture, b["tensor"].as_str().unwrap())),
        "distribution" => {
            Baseline::Distribution(reader::named(fixture, b["tensor"].as_str().unwrap()))
        }
        other => panic!("unknown baseline {other}"),
    };
    let req = Request::with_baseline(baseline);
    match case.get("mask").and_then(Value::as_str) {
        Some(name) => {
            req.mask(FeatureMask::from_tensor(&reader::named(fixture, name)).expect("a valid mask"))
        }
        None => req,
    }
}

type Method = Box<dyn for<'s> Attribution<dyn Scorer + 's>>;

/// Our method with the case's settings (the seed of sampling methods overridden).
fn method(case: &Value, seed: Option<u64>) -> Method {
    let s = &case["settings"];
    let int = |k: &str| s[k].as_u64().unwrap() as usize;
    let ints = |k: &str| -> Vec<i64> {
        s[k].as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    let multiply = s
        .get("multiply_by_inputs")
        .is_none_or(|v| v.as_bool().unwrap());
    let seed = seed.unwrap_or_else(|| s.get("seed").and_then(Value::as_u64).unwrap_or(0));
    match case["method"].as_str().unwrap() {
        "saliency" => Box::new(
            Saliency::params()
                .abs(s["abs"].as_bool().unwrap())
                .check()
                .unwrap(),
        ),
        "input_x_gradient" => Box::new(InputXGradient::default()),
        "integrated_gradients" => {
            let q = match s["method"].as_str().unwrap() {
                "gausslegendre" => Quadrature::GaussLegendre,
                "riemann_left" => Quadrature::RiemannLeft,
                "riemann_right" => Quadrature::RiemannRight,
                "riemann_middle" => Quadrature::RiemannMiddle,
                "riemann_trapezoid" => Quadrature::RiemannTrapezoid,
                other => panic!("unknown quadrature {other}"),
            };
            Box::new(
                IntegratedGradients::params()
                    .n_steps(int("n_steps"))
                    .method(q)
                    .batch_size(7)
                    .multiply_by_inputs(multiply)
                    .convergence_delta(multiply)
                    .check()
                    .unwrap(),
            )
        }
        "gradient_shap" => Box::new(
            GradientShap::params()
                .n_samples(int("n_samples"))
                .stdevs(s["stdevs"].as_f64().unwrap())
                .seed(seed)
                .multiply_by_inputs(multiply)
                .convergence_delta(multiply)
                .check()
                .unwrap(),
        ),
        "feature_ablation" => Box::new(FeatureAblation::params().batch_size(5).check().unwrap()),
        "occlusion" => Box::new(
            Occlusion::params()
                .window(ints("window"))
                .strides(serde_json::from_value::<Strides>(s["strides"].clone()).unwrap())
                .check()
                .unwrap(),
        ),
        "feature_permutation" => Box::new(FeaturePermutation::params().seed(seed).check().unwrap()),
        "shapley_value_sampling" => Box::new(
            ShapleyValueSampling::params()
                .n_permutations(int("n_samples"))
                .seed(seed)
                .check()
                .unwrap(),
        ),
        "kernel_shap" => Box::new(
            KernelShap::params()
                .n_samples(int("n_samples"))
                .efficiency(s["efficiency"].as_bool().unwrap())
                .paired(s["paired"].as_bool().unwrap())
                .seed(seed)
                .check()
                .unwrap(),
        ),
        other => panic!("unknown method {other}"),
    }
}

/// Runs every case of `captum/<name>.json`; returns how many were checked.
fn run_fixture(name: &str) -> usize {
    let fixture = reader::load("captum", name);
    let model = model(&fixture);
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in fixture["cases"].as_array().unwrap() {
        let case_name = case["name"].as_str().unwrap().to_string();
        let requires: Vec<String> = case["requires"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect();
        if let Some(r) = requires.iter().find(|r| !BUILT.contains(&r.as_str())) {
            panic!("{name}/{case_name} requires `{r}`, which parity.rs does not know");
        }
        let target = case
            .get("target")
            .map(|t| serde_json::from_value::<Target>(t.clone()).expect("a target"));
        let scorer = scorer(&fixture, &model, target);
        let x = reader::named(&fixture, case["input"].as_str().unwrap());
        let req = request(&fixture, case);
        let expected = reader::tensor(&case["expected"]);
        let check = &case["check"];
        let atol = check["atol"].as_f64().unwrap();
        match check["kind"].as_str().unwrap() {
            "allclose" => {
                let rtol = check["rtol"].as_f64().unwrap();
                let a = method(case, None)
                    .attribute(scorer.as_ref(), &x, &req)
                    .unwrap_or_else(|e| panic!("{name}/{case_name}: {e}"));
                let (diff, ok) = reader::allclose(&a.scores, &expected, atol, rtol);
                let mut line = format!("{name}/{case_name}: max |ours - captum| = {diff:.2e}");
                let mut good = ok;
                if let Some(d) = case.get("delta") {
                    let ours = a.delta.expect("a convergence delta");
                    let (dd, dok) = reader::allclose(&ours, &reader::tensor(d), atol, rtol);
                    line += &format!(", delta {dd:.2e}");
                    good &= dok;
                }
                eprintln!("{line}{}", if good { "" } else { "  FAIL" });
                if !good {
                    failures.push(line);
                }
            }
            "max_abs" => {
                for seed in check["seeds"].as_array().unwrap() {
                    let seed = seed.as_u64().unwrap();
                    let a = method(case, Some(seed))
                        .attribute(scorer.as_ref(), &x, &req)
                        .unwrap_or_else(|e| panic!("{name}/{case_name}: {e}"));
                    let (diff, _) = reader::allclose(&a.scores, &expected, 0.0, 0.0);
                    let line = format!(
                        "{name}/{case_name} seed {seed}: max |ours - exact| = {diff:.2e} (tolerance {atol:.2e})"
                    );
                    eprintln!("{line}{}", if diff <= atol { "" } else { "  FAIL" });
                    if diff > atol {
                        failures.push(line);
                    }
                }
            }
            other => panic!("unknown check {other}"),
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} cases differ from Captum:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 0, "{name}: no case checked");
    checked
}

#[test]
fn dense_autoencoder_matches_captum() {
    assert_eq!(run_fixture("dense_ae"), 22);
}

#[test]
fn classifier_with_softmax_head_matches_captum() {
    assert_eq!(run_fixture("classifier"), 9);
}

#[test]
fn dilated_grouped_conv_autoencoder_matches_captum() {
    assert_eq!(run_fixture("conv_ae"), 9);
}

#[test]
fn lstm_autoencoder_from_a_pytorch_state_dict_matches_captum() {
    assert_eq!(run_fixture("lstm_ae"), 11);
}

#[test]
fn shapley_estimates_are_exact_on_an_additive_scorer() {
    assert_eq!(run_fixture("additive"), 4);
}

#[test]
fn linear_scorer_matches_captum() {
    assert_eq!(run_fixture("linear"), 3);
}
