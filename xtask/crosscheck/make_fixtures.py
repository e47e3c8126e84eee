#!/usr/bin/env python3
"""Generate the parity fixtures: what Captum 0.9 and Zennit 0.5.1 compute on small models.

Usage:
    make_fixtures.py OUT_DIR              write OUT_DIR/captum/*.json and OUT_DIR/zennit/*.json
    make_fixtures.py --compare NEW OLD    print the largest numeric difference per case

The committed copies live in `tests/fixtures/parity/`; `cargo xtask crosscheck` regenerates
them into a temporary directory and fails on any difference. The Rust tests
`crates/xai-attrib/tests/parity.rs` and `crates/lrp-ae/tests/parity.rs` read them, rebuild
every model from the weights in the file, run our method with the case's settings and
compare on the case's tolerance, without Python.

Every fixture holds its model (layer list with weights, or an LSTM autoencoder's PyTorch
`state_dict`), the scorer or output relevance, named input tensors, and cases. A case names
the method and its settings (Captum's arguments; `efficiency` / `paired` are ours, set to
Captum's behaviour), the input, baseline, feature mask and target, the expected result and
how to compare:

* `allclose`: elementwise |ours - expected| <= atol + rtol |expected| against the reference
  library's own output (deterministic methods, Feature Permutation on a batch of two, whose
  only permutation is the swap);
* `max_abs`: sampling methods against exact values (Shapley values by enumerating every
  coalition, the Gradient SHAP expectation as the mean Integrated Gradients over the
  references), max |ours - exact| <= atol for each listed seed of ours, where atol is 1.5 x the
  largest error Captum itself shows over 200 seeds (recorded beside it). On an additive
  scorer every Shapley estimate is exact, so there atol is 1e-5.

`requires` lists the options of ours a case exercises ("target" for one target per sample,
"multiply_by_inputs", "mask_batch_dim" for a `[1, ..]` mask, "mask_per_example" for a `[B, ..]`
mask, "scalar_stride"); the Rust tests run every case and fail on a requirement they do not
know, so a new option cannot be skipped silently.

Floats are written so that parsing them as f64 and rounding to the tensor's dtype gives back
exactly the value the reference computed. Runs single-threaded on the CPU, seeded: the output
is the same on every run.
"""

import importlib.metadata
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

import captum
from captum.attr import (
    FeatureAblation,
    FeaturePermutation,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    KernelShap,
    Occlusion,
    Saliency,
    ShapleyValueSampling,
)
from zennit.attribution import Gradient
from zennit.composites import EpsilonGammaBox, EpsilonPlusFlat, NameMapComposite
from zennit.rules import Epsilon, Flat, Gamma, Pass, WSquare, ZBox, ZPlus

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference import LstmAe, Reshape, sklearn_like_linear_regression  # noqa: E402

EXACT = {"kind": "allclose", "atol": 1e-5, "rtol": 1e-5}
EXACT64 = {"kind": "allclose", "atol": 1e-9, "rtol": 1e-9}
TOLERANCE_SEEDS = 200
OUR_SEEDS = [0, 1, 2]


# ---------------------------------------------------------------------------------------
# Writing


class Raw:
    """A number already formatted for JSON."""

    def __init__(self, text):
        self.text = text


def number(v, dtype):
    if not math.isfinite(v):
        raise ValueError(f"non-finite value {v} in a fixture")
    if dtype == torch.float32:
        v32 = np.float32(v)
        s = str(v32)
        if np.float32(float(s)) != v32:
            s = repr(float(v32))
        return s
    return repr(float(v))


def tensor(t):
    t = t.detach().cpu()
    if t.dtype in (torch.float32, torch.float64):
        values = [Raw(number(v, t.dtype)) for v in t.flatten().tolist()]
        dtype = "float32" if t.dtype == torch.float32 else "float64"
    elif t.dtype in (torch.int64, torch.int32):
        values = [int(v) for v in t.flatten().tolist()]
        dtype = "int64"
    else:
        raise ValueError(f"unsupported dtype {t.dtype}")
    return {"dtype": dtype, "shape": list(t.shape), "values": values}


def dumps(obj, depth=0):
    """JSON with one case (or one tensor, or one layer) a line."""
    pad = "  " * depth
    if isinstance(obj, Raw):
        return obj.text
    if isinstance(obj, dict):
        inline = depth >= 2 or "values" in obj
        items = [f"{json.dumps(k)}: {dumps(v, depth + 1)}" for k, v in obj.items()]
        if inline:
            return "{" + ", ".join(items) + "}"
        inner = ",\n".join(pad + "  " + i for i in items)
        return "{\n" + inner + "\n" + pad + "}"
    if isinstance(obj, list):
        if depth >= 2 or not obj or not isinstance(obj[0], dict):
            return "[" + ", ".join(dumps(v, depth + 1) for v in obj) + "]"
        inner = ",\n".join(pad + "  " + dumps(v, depth + 1) for v in obj)
        return "[\n" + inner + "\n" + pad + "]"
    if isinstance(obj, float):
        return number(obj, torch.float64)
    return json.dumps(obj)


def write(out, lib, name, fixture):
    path = out / lib / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(fixture) + "\n")
    n = len(fixture["cases"])
    print(f"{path}: {n} cases, {path.stat().st_size / 1024:.1f} KiB")


def rounded(x, digits=3):
    """A tolerance with a few significant digits, so that it reads well and stays stable."""
    if x == 0:
        return 0.0
    return float(f"{x:.{digits - 1}e}")


# ---------------------------------------------------------------------------------------
# Models as layer lists


