#!/usr/bin/env python3
"""Train and export the TorchScript detectors that the Rust side loads with `tch::CModule`.

Usage (what `cargo xtask torchscript` runs, with the cross-check venv's python and
`env -u LD_LIBRARY_PATH`, so that Python loads its own libtorch):

    make_models.py ROOT        write every file below under the repository root ROOT

Files (all small enough to commit; sizes in the comments of `main`):

* `examples/models/machine-1-2-lstm-ae.pt` (+ `.json`): paper 1's LSTM autoencoder (2+2
  LSTM layers of 64 units) trained in PyTorch on the embedded SMD machine
  (`data/smd/machine-1-2`) with the protocol of `anomaly_xai_repro::PreparedMachine`:
  min-max scaling fitted on the training half, windows of 50 with stride 10, the last 20 %
  of the windows for validation, L1 loss, Adam 1e-3, batches of 64, gradient-norm clipping
  at 5, at most 20 epochs with patience 3 and the best epoch's weights restored. It is what
  `examples/torchscript_detector.rs` localizes.
* `tests/fixtures/torchscript/lstm_ae_identity.pt` + `.safetensors`: a small LSTM
  autoencoder (38 sensors, windows of 50, 2+2 layers of 16 units) trained for 3 epochs the
  same way, as TorchScript and as its `state_dict` under the names of `ae_models::LstmAe`.
  `tests/torchscript_detector.rs` builds the native model from the safetensors file and
  checks that both give the same localization tables.
* `crates/ae-models/tests/fixtures/torchscript/`: tiny modules for the adapter's own tests:
  `tiny_ae` and `tiny_forecaster` (seeded weights, TorchScript + safetensors with the native
  names), `wrong_shape.pt` (drops the last step), `nan.pt` (NaN in one cell), `tuple.pt`
  (returns a tuple).

Every LSTM layer is its own `nn.LSTM(num_layers=1, batch_first=True)`, so that the module
runs the same ATen op (`aten::lstm`, one layer, zero initial state) as a `Layer::Lstm` of
`ae-models`; the bottleneck is the last step of the top encoder layer, repeated over the
window (`select` + `unsqueeze` + `repeat`), and the read-out an `nn.Linear` (`aten::linear`).
The state dict is renamed from `encoder.K.weight_ih_l0` (one module per layer) to
`encoder.weight_ih_lK` (PyTorch's stacked `nn.LSTM` names, which `ae-models` uses).

Runs single-threaded on the CPU, seeded: every run trains the same weights (the
safetensors files and every tensor inside the `.pt` files come out equal; the `.pt` archives
themselves differ in a serialization id and the mangled names of the scripted code).
"""

import json
import lzma
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn


