//! Scaler and windows: round trips and invariants.

use ae_models::convert::array_to_tensor;
use ae_models::recon_error::{cell_errors, feature_errors, sample_errors, step_errors, ErrorNorm};
use ae_models::windows::{sliding_windows, sliding_windows_tensor, window_count};
use ae_models::MinMaxScaler;
use ndarray::Array2;
use proptest::prelude::*;
use tch::{Device, Kind, Tensor};

fn matrix() -> impl Strategy<Value = Array2<f32>> {
    (1usize..20, 1usize..5).prop_flat_map(|(r, c)| {
        proptest::collection::vec(-1e3f32..1e3, r * c)
            .prop_map(move |v| Array2::from_shape_vec((r, c), v).unwrap())
    })
}

proptest! {
    #[test]
    fn scaler_round_trip_and_unit_range(train in matrix()) {
        let s = MinMaxScaler::fit(&train.view()).unwrap();
        let t = s.transform(&train.view()).unwrap();
        prop_assert!(t.iter().all(|v| v.is_finite() && (-1e-6..=1.0 + 1e-6).contains(v)));
        let back = s.inverse_transform(&t.view()).unwrap();
        for (a, b) in back.iter().zip(train.iter()) {
            prop_assert!((a - b).abs() <= 1e-3 * (1.0 + b.abs()), "{} vs {}", a, b);
        }
    }

    #[test]
    fn clipped_values_stay_inside(train in matrix(), lo in -3f32..0.0, width in 0.5f32..4.0) {
        let s = MinMaxScaler::fit(&train.view()).unwrap().with_clip(lo, lo + width).unwrap();
        let shifted = train.mapv(|v| v * 3.0 - 500.0);
        let t = s.transform(&shifted.view()).unwrap();
        prop_assert!(t.iter().all(|v| (lo..=lo + width).contains(v)));
    }

    #[test]
    fn coarse_errors_are_means_of_cell_errors(b in 1i64..4, t in 1i64..6, f in 1i64..5, l2 in any::<bool>()) {
        let norm = if l2 { ErrorNorm::SquaredL2 } else { ErrorNorm::L1 };
        let x = Tensor::rand([b, t, f], (Kind::Double, Device::Cpu));
        let y = Tensor::rand([b, t, f], (Kind::Double, Device::Cpu));
        let cells = cell_errors(&x, &y, norm).unwrap();
        let per_sample = sample_errors(&x, &y, norm).unwrap();
        let via_steps = step_errors(&x, &y, norm).unwrap().mean_dim([1i64].as_slice(), false, None);
        let via_features = feature_errors(&x, &y, norm).unwrap().mean_dim([1i64].as_slice(), false, None);
        prop_assert!(per_sample.allclose(&via_steps, 1e-12, 1e-12, false));
        prop_assert!(per_sample.allclose(&via_features, 1e-12, 1e-12, false));
        prop_assert!(cells.min().double_value(&[]) >= 0.0);
    }
}

#[test]
fn windows_of_a_scaled_series_in_both_forms_agree() {
    let series = Array2::from_shape_fn((100, 4), |(t, f)| ((t * (f + 1)) as f32 * 0.1).cos());
    let scaled = MinMaxScaler::fit(&series.view())
        .unwrap()
        .transform(&series.view())
        .unwrap();
    let w = sliding_windows(&scaled.view(), 20, 5).unwrap();
    assert_eq!(w.starts.len(), window_count(100, 20, 5).unwrap());
    assert_eq!(w.starts.len(), 17);
    let t = array_to_tensor(&scaled.view().into_dyn(), Device::Cpu).unwrap();
    let view = sliding_windows_tensor(&t, 20, 5).unwrap();
    let copied = array_to_tensor(&w.data.view().into_dyn(), Device::Cpu).unwrap();
    assert!(view.equal(&copied));
}