def describe(model):
    """ae-models' layer list of an nn.Sequential (weights included)."""
    layers = []
    for m in model:
        if isinstance(m, nn.Linear):
            d = {"kind": "linear", "weight": tensor(m.weight)}
            if m.bias is not None:
                d["bias"] = tensor(m.bias)
        elif isinstance(m, nn.Conv2d):
            d = {
                "kind": "conv2d",
                "stride": list(m.stride),
                "padding": list(m.padding),
                "dilation": list(m.dilation),
                "groups": m.groups,
                "weight": tensor(m.weight),
            }
            if m.bias is not None:
                d["bias"] = tensor(m.bias)
        elif isinstance(m, nn.ReLU):
            d = {"kind": "relu"}
        elif isinstance(m, nn.Sigmoid):
            d = {"kind": "sigmoid"}
        elif isinstance(m, nn.Tanh):
            d = {"kind": "tanh"}
        elif isinstance(m, nn.Softmax):
            assert m.dim in (-1, 1)
            d = {"kind": "softmax"}
        elif isinstance(m, nn.Flatten):
            d = {"kind": "reshape", "shape": [-1]}
        elif isinstance(m, Reshape):
            d = {"kind": "reshape", "shape": list(m.shape)}
        elif isinstance(m, nn.Upsample):
            assert m.mode == "nearest"
            d = {"kind": "upsample", "scale": int(m.scale_factor)}
        else:
            raise ValueError(f"no ae-models layer for {m}")
        layers.append(d)
    return layers


def sequential(input_shape, model):
    return {"kind": "sequential", "input_shape": list(input_shape), "layers": describe(model)}


def frozen(model):
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def recon_scorer(model, norm):
    def f(x):
        d = x - model(x)
        d = d.abs() if norm == "l1" else d.square()
        return d.flatten(1).mean(1)

    return f


# ---------------------------------------------------------------------------------------
# Exact references for the sampling methods


def expand_mask(ids, x):
    """A sample-shaped mask broadcast to the batch."""
    return ids.expand_as(x) if ids.shape != x.shape else ids


def exact_shapley(f, x, base, ids, target=None):
    """Shapley values of the groups `ids` (sample shape, ids 0..G-1) for every sample, by
    enumerating all 2^G coalitions; every cell gets its group's value."""
    g = int(ids.max()) + 1
    out = torch.zeros_like(x, dtype=torch.float64)
    base = base.expand_as(x)
    for b in range(x.shape[0]):
        rows = []
        for bits in range(2**g):
            keep = torch.tensor([(bits >> k) & 1 for k in range(g)], dtype=torch.bool)
            m = keep[ids]
            rows.append(torch.where(m, x[b], base[b]))
        with torch.no_grad():
            v = f(torch.stack(rows))
        if target is not None:
            v = v[:, target]
        v = v.double()
        phi = torch.zeros(g, dtype=torch.float64)
        for i in range(g):
            for bits in range(2**g):
                if bits >> i & 1:
                    continue
                s = bin(bits).count("1")
                w = math.factorial(s) * math.factorial(g - s - 1) / math.factorial(g)
                phi[i] += w * (v[bits | 1 << i] - v[bits])
        out[b] = phi[ids]
    return out


def seed_all(seed):
    """Captum draws from torch and numpy (Gradient SHAP's references and path points)."""
    torch.manual_seed(seed)
    np.random.seed(seed)


def measured_tolerance(run, exact):
    """1.5 x the largest max-abs error of Captum's estimate over many seeds."""
    errors = []
    for seed in range(TOLERANCE_SEEDS):
        seed_all(seed)
        errors.append((run().double() - exact).abs().max().item())
    return {
        "kind": "max_abs",
        "atol": rounded(1.5 * max(errors)),
        "seeds": OUR_SEEDS,
        "measured": {
            "captum_seeds": TOLERANCE_SEEDS,
            "max_error": rounded(max(errors)),
            "mean_error": rounded(sum(errors) / len(errors)),
        },
    }


# ---------------------------------------------------------------------------------------
# Captum cases


