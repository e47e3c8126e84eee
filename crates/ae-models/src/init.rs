//! How the parameters of a fresh model are created and drawn.
//!
//! Models initialise like PyTorch's defaults so that they train like the papers' models:
//! `nn.Linear` and `nn.Conv2d` draw weight and bias from `U(-1/√fan_in, 1/√fan_in)` (what
//! kaiming-uniform with `a = √5` reduces to), `nn.LSTM` draws every weight and bias from
//! `U(-1/√H, 1/√H)`. tch's own `nn::linear` uses a ReLU gain instead, which is why the
//! models here do not use it.
//!
//! Two sources of randomness: libtorch's global generator (so `tch::manual_seed` controls
//! it, as for tch's own layers), or a ChaCha stream seeded per model, which makes a model's
//! initial weights a pure function of its seed even while other threads draw from libtorch.
//! A third source is no draw at all: given tensors ([`crate::state_dict::StateDict`]) become
//! the initial values of the same trainable variables.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, Init};
use tch::{Device, Tensor};

use crate::error::Result;
use crate::state_dict::StateDict;

/// Where the values of a fresh model come from.
pub(crate) enum Draw {
    /// libtorch's global generator.
    Torch,
    /// A ChaCha stream of its own.
    Seeded(Box<ChaCha8Rng>),
    /// Given tensors, taken by name (a PyTorch `state_dict`).
    Given(StateDict),
}

impl Draw {
    pub(crate) fn seeded(seed: u64) -> Self {
        Draw::Seeded(Box::new(ChaCha8Rng::seed_from_u64(seed)))
    }
}

/// Creates a model's variables under one `nn::Path` and remembers them by their name
/// relative to that path, in creation order.
pub(crate) struct ParamBuilder<'a> {
    root: nn::Path<'a>,
    draw: Draw,
    params: Vec<(String, Tensor)>,
}

impl<'a> ParamBuilder<'a> {
    pub(crate) fn new(root: &nn::Path<'a>, draw: Draw) -> Self {
        ParamBuilder {
            root: root.clone(),
            draw,
            params: Vec::new(),
        }
    }

    pub(crate) fn device(&self) -> Device {
        self.root.device()
    }

    /// A trainable variable of shape `dims` drawn from `U(-bound, bound)`. `name` is dotted
    /// (`encoder.weight_ih_l0`); tch forbids dots inside one component, so every dotted
    /// prefix becomes a sub-path.
    pub(crate) fn uniform(&mut self, name: &str, dims: &[i64], bound: f64) -> Result<Tensor> {
        let mut parts: Vec<&str> = name.split('.').collect();
        let leaf = parts.pop().unwrap_or(name);
        let path = parts.iter().fold(self.root.clone(), |p, part| p.sub(*part));
        let var = match &mut self.draw {
            Draw::Torch => path.f_var(
                leaf,
                dims,
                Init::Uniform {
                    lo: -bound,
                    up: bound,
                },
            )?,
            Draw::Seeded(rng) => {
                let n: i64 = dims.iter().product();
                let values: Vec<f32> = (0..n)
                    .map(|_| rng.gen_range(-bound..bound) as f32)
                    .collect();
                let init = Tensor::f_from_slice(&values)?.f_reshape(dims)?;
                path.f_var_copy(leaf, &init)?
            }
            Draw::Given(sd) => {
                let init = sd.take_param(name, dims, path.device())?;
                path.f_var_copy(leaf, &init)?
            }
        };
        self.params.push((name.to_string(), var.shallow_clone()));
        Ok(var)
    }

    /// Weight `[out, fan_in / receptive field..]` and optional bias `[out]` initialised like
    /// PyTorch's `nn.Linear` / `nn.Conv2d`.
    pub(crate) fn affine(
        &mut self,
        prefix: &str,
        weight_dims: &[i64],
        bias: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let fan_in: i64 = weight_dims[1..].iter().product();
        let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
        let weight = self.uniform(&format!("{prefix}.weight"), weight_dims, bound)?;
        let bias = if bias {
            Some(self.uniform(&format!("{prefix}.bias"), &[weight_dims[0]], bound)?)
        } else {
            None
        };
        Ok((weight, bias))
    }

    pub(crate) fn finish(self) -> Vec<(String, Tensor)> {
        self.params
    }

    /// With given tensors: fails when some were not used (names the model lacks).
    pub(crate) fn check_consumed(&self) -> Result<()> {
        match &self.draw {
            Draw::Given(sd) => sd.check_consumed(),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_draws_repeat_and_stay_inside_the_bound() {
        let make = |seed| {
            let vs = nn::VarStore::new(Device::Cpu);
            let mut b = ParamBuilder::new(&vs.root(), Draw::seeded(seed));
            let w = b.uniform("enc.w", &[30, 20], 0.25).unwrap();
            assert_eq!(b.finish()[0].0, "enc.w");
            assert!(vs.variables().contains_key("enc.w"));
            w
        };
        let (a, b, c) = (make(1), make(1), make(2));
        assert!(a.equal(&b));
        assert!(!a.equal(&c));
        assert!(a.abs().max().double_value(&[]) <= 0.25);
        assert!(a.requires_grad());
    }

    #[test]
    fn affine_uses_pytorch_fan_in_bound() {
        let vs = nn::VarStore::new(Device::Cpu);
        let mut b = ParamBuilder::new(&vs.root(), Draw::seeded(0));
        let (w, bias) = b.affine("conv", &[8, 4, 3, 3], true).unwrap();
        let bound = 1.0 / 36f64.sqrt();
        assert!(w.abs().max().double_value(&[]) <= bound);
        // 288 draws from U(-1/6, 1/6): the largest is close to the bound, not far inside.
        assert!(w.abs().max().double_value(&[]) > 0.9 * bound);
        assert_eq!(bias.unwrap().size(), vec![8]);
    }
}
