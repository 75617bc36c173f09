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
import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import float_array, dim_equals, upstream, require_forward, ShapeError, inner_layer
from .base import Layer

__all__ = ['Conv2d', 'Conv2dLoops', 'Conv1d', 'DepthwiseConv2d', 'ConvTranspose2d', 'CausalConv1d',
           'MaxPool2d', 'AvgPool2d', 'GlobalAvgPool2d', 'AdaptiveAvgPool2d']


def allow_unbatched(batched_ndim):
    """Class decorator: forward also takes one sample without its batch axis, as PyTorch's
    layers do ((C, H, W) for a 2-d layer, (C, L) for a 1-d one). The sample gets a batch axis
    of 1 on the way in, and loses it again on the way out of forward and of backward, so
    the class's own forward and backward only ever see batches."""
    def decorate(cls):
        cls.batched_ndim = batched_ndim      # the learner's template decorates its class alike
        if "forward" not in cls.__dict__:    # an inherited forward is wrapped already
            return cls
        forward, backward = cls.forward, cls.backward

        @functools.wraps(forward)
        def batched_forward(self, x, *rest, **options):
            x = np.asarray(x)
            self.unbatched = x.ndim == batched_ndim - 1
            out = forward(self, x[None] if self.unbatched else x, *rest, **options)
            if not self.unbatched:
                return out
            return tuple(o[0] for o in out) if isinstance(out, tuple) else out[0]

        @functools.wraps(backward)
        def batched_backward(self, dout):
            if not getattr(self, "unbatched", False):
                return backward(self, dout)
            return backward(self, np.asarray(dout)[None])[0]

        cls.forward, cls.backward = batched_forward, batched_backward
        return cls
    return decorate


def _pair(layer, name, value, minimum, size=2):
    """An int or a tuple of `size` ints (height, width), each at least `minimum`; a 1-tuple
    stands for all axes, as PyTorch's functional forms take it."""
    pair = (value,) * size if np.isscalar(value) else tuple(value)
    if len(pair) == 1:
        pair = pair * size
    if len(pair) != size or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                    and v >= minimum for v in pair):
        what = "an int or a 1-tuple of an int" if size == 1 else "an int or a pair of ints"
        raise ValueError(f"{layer}: '{name}' must be {what} >= {minimum}, got {value!r}")
    return tuple(int(v) for v in pair)


def _conv_padding(layer, padding, kernel, stride, dilation, size=2):
    """Padding per axis as (before, after). 'valid' is none; 'same' keeps the input's size at
    stride 1: d (k - 1) zeros in all, the odd one after (PyTorch's choice)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * size
        if padding != "same":
            raise ValueError(f"{layer}: 'padding' must be an int, a tuple, 'same' or 'valid', "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{layer}: padding='same' needs stride 1, got stride {stride}")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    if not np.isscalar(padding) and len(padding) == size and all(
            not np.isscalar(p) and len(p) == 2 and min(p) >= 0 for p in padding):
        return tuple((int(a), int(b)) for a, b in padding)      # already (before, after) per axis
    return tuple((p, p) for p in _pair(layer, "padding", padding, 0, size))


def _sides(padding):
    """(ph, pw) or ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    return tuple((p, p) if np.isscalar(p) else tuple(p) for p in padding)


def output_size(size, kernel, stride, padding, dilation):
    """Number of window positions along one axis: floor((size + 2p - d(k - 1) - 1) / s) + 1
    (with padding (before, after): size + before + after in place of size + 2p)."""
    total = 2 * padding if np.isscalar(padding) else sum(padding)
    return (size + total - dilation * (kernel - 1) - 1) // stride + 1


