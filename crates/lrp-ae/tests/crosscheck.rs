//! Fixtures for the Zennit cross-check (`cargo xtask crosscheck`, script
//! `xtask/crosscheck/zennit_check.py`). Ignored by default: they only write files, into
//! `$ANOMALY_XAI_CROSSCHECK_DIR/zennit/`, and the Python side compares.
//!
//! For a dense and a small convolutional network (f64, with biases, so that the bias
//! conventions are compared too) every case records the rule each layer got, the input, the
//! output-layer relevance (the reconstruction seed, which has no Zennit counterpart and is
//! fed to Zennit as `attr_output`) and our input relevance.

mod common;

use std::path::PathBuf;

use ae_models::{Activation, ErrorNorm, Layer};
use common::{conv, linear, rng, uniform, Stack};
use lrp_ae::rule::Rule;
use lrp_ae::rules::{Epsilon, Flat, Gamma, Pass, WSquare, ZBox, ZPlus};
use lrp_ae::{FirstLayer, LayerClass, LayerMap, Lrp, Preset};
use serde_json::{json, Value};
use tch::Tensor;

fn out_dir() -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("ANOMALY_XAI_CROSSCHECK_DIR") else {
        eprintln!("ANOMALY_XAI_CROSSCHECK_DIR is not set: skipping (run `cargo xtask crosscheck`)");
        return None;
    };
    let dir = PathBuf::from(dir).join("zennit");
    std::fs::create_dir_all(&dir).unwrap();
    Some(dir)
}

fn describe(layers: &[Layer], prefix: &str, tensors: &mut Vec<(String, Tensor)>) -> Vec<Value> {
    layers
        .iter()
        .enumerate()
        .map(|(i, l)| match l {
            Layer::Linear { weight, bias } => {
                tensors.push((format!("{prefix}{i}.weight"), weight.shallow_clone()));
                if let Some(b) = bias {
                    tensors.push((format!("{prefix}{i}.bias"), b.shallow_clone()));
                }
                json!({"kind": "linear", "out": weight.size()[0], "in": weight.size()[1], "bias": bias.is_some()})
            }
            Layer::Conv2d { weight, bias, stride, padding } => {
                tensors.push((format!("{prefix}{i}.weight"), weight.shallow_clone()));
                if let Some(b) = bias {
                    tensors.push((format!("{prefix}{i}.bias"), b.shallow_clone()));
                }
                let k = weight.size();
                json!({"kind": "conv2d", "out": k[0], "in": k[1], "kernel": [k[2], k[3]],
                       "stride": stride, "padding": padding, "bias": bias.is_some()})
            }
            Layer::Activation(Activation::Relu) => json!({"kind": "relu"}),
            Layer::UpsampleNearest { scale } => json!({"kind": "upsample", "scale": scale}),
            Layer::Reshape { shape } => json!({"kind": "reshape", "shape": shape}),
            other => panic!("no PyTorch twin for {:?} in the cross-check", other.kind()),
        })
        .collect()
}

/// A composite that gives `first` to the first layer with parameters and `rest` to the others.
fn pair(first: impl Rule + 'static, rest: impl Rule + 'static) -> FirstLayer<LayerMap> {
    FirstLayer::new(
        LayerMap::new().on(LayerClass::Affine, first),
        LayerMap::new()
            .on(LayerClass::Activation, Pass)
            .on(LayerClass::Routing, Pass)
            .on(LayerClass::Affine, rest),
    )
}

fn dump(name: &str, ae: &Stack, x: &Tensor, cases: Vec<(&str, Lrp)>) {
    let Some(dir) = out_dir() else { return };
    let mut tensors = vec![("input".to_string(), x.shallow_clone())];
    let layers = describe(&ae.layers, "layer", &mut tensors);
    let mut out_cases = Vec::new();
    for (case, lrp) in cases {
        let e = lrp.explain(ae, x).unwrap();
        let rules: Vec<String> = e.trace.layers.iter().map(|l| l.rule.clone()).collect();
        tensors.push((
            format!("{case}.output_relevance"),
            e.output_relevance.shallow_clone(),
        ));
        tensors.push((format!("{case}.relevance"), e.relevance.shallow_clone()));
        tensors.push((
            format!("{case}.reconstruction"),
            e.reconstruction.shallow_clone(),
        ));
        out_cases.push(json!({"name": case, "rules": rules}));
    }
    Tensor::write_safetensors(&tensors, dir.join(format!("{name}.safetensors"))).unwrap();
    let meta =
        json!({"model": name, "sample_shape": ae.shape, "layers": layers, "cases": out_cases});
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string_pretty(&meta).unwrap(),
    )
    .unwrap();
    eprintln!("wrote {}", dir.join(format!("{name}.json")).display());
}

