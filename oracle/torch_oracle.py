"""Witness 1: PyTorch autograd, on CPU and on CUDA when present.

The spec's torch function computes the same output from torch tensors (weights
in the implementation's layout, adapted by the spec); the gradients come from
torch.autograd.grad(out, leaves, grad_outputs=dout).
"""
import numpy as np

from .errors import Unavailable
from .frameworks import require

_configured = False


def _torch():
    global _configured
    torch = require("torch")
    if not _configured:
        # cuDNN convolutions and RNNs default to TF32 on Ampere and newer GPUs;
        # the oracle wants IEEE float32 (CONVENTIONS.md).
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        _configured = True
    return torch


def device(name):
    torch = _torch()
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise Unavailable("torch sees no CUDA device (torch.cuda.is_available() is False)")
        return torch.device("cuda")
    raise Unavailable(f"torch oracle has no device {name!r}")


def to_tensor(value, dev, requires_grad=False):
    torch = _torch()
    t = torch.as_tensor(np.array(value), device=dev)  # a contiguous copy; 0-d stays 0-d
    return t.requires_grad_(requires_grad) if requires_grad else t


def to_numpy(t):
    return t.detach().cpu().numpy()


def split_output(result):
    return result if isinstance(result, tuple) else (result, {})


def run_layer(spec, ctx):
    torch = _torch()
    dev = device(ctx.device)
    leaves = {k: to_tensor(v, dev, True)
              for k, v in {**ctx.data.inputs, **ctx.data.params}.items()}
    extra = {k: to_tensor(v, dev) for k, v in ctx.data.extra.items()}
    out, extras = split_output(spec.torch(leaves, extra, ctx.hp))
    result = {"out": to_numpy(out)}
    result.update({f"out:{k}": to_numpy(v) for k, v in extras.items()})
    if leaves and out.requires_grad:
        grads = torch.autograd.grad(out, list(leaves.values()),
                                    grad_outputs=to_tensor(ctx.dout, dev), allow_unused=True)
        for (name, leaf), g in zip(leaves.items(), grads):
            result[f"grad:{name}"] = to_numpy(g) if g is not None else np.zeros(leaf.shape, ctx.dout.dtype)
    return result


def run(spec, ctx):
    return spec.runners.get("torch", run_layer)(spec, ctx)
