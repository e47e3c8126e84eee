#!/usr/bin/env python3
"""Captum 0.9's KernelShap against the Shapley values, on the games that
`benches/examples/kernel_shap_accuracy.rs` exports (the harness in
`benches/src/shapley/`), at the same budgets and seeds.

Usage (the cached cross-check virtualenv; see docs/performance.md):

    cargo run --release -p anomaly-xai-bench --example kernel_shap_accuracy -- \\
        --out target/kernel_shap_accuracy
    env -u LD_LIBRARY_PATH ~/.cache/anomaly-xai/torch-2.13.0-cuda/bin/python \\
        xtask/bench/kernel_shap_curve.py target/kernel_shap_accuracy

Each game in DIR/games/ holds, per explained sample, the input `x`, its baseline and the
feature mask `ids` (group of every cell). Captum's `KernelShap` runs unchanged with that
input, baseline and mask, on one of two forward functions:

* games with at most 16 groups (`"truth": "exact"`) also hold the value `v(z)` of all 2^M
  coalitions (bit g of the index is group g; computed by the Rust model on
  `where(z, x, baseline)`) and the exact Shapley values. The forward function reads each
  perturbed input's coalition off its cells (a cell nearer the input's value than the
  baseline's is present) and returns the tabulated value: Captum sees exactly the Rust
  model's values, as ours does, and thousands of runs stay cheap;
* larger games (`"truth": "reference"`) hold the model's weights (NAME.model.safetensors)
  and reference Shapley values. The model is rebuilt in PyTorch (the tanh network, the
  dense autoencoder layer for layer, or the LSTM autoencoder of
  xtask/crosscheck/captum_check.py), checked against the Rust model's outputs on `x`, and
  evaluated by Captum.

Captum's surrogate is fitted with scikit-learn's LinearRegression, or the same algorithm
in numpy when scikit-learn is absent (as in xtask/crosscheck/captum_check.py).

Error: ||phi_hat - phi||_2 / ||phi||_2 per sample, averaged over samples and seeds (torch
seed = the seed index), and the share of the three largest true values among the three
largest estimates. Evaluations: the rows Captum fed the forward function per sample (it
evaluates repeated coalitions again). Writes DIR/captum.json and DIR/captum.csv with the
rows of ours.json's schema (estimator "captum"); rows of games not run this time are kept.
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
from captum_check import LstmAe, scorer, sklearn_like_linear_regression  # noqa: E402


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


def rebuild(meta, weights):
    """The game's model as a forward function [S, ..] -> [S], in double precision."""
    kind = meta["kind"]
    if kind == "mlp":
        w, b, a = weights["w"], weights["b"], weights["a"]
        return lambda x: torch.tanh(x.double() @ w + b) @ a
    if kind == "dense_ae":
        k = meta["layers"]
        layers = [(weights[f"encoder.{i}.weight"], weights[f"encoder.{i}.bias"]) for i in range(k)]
        layers += [(weights[f"decoder.{i}.weight"], weights[f"decoder.{i}.bias"]) for i in range(k)]

        def dense(x):
            h = x
            for i, (wi, bi) in enumerate(layers):
                h = torch.nn.functional.linear(h, wi, bi)
                if i + 1 < len(layers):
                    h = torch.relu(h)
            return (x - h).abs().flatten(1).mean(1).double()

        return dense
    if kind == "lstm_ae":
        model = LstmAe(meta["n_features"], meta["window"], meta["hidden"], meta["layers"])
        model.load_state_dict(weights, strict=True)
        model.eval()
        f = scorer(model)
        return lambda x: f(x).double()
    raise ValueError(f"unknown model kind {kind}")


def captum_run(f, x, baseline, mask, budget, seed, model):
    torch.manual_seed(seed)
    ks = KernelShap(f)
    ks.interpretable_model = model
    with torch.no_grad():
        return ks.attribute(
            x, baselines=baseline, feature_mask=mask, n_samples=budget,
            perturbations_per_eval=min(budget, 512),
        )


