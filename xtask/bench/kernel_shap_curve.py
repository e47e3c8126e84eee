#!/usr/bin/env python3
"""Captum 0.9's KernelShap against exact Shapley values, on the games that
`crates/xai-attrib/examples/kernel_shap_accuracy.rs` exports, at the same budgets and seeds.

Usage (the cached cross-check virtualenv; see docs/performance.md):

    cargo run --release -p xai-attrib --example kernel_shap_accuracy -- --out target/kernel_shap_accuracy
    env -u LD_LIBRARY_PATH ~/.cache/anomaly-xai/torch-2.13.0-cuda/bin/python \\
        xtask/bench/kernel_shap_curve.py target/kernel_shap_accuracy

Each game in DIR/games/ holds, per explained sample, the input `x`, its baseline, the
feature mask `ids` (group of every cell), the value `v(z)` of all 2^M coalitions (bit g
of the index is group g; computed by the Rust model on `where(z, x, baseline)`) and the
exact Shapley values. Captum's `KernelShap` runs unchanged with that input, baseline and
mask; its forward function reads each perturbed input's coalition off its cells (a cell
equal to the input's value is present) and returns the tabulated value, so Captum sees
exactly the Rust model's values, as ours does, and thousands of runs stay cheap.
Captum's surrogate is fitted with scikit-learn's LinearRegression, or the same algorithm
in numpy when scikit-learn is absent (as in xtask/crosscheck/captum_check.py).

Error: ||phi_hat - phi||_2 / ||phi||_2 per sample, averaged over samples and seeds (torch
seed = the seed index), and the share of the three largest exact values among the three
largest estimates. Evaluations: the rows Captum fed the forward function per sample (it
evaluates repeated coalitions again). Writes DIR/captum.json and DIR/captum.csv with the
rows of ours.json's schema (estimator "captum").
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

import captum
from captum.attr import KernelShap

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "xtask" / "crosscheck"))
from captum_check import sklearn_like_linear_regression  # noqa: E402


class Lookup:
    """The tabulated game of one sample as a forward function, counting the rows it scores."""

    def __init__(self, x, baseline, ids, values):
        flat_x, flat_b, flat_ids = x.flatten(), baseline.flatten(), ids.flatten()
        m = int(flat_ids.max()) + 1
        cells, weights = [], []
        for g in range(m):
            # One cell per group where input and baseline differ; a group equal to its
            # baseline everywhere does not change the value.
            where = torch.nonzero((flat_ids == g) & (flat_x != flat_b)).flatten()
            if len(where):
                cells.append(int(where[0]))
                weights.append(1 << g)
        self.cells = torch.tensor(cells, dtype=torch.long)
        self.weights = torch.tensor(weights, dtype=torch.long)
        self.x_cells = flat_x[self.cells]
        self.b_cells = flat_b[self.cells]
        self.values = values
        self.rows = 0

    def __call__(self, inp):
        self.rows += inp.shape[0]
        at = inp.reshape(inp.shape[0], -1)[:, self.cells]
        present = (at - self.x_cells).abs() < (at - self.b_cells).abs()
        index = (present.long() * self.weights).sum(1)
        return self.values[index]


def group_values(attr, ids, m):
    flat, flat_ids = attr.flatten().double(), ids.flatten()
    return torch.stack([flat[torch.nonzero(flat_ids == g)[0, 0]] for g in range(m)])


def top3(est, exact):
    a = set(torch.argsort(est, descending=True)[:3].tolist())
    b = torch.argsort(exact, descending=True)[:3].tolist()
    return sum(g in a for g in b) / len(b)


def measure(name, root, budgets, seeds, model):
    meta = json.loads((root / f"{name}.json").read_text())
    data = load_file(root / f"{name}.safetensors")
    x, baseline, ids, values, exact = (data[k] for k in ("x", "baseline", "ids", "values", "exact"))
    m, samples = meta["groups"], x.shape[0]
    lookups = [Lookup(x[i], baseline[i], ids, values[i]) for i in range(samples)]
    mask = ids.unsqueeze(0)
    rows = []
    for budget in budgets:
        per_seed, evals, agree = [], 0.0, 0.0
        for seed in range(seeds):
            err = 0.0
            for i, f in enumerate(lookups):
                torch.manual_seed(seed)
                ks = KernelShap(f)
                ks.interpretable_model = model
                f.rows = 0
                attr = ks.attribute(
                    x[i : i + 1],
                    baselines=baseline[i : i + 1],
                    feature_mask=mask,
                    n_samples=budget,
                    perturbations_per_eval=min(budget, 512),
                )
                phi = group_values(attr, ids, m)
                err += (torch.linalg.norm(phi - exact[i]) / torch.linalg.norm(exact[i])).item()
                agree += top3(phi, exact[i])
                evals += f.rows
            per_seed.append(err / samples)
        per_seed = np.array(per_seed)
        runs = seeds * samples
        rows.append(
            {
                "game": name,
                "estimator": "captum",
                "budget": budget,
                "evals": evals / runs,
                "rel_error": float(per_seed.mean()),
                "rel_error_se": float(per_seed.std(ddof=1) / np.sqrt(seeds)) if seeds > 1 else 0.0,
                "top3": agree / runs,
                "seeds": seeds,
                "samples": samples,
            }
        )
        print(f"{name:<22} budget {budget:>5}: rel. error {rows[-1]['rel_error']:.4f} "
              f"(+- {rows[-1]['rel_error_se']:.4f}), top-3 {rows[-1]['top3']:.3f}, "
              f"{rows[-1]['evals']:.0f} evaluations", file=sys.stderr, flush=True)
    return meta, rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir", type=Path, help="the --out directory of kernel_shap_accuracy")
    p.add_argument("--seeds", type=int, default=50)
    p.add_argument("--budgets", default="50,100,200,300,500,1000,2000")
    p.add_argument("--games", default=None, help="comma-separated names (default: all in DIR/games)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning, module="captum")
    root = args.dir / "games"
    names = args.games.split(",") if args.games else sorted(f.stem for f in root.glob("*.json"))
    if not names:
        print(f"no games in {root}: run the kernel_shap_accuracy example first", file=sys.stderr)
        return 2
    budgets = [int(b) for b in args.budgets.split(",")]
    model, fit = sklearn_like_linear_regression()
    print(f"captum {captum.__version__}, torch {torch.__version__}; surrogate fit: {fit}", file=sys.stderr)
    games, rows = [], []
    for name in names:
        start = time.time()
        meta, r = measure(name, root, budgets, args.seeds, model)
        print(f"{name}: {time.time() - start:.0f} s", file=sys.stderr)
        games.append({k: meta[k] for k in ("name", "groups", "samples", "description")})
        rows.extend(r)
    out = {"source": f"captum {captum.__version__}", "games": games, "rows": rows}
    (args.dir / "captum.json").write_text(json.dumps(out, indent=2))
    cols = ["game", "estimator", "budget", "evals", "rel_error", "rel_error_se", "top3", "seeds", "samples"]
    lines = [",".join(cols)] + [",".join(str(r[c]) for c in cols) for r in rows]
    (args.dir / "captum.csv").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.dir / 'captum.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
