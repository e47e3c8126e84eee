//! Every model: shapes, forward = fold of its layer list, batch independence, bad input.

use ae_models::layer::{forward_layers, forward_recording};
use ae_models::{
    Activation, AttentionLstmAe, ConvAe, ConvAeConfig, DenseAe, DenseAeConfig, Layer, LayerKind,
    LayerModel, LstmAe, LstmAeConfig, ModelError, Trainable,
};
use proptest::prelude::*;
use tch::{Device, Kind, Tensor};

fn models() -> Vec<(&'static str, Box<dyn Trainable>)> {
    let mut lstm = LstmAeConfig::new(5, 7, 6);
    lstm.latent = Some(3);
    lstm.latent_activation = Some(Activation::Relu);
    let mut dense = DenseAeConfig::new(9, vec![6, 4]);
    dense.output_activation = Some(Activation::Sigmoid);
    vec![
        (
            "lstm",
            Box::new(LstmAe::seeded(&LstmAeConfig::new(5, 7, 6), Device::Cpu, 0).unwrap()),
        ),
        (
            "lstm-latent",
            Box::new(LstmAe::seeded(&lstm, Device::Cpu, 0).unwrap()),
        ),
        (
            "attention",
            Box::new(AttentionLstmAe::seeded(&LstmAeConfig::new(5, 7, 6), Device::Cpu, 0).unwrap()),
        ),
        (
            "dense",
            Box::new(DenseAe::seeded(&dense, Device::Cpu, 0).unwrap()),
        ),
        (
            "conv",
            Box::new(ConvAe::seeded(&ConvAeConfig::small(16, 3), Device::Cpu, 0).unwrap()),
        ),
    ]
}

fn batch(model: &dyn Trainable, b: i64) -> Tensor {
    let mut shape = vec![b];
    shape.extend(model.sample_shape());
    Tensor::rand(shape, (Kind::Float, Device::Cpu))
}

#[test]
fn output_shape_is_input_shape_and_forward_is_the_fold() {
    for (name, m) in models() {
        for b in [1, 4] {
            let x = batch(m.as_ref(), b);
            let y = m.forward(&x).unwrap();
            assert_eq!(y.size(), x.size(), "{name}");
            assert!(
                y.equal(&forward_layers(m.layers(), &x).unwrap()),
                "{name}: forward is not the fold"
            );
            let acts = forward_recording(m.layers(), &x).unwrap();
            assert_eq!(acts.len(), m.layers().len() + 1);
            assert!(acts.last().unwrap().equal(&y), "{name}");
        }
    }
}

#[test]
fn samples_are_reconstructed_independently_of_their_batch() {
    for (name, m) in models() {
        let x = batch(m.as_ref(), 3);
        let whole = m.forward(&x).unwrap();
        for i in 0..3 {
            let one = m.forward(&x.narrow(0, i, 1)).unwrap();
            assert!(
                one.allclose(&whole.narrow(0, i, 1), 1e-5, 1e-6, false),
                "{name}, sample {i}"
            );
        }
    }
}

#[test]
fn layer_parameters_are_the_model_parameters() {
    // LRP reads weights from the layer list; training updates the parameters. They must be
    // the same storage.
    for (name, m) in models() {
        let mut from_layers = 0;
        for layer in m.layers() {
            from_layers += match layer {
                Layer::Linear { weight, bias } | Layer::Conv2d { weight, bias, .. } => {
                    weight.numel() + bias.as_ref().map_or(0, Tensor::numel)
                }
                Layer::Lstm(w) => w.w_ih.numel() + w.w_hh.numel() + w.b_ih.numel() + w.b_hh.numel(),
                Layer::FeatureAttention { weight, bias } => weight.numel() + bias.numel(),
                _ => 0,
            };
        }
        assert_eq!(from_layers as i64, m.n_parameters(), "{name}");
        let (_, p) = &m.parameters()[0];
        let _guard = tch::no_grad_guard();
        let _ = p.shallow_clone().fill_(0.25);
        let first = m.layers().iter().find(|l| l.has_parameters()).unwrap();
        let w = match first {
            Layer::Linear { weight, .. } | Layer::Conv2d { weight, .. } => weight,
            Layer::Lstm(w) => &w.w_ih,
            Layer::FeatureAttention { weight, .. } => weight,
            _ => unreachable!(),
        };
        assert_eq!(
            w.max().double_value(&[]),
            0.25,
            "{name}: layer list does not share storage"
        );
    }
}

