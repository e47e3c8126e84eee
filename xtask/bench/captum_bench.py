#!/usr/bin/env python3
"""Time Captum 0.9 on the reference LSTM autoencoder with the settings of
`cargo run --release -p anomaly-xai-bench --example bench_methods` (the shared harness in
`benches/src/`; see docs/performance.md).

Usage (the cached cross-check virtualenv, CPU is fine):

    ~/.cache/anomaly-xai/torch-2.13.0-cuda/bin/python xtask/bench/captum_bench.py --threads 2 --windows 8

Same model, data and settings as the Rust example:

* model: paper 1's LSTM autoencoder, 38 sensors, windows of 50, one `nn.LSTM` per layer
  (batch_first, 2 encoder layers of 64), the top encoder state at the last step repeated
  50 times, 2 decoder layers of 64, `nn.Linear(64, 38)`; seeded, untrained (the cost of a
  dense recurrent pass does not depend on the weights' values);
* explained output: the mean L1 reconstruction error of each window, `[B, 50, 38] -> [B]`;
* data: `--windows` stride-1 windows of machine-1-2's test half (SMD, MIT licence,
  embedded in data/smd), starting at test step `--start`, min-max scaled on the training
  half (a constant column gets range 1), clipped to [-3, 3]; Gradient SHAP's background is
  the first `--background` training windows;
* settings: Occlusion (window 50 x 1), Feature Ablation and Feature Permutation with a
  per-sensor mask, Shapley Value Sampling 25 permutations, Kernel SHAP 1000 samples, all
  with a zero baseline; Integrated Gradients 50 steps (Gauss-Legendre), Gradient SHAP 50
  samples, no convergence delta; Saliency (abs), Input x Gradient; the per-sensor residual.
  Captum has no LRP rule for LSTM layers, so LRP is absent here.

Captum evaluates perturbations `perturbations_per_eval` at a time (default 1). Every
perturbation method is timed twice: with Captum's default (`ppe=1`) and with the number
of perturbations that fills the Rust batch of `--batch-size` rows (`batch_size // W`
windows per perturbation; Kernel SHAP, which Captum runs one example at a time, gets
`batch_size`). Captum's KernelShap fits its surrogate with scikit-learn; when that is not
installed the same weighted least-squares fit is done with numpy (as in
xtask/crosscheck/reference.py), which costs about the same for 1000 x 38 rows.

The floor is timed here as in the Rust example: `B*W` bare forward + backward passes and
`(F - B)*W` bare no-grad forward passes in chunks of `--batch-size`, where `F` and `B` are
the rows the method actually fed the model per window (counted by wrapping the forward
function). After one warm-up run, the method and its floors are timed in turns
`--repeats` times (so that a change of the machine's load hits both alike); every time is
the minimum over the repeats (the median is printed too). CPU seconds of the whole process
(`time.process_time`) are recorded beside wall-clock seconds: on a machine shared with
other work they leave out the waiting for a core. Output: one JSON line per (method, ppe)
on stdout, a markdown table on stderr.
"""

import argparse
import json
import lzma
import os
import statistics
import sys
import time
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

SENSORS, STEPS, HIDDEN = 38, 50, 64
REPO = Path(__file__).resolve().parents[2]
# Kernel SHAP's surrogate fit, shared with the cross-check (scikit-learn's, or the same
# algorithm in numpy when scikit-learn is absent).
sys.path.insert(0, str(REPO / "xtask" / "crosscheck"))
from reference import sklearn_like_linear_regression  # noqa: E402
METHODS = [
    "residual",
    "saliency",
    "input_x_gradient",
    "integrated_gradients",
    "gradient_shap",
    "feature_ablation",
    "occlusion",
    "feature_permutation",
    "shapley_value_sampling",
    "kernel_shap",
]
PERTURBATION = {"feature_ablation", "occlusion", "feature_permutation", "shapley_value_sampling", "kernel_shap"}


