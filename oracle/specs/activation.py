"""Element-wise activations and softmax."""
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
