//! Clocks: wall-clock and CPU seconds of a run, the machine's load, and a scorer that
//! times its own calls.

use std::cell::Cell;
use std::time::Instant;

use anomaly_xai::attrib::Scorer;
use anomaly_xai::Result;
use tch::{Device, Tensor};

/// Waits for queued device work, so that wall-clock time covers it.
pub fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// CPU seconds used so far by all threads of this process, from Linux's per-thread
/// scheduler statistics (nanoseconds); `None` elsewhere. On a machine shared with other
/// work, wall-clock time includes waiting for a core and CPU time does not.
pub fn cpu_seconds() -> Option<f64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total as f64 * 1e-9)
}

/// The 1-minute load average of the machine (Linux), to put timings in context.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Wall-clock and CPU seconds of one timed run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Wall-clock seconds.
    pub wall: f64,
    /// CPU seconds of all threads (Linux only).
    pub cpu: Option<f64>,
}

/// Times `f`, device work included.
pub fn clock(device: Device, f: impl FnOnce() -> Result<()>) -> Result<Sample> {
    let cpu = cpu_seconds();
    let start = Instant::now();
    f()?;
    sync(device);
    let wall = start.elapsed().as_secs_f64();
    Ok(Sample {
        wall,
        cpu: cpu.zip(cpu_seconds()).map(|(a, b)| b - a),
    })
}

/// The least disturbed of some runs: the minimum wall-clock time (other processes on a
/// shared machine only ever add to it), its median, and the minimum CPU time (`None` when
/// a run has none). `None` for no samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Minimum wall-clock seconds.
    pub min: f64,
    /// Median wall-clock seconds.
    pub median: f64,
    /// Minimum CPU seconds.
    pub cpu: Option<f64>,
}

impl Summary {
    /// The summary of `samples`; `None` when there are none.
    pub fn of(samples: &[Sample]) -> Option<Summary> {
        let mut wall: Vec<f64> = samples.iter().map(|s| s.wall).collect();
        wall.sort_by(f64::total_cmp);
        let n = wall.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => wall[n / 2],
            _ => 0.5 * (wall[n / 2 - 1] + wall[n / 2]),
        };
        let cpu = samples.iter().map(|s| s.cpu).collect::<Option<Vec<f64>>>();
        Some(Summary {
            min: wall[0],
            median,
            cpu: cpu.and_then(|c| c.into_iter().min_by(f64::total_cmp)),
        })
    }
}

/// A scorer that times its own calls, so that a method's time splits into model
/// evaluations (forward passes with the error wrapper and its input checks) and what the
/// method does around them, within the same run. Backward passes of gradient methods
/// happen outside `score` and count as "around".
pub struct Timed<S> {
    inner: S,
    device: Device,
    seconds: Cell<f64>,
}

impl<S> Timed<S> {
    /// Times `inner`, whose work runs on `device`.
    pub fn new(inner: S, device: Device) -> Self {
        Timed {
            inner,
            device,
            seconds: Cell::new(0.0),
        }
    }

    /// The timed scorer.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Seconds spent in `score` since the last call.
    pub fn take(&self) -> f64 {
        self.seconds.replace(0.0)
    }
}

impl<S: Scorer> Scorer for Timed<S> {
    fn score(&self, x: &Tensor) -> anomaly_xai::attrib::Result<Tensor> {
        let start = Instant::now();
        let out = self.inner.score(x);
        sync(self.device);
        self.seconds
            .set(self.seconds.get() + start.elapsed().as_secs_f64());
        out
    }

    fn differentiable(&self) -> bool {
        self.inner.differentiable()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(wall: f64, cpu: Option<f64>) -> Sample {
        Sample { wall, cpu }
    }

    #[test]
    fn summary_keeps_the_fastest_run_and_the_median() {
        let odd = Summary::of(&[s(3.0, Some(2.0)), s(1.0, Some(1.5)), s(2.0, Some(1.0))]);
        assert_eq!(
            odd,
            Some(Summary {
                min: 1.0,
                median: 2.0,
                cpu: Some(1.0)
            })
        );
        let even = Summary::of(&[s(4.0, None), s(1.0, Some(1.0))]).unwrap();
        assert_eq!((even.min, even.median, even.cpu), (1.0, 2.5, None));
        assert_eq!(Summary::of(&[]), None);
    }
}
