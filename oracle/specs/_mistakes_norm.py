"""The mistakes people make writing normalization backward passes, as code.

One standardization over the statistics' axes, written here on its own,

    xhat = (x - mu) / sqrt(var + eps),  y = gamma xhat + beta,
    dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / sqrt(var + eps),  dxhat = gamma dy,

with the mistake switched on by a flag; each entry is a `compute` function
(CaseData, hp, dout) -> {quantity: array}.
"""
import numpy as np

from ..spec import Mistake

EPS = 1e-5


def standardize(x, dout, axes, gamma, flags=(), param_axes=None, eps=EPS):
    """out (gamma xhat), dx, dgamma, dbeta and the biased variance of one standardization.

    `gamma` is broadcast against x already; `param_axes` are the axes dgamma, dbeta sum over."""
    M = int(np.prod([x.shape[a] for a in axes]))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    c = M / (M - 1) if "unbiased_variance" in flags and M > 1 else 1.0    # var used = c var
    std = np.sqrt(var) + eps if flags_eps(flags) else np.sqrt(c * var + eps)
    xhat = (x - mu) / std
    dxhat = gamma * dout
    mean = lambda v: v.mean(axis=axes, keepdims=True)
    if "eps_outside_sqrt_chain" in flags:       # the exact derivative of that forward
        dvar = -(dxhat * (x - mu)).sum(axis=axes, keepdims=True) / std ** 2 / (2 * np.sqrt(var))
        dx = (dxhat - mean(dxhat)) / std + dvar * 2 * (x - mu) / M
    elif "no_mean_terms" in flags:
        dx = dxhat / std
    elif "no_xhat_term" in flags:
        dx = (dxhat - mean(dxhat)) / std
    elif "no_mean_of_dxhat" in flags:
        dx = (dxhat - xhat * mean(dxhat * xhat)) / std
    else:                                        # the unbiased variance brings its factor c
        dx = (dxhat - mean(dxhat) - c * xhat * mean(dxhat * xhat)) / std
    keep = tuple(a for a in range(x.ndim) if a not in param_axes)
    shape = tuple(x.shape[a] for a in keep)
    dgamma = (dout * xhat).sum(axis=param_axes).reshape(shape)
    dbeta = dout.sum(axis=param_axes).reshape(shape)
    return gamma * xhat, dx, dgamma, dbeta, var


def flags_eps(flags):
    """eps added outside the square root: the compact formula with that std, or its exact derivative."""
    return "eps_outside_sqrt" in flags or "eps_outside_sqrt_chain" in flags


def _channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(flags):
    def compute(data, hp, dout):
        x, gamma, beta = data.inputs["x"], data.params["gamma"], data.params["beta"]
        if hp.get("per_activation"):          # the option: (N, C, H, W) as (N, C*H*W)
            flat = type(data)(inputs={"x": x.reshape(x.shape[0], -1)}, params=data.params,
                              extra=data.extra)
            result = compute(flat, {**hp, "per_activation": False}, dout.reshape(x.shape[0], -1))
            return {**result, "out": result["out"].reshape(x.shape),
                    "grad:x": result["grad:x"].reshape(x.shape)}
        axes = (0,) + tuple(range(2, x.ndim))
        if "per_activation" in flags:         # statistics over the batch axis only
            axes = (0,)
        param_axes = (0,) + tuple(range(2, x.ndim))
        out, dx, dgamma, dbeta, var = standardize(x, dout, axes, _channel(gamma, x.ndim), flags, param_axes,
                                                  eps=hp.get("eps", EPS))
        result = {"out": out + _channel(beta, x.ndim), "grad:x": dx, "grad:gamma": dgamma, "grad:beta": dbeta}
        if "per_activation" not in flags:
            m = hp.get("momentum", 0.1)
            if m is None:                     # the option: torch's cumulative average
                m = 1.0 / (hp.get("num_batches_tracked", 0) + 1)
            M = x.size // x.shape[1]
            mu, var = x.mean(axis=axes), var.reshape(-1)
            biased = "running_var_biased" in flags or not hp.get("unbiased_running_var", True)
            new_var = var if biased else var * M / max(M - 1, 1)
            old_mean, old_var = (np.asarray(hp[k], dtype=x.dtype) for k in ("running_mean", "running_var"))
            w_old, w_new = (m, 1 - m) if "momentum_on_old" in flags else (1 - m, m)
            result["out:running_mean"] = w_old * old_mean + w_new * mu
            result["out:running_var"] = w_old * old_var + w_new * new_var
        return result
    return compute


def batch_norm_eval(flags):
    """Evaluation mode computed as in training (the batch's statistics)."""
    def compute(data, hp, dout):
        x, gamma, beta = data.inputs["x"], data.params["gamma"], data.params["beta"]
        axes = (0,) + tuple(range(2, x.ndim))
        out, dx, dgamma, dbeta, _ = standardize(x, dout, axes, _channel(gamma, x.ndim), (), axes,
                                                eps=hp.get("eps", EPS))
        return {"out": out + _channel(beta, x.ndim), "grad:x": dx, "grad:gamma": dgamma, "grad:beta": dbeta}
    return compute


