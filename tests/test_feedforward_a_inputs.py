"""Bad input to the feed-forward layers (activations, linear, dropout, attention) is refused
with an error that names the layer and the argument, never silently broadcast; and the cases
of their conventions (kinks, ties, repeated indices, dropout scaling) fail a module that
follows another convention."""
import types

import numpy as np
import pytest

from backprop_oracle import impl
from backprop_oracle.impl import ShapeError
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import Check, run_check

rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4))

ELEMENTWISE = [
    impl.LeakyRelu(0.1), impl.Elu(0.5), impl.Selu(), impl.Gelu(), impl.Gelu("tanh"),
    impl.Softplus(2.0), impl.Silu(), impl.Hardtanh(-2.0, 0.5), impl.LogSoftmax(),
]


def raises(error, layer_name, arg, *fragments):
    """pytest.raises whose message must name the layer, the argument and each fragment."""
    return pytest.raises(error, match=".*".join([layer_name, f"'{arg}'", *fragments]))


@pytest.mark.parametrize("layer", ELEMENTWISE, ids=lambda l: type(l).__name__)
def test_elementwise_refuses_integers(layer):
    with raises(TypeError, type(layer).__name__, "x", "floating-point", "int64"):
        layer.forward(np.arange(12).reshape(3, 4))


@pytest.mark.parametrize("layer", ELEMENTWISE, ids=lambda l: type(l).__name__)
def test_elementwise_refuses_a_dout_of_another_shape(layer):
    layer.forward(X)
    with raises(ShapeError, type(layer).__name__, "dout", r"\(3, 4\)", r"\(4, 3\)"):
        layer.backward(np.ones((4, 3)))


def test_log_softmax_axis_out_of_range():
    with raises(ShapeError, "LogSoftmax", "x", r"\(3, 4\)"):
        impl.LogSoftmax(axis=2).forward(X)


def test_gelu_unknown_approximation():
    with pytest.raises(ValueError, match="Gelu.*'none' or 'tanh'.*'fast'"):
        impl.Gelu("fast")


def test_hardtanh_bounds_in_order():
    with pytest.raises(ValueError, match="Hardtanh.*min_val 1.*max_val -1"):
        impl.Hardtanh(1.0, -1.0)


def test_prelu_slope_count_must_match_channels():
    with raises(ShapeError, "PRelu", "x", "size 3 on axis 1", r"\(2, 4\)"):
        impl.PRelu(np.full(3, 0.25)).forward(np.ones((2, 4)))


def test_prelu_rank_and_dtype():
    with raises(ShapeError, "PRelu", "x", "at least 2 dimensions", r"\(4,\)"):
        impl.PRelu(np.full(1, 0.25)).forward(np.ones(4))
    with raises(ShapeError, "PRelu", "a", "1 dimensions", r"\(2, 2\)"):
        impl.PRelu(np.ones((2, 2)))
    with raises(TypeError, "PRelu", "a", "int64"):
        impl.PRelu(np.array([1, 2]))


def test_maxout_shapes():
    W, b = rng.standard_normal((3, 4, 2)), np.zeros((3, 2))
    with raises(ShapeError, "Maxout", "b", r"\(3, 2\)", r"\(2, 3\)"):
        impl.Maxout(W, np.zeros((2, 3)))
    with raises(ShapeError, "Maxout", "W", "3 dimensions", r"\(4, 2\)"):
        impl.Maxout(W[0], b)
    with raises(ShapeError, "Maxout", "x", "size 4 on axis 1", r"\(3, 5\)"):
        impl.Maxout(W, b).forward(np.ones((3, 5)))
    with raises(TypeError, "Maxout", "x", "int64"):
        impl.Maxout(W, b).forward(np.ones((3, 4), dtype=np.int64))


def test_matmul_shapes():
    W = rng.standard_normal((4, 5))
    with raises(ShapeError, "MatMul", "x", "size 4 on axis -1", r"\(3, 5\)"):
        impl.MatMul(W).forward(np.ones((3, 5)))
    with raises(ShapeError, "MatMul", "W", "2 dimensions", r"\(4,\)"):
        impl.MatMul(np.ones(4))
    with raises(TypeError, "MatMul", "x", "int64"):
        impl.MatMul(W).forward(np.ones((3, 4), dtype=np.int64))
    layer = impl.MatMul(W)
    layer.forward(X)
    with raises(ShapeError, "MatMul", "dout", r"\(3, 5\)", r"\(5, 3\)"):
        layer.backward(np.ones((5, 3)))