class Cases:
    def __init__(self, f, tensors):
        self.f = f
        self.tensors = tensors
        self.cases = []

    def t(self, name):
        return self.tensors[name]

    def baseline(self, spec, x):
        kind = spec["kind"]
        if kind == "zero":
            return torch.zeros_like(x)
        if kind == "constant":
            return torch.full_like(x, spec["value"])
        return self.t(spec["tensor"]).expand_as(x).contiguous()

    def captum_mask(self, name, x):
        """The mask as Captum takes it: with a leading batch dimension."""
        if name is None:
            return None
        m = self.t(name)
        return m.unsqueeze(0) if m.dim() == x.dim() - 1 else m

    def add(self, name, method, settings, input="x", baseline=None, mask=None, target=None,
            requires=(), check=EXACT, expected=None, delta=None, reference="captum"):
        case = {"name": name, "method": method, "settings": settings, "input": input,
                "baseline": baseline or {"kind": "zero"}}
        if mask is not None:
            case["mask"] = mask
        if target is not None:
            case["target"] = target
        case["requires"] = list(requires)
        case["reference"] = reference
        case["check"] = check
        case["expected"] = tensor(expected)
        if delta is not None:
            case["delta"] = tensor(delta)
        self.cases.append(case)

    def run(self, name, method, settings, input="x", baseline=None, mask=None, target=None,
            requires=(), check=EXACT):
        """A deterministic method: Captum's output is the expected value."""
        x = self.t(input).clone()
        base_spec = baseline or {"kind": "zero"}
        base = self.baseline(base_spec, x)
        mask_t = self.captum_mask(mask, x)
        f, s, delta = self.f, settings, None
        if method == "saliency":
            attr = Saliency(f).attribute(x, target=target, abs=s["abs"])
        elif method == "input_x_gradient":
            attr = InputXGradient(f).attribute(x, target=target)
        elif method == "integrated_gradients":
            multiply = s.get("multiply_by_inputs", True)
            ig = IntegratedGradients(f, multiply_by_inputs=multiply)
            result = ig.attribute(x, baselines=base, target=target, n_steps=s["n_steps"],
                                  method=s["method"], return_convergence_delta=multiply)
            attr, delta = result if multiply else (result, None)
        elif method == "gradient_shap":
            seed_all(0)
            gs = GradientShap(f, multiply_by_inputs=s.get("multiply_by_inputs", True))
            attr = gs.attribute(x, baselines=base[:1], target=target, n_samples=s["n_samples"],
                                stdevs=s["stdevs"])
        elif method == "feature_ablation":
            attr = FeatureAblation(f).attribute(x, baselines=base, target=target,
                                                feature_mask=mask_t, perturbations_per_eval=7)
        elif method == "occlusion":
            strides = s["strides"] if isinstance(s["strides"], int) else tuple(s["strides"])
            attr = Occlusion(f).attribute(x, sliding_window_shapes=tuple(s["window"]), strides=strides,
                                          baselines=base, target=target, perturbations_per_eval=5)
        elif method == "feature_permutation":
            assert x.shape[0] == 2, "a batch of two has one permutation: the swap"
            seed_all(0)
            attr = FeaturePermutation(f).attribute(x, target=target, feature_mask=mask_t,
                                                   perturbations_per_eval=3)
        else:
            raise ValueError(method)
        self.add(name, method, settings, input, base_spec, mask, target, requires, check,
                 attr.detach(), None if delta is None else delta.detach())

    def sampled(self, name, method, settings, input="x", baseline=None, mask=None, target=None,
                requires=(), additive=False):
        """A sampling method against its exact value."""
        x = self.t(input).clone()
        base_spec = baseline or {"kind": "zero"}
        f, s = self.f, settings
        mask_t = self.captum_mask(mask, x)
        if method == "gradient_shap":
            refs = self.t(base_spec["tensor"])
            exact = torch.zeros_like(x, dtype=torch.float64)
            for r in refs:
                ig = IntegratedGradients(f).attribute(x, baselines=r.expand_as(x).contiguous(), target=target,
                                                      n_steps=4000, method="riemann_middle",
                                                      internal_batch_size=4000)
                exact += ig.double() / refs.shape[0]

            def run():
                return GradientShap(f).attribute(x, baselines=refs, target=target,
                                                 n_samples=s["n_samples"], stdevs=s["stdevs"])
            reference = "exact: mean Integrated Gradients over the references (4000 midpoints)"
        else:
            base = self.baseline(base_spec, x)
            ids = self.t(mask) if mask is not None else torch.arange(x[0].numel()).reshape(x.shape[1:])
            exact = exact_shapley(f, x, base, ids, target)
            if method == "shapley_value_sampling":
                def run():
                    return ShapleyValueSampling(f).attribute(x, baselines=base, target=target,
                                                             feature_mask=mask_t, n_samples=s["n_samples"],
                                                             perturbations_per_eval=64)
            elif method == "kernel_shap":
                def run():
                    ks = KernelShap(f)
                    ks.interpretable_model, _ = sklearn_like_linear_regression()
                    return ks.attribute(x, baselines=base, target=target, feature_mask=mask_t,
                                        n_samples=s["n_samples"], perturbations_per_eval=64)
            else:
                raise ValueError(method)
            reference = "exact: Shapley values by enumerating every coalition"
        if additive or s.get("efficiency") is True and method == "kernel_shap":
            check = {"kind": "max_abs", "atol": 1e-5, "seeds": OUR_SEEDS}
            reference += " (exact for every estimate)" if additive else " (ours enumerates every coalition)"
        else:
            check = measured_tolerance(run, exact)
        self.add(name, method, settings, input, base_spec, mask, target, requires, check,
                 exact.to(x.dtype), reference=reference)


