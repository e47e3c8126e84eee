//! A user's files are safe: corrupted, truncated or non-finite saved models are errors
//! that name the file (never an abort or a silently wrong model), and saving never
//! replaces another model by accident.

mod common;

use std::fs;
use std::path::Path;

use ae_models::persist::{load_any, Overwrite, SavedFiles};
use ae_models::{
    AttentionLstmAe, ConvAe, ConvAeConfig, DenseAe, DenseAeConfig, LstmAe, LstmAeConfig,
    ModelError, SavedModel, Trainable,
};
use serde_json::{json, Value};
use tch::{Device, Tensor};

fn dense(hidden: Vec<i64>, seed: u64) -> DenseAe {
    DenseAe::seeded(&DenseAeConfig::new(7, hidden), Device::Cpu, seed).unwrap()
}

/// Rewrites the manifest of the model saved at `path` with `edit`.
fn edit_manifest(path: &Path, edit: impl FnOnce(&mut Value)) {
    let file = SavedFiles::for_path(path).manifest;
    let mut m: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    edit(&mut m);
    fs::write(&file, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

#[test]
fn absurd_sizes_in_a_manifest_are_errors_not_aborts() {
    let dir = common::temp_dir("absurd");
    // Each case: the model saved, how its manifest is corrupted, and what the error names.
    // Before the header check, loading the first case tried to allocate 10^11 x 7 floats
    // and the process died with SIGABRT.
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "dense",
            Box::new(|m| m["config"]["hidden"] = json!([100_000_000_000i64, 2])),
            "encoder.0.weight with shape [100000000000, 7]",
        ),
        (
            "dense",
            Box::new(|m| m["config"]["input"] = json!(1_000_000_000_000i64)),
            "shape [5, 1000000000000]",
        ),
        (
            "dense",
            Box::new(|m| {
                // Config and parameter list corrupted alike: the weights file's header
                // still tells the truth.
                m["config"]["hidden"] = json!([100_000_000_000i64, 2]);
                m["parameters"][0]["shape"] = json!([100_000_000_000i64, 7]);
                m["parameters"][1]["shape"] = json!([100_000_000_000i64]);
                m["parameters"][2]["shape"] = json!([2, 100_000_000_000i64]);
                m["parameters"][4]["shape"] = json!([100_000_000_000i64, 2]);
                m["parameters"][5]["shape"] = json!([100_000_000_000i64]);
                m["parameters"][6]["shape"] = json!([7, 100_000_000_000i64]);
            }),
            "parameter encoder.0.weight has shape [5, 7] in the file, the model needs [100000000000, 7]",
        ),
        (
            "dense",
            Box::new(|m| m["config"]["hidden"] = json!([-3, 2])),
            "hidden = [-3, 2]",
        ),
        (
            "lstm",
            Box::new(|m| m["config"]["encoder_hidden"] = json!([i64::MAX / 2, 5])),
            "overflow",
        ),
        (
            "lstm",
            Box::new(|m| m["config"]["decoder_hidden"] = json!([50_000_000_000i64, 5])),
            "decoder.weight_ih_l0 with shape [200000000000, 5]",
        ),
        (
            "conv",
            Box::new(|m| m["config"]["convs"][1]["out_channels"] = json!(10_000_000_000i64)),
            "conv2.weight with shape [10000000000, 3, 3, 3]",
        ),
        (
            "dense",
            Box::new(|m| m["parameters"][0]["shape"] = json!([100_000_000_000i64, 7])),
            "the manifest lists encoder.0.weight with shape [100000000000, 7]",
        ),
    ];
    for (i, (kind, edit, needle)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("case{i}"));
        match kind {
            "dense" => dense(vec![5, 2], 0).save(&path).map(drop),
            "lstm" => LstmAe::seeded(&LstmAeConfig::new(3, 4, 5), Device::Cpu, 0)
                .unwrap()
                .save(&path)
                .map(drop),
            _ => ConvAe::seeded(&ConvAeConfig::small(8, 3), Device::Cpu, 0)
                .unwrap()
                .save(&path)
                .map(drop),
        }
        .unwrap();
        edit_manifest(&path, edit);
        let err = match kind {
            "dense" => DenseAe::load(&path, Device::Cpu).map(drop),
            "lstm" => LstmAe::load(&path, Device::Cpu).map(drop),
            _ => ConvAe::load(&path, Device::Cpu).map(drop),
        }
        .unwrap_err();
        assert!(
            matches!(err, ModelError::ConfigMismatch { .. }),
            "case {i}: {err}"
        );
        let text = err.to_string();
        assert!(text.contains(needle), "case {i}: {text} lacks {needle}");
        assert!(text.contains(&format!("case{i}.")), "case {i}: {text}");
        // The kind-agnostic loader checks the same way.
        assert!(load_any(&path, Device::Cpu).is_err(), "case {i}");
    }
    fs::remove_dir_all(dir).ok();
}

