"""Element-wise activations and softmax: y = f(x), dx = dout * f'(x)."""
import math

import numpy as np

from ._checks import axis_in_range, dim_equals, float_array, require_forward, same_shape, upstream
from .base import Layer

__all__ = ['Identity', 'Relu', 'Sigmoid', 'Tanh', 'Softmax', 'LeakyRelu', 'PRelu', 'Elu',
           'Selu', 'Gelu', 'Softplus', 'Silu', 'Hardtanh', 'Maxout', 'LogSoftmax']


class Identity(Layer):
    """y = x;  dx = dout."""

    def forward(self, x):
        self.shape = float_array(self, "x", x).shape
        return np.array(x, copy=True)

    def backward(self, dout):
        require_forward(self, "shape")
        return upstream(self, dout, self.shape).copy()


class Relu(Layer):
    """y = max(0, x);  dx = dout where x > 0, else 0.

    As torch: the gradient at x = 0 is 0, and at x = NaN the upstream gradient passes
    (torch zeroes it only where x <= 0, which NaN is not).
    """

    def forward(self, x):
        x = float_array(self, "x", x)
        self.mask = x <= 0                   # where the gradient is cut
        # Zero where x <= 0 and x elsewhere: a NaN input stays NaN, as in torch and jax
        # (np.where(x > 0, x, 0) would quietly turn it into 0).
        return np.where(x <= 0, 0.0, x).astype(x.dtype)

    def backward(self, dout):
        require_forward(self, "mask")
        dout = upstream(self, dout, self.mask.shape)
        return np.where(self.mask, 0.0, dout).astype(dout.dtype)


def sigmoid(x):
    """sigma(x) = 1 / (1 + e^{-x}); keeps the dtype. For x < -709 (float64) e^{-x}
    overflows to inf and 1 / inf = 0, the right limit: the warning is not wanted.
    The one sigmoid of the answer key (the LSTM and GRU gates use it too)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


class Sigmoid(Layer):
    """y = 1 / (1 + e^{-x});  dx = dout * y (1 - y), from the output y, not the input."""

    def forward(self, x):
        self.out = sigmoid(float_array(self, "x", x))
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        return dout * self.out * (1.0 - self.out)


class Tanh(Layer):
    """y = tanh(x);  dx = dout * (1 - y^2)."""

    def forward(self, x):
        self.out = np.tanh(float_array(self, "x", x))
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        return dout * (1.0 - self.out ** 2)


def softmax(x, axis=-1):
    """e^{x_i} / sum_j e^{x_j}, shifted by the maximum so that exp never overflows.
    Over an axis of size 0 the result is empty (there is no maximum to shift by)."""
    if x.shape[axis] == 0:
        return np.array(x, copy=True)
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Layer):
    """y_i = e^{x_i} / sum_j e^{x_j} along `axis`.

    Backward: dx_i = y_i (dout_i - sum_j dout_j y_j), the Jacobian diag(y) - y y^T
    applied to dout without forming it.
    """

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        x = float_array(self, "x", x, min_ndim=1)
        axis_in_range(self, "x", x, self.axis)
        self.out = softmax(x, self.axis)
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        inner = (dout * self.out).sum(axis=self.axis, keepdims=True)
        return self.out * (dout - inner)


class LeakyRelu(Layer):
    """y = x for x > 0, a x otherwise;  dx = dout for x > 0, a dout otherwise.

    At exactly x = 0 (and at NaN) the slope is a, as in torch (jax.nn.leaky_relu uses 1 at 0).
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        self.x = float_array(self, "x", x)
        return np.where(self.x > 0, self.x, self.negative_slope * self.x).astype(self.x.dtype)

    def backward(self, dout):
        require_forward(self, "x")
        dout = upstream(self, dout, self.x.shape)
        return np.where(self.x > 0, dout, self.negative_slope * dout).astype(dout.dtype)


