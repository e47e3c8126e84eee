#!/usr/bin/env python3
"""Merge the JSON lines of `benches/examples/bench_methods.rs` and `xtask/bench/captum_bench.py`
into the markdown table of docs/performance.md.

Usage (standard library only):

    python3 xtask/bench/compare.py --rust rust_r1.jsonl rust_r2.jsonl \
        --captum captum_r1.jsonl captum_r2.jsonl

Several files per side are several rounds of the same benchmark, run in turns: for every
method (and Captum batch setting) the round with the lowest time is kept, with the ratio
to the floor measured in that same round, so that a burst of load on a shared machine
during one round does not count. Every file must have the same thread count and windows.
"""

import argparse
import json
import sys


def best_rows(paths, key):
    """The fastest row per key over every file, and the (threads, windows) they share."""
    best, setting = {}, set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                row = json.loads(line)
                setting.add((row["threads"], row["windows"]))
                k = key(row)
                if k not in best or row["seconds"] < best[k]["seconds"]:
                    best[k] = row
    if len(setting) > 1:
        sys.exit(f"compare.py: the files mix settings (threads, windows): {sorted(setting)}")
    return best, setting


def fmt_s(x):
    return f"{x:.3f}" if x >= 0.01 else f"{x:.4f}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rust", nargs="+", required=True, help="bench_methods JSON lines")
    p.add_argument("--captum", nargs="+", required=True, help="captum_bench JSON lines")
    args = p.parse_args()

    rust, rs = best_rows(args.rust, lambda r: r["method"])
    captum, cs = best_rows(args.captum, lambda r: (r["method"], r.get("perturbations_per_eval")))
    if rs != cs:
        sys.exit(f"compare.py: Rust {sorted(rs)} and Captum {sorted(cs)} differ in (threads, windows)")
    (threads, windows), = rs

    print(f"{threads} thread(s), {windows} windows; seconds per call (best round), "
          "ratio = seconds / floor of the same run")
    print()
    print("| method | evals/window (ours / Captum) | ours s | ours ratio "
          "| Captum s, ppe 1 | ratio | Captum s, batched | ratio | ours vs Captum default | ours vs Captum batched |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rust.items():
        default = captum.get((name, 1)) or captum.get((name, None))
        batched = next(
            (c for (m, ppe), c in captum.items() if m == name and ppe not in (None, 1)), None
        )
        evals = f"{r['forward_evals_per_window']}"
        if r["backward_evals_per_window"]:
            evals += f"+{r['backward_evals_per_window']}b"
        if default:
            evals += f" / {default['forward_evals_per_window']:.0f}"
            if default["backward_evals_per_window"]:
                evals += f"+{default['backward_evals_per_window']:.0f}b"
        else:
            evals += " / -"
        cells = [name, evals, fmt_s(r["seconds"]), f"{r['ratio']:.2f}"]
        for c in (default, batched):
            cells += [fmt_s(c["seconds"]), f"{c['ratio']:.2f}"] if c else ["-", "-"]
        for c in (default, batched):
            cells.append(f"{c['seconds'] / r['seconds']:.2f}x" if c else "-")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
