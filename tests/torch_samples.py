"""Torch's own sample inputs (OpInfo / ModuleInfo, torch.testing._internal), run through the
answer key: a test tool, not part of the package.

    python tests/torch_samples.py [--ops conv2d,max_pool2d] [--show wrong,crash] [--json FILE]

Every sample torch's test suite draws for an op the catalogue has (F.conv2d, F.max_pool2d,
nn.CrossEntropyLoss, ...) is mapped to the answer key's API the way a user would call it
(torch's (out, in) Linear weight becomes the book's (in, out) W, a missing bias becomes zeros
whose gradient is not compared, torch's (T, N, C) CTC log-probabilities become (N, T, C)
logits) and classified:

    pass      forward output and every gradient torch gives agree (float64, rtol = atol = 1e-7)
    wrong     a value differs (beyond the stated conventions, which the mapping applies)
    crash     an exception that is not a clear refusal (a NumPy error, an AttributeError, ...)
    refused   a ValueError / TypeError / NotImplementedError whose message begins with the
              layer's name: the answer key says what it does not support
    no-form   the sample has no counterpart in the answer key (a 3-d input of a 2-d op,
              random dropout, an argument the answer key has no notion of); the reason is kept

The upstream gradient is a seeded normal array of the output's shape, the same for both.
Requires the `expecttest` package (torch's internal testing modules import it).
TORCH_SAMPLES_IMPL=/path/to/checkout runs another checkout's impl/ (e.g. to count "before").
"""
import argparse
import collections
import json
import os
import sys
import traceback
import warnings

import numpy as np
import torch

if os.environ.get("TORCH_SAMPLES_IMPL"):     # another checkout's impl/ (to count "before")
    sys.path.insert(0, os.environ["TORCH_SAMPLES_IMPL"])
    import impl as K
else:
    from backprop_oracle import impl as K

RTOL = ATOL = 1e-7


class NoForm(Exception):
    """The sample cannot be expressed in the answer key's API."""


def np_(t):
    return None if t is None else t.detach().cpu().numpy().copy()


def tensors(*ts):
    return [t for t in ts if torch.is_tensor(t) and t.requires_grad]


class Mapped:
    """One sample in both worlds.

    torch_fn() -> output tensor (or tuple, the first differentiable);
    wrt: {name: tensor} whose gradients torch gives; impl_fn() -> (out, backward), where
    backward(dout) -> {name: gradient} for the same names (a subset may be None: not compared).
    """

    def __init__(self, torch_fn, wrt, impl_fn, extra_out=None):
        self.torch_fn, self.wrt, self.impl_fn, self.extra_out = torch_fn, wrt, impl_fn, extra_out


def layer_call(layer, inputs, names, params=()):
    """impl_fn for a Layer: forward(*inputs); backward returns input grads (names) + params."""
    def run():
        out = layer.forward(*inputs)

        def backward(dout):
            grads = layer.backward(dout)
            if not isinstance(grads, tuple):
                grads = (grads,)
            result = dict(zip(names, grads))
            for impl_name, name in params:
                result[name] = layer.grads[impl_name]
            return result
        return out, backward
    return run


def _int(v):
    return int(v.item()) if torch.is_tensor(v) else v


def _tup(v):
    if torch.is_tensor(v):
        return tuple(int(a) for a in v.tolist())
    return tuple(v) if isinstance(v, (list, tuple)) else v


# --------------------------------------------------------------------------- conv and pooling

def conv_args(args, kwargs, names=("stride", "padding", "dilation", "groups")):
    out = {}
    for name, v in zip(names, args):
        out[name] = _tup(v)
    for name in names:
        if name in kwargs:
            out[name] = _tup(kwargs[name])
    return out


def map_conv(kind):
    def mapper(x, args, kwargs):
        W = args[0] if args else kwargs["weight"]
        b = args[1] if len(args) > 1 else kwargs.get("bias")
        names = ("stride", "padding", "output_padding", "groups", "dilation") if kind == "ConvTranspose2d" \
            else ("stride", "padding", "dilation", "groups")
        hp = conv_args(args[2:], kwargs, names + ("padding_mode",))
        out_channels = W.shape[1] * hp.get("groups", 1) if kind == "ConvTranspose2d" else W.shape[0]
        bias = np.zeros(out_channels) if b is None else np_(b)
        layer = getattr(K, kind)(np_(W), bias, **hp)
        wrt = {"x": x, "W": W}
        params = [("W", "W")]
        if b is not None and b.requires_grad:
            wrt["b"] = b
            params.append(("b", "b"))
        fn = {"Conv2d": torch.nn.functional.conv2d, "Conv1d": torch.nn.functional.conv1d,
              "ConvTranspose2d": torch.nn.functional.conv_transpose2d}[kind]
        return Mapped(lambda: fn(x, *args, **kwargs), wrt,
                      layer_call(layer, [np_(x)], ["x"], params))
    return mapper