class LstmAe(nn.Module):
    """Paper 1's LSTM autoencoder, one `nn.LSTM` per layer."""

    def __init__(self, n_features: int, window: int, encoder_hidden, decoder_hidden):
        super().__init__()
        self.window = window
        sizes = [n_features] + list(encoder_hidden)
        self.encoder = nn.ModuleList(
            nn.LSTM(i, h, num_layers=1, batch_first=True) for i, h in zip(sizes, sizes[1:])
        )
        sizes = [encoder_hidden[-1]] + list(decoder_hidden)
        self.decoder = nn.ModuleList(
            nn.LSTM(i, h, num_layers=1, batch_first=True) for i, h in zip(sizes, sizes[1:])
        )
        self.output = nn.Linear(decoder_hidden[-1], n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.encoder:
            x, _ = layer(x)
        z = x.select(1, -1)
        x = z.unsqueeze(1).repeat(1, self.window, 1)
        for layer in self.decoder:
            x, _ = layer(x)
        return self.output(x)


class LstmForecaster(nn.Module):
    """`ae_models::LstmForecaster`: LSTM layers over the context, the last step's state
    read out linearly to `horizon` steps."""

    def __init__(self, n_features: int, horizon: int, hidden):
        super().__init__()
        self.horizon = horizon
        self.n_features = n_features
        sizes = [n_features] + list(hidden)
        self.encoder = nn.ModuleList(
            nn.LSTM(i, h, num_layers=1, batch_first=True) for i, h in zip(sizes, sizes[1:])
        )
        self.output = nn.Linear(hidden[-1], horizon * n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.encoder:
            x, _ = layer(x)
        y = self.output(x.select(1, -1))
        return y.reshape(y.size(0), self.horizon, self.n_features)


class WrongShape(nn.Module):
    """Drops the last time step: an output shape that does not match the input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :-1]


class NanCell(nn.Module):
    """Reconstructs perfectly except for one NaN in the last cell of every sample."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.clone()
        y[:, -1, -1] = float("nan")
        return y


class TupleOut(nn.Module):
    """Returns a tuple instead of one tensor."""

    def forward(self, x: torch.Tensor):
        return x, x


def native_names(state_dict):
    """`encoder.K.weight_ih_l0` -> `encoder.weight_ih_lK` (ae-models' names); the rest as is."""
    out = {}
    for name, t in state_dict.items():
        parts = name.split(".")
        if parts[0] in ("encoder", "decoder") and len(parts) == 3:
            k, p = parts[1], parts[2]
            name = f"{parts[0]}.{p[: -len('l0')]}l{k}"
        out[name] = t.detach().contiguous().clone()
    return out


def read_series(path: Path) -> np.ndarray:
    with lzma.open(path, "rt") if path.suffix == ".xz" else open(path) as f:
        rows = [list(map(float, line.split(","))) for line in f if line.strip()]
    return np.asarray(rows, dtype=np.float32)


def smd_windows(root: Path, window: int, stride: int) -> np.ndarray:
    """The training windows of `PreparedMachine`: min-max scaling fitted on the training half
    (a constant column gets range 1), windows of `window` steps every `stride` steps."""
    train = read_series(root / "data/smd/train/machine-1-2.txt.xz")
    lo = train.min(axis=0)
    rng = train.max(axis=0) - lo
    rng = np.where((rng > 0) & np.isfinite(rng), rng, 1.0).astype(np.float32)
    scaled = ((train - lo) / rng).astype(np.float32)
    n = (len(scaled) - window) // stride + 1
    return np.stack([scaled[k * stride : k * stride + window] for k in range(n)])


def train(model, windows: np.ndarray, epochs: int, patience: int, seed: int) -> dict:
    """The `ae_models::train::train` protocol (defaults): Adam 1e-3 (betas 0.9/0.999, eps
    1e-8), batches of 64, the last 20 % of the windows (in order) for validation, L1 loss,
    gradient-norm clipping at 5, early stopping with the best epoch's weights restored."""
    x = torch.from_numpy(windows)
    n = len(x)
    n_val = int(n * 0.2)
    n_train = n - n_val
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    gen = torch.Generator().manual_seed(seed)
    best, best_state, since, history = float("inf"), None, 0, []
    start = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(n_train, generator=gen)
        total = 0.0
        for b in range(0, n_train, 64):
            batch = x[order[b : b + 64]]
            opt.zero_grad()
            loss = (model(batch) - batch).abs().mean()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            val = sum(
                (model(x[b : min(b + 64, n)]) - x[b : min(b + 64, n)]).abs().mean().item()
                * (min(b + 64, n) - b)
                for b in range(n_train, n, 64)
            ) / n_val
        history.append({"epoch": epoch, "train": total / n_train, "val": val})
        print(f"  epoch {epoch}: train {total / n_train:.6f}, val {val:.6f}", file=sys.stderr)
        if val < best:
            best, since = val, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            since += 1
            if since >= patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return {
        "windows": n,
        "train_windows": n_train,
        "val_windows": n_val,
        "epochs_run": len(history),
        "best_val_loss": best,
        "history": history,
        "seconds": time.time() - start,
    }


def export(model: nn.Module, path: Path, state_dict: bool):
    """Saves `model` as TorchScript (and, when asked, its renamed state dict beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    torch.jit.script(model).save(str(path))
    if state_dict:
        save_file(native_names(model.state_dict()), str(path.with_suffix(".safetensors")))
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)


def main(root: Path):
    torch.set_num_threads(1)
    windows = smd_windows(root, 50, 10)

    # The example's detector: paper 1's sizes. About 0.5 MB of weights.
    torch.manual_seed(0)
    ae = LstmAe(38, 50, [64, 64], [64, 64])
    print("training the example's LSTM autoencoder (hidden 64)", file=sys.stderr)
    summary = train(ae, windows, epochs=20, patience=3, seed=0)
    pt = root / "examples/models/machine-1-2-lstm-ae.pt"
    export(ae, pt, state_dict=False)
    meta = {
        "what": "LSTM autoencoder (2+2 layers of 64) trained in PyTorch on SMD machine-1-2",
        "made_by": "xtask/torchscript/make_models.py",
        "torch": torch.__version__,
        "sample_shape": [50, 38],
        "preprocessing": "min-max fitted on the training half (constant column: range 1); "
        "test clipped to [-3, 3]; windows of 50, training stride 10",
        "training": summary,
    }
    pt.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")

    # The identity fixture: small, briefly trained. About 45 KB of weights.
    torch.manual_seed(1)
    small = LstmAe(38, 50, [16, 16], [16, 16])
    print("training the identity fixture (hidden 16, 3 epochs)", file=sys.stderr)
    train(small, windows, epochs=3, patience=3, seed=1)
    export(small, root / "tests/fixtures/torchscript/lstm_ae_identity.pt", state_dict=True)

    # The adapter's own fixtures: a few KB each.
    fixtures = root / "crates/ae-models/tests/fixtures/torchscript"
    torch.manual_seed(2)
    export(LstmAe(4, 6, [5], [5]), fixtures / "tiny_ae.pt", state_dict=True)
    torch.manual_seed(3)
    export(LstmForecaster(3, 2, [5, 4]), fixtures / "tiny_forecaster.pt", state_dict=True)
    export(WrongShape(), fixtures / "wrong_shape.pt", state_dict=False)
    export(NanCell(), fixtures / "nan.pt", state_dict=False)
    export(TupleOut(), fixtures / "tuple.pt", state_dict=False)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
