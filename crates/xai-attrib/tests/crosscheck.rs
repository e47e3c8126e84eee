//! Fixtures for the cross-check against Captum (`cargo xtask crosscheck`).
//!
//! These tests are ignored by default. With `ANOMALY_XAI_CROSSCHECK_DIR` set they build a
//! small seeded LSTM autoencoder (ae-models' `LstmAe`, whose parameter names are those of
//! PyTorch's `nn.LSTM` / `nn.Linear`), attribute its L1 reconstruction error with our
//! methods, and write into `$DIR/captum/`:
//!
//! * `model.safetensors` (the weights) and `model.json` (its sizes);
//! * `data.safetensors`: the inputs, baselines, the model's reconstruction, and every
//!   attribution (`attr.<case>`) and convergence delta (`delta.<case>`);
//! * `cases.json`: one entry per case with the method, its settings, the input, the
//!   baseline and the mask, so that `xtask/crosscheck/captum_check.py` can run Captum on
//!   exactly the same problem and compare.
//!
//! Run them alone with
//! `ANOMALY_XAI_CROSSCHECK_DIR=target/crosscheck cargo test -p xai-attrib --test crosscheck -- --ignored`.

use std::path::PathBuf;

use ae_models::{Autoencoder, ErrorNorm, LstmAe, LstmAeConfig, Trainable};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use tch::{Device, Kind, Tensor};
use xai_attrib::{
    Attribution, Baseline, ErrorScorer, FeatureAblation, FeatureMask, InputXGradient,
    IntegratedGradients, KernelShap, Occlusion, Quadrature, Request, Saliency, Scorer,
    ShapleyValueSampling,
};

const T: i64 = 10;
const F: i64 = 8;
const HIDDEN: i64 = 12;

fn out_dir() -> Option<PathBuf> {
    match std::env::var_os("ANOMALY_XAI_CROSSCHECK_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir).join("captum");
            std::fs::create_dir_all(&dir).expect("create the cross-check directory");
            Some(dir)
        }
        None => {
            eprintln!("ANOMALY_XAI_CROSSCHECK_DIR is not set: skipping the Captum fixtures");
            None
        }
    }
}

/// Smooth multi-sensor windows in [0, 1] with a little seeded noise, `[n, T, F]`.
fn windows(n: i64, seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = Vec::with_capacity((n * T * F) as usize);
    for b in 0..n {
        for t in 0..T {
            for f in 0..F {
                let phase = 0.7 * f as f32 + 0.3 * b as f32;
                let clean = 0.5 + 0.35 * (0.45 * t as f32 + phase).sin();
                v.push(clean + 0.05 * (rng.gen::<f32>() - 0.5));
            }
        }
    }
    Tensor::from_slice(&v).reshape([n, T, F])
}

struct Fixture {
    model: LstmAe,
    tensors: Vec<(String, Tensor)>,
    cases: Vec<Value>,
}

impl Fixture {
    fn new() -> Fixture {
        let model =
            LstmAe::seeded(&LstmAeConfig::new(F, T, HIDDEN), Device::Cpu, 7).expect("model");
        let x = windows(4, 1);
        let train = windows(32, 2);
        let means = train.mean_dim([0i64, 1].as_slice(), false, Kind::Float);
        // A clear case: sensor 2 strongly and sensor 5 moderately corrupted.
        let clear = windows(2, 3);
        let bump = Tensor::zeros([1, 1, F], (Kind::Float, Device::Cpu));
        let _ = bump.get(0).get(0).get(2).fill_(0.9);
        let _ = bump.get(0).get(0).get(5).fill_(0.45);
        let clear = clear + bump;
        let recon = tch::no_grad(|| model.forward(&x)).expect("forward");
        let tensors = vec![
            ("x".to_string(), x),
            ("x_clear".to_string(), clear),
            ("means".to_string(), means),
            ("recon".to_string(), recon),
        ];
        Fixture {
            model,
            tensors,
            cases: Vec::new(),
        }
    }

    fn input(&self, name: &str) -> Tensor {
        self.tensors
            .iter()
            .find(|(n, _)| n == name)
            .expect("known input")
            .1
            .shallow_clone()
    }

    fn request(&self, baseline: &str, mask: bool) -> Request {
        let baseline = match baseline {
            "zero" => Baseline::Zero,
            "means" => Baseline::Tensor(self.input("means")),
            other => panic!("unknown baseline {other}"),
        };
        let req = Request::with_baseline(baseline);
        if mask {
            req.mask(FeatureMask::per_sensor(T, F).expect("mask"))
        } else {
            req
        }
    }

