"""Element-wise activations and softmax."""
import numpy as np

from ..frameworks import F, jnn, jnp, torch
from ..spec import Case, CaseData, OpSpec
from ._cases import away_from_zero, normal


def _x(make, *shape, **kw):
    return lambda rng: CaseData(inputs={"x": make(rng, *shape, **kw)})


def _kink(rng):
    """Exact zeros among the inputs: the derivative convention at the kink."""
    x = away_from_zero(rng, 3, 4)
    x[0, :2] = 0.0
    x[2, 3] = 0.0
    return CaseData(inputs={"x": x})


def _shifted(rng):
    """Logits around 1000: exp would overflow without the max shift."""
    return CaseData(inputs={"x": 1000.0 + 3.0 * normal(rng, 4, 5)})


KINK_ONLY_FRAMEWORKS = ("torch", "jax")
LARGE_NO_FD = ("a finite-difference step relative to |x| = 1000 is 1e-2, far too coarse "
               "for the curvature of softmax; torch and jax check it")

ELEMENTWISE_CASES = [
    Case("batch3x4", _x(away_from_zero, 3, 4)),
    Case("batch1", _x(away_from_zero, 1, 7), why="batch size 1"),
    Case("rank3", _x(away_from_zero, 2, 3, 5), why="any leading shape"),
]

SPECS = [
    OpSpec(
        name="identity", family="activation", impl="Identity",
        cases=ELEMENTWISE_CASES,
        torch=lambda a, e, hp: a["x"] * 1.0,
        jax=lambda a, e, hp: a["x"] * 1.0,
        formulas={"forward": r"y = x", "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}"},
    ),
    OpSpec(
        name="relu", family="activation", impl="Relu",
        cases=ELEMENTWISE_CASES + [
            Case("kink", _kink, oracles=KINK_ONLY_FRAMEWORKS,
                 why="inputs exactly at 0, where the derivative is a convention (0, as torch and "
                     "jax.nn.relu); finite differences are meaningless at a kink")],
        torch=lambda a, e, hp: F.relu(a["x"]),
        jax=lambda a, e, hp: jnn.relu(a["x"]),
        formulas={"forward": r"y = \max(0, x)",
                  "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,[x > 0]"},
        convention="The gradient at exactly x = 0 is 0 (PyTorch, jax.nn.relu).",
    ),
    OpSpec(
        name="sigmoid", family="activation", impl="Sigmoid",
        cases=ELEMENTWISE_CASES + [
            Case("large", _x(normal, 3, 4, scale=30.0), why="|x| up to ~100: no overflow in exp")],
        torch=lambda a, e, hp: torch.sigmoid(a["x"]),
        jax=lambda a, e, hp: jnn.sigmoid(a["x"]),
        formulas={"forward": r"y = \frac{1}{1 + e^{-x}}",
                  "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\, y (1 - y)"},
        convention="The derivative is computed from the output y, not the input.",
    ),
    OpSpec(
        name="tanh", family="activation", impl="Tanh",
        cases=ELEMENTWISE_CASES,
        torch=lambda a, e, hp: torch.tanh(a["x"]),
        jax=lambda a, e, hp: jnp.tanh(a["x"]),
        formulas={"forward": r"y = \tanh x",
                  "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,(1 - y^2)"},
    ),
    OpSpec(
        name="softmax", family="activation", impl="Softmax",
        cases=[
            Case("rows", _x(normal, 3, 5)),
            Case("axis0", _x(normal, 4, 3), hparams={"axis": 0}, why="softmax down the columns"),
            Case("rank3_axis1", _x(normal, 2, 4, 3), hparams={"axis": 1}),
            Case("batch1", _x(normal, 1, 6)),
            Case("large", _shifted, oracles=KINK_ONLY_FRAMEWORKS, why=LARGE_NO_FD),
        ],
        torch=lambda a, e, hp: torch.softmax(a["x"], dim=hp.get("axis", -1)),
        jax=lambda a, e, hp: jnn.softmax(a["x"], axis=hp.get("axis", -1)),
        formulas={"forward": r"y_i = \frac{e^{x_i}}{\sum_j e^{x_j}}",
                  "backward": r"\frac{\partial L}{\partial x_i} = y_i\left(\frac{\partial L}{\partial y_i}"
                              r" - \sum_j \frac{\partial L}{\partial y_j} y_j\right)"},
        convention="Computed as exp(x - max x) / sum, so that no logit overflows.",
    ),
]


