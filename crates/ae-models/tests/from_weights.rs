//! Models from given weights: PyTorch state_dicts (safetensors), layer lists, chosen depths,
//! and the checks that name what does not fit.

use ae_models::state_dict::StateDict;
use ae_models::train::{train, TrainConfig};
use ae_models::{
    Activation, ConvAe, ConvAeConfig, ConvSpec, DenseAe, DenseAeConfig, Layer, LayerModel, LstmAe,
    LstmAeConfig, LstmWeights, ModelError, Sequential, Trainable,
};
use tch::{Device, Kind, Tensor};

fn copy_of(model: &dyn Trainable, prefix: &str) -> Vec<(String, Tensor)> {
    model
        .parameters()
        .iter()
        .map(|(n, t)| (format!("{prefix}{n}"), t.detach().copy()))
        .collect()
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ae-models-{}-{name}", std::process::id()))
}

#[test]
fn an_lstm_autoencoder_comes_back_from_a_safetensors_state_dict() {
    let cfg = LstmAeConfig::with_depths(3, 6, 5, 1, 2);
    let trained = LstmAe::seeded(&cfg, Device::Cpu, 11).unwrap();
    // As `safetensors.torch.save_file(wrapper.state_dict(), path)` writes a sub-module.
    let path = temp("lstm.safetensors");
    Tensor::write_safetensors(&copy_of(&trained, "model."), &path).unwrap();
    let sd = StateDict::read_safetensors(&path)
        .unwrap()
        .submodule("model.");
    let again = LstmAe::from_state_dict(&cfg, sd, Device::Cpu).unwrap();
    std::fs::remove_file(&path).ok();
    let x = Tensor::rand([2, 6, 3], (Kind::Float, Device::Cpu));
    assert!(again
        .forward(&x)
        .unwrap()
        .equal(&trained.forward(&x).unwrap()));
    assert!(again.parameters().iter().all(|(_, p)| p.requires_grad()));
    // Fresh variables: training the copy leaves the original alone.
    let before = trained.parameters()[0].1.copy();
    let _ = again.parameters()[0].1.detach().fill_(0.0);
    assert!(trained.parameters()[0].1.equal(&before));
}

#[test]
fn state_dict_errors_name_the_parameter() {
    let cfg = LstmAeConfig::with_depths(2, 4, 3, 1, 1);
    let model = LstmAe::seeded(&cfg, Device::Cpu, 0).unwrap();
    let mut params = copy_of(&model, "");
    params.retain(|(n, _)| n != "decoder.bias_hh_l0");
    let e = LstmAe::from_state_dict(&cfg, StateDict::new(params), Device::Cpu).unwrap_err();
    assert!(
        e.to_string().contains("decoder.bias_hh_l0 is missing"),
        "{e}"
    );

    let mut params = copy_of(&model, "");
    params.push((
        "head.weight".into(),
        Tensor::zeros([1], (Kind::Float, Device::Cpu)),
    ));
    let e = LstmAe::from_state_dict(&cfg, StateDict::new(params), Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("lacks: [\"head.weight\"]"), "{e}");

    let wider = LstmAeConfig::with_depths(2, 4, 5, 1, 1);
    let e = LstmAe::from_state_dict(&wider, StateDict::new(copy_of(&model, "")), Device::Cpu)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("encoder.weight_ih_l0 has shape [12, 2], the model needs [20, 2]"),
        "{e}"
    );
    let e = StateDict::read_safetensors(temp("nothing.safetensors")).unwrap_err();
    assert!(matches!(e, ModelError::Io { .. }), "{e}");
}

#[test]
fn dense_and_conv_autoencoders_come_back_from_state_dicts() {
    let dense_cfg = DenseAeConfig::new(5, vec![4, 2]);
    let dense = DenseAe::seeded(&dense_cfg, Device::Cpu, 3).unwrap();
    let back =
        DenseAe::from_state_dict(&dense_cfg, StateDict::new(copy_of(&dense, "")), Device::Cpu)
            .unwrap();
    let x = Tensor::rand([3, 5], (Kind::Float, Device::Cpu));
    assert!(back.forward(&x).unwrap().equal(&dense.forward(&x).unwrap()));

    // Dilated and grouped convolutions, and f64 weights (converted to the model's f32).
    let conv_cfg = ConvAeConfig {
        input: [2, 8, 8],
        convs: vec![
            ConvSpec::new(4, 3, 1, 2).dilated(2).grouped(2),
            ConvSpec::new(2, 3, 1, 1),
        ],
        hidden_activation: Activation::Relu,
        output_activation: None,
        bias: true,
    };
    let conv = ConvAe::seeded(&conv_cfg, Device::Cpu, 4).unwrap();
    assert_eq!(conv.parameters()[0].1.size(), vec![4, 1, 3, 3]);
    let as_f64: Vec<(String, Tensor)> = copy_of(&conv, "")
        .into_iter()
        .map(|(n, t)| (n, t.to_kind(Kind::Double)))
        .collect();
    let back = ConvAe::from_state_dict(&conv_cfg, StateDict::new(as_f64), Device::Cpu).unwrap();
    let x = Tensor::rand([2, 2, 8, 8], (Kind::Float, Device::Cpu));
    assert!(back
        .forward(&x)
        .unwrap()
        .allclose(&conv.forward(&x).unwrap(), 1e-6, 1e-6, false));
}

