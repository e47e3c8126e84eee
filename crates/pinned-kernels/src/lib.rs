//! Tests whose verdict depends on a trained model's numbers, run where those numbers are
//! the same on every x86-64 processor.
//!
//! libtorch picks its CPU kernels by the processor it runs on: ATen's vectorised kernels
//! (plain, AVX2 or AVX-512), MKL's BLAS code path, oneDNN's JIT kernels (the LSTM's and
//! the convolutions'). Each sums in its own order, so the last bits of a gradient differ
//! between processors, and a few epochs of training turn those bits into another model:
//! a localization score that clears its bar on one machine misses it on the next, by as
//! much as another training seed would. Every one of these libraries reads an
//! environment variable that caps the kernels it picks, once, when it first runs, so the
//! caps have to be in the environment a process starts with: [`here`] runs the calling
//! test again in a child process started with [`PINS`], where every library uses the
//! kernels that every x86-64 processor has, on one thread.
//!
//! ```no_run
//! #[test]
//! fn a_trained_model_clears_its_bar() {
//!     if !pinned_kernels::here() {
//!         return; // ran, and passed, in the pinned child
//!     }
//!     // train, explain, assert on the scores
//! }
//! ```

use std::env;
use std::process::Command;

/// The environment of a pinned process: each library's cap on the kernels it picks,
/// and one thread, so that no sum is split by the number of cores.
pub const PINS: [(&str, &str); 5] = [
    // ATen's kernels compiled without AVX2 or AVX-512 (the `default` build of each).
    ("ATEN_CPU_CAPABILITY", "default"),
    // MKL's conditional numerical reproducibility: the SSE2 code path on every processor;
    // STRICT also makes the result independent of the arrays' alignment.
    ("MKL_CBWR", "COMPATIBLE,STRICT"),
    // oneDNN's JIT kernels (LSTM, convolutions) for SSE4.1 at most.
    ("ONEDNN_MAX_CPU_ISA", "SSE41"),
    ("OMP_NUM_THREADS", "1"),
    ("MKL_NUM_THREADS", "1"),
];

/// Set in the child that [`here`] starts, so that the test runs there instead of
/// starting another child.
const CHILD: &str = "PINNED_KERNELS_CHILD";

/// Whether the calling test's body should run in this process: `true` in a process
/// started with [`PINS`] (the child). Otherwise runs the calling test again in a child
/// process started with them, prints the child's output, panics unless the child ran that
/// one test and it passed, and returns `false`.
///
/// The calling test is found by the name of the current thread, which the standard test
/// harness sets to the test's path; call this first in the test's own thread.
///
/// # Panics
/// Where the calling thread has no test name, where the child cannot be started, and
/// where the test failed (or did not run) in the child.
pub fn here() -> bool {
    if env::var_os(CHILD).is_some() || pinned_already() {
        return true;
    }
    let thread = std::thread::current();
    let test = match thread.name() {
        Some(name) if name != "main" => name,
        _ => panic!(
            "pinned_kernels::here must be called from a test's own thread (the harness names it \
             after the test); run the test without --test-threads=1 or call it first in the test"
        ),
    };
    let exe = env::current_exe().expect("the path of the running test binary");
    let out = Command::new(&exe)
        .args([
            test,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(PINS)
        .env(CHILD, "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot start {} again for {test}: {e}", exe.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    print!("{stdout}");
    assert!(
        out.status.success(),
        "{test} failed with libtorch's CPU kernels pinned ({}): {}",
        pins_line(),
        out.status
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{test} did not run in the pinned child ({})",
        pins_line()
    );
    false
}

/// Whether this process was started with every one of [`PINS`] already (a user who ran
/// the suite that way): no child is needed.
fn pinned_already() -> bool {
    PINS.iter()
        .all(|(k, v)| env::var(k).is_ok_and(|value| value == *v))
}

fn pins_line() -> String {
    PINS.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body runs in a child that has every pin, whatever this process has.
    #[test]
    fn the_body_runs_where_every_pin_is_set() {
        if !here() {
            return;
        }
        for (k, v) in PINS {
            assert_eq!(env::var(k).as_deref(), Ok(v), "{k}");
        }
    }
}
