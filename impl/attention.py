"""Attention: scaled dot-product attention, and multi-head attention built from it."""
import numpy as np

from ._checks import ShapeError, dim_equals, float_array, require_forward, same_shape, upstream
from .activations import softmax
from .base import Layer
from .linear import Affine

__all__ = ['ScaledDotProductAttention', 'MultiHeadAttention']


def _transpose(a):
    """Swap the last two axes: a matrix transpose for every leading batch index."""
    return np.swapaxes(a, -1, -2)


def attention_mask(layer, mask, causal, Lq, Lk, batch_shape):
    """The boolean mask of allowed (query, key) pairs, or None when every pair is allowed.

    `mask` is True where a query may attend to a key (PyTorch's
    scaled_dot_product_attention convention), of shape (Lq, Lk) or batch + (Lq, Lk).
    causal adds the lower triangle tril(ones(Lq, Lk)): query i sees keys 0..i.
    A floating-point mask is added to the scores instead (see additive_mask).
    """
    allowed = None
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"{type(layer).__name__}: argument 'mask' must be boolean "
                            f"(True = may attend) or floating-point (added to the scores), "
                            f"got dtype {mask.dtype}")
        if mask.shape not in ((Lq, Lk), tuple(batch_shape) + (Lq, Lk)):
            raise ShapeError(f"{type(layer).__name__}: argument 'mask' must have shape {(Lq, Lk)} "
                             f"or {tuple(batch_shape) + (Lq, Lk)}, got {mask.shape}")
        allowed = mask
    if causal:
        lower = np.tril(np.ones((Lq, Lk), dtype=bool))
        allowed = lower if allowed is None else allowed & lower
    if allowed is not None and not allowed.any(axis=-1).all():
        raise ValueError(f"{type(layer).__name__}: every query must be allowed at least one key; "
                         f"a fully masked row has no softmax")
    return allowed


def _batch_axes(layer, q, k, v):
    """The batch (and head) axes of q, k and v, broadcast as PyTorch broadcasts them."""
    try:
        return np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ShapeError(f"{type(layer).__name__}: the batch axes of q {q.shape}, k {k.shape} and "
                         f"v {v.shape} do not broadcast") from None