def batch_norm_eval_running(flag):
    """Evaluation mode with the running statistics, and the mistake `flag`:
        training_backward     dx by the training formula (as if mu and var depended on x)
        eps_outside_sqrt      std = sqrt(running_var) + eps
        dx_without_gamma      dx = dout / std, gamma left out"""
    def compute(data, hp, dout):
        x, gamma, beta = data.inputs["x"], data.params["gamma"], data.params["beta"]
        g, b = _channel(gamma, x.ndim), _channel(beta, x.ndim)
        mean, var = (_channel(np.asarray(hp[k], dtype=x.dtype), x.ndim) for k in ("running_mean", "running_var"))
        eps = hp.get("eps", EPS)
        std = np.sqrt(var) + eps if flag == "eps_outside_sqrt" else np.sqrt(var + eps)
        xhat = (x - mean) / std
        axes = (0,) + tuple(range(2, x.ndim))
        dxhat = g * dout
        if flag == "training_backward":
            m = lambda v: v.mean(axis=axes, keepdims=True)
            dx = (dxhat - m(dxhat) - xhat * m(dxhat * xhat)) / std
        else:
            dx = (dout if flag == "dx_without_gamma" else dxhat) / std
        return {"out": g * xhat + b, "grad:x": dx, "grad:gamma": (dout * xhat).sum(axis=axes),
                "grad:beta": dout.sum(axis=axes)}
    return compute


def layer_norm(flags):
    def compute(data, hp, dout):
        x, gamma, beta = data.inputs["x"], data.params["gamma"], data.params["beta"]
        k = gamma.ndim
        axes = (x.ndim - 1,) if "last_axis_only" in flags else tuple(range(x.ndim - k, x.ndim))
        if "over_the_batch" in flags:
            axes = (0,)
        param_axes = tuple(range(x.ndim - k))
        out, dx, dgamma, dbeta, _ = standardize(x, dout, axes, gamma, flags, param_axes)
        return {"out": out + beta, "grad:x": dx, "grad:gamma": dgamma, "grad:beta": dbeta}
    return compute


def instance_norm(flags):
    def compute(data, hp, dout):
        x, gamma, beta = data.inputs["x"], data.params["gamma"], data.params["beta"]
        axes = tuple(range(2, x.ndim))
        param_axes = (0,) + axes
        out, dx, dgamma, dbeta, _ = standardize(x, dout, axes, _channel(gamma, x.ndim), flags, param_axes)
        return {"out": out + _channel(beta, x.ndim), "grad:x": dx, "grad:gamma": dgamma, "grad:beta": dbeta}
    return compute


