"""The mistakes people make writing convolution and pooling backward passes, as code.

Each entry is a `compute` function (CaseData, hp, dout) -> {quantity: array}: the
convolution written here on its own, one strided slice per kernel tap (p, q),

    y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] x_pad[n, c, i s + p d, j s + q d],

with the mistake switched on by a flag. Layouts as torch (see conv.py).
"""
import numpy as np

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
