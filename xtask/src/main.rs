//! Project automation for anomaly-xai, run as `cargo xtask <command>`.
//!
//! This crate deliberately has no dependencies (and in particular no `tch`): it must build
//! on a machine where libtorch does not exist yet, because its first job is to provide it.
//!
//! libtorch comes from the PyPI `torch` wheel, installed into a Python virtualenv in a
//! per-user cache directory outside the clone, so that every clone of the project reuses it
//! and no download site other than the package registry is needed.

mod circles;

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod fleet;

/// The libtorch version `tch` 0.26 is built against.
const TORCH_VERSION: &str = "2.13.0";
/// The two CUDA wheels `libtorch_cpu.so` links against even on CPU-only machines.
const CPU_EXTRA_WHEELS: [&str; 2] = ["nvidia-cuda-runtime==13.0.96", "nvidia-cuda-cupti==13.0.85"];
/// Reference Python libraries for `cargo xtask crosscheck`, pinned to the versions compared against;
/// torch is pinned in the same pip command so that they cannot upgrade it.
const CROSSCHECK_WHEELS: [&str; 4] = [
    "torch==2.13.0",
    "captum==0.9.0",
    "zennit==0.5.1",
    "safetensors",
];

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  setup [--cuda]     make libtorch 2.13.0 available (cached virtualenv; quick when present)
  env [--cuda]       print shell exports so plain `cargo test` / `cargo run` work:
                       eval \"$(cargo xtask env)\"
  test [ARGS..]      setup, then cargo test --workspace --all-targets, then doc tests
  demo [ARGS..]      setup, then the main example (SMD sensor localization) in release mode;
                     ARGS go to the example (try `cargo xtask demo -- --help`)
  lint               the file-circle check, cargo fmt --check, cargo clippy -D warnings,
                     cargo doc -D warnings
  circles            fail on a circle among a crate's files (A imports from B, B from A)
  features           cargo check of the facade, anomaly-data, anomaly-xai-plot and
                     anomaly-xai-repro without default features, and of the facade with
                     plots only (what `demo` builds)
  package            cargo package every publishable crate, compiling the packaged sources
  msrv               cargo check the workspace with the declared rust-version (rustup
                     installs that toolchain if it is missing)
  ci                 what .ci/run calls: lint, features, test, package, and msrv where
                     the declared toolchain is already installed (CI machines may not
                     fetch toolchains)
  crosscheck         install captum/zennit beside torch and compare against them
  torchscript        retrain and export the TorchScript detectors (examples/models, fixtures)
  bench [ARGS..]     setup, then the criterion benches: cargo bench --workspace, or of the
                     packages ARGS name (`-p anomaly-xai-bench --bench attribution_lstm`)
  fleet [--data-dir DIR] [--machines a,b,..] [--shards N] [--measure] [--dev]
                     a fleet run simulated here: N `anomaly-xai evaluate --shard I/N`
                     workers at once on shared SMD machines (default ../shared/data/smd,
                     machine-1-2..1-5, 2 shards), worker 0 killed with SIGKILL mid-run and
                     restarted, then `merge`, checked equal to one process; --measure:
                     entities per hour with 1 and 2 workers, one entity's time and memory;
                     --dev: the dev build (quicker to build, not for figures)
  bench-methods [ARGS..]
                     setup, then every method against its floor on paper 1's LSTM (the
                     figures of docs/performance.md); ARGS go to the example (`-- --help`)

environment:
  ANOMALY_XAI_CACHE  cache directory (default: $XDG_CACHE_HOME/anomaly-xai or ~/.cache/anomaly-xai)
  LIBTORCH           use this libtorch instead of the cached one (setup is skipped)
  PYTHON             the python3 used to create the virtualenv (default: python3)
";

