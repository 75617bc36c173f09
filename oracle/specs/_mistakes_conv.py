"""The mistakes people make writing convolution and pooling backward passes, as code.

Each entry is a `compute` function (CaseData, hp, dout) -> {quantity: array}: the
convolution written here on its own, one strided slice per kernel tap (p, q),

    y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] x_pad[n, c, i s + p d, j s + q d],

with the mistake switched on by a flag. Layouts as torch (see conv.py).
"""
import numpy as np

from ... import impl
from ..spec import Mistake


def _pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def _taps(shape, kernel, stride, dilation, out):
    """(p, q, slice of the padded input read by tap (p, q)) for every tap."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    for p in range(kh):
        for q in range(kw):
            yield p, q, (slice(None), slice(None), slice(p * dh, p * dh + sh * (oh - 1) + 1, sh),
                         slice(q * dw, q * dw + sw * (ow - 1) + 1, sw))


def conv2d(x, W, b, dout, stride=1, padding=0, dilation=1, groups=1, flags=(), pad=None):
    """out, dx, dW, db of a 2-D convolution; `pad` ((top, bottom), (left, right)) overrides padding."""
    stride, dilation = _pair(stride), _pair(dilation)
    if pad is None:
        pad = tuple((p, p) for p in _pair(padding))
    N, C, H, Wd = x.shape
    O, Cg, KH, KW = W.shape
    xp = np.pad(x, ((0, 0), (0, 0)) + pad)
    out_hw = tuple((xp.shape[2 + a] - dilation[a] * ((KH, KW)[a] - 1) - 1) // stride[a] + 1 for a in (0, 1))
    G, Og = groups, O // groups
    y = np.zeros((N, O) + out_hw, dtype=x.dtype)
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    Wx = W[:, :, ::-1, ::-1] if "dx_kernel_flipped" in flags else W      # the kernel dx reads
    for p, q, s in _taps(x.shape, (KH, KW), stride, dilation, out_hw):
        patch = xp[s]
        for g in range(G):
            o, c = slice(g * Og, (g + 1) * Og), slice(g * Cg, (g + 1) * Cg)
            y[:, o] += np.einsum("oc,ncij->noij", W[o, :, p, q], patch[:, c])
            dW[o, :, p, q] += np.einsum("noij,ncij->oc", dout[:, o], patch[:, c])
            dxp[s][:, c] += np.einsum("oc,noij->ncij", Wx[o, :, p, q], dout[:, o])
    y += b[None, :, None, None]
    (top, bottom), (left, right) = pad
    dx = dxp if "dx_padding_kept" in flags else \
        dxp[:, :, top:dxp.shape[2] - bottom, left:dxp.shape[3] - right]
    if "dW_batch_mean" in flags:
        dW = dW / N
    if "dW_reshape_without_transpose" in flags:       # (C*KH*KW, O) matrix reshaped as (O, C, KH, KW)
        dW = np.ascontiguousarray(dW.reshape(O, -1).T).reshape(W.shape)
    db = dout.sum(axis=0) if "db_not_summed_over_space" in flags else dout.sum(axis=(0, 2, 3))
    return y, dx, dW, db


def conv_transpose2d(x, W, b, dout, stride=1, padding=0, output_padding=0, dilation=1, flags=()):
    """out, dx, dW, db of torch's ConvTranspose2d, W (C_in, C_out, KH, KW):
    y_full[n, o, i s + p d, j s + q d] += sum_c x[n, c, i, j] W[c, o, p, q], then cropped."""
    (sh, sw), (ph, pw), (eh, ew), (dh, dw) = map(_pair, (stride, padding, output_padding, dilation))
    N, C, H, Wd = x.shape
    _, O, KH, KW = W.shape
    full = ((H - 1) * sh + dh * (KH - 1) + 1 + eh, (Wd - 1) * sw + dw * (KW - 1) + 1 + ew)
    y = np.zeros((N, O) + full, dtype=x.dtype)
    dy = np.zeros_like(y)
    OH, OW = full[0] - 2 * ph, full[1] - 2 * pw
    dy[:, :, ph:ph + OH, pw:pw + OW] = dout
    dx, dW = np.zeros_like(x), np.zeros_like(W)
    Wx = W[:, :, ::-1, ::-1] if "dx_kernel_flipped" in flags else W
    for p, q, s in _taps(None, (KH, KW), (sh, sw), (dh, dw), (H, Wd)):
        y[s] += np.einsum("nchw,co->nohw", x, W[:, :, p, q])
        dx += np.einsum("nohw,co->nchw", dy[s], Wx[:, :, p, q])
        dW[:, :, p, q] = np.einsum("nchw,nohw->co", x, dy[s])
    y = y[:, :, ph:ph + OH, pw:pw + OW] + b[None, :, None, None]
    if "dW_batch_mean" in flags:
        dW = dW / N
    db = dout.sum(axis=0) if "db_not_summed_over_space" in flags else dout.sum(axis=(0, 2, 3))
    return y, dx, dW, db


def _result(out, dx, dW, db):
    return {"out": out, "grad:x": dx, "grad:W": dW, "grad:b": db}


def _conv2d_op(flags):
    def compute(data, hp, dout):
        return _result(*conv2d(data.inputs["x"], data.params["W"], data.params["b"], dout,
                               hp.get("stride", 1), hp.get("padding", 0), hp.get("dilation", 1),
                               hp.get("groups", 1), flags))
    return compute


def _depthwise_op(flags):
    def compute(data, hp, dout):
        x = data.inputs["x"]
        return _result(*conv2d(x, data.params["W"], data.params["b"], dout, hp.get("stride", 1),
                               hp.get("padding", 0), hp.get("dilation", 1), x.shape[1], flags))
    return compute


def _as_2d(y, dx, dW, db, flags):
    return y[:, :, 0], dx[:, :, 0], dW[:, :, 0], (db[:, 0] if "db_not_summed_over_space" in flags else db)


def _conv1d_op(flags):
    def compute(data, hp, dout):
        x, W = data.inputs["x"], data.params["W"]
        p = hp.get("padding", 0)
        parts = conv2d(x[:, :, None], W[:, :, None], data.params["b"], dout[:, :, None],
                       (1, hp.get("stride", 1)), None, (1, hp.get("dilation", 1)), hp.get("groups", 1),
                       flags, pad=((0, 0), (p, p)))
        return _result(*_as_2d(*parts, flags))
    return compute


def _causal_op(flags):
    def compute(data, hp, dout):
        x, W = data.inputs["x"], data.params["W"]
        d = hp.get("dilation", 1)
        left = d * (W.shape[2] - 1)
        inner = tuple(f for f in flags if f != "causal_cut_on_the_right")
        keep = ("dx_padding_kept",) if "causal_cut_on_the_right" in flags else ()
        y, dx, dW, db = _as_2d(*conv2d(x[:, :, None], W[:, :, None], data.params["b"], dout[:, :, None],
                                       1, None, (1, d), 1, inner + keep, pad=((0, 0), (left, 0))), flags)
        if keep:                          # the padded gradient cut at the end instead of the start
            dx = dx[:, :, :x.shape[2]]
        return _result(y, dx, dW, db)
    return compute


def _transposed_op(flags):
    def compute(data, hp, dout):
        return _result(*conv_transpose2d(data.inputs["x"], data.params["W"], data.params["b"], dout,
                                         hp.get("stride", 1), hp.get("padding", 0),
                                         hp.get("output_padding", 0), hp.get("dilation", 1), flags))
    return compute


# -- pooling --------------------------------------------------------------------------------

def _windows(x, hp, pad_value):
    kernel = _pair(hp["kernel_size"])
    stride = _pair(hp.get("stride") or hp["kernel_size"])
    P = _pair(hp.get("padding", 0))
    xp = np.pad(x, ((0, 0), (0, 0), (P[0], P[0]), (P[1], P[1])), constant_values=pad_value)
    out = tuple((x.shape[2 + a] + 2 * P[a] - kernel[a]) // stride[a] + 1 for a in (0, 1))
    return kernel, stride, P, xp, out


def _unpad(dxp, P):
    return dxp[:, :, P[0]:dxp.shape[2] - P[0], P[1]:dxp.shape[3] - P[1]]


def max_pool(flags):
    """Max pooling whose gradient goes to `flags`: every maximum of a window (ties), or
    every element of the window; the right one goes to the first maximum only."""
    def compute(data, hp, dout):
        x = data.inputs["x"]
        (kh, kw), (sh, sw), P, xp, (oh, ow) = _windows(x, hp, -np.inf)
        y = np.empty(x.shape[:2] + (oh, ow), x.dtype)
        dxp = np.zeros_like(xp)
        for i in range(oh):
            for j in range(ow):
                win = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                m = win.max(axis=(2, 3), keepdims=True)
                y[:, :, i, j] = m[:, :, 0, 0]
                if "to_every_element" in flags:
                    share = np.ones_like(win)
                elif "to_every_tie" in flags:
                    share = (win == m).astype(x.dtype)
                else:
                    flat = win.reshape(win.shape[:2] + (-1,)).argmax(axis=2)
                    share = np.zeros_like(win).reshape(win.shape[:2] + (-1,))
                    np.put_along_axis(share, flat[..., None], 1.0, axis=2)
                    share = share.reshape(win.shape)
                dxp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += share * dout[:, :, i, j][:, :, None, None]
        return {"out": y, "grad:x": _unpad(dxp, P)}
    return compute


def avg_pool(flags):
    """Average pooling; `not_divided` leaves out 1/(KH KW), `exclude_pad` divides by the
    number of real (not padded) values in the window (count_include_pad=False)."""
    def compute(data, hp, dout):
        x = data.inputs["x"]
        (kh, kw), (sh, sw), P, xp, (oh, ow) = _windows(x, hp, 0.0)
        real = np.pad(np.ones(x.shape[2:], x.dtype), ((P[0], P[0]), (P[1], P[1])))
        y = np.empty(x.shape[:2] + (oh, ow), x.dtype)
        dxp = np.zeros_like(xp)
        for i in range(oh):
            for j in range(ow):
                rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                count = 1.0 if "not_divided" in flags else \
                    real[rows, cols].sum() if "exclude_pad" in flags else kh * kw
                y[:, :, i, j] = xp[:, :, rows, cols].sum(axis=(2, 3)) / count
                dxp[:, :, rows, cols] += dout[:, :, i, j][:, :, None, None] / count
        return {"out": y, "grad:x": _unpad(dxp, P)}
    return compute


def global_avg_pool_not_divided(data, hp, dout):
    x = data.inputs["x"]
    return {"out": x.sum(axis=(2, 3)), "grad:x": np.broadcast_to(dout[:, :, None, None], x.shape).copy()}


# -- the catalogues ----------------------------------------------------------------------

FLIP = ("dx_kernel_flipped",
        "dx uses the flipped kernel: the forward pass is a cross-correlation, so dx spreads "
        "each dout[i, j] back with W as it is, dx[i s + p d, j s + q d] += W[p, q] dout[i, j]",
        "dx でカーネルを反転している: 順伝播は相互相関なので dx[i s + p d, j s + q d] += W[p, q] dout[i, j] と W をそのまま使う")
DW_MEAN = ("dW_batch_mean",
           "dW is averaged over the batch: the weights are shared by every sample, so dW is the SUM over n",
           "dW をバッチで平均している: 重みは全サンプルで共有されるので dW はバッチの和")
DB_SPACE = ("db_not_summed_over_space",
            "db is summed over the batch only: the bias is added at every output position, "
            "so db = dout.sum(axis=(0, 2, 3))",
            "db をバッチ方向にしか足していない: バイアスは全位置に足されるので db = dout.sum(axis=(0, 2, 3))")
PADDING_KEPT = ("dx_padding_kept",
                "dx keeps the padding: cut the padded border off the gradient, dx = dx_pad[:, :, P:-P, P:-P]",
                "dx にパディング分が残っている: dx = dx_pad[:, :, P:-P, P:-P] と縁を切り落とす")
RESHAPE = ("dW_reshape_without_transpose",
           "the (C*KH*KW, C_out) matrix of dW is reshaped without transposing: "
           "dW = dW_col.T.reshape(C_out, C, KH, KW)",
           "dW の (C*KH*KW, C_out) 行列を転置せずに reshape している: dW = dW_col.T.reshape(C_out, C, KH, KW)")
CAUSAL_CUT = ("causal_cut_on_the_right",
              "the causal padding is cut from the wrong end of dx: the zeros were added on the left, "
              "so dx = dx_pad[:, :, (K - 1) d:]",
              "因果パディングを dx の反対側で切っている: ゼロは左に足したので dx = dx_pad[:, :, (K - 1) d:]")


def _entries(make, rows):
    return [Mistake(name, says, compute=make((name,)), says_ja=ja) for name, says, ja in rows]


CONV2D = _entries(_conv2d_op, [FLIP, DW_MEAN, DB_SPACE, PADDING_KEPT, RESHAPE])
DEPTHWISE = _entries(_depthwise_op, [FLIP, DW_MEAN, DB_SPACE, PADDING_KEPT])
CONV1D = _entries(_conv1d_op, [FLIP, DW_MEAN, DB_SPACE, PADDING_KEPT])
CAUSAL = _entries(_causal_op, [FLIP, DW_MEAN, DB_SPACE, CAUSAL_CUT])
TRANSPOSED = _entries(_transposed_op, [FLIP, DW_MEAN, DB_SPACE])
MAX_POOL = [
    Mistake("to_every_element", "the gradient goes to every element of the window: only the "
            "maximum (the first one, at a tie) gets dout", compute=max_pool(("to_every_element",)),
            says_ja="窓の全要素に勾配を流している: 最大値の位置 (同点なら最初の1つ) だけに dout を流す"),
    Mistake("to_every_tie", "the gradient goes to every maximum of a window with ties: only the "
            "first maximum in row-major order gets it (torch's argmax)", compute=max_pool(("to_every_tie",)),
            says_ja="同点の最大値すべてに勾配を流している: 行優先で最初の最大値だけに流す (torch の argmax)"),
]
AVG_POOL = [
    Mistake("not_divided", "the average pool is not divided by the window size: y = sum / (KH KW), "
            "and dx = dout / (KH KW) on every element of the window", compute=avg_pool(("not_divided",)),
            says_ja="平均プーリングを窓の大きさで割っていない: y = 和 / (KH KW)、dx = dout / (KH KW)"),
    Mistake("exclude_pad", "the window is divided by its real (not padded) values: torch's default "
            "count_include_pad=True divides every window by KH KW", compute=avg_pool(("exclude_pad",)),
            says_ja="パディングを除いた要素数で割っている: torch の既定 count_include_pad=True では常に KH KW で割る"),
]
GLOBAL_AVG_POOL = [
    Mistake("not_divided", "the global average is not divided by H W: y = x.sum(axis=(2, 3)) / (H W) "
            "and dx = dout / (H W)", compute=global_avg_pool_not_divided,
            says_ja="全体平均を H W で割っていない: y = x.sum(axis=(2, 3)) / (H W)、dx = dout / (H W)"),
]

CATALOGUE = {"conv2d": CONV2D, "depthwise_conv2d": DEPTHWISE, "conv1d": CONV1D, "causal_conv1d": CAUSAL,
             "conv_transpose2d": TRANSPOSED, "max_pool2d": MAX_POOL, "avg_pool2d": AVG_POOL,
             "global_avg_pool2d": GLOBAL_AVG_POOL}


# -- conv2d as loops: the mistakes of the loop form ----------------------------------------

class _MistakenLoops:
    """Conv2dLoops' backward, one output position at a time, with the mistake of `flags`:
        dW_overwritten        dW[o] = ... instead of += (only the last window's term is kept)
        dx_overwritten        dx_pad[window] = ... instead of += (overlapping windows overwrite)
        stride_ignored        backward reads window (i, j) at rows i, columns j (stride 1)
        dilation_ignored      backward reads the taps side by side (dilation 1)
    A mixin before impl.Conv2dLoops: its constructor and forward are the answer key's."""
    flags = ()

    def backward(self, dout):
        if getattr(self, "unbatched", False):      # as allow_unbatched wraps the answer key's
            return self.mistaken_backward(np.asarray(dout)[None])[0]
        return self.mistaken_backward(dout)

    def mistaken_window(self, o, i, j):
        (sh, sw), (dh, dw) = self.stride, self.dilation
        if "stride_ignored" in self.flags:
            sh = sw = 1
        if "dilation_ignored" in self.flags:
            dh = dw = 1
        c_g, kh, kw = self.params["W"].shape[1:]
        group = o // (self.params["W"].shape[0] // self.groups)
        return (slice(None), slice(group * c_g, (group + 1) * c_g),
                slice(i * sh, i * sh + dh * (kh - 1) + 1, dh), slice(j * sw, j * sw + dw * (kw - 1) + 1, dw))

    def mistaken_backward(self, dout):
        W = self.params["W"]
        n, _, h, w = self.x_shape
        dW, dxp = np.zeros_like(W), np.zeros_like(self.xp)
        for o in range(W.shape[0]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    where, d = self.mistaken_window(o, i, j), dout[:, o, i, j]
                    term = np.tensordot(d, self.xp[where], axes=1)        # sum_n d_n window_n
                    dW[o] = term if "dW_overwritten" in self.flags else dW[o] + term
                    spread = d[:, None, None, None] * W[o]
                    if "dx_overwritten" in self.flags:
                        dxp[where] = spread
                    else:
                        dxp[where] += spread
        self.grads["W"], self.grads["b"] = dW, dout.sum(axis=(0, 2, 3))
        (top, _), (left, _) = self.padding
        return dxp[:, :, top:top + h, left:left + w]


def _loops(flag):
    return type("MistakenConv2dLoops", (_MistakenLoops, impl.Conv2dLoops), {"flags": (flag,)})


LOOPS = [
    ("dW_overwritten",
     "dW[o] is assigned in the loop over output positions (dW[o] = ...): every window adds its term, "
     "dW[o] += sum_n dout[n, o, i, j] window_n(i, j)",
     "出力の位置のループの中で dW[o] に代入している (dW[o] = ...): 窓ごとの項を dW[o] += ... と足し合わせる"),
    ("dx_overwritten",
     "dx_pad[window] is assigned (=) in the loop: overlapping windows add up, dx_pad[window] += dout[n, o, i, j] W[o]",
     "ループの中で dx_pad[窓] に代入 (=) している: 重なる窓の勾配は dx_pad[窓] += dout[n, o, i, j] W[o] と足し合わせる"),
    ("stride_ignored_in_backward",
     "backward reads window (i, j) at row i and column j: it starts at row i * stride, as in forward",
     "逆伝播で窓 (i, j) を i 行、j 列から読んでいる: 順伝播と同じく i * stride 行から始まる"),
    ("dilation_ignored_in_backward",
     "backward reads the kernel taps side by side: they are dilation apart, rows i s + p d, as in forward",
     "逆伝播でカーネルの要素を隣り合わせに読んでいる: 順伝播と同じく dilation おき (i s + p d 行) に読む"),
]
CONV2D_LOOPS = _entries(_conv2d_op, [FLIP, DW_MEAN, DB_SPACE, PADDING_KEPT]) + [
    Mistake(name, says, layer=_loops(name.replace("_in_backward", "")), says_ja=ja) for name, says, ja in LOOPS]


# -- adaptive and global average pooling ------------------------------------------------------

def _torch_bounds(size, count):
    """PyTorch's windows: [floor(i size / count), ceil((i + 1) size / count))."""
    return [(i * size // count, -(-(i + 1) * size // count)) for i in range(count)]


def _floor_bounds(size, count):
    """Windows ended at floor((i + 1) size / count): they tile without overlap, and are empty
    where there are more outputs than inputs."""
    return [(i * size // count, (i + 1) * size // count) for i in range(count)]


def _fixed_bounds(size, count):
    """A fixed window as avg_pool2d would use: stride size // count, kernel size - (count - 1) stride."""
    stride = size // count
    kernel = size - (count - 1) * stride
    return [(i * stride, i * stride + kernel) for i in range(count)]


def adaptive_avg_pool(flags):
    """out, dx of adaptive average pooling over windows (rows x columns); the mistake of `flags`:
        floor_windows / fixed_kernel   other windows (forward and backward)
        not_divided                    dx += dout, no 1 / (window size)
        divided_by_map                 dx += dout / (H W) instead of the window's size
        first_element_only             the whole dout of a window goes to its first element
        overlap_overwritten            dx[window] = ... : overlapping windows overwrite"""
    bounds = _floor_bounds if "floor_windows" in flags else \
        _fixed_bounds if "fixed_kernel" in flags else _torch_bounds

    def compute(data, hp, dout):
        x = data.inputs["x"]
        H, W = x.shape[-2:]
        size = hp["output_size"]
        size = (size, size) if np.isscalar(size) or size is None else tuple(size)
        oh, ow = (s if s is not None else n for s, n in zip(size, (H, W)))
        rows, cols = bounds(H, oh), bounds(W, ow)
        y = np.empty(x.shape[:-2] + (oh, ow), dtype=x.dtype)
        dx = np.zeros_like(x)
        for i, (r0, r1) in enumerate(rows):
            for j, (c0, c1) in enumerate(cols):
                y[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
                g = dout[..., i, j][..., None, None]
                if "first_element_only" in flags:
                    dx[..., r0:r0 + 1, c0:c0 + 1] += g
                    continue
                count = 1.0 if "not_divided" in flags else H * W if "divided_by_map" in flags \
                    else (r1 - r0) * (c1 - c0)
                if "overlap_overwritten" in flags:
                    dx[..., r0:r1, c0:c1] = g / count
                else:
                    dx[..., r0:r1, c0:c1] += g / count
        return {"out": y, "grad:x": dx}
    return compute


def _global_avg_pool(flag):
    """Global average pooling's dx with the mistake `flag` (the forward is right):
        over_batch_too      dx = dout / (N H W): the mean taken over the batch as well
        first_element_only  dx[:, :, 0, 0] = dout / (H W), zero elsewhere"""
    def compute(data, hp, dout):
        x = data.inputs["x"]
        N, C, H, W = x.shape
        if flag == "over_batch_too":
            return {"grad:x": np.broadcast_to(dout[:, :, None, None] / (N * H * W), x.shape).copy()}
        dx = np.zeros_like(x)
        dx[:, :, 0, 0] = dout / (H * W)
        return {"grad:x": dx}
    return compute


NOT_DIVIDED_ADAPTIVE = (
    "not_divided",
    "the gradient is not divided by the window's size: each value of window (i, j) gets "
    "dout[i, j] / (its window's rows x columns), as forward took the mean",
    "勾配を窓の大きさで割っていない: 順伝播で平均を取ったので、窓 (i, j) の各値には dout[i, j] / (窓の行数 x 列数) を流す")
ADAPTIVE_AVG_POOL = [Mistake(name, says, compute=adaptive_avg_pool((name,)), says_ja=ja) for name, says, ja in [
    NOT_DIVIDED_ADAPTIVE,
    ("divided_by_map",
     "the gradient is divided by the whole map's size H W: divide each window's dout by that "
     "window's own size (rows x columns)",
     "勾配を特徴マップ全体の大きさ H W で割っている: 窓ごとに、その窓の大きさ (行数 x 列数) で割る"),
    ("first_element_only",
     "a window's gradient goes to its first element only, as in max pooling: an average spreads "
     "dout / (window size) over every element of the window",
     "窓の勾配を最初の要素だけに流している (Max プーリングのように): 平均は窓の全要素に dout / (窓の大きさ) を流す"),
    ("overlap_overwritten",
     "dx[window] is assigned (=): where windows overlap their gradients add up, dx[window] += dout / size",
     "dx[窓] に代入 (=) している: 窓が重なるところでは勾配を dx[窓] += dout / 大きさ と足し合わせる"),
    ("floor_windows",
     "window i ends at floor((i + 1) H / OH): PyTorch's window i covers rows floor(i H / OH) to "
     "ceil((i + 1) H / OH) - 1, so neighbouring windows can overlap",
     "窓 i を floor((i + 1) H / OH) で終えている: PyTorch の窓 i は floor(i H / OH) 行から "
     "ceil((i + 1) H / OH) - 1 行までで、隣の窓と重なることがある"),
    ("fixed_kernel",
     "adaptive pooling is computed as avg_pool2d with stride H // OH and kernel H - (OH - 1) stride: "
     "PyTorch's windows are [floor(i H / OH), ceil((i + 1) H / OH)) and differ in size",
     "stride H // OH、kernel H - (OH - 1) stride の avg_pool2d として計算している: PyTorch の窓は "
     "[floor(i H / OH), ceil((i + 1) H / OH)) で、大きさが窓ごとに異なる"),
]]
GLOBAL_AVG_POOL += [
    Mistake("over_batch_too", "the gradient is divided by N H W, as if the mean ran over the batch too: "
            "each sample has its own mean, dx = dout / (H W)", compute=_global_avg_pool("over_batch_too"),
            says_ja="勾配を N H W で割っている (バッチ方向にも平均したかのように): 平均はサンプルごとなので dx = dout / (H W)"),
    Mistake("first_element_only", "the gradient goes to one element of the map, as in max pooling: every "
            "element of the map gets dout / (H W)", compute=_global_avg_pool("first_element_only"),
            says_ja="勾配を特徴マップの 1 つの要素だけに流している (Max プーリングのように): マップの全要素に dout / (H W) を流す"),
]

CATALOGUE.update({"conv2d_loops": CONV2D_LOOPS, "adaptive_avg_pool2d": ADAPTIVE_AVG_POOL})
