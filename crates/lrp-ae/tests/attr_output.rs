//! LRP from any output relevance (Zennit's `attr_output`) on analytic cases.

mod common;

use ae_models::{Activation, ErrorNorm, Layer, Sequential};
use common::{linear, max_abs_diff, rng, uniform, Stack};
use lrp_ae::composite::ByIndex;
use lrp_ae::rules::{Epsilon, Flat, Pass, ZPlus};
use lrp_ae::{
    FirstLayer, LayerClass, LayerMap, Lrp, LrpError, OutputCell, OutputLrp, OutputRelevance, Preset,
};
use tch::{Kind, Tensor};

fn classifier(seed: u64, softmax: bool) -> Sequential {
    let mut g = rng(seed);
    let mut layers = vec![
        linear(&mut g, 6, 5, false),
        Layer::Activation(Activation::Relu),
        linear(&mut g, 3, 6, false),
    ];
    if softmax {
        layers.push(Layer::Activation(Activation::Softmax));
    }
    Sequential::new(layers, [5]).unwrap()
}

fn everywhere(rule: impl lrp_ae::rule::Rule + Clone + 'static) -> LayerMap {
    LayerMap::new()
        .on(LayerClass::Activation, Pass)
        .on(LayerClass::Affine, rule)
}

#[test]
fn lrp_zero_from_a_logit_is_input_times_its_gradient() {
    let model = classifier(1, false);
    let mut g = rng(2);
    let x = uniform(&mut g, &[4, 5], -1.0, 1.0);
    let targets = [0, 2, 1, 2];
    let e = OutputLrp::with_composite(everywhere(Epsilon::new(0.0).unwrap()))
        .explain(
            &model,
            &x,
            &OutputRelevance::Logit(OutputCell::classes(targets)),
        )
        .unwrap();
    let xg = x.copy().set_requires_grad(true);
    let y = ae_models::layer::forward_layers(ae_models::LayerModel::layers(&model), &xg).unwrap();
    let picked = Tensor::from_slice(&targets).reshape([4, 1]);
    let logit = y.gather(1, &picked, false).sum(Kind::Double);
    let grad = Tensor::run_backward(&[logit], &[&xg], false, false)
        .pop()
        .unwrap();
    let d = max_abs_diff(&e.relevance, &(&x * grad));
    assert!(d < 1e-12, "{d}");
}

#[test]
fn a_conservative_composite_moves_the_whole_logit_onto_the_input() {
    let model = classifier(3, false);
    let mut g = rng(4);
    let x = uniform(&mut g, &[6, 5], 0.0, 1.0);
    let composite = FirstLayer::new(
        LayerMap::new().on(LayerClass::Linear, Flat::new()),
        everywhere(ZPlus::new()),
    );
    let e = OutputLrp::with_composite(composite)
        .explain(&model, &x, &OutputRelevance::Logit(OutputCell::class(1)))
        .unwrap();
    for b in 0..6 {
        let logit = e.output.double_value(&[b, 1]);
        let total = e.relevance.get(b).sum(Kind::Double).double_value(&[]);
        // z⁺ conserves a positive logit (its denominator is at least the logit); a negative one
        // has no positive contribution to pass on.
        if logit > 1e-3 {
            assert!(
                (total - logit).abs() < 1e-5 * logit,
                "sample {b}: {total} vs {logit}"
            );
        }
    }
    // One-hot starts from 1 instead: the same map, scaled by 1 / logit.
    let one = OutputLrp::with_composite(FirstLayer::new(
        LayerMap::new().on(LayerClass::Linear, Flat::new()),
        everywhere(ZPlus::new()),
    ))
    .explain(&model, &x, &OutputRelevance::OneHot(OutputCell::class(1)))
    .unwrap();
    let b = (0..6)
        .find(|&b| e.output.double_value(&[b, 1]) > 1e-3)
        .expect("a sample with a positive logit");
    let scaled = one.relevance.get(b) * e.output.double_value(&[b, 1]);
    assert!(max_abs_diff(&scaled, &e.relevance.get(b)) < 1e-9);
}

#[test]
fn the_reconstruction_seed_as_a_given_relevance_is_lrp_of_the_error() {
    let mut g = rng(5);
    let relu = || Layer::Activation(Activation::Relu);
    let ae = Stack {
        layers: vec![
            linear(&mut g, 3, 5, true),
            relu(),
            linear(&mut g, 5, 3, true),
        ],
        shape: vec![5],
    };
    let x = uniform(&mut g, &[3, 5], 0.0, 1.0);
    let lrp = Lrp::new(ErrorNorm::SquaredL2, Preset::Paper2Dense).unwrap();
    let e = lrp.explain(&ae, &x).unwrap();
    let o = OutputLrp::new(Preset::Paper2Dense)
        .unwrap()
        .explain(
            &ae,
            &x,
            &OutputRelevance::Given(e.output_relevance.shallow_clone()),
        )
        .unwrap();
    assert_eq!(max_abs_diff(&o.relevance, &e.relevance), 0.0);
    let from_fn = OutputLrp::new(Preset::Paper2Dense)
        .unwrap()
        .explain(
            &ae,
            &x,
            &OutputRelevance::map({
                let x = x.shallow_clone();
                move |y: &Tensor| Ok((&x - y).f_square()?.f_div_scalar(5.0)?)
            }),
        )
        .unwrap();
    assert!(max_abs_diff(&from_fn.relevance, &e.relevance) < 1e-15);
}

#[test]
fn a_softmax_head_passes_each_probability_to_its_logit() {
    let model = classifier(6, true);
    let mut g = rng(7);
    let x = uniform(&mut g, &[2, 5], 0.0, 1.0);
    let e = OutputLrp::new(Preset::EpsilonPlusFlat)
        .unwrap()
        .explain(&model, &x, &OutputRelevance::Output)
        .unwrap();
    // The softmax layer (index 3) hands on exactly what it got: the probabilities, summing
    // to one per sample.
    let softmax = &e.trace.layers[3];
    assert_eq!(softmax.rule, "pass");
    for (s, o) in softmax.input_sums.iter().zip(&e.trace.output_sums) {
        assert!((s - o).abs() < 1e-12 && (o - 1.0).abs() < 1e-12);
    }
}

#[test]
fn misfits_are_named() {
    let model = classifier(8, true);
    let x = Tensor::zeros([2, 5], (Kind::Double, tch::Device::Cpu));
    // A composite without a rule for the softmax layer.
    let partial = ByIndex::new()
        .set(0, Flat::new())
        .set(1, Pass)
        .set(2, ZPlus::new());
    let e = OutputLrp::with_composite(partial)
        .explain(&model, &x, &OutputRelevance::Output)
        .unwrap_err();
    assert!(matches!(e, LrpError::NoRule { layer: 3, .. }), "{e}");
    let lrp = OutputLrp::new(Preset::EpsilonPlusFlat).unwrap();
    let e = lrp
        .explain(
            &model,
            &Tensor::zeros([2, 4], (Kind::Double, tch::Device::Cpu)),
            &OutputRelevance::Output,
        )
        .unwrap_err();
    assert!(e.to_string().contains("[2, 4]"), "{e}");
    let e = lrp
        .explain(
            &model,
            &x,
            &OutputRelevance::OneHot(OutputCell::classes([0, 1, 2])),
        )
        .unwrap_err();
    assert!(e.to_string().contains("one target per sample, 2"), "{e}");
    let ints = Tensor::zeros([2, 5], (Kind::Int64, tch::Device::Cpu));
    assert!(lrp
        .explain(&model, &ints, &OutputRelevance::Output)
        .is_err());
}