def captum_fixtures(out):
    versions = {"torch": torch.__version__, "captum": captum.__version__}
    about = "generated by xtask/crosscheck/make_fixtures.py from Captum; do not edit"
    zero = {"kind": "zero"}
    means = {"kind": "tensor", "tensor": "means"}

    # A dense autoencoder (sigmoid output), mean L1 error.
    torch.manual_seed(1)
    model = frozen(nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 6), nn.Sigmoid()))
    tensors = {
        "x": torch.rand(3, 6),
        "x2": torch.rand(2, 6),
        "means": torch.rand(6) * 0.5 + 0.25,
        "refs": torch.rand(5, 6),
        "groups": torch.tensor([0, 0, 1, 1, 2, 2]),
        "groups_batch1": torch.tensor([[0, 0, 1, 1, 2, 2]]),
        "groups_each": torch.tensor([[0, 0, 1, 1, 2, 2], [0, 1, 2, 0, 1, 2], [0, 1, 1, 1, 1, 0]]),
    }
    c = Cases(recon_scorer(model, "l1"), tensors)
    c.run("saliency_abs", "saliency", {"abs": True})
    c.run("saliency_signed", "saliency", {"abs": False})
    c.run("input_x_gradient", "input_x_gradient", {})
    for method, n in [("gausslegendre", 24), ("riemann_trapezoid", 20), ("riemann_left", 16),
                      ("riemann_right", 16), ("riemann_middle", 16)]:
        c.run(f"ig_{method}", "integrated_gradients", {"n_steps": n, "method": method}, baseline=means)
    c.run("ig_no_multiply_by_inputs", "integrated_gradients",
          {"n_steps": 24, "method": "gausslegendre", "multiply_by_inputs": False}, baseline=means,
          requires=["multiply_by_inputs"])
    c.run("ablation_cells", "feature_ablation", {}, baseline=means)
    c.run("ablation_groups", "feature_ablation", {}, baseline=zero, mask="groups")
    c.run("ablation_mask_batch_dim", "feature_ablation", {}, baseline=zero, mask="groups_batch1",
          requires=["mask_batch_dim"])
    c.run("ablation_mask_per_example", "feature_ablation", {}, baseline=means, mask="groups_each",
          requires=["mask_per_example"])
    c.run("occlusion_2", "occlusion", {"window": [2], "strides": [1]}, baseline=means)
    c.run("occlusion_3_stride_2", "occlusion", {"window": [3], "strides": [2]}, baseline=zero)
    c.run("permutation_cells", "feature_permutation", {"seed": 0}, input="x2")
    c.run("permutation_groups", "feature_permutation", {"seed": 0}, input="x2", mask="groups")
    c.sampled("shapley_sampling_cells", "shapley_value_sampling", {"n_samples": 10, "seed": 0},
              baseline=means)
    c.sampled("shapley_sampling_groups", "shapley_value_sampling", {"n_samples": 5, "seed": 0},
              baseline=zero, mask="groups")
    c.sampled("kernel_shap_exact", "kernel_shap", {"n_samples": 200, "efficiency": True, "paired": True,
                                                   "seed": 0}, baseline=means)
    c.sampled("kernel_shap_captum_sampler", "kernel_shap",
              {"n_samples": 40, "efficiency": False, "paired": False, "seed": 0}, baseline=means)
    c.sampled("gradient_shap_refs", "gradient_shap", {"n_samples": 1000, "stdevs": 0.0, "seed": 0},
              baseline={"kind": "distribution", "tensor": "refs"})
    write(out, "captum", "dense_ae", {
        "about": about, "versions": versions, "model": sequential([6], model),
        "scorer": {"kind": "reconstruction", "norm": "l1"},
        "tensors": {k: tensor(v) for k, v in tensors.items()}, "cases": c.cases})

    # A classifier with a softmax head: the output is [B, 3], a target picks a column.
    torch.manual_seed(2)
    model = frozen(nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3), nn.Softmax(dim=1)))
    tensors = {"x": torch.rand(3, 6), "means": torch.rand(6) * 0.5 + 0.25,
               "groups": torch.tensor([0, 0, 1, 1, 2, 2])}
    c = Cases(model, tensors)
    c.run("saliency_target_1", "saliency", {"abs": True}, target=1)
    c.run("input_x_gradient_target_2", "input_x_gradient", {}, target=2)
    c.run("ig_target_0", "integrated_gradients", {"n_steps": 20, "method": "gausslegendre"},
          baseline=means, target=0)
    c.run("ig_targets_per_sample", "integrated_gradients", {"n_steps": 20, "method": "gausslegendre"},
          baseline=means, target=[0, 2, 1], requires=["target"])
    c.run("ablation_target_2", "feature_ablation", {}, baseline=means, mask="groups", target=2)
    c.run("occlusion_targets_per_sample", "occlusion", {"window": [2], "strides": [2]},
          baseline=zero, target=[1, 0, 2], requires=["target"])
    c.run("occlusion_scalar_stride", "occlusion", {"window": [3], "strides": 3}, baseline=zero,
          target=1, requires=["scalar_stride"])
    c.sampled("shapley_sampling_target_1", "shapley_value_sampling", {"n_samples": 8, "seed": 0},
              baseline=means, target=1)
    c.sampled("kernel_shap_exact_target_0", "kernel_shap",
              {"n_samples": 200, "efficiency": True, "paired": True, "seed": 0}, baseline=means, target=0)
    write(out, "captum", "classifier", {
        "about": about, "versions": versions, "model": sequential([6], model),
        "scorer": {"kind": "output"},
        "tensors": {k: tensor(v) for k, v in tensors.items()}, "cases": c.cases})

    # A convolutional autoencoder with a dilated and a grouped convolution, mean L2 error.
    torch.manual_seed(3)
    model = frozen(nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=2, dilation=2), nn.ReLU(),
        nn.Conv2d(2, 2, 1, groups=2), nn.ReLU(),
        nn.Conv2d(2, 1, 3, padding=1)))
    quadrants = torch.zeros(1, 5, 5, dtype=torch.int64)
    quadrants[:, :3, 3:] = 1
    quadrants[:, 3:, :3] = 2
    quadrants[:, 3:, 3:] = 3
    tensors = {"x": torch.rand(2, 1, 5, 5), "means": torch.rand(1, 5, 5) * 0.5, "quadrants": quadrants}
    c = Cases(recon_scorer(model, "l2"), tensors)
    c.run("saliency_abs", "saliency", {"abs": True})
    c.run("input_x_gradient", "input_x_gradient", {})
    c.run("ig_gausslegendre", "integrated_gradients", {"n_steps": 16, "method": "gausslegendre"},
          baseline=means)
    c.run("ig_riemann_trapezoid", "integrated_gradients", {"n_steps": 12, "method": "riemann_trapezoid"})
    c.run("ablation_quadrants", "feature_ablation", {}, baseline=means, mask="quadrants")
    c.run("occlusion_2x2", "occlusion", {"window": [1, 2, 2], "strides": [1, 1, 1]}, baseline=means)
    c.run("occlusion_3x3_stride_2", "occlusion", {"window": [1, 3, 3], "strides": [1, 2, 2]})
    c.run("occlusion_scalar_stride", "occlusion", {"window": [1, 3, 3], "strides": 2},
          requires=["scalar_stride"])
    c.sampled("shapley_sampling_quadrants", "shapley_value_sampling", {"n_samples": 6, "seed": 0},
              baseline=means, mask="quadrants")
    write(out, "captum", "conv_ae", {
        "about": about, "versions": versions, "model": sequential([1, 5, 5], model),
        "scorer": {"kind": "reconstruction", "norm": "l2"},
        "tensors": {k: tensor(v) for k, v in tensors.items()}, "cases": c.cases})

    # ae-models' LstmAe (one encoder and one decoder layer) from its PyTorch state_dict.
    torch.manual_seed(4)
    f_, t_, h_ = 3, 5, 4
    model = frozen(LstmAe(f_, t_, h_, 1, 1))
    per_sensor = torch.arange(f_).expand(t_, f_).contiguous()
    tensors = {"x": torch.rand(3, t_, f_), "x2": torch.rand(2, t_, f_),
               "means": torch.rand(f_) * 0.5 + 0.25, "sensors": per_sensor,
               "sensors_batch1": per_sensor.unsqueeze(0)}
    c = Cases(recon_scorer(model, "l1"), tensors)
    c.run("saliency_abs", "saliency", {"abs": True})
    c.run("input_x_gradient", "input_x_gradient", {})
    c.run("ig_gausslegendre", "integrated_gradients", {"n_steps": 16, "method": "gausslegendre"},
          baseline=means)
    c.run("ig_riemann_middle", "integrated_gradients", {"n_steps": 10, "method": "riemann_middle"})
    c.run("ablation_sensors", "feature_ablation", {}, baseline=means, mask="sensors")
    c.run("ablation_sensors_batch_dim", "feature_ablation", {}, baseline=means, mask="sensors_batch1",
          requires=["mask_batch_dim"])
    c.run("occlusion_sensor", "occlusion", {"window": [t_, 1], "strides": [1, 1]}, baseline=means)
    c.run("occlusion_2x1_stride_2", "occlusion", {"window": [2, 1], "strides": [2, 1]}, baseline=zero)
    c.run("permutation_sensors", "feature_permutation", {"seed": 0}, input="x2", mask="sensors")
    c.sampled("shapley_sampling_sensors", "shapley_value_sampling", {"n_samples": 4, "seed": 0},
              baseline=means, mask="sensors")
    c.sampled("kernel_shap_exact_sensors", "kernel_shap",
              {"n_samples": 200, "efficiency": True, "paired": True, "seed": 0}, baseline=means,
              mask="sensors")
    write(out, "captum", "lstm_ae", {
        "about": about, "versions": versions,
        "model": {"kind": "lstm_ae", "n_features": f_, "window": t_, "hidden": h_,
                  "encoder_layers": 1, "decoder_layers": 1,
                  "state_dict": {k: tensor(v) for k, v in model.state_dict().items()}},
        "scorer": {"kind": "reconstruction", "norm": "l1"},
        "tensors": {k: tensor(v) for k, v in tensors.items()}, "cases": c.cases})

    # An additive scorer f(x) = sum_i w_i tanh(x_i) + c_i x_i^2: every Shapley estimate is exact.
    torch.manual_seed(5)
    w, cq = torch.randn(5), torch.randn(5)

    def additive(x):
        return (w * torch.tanh(x) + cq * x.square()).sum(1)

    tensors = {"x": torch.rand(3, 5), "means": torch.rand(5), "pairs": torch.tensor([0, 0, 1, 2, 2])}
    c = Cases(additive, tensors)
    c.sampled("shapley_sampling", "shapley_value_sampling", {"n_samples": 1, "seed": 0},
              baseline=means, additive=True)
    c.sampled("shapley_sampling_pairs", "shapley_value_sampling", {"n_samples": 2, "seed": 0},
              baseline=zero, mask="pairs", additive=True)
    c.sampled("kernel_shap_captum_sampler", "kernel_shap",
              {"n_samples": 12, "efficiency": False, "paired": False, "seed": 0}, baseline=means,
              additive=True)
    c.run("ablation", "feature_ablation", {}, baseline=means)
    write(out, "captum", "additive", {
        "about": about, "versions": versions,
        "model": {"kind": "additive", "w": tensor(w), "c": tensor(cq)},
        "scorer": {"kind": "output"},
        "tensors": {k: tensor(v) for k, v in tensors.items()}, "cases": c.cases})

    # A linear scorer f(x) = w.x + b: Gradient SHAP with one reference is exact.
    torch.manual_seed(6)
    lin = frozen(nn.Sequential(nn.Linear(4, 1), nn.Flatten(0)))
    tensors = {"x": torch.rand(3, 4), "means": torch.rand(4)}

    def linear(x):
        return lin(x)

    c = Cases(linear, tensors)
    c.run("gradient_shap_one_reference", "gradient_shap", {"n_samples": 7, "stdevs": 0.0, "seed": 3},
          baseline=means)
    c.run("gradient_shap_no_multiply_by_inputs", "gradient_shap",
          {"n_samples": 7, "stdevs": 0.0, "seed": 3, "multiply_by_inputs": False}, baseline=means,
          requires=["multiply_by_inputs"])
    c.run("ig_riemann_trapezoid", "integrated_gradients", {"n_steps": 5, "method": "riemann_trapezoid"},
          baseline=means)
    write(out, "captum", "linear", {
        "about": about, "versions": versions,
        "model": {"kind": "linear", "weight": tensor(lin[0].weight[0]), "bias": tensor(lin[0].bias)},
        "scorer": {"kind": "output"},
        "tensors": {k: tensor(v) for k, v in tensors.items()}, "cases": c.cases})