def group_norm(flags):
    """Groups of consecutive channels; `interleaved` puts channel c in group c % G."""
    def compute(data, hp, dout):
        x, gamma, beta = data.inputs["x"], data.params["gamma"], data.params["beta"]
        N, C, G = x.shape[0], x.shape[1], hp["num_groups"]
        order = np.arange(C).reshape(C // G, G).T.reshape(-1) if "interleaved" in flags else np.arange(C)
        grouped = lambda v: v[:, order].reshape(N, G, -1)        # group members side by side
        g = grouped(np.broadcast_to(_channel(gamma, x.ndim), x.shape))
        # gamma 1 inside, dxhat = gamma dout given as the upstream gradient: out is xhat
        out, d, _, _, _ = standardize(grouped(x), grouped(dout) * g, (2,), np.ones_like(g), flags, (0, 1))
        xhat, dx = np.empty_like(x), np.empty_like(x)
        xhat[:, order] = out.reshape(x[:, order].shape)
        dx[:, order] = d.reshape(x[:, order].shape)
        sum_axes = (0,) + tuple(range(2, x.ndim))
        return {"out": _channel(gamma, x.ndim) * xhat + _channel(beta, x.ndim), "grad:x": dx,
                "grad:gamma": (dout * xhat).sum(axis=sum_axes), "grad:beta": dout.sum(axis=sum_axes)}
    return compute


NO_MEAN_TERMS = ("no_mean_terms",
                 "dx leaves out the terms of the mean and the variance: "
                 "dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)",
                 "dx に平均と分散を通る項がない: dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)")
NO_XHAT = ("no_xhat_term",
           "dx leaves out the variance term - xhat * mean(dxhat * xhat): the variance depends on x too",
           "dx に分散を通る項 - xhat * mean(dxhat * xhat) がない: 分散も x に依存する")
NO_MEAN = ("no_mean_of_dxhat",
           "dx leaves out the mean term - mean(dxhat): the mean depends on x too",
           "dx に平均を通る項 - mean(dxhat) がない: 平均も x に依存する")
UNBIASED = ("unbiased_variance",
            "the output is normalized with the unbiased variance (divided by M - 1): normalize with the "
            "biased one (divided by M); only the running variance uses M / (M - 1)",
            "出力を不偏分散 (M - 1 で割る) で正規化している: 正規化には M で割る分散を使い、M / (M - 1) は移動平均だけに使う")
EPS_OUT = ("eps_outside_sqrt",
           "eps is added outside the square root: divide by sqrt(var + eps), not sqrt(var) + eps",
           "eps を平方根の外で足している: sqrt(var) + eps ではなく sqrt(var + eps) で割る")
EPS_OUT_CHAIN = ("eps_outside_sqrt_chain",) + EPS_OUT[1:]   # the same mistake, backward by the chain rule


def _entries(make, rows):
    return [Mistake(name, says, compute=make((name,)), says_ja=ja) for name, says, ja in rows]


BATCH_NORM = _entries(batch_norm, [NO_MEAN_TERMS, NO_XHAT, NO_MEAN, UNBIASED, EPS_OUT, EPS_OUT_CHAIN, (
    "running_var_biased",
    "the running variance is updated with the biased variance: torch uses the unbiased one, "
    "var * M / (M - 1)",
    "移動平均の分散を M で割る分散で更新している: torch は不偏分散 var * M / (M - 1) を使う"), (
    "momentum_on_old",
    "momentum weights the old running value (running = m old + (1 - m) new, CS231n's 0.9): "
    "torch's momentum weights the new batch, running = (1 - m) old + m new",
    "momentum を古い値に掛けている (CS231n の 0.9 流): torch は running = (1 - m) old + m new"), (
    "per_activation",
    "the statistics are taken over the batch axis only, per activation: BatchNorm2d normalizes each "
    "channel over N, H and W",
    "統計をバッチ軸だけで取っている (要素ごと): BatchNorm2d はチャンネルごとに N, H, W で取る")])
BATCH_NORM_EVAL = [Mistake(
    "batch_statistics_in_eval",
    "evaluation mode uses the batch's statistics: it normalizes with running_mean and running_var "
    "(constants), so dx = gamma dout / sqrt(running_var + eps)",
    compute=batch_norm_eval(()),
    says_ja="評価モードでバッチの統計を使っている: running_mean と running_var (定数) で正規化し dx = gamma dout / sqrt(running_var + eps)"),
    Mistake("training_backward_in_eval",
            "the backward of training mode is used in evaluation mode: the running statistics are constants, "
            "so the mean and variance terms vanish and dx = gamma dout / sqrt(running_var + eps)",
            compute=batch_norm_eval_running("training_backward"),
            says_ja="評価モードで訓練モードの逆伝播を使っている: 移動平均の統計は定数なので平均と分散を通る項はなく "
                    "dx = gamma dout / sqrt(running_var + eps)"),
    Mistake("eps_outside_sqrt", EPS_OUT[1].replace("var", "running_var"),
            compute=batch_norm_eval_running("eps_outside_sqrt"), says_ja=EPS_OUT[2].replace("var", "running_var")),
    Mistake("dx_without_gamma",
            "dx leaves out gamma: y = gamma xhat + beta, so dx = gamma dout / sqrt(running_var + eps)",
            compute=batch_norm_eval_running("dx_without_gamma"),
            says_ja="dx に gamma を掛けていない: y = gamma xhat + beta なので dx = gamma dout / sqrt(running_var + eps)")]
LAYER_NORM = _entries(layer_norm, [NO_MEAN_TERMS, NO_XHAT, NO_MEAN, UNBIASED, EPS_OUT, EPS_OUT_CHAIN, (
    "over_the_batch",
    "the statistics are taken over the batch axis: layer normalization takes them per sample, over "
    "the trailing axes of normalized_shape",
    "統計をバッチ軸で取っている: レイヤー正規化はサンプルごとに末尾の軸 (normalized_shape) で取る"), (
    "last_axis_only",
    "the statistics are taken over the last axis only: normalized_shape = gamma.shape covers every "
    "trailing axis of gamma",
    "統計を最後の軸だけで取っている: normalized_shape = gamma.shape の末尾の軸すべてで取る")])
INSTANCE_NORM = _entries(instance_norm, [NO_MEAN_TERMS, NO_XHAT, NO_MEAN, UNBIASED, EPS_OUT, EPS_OUT_CHAIN])
GROUP_NORM = _entries(group_norm, [NO_MEAN_TERMS, (
    "interleaved",
    "channel c is put in group c % G: torch's groups are runs of consecutive channels, group c // (C / G)",
    "チャンネル c をグループ c % G に入れている: torch のグループは連続したチャンネル c // (C / G)")])

CATALOGUE = {"batch_norm": BATCH_NORM, "batch_norm_eval": BATCH_NORM_EVAL, "layer_norm": LAYER_NORM,
             "instance_norm": INSTANCE_NORM, "group_norm": GROUP_NORM}