def im2col(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1), pad_value=0.0):
    """Every receptive field of x: (N, C, H, W) -> windows (N, C, OH, OW, KH, KW).

    windows[n, c, i, j, p, q] = x_padded[n, c, i*sh + p*dh, j*sw + q*dw]

    A read-only view of the padded input (no copy until the caller reshapes it).
    padding is (ph, pw) on both sides, or ((top, bottom), (left, right)).
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    xp = np.pad(x, ((0, 0), (0, 0)) + _sides(padding), constant_values=pad_value)
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)        # extent of a dilated kernel
    windows = sliding_window_view(xp, span, axis=(2, 3))  # (N, C, H', W', span_h, span_w)
    return windows[:, :, ::sh, ::sw, ::dh, ::dw]


def col2im(dwindows, x_shape, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The adjoint of im2col: sum each window's gradient back onto the input.

    dx_padded[n, c, i*sh + p*dh, j*sw + q*dw] += dwindows[n, c, i, j, p, q]

    One strided add per kernel tap (p, q); padding is cut off at the end.
    """
    n, c, h, w = x_shape
    (sh, sw), (dh, dw) = stride, dilation
    ((ph, ph_after), (pw, pw_after)) = _sides(padding)
    oh, ow, kh, kw = dwindows.shape[2:]
    dxp = np.zeros((n, c, h + ph + ph_after, w + pw + pw_after), dtype=dwindows.dtype)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p * dh, p * dh + sh * oh, sh)
            cols = slice(q * dw, q * dw + sw * ow, sw)
            dxp[:, :, rows, cols] += dwindows[:, :, :, :, p, q]
    return dxp[:, :, ph:ph + h, pw:pw + w]


def _zeros_only(layer, padding_mode):
    if padding_mode != "zeros":
        raise ValueError(f"{type(layer).__name__}: padding_mode={padding_mode!r} is not supported "
                         f"(zero padding only)")


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


