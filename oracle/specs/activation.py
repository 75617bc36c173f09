"""Element-wise activations and softmax."""
import numpy as np

from ...impl import activations as A
from ..frameworks import F, jnn, jnp, torch
from ..spec import Case, CaseData, Mistake, OpSpec, with_mistakes
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
LARGE_NO_FD_JA = ("|x| = 1000 に比例する数値微分の刻み幅は 1e-2 で、ソフトマックスの曲率に対して粗すぎる。"
                  "torch と jax で検証する")
BATCH1_JA = "バッチサイズ 1"

ELEMENTWISE_CASES = [
    Case("batch3x4", _x(away_from_zero, 3, 4)),
    Case("batch1", _x(away_from_zero, 1, 7), why="batch size 1", why_ja=BATCH1_JA),
    Case("rank3", _x(away_from_zero, 2, 3, 5), why="any leading shape", why_ja="先頭の軸はどんな形でもよい"),
]

# ---- the mistakes people make writing these activations --------------------------------

class _IdentityLocalOnly(A.Identity):
    def backward(self, dout):
        return np.ones_like(dout)                       # the local derivative 1, without dout


class _IdentityZero(A.Identity):
    def backward(self, dout):
        return np.zeros_like(dout)                      # no path for the gradient


IDENTITY_MISTAKES = [
    Mistake("zero_gradient", "returns zeros: the identity passes the upstream gradient through, "
            "dx = dout", _IdentityZero,
            says_ja="0 を返している: 恒等写像は上流の勾配をそのまま通す dx = dout"),
    Mistake("local_derivative_only", "returns the local derivative 1 without the upstream "
            "gradient: multiply by dout (the chain rule), dx = dout", _IdentityLocalOnly,
            says_ja="局所的な微分 1 だけを返し、上流の勾配を掛けていない: 連鎖律により dx = dout"),
]


class _ReluKinkGe(A.Relu):
    def backward(self, dout):
        return dout * (self.x >= 0)                     # 1 at x = 0

    def forward(self, x):
        self.x = x
        return super().forward(x)


class _ReluNoMask(A.Relu):
    def backward(self, dout):
        return dout.copy()


class _ReluMaskInverted(A.Relu):
    def backward(self, dout):
        return np.where(self.mask, dout, 0.0)           # self.mask is x <= 0, where it should be cut


class _ReluTimesOutput(A.Relu):
    def forward(self, x):
        self.out = super().forward(x)
        return self.out

    def backward(self, dout):
        return dout * self.out                          # relu(x) for relu'(x)


RELU_MISTAKES = [
    Mistake("mask_x_ge_0", "the mask x >= 0 passes the gradient at exactly x = 0: the "
            "convention (PyTorch, jax) is x > 0, gradient 0 at the kink", _ReluKinkGe,
            says_ja="マスク x >= 0 では x = 0 ちょうどで勾配が通る: 約束（PyTorch, jax）は x > 0 で、"
                    "折れ点での勾配は 0"),
    Mistake("mask_dropped", "the gradient passes everywhere: mask it, dout where x > 0 and 0 "
            "elsewhere", _ReluNoMask,
            says_ja="勾配がどこでも通っている: マスクをかけ、x > 0 では dout、それ以外は 0"),
    Mistake("mask_inverted", "the mask is inverted: the gradient flows where x > 0, not where "
            "x <= 0", _ReluMaskInverted,
            says_ja="マスクが反転している: 勾配が流れるのは x > 0 のところで、x <= 0 ではない"),
    Mistake("times_output", "dx = dout * y multiplies by the output: relu's derivative is the "
            "mask [x > 0], not relu(x)", _ReluTimesOutput,
            says_ja="dx = dout * y は出力を掛けている: relu の微分はマスク [x > 0] で、relu(x) ではない"),
]


class _SigmoidAtInput(A.Sigmoid):
    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * self.x * (1.0 - self.x)           # y (1 - y) with the input for y


class _SigmoidOfOutput(A.Sigmoid):
    def backward(self, dout):
        s = A.sigmoid(self.out)                         # d_sigmoid(y) = sigmoid(y) (1 - sigmoid(y))
        return dout * s * (1.0 - s)


class _SigmoidNoDout(A.Sigmoid):
    def backward(self, dout):
        return self.out * (1.0 - self.out)


class _SigmoidTanhDerivative(A.Sigmoid):
    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)


SIGMOID_MISTAKES = [
    Mistake("derivative_at_input", "y (1 - y) evaluated with the input x in place of the output "
            "y: sigmoid' = y (1 - y) with y = sigmoid(x) (keep the output of forward)",
            _SigmoidAtInput,
            says_ja="y (1 - y) を出力 y でなく入力 x で計算している: sigmoid' = y (1 - y)、"
                    "y = sigmoid(x)（順伝播の出力を保存しておく）"),
    Mistake("derivative_of_output", "the derivative taken at the output: d_sigmoid(y) with "
            "y = sigmoid(u) computes sigmoid(y) (1 - sigmoid(y)); d_sigmoid takes the "
            "pre-activation u, or use y (1 - y) directly", _SigmoidOfOutput,
            says_ja="出力で微分している: y = sigmoid(u) に対する d_sigmoid(y) は sigmoid(y)(1 - sigmoid(y)) "
                    "を計算する。d_sigmoid には活性化前の u を渡すか、y (1 - y) をそのまま使う"),
    Mistake("without_dout", "returns sigmoid' alone: multiply by the upstream gradient, "
            "dx = dout * y (1 - y)", _SigmoidNoDout,
            says_ja="sigmoid' だけを返している: 上流の勾配を掛けて dx = dout * y (1 - y)"),
    Mistake("tanh_derivative", "1 - y^2 is tanh's derivative: sigmoid's is y (1 - y)",
            _SigmoidTanhDerivative,
            says_ja="1 - y^2 は tanh の微分: sigmoid の微分は y (1 - y)"),
]