fn main() -> ExitCode {
    let mut args: Vec<String> = env::args().skip(1).collect();
    if args.is_empty() {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    }
    let cmd = args.remove(0);
    let result = match cmd.as_str() {
        "setup" => Torch::ensure(has_flag(&mut args, "--cuda")).map(|t| t.report()),
        "env" => Torch::ensure(has_flag(&mut args, "--cuda")).map(|t| t.print_exports()),
        "test" => test(&args),
        "demo" => demo(&args),
        "lint" => lint(),
        "circles" => circles::check(&root()),
        "features" => features(),
        "package" => package(),
        "msrv" => msrv(true),
        "ci" => ci(),
        "crosscheck" => crosscheck(&args),
        "torchscript" => torchscript(),
        "bench" => bench(&args),
        "bench-methods" => bench_methods(&args),
        "fleet" => fleet::fleet(&args),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {cmd}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn has_flag(args: &mut Vec<String>, flag: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != flag);
    args.len() != before
}

/// The workspace root (the parent of this crate's manifest directory).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn cache_dir() -> Result<PathBuf, String> {
    if let Some(dir) = env::var_os("ANOMALY_XAI_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = env::var_os("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("anomaly-xai"));
    }
    match env::var_os("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("anomaly-xai")),
        None => Err("neither ANOMALY_XAI_CACHE, XDG_CACHE_HOME nor HOME is set".into()),
    }
}

/// A libtorch installation and the environment that builds and runs against it.
struct Torch {
    /// Directory with `include/` and `lib/` (the `torch` package of the wheel).
    libtorch: PathBuf,
}

impl Torch {
    /// Finds or installs libtorch. Idempotent: a complete installation is detected by a
    /// marker file written only after pip succeeded, so an interrupted install is redone.
    fn ensure(cuda: bool) -> Result<Torch, String> {
        if let Some(dir) = env::var_os("LIBTORCH") {
            let libtorch = PathBuf::from(dir);
            if !libtorch.join("lib").is_dir() {
                return Err(format!(
                    "LIBTORCH={} has no lib/ directory; unset it to use the cached libtorch",
                    libtorch.display()
                ));
            }
            return Ok(Torch { libtorch });
        }
        let flavour = if cuda { "cuda" } else { "cpu" };
        let venv = cache_dir()?.join(format!("torch-{TORCH_VERSION}-{flavour}"));
        let marker = venv.join(".anomaly-xai-complete");
        if !marker.exists() {
            install_torch(&venv, cuda)?;
            fs::write(&marker, format!("torch=={TORCH_VERSION} {flavour}\n"))
                .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
        }
        let libtorch = find_site_packages(&venv)?.join("torch");
        if !libtorch.join("lib").join("libtorch_cpu.so").exists() {
            return Err(format!(
                "{} looks incomplete (no lib/libtorch_cpu.so); delete {} and run `cargo xtask setup` again",
                libtorch.display(),
                venv.display()
            ));
        }
        Ok(Torch { libtorch })
    }

    fn report(&self) {
        eprintln!(
            "libtorch {TORCH_VERSION} ready at {}",
            self.libtorch.display()
        );
        eprintln!("for plain cargo commands: eval \"$(cargo xtask env)\"");
    }

    /// Variables that make `torch-sys` build against, and binaries run with, this libtorch.
    fn vars(&self) -> Vec<(&'static str, OsString)> {
        let lib = self.libtorch.join("lib");
        let mut ld = lib.clone().into_os_string();
        if let Some(old) = env::var_os("LD_LIBRARY_PATH") {
            if !old.is_empty() && !env::split_paths(&old).any(|p| p == lib) {
                ld.push(":");
                ld.push(old);
            }
        }
        vec![
            ("LIBTORCH", self.libtorch.clone().into_os_string()),
            ("LD_LIBRARY_PATH", ld),
        ]
    }

    fn print_exports(&self) {
        let lib = self.libtorch.join("lib");
        println!("export LIBTORCH='{}'", self.libtorch.display());
        // Keep whatever the user's shell already has, without the paths cargo adds for us.
        println!(
            "export LD_LIBRARY_PATH='{}'${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}",
            lib.display()
        );
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.current_dir(root());
        for (k, v) in self.vars() {
            c.env(k, v);
        }
        c
    }