def _summed_to(g, shape):
    """g summed over the leading axes that broadcasting added to an array of `shape`."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, (n, m) in enumerate(zip(shape, g.shape)) if n == 1 and m != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def additive_mask(layer, mask, causal, Lq, Lk, batch_shape):
    """A floating-point mask M added to the scores, S = Q K^T s + M (PyTorch's float attn_mask):
    0 lets a pair through, -inf blocks it, anything else biases it. causal adds -inf above
    the diagonal. A row that is -inf everywhere gives NaN, as in PyTorch."""
    mask = np.asarray(mask)
    try:
        np.broadcast_to(mask, tuple(batch_shape) + (Lq, Lk))
    except ValueError:
        raise ShapeError(f"{type(layer).__name__}: argument 'mask' of shape {mask.shape} does not "
                         f"broadcast to the scores' shape {tuple(batch_shape) + (Lq, Lk)}") from None
    if causal:
        mask = np.where(np.tril(np.ones((Lq, Lk), dtype=bool)), mask, -np.inf)
    return mask


class ScaledDotProductAttention(Layer):
    """O = softmax(Q K^T s + masked) V with s = 1/sqrt(d) unless `scale` is given.

    Q (..., Lq, d), K (..., Lk, d), V (..., Lk, dv); the leading axes are batches
    (and heads). Masked pairs get a score of -inf, hence a weight of exactly 0.
    A floating-point `mask` is added to the scores instead (PyTorch's float attn_mask).

    Backward, with S the scores and P = softmax(S) along the keys:
        dV = P^T dO
        dP = dO V^T
        dS = P * (dP - sum_j dP_j P_j)     (softmax backward, row by row)
        dQ = dS K s,   dK = dS^T Q s
    """

    def __init__(self, causal=False, scale=None, dropout_p=0.0, enable_gqa=False):
        super().__init__()
        if dropout_p:
            raise ValueError(f"ScaledDotProductAttention: dropout_p={dropout_p} is not supported "
                             f"(the answer key is deterministic: apply Dropout to P yourself)")
        if enable_gqa:
            raise ValueError("ScaledDotProductAttention: enable_gqa (grouped-query attention) "
                             "is not supported: repeat K and V over the query heads")
        self.causal, self.scale = causal, scale

    def forward(self, q, k, v, mask=None):
        q = float_array(self, "q", q, min_ndim=2)
        k = float_array(self, "k", k, min_ndim=2)
        v = float_array(self, "v", v, min_ndim=2)
        batch, (Lq, d), Lk = _batch_axes(self, q, k, v), q.shape[-2:], k.shape[-2]
        same_shape(self, "k", k, k.shape[:-2] + (Lk, d), "the feature size d of q")
        same_shape(self, "v", v, v.shape[:-2] + (Lk, v.shape[-1]), "as many rows as k")
        s = self.scale if self.scale is not None else 1.0 / np.sqrt(d)
        scores = (q @ _transpose(k)) * s
        if mask is not None and np.issubdtype(np.asarray(mask).dtype, np.floating):
            scores = scores + additive_mask(self, mask, self.causal, Lq, Lk, batch)
        else:
            allowed = attention_mask(self, mask, self.causal, Lq, Lk, batch)
            if allowed is not None:
                scores = np.where(allowed, scores, -np.inf)
        with np.errstate(invalid="ignore"):          # a fully -inf float-masked row: NaN
            self.P = softmax(scores, axis=-1).astype(q.dtype)
        self.q, self.k, self.v, self.s = q, k, v, s
        return self.P @ v

    def backward(self, dout):
        require_forward(self, "P")
        P, q, k, v, s = self.P, self.q, self.k, self.v, self.s
        dout = upstream(self, dout, P.shape[:-1] + (v.shape[-1],))
        dv = _transpose(P) @ dout
        dP = dout @ _transpose(v)
        dS = P * (dP - (dP * P).sum(axis=-1, keepdims=True))
        dq = (dS @ k) * s
        dk = (_transpose(dS) @ q) * s
        # batch axes that q, k or v shared by broadcasting get the sum of their gradients
        return tuple(_summed_to(g, a.shape).astype(a.dtype) for g, a in ((dq, q), (dk, k), (dv, v)))


def _one_more_key(mask):
    """A mask widened by one key that every query may attend (True, or 0 added)."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    pad = [(0, 0)] * (mask.ndim - 1) + [(0, 1)]
    return np.pad(mask, pad, constant_values=True if mask.dtype == np.bool_ else 0.0)


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al. 2017), in PyTorch's nn.MultiheadAttention form:

        Q = query W_q + b_q,  K = key W_k + b_k,  V = value W_v + b_v      (E -> E)
        head_h = Attention(Q_h, K_h, V_h)    on the h-th slice of E/H features
        out = concat_h(head_h) W_o + b_o

    W_* are (E, E) in the book's (in, out) layout; torch's in_proj_weight is
    [W_q^T; W_k^T; W_v^T] and out_proj.weight is W_o^T. query (N, Lq, E), key and
    value (N, Lk, E), batch first. `mask` is True where a query may attend (as in
    ScaledDotProductAttention; nn.MultiheadAttention's boolean attn_mask means the
    opposite). Backward runs the pieces backward: the output projection, the
    attention of every head at once, and the three input projections.

    nn.MultiheadAttention's other forms, as options: forward(..., key_padding_mask=,
    attn_mask=) with PyTorch's meanings (boolean True = may NOT attend, or floating-point
    added to the scores; key_padding_mask (N, Lk), attn_mask (Lq, Lk) or (N*H, Lq, Lk));
    unbatched query (Lq, E), key and value (Lk, E); batch_first=False for (L, N, E);
    bias_k, bias_v (E,) (add_bias_kv: one more key and value, learned, after the projections)
    and add_zero_attn=True (one more key and value of zeros per head), as torch places them.
    """

    def __init__(self, W_q, b_q, W_k, b_k, W_v, b_v, W_o, b_o, num_heads=1, causal=False,
                 batch_first=True, dropout=0.0, bias_k=None, bias_v=None, add_zero_attn=False):
        if dropout:
            raise ValueError(f"MultiHeadAttention: dropout={dropout!r} is not supported "
                             f"(the answer key is deterministic)")
        if (bias_k is None) != (bias_v is None):
            raise ValueError("MultiHeadAttention: give both bias_k and bias_v (add_bias_kv) or neither")
        if causal and (bias_k is not None or add_zero_attn):
            raise ValueError("MultiHeadAttention: causal with bias_k / add_zero_attn is not supported")
        given = {"q": (W_q, b_q), "k": (W_k, b_k), "v": (W_v, b_v), "o": (W_o, b_o)}
        E = float_array(self, "W_q", W_q, ndim=2).shape[0]
        for name, (W, b) in given.items():   # checked here, so errors name this layer
            same_shape(self, f"W_{name}", float_array(self, f"W_{name}", W), (E, E), "square (E, E) like W_q")
            same_shape(self, f"b_{name}", float_array(self, f"b_{name}", b), (E,), "the embed size E")
        if E % num_heads:
            raise ValueError(f"MultiHeadAttention: embed size {E} is not divisible by "
                             f"num_heads {num_heads}")
        self.proj = {name: Affine(W, b) for name, (W, b) in given.items()}
        extra = {}
        if bias_k is not None:
            for name, bias in (("bias_k", bias_k), ("bias_v", bias_v)):
                extra[name] = same_shape(self, name, float_array(self, name, bias), (E,), "the embed size E")
        super().__init__(**{f"{p}_{n}": self.proj[n].params[p] for n in "qkvo" for p in "Wb"}, **extra)
        self.add_zero_attn = bool(add_zero_attn)
        self.E, self.H = E, num_heads
        self.batch_first = bool(batch_first)
        self.attention = ScaledDotProductAttention(causal=causal)

    def _split(self, x):
        """(N, L, E) -> (N, H, L, E/H): head h takes features h*E/H .. (h+1)*E/H - 1."""
        N, L, _ = x.shape
        return x.reshape(N, L, self.H, self.E // self.H).transpose(0, 2, 1, 3)

    def _merge(self, x):
        """(N, H, L, E/H) -> (N, L, E), the inverse of _split."""
        N, _, L, _ = x.shape
        return x.transpose(0, 2, 1, 3).reshape(N, L, self.E)

    def forward(self, query, key, value, mask=None, key_padding_mask=None, attn_mask=None):
        query, key, value = self._batch_first(query, key, value)
        if key_padding_mask is not None or attn_mask is not None:
            mask = self._torch_masks(mask, key_padding_mask, attn_mask, query.shape[:2],
                                     np.shape(key)[1])
        return self._attend(query, key, value, mask)

    def _batch_first(self, *inputs):
        """(N, L, E) from the unbatched (L, E) or, with batch_first=False, from (L, N, E)."""
        self.layout = "unbatched" if np.ndim(inputs[0]) == 2 else \
            "batch_first" if self.batch_first else "sequence_first"
        arrays = [np.asarray(x) for x in inputs]
        if self.layout == "unbatched":
            return [x[None] for x in arrays]
        if self.layout == "sequence_first":
            return [np.swapaxes(x, 0, 1) for x in arrays]
        return arrays

    def _from_batch_first(self, y):
        return y[0] if self.layout == "unbatched" else \
            np.swapaxes(y, 0, 1) if self.layout == "sequence_first" else y

    def _torch_masks(self, mask, key_padding_mask, attn_mask, batch_lq, Lk):
        """nn.MultiheadAttention's masks as one additive float mask (N, H, Lq, Lk)."""
        (N, Lq), H = batch_lq, self.H
        total = np.zeros((N, H, Lq, Lk))

        def additive(m, name):
            m = np.asarray(m)
            if m.dtype == np.bool_:
                return np.where(m, -np.inf, 0.0)          # torch: True = may NOT attend
            if not np.issubdtype(m.dtype, np.floating):
                raise TypeError(f"MultiHeadAttention: argument '{name}' must be boolean or "
                                f"floating-point, got dtype {m.dtype}")
            return m
        if mask is not None:                              # ours: True = may attend
            mask = np.asarray(mask, dtype=bool)
            total = total + np.where(mask[:, None] if mask.ndim == 3 else mask, 0.0, -np.inf)
        if attn_mask is not None:
            m = additive(attn_mask, "attn_mask")
            if m.shape == (Lq, Lk):
                total = total + m
            elif m.shape == (N * H, Lq, Lk):
                total = total + m.reshape(N, H, Lq, Lk)
            else:
                raise ShapeError(f"MultiHeadAttention: argument 'attn_mask' must have shape "
                                 f"{(Lq, Lk)} or {(N * H, Lq, Lk)}, got {m.shape}")
        if key_padding_mask is not None:
            m = additive(key_padding_mask, "key_padding_mask")
            if m.shape != (N, Lk) and not (self.layout == "unbatched" and m.shape == (Lk,)):
                raise ShapeError(f"MultiHeadAttention: argument 'key_padding_mask' must have "
                                 f"shape {(N, Lk)} (True = a padded key), got {m.shape}")
            total = total + m.reshape(N, 1, 1, Lk)
        return total

    def _attend(self, query, key, value, mask):
        query = float_array(self, "query", query, ndim=3)
        key = float_array(self, "key", key, ndim=3)
        value = float_array(self, "value", value, ndim=3)
        for name, x in (("query", query), ("key", key), ("value", value)):
            dim_equals(self, name, x, 2, self.E, "the embed size E")
        same_shape(self, "key", key, (query.shape[0], key.shape[1], self.E), "the batch size of query")
        same_shape(self, "value", value, key.shape, "the shape of key")
        if mask is not None and np.ndim(mask) == 3:   # one mask per sample, shared by the heads
            mask = np.broadcast_to(np.asarray(mask)[:, None], (query.shape[0], self.H) + np.shape(mask)[1:])
        self.out_shape = query.shape
        q, k, v = (self.proj[n].forward(x) for n, x in zip("qkv", (query, key, value)))
        if "bias_k" in self.params:              # add_bias_kv: one more (learned) key and value
            k, v = (np.concatenate([a, np.broadcast_to(self.params[name], (len(a), 1, self.E))], axis=1)
                    for a, name in ((k, "bias_k"), (v, "bias_v")))
            mask = _one_more_key(mask)
        heads = [self._split(a) for a in (q, k, v)]
        if self.add_zero_attn:                   # one more key and value of zeros, per head
            heads[1:] = [np.concatenate([h, np.zeros_like(h[:, :, :1])], axis=2) for h in heads[1:]]
            mask = _one_more_key(mask)
        context = self._merge(self.attention.forward(*heads, mask))
        return self._from_batch_first(self.proj["o"].forward(context))

    def backward(self, dout):
        require_forward(self, "out_shape")
        N, L, E = self.out_shape
        outer = {"unbatched": (L, E), "sequence_first": (L, N, E)}.get(self.layout, (N, L, E))
        dout = self._batch_first(upstream(self, dout, outer))[0]
        dcontext = self.proj["o"].backward(dout)
        dheads = list(self.attention.backward(self._split(dcontext)))
        if self.add_zero_attn:                   # the zero key and value are constants
            dheads[1:] = [d[:, :, :-1] for d in dheads[1:]]
        dq, dk, dv = (self._merge(d) for d in dheads)
        extra = {}
        if "bias_k" in self.params:              # the bias row is shared by the batch
            extra = {"bias_k": dk[:, -1].sum(axis=0), "bias_v": dv[:, -1].sum(axis=0)}
            dk, dv = dk[:, :-1], dv[:, :-1]
        dinputs = tuple(self._from_batch_first(self.proj[n].backward(d)) for n, d in zip("qkv", (dq, dk, dv)))
        self.grads = {f"{p}_{n}": self.proj[n].grads[p] for n in "qkvo" for p in "Wb"}
        self.grads.update(extra)
        return dinputs