class _TanhAtInput(A.Tanh):
    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * (1.0 - self.x ** 2)               # 1 - x^2 at the input


class _TanhOfOutput(A.Tanh):
    def backward(self, dout):
        return dout * (1.0 - np.tanh(self.out) ** 2)    # d_tanh(y) with y = tanh(u)


class _TanhNoSquare(A.Tanh):
    def backward(self, dout):
        return dout * (1.0 - self.out)


class _TanhSigmoidDerivative(A.Tanh):
    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


TANH_MISTAKES = [
    Mistake("derivative_at_input", "1 - x^2 evaluated at the input: tanh' = 1 - y^2 with "
            "y = tanh(x), the output of forward", _TanhAtInput,
            says_ja="1 - x^2 を入力で計算している: tanh' = 1 - y^2、y = tanh(x) は順伝播の出力"),
    Mistake("derivative_of_output", "the derivative taken at the output: 1 - tanh(y)^2 with "
            "y = tanh(u); use 1 - y^2", _TanhOfOutput,
            says_ja="出力で微分している: y = tanh(u) に対して 1 - tanh(y)^2。1 - y^2 を使う"),
    Mistake("square_missing", "1 - y: the square is missing, tanh' = 1 - y^2", _TanhNoSquare,
            says_ja="1 - y になっていて二乗が抜けている: tanh' = 1 - y^2"),
    Mistake("sigmoid_derivative", "y (1 - y) is sigmoid's derivative: tanh's is 1 - y^2",
            _TanhSigmoidDerivative,
            says_ja="y (1 - y) は sigmoid の微分: tanh の微分は 1 - y^2"),
]


class _SoftmaxDiagonal(A.Softmax):
    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)       # only the diagonal of the Jacobian


class _SoftmaxPassThrough(A.Softmax):
    def backward(self, dout):
        return dout.copy()


class _SoftmaxLastAxis(A.Softmax):
    def backward(self, dout):
        inner = (dout * self.out).sum(axis=-1, keepdims=True)   # the last axis, whatever axis is
        return self.out * (dout - inner)


class _SoftmaxNoLeadingY(A.Softmax):
    def backward(self, dout):
        return dout - (dout * self.out).sum(axis=self.axis, keepdims=True)


class _SoftmaxNoShift(A.Softmax):
    def forward(self, x):
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x)                               # no max shift: overflows for x > 709
            self.out = e / e.sum(axis=self.axis, keepdims=True)
        return self.out


SOFTMAX_MISTAKES = [
    Mistake("no_max_shift", "exp(x) without the max shift overflows for large logits (inf / inf "
            "= NaN): compute exp(x - x.max(axis, keepdims=True)), which gives the same softmax",
            _SoftmaxNoShift,
            says_ja="最大値を引かない exp(x) は大きなロジットでオーバーフローする（inf / inf = NaN）: "
                    "exp(x - x.max(axis, keepdims=True)) で計算する（softmax の値は同じ）"),
    Mistake("jacobian_dropped", "dx = dout y (1 - y) keeps only the diagonal of the softmax "
            "Jacobian: every output depends on every input, dx = y (dout - sum_j dout_j y_j)",
            _SoftmaxDiagonal,
            says_ja="dx = dout y (1 - y) は softmax のヤコビ行列の対角成分だけ: 出力はすべての入力に"
                    "依存するので dx = y (dout - Σ_j dout_j y_j)"),
    Mistake("passed_through", "the upstream gradient is passed through unchanged: softmax's "
            "backward is dx = y (dout - sum_j dout_j y_j)", _SoftmaxPassThrough,
            says_ja="上流の勾配をそのまま通している: softmax の逆伝播は dx = y (dout - Σ_j dout_j y_j)"),
    Mistake("sum_over_last_axis", "the sum of dout * y is taken over the last axis, not the "
            "softmax axis: sum over axis=self.axis", _SoftmaxLastAxis,
            says_ja="dout * y の和を softmax の軸ではなく最後の軸でとっている: axis=self.axis で和をとる"),
    Mistake("leading_y_missing", "dx = dout - sum_j dout_j y_j is missing the factor y: "
            "dx = y (dout - sum_j dout_j y_j)", _SoftmaxNoLeadingY,
            says_ja="dx = dout - Σ_j dout_j y_j では係数 y が抜けている: dx = y (dout - Σ_j dout_j y_j)"),
]


