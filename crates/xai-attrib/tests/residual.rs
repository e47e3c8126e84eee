//! The reconstruction-error scorer, the residual baseline and the attention read-out.

mod common;

use ae_models::{
    AttentionLstmAe, ErrorNorm, ExplainedError, Layer, LayerModel, LstmAe, LstmAeConfig,
};
use common::{assert_close, t64, values, wave};
use tch::{Device, Kind, Tensor};
use xai_attrib::{
    AttentionReadout, Attribution, ErrorScorer, FeatureMask, IntegratedGradients, Request,
    Residual, Saliency, Scorer, XaiError,
};

/// `x̂ = x Wᵀ + b` on `[B, T, F]` windows: a linear "autoencoder" with a known error.
struct LinearAe {
    layers: Vec<Layer>,
    shape: Vec<i64>,
}

impl LinearAe {
    fn new(t: i64, f: i64) -> Self {
        let w = t64(&wave((f * f) as usize, 0.4), &[f, f]) * 0.5;
        let b = t64(&wave(f as usize, 1.3), &[f]) * 0.1;
        LinearAe {
            layers: vec![Layer::Linear {
                weight: w,
                bias: Some(b),
            }],
            shape: vec![t, f],
        }
    }
    fn reconstruct(&self, x: &Tensor) -> Tensor {
        let Layer::Linear { weight, bias } = &self.layers[0] else {
            unreachable!()
        };
        x.linear(weight, bias.as_ref())
    }
}

impl LayerModel for LinearAe {
    fn sample_shape(&self) -> Vec<i64> {
        self.shape.clone()
    }
    fn layers(&self) -> &[Layer] {
        &self.layers
    }
    fn device(&self) -> Device {
        Device::Cpu
    }
}

#[test]
fn the_scorer_is_the_mean_cell_error_and_a_selection_restricts_it() {
    let ae = LinearAe::new(4, 3);
    let x = t64(&wave(24, 0.2), &[2, 4, 3]);
    let diff = &x - ae.reconstruct(&x);
    let l1 = ErrorScorer::new(&ae, ErrorNorm::L1).unwrap();
    assert_close(
        &l1.score(&x).unwrap(),
        &diff.abs().mean_dim([1, 2].as_slice(), false, Kind::Double),
        1e-12,
    );
    let l2 = ErrorScorer::new(&ae, ErrorNorm::SquaredL2).unwrap();
    assert_close(
        &l2.score(&x).unwrap(),
        &diff
            .square()
            .mean_dim([1, 2].as_slice(), false, Kind::Double),
        1e-12,
    );
    let last = ErrorScorer::new(&ae, ExplainedError::new(ErrorNorm::L1).steps([-1])).unwrap();
    assert_close(
        &last.score(&x).unwrap(),
        &diff.select(1, 3).abs().mean_dim(1, false, Kind::Double),
        1e-12,
    );
    let sensors = ExplainedError::new(ErrorNorm::L1)
        .steps([0, 1])
        .features([2]);
    let some = ErrorScorer::new(&ae, sensors).unwrap();
    let want = diff
        .narrow(1, 0, 2)
        .select(2, 2)
        .abs()
        .mean_dim(1, false, Kind::Double);
    assert_close(&some.score(&x).unwrap(), &want, 1e-12);
    assert!(
        some.describe().contains("L1") && some.describe().contains("steps [0, 1] and features [2]"),
        "{}",
        some.describe()
    );
    // The per-cell errors sum to the score.
    assert_close(
        &some
            .per_cell(&x)
            .unwrap()
            .sum_dim_intlist([1, 2].as_slice(), false, Kind::Double),
        &want,
        1e-12,
    );
}

#[test]
fn selections_and_inputs_of_the_wrong_shape_are_errors() {
    let ae = LinearAe::new(4, 3);
    let err = ErrorScorer::new(&ae, ExplainedError::new(ErrorNorm::L1).features([3])).unwrap_err();
    assert!(
        err.to_string().contains("3 on axis -1 of length 3"),
        "{err}"
    );
    let err = ErrorScorer::new(&ae, ExplainedError::new(ErrorNorm::L1).steps([])).unwrap_err();
    assert!(err.to_string().contains("at least one position"), "{err}");
    let scorer = ErrorScorer::new(&ae, ErrorNorm::L1).unwrap();
    let err = scorer.score(&t64(&wave(10, 0.0), &[2, 5])).unwrap_err();
    assert!(matches!(err, XaiError::Model(_)), "{err}");
    let err = Saliency::default()
        .attribute(&scorer, &t64(&wave(10, 0.0), &[2, 5]), &Request::default())
        .unwrap_err();
    assert!(err.to_string().contains("[2, 5]"), "{err}");
}

