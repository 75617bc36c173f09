"""Affine (fully connected) layers."""
import numpy as np

from ..frameworks import F, torch
from ..spec import Case, CaseData, OpSpec
from ._cases import normal, weight


def _affine(*x_shape, out=5):
    def make(rng):
        fan_in = max(x_shape[-1], 1)
        return CaseData(inputs={"x": normal(rng, *x_shape)},
                        params={"W": weight(rng, fan_in, x_shape[-1], out), "b": normal(rng, out)})
    return make


def _hints(data, hp):
    x = data.inputs["x"]
    return {"batch_size": int(np.prod(x.shape[:-1]))}


SPECS = [
    OpSpec(
        name="affine", family="linear", impl="Affine",
        cases=[
            Case("batch3", _affine(3, 4)),
            Case("batch1", _affine(1, 4, out=3), why="batch size 1: db must still be a vector"),
            Case("wide", _affine(2, 9, out=2), why="non-square: a transposed dW has the wrong shape"),
            Case("square", _affine(4, 4, out=4), why="square W: a transposed dW has the right shape"),
            Case("leading_dims", _affine(2, 3, 4), why="x of shape (2, 3, 4): any leading batch shape"),
            Case("zero_features", _affine(3, 0, out=2),
                 why="no input features (W is 0 x 2): y = b for every row, dW is empty; "
                     "reshaping with -1 cannot tell the batch size from 0 elements"),
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


def _matmul(*x_shape, out=5):
    def make(rng):
        fan_in = max(x_shape[-1], 1)
        return CaseData(inputs={"x": normal(rng, *x_shape)}, params={"W": weight(rng, fan_in, x_shape[-1], out)})
    return make


def _embedding(vocab, dim, idx):
    """idx is a fixed index array (repeats on purpose) or a shape to draw from."""
    def make(rng):
        indices = np.array(idx) if not isinstance(idx, tuple) else rng.integers(0, vocab, size=idx)
        return CaseData(inputs={}, params={"W": normal(rng, vocab, dim)}, extra={"idx": indices})
    return make


def _flatten(*shape):
    return lambda rng: CaseData(inputs={"x": normal(rng, *shape)})


def _jax_embedding(a, e, hp):
    return a["W"][e["idx"]]          # the vjp of gathering is a scatter-add: repeats accumulate


SPECS += [
    OpSpec(
        name="matmul", family="linear", impl="MatMul",
        cases=[
            Case("batch3", _matmul(3, 4)),
            Case("batch1", _matmul(1, 4, out=3), why="batch size 1"),
            Case("wide", _matmul(2, 9, out=2), why="non-square: a transposed dW has the wrong shape"),
            Case("leading_dims", _matmul(2, 3, 4), why="x of shape (2, 3, 4): any leading batch shape"),
            Case("zero_features", _matmul(2, 3, 0, out=2),
                 why="no input features: y = 0, dW is empty; reshaping with -1 cannot tell the "
                     "batch size from 0 elements"),
        ],
        torch=lambda a, e, hp: a["x"] @ a["W"],
        jax=lambda a, e, hp: a["x"] @ a["W"],
        formulas={"forward": r"Y = X W",
                  "backward": r"\frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y} W^{\top},\quad "
                              r"\frac{\partial L}{\partial W} = X^{\top} \frac{\partial L}{\partial Y}"},
        convention="W has the book's layout (in, out), as the book's MatMul (vol. 2).",
        hints=_hints,
    ),
    OpSpec(
        name="embedding", family="linear", impl="Embedding",
        cases=[
            Case("repeated", _embedding(6, 3, [1, 4, 1, 1, 5]),
                 why="index 1 appears three times: its row must receive the sum of three gradients"),
            Case("batch_of_sequences", _embedding(7, 4, (3, 5)), why="indices (N, T) -> output (N, T, dim)"),
            Case("single", _embedding(5, 2, [3]), why="one index: every other row's gradient is 0"),
            Case("all_same", _embedding(4, 3, [[2, 2], [2, 2]]), why="every position picks row 2"),
        ],
        torch=lambda a, e, hp: F.embedding(e["idx"], a["W"]),
        jax=_jax_embedding,
        formulas={"forward": r"y_{t} = W_{i_t,:}",
                  "backward": r"\frac{\partial L}{\partial W_{v,:}} = \sum_{t:\ i_t = v} \frac{\partial L}{\partial y_t}"},
        convention="The indices are an integer `extra` input, not differentiable: no gradient is checked "
                   "for them (and none by finite differences). Repeated indices accumulate (np.add.at).",
    ),
    OpSpec(
        name="flatten", family="linear", impl="Flatten",
        cases=[
            Case("images", _flatten(2, 3, 4, 5), why="(N, C, H, W) -> (N, C*H*W), row-major"),
            Case("batch1", _flatten(1, 2, 3), why="batch size 1"),
            Case("already_flat", _flatten(3, 4), why="a 2-D input passes through unchanged"),
        ],
        torch=lambda a, e, hp: torch.flatten(a["x"], start_dim=1),
        jax=lambda a, e, hp: a["x"].reshape(a["x"].shape[0], -1),
        formulas={"forward": r"y_{n,\,j} = x_{n, c, h, w},\ j = (c H + h) W + w",
                  "backward": r"\frac{\partial L}{\partial x} = \operatorname{reshape}\left(\frac{\partial L}{\partial y}, \operatorname{shape}(x)\right)"},
        convention="Row-major (C order) flattening of every axis but the first, as torch.flatten(x, 1) "
                   "and nn.Flatten.",
    ),
]