SPECS = [
    OpSpec(
        name="identity", family="activation", impl="Identity",
        cases=ELEMENTWISE_CASES,
        torch=lambda a, e, hp: a["x"] * 1.0,
        jax=lambda a, e, hp: a["x"] * 1.0,
        formulas={"forward": r"y = x", "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}"},
        mistakes=IDENTITY_MISTAKES,
    ),
    OpSpec(
        name="relu", family="activation", impl="Relu",
        cases=ELEMENTWISE_CASES + [
            Case("kink", _kink, oracles=KINK_ONLY_FRAMEWORKS,
                 why="inputs exactly at 0, where the derivative is a convention (0, as torch and "
                     "jax.nn.relu); finite differences are meaningless at a kink",
                 why_ja="ちょうど 0 の入力: そこでの微分は規約で決まる（torch と jax.nn.relu と同じく 0）。"
                        "折れ点では数値微分は意味をもたない")],
        torch=lambda a, e, hp: F.relu(a["x"]),
        jax=lambda a, e, hp: jnn.relu(a["x"]),
        formulas={"forward": r"y = \max(0, x)",
                  "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,[x > 0]"},
        convention="The gradient at exactly x = 0 is 0 (PyTorch, jax.nn.relu).",
        convention_ja="ちょうど x = 0 での勾配は 0（PyTorch、jax.nn.relu）。",
        mistakes=RELU_MISTAKES,
    ),
    OpSpec(
        name="sigmoid", family="activation", impl="Sigmoid",
        cases=ELEMENTWISE_CASES + [
            Case("large", _x(normal, 3, 4, scale=30.0), why="|x| up to ~100: no overflow in exp",
                 why_ja="|x| は ~100 まで: exp がオーバーフローしない")],
        torch=lambda a, e, hp: torch.sigmoid(a["x"]),
        jax=lambda a, e, hp: jnn.sigmoid(a["x"]),
        formulas={"forward": r"y = \frac{1}{1 + e^{-x}}",
                  "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\, y (1 - y)"},
        convention="The derivative is computed from the output y, not the input.",
        convention_ja="微分は入力ではなく出力 y から計算する。",
        mistakes=SIGMOID_MISTAKES,
    ),
    OpSpec(
        name="tanh", family="activation", impl="Tanh",
        cases=ELEMENTWISE_CASES,
        torch=lambda a, e, hp: torch.tanh(a["x"]),
        jax=lambda a, e, hp: jnp.tanh(a["x"]),
        formulas={"forward": r"y = \tanh x",
                  "backward": r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,(1 - y^2)"},
        mistakes=TANH_MISTAKES,
    ),
    OpSpec(
        name="softmax", family="activation", impl="Softmax",
        cases=[
            Case("rows", _x(normal, 3, 5)),
            Case("axis0", _x(normal, 4, 3), hparams={"axis": 0}, why="softmax down the columns",
                 why_ja="列方向（縦）のソフトマックス"),
            Case("rank3_axis1", _x(normal, 2, 4, 3), hparams={"axis": 1}),
            Case("batch1", _x(normal, 1, 6)),
            Case("large", _shifted, oracles=KINK_ONLY_FRAMEWORKS, why=LARGE_NO_FD, why_ja=LARGE_NO_FD_JA),
        ],
        torch=lambda a, e, hp: torch.softmax(a["x"], dim=hp.get("axis", -1)),
        jax=lambda a, e, hp: jnn.softmax(a["x"], axis=hp.get("axis", -1)),
        formulas={"forward": r"y_i = \frac{e^{x_i}}{\sum_j e^{x_j}}",
                  "backward": r"\frac{\partial L}{\partial x_i} = y_i\left(\frac{\partial L}{\partial y_i}"
                              r" - \sum_j \frac{\partial L}{\partial y_j} y_j\right)"},
        convention="Computed as exp(x - max x) / sum, so that no logit overflows.",
        convention_ja="どのロジットもオーバーフローしないよう exp(x - max x) / sum として計算する。",
        mistakes=SOFTMAX_MISTAKES,
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
                 hparams=None, convention_ja=""):
    """An element-wise op: the shared cases (with `hparams`), then its own."""
    hp = dict(hparams or {})
    cases = [Case(c.name, c.make, {**hp, **c.hparams}, c.oracles, c.why, why_ja=c.why_ja)
             for c in ELEMENTWISE_CASES]
    return OpSpec(name=name, family="activation", impl=impl, cases=cases + list(extra_cases),
                  torch=torch_fn, jax=jax_fn, formulas={"forward": forward, "backward": backward},
                  convention=convention, convention_ja=convention_ja)


def _kink_case(name="kink", at=0.0, hparams=None, why="", why_ja=""):
    return Case(name, _zeros_at(away_from_zero, 3, 4, at=at), dict(hparams or {}),
                oracles=KINK_ONLY_FRAMEWORKS,
                why=why or f"inputs exactly at {at}, where the derivative is a convention; "
                           "finite differences are meaningless at a kink",
                why_ja=why_ja or f"ちょうど {at} の入力: そこでの微分は規約で決まる。"
                                 "折れ点では数値微分は意味をもたない")


# ---- mistakes of the rest of the activations ---------------------------------------------

class _LeakyWrongSide(A.LeakyRelu):
    def backward(self, dout):
        return np.where(self.x > 0, self.negative_slope * dout, dout)


class _LeakyKinkGe(A.LeakyRelu):
    def backward(self, dout):
        return np.where(self.x >= 0, dout, self.negative_slope * dout)


class _LeakyNoSlope(A.LeakyRelu):
    def backward(self, dout):
        return np.where(self.x > 0, dout, 0.0)          # relu's derivative


LEAKY_RELU_MISTAKES = [
    Mistake("slope_on_wrong_side", "the leaky slope is on the wrong side: the derivative is 1 "
            "for x > 0 and a for x <= 0", _LeakyWrongSide,
            says_ja="傾き a が逆の側にある: 微分は x > 0 で 1、x <= 0 で a"),
    Mistake("kink_x_ge_0", "the mask x >= 0 gives slope 1 at exactly x = 0: the convention "
            "(PyTorch) is a there (x > 0 for the slope 1)", _LeakyKinkGe,
            says_ja="マスク x >= 0 では x = 0 ちょうどで傾き 1: 約束（PyTorch）はそこで a（傾き 1 は x > 0）"),
    Mistake("slope_missing", "relu's derivative: the gradient for x <= 0 is a dout, not 0",
            _LeakyNoSlope, says_ja="relu の微分になっている: x <= 0 での勾配は 0 ではなく a dout"),
]


class _PReluDaNotSummed(A.PRelu):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["a"] = np.where(self.x <= 0, dout * self.x, 0.0)   # the batch axes kept
        return dx


class _PReluDaEverywhere(A.PRelu):
    def backward(self, dout):
        dx = super().backward(dout)
        da = (dout * self.x).sum(axis=(0,) + tuple(range(2, self.x.ndim)))
        self.grads["a"] = da.sum(keepdims=True) if self.params["a"].shape[0] == 1 else da
        return dx


class _PReluKinkLt(A.PRelu):
    def backward(self, dout):
        dx = super().backward(dout)
        return np.where(self.x == 0, dout, dx)          # slope 1 at x = 0 (mask x < 0)


PRELU_MISTAKES = [
    Mistake("da_not_summed", "da keeps the batch (and spatial) axes: sum dout * x [x <= 0] over "
            "every axis but the channel, giving one value per slope", _PReluDaNotSummed,
            says_ja="da にバッチ（と空間）の軸が残っている: チャネル以外のすべての軸で "
                    "dout * x [x <= 0] の和をとり、傾き 1 つに 1 つの値にする"),
    Mistake("da_over_every_element", "da sums dout * x over every element: only the elements "
            "with x <= 0 use the slope, da = sum dout * x [x <= 0]", _PReluDaEverywhere,
            says_ja="da がすべての要素で dout * x の和をとっている: 傾きを使うのは x <= 0 の要素だけで "
                    "da = Σ dout * x [x <= 0]"),
    Mistake("kink_mask_x_lt_0", "at exactly x = 0 the slope is a (PyTorch): the mask of the "
            "negative side is x <= 0, not x < 0", _PReluKinkLt,
            says_ja="x = 0 ちょうどでの傾きは a（PyTorch）: 負の側のマスクは x < 0 ではなく x <= 0"),
]


class _EluMissingAlpha(A.Elu):
    def backward(self, dout):
        return np.where(self.x <= 0, dout * self.out, dout)          # y without + alpha


class _EluExpWithoutAlpha(A.Elu):
    def backward(self, dout):
        return np.where(self.x <= 0, dout * np.exp(np.minimum(self.x, 0)), dout)


class _EluKinkGe(A.Elu):
    def backward(self, dout):
        return np.where(self.x < 0, dout * (self.out + self.alpha), dout)   # slope 1 at x = 0


ELU_MISTAKES = [
    Mistake("y_without_alpha", "for x <= 0 the derivative is y + alpha (= alpha e^x), not y",
            _EluMissingAlpha, says_ja="x <= 0 での微分は y ではなく y + alpha（= alpha e^x）"),
    Mistake("exp_without_alpha", "for x <= 0 the derivative is alpha e^x: the factor alpha is "
            "missing", _EluExpWithoutAlpha,
            says_ja="x <= 0 での微分は alpha e^x: 係数 alpha が抜けている"),
    Mistake("kink_x_ge_0", "at exactly x = 0 the derivative is alpha (the left branch, PyTorch): "
            "the mask of the right branch is x > 0, not x >= 0", _EluKinkGe,
            says_ja="x = 0 ちょうどでの微分は alpha（左側の枝、PyTorch）: 右側の枝のマスクは x >= 0 ではなく x > 0"),
]


class _SeluNoScale(A.Selu):
    def backward(self, dout):
        slope_left = A.SELU_ALPHA * np.exp(np.minimum(self.x, 0))            # lambda dropped
        return np.where(self.x <= 0, dout * slope_left, dout)


class _SeluAlphaUnscaled(A.Selu):
    def forward(self, x):
        self.out = super().forward(x)
        return self.out

    def backward(self, dout):
        slope_left = self.out + A.SELU_ALPHA                                 # lambda alpha -> alpha
        return np.where(self.x <= 0, dout * slope_left, dout * A.SELU_SCALE)


SELU_MISTAKES = [
    Mistake("scale_missing", "the derivative without the scale lambda: selu' = lambda (1 or "
            "alpha e^x)", _SeluNoScale,
            says_ja="微分にスケール lambda が掛かっていない: selu' = lambda (1 または alpha e^x)"),
    Mistake("left_branch_y_plus_alpha", "for x <= 0, y + alpha is elu's form: selu's left "
            "derivative is y + lambda alpha (= lambda alpha e^x)", _SeluAlphaUnscaled,
            says_ja="x <= 0 の y + alpha は elu の形: selu の左側の微分は y + lambda alpha（= lambda alpha e^x）"),
]


def _gelu_other_form(approximate):
    class _GeluOtherForm(A.Gelu):
        def backward(self, dout):
            other = A.Gelu(approximate)                 # the other form's backward, same x
            other.forward(self.x)
            return other.backward(dout)
    return _GeluOtherForm


class _GeluCdfOnly(A.Gelu):
    def backward(self, dout):
        x = self.x
        if self.approximate == "tanh":
            return dout * 0.5 * (1.0 + np.tanh(self.C * (x + self.K * x ** 3)))
        return dout * 0.5 * (1.0 + A._erf(x / np.sqrt(2.0)))   # Phi(x) without x phi(x)


class _GeluTanhNoCubicTerm(A.Gelu):
    def backward(self, dout):
        x = self.x
        t = np.tanh(self.C * (x + self.K * x ** 3))
        return dout * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t ** 2) * self.C)   # u' without 3 K x^2