    fn cargo(&self, args: &[&str]) -> Command {
        let mut c = self.command(&env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.args(args);
        c
    }
}

fn find_site_packages(venv: &Path) -> Result<PathBuf, String> {
    let lib = venv.join("lib");
    let entries = fs::read_dir(&lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
    for entry in entries.flatten() {
        let sp = entry.path().join("site-packages");
        if entry.file_name().to_string_lossy().starts_with("python") && sp.is_dir() {
            return Ok(sp);
        }
    }
    Err(format!("no python*/site-packages under {}", lib.display()))
}

fn install_torch(venv: &Path, cuda: bool) -> Result<(), String> {
    let python = env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let version = Command::new(&python).arg("--version").output().map_err(|e| {
        format!(
            "`{python}` was not found ({e}). libtorch is installed from the PyPI torch wheel, \
             which needs Python 3.10+ with the venv module (Debian: apt-get install python3 python3-venv)"
        )
    })?;
    eprintln!(
        "installing torch=={TORCH_VERSION} ({}) into {} with {} ...",
        if cuda { "CUDA" } else { "CPU only" },
        venv.display(),
        String::from_utf8_lossy(&version.stdout).trim()
    );
    let started = Instant::now();
    if venv.exists() {
        fs::remove_dir_all(venv).map_err(|e| format!("cannot remove {}: {e}", venv.display()))?;
    }
    if let Some(parent) = venv.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    run(Command::new(&python).arg("-m").arg("venv").arg(venv)).map_err(|e| {
        format!(
            "{e}\n(creating a virtualenv needs python's venv module: apt-get install python3-venv)"
        )
    })?;
    let pip = venv.join("bin").join("pip");
    let torch = format!("torch=={TORCH_VERSION}");
    let mut c = Command::new(&pip);
    c.args(["install", "--quiet", "--disable-pip-version-check"]);
    if cuda {
        c.arg(&torch);
    } else {
        // The lean set: libtorch_cpu.so needs only the CUDA runtime and CUPTI libraries.
        c.arg("--no-deps").arg(&torch).args(CPU_EXTRA_WHEELS);
    }
    run(&mut c).map_err(|e| format!("{e}\n(pip could not install {torch}; is PyPI reachable?)"))?;
    eprintln!(
        "torch installed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run(c: &mut Command) -> Result<(), String> {
    let status = c
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", c.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        Err(format!(
            "`{} {}` failed ({status})",
            c.get_program().to_string_lossy(),
            args.join(" ")
        ))
    }
}

/// What `.ci/run` calls: the lint gates, the feature matrix, the README's tests, the
/// crates.io packaging and the MSRV check, stopping at the first failure.
fn ci() -> Result<(), String> {
    // Clippy and rustdoc write metadata only; the disk fills when the tests link.
    lint()?;
    features()?;
    test(&[])?;
    package()?;
    msrv(false)
}

fn test(extra: &[String]) -> Result<(), String> {
    let torch = Torch::ensure(false)?;
    warn_if_disk_short();
    let started = Instant::now();
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let mut args = vec!["test", "--workspace", "--all-targets", "--features", FULL];
    args.extend(&extra);
    run(&mut torch.cargo(&args))?;
    let mut doc = vec!["test", "--workspace", "--doc", "--features", FULL];
    doc.extend(&extra);
    run(&mut torch.cargo(&doc))?;
    eprintln!(
        "xtask test: all tests passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn demo(extra: &[String]) -> Result<(), String> {
    let torch = Torch::ensure(false)?;
    // Only what the demo needs: its figures, not the image side.
    let mut c = torch.cargo(&[
        "run",
        "--release",
        "--no-default-features",
        "--features",
        "plot",
        "--example",
        "smd_localization",
        "--",
    ]);
    c.args(extra.iter().filter(|a| *a != "--"));
    run(&mut c)
}

/// What a clean `cargo xtask ci` writes under `target/` (measured: about 5.3 GB), with room
/// to spare.
const BUILD_DISK_GB: f64 = 8.0;

/// Warns when the disk that holds `target/` has less free space than a clean build writes.
/// A full disk does not fail with a message of cargo's own: the linker dies with SIGBUS
/// ("ld terminated with signal 7 [Bus error]") while it maps a test binary, which reads like
/// a toolchain bug. A warning, not an error, because the estimate is not exact and an
/// incremental build needs far less.
fn warn_if_disk_short() {
    let target = root().join("target");
    let probe = if target.exists() { target } else { root() };
    let Ok(out) = Command::new("df").arg("-Pk").arg(&probe).output() else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let free_kb = text
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<f64>().ok());
    if let Some(kb) = free_kb {
        let gb = kb / 1024.0 / 1024.0;
        if gb < BUILD_DISK_GB {
            eprintln!(
                "xtask: warning: {gb:.1} GB free on the disk of {} (a clean build writes about \
                 {BUILD_DISK_GB:.0} GB); if the linker dies with SIGBUS (signal 7), the disk is full",
                probe.display()
            );
        } else {
            eprintln!("xtask: {gb:.0} GB free on the disk of {}", probe.display());
        }
    }
}