# ---------------------------------------------------------------------------------------
# Zennit cases

STAB = 1e-6


def spec(name, **kw):
    """lrp-ae's RuleSpec JSON."""
    if name == "pass":
        return "pass"
    return {name: kw}


def bound_json(b):
    if isinstance(b, torch.Tensor):
        return {"shape": list(b.shape), "values": [Raw(number(v, torch.float64)) for v in b.flatten().tolist()]}
    return float(b)


def zennit_rule(rule):
    if rule == "pass":
        return Pass()
    (name, kw), = rule.items()
    if name == "z-plus":
        return ZPlus(stabilizer=kw.get("stabilizer", STAB))
    if name == "w-square":
        return WSquare(stabilizer=kw.get("stabilizer", STAB))
    if name == "flat":
        return Flat(stabilizer=kw.get("stabilizer", STAB))
    if name == "epsilon":
        return Epsilon(epsilon=kw["eps"])
    if name == "gamma":
        return Gamma(gamma=kw["gamma"], stabilizer=kw.get("stabilizer", STAB))
    if name == "z-box":
        def value(b):
            if isinstance(b, dict):
                return torch.tensor([float(v.text) for v in b["values"]], dtype=torch.float64).reshape(b["shape"])
            return b
        return ZBox(low=value(kw["low"]), high=value(kw["high"]), stabilizer=kw.get("stabilizer", STAB))
    raise ValueError(rule)


