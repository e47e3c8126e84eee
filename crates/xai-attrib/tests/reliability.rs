//! Outputs a user reads are checked, and errors name what the user gave.

use ae_models::{ErrorNorm, LstmAe, LstmAeConfig};
use tch::{Device, Kind, Tensor};
use xai_attrib::{
    Attribution, ErrorScorer, FnScorer, GradientShap, IntegratedGradients, KernelShap, MethodSpec,
    Request, Saliency, ShapleyValueSampling, XaiError,
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

#[test]
fn counts_without_a_bound_are_refused_before_anything_is_allocated() {
    let huge = 1_000_000_000_000;
    for (err, needle) in [
        (
            KernelShap::params().n_samples(huge).check().unwrap_err(),
            "kernel_shap: n_samples = 1000000000000 is over the bound of 1000000",
        ),
        (
            ShapleyValueSampling::params()
                .n_permutations(huge)
                .check()
                .unwrap_err(),
            "n_permutations = 1000000000000 is over the bound of 100000",
        ),
        (
            IntegratedGradients::params()
                .n_steps(huge)
                .check()
                .unwrap_err(),
            "n_steps = 1000000000000 is over the bound of 100000",
        ),
        (
            GradientShap::params().n_samples(huge).check().unwrap_err(),
            "n_samples = 1000000000000 is over the bound of 100000",
        ),
        (
            serde_json::from_str::<MethodSpec>(r#"{"kernel_shap": {"n_samples": 1000000000000}}"#)
                .map(drop)
                .map_err(|e| XaiError::InvalidInput {
                    what: "json".into(),
                    reason: e.to_string(),
                })
                .unwrap_err(),
            "over the bound of 1000000",
        ),
    ] {
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
    // Within the bounds, what the bookkeeping would need for this many groups is checked
    // when the method runs, before the design or the permutations are built: 2000 groups
    // (one per cell) and 10⁶ coalitions would need about 32 GiB.
    let sum = FnScorer::new("sum", |x: &Tensor| {
        Ok(x.f_sum_dim_intlist(1, false, Kind::Float)?)
    });
    let x = Tensor::zeros([1, 2000], (Kind::Float, Device::Cpu));
    let ks = KernelShap::params().n_samples(1_000_000).check().unwrap();
    let err = ks.attribute(&sum, &x, &Request::default()).unwrap_err();
    assert!(matches!(err, XaiError::TooLarge { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("would need 31.7 GiB")
            && msg.contains("of 2000 groups")
            && msg.contains("limit of 4.0 GiB"),
        "{msg}"
    );
    let sv = ShapleyValueSampling::params()
        .n_permutations(100_000)
        .check()
        .unwrap();
    let err = sv.attribute(&sum, &x, &Request::default()).unwrap_err();
    assert!(
        matches!(err, XaiError::TooLarge { .. })
            && err
                .to_string()
                .contains("100000 permutations of 2000 groups"),
        "{err}"
    );
}
