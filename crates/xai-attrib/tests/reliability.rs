//! Outputs a user reads are checked, and errors name what the user gave.

use ae_models::{ErrorNorm, LstmAe, LstmAeConfig};
use tch::{Device, Kind, Tensor};
use xai_attrib::{
    Attribution, ErrorScorer, FnScorer, IntegratedGradients, Request, Saliency, XaiError,
};

/// `f(x) = Σ ∛x`: finite everywhere, with an infinite gradient at 0.
fn cube_root() -> FnScorer<impl Fn(&Tensor) -> xai_attrib::Result<Tensor>> {
    FnScorer::new("cube root", |x: &Tensor| {
        let r = x
            .f_sign()?
            .f_mul(&x.f_abs()?.f_pow_tensor_scalar(1.0 / 3.0)?)?;
        Ok(r.f_sum_dim_intlist(1, false, Kind::Double)?)
    })
}

#[test]
fn infinite_gradients_are_errors_naming_the_row_not_inf_attributions() {
    let x = Tensor::from_slice(&[1.0f64, 0.0, 2.0, 3.0]).reshape([2, 2]);
    let err = Saliency::default()
        .attribute(&cube_root(), &x, &Request::default())
        .unwrap_err();
    match &err {
        XaiError::NonFinite { what, index } => {
            assert!(what.contains("row 0 (cell 1)"), "{what}");
            assert_eq!(*index, 1);
        }
        other => panic!("expected NonFinite, got {other}"),
    }
    // Integrated Gradients from a zero baseline of an all-zero sample: every path point is 0.
    let zero = Tensor::zeros([1, 2], (Kind::Double, Device::Cpu));
    let err = IntegratedGradients::default()
        .attribute(&cube_root(), &zero, &Request::default())
        .unwrap_err();
    assert!(matches!(err, XaiError::NonFinite { .. }), "{err}");
}

#[test]
fn a_wrong_input_is_named_as_given_not_as_the_rows_a_method_builds() {
    let ae = LstmAe::seeded(&LstmAeConfig::new(3, 6, 4), Device::Cpu, 0).unwrap();
    let scorer = ErrorScorer::new(&ae, ErrorNorm::L1).unwrap();
    let x = Tensor::rand([2, 5, 3], (Kind::Float, Device::Cpu));
    let err = IntegratedGradients::default()
        .attribute(&scorer, &x, &Request::default())
        .unwrap_err()
        .to_string();
    // IG evaluates 50 path points × 2 samples = 100 rows; the user gave 2.
    assert!(
        err.contains("[2, 5, 3]") && err.contains("[batch, 6, 3]"),
        "{err}"
    );
    assert!(!err.contains("100"), "{err}");
}
