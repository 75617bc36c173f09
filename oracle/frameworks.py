"""Lazy handles on the optional frameworks.

Op specs write `torch.tanh(...)` or `jnp.tanh(...)` at module level without
importing torch or jax when the spec module is imported: collection stays fast
and a machine without one framework can still run the others. The first
attribute access imports the real module; a missing framework raises
MissingFramework, which the harness turns into a skip naming the extra to install.
"""
import contextlib
import importlib
import os

from .errors import Unavailable

# float32 on CUDA with TF32 allowed: measured only when asked (--tf32), and then
# reported as a device column of its own, never mixed with IEEE float32 "cuda".
TF32_DEVICE = "cuda-tf32"


def uses_tf32(device):
    return device == TF32_DEVICE


class MissingFramework(Unavailable, ImportError):
    """A framework is not installed: its witness is skipped with this message."""


EXTRA_FOR = {"torch": "torch", "jax": "jax", "optax": "jax"}


def require(module_name):
    top = module_name.split(".")[0]
    try:
        return importlib.import_module(module_name)
    except ImportError as err:
        raise MissingFramework(
            f"{top} is not installed ({err}); install it with "
            f"`pip install 'backprop-oracle[{EXTRA_FOR.get(top, top)}]'`") from err


class _Lazy:
    def __init__(self, module_name, setup=None):
        self._name, self._setup, self._module = module_name, setup, None

    def __getattr__(self, attr):
        if self._module is None:
            if self._name.split(".")[0] in ("jax", "optax"):
                _prepare_jax()
            module = require(self._name)
            if self._setup:
                self._setup()
            self._module = module
        return getattr(self._module, attr)


XLA_DETERMINISTIC = "--xla_gpu_deterministic_ops=true"


def _prepare_jax():
    """Before jax starts a backend: deterministic GPU kernels (scatter-add and reductions
    otherwise use atomics whose order varies). A user's own XLA_FLAGS setting wins."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_gpu_deterministic_ops" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {XLA_DETERMINISTIC}".strip()


def jax_matmul_precision(device):
    """The jax matmul precision of one device column: IEEE float32 ("highest")
    everywhere, TF32 ("tensorfloat32") only on the cuda-tf32 column."""
    return "tensorfloat32" if uses_tf32(device) else "highest"


@contextlib.contextmanager
def jax_precision(device):
    with jax.default_matmul_precision(jax_matmul_precision(device)):
        yield


def _configure_jax():
    import jax
    # Without x64, float64 inputs silently become float32 (CONVENTIONS.md).
    jax.config.update("jax_enable_x64", True)
    # GPU float32 dots default to TF32; the oracle wants IEEE float32.
    jax.config.update("jax_default_matmul_precision", "highest")


torch = _Lazy("torch")
F = _Lazy("torch.nn.functional")
jax = _Lazy("jax", _configure_jax)
jnp = _Lazy("jax.numpy", _configure_jax)
lax = _Lazy("jax.lax", _configure_jax)
jnn = _Lazy("jax.nn", _configure_jax)
optax = _Lazy("optax", _configure_jax)