GELU_MISTAKES = [
    Mistake("phi_term_missing", "gelu' = Phi(x) + x phi(x): the term x phi(x) (the derivative of "
            "the CDF times x) is missing", _GeluCdfOnly,
            says_ja="gelu' = Φ(x) + x φ(x): 項 x φ(x)（CDF の微分に x を掛けたもの）が抜けている"),
    Mistake("tanh_form_derivative", "the derivative of the tanh approximation on the exact (erf) "
            "GELU: differentiate the form forward computes", _gelu_other_form("tanh"),
            says_ja="厳密な（erf の）GELU に tanh 近似の微分を使っている: 順伝播と同じ式を微分する"),
]

GELU_TANH_MISTAKES = [
    Mistake("sech_term_missing", "the derivative of (1 + tanh u) / 2 only: the term "
            "x (1 - tanh^2 u) u' / 2 is missing", _GeluCdfOnly,
            says_ja="(1 + tanh u) / 2 の部分だけ: 項 x (1 - tanh^2 u) u' / 2 が抜けている"),
    Mistake("cubic_term_missing", "u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2): the 3 K x^2 of the "
            "cubic term is missing", _GeluTanhNoCubicTerm,
            says_ja="u' = sqrt(2/π) (1 + 3 × 0.044715 x^2): 三次の項からくる 3 K x^2 が抜けている"),
    Mistake("erf_form_derivative", "the derivative of the exact (erf) GELU on the tanh "
            "approximation: differentiate the form forward computes", _gelu_other_form("none"),
            says_ja="tanh 近似の GELU に厳密な（erf の）微分を使っている: 順伝播と同じ式を微分する"),
]


