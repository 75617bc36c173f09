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
        elif mask == "float":    # an additive mask: biases, and -inf where a pair is blocked
            data.extra["mask"] = np.where(_some_allowed(rng, (Lq, Lk)), normal(rng, Lq, Lk), -np.inf)
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
    if mask is not None and jnp.issubdtype(mask.dtype, jnp.floating):
        return jnn.softmax(scores + mask, axis=-1) @ v
    allowed = _allowed(jnp, q.shape[-2], k.shape[-2], mask, causal)
    if allowed is not None:
        scores = jnp.where(allowed, scores, -jnp.inf)
    return jnn.softmax(scores, axis=-1) @ v


def _jax_sdpa(a, e, hp):
    return _jax_attention(a["q"], a["k"], a["v"], e.get("mask"), hp.get("causal", False), hp.get("scale"))


ATTENTION_HINT = "each query row has at least one allowed key; masked scores are -inf"


def _mha(N, Lq, Lk, E, mask=None, torch_masks=False, bias_kv=False):
    """MultiHeadAttention's inputs (N = None: one unbatched sample); torch_masks adds
    nn.MultiheadAttention's own: a boolean key_padding_mask (True = a padded key, at least
    one key left per sample) and a float attn_mask added to the scores. The answer key's
    `mask`, which comes first, then lets every pair through."""
    def make(rng):
        params = {}
        for name in "qkvo":
            params[f"W_{name}"] = weight(rng, E, E, E)
            params[f"b_{name}"] = 0.1 * normal(rng, E)
        if bias_kv:
            params["bias_k"], params["bias_v"] = normal(rng, E), normal(rng, E)
        batch = () if N is None else (N,)
        data = CaseData(inputs={"query": normal(rng, *batch, Lq, E), "key": normal(rng, *batch, Lk, E),
                                "value": normal(rng, *batch, Lk, E)}, params=params)
        if mask is not None or torch_masks:
            data.extra["mask"] = _some_allowed(rng, (Lq, Lk)) if mask else np.ones((Lq, Lk), dtype=bool)
        if torch_masks:
            padded = rng.random((N, Lk)) < 0.4
            padded[:, 0] = False
            data.extra["key_padding_mask"] = padded
            data.extra["attn_mask"] = normal(rng, Lq, Lk)
        return data
    return make


def _torch_mha(a, e, hp):
    """F.multi_head_attention_forward with nn.MultiheadAttention's weight layout."""
    unbatched = a["query"].ndim == 2                  # torch takes (L, E) as it is
    seq_first = (lambda x: x) if unbatched else (lambda x: x.transpose(0, 1))   # (L, N, E)
    Lq, Lk = a["query"].shape[-2], a["key"].shape[-2]
    allowed = _allowed(torch, Lq, Lk, e.get("mask"), hp.get("causal", False))
    attn_mask = None if allowed is None else ~allowed   # torch: True = may NOT attend
    if "attn_mask" in e:                                # float: both as one additive mask
        attn_mask = e["attn_mask"] + torch.where(allowed, 0.0, -torch.inf).to(e["attn_mask"].dtype)
    out, _ = F.multi_head_attention_forward(
        seq_first(a["query"]), seq_first(a["key"]), seq_first(a["value"]),
        a["W_q"].shape[0], hp.get("num_heads", 1),
        in_proj_weight=torch.cat([a["W_q"].T, a["W_k"].T, a["W_v"].T]),
        in_proj_bias=torch.cat([a["b_q"], a["b_k"], a["b_v"]]),
        bias_k=a["bias_k"].reshape(1, 1, -1) if "bias_k" in a else None,
        bias_v=a["bias_v"].reshape(1, 1, -1) if "bias_v" in a else None,
        add_zero_attn=hp.get("add_zero_attn", False), dropout_p=0.0,
        out_proj_weight=a["W_o"].T, out_proj_bias=a["b_o"], training=False, need_weights=False,
        key_padding_mask=e.get("key_padding_mask"), attn_mask=attn_mask)
    return seq_first(out)


