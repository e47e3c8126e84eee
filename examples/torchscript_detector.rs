//! A detector trained in PyTorch, localized in Rust: an LSTM autoencoder trained on the
//! embedded SMD machine by `xtask/torchscript/make_models.py` (`cargo xtask torchscript`)
//! and exported with `torch.jit.script`, loaded as a [`TorchScriptDetector`] and explained
//! by every default method of the main job that a TorchScript module can serve: the
//! perturbation methods and, through libtorch's autograd inside the module, the gradient
//! methods. LRP needs a layer list and is refused up front (printed below).
//!
//! The preprocessing is the one the model was trained with (and the demo's): min-max scaling
//! fitted on the training half, test values clipped to ±3, windows of 50.
//!
//! Run: `cargo run --release --example torchscript_detector [-- path/to/model.pt]`.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use anomaly_xai::lrp::Preset;
use anomaly_xai::method::{Context, MethodSpec};
use anomaly_xai::models::{ExplainedError, MinMaxScaler, TorchScriptDetector};
use anomaly_xai::Result;
use tch::Device;

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<()> {
    tch::set_num_threads(1);
    let model = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/models/machine-1-2-lstm-ae.pt")
        });
    let started = Instant::now();
    // Your detector: the file and the shape of one sample (50 steps of 38 sensors).
    let detector = TorchScriptDetector::autoencoder(&model, vec![50, 38], Device::Cpu)?;

    // The data as the model saw it in training.
    let machine = common::smd()?;
    let scaler = MinMaxScaler::fit(&machine.train.view())?;
    let test = scaler
        .with_clip(-3.0, 3.0)?
        .transform(&machine.test.view())?;
    let windows = common::training_windows(&machine, &scaler)?;
    // Baselines come from the training windows; the normal reference windows, 32 of the
    // validation part (the last 20 %) that training never fitted.
    let n = windows.size()[0];
    let val_start = n - n / 5;
    let reference = windows.slice(0, val_start, n, ((n - val_start) / 32).max(1));
    let ctx = Context {
        detector: &detector,
        attention: None,
        train: Some(&windows),
        reference: Some(&reference),
    };

    // LRP walks a layer list, which a TorchScript module does not expose.
    let lrp =
        MethodSpec::lrp(Preset::LstmDefault).prepare(&ctx, &ExplainedError::default(), None, None);
    if let Err(e) = lrp {
        eprintln!("  as expected: {e}");
    }

    let (table, seconds) = common::run(
        "TorchScript",
        &common::localizer(true)?,
        &ctx,
        &machine,
        &test,
    )?;
    println!(
        "## TorchScript LSTM autoencoder ({}) on machine-1-2\n\n{}",
        model.display(),
        table.to_markdown()
    );
    println!(
        "localization {seconds:.0} s; {:.0} s in all (one libtorch thread)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