class PRelu(Layer):
    """y = x for x > 0, a_c x otherwise, with a learnable slope a_c per channel.

    x has shape (N, C, ...) and the channel axis is 1 (torch's layout); a has
    shape (C,), or (1,) for one slope shared by every channel.
        dx   = dout for x > 0, a_c dout otherwise
        da_c = sum over every axis but the channel of dout * x * [x <= 0]
    At x = NaN, as torch: dx = a_c dout and da_c is NaN (NaN is not > 0).
    """

    def __init__(self, a):
        a = float_array(self, "a", a, ndim=1)
        super().__init__(a=a)

    def _slope(self, x):
        """a reshaped to broadcast along axis 1 of x: (C, 1, ..., 1)."""
        a = self.params["a"]
        return a.reshape((a.shape[0],) + (1,) * (x.ndim - 2))

    def forward(self, x):
        x = float_array(self, "x", x, min_ndim=2)
        channels = self.params["a"].shape[0]
        if channels != 1:
            dim_equals(self, "x", x, 1, channels, "one slope per channel: the size of 'a'")
        self.x = x
        return np.where(x > 0, x, self._slope(x) * x).astype(x.dtype)

    def backward(self, dout):
        require_forward(self, "x")
        x = self.x
        dout = upstream(self, dout, x.shape)
        positive = x > 0
        da = np.where(positive, 0.0, dout * x)
        other_axes = (0,) + tuple(range(2, x.ndim))
        da = da.sum(axis=other_axes)                      # (C,)
        if self.params["a"].shape[0] == 1:
            da = da.sum(keepdims=True)                    # one shared slope: sum every channel
        self.grads["a"] = da.astype(self.params["a"].dtype)
        return np.where(positive, dout, self._slope(x) * dout).astype(dout.dtype)


