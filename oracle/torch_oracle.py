"""Witness 1: PyTorch autograd, on CPU and on CUDA when present.

The spec's torch function computes the same output from torch tensors (weights
in the implementation's layout, adapted by the spec); the gradients come from
torch.autograd.grad(out, leaves, grad_outputs=dout).
"""
import contextlib
import os

import numpy as np

from .errors import Unavailable
from .frameworks import TF32_DEVICE, require, uses_tf32

_configured = False
_deterministic = False


def _torch():
    global _configured
    torch = require("torch")
    if not _configured:
        set_tf32(torch, False)
        _configured = True
    return torch


def set_tf32(torch, allowed):
    """cuDNN convolutions and RNNs default to TF32 on Ampere and newer GPUs; the
    oracle wants IEEE float32 (CONVENTIONS.md), except on the cuda-tf32 column."""
    torch.backends.cuda.matmul.allow_tf32 = allowed
    torch.backends.cudnn.allow_tf32 = allowed


@contextlib.contextmanager
def precision(torch, device_name):
    """TF32 on for the cuda-tf32 column only, and off again afterwards."""
    set_tf32(torch, uses_tf32(device_name))
    try:
        yield
    finally:
        set_tf32(torch, False)


def deterministic(torch):
    """Deterministic CUDA kernels: some backward passes (index_add, scatter_add,
    embedding, ...) accumulate with atomics in a varying order. warn_only: an op with
    no deterministic kernel warns instead of raising, and is still checked. cuBLAS
    needs its workspace fixed before its first handle is made."""
    global _deterministic
    if not _deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        _deterministic = True


def device(name):
    torch = _torch()
    if name == "cpu":
        return torch.device("cpu")
    if name in ("cuda", TF32_DEVICE):
        if not torch.cuda.is_available():
            raise Unavailable("torch sees no CUDA device (torch.cuda.is_available() is False)")
        deterministic(torch)
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
        # the output and each extra output the case gives an upstream gradient (h_n, c_n)
        missing = [name for name in ctx.dout_extra if name not in extras]
        if missing:
            raise KeyError(f"op {spec.name!r}: the torch reference returns no {missing}, "
                           f"which the case gives an upstream gradient")
        outputs = [out] + [extras[name] for name in ctx.dout_extra]
        upstream = [to_tensor(ctx.dout, dev)] + [to_tensor(g, dev) for g in ctx.dout_extra.values()]
        grads = torch.autograd.grad(outputs, list(leaves.values()),
                                    grad_outputs=upstream, allow_unused=True)
        for (name, leaf), g in zip(leaves.items(), grads):
            result[f"grad:{name}"] = to_numpy(g) if g is not None else np.zeros(leaf.shape, ctx.dout.dtype)
    return result


def run(spec, ctx):
    torch = _torch()
    with precision(torch, ctx.device):
        try:
            return spec.runners.get("torch", run_layer)(spec, ctx)
        except torch.cuda.OutOfMemoryError:
            # the engine records this case as an error; free the cache for the next one
            torch.cuda.empty_cache()
            raise
