"""Convolution and pooling layers (conv1d, conv2d, depthwise, transposed, causal; max/avg pooling).

Everything here is built on one pair of helpers, as in the book's im2col:

    im2col(x)   cuts the (padded) input into its receptive fields, one window per
                output position: (N, C, H, W) -> (N, C, OH, OW, KH, KW). A
                convolution is then one matrix product of these windows with the
                kernels, and a pooling layer one max or mean over each window.
    col2im(d)   the adjoint of im2col: adds every window's gradient back onto the
                input position it was cut from. Positions shared by overlapping
                windows receive the sum, which is exactly the chain rule.

Layouts are PyTorch's: x (N, C, H, W); conv kernels W (C_out, C_in / groups, KH, KW);
transposed-conv kernels W (C_in, C_out, KH, KW); biases b (C_out,).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import float_array, dim_equals, upstream, require_forward, ShapeError
from .base import Layer

__all__ = ['Conv2d', 'Conv1d', 'DepthwiseConv2d', 'ConvTranspose2d', 'CausalConv1d',
           'MaxPool2d', 'AvgPool2d', 'GlobalAvgPool2d']


def _pair(layer, name, value, minimum):
    """An int or a pair of ints (height, width), each at least `minimum`."""
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= minimum for v in pair):
        raise ValueError(f"{layer}: '{name}' must be an int or a pair of ints >= {minimum}, "
                         f"got {value!r}")
    return tuple(int(v) for v in pair)


def output_size(size, kernel, stride, padding, dilation):
    """Number of window positions along one axis: floor((size + 2p - d(k - 1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def im2col(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1), pad_value=0.0):
    """Every receptive field of x: (N, C, H, W) -> windows (N, C, OH, OW, KH, KW).

    windows[n, c, i, j, p, q] = x_padded[n, c, i*sh + p*dh, j*sw + q*dw]

    A read-only view of the padded input (no copy until the caller reshapes it).
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)        # extent of a dilated kernel
    windows = sliding_window_view(xp, span, axis=(2, 3))  # (N, C, H', W', span_h, span_w)
    return windows[:, :, ::sh, ::sw, ::dh, ::dw]


def col2im(dwindows, x_shape, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The adjoint of im2col: sum each window's gradient back onto the input.

    dx_padded[n, c, i*sh + p*dh, j*sw + q*dw] += dwindows[n, c, i, j, p, q]

    One strided add per kernel tap (p, q); padding is cut off at the end.
    """
    n, c, h, w = x_shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh, ow, kh, kw = dwindows.shape[2:]
    dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dwindows.dtype)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p * dh, p * dh + sh * oh, sh)
            cols = slice(q * dw, q * dw + sw * ow, sw)
            dxp[:, :, rows, cols] += dwindows[:, :, :, :, p, q]
    return dxp[:, :, ph:ph + h, pw:pw + w]