/// The facade's optional parts, which every example and test is built with; spelled out
/// so that the tests do not depend on what the default features happen to be. The bench
/// package's `plot` adds its Kernel SHAP figure (`shapley::curve`, `kernel_shap_curve`).
const FULL: &str = "anomaly-xai/plot,anomaly-xai/image,anomaly-xai-bench/plot";

/// A library user's build: the facade, the data and the drawing crates (and the papers'
/// experiments) without plots and images (`default-features = false`), every target that
/// does not require them; then what `demo` builds (plots only).
fn features() -> Result<(), String> {
    let torch = Torch::ensure(false)?;
    run(&mut torch.cargo(&[
        "check",
        "-p",
        "anomaly-xai",
        "-p",
        "anomaly-data",
        "-p",
        "anomaly-xai-plot",
        "-p",
        "anomaly-xai-repro",
        "--no-default-features",
        "--all-targets",
    ]))?;
    run(&mut torch.cargo(&[
        "check",
        "-p",
        "anomaly-xai",
        "--no-default-features",
        "--features",
        "plot",
        "--all-targets",
    ]))
}

fn lint() -> Result<(), String> {
    circles::check(&root())?;
    let torch = Torch::ensure(false)?;
    run(&mut torch.cargo(&["fmt", "--all", "--", "--check"]))?;
    run(&mut torch.cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--features",
        FULL,
        "--",
        "-D",
        "warnings",
    ]))?;
    let mut doc = torch.cargo(&["doc", "--workspace", "--no-deps", "--features", FULL]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    run(&mut doc)
}

/// Packages every crate that is meant for crates.io (all but `xtask`, the bench package,
/// the reproduction package and the command), as `cargo publish` would, and compiles each package from its own `.crate`
/// contents: a file the package leaves out (an `include_bytes!` target, a README the
/// manifest names) fails here, not at publish time. Recent cargo (1.95 here) packages unpublished workspace dependencies together.
///
/// Packaged manifests carry no `[profile]`, so by default verification would build every
/// dependency again at `opt-level = 0`, torch-sys's C++ shim included. Passing the
/// workspace's dependency profile with `--config` lets it reuse what the test step built,
/// and only the packaged crates are compiled (measured: 4 min 16 s wall, 2 min 34 s CPU on
/// the loaded 2-core machine). `--allow-dirty`: the check is about the package, not the
/// git state, and it lets `cargo xtask ci` run on uncommitted work.
fn package() -> Result<(), String> {
    let torch = Torch::ensure(false)?;
    run(&mut torch.cargo(&[
        "package",
        "--workspace",
        "--exclude",
        "xtask",
        // Not published (`publish = false`): the measurement harness and the papers'
        // experiments.
        "--exclude",
        "anomaly-xai-bench",
        "--exclude",
        "anomaly-xai-repro",
        // Not published: the command runs the papers' experiments (installed from a clone).
        "--exclude",
        "anomaly-xai-cli",
        // Not published either: the tests' pinned CPU kernels (a dev-dependency only).
        "--exclude",
        "pinned-kernels",
        "--allow-dirty",
        "--config",
        // Keep in step with `[profile.dev.package."*"]` of the root Cargo.toml.
        "profile.dev.package.\"*\".opt-level=2",
    ]))
}

/// The `rust-version` of `[workspace.package]` in the root Cargo.toml.
fn declared_msrv() -> Result<String, String> {
    let manifest = root().join("Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let mut in_section = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
        } else if in_section {
            if let Some(v) = line.strip_prefix("rust-version") {
                let v = v
                    .trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"');
                return Ok(v.to_string());
            }
        }
    }
    Err(format!(
        "no rust-version in [workspace.package] of {}",
        manifest.display()
    ))
}

