//! One error type at the facade: every crate's error converts into
//! `anomaly_xai::Error` with `?`, and its message is kept.

use anomaly_xai::{Error, Result};

fn model() -> Result<()> {
    anomaly_xai::models::LstmAeConfig::new(0, 1, 1).check()?;
    Ok(())
}

fn attribution() -> Result<()> {
    anomaly_xai::attrib::KernelShap::params()
        .n_samples(1)
        .check()?;
    Ok(())
}

fn lrp() -> Result<()> {
    anomaly_xai::lrp::Preset::Epsilon { eps: -1.0 }.composite()?;
    Ok(())
}

fn metrics() -> Result<()> {
    anomaly_xai::metrics::Region::new(5, 2, vec![0])?;
    Ok(())
}

fn data() -> Result<()> {
    anomaly_xai::data::SmdMachine::load("/nonexistent".as_ref(), "machine-0")?;
    Ok(())
}

fn corruption() -> Result<()> {
    anomaly_xai::corruption::ScoreNormalizer::from_reference(&[1.0, 1.0], 1.0)?;
    Ok(())
}

#[test]
fn every_crates_error_converts_and_keeps_its_message() {
    let cases: [(Result<()>, &str); 6] = [
        (model(), "n_features = 0"),
        (attribution(), "n_samples = 1"),
        (lrp(), "-1"),
        (metrics(), "5"),
        (data(), "/nonexistent"),
        (corruption(), "empty range"),
    ];
    for (r, needle) in cases {
        let e: Error = r.unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
    }
}

use anomaly_xai::attrib::XaiError;
use anomaly_xai::lrp::LrpError;
use anomaly_xai::models::ModelError;

fn model_error() -> ModelError {
    ModelError::ShapeMismatch {
        what: "autoencoder input".into(),
        expected: "[batch, 50, 38]".into(),
        got: vec![3, 40, 38],
    }
}

fn torch_error() -> tch::TchError {
    tch::TchError::Torch("expected input to have 38 channels, but got 50".into())
}

#[test]
fn a_model_error_arrives_as_the_model_variant_whichever_crate_passed_it_on() {
    let direct = Error::from(model_error());
    let via_attribution = Error::from(XaiError::Model(model_error()));
    let via_lrp = Error::from(LrpError::Model(model_error()));
    for e in [&direct, &via_attribution, &via_lrp] {
        assert!(
            matches!(e, Error::Model(ModelError::ShapeMismatch { .. })),
            "{e:?}"
        );
        assert_eq!(e.to_string(), direct.to_string());
    }
    for e in [
        Error::from(ModelError::Torch(torch_error())),
        Error::from(XaiError::Torch(torch_error())),
        Error::from(LrpError::Torch(torch_error())),
        Error::from(XaiError::Model(ModelError::Torch(torch_error()))),
    ] {
        assert!(matches!(e, Error::Torch(_)), "{e:?}");
    }
    let not_differentiable = Error::from(XaiError::NotDifferentiable {
        method: "integrated gradients",
        scorer: "closure detector".into(),
    });
    assert!(
        matches!(not_differentiable, Error::MissingCapability { .. }),
        "{not_differentiable:?}"
    );
}

/// A message stutters when one part of it repeats the word that opens the part before it
/// ("lrp relevance: lrp: relevance vanished").
fn stutters(message: &str) -> bool {
    let firsts: Vec<String> = message
        .split(": ")
        .map(|part| part.split_whitespace().next().unwrap_or("").to_lowercase())
        .collect();
    firsts.windows(2).any(|w| !w[0].is_empty() && w[0] == w[1])
}

#[test]
fn no_message_stutters_or_names_an_empty_place() {
    let vanished = LrpError::VanishedRelevance {
        sample: 0,
        count: 2,
        error: 0.13,
    };
    let errors: Vec<Error> = vec![
        model().unwrap_err(),
        attribution().unwrap_err(),
        lrp().unwrap_err(),
        metrics().unwrap_err(),
        data().unwrap_err(),
        corruption().unwrap_err(),
        Error::from(model_error()),
        Error::from(XaiError::from(LrpError::Model(model_error()))),
        Error::from(LrpError::from(XaiError::Model(model_error()))),
        Error::from(XaiError::from(vanished)),
        Error::from(LrpError::VanishedRelevance {
            sample: 1,
            count: 1,
            error: 1.0,
        }),
        Error::from(ModelError::AtLayer {
            index: 2,
            kind: "Linear".into(),
            source: Box::new(ModelError::NonFinite {
                what: "layer output".into(),
                index: 7,
            }),
        }),
        Error::from(XaiError::NotDifferentiable {
            method: "saliency",
            scorer: "closure detector".into(),
        }),
        Error::NonFinite {
            what: "reference scores".into(),
            index: vec![],
        },
        Error::NonFinite {
            what: "series".into(),
            index: vec![3, 7],
        },
        Error::io(
            "/nonexistent/out",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ),
        Error::from(torch_error()),
    ];
    for e in &errors {
        let message = e.to_string();
        assert!(!stutters(&message), "stutters: {message}");
        assert!(!message.contains("[]"), "names an empty place: {message}");
        assert!(!message.trim().is_empty(), "{e:?}");
    }
    assert!(stutters("lrp relevance: lrp: relevance vanished"));
    assert!(!stutters("lrp: relevance vanished for 2 sample(s)"));
}
