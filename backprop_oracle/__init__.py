"""backprop-oracle: a NumPy answer key for backpropagation, and the conformance suite that
checks it against PyTorch, JAX and finite differences.

The Python API (stable; documented in the README's "Python API"):

    grade(impl, ops=None, oracles=None, dtypes=None, style="native", seed=0, ...) -> Result
        grade a learner's layers: a module, a path, a module name, or a dict of classes
    check(forward, backward, inputs, params=None, ..., torch=None, jax=None) -> Result
        check one NumPy forward/backward pair, gradcheck-like
    Result, OpResult, QuantityResult, Problem: what they return
    load_results(path) -> {"meta", "records"}
        a run's results.json (schema 1 or 2), each record a dict of oracle.records.FIELDS

Subpackages (the repository's top-level folders, installed under this one name):

    backprop_oracle.impl         the answer key: every layer, forward and backward
    backprop_oracle.oracle       the witnesses, the op specs, comparison and tolerance
    backprop_oracle.conformance  the pytest suite (plugin, options) and learner grading
    backprop_oracle.reports      the HTML report and the merging of runs
    backprop_oracle.tools        the seed sweep and the mutation test

`import backprop_oracle` stays light: the API is imported on first use, and torch and
JAX only when a witness first needs them.
"""
from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("backprop-oracle")
except _metadata.PackageNotFoundError:   # a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["grade", "check", "Result", "OpResult", "QuantityResult", "Problem", "load_results",
           "__version__"]

_API = {"grade": "api", "check": "api", "Result": "result", "OpResult": "result",
        "QuantityResult": "result", "Problem": "result", "load_results": "reports.model"}


def __getattr__(name):            # PEP 562: the API on first use
    if name in _API:
        import importlib
        value = getattr(importlib.import_module(f"{__name__}.{_API[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
