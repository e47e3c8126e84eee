//! The image data path end to end, without a model: synthetic set → generic folder
//! layout → loader with paper 2's preprocessing → split and augmentation → model tensors
//! → heatmaps and a Figure-3-like grid.

use anomaly_xai::image::augment::{train_val_split, Augment};
use anomaly_xai::image::colormap::{Colormap, Scaling};
use anomaly_xai::image::dataset::write_generic;
use anomaly_xai::image::grid::{Grid, Panel};
use anomaly_xai::image::preprocess::Preprocess;
use anomaly_xai::image::synthetic::{generate, SyntheticConfig, Texture};
use anomaly_xai::image::{DefectDataset, Layout};
use anomaly_xai_repro::image::tensor::{masks_to_tensor, samples_to_tensor, tensor_to_maps};
use tch::{Device, Kind};

#[test]
fn synthetic_set_survives_disk_preprocessing_augmentation_and_rendering() {
    let out =
        std::env::temp_dir().join(format!("anomaly-xai-image-pipeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let cfg = SyntheticConfig {
        textures: vec![Texture::Brick, Texture::Gravel],
        size: 48,
        crop: 96,
        n_train: 20,
        n_test_per_group: 4,
        seed: 5,
        ..Default::default()
    };
    let ds = generate(&cfg).unwrap();
    write_generic(&ds, out.join("data")).unwrap();

    let prep = Preprocess::with_size(32);
    let loaded = DefectDataset::load(out.join("data"), Layout::Auto, Some(&prep)).unwrap();
    assert_eq!(loaded.train.len(), 20);
    assert_eq!(
        loaded.groups(),
        vec!["blob".to_string(), "scratch".to_string()]
    );
    // Loading from disk then preprocessing equals preprocessing in memory (up to 8-bit
    // quantisation of the written images); masks match exactly.
    let direct = ds.preprocess(&prep).unwrap();
    for (a, b) in loaded.test.iter().zip(&direct.test) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.mask, b.mask);
        let err = (&a.image - &b.image)
            .mapv(f32::abs)
            .fold(0f32, |m, &v| m.max(v));
        assert!(err <= 1.0 / 255.0, "{}: {err}", a.name);
    }

    let (train, val) = train_val_split(&loaded.train, 0.1, 0).unwrap();
    assert_eq!((train.len(), val.len()), (18, 2));
    let aug = Augment::default();
    let train = aug.expand(&train, 100, 1).unwrap();
    let val = aug.expand(&val, 10, 2).unwrap();
    let x = samples_to_tensor(&train, Device::Cpu).unwrap();
    assert_eq!(x.size(), vec![100, 1, 32, 32]);
    assert_eq!(
        samples_to_tensor(&val, Device::Cpu).unwrap().size(),
        vec![10, 1, 32, 32]
    );
    let (lo, hi) = (x.min().double_value(&[]), x.max().double_value(&[]));
    assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi) && lo < hi);

    // A stand-in explanation: the absolute difference to the mean training image.
    let test_x = samples_to_tensor(&loaded.test, Device::Cpu).unwrap();
    let mean = x.mean_dim(0, true, Kind::Float);
    let residual = (&test_x - &mean).abs();
    let maps = tensor_to_maps(&residual).unwrap();
    let masks = tensor_to_maps(&masks_to_tensor(&loaded.test, Device::Cpu).unwrap()).unwrap();
    let mut grid = Grid::new(["image", "mask", "|x - mean|", "signed"], 64);
    for (k, s) in loaded.test.iter().enumerate().step_by(3) {
        let signed = &s.image - &tensor_to_maps(&mean).unwrap()[0];
        grid.push_row(
            format!("{} {}", s.group, s.name),
            vec![
                Panel::gray(s.image.clone()),
                Panel::gray(masks[k].clone()),
                Panel::heat(maps[k].clone()),
                Panel::Map {
                    values: signed,
                    colormap: Colormap::BlueWhiteRed,
                    scaling: Scaling::PerImage,
                },
            ],
        )
        .unwrap();
    }
    let path = out.join("grid.png");
    grid.save(&path).unwrap();
    let png = image::open(&path).unwrap();
    assert_eq!((png.width(), png.height()), grid.dimensions().unwrap());
    assert_eq!(grid.rows.len(), 3);
    std::fs::remove_dir_all(&out).unwrap();
}

