//! A detector written in plain Rust, localized: PCA reconstruction on `ndarray` (the
//! components that explain 90 % of the training variance, from a Jacobi eigen-decomposition
//! of the covariance), wrapped in an [`ArrayDetector`] and explained by the perturbation
//! methods (a closure is opaque to autograd, so gradient methods and LRP are refused). The
//! model itself, plain Rust that knows nothing of this crate, is `examples/common/pca.rs`.
//!
//! * SMD machine-1-2 (embedded): each time step of a window is reconstructed from its
//!   38 sensors; its table is printed next to the LSTM autoencoder's (the demo's model,
//!   trained once and cached), same windows, methods and normalization.
//! * Breast cancer (`--tabular-dir`, default `../shared/data/tabular`): paper 2's corruption
//!   validation (null and random corruptions of one feature of held-out benign rows, each
//!   detector's own anomalous ones kept), recall@1 and @3 of the corrupted feature, next to
//!   paper 2's dense autoencoder.
//!
//! Run: `cargo run --release --example plain_rust_detector [-- --tabular-dir DIR]`.

mod common;
#[path = "common/pca.rs"]
mod pca;

use std::path::PathBuf;
use std::time::Instant;

use anomaly_xai::attrib::{
    BaselineSpec, FeaturePermutation, KernelShap, Occlusion, ShapleyValueSampling,
};
use anomaly_xai::corruption::{Corruption, CorruptionGenerator};
use anomaly_xai::data::{load_breast_cancer, Table as DataTable};
use anomaly_xai::method::{Context, MethodSpec};
use anomaly_xai::metrics::{recall_at_m, Table, TableRow, Ties};
use anomaly_xai::models::convert::{array_to_tensor, tensor_to_array};
use anomaly_xai::models::train::{train, TrainConfig};
use anomaly_xai::models::{
    ArrayDetector, DenseAe, DenseAeConfig, Detector, ErrorNorm, ExplainedError, LayerModel,
    MinMaxScaler,
};
use anomaly_xai::Result;
use anomaly_xai_repro::corruption::{TableSource, ValidationConfig};
use ndarray::{Array2, ArrayViewD, Ix2};
use pca::Pca;
use tch::{Device, Tensor};

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<()> {
    tch::set_num_threads(1);
    let args: Vec<String> = std::env::args().collect();
    let tabular = args
        .iter()
        .position(|a| a == "--tabular-dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tabular")
        });
    let started = Instant::now();

    // SMD: your detector is a closure over ndarray windows [B, 50, 38].
    let machine = common::smd()?;
    let m = common::prepare(&machine)?;
    let train = m.scaler.transform(&machine.train.view())?;
    let pca = Pca::fit(train.view(), 0.9)?;
    eprintln!("  PCA on SMD: {} of 38 components", pca.k);
    let detector = ArrayDetector::new("PCA", vec![50, 38], move |x: ArrayViewD<'_, f32>| {
        pca.reconstruct(x)
    })?;
    let localizer = common::localizer(false)?;
    let pca_ctx = Context {
        detector: &detector,
        ..m.context()
    };
    let (pca_table, pca_secs) = common::run("PCA", &localizer, &pca_ctx, &machine, &m.test)?;
    let (ae_table, ae_secs) = common::run("LSTM AE", &localizer, &m.context(), &machine, &m.test)?;
    let smd = common::side_by_side(&[("PCA", &pca_table), ("LSTM AE", &ae_table)])?;
    println!(
        "## PCA (plain Rust) next to the LSTM autoencoder, machine-1-2\n\n{}",
        smd.to_markdown()
    );
    println!("localization: PCA {pca_secs:.0} s, LSTM AE {ae_secs:.0} s\n");

    if tabular.join("breast_cancer").is_dir() {
        let t0 = Instant::now();
        let table = breast_cancer(&tabular)?;
        println!("## PCA next to the dense autoencoder, breast cancer (recall of the corrupted feature, %)\n\n{}", table.to_markdown());
        println!("{:.0} s\n", t0.elapsed().as_secs_f64());
    } else {
        eprintln!(
            "  skipped the table: no {}",
            tabular.join("breast_cancer").display()
        );
    }
    println!(
        "{:.0} s in all (one libtorch thread)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Paper 2's corruption validation on breast cancer for PCA and the dense autoencoder.
fn breast_cancer(dir: &std::path::Path) -> Result<Table> {
    let vc = ValidationConfig::paper(TableSource::BreastCancer, dir)?;
    let data = load_breast_cancer(dir.join("breast_cancer"))?;
    let (train_rows, pool_rows) =
        DataTable::shuffled_split(&data.normal_indices(), vc.train_fraction, vc.seed);
    let (train_t, pool_t) = (data.select(&train_rows)?, data.select(&pool_rows)?);
    let scaler = MinMaxScaler::fit(&train_t.features.view())?;
    let (train_a, pool_a) = (
        scaler.transform(&train_t.features.view())?,
        scaler.transform(&pool_t.features.view())?,
    );
    let tensor = |a: &Array2<f32>| array_to_tensor(&a.view().into_dyn(), Device::Cpu);
    let (train_x, pool_x) = (tensor(&train_a)?, tensor(&pool_a)?);
    let f = data.n_features();

    let pca = Pca::fit(train_a.view(), 0.9)?;
    eprintln!("  PCA on breast cancer: {} of {f} components", pca.k);
    let pca = ArrayDetector::new("PCA", vec![f as i64], move |x: ArrayViewD<'_, f32>| {
        pca.reconstruct(x)
    })?;
    let ae = DenseAe::seeded(
        &DenseAeConfig::new(f as i64, vc.hidden.clone()),
        Device::Cpu,
        vc.seed,
    )?;
    train(
        &ae,
        &train_x,
        &TrainConfig {
            seed: vc.seed,
            ..vc.train.clone()
        },
    )?;

    let methods = [
        MethodSpec::residual(ErrorNorm::SquaredL2),
        MethodSpec::attrib(Occlusion::params().window([1]).check()?)
            .baseline(BaselineSpec::FeatureMeans),
        MethodSpec::attrib(FeaturePermutation::default()),
        MethodSpec::attrib(ShapleyValueSampling::params().n_permutations(25).check()?)
            .baseline(BaselineSpec::FeatureMeans),
        MethodSpec::attrib(KernelShap::params().n_samples(200).check()?)
            .baseline(BaselineSpec::Background { n: 100 })
            .labelled("Kernel SHAP 200 (100 train rows)"),
    ];
    let columns = ["null R@1", "null R@3", "random R@1", "random R@3"]
        .map(String::from)
        .to_vec();
    let mut rows: Vec<Vec<TableRow>> = vec![Vec::new(); methods.len()];
    let pca_recon = |x: &Tensor| pca.predict(x);
    let ae_recon = |x: &Tensor| ae.forward(x);
    let detectors: [(
        &str,
        &dyn Detector,
        &anomaly_xai::corruption::Reconstruct<'_>,
    ); 2] = [("PCA", &pca, &pca_recon), ("dense AE", &ae, &ae_recon)];
    for (name, detector, recon) in detectors {
        let generator = CorruptionGenerator::new(recon, &train_x, vc.corruption.clone())?;
        let ctx = Context {
            detector,
            attention: None,
            train: Some(&train_x),
            reference: None,
        };
        let error = ExplainedError::new(ErrorNorm::SquaredL2);
        let prepared = methods
            .iter()
            .map(|spec| spec.prepare(&ctx, &error, None, None))
            .collect::<Result<Vec<_>>>()?;
        let mut cells = vec![Vec::new(); methods.len()];
        for kind in [Corruption::Null, Corruption::Random] {
            let set = generator.generate(&pool_x, kind, vc.k)?;
            eprintln!(
                "  {name}, {kind:?}: {} samples kept in {} tries",
                set.samples.len(),
                set.summary.tries
            );
            let x = tensor(&set.corrupted())?;
            for (i, prepared) in prepared.iter().enumerate() {
                let scores = tensor_to_array(&prepared.explain(&ctx, &x)?)?
                    .into_dimensionality::<Ix2>()
                    .expect("[K, F]");
                let curve = recall_at_m(scores.view(), &set.features(), Ties::Average)?;
                cells[i].extend([curve.recall[0], curve.recall[2]]);
            }
        }
        for (i, values) in cells.into_iter().enumerate() {
            rows[i].push(TableRow::new(
                format!("{} · {name}", methods[i].label()),
                values,
            ));
        }
    }
    let mut table = Table::new(columns);
    for row in rows.into_iter().flatten() {
        table.push(row)?;
    }
    let chance = [1.0, 3.0].map(|m| m / f as f64);
    table.push(TableRow::new(
        "chance (random ranking)",
        [chance, chance].concat(),
    ))?;
    Ok(table)
}