# ---- the rest of the feed-forward activations -------------------------------------------

def _zeros_at(make, *shape, at=0.0):
    """Inputs from `make` with a few entries set exactly to `at` (a kink)."""
    def build(rng):
        x = make(rng, *shape)
        x.flat[[0, 1, x.size - 1]] = at
        return CaseData(inputs={"x": x})
    return build


def _away_from_bounds(low, high, gap=0.1):
    """Normal values of scale 1.5 kept at least `gap` from low and high: fd-safe for hardtanh."""
    def make(rng, *shape):
        x = 1.5 * rng.standard_normal(shape)
        for bound in (low, high):
            near = np.abs(x - bound) < gap
            x[near] = bound + np.where(x[near] >= bound, gap, -gap)
        return x
    return make


def _at_bounds(low, high):
    def build(rng):
        x = _away_from_bounds(low, high)(rng, 3, 4)
        x[0, :2] = low
        x[2, 2:] = high
        return CaseData(inputs={"x": x})
    return build


def _channels(*shape, shared=False, kink=False):
    """PReLU case: x (N, C, ...) and a slope per channel (or one shared slope)."""
    def make(rng):
        x = away_from_zero(rng, *shape)
        if kink:
            x.flat[[0, 3, x.size - 1]] = 0.0
        a = 0.1 + 0.4 * rng.random(1 if shared else shape[1])
        return CaseData(inputs={"x": x}, params={"a": a})
    return make


def _torch_prelu(a, e, hp):
    return F.prelu(a["x"], a["a"])


def _jax_prelu(a, e, hp):
    x = a["x"]
    slope = a["a"].reshape((a["a"].shape[0],) + (1,) * (x.ndim - 2))
    return jnp.where(x > 0, x, slope * x)


def _maxout(n, fan_in, out, pieces, ties=False):
    def make(rng):
        x = normal(rng, n, fan_in)
        W = rng.standard_normal((pieces, fan_in, out)) / np.sqrt(fan_in)
        b = 0.1 * normal(rng, pieces, out)
        if ties:  # pieces 0 and 1 identical on output unit 0: an exact tie for every row
            W[1, :, 0], b[1, 0] = W[0, :, 0], b[0, 0] + 5.0
            W[0, :, 0] = W[1, :, 0]
            b[0, 0] = b[1, 0]
        return CaseData(inputs={"x": x}, params={"W": W, "b": b})
    return make


def _torch_maxout(a, e, hp):
    z = torch.einsum("ni,kio->kno", a["x"], a["W"]) + a["b"][:, None, :]
    return z.max(dim=0).values            # the gradient goes to the index max returns


def _jax_maxout(a, e, hp):
    z = jnp.einsum("ni,kio->kno", a["x"], a["W"]) + a["b"][:, None, :]
    first = jnp.argmax(z, axis=0)         # the first maximum, as torch.max(dim)
    return jnp.take_along_axis(z, first[None], axis=0)[0]


def _jax_hardtanh(a, e, hp):
    x, low, high = a["x"], hp.get("min_val", -1.0), hp.get("max_val", 1.0)
    # jnp.clip would split the gradient 1/2-1/2 at a bound; torch gives 0 there
    return jnp.where(x <= low, low, jnp.where(x >= high, high, x))


def _fixed_large(rng):
    """Softplus far into both tails (|x| up to ~100) beside moderate values."""
    return CaseData(inputs={"x": np.concatenate([normal(rng, 6), [-100.0, -40.0, 25.0, 40.0, 100.0, 700.0]]).reshape(3, 4)})


