//! Occlusion: Captum's window positions and averaging, checked against a one-window-at-a-
//! time reference.

mod common;

use common::{assert_close, interacting, linear, t64, values, wave, Counting};
use tch::{Kind, Tensor};
use xai_attrib::{
    Attribution, Baseline, FeatureAblation, FeatureMask, Occlusion, Request, Scorer, XaiError,
};

/// Occlusion computed the slow, obvious way: one scorer call per window.
fn reference(
    f: &dyn Scorer,
    x: &Tensor,
    xp: &Tensor,
    window: [i64; 2],
    strides: [i64; 2],
) -> Tensor {
    let (d0, d1) = (x.size()[1], x.size()[2]);
    let count = |d: i64, w: i64, s: i64| (d - w + s - 1) / s + 1;
    let base = f.score(x).unwrap();
    let mut total = x.zeros_like();
    let mut cover = x.zeros_like();
    for i in 0..count(d0, window[0], strides[0]) {
        for j in 0..count(d1, window[1], strides[1]) {
            let (r0, c0) = (i * strides[0], j * strides[1]);
            let (r1, c1) = ((r0 + window[0]).min(d0), (c0 + window[1]).min(d1));
            let m = Tensor::zeros([d0, d1], (Kind::Bool, tch::Device::Cpu));
            let _ = m.narrow(0, r0, r1 - r0).narrow(1, c0, c1 - c0).fill_(1);
            let occluded = xp.where_self(&m, x);
            let effect = (&base - f.score(&occluded).unwrap()).reshape([-1, 1, 1]);
            total += &effect * m.to_kind(Kind::Double);
            cover += m.to_kind(Kind::Double);
        }
    }
    total / cover
}

#[test]
fn overlapping_and_clipped_windows_match_the_reference() {
    let f = interacting();
    let x = t64(&wave(2 * 5 * 8, 0.3), &[2, 5, 8]);
    let xp = t64(&wave(80, 1.9), &[2, 5, 8]);
    let g = xai_attrib::FnScorer::new("flat", move |x: &Tensor| f.score(&x.f_reshape([-1, 40])?));
    for (window, strides) in [
        ([2, 3], [1, 2]),
        ([3, 3], [2, 3]),
        ([5, 1], [1, 1]),
        ([1, 1], [1, 1]),
        ([2, 8], [2, 1]),
    ] {
        let occ = Occlusion::params()
            .window(window)
            .strides(strides)
            .check()
            .unwrap();
        let req = Request::with_baseline(Baseline::Tensor(xp.shallow_clone()));
        let a = occ.attribute(&g, &x, &req).unwrap();
        let want = reference(&g, &x, &xp, window, strides);
        assert_close(&a.scores, &want, 1e-12);
        let n: i64 = occ.positions(&[5, 8]).unwrap().iter().product();
        assert_eq!(a.forward_evals, 1 + n as usize);
    }
}

#[test]
fn positions_follow_captums_ceil_rule() {
    let occ = Occlusion::params()
        .window([2, 1])
        .strides([2, 1])
        .check()
        .unwrap();
    // D = 5, W = 2, S = 2: ceil(3 / 2) + 1 = 3 positions (the last one clipped to one cell).
    assert_eq!(occ.positions(&[5, 4]).unwrap(), vec![3, 4]);
}

#[test]
fn unit_windows_are_per_cell_ablation_and_sensor_windows_are_per_sensor_ablation() {
    let w = t64(&wave(12, 0.5), &[4, 3]);
    let x = t64(&wave(24, 1.0), &[2, 4, 3]);
    let unit = Occlusion::params().window([1, 1]).check().unwrap();
    let a = unit
        .attribute(&linear(&w), &x, &Request::default())
        .unwrap();
    assert_close(&a.scores, &(&x * &w), 1e-12);
    let sensor = Occlusion::params().window([4, 1]).check().unwrap();
    let a = sensor
        .attribute(&linear(&w), &x, &Request::default())
        .unwrap();
    let req = Request::default().mask(FeatureMask::per_sensor(4, 3).unwrap());
    let b = FeatureAblation::default()
        .attribute(&linear(&w), &x, &req)
        .unwrap();
    assert_close(&a.scores, &b.scores, 1e-12);
}

