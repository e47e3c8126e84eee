//! Models from given weights: a PyTorch `state_dict` (for instance saved with
//! `safetensors.torch.save_file(model.state_dict(), path)`), or any named tensors.
//!
//! [`crate::LstmAe::from_state_dict`], [`crate::DenseAe::from_state_dict`] and
//! [`crate::ConvAe::from_state_dict`] build a model whose trainable variables are created
//! *from* the given tensors (names as in each model's docs, which are PyTorch's), instead of
//! building a random model and writing into [`crate::Trainable::parameters`] under no-grad.
//! Every parameter must be present with the shape the configuration implies, and every
//! tensor must be used: a missing, misshapen or unexpected name is an error naming it, as
//! PyTorch's `load_state_dict(strict=True)`.
//!
//! ```
//! use ae_models::{state_dict::StateDict, LayerModel, DenseAe, DenseAeConfig, Trainable};
//! use tch::{Device, Kind, Tensor};
//! // A trained PyTorch model's state_dict, here written by hand.
//! let w = |o: i64, i: i64| Tensor::ones([o, i], (Kind::Float, Device::Cpu));
//! let sd = StateDict::new([
//!     ("encoder.0.weight".to_string(), w(2, 3)),
//!     ("decoder.0.weight".to_string(), w(3, 2)),
//! ]);
//! let mut cfg = DenseAeConfig::new(3, vec![2]);
//! cfg.bias = false;
//! let ae = DenseAe::from_state_dict(&cfg, sd, Device::Cpu)?;
//! let y = ae.forward(&Tensor::ones([1, 3], (Kind::Float, Device::Cpu)))?;
//! assert_eq!(y.double_value(&[0, 0]), 6.0); // relu(1+1+1) twice, summed
//! assert!(ae.parameters()[0].1.requires_grad()); // trainable like any fresh model
//! # Ok::<(), ae_models::ModelError>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::checks::check_finite;
use crate::error::{ModelError, Result};

/// Named tensors to build a model from, e.g. a PyTorch `state_dict`.
#[derive(Debug)]
pub struct StateDict {
    tensors: BTreeMap<String, Tensor>,
    source: String,
}

impl StateDict {
    /// Named tensors held in memory.
    pub fn new(tensors: impl IntoIterator<Item = (String, Tensor)>) -> Self {
        StateDict {
            tensors: tensors.into_iter().collect(),
            source: "state dict".into(),
        }
    }

    /// Reads a safetensors file (e.g. `safetensors.torch.save_file(model.state_dict(), path)`).
    /// The header is checked before any tensor is read (by the `safetensors` crate's
    /// parser, with the format's limits), and every floating-point value must be finite.
    ///
    /// # Errors
    /// [`ModelError::Io`] if the file cannot be read; [`ModelError::CorruptFile`] saying
    /// in one sentence what is wrong with a file that is not a (complete) safetensors
    /// file, e.g. `the header promises 436 bytes of tensor data, the file holds 426 (the
    /// file was cut short)`; [`ModelError::NonFinite`] naming the tensor and the first
    /// NaN or infinite value.
    pub fn read_safetensors(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let tensors = crate::persist::header::read_tensors(path)?;
        Ok(StateDict {
            tensors: tensors.into_iter().collect(),
            source: path.display().to_string(),
        })
    }