#[test]
fn lstm_depths_are_chosen_by_constructor() {
    let cfg = LstmAeConfig::with_depths(3, 4, 6, 3, 1);
    let ae = LstmAe::seeded(&cfg, Device::Cpu, 0).unwrap();
    let lstms = ae
        .layers()
        .iter()
        .filter(|l| matches!(l, Layer::Lstm(_)))
        .count();
    assert_eq!(lstms, 4);
    assert!(ae
        .parameters()
        .iter()
        .any(|(n, _)| n == "encoder.weight_ih_l2"));
    assert_eq!(
        LstmAeConfig::new(3, 4, 6),
        LstmAeConfig::with_depths(3, 4, 6, 2, 2)
    );
    let e = LstmAe::seeded(&LstmAeConfig::with_depths(3, 4, 6, 0, 1), Device::Cpu, 0).unwrap_err();
    assert!(e.to_string().contains("encoder_hidden = []"), "{e}");
}

#[test]
fn sequential_convolutions_match_libtorch_with_dilation_and_groups() {
    let opts = (Kind::Float, Device::Cpu);
    let w = Tensor::randn([6, 1, 2, 3], opts);
    let b = Tensor::randn([6], opts);
    let m = Sequential::new(
        vec![Layer::Conv2d {
            weight: w.shallow_clone(),
            bias: Some(b.shallow_clone()),
            stride: [2, 1],
            padding: [1, 0],
            dilation: [3, 2],
            groups: 3,
        }],
        [3, 9, 8],
    )
    .unwrap();
    let x = Tensor::rand([2, 3, 9, 8], opts);
    let want = x.conv2d(&w, Some(&b), [2, 1], [1, 0], [3, 2], 3);
    assert!(m.forward(&x).unwrap().equal(&want));
    assert_eq!(m.output_shape(), &want.size()[1..]);
}

#[test]
fn a_sequential_classifier_trains_and_keeps_its_shapes() {
    if !pinned_kernels::here() {
        return;
    }
    tch::manual_seed(0);
    let opts = (Kind::Float, Device::Cpu);
    let m = Sequential::new(
        vec![
            Layer::Reshape { shape: vec![-1] },
            Layer::Linear {
                weight: Tensor::randn([4, 6], opts) * 0.3,
                bias: Some(Tensor::zeros([4], opts)),
            },
            Layer::Activation(Activation::Tanh),
            Layer::Linear {
                weight: Tensor::randn([6, 4], opts) * 0.3,
                bias: None,
            },
            Layer::Reshape { shape: vec![2, 3] },
        ],
        [2, 3],
    )
    .unwrap();
    assert!(m.reconstructs());
    let data = Tensor::rand([40, 2, 3], opts);
    let cfg = TrainConfig {
        epochs: 30,
        batch_size: 8,
        quiet: true,
        ..TrainConfig::default()
    };
    let s = train(&m, &data, &cfg).unwrap();
    assert!(
        s.train_losses[s.train_losses.len() - 1] < 0.8 * s.train_losses[0],
        "{s:?}"
    );

    let lstm = Sequential::new(
        vec![
            Layer::Lstm(LstmWeights {
                w_ih: Tensor::randn([8, 3], opts),
                w_hh: Tensor::randn([8, 2], opts),
                b_ih: Tensor::zeros([8], opts),
                b_hh: Tensor::zeros([8], opts),
            }),
            Layer::LastStep,
            Layer::Linear {
                weight: Tensor::randn([4, 2], opts),
                bias: None,
            },
            Layer::Activation(Activation::Softmax),
        ],
        [5, 3],
    )
    .unwrap();
    assert_eq!(lstm.output_shape(), &[4]);
    let p = lstm.forward(&Tensor::rand([3, 5, 3], opts)).unwrap();
    let rows = p.sum_dim_intlist(1, false, Kind::Float);
    assert!(rows.allclose(&Tensor::ones([3], opts), 1e-6, 1e-6, false));
    let names: Vec<&str> = lstm.parameters().iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[..2], ["0.weight_ih_l0", "0.weight_hh_l0"]);
}

