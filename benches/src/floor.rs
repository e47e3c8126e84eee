//! The floor of a method: the bare model evaluations it feeds the model, with nothing
//! around them.
//!
//! A method that reports `F` forward and `B` backward evaluations per window on `W`
//! windows feeds the model `F·W` rows, `B·W` of them with a backward pass. Its floor is
//! the time of `B·W` bare forward + backward passes (the gradient with respect to the
//! input) plus `(F − B)·W` bare no-grad forward passes, in chunks of the method's batch
//! size, through the model's layer list and nothing else (no input checks, no error
//! wrapper).

use anomaly_xai::models::layer::forward_layers;
use anomaly_xai::models::Layer;
use anomaly_xai::{Error, Result};
use tch::{Kind, Tensor};

/// Bare passes through a layer list, `batch` rows per call.
pub struct Floor<'a> {
    layers: &'a [Layer],
    /// `batch` input rows: the explained windows, repeated.
    pool: Tensor,
    batch: i64,
}

impl<'a> Floor<'a> {
    /// Passes through `layers` on rows of `x: [W, ..]`, `batch` rows per call.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a batch of 0 or an empty `x`.
    pub fn new(layers: &'a [Layer], x: &Tensor, batch: usize) -> Result<Self> {
        let n = x.size().first().copied().unwrap_or(0);
        if batch == 0 || n == 0 {
            return Err(Error::InvalidSetting {
                setting: "floor batch and windows",
                value: format!("{batch} rows per call, {n} windows"),
                rule: "both must be at least 1".into(),
            });
        }
        let batch = batch as i64;
        let copies = (batch + n - 1) / n;
        let mut repeats = vec![1; x.dim()];
        repeats[0] = copies;
        let pool = x
            .f_repeat(&repeats)?
            .f_narrow(0, 0, batch)?
            .f_contiguous()?;
        Ok(Floor {
            layers,
            pool,
            batch,
        })
    }

    /// `rows` rows in chunks of the batch size: no-grad forward passes, or forward +
    /// backward passes to the input when `grad`. Returns the number of model calls.
    pub fn run(&self, rows: i64, grad: bool) -> Result<usize> {
        let mut start = 0;
        let mut calls = 0;
        while start < rows {
            let len = self.batch.min(rows - start);
            let chunk = self.pool.f_narrow(0, 0, len)?;
            if grad {
                let input = chunk.f_detach()?.f_set_requires_grad(true)?;
                let out = tch::with_grad(|| forward_layers(self.layers, &input))?;
                let total = out.f_sum(Kind::Float)?;
                Tensor::f_run_backward(&[total], &[&input], false, false)?;
            } else {
                let _guard = tch::no_grad_guard();
                let _reconstruction = forward_layers(self.layers, &chunk)?;
            }
            start += len;
            calls += 1;
        }
        Ok(calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{model, noise_windows, Size};
    use anomaly_xai::models::LayerModel;
    use tch::Device;

    #[test]
    fn the_floor_feeds_every_row_in_chunks_of_the_batch() {
        let ae = model(Size::SMALL, Device::Cpu).unwrap();
        let x = noise_windows(Size::SMALL, 3, 0, Device::Cpu).unwrap();
        let floor = Floor::new(ae.layers(), &x, 4).unwrap();
        assert_eq!(floor.pool.size(), vec![4, 8, 5]);
        assert_eq!(floor.run(10, false).unwrap(), 3);
        assert_eq!(floor.run(8, true).unwrap(), 2);
        assert_eq!(floor.run(0, true).unwrap(), 0);
        assert!(Floor::new(ae.layers(), &x, 0).is_err());
    }
}
