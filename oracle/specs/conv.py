"""Convolutions and pooling: every stride, padding, dilation and groups variant named in the catalogue.

Layouts are PyTorch's (x: N, C, H, W; kernels: C_out, C_in / groups, KH, KW; transposed
kernels: C_in, C_out, KH, KW), so torch takes the arrays as they are and jax is told
the same layout through dimension_numbers. Few distinct shapes: each costs a JAX compile.
"""
import numpy as np

from ..frameworks import F, jnp, lax
from ..spec import Case, CaseData, OpSpec
from ._cases import batch_hint, normal, weight
from ._mistakes_conv import CATALOGUE as MISTAKES

FD_TIES = ("torch", "jax")


def _conv(x_shape, w_shape, out_axis=0):
    """x, kernel W (fan-in scaled) and bias b, one per output channel (axis `out_axis` of W;
    None: a grouped transposed kernel, whose C_out is groups * W.shape[1], given as x's C / 2)."""
    def make(rng):
        fan_in = int(np.prod(w_shape[1:]))
        channels = w_shape[out_axis] if out_axis is not None else 2 * w_shape[1]
        return CaseData(inputs={"x": normal(rng, *x_shape)},
                        params={"W": weight(rng, fan_in, *w_shape), "b": normal(rng, channels)})
    return make


def _transposed(x_shape):
    """x and a transposed-conv kernel W (C_in = 4, C_out = 3, 3, 3): the bias follows C_out."""
    return _conv(x_shape, (4, 3, 3, 3), out_axis=1)


def _x(*shape):
    return lambda rng: CaseData(inputs={"x": normal(rng, *shape)})


def _pair(hp, name, default):
    """A hyperparameter as a (height, width) pair, whether given as an int or a pair."""
    v = hp.get(name, default)
    return (v, v) if np.isscalar(v) else tuple(v)


def _conv_geometry(hp):
    padding = hp.get("padding", 0)
    return _pair(hp, "stride", 1), padding if isinstance(padding, str) else _pair(hp, "padding", 0), \
        _pair(hp, "dilation", 1)


def _jax_pads(padding, kernel, dilation):
    """jax's (low, high) padding per axis; 'same' written out (d (k - 1) zeros, the odd one
    after), so that jax is not trusted to place them as torch does."""
    if padding == "valid":
        return [(0, 0)] * len(kernel)
    if padding == "same":
        return [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]
    return [(p, p) for p in padding]


def _batched(fn, ndim):
    """A jax reference of batches, applied to an unbatched sample (one fewer axis) too."""
    def run(x, *rest):
        if x.ndim == ndim - 1:
            return fn(x[None], *rest)[0]
        return fn(x, *rest)
    return run