/// The library pipeline on a tiny synthetic set with an untrained model: every method's map
/// is scored per group, the chance row is the defect share, grids are written, and bad
/// input is refused before any explanation.
#[test]
fn the_image_localizer_scores_every_method_per_group_and_refuses_bad_input() {
    use anomaly_xai::method::Context;
    use anomaly_xai::models::{ConvAe, ConvAeConfig};
    use anomaly_xai_repro::image::{paper2_methods, ImageLocalizer};
    tch::set_num_threads(1);
    let cfg = SyntheticConfig {
        size: 16,
        crop: 32,
        n_train: 2,
        n_test_per_group: 2,
        textures: vec![Texture::Brick],
        ..SyntheticConfig::default()
    };
    let data = generate(&cfg).unwrap();
    let model = ConvAe::seeded(&ConvAeConfig::small(16, 4), Device::Cpu, 0).unwrap();
    let localizer = ImageLocalizer::new(paper2_methods(16, true, false).unwrap());
    let run = localizer.run(&Context::new(&model), &data.test).unwrap();
    assert_eq!(run.methods.len(), 6);
    assert_eq!(run.groups.len(), 2);
    assert_eq!(run.maps[0].len(), data.test.len());
    let table = run.table().unwrap();
    let md = table.to_markdown();
    assert!(md.contains("| LRP-L2 |") && md.contains("chance"), "{md}");
    for g in &run.groups {
        assert!(g.defect_fraction > 0.0 && g.defect_fraction < 1.0);
        for s in &g.scores {
            assert!((0.0..=1.0).contains(&s.average_precision));
        }
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("image-localizer");
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(run.draw_grids(&data.test, &dir, 1).unwrap().len(), 2);
    // A test image without a mask is named before any work.
    let mut bad = data.test.clone();
    bad[1].mask = None;
    let err = localizer.run(&Context::new(&model), &bad).unwrap_err();
    assert!(err.to_string().contains(&bad[1].name), "{err}");
}

/// With training images, the deviation from the mean normal image joins the table as the
/// last method row: each pixel's distance from that image, so a test image that equals it
/// but for its defect pixels gets AP 1 there.
#[test]
fn the_image_localizer_adds_the_deviation_from_the_mean_normal_image() {
    use anomaly_xai::attrib::BaselineSpec;
    use anomaly_xai::image::ImageSample;
    use anomaly_xai::lrp::RootPoint;
    use anomaly_xai::method::{Context, MethodSpec};
    use anomaly_xai::models::{ConvAe, ConvAeConfig};
    use anomaly_xai_repro::image::tensor::samples_to_tensor;
    use anomaly_xai_repro::image::{paper2_methods, ImageLocalizer, DEVIATION_LABEL};
    tch::set_num_threads(1);
    let size = 16;
    // Two normal images whose mean is 0.5 everywhere.
    let normal = |v: f32, i: usize| ImageSample {
        name: format!("normal-{i}"),
        group: "good".into(),
        image: ndarray::Array2::from_elem((size, size), v),
        mask: None,
    };
    let train = samples_to_tensor(&[normal(0.25, 0), normal(0.75, 1)], Device::Cpu).unwrap();
    // The defect: a 4×4 square at 0.9, the rest of the image at the mean (0.5).
    let mut image = ndarray::Array2::from_elem((size, size), 0.5f32);
    let mut mask = ndarray::Array2::zeros((size, size));
    image.slice_mut(ndarray::s![4..8, 4..8]).fill(0.9);
    mask.slice_mut(ndarray::s![4..8, 4..8]).fill(1.0f32);
    let test = vec![ImageSample {
        name: "square".into(),
        group: "square".into(),
        image,
        mask: Some(mask),
    }];
    let model = ConvAe::seeded(&ConvAeConfig::small(16, 4), Device::Cpu, 0).unwrap();
    // Paper 2's methods and deviation LRP from each image's reconstruction and from the
    // mean normal image, as the image example runs them.
    let mut methods = paper2_methods(size, false, false).unwrap();
    methods.extend([
        MethodSpec::lrp_deviation(RootPoint::Reconstruction),
        MethodSpec::lrp_deviation(RootPoint::Baseline).baseline(BaselineSpec::SampleMeans),
    ]);
    let localizer = ImageLocalizer::new(methods);
    let ctx = Context {
        train: Some(&train),
        ..Context::new(&model)
    };
    let run = localizer.run(&ctx, &test).unwrap();
    assert_eq!(run.methods.len(), 7);
    assert_eq!(run.methods[6], DEVIATION_LABEL);
    assert!((run.pooled[6].average_precision - 1.0).abs() < 1e-9);
    assert!(run.maps[5][0].iter().all(|v| v.is_finite()));
    // Without training images there is no mean to compare with, and no row.
    let localizer = ImageLocalizer::new(paper2_methods(size, false, false).unwrap());
    let run = localizer.run(&Context::new(&model), &test).unwrap();
    assert_eq!(run.methods.len(), 4);
}