@allow_unbatched(4)
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

    def __init__(self, W, b, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
        _zeros_only(self, padding_mode)
        W = float_array(self, "W", W, ndim=4)
        if not isinstance(groups, (int, np.integer)) or groups < 1 or W.shape[0] % groups:
            raise ValueError(f"{type(self).__name__}: 'groups' must be a positive int dividing "
                             f"the {W.shape[0]} output channels of W, got {groups!r}")
        super().__init__(W=W, b=_check_bias(self, b, W.shape[0]))
        name = type(self).__name__
        self.stride = _pair(name, "stride", stride, 1)
        self.dilation = _pair(name, "dilation", dilation, 1)
        # ((top, bottom), (left, right)); an int, a pair, 'same' or 'valid' as PyTorch
        self.padding = _conv_padding(name, padding, W.shape[2:], self.stride, self.dilation)
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
        windows = im2col(x, W.shape[2:], **self._geometry())        # windows[n, c, i, j, p, q]
        n, c, oh, ow = windows.shape[:4]
        self.x_shape, self.out_hw = x.shape, (oh, ow)
        # The formula's matrix X, one per group g: X_g[(c, p, q), (n, i, j)] = windows[n, g C_g + c, i, j, p, q].
        # transpose puts the row axes (c, p, q) before the column axes (n, i, j); reshape splits
        # c into (group, channel within it) and merges each side into one axis. (The one copy.)
        self.cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(g, W[0].size, n * oh * ow)
        Y = self._kernels() @ self.cols                             # Y_g = W_g X_g
        # Y's rows are the output channels o, group after group; its columns (n, i, j):
        # split the columns and move n to the front for y[n, o, i, j]
        y = Y.reshape(W.shape[0], n, oh, ow).transpose(1, 0, 2, 3)
        return y + b[:, None, None]

    def backward(self, dout):
        require_forward(self, "cols")
        W, g = self.params["W"], self.groups
        n, c = self.x_shape[:2]
        oh, ow = self.out_hw
        dout = upstream(self, dout, (n, W.shape[0], oh, ow))
        # dY_g: dout laid out as Y (rows o, columns (n, i, j)), forward's last line undone
        dY = dout.transpose(1, 0, 2, 3).reshape(g, W.shape[0] // g, n * oh * ow)
        self.grads["b"] = dout.sum(axis=(0, 2, 3))                          # db_o = sum_{n,i,j} dy
        self.grads["W"] = (dY @ self.cols.transpose(0, 2, 1)).reshape(W.shape)  # dW_g = dY_g X_g^T
        dX = self._kernels().transpose(0, 2, 1) @ dY                        # dX_g = W_g^T dY_g
        # dX[(c, p, q), (n, i, j)] back in the windows' layout [n, c, i, j, p, q] (forward's
        # transpose undone), then col2im adds each window's gradient onto the input it was cut from
        dwindows = dX.reshape(c, *W.shape[2:], n, oh, ow).transpose(3, 0, 4, 5, 1, 2)
        return col2im(dwindows, self.x_shape, **self._geometry())


@allow_unbatched(4)
class Conv2dLoops(Conv2d):
    """Conv2d written as its definition, one output position at a time: the form a learner
    writes first, before im2col. Same arguments, same numbers, far slower.

        y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] x_pad[n, c, i*sh + p*dh, j*sw + q*dw]

    Backward reads each window again, the chain rule applied to that one sum:
        dW[o]               += sum_n dy[n, o, i, j] window_n(i, j)
        dx_pad[n, window]   += dy[n, o, i, j] W[o]       (overlapping windows add up)
        db[o]                = sum_{n, i, j} dy[n, o, i, j]
    """

    def _window(self, o, i, j):
        """Index of the window that output (o, i, j) reads: its group's channels, dilated taps."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        c_g, kh, kw = self.params["W"].shape[1:]
        group = o // (self.params["W"].shape[0] // self.groups)
        return (slice(None), slice(group * c_g, (group + 1) * c_g),
                slice(i * sh, i * sh + dh * (kh - 1) + 1, dh),
                slice(j * sw, j * sw + dw * (kw - 1) + 1, dw))

    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        x = _check_input(self, x, W.shape[1] * self.groups, W.shape[2:], self.stride,
                         self.padding, self.dilation)
        self.x_shape = x.shape
        self.xp = np.pad(x, ((0, 0), (0, 0)) + self.padding)
        oh, ow = (output_size(size, k, s, p, d) for size, k, s, p, d in
                  zip(x.shape[2:], W.shape[2:], self.stride, self.padding, self.dilation))
        y = np.empty((x.shape[0], W.shape[0], oh, ow), dtype=np.result_type(x, W))
        for o in range(W.shape[0]):
            for i in range(oh):
                for j in range(ow):
                    window = self.xp[self._window(o, i, j)]               # (N, C_g, KH, KW)
                    y[:, o, i, j] = (window * W[o]).sum(axis=(1, 2, 3)) + b[o]
        return y

    def backward(self, dout):
        require_forward(self, "xp")
        W = self.params["W"]
        n, _, h, w = self.x_shape
        dout = upstream(self, dout, (n, W.shape[0]) + self.out_hw())
        dW, dxp = np.zeros_like(W), np.zeros_like(self.xp)
        for o in range(W.shape[0]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    where, d = self._window(o, i, j), dout[:, o, i, j]    # d: (N,)
                    dW[o] += np.tensordot(d, self.xp[where], axes=1)       # sum_n d_n window_n
                    dxp[where] += d[:, None, None, None] * W[o]
        self.grads["W"], self.grads["b"] = dW, dout.sum(axis=(0, 2, 3))
        (top, _), (left, _) = self.padding
        return dxp[:, :, top:top + h, left:left + w]

    def out_hw(self):
        return tuple(output_size(size, k, s, p, d) for size, k, s, p, d in
                     zip(self.x_shape[2:], self.params["W"].shape[2:], self.stride, self.padding,
                         self.dilation))


def conv2d_loops(x, W, b, stride=1, padding=0, dilation=1, groups=1):
    """Conv2dLoops' forward as a function (for reading beside Conv2d, and for tests)."""
    return Conv2dLoops(W, b, stride, padding, dilation, groups).forward(x)


@allow_unbatched(4)
class DepthwiseConv2d(Conv2d):
    """Depthwise convolution: each input channel c has its own m = `multiplier` kernels.

    A grouped Conv2d with groups = C_in: W has shape (C_in * m, 1, KH, KW), and output
    channel o = c m + k is channel c's k-th kernel:
        y[n, c m + k, i, j] = b[c m + k] + sum_{p, q} W[c m + k, 0, p, q] x_pad[n, c, i*sh + p*dh, j*sw + q*dw]
    Backward, the chain rule on that one sum (windows as in Conv2d):
        db[o]          = sum_{n, i, j} dy[n, o, i, j]
        dW[c m + k]    = sum_{n, i, j} dy[n, c m + k, i, j] window_{n, c}(i, j)
        dx_pad[n, c]  += sum_k dy[n, c m + k, i, j] W[c m + k]   (overlapping windows add up)
    """

    def __init__(self, W, b, stride=1, padding=0, dilation=1, multiplier=1):
        W = float_array(self, "W", W, ndim=4)
        dim_equals(self, "W", W, 1, 1, "one input channel per depthwise kernel")
        if not isinstance(multiplier, (int, np.integer)) or multiplier < 1 \
                or W.shape[0] % multiplier:
            raise ValueError(f"DepthwiseConv2d: 'multiplier' must be a positive int dividing "
                             f"the {W.shape[0]} kernels of W, got {multiplier!r}")
        super().__init__(W, b, stride, padding, dilation, groups=W.shape[0] // multiplier)
        self.multiplier = multiplier

    def _depthwise_kernels(self):
        """W as (C_in, m, KH, KW): channel c's m kernels."""
        W = self.params["W"]
        return W.reshape(self.groups, self.multiplier, *W.shape[2:])

    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        x = _check_input(self, x, self.groups, W.shape[2:], self.stride, self.padding,
                         self.dilation)
        self.windows = im2col(x, W.shape[2:], **self._geometry())      # windows[n, c, i, j, p, q]
        n, c, oh, ow = self.windows.shape[:4]
        self.x_shape = x.shape
        # y[n, c, k, i, j] = sum_{p, q} W[c, k, p, q] window[n, c, i, j, p, q]
        y = np.einsum("ckpq,ncijpq->nckij", self._depthwise_kernels(), self.windows)
        return y.reshape(n, c * self.multiplier, oh, ow) + b[:, None, None]

    def backward(self, dout):
        require_forward(self, "windows")
        W = self.params["W"]
        n, c, oh, ow = self.windows.shape[:4]
        dout = upstream(self, dout, (n, W.shape[0], oh, ow))
        dy = dout.reshape(n, c, self.multiplier, oh, ow)                # o = c m + k
        self.grads["b"] = dout.sum(axis=(0, 2, 3))
        self.grads["W"] = np.einsum("nckij,ncijpq->ckpq", dy, self.windows).reshape(W.shape)
        dwindows = np.einsum("nckij,ckpq->ncijpq", dy, self._depthwise_kernels())
        return col2im(dwindows, self.x_shape, **self._geometry())


@allow_unbatched(3)
class Conv1d(Layer):
    """1-D convolution over x (N, C_in, L) with W (C_out, C_in / groups, K).

    A 1-D convolution is a 2-D one over an image of height 1:
        y[n, o, i] = b[o] + sum_{c, q} W[o, c, q] x_pad[n, c, i*s + q*d]
    so forward and backward add a unit height axis and call Conv2d. stride, padding and
    dilation are ints or 1-tuples (as nn.Conv1d stores them); padding may be 'same' or 'valid'.
    """

    def __init__(self, W, b, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
        _zeros_only(self, padding_mode)
        W = float_array(self, "W", W, ndim=3)
        name = type(self).__name__
        (stride,), (dilation,) = _pair(name, "stride", stride, 1, 1), _pair(name, "dilation", dilation, 1, 1)
        (padding,) = _conv_padding(name, padding, W.shape[2:], (stride,), (dilation,), 1)
        with inner_layer(self, "its 2-d convolution", {}):
            self.conv = Conv2d(W[:, :, None, :], b, stride=(1, stride), padding=((0, 0), padding),
                               dilation=(1, dilation), groups=groups)
        super().__init__(W=W, b=self.conv.params["b"])

    def forward(self, x):
        x = float_array(self, "x", x, ndim=3)
        dim_equals(self, "x", x, 1, self.params["W"].shape[1] * self.conv.groups,
                   "the input channels of the kernel")
        with inner_layer(self, "its 2-d convolution", {}):
            self.out = self.conv.forward(x[:, :, None, :])[:, :, 0, :]
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        dx = self.conv.backward(dout[:, :, None, :])[:, :, 0, :]
        self.grads["W"] = self.conv.grads["W"][:, :, 0, :]
        self.grads["b"] = self.conv.grads["b"]
        return dx


@allow_unbatched(3)
class CausalConv1d(Layer):
    """Dilated causal convolution (WaveNet): y[t] depends on x[t], x[t - d], ..., x[t - (K-1)d].

    The input is padded with (K - 1) d zeros on the left only, so the output has the
    input's length and never looks ahead:
        y[n, o, t] = b[o] + sum_{c, q} W[o, c, q] x[n, c, t - (K - 1 - q) d]   (x = 0 before t = 0)
    Backward: the Conv1d backward on the padded input, with the padding cut off.
    """

    def __init__(self, W, b, dilation=1):
        with inner_layer(self, "its convolution", {}):
            self.conv = Conv1d(W, b, dilation=dilation)
        super().__init__(W=self.conv.params["W"], b=self.conv.params["b"])
        self.pad = dilation * (self.params["W"].shape[2] - 1)

    def forward(self, x):
        x = float_array(self, "x", x, ndim=3)
        dim_equals(self, "x", x, 1, self.params["W"].shape[1], "the input channels of the kernel")
        self.out = self.conv.forward(np.pad(x, ((0, 0), (0, 0), (self.pad, 0))))
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        dx_padded = self.conv.backward(dout)
        self.grads.update(self.conv.grads)
        return dx_padded[:, :, self.pad:]


@allow_unbatched(4)
class ConvTranspose2d(Layer):
    """Transposed convolution ("deconvolution"): the adjoint of Conv2d's input gradient.

    x (N, C_in, H, W), W (C_in, C_out / groups, KH, KW). Every input pixel scatters a copy
    of its kernel, scaled by its value, onto the output:
        y_pad[n, o, i*sh + p*dh, j*sw + q*dw] += sum_c x[n, c, i, j] W[c, o, p, q]
        OH = (H - 1) sh - 2 ph + dh (KH - 1) + output_padding + 1
    that is, forward = col2im(x W) and backward uses im2col, the reverse of Conv2d:
        dX = im2col(dy) W^T,   dW = x^T im2col(dy),   db = sum of dy over n, i, j.
    With groups g, input channel group j (C_in / g channels) scatters onto output channel
    group j only: the products x W are taken group by group.
    """

    def __init__(self, W, b, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                 padding_mode="zeros"):
        _zeros_only(self, padding_mode)
        W = float_array(self, "W", W, ndim=4)
        if not isinstance(groups, (int, np.integer)) or groups < 1 or W.shape[0] % groups:
            raise ValueError(f"ConvTranspose2d: 'groups' must be a positive int dividing "
                             f"the {W.shape[0]} input channels of W, got {groups!r}")
        self.groups = int(groups)
        super().__init__(W=W, b=_check_bias(self, b, W.shape[1] * self.groups))
        self.stride = _pair("ConvTranspose2d", "stride", stride, 1)
        self.padding = _pair("ConvTranspose2d", "padding", padding, 0)
        self.dilation = _pair("ConvTranspose2d", "dilation", dilation, 1)
        self.output_padding = _pair("ConvTranspose2d", "output_padding", output_padding, 0)
        if any(op >= max(s, d) for op, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(f"ConvTranspose2d: 'output_padding' {self.output_padding} must be "
                             f"smaller than the stride or the dilation")

    def _geometry(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation)

    def _kernels(self):
        """W as one matrix per group: (G, C_in / G, C_out/G * KH * KW)."""
        W = self.params["W"]
        return W.reshape(self.groups, W.shape[0] // self.groups, -1)

    def forward(self, x):
        W, b, g = self.params["W"], self.params["b"], self.groups
        x = float_array(self, "x", x, ndim=4)
        dim_equals(self, "x", x, 1, W.shape[0], "the input channels of W (its first axis)")
        n, c, h, w = x.shape
        c_out, kh, kw = W.shape[1] * g, W.shape[2], W.shape[3]
        oh, ow = ((size - 1) * s - 2 * p + d * (k - 1) + op + 1 for size, s, p, d, k, op in
                  zip((h, w), self.stride, self.padding, self.dilation, (kh, kw), self.output_padding))
        if min(oh, ow) < 1:
            raise ShapeError(f"ConvTranspose2d: argument 'x' of shape {x.shape} gives an empty "
                             f"output with padding {self.padding}")
        self.x = x
        self.y_shape = (n, c_out, oh, ow)
        # rows: (G, N*H*W, C_in/G), one row per pixel and group
        rows = x.transpose(1, 0, 2, 3).reshape(g, c // g, n * h * w).transpose(0, 2, 1)
        windows = rows @ self._kernels()                          # x W per pixel and group
        windows = windows.reshape(g, n, h, w, c_out // g, kh, kw).transpose(1, 0, 4, 2, 3, 5, 6)
        y = col2im(windows.reshape(n, c_out, h, w, kh, kw), self.y_shape, **self._geometry())
        return y + b[:, None, None]

    def backward(self, dout):
        require_forward(self, "x")
        W, g = self.params["W"], self.groups
        n, c, h, w = self.x.shape
        dout = upstream(self, dout, self.y_shape)
        windows = im2col(dout, W.shape[2:], **self._geometry())[:, :, :h, :w]  # (N, C_out, H, W, KH, KW)
        # im2col(dy) per group: (G, N*H*W, C_out/G * KH * KW)
        dcols = windows.reshape(n, g, W.shape[1], h, w, *W.shape[2:]) \
            .transpose(1, 0, 3, 4, 2, 5, 6).reshape(g, n * h * w, W[0].size)
        rows = self.x.transpose(1, 0, 2, 3).reshape(g, c // g, n * h * w).transpose(0, 2, 1)
        self.grads["W"] = (rows.transpose(0, 2, 1) @ dcols).reshape(W.shape)   # dW = x^T im2col(dy)
        self.grads["b"] = dout.sum(axis=(0, 2, 3))
        dx = dcols @ self._kernels().transpose(0, 2, 1)                        # dX = im2col(dy) W^T
        return dx.reshape(g, n, h, w, c // g).transpose(1, 0, 4, 2, 3).reshape(n, c, h, w)


def _pool_geometry(size, kernel, stride, padding, dilation, ceil_mode):
    """Window count along one axis, and the zeros (or -inf) to add after the input so that
    every window lies inside: PyTorch's pooling with ceil_mode rounds the count up, keeping
    a last window only if it starts inside the input or the padding before it."""
    span = dilation * (kernel - 1) + 1
    reach = size + 2 * padding - span
    count = (-(-reach // stride) if ceil_mode else reach // stride) + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    extra = max(0, (count - 1) * stride + span - (size + 2 * padding))
    return count, extra


class _Pool2d(Layer):
    """Shared set-up of the pooling layers: kernel, stride (default: the kernel), padding,
    dilation, ceil_mode; the cutting into windows and the adding back."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        name = type(self).__name__
        self.kernel = _pair(name, "kernel_size", kernel_size, 1)
        self.stride = self.kernel if stride is None or (not np.isscalar(stride) and len(stride) == 0) \
            else _pair(name, "stride", stride, 1)
        self.padding = _pair(name, "padding", padding, 0)
        self.dilation = _pair(name, "dilation", dilation, 1)
        self.ceil_mode = bool(ceil_mode)
        span = [d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation)]
        if any(2 * p > s for p, s in zip(self.padding, span)):
            raise ValueError(f"{name}: 'padding' {self.padding} must be at most half the "
                             f"(dilated) kernel {tuple(span)}")

    def _windows(self, x, pad_value):
        x = float_array(self, "x", x, ndim=4)
        _check_input(self, x, x.shape[1], self.kernel, self.stride, self.padding, self.dilation)
        self.x_shape = x.shape
        geometry = [_pool_geometry(size, k, s, p, d, self.ceil_mode) for size, k, s, p, d in
                    zip(x.shape[2:], self.kernel, self.stride, self.padding, self.dilation)]
        self.sides = tuple((p, p + extra) for p, (_, extra) in zip(self.padding, geometry))
        return im2col(x, self.kernel, self.stride, self.sides, self.dilation, pad_value=pad_value)

    def _scatter(self, dwindows):
        return col2im(dwindows, self.x_shape, self.stride, self.sides, self.dilation)


@allow_unbatched(4)
class MaxPool2d(_Pool2d):
    """y[n, c, i, j] = max of window (i, j); padding counts as -infinity.

    Backward: the whole gradient of a window goes to its maximum. With ties it goes
    to the FIRST maximum in row-major order within the window (PyTorch's convention),
    which argmax gives. Overlapping windows add their gradients.
    return_indices=True: forward also returns where each maximum is, as the flat index
    h * W + w in its input plane (PyTorch's indices, for MaxUnpool).
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                 return_indices=False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)
        self.return_indices = bool(return_indices)

    def forward(self, x):
        windows = self._windows(x, pad_value=-np.inf)
        flat = windows.reshape(*windows.shape[:4], np.prod(windows.shape[4:]))  # (N, C, OH, OW, KH*KW)
        self.argmax = flat.argmax(axis=-1)                     # first maximum of each window
        y = np.take_along_axis(flat, self.argmax[..., None], axis=-1)[..., 0]
        return (y, self._indices()) if self.return_indices else y

    def _indices(self):
        """Flat input index of each maximum: row i*sh + p*dh - ph, column j*sw + q*dw - pw."""
        p, q = np.divmod(self.argmax, self.kernel[1])
        oh, ow = self.argmax.shape[2:]
        rows = np.arange(oh)[:, None] * self.stride[0] + p * self.dilation[0] - self.padding[0]
        cols = np.arange(ow)[None, :] * self.stride[1] + q * self.dilation[1] - self.padding[1]
        return (rows * self.x_shape[3] + cols).astype(np.int64)

    def backward(self, dout):
        require_forward(self, "argmax")
        dout = upstream(self, dout, self.argmax.shape)
        dflat = np.zeros(dout.shape + (self.kernel[0] * self.kernel[1],), dtype=dout.dtype)
        np.put_along_axis(dflat, self.argmax[..., None], dout[..., None], axis=-1)
        return self._scatter(dflat.reshape(*dout.shape, *self.kernel))


@allow_unbatched(4)
class AvgPool2d(_Pool2d):
    """y[n, c, i, j] = mean of window (i, j) over KH*KW values, zero padding included
    (PyTorch's count_include_pad=True).

    Backward: each value of a window receives dout / (KH*KW).
    Options as PyTorch: count_include_pad=False divides by the input values in the window
    only; ceil_mode keeps a last partial window (divided by what it covers of the padded
    input); divisor_override divides every window by that number instead.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        if divisor_override is not None and not (isinstance(divisor_override, (int, np.integer))
                                                 and divisor_override != 0):
            raise ValueError(f"AvgPool2d: 'divisor_override' must be a non-zero int, "
                             f"got {divisor_override!r}")
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override

    def forward(self, x):
        windows = self._windows(x, pad_value=0.0)
        self.out_shape = windows.shape[:4]
        self.divisor = self._divisors(windows.shape[2:4])
        return windows.sum(axis=(4, 5)) / self.divisor

    def _divisors(self, out_hw):
        """How many values each window (i, j) is divided by: KH*KW in the plain case."""
        if self.divisor_override is not None:
            return float(self.divisor_override)
        counts = []
        for count, size, k, s, p in zip(out_hw, self.x_shape[2:], self.kernel, self.stride,
                                        self.padding):
            start = np.arange(count) * s - p
            end = np.minimum(start + k, size + p)            # the window, cut at the padding
            if not self.count_include_pad:
                start, end = np.maximum(start, 0), np.minimum(end, size)
            counts.append(end - start)
        return np.outer(*counts).astype(float)

    def backward(self, dout):
        require_forward(self, "out_shape")
        dout = upstream(self, dout, self.out_shape)
        share = dout / self.divisor
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


@allow_unbatched(4)
class AdaptiveAvgPool2d(Layer):
    """PyTorch's adaptive_avg_pool2d: the mean over window (i, j) of a grid of OH x OW windows
    that tile the input, window i covering rows floor(i H / OH) .. ceil((i + 1) H / OH) - 1
    (and columns likewise). output_size is an int, or a pair where None keeps the input's size.

    Backward: each value of window (i, j) receives dout[i, j] / (its window's size), summed
    over the windows that overlap there.
    """

    def __init__(self, output_size):
        super().__init__()
        sizes = (output_size, output_size) if np.isscalar(output_size) or output_size is None \
            else tuple(output_size)
        if len(sizes) != 2 or not all(v is None or (isinstance(v, (int, np.integer)) and v >= 1)
                                      for v in sizes):
            raise ValueError(f"AdaptiveAvgPool2d: 'output_size' must be an int or a pair of "
                             f"ints >= 1 (or None), got {output_size!r}")
        self.output_size = sizes

    @staticmethod
    def _bounds(size, count):
        """(start, end) of each of `count` windows over `size` positions."""
        return [(i * size // count, -(-(i + 1) * size // count)) for i in range(count)]

    def forward(self, x):
        x = float_array(self, "x", x, ndim=4)
        oh, ow = (s if s is not None else size for s, size in zip(self.output_size, x.shape[2:]))
        self.x_shape = x.shape
        self.rows, self.cols = self._bounds(x.shape[2], oh), self._bounds(x.shape[3], ow)
        y = np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype)
        for i, (r0, r1) in enumerate(self.rows):
            for j, (c0, c1) in enumerate(self.cols):
                y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
        return y

    def backward(self, dout):
        require_forward(self, "x_shape")
        dout = upstream(self, dout, self.x_shape[:2] + (len(self.rows), len(self.cols)))
        dx = np.zeros(self.x_shape, dtype=dout.dtype)
        for i, (r0, r1) in enumerate(self.rows):
            for j, (c0, c1) in enumerate(self.cols):
                dx[:, :, r0:r1, c0:c1] += (dout[:, :, i, j] / ((r1 - r0) * (c1 - c0)))[:, :, None, None]
        return dx