    /// The same tensors with `prefix` removed from every name that starts with it and the
    /// other names dropped: the sub-module `prefix` of a larger model (`"model."`), as
    /// PyTorch's `load_state_dict` of a sub-module sees it.
    pub fn submodule(self, prefix: &str) -> Self {
        StateDict {
            tensors: self
                .tensors
                .into_iter()
                .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v)))
                .collect(),
            source: format!("{} (under {prefix:?})", self.source),
        }
    }

    /// The same tensors renamed by `f` (to map another naming scheme onto a model's).
    pub fn rename(self, f: impl Fn(&str) -> String) -> Self {
        StateDict {
            tensors: self.tensors.into_iter().map(|(k, v)| (f(&k), v)).collect(),
            source: self.source,
        }
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether there are no tensors.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Removes and returns the tensor `name`, whatever its shape and dtype (to assemble
    /// [`crate::Layer`]s by hand).
    ///
    /// # Errors
    /// [`ModelError::ConfigMismatch`] naming the missing tensor.
    ///
    /// [`ModelError::NonFinite`] naming the tensor when a floating-point one holds a NaN
    /// or infinite value: a model is never built from it.
    pub fn take(&mut self, name: &str) -> Result<Tensor> {
        let t = self.tensors.remove(name).ok_or_else(|| {
            self.mismatch(format!(
                "parameter {name} is missing (present: {:?})",
                self.tensors.keys().collect::<Vec<_>>()
            ))
        })?;
        if matches!(
            t.kind(),
            Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
        ) {
            check_finite(&t, &format!("{}: parameter {name}", self.source))?;
        }
        Ok(t)
    }

    /// Removes `name`, checks its shape and floating-point dtype, and returns it as an
    /// `f32` copy on `device`.
    pub(crate) fn take_param(
        &mut self,
        name: &str,
        dims: &[i64],
        device: Device,
    ) -> Result<Tensor> {
        let t = self.take(name)?;
        if t.size() != dims {
            return Err(self.mismatch(format!(
                "parameter {name} has shape {:?}, the model needs {dims:?}",
                t.size()
            )));
        }
        if !matches!(
            t.kind(),
            Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16
        ) {
            return Err(self.mismatch(format!(
                "parameter {name} has dtype {:?}, expected a floating-point type",
                t.kind()
            )));
        }
        Ok(t.f_detach()?.f_to_kind(Kind::Float)?.f_to_device(device)?)
    }

    /// Fails when tensors are left over: names the model does not have.
    pub(crate) fn check_consumed(&self) -> Result<()> {
        if self.tensors.is_empty() {
            return Ok(());
        }
        Err(self.mismatch(format!(
            "holds parameters the model lacks: {:?}",
            self.tensors.keys().collect::<Vec<_>>()
        )))
    }

    fn mismatch(&self, reason: String) -> ModelError {
        ModelError::ConfigMismatch {
            path: self.source.clone(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(dims: &[i64]) -> Tensor {
        Tensor::zeros(dims, (Kind::Float, Device::Cpu))
    }

    #[test]
    fn names_shapes_and_leftovers_are_checked() {
        let mut sd = StateDict::new([("a".to_string(), t(&[2, 3])), ("b".to_string(), t(&[4]))]);
        let e = sd
            .take_param("a", &[3, 2], Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a has shape [2, 3], the model needs [3, 2]"),
            "{e}"
        );
        let e = sd.take("c").unwrap_err().to_string();
        assert!(e.contains("c is missing") && e.contains("\"b\""), "{e}");
        let e = sd.check_consumed().unwrap_err().to_string();
        assert!(e.contains("lacks: [\"b\"]"), "{e}");
        let mut ints = StateDict::new([("i".to_string(), Tensor::from_slice(&[1i64]))]);
        let e = ints
            .take_param("i", &[1], Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Int64"), "{e}");
    }

    #[test]
    fn non_finite_weights_are_refused_at_load() {
        let w = t(&[2, 3]);
        let _ = w.get(1).get(2).fill_(f64::NAN);
        let mut sd = StateDict::new([("encoder.0.weight".to_string(), w)]);
        let e = sd
            .take_param("encoder.0.weight", &[2, 3], Device::Cpu)
            .unwrap_err();
        assert!(matches!(e, ModelError::NonFinite { index: 5, .. }), "{e:?}");
        assert!(e.to_string().contains("parameter encoder.0.weight"), "{e}");
    }

    #[test]
    fn sub_and_rename_map_names() {
        let sd = StateDict::new([
            ("model.x".to_string(), t(&[1])),
            ("head.y".to_string(), t(&[1])),
        ])
        .submodule("model.")
        .rename(|n| n.to_uppercase());
        assert_eq!(sd.names().collect::<Vec<_>>(), vec!["X"]);
    }
}
