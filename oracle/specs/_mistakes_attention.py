"""The mistakes people make writing attention backward passes, as code.

Scaled dot-product attention written here on its own,

    S = Q K^T s (masked scores -inf),  P = softmax(S),  O = P V,
    dV = P^T dO,  dP = dO V^T,  dS = P * (dP - rowsum(dP * P)),  dQ = dS K s,  dK = dS^T Q s,

with the mistake switched on by a flag; multi-head attention runs it on every head
between its projections. Each entry is a `compute` function (CaseData, hp, dout).
"""
import numpy as np

from ..spec import Mistake


def _t(a):
    return np.swapaxes(a, -1, -2)


def _allowed(mask, causal, Lq, Lk):
    allowed = None if mask is None else np.asarray(mask, dtype=bool)
    if causal:
        lower = np.tril(np.ones((Lq, Lk), dtype=bool))
        allowed = lower if allowed is None else allowed & lower
    return allowed


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(q, k, v, dout, mask, causal, scale, flags):
    """O, dQ, dK, dV of (mistaken) attention."""
    s = scale if scale is not None else 1.0 / np.sqrt(q.shape[-1])
    allowed = _allowed(mask, causal, q.shape[-2], k.shape[-2])
    S = (q @ _t(k)) * s
    if allowed is not None and "mask_after_softmax" not in flags:
        S = np.where(allowed, S, -np.inf)
    P = _softmax(S)
    W = P * allowed if allowed is not None and "mask_after_softmax" in flags else P   # the weights used
    out = W @ v
    dv = (W @ dout) if "dV_without_transpose" in flags else _t(W) @ dout
    dW = dout @ _t(v)
    dP = dW * allowed if allowed is not None and "mask_after_softmax" in flags else dW
    if "softmax_jacobian_dropped" in flags:
        dS = dP
    elif "softmax_jacobian_diagonal_only" in flags:
        dS = P * dP
    else:
        dS = P * (dP - (dP * P).sum(axis=-1, keepdims=True))
    g = 1.0 if "scale_forgotten_in_backward" in flags else s
    return out, (dS @ k) * g, (_t(dS) @ q) * g, dv


def sdpa(flags):
    def compute(data, hp, dout):
        a = data.inputs
        out, dq, dk, dv = attention(a["q"], a["k"], a["v"], dout, data.extra.get("mask"),
                                    hp.get("causal", False), hp.get("scale"), flags)
        return {"out": out, "grad:q": dq, "grad:k": dk, "grad:v": dv}
    return compute


def mha(flags):
    def compute(data, hp, dout):
        a, p = data.inputs, data.params
        H = hp.get("num_heads", 1)
        N, Lq, E = a["query"].shape

        def split(x):
            return x.reshape(x.shape[0], x.shape[1], H, E // H).transpose(0, 2, 1, 3)

        def merge(x):
            return x.transpose(0, 2, 1, 3).reshape(x.shape[0], x.shape[2], E)

        xs = {"q": a["query"], "k": a["key"], "v": a["value"]}
        heads = {n: split(xs[n] @ p[f"W_{n}"] + p[f"b_{n}"]) for n in "qkv"}
        o, dq, dk, dv = attention(heads["q"], heads["k"], heads["v"], split(dout @ p["W_o"].T),
                                  data.extra.get("mask"), hp.get("causal", False), None, flags)
        context = merge(o)
        result = {"out": context @ p["W_o"] + p["b_o"],
                  "grad:W_o": context.reshape(-1, E).T @ dout.reshape(-1, E),
                  "grad:b_o": dout.reshape(-1, E).sum(axis=0)}
        for n, d in zip("qkv", (dq, dk, dv)):
            d = merge(d)
            result[f"grad:W_{n}"] = xs[n].reshape(-1, E).T @ d.reshape(-1, E)
            result[f"grad:b_{n}"] = d.reshape(-1, E).sum(axis=0)
            result[f"grad:{ {'q': 'query', 'k': 'key', 'v': 'value'}[n] }"] = d @ p[f"W_{n}"].T
        return result
    return compute


ROWS = [
    ("softmax_jacobian_dropped",
     "the softmax's Jacobian is dropped (dS = dP): dS = P * (dP - rowsum(dP * P))",
     "softmax の逆伝播 (ヤコビアン) を飛ばしている (dS = dP): dS = P * (dP - rowsum(dP * P))"),
    ("softmax_jacobian_diagonal_only",
     "only the diagonal of the softmax's Jacobian is kept (dS = P * dP): subtract the row sum, "
     "dS = P * (dP - rowsum(dP * P))",
     "softmax のヤコビアンの対角だけを使っている (dS = P * dP): 行和を引き dS = P * (dP - rowsum(dP * P))"),
    ("scale_forgotten_in_backward",
     "the scale 1/sqrt(d) is left out of the backward pass: dQ = dS K / sqrt(d), dK = dS^T Q / sqrt(d)",
     "逆伝播でスケール 1/sqrt(d) を掛け忘れている: dQ = dS K / sqrt(d)、dK = dS^T Q / sqrt(d)"),
    ("mask_after_softmax",
     "the mask is applied after the softmax (the allowed weights no longer sum to 1): set the masked "
     "scores to -inf before the softmax",
     "マスクを softmax の後に掛けている (重みの和が 1 にならない): softmax の前にマスクした位置のスコアを -inf にする"),
    ("dV_without_transpose",
     "dV is computed as P dO: it is P^T dO (each key collects from every query that attended to it)",
     "dV を P dO としている: dV = P^T dO (各キーは自分を見た全クエリから受け取る)"),
]

SDPA = [Mistake(n, says, compute=sdpa((n,)), says_ja=ja) for n, says, ja in ROWS]
MHA = [Mistake(n, says, compute=mha((n,)), says_ja=ja) for n, says, ja in ROWS]
CATALOGUE = {"scaled_dot_product_attention": SDPA, "multi_head_attention": MHA}
