//! Paper 1's data preparation on a real SMD machine (skipped when the data is absent):
//! a scaler fitted on the training half, clipped, and stride-1 windows of 50.

mod common;

use ae_models::windows::sliding_windows;
use ae_models::MinMaxScaler;
use anomaly_data::SmdMachine;

#[test]
fn real_machine_scales_and_windows_as_in_paper_1() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let m = SmdMachine::load(&data.join("smd"), "machine-1-2").unwrap();
    let scaler = MinMaxScaler::fit(&m.train.view())
        .unwrap()
        .with_clip(-3.0, 3.0)
        .unwrap();
    let test = scaler.transform(&m.test.view()).unwrap();
    assert!(test.iter().all(|v| (-3.0..=3.0).contains(v)));
    let w = sliding_windows(&scaler.transform(&m.train.view()).unwrap().view(), 50, 1).unwrap();
    assert_eq!(w.data.shape(), &[23694 - 49, 50, 38]);
}