fn l2(first: impl Rule + 'static, rest: impl Rule + 'static) -> Lrp {
    Lrp::with_composite(ErrorNorm::L2, pair(first, rest))
}

#[test]
#[ignore = "writes fixtures for cargo xtask crosscheck"]
fn crosscheck_dense() {
    let mut g = rng(41);
    let relu = || Layer::Activation(Activation::Relu);
    // A linear bottleneck (layer 2 has no ReLU) gives the paper preset a signed input, so the
    // ε fallback is compared too.
    let ae = Stack {
        layers: vec![
            linear(&mut g, 5, 6, true),
            relu(),
            linear(&mut g, 3, 5, true),
            linear(&mut g, 5, 3, true),
            relu(),
            linear(&mut g, 6, 5, true),
        ],
        shape: vec![6],
    };
    let x = uniform(&mut g, &[4, 6], 0.0, 1.0);
    let eps = || Epsilon::new(0.01).unwrap();
    dump(
        "dense",
        &ae,
        &x,
        vec![
            ("epsilon", l2(eps(), eps())),
            (
                "lrp0",
                l2(Epsilon::new(0.0).unwrap(), Epsilon::new(0.0).unwrap()),
            ),
            ("zplus", l2(ZPlus::new(), ZPlus::new())),
            ("wsquare", l2(WSquare::new(), ZPlus::new())),
            ("zbox", l2(ZBox::new(0.0, 1.0).unwrap(), ZPlus::new())),
            ("flat", l2(Flat::new(), eps())),
            (
                "gamma",
                l2(Gamma::new(0.25).unwrap(), Gamma::new(0.25).unwrap()),
            ),
            (
                "paper2_dense",
                Lrp::new(ErrorNorm::L1, Preset::Paper2Dense).unwrap(),
            ),
            (
                "epsilon_plus_flat",
                Lrp::new(ErrorNorm::L2, Preset::EpsilonPlusFlat).unwrap(),
            ),
        ],
    );
}

#[test]
#[ignore = "writes fixtures for cargo xtask crosscheck"]
fn crosscheck_conv() {
    let mut g = rng(42);
    let relu = || Layer::Activation(Activation::Relu);
    let ae = Stack {
        layers: vec![
            conv(&mut g, 3, 1, 3, 2, 1, true),
            relu(),
            conv(&mut g, 4, 3, 3, 1, 1, true),
            relu(),
            Layer::Reshape { shape: vec![-1] },
            linear(&mut g, 32, 64, true),
            relu(),
            Layer::Reshape {
                shape: vec![2, 4, 4],
            },
            Layer::UpsampleNearest { scale: 2 },
            conv(&mut g, 1, 2, 3, 1, 1, true),
            relu(),
        ],
        shape: vec![1, 8, 8],
    };
    let x = uniform(&mut g, &[2, 1, 8, 8], 0.0, 1.0);
    dump(
        "conv",
        &ae,
        &x,
        vec![
            (
                "epsilon",
                l2(Epsilon::new(0.01).unwrap(), Epsilon::new(0.01).unwrap()),
            ),
            ("zplus", l2(ZPlus::new(), ZPlus::new())),
            ("wsquare", l2(WSquare::new(), ZPlus::new())),
            ("zbox", l2(ZBox::new(0.0, 1.0).unwrap(), ZPlus::new())),
            ("flat", l2(Flat::new(), ZPlus::new())),
            (
                "gamma",
                l2(ZBox::new(0.0, 1.0).unwrap(), Gamma::new(0.25).unwrap()),
            ),
            (
                "paper2_conv",
                Lrp::new(
                    ErrorNorm::L2,
                    Preset::Paper2Conv {
                        low: 0.0,
                        high: 1.0,
                    },
                )
                .unwrap(),
            ),
            (
                "epsilon_plus_flat",
                Lrp::new(ErrorNorm::L1, Preset::EpsilonPlusFlat).unwrap(),
            ),
        ],
    );
}
