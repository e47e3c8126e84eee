//! One method timed against its floor.
//!
//! After one warm-up run (which also tells the method's evaluation counts), the method
//! and its floors are timed in turns `repeats` times, so that a change of the machine's
//! load hits both alike. Every time is the minimum over the repeats (the least disturbed
//! by other processes on a shared machine); the method's median is kept too.

use anomaly_xai::Result;
use tch::{Device, Tensor};

use crate::floor::Floor;
use crate::methods::{Harness, Prepared};
use crate::timing::{clock, sync, Sample, Summary};

/// What one method cost next to its floor, on one batch of windows.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Forward evaluations per window the method reported.
    pub forward_evals: usize,
    /// Backward passes per window the method reported.
    pub backward_evals: usize,
    /// The method's time.
    pub method: Summary,
    /// Seconds of the method's runs spent outside the scorer (minimum over the repeats):
    /// building perturbations, sampling, fitting, and for gradient methods the backward
    /// passes. Measured within each run, so immune to load drift between the method's
    /// and the floor's runs. `None` for methods that take the model itself.
    pub outside_scorer_seconds: Option<f64>,
    /// `F·W` bare no-grad forward passes.
    pub floor_forward: Summary,
    /// `B·W` bare forward + backward passes, for methods with backward passes.
    pub floor_backward: Option<Summary>,
    /// `(F − B)·W` bare no-grad forward passes, for methods with backward passes.
    pub floor_extra_forward: Option<Summary>,
}

impl Measurement {
    /// The floor's seconds: `floor_forward` for a method without backward passes, else
    /// `floor_backward + floor_extra_forward`.
    pub fn floor_seconds(&self) -> f64 {
        match (self.floor_backward, self.floor_extra_forward) {
            (Some(b), Some(e)) => b.min + e.min,
            _ => self.floor_forward.min,
        }
    }

    /// The floor's CPU seconds, where measured.
    pub fn floor_cpu_seconds(&self) -> Option<f64> {
        match (self.floor_backward, self.floor_extra_forward) {
            (Some(b), Some(e)) => b.cpu.zip(e.cpu).map(|(b, e)| b + e),
            _ => self.floor_forward.cpu,
        }
    }

    /// `seconds / floor_seconds`: 1.0 means the method costs exactly its model
    /// evaluations.
    pub fn ratio(&self) -> f64 {
        self.method.min / self.floor_seconds()
    }

    /// The ratio of CPU seconds: the ratio with waiting for a core left out.
    pub fn cpu_ratio(&self) -> Option<f64> {
        let floor = self.floor_cpu_seconds().filter(|&f| f > 0.0)?;
        Some(self.method.cpu? / floor)
    }
}

/// Times `method` on the windows `x` against its floor, `repeats` times (at least once)
/// after a warm-up.
///
/// # Errors
/// The method's or the model's error.
pub fn measure(
    harness: &Harness<'_>,
    method: &Prepared,
    floor: &Floor<'_>,
    x: &Tensor,
    repeats: usize,
    device: Device,
) -> Result<Measurement> {
    let w = x.size()[0];
    let a = harness.attribute(method, x)?;
    sync(device);
    let (f, b) = (a.forward_evals as i64, a.backward_evals as i64);
    floor.run(f * w, false)?;
    floor.run(b * w, true)?;
    sync(device);
    let mut runs = Vec::new();
    let mut outside = Vec::new();
    let (mut forward, mut backward, mut extra) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..repeats.max(1) {
        harness.take_scorer_seconds();
        let run = clock(device, || harness.attribute(method, x).map(drop))?;
        let in_scorer = harness.take_scorer_seconds();
        outside.push(method.uses_scorer().then_some(run.wall - in_scorer));
        runs.push(run);
        forward.push(clock(device, || floor.run(f * w, false).map(drop))?);
        if b > 0 {
            backward.push(clock(device, || floor.run(b * w, true).map(drop))?);
            extra.push(clock(device, || {
                floor.run((f - b).max(0) * w, false).map(drop)
            })?);
        }
    }
    let summary = |s: &[Sample]| Summary::of(s);
    let outside = outside.into_iter().collect::<Option<Vec<f64>>>();
    Ok(Measurement {
        forward_evals: a.forward_evals,
        backward_evals: a.backward_evals,
        method: summary(&runs).expect("at least one repeat"),
        outside_scorer_seconds: outside.and_then(|o| o.into_iter().min_by(f64::total_cmp)),
        floor_forward: summary(&forward).expect("at least one repeat"),
        floor_backward: summary(&backward),
        floor_extra_forward: summary(&extra),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::{method_list, Settings};
    use crate::reference::{model, noise_windows, Size};
    use anomaly_xai::models::LayerModel;

    #[test]
    fn a_gradient_method_is_measured_against_forward_and_backward_floors() {
        let size = Size::SMALL;
        let ae = model(size, Device::Cpu).unwrap();
        let x = noise_windows(size, 2, 1, Device::Cpu).unwrap();
        let h = Harness::new(&ae, size, Device::Cpu, &x, 8).unwrap();
        let floor = Floor::new(ae.layers(), &x, 8).unwrap();
        let list = method_list(size, &Settings::SMALL).unwrap();
        let ig = h.prepare(&list[4]).unwrap();
        let m = measure(&h, &ig, &floor, &x, 2, Device::Cpu).unwrap();
        assert_eq!((m.forward_evals, m.backward_evals), (4, 4));
        let (b, e) = (m.floor_backward.unwrap(), m.floor_extra_forward.unwrap());
        assert_eq!(m.floor_seconds(), b.min + e.min);
        assert!(m.outside_scorer_seconds.is_some() && m.ratio() > 0.0);
        let residual = h.prepare(&list[0]).unwrap();
        let m = measure(&h, &residual, &floor, &x, 1, Device::Cpu).unwrap();
        assert_eq!((m.forward_evals, m.backward_evals), (1, 0));
        assert_eq!(m.floor_backward, None);
        assert_eq!(m.floor_seconds(), m.floor_forward.min);
        assert_eq!(m.outside_scorer_seconds, None);
    }
}