def measure(name, root, budgets, seeds, model):
    meta = json.loads((root / f"{name}.json").read_text())
    data = load_file(root / f"{name}.safetensors")
    x, baseline, ids = data["x"], data["baseline"], data["ids"]
    m, samples = meta["groups"], x.shape[0]
    mask = ids.unsqueeze(0)
    if meta.get("truth", "exact") == "exact":
        truth = data["exact"]
        lookups = [Lookup(x[i], baseline[i], ids, data["values"][i]) for i in range(samples)]

        def run(budget, seed):
            out = []
            for i, f in enumerate(lookups):
                f.rows = 0
                attr = captum_run(f, x[i : i + 1], baseline[i : i + 1], mask, budget, seed, model)
                out.append((group_values(attr, ids, m), f.rows))
            return out
    else:
        truth = data["reference"]
        forward = rebuild(meta["model"], load_file(root / f"{name}.model.safetensors"))
        with torch.no_grad():
            gap = ((forward(x) - data["f_x"]).abs().max() / data["f_x"].abs().max()).item()
        if gap > 1e-5:
            raise SystemExit(f"{name}: the PyTorch model differs from the Rust one by {gap:.2e}")
        print(f"{name}: PyTorch model reproduces the Rust outputs to {gap:.1e}", file=sys.stderr)
        counter = {"rows": 0}

        def counted(inp):
            counter["rows"] += inp.shape[0]
            return forward(inp)

        def run(budget, seed):
            counter["rows"] = 0
            attr = captum_run(counted, x, baseline, mask, budget, seed, model)
            per_sample = counter["rows"] / samples
            return [(group_values(attr[i : i + 1], ids, m), per_sample) for i in range(samples)]

    rows = []
    for budget in budgets:
        per_seed, evals, agree = [], 0.0, 0.0
        for seed in range(seeds):
            err = 0.0
            for i, (phi, n) in enumerate(run(budget, seed)):
                exact = truth[i]
                err += (torch.linalg.norm(phi - exact) / torch.linalg.norm(exact)).item()
                agree += top3(phi, exact)
                evals += n
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
    p.add_argument("--budgets", default=None,
                   help="comma-separated (default: those of ours.json for each game)")
    p.add_argument("--games", default=None, help="comma-separated names (default: all in DIR/games)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning, module="captum")
    root = args.dir / "games"
    names = args.games.split(",") if args.games else sorted(
        f.stem for f in root.glob("*.json") if not f.stem.endswith(".model"))
    if not names:
        print(f"no games in {root}: run the kernel_shap_accuracy example first", file=sys.stderr)
        return 2
    ours = json.loads((args.dir / "ours.json").read_text()) if (args.dir / "ours.json").exists() else {"rows": []}
    model, fit = sklearn_like_linear_regression()
    print(f"captum {captum.__version__}, torch {torch.__version__}; surrogate fit: {fit}", file=sys.stderr)
    path = args.dir / "captum.json"
    old = json.loads(path.read_text()) if path.exists() else {"games": [], "rows": []}
    games = [g for g in old["games"] if g["name"] not in names]
    rows = [r for r in old["rows"] if r["game"] not in names]
    for name in names:
        if args.budgets:
            budgets = [int(b) for b in args.budgets.split(",")]
        else:
            budgets = sorted({r["budget"] for r in ours["rows"] if r["game"] == name}) or [50, 100, 200, 300, 500, 1000, 2000]
        start = time.time()
        meta, r = measure(name, root, budgets, args.seeds, model)
        print(f"{name}: {time.time() - start:.0f} s", file=sys.stderr)
        games.append({k: meta[k] for k in ("name", "groups", "samples", "description")})
        rows.extend(r)
        # Written after every game, so that a long run keeps what it has measured.
        out = {"source": f"captum {captum.__version__}", "games": games, "rows": rows}
        path.write_text(json.dumps(out, indent=2))
        cols = ["game", "estimator", "budget", "evals", "rel_error", "rel_error_se", "top3", "seeds", "samples"]
        lines = [",".join(cols)] + [",".join(str(r[c]) for c in cols) for r in rows]
        (args.dir / "captum.csv").write_text("\n".join(lines) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