def _jax_conv2d(x, W, b, stride, padding, dilation, groups):
    def batch(x):
        y = lax.conv_general_dilated(x, W, window_strides=stride,
                                     padding=_jax_pads(padding, W.shape[2:], dilation),
                                     rhs_dilation=dilation, feature_group_count=groups,
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + b[None, :, None, None]
    return _batched(batch, 4)(x)


def _torch_conv2d(a, e, hp):
    stride, padding, dilation = _conv_geometry(hp)
    return F.conv2d(a["x"], a["W"], a["b"], stride, padding, dilation, hp.get("groups", 1))


def _jax_conv2d_op(a, e, hp):
    return _jax_conv2d(a["x"], a["W"], a["b"], *_conv_geometry(hp), hp.get("groups", 1))


def _torch_depthwise(a, e, hp):
    stride, padding, dilation = _conv_geometry(hp)
    return F.conv2d(a["x"], a["W"], a["b"], stride, padding, dilation, groups=a["x"].shape[-3])


def _jax_depthwise(a, e, hp):
    return _jax_conv2d(a["x"], a["W"], a["b"], *_conv_geometry(hp), a["x"].shape[-3])


def _jax_conv1d(x, W, b, stride=1, padding=(0, 0), dilation=1, groups=1):
    def batch(x):
        y = lax.conv_general_dilated(x, W, window_strides=(stride,), padding=[padding],
                                     rhs_dilation=(dilation,), feature_group_count=groups,
                                     dimension_numbers=("NCH", "OIH", "NCH"))
        return y + b[None, :, None]
    return _batched(batch, 3)(x)


def _one(hp, name, default):
    """A conv1d hyperparameter given as an int or a 1-tuple (as nn.Conv1d stores it)."""
    v = hp.get(name, default)
    return v if isinstance(v, (int, str)) else v[0]


def _jax_conv1d_op(a, e, hp):
    p, d = _one(hp, "padding", 0), _one(hp, "dilation", 1)
    (pads,) = _jax_pads(p, a["W"].shape[2:], (d,)) if isinstance(p, str) else [(p, p)]
    return _jax_conv1d(a["x"], a["W"], a["b"], _one(hp, "stride", 1), pads, d, hp.get("groups", 1))


def _causal_pad(a, hp):
    return hp.get("dilation", 1) * (a["W"].shape[2] - 1)


def _torch_transposed(a, e, hp):
    stride, padding, dilation = _conv_geometry(hp)
    out_pad = _pair(hp, "output_padding", 0)
    return F.conv_transpose2d(a["x"], a["W"], a["b"], stride, padding, out_pad,
                              hp.get("groups", 1), dilation)


def _jax_transposed(a, e, hp):
    """A transposed convolution is a convolution of the stride-dilated input with the
    spatially flipped kernel (in and out swapped), padded by d (k - 1) - p on each side
    and output_padding more at the end."""
    stride, padding, dilation = _conv_geometry(hp)
    out_pad = _pair(hp, "output_padding", 0)
    W, g = a["W"], hp.get("groups", 1)
    # per group: in and out swapped, the kernel flipped; groups stacked along the out axis
    c_in, c_og = W.shape[:2]
    kernel = jnp.flip(W, axis=(2, 3)).reshape(g, c_in // g, c_og, *W.shape[2:]) \
        .transpose(0, 2, 1, 3, 4).reshape(g * c_og, c_in // g, *W.shape[2:])
    pads = [(d * (k - 1) - p, d * (k - 1) - p + op)
            for d, k, p, op in zip(dilation, W.shape[2:], padding, out_pad)]

    def batch(x):
        y = lax.conv_general_dilated(x, kernel, window_strides=(1, 1), padding=pads,
                                     lhs_dilation=stride, rhs_dilation=dilation,
                                     feature_group_count=g, dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + a["b"][None, :, None, None]
    return _batched(batch, 4)(a["x"])


def _pool_geometry(hp):
    kernel = _pair(hp, "kernel_size", None)
    return kernel, _pair(hp, "stride", kernel), _pair(hp, "padding", 0)


POOL_OPTIONS = ("dilation", "ceil_mode", "count_include_pad", "divisor_override")


def _torch_pool(name):
    """torch.nn.functional.<name>, looked up at check time: no torch import at collection."""
    return lambda a, e, hp: getattr(F, name)(a["x"], *_pool_geometry(hp),
                                             **{k: hp[k] for k in POOL_OPTIONS if k in hp})


def _pool_windows(size, k, s, p, d, ceil_mode):
    """Window count along one axis and the padding after the input that the last one needs,
    from PyTorch's documented output size: floor or ceil((size + 2p - d (k - 1) - 1) / s) + 1,
    less one when ceil_mode's last window would start beyond the input and its left padding."""
    reach = (size + 2 * p - d * (k - 1) - 1) / s
    count = int(np.ceil(reach) if ceil_mode else np.floor(reach)) + 1
    if ceil_mode and (count - 1) * s >= size + p:
        count -= 1
    return count, max(0, (count - 1) * s + d * (k - 1) + 1 - size - 2 * p)


def _jax_pool(x, init, op, hp):
    kernel, stride, padding = _pool_geometry(hp)
    dilation = _pair(hp, "dilation", 1)
    extra = [_pool_windows(size, k, s, p, d, hp.get("ceil_mode", False))[1]
             for size, k, s, p, d in zip(x.shape[-2:], kernel, stride, padding, dilation)]
    pads = ((0, 0),) * (x.ndim - 2) + tuple((p, p + e) for p, e in zip(padding, extra))
    lead = (1,) * (x.ndim - 2)
    return lax.reduce_window(x, init, op, lead + kernel, lead + stride, pads,
                             window_dilation=lead + dilation)


def _jax_max_pool(a, e, hp):
    if _pair(hp, "dilation", 1) == (1, 1):
        return _jax_pool(a["x"], -jnp.inf, lax.max, hp)
    # jax has no VJP of a dilated max window: the max over the KH*KW taps, each a strided slice
    # of the -inf-padded input (random values: no ties, where jnp.max would split the gradient)
    x = a["x"]
    (kh, kw), (sh, sw), (ph, pw) = _pool_geometry(hp)
    dh, dw = _pair(hp, "dilation", 1)
    (oh, eh), (ow, ew) = (_pool_windows(size, k, s, p, d, hp.get("ceil_mode", False)) for size, k, s, p, d
                          in zip(x.shape[-2:], (kh, kw), (sh, sw), (ph, pw), (dh, dw)))
    xp = jnp.pad(x, ((0, 0),) * (x.ndim - 2) + ((ph, ph + eh), (pw, pw + ew)), constant_values=-jnp.inf)
    taps = [xp[..., p * dh:p * dh + sh * (oh - 1) + 1:sh, q * dw:q * dw + sw * (ow - 1) + 1:sw]
            for p in range(kh) for q in range(kw)]
    return jnp.max(jnp.stack(taps), axis=0)


def _jax_avg_pool(a, e, hp):
    """The window sums over the divisor: KH*KW, divisor_override, or a count of ones, pooled the
    same way (over the input alone with count_include_pad=False; over input and padding, but
    not beyond it, otherwise)."""
    sums = _jax_pool(a["x"], 0.0, lax.add, hp)
    if hp.get("divisor_override"):
        return sums / hp["divisor_override"]
    kernel, stride, padding = _pool_geometry(hp)
    plane = jnp.ones(a["x"].shape[-2:], dtype=a["x"].dtype)
    if hp.get("count_include_pad", True):
        plane = jnp.pad(plane, [(p, p) for p in padding], constant_values=1.0)
        hp_extra = [_pool_windows(size - 2 * p, k, s, p, 1, hp.get("ceil_mode", False))[1]
                    for size, k, s, p in zip(plane.shape, kernel, stride, padding)]
        plane = jnp.pad(plane, [(0, e) for e in hp_extra])
        counts = lax.reduce_window(plane, 0.0, lax.add, kernel, stride, ((0, 0), (0, 0)))
    else:
        counts = _jax_pool(plane, 0.0, lax.add, hp)
    return sums / counts


def _adaptive_windows(size, count):
    """PyTorch's adaptive pooling windows: [floor(i size / count), ceil((i + 1) size / count))."""
    return [(int(np.floor(i * size / count)), int(np.ceil((i + 1) * size / count))) for i in range(count)]


def _adaptive_size(hp, x):
    size = hp["output_size"]
    size = (size, size) if np.isscalar(size) or size is None else tuple(size)
    return tuple(x.shape[-2 + i] if s is None else s for i, s in enumerate(size))


def _jax_adaptive_avg_pool(a, e, hp):
    x = a["x"]
    oh, ow = _adaptive_size(hp, x)
    rows = [jnp.stack([x[..., r0:r1, c0:c1].mean(axis=(-2, -1)) for c0, c1 in
                       _adaptive_windows(x.shape[-1], ow)], axis=-1)
            for r0, r1 in _adaptive_windows(x.shape[-2], oh)]
    return jnp.stack(rows, axis=-2)


def _ties(rng):
    """Small integers: most windows hold several equal maxima, some windows are flat."""
    x = np.round(normal(rng, 2, 3, 6, 7))
    x[0, 0, :3, :3] = 1.0          # a flat 3x3 patch: every overlapping window ties
    return CaseData(inputs={"x": x})


CONV_FORMULA_BACKWARD = (
    r"\frac{\partial L}{\partial W_{ocpq}} = \sum_{n,i,j} \frac{\partial L}{\partial y_{noij}}\,"
    r"x_{n,c,\,i s_h + p d_h,\, j s_w + q d_w},\quad "
    r"\frac{\partial L}{\partial b_o} = \sum_{n,i,j} \frac{\partial L}{\partial y_{noij}},\quad "
    r"\frac{\partial L}{\partial x} = \mathrm{col2im}\!\left(W^{\top} \frac{\partial L}{\partial Y}\right)")

CONV_HINT = batch_hint("x")

SPECS = [
    OpSpec(
        name="conv2d", family="conv", impl="Conv2d", mistakes=MISTAKES["conv2d"],
        cases=[
            Case("basic", _conv((2, 4, 5, 6), (6, 4, 3, 2)),
                 why="non-square input and non-square 3x2 kernel",
                 why_ja="正方形でない入力と、正方形でない 3x2 のカーネル"),
            Case("stride2_pad1", _conv((2, 4, 5, 6), (6, 4, 3, 2)), {"stride": 2, "padding": 1},
                 why="stride 2 with zero padding; 5 rows do not tile evenly",
                 why_ja="ストライド 2 とゼロパディング。5 行は窓でちょうどには敷き詰められない"),
            Case("dilation2", _conv((2, 4, 5, 6), (6, 4, 3, 2)), {"dilation": 2, "padding": 1}),
            Case("groups2", _conv((2, 4, 5, 6), (6, 2, 3, 2)), {"groups": 2},
                 why="two groups: output channels 0-2 see input channels 0-1 only",
                 why_ja="2 グループ: 出力チャネル 0-2 は入力チャネル 0-1 だけを見る"),
            Case("mixed", _conv((2, 4, 5, 6), (6, 4, 3, 2)),
                 {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2)},
                 why="different stride, padding and dilation along height and width",
                 why_ja="高さと幅で異なるストライド・パディング・ダイレーション"),
            Case("batch1", _conv((1, 4, 5, 6), (6, 4, 3, 2)), {"padding": 1}, why="batch size 1", why_ja="バッチサイズ 1"),
            Case("unbatched", _conv((4, 5, 6), (6, 4, 3, 2)), {"padding": 1},
                 why="one sample (C, H, W) without its batch axis, as torch's Conv2d takes it",
                 why_ja="バッチの軸のない 1 サンプル (C, H, W)。torch の Conv2d と同じく受け付ける"),
            Case("padding_same", _conv((2, 4, 5, 6), (6, 4, 3, 2)), {"padding": "same", "dilation": (1, 2)},
                 why="padding='same': d (k - 1) zeros per axis, the odd one after (2 along width)",
                 why_ja="padding='same': 軸ごとに d (k - 1) 個のゼロ、奇数のときの余りの 1 個は後ろ（幅方向は 2 個）"),
            Case("padding_valid", _conv((2, 4, 5, 6), (6, 4, 3, 2)), {"padding": "valid", "stride": 2},
                 why="padding='valid' is no padding", why_ja="padding='valid' はパディングなし"),
        ],
        torch=_torch_conv2d, jax=_jax_conv2d_op,
        formulas={"forward": r"y_{noij} = b_o + \sum_{c,p,q} W_{ocpq}\, "
                             r"x_{n,\,g(o) C_g + c,\; i s_h + p d_h - P_h,\; j s_w + q d_w - P_w}",
                  "backward": CONV_FORMULA_BACKWARD},
        convention="Cross-correlation (no kernel flip), as torch and every framework; W in torch's "
                   "(C_out, C_in / groups, KH, KW) layout; zero padding.",
        convention_ja="相互相関（カーネルを反転しない）で、torch をはじめどのフレームワークとも同じ。W は torch の"
                      "並び (C_out, C_in / groups, KH, KW)。ゼロパディング。",
        hints=CONV_HINT,
    ),
    OpSpec(
        name="depthwise_conv2d", family="conv", impl="DepthwiseConv2d", mistakes=MISTAKES["depthwise_conv2d"],
        cases=[
            Case("pad1", _conv((2, 3, 5, 6), (3, 1, 3, 3)), {"padding": 1}),
            Case("multiplier2", _conv((2, 3, 5, 6), (6, 1, 3, 3)), {"multiplier": 2},
                 why="two kernels per input channel (channel multiplier 2)",
                 why_ja="入力チャネルごとに 2 つのカーネル（チャネル乗数 2）"),
            Case("stride2", _conv((2, 3, 5, 6), (3, 1, 3, 3)), {"stride": 2, "padding": 1}),
            Case("batch1", _conv((1, 3, 5, 6), (3, 1, 3, 3)), {"padding": 1, "dilation": 2},
                 why="batch size 1, dilation 2", why_ja="バッチサイズ 1、ダイレーション 2"),
        ],
        torch=_torch_depthwise, jax=_jax_depthwise,
        formulas={"forward": r"y_{n,\,cm + k,\,ij} = b_{cm+k} + \sum_{p,q} W_{cm+k,\,0,\,pq}\, x_{n,c,\,i s + p d,\, j s + q d}",
                  "backward": CONV_FORMULA_BACKWARD + r"\quad\text{(per channel)}"},
        convention="A grouped convolution with groups = C_in; W has shape (C_in * multiplier, 1, KH, KW) "
                   "as torch's Conv2d(groups=C_in).",
        convention_ja="groups = C_in のグループ畳み込み。W の形は torch の Conv2d(groups=C_in) と同じ "
                      "(C_in * multiplier, 1, KH, KW)。",
        hints=CONV_HINT,
    ),
    OpSpec(
        name="conv1d", family="conv", impl="Conv1d", mistakes=MISTAKES["conv1d"],
        cases=[
            Case("basic", _conv((2, 4, 9), (6, 4, 3))),
            Case("stride2_pad1", _conv((2, 4, 9), (6, 4, 3)), {"stride": 2, "padding": 1}),
            Case("dilation2", _conv((2, 4, 9), (6, 4, 3)), {"dilation": 2, "padding": 2}),
            Case("groups2", _conv((2, 4, 9), (6, 2, 3)), {"groups": 2}),
            Case("batch1", _conv((1, 4, 9), (6, 4, 3)), {"padding": 1}, why="batch size 1", why_ja="バッチサイズ 1"),
            Case("tuples", _conv((2, 4, 9), (6, 4, 3)), {"stride": (2,), "padding": (1,), "dilation": (2,)},
                 why="1-tuples, as nn.Conv1d stores stride, padding and dilation",
                 why_ja="1 要素のタプル。nn.Conv1d は stride, padding, dilation をこの形で持つ"),
            Case("padding_same", _conv((2, 4, 9), (6, 4, 4)), {"padding": "same", "dilation": 1},
                 why="padding='same' with an even kernel: 1 zero before, 2 after",
                 why_ja="偶数の大きさのカーネルでの padding='same': 前にゼロ 1 個、後ろに 2 個"),
            Case("unbatched", _conv((4, 9), (6, 4, 3)), {"padding": 1}, why="one sample (C, L)",
                 why_ja="1 サンプル (C, L)"),
        ],
        torch=lambda a, e, hp: F.conv1d(a["x"], a["W"], a["b"], hp.get("stride", 1),
                                        hp.get("padding", 0), hp.get("dilation", 1), hp.get("groups", 1)),
        jax=_jax_conv1d_op,
        formulas={"forward": r"y_{noi} = b_o + \sum_{c,q} W_{ocq}\, x_{n,c,\,i s + q d - P}",
                  "backward": r"\frac{\partial L}{\partial W_{ocq}} = \sum_{n,i} \frac{\partial L}{\partial y_{noi}}\, "
                              r"x_{n,c,\,is + qd - P},\quad \frac{\partial L}{\partial x_{nct}} = "
                              r"\sum_{o,q,\,i:\ is + qd - P = t} \frac{\partial L}{\partial y_{noi}} W_{ocq}"},
        convention="x (N, C, L), W (C_out, C_in / groups, K) as torch's Conv1d; computed as a 2-D "
                   "convolution of height 1.",
        convention_ja="x (N, C, L)、W (C_out, C_in / groups, K) は torch の Conv1d と同じ。高さ 1 の 2 次元"
                      "畳み込みとして計算する。",
        hints=CONV_HINT,
    ),
    OpSpec(
        name="causal_conv1d", family="conv", impl="CausalConv1d", mistakes=MISTAKES["causal_conv1d"],
        cases=[
            Case("kernel2", _conv((2, 3, 10), (4, 3, 2)), why="WaveNet's kernel of 2, no dilation",
                 why_ja="WaveNet の大きさ 2 のカーネル、ダイレーションなし"),
            Case("dilation2", _conv((2, 3, 10), (4, 3, 2)), {"dilation": 2}),
            Case("dilation4", _conv((2, 3, 10), (4, 3, 2)), {"dilation": 4},
                 why="a receptive field of 5 steps on a sequence of 10",
                 why_ja="長さ 10 の系列に対して受容野が 5 ステップ"),
            Case("kernel3_dilation2", _conv((2, 3, 10), (4, 3, 3)), {"dilation": 2}),
            Case("batch1", _conv((1, 3, 10), (4, 3, 2)), {"dilation": 2}, why="batch size 1", why_ja="バッチサイズ 1"),
        ],
        torch=lambda a, e, hp: F.conv1d(F.pad(a["x"], (_causal_pad(a, hp), 0)), a["W"], a["b"],
                                        dilation=hp.get("dilation", 1)),
        jax=lambda a, e, hp: _jax_conv1d(a["x"], a["W"], a["b"], padding=(_causal_pad(a, hp), 0),
                                         dilation=hp.get("dilation", 1)),
        formulas={"forward": r"y_{not} = b_o + \sum_{c}\sum_{q=0}^{K-1} W_{ocq}\, x_{n,c,\,t-(K-1-q)d},"
                             r"\quad x_{n,c,t} = 0 \text{ for } t < 0",
                  "backward": r"\frac{\partial L}{\partial x_{nct}} = \sum_{o,q} W_{ocq}\, "
                              r"\frac{\partial L}{\partial y_{n,o,\,t+(K-1-q)d}},\quad "
                              r"\frac{\partial L}{\partial W_{ocq}} = \sum_{n,t} \frac{\partial L}{\partial y_{not}}\, "
                              r"x_{n,c,\,t-(K-1-q)d}"},
        convention="WaveNet's dilated causal convolution: (K - 1) d zeros on the left only, so the "
                   "output has the input's length and y_t never depends on x after t. Torch and jax "
                   "pad on the left and run an ordinary dilated convolution.",
        convention_ja="WaveNet のダイレーションつき因果的畳み込み: 左側にだけ (K - 1) d 個のゼロを置くので、"
                      "出力は入力と同じ長さになり、y_t は t より後の x に依存しない。torch と jax は左側を"
                      "パディングしてから通常のダイレーションつき畳み込みを行う。",
        hints=CONV_HINT,
    ),
    OpSpec(
        name="conv_transpose2d", family="conv", impl="ConvTranspose2d", mistakes=MISTAKES["conv_transpose2d"],
        cases=[
            Case("basic", _transposed((2, 4, 3, 4))),
            Case("stride2", _transposed((2, 4, 3, 4)), {"stride": 2},
                 why="overlapping kernel copies add up", why_ja="重なり合うカーネルの写しが足し合わされる"),
            Case("stride2_pad1_outpad1", _transposed((2, 4, 3, 4)),
                 {"stride": 2, "padding": 1, "output_padding": 1},
                 why="the usual 2x upsampling; output_padding adds a row and column at the end",
                 why_ja="よくある 2 倍のアップサンプリング。output_padding は末尾に 1 行と 1 列を加える"),
            Case("dilation2_mixed", _transposed((2, 4, 3, 4)),
                 {"stride": (2, 1), "padding": (0, 1), "dilation": 2}),
            Case("batch1", _transposed((1, 4, 3, 4)), {"stride": 2}, why="batch size 1", why_ja="バッチサイズ 1"),
            Case("groups2", _conv((2, 4, 3, 4), (4, 3, 3, 3), out_axis=None), {"groups": 2, "stride": 2},
                 why="two groups: input channels 0-1 scatter onto output channels 0-2 only",
                 why_ja="2 グループ: 入力チャネル 0-1 は出力チャネル 0-2 にだけ散らばる"),
            Case("unbatched", _transposed((4, 3, 4)), {"stride": 2}, why="one sample (C, H, W)", why_ja="1 サンプル (C, H, W)"),
        ],
        torch=_torch_transposed, jax=_jax_transposed,
        formulas={"forward": r"y_{n,o,\,i s_h + p d_h - P_h,\; j s_w + q d_w - P_w} \mathrel{+}= "
                             r"\sum_c x_{ncij} W_{copq},\quad y_{noij} \mathrel{+}= b_o",
                  "backward": r"\frac{\partial L}{\partial x_{ncij}} = \sum_{o,p,q} W_{copq}\, "
                              r"\frac{\partial L}{\partial y_{n,o,\,is_h + pd_h - P_h,\,js_w + qd_w - P_w}}"
                              r"\ \ (\text{a convolution of } \tfrac{\partial L}{\partial y}),\quad "
                              r"\frac{\partial L}{\partial W_{copq}} = \sum_{n,i,j} x_{ncij}\,"
                              r"\frac{\partial L}{\partial y_{n,o,\,is_h + pd_h - P_h,\,js_w + qd_w - P_w}}"},
        convention="torch's ConvTranspose2d: W (C_in, C_out, KH, KW); the output has "
                   "(H - 1) s - 2P + d (K - 1) + output_padding + 1 rows. jax computes it independently "
                   "as a convolution of the stride-dilated input with the flipped kernel.",
        convention_ja="torch の ConvTranspose2d: W (C_in, C_out, KH, KW)。出力の行数は "
                      "(H - 1) s - 2P + d (K - 1) + output_padding + 1。jax はこれを独立に、ストライドの"
                      "間隔で広げた入力と反転したカーネルとの畳み込みとして計算する。",
        hints=CONV_HINT,
    ),
    OpSpec(
        name="max_pool2d", family="conv", impl="MaxPool2d", mistakes=MISTAKES["max_pool2d"],
        cases=[
            Case("k2", _x(2, 3, 6, 7), {"kernel_size": 2},
                 why="width 7 is not a multiple of 2: the last column is dropped",
                 why_ja="幅 7 は 2 の倍数でない: 最後の列は使われない"),
            Case("k3_s2_p1", _x(2, 3, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1},
                 why="overlapping windows add their gradients; padding is -inf",
                 why_ja="重なる窓はそれぞれの勾配を足し合わせる。パディングは -inf"),
            Case("k2x3_s1", _x(2, 3, 6, 7), {"kernel_size": (2, 3), "stride": 1},
                 why="non-square window, stride 1: each value sits in up to six windows",
                 why_ja="正方形でない窓、ストライド 1: 各値は最大 6 つの窓に入る"),
            Case("batch1", _x(1, 3, 6, 7), {"kernel_size": 2}, why="batch size 1", why_ja="バッチサイズ 1"),
            Case("ties", _ties, {"kernel_size": 3, "stride": 1}, oracles=FD_TIES,
                 why="windows with several equal maxima: the whole gradient goes to the FIRST "
                     "maximum in row-major order (PyTorch; jax's select_and_scatter agrees). "
                     "Finite differences are meaningless at a tie.",
                 why_ja="等しい最大値が複数ある窓: 勾配はすべて、行優先の順で「最初の」最大値に流れる"
                        "（PyTorch。jax の select_and_scatter も同じ）。同点では数値微分は意味をなさない。"),
            Case("dilation2", _x(2, 3, 6, 7), {"kernel_size": 2, "stride": 1, "dilation": (2, 3)},
                 why="dilated windows: taps 2 rows and 3 columns apart",
                 why_ja="ダイレーションつきの窓: 窓の要素は 2 行おき、3 列おき"),
            Case("ceil_mode", _x(2, 3, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                 why="ceil_mode keeps a last partial window (width 7: 4 windows, not 3)",
                 why_ja="ceil_mode では入力からはみ出す最後の窓も残る（幅 7: 窓は 3 つではなく 4 つ）"),
            Case("unbatched", _x(3, 6, 7), {"kernel_size": 2}, why="one sample (C, H, W)", why_ja="1 サンプル (C, H, W)"),
        ],
        torch=_torch_pool("max_pool2d"), jax=_jax_max_pool,
        formulas={"forward": r"y_{ncij} = \max_{(p,q) \in \mathcal{W}_{ij}} x_{ncpq}",
                  "backward": r"\frac{\partial L}{\partial x_{ncpq}} = \sum_{i,j} "
                              r"\frac{\partial L}{\partial y_{ncij}}\,[(p,q) = \operatorname{argmax}_{\mathcal{W}_{ij}} x]"},
        convention="Ties: the whole gradient of a window goes to its first maximum in row-major order "
                   "(PyTorch's convention, checked by the 'ties' case against torch and jax). "
                   "Padding counts as -inf. stride defaults to kernel_size.",
        convention_ja="同点: 窓の勾配はすべて、行優先の順で最初の最大値に流れる（PyTorch の約束で、'ties' "
                      "ケースで torch と jax に対して確かめる）。パディングは -inf とみなす。stride の既定値は "
                      "kernel_size。",
        hints=CONV_HINT,
    ),
    OpSpec(
        name="avg_pool2d", family="conv", impl="AvgPool2d", mistakes=MISTAKES["avg_pool2d"],
        cases=[
            Case("k2", _x(2, 3, 6, 7), {"kernel_size": 2}),
            Case("k3_s2_p1", _x(2, 3, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1},
                 why="zero padding counts in the mean (count_include_pad=True)",
                 why_ja="ゼロパディングも平均に数える (count_include_pad=True)"),
            Case("k2x3_s1", _x(2, 3, 6, 7), {"kernel_size": (2, 3), "stride": 1}),
            Case("batch1", _x(1, 3, 6, 7), {"kernel_size": 2}, why="batch size 1", why_ja="バッチサイズ 1"),
            Case("ceil_mode", _x(2, 3, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                 why="ceil_mode: the last window reaches past the padding and divides by what it covers",
                 why_ja="ceil_mode: 最後の窓はパディングの先まで届き、覆う要素の数で割る"),
            Case("exclude_pad", _x(2, 3, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1,
                                                  "count_include_pad": False},
                 why="count_include_pad=False: a border window divides by its input values only",
                 why_ja="count_include_pad=False: 端の窓は、含む入力の値の数だけで割る"),
            Case("divisor_override", _x(2, 3, 6, 7), {"kernel_size": 2, "divisor_override": 3},
                 why="divisor_override: every window sum is divided by 3",
                 why_ja="divisor_override: どの窓の和も 3 で割る"),
            Case("unbatched", _x(3, 6, 7), {"kernel_size": 2}, why="one sample (C, H, W)", why_ja="1 サンプル (C, H, W)"),
        ],
        torch=_torch_pool("avg_pool2d"), jax=_jax_avg_pool,
        formulas={"forward": r"y_{ncij} = \frac{1}{K_h K_w} \sum_{(p,q) \in \mathcal{W}_{ij}} x_{ncpq}",
                  "backward": r"\frac{\partial L}{\partial x_{ncpq}} = \frac{1}{K_h K_w} \sum_{(i,j):\,(p,q) \in \mathcal{W}_{ij}} "
                              r"\frac{\partial L}{\partial y_{ncij}}"},
        convention="PyTorch's default count_include_pad=True: every window divides by KH*KW, padding "
                   "included. stride defaults to kernel_size.",
        convention_ja="PyTorch の既定値 count_include_pad=True: どの窓もパディングを含めて KH*KW で割る。"
                      "stride の既定値は kernel_size。",
        hints=CONV_HINT,
    ),
    OpSpec(
        name="global_avg_pool2d", family="conv", impl="GlobalAvgPool2d", mistakes=MISTAKES["global_avg_pool2d"],
        cases=[
            Case("basic", _x(2, 3, 6, 7)),
            Case("batch1", _x(1, 3, 6, 7), why="batch size 1", why_ja="バッチサイズ 1"),
            Case("height1", _x(2, 5, 1, 4), why="a 1x4 feature map", why_ja="1x4 の特徴マップ"),
        ],
        torch=lambda a, e, hp: F.adaptive_avg_pool2d(a["x"], 1).flatten(1),
        jax=lambda a, e, hp: jnp.mean(a["x"], axis=(2, 3)),
        formulas={"forward": r"y_{nc} = \frac{1}{HW} \sum_{i,j} x_{ncij}",
                  "backward": r"\frac{\partial L}{\partial x_{ncij}} = \frac{1}{HW} \frac{\partial L}{\partial y_{nc}}"},
        convention="Output (N, C), as torch's adaptive_avg_pool2d(x, 1) flattened.",
        convention_ja="出力は (N, C)。torch の adaptive_avg_pool2d(x, 1) を平坦化したものと同じ。",
        hints=CONV_HINT,
    ),
    OpSpec(
        name="adaptive_avg_pool2d", family="conv", impl="AdaptiveAvgPool2d",
        mistakes=MISTAKES["adaptive_avg_pool2d"],
        cases=[
            Case("shrink", _x(2, 3, 7, 8), {"output_size": (3, 5)},
                 why="7 rows into 3 windows and 8 columns into 5: windows overlap and differ in size",
                 why_ja="7 行を 3 つの窓に、8 列を 5 つの窓に分ける: 窓は重なり、大きさも異なる"),
            Case("square", _x(2, 3, 6, 6), {"output_size": 2}, why="an int: 2 x 2 windows of 3 x 3",
                 why_ja="整数で指定: 3 x 3 の窓が 2 x 2 個"),
            Case("keep_height", _x(2, 3, 5, 6), {"output_size": (None, 4)},
                 why="None keeps the input's height", why_ja="None は入力の高さをそのまま保つ"),
            Case("grow", _x(1, 2, 3, 4), {"output_size": (5, 6)},
                 why="more outputs than inputs: windows of one value, shared",
                 why_ja="入力より出力が多い: 1 つの値だけの窓を、複数の出力が共有する"),
            Case("unbatched", _x(3, 7, 8), {"output_size": (3, 5)}, why="one sample (C, H, W)", why_ja="1 サンプル (C, H, W)"),
        ],
        torch=lambda a, e, hp: F.adaptive_avg_pool2d(a["x"], hp["output_size"]),
        jax=_jax_adaptive_avg_pool,
        formulas={"forward": r"y_{ncij} = \frac{1}{|R_i| |C_j|} \sum_{p \in R_i,\, q \in C_j} x_{ncpq},\quad "
                             r"R_i = \left[\left\lfloor \tfrac{iH}{OH} \right\rfloor, "
                             r"\left\lceil \tfrac{(i+1)H}{OH} \right\rceil\right)",
                  "backward": r"\frac{\partial L}{\partial x_{ncpq}} = \sum_{i,j:\ p \in R_i,\, q \in C_j} "
                              r"\frac{1}{|R_i| |C_j|} \frac{\partial L}{\partial y_{ncij}}"},
        convention="PyTorch's adaptive_avg_pool2d: window i covers rows floor(iH/OH) to "
                   "ceil((i+1)H/OH) - 1; output_size is an int or a pair, None keeping the input's size.",
        convention_ja="PyTorch の adaptive_avg_pool2d: 窓 i は行 floor(iH/OH) から ceil((i+1)H/OH) - 1 まで"
                      "を覆う。output_size は整数か 2 つ組で、None は入力の大きさを保つ。",
        hints=CONV_HINT,
    ),
]


def _loop_form(spec):
    """Conv2d's loop form: the same cases and witnesses as the im2col form, so both are checked."""
    from dataclasses import replace
    return replace(spec, name="conv2d_loops", impl="Conv2dLoops", mistakes=MISTAKES["conv2d_loops"],
                   convention=spec.convention + " Conv2dLoops computes it as written, one output "
                   "position at a time, before im2col turns it into one matrix product.",
                   convention_ja=spec.convention_ja + "Conv2dLoops は式のとおり、出力の位置を 1 つずつ"
                   "計算する（im2col で 1 つの行列積にする前の形）。")


SPECS.append(_loop_form(SPECS[0]))