class _SoftplusNoBeta(A.Softplus):
    def backward(self, dout):
        return dout * A.sigmoid(self.x)                 # sigmoid(x) for sigmoid(beta x)


class _SoftplusTimesBeta(A.Softplus):
    def backward(self, dout):
        return dout * self.beta * A.sigmoid(self.beta * self.x)


SOFTPLUS_MISTAKES = [
    Mistake("beta_missing_in_sigmoid", "softplus' = sigmoid(beta x): beta is missing inside "
            "the sigmoid", _SoftplusNoBeta,
            says_ja="softplus' = sigmoid(beta x): sigmoid の中の beta が抜けている"),
    Mistake("times_beta", "softplus' = sigmoid(beta x), without a factor beta: the 1/beta of "
            "the forward cancels the beta of the chain rule", _SoftplusTimesBeta,
            says_ja="softplus' = sigmoid(beta x) で beta は掛けない: 順伝播の 1/beta が連鎖律の beta と打ち消し合う"),
]


class _SiluSigmoidOnly(A.Silu):
    def backward(self, dout):
        return dout * self.s                            # s without x s (1 - s)


class _SiluSigmoidDerivative(A.Silu):
    def backward(self, dout):
        return dout * self.s * (1.0 - self.s)


SILU_MISTAKES = [
    Mistake("product_rule_half", "silu' = s + x s (1 - s) (the product rule of x s(x)): only s "
            "is there", _SiluSigmoidOnly,
            says_ja="silu' = s + x s (1 - s)（x s(x) の積の微分）: s だけになっている"),
    Mistake("sigmoid_derivative", "s (1 - s) is sigmoid's derivative: silu' = s (1 + x (1 - s))",
            _SiluSigmoidDerivative,
            says_ja="s (1 - s) は sigmoid の微分: silu' = s (1 + x (1 - s))"),
]


class _HardtanhInclusive(A.Hardtanh):
    def backward(self, dout):
        clipped = (self.x < self.min_val) | (self.x > self.max_val)     # the bounds pass
        return np.where(clipped, 0.0, dout)


class _HardtanhNoMask(A.Hardtanh):
    def backward(self, dout):
        return dout.copy()


HARDTANH_MISTAKES = [
    Mistake("bounds_inclusive", "at exactly min_val or max_val the gradient is 0 (PyTorch): use "
            "strict comparisons, min_val < x < max_val", _HardtanhInclusive,
            says_ja="ちょうど min_val や max_val での勾配は 0（PyTorch）: 不等号を厳密に "
                    "min_val < x < max_val とする"),
    Mistake("mask_dropped", "the gradient passes everywhere: it is 0 where the input is clipped",
            _HardtanhNoMask, says_ja="勾配がどこでも通っている: 入力が切り取られたところでは 0"),
]


class _MaxoutEveryPiece(A.Maxout):
    def backward(self, dout):
        W = self.params["W"]
        dz = np.broadcast_to(dout[None], (W.shape[0],) + dout.shape)   # every piece gets dout
        self.grads["W"] = np.einsum("ni,kno->kio", self.x, dz)
        self.grads["b"] = dz.sum(axis=1)
        return np.einsum("kno,kio->ni", dz, W)


class _MaxoutDbNotSummed(A.Maxout):
    def backward(self, dout):
        dx = super().backward(dout)
        pieces = np.arange(self.params["W"].shape[0])[:, None, None]
        self.grads["b"] = np.where(pieces == self.winner[None], dout[None], 0.0)   # (K, N, out)
        return dx


class _MaxoutTiesSplit(A.Maxout):
    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        self.z = np.einsum("ni,kio->kno", x, W) + b[:, None, :]
        return super().forward(x)

    def backward(self, dout):
        W = self.params["W"]
        top = self.z == self.z.max(axis=0, keepdims=True)
        dz = top * dout[None] / top.sum(axis=0, keepdims=True)     # the tie shared
        self.grads["W"] = np.einsum("ni,kno->kio", self.x, dz)
        self.grads["b"] = dz.sum(axis=1)
        return np.einsum("kno,kio->ni", dz, W)


