"""Normalization layers (batch, layer, instance, group normalization).

Every one of them standardizes x over some axes and then scales and shifts it
per channel (or per feature):

    mu = mean(x),  var = mean((x - mu)^2)      (biased: divided by M, the count)
    xhat = (x - mu) / sqrt(var + eps)
    y = gamma * xhat + beta

They differ only in the axes the statistics are taken over:
    BatchNorm     over the batch and the spatial axes, per channel    (N, H, W)
    LayerNorm     over the trailing axes of gamma's shape, per sample
    InstanceNorm  over the spatial axes, per sample and channel       (H, W)
    GroupNorm     over a group of channels and the spatial axes, per sample

The backward pass of the standardization is the same for all of them:

    dxhat = dy * gamma
    dx = (1 / sqrt(var + eps)) * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))

(the two means run over the same axes as the statistics); and
dgamma = sum(dy * xhat), dbeta = sum(dy) over every axis but the channel's.
The variance is computed as mean((x - mu)^2), never as mean(x^2) - mu^2, which
loses every digit when |mu| is large compared with the spread.
"""
import numpy as np

from ._checks import float_array, dim_equals, upstream, require_forward, ShapeError
from .base import Layer

__all__ = ['BatchNorm', 'LayerNorm', 'InstanceNorm', 'GroupNorm']


def standardize(x, axes, eps):
    """xhat = (x - mean) / sqrt(biased var + eps) over `axes`; returns xhat, 1/std, mean, var."""
    mu = x.mean(axis=axes, keepdims=True)
    centered = x - mu
    var = (centered ** 2).mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    return centered * inv_std, inv_std, mu, var


def standardize_backward(dxhat, xhat, inv_std, axes):
    """dx = (1/std) (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), means over `axes`."""
    mean_dxhat = dxhat.mean(axis=axes, keepdims=True)
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=axes, keepdims=True)
    return inv_std * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat)


