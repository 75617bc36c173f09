"""Attention: scaled dot-product attention and multi-head attention."""
import numpy as np

from ..frameworks import F, jnn, jnp, torch
from ..spec import Case, CaseData, OpSpec
from ._cases import normal, weight
from ._mistakes_attention import CATALOGUE as MISTAKES


def _some_allowed(rng, shape):
    """A random boolean mask (True = may attend) with at least one key per query."""
    mask = rng.random(shape) < 0.6
    mask[..., 0] |= ~mask.any(axis=-1)
    return mask


def _qkv(batch, Lq, Lk, d, dv, mask=None):
    def make(rng):
        data = CaseData(inputs={"q": normal(rng, *batch, Lq, d), "k": normal(rng, *batch, Lk, d),
                                "v": normal(rng, *batch, Lk, dv)})
        if mask == "shared":
            data.extra["mask"] = _some_allowed(rng, (Lq, Lk))
        elif mask == "per_batch":
            data.extra["mask"] = _some_allowed(rng, (*batch, Lq, Lk))
        return data
    return make


def _torch_sdpa(a, e, hp):
    return F.scaled_dot_product_attention(a["q"], a["k"], a["v"], attn_mask=e.get("mask"),
                                          is_causal=hp.get("causal", False), scale=hp.get("scale"))


def _allowed(xp, Lq, Lk, mask, causal):
    allowed = mask
    if causal:
        lower = xp.tril(xp.ones((Lq, Lk), dtype=bool))
        allowed = lower if allowed is None else allowed & lower
    return allowed


def _jax_attention(q, k, v, mask, causal, scale=None):
    s = scale if scale is not None else 1.0 / np.sqrt(q.shape[-1])
    scores = (q @ jnp.swapaxes(k, -1, -2)) * s
    allowed = _allowed(jnp, q.shape[-2], k.shape[-2], mask, causal)
    if allowed is not None:
        scores = jnp.where(allowed, scores, -jnp.inf)
    return jnn.softmax(scores, axis=-1) @ v


def _jax_sdpa(a, e, hp):
    return _jax_attention(a["q"], a["k"], a["v"], e.get("mask"), hp.get("causal", False), hp.get("scale"))


ATTENTION_HINT = "each query row has at least one allowed key; masked scores are -inf"


def _mha(N, Lq, Lk, E, mask=None):
    def make(rng):
        params = {}
        for name in "qkvo":
            params[f"W_{name}"] = weight(rng, E, E, E)
            params[f"b_{name}"] = 0.1 * normal(rng, E)
        data = CaseData(inputs={"query": normal(rng, N, Lq, E), "key": normal(rng, N, Lk, E),
                                "value": normal(rng, N, Lk, E)}, params=params)
        if mask is not None:
            data.extra["mask"] = _some_allowed(rng, (Lq, Lk))
        return data
    return make


def _torch_mha(a, e, hp):
    """F.multi_head_attention_forward with nn.MultiheadAttention's weight layout."""
    seq_first = lambda x: x.transpose(0, 1)          # torch's default layout is (L, N, E)
    Lq, Lk = a["query"].shape[1], a["key"].shape[1]
    allowed = _allowed(torch, Lq, Lk, e.get("mask"), hp.get("causal", False))
    out, _ = F.multi_head_attention_forward(
        seq_first(a["query"]), seq_first(a["key"]), seq_first(a["value"]),
        a["W_q"].shape[0], hp.get("num_heads", 1),
        in_proj_weight=torch.cat([a["W_q"].T, a["W_k"].T, a["W_v"].T]),
        in_proj_bias=torch.cat([a["b_q"], a["b_k"], a["b_v"]]),
        bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
        out_proj_weight=a["W_o"].T, out_proj_bias=a["b_o"], training=False, need_weights=False,
        attn_mask=None if allowed is None else ~allowed)   # torch: True = may NOT attend
    return seq_first(out)


