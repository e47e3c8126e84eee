//! Pins the generators' output bit for bit (an FNV-1a hash of every `f32`'s bits, plus a
//! few values in the clear), so that moving or refactoring them cannot change the data a
//! seed gives.

#[cfg(feature = "image")]
use anomaly_data::image::augment::Augment;
#[cfg(feature = "image")]
use anomaly_data::image::preprocess::Preprocess;
#[cfg(feature = "image")]
use anomaly_data::image::synthetic as images;
use anomaly_data::synthetic as series;
use ndarray::Array2;

/// FNV-1a over the bit patterns of `values`, in order.
fn fnv<'a>(hash: u64, values: impl IntoIterator<Item = &'a f32>) -> u64 {
    values.into_iter().fold(hash, |h, v| {
        v.to_bits()
            .to_le_bytes()
            .iter()
            .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    })
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

fn hash_maps(maps: &[&Array2<f32>]) -> u64 {
    maps.iter().fold(FNV_START, |h, m| fnv(h, m.iter()))
}

#[test]
fn synthetic_machine_is_pinned() {
    let m = series::generate(&series::SyntheticConfig::default()).unwrap();
    let h = hash_maps(&[&m.train, &m.test, &m.clean_test]);
    let spans: Vec<(usize, usize, Vec<usize>)> = m
        .regions
        .iter()
        .map(|r| (r.start, r.end, r.features.clone()))
        .collect();
    assert_eq!(h, 0xe1cb_f1be_4334_99df);
    assert_eq!(m.train[[0, 0]].to_bits(), 0x3f24_f138);
    assert_eq!(m.test[[500, 3]].to_bits(), 0x3f1b_59ac);
    assert_eq!(
        spans,
        vec![
            (98, 111, vec![5]),
            (259, 287, vec![1, 2, 3]),
            (511, 532, vec![3, 4, 6]),
            (733, 755, vec![3, 5, 6]),
            (815, 839, vec![2, 6]),
            (930, 944, vec![4, 5])
        ]
    );
    use series::AnomalyKind::*;
    assert_eq!(
        m.kinds,
        [
            CorrelationBreak,
            LevelShift,
            Spike,
            NoiseBurst,
            CorrelationBreak,
            CorrelationBreak
        ]
    );
}

#[cfg(feature = "image")]
#[test]
fn synthetic_images_preprocessing_and_augmentation_are_pinned() {
    let cfg = images::SyntheticConfig {
        size: 32,
        crop: 64,
        n_train: 4,
        n_test_per_group: 2,
        textures: images::Texture::ALL.to_vec(),
        ..Default::default()
    };
    let ds = images::generate(&cfg).unwrap();
    let mut maps: Vec<&Array2<f32>> = Vec::new();
    for s in ds.train.iter().chain(&ds.test) {
        maps.push(&s.image);
        if let Some(m) = &s.mask {
            maps.push(m);
        }
    }
    let h_images = hash_maps(&maps);
    let small = ds.preprocess(&Preprocess::with_size(20)).unwrap();
    let h_prep = hash_maps(&small.test.iter().map(|s| &s.image).collect::<Vec<_>>());
    let aug = Augment {
        max_angle_deg: 20.0,
        ..Augment::default()
    }
    .expand(&small.test, 6, 3)
    .unwrap();
    let mut maps: Vec<&Array2<f32>> = Vec::new();
    for s in &aug {
        maps.push(&s.image);
        maps.push(s.mask.as_ref().unwrap());
    }
    let h_aug = hash_maps(&maps);
    assert_eq!(ds.test[0].image[[5, 7]].to_bits(), 0x3ec9_6161);
    assert_eq!(
        (h_images, h_prep, h_aug),
        (
            0x6bd9_a4be_15bb_1eca,
            0x48a9_4832_1550_3952,
            0x0ad3_c578_8740_277a
        )
    );
}