class Elu(Layer):
    """y = x for x > 0, alpha (e^x - 1) otherwise;
    dx = dout for x > 0, dout alpha e^x = dout (y + alpha) otherwise.

    At x = 0 the derivative is alpha (the left branch), as in torch and jax; at x = NaN
    the upstream gradient passes, as in torch.
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        self.x = float_array(self, "x", x)
        # expm1 keeps e^x - 1 accurate for small |x|; min(x, 0) keeps exp from overflowing
        self.out = np.where(self.x > 0, self.x, self.alpha * np.expm1(np.minimum(self.x, 0)))
        self.out = self.out.astype(self.x.dtype)
        return self.out

    def backward(self, dout):
        require_forward(self, "x")
        dout = upstream(self, dout, self.x.shape)
        return np.where(self.x <= 0, dout * (self.out + self.alpha), dout).astype(dout.dtype)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Selu(Layer):
    """y = scale * x for x > 0, scale * alpha (e^x - 1) otherwise, with the fixed
    constants alpha = 1.6733, scale = 1.0507 of Klambauer et al. (2017);
    dx = dout * scale for x > 0, dout * scale * alpha e^x otherwise (NaN: dout * scale, as torch).
    """

    def forward(self, x):
        self.x = float_array(self, "x", x)
        negative = SELU_ALPHA * np.expm1(np.minimum(self.x, 0))      # alpha (e^x - 1), no overflow
        return (SELU_SCALE * np.where(self.x > 0, self.x, negative)).astype(self.x.dtype)

    def backward(self, dout):
        require_forward(self, "x")
        dout = upstream(self, dout, self.x.shape)
        slope_left = SELU_SCALE * SELU_ALPHA * np.exp(np.minimum(self.x, 0))   # d/dx of the x <= 0 branch
        return np.where(self.x <= 0, dout * slope_left, dout * SELU_SCALE).astype(dout.dtype)


_erf = np.vectorize(math.erf, otypes=[np.float64])


class Gelu(Layer):
    """y = x Phi(x), Phi the standard normal CDF.

    approximate="none" (torch's default): Phi(x) = (1 + erf(x / sqrt 2)) / 2, and
        dx = dout * (Phi(x) + x phi(x)),   phi(x) = e^{-x^2/2} / sqrt(2 pi)
    approximate="tanh": Phi(x) ~ (1 + tanh u) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3), and
        dx = dout * ((1 + tanh u) / 2 + x (1 - tanh^2 u) u'(x) / 2),  u'(x) = sqrt(2/pi) (1 + 3 0.044715 x^2)
    """

    C = math.sqrt(2.0 / math.pi)
    K = 0.044715

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"Gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        x = self.x = float_array(self, "x", x)
        if self.approximate == "tanh":
            t = np.tanh(self.C * (x + self.K * x ** 3))
            return (0.5 * x * (1.0 + t)).astype(x.dtype)               # x (1 + tanh u) / 2
        return (x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))).astype(x.dtype)   # x Phi(x)

    def backward(self, dout):
        require_forward(self, "x")
        x, dout = self.x, upstream(self, dout, self.x.shape)
        if self.approximate == "tanh":
            t = np.tanh(self.C * (x + self.K * x ** 3))
            du = self.C * (1.0 + 3.0 * self.K * x ** 2)
            return (dout * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t ** 2) * du)).astype(dout.dtype)
        cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))                     # Phi(x)
        pdf = np.exp(-0.5 * x ** 2) / math.sqrt(2.0 * math.pi)           # phi(x)
        return (dout * (cdf + x * pdf)).astype(dout.dtype)


class Softplus(Layer):
    """y = log(1 + e^{beta x}) / beta;  dx = dout * sigmoid(beta x).

    Computed as max(x, 0) + log1p(e^{-beta |x|}) / beta, which never overflows.
    torch returns x itself where beta x > 20 (its `threshold`); the exact value
    differs from x by less than e^{-20} / beta there, far below any tolerance.
    """

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        x = self.x = float_array(self, "x", x)
        return (np.maximum(x, 0) + np.log1p(np.exp(-self.beta * np.abs(x))) / self.beta).astype(x.dtype)

    def backward(self, dout):
        require_forward(self, "x")
        dout = upstream(self, dout, self.x.shape)
        return (dout * sigmoid(self.beta * self.x)).astype(dout.dtype)


class Silu(Layer):
    """y = x sigmoid(x) (also called swish);  dx = dout * s (1 + x (1 - s)), s = sigmoid(x)."""

    def forward(self, x):
        self.x = float_array(self, "x", x)
        self.s = sigmoid(self.x)
        return self.x * self.s

    def backward(self, dout):
        require_forward(self, "x")
        dout = upstream(self, dout, self.x.shape)
        s = self.s
        return (dout * s * (1.0 + self.x * (1.0 - s))).astype(dout.dtype)   # d(x s)/dx = s + x s (1 - s)


class Hardtanh(Layer):
    """y = clip(x, min_val, max_val);  dx = dout where min_val < x < max_val, else 0.

    At exactly x = min_val or x = max_val the gradient is 0, and at x = NaN the
    upstream gradient passes, as in torch (it zeroes where x <= min_val or x >= max_val).
    """

    def __init__(self, min_val=-1.0, max_val=1.0):
        super().__init__()
        if not min_val < max_val:
            raise ValueError(f"Hardtanh: min_val {min_val} must be below max_val {max_val}")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        self.x = float_array(self, "x", x)
        return np.clip(self.x, self.min_val, self.max_val).astype(self.x.dtype)

    def backward(self, dout):
        require_forward(self, "x")
        dout = upstream(self, dout, self.x.shape)
        clipped = (self.x <= self.min_val) | (self.x >= self.max_val)
        return np.where(clipped, 0.0, dout).astype(dout.dtype)


class Maxout(Layer):
    """A maxout unit (Goodfellow et al. 2013): the maximum of k linear pieces.

        z_k = x W_k + b_k        for k = 1..K, W (K, in, out), b (K, out)
        y   = max_k z_k          element by element, shape (N, out)

    Backward: the gradient flows only through the winning piece k*:
        dz_k = dout * [k = k*]
        dx   = sum_k dz_k W_k^T,   dW_k = x^T dz_k,   db_k = sum_n dz_k
    On a tie the first maximum wins, as torch.max(dim) and max pooling do.
    """

    def __init__(self, W, b):
        W = float_array(self, "W", W, ndim=3)
        b = float_array(self, "b", b, ndim=2)
        same_shape(self, "b", b, (W.shape[0], W.shape[2]), "(pieces, out) to match W")
        super().__init__(W=W, b=b)

    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        x = float_array(self, "x", x, ndim=2)
        dim_equals(self, "x", x, 1, W.shape[1], "the input size of W")
        z = np.einsum("ni,kio->kno", x, W) + b[:, None, :]       # (K, N, out)
        self.x, self.winner = x, z.argmax(axis=0)               # argmax: the first maximum
        return np.take_along_axis(z, self.winner[None], axis=0)[0]

    def backward(self, dout):
        require_forward(self, "x")
        W = self.params["W"]
        dout = upstream(self, dout, self.winner.shape)
        pieces = np.arange(W.shape[0])[:, None, None]
        dz = np.where(pieces == self.winner[None], dout[None], 0.0).astype(dout.dtype)
        self.grads["W"] = np.einsum("ni,kno->kio", self.x, dz)
        self.grads["b"] = dz.sum(axis=1)
        return np.einsum("kno,kio->ni", dz, W)


class LogSoftmax(Layer):
    """y_i = x_i - log sum_j e^{x_j} along `axis`, as x - m - log sum e^{x - m}, m = max x.

    Backward: dx_i = dout_i - softmax(x)_i sum_j dout_j.
    """

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        x = float_array(self, "x", x, min_ndim=1)
        axis_in_range(self, "x", x, self.axis)
        if x.shape[self.axis] == 0:                      # an empty axis: nothing to normalise
            self.out = np.array(x, copy=True)
            return self.out
        shifted = x - x.max(axis=self.axis, keepdims=True)
        self.out = shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        return dout - np.exp(self.out) * dout.sum(axis=self.axis, keepdims=True)