#[test]
fn gradient_methods_explain_the_reconstruction_error_of_an_lstm_autoencoder() {
    let ae = LstmAe::seeded(&LstmAeConfig::new(3, 6, 5), Device::Cpu, 1).unwrap();
    let x = Tensor::rand([2, 6, 3], (Kind::Float, Device::Cpu));
    let f = ErrorScorer::new(&ae, ErrorNorm::SquaredL2).unwrap();
    let a = IntegratedGradients::params()
        .convergence_delta(true)
        .n_steps(32)
        .check()
        .unwrap()
        .attribute(&f, &x, &Request::default())
        .unwrap();
    assert_eq!(a.scores.size(), vec![2, 6, 3]);
    let rel = a.delta.unwrap().abs().max().double_value(&[])
        / f.score(&x).unwrap().abs().max().double_value(&[]);
    assert!(rel < 1e-2, "relative completeness gap {rel}");
}

#[test]
fn the_residual_is_the_per_cell_error_and_group_means_with_a_mask() {
    let ae = LinearAe::new(4, 3);
    let x = t64(&wave(24, 0.2), &[2, 4, 3]);
    let diff = &x - ae.reconstruct(&x);
    let a = Residual::new(ErrorNorm::L1)
        .attribute(&ae, &x, &Request::default())
        .unwrap();
    assert_close(&a.scores, &diff.abs(), 1e-12);
    assert_eq!((a.forward_evals, a.backward_evals), (1, 0));
    let b = Residual::new(ErrorNorm::SquaredL2)
        .attribute(&ae, &x, &Request::default())
        .unwrap();
    assert_close(&b.scores, &diff.square(), 1e-12);
    let mask = FeatureMask::per_sensor(4, 3).unwrap();
    let c = Residual::new(ErrorNorm::L1)
        .attribute(&ae, &x, &Request::default().mask(mask.clone()))
        .unwrap();
    let per_sensor = diff.abs().mean_dim(1, false, Kind::Double);
    assert_close(&mask.group_means(&c.scores).unwrap(), &per_sensor, 1e-12);
    // Through a scorer with a selection, unselected cells get nothing.
    let scorer = ErrorScorer::new(&ae, ExplainedError::new(ErrorNorm::L1).steps([0])).unwrap();
    let d = Residual::new(ErrorNorm::L1)
        .attribute(&scorer, &x, &Request::default())
        .unwrap();
    assert_close(&d.scores.select(1, 0), &diff.abs().select(1, 0), 1e-12);
    assert_eq!(
        d.scores
            .narrow(1, 1, 3)
            .abs()
            .sum(Kind::Double)
            .double_value(&[]),
        0.0
    );
}

#[test]
fn the_attention_read_out_is_the_models_own_attention() {
    let ae = AttentionLstmAe::seeded(&LstmAeConfig::new(4, 5, 6), Device::Cpu, 2).unwrap();
    let x = Tensor::rand([3, 5, 4], (Kind::Float, Device::Cpu));
    let a = AttentionReadout
        .attribute(&ae, &x, &Request::default())
        .unwrap();
    assert_close(&a.scores, &ae.attention_per_step(&x).unwrap(), 1e-6);
    let per_step_sums = a.scores.sum_dim_intlist(2, false, Kind::Float);
    assert_close(
        &per_step_sums,
        &Tensor::ones([3, 5], (Kind::Float, Device::Cpu)),
        1e-5,
    );
    let mask = FeatureMask::per_sensor(5, 4).unwrap();
    let scorer = ErrorScorer::new(&ae, ErrorNorm::L1).unwrap();
    let b = AttentionReadout
        .attribute(&scorer, &x, &Request::default().mask(mask.clone()))
        .unwrap();
    assert_close(
        &mask.group_means(&b.scores).unwrap(),
        &ae.attention(&x).unwrap(),
        1e-6,
    );
    assert_eq!(values(&b.scores).len(), 60);
}
