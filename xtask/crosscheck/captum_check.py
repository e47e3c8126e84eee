#!/usr/bin/env python3
"""Compare xai-attrib's attributions with Captum 0.9.0's on the same LSTM autoencoder.

Usage: python captum_check.py DIR

DIR/captum/ is written by `crates/xai-attrib/tests/crosscheck.rs` (ignored tests, run by
`cargo xtask crosscheck`): the weights of a small ae-models `LstmAe` (PyTorch names), the
inputs, and our attributions with the settings of every case. This script rebuilds the
model with `nn.LSTM` / `nn.Linear`, wraps its mean L1 reconstruction error exactly as
`ReconstructionError` does, runs Captum on the same inputs and settings, prints a table
and exits non-zero when a comparison fails:

* deterministic methods (Saliency, Input x Gradient, Integrated Gradients, Feature
  Ablation, Occlusion): max |ours - captum| / max |captum| <= 1e-4, per case (and the IG
  convergence deltas agree to 1e-4 of the score scale);
* sampling methods (Kernel SHAP, Shapley Value Sampling), on a window with one strongly
  and one moderately corrupted sensor: the same top-2 sensors in the same order for every
  sample, and a per-sensor correlation of at least 0.95.

Captum's KernelShap fits its surrogate with scikit-learn's LinearRegression; when
scikit-learn is not installed, the same fit (weighted least squares with an intercept,
minimum-norm solution, as scikit-learn computes it) is done with numpy through Captum's
own `LinearModel` interface.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

import captum
from captum.attr import (
    FeatureAblation,
    InputXGradient,
    IntegratedGradients,
    KernelShap,
    Occlusion,
    Saliency,
    ShapleyValueSampling,
)

TOLERANCE = 1e-4
MIN_CORRELATION = 0.95


class LstmAe(nn.Module):
    """ae-models' LstmAe without a latent projection: encoder LSTMs, last step, repeat,
    decoder LSTMs, linear read-out."""

    def __init__(self, n_features, window, hidden, layers):
        super().__init__()
        self.window = window
        self.encoder = nn.LSTM(n_features, hidden, layers, batch_first=True)
        self.decoder = nn.LSTM(hidden, hidden, layers, batch_first=True)
        self.output = nn.Linear(hidden, n_features)

    def forward(self, x):
        h, _ = self.encoder(x)
        z = h[:, -1, :].unsqueeze(1).repeat(1, self.window, 1)
        d, _ = self.decoder(z)
        return self.output(d)


def scorer(model):
    """Per-sample mean L1 reconstruction error, [B, T, F] -> [B]."""

    def f(x):
        return (x - model(x)).abs().flatten(1).mean(1)

    return f


def sklearn_like_linear_regression():
    """Captum's SkLearnLinearRegression when scikit-learn exists, else the same fit."""
    try:
        import sklearn  # noqa: F401
        from captum._utils.models.linear_model import SkLearnLinearRegression

        return SkLearnLinearRegression(), "scikit-learn"
    except ImportError:
        pass
    from captum._utils.models.linear_model import LinearModel

    def train(model, dataloader, construct_kwargs, **_):
        xs, ys, ws = [], [], []
        for batch in dataloader:
            x, y = batch[0], batch[1]
            w = batch[2] if len(batch) == 3 else torch.ones(x.shape[0])
            xs.append(x.double().cpu().numpy())
            ys.append(y.double().cpu().numpy().reshape(x.shape[0], -1))
            ws.append(w.double().cpu().numpy().reshape(-1))
        x, y, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
        # scikit-learn's LinearRegression.fit(x, y, sample_weight=w): centre by the weighted
        # means, scale rows by sqrt(w), minimum-norm least squares, intercept from the means.
        x_mean = np.average(x, axis=0, weights=w)
        y_mean = np.average(y, axis=0, weights=w)
        sw = np.sqrt(w)[:, None]
        coef, *_ = np.linalg.lstsq((x - x_mean) * sw, (y - y_mean) * sw, rcond=None)
        intercept = y_mean - x_mean @ coef
        model._construct_model_params(
            norm_type=None,
            weight_values=torch.tensor(coef.T, dtype=torch.float32),
            bias_value=torch.tensor(intercept, dtype=torch.float32),
        )
        return {}

    return LinearModel(train_fn=train), "numpy (scikit-learn's algorithm)"


def per_sensor_mask(window, n_features):
    return torch.arange(n_features).expand(window, n_features).unsqueeze(0).contiguous()


def baseline_for(case, x, data):
    if case["baseline"] == "zero":
        return torch.zeros_like(x)
    return data["means"].expand_as(x).contiguous()