MAXOUT_MISTAKES = [
    Mistake("every_piece", "the gradient goes to every piece: only the winning piece k* "
            "(the argmax) receives dout", _MaxoutEveryPiece,
            says_ja="勾配がすべてのピースに流れている: dout を受け取るのは勝ったピース k*（argmax）だけ"),
    Mistake("db_not_summed", "db keeps the batch axis: db_k = sum over the batch of dz_k",
            _MaxoutDbNotSummed, says_ja="db にバッチの軸が残っている: db_k = Σ_n dz_k（バッチ方向の和）"),
    Mistake("tie_split", "on a tie the gradient is shared among the tied pieces: the convention "
            "(torch.max(dim), max pooling) gives it all to the first maximum", _MaxoutTiesSplit,
            says_ja="同点のとき勾配を同点のピースで分けている: 約束（torch.max(dim)、max pooling）では最初の最大に全部を渡す"),
]


class _LogSoftmaxNoSum(A.LogSoftmax):
    def backward(self, dout):
        return dout - np.exp(self.out)                   # softmax without sum_j dout_j


class _LogSoftmaxDiagonal(A.LogSoftmax):
    def backward(self, dout):
        return dout * (1.0 - np.exp(self.out))


class _LogSoftmaxLastAxis(A.LogSoftmax):
    def backward(self, dout):
        return dout - np.exp(self.out) * dout.sum(axis=-1, keepdims=True)