/// Type-checks every target of the workspace with the declared minimum Rust version,
/// installing that toolchain with rustup if it is missing (a minimal profile, about
/// 20 s). `tch/doc-only` skips torch-sys's C++ build, which no Rust version affects, so
/// this needs no libtorch; every Rust crate of the locked dependency graph, every build
/// script and every target of ours is compiled by the old compiler. Its own target
/// directory keeps the two toolchains' artifacts apart.
///
/// With `install` false (inside `ci`) a missing toolchain skips the check with a notice
/// instead of fetching it: a CI machine may have its one toolchain and no way to fetch
/// another, and the check is about publishing, not about the code working.
fn msrv(install: bool) -> Result<(), String> {
    let version = declared_msrv()?;
    let rustup = |args: &[&str]| {
        let mut c = Command::new("rustup");
        c.current_dir(root()).args(args);
        // What the outer cargo exported would pin the current toolchain's tools.
        for var in [
            "CARGO",
            "RUSTC",
            "RUSTDOC",
            "RUSTC_WRAPPER",
            "RUSTUP_TOOLCHAIN",
        ] {
            c.env_remove(var);
        }
        c
    };
    let present = rustup(&["run", &version, "rustc", "--version"])
        .output()
        .map_err(|e| {
            format!(
                "the MSRV check runs Rust {version} through rustup, which cannot be started: {e}"
            )
        })?
        .status
        .success();
    if !present && !install {
        eprintln!(
            "xtask msrv: skipped, Rust {version} is not installed (`cargo xtask msrv` installs it)"
        );
        return Ok(());
    }
    if !present {
        run(&mut rustup(&[
            "toolchain",
            "install",
            &version,
            "--profile",
            "minimal",
            "--no-self-update",
        ]))
        .map_err(|e| {
            format!(
                "{e}\n(the MSRV check needs Rust {version}; is static.rust-lang.org reachable?)"
            )
        })?;
    }
    let started = Instant::now();
    let target = root().join("target").join("msrv");
    let target = target.to_string_lossy();
    run(&mut rustup(&[
        "run",
        &version,
        "cargo",
        "check",
        "--workspace",
        "--all-targets",
        "--locked",
        "--features",
        "tch/doc-only",
        "--target-dir",
        &target,
    ]))?;
    eprintln!(
        "xtask msrv: the workspace builds with Rust {version} ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn bench(extra: &[String]) -> Result<(), String> {
    let torch = Torch::ensure(false)?;
    let picks_packages = extra
        .iter()
        .any(|a| a == "-p" || a.starts_with("--package"));
    let mut c = if picks_packages {
        torch.cargo(&["bench"])
    } else {
        torch.cargo(&["bench", "--workspace"])
    };
    c.args(extra);
    run(&mut c)
}

/// `bench_methods` of the bench package (`benches/examples/bench_methods.rs`).
fn bench_methods(extra: &[String]) -> Result<(), String> {
    let torch = Torch::ensure(false)?;
    let mut c = torch.cargo(&[
        "run",
        "--release",
        "-p",
        "anomaly-xai-bench",
        "--example",
        "bench_methods",
        "--",
    ]);
    c.args(extra.iter().filter(|a| *a != "--"));
    run(&mut c)
}

/// The python of the cross-check venv (torch with its own CUDA libtorch, Captum, Zennit,
/// safetensors), created on first use.
fn crosscheck_python() -> Result<PathBuf, String> {
    let venv = cache_dir()?.join(format!("torch-{TORCH_VERSION}-cuda"));
    let python = venv.join("bin").join("python");
    let marker = venv.join(".anomaly-xai-crosscheck");
    if !marker.exists() {
        if !python.exists() {
            let py = env::var("PYTHON").unwrap_or_else(|_| "python3".into());
            run(Command::new(&py).arg("-m").arg("venv").arg(&venv))
                .map_err(|e| format!("{e}\n(needs python3 with the venv module)"))?;
        }
        eprintln!(
            "installing {} into {} ...",
            CROSSCHECK_WHEELS.join(" "),
            venv.display()
        );
        let mut c = Command::new(venv.join("bin").join("pip"));
        c.args(["install", "--quiet", "--disable-pip-version-check"])
            .args(CROSSCHECK_WHEELS);
        run(&mut c)?;
        fs::write(&marker, CROSSCHECK_WHEELS.join("\n"))
            .map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    }
    Ok(python)
}

/// Retrains and re-exports the TorchScript detectors (`xtask/torchscript/make_models.py`):
/// the example's LSTM autoencoder trained in PyTorch on machine-1-2, the identity fixture
/// and the adapter's test fixtures, written over the committed files.
fn torchscript() -> Result<(), String> {
    let python = crosscheck_python()?;
    let script = root()
        .join("xtask")
        .join("torchscript")
        .join("make_models.py");
    // Python loads its own libtorch, not the Rust side's.
    run(Command::new(&python)
        .current_dir(root())
        .env_remove("LD_LIBRARY_PATH")
        .arg(&script)
        .arg(root()))
}

/// Regenerates the parity fixtures (`tests/fixtures/parity/`) with Captum and Zennit and
/// fails on any difference from the committed ones, then runs the parity tests on them.
///
/// `xtask/crosscheck/make_fixtures.py` writes the fixtures into a temporary directory; every
/// file must equal its committed copy byte for byte (on a difference the script's
/// `--compare` mode prints the largest difference per case). The parity tests
/// (`crates/{xai-attrib,lrp-ae}/tests/parity.rs`) read the committed fixtures without Python
/// and run in every `cargo test`.
fn crosscheck(extra: &[String]) -> Result<(), String> {
    // The Rust side builds against the lean CPU libtorch as always (switching LIBTORCH
    // would rebuild torch-sys); the Python side needs the full wheel set, because
    // `import torch` loads the CUDA libraries even on a CPU-only machine.
    let torch = Torch::ensure(false)?;
    let python = crosscheck_python()?;
    let committed = root().join("tests").join("fixtures").join("parity");
    let fresh = env::temp_dir().join(format!("anomaly-xai-fixtures-{}", std::process::id()));
    let script = root()
        .join("xtask")
        .join("crosscheck")
        .join("make_fixtures.py");
    // Not `torch.command`: the Python side must load its own (CUDA) libtorch.
    let python_cmd = || {
        let mut c = Command::new(&python);
        c.current_dir(root())
            .env_remove("LD_LIBRARY_PATH")
            .arg(&script);
        c
    };
    eprintln!(
        "== regenerating the parity fixtures into {}",
        fresh.display()
    );
    let generated = run(python_cmd().arg(&fresh));
    let differences = generated.and_then(|()| {
        let mut differ = Vec::new();
        for lib in ["captum", "zennit"] {
            let names = |dir: &Path| -> Result<Vec<String>, String> {
                let mut v: Vec<String> = fs::read_dir(dir.join(lib))
                    .map_err(|e| format!("cannot read {}: {e}", dir.join(lib).display()))?
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".json"))
                    .collect();
                v.sort();
                Ok(v)
            };
            let (old, new) = (names(&committed)?, names(&fresh)?);
            for name in old.iter().chain(new.iter().filter(|n| !old.contains(n))) {
                let read = |dir: &Path| fs::read(dir.join(lib).join(name)).ok();
                if read(&committed) != read(&fresh) {
                    differ.push(format!("{lib}/{name}"));
                }
            }
        }
        Ok(differ)
    });
    let differences = match differences {
        Ok(d) => d,
        Err(e) => {
            fs::remove_dir_all(&fresh).ok();
            return Err(e);
        }
    };
    if !differences.is_empty() {
        // Best effort: the per-case numbers explain the difference; the verdict stands.
        let _ = run(python_cmd().arg("--compare").arg(&fresh).arg(&committed));
        fs::remove_dir_all(&fresh).ok();
        return Err(format!(
            "the regenerated fixtures differ from the committed ones in tests/fixtures/parity/: {} \
             (if Captum, Zennit or the generator changed on purpose, run \
             `make_fixtures.py tests/fixtures/parity` with the cross-check venv's python and commit)",
            differences.join(", ")
        ));
    }
    fs::remove_dir_all(&fresh).ok();
    eprintln!("== the regenerated fixtures equal the committed ones; running the parity tests");
    let mut tests = torch.cargo(&[
        "test",
        "-p",
        "xai-attrib",
        "-p",
        "lrp-ae",
        "--test",
        "parity",
    ]);
    tests.args(extra);
    run(&mut tests)?;
    eprintln!("crosscheck: fixtures reproduced and every parity case passed");
    Ok(())
}
