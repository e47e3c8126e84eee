//! Parity with Zennit 0.5.1 on committed fixtures (`tests/fixtures/parity/zennit/`, written
//! by `xtask/crosscheck/make_fixtures.py`; `cargo xtask crosscheck` regenerates and compares
//! them). No Python needed.
//!
//! Every case names its composite as a [`CompositeSpec`] (a preset, explicit rules by layer,
//! or both) and its starting relevance: the reconstruction error (fed to Zennit as
//! `attr_output`, checked against our Deep-Taylor seed) or an output relevance for
//! [`OutputLrp`] (the output, a logit per sample, a one-hot class, a given tensor). Zennit ran
//! its own `EpsilonGammaBox` / `EpsilonPlusFlat` for the presets of the same name and
//! `NameMapComposite` for explicit rules. The models are f64 with biases, dilated, strided
//! and grouped convolutions, flatten, reshape, nearest upsampling and a softmax head; the
//! input relevance must match elementwise to `atol = rtol = 1e-9`. Run with `--nocapture`
//! to see every case's largest difference.

#[path = "../../../tests/fixtures/parity/reader.rs"]
mod reader;

use ae_models::ErrorNorm;
use lrp_ae::{CompositeSpec, Lrp, OutputCell, OutputLrp, OutputRelevance};
use serde_json::Value;

fn target(v: &Value) -> OutputCell {
    match v {
        Value::Number(k) => OutputCell::class(k.as_i64().unwrap()),
        Value::Array(ks) => OutputCell::classes(ks.iter().map(|k| k.as_i64().unwrap())),
        other => panic!("unknown target {other}"),
    }
}

/// Runs every case of `zennit/<name>.json`; returns the number of cases.
fn run_fixture(name: &str) -> usize {
    let fixture = reader::load("zennit", name);
    let model = reader::sequential(&fixture["model"]);
    let x = reader::named(&fixture, "x");
    let mut failures = Vec::new();
    let cases = fixture["cases"].as_array().unwrap();
    for case in cases {
        let case_name = case["name"].as_str().unwrap();
        let spec: CompositeSpec = serde_json::from_value(case["composite"].clone())
            .unwrap_or_else(|e| panic!("{name}/{case_name}: composite: {e}"));
        let composite = spec.composite().expect("the fixture's composite");
        let start = case["start"].as_object().unwrap();
        let (key, arg) = start.iter().next().unwrap();
        let (relevance, output_relevance) = if key == "reconstruction" {
            let seed = match arg.as_str().unwrap() {
                "l1" => ErrorNorm::L1,
                "l2" => ErrorNorm::SquaredL2,
                other => panic!("unknown seed {other}"),
            };
            let e = Lrp::with_composite(seed, composite)
                .explain(&model, &x)
                .unwrap_or_else(|e| panic!("{name}/{case_name}: {e}"));
            (e.relevance, e.output_relevance)
        } else {
            let from = match key.as_str() {
                "output" => OutputRelevance::Output,
                "logit" => OutputRelevance::Logit(target(arg)),
                "one-hot" => OutputRelevance::OneHot(target(arg)),
                "given" => OutputRelevance::Given(reader::named(&fixture, arg.as_str().unwrap())),
                other => panic!("unknown start {other}"),
            };
            let e = OutputLrp::with_composite(composite)
                .explain(&model, &x, &from)
                .unwrap_or_else(|e| panic!("{name}/{case_name}: {e}"));
            (e.relevance, e.output_relevance)
        };
        let check = &case["check"];
        let (atol, rtol) = (
            check["atol"].as_f64().unwrap(),
            check["rtol"].as_f64().unwrap(),
        );
        let (d_out, ok_out) = reader::allclose(
            &output_relevance,
            &reader::tensor(&case["output_relevance"]),
            atol,
            rtol,
        );
        let (d_in, ok_in) =
            reader::allclose(&relevance, &reader::tensor(&case["expected"]), atol, rtol);
        let line = format!(
            "{name}/{case_name}: max |ours - zennit| = {d_in:.2e} (output relevance {d_out:.2e})"
        );
        eprintln!("{line}{}", if ok_in && ok_out { "" } else { "  FAIL" });
        if !(ok_in && ok_out) {
            failures.push(format!("{line}; zennit: {}", case["zennit"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases differ from Zennit:\n{}",
        failures.len(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn dense_autoencoder_matches_zennit_for_every_rule_and_composite() {
    assert_eq!(run_fixture("dense_ae"), 13);
}

#[test]
fn dilated_grouped_conv_autoencoder_matches_zennit_including_tensor_bounds() {
    assert_eq!(run_fixture("conv_ae"), 12);
}

#[test]
fn classifier_matches_zennit_from_every_kind_of_output_relevance() {
    assert_eq!(run_fixture("classifier"), 9);
}