def test_embedding_indices_must_be_integers_in_range():
    W = rng.standard_normal((6, 3))
    with raises(TypeError, "Embedding", "idx", "integer array", "float64"):
        impl.Embedding(W).forward(np.array([0.0, 1.0]))
    with raises(ValueError, "Embedding", "idx", r"\[0, 6\)", "max 6"):
        impl.Embedding(W).forward(np.array([0, 6]))
    with raises(ValueError, "Embedding", "idx", "min -1"):
        impl.Embedding(W).forward(np.array([-1, 2]))
    with raises(TypeError, "Embedding", "W", "int64"):
        impl.Embedding(np.ones((6, 3), dtype=np.int64))


def test_embedding_dout_shape():
    layer = impl.Embedding(rng.standard_normal((6, 3)))
    layer.forward(np.array([[1, 2], [1, 5]]))
    with raises(ShapeError, "Embedding", "dout", r"\(2, 2, 3\)", r"\(4, 3\)"):
        layer.backward(np.ones((4, 3)))


def test_embedding_accumulates_repeated_indices():
    layer = impl.Embedding(np.zeros((3, 2)))
    layer.forward(np.array([1, 1, 2, 1]))
    layer.backward(np.ones((4, 2)))
    np.testing.assert_array_equal(layer.grads["W"], [[0, 0], [3, 3], [1, 1]])


def test_flatten_rank_and_dtype():
    with raises(ShapeError, "Flatten", "x", "at least 2 dimensions", r"\(5,\)"):
        impl.Flatten().forward(np.ones(5))
    with raises(TypeError, "Flatten", "x", "int64"):
        impl.Flatten().forward(np.ones((2, 3), dtype=np.int64))
    layer = impl.Flatten()
    layer.forward(np.ones((2, 3, 4)))
    with raises(ShapeError, "Flatten", "dout", r"\(2, 12\)", r"\(2, 3, 4\)"):
        layer.backward(np.ones((2, 3, 4)))


def test_dropout_mask_must_be_a_boolean_of_x_shape():
    with raises(ShapeError, "Dropout", "mask", r"\(3, 4\)", r"\(4, 3\)"):
        impl.Dropout(0.5).forward(X, np.ones((4, 3), dtype=bool))
    with raises(TypeError, "Dropout", "mask", "boolean", "float64"):
        impl.Dropout(0.5).forward(X, np.ones((3, 4)))
    with raises(TypeError, "Dropout", "x", "int64"):
        impl.Dropout(0.5).forward(np.ones((3, 4), dtype=np.int64), np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="Dropout.*p must be a probability.*1.5"):
        impl.Dropout(1.5)


def test_dropout_is_inverted():
    mask = np.array([[True, False], [False, True]])
    y = impl.Dropout(0.75).forward(np.ones((2, 2)), mask)
    np.testing.assert_array_equal(y, [[4, 0], [0, 4]])


def _qkv(Lq=3, Lk=4, d=5, dv=2):
    return (rng.standard_normal((2, Lq, d)), rng.standard_normal((2, Lk, d)),
            rng.standard_normal((2, Lk, dv)))


def test_attention_shapes():
    q, k, v = _qkv()
    attention = impl.ScaledDotProductAttention()
    with raises(ShapeError, "ScaledDotProductAttention", "k", r"\(2, 4, 5\)", r"\(2, 4, 3\)"):
        attention.forward(q, k[..., :3], v)
    with raises(ShapeError, "ScaledDotProductAttention", "v", r"\(2, 4, 2\)", r"\(2, 5, 2\)"):
        attention.forward(q, k, np.ones((2, 5, 2)))
    with pytest.raises(ShapeError, match=r"ScaledDotProductAttention.*batch axes.*k \(3, 4, 5\).*broadcast"):
        attention.forward(q, np.ones((3, 4, 5)), v)       # batch axes 2 and 3 do not broadcast
    with raises(TypeError, "ScaledDotProductAttention", "q", "int64"):
        attention.forward(np.ones((2, 3, 5), dtype=np.int64), k, v)


def test_attention_mask():
    q, k, v = _qkv()
    attention = impl.ScaledDotProductAttention()
    with raises(ShapeError, "ScaledDotProductAttention", "mask", r"\(3, 4\)", r"\(4, 3\)"):
        attention.forward(q, k, v, np.ones((4, 3), dtype=bool))
    with raises(TypeError, "ScaledDotProductAttention", "mask", "boolean", "int64"):
        attention.forward(q, k, v, np.ones((3, 4), dtype=np.int64))   # a float mask is additive
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    with pytest.raises(ValueError, match="ScaledDotProductAttention.*at least one key"):
        attention.forward(q, k, v, mask)


def _mha_params(E=6):
    params = {}
    for n in "qkvo":
        params[f"W_{n}"], params[f"b_{n}"] = rng.standard_normal((E, E)), np.zeros(E)
    return params