def _jax_mha(a, e, hp):
    H = hp.get("num_heads", 1)

    def heads(x, name):                               # (N, L, E) -> (N, H, L, E/H)
        y = x @ a[f"W_{name}"] + a[f"b_{name}"]
        N, L, E = y.shape
        return y.reshape(N, L, H, E // H).transpose(0, 2, 1, 3)

    o = _jax_attention(heads(a["query"], "q"), heads(a["key"], "k"), heads(a["value"], "v"),
                       e.get("mask"), hp.get("causal", False))
    N, _, Lq, dh = o.shape
    return o.transpose(0, 2, 1, 3).reshape(N, Lq, H * dh) @ a["W_o"] + a["b_o"]


SDPA_FORWARD = (r"O = \operatorname{softmax}\left(\frac{Q K^{\top}}{\sqrt{d}} + M\right) V,\quad "
                r"M_{ij} = \begin{cases} 0 & \text{allowed} \\ -\infty & \text{masked} \end{cases}")
SDPA_BACKWARD = (r"\frac{\partial L}{\partial V} = P^{\top} \frac{\partial L}{\partial O},\ "
                 r"\frac{\partial L}{\partial P} = \frac{\partial L}{\partial O} V^{\top},\ "
                 r"\frac{\partial L}{\partial S} = P \odot \left(\frac{\partial L}{\partial P} - "
                 r"\operatorname{rowsum}\left(\frac{\partial L}{\partial P} \odot P\right)\right),\ "
                 r"\frac{\partial L}{\partial Q} = \frac{1}{\sqrt{d}} \frac{\partial L}{\partial S} K,\ "
                 r"\frac{\partial L}{\partial K} = \frac{1}{\sqrt{d}} \frac{\partial L}{\partial S}^{\top} Q")

SPECS = [
    OpSpec(
        name="scaled_dot_product_attention", family="attention", impl="ScaledDotProductAttention", mistakes=MISTAKES["scaled_dot_product_attention"],
        cases=[
            Case("cross", _qkv((2,), 3, 4, 5, 2), why="Lq != Lk, d != dv: no square shortcut"),
            Case("batch1", _qkv((1,), 3, 4, 5, 2), why="batch size 1"),
            Case("heads", _qkv((2, 3), 4, 4, 2, 2), why="batch and head axes (N, H, L, d)"),
            Case("mask", _qkv((2,), 3, 4, 5, 2, mask="shared"),
                 why="a boolean mask (True = may attend) shared by the batch"),
            Case("mask_per_batch", _qkv((2,), 3, 4, 5, 2, mask="per_batch"), {"scale": 0.5},
                 why="one mask per sample, and an explicit scale instead of 1/sqrt(d)"),
            Case("causal", _qkv((2, 3), 4, 4, 2, 2), {"causal": True},
                 why="causal: query i attends to keys 0..i"),
        ],
        torch=_torch_sdpa, jax=_jax_sdpa,
        formulas={"forward": SDPA_FORWARD, "backward": SDPA_BACKWARD},
        convention="PyTorch's F.scaled_dot_product_attention: a boolean mask is True where a query may "
                   "attend; causal is the top-left lower triangle tril(ones(Lq, Lk)); the default scale is "
                   "1/sqrt(d). A masked score is -inf, so its weight is exactly 0; a query with no allowed "
                   "key is refused (torch would return NaN).",
    ),
    OpSpec(
        name="multi_head_attention", family="attention", impl="MultiHeadAttention", mistakes=MISTAKES["multi_head_attention"],
        cases=[
            Case("heads2", _mha(2, 3, 4, 6), {"num_heads": 2}, why="cross-attention, Lq != Lk"),
            Case("heads3_batch1", _mha(1, 3, 4, 6), {"num_heads": 3}, why="batch size 1, head size 2"),
            Case("one_head", _mha(2, 3, 4, 6), {"num_heads": 1}, why="a single head: plain attention"),
            Case("causal", _mha(2, 4, 4, 6), {"num_heads": 2, "causal": True}, why="a causal decoder"),
            Case("mask", _mha(2, 3, 4, 6, mask=True), {"num_heads": 2},
                 why="a boolean mask shared by batch and heads"),
        ],
        torch=_torch_mha, jax=_jax_mha,
        formulas={"forward": r"\mathrm{head}_h = \operatorname{Attention}(X_q W_q^{(h)} + b_q^{(h)},\ "
                             r"X_k W_k^{(h)} + b_k^{(h)},\ X_v W_v^{(h)} + b_v^{(h)}),\quad "
                             r"Y = [\mathrm{head}_1, \ldots, \mathrm{head}_H]\, W_o + b_o",
                  "backward": r"\frac{\partial L}{\partial W_o} = C^{\top} \frac{\partial L}{\partial Y},\ "
                              r"\frac{\partial L}{\partial C} = \frac{\partial L}{\partial Y} W_o^{\top},\ "
                              r"\text{then attention backward per head, then } "
                              r"\frac{\partial L}{\partial X_q} = \frac{\partial L}{\partial Q} W_q^{\top},\ "
                              r"\frac{\partial L}{\partial W_q} = X_q^{\top} \frac{\partial L}{\partial Q} \ldots"},
        convention="Checked against torch's F.multi_head_attention_forward with nn.MultiheadAttention's "
                   "layout: in_proj_weight = [W_q^T; W_k^T; W_v^T], out_proj.weight = W_o^T (the answer key "
                   "keeps the book's (in, out) layout), head h takes features h*E/H..(h+1)*E/H. Inputs are "
                   "batch first (N, L, E). The answer key's mask is True where a query may attend; "
                   "nn.MultiheadAttention's boolean attn_mask means the opposite, so the spec inverts it.",
    ),
]