    fn run(
        &mut self,
        case: &str,
        method: &dyn for<'s> Attribution<dyn Scorer + 's>,
        input: &str,
        baseline: &str,
        mask: bool,
        settings: Value,
    ) {
        let scorer = ErrorScorer::new(&self.model, ErrorNorm::L1).expect(case);
        let x = self.input(input);
        let a = method
            .attribute(&scorer as &dyn Scorer, &x, &self.request(baseline, mask))
            .expect(case);
        self.tensors.push((format!("attr.{case}"), a.scores));
        if let Some(d) = a.delta {
            self.tensors.push((format!("delta.{case}"), d));
        }
        self.cases.push(json!({
            "case": case,
            "method": method.name(),
            "input": input,
            "baseline": baseline,
            "mask": if mask { "per_sensor" } else { "none" },
            "settings": settings,
            "forward_evals": a.forward_evals,
            "backward_evals": a.backward_evals,
        }));
    }

    fn write(&self, dir: &std::path::Path, stem: &str) {
        let params: Vec<(&str, &Tensor)> = self
            .model
            .parameters()
            .iter()
            .map(|(n, t)| (n.as_str(), t))
            .collect();
        Tensor::write_safetensors(&params, dir.join("model.safetensors")).expect("write the model");
        let config =
            json!({ "n_features": F, "window": T, "hidden": HIDDEN, "layers": 2, "norm": "L1" });
        std::fs::write(
            dir.join("model.json"),
            serde_json::to_string_pretty(&config).unwrap(),
        )
        .unwrap();
        let data: Vec<(&str, &Tensor)> =
            self.tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        Tensor::write_safetensors(&data, dir.join(format!("{stem}.safetensors")))
            .expect("write the data");
        let cases = serde_json::to_string_pretty(&self.cases).unwrap();
        std::fs::write(dir.join(format!("{stem}.json")), cases).unwrap();
        eprintln!("wrote {} cases to {}", self.cases.len(), dir.display());
    }
}

/// The methods Captum computes deterministically: compared number for number.
#[test]
#[ignore = "writes Captum cross-check fixtures; run by `cargo xtask crosscheck`"]
fn crosscheck_captum_deterministic() {
    let Some(dir) = out_dir() else { return };
    let mut fx = Fixture::new();
    fx.run(
        "saliency",
        &Saliency::default(),
        "x",
        "zero",
        false,
        json!({ "abs": true }),
    );
    fx.run(
        "input_x_gradient",
        &InputXGradient::default(),
        "x",
        "zero",
        false,
        json!({}),
    );
    let ig = IntegratedGradients::params().n_steps(24).check().unwrap();
    fx.run(
        "ig_gausslegendre",
        &ig,
        "x",
        "means",
        false,
        json!({ "n_steps": 24, "method": "gausslegendre" }),
    );
    let ig = IntegratedGradients::params()
        .n_steps(20)
        .method(Quadrature::RiemannTrapezoid)
        .check()
        .unwrap();
    fx.run(
        "ig_trapezoid",
        &ig,
        "x",
        "zero",
        false,
        json!({ "n_steps": 20, "method": "riemann_trapezoid" }),
    );
    let ig = IntegratedGradients::params()
        .n_steps(16)
        .method(Quadrature::RiemannMiddle)
        .batch_size(7)
        .check()
        .unwrap();
    fx.run(
        "ig_middle",
        &ig,
        "x",
        "means",
        false,
        json!({ "n_steps": 16, "method": "riemann_middle" }),
    );
    let ablation = FeatureAblation::params().batch_size(64).check().unwrap();
    fx.run("ablation_cells", &ablation, "x", "means", false, json!({}));
    fx.run(
        "ablation_sensors",
        &FeatureAblation::default(),
        "x",
        "zero",
        true,
        json!({}),
    );
    for (case, window, strides) in [
        ("occlusion_3x2", [3, 2], [2, 1]),
        ("occlusion_sensor", [T, 1], [1, 1]),
        ("occlusion_4x8", [4, F], [3, 1]),
    ] {
        let occ = Occlusion::params()
            .window(window)
            .strides(strides)
            .check()
            .unwrap();
        fx.run(
            case,
            &occ,
            "x",
            "means",
            false,
            json!({ "window": window, "strides": strides }),
        );
    }
    fx.write(&dir, "deterministic");
}

/// The sampling methods: compared statistically (the same top sensors on a clear case).
#[test]
#[ignore = "writes Captum cross-check fixtures; run by `cargo xtask crosscheck`"]
fn crosscheck_captum_sampling() {
    let Some(dir) = out_dir() else { return };
    let mut fx = Fixture::new();
    let ks = KernelShap::params().n_samples(200).seed(1).check().unwrap();
    fx.run(
        "kernel_shap",
        &ks,
        "x_clear",
        "means",
        true,
        json!({ "n_samples": 200 }),
    );
    let svs = ShapleyValueSampling::params()
        .n_permutations(50)
        .seed(1)
        .check()
        .unwrap();
    fx.run(
        "shapley_value_sampling",
        &svs,
        "x_clear",
        "means",
        true,
        json!({ "n_samples": 50 }),
    );
    fx.write(&dir, "sampling");
}