def kinds(model):
    return [d["kind"] for d in describe(model)]


def per_layer(model, param_rule, first=None, act="pass"):
    """A rule for every layer: `first` on the first layer with parameters, `param_rule` on the
    other dense and conv layers, pass elsewhere."""
    rules, seen = {}, False
    for i, k in enumerate(kinds(model)):
        if k in ("linear", "conv2d"):
            rules[str(i)] = first if (first is not None and not seen) else param_rule
            seen = True
        else:
            rules[str(i)] = act
    return rules


def paper2_rules(model, first):
    """paper2-dense / paper2-conv: `first` on the first layer with parameters, z+ where the
    input is non-negative (after ReLU or sigmoid), epsilon 1e-3 where it is signed."""
    rules, seen, sign = {}, False, "signed"
    for i, k in enumerate(kinds(model)):
        if k in ("linear", "conv2d"):
            if not seen:
                rules[str(i)] = first
            else:
                rules[str(i)] = spec("z-plus", stabilizer=STAB) if sign == "nonneg" else spec("epsilon", eps=1e-3)
            seen = True
            sign = "signed"
        else:
            rules[str(i)] = "pass"
            if k in ("relu", "sigmoid", "softmax"):
                sign = "nonneg"
            elif k == "tanh":
                sign = "signed"
    return rules


def zennit_attribution(model, x, composite, attr_output):
    inp = x.clone().requires_grad_(True)
    with Gradient(model=model, composite=composite) as attributor:
        out, rel = attributor(inp, attr_output=attr_output)
    return out.detach(), rel.detach()


def name_map(model, rules):
    hooked = [(str(i), zennit_rule(r)) for i, r in rules.items()
              if kinds(model)[int(i)] not in ("reshape", "upsample")]
    return NameMapComposite(name_map=[((n,), r) for n, r in hooked])