class LstmAe(nn.Module):
    """ae-models' LstmAe, layer for layer: LSTM, LSTM, last step, repeat, LSTM, LSTM, Linear."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.ModuleList(
            [nn.LSTM(SENSORS, HIDDEN, batch_first=True), nn.LSTM(HIDDEN, HIDDEN, batch_first=True)]
        )
        self.decoder = nn.ModuleList(
            [nn.LSTM(HIDDEN, HIDDEN, batch_first=True), nn.LSTM(HIDDEN, HIDDEN, batch_first=True)]
        )
        self.output = nn.Linear(HIDDEN, SENSORS)

    def forward(self, x):
        for lstm in self.encoder:
            x, _ = lstm(x)
        x = x[:, -1, :].unsqueeze(1).repeat(1, STEPS, 1)
        for lstm in self.decoder:
            x, _ = lstm(x)
        return self.output(x)


class Counted:
    """The mean L1 reconstruction error, counting the rows fed to the model (and those fed
    with an input gradient, i.e. followed by a backward pass)."""

    def __init__(self, model):
        self.model = model
        self.rows = 0
        self.grad_rows = 0

    def __call__(self, x):
        self.rows += x.shape[0]
        if x.requires_grad:
            self.grad_rows += x.shape[0]
        return (x - self.model(x)).abs().flatten(1).mean(1)


def load_series(data_dir, half):
    path = data_dir / half / "machine-1-2.txt.xz"
    if path.exists():
        with lzma.open(path, "rt") as f:
            return np.loadtxt(f, delimiter=",", dtype=np.float32)
    return np.loadtxt(data_dir / half / "machine-1-2.txt", delimiter=",", dtype=np.float32)


def windows(series, start, count):
    return torch.from_numpy(np.stack([series[s : s + STEPS] for s in range(start, start + count)])).contiguous()


def load_data(args, device):
    train = load_series(args.data_dir, "train")
    test = load_series(args.data_dir, "test")
    lo, hi = train.min(axis=0), train.max(axis=0)
    rng = hi - lo
    rng = np.where((rng > 0) & np.isfinite(rng), rng, 1.0).astype(np.float32)
    train_s = (train - lo) / rng
    test_s = np.clip((test - lo) / rng, -3.0, 3.0)
    if args.start + args.windows + STEPS - 1 > len(test_s):
        sys.exit(f"--start {args.start} with --windows {args.windows} runs past the {len(test_s)} test steps")
    x = windows(test_s, args.start, args.windows).to(device)
    bg = windows(train_s, 0, min(args.background, len(train_s) - STEPS + 1)).to(device)
    return x, bg


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def clock(device, fn):
    """Wall-clock and CPU seconds (all threads of the process) of one run."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0, time.process_time() - c0