#[test]
fn truncated_weights_name_the_file_and_say_so() {
    let dir = common::temp_dir("truncated");
    let path = dir.join("lstm-run");
    let files = LstmAe::seeded(&LstmAeConfig::new(3, 4, 5), Device::Cpu, 0)
        .unwrap()
        .save(&path)
        .unwrap();
    let bytes = fs::read(&files.weights).unwrap();
    // Cut inside the data, inside the header, and before the header length ends.
    for (keep, needle) in [
        (bytes.len() - 100, "cut short"),
        (bytes.len() / 2, "cut short"),
        (40, "cut short"),
        (5, "too short"),
    ] {
        fs::write(&files.weights, &bytes[..keep]).unwrap();
        let err = LstmAe::load(&path, Device::Cpu).unwrap_err();
        match &err {
            ModelError::CorruptFile { path: p, reason } => {
                assert_eq!(Path::new(p), files.weights, "{err}");
                assert!(reason.contains(needle), "{keep}: {reason}");
            }
            other => panic!("{keep} bytes: expected CorruptFile, got {other}"),
        }
        assert!(err.to_string().contains("truncated or corrupt"), "{err}");
    }
    fs::remove_dir_all(dir).ok();
}

#[test]
fn non_finite_weights_are_refused_on_load_and_on_save() {
    let dir = common::temp_dir("nonfinite");
    let path = dir.join("d");
    let ae = dense(vec![3], 1);
    let files = ae.save(&path).unwrap();
    // Rewrite the weights file with one NaN and one inf in decoder.0.weight.
    let tensors: Vec<(String, Tensor)> = ae
        .parameters()
        .iter()
        .map(|(n, t)| (n.clone(), t.detach().copy()))
        .collect();
    let w = &tensors[2].1;
    assert_eq!(tensors[2].0, "decoder.0.weight");
    let _ = w.view([-1]).get(4).fill_(f64::NAN);
    let _ = w.view([-1]).get(9).fill_(f64::INFINITY);
    Tensor::write_safetensors(&tensors, &files.weights).unwrap();
    let err = DenseAe::load(&path, Device::Cpu).unwrap_err();
    assert!(
        matches!(err, ModelError::NonFinite { index: 4, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("d.safetensors") && text.contains("parameter decoder.0.weight"),
        "{text}"
    );
    // Loading into an existing model fails the same way and leaves it unchanged.
    let target = dense(vec![3], 9);
    let before = target.parameters()[2].1.copy();
    assert!(ae_models::persist::load_weights_into(&target, &path).is_err());
    assert!(target.parameters()[2].1.equal(&before));

    // A model holding a NaN is not saved at all.
    let _ = tch::no_grad(|| ae.parameters()[1].1.shallow_clone().fill_(f64::NAN));
    let err = ae
        .save_with(dir.join("nan"), Overwrite::Always)
        .unwrap_err();
    assert!(
        matches!(err, ModelError::NonFinite { index: 0, .. })
            && err.to_string().contains("encoder.0.bias"),
        "{err}"
    );
    assert!(!SavedFiles::for_path(&dir.join("nan")).weights.exists());
    fs::remove_dir_all(dir).ok();
}

#[test]
fn dotted_names_are_different_models() {
    let dir = common::temp_dir("dotted");
    let (a, b) = (dense(vec![4], 0), dense(vec![2], 0));
    let fa = a.save(dir.join("run-lr0.001")).unwrap();
    let fb = b.save(dir.join("run-lr0.01")).unwrap();
    assert_ne!(fa, fb);
    assert!(fa.weights.ends_with("run-lr0.001.safetensors"), "{fa:?}");
    assert!(fb.manifest.ends_with("run-lr0.01.json"), "{fb:?}");
    let la = DenseAe::load(dir.join("run-lr0.001"), Device::Cpu).unwrap();
    let lb = DenseAe::load(dir.join("run-lr0.01"), Device::Cpu).unwrap();
    assert_eq!(la.config().hidden, vec![4]);
    assert_eq!(lb.config().hidden, vec![2]);
    // Naming the weights file itself is the same pair (the examples' cache does this).
    assert_eq!(
        SavedFiles::for_path(&dir.join("run-lr0.001.safetensors")),
        fa
    );
    DenseAe::load(dir.join("run-lr0.001.safetensors"), Device::Cpu).unwrap();
    fs::remove_dir_all(dir).ok();
}

#[test]
fn saving_replaces_only_the_same_model_unless_asked() {
    let dir = common::temp_dir("overwrite");
    let path = dir.join("m");
    let first = dense(vec![3], 0);
    let files = first.save(&path).unwrap();

    // Re-saving the same kind and configuration (new weights) is the normal case.
    let retrained = dense(vec![3], 1);
    retrained.save(&path).unwrap();
    let back = DenseAe::load(&path, Device::Cpu).unwrap();
    assert!(back.parameters()[0].1.equal(&retrained.parameters()[0].1));

    // Another configuration or kind: refused, and both files are left as they were.
    let before = (
        fs::read(&files.weights).unwrap(),
        fs::read(&files.manifest).unwrap(),
    );
    let other = dense(vec![2], 0);
    let err = other.save(&path).unwrap_err();
    assert!(
        matches!(err, ModelError::WouldOverwrite { .. })
            && err.to_string().contains("m.json")
            && err.to_string().contains("\"hidden\":[3]"),
        "{err}"
    );
    let lstm = LstmAe::seeded(&LstmAeConfig::new(7, 3, 2), Device::Cpu, 0).unwrap();
    let err = lstm.save(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("it holds a DenseAe, this is a LstmAe"),
        "{err}"
    );
    let att = AttentionLstmAe::seeded(&LstmAeConfig::new(7, 3, 2), Device::Cpu, 0).unwrap();
    assert!(att.save(&path).is_err());
    assert_eq!(fs::read(&files.weights).unwrap(), before.0);
    assert_eq!(fs::read(&files.manifest).unwrap(), before.1);

    // Asked for: replaced.
    other.save_with(&path, Overwrite::Always).unwrap();
    assert_eq!(
        DenseAe::load(&path, Device::Cpu).unwrap().config().hidden,
        vec![2]
    );
    // Never: not even the same model.
    let err = other.save_with(&path, Overwrite::Never).unwrap_err();
    assert!(err.to_string().contains("Overwrite::Never"), "{err}");

    // Files this crate did not write are never replaced by default: a JSON of the user's
    // own, a safetensors file without a manifest.
    let user_json = dir.join("settings.json");
    fs::write(&user_json, "{\"lr\": 0.01}\n").unwrap();
    let err = other.save(dir.join("settings")).unwrap_err();
    assert!(err.to_string().contains("not a model manifest"), "{err}");
    assert_eq!(fs::read_to_string(&user_json).unwrap(), "{\"lr\": 0.01}\n");
    let lone = dir.join("lone.safetensors");
    fs::write(&lone, b"pytorch weights").unwrap();
    let err = other.save(dir.join("lone")).unwrap_err();
    assert!(err.to_string().contains("no manifest"), "{err}");
    assert_eq!(fs::read(&lone).unwrap(), b"pytorch weights");

    // No temporary file is left behind by any of it.
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    fs::remove_dir_all(dir).ok();
}