def test_multi_head_attention_shapes():
    params = _mha_params()
    with pytest.raises(ValueError, match="MultiHeadAttention.*6.*num_heads 4"):
        impl.MultiHeadAttention(**params, num_heads=4)
    with raises(ShapeError, "MultiHeadAttention", "W_k", r"\(6, 6\)", r"\(6, 5\)"):
        impl.MultiHeadAttention(**{**params, "W_k": np.ones((6, 5))}, num_heads=2)
    layer = impl.MultiHeadAttention(**params, num_heads=2)
    x = rng.standard_normal((2, 3, 6))
    with raises(ShapeError, "MultiHeadAttention", "key", "size 6 on axis 2", r"\(2, 3, 4\)"):
        layer.forward(x, x[..., :4], x)
    with raises(ShapeError, "MultiHeadAttention", "value", r"\(2, 3, 6\)", r"\(2, 2, 6\)"):
        layer.forward(x, x, x[:, :2])
    with raises(ShapeError, "MultiHeadAttention", "query", "3 dimensions", r"\(1, 2, 3, 6\)"):
        layer.forward(x[None], x, x)                   # (L, E) would be one unbatched sample
    with raises(TypeError, "MultiHeadAttention", "query", "int64"):
        layer.forward(np.ones((2, 3, 6), dtype=np.int64), x, x)
    layer.forward(x, x, x)
    with raises(ShapeError, "MultiHeadAttention", "dout", r"\(2, 3, 6\)", r"\(2, 6, 3\)"):
        layer.backward(np.ones((2, 6, 3)))


# ---- the conventions' cases can fail: a module with one convention changed is caught ----

class EmbeddingOverwrites(impl.Embedding):
    def backward(self, dout):
        dW = np.zeros_like(self.params["W"])
        dW[self.idx] = dout                       # a repeated index keeps only its last gradient
        self.grads["W"] = dW


class LeakyReluSlopeOneAtZero(impl.LeakyRelu):
    def backward(self, dout):
        return np.where(self.x >= 0, dout, self.negative_slope * dout)   # jax.nn.leaky_relu's convention


class HardtanhPassesAtBounds(impl.Hardtanh):
    def backward(self, dout):
        return np.where((self.x >= self.min_val) & (self.x <= self.max_val), dout, 0.0)


class DropoutNotInverted(impl.Dropout):
    def forward(self, x, mask=None):
        self.scaled_mask = np.asarray(mask, dtype=x.dtype)     # the book's training-time Dropout
        return x * self.scaled_mask


class MaxoutSplitsTies(impl.Maxout):
    def backward(self, dout):
        W = self.params["W"]
        z = np.einsum("ni,kio->kno", self.x, W) + self.params["b"][:, None, :]
        winners = z == z.max(axis=0, keepdims=True)
        dz = winners * dout[None] / winners.sum(axis=0)         # the gradient shared among ties
        self.grads["W"] = np.einsum("ni,kno->kio", self.x, dz)
        self.grads["b"] = dz.sum(axis=1)
        return np.einsum("kno,kio->ni", dz, W)


ALL = ("torch", "jax", "fd")
FRAMEWORKS = ("torch", "jax")   # finite differences see only a self-consistent forward and backward


@pytest.mark.parametrize("mutant, op, case, quantity, oracles", [
    (EmbeddingOverwrites, "embedding", "repeated", "grad:W", ALL),
    (LeakyReluSlopeOneAtZero, "leaky_relu", "kink", "grad:x", FRAMEWORKS),
    (HardtanhPassesAtBounds, "hardtanh", "at_bounds", "grad:x", FRAMEWORKS),
    (DropoutNotInverted, "dropout", "p0.5", "grad:x", FRAMEWORKS),
    (MaxoutSplitsTies, "maxout", "ties", "grad:W", FRAMEWORKS),
])
def test_a_changed_convention_fails(mutant, op, case, quantity, oracles):
    spec = registry.get(op)
    module = types.SimpleNamespace(**{name: getattr(impl, name) for name in impl.__all__})
    setattr(module, spec.impl, mutant)
    for oracle in oracles:
        records = run_check(Check(op, case, oracle, "cpu", "float64"), module)
        statuses = {r["quantity"]: r["status"] for r in records if r["oracle"] == oracle}
        assert statuses.get(quantity) == "fail", f"{oracle}: {statuses}"
    # and the unchanged answer key passes the same case
    records = run_check(Check(op, case, "torch", "cpu", "float64"))
    assert {r["status"] for r in records if r["oracle"] == "torch"} == {"pass"}