def pool_kwargs(args, kwargs, names):
    hp = {}
    for name, v in zip(names, args):
        hp[name] = _tup(v)
    for name in names:
        if name in kwargs:
            hp[name] = _tup(kwargs[name])
    return hp


def map_max_pool2d(x, args, kwargs):
    hp = pool_kwargs(args, kwargs, ("kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                    "return_indices"))
    if hp.get("stride") in ((), None):
        hp.pop("stride", None)
    layer = K.MaxPool2d(**hp)
    return Mapped(lambda: torch.nn.functional.max_pool2d(x, *args, **kwargs), {"x": x},
                  layer_call(layer, [np_(x)], ["x"]))


def map_avg_pool2d(x, args, kwargs):
    hp = pool_kwargs(args, kwargs, ("kernel_size", "stride", "padding", "ceil_mode",
                                    "count_include_pad", "divisor_override"))
    if hp.get("stride") in ((), None):
        hp.pop("stride", None)
    if hp.get("divisor_override", None) is None:
        hp.pop("divisor_override", None)
    layer = K.AvgPool2d(**hp)
    return Mapped(lambda: torch.nn.functional.avg_pool2d(x, *args, **kwargs), {"x": x},
                  layer_call(layer, [np_(x)], ["x"]))


def map_adaptive_avg_pool2d(x, args, kwargs):
    size = _tup(args[0] if args else kwargs["output_size"])
    if not hasattr(K, "AdaptiveAvgPool2d"):
        if size not in (1, (1, 1)):
            raise NoForm("adaptive average pooling to a size other than 1 (GlobalAvgPool2d only)")
        layer = K.GlobalAvgPool2d()
        run = layer_call(layer, [np_(x)], ["x"])

        def keepdims():
            out, backward = run()
            return out[..., None, None], lambda d: backward(d[..., 0, 0])
        return Mapped(lambda: torch.nn.functional.adaptive_avg_pool2d(x, *args, **kwargs), {"x": x},
                      keepdims)
    layer = K.AdaptiveAvgPool2d(size)
    return Mapped(lambda: torch.nn.functional.adaptive_avg_pool2d(x, *args, **kwargs), {"x": x},
                  layer_call(layer, [np_(x)], ["x"]))


# --------------------------------------------------------------------------- linear, attention

def map_linear(x, args, kwargs):
    W = args[0] if args else kwargs["weight"]
    b = args[1] if len(args) > 1 else kwargs.get("bias")
    if W.ndim != 2:
        raise NoForm(f"a weight of {W.ndim} dimensions (the answer key's W is a matrix)")
    if b is None:
        layer = K.MatMul(np_(W).T.copy())
        params = [("W", "Wt")]
    else:
        if b.ndim != 1:
            raise NoForm("a 0-d bias")
        layer = K.Affine(np_(W).T.copy(), np_(b))
        params = [("W", "Wt"), ("b", "b")]
    wrt = {"x": x, "W": W}
    if b is not None:
        wrt["b"] = b
    run = layer_call(layer, [np_(x)], ["x"], params)

    def impl():
        out, backward = run()

        def back(dout):
            g = backward(dout)
            g["W"] = g.pop("Wt").T
            return g
        return out, back
    return Mapped(lambda: torch.nn.functional.linear(x, *args, **kwargs), wrt, impl)


def map_matmul(x, args, kwargs):
    W = args[0]
    if W.ndim != 2 or x.ndim < 1:
        raise NoForm("matmul of two batched tensors or a vector second operand (MatMul's W is a matrix)")
    layer = K.MatMul(np_(W))
    return Mapped(lambda: torch.matmul(x, W), {"x": x, "W": W},
                  layer_call(layer, [np_(x)], ["x"], [("W", "W")]))


def map_embedding(W, args, kwargs):
    idx = args[0]
    if kwargs:
        raise NoForm(f"embedding options {sorted(kwargs)}")
    layer = K.Embedding(np_(W))
    return Mapped(lambda: torch.nn.functional.embedding(idx, W), {"W": W},
                  layer_call(layer, [np_(idx)], ["_idx"], [("W", "W")]))


def map_sdpa(q, args, kwargs):
    k, v = args[0], args[1]
    mask = kwargs.get("attn_mask")
    layer = K.ScaledDotProductAttention(causal=kwargs.get("is_causal", False), scale=kwargs.get("scale"),
                                        dropout_p=kwargs.get("dropout_p", 0.0),
                                        enable_gqa=kwargs.get("enable_gqa", False))
    inputs = [np_(q), np_(k), np_(v)] + ([np_(mask)] if mask is not None else [])
    return Mapped(lambda: torch.nn.functional.scaled_dot_product_attention(q, *args, **kwargs),
                  {"q": q, "k": k, "v": v}, layer_call(layer, inputs, ["q", "k", "v"]))


# --------------------------------------------------------------------------- losses

def _loss(layer, inputs, names, torch_fn, wrt):
    """A loss; when torch's target is the input tensor itself (a module sample passes the same
    tensor twice), its gradient is the sum of both, so the target's is added to the input's."""
    aliased = [n for n in list(wrt) if n != names[0] and wrt[n] is wrt[names[0]]]
    for n in aliased:
        del wrt[n]

    def run():
        out = layer.forward(*inputs)

        def backward(dout):
            grads = layer.backward(dout)
            if not isinstance(grads, tuple):
                grads = (grads,)
            result = dict(zip(names, grads))
            for n in aliased:
                result[names[0]] = result[names[0]] + result.pop(n)
            return result
        return out, backward
    return Mapped(torch_fn, wrt, run)


def _reduction_kw(kwargs):
    return {"reduction": kwargs["reduction"]} if "reduction" in kwargs else {}


def map_pair_loss(cls, fn, extra=()):
    def mapper(y, args, kwargs):
        t = args[0] if args else kwargs["target"]
        hp = _reduction_kw(kwargs)
        for name in extra:
            if name in kwargs:
                hp[name] = kwargs[name]
        if "beta" in hp and cls == "SmoothL1":
            hp["beta"] = float(hp["beta"])
        wrt = {"y": y}
        names = ["y"]
        if t.requires_grad:
            if "target_grad" not in getattr(getattr(K, cls), "__init__").__code__.co_varnames:
                # the target's gradient is not compared when the layer has no such option
                pass
            else:
                hp["target_grad"] = True
                wrt["t"] = t
                names.append("t")
        layer = getattr(K, cls)(**hp)
        return _loss(layer, [np_(y), np_(t)], names, lambda: fn(y, *args, **kwargs), wrt)
    return mapper


def map_bce(logits):
    def mapper(x, args, kwargs):
        t = args[0] if args else kwargs["target"]
        hp = _reduction_kw(kwargs)
        if kwargs.get("weight") is not None:
            hp["weight"] = np_(kwargs["weight"])
        if kwargs.get("pos_weight") is not None:
            hp["pos_weight"] = np_(kwargs["pos_weight"])
        wrt, names = {"x": x}, ["x"]
        cls = K.BCEWithLogits if logits else K.BCE
        if t.requires_grad and "target_grad" in cls.__init__.__code__.co_varnames:
            hp["target_grad"] = True
            wrt["t"], names = t, ["x", "t"]
        layer = cls(**hp)
        fn = torch.nn.functional.binary_cross_entropy_with_logits if logits \
            else torch.nn.functional.binary_cross_entropy
        return _loss(layer, [np_(x), np_(t)], names, lambda: fn(x, *args, **kwargs), wrt)
    return mapper


def map_kl_div(x, args, kwargs):
    t = args[0] if args else kwargs["target"]
    hp = _reduction_kw(kwargs)
    hp["log_target"] = kwargs.get("log_target", False)
    wrt, names = {"x": x}, ["x"]
    if t.requires_grad and "target_grad" in K.KLDiv.__init__.__code__.co_varnames:
        hp["target_grad"] = True
        wrt["t"], names = t, ["x", "t"]
    layer = K.KLDiv(**hp)

    def fn():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.nn.functional.kl_div(x, *args, **kwargs)
    return _loss(layer, [np_(x), np_(t)], names, fn, wrt)


def map_class_loss(cls, fn):
    def mapper(x, args, kwargs):
        t = args[0] if args else kwargs["target"]
        hp = _reduction_kw(kwargs)
        if kwargs.get("weight") is not None:
            hp["weight"] = np_(kwargs["weight"])
        for name in ("ignore_index", "label_smoothing"):
            if name in kwargs:
                hp[name] = kwargs[name]
        layer = getattr(K, cls)(**hp)
        tt = np_(t)
        wrt = {"x": x}
        return _loss(layer, [np_(x), tt], ["x"], lambda: fn(x, *args, **kwargs), wrt)
    return mapper


def map_multi_margin(x, args, kwargs):
    t = args[0] if args else kwargs["target"]
    hp = _reduction_kw(kwargs)
    if kwargs.get("p", 1) != 1:
        raise NoForm("multi_margin_loss with p = 2 (squared hinge)")
    if kwargs.get("weight") is not None:
        raise NoForm("multi_margin_loss with class weights")
    if "margin" in kwargs:
        hp["margin"] = kwargs["margin"]
    convention = "MulticlassHinge" in dir(K) and "divide_by_classes" in K.MulticlassHinge.__init__.__code__.co_varnames
    if convention:
        hp["divide_by_classes"] = True
    layer = K.MulticlassHinge(**hp)
    classes = x.shape[-1] if x.ndim else 1

    def torch_fn():
        out = torch.nn.functional.multi_margin_loss(x, *args, **kwargs)
        return out if convention else out * classes   # the stated CS231n convention
    return _loss(layer, [np_(x), np_(t)], ["x"], torch_fn, {"x": x})


def map_cosine(x1, args, kwargs):
    x2, y = args[0], args[1]
    hp = _reduction_kw(kwargs)
    if "margin" in kwargs:
        hp["margin"] = kwargs["margin"]
    layer = K.CosineEmbedding(**hp)
    return _loss(layer, [np_(x1), np_(x2), np_(y)], ["x1", "x2"],
                 lambda: torch.nn.functional.cosine_embedding_loss(x1, *args, **kwargs),
                 {"x1": x1, "x2": x2})


def map_ctc(lp, args, kwargs):
    targets, il, tl = args[0], args[1], args[2]
    hp = _reduction_kw(kwargs)
    for name in ("blank", "zero_infinity"):
        if name in kwargs:
            hp[name] = kwargs[name]
    layer = K.CTC(**hp)
    if lp.ndim != 3:
        inputs = [np_(lp)]
    else:
        inputs = [np_(lp).transpose(1, 0, 2).copy()]      # (T, N, C) -> (N, T, C)
    inputs += [np_(targets) if torch.is_tensor(targets) else np.array(targets),
               np_(il) if torch.is_tensor(il) else np.array(il),
               np_(tl) if torch.is_tensor(tl) else np.array(tl)]

    def run():
        out = layer.forward(*inputs)

        def backward(dout):
            g = layer.backward(dout)
            return {"lp": g.transpose(1, 0, 2) if g.ndim == 3 else g}
        return out, backward
    return Mapped(lambda: torch.nn.functional.ctc_loss(lp, *args, **kwargs), {"lp": lp}, run)


F = "nn.functional."
OPS = {
    F + "conv1d": map_conv("Conv1d"),
    F + "conv2d": map_conv("Conv2d"),
    F + "conv_transpose2d": map_conv("ConvTranspose2d"),
    F + "max_pool2d": map_max_pool2d,
    F + "avg_pool2d": map_avg_pool2d,
    F + "adaptive_avg_pool2d": map_adaptive_avg_pool2d,
    F + "linear": map_linear,
    "matmul": map_matmul,
    "mm": map_matmul,
    F + "embedding": map_embedding,
    F + "scaled_dot_product_attention": map_sdpa,
    F + "mse_loss": map_pair_loss("MSE", torch.nn.functional.mse_loss),
    F + "l1_loss": map_pair_loss("L1", torch.nn.functional.l1_loss),
    F + "smooth_l1_loss": map_pair_loss("SmoothL1", torch.nn.functional.smooth_l1_loss, ("beta",)),
    F + "huber_loss": map_pair_loss("Huber", torch.nn.functional.huber_loss, ("delta",)),
    F + "binary_cross_entropy": map_bce(False),
    F + "binary_cross_entropy_with_logits": map_bce(True),
    F + "kl_div": map_kl_div,
    F + "cross_entropy": map_class_loss("SoftmaxCrossEntropy", torch.nn.functional.cross_entropy),
    F + "nll_loss": map_class_loss("NLL", torch.nn.functional.nll_loss),
    F + "multi_margin_loss": map_multi_margin,
    F + "cosine_embedding_loss": map_cosine,
    F + "ctc_loss": map_ctc,
}


# --------------------------------------------------------------------------- modules

def module_mapper(name, module, fwd_args, fwd_kwargs):
    """A ModuleInfo sample as a functional sample of the op it is."""
    p = dict(module.named_parameters())
    if name in ("Conv1d", "Conv2d", "ConvTranspose2d"):
        kw = dict(stride=module.stride, padding=module.padding, dilation=module.dilation,
                  groups=module.groups)
        if module.padding_mode != "zeros":
            kw["padding_mode"] = module.padding_mode
        if name == "ConvTranspose2d":
            kw["output_padding"] = module.output_padding
        key = {"Conv1d": "conv1d", "Conv2d": "conv2d", "ConvTranspose2d": "conv_transpose2d"}[name]
        return F + key, fwd_args[0], (p["weight"], p.get("bias")), kw
    if name == "Linear":
        x = fwd_args[0] if fwd_args else fwd_kwargs["input"]
        return F + "linear", x, (p["weight"], p.get("bias")), {}
    if name == "Embedding":
        return F + "embedding", p["weight"], (fwd_args[0],), {}
    if name == "MaxPool2d":
        kw = dict(kernel_size=module.kernel_size, stride=module.stride, padding=module.padding,
                  dilation=module.dilation, ceil_mode=module.ceil_mode,
                  return_indices=module.return_indices)
        return F + "max_pool2d", fwd_args[0], (), kw
    if name == "AvgPool2d":
        kw = dict(kernel_size=module.kernel_size, stride=module.stride, padding=module.padding,
                  ceil_mode=module.ceil_mode, count_include_pad=module.count_include_pad,
                  divisor_override=module.divisor_override)
        return F + "avg_pool2d", fwd_args[0], (), kw
    if name == "AdaptiveAvgPool2d":
        return F + "adaptive_avg_pool2d", fwd_args[0], (module.output_size,), {}
    losses = {"MSELoss": "mse_loss", "L1Loss": "l1_loss", "SmoothL1Loss": "smooth_l1_loss",
              "HuberLoss": "huber_loss", "BCELoss": "binary_cross_entropy",
              "BCEWithLogitsLoss": "binary_cross_entropy_with_logits", "KLDivLoss": "kl_div",
              "CrossEntropyLoss": "cross_entropy", "NLLLoss": "nll_loss",
              "MultiMarginLoss": "multi_margin_loss", "CosineEmbeddingLoss": "cosine_embedding_loss",
              "CTCLoss": "ctc_loss"}
    if name in losses:
        kw = {"reduction": module.reduction}
        for attr in ("beta", "delta", "log_target", "ignore_index", "label_smoothing", "margin",
                     "p", "blank", "zero_infinity"):
            if hasattr(module, attr):
                kw[attr] = getattr(module, attr)
        for buf in ("weight", "pos_weight"):
            if getattr(module, buf, None) is not None:
                kw[buf] = getattr(module, buf)
        return F + losses[name], fwd_args[0], tuple(fwd_args[1:]), kw
    if name == "MultiheadAttention":
        return None
    raise NoForm(f"module {name}")


def map_mha_module(module, args, kwargs):
    q, k, v = args[:3]
    E, H = module.embed_dim, module.num_heads
    Wi, bi = module.in_proj_weight, module.in_proj_bias
    Wo, bo = module.out_proj.weight, module.out_proj.bias
    W = np_(Wi)
    b = np.zeros(3 * E) if bi is None else np_(bi)          # bias=False: zero biases
    bo_np = np.zeros(E) if bo is None else np_(bo)
    opts = {}
    if kwargs.get("key_padding_mask") is not None:
        opts["key_padding_mask"] = np_(kwargs["key_padding_mask"])
    if kwargs.get("attn_mask") is not None:
        opts["attn_mask"] = np_(kwargs["attn_mask"])
    layer_kw = dict(num_heads=H, dropout=module.dropout, add_zero_attn=module.add_zero_attn)
    if module.bias_k is not None:
        layer_kw.update(bias_k=np_(module.bias_k).reshape(E), bias_v=np_(module.bias_v).reshape(E))
    if not module.batch_first:
        layer_kw["batch_first"] = False
    layer = K.MultiHeadAttention(W[:E].T, b[:E], W[E:2 * E].T, b[E:2 * E], W[2 * E:].T, b[2 * E:],
                                 np_(Wo).T, bo_np, **layer_kw)
    inputs = [np_(q), np_(k), np_(v)]
    if not opts:
        run_inputs = inputs
    else:
        run_inputs = inputs

    def run():
        out = layer.forward(*run_inputs, **opts)

        def backward(dout):
            g = layer.backward(dout)
            res = dict(zip(["q", "k", "v"], g))
            res["in_proj_weight"] = np.concatenate([layer.grads[f"W_{n}"].T for n in "qkv"])
            res["in_proj_bias"] = np.concatenate([layer.grads[f"b_{n}"] for n in "qkv"])
            res["out_proj.weight"] = layer.grads["W_o"].T
            res["out_proj.bias"] = layer.grads["b_o"]
            if "bias_k" in layer.grads:
                res["bias_k"] = layer.grads["bias_k"].reshape(1, 1, E)
                res["bias_v"] = layer.grads["bias_v"].reshape(1, 1, E)
            return res
        return out, backward

    def torch_fn():
        return module(q, k, v, need_weights=False, **{k_: v_ for k_, v_ in kwargs.items()
                                                        if k_ in ("key_padding_mask", "attn_mask")})[0]
    wrt = {"q": q, "k": k, "v": v, "in_proj_weight": Wi, "in_proj_bias": bi,
           "out_proj.weight": Wo, "out_proj.bias": bo, "bias_k": module.bias_k, "bias_v": module.bias_v}
    return Mapped(torch_fn, {n: t for n, t in wrt.items() if t is not None and t.requires_grad}, run)


# --------------------------------------------------------------------------- running

def _close(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False, f"shape {a.shape} != torch's {b.shape}"
    both_nan = np.isnan(a) & np.isnan(b)
    same_inf = np.isinf(a) & (a == b)
    ok = both_nan | same_inf | (np.abs(a - b) <= ATOL + RTOL * np.abs(b))
    if ok.all():
        return True, ""
    i = np.unravel_index(np.argmin(ok), ok.shape) if ok.ndim else ()
    return False, f"at {tuple(int(v) for v in i)}: {a[i]!r} vs torch {b[i]!r}"


def refusal(err, layer_names):
    message = str(err)
    return isinstance(err, (ValueError, TypeError, NotImplementedError)) and \
        any(message.startswith(n + ":") or message.startswith(n + " (") for n in layer_names)


LAYER_NAMES = [n for n in dir(K) if n[:1].isupper()]


def check(mapped, rng):
    """'pass' | 'wrong' | 'crash' | 'refused' | 'no-form', and a detail."""
    out_t = mapped.torch_fn()
    extra_t = None
    if isinstance(out_t, tuple):
        out_t, extra_t = out_t[0], out_t[1:]
    dout = torch.from_numpy(rng.standard_normal(tuple(out_t.shape))).to(out_t.dtype)
    names = list(mapped.wrt)
    grads_t = torch.autograd.grad(out_t, [mapped.wrt[n] for n in names], dout, allow_unused=True)
    try:
        out, backward = mapped.impl_fn()
        extra = None
        if isinstance(out, tuple):
            out, extra = out[0], out[1:]
        ok, why = _close(out, np_(out_t))
        if not ok:
            return "wrong", "forward " + why
        if extra_t is not None:
            if extra is None:
                return "wrong", "no second output (indices)"
            for a, b in zip(extra, extra_t):
                if not np.array_equal(np.asarray(a), np_(b)):
                    return "wrong", "indices differ"
        grads = backward(np_(dout))
    except NoForm:
        raise
    except Exception as err:   # noqa: BLE001: the classification is the point
        kind = "refused" if refusal(err, LAYER_NAMES) else "crash"
        return kind, f"{type(err).__name__}: {str(err)[:200]}"
    for name, g_t in zip(names, grads_t):
        if g_t is None or name.startswith("_"):
            continue
        if name not in grads or grads[name] is None:
            return "wrong", f"no gradient of {name}"
        ok, why = _close(grads[name], np_(g_t))
        if not ok:
            return "wrong", f"grad {name} " + why
    return "pass", ""


def classify(build, rng):
    try:
        mapped = build()
    except NoForm as err:
        return "no-form", str(err)
    except Exception as err:   # noqa: BLE001
        kind = "refused" if refusal(err, LAYER_NAMES) else "crash"
        return kind, f"{type(err).__name__}: {str(err)[:200]}" + \
            ("" if kind == "refused" else " | " + traceback.format_exc(limit=-2).replace("\n", " ")[-300:])
    try:
        return check(mapped, rng)
    except NoForm as err:
        return "no-form", str(err)
    except Exception as err:   # noqa: BLE001: torch itself refused the sample
        if "torch" in traceback.format_exc():
            return "no-form", f"torch refuses: {str(err)[:100]}"
        raise


def op_samples(selected):
    from torch.testing._internal.common_methods_invocations import op_db
    for op in op_db:
        key = op.name + ("." + op.variant_test_name if op.variant_test_name else "")
        if key not in OPS or (selected and key not in selected):
            continue
        for i, s in enumerate(op.sample_inputs("cpu", torch.float64, requires_grad=True)):
            yield key, i, (lambda s=s, key=key: OPS[key](s.input, tuple(s.args), dict(s.kwargs)))


MODULES = ("Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "Linear", "Embedding", "MultiheadAttention", "CrossEntropyLoss", "NLLLoss", "MSELoss",
           "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
           "MultiMarginLoss", "CosineEmbeddingLoss", "CTCLoss")


def module_samples(selected):
    from torch.testing._internal.common_modules import module_db
    for info in module_db:
        name = info.module_cls.__name__
        if name not in MODULES or (selected and "nn." + name not in selected):
            continue
        inputs = info.module_inputs_func(info, device="cpu", dtype=torch.float64,
                                         requires_grad=True, training=True)
        for i, mi in enumerate(inputs):
            if mi.forward_input is None:
                continue

            def build(mi=mi, name=name):
                torch.manual_seed(0)
                c = mi.constructor_input
                module = info.module_cls(*c.args, **c.kwargs).to(torch.float64)
                args, kwargs = tuple(mi.forward_input.args), dict(mi.forward_input.kwargs)
                if name == "MultiheadAttention":
                    return map_mha_module(module, args, kwargs)
                key, x, fargs, fkw = module_mapper(name, module, args, kwargs)
                return OPS[key](x, fargs, fkw)   # the functional form of the module's call
            yield "nn." + name, i, build


def run(selected=(), show=()):
    counts = collections.defaultdict(collections.Counter)
    details = []
    rng = np.random.default_rng(0)
    for source in (op_samples, module_samples):
        for key, i, build in source(selected):
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                kind, detail = classify(build, rng)
            counts[key][kind] += 1
            details.append({"op": key, "sample": i, "result": kind, "detail": detail})
            if kind in show:
                print(f"{kind:8s} {key}[{i}]: {detail}", file=sys.stderr)
    return counts, details


KINDS = ("pass", "wrong", "crash", "refused", "no-form")


def table(counts):
    lines = [f"{'op':48s} " + " ".join(f"{k:>7s}" for k in KINDS)]
    total = collections.Counter()
    for key in sorted(counts):
        total.update(counts[key])
        lines.append(f"{key:48s} " + " ".join(f"{counts[key][k]:7d}" for k in KINDS))
    lines.append(f"{'total':48s} " + " ".join(f"{total[k]:7d}" for k in KINDS))
    n = sum(total.values())
    lines.append(f"pass {total['pass']}/{n} = {100 * total['pass'] / max(n, 1):.1f}%")
    return "\n".join(lines), total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", default="", help="comma-separated keys (nn.functional.conv2d, nn.Conv2d)")
    parser.add_argument("--show", default="wrong,crash", help="kinds to print one line each for")
    parser.add_argument("--json", help="write every sample's result here")
    args = parser.parse_args(argv)
    selected = tuple(s for s in args.ops.split(",") if s)
    counts, details = run(selected, tuple(args.show.split(",")))
    text, _ = table(counts)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(details, f, indent=1)


if __name__ == "__main__":
    main()