#[test]
fn every_layer_check_names_its_setting() {
    let opts = (Kind::Float, Device::Cpu);
    let conv = |stride, padding, dilation, groups, bias: &[i64]| Layer::Conv2d {
        weight: Tensor::zeros([4, 2, 3, 3], opts),
        bias: Some(Tensor::zeros(bias, opts)),
        stride,
        padding,
        dilation,
        groups,
    };
    let cases = [
        (conv([0, 1], [0, 0], [1, 1], 1, &[4]), "stride = [0, 1]"),
        (conv([1, 1], [-1, 0], [1, 1], 1, &[4]), "padding = [-1, 0]"),
        (conv([1, 1], [0, 0], [1, 0], 1, &[4]), "dilation = [1, 0]"),
        (
            conv([1, 1], [0, 0], [1, 1], 3, &[4]),
            "groups = 3 (out_channels 4)",
        ),
        (
            conv([1, 1], [0, 0], [1, 1], 1, &[3]),
            "`bias`: expected shape [4], got [3]",
        ),
        (
            Layer::Linear {
                weight: Tensor::zeros([3], opts),
                bias: None,
            },
            "`weight`: expected shape [out ≥ 1, in ≥ 1], got [3]",
        ),
        (
            Layer::Lstm(LstmWeights {
                w_ih: Tensor::zeros([8, 3], opts),
                w_hh: Tensor::zeros([8, 2], opts),
                b_ih: Tensor::zeros([8], opts),
                b_hh: Tensor::zeros([4], opts),
            }),
            "`bias_hh_l0`: expected shape [8], got [4]",
        ),
        (Layer::UpsampleNearest { scale: 0 }, "scale = 0"),
        (Layer::RepeatSteps { steps: 0 }, "steps = 0"),
        (
            Layer::Reshape {
                shape: vec![-1, 2, -1],
            },
            "shape = [-1, 2, -1]",
        ),
        (
            Layer::Linear {
                weight: Tensor::zeros([2, 2], opts),
                bias: Some(Tensor::zeros([2], (Kind::Double, Device::Cpu))),
            },
            "bias: Double",
        ),
    ];
    for (layer, needle) in cases {
        let e = layer.check().unwrap_err().to_string();
        assert!(e.contains(needle), "{needle:?} not in {e:?}");
        let e = Sequential::new(vec![layer], [2, 5, 5])
            .unwrap_err()
            .to_string();
        assert!(e.ends_with(")") && e.contains("(layer 0, "), "{e}");
    }
    let mut cfg = ConvAeConfig::small(8, 3);
    cfg.convs[1] = cfg.convs[1].grouped(4);
    let e = cfg.check().unwrap_err().to_string();
    assert!(
        e.contains("groups = 4 (conv2: 3 input, 6 output channels)"),
        "{e}"
    );
}

#[test]
fn a_bad_safetensors_file_is_named_in_one_sentence_and_nan_weights_are_refused() {
    let cfg = DenseAeConfig::new(3, vec![2]);
    let dense = DenseAe::seeded(&cfg, Device::Cpu, 1).unwrap();
    let path = temp("cut.safetensors");
    Tensor::write_safetensors(&copy_of(&dense, ""), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // Cut inside the data: no bare `MetadataIncompleteBuffer`, but what is wrong.
    std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
    let e = StateDict::read_safetensors(&path).unwrap_err();
    assert!(matches!(e, ModelError::CorruptFile { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("the file holds") && msg.contains("cut short") && !msg.contains("Metadata"),
        "{msg}"
    );
    // Not a safetensors file at all.
    std::fs::write(&path, b"just some text, not weights").unwrap();
    let msg = StateDict::read_safetensors(&path).unwrap_err().to_string();
    assert!(
        msg.contains("cut short, or it is not a safetensors file")
            && !msg.contains("HeaderTooLarge"),
        "{msg}"
    );
    // A NaN weight in the file is refused when it is read, naming the tensor.
    let params = copy_of(&dense, "");
    let _ = params[1].1.get(0).fill_(f64::NAN);
    Tensor::write_safetensors(&params, &path).unwrap();
    let e = StateDict::read_safetensors(&path).unwrap_err();
    std::fs::remove_file(&path).ok();
    assert!(matches!(e, ModelError::NonFinite { index: 0, .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains(&format!("parameter {}", params[1].0)),
        "{e}"
    );
    // And a NaN weight given in memory never becomes a model.
    let e = DenseAe::from_state_dict(&cfg, StateDict::new(params), Device::Cpu).unwrap_err();
    assert!(matches!(e, ModelError::NonFinite { .. }), "{e:?}");
}
