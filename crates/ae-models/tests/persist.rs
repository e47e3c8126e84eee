//! Save → load gives identical outputs; a file made for another model is a clear error.

mod common;

use ae_models::persist::{load_any, load_weights_into, read_manifest, SavedFiles, FORMAT};
use ae_models::{
    AttentionLstmAe, ConvAe, ConvAeConfig, DenseAe, DenseAeConfig, LayerModel, LstmAe,
    LstmAeConfig, ModelError, SavedModel, Trainable,
};
use tch::{Device, Kind, Tensor};

fn round_trip<M: SavedModel>(model: &M, tag: &str) {
    let dir = common::temp_dir(tag);
    let path = dir.join("nested").join("model");
    let files = model.save(&path).unwrap();
    assert_eq!(files, SavedFiles::for_path(&path));
    assert!(files.weights.is_file() && files.manifest.is_file());
    let loaded = M::load(&path, Device::Cpu).unwrap();
    assert_eq!(loaded.saved_config(), model.saved_config());
    let mut shape = vec![3];
    shape.extend(model.sample_shape());
    let x = Tensor::rand(shape, (Kind::Float, Device::Cpu));
    let (a, b) = (model.forward(&x).unwrap(), loaded.forward(&x).unwrap());
    assert!(a.equal(&b), "{tag}: outputs differ after loading");
    for ((n1, p1), (n2, p2)) in model.parameters().iter().zip(loaded.parameters()) {
        assert_eq!(n1, n2);
        assert!(p1.equal(p2), "{tag}: {n1} differs");
    }
    // The generic loader finds the kind by itself.
    let any = load_any(&path, Device::Cpu).unwrap();
    assert_eq!(any.kind(), M::KIND);
    assert!(any.forward(&x).unwrap().equal(&a));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn every_model_round_trips_exactly() {
    round_trip(
        &LstmAe::seeded(&LstmAeConfig::new(4, 6, 5), Device::Cpu, 1).unwrap(),
        "lstm",
    );
    let mut cfg = LstmAeConfig::new(4, 6, 5);
    cfg.latent = Some(3);
    round_trip(
        &AttentionLstmAe::seeded(&cfg, Device::Cpu, 2).unwrap(),
        "attention",
    );
    let mut cfg = DenseAeConfig::new(7, vec![5, 2]);
    cfg.bias = false;
    round_trip(&DenseAe::seeded(&cfg, Device::Cpu, 3).unwrap(), "dense");
    round_trip(
        &ConvAe::seeded(&ConvAeConfig::small(16, 3), Device::Cpu, 4).unwrap(),
        "conv",
    );
}

#[test]
fn manifest_names_kind_config_and_shapes() {
    let dir = common::temp_dir("manifest");
    let ae = DenseAe::seeded(&DenseAeConfig::new(3, vec![2]), Device::Cpu, 0).unwrap();
    ae.save(dir.join("d.safetensors")).unwrap();
    let m = read_manifest(&dir.join("d")).unwrap();
    assert_eq!((m.format.as_str(), m.kind.as_str()), (FORMAT, "DenseAe"));
    assert_eq!(m.config["input"], 3);
    assert_eq!(m.parameters[0].name, "encoder.0.weight");
    assert_eq!(m.parameters[0].shape, vec![2, 3]);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn loading_another_kind_or_config_is_a_config_mismatch() {
    let dir = common::temp_dir("mismatch");
    let path = dir.join("lstm");
    LstmAe::seeded(&LstmAeConfig::new(3, 4, 5), Device::Cpu, 0)
        .unwrap()
        .save(&path)
        .unwrap();

    let err = DenseAe::load(&path, Device::Cpu).unwrap_err();
    assert!(matches!(err, ModelError::ConfigMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("holds a LstmAe, not a DenseAe"),
        "{err}"
    );

    // Same kind, other sizes: loading into it names both configs.
    let other = LstmAe::seeded(&LstmAeConfig::new(3, 4, 6), Device::Cpu, 0).unwrap();
    let err = load_weights_into(&other, &path).unwrap_err();
    assert!(matches!(err, ModelError::ConfigMismatch { .. }), "{err}");
    assert!(err.to_string().contains("encoder_hidden: [5, 5]"), "{err}");

    // Weights of another model under this manifest: the shapes are checked.
    let dense = dir.join("dense");
    DenseAe::seeded(&DenseAeConfig::new(3, vec![2]), Device::Cpu, 0)
        .unwrap()
        .save(&dense)
        .unwrap();
    std::fs::copy(
        dense.with_extension("safetensors"),
        path.with_extension("safetensors"),
    )
    .unwrap();
    let err = LstmAe::load(&path, Device::Cpu).unwrap_err();
    assert!(
        err.to_string()
            .contains("parameter encoder.weight_ih_l0 is missing"),
        "{err}"
    );

    // Same names, other shapes.
    let wide = dir.join("wide");
    LstmAe::seeded(&LstmAeConfig::new(3, 4, 6), Device::Cpu, 0)
        .unwrap()
        .save(&wide)
        .unwrap();
    std::fs::copy(
        wide.with_extension("safetensors"),
        path.with_extension("safetensors"),
    )
    .unwrap();
    let err = LstmAe::load(&path, Device::Cpu).unwrap_err();
    assert!(
        err.to_string()
            .contains("shape [24, 3] in the file, the model needs [20, 3]"),
        "{err}"
    );

    // A failed load leaves the target untouched.
    let target = LstmAe::seeded(&LstmAeConfig::new(3, 4, 5), Device::Cpu, 9).unwrap();
    let before = target.parameters()[0].1.copy();
    assert!(load_weights_into(&target, &path).is_err());
    assert!(target.parameters()[0].1.equal(&before));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn missing_and_corrupt_files_are_named() {
    let dir = common::temp_dir("missing");
    let err = LstmAe::load(dir.join("nothing"), Device::Cpu).unwrap_err();
    assert!(
        matches!(err, ModelError::Io { .. }) && err.to_string().contains("nothing.json"),
        "{err}"
    );
    std::fs::write(dir.join("bad.json"), "{\"format\": 1}").unwrap();
    let err = LstmAe::load(dir.join("bad"), Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("not a model manifest"), "{err}");
    let path = dir.join("ok");
    DenseAe::seeded(&DenseAeConfig::new(3, vec![2]), Device::Cpu, 0)
        .unwrap()
        .save(&path)
        .unwrap();
    std::fs::write(path.with_extension("safetensors"), b"garbage").unwrap();
    let err = DenseAe::load(&path, Device::Cpu).unwrap_err();
    assert!(
        matches!(err, ModelError::CorruptFile { .. }) && err.to_string().contains("ok.safetensors"),
        "{err}"
    );
    std::fs::remove_file(path.with_extension("safetensors")).unwrap();
    assert!(matches!(
        DenseAe::load(&path, Device::Cpu).unwrap_err(),
        ModelError::Io { .. }
    ));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn trained_weights_survive_a_round_trip() {
    let dir = common::temp_dir("trained");
    let ae = DenseAe::seeded(&DenseAeConfig::new(3, vec![2]), Device::Cpu, 0).unwrap();
    let data = Tensor::rand([40, 3], (Kind::Float, Device::Cpu));
    let cfg = ae_models::train::TrainConfig {
        epochs: 3,
        quiet: true,
        ..Default::default()
    };
    ae_models::train::train(&ae, &data, &cfg).unwrap();
    ae.save(dir.join("t")).unwrap();
    let back = DenseAe::load(dir.join("t"), Device::Cpu).unwrap();
    assert!(ae
        .forward(&data)
        .unwrap()
        .equal(&back.forward(&data).unwrap()));
    // Loading into a model with fresh weights makes it the trained one.
    let fresh = DenseAe::seeded(ae.config(), Device::Cpu, 77).unwrap();
    load_weights_into(&fresh, &dir.join("t")).unwrap();
    assert!(fresh
        .forward(&data)
        .unwrap()
        .equal(&back.forward(&data).unwrap()));
    std::fs::remove_dir_all(dir).ok();
}