#[test]
fn a_mask_averages_each_group_without_changing_the_windows() {
    let w = t64(&wave(12, 0.5), &[4, 3]);
    let x = t64(&wave(24, 1.0), &[2, 4, 3]);
    let occ = Occlusion::params().window([2, 1]).check().unwrap();
    let plain = occ.attribute(&linear(&w), &x, &Request::default()).unwrap();
    let mask = FeatureMask::per_sensor(4, 3).unwrap();
    let grouped = occ
        .attribute(&linear(&w), &x, &Request::default().mask(mask.clone()))
        .unwrap();
    let means = plain
        .scores
        .mean_dim(1, true, Kind::Double)
        .expand([2, 4, 3], false);
    assert_close(&grouped.scores, &means, 1e-12);
}

#[test]
fn windows_are_batched_and_batch_size_is_invisible() {
    let w = t64(&wave(40, 0.5), &[8, 5]);
    let x = t64(&wave(120, 1.0), &[3, 8, 5]);
    let f = Counting::new(linear(&w));
    let occ = Occlusion::params()
        .window([3, 2])
        .strides([2, 1])
        .batch_size(100_000)
        .check()
        .unwrap();
    let full = occ.attribute(&f, &x, &Request::default()).unwrap();
    assert_eq!(f.calls.get(), 2);
    for bs in [1, 2, 3] {
        let m = Occlusion::params()
            .window([3, 2])
            .strides([2, 1])
            .batch_size(bs)
            .check()
            .unwrap();
        assert_close(
            &m.attribute(&f, &x, &Request::default()).unwrap().scores,
            &full.scores,
            1e-12,
        );
    }
    assert_eq!(values(&full.scores).len(), 120);
}

#[test]
fn windows_and_strides_are_checked() {
    let err = Occlusion::params().check().unwrap_err().to_string();
    assert!(err.contains("window = [] must be given"), "{err}");
    let err = Occlusion::params()
        .window([0, 2])
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("window = [0, 2] must be ≥ 1 in every dimension"),
        "{err}"
    );
    let err = Occlusion::params()
        .window([2, 2])
        .strides([1])
        .check()
        .unwrap_err()
        .to_string();
    assert!(err.contains("one entry per window dimension"), "{err}");
    let x = t64(&wave(12, 0.0), &[1, 4, 3]);
    let f = linear(&t64(&wave(12, 0.5), &[4, 3]));
    let too_big = Occlusion::params().window([5, 1]).check().unwrap();
    let err = too_big.attribute(&f, &x, &Request::default()).unwrap_err();
    assert!(
        matches!(
            err,
            XaiError::InvalidParam {
                param: "window",
                ..
            }
        ),
        "{err}"
    );
    let wide_stride = Occlusion::params()
        .window([2, 1])
        .strides([3, 1])
        .check()
        .unwrap();
    let err = wide_stride
        .attribute(&f, &x, &Request::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("uncovered"), "{err}");
    let wrong_rank = Occlusion::params().window([2]).check().unwrap();
    let err = wrong_rank
        .attribute(&f, &x, &Request::default())
        .unwrap_err();
    assert!(matches!(err, XaiError::ShapeMismatch { .. }), "{err}");
}

#[test]
fn one_stride_number_is_every_dimension_s_stride() {
    let x = t64(&wave(12, 0.0), &[1, 4, 3]);
    let f = linear(&t64(&wave(12, 0.5), &[4, 3]));
    let scalar = Occlusion::params()
        .window([2, 2])
        .strides(2)
        .check()
        .unwrap();
    assert_eq!(scalar.strides(), &[2, 2]);
    let per_dim = Occlusion::params()
        .window([2, 2])
        .strides([2, 2])
        .check()
        .unwrap();
    let req = Request::default();
    let a = scalar.attribute(&f, &x, &req).unwrap().scores;
    let b = per_dim.attribute(&f, &x, &req).unwrap().scores;
    assert_eq!(values(&a), values(&b));
    // JSON takes a number or a list; a number < 1 is rejected, naming it.
    let m: Occlusion = serde_json::from_str(r#"{"window": [2, 2], "strides": 2}"#).unwrap();
    assert_eq!(m, scalar);
    let m: Occlusion = serde_json::from_str(r#"{"window": [2, 1], "strides": [2, 1]}"#).unwrap();
    assert_eq!(m.strides(), &[2, 1]);
    for bad in [0, -3] {
        let err = Occlusion::params()
            .window([2, 2])
            .strides(bad)
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("strides = {bad} must be ≥ 1")),
            "{err}"
        );
    }
    let err = serde_json::from_str::<Occlusion>(r#"{"window": [2], "strides": 0}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("strides = 0"), "{err}");
}
