"""Normalization layers (batch, layer, instance, group normalization).

Every one of them standardizes x over some axes, M values at a time, and then
scales and shifts it per channel (or per feature):

    mu = (1/M) sum x,  var = (1/M) sum (x - mu)^2     (biased: divided by M, not M - 1)
    sigma = sqrt(var + eps)                           (eps inside the square root)
    xhat = (x - mu) / sigma
    y = gamma xhat + beta

They differ only in the axes the statistics are taken over (and so in M):
    BatchNorm     over the batch and the spatial axes, per channel    M = N H W
    LayerNorm     over the trailing axes of gamma's shape, per sample M = gamma.size
    InstanceNorm  over the spatial axes, per sample and channel       M = H W
    GroupNorm     over a group's channels and the spatial axes        M = (C / G) H W

The backward pass is the same for all of them:

    dbeta = sum(dy),  dgamma = sum(dy xhat)         over every axis gamma does not have
    dxhat = dy gamma
    dx = (1 / (M sigma)) (M dxhat - sum(dxhat) - xhat sum(dxhat xhat))

with the two sums over the M values of the statistics: -sum(dxhat) / M is the path
through mu, -xhat sum(dxhat xhat) / M the path through var (d var / dx = 2 (x - mu) / M;
the path through var to mu vanishes because sum(x - mu) = 0). The code writes the
sums over M as means: dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / sigma.
The variance is computed as mean((x - mu)^2), never as mean(x^2) - mu^2, which
loses every digit when |mu| is large compared with the spread.
"""
import numpy as np

from ._checks import float_array, dim_equals, upstream, require_forward, ShapeError
from .base import Layer

__all__ = ['BatchNorm', 'LayerNorm', 'InstanceNorm', 'GroupNorm']


def standardize(x, axes, eps):
    """xhat = (x - mu) / sigma over `axes`, sigma = sqrt(var + eps) with the biased var;
    returns xhat, 1 / sigma, mu, var (mu and var keep their axes, as size 1)."""
    mu = x.mean(axis=axes, keepdims=True)
    centered = x - mu                                     # two passes: var from x - mu
    var = (centered ** 2).mean(axis=axes, keepdims=True)
    inv_sigma = 1.0 / np.sqrt(var + eps)
    return centered * inv_sigma, inv_sigma, mu, var