def _jax_mha(a, e, hp):
    if a["query"].ndim == 2:                          # one sample: a batch of one
        batched = {k: (v[None] if k in ("query", "key", "value") else v) for k, v in a.items()}
        return _jax_mha(batched, e, hp)[0]
    H = hp.get("num_heads", 1)
    mask = e.get("mask")
    if "attn_mask" in e:      # torch's masks as one additive mask (N, 1, Lq, Lk), shared by the heads
        mask = jnp.where(mask, 0.0, -jnp.inf) + e["attn_mask"] \
            + jnp.where(e["key_padding_mask"], -jnp.inf, 0.0)[:, None, None, :]

    def heads(x, name):                               # (N, L, E) -> (N, H, L, E/H)
        y = x @ a[f"W_{name}"] + a[f"b_{name}"]
        if name != "q" and "bias_k" in a:             # add_bias_kv: a learned last key and value
            y = jnp.concatenate([y, jnp.broadcast_to(a["bias_" + name], (y.shape[0], 1, y.shape[2]))], axis=1)
        N, L, E = y.shape
        y = y.reshape(N, L, H, E // H).transpose(0, 2, 1, 3)
        if name != "q" and hp.get("add_zero_attn"):   # and a key and value of zeros per head
            y = jnp.concatenate([y, jnp.zeros_like(y[:, :, :1])], axis=2)
        return y

    extra_keys = ("bias_k" in a) + bool(hp.get("add_zero_attn"))
    if mask is not None and extra_keys:               # the extra keys are always allowed
        pad = [(0, 0)] * (mask.ndim - 1) + [(0, extra_keys)]
        mask = jnp.pad(mask, pad, constant_values=True if mask.dtype == jnp.bool_ else 0.0)
    o = _jax_attention(heads(a["query"], "q"), heads(a["key"], "k"), heads(a["value"], "v"),
                       mask, hp.get("causal", False))
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
            Case("cross", _qkv((2,), 3, 4, 5, 2), why="Lq != Lk, d != dv: no square shortcut",
                 why_ja="Lq != Lk、d != dv: 正方行列を前提にした近道は通らない"),
            Case("batch1", _qkv((1,), 3, 4, 5, 2), why="batch size 1", why_ja="バッチサイズ 1"),
            Case("heads", _qkv((2, 3), 4, 4, 2, 2), why="batch and head axes (N, H, L, d)",
                 why_ja="バッチとヘッドの軸 (N, H, L, d)"),
            Case("mask", _qkv((2,), 3, 4, 5, 2, mask="shared"),
                 why="a boolean mask (True = may attend) shared by the batch",
                 why_ja="バッチで共有する真偽値のマスク（True = 注意を向けてよい）"),
            Case("mask_per_batch", _qkv((2,), 3, 4, 5, 2, mask="per_batch"), {"scale": 0.5},
                 why="one mask per sample, and an explicit scale instead of 1/sqrt(d)",
                 why_ja="サンプルごとに 1 つのマスク。スケールは 1/sqrt(d) ではなく明示的に与える"),
            Case("causal", _qkv((2, 3), 4, 4, 2, 2), {"causal": True},
                 why="causal: query i attends to keys 0..i",
                 why_ja="因果的: クエリ i はキー 0..i に注意を向ける"),
            Case("float_mask", _qkv((2,), 3, 4, 5, 2, mask="float"),
                 why="a floating-point mask is added to the scores (PyTorch's float attn_mask); "
                     "its -inf entries block a pair",
                 why_ja="浮動小数点のマスクをスコアに足す（PyTorch の float の attn_mask）。-inf の要素は"
                        "その組を遮る"),
        ],
        torch=_torch_sdpa, jax=_jax_sdpa,
        formulas={"forward": SDPA_FORWARD, "backward": SDPA_BACKWARD},
        convention="PyTorch's F.scaled_dot_product_attention: a boolean mask is True where a query may "
                   "attend; causal is the top-left lower triangle tril(ones(Lq, Lk)); the default scale is "
                   "1/sqrt(d). A masked score is -inf, so its weight is exactly 0; a query with no allowed "
                   "key is refused (torch would return NaN).",
        convention_ja="PyTorch の F.scaled_dot_product_attention: 真偽値のマスクは、クエリが注意を向けてよい"
                      "ところで True。causal は左上から始まる下三角 tril(ones(Lq, Lk))。スケールの既定値は "
                      "1/sqrt(d)。マスクされたスコアは -inf なので、その重みはちょうど 0。許されるキーが 1 つも"
                      "ないクエリは受け付けない（torch なら NaN を返す）。",
    ),
    OpSpec(
        name="multi_head_attention", family="attention", impl="MultiHeadAttention", mistakes=MISTAKES["multi_head_attention"],
        cases=[
            Case("heads2", _mha(2, 3, 4, 6), {"num_heads": 2}, why="cross-attention, Lq != Lk",
                 why_ja="クロスアテンション、Lq != Lk"),
            Case("heads3_batch1", _mha(1, 3, 4, 6), {"num_heads": 3}, why="batch size 1, head size 2",
                 why_ja="バッチサイズ 1、ヘッドの大きさ 2"),
            Case("one_head", _mha(2, 3, 4, 6), {"num_heads": 1}, why="a single head: plain attention",
                 why_ja="ヘッドが 1 つ: ふつうのアテンション"),
            Case("causal", _mha(2, 4, 4, 6), {"num_heads": 2, "causal": True}, why="a causal decoder",
                 why_ja="因果的なデコーダ"),
            Case("mask", _mha(2, 3, 4, 6, mask=True), {"num_heads": 2},
                 why="a boolean mask shared by batch and heads",
                 why_ja="バッチとヘッドで共有する真偽値のマスク"),
            Case("torch_masks", _mha(2, 3, 4, 6, torch_masks=True), {"num_heads": 2},
                 why="nn.MultiheadAttention's key_padding_mask (True = a padded key) and a float "
                     "attn_mask added to the scores",
                 why_ja="nn.MultiheadAttention の key_padding_mask（True = パディングしたキー）と、スコアに"
                        "足す float の attn_mask"),
            Case("unbatched", _mha(None, 3, 4, 6), {"num_heads": 2},
                 why="one sample: query (Lq, E), key and value (Lk, E)",
                 why_ja="1 サンプル: query (Lq, E)、key と value (Lk, E)"),
            Case("bias_kv_zero_attn", _mha(2, 3, 4, 6, mask=True, bias_kv=True),
                 {"num_heads": 2, "add_zero_attn": True},
                 why="nn.MultiheadAttention's add_bias_kv (a learned extra key and value, bias_k and "
                     "bias_v) and add_zero_attn (a zero key and value per head), with a mask",
                 why_ja="nn.MultiheadAttention の add_bias_kv（学習する追加のキーと値 bias_k, bias_v）と "
                        "add_zero_attn（ヘッドごとにゼロのキーと値）、マスクつき"),
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
        convention_ja="nn.MultiheadAttention の並びで、torch の F.multi_head_attention_forward と照らし合わせる: "
                      "in_proj_weight = [W_q^T; W_k^T; W_v^T]、out_proj.weight = W_o^T（模範解答は本の "
                      "(in, out) の並びのまま）、ヘッド h は特徴 h*E/H..(h+1)*E/H を受け持つ。入力はバッチ優先 "
                      "(N, L, E)。模範解答のマスクはクエリが注意を向けてよいところで True。nn.MultiheadAttention "
                      "の真偽値の attn_mask は逆の意味なので、spec が反転して渡す。",
    ),
]