def zennit_fixtures(out):
    versions = {"torch": torch.__version__, "zennit": importlib.metadata.version("zennit")}
    about = "generated by xtask/crosscheck/make_fixtures.py from Zennit; do not edit"
    softmax_pass = [(nn.Softmax, Pass())]

    def seed(x, y, norm):
        d = (x - y).abs() if norm == "l1" else (x - y).square()
        return d / d[0].numel()

    def reconstruction_cases(model, x, cases_spec):
        cases = []
        with torch.no_grad():
            y = model(x)
        for name, norm, composite_spec, composite, description in cases_spec:
            r_out = seed(x, y, norm)
            _, rel = zennit_attribution(model, x, composite, r_out)
            cases.append({"name": name, "start": {"reconstruction": norm}, "composite": composite_spec,
                          "zennit": description, "check": EXACT64,
                          "output_relevance": tensor(r_out), "expected": tensor(rel)})
        return cases

    def rules_case(model, name, norm, rules, description):
        return (name, norm, {"layers": rules}, name_map(model, rules), description)

    # A dense autoencoder with a linear bottleneck (signed input to layer 3), f64, biases.
    torch.manual_seed(11)
    model = frozen(nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3), nn.Linear(3, 5), nn.ReLU(),
                                 nn.Linear(5, 6)).double())
    x = torch.rand(4, 6, dtype=torch.float64)
    eps = spec("epsilon", eps=0.01)
    zp = spec("z-plus", stabilizer=STAB)
    specs = [
        rules_case(model, "epsilon", "l2", per_layer(model, eps), "Epsilon(0.01) everywhere"),
        rules_case(model, "lrp0", "l2", per_layer(model, spec("epsilon", eps=0.0)), "Epsilon(0) everywhere"),
        rules_case(model, "zplus", "l2", per_layer(model, zp), "ZPlus everywhere"),
        rules_case(model, "zplus_stabilizer", "l1", per_layer(model, spec("z-plus", stabilizer=1e-2)),
                   "ZPlus(stabilizer=0.01) everywhere"),
        rules_case(model, "wsquare_first", "l2", per_layer(model, zp, spec("w-square", stabilizer=STAB)),
                   "WSquare first, ZPlus"),
        rules_case(model, "zbox_first", "l2", per_layer(model, zp, spec("z-box", low=0.0, high=1.0, stabilizer=STAB)),
                   "ZBox(0, 1) first, ZPlus"),
        rules_case(model, "flat_first", "l1", per_layer(model, eps, spec("flat", stabilizer=STAB)),
                   "Flat first, Epsilon(0.01)"),
        rules_case(model, "gamma", "l2", per_layer(model, spec("gamma", gamma=0.25, stabilizer=STAB)),
                   "Gamma(0.25) everywhere"),
        rules_case(model, "gamma_stabilizer", "l2", per_layer(model, spec("gamma", gamma=0.5, stabilizer=1e-3)),
                   "Gamma(0.5, stabilizer=1e-3) everywhere"),
        ("paper2_dense", "l1", {"preset": "paper2-dense"},
         name_map(model, paper2_rules(model, spec("w-square", stabilizer=STAB))),
         "paper2-dense's rules by name: WSquare first, ZPlus after ReLU, Epsilon(1e-3) on signed input"),
        ("epsilon_plus_flat", "l2", {"preset": "epsilon-plus-flat"}, EpsilonPlusFlat(),
         "Zennit's EpsilonPlusFlat()"),
        ("epsilon_gamma_box", "l2", {"preset": {"epsilon-gamma-box": {"low": 0.0, "high": 1.0}}},
         EpsilonGammaBox(low=0.0, high=1.0), "Zennit's EpsilonGammaBox(0, 1) (no convolution: Epsilon on dense layers)"),
        ("preset_with_override", "l2", {"preset": "epsilon-plus-flat", "layers": {"3": spec("gamma", gamma=0.5, stabilizer=STAB)}},
         name_map(model, {
             **per_layer(model, spec("epsilon", eps=STAB), spec("flat", stabilizer=STAB)),
             "3": spec("gamma", gamma=0.5, stabilizer=STAB)}),
         "EpsilonPlusFlat's rules by name with Gamma(0.5) on layer 3"),
    ]
    write(out, "zennit", "dense_ae", {
        "about": about, "versions": versions, "model": sequential([6], model),
        "tensors": {"x": tensor(x)}, "cases": reconstruction_cases(model, x, specs)})

    # A convolutional autoencoder: dilated grouped conv, strided grouped conv, flatten, dense,
    # reshape, nearest upsampling; 2 input channels for per-channel z-box bounds. f64, biases.
    torch.manual_seed(12)
    model = frozen(nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=2, dilation=2, groups=2), nn.ReLU(),
        nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=2), nn.ReLU(),
        nn.Flatten(), nn.Linear(36, 18), nn.ReLU(), Reshape([2, 3, 3]),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(2, 2, 3, padding=1), nn.ReLU()).double())
    x = torch.rand(2, 2, 6, 6, dtype=torch.float64)
    low_c = torch.tensor([[0.0, -0.5]], dtype=torch.float64)
    high_c = torch.tensor([[1.0, 1.5]], dtype=torch.float64)
    low_full = -torch.rand(1, 2, 6, 6, dtype=torch.float64) * 0.1
    high_full = 1.0 + torch.rand(1, 2, 6, 6, dtype=torch.float64) * 0.1
    zbox_c = spec("z-box", low=bound_json(low_c), high=bound_json(high_c), stabilizer=STAB)
    zbox_full = spec("z-box", low=bound_json(low_full), high=bound_json(high_full), stabilizer=STAB)
    specs = [
        rules_case(model, "epsilon", "l2", per_layer(model, eps), "Epsilon(0.01) everywhere"),
        rules_case(model, "zplus", "l2", per_layer(model, zp), "ZPlus everywhere"),
        rules_case(model, "wsquare_first", "l2", per_layer(model, zp, spec("w-square", stabilizer=STAB)),
                   "WSquare first, ZPlus"),
        rules_case(model, "zbox_first", "l2", per_layer(model, zp, spec("z-box", low=0.0, high=1.0, stabilizer=STAB)),
                   "ZBox(0, 1) first, ZPlus"),
        rules_case(model, "zbox_per_channel", "l1", per_layer(model, zp, zbox_c),
                   "ZBox(low=[[0, -0.5]], high=[[1, 1.5]]) first, ZPlus"),
        rules_case(model, "zbox_full_bounds", "l2", per_layer(model, zp, zbox_full),
                   "ZBox with [1, 2, 6, 6] bounds first, ZPlus"),
        rules_case(model, "flat_first", "l2", per_layer(model, zp, spec("flat", stabilizer=STAB)), "Flat first, ZPlus"),
        rules_case(model, "gamma", "l2", per_layer(model, spec("gamma", gamma=0.25, stabilizer=STAB),
                                                   spec("z-box", low=0.0, high=1.0, stabilizer=STAB)),
                   "ZBox(0, 1) first, Gamma(0.25)"),
        ("paper2_conv", "l2", {"preset": {"paper2-conv": {"low": 0.0, "high": 1.0}}},
         name_map(model, paper2_rules(model, spec("z-box", low=0.0, high=1.0, stabilizer=STAB))),
         "paper2-conv's rules by name: ZBox(0, 1) first, ZPlus after ReLU"),
        ("epsilon_plus_flat", "l1", {"preset": "epsilon-plus-flat"}, EpsilonPlusFlat(),
         "Zennit's EpsilonPlusFlat()"),
        ("epsilon_gamma_box", "l2", {"preset": {"epsilon-gamma-box": {"low": 0.0, "high": 1.0}}},
         EpsilonGammaBox(low=0.0, high=1.0), "Zennit's EpsilonGammaBox(0, 1)"),
        ("epsilon_gamma_box_tensor_bounds", "l2",
         {"preset": {"epsilon-gamma-box": {"low": 0.0, "high": 1.0}}, "layers": {"0": zbox_c}},
         EpsilonGammaBox(low=low_c, high=high_c), "Zennit's EpsilonGammaBox(low=[[0, -0.5]], high=[[1, 1.5]])"),
    ]
    write(out, "zennit", "conv_ae", {
        "about": about, "versions": versions, "model": sequential([2, 6, 6], model),
        "tensors": {"x": tensor(x)}, "cases": reconstruction_cases(model, x, specs)})

    # A classifier with a softmax head, explained from chosen output relevances.
    torch.manual_seed(13)
    model = frozen(nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=2, dilation=2, groups=2), nn.ReLU(),
        nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
        nn.Linear(36, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=1)).double())
    x = torch.rand(3, 2, 6, 6, dtype=torch.float64)
    given = torch.rand(3, 3, dtype=torch.float64) - 0.3
    with torch.no_grad():
        y = model(x)
    targets = [0, 2, 1]
    onehot_targets = torch.eye(3, dtype=torch.float64)[targets]
    onehot_1 = torch.eye(3, dtype=torch.float64)[[1, 1, 1]]
    egb = EpsilonGammaBox(low=0.0, high=1.0, layer_map=softmax_pass)
    epf = EpsilonPlusFlat(layer_map=softmax_pass)
    starts = [
        ("output", {"output": None}, None),
        ("logit_per_sample", {"logit": targets}, lambda out: out * onehot_targets),
        ("one_hot_1", {"one-hot": 1}, onehot_1),
        ("given", {"given": "r"}, given),
    ]
    cases = []
    for cname, comp_spec, composite, description in [
        ("epsilon_gamma_box", {"preset": {"epsilon-gamma-box": {"low": 0.0, "high": 1.0}}}, egb,
         "Zennit's EpsilonGammaBox(0, 1), Pass on the softmax"),
        ("epsilon_plus_flat", {"preset": "epsilon-plus-flat"}, epf, "Zennit's EpsilonPlusFlat(), Pass on the softmax"),
    ]:
        for sname, start, attr_output in starts:
            _, rel = zennit_attribution(model, x, composite, attr_output)
            r_out = y if attr_output is None else (attr_output(y) if callable(attr_output) else attr_output)
            cases.append({"name": f"{cname}_{sname}", "start": start, "composite": comp_spec,
                          "zennit": description, "check": EXACT64,
                          "output_relevance": tensor(r_out), "expected": tensor(rel)})
    rules = per_layer(model, spec("gamma", gamma=0.5, stabilizer=STAB), spec("flat", stabilizer=STAB))
    _, rel = zennit_attribution(model, x, name_map(model, rules), lambda out: out * onehot_targets)
    cases.append({"name": "rules_by_layer_logit_per_sample", "start": {"logit": targets}, "composite": {"layers": rules},
                  "zennit": "Flat first, Gamma(0.5), Pass on activations, by name", "check": EXACT64,
                  "output_relevance": tensor(y * onehot_targets), "expected": tensor(rel)})
    write(out, "zennit", "classifier", {
        "about": about, "versions": versions, "model": sequential([2, 6, 6], model),
        "tensors": {"x": tensor(x), "r": tensor(given)}, "cases": cases})


