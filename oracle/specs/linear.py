"""Affine (fully connected) layers."""
from ..frameworks import F
from ..spec import Case, CaseData, OpSpec
from ._cases import normal, weight


def _affine(*x_shape, out=5):
    def make(rng):
        fan_in = x_shape[-1]
        return CaseData(inputs={"x": normal(rng, *x_shape)},
                        params={"W": weight(rng, fan_in, fan_in, out), "b": normal(rng, out)})
    return make


def _hints(data, hp):
    return {"batch_size": int(data.inputs["x"].size // data.inputs["x"].shape[-1])}


SPECS = [
    OpSpec(
        name="affine", family="linear", impl="Affine",
        cases=[
            Case("batch3", _affine(3, 4)),
            Case("batch1", _affine(1, 4, out=3), why="batch size 1: db must still be a vector"),
            Case("wide", _affine(2, 9, out=2), why="non-square: a transposed dW has the wrong shape"),
            Case("square", _affine(4, 4, out=4), why="square W: a transposed dW has the right shape"),
            Case("leading_dims", _affine(2, 3, 4), why="x of shape (2, 3, 4): any leading batch shape"),
        ],
        # torch stores Linear weights as (out, in); the answer key uses the book's (in, out).
        torch=lambda a, e, hp: F.linear(a["x"], a["W"].T, a["b"]),
        jax=lambda a, e, hp: a["x"] @ a["W"] + a["b"],
        formulas={"forward": r"Y = X W + b",
                  "backward": r"\frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y} W^{\top},\quad "
                              r"\frac{\partial L}{\partial W} = X^{\top} \frac{\partial L}{\partial Y},\quad "
                              r"\frac{\partial L}{\partial b} = \sum_n \frac{\partial L}{\partial Y_n}"},
        convention="W has the book's layout (in, out); torch's nn.Linear stores W^T.",
        hints=_hints,
    ),
]
