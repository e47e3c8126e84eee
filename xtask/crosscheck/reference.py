"""PyTorch twins of the workspace's models and the helpers the reference scripts share.

Imported by `make_fixtures.py` (the parity fixtures) and `xtask/bench/captum_bench.py`:

* `Reshape`: ae-models' `Layer::Reshape` (every sample to a shape, batch kept);
* `LstmAe`: ae-models' `LstmAe` without a latent projection (encoder LSTMs, last step,
  repeat, decoder LSTMs, linear read-out), parameter names as in its `state_dict`;
* `sklearn_like_linear_regression`: Captum's Kernel SHAP surrogate fit, scikit-learn's
  `LinearRegression` when scikit-learn is installed, else the same algorithm in numpy.
"""

import numpy as np
import torch
from torch import nn


class Reshape(nn.Module):
    """lrp-ae's Reshape layer: every sample to `shape`, batch dimension kept."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)


class LstmAe(nn.Module):
    """ae-models' LstmAe without a latent projection: encoder LSTMs, last step, repeat,
    decoder LSTMs, linear read-out."""

    def __init__(self, n_features, window, hidden, encoder_layers, decoder_layers=None):
        super().__init__()
        self.window = window
        self.encoder = nn.LSTM(n_features, hidden, encoder_layers, batch_first=True)
        self.decoder = nn.LSTM(hidden, hidden, decoder_layers or encoder_layers, batch_first=True)
        self.output = nn.Linear(hidden, n_features)

    def forward(self, x):
        h, _ = self.encoder(x)
        z = h[:, -1, :].unsqueeze(1).repeat(1, self.window, 1)
        d, _ = self.decoder(z)
        return self.output(d)


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
