"""Affine (fully connected) layers."""
import numpy as np

from ...impl.linear import Affine, Embedding, Flatten, MatMul
from ..frameworks import F, torch
from ..spec import Case, CaseData, Mistake, OpSpec
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


# ---- the mistakes people make writing Affine: each the answer key with the mistake in it ----

class _AffineBook(Affine):
    """The book's Affine backward on 2-D x (the leading axes flattened), one line to change."""

    def grads_of(self, x, dout, W):
        return x.T @ dout, dout.sum(axis=0), dout @ W.T

    def backward(self, dout):
        W = self.params["W"]
        n = int(np.prod(self.x.shape[:-1]))       # explicit sizes: -1 is ambiguous with 0 features
        x2, dout2 = self.x.reshape(n, W.shape[0]), dout.reshape(n, W.shape[1])
        dW, db, dx = self.grads_of(x2, dout2, W)
        self.grads["W"], self.grads["b"] = dW, db
        return dx.reshape(self.x.shape) if np.ndim(dx) == 2 and dx.size == self.x.size else dx


class _AffineDWTransposed(_AffineBook):
    def grads_of(self, x, dout, W):
        return dout.T @ x, dout.sum(axis=0), dout @ W.T          # dW = dout^T x


class _AffineDbNotSummed(_AffineBook):
    def grads_of(self, x, dout, W):
        return x.T @ dout, dout, dout @ W.T                       # db = dout


class _AffineDbKeepdims(_AffineBook):
    def grads_of(self, x, dout, W):
        return x.T @ dout, dout.sum(axis=0, keepdims=True), dout @ W.T


class _AffineDbWrongAxis(_AffineBook):
    def grads_of(self, x, dout, W):
        return x.T @ dout, dout.sum(axis=1), dout @ W.T           # summed over the features


class _AffineDxNotTransposed(_AffineBook):
    def grads_of(self, x, dout, W):
        return x.T @ dout, dout.sum(axis=0), dout @ W             # W where W^T is needed


class _AffineMean(_AffineBook):
    def grads_of(self, x, dout, W):
        n = x.shape[0]
        return x.T @ dout / n, dout.sum(axis=0) / n, dout @ W.T  # the batch mean, twice


AFFINE_MISTAKES = [
    Mistake("dW_transposed", "dW = dout^T x is the transpose of the gradient: dW = x^T dout "
            "(shape (in, out), like W)", _AffineDWTransposed,
            says_ja="dW = dout^T x は勾配の転置: dW = x^T dout（W と同じ形 (in, out)）"),
    Mistake("db_not_summed", "db = dout keeps the batch axis: db is the sum over the batch, "
            "dout.sum(axis=0)", _AffineDbNotSummed,
            says_ja="db = dout ではバッチの軸が残る: db はバッチ方向の和 dout.sum(axis=0)"),
    Mistake("db_keepdims", "db summed with keepdims=True has shape (1, out): the bias is a vector "
            "(out,), so sum without keepdims", _AffineDbKeepdims,
            says_ja="keepdims=True で和をとった db は形 (1, out): バイアスはベクトル (out,) なので "
                    "keepdims なしで和をとる"),
    Mistake("db_wrong_axis", "db summed over axis 1 (the features): sum over the batch, axis 0",
            _AffineDbWrongAxis,
            says_ja="db を軸 1（特徴の軸）で和をとっている: バッチの軸 0 で和をとる"),
    Mistake("dx_W_not_transposed", "dx = dout W uses W where its transpose is needed: "
            "dx = dout W^T", _AffineDxNotTransposed,
            says_ja="dx = dout W は W の転置が必要なところで W を使っている: dx = dout W^T"),
    Mistake("grads_divided_by_batch", "dW and db divided by the batch size: the mean over the "
            "batch belongs to the loss, whose dout already carries the 1/N", _AffineMean,
            says_ja="dW と db をバッチサイズで割っている: バッチの平均は損失の側にあり、dout に "
                    "1/N がすでに含まれている"),
]