def _channel_view(v, ndim):
    """A per-channel vector (C,) shaped to broadcast over x (N, C, ...): (1, C, 1, ...)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class _ChannelNorm(Layer):
    """Shared set-up: gamma and beta, one per channel (axis 1 of x)."""

    def __init__(self, gamma, beta, eps=1e-5):
        gamma = float_array(self, "gamma", gamma, ndim=1)
        beta = float_array(self, "beta", beta, ndim=1)
        if beta.shape != gamma.shape:
            raise ShapeError(f"{type(self).__name__}: argument 'beta' must have shape "
                             f"{gamma.shape} (the shape of gamma), got {beta.shape}")
        super().__init__(gamma=gamma, beta=beta)
        self.eps = float(eps)

    def _check_x(self, x, min_ndim=2):
        x = float_array(self, "x", x, min_ndim=min_ndim)
        dim_equals(self, "x", x, 1, self.params["gamma"].shape[0], "one channel per gamma")
        return x

    def _scale_shift(self, xhat):
        """y = gamma xhat + beta, gamma and beta broadcast over channel axis 1."""
        p = self.params
        return _channel_view(p["gamma"], xhat.ndim) * xhat + _channel_view(p["beta"], xhat.ndim)

    def _scale_shift_backward(self, dout):
        """dgamma = sum(dy xhat), dbeta = sum(dy) over all but axis 1; returns dxhat = dy gamma."""
        others = (0,) + tuple(range(2, dout.ndim))
        self.grads["gamma"] = (dout * self.xhat).sum(axis=others)
        self.grads["beta"] = dout.sum(axis=others)
        return dout * _channel_view(self.params["gamma"], dout.ndim)


class BatchNorm(_ChannelNorm):
    """Batch normalization of x (N, C) or (N, C, H, W, ...), per channel (BatchNorm1d/2d).

    Training (the default): statistics of the batch, over every axis but the channel's,
    with the BIASED variance (divided by M, the number of values per channel); then the
    running statistics are updated as PyTorch does, with momentum m = 0.1 weighting the
    NEW batch and the UNBIASED variance (divided by M - 1):
        running_mean = (1 - m) running_mean + m mu
        running_var  = (1 - m) running_var  + m var * M / (M - 1)
    Evaluation (training=False): the running statistics are used as constants,
        y = gamma (x - running_mean) / sqrt(running_var + eps) + beta,
        dx = dy gamma / sqrt(running_var + eps).
    """

    def __init__(self, gamma, beta, eps=1e-5, momentum=0.1, running_mean=None,
                 running_var=None, training=True):
        super().__init__(gamma, beta, eps)
        c = self.params["gamma"].shape[0]
        self.momentum, self.training = float(momentum), bool(training)
        self.running_mean = self._running("running_mean", running_mean, np.zeros(c))
        self.running_var = self._running("running_var", running_var, np.ones(c))

    def _running(self, name, value, default):
        value = default if value is None else float_array(self, name, np.asarray(value), ndim=1)
        if value.shape != default.shape:
            raise ShapeError(f"BatchNorm: argument '{name}' must have shape {default.shape} "
                             f"(one value per channel), got {value.shape}")
        return value.copy()

    def forward(self, x):
        x = self._check_x(x)
        self.axes = (0,) + tuple(range(2, x.ndim))
        if self.training:
            m = x.size // x.shape[1]
            if m < 2:
                raise ShapeError(f"BatchNorm: argument 'x' of shape {x.shape} has one value per "
                                 f"channel; training needs at least two")
            self.xhat, self.inv_std, mu, var = standardize(x, self.axes, self.eps)
            momentum = self.momentum
            self.running_mean = (1 - momentum) * self.running_mean + momentum * mu.ravel()
            self.running_var = (1 - momentum) * self.running_var + momentum * var.ravel() * m / (m - 1)
        else:
            mean = _channel_view(self.running_mean.astype(x.dtype), x.ndim)
            self.inv_std = 1.0 / np.sqrt(_channel_view(self.running_var.astype(x.dtype), x.ndim)
                                         + self.eps)
            self.xhat = (x - mean) * self.inv_std
        return self._scale_shift(self.xhat)

    def backward(self, dout):
        require_forward(self, "xhat")
        dout = upstream(self, dout, self.xhat.shape)
        dxhat = self._scale_shift_backward(dout)
        if not self.training:                     # the statistics are constants
            return dxhat * self.inv_std
        return standardize_backward(dxhat, self.xhat, self.inv_std, self.axes)


class InstanceNorm(_ChannelNorm):
    """Instance normalization of x (N, C, H, W, ...): statistics per sample and channel,
    over the spatial axes only, with the biased variance; gamma and beta per channel."""

    def forward(self, x):
        x = self._check_x(x, min_ndim=3)
        self.axes = tuple(range(2, x.ndim))
        self.xhat, self.inv_std, _, _ = standardize(x, self.axes, self.eps)
        return self._scale_shift(self.xhat)

    def backward(self, dout):
        require_forward(self, "xhat")
        dout = upstream(self, dout, self.xhat.shape)
        dxhat = self._scale_shift_backward(dout)
        return standardize_backward(dxhat, self.xhat, self.inv_std, self.axes)


class GroupNorm(_ChannelNorm):
    """Group normalization of x (N, C, ...): the C channels form `num_groups` groups of
    C / num_groups consecutive channels; statistics per sample and group, over the
    group's channels and the spatial axes; gamma and beta per channel.

    Done by viewing x as (N, G, C/G * rest), standardizing over the last axis, and
    viewing the result back.
    """

    def __init__(self, gamma, beta, num_groups, eps=1e-5):
        super().__init__(gamma, beta, eps)
        c = self.params["gamma"].shape[0]
        if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or c % num_groups:
            raise ValueError(f"GroupNorm: 'num_groups' must be a positive int dividing the "
                             f"{c} channels, got {num_groups!r}")
        self.num_groups = int(num_groups)

    def forward(self, x):
        x = self._check_x(x)
        # explicit sizes, not -1, so that an empty batch reshapes too
        grouped = x.reshape(x.shape[0], self.num_groups,
                            int(np.prod(x.shape[1:])) // self.num_groups)
        xhat, self.inv_std, _, _ = standardize(grouped, (2,), self.eps)
        self.xhat = xhat.reshape(x.shape)
        return self._scale_shift(self.xhat)

    def backward(self, dout):
        require_forward(self, "xhat")
        dout = upstream(self, dout, self.xhat.shape)
        dxhat = self._scale_shift_backward(dout)
        n, g = dout.shape[0], self.num_groups
        grouped = (n, g, int(np.prod(dout.shape[1:])) // g)
        dx = standardize_backward(dxhat.reshape(grouped), self.xhat.reshape(grouped),
                                  self.inv_std, (2,))
        return dx.reshape(dout.shape)


class LayerNorm(Layer):
    """Layer normalization over the trailing axes of gamma's shape (PyTorch's
    normalized_shape = gamma.shape): statistics per sample, biased variance,
    gamma and beta element-wise over those axes.

        dgamma = sum over the leading axes of dy * xhat,  dbeta = sum of dy
    """

    def __init__(self, gamma, beta, eps=1e-5):
        gamma = float_array(self, "gamma", gamma, min_ndim=1)
        beta = float_array(self, "beta", beta)
        if beta.shape != gamma.shape:
            raise ShapeError(f"LayerNorm: argument 'beta' must have shape {gamma.shape} "
                             f"(the shape of gamma), got {beta.shape}")
        super().__init__(gamma=gamma, beta=beta)
        self.eps = float(eps)

    def forward(self, x):
        shape = self.params["gamma"].shape
        x = float_array(self, "x", x, min_ndim=len(shape))
        if x.shape[x.ndim - len(shape):] != shape:
            raise ShapeError(f"LayerNorm: argument 'x' must end with the shape of gamma "
                             f"{shape}, got {x.shape}")
        self.axes = tuple(range(x.ndim - len(shape), x.ndim))
        self.xhat, self.inv_std, _, _ = standardize(x, self.axes, self.eps)
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, dout):
        require_forward(self, "xhat")
        dout = upstream(self, dout, self.xhat.shape)
        leading = tuple(range(dout.ndim - len(self.axes)))
        self.grads["gamma"] = (dout * self.xhat).sum(axis=leading)
        self.grads["beta"] = dout.sum(axis=leading)
        dxhat = dout * self.params["gamma"]
        return standardize_backward(dxhat, self.xhat, self.inv_std, self.axes)