#[test]
fn bad_inputs_are_errors_naming_the_problem() {
    for (name, m) in models() {
        let x = batch(m.as_ref(), 2);
        // Wrong sample shape.
        let wrong = Tensor::rand([2, 3], (Kind::Float, Device::Cpu));
        let err = m.forward(&wrong).unwrap_err();
        assert!(
            matches!(err, ModelError::ShapeMismatch { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("[2, 3]"), "{name}: {err}");
        // Missing batch dimension.
        assert!(m.forward(&x.get(0)).is_err(), "{name}");
        // NaN, named by its flat index.
        let bad = x.copy();
        let _ = bad.flatten(0, -1).get(5).fill_(f64::NAN);
        let err = m.forward(&bad).unwrap_err();
        assert!(
            matches!(err, ModelError::NonFinite { index: 5, .. }),
            "{name}: {err}"
        );
        let inf = x.copy();
        let _ = inf.flatten(0, -1).get(0).fill_(f64::INFINITY);
        assert!(matches!(
            m.forward(&inf).unwrap_err(),
            ModelError::NonFinite { index: 0, .. }
        ));
        // Wrong dtype.
        let err = m.forward(&x.to_kind(Kind::Double)).unwrap_err();
        assert!(
            matches!(err, ModelError::UnsupportedDtype { .. }),
            "{name}: {err}"
        );
    }
}

#[test]
fn lstm_layer_lists_are_what_lrp_expects() {
    use LayerKind::{FeatureAttention, LastStep, Linear, Lstm, RepeatSteps};
    let mut cfg = LstmAeConfig::new(5, 7, 6);
    cfg.latent = Some(3);
    cfg.latent_activation = Some(Activation::Relu);
    let ae = LstmAe::seeded(&cfg, Device::Cpu, 0).unwrap();
    let kinds: Vec<LayerKind> = ae.layers().iter().map(Layer::kind).collect();
    assert_eq!(
        kinds,
        vec![
            Lstm,
            Lstm,
            LastStep,
            Linear,
            LayerKind::Activation(Activation::Relu),
            RepeatSteps,
            Lstm,
            Lstm,
            Linear
        ]
    );
    let att = AttentionLstmAe::seeded(&LstmAeConfig::new(5, 7, 6), Device::Cpu, 0).unwrap();
    assert_eq!(att.layers()[0].kind(), FeatureAttention);
    assert_eq!(att.layers().len(), 8);
}

#[test]
fn seeded_models_repeat_and_path_models_follow_manual_seed() {
    let cfg = LstmAeConfig::new(3, 4, 5);
    let a = LstmAe::seeded(&cfg, Device::Cpu, 11).unwrap();
    let b = LstmAe::seeded(&cfg, Device::Cpu, 11).unwrap();
    let c = LstmAe::seeded(&cfg, Device::Cpu, 12).unwrap();
    for ((_, pa), ((_, pb), (_, pc))) in a
        .parameters()
        .iter()
        .zip(b.parameters().iter().zip(c.parameters()))
    {
        assert!(pa.equal(pb));
        assert!(!pa.equal(pc));
    }
    // LSTM parameters are drawn from U(-1/sqrt(H), 1/sqrt(H)), like PyTorch's nn.LSTM.
    let bound = 1.0 / 5f64.sqrt();
    for (name, p) in a
        .parameters()
        .iter()
        .filter(|(n, _)| n.starts_with("encoder"))
    {
        assert!(p.abs().max().double_value(&[]) <= bound, "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn dense_shapes_for_any_widths(input in 1i64..12, hidden in proptest::collection::vec(1i64..9, 1..4), b in 1i64..5) {
        let ae = DenseAe::seeded(&DenseAeConfig::new(input, hidden.clone()), Device::Cpu, 0).unwrap();
        let y = ae.forward(&Tensor::rand([b, input], (Kind::Float, Device::Cpu))).unwrap();
        prop_assert_eq!(y.size(), vec![b, input]);
        prop_assert_eq!(ae.parameters().len(), 4 * hidden.len());
    }

    #[test]
    fn lstm_shapes_for_any_sizes(
        f in 1i64..6, t in 1i64..6,
        enc in proptest::collection::vec(1i64..6, 1..3),
        dec in proptest::collection::vec(1i64..6, 1..3),
        latent in proptest::option::of(1i64..5),
    ) {
        let cfg = LstmAeConfig { n_features: f, window: t, encoder_hidden: enc, decoder_hidden: dec, latent, latent_activation: None };
        let ae = LstmAe::seeded(&cfg, Device::Cpu, 0).unwrap();
        let x = Tensor::rand([2, t, f], (Kind::Float, Device::Cpu));
        prop_assert_eq!(ae.forward(&x).unwrap().size(), vec![2, t, f]);
        prop_assert_eq!(ae.encode(&x).unwrap().size(), vec![2, cfg.latent_size()]);
    }
}