class Floor:
    """Bare model evaluations: the module and nothing else."""

    def __init__(self, model, x, batch):
        copies = -(-batch // x.shape[0])
        self.pool = x.repeat(copies, 1, 1)[:batch].contiguous()
        self.model, self.batch = model, batch

    def run(self, rows, grad):
        start = 0
        while start < rows:
            n = min(self.batch, rows - start)
            chunk = self.pool[:n]
            if grad:
                inp = chunk.detach().requires_grad_(True)
                out = self.model(inp)
                torch.autograd.grad(out.sum(), inp)
            else:
                with torch.no_grad():
                    self.model(chunk)
            start += n


def measure(repeats, device, floor, w, f, run, fixed_forward=None):
    """Warm-up run (counting the rows fed to the model), floors once, then the method and
    its floors in turns, so that a change of the machine's load hits both alike."""
    f.rows = f.grad_rows = 0
    run()
    sync(device)
    fwd_rows = fixed_forward * w if fixed_forward is not None else f.rows
    bwd_rows = f.grad_rows
    floor.run(fwd_rows, False)
    floor.run(bwd_rows, True)
    sync(device)
    t = {"method": [], "forward": [], "backward": [], "extra_forward": []}
    for _ in range(max(1, repeats)):
        t["method"].append(clock(device, run))
        t["forward"].append(clock(device, lambda: floor.run(fwd_rows, False)))
        if bwd_rows > 0:
            t["backward"].append(clock(device, lambda: floor.run(bwd_rows, True)))
            t["extra_forward"].append(clock(device, lambda: floor.run(max(0, fwd_rows - bwd_rows), False)))
    return fwd_rows / w, bwd_rows / w, t


def make_runner(name, f, x, bg, mask, ppe, ks_model):
    zero = torch.zeros_like(x)
    if name == "residual":

        def run():
            with torch.no_grad():
                err = (x - f.model(x)).abs()
                return err.mean(1, keepdim=True).expand_as(err)

    elif name == "saliency":

        def run():
            return Saliency(f).attribute(x, abs=True)

    elif name == "input_x_gradient":

        def run():
            return InputXGradient(f).attribute(x)

    elif name == "integrated_gradients":

        def run():
            return IntegratedGradients(f).attribute(x, baselines=zero, n_steps=50, method="gausslegendre")

    elif name == "gradient_shap":

        def run():
            return GradientShap(f).attribute(x, baselines=bg, n_samples=50, stdevs=0.0)

    elif name == "feature_ablation":

        def run():
            return FeatureAblation(f).attribute(x, baselines=0.0, feature_mask=mask, perturbations_per_eval=ppe)

    elif name == "occlusion":

        def run():
            return Occlusion(f).attribute(
                x, sliding_window_shapes=(STEPS, 1), baselines=0.0, perturbations_per_eval=ppe
            )

    elif name == "feature_permutation":

        def run():
            return FeaturePermutation(f).attribute(x, feature_mask=mask, perturbations_per_eval=ppe)

    elif name == "shapley_value_sampling":

        def run():
            return ShapleyValueSampling(f).attribute(
                x, baselines=0.0, feature_mask=mask, n_samples=25, perturbations_per_eval=ppe
            )

    elif name == "kernel_shap":

        def run():
            ks = KernelShap(f)
            ks.interpretable_model = ks_model
            with warnings.catch_warnings():
                # "multiple inputs ... trains a separate interpretable model for each example"
                warnings.simplefilter("ignore")
                return ks.attribute(
                    x, baselines=0.0, feature_mask=mask, n_samples=1000, perturbations_per_eval=ppe
                )

    else:
        raise ValueError(name)
    return run


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--windows", type=int, default=8, help="windows explained per call")
    p.add_argument("--methods", default="all", help="comma-separated names, or all")
    p.add_argument("--repeats", type=int, default=3, help="timed runs after one warm-up")
    p.add_argument("--batch-size", type=int, default=512, help="rows per call of the Rust methods")
    p.add_argument("--ppe", choices=["default", "batched", "both"], default="both",
                   help="perturbations_per_eval: Captum's default 1, the Rust batch, or both")
    p.add_argument("--background", type=int, default=16, help="Gradient SHAP background windows")
    p.add_argument("--start", type=int, default=15900, help="first test step of the windows")
    p.add_argument("--data-dir", type=Path, default=REPO / "data" / "smd", help="SMD layout directory")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    args = p.parse_args()
    if args.windows < 1 or args.repeats < 1 or args.batch_size < 1 or args.threads < 1:
        sys.exit("--windows, --repeats, --batch-size and --threads must be at least 1")
    names = METHODS if args.methods == "all" else [m for m in METHODS if m in args.methods.split(",")]
    unknown = set(args.methods.split(",")) - set(METHODS) - {"all"}
    if unknown:
        sys.exit(f"unknown methods {sorted(unknown)}; known: {','.join(METHODS)}")

    # Captum warns each call that it switched on the input's gradient; that is expected here.
    warnings.filterwarnings("ignore", message=".*did not already require gradients.*")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    x, bg = load_data(args, device)
    model = LstmAe().to(device).eval()
    f = Counted(model)
    mask = torch.arange(SENSORS, device=device).expand(STEPS, SENSORS).unsqueeze(0).contiguous()
    ks_model, ks_fit = sklearn_like_linear_regression()
    floor = Floor(model, x, args.batch_size)
    w = args.windows
    print(
        f"captum_bench: captum {captum.__version__}, torch {torch.__version__}, {device}, "
        f"{torch.get_num_threads()} thread(s), {w} window(s), Kernel SHAP fit: {ks_fit}, "
        f"best of {args.repeats} after a warm-up",
        file=sys.stderr,
    )
    table = [
        "| method | ppe | fwd/window | bwd/window | s | ms/window | floor s | ratio | cpu ratio | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        if name in PERTURBATION:
            batched = args.batch_size if name == "kernel_shap" else max(1, args.batch_size // w)
            ppes = {"default": [1], "batched": [batched], "both": [1, batched]}[args.ppe]
        else:
            ppes = [None]
        for ppe in ppes:
            run = make_runner(name, f, x, bg, mask, ppe, ks_model)
            # The residual calls the model directly (one pass), not through the counter.
            fixed = 1 if name == "residual" else None
            load = os.getloadavg()[0]
            fwd, bwd, t = measure(args.repeats, device, floor, w, f, run, fixed)
            wall = {k: [a for a, _ in v] for k, v in t.items()}
            cpu = {k: [b for _, b in v] for k, v in t.items()}
            seconds, median = min(wall["method"]), statistics.median(wall["method"])
            floor_forward = min(wall["forward"])
            if t["backward"]:
                floor_backward = min(wall["backward"])
                floor_s = floor_backward + min(wall["extra_forward"])
                floor_cpu = min(cpu["backward"]) + min(cpu["extra_forward"])
            else:
                floor_backward, floor_s, floor_cpu = None, floor_forward, min(cpu["forward"])
            record = {
                "library": f"captum {captum.__version__}",
                "torch": torch.__version__,
                "method": name,
                "perturbations_per_eval": ppe,
                "model": f"lstm_ae(F={SENSORS}, T={STEPS}, H={HIDDEN}, 2+2 layers)",
                "device": str(device),
                "threads": torch.get_num_threads(),
                "windows": w,
                "forward_evals_per_window": fwd,
                "backward_evals_per_window": bwd,
                "repeats": args.repeats,
                "seconds": seconds,
                "seconds_median": median,
                "ms_per_window": 1e3 * seconds / w,
                "floor_forward_seconds": floor_forward,
                "floor_backward_seconds": floor_backward,
                "floor_seconds": floor_s,
                "ratio": seconds / floor_s,
                "cpu_seconds": min(cpu["method"]),
                "floor_cpu_seconds": floor_cpu,
                "cpu_ratio": min(cpu["method"]) / floor_cpu if floor_cpu > 0 else None,
                "load_average": load,
            }
            print(json.dumps(record), flush=True)
            table.append(
                f"| {name} | {ppe if ppe is not None else '-'} | {fwd:g} | {bwd:g} | {seconds:.3f} | "
                f"{record['ms_per_window']:.1f} | {floor_s:.3f} | {record['ratio']:.2f} | "
                f"{'-' if record['cpu_ratio'] is None else format(record['cpu_ratio'], '.2f')} | {load:.1f} |"
            )
    print("\n".join(table), file=sys.stderr)


if __name__ == "__main__":
    main()
