"""Lazy handles on the optional frameworks, and their one-time setup.

Op specs write `torch.tanh(...)` or `jnp.tanh(...)` at module level without
importing torch or jax when the spec module is imported: collection stays fast
and a machine without one framework can still run the others. The first
attribute access imports the real module; a missing framework raises
MissingFramework, which the harness turns into a skip naming the extra to install.

The first import of a framework also configures it (`SETUP`) and is timed
(`IMPORT_SECONDS`, read by the benchmark):
- jax: float64 on, IEEE float32 matmuls, deterministic GPU kernels, and the
  persistent compilation cache (`JAX_CACHE_ENV`: a directory, or "off"; default
  ~/.cache/backprop-oracle/jax) with a minimum compile time of 0, so that the
  suite's small functions are cached too.
- torch: as many intra-op threads as `THREADS_ENV` says (the plugin sets 1 in
  each xdist worker: the workers already use every core, and the ops are small).
"""
import contextlib
import importlib
import os
import sys
import time

from .errors import Unavailable

# float32 on CUDA with TF32 allowed: measured only when asked (--tf32), and then
# reported as a device column of its own, never mixed with IEEE float32 "cuda".
TF32_DEVICE = "cuda-tf32"


def uses_tf32(device):
    return device == TF32_DEVICE


class MissingFramework(Unavailable, ImportError):
    """A framework is not installed: its witness is skipped with this message."""


EXTRA_FOR = {"torch": "torch", "jax": "jax", "optax": "jax"}
JAX_CACHE_ENV = "BACKPROP_ORACLE_JAX_CACHE"
THREADS_ENV = "BACKPROP_ORACLE_THREADS"
IMPORT_SECONDS = {}      # top-level framework -> seconds of its first import and setup


def jax_cache_dir():
    """Where compiled JAX functions persist between runs; None when switched off."""
    value = os.environ.get(JAX_CACHE_ENV, "")
    if value.lower() in ("off", "0", "none"):
        return None
    return value or os.path.join(os.path.expanduser("~"), ".cache", "backprop-oracle", "jax")


XLA_DETERMINISTIC = "--xla_gpu_deterministic_ops=true"
# The suite's functions are tiny and run once or twice: compiling them without
# LLVM's optimizations roughly halves XLA's compile time (measured: docs/speed.md)
# and changes no result beyond the tolerances. QUICK_COMPILE_ENV=0 switches it off.
XLA_QUICK_COMPILE = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
QUICK_COMPILE_ENV = "BACKPROP_ORACLE_XLA_QUICK_COMPILE"


def _prepare_jax():
    """Before jax starts a backend: deterministic GPU kernels (scatter-add and reductions
    otherwise use atomics whose order varies), and quick compilation. A user's own
    XLA_FLAGS setting of either wins."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_gpu_deterministic_ops" not in flags:
        flags = f"{flags} {XLA_DETERMINISTIC}"
    if os.environ.get(QUICK_COMPILE_ENV, "1") != "0" and "xla_backend_optimization_level" not in flags:
        flags = f"{flags} {XLA_QUICK_COMPILE}"
    os.environ["XLA_FLAGS"] = flags.strip()


def jax_matmul_precision(device):
    """The jax matmul precision of one device column: IEEE float32 ("highest")
    everywhere, TF32 ("tensorfloat32") only on the cuda-tf32 column."""
    return "tensorfloat32" if uses_tf32(device) else "highest"


@contextlib.contextmanager
def jax_precision(device):
    with jax.default_matmul_precision(jax_matmul_precision(device)):
        yield


def _configure_jax(jax):
    # Without x64, float64 inputs silently become float32 (CONVENTIONS.md).
    jax.config.update("jax_enable_x64", True)
    # GPU float32 dots default to TF32; the oracle wants IEEE float32.
    jax.config.update("jax_default_matmul_precision", "highest")
    cache = jax_cache_dir()
    if cache:
        jax.config.update("jax_compilation_cache_dir", cache)
        # The default minimum (1 s) would cache none of the suite's small functions.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def _configure_torch(torch):
    threads = os.environ.get(THREADS_ENV)
    if threads:
        torch.set_num_threads(int(threads))


BEFORE_IMPORT = {"jax": _prepare_jax, "optax": _prepare_jax}
SETUP = {"jax": _configure_jax, "torch": _configure_torch,
         "optax": lambda optax: require("jax")}   # optax imports jax: configure it


def require(module_name):
    top = module_name.split(".")[0]
    first = top not in IMPORT_SECONDS
    start = time.perf_counter()
    if first and top in BEFORE_IMPORT:
        BEFORE_IMPORT[top]()
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise MissingFramework(
            f"{top} is not installed ({err}); install it with "
            f"`pip install 'backprop-oracle[{EXTRA_FOR.get(top, top)}]'`") from err
    if first:
        if top in SETUP:
            SETUP[top](sys.modules[top])
        IMPORT_SECONDS[top] = time.perf_counter() - start
    return module


class _Lazy:
    def __init__(self, module_name):
        self._name, self._module = module_name, None

    def __getattr__(self, attr):
        if self._module is None:
            self._module = require(self._name)
        return getattr(self._module, attr)


torch = _Lazy("torch")
F = _Lazy("torch.nn.functional")
jax = _Lazy("jax")
jnp = _Lazy("jax.numpy")
lax = _Lazy("jax.lax")
jnn = _Lazy("jax.nn")
optax = _Lazy("optax")