LOG_SOFTMAX_MISTAKES = [
    Mistake("sum_of_dout_missing", "dx = dout - softmax(x) holds only when sum_j dout_j = 1: "
            "dx = dout - softmax(x) sum_j dout_j", _LogSoftmaxNoSum,
            says_ja="dx = dout - softmax(x) は Σ_j dout_j = 1 のときだけ成り立つ: "
                    "dx = dout - softmax(x) Σ_j dout_j"),
    Mistake("jacobian_dropped", "dout (1 - softmax) keeps only the diagonal of the Jacobian: "
            "dx = dout - softmax(x) sum_j dout_j", _LogSoftmaxDiagonal,
            says_ja="dout (1 - softmax) はヤコビ行列の対角成分だけ: dx = dout - softmax(x) Σ_j dout_j"),
    Mistake("sum_over_last_axis", "sum_j dout_j is taken over the last axis, not the softmax "
            "axis", _LogSoftmaxLastAxis,
            says_ja="Σ_j dout_j を softmax の軸ではなく最後の軸でとっている"),
]


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
        convention_ja="ちょうど x = 0 での傾きは a（PyTorch）。jax.nn.leaky_relu はそこで 1 を使うので、"
                      "PyTorch の規約を検証するため jax の検証器は where(x > 0, x, a x) と書く。",
        extra_cases=[
            Case("slope0.2", _x(away_from_zero, 3, 4), {"negative_slope": 0.2}, why="another slope",
                 why_ja="別の傾き"),
            _kink_case(hparams={"negative_slope": 0.2}),
        ]),
    OpSpec(
        name="prelu", family="activation", impl="PRelu",
        cases=[
            Case("channels3", _channels(4, 3), why="one slope per channel, x (N, C)",
                 why_ja="チャンネルごとに傾き 1 つ、x (N, C)"),
            Case("rank3", _channels(2, 3, 5), why="x (N, C, L): da sums over N and L",
                 why_ja="x (N, C, L): da は N と L について和をとる"),
            Case("shared", _channels(2, 4, 3, shared=True), why="a single slope shared by all channels",
                 why_ja="すべてのチャンネルで共有する傾き 1 つ"),
            Case("batch1", _channels(1, 5), why="batch size 1", why_ja=BATCH1_JA),
            Case("kink", _channels(3, 4, kink=True), oracles=KINK_ONLY_FRAMEWORKS,
                 why="inputs exactly at 0: slope a_c and da_c gets 0 * dout (PyTorch)",
                 why_ja="ちょうど 0 の入力: 傾きは a_c、da_c には 0 * dout が入る（PyTorch）"),
        ],
        torch=_torch_prelu, jax=_jax_prelu,
        formulas={"forward": r"y_{n c \ldots} = \begin{cases} x & x > 0 \\ a_c x & x \le 0 \end{cases}",
                  "backward": DL + r"\begin{cases} 1 & x > 0 \\ a_c & x \le 0 \end{cases},\quad "
                              r"\frac{\partial L}{\partial a_c} = \sum_{n,\ldots} \frac{\partial L}{\partial y_{nc\ldots}}\, x_{nc\ldots}\,[x_{nc\ldots} \le 0]"},
        convention="The channel axis is 1 (PyTorch's layout); a has shape (C,) or (1,) for one shared "
                   "slope. At x = 0 the slope is a_c, as in PyTorch.",
        convention_ja="チャンネルの軸は 1（PyTorch の配置）。a の形は (C,)、または共有の傾き 1 つなら (1,)。"
                      "x = 0 での傾きは PyTorch と同じく a_c。",
        mistakes=PRELU_MISTAKES,
    ),
    _elementwise(
        "elu", "Elu",
        lambda a, e, hp: F.elu(a["x"], hp.get("alpha", 1.0)),
        lambda a, e, hp: jnn.elu(a["x"], hp.get("alpha", 1.0)),
        r"y = \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}",
        DL + r"\begin{cases} 1 & x > 0 \\ y + \alpha & x \le 0 \end{cases}",
        convention="At x = 0 the derivative is alpha (PyTorch and jax agree). e^x - 1 is computed "
                   "with expm1.",
        convention_ja="x = 0 での微分は alpha（PyTorch と jax で一致）。e^x - 1 は expm1 で計算する。",
        extra_cases=[
            Case("alpha0.5", _x(away_from_zero, 3, 4), {"alpha": 0.5}, why="alpha != 1: y' jumps at 0",
                 why_ja="alpha != 1: y' が 0 で跳ぶ"),
            Case("very_negative", _x(normal, 3, 4, scale=20.0), {"alpha": 0.5},
                 why="x down to ~-50: the left branch saturates at -alpha",
                 why_ja="x は ~-50 まで: 左側の枝は -alpha で飽和する"),
            _kink_case(hparams={"alpha": 0.5}),
        ]),
    _elementwise(
        "selu", "Selu", lambda a, e, hp: F.selu(a["x"]), lambda a, e, hp: jnn.selu(a["x"]),
        r"y = \lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases},\ "
        r"\alpha \approx 1.6733,\ \lambda \approx 1.0507",
        DL + r"\lambda \begin{cases} 1 & x > 0 \\ \alpha e^{x} & x \le 0 \end{cases}",
        convention="The constants of Klambauer et al. (2017), as in PyTorch and jax; at x = 0 the "
                   "derivative is lambda alpha.",
        convention_ja="Klambauer et al. (2017) の定数（PyTorch、jax と同じ）。x = 0 での微分は lambda alpha。",
        extra_cases=[_kink_case()]),
    _elementwise(
        "gelu", "Gelu",
        lambda a, e, hp: F.gelu(a["x"]), lambda a, e, hp: jnn.gelu(a["x"], approximate=False),
        r"y = x\,\Phi(x) = \frac{x}{2}\left(1 + \operatorname{erf}\frac{x}{\sqrt{2}}\right)",
        DL + r"\left(\Phi(x) + x\,\frac{e^{-x^2/2}}{\sqrt{2\pi}}\right)",
        convention="The exact (erf) form: PyTorch's approximate='none', jax.nn.gelu(approximate=False) "
                   "(jax's default is the tanh form).",
        convention_ja="厳密な (erf の) 形: PyTorch の approximate='none'、jax.nn.gelu(approximate=False)"
                      "（jax の既定は tanh の形）。",
        extra_cases=[Case("wide_range", _x(normal, 3, 4, scale=4.0), why="far into both tails",
                          why_ja="両側の裾の遠くまで")]),
    _elementwise(
        "gelu_tanh", "Gelu",
        lambda a, e, hp: F.gelu(a["x"], approximate="tanh"),
        lambda a, e, hp: jnn.gelu(a["x"], approximate=True),
        r"y = \frac{x}{2}\left(1 + \tanh u\right),\ u = \sqrt{2/\pi}\,(x + 0.044715\,x^3)",
        DL + r"\left(\frac{1 + \tanh u}{2} + \frac{x}{2}(1 - \tanh^2 u)\sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\,x^2)\right)",
        convention="The tanh approximation: PyTorch's approximate='tanh', jax.nn.gelu's default; "
                   "it differs from the erf form in the 4th decimal.",
        convention_ja="tanh による近似: PyTorch の approximate='tanh'、jax.nn.gelu の既定。erf の形とは"
                      "小数第 4 位で異なる。",
        hparams={"approximate": "tanh"},
        extra_cases=[Case("wide_range", _x(normal, 3, 4, scale=4.0), {"approximate": "tanh"},
                          why="far into both tails", why_ja="両側の裾の遠くまで")]),
    _elementwise(
        "softplus", "Softplus",
        lambda a, e, hp: F.softplus(a["x"], beta=hp.get("beta", 1.0)),
        lambda a, e, hp: jnn.softplus(hp.get("beta", 1.0) * a["x"]) / hp.get("beta", 1.0),
        r"y = \frac{1}{\beta}\log\left(1 + e^{\beta x}\right)",
        DL + r"\sigma(\beta x)",
        convention="Computed as max(x, 0) + log1p(e^{-beta|x|}) / beta, which never overflows. PyTorch "
                   "returns x itself where beta x > 20 (threshold=20), an error below e^{-20}/beta.",
        convention_ja="max(x, 0) + log1p(e^{-beta|x|}) / beta として計算し、オーバーフローしない。PyTorch は "
                      "beta x > 20 (threshold=20) では x そのものを返し、その誤差は e^{-20}/beta 未満。",
        extra_cases=[
            Case("beta2", _x(normal, 3, 4), {"beta": 2.0}, why="beta != 1", why_ja="beta != 1 のとき"),
            Case("large", _fixed_large, why="|x| up to 700: e^x would overflow without the stable form",
                 why_ja="|x| は 700 まで: 安定な形でなければ e^x がオーバーフローする"),
        ]),
    _elementwise(
        "silu", "Silu", lambda a, e, hp: F.silu(a["x"]), lambda a, e, hp: jnn.silu(a["x"]),
        r"y = x\,\sigma(x)", DL + r"\sigma(x)\left(1 + x\,(1 - \sigma(x))\right)",
        extra_cases=[Case("wide_range", _x(normal, 3, 4, scale=10.0), why="far into both tails",
                          why_ja="両側の裾の遠くまで")]),
    OpSpec(
        name="hardtanh", family="activation", impl="Hardtanh",
        cases=[
            Case("batch3x4", lambda rng: CaseData(inputs={"x": _away_from_bounds(-1, 1)(rng, 3, 4)})),
            Case("batch1", lambda rng: CaseData(inputs={"x": _away_from_bounds(-1, 1)(rng, 1, 7)}),
                 why="batch size 1", why_ja=BATCH1_JA),
            Case("asymmetric", lambda rng: CaseData(inputs={"x": _away_from_bounds(-2, 0.5)(rng, 2, 3, 5)}),
                 {"min_val": -2.0, "max_val": 0.5}, why="other bounds, rank 3",
                 why_ja="別の上下限、3 次元の入力"),
            Case("at_bounds", _at_bounds(-1.0, 1.0), oracles=KINK_ONLY_FRAMEWORKS,
                 why="inputs exactly at -1 and 1: the gradient there is 0 (PyTorch)",
                 why_ja="ちょうど -1 と 1 の入力: そこでの勾配は 0（PyTorch）"),
            Case("at_bounds_asymmetric", _at_bounds(-2.0, 0.5), {"min_val": -2.0, "max_val": 0.5},
                 oracles=KINK_ONLY_FRAMEWORKS, why="inputs exactly at the bounds -2 and 0.5",
                 why_ja="ちょうど上下限 -2 と 0.5 の入力"),
        ],
        torch=lambda a, e, hp: F.hardtanh(a["x"], hp.get("min_val", -1.0), hp.get("max_val", 1.0)),
        jax=_jax_hardtanh,
        formulas={"forward": r"y = \min(\max(x, a), b)",
                  "backward": DL + r"[a < x < b]"},
        convention="At exactly x = min_val or max_val the gradient is 0, as in PyTorch (jnp.clip would "
                   "give 1/2, so the jax witness is written with strict comparisons).",
        convention_ja="ちょうど x = min_val または max_val での勾配は PyTorch と同じく 0（jnp.clip では 1/2 に"
                      "なるので、jax の検証器は厳密な不等号で書く）。",
        mistakes=HARDTANH_MISTAKES,
    ),
    OpSpec(
        name="maxout", family="activation", impl="Maxout",
        cases=[
            Case("pieces3", _maxout(4, 3, 2, 3), why="three linear pieces per output unit",
                 why_ja="出力ユニットあたり 3 つの線形関数"),
            Case("pieces2_wide", _maxout(3, 5, 4, 2), why="non-square W_k, two pieces",
                 why_ja="正方でない W_k、線形関数 2 つ"),
            Case("batch1", _maxout(1, 3, 2, 3), why="batch size 1: db must keep its shape",
                 why_ja="バッチサイズ 1: db は形を保たなければならない"),
            Case("ties", _maxout(4, 3, 2, 3, ties=True), oracles=KINK_ONLY_FRAMEWORKS,
                 why="pieces 0 and 1 are identical on unit 0: on the tie the first maximum takes the "
                     "whole gradient, as torch.max(dim)",
                 why_ja="ユニット 0 では線形関数 0 と 1 が同一: 同点のときは torch.max(dim) と同じく、最初の"
                        "最大値が勾配をすべて受け取る"),
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
        convention_ja="seed 004 の maxout ユニット（複数の線形関数の最大値）、W (pieces, in, out)、"
                      "b (pieces, out)。同点のときは最初の最大値が勾配をすべて受け取る（torch.max(dim) と "
                      "max プーリング）。torch.amax と jnp.max は勾配を分けるので、jax の検証器は argmax で選ぶ。",
        mistakes=MAXOUT_MISTAKES,
    ),
    OpSpec(
        name="log_softmax", family="activation", impl="LogSoftmax",
        cases=[
            Case("rows", _x(normal, 3, 5)),
            Case("axis0", _x(normal, 4, 3), hparams={"axis": 0}, why="down the columns",
                 why_ja="列方向（縦）"),
            Case("rank3_axis1", _x(normal, 2, 4, 3), hparams={"axis": 1}),
            Case("batch1", _x(normal, 1, 6)),
            Case("spread", _x(normal, 3, 5, scale=30.0),
                 why="logits spread over ~100: log-probabilities near -100 must stay finite",
                 why_ja="ロジットが ~100 の幅に広がる: -100 近くの対数確率も有限でなければならない"),
            Case("large", _shifted, oracles=KINK_ONLY_FRAMEWORKS, why=LARGE_NO_FD, why_ja=LARGE_NO_FD_JA),
        ],
        torch=lambda a, e, hp: F.log_softmax(a["x"], dim=hp.get("axis", -1)),
        jax=lambda a, e, hp: jnn.log_softmax(a["x"], axis=hp.get("axis", -1)),
        formulas={"forward": r"y_i = x_i - m - \log\sum_j e^{x_j - m},\ m = \max_j x_j",
                  "backward": r"\frac{\partial L}{\partial x_i} = \frac{\partial L}{\partial y_i} - "
                              r"\operatorname{softmax}(x)_i \sum_j \frac{\partial L}{\partial y_j}"},
        convention="Computed with the max shift, never as log(softmax(x)), so no logit overflows and "
                   "no probability underflows to log 0.",
        convention_ja="最大値を引いて計算し、log(softmax(x)) としては計算しない。どのロジットも"
                      "オーバーフローせず、どの確率もアンダーフローして log 0 にならない。",
        mistakes=LOG_SOFTMAX_MISTAKES,
    ),
]


with_mistakes(SPECS, {"leaky_relu": LEAKY_RELU_MISTAKES, "elu": ELU_MISTAKES, "selu": SELU_MISTAKES,
                      "gelu": GELU_MISTAKES, "gelu_tanh": GELU_TANH_MISTAKES,
                      "softplus": SOFTPLUS_MISTAKES, "silu": SILU_MISTAKES})