def captum_attribution(case, f, x, data, cfg):
    method, s = case["method"], case["settings"]
    base = baseline_for(case, x, data)
    mask = per_sensor_mask(cfg["window"], cfg["n_features"]) if case["mask"] == "per_sensor" else None
    delta = None
    if method == "saliency":
        attr = Saliency(f).attribute(x, abs=s["abs"])
    elif method == "input_x_gradient":
        attr = InputXGradient(f).attribute(x)
    elif method == "integrated_gradients":
        attr, delta = IntegratedGradients(f).attribute(
            x, baselines=base, n_steps=s["n_steps"], method=s["method"], return_convergence_delta=True
        )
    elif method == "feature_ablation":
        attr = FeatureAblation(f).attribute(x, baselines=base, feature_mask=mask, perturbations_per_eval=8)
    elif method == "occlusion":
        attr = Occlusion(f).attribute(
            x,
            sliding_window_shapes=tuple(s["window"]),
            strides=tuple(s["strides"]),
            baselines=base,
            perturbations_per_eval=8,
        )
    elif method == "kernel_shap":
        ks = KernelShap(f)
        ks.interpretable_model, _ = sklearn_like_linear_regression()
        attr = ks.attribute(x, baselines=base, feature_mask=mask, n_samples=s["n_samples"], perturbations_per_eval=50)
    elif method == "shapley_value_sampling":
        attr = ShapleyValueSampling(f).attribute(
            x, baselines=base, feature_mask=mask, n_samples=s["n_samples"], perturbations_per_eval=8
        )
    else:
        raise ValueError(f"unknown method {method}")
    return attr.detach(), None if delta is None else delta.detach()


def compare_exact(case, ours, ref, our_delta, ref_delta, score_scale):
    diff = (ours.double() - ref.double()).abs().max().item()
    scale = ref.double().abs().max().item()
    rel = diff / scale if scale > 0 else diff
    ok = rel <= TOLERANCE
    note = ""
    if ref_delta is not None:
        d = (our_delta.double() - ref_delta.double()).abs().max().item() / score_scale
        ok = ok and d <= TOLERANCE
        note = f"delta diff {d:.1e}"
    return ok, f"{case['case']:<24} {case['method']:<22} {diff:10.3e} {scale:10.3e} {rel:10.3e}  {'ok' if ok else 'FAIL'}  {note}"


def sensor_scores(attr, window):
    # Every cell of a sensor carries the sensor's value: read it from one time step.
    return attr[:, 0, :].double()


def compare_statistical(case, ours, ref, window):
    a, b = sensor_scores(ours, window), sensor_scores(ref, window)
    lines, ok = [], True
    for i in range(a.shape[0]):
        top_a = torch.argsort(a[i], descending=True)[:2].tolist()
        top_b = torch.argsort(b[i], descending=True)[:2].tolist()
        corr = np.corrcoef(a[i].numpy(), b[i].numpy())[0, 1]
        good = top_a == top_b and corr >= MIN_CORRELATION
        ok = ok and good
        lines.append(
            f"{case['case']:<24} sample {i}: top-2 ours {top_a} captum {top_b}, correlation {corr:.4f}  "
            f"{'ok' if good else 'FAIL'}"
        )
    return ok, lines


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    root = Path(sys.argv[1]) / "captum"
    if not (root / "model.safetensors").exists():
        print(f"{root}/model.safetensors is missing: run the crosscheck_* tests of xai-attrib first")
        return 2
    warnings.filterwarnings("ignore", category=UserWarning, module="captum")
    torch.manual_seed(0)
    cfg = json.loads((root / "model.json").read_text())
    model = LstmAe(cfg["n_features"], cfg["window"], cfg["hidden"], cfg["layers"])
    model.load_state_dict(load_file(root / "model.safetensors"), strict=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    f = scorer(model)
    print(f"captum {captum.__version__}, torch {torch.__version__}; Kernel SHAP surrogate fit: "
          f"{sklearn_like_linear_regression()[1]}")

    failures = 0
    data = load_file(root / "deterministic.safetensors")
    with torch.no_grad():
        recon = model(data["x"])
    forward_diff = (recon - data["recon"]).abs().max().item()
    print(f"forward pass: max |recon_rust - recon_torch| = {forward_diff:.3e}")
    if forward_diff > 1e-5:
        print("FAIL: the PyTorch model does not reproduce the Rust model")
        return 1
    score_scale = f(data["x"]).abs().max().item()

    print(f"\n{'case':<24} {'method':<22} {'max|diff|':>10} {'max|ref|':>10} {'rel':>10}  (tolerance {TOLERANCE})")
    for case in json.loads((root / "deterministic.json").read_text()):
        x = data[case["input"]].clone()
        ref, ref_delta = captum_attribution(case, f, x, data, cfg)
        ours = data[f"attr.{case['case']}"]
        our_delta = data.get(f"delta.{case['case']}")
        ok, line = compare_exact(case, ours, ref, our_delta, ref_delta, score_scale)
        failures += not ok
        print(line)

    sampling = load_file(root / "sampling.safetensors")
    print("\nsampling methods on a clear case (sensors 2 and 5 corrupted), per sample:")
    torch.manual_seed(0)
    for case in json.loads((root / "sampling.json").read_text()):
        x = sampling[case["input"]].clone()
        ref, _ = captum_attribution(case, f, x, sampling, cfg)
        ours = sampling[f"attr.{case['case']}"]
        ok, lines = compare_statistical(case, ours, ref, cfg["window"])
        failures += not ok
        print("\n".join(lines))

    print(f"\ncaptum cross-check: {'all comparisons passed' if failures == 0 else f'{failures} FAILED'}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