def standardize_backward(dxhat, xhat, inv_sigma, axes):
    """dx = (1 / (M sigma)) (M dxhat - sum(dxhat) - xhat sum(dxhat xhat)), sums over `axes`,
    computed as (1 / sigma) (dxhat - mean(dxhat) - xhat mean(dxhat xhat))."""
    mean_dxhat = dxhat.mean(axis=axes, keepdims=True)                # the path through mu
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=axes, keepdims=True)  # the path through var
    return inv_sigma * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat)


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

    Training (the default): statistics of the batch, per channel c over every other axis
    (N, H, W, ...), M = N H W values per channel, with the BIASED variance (divided by M):
        mu = (1/M) sum x,  var = (1/M) sum (x - mu)^2,  sigma = sqrt(var + eps)    per c
        xhat = (x - mu) / sigma,   y = gamma_c xhat + beta_c
    Backward (every sum over the same M values of channel c):
        dbeta_c = sum(dy),  dgamma_c = sum(dy xhat),  dxhat = dy gamma_c
        dx = (1 / (M sigma)) (M dxhat - sum(dxhat) - xhat sum(dxhat xhat))
    The running statistics, which do not enter dx, are updated as PyTorch does, with
    momentum m = 0.1 weighting the NEW batch and the UNBIASED variance (divided by M - 1):
        running_mean = (1 - m) running_mean + m mu
        running_var  = (1 - m) running_var  + m var * M / (M - 1)
    Evaluation (training=False): the running statistics are used as constants,
        y = gamma (x - running_mean) / sqrt(running_var + eps) + beta,
        dx = dy gamma / sqrt(running_var + eps).

    Options for the other conventions (each a case of the batch_norm op):
        momentum=None            torch's cumulative average: m = 1 / num_batches_tracked after
                                 the count (num_batches_tracked, default 0) is incremented
        unbiased_running_var     False: the running variance averages the BIASED var, as
                                 『ゼロから作る』 and CS231n do (torch: True)
        per_activation           True: x (N, C, H, W) normalized per activation, as
                                 『ゼロから作る』 does, i.e. as (N, C*H*W) with C*H*W gammas
                                 (so M = N)
    (『ゼロから作る』 and CS231n also let momentum weight the OLD value, 0.9 = 1 - 0.1 here,
    and the book hard-codes eps = 10e-7: the adapters translate those.)
    """

    def __init__(self, gamma, beta, eps=1e-5, momentum=0.1, running_mean=None,
                 running_var=None, training=True, unbiased_running_var=True,
                 per_activation=False, num_batches_tracked=0):
        super().__init__(gamma, beta, eps)
        c = self.params["gamma"].shape[0]
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm: momentum must be in [0, 1] or None (the cumulative "
                             f"average), got {momentum!r}")
        self.momentum = None if momentum is None else float(momentum)
        self.training, self.unbiased_running_var = bool(training), bool(unbiased_running_var)
        self.per_activation, self.num_batches_tracked = bool(per_activation), int(num_batches_tracked)
        self.running_mean = self._running("running_mean", running_mean, np.zeros(c))
        self.running_var = self._running("running_var", running_var, np.ones(c))

    def _running(self, name, value, default):
        value = default if value is None else float_array(self, name, np.asarray(value), ndim=1)
        if value.shape != default.shape:
            raise ShapeError(f"BatchNorm: argument '{name}' must have shape {default.shape} "
                             f"(one value per channel), got {value.shape}")
        return value.copy()

    def forward(self, x):
        if self.per_activation:              # (N, C, H, W) as (N, C*H*W): one "channel" per activation
            x = float_array(self, "x", x, min_ndim=2)
            self.x_shape = x.shape
            x = x.reshape(x.shape[0], int(np.prod(x.shape[1:])))
        x = self._check_x(x)
        self.axes = (0,) + tuple(range(2, x.ndim))
        if self.training:
            self.xhat = self._train(x)
        else:
            mean = _channel_view(self.running_mean.astype(x.dtype), x.ndim)
            self.inv_sigma = 1.0 / np.sqrt(_channel_view(self.running_var.astype(x.dtype), x.ndim)
                                         + self.eps)
            self.xhat = (x - mean) * self.inv_sigma
        out = self._scale_shift(self.xhat)
        return out.reshape(self.x_shape) if self.per_activation else out

    def _train(self, x):
        """xhat from the batch statistics; the running averages updated with weight m."""
        m = x.size // x.shape[1]
        if m < 2:
            raise ShapeError(f"BatchNorm: argument 'x' of shape {x.shape} has one value per "
                             f"channel; training needs at least two")
        xhat, self.inv_sigma, mu, var = standardize(x, self.axes, self.eps)
        self.num_batches_tracked += 1
        momentum = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        correction = m / (m - 1) if self.unbiased_running_var else 1.0
        self.running_mean = (1 - momentum) * self.running_mean + momentum * mu.ravel()
        self.running_var = (1 - momentum) * self.running_var + momentum * var.ravel() * correction
        return xhat

    def backward(self, dout):
        require_forward(self, "xhat")
        if self.per_activation:
            dout = upstream(self, dout, self.x_shape).reshape(self.xhat.shape)
            return self._backward(dout).reshape(self.x_shape)
        return self._backward(upstream(self, dout, self.xhat.shape))

    def _backward(self, dout):
        dxhat = self._scale_shift_backward(dout)
        if not self.training:                     # the statistics are constants
            return dxhat * self.inv_sigma
        return standardize_backward(dxhat, self.xhat, self.inv_sigma, self.axes)


class InstanceNorm(_ChannelNorm):
    """Instance normalization of x (N, C, H, W, ...) (torch's InstanceNorm1d/2d/3d with
    affine=True, no running statistics): statistics per sample n and channel c over the
    spatial axes (H, W, ...) only, M = H W values, with the biased variance (divided by M);
    gamma and beta per channel.
        mu = (1/M) sum x,  var = (1/M) sum (x - mu)^2,  sigma = sqrt(var + eps)    per (n, c)
        xhat = (x - mu) / sigma,   y = gamma_c xhat + beta_c
    Backward (the sums in dx over the M spatial values of (n, c)):
        dbeta_c = sum(dy),  dgamma_c = sum(dy xhat)     over (N, H, W, ...): the batch too
        dxhat = dy gamma_c
        dx = (1 / (M sigma)) (M dxhat - sum(dxhat) - xhat sum(dxhat xhat))

    spatial_dims (1, 2 or 3: torch's InstanceNorm1d/2d/3d) says how many spatial axes x
    has, so that an input with one axis fewer, (C, L) or (C, H, W), is read as one
    unbatched sample, as torch does; without it every input is batched (N, C, ...).
    """

    def __init__(self, gamma, beta, eps=1e-5, spatial_dims=None):
        super().__init__(gamma, beta, eps)
        if spatial_dims is not None and spatial_dims not in (1, 2, 3):
            raise ValueError(f"InstanceNorm: 'spatial_dims' must be 1, 2 or 3, got {spatial_dims!r}")
        self.spatial_dims = spatial_dims

    def forward(self, x):
        x = float_array(self, "x", x)
        self.unbatched = self.spatial_dims is not None and x.ndim == self.spatial_dims + 1
        if self.spatial_dims is not None and x.ndim not in (self.spatial_dims + 1, self.spatial_dims + 2):
            raise ShapeError(f"InstanceNorm: argument 'x' must have {self.spatial_dims + 1} axes "
                             f"(unbatched) or {self.spatial_dims + 2} (batched) for "
                             f"spatial_dims={self.spatial_dims}, got shape {x.shape}")
        x = self._check_x(x[None] if self.unbatched else x, min_ndim=3)
        self.axes = tuple(range(2, x.ndim))
        self.xhat, self.inv_sigma, _, _ = standardize(x, self.axes, self.eps)
        out = self._scale_shift(self.xhat)
        return out[0] if self.unbatched else out

    def backward(self, dout):
        require_forward(self, "xhat")
        shape = self.xhat.shape[1:] if self.unbatched else self.xhat.shape
        dout = upstream(self, dout, shape).reshape(self.xhat.shape)
        dxhat = self._scale_shift_backward(dout)
        dx = standardize_backward(dxhat, self.xhat, self.inv_sigma, self.axes)
        return dx[0] if self.unbatched else dx


class GroupNorm(_ChannelNorm):
    """Group normalization of x (N, C, ...) (PyTorch's GroupNorm): the C channels form
    G = num_groups groups of C / G consecutive channels; statistics per sample n and
    group g over the group's channels and the spatial axes, M = (C / G) H W values
    (C / G when x is (N, C)), with the biased variance (divided by M); gamma and beta
    per channel, not per group.
        mu = (1/M) sum x,  var = (1/M) sum (x - mu)^2,  sigma = sqrt(var + eps)    per (n, g)
        xhat = (x - mu) / sigma,   y = gamma_c xhat + beta_c     (channel c in group g)
    Backward (the sums in dx over the M values of (n, g): its channels and spatial axes):
        dbeta_c = sum(dy),  dgamma_c = sum(dy xhat)     over (N, H, W, ...), per channel
        dxhat = dy gamma_c
        dx = (1 / (M sigma)) (M dxhat - sum(dxhat) - xhat sum(dxhat xhat))
    G = 1 is layer normalization over (C, H, W, ...) with per-channel gamma; G = C is
    instance normalization. Done by viewing x (and dy) as (N, G, M), standardizing over
    the last axis, and viewing the result back.
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
        # (N, G, M), M = (C / G) H W: explicit sizes, not -1, so that an empty batch reshapes too
        grouped = x.reshape(x.shape[0], self.num_groups,
                            int(np.prod(x.shape[1:])) // self.num_groups)
        xhat, self.inv_sigma, _, _ = standardize(grouped, (2,), self.eps)
        self.xhat = xhat.reshape(x.shape)
        return self._scale_shift(self.xhat)

    def backward(self, dout):
        require_forward(self, "xhat")
        dout = upstream(self, dout, self.xhat.shape)
        dxhat = self._scale_shift_backward(dout)
        n, g = dout.shape[0], self.num_groups
        grouped = (n, g, int(np.prod(dout.shape[1:])) // g)    # (N, G, M), as in forward
        dx = standardize_backward(dxhat.reshape(grouped), self.xhat.reshape(grouped),
                                  self.inv_sigma, (2,))
        return dx.reshape(dout.shape)


class LayerNorm(Layer):
    """Layer normalization (PyTorch's LayerNorm, normalized_shape = gamma.shape): x of
    shape (..., *S), S = gamma.shape, normalized per sample over its len(S) trailing axes,
    M = gamma.size values, with the biased variance (divided by M); gamma and beta, of
    shape S, act element-wise (one pair per normalized position, not per sample).
        mu = (1/M) sum x,  var = (1/M) sum (x - mu)^2,  sigma = sqrt(var + eps)    per sample
        xhat = (x - mu) / sigma,   y = gamma xhat + beta
    Backward (the sums in dx over the M trailing values of a sample):
        dbeta = sum(dy),  dgamma = sum(dy xhat)     over the leading axes (shape S)
        dxhat = dy gamma
        dx = (1 / (M sigma)) (M dxhat - sum(dxhat) - xhat sum(dxhat xhat))
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
        self.xhat, self.inv_sigma, _, _ = standardize(x, self.axes, self.eps)
        # gamma and beta (shape S) broadcast over the leading axes: element-wise per position
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, dout):
        require_forward(self, "xhat")
        dout = upstream(self, dout, self.xhat.shape)
        leading = tuple(range(dout.ndim - len(self.axes)))    # the axes gamma does not have
        self.grads["gamma"] = (dout * self.xhat).sum(axis=leading)
        self.grads["beta"] = dout.sum(axis=leading)
        dxhat = dout * self.params["gamma"]
        return standardize_backward(dxhat, self.xhat, self.inv_sigma, self.axes)