SPECS = [
    OpSpec(
        name="affine", family="linear", impl="Affine",
        cases=[
            Case("batch3", _affine(3, 4)),
            Case("batch1", _affine(1, 4, out=3), why="batch size 1: db must still be a vector",
                 why_ja="バッチサイズ 1: それでも db はベクトルでなければならない"),
            Case("wide", _affine(2, 9, out=2), why="non-square: a transposed dW has the wrong shape",
                 why_ja="正方でない: 転置した dW は形が合わない"),
            Case("square", _affine(4, 4, out=4), why="square W: a transposed dW has the right shape",
                 why_ja="正方の W: 転置した dW でも形は合ってしまう"),
            Case("leading_dims", _affine(2, 3, 4), why="x of shape (2, 3, 4): any leading batch shape",
                 why_ja="形 (2, 3, 4) の x: 先頭のバッチの軸の形は任意"),
            Case("zero_features", _affine(3, 0, out=2),
                 why="no input features (W is 0 x 2): y = b for every row, dW is empty; "
                     "reshaping with -1 cannot tell the batch size from 0 elements",
                 why_ja="入力の特徴がない（W は 0 x 2）: どの行も y = b で、dW は空。要素が 0 個では "
                        "-1 を使った reshape でバッチサイズを決められない"),
        ],
        # torch stores Linear weights as (out, in); the answer key uses the book's (in, out).
        torch=lambda a, e, hp: F.linear(a["x"], a["W"].T, a["b"]),
        jax=lambda a, e, hp: a["x"] @ a["W"] + a["b"],
        formulas={"forward": r"Y = X W + b",
                  "backward": r"\frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y} W^{\top},\quad "
                              r"\frac{\partial L}{\partial W} = X^{\top} \frac{\partial L}{\partial Y},\quad "
                              r"\frac{\partial L}{\partial b} = \sum_n \frac{\partial L}{\partial Y_n}"},
        convention="W has the book's layout (in, out); torch's nn.Linear stores W^T.",
        convention_ja="W は本の並び (in, out)。torch の nn.Linear は W^T を持つ。",
        hints=_hints,
        mistakes=AFFINE_MISTAKES,
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


class _MatMulBook(MatMul):
    def grads_of(self, x, dout, W):
        return x.T @ dout, dout @ W.T

    def backward(self, dout):
        W = self.params["W"]
        n = int(np.prod(self.x.shape[:-1]))       # explicit sizes: -1 is ambiguous with 0 features
        x2, dout2 = self.x.reshape(n, W.shape[0]), dout.reshape(n, W.shape[1])
        dW, dx = self.grads_of(x2, dout2, W)
        self.grads["W"] = dW
        return dx.reshape(self.x.shape) if np.ndim(dx) == 2 and dx.size == self.x.size else dx


class _MatMulDWTransposed(_MatMulBook):
    def grads_of(self, x, dout, W):
        return dout.T @ x, dout @ W.T


class _MatMulDxNotTransposed(_MatMulBook):
    def grads_of(self, x, dout, W):
        return x.T @ dout, dout @ W


MATMUL_MISTAKES = [
    Mistake("dW_transposed", "dW = dout^T x is the transpose of the gradient: dW = x^T dout",
            _MatMulDWTransposed, says_ja="dW = dout^T x は勾配の転置: dW = x^T dout"),
    Mistake("dx_W_not_transposed", "dx = dout W uses W where its transpose is needed: dx = dout W^T",
            _MatMulDxNotTransposed,
            says_ja="dx = dout W は W の転置が必要なところで W を使っている: dx = dout W^T"),
]


class _EmbeddingAssigned(Embedding):
    def backward(self, dout):
        dW = np.zeros_like(self.params["W"])
        dW[self.idx] = dout                 # repeated indices: only the last one stays
        self.grads["W"] = dW


class _EmbeddingNotZeroed(Embedding):
    def backward(self, dout):
        dW = self.params["W"].copy()        # starts from W instead of 0
        np.add.at(dW, self.idx, dout)
        self.grads["W"] = dW


EMBEDDING_MISTAKES = [
    Mistake("assigned_not_accumulated", "dW[idx] = dout (or dW[idx] += dout) keeps only one of "
            "the gradients of a repeated index: accumulate with np.add.at(dW, idx, dout)",
            _EmbeddingAssigned,
            says_ja="dW[idx] = dout（または dW[idx] += dout）では、繰り返し現れるインデックスの勾配が"
                    "1 つしか残らない: np.add.at(dW, idx, dout) で足し込む"),
    Mistake("not_zeroed", "dW starts from a copy of W instead of zeros: np.zeros_like(W), then "
            "np.add.at", _EmbeddingNotZeroed,
            says_ja="dW を 0 ではなく W のコピーから始めている: np.zeros_like(W) にしてから np.add.at"),
]


class _FlattenNotReshaped(Flatten):
    def backward(self, dout):
        return dout                         # still (N, C*H*W)


class _FlattenFortran(Flatten):
    def backward(self, dout):
        return dout.reshape(self.shape, order="F")


FLATTEN_MISTAKES = [
    Mistake("not_reshaped", "dx is returned in the flattened shape: reshape it back, "
            "dout.reshape(x.shape)", _FlattenNotReshaped,
            says_ja="dx を平坦化した形のまま返している: dout.reshape(x.shape) で元の形に戻す"),
    Mistake("fortran_order", "dout reshaped in another order (order='F'): reshape in the "
            "forward's row-major order", _FlattenFortran,
            says_ja="dout を別の順序（order='F'）で reshape している: 順伝播と同じ行優先の順序で戻す"),
]


SPECS += [
    OpSpec(
        name="matmul", family="linear", impl="MatMul",
        cases=[
            Case("batch3", _matmul(3, 4)),
            Case("batch1", _matmul(1, 4, out=3), why="batch size 1", why_ja="バッチサイズ 1"),
            Case("wide", _matmul(2, 9, out=2), why="non-square: a transposed dW has the wrong shape",
                 why_ja="正方でない: 転置した dW は形が合わない"),
            Case("square", _matmul(4, 4, out=4), why="square W: a transposed dW or W in dx has the right shape",
                 why_ja="正方の W: 転置した dW でも、dx に W を使っても形は合ってしまう"),
            Case("leading_dims", _matmul(2, 3, 4), why="x of shape (2, 3, 4): any leading batch shape",
                 why_ja="形 (2, 3, 4) の x: 先頭のバッチの軸の形は任意"),
            Case("zero_features", _matmul(2, 3, 0, out=2),
                 why="no input features: y = 0, dW is empty; reshaping with -1 cannot tell the "
                     "batch size from 0 elements",
                 why_ja="入力の特徴がない: y = 0 で、dW は空。要素が 0 個では -1 を使った reshape で"
                        "バッチサイズを決められない"),
        ],
        torch=lambda a, e, hp: a["x"] @ a["W"],
        jax=lambda a, e, hp: a["x"] @ a["W"],
        formulas={"forward": r"Y = X W",
                  "backward": r"\frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y} W^{\top},\quad "
                              r"\frac{\partial L}{\partial W} = X^{\top} \frac{\partial L}{\partial Y}"},
        convention="W has the book's layout (in, out), as the book's MatMul (vol. 2).",
        convention_ja="W は本の並び (in, out) で、本の MatMul（第 2 巻）と同じ。",
        hints=_hints,
        mistakes=MATMUL_MISTAKES,
    ),
    OpSpec(
        name="embedding", family="linear", impl="Embedding",
        cases=[
            Case("repeated", _embedding(6, 3, [1, 4, 1, 1, 5]),
                 why="index 1 appears three times: its row must receive the sum of three gradients",
                 why_ja="インデックス 1 が 3 回現れる: その行には 3 つの勾配の和が入らなければならない"),
            Case("batch_of_sequences", _embedding(7, 4, (3, 5)), why="indices (N, T) -> output (N, T, dim)",
                 why_ja="インデックス (N, T) -> 出力 (N, T, dim)"),
            Case("single", _embedding(5, 2, [3]), why="one index: every other row's gradient is 0",
                 why_ja="インデックスが 1 つ: ほかのすべての行の勾配は 0"),
            Case("all_same", _embedding(4, 3, [[2, 2], [2, 2]]), why="every position picks row 2",
                 why_ja="どの位置も行 2 を選ぶ"),
        ],
        torch=lambda a, e, hp: F.embedding(e["idx"], a["W"]),
        jax=_jax_embedding,
        formulas={"forward": r"y_{t} = W_{i_t,:}",
                  "backward": r"\frac{\partial L}{\partial W_{v,:}} = \sum_{t:\ i_t = v} \frac{\partial L}{\partial y_t}"},
        convention="The indices are an integer `extra` input, not differentiable: no gradient is checked "
                   "for them (and none by finite differences). Repeated indices accumulate (np.add.at).",
        convention_ja="インデックスは整数の `extra` 入力で、微分しない: その勾配は確かめない（数値微分でも"
                      "確かめない）。繰り返し現れるインデックスの勾配は足し込む (np.add.at)。",
        mistakes=EMBEDDING_MISTAKES,
    ),
    OpSpec(
        name="flatten", family="linear", impl="Flatten",
        cases=[
            Case("images", _flatten(2, 3, 4, 5), why="(N, C, H, W) -> (N, C*H*W), row-major",
                 why_ja="(N, C, H, W) -> (N, C*H*W)、行優先"),
            Case("batch1", _flatten(1, 2, 3), why="batch size 1", why_ja="バッチサイズ 1"),
            Case("already_flat", _flatten(3, 4), why="a 2-D input passes through unchanged",
                 why_ja="2 次元の入力はそのまま通る"),
        ],
        torch=lambda a, e, hp: torch.flatten(a["x"], start_dim=1),
        jax=lambda a, e, hp: a["x"].reshape(a["x"].shape[0], -1),
        formulas={"forward": r"y_{n,\,j} = x_{n, c, h, w},\ j = (c H + h) W + w",
                  "backward": r"\frac{\partial L}{\partial x} = \operatorname{reshape}\left(\frac{\partial L}{\partial y}, \operatorname{shape}(x)\right)"},
        convention="Row-major (C order) flattening of every axis but the first, as torch.flatten(x, 1) "
                   "and nn.Flatten.",
        convention_ja="最初の軸以外のすべての軸を行優先（C の順）で平坦化する。torch.flatten(x, 1) や "
                      "nn.Flatten と同じ。",
        mistakes=FLATTEN_MISTAKES,
    ),
]