# ---------------------------------------------------------------------------------------
# Comparing two generations


def compare(new, old):
    """Largest numeric difference per case between two fixture trees; exit 1 on any."""
    failures = 0
    for path in sorted(Path(old).rglob("*.json")):
        rel = path.relative_to(old)
        other = Path(new) / rel
        if not other.exists():
            print(f"{rel}: missing from the new generation")
            failures += 1
            continue
        a, b = json.loads(other.read_text()), json.loads(path.read_text())
        if a == b:
            continue
        failures += 1
        cases_b = {c["name"]: c for c in b.get("cases", [])}
        for case in a.get("cases", []):
            ref = cases_b.get(case["name"])
            if ref is None:
                print(f"{rel}: new case {case['name']}")
            elif ref != case:
                diffs = [max((abs(x - y) for x, y in zip(case[k]["values"], ref[k]["values"])), default=0.0)
                         for k in ("expected", "delta", "output_relevance") if k in case and k in ref
                         and len(case[k]["values"]) == len(ref[k]["values"])]
                print(f"{rel}: case {case['name']} differs (max |new - old| = {max(diffs, default=float('nan')):.3e})")
        if {k: v for k, v in a.items() if k != "cases"} != {k: v for k, v in b.items() if k != "cases"}:
            print(f"{rel}: model, tensors or versions differ")
    for path in sorted(Path(new).rglob("*.json")):
        if not (Path(old) / path.relative_to(new)).exists():
            print(f"{path.relative_to(new)}: not committed")
            failures += 1
    return 1 if failures else 0


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--compare":
        return compare(args[1], args[2])
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    out = Path(args[0])
    captum_fixtures(out)
    zennit_fixtures(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