def conv2d_loops(x, W, b, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """Conv2d's forward written as its definition, one output position at a time.

    Slow; for reading beside Conv2d and for testing it (tests/test_feedforward_b_inputs.py).
    """
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, _, h, w = x.shape
    c_out, c_g, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    y = np.empty((n, c_out, oh, ow), dtype=np.result_type(x, W))
    for o in range(c_out):
        group = o // (c_out // groups)
        channels = slice(group * c_g, (group + 1) * c_g)      # the input channels o sees
        for i in range(oh):
            for j in range(ow):
                window = xp[:, channels, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                            j * sw:j * sw + dw * (kw - 1) + 1:dw]
                y[:, o, i, j] = (window * W[o]).sum(axis=(1, 2, 3)) + b[o]
    return y


def _check_bias(layer, b, channels):
    b = float_array(layer, "b", b, ndim=1)
    if b.shape != (channels,):
        raise ShapeError(f"{type(layer).__name__}: argument 'b' must have shape ({channels},) "
                         f"(one bias per output channel), got {b.shape}")
    return b


def _check_input(layer, x, channels, kernel, stride, padding, dilation):
    x = float_array(layer, "x", x, ndim=4)
    dim_equals(layer, "x", x, 1, channels, "the input channels of the kernel")
    sizes = [output_size(s, k, st, p, d)
             for s, k, st, p, d in zip(x.shape[-2:], kernel, stride, padding, dilation)]
    if min(sizes) < 1:
        raise ShapeError(f"{type(layer).__name__}: argument 'x' of shape {x.shape} is smaller "
                         f"than the (dilated) kernel {kernel} with padding {padding}")
    return x


class Conv2d(Layer):
    """2-D convolution (cross-correlation, as every framework computes it).

        y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] x_pad[n, g*C_g + c, i*sh + p*dh, j*sw + q*dw]

    where group g = o // (C_out / groups) sees only its C_g = C_in / groups input channels.

    With the windows X = im2col(x) laid out as a matrix per group g (one row per
    (c, p, q) of the group's channels, one column per output position (n, i, j)) and
    the kernels W_g as a matrix (C_out / groups, C_g*KH*KW):
        forward:   Y_g = W_g X_g + b
        backward:  dW_g = dY_g X_g^T,   db = sum of dY over n, i, j,
                   dX_g = W_g^T dY_g,   dx = col2im(dX)
    """

    def __init__(self, W, b, stride=1, padding=0, dilation=1, groups=1):
        W = float_array(self, "W", W, ndim=4)
        if not isinstance(groups, (int, np.integer)) or groups < 1 or W.shape[0] % groups:
            raise ValueError(f"{type(self).__name__}: 'groups' must be a positive int dividing "
                             f"the {W.shape[0]} output channels of W, got {groups!r}")
        super().__init__(W=W, b=_check_bias(self, b, W.shape[0]))
        name = type(self).__name__
        self.stride = _pair(name, "stride", stride, 1)
        self.padding = _pair(name, "padding", padding, 0)
        self.dilation = _pair(name, "dilation", dilation, 1)
        self.groups = int(groups)

    def _geometry(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation)

    def _kernels(self):
        """W as one matrix per group: (G, C_out / G, C_g*KH*KW)."""
        W = self.params["W"]
        return W.reshape(self.groups, W.shape[0] // self.groups, -1)

    def forward(self, x):
        W, b, g = self.params["W"], self.params["b"], self.groups
        x = _check_input(self, x, W.shape[1] * g, W.shape[2:], self.stride, self.padding,
                         self.dilation)
        windows = im2col(x, W.shape[2:], **self._geometry())        # (N, C, OH, OW, KH, KW)
        n, c, oh, ow = windows.shape[:4]
        self.x_shape, self.out_hw = x.shape, (oh, ow)
        # X: rows (c, p, q) within each group, columns (n, i, j); the one copy of im2col
        self.cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(g, W[0].size, n * oh * ow)
        y = self._kernels() @ self.cols                             # Y_g = W_g X_g
        y = y.reshape(W.shape[0], n, oh, ow).transpose(1, 0, 2, 3)
        return y + b[:, None, None]

    def backward(self, dout):
        require_forward(self, "cols")
        W, g = self.params["W"], self.groups
        n, c = self.x_shape[:2]
        oh, ow = self.out_hw
        dout = upstream(self, dout, (n, W.shape[0], oh, ow))
        dy = dout.transpose(1, 0, 2, 3).reshape(g, W.shape[0] // g, -1)   # (G, C_out/G, N*OH*OW)
        self.grads["b"] = dout.sum(axis=(0, 2, 3))                          # db = sum dY
        self.grads["W"] = (dy @ self.cols.transpose(0, 2, 1)).reshape(W.shape)  # dW_g = dY_g X_g^T
        dcols = self._kernels().transpose(0, 2, 1) @ dy                     # dX_g = W_g^T dY_g
        dwindows = dcols.reshape(c, *W.shape[2:], n, oh, ow).transpose(3, 0, 4, 5, 1, 2)
        return col2im(dwindows, self.x_shape, **self._geometry())


class DepthwiseConv2d(Conv2d):
    """Depthwise convolution: each input channel has its own `multiplier` kernels.

    A grouped Conv2d with groups = C_in: W has shape (C_in * multiplier, 1, KH, KW).
    """

    def __init__(self, W, b, stride=1, padding=0, dilation=1, multiplier=1):
        W = float_array(self, "W", W, ndim=4)
        dim_equals(self, "W", W, 1, 1, "one input channel per depthwise kernel")
        if not isinstance(multiplier, (int, np.integer)) or multiplier < 1 \
                or W.shape[0] % multiplier:
            raise ValueError(f"DepthwiseConv2d: 'multiplier' must be a positive int dividing "
                             f"the {W.shape[0]} kernels of W, got {multiplier!r}")
        super().__init__(W, b, stride, padding, dilation, groups=W.shape[0] // multiplier)


class Conv1d(Layer):
    """1-D convolution over x (N, C_in, L) with W (C_out, C_in / groups, K).

    A 1-D convolution is a 2-D one over an image of height 1:
        y[n, o, i] = b[o] + sum_{c, q} W[o, c, q] x_pad[n, c, i*s + q*d]
    so forward and backward add a unit height axis and call Conv2d.
    """

    def __init__(self, W, b, stride=1, padding=0, dilation=1, groups=1):
        W = float_array(self, "W", W, ndim=3)
        for name, v in (("stride", stride), ("padding", padding), ("dilation", dilation)):
            if not isinstance(v, (int, np.integer)):
                raise ValueError(f"{type(self).__name__}: '{name}' must be an int, got {v!r}")
        self.conv = Conv2d(W[:, :, None, :], b, stride=(1, stride), padding=(0, padding),
                           dilation=(1, dilation), groups=groups)
        super().__init__(W=W, b=self.conv.params["b"])

    def forward(self, x):
        x = float_array(self, "x", x, ndim=3)
        dim_equals(self, "x", x, 1, self.params["W"].shape[1] * self.conv.groups,
                   "the input channels of the kernel")
        self.out = self.conv.forward(x[:, :, None, :])[:, :, 0, :]
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        dx = self.conv.backward(dout[:, :, None, :])[:, :, 0, :]
        self.grads["W"] = self.conv.grads["W"][:, :, 0, :]
        self.grads["b"] = self.conv.grads["b"]
        return dx


class CausalConv1d(Layer):
    """Dilated causal convolution (WaveNet): y[t] depends on x[t], x[t - d], ..., x[t - (K-1)d].

    The input is padded with (K - 1) d zeros on the left only, so the output has the
    input's length and never looks ahead:
        y[n, o, t] = b[o] + sum_{c, q} W[o, c, q] x[n, c, t - (K - 1 - q) d]   (x = 0 before t = 0)
    Backward: the Conv1d backward on the padded input, with the padding cut off.
    """

    def __init__(self, W, b, dilation=1):
        self.conv = Conv1d(W, b, dilation=dilation)
        super().__init__(W=self.conv.params["W"], b=self.conv.params["b"])
        self.pad = dilation * (self.params["W"].shape[2] - 1)

    def forward(self, x):
        x = float_array(self, "x", x, ndim=3)
        self.out = self.conv.forward(np.pad(x, ((0, 0), (0, 0), (self.pad, 0))))
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dx_padded = self.conv.backward(dout)
        self.grads.update(self.conv.grads)
        return dx_padded[:, :, self.pad:]


class ConvTranspose2d(Layer):
    """Transposed convolution ("deconvolution"): the adjoint of Conv2d's input gradient.

    x (N, C_in, H, W), W (C_in, C_out, KH, KW). Every input pixel scatters a copy of
    its kernel, scaled by its value, onto the output:
        y_pad[n, o, i*sh + p*dh, j*sw + q*dw] += sum_c x[n, c, i, j] W[c, o, p, q]
        OH = (H - 1) sh - 2 ph + dh (KH - 1) + output_padding + 1
    that is, forward = col2im(x W) and backward uses im2col, the reverse of Conv2d:
        dX = im2col(dy) W^T,   dW = x^T im2col(dy),   db = sum of dy over n, i, j.
    """

    def __init__(self, W, b, stride=1, padding=0, output_padding=0, dilation=1):
        W = float_array(self, "W", W, ndim=4)
        super().__init__(W=W, b=_check_bias(self, b, W.shape[1]))
        self.stride = _pair("ConvTranspose2d", "stride", stride, 1)
        self.padding = _pair("ConvTranspose2d", "padding", padding, 0)
        self.dilation = _pair("ConvTranspose2d", "dilation", dilation, 1)
        self.output_padding = _pair("ConvTranspose2d", "output_padding", output_padding, 0)
        if any(op >= max(s, d) for op, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(f"ConvTranspose2d: 'output_padding' {self.output_padding} must be "
                             f"smaller than the stride or the dilation")

    def _geometry(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation)

    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        x = float_array(self, "x", x, ndim=4)
        dim_equals(self, "x", x, 1, W.shape[0], "the input channels of W (its first axis)")
        n, c, h, w = x.shape
        c_out, kh, kw = W.shape[1:]
        oh, ow = ((size - 1) * s - 2 * p + d * (k - 1) + op + 1 for size, s, p, d, k, op in
                  zip((h, w), self.stride, self.padding, self.dilation, (kh, kw), self.output_padding))
        if min(oh, ow) < 1:
            raise ShapeError(f"ConvTranspose2d: argument 'x' of shape {x.shape} gives an empty "
                             f"output with padding {self.padding}")
        self.x = x
        self.y_shape = (n, c_out, oh, ow)
        rows = x.transpose(0, 2, 3, 1).reshape(-1, c)                       # (N*H*W, C_in)
        windows = (rows @ W.reshape(c, -1)).reshape(n, h, w, c_out, kh, kw)  # x W per pixel
        y = col2im(windows.transpose(0, 3, 1, 2, 4, 5), self.y_shape, **self._geometry())
        return y + b[:, None, None]

    def backward(self, dout):
        require_forward(self, "x")
        W = self.params["W"]
        n, c, h, w = self.x.shape
        dout = upstream(self, dout, self.y_shape)
        windows = im2col(dout, W.shape[2:], **self._geometry())[:, :, :h, :w]  # (N, C_out, H, W, KH, KW)
        dcols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, W[0].size)  # im2col(dy)
        rows = self.x.transpose(0, 2, 3, 1).reshape(-1, c)
        self.grads["W"] = (rows.T @ dcols).reshape(W.shape)                    # dW = x^T im2col(dy)
        self.grads["b"] = dout.sum(axis=(0, 2, 3))
        dx = dcols @ W.reshape(c, -1).T                                        # dX = im2col(dy) W^T
        return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2)


class _Pool2d(Layer):
    """Shared set-up of the pooling layers: kernel, stride (default: the kernel), padding."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel = _pair(name, "kernel_size", kernel_size, 1)
        self.stride = self.kernel if stride is None else _pair(name, "stride", stride, 1)
        self.padding = _pair(name, "padding", padding, 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel)):
            raise ValueError(f"{name}: 'padding' {self.padding} must be at most half the "
                             f"kernel {self.kernel}")

    def _windows(self, x, pad_value):
        x = float_array(self, "x", x, ndim=4)
        _check_input(self, x, x.shape[1], self.kernel, self.stride, self.padding, (1, 1))
        self.x_shape = x.shape
        return im2col(x, self.kernel, self.stride, self.padding, pad_value=pad_value)

    def _scatter(self, dwindows):
        return col2im(dwindows, self.x_shape, self.stride, self.padding)


class MaxPool2d(_Pool2d):
    """y[n, c, i, j] = max of window (i, j); padding counts as -infinity.

    Backward: the whole gradient of a window goes to its maximum. With ties it goes
    to the FIRST maximum in row-major order within the window (PyTorch's convention),
    which argmax gives. Overlapping windows add their gradients.
    """

    def forward(self, x):
        windows = self._windows(x, pad_value=-np.inf)
        flat = windows.reshape(*windows.shape[:4], np.prod(windows.shape[4:]))  # (N, C, OH, OW, KH*KW)
        self.argmax = flat.argmax(axis=-1)                     # first maximum of each window
        return np.take_along_axis(flat, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dout):
        require_forward(self, "argmax")
        dout = upstream(self, dout, self.argmax.shape)
        dflat = np.zeros(dout.shape + (self.kernel[0] * self.kernel[1],), dtype=dout.dtype)
        np.put_along_axis(dflat, self.argmax[..., None], dout[..., None], axis=-1)
        return self._scatter(dflat.reshape(*dout.shape, *self.kernel))


class AvgPool2d(_Pool2d):
    """y[n, c, i, j] = mean of window (i, j) over KH*KW values, zero padding included
    (PyTorch's count_include_pad=True).

    Backward: each value of a window receives dout / (KH*KW).
    """

    def forward(self, x):
        windows = self._windows(x, pad_value=0.0)
        self.out_shape = windows.shape[:4]
        return windows.mean(axis=(4, 5))

    def backward(self, dout):
        require_forward(self, "out_shape")
        dout = upstream(self, dout, self.out_shape)
        share = dout / (self.kernel[0] * self.kernel[1])
        dwindows = np.broadcast_to(share[..., None, None], dout.shape + self.kernel)
        return self._scatter(dwindows)


class GlobalAvgPool2d(Layer):
    """y[n, c] = (1 / HW) sum_{i, j} x[n, c, i, j];   dx[n, c, i, j] = dout[n, c] / HW."""

    def forward(self, x):
        x = float_array(self, "x", x, ndim=4)
        self.x_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        require_forward(self, "x_shape")
        n, c, h, w = self.x_shape
        dout = upstream(self, dout, (n, c))
        return np.broadcast_to(dout[:, :, None, None] / (h * w), self.x_shape).copy()