def _elementwise(name, impl, torch_fn, jax_fn, forward, backward, convention="", extra_cases=(),
                 hparams=None):
    """An element-wise op: the shared cases (with `hparams`), then its own."""
    hp = dict(hparams or {})
    cases = [Case(c.name, c.make, {**hp, **c.hparams}, c.oracles, c.why) for c in ELEMENTWISE_CASES]
    return OpSpec(name=name, family="activation", impl=impl, cases=cases + list(extra_cases),
                  torch=torch_fn, jax=jax_fn, formulas={"forward": forward, "backward": backward},
                  convention=convention)


def _kink_case(name="kink", at=0.0, hparams=None, why=""):
    return Case(name, _zeros_at(away_from_zero, 3, 4, at=at), dict(hparams or {}),
                oracles=KINK_ONLY_FRAMEWORKS,
                why=why or f"inputs exactly at {at}, where the derivative is a convention; "
                           "finite differences are meaningless at a kink")


DL = r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,"

SPECS += [
    _elementwise(
        "leaky_relu", "LeakyRelu",
        lambda a, e, hp: F.leaky_relu(a["x"], hp.get("negative_slope", 0.01)),
        lambda a, e, hp: jnp.where(a["x"] > 0, a["x"], hp.get("negative_slope", 0.01) * a["x"]),
        r"y = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases},\ a = 0.01",
        DL + r"\begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}",
        convention="At exactly x = 0 the slope is a (PyTorch). jax.nn.leaky_relu uses 1 there, "
                   "so the jax witness is written as where(x > 0, x, a x) to check PyTorch's convention.",
        extra_cases=[
            Case("slope0.2", _x(away_from_zero, 3, 4), {"negative_slope": 0.2}, why="another slope"),
            _kink_case(hparams={"negative_slope": 0.2}),
        ]),
    OpSpec(
        name="prelu", family="activation", impl="PRelu",
        cases=[
            Case("channels3", _channels(4, 3), why="one slope per channel, x (N, C)"),
            Case("rank3", _channels(2, 3, 5), why="x (N, C, L): da sums over N and L"),
            Case("shared", _channels(2, 4, 3, shared=True), why="a single slope shared by all channels"),
            Case("batch1", _channels(1, 5), why="batch size 1"),
            Case("kink", _channels(3, 4, kink=True), oracles=KINK_ONLY_FRAMEWORKS,
                 why="inputs exactly at 0: slope a_c and da_c gets 0 * dout (PyTorch)"),
        ],
        torch=_torch_prelu, jax=_jax_prelu,
        formulas={"forward": r"y_{n c \ldots} = \begin{cases} x & x > 0 \\ a_c x & x \le 0 \end{cases}",
                  "backward": DL + r"\begin{cases} 1 & x > 0 \\ a_c & x \le 0 \end{cases},\quad "
                              r"\frac{\partial L}{\partial a_c} = \sum_{n,\ldots} \frac{\partial L}{\partial y_{nc\ldots}}\, x_{nc\ldots}\,[x_{nc\ldots} \le 0]"},
        convention="The channel axis is 1 (PyTorch's layout); a has shape (C,) or (1,) for one shared "
                   "slope. At x = 0 the slope is a_c, as in PyTorch.",
    ),
    _elementwise(
        "elu", "Elu",
        lambda a, e, hp: F.elu(a["x"], hp.get("alpha", 1.0)),
        lambda a, e, hp: jnn.elu(a["x"], hp.get("alpha", 1.0)),
        r"y = \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
        DL + r"\begin{cases} 1 & x > 0 \\ y + \alpha & x \le 0 \end{cases}",
        convention="At x = 0 the derivative is alpha (PyTorch and jax agree). e^x - 1 is computed "
                   "with expm1.",
        extra_cases=[
            Case("alpha0.5", _x(away_from_zero, 3, 4), {"alpha": 0.5}, why="alpha != 1: y' jumps at 0"),
            Case("very_negative", _x(normal, 3, 4, scale=20.0), {"alpha": 0.5},
                 why="x down to ~-50: the left branch saturates at -alpha"),
            _kink_case(hparams={"alpha": 0.5}),
        ]),
    _elementwise(
        "selu", "Selu", lambda a, e, hp: F.selu(a["x"]), lambda a, e, hp: jnn.selu(a["x"]),
        r"y = \lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases},\ "
        r"\alpha \approx 1.6733,\ \lambda \approx 1.0507",
        DL + r"\lambda \begin{cases} 1 & x > 0 \\ \alpha e^{x} & x \le 0 \end{cases}",
        convention="The constants of Klambauer et al. (2017), as in PyTorch and jax; at x = 0 the "
                   "derivative is lambda alpha.",
        extra_cases=[_kink_case()]),
    _elementwise(
        "gelu", "Gelu",
        lambda a, e, hp: F.gelu(a["x"]), lambda a, e, hp: jnn.gelu(a["x"], approximate=False),
        r"y = x\,\Phi(x) = \frac{x}{2}\left(1 + \operatorname{erf}\frac{x}{\sqrt{2}}\right)",
        DL + r"\left(\Phi(x) + x\,\frac{e^{-x^2/2}}{\sqrt{2\pi}}\right)",
        convention="The exact (erf) form: PyTorch's approximate='none', jax.nn.gelu(approximate=False) "
                   "(jax's default is the tanh form).",
        extra_cases=[Case("wide_range", _x(normal, 3, 4, scale=4.0), why="far into both tails")]),
    _elementwise(
        "gelu_tanh", "Gelu",
        lambda a, e, hp: F.gelu(a["x"], approximate="tanh"),
        lambda a, e, hp: jnn.gelu(a["x"], approximate=True),
        r"y = \frac{x}{2}\left(1 + \tanh u\right),\ u = \sqrt{2/\pi}\,(x + 0.044715\,x^3)",
        DL + r"\left(\frac{1 + \tanh u}{2} + \frac{x}{2}(1 - \tanh^2 u)\sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\,x^2)\right)",
        convention="The tanh approximation: PyTorch's approximate='tanh', jax.nn.gelu's default; "
                   "it differs from the erf form in the 4th decimal.",
        hparams={"approximate": "tanh"},
        extra_cases=[Case("wide_range", _x(normal, 3, 4, scale=4.0), {"approximate": "tanh"},
                          why="far into both tails")]),
    _elementwise(
        "softplus", "Softplus",
        lambda a, e, hp: F.softplus(a["x"], beta=hp.get("beta", 1.0)),
        lambda a, e, hp: jnn.softplus(hp.get("beta", 1.0) * a["x"]) / hp.get("beta", 1.0),
        r"y = \frac{1}{\beta}\log\left(1 + e^{\beta x}\right)",
        DL + r"\sigma(\beta x)",
        convention="Computed as max(x, 0) + log1p(e^{-beta|x|}) / beta, which never overflows. PyTorch "
                   "returns x itself where beta x > 20 (threshold=20), an error below e^{-20}/beta.",
        extra_cases=[
            Case("beta2", _x(normal, 3, 4), {"beta": 2.0}, why="beta != 1"),
            Case("large", _fixed_large, why="|x| up to 700: e^x would overflow without the stable form"),
        ]),
    _elementwise(
        "silu", "Silu", lambda a, e, hp: F.silu(a["x"]), lambda a, e, hp: jnn.silu(a["x"]),
        r"y = x\,\sigma(x)", DL + r"\sigma(x)\left(1 + x\,(1 - \sigma(x))\right)",
        extra_cases=[Case("wide_range", _x(normal, 3, 4, scale=10.0), why="far into both tails")]),
    OpSpec(
        name="hardtanh", family="activation", impl="Hardtanh",
        cases=[
            Case("batch3x4", lambda rng: CaseData(inputs={"x": _away_from_bounds(-1, 1)(rng, 3, 4)})),
            Case("batch1", lambda rng: CaseData(inputs={"x": _away_from_bounds(-1, 1)(rng, 1, 7)}),
                 why="batch size 1"),
            Case("asymmetric", lambda rng: CaseData(inputs={"x": _away_from_bounds(-2, 0.5)(rng, 2, 3, 5)}),
                 {"min_val": -2.0, "max_val": 0.5}, why="other bounds, rank 3"),
            Case("at_bounds", _at_bounds(-1.0, 1.0), oracles=KINK_ONLY_FRAMEWORKS,
                 why="inputs exactly at -1 and 1: the gradient there is 0 (PyTorch)"),
            Case("at_bounds_asymmetric", _at_bounds(-2.0, 0.5), {"min_val": -2.0, "max_val": 0.5},
                 oracles=KINK_ONLY_FRAMEWORKS, why="inputs exactly at the bounds -2 and 0.5"),
        ],
        torch=lambda a, e, hp: F.hardtanh(a["x"], hp.get("min_val", -1.0), hp.get("max_val", 1.0)),
        jax=_jax_hardtanh,
        formulas={"forward": r"y = \min(\max(x, a), b)",
                  "backward": DL + r"[a < x < b]"},
        convention="At exactly x = min_val or max_val the gradient is 0, as in PyTorch (jnp.clip would "
                   "give 1/2, so the jax witness is written with strict comparisons).",
    ),
    OpSpec(
        name="maxout", family="activation", impl="Maxout",
        cases=[
            Case("pieces3", _maxout(4, 3, 2, 3), why="three linear pieces per output unit"),
            Case("pieces2_wide", _maxout(3, 5, 4, 2), why="non-square W_k, two pieces"),
            Case("batch1", _maxout(1, 3, 2, 3), why="batch size 1: db must keep its shape"),
            Case("ties", _maxout(4, 3, 2, 3, ties=True), oracles=KINK_ONLY_FRAMEWORKS,
                 why="pieces 0 and 1 are identical on unit 0: on the tie the first maximum takes the "
                     "whole gradient, as torch.max(dim)"),
        ],
        torch=_torch_maxout, jax=_jax_maxout,
        formulas={"forward": r"z_k = x W_k + b_k,\quad y = \max_k z_k",
                  "backward": r"\frac{\partial L}{\partial z_k} = \frac{\partial L}{\partial y}\,[k = k^*],\ "
                              r"\frac{\partial L}{\partial x} = \sum_k \frac{\partial L}{\partial z_k} W_k^{\top},\ "
                              r"\frac{\partial L}{\partial W_k} = x^{\top} \frac{\partial L}{\partial z_k},\ "
                              r"\frac{\partial L}{\partial b_k} = \sum_n \frac{\partial L}{\partial z_{k,n}}"},
        convention="The maxout unit of seed 004 (the maximum of several linear functions), "
                   "W (pieces, in, out), b (pieces, out). On a tie the first maximum takes the whole "
                   "gradient (torch.max(dim) and max pooling); torch.amax and jnp.max would split it, so "
                   "the jax witness selects with argmax.",
    ),
    OpSpec(
        name="log_softmax", family="activation", impl="LogSoftmax",
        cases=[
            Case("rows", _x(normal, 3, 5)),
            Case("axis0", _x(normal, 4, 3), hparams={"axis": 0}, why="down the columns"),
            Case("rank3_axis1", _x(normal, 2, 4, 3), hparams={"axis": 1}),
            Case("batch1", _x(normal, 1, 6)),
            Case("spread", _x(normal, 3, 5, scale=30.0),
                 why="logits spread over ~100: log-probabilities near -100 must stay finite"),
            Case("large", _shifted, oracles=KINK_ONLY_FRAMEWORKS, why=LARGE_NO_FD),
        ],
        torch=lambda a, e, hp: F.log_softmax(a["x"], dim=hp.get("axis", -1)),
        jax=lambda a, e, hp: jnn.log_softmax(a["x"], axis=hp.get("axis", -1)),
        formulas={"forward": r"y_i = x_i - m - \log\sum_j e^{x_j - m},\ m = \max_j x_j",
                  "backward": r"\frac{\partial L}{\partial x_i} = \frac{\partial L}{\partial y_i} - "
                              r"\operatorname{softmax}(x)_i \sum_j \frac{\partial L}{\partial y_j}"},
        convention="Computed with the max shift, never as log(softmax(x)), so no logit overflows and "
                   "no probability underflows to log 0.",
    ),
]
