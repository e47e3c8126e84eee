"""Compare lrp-ae's relevance with Zennit 0.5.1 on the same weights, inputs and output relevance.

Usage: python zennit_check.py DIR

DIR/zennit/ holds, per model, a JSON description and a safetensors file written by the ignored
tests `crosscheck_*` of crates/lrp-ae/tests/crosscheck.rs. This script rebuilds each model in
PyTorch (float64), assigns to every layer the Zennit rule that lrp-ae used for it (by module
name, so presets with per-layer fallbacks compare exactly), feeds lrp-ae's output-layer
relevance (the Deep-Taylor reconstruction seed, which Zennit has no rule for) as `attr_output`,
and compares the input relevance. Exit status 1 when any case differs by more than 1e-4
(max |ours - zennit| / max |zennit|), or when the rebuilt model's output differs.
"""

import json
import re
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from zennit.attribution import Gradient
from zennit.composites import NameMapComposite
from zennit.rules import Epsilon, Flat, Gamma, Pass, WSquare, ZBox, ZPlus

TOLERANCE = 1e-4


class Reshape(torch.nn.Module):
    """lrp-ae's Reshape layer: every sample to `shape`, batch dimension kept."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)


def build(layers, tensors):
    modules = []
    for i, spec in enumerate(layers):
        kind = spec["kind"]
        if kind == "linear":
            m = torch.nn.Linear(spec["in"], spec["out"], bias=spec["bias"], dtype=torch.float64)
        elif kind == "conv2d":
            m = torch.nn.Conv2d(
                spec["in"],
                spec["out"],
                tuple(spec["kernel"]),
                stride=tuple(spec["stride"]),
                padding=tuple(spec["padding"]),
                bias=spec["bias"],
                dtype=torch.float64,
            )
        elif kind == "relu":
            m = torch.nn.ReLU()
        elif kind == "upsample":
            m = torch.nn.Upsample(scale_factor=spec["scale"], mode="nearest")
        elif kind == "reshape":
            m = Reshape(spec["shape"])
        else:
            raise ValueError(f"layer {i}: unknown kind {kind}")
        if kind in ("linear", "conv2d"):
            with torch.no_grad():
                m.weight.copy_(tensors[f"layer{i}.weight"])
                if spec["bias"]:
                    m.bias.copy_(tensors[f"layer{i}.bias"])
        modules.append(m)
    return torch.nn.Sequential(*modules).eval()


def zennit_rule(name):
    """The Zennit rule for one of lrp-ae's rule names."""
    if name == "z+":
        return ZPlus()
    if name == "w2":
        return WSquare()
    if name == "flat":
        return Flat()
    if name == "pass":
        return Pass()
    m = re.fullmatch(r"epsilon\((.+)\)", name)
    if m:
        return Epsilon(epsilon=float(m.group(1)))
    m = re.fullmatch(r"gamma\((.+)\)", name)
    if m:
        return Gamma(gamma=float(m.group(1)))
    m = re.fullmatch(r"z-box\[(.+), (.+)\]", name)
    if m:
        return ZBox(low=float(m.group(1)), high=float(m.group(2)))
    raise ValueError(f"no Zennit counterpart for rule {name!r}")


def check_model(meta_path):
    meta = json.loads(meta_path.read_text())
    tensors = load_file(str(meta_path.with_suffix(".safetensors")))
    model = build(meta["layers"], tensors)
    x = tensors["input"]
    rows = []
    for case in meta["cases"]:
        name = case["name"]
        ours = tensors[f"{name}.relevance"]
        r_out = tensors[f"{name}.output_relevance"]
        with torch.no_grad():
            out_diff = (model(x) - tensors[f"{name}.reconstruction"]).abs().max().item()
        # Zennit rules only on layers with a rule of their own; routing layers (upsample,
        # reshape) have no hook, so plain autograd moves relevance as lrp-ae's pass does.
        name_map = [
            ((str(i),), zennit_rule(rule))
            for i, (rule, spec) in enumerate(zip(case["rules"], meta["layers"]))
            if spec["kind"] in ("linear", "conv2d", "relu")
        ]
        composite = NameMapComposite(name_map=name_map)
        inp = x.clone().requires_grad_(True)
        with Gradient(model=model, composite=composite) as attributor:
            _, theirs = attributor(inp, attr_output=r_out)
        abs_diff = (ours - theirs).abs().max().item()
        scale = max(theirs.abs().max().item(), 1e-300)
        rel = abs_diff / scale
        ok = rel <= TOLERANCE and out_diff <= 1e-9
        rows.append((meta["model"], name, ",".join(sorted(set(case["rules"]))), abs_diff, rel, ok))
    return rows


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(sys.argv[1]) / "zennit"
    metas = sorted(root.glob("*.json"))
    if not metas:
        print(f"no fixtures in {root}: run the crosscheck_* tests of lrp-ae first", file=sys.stderr)
        return 1
    rows = [row for meta in metas for row in check_model(meta)]
    print(f"{'model':6} {'case':18} {'rules':34} {'max |diff|':>11} {'max rel':>10}  ok")
    for model, case, rules, abs_diff, rel, ok in rows:
        print(f"{model:6} {case:18} {rules:34} {abs_diff:11.3e} {rel:10.3e}  {'yes' if ok else 'NO'}")
    failed = [r for r in rows if not r[5]]
    if failed:
        print(f"zennit cross-check: {len(failed)} of {len(rows)} cases differ by more than {TOLERANCE}")
        return 1
    print(f"zennit cross-check: all {len(rows)} cases within {TOLERANCE} (torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
