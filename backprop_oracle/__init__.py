"""backprop-oracle: a NumPy answer key for backpropagation, and the conformance
suite that checks it against PyTorch, JAX and finite differences.

Subpackages (the repository's top-level folders, installed under this one name):

    backprop_oracle.impl         the answer key: every layer, forward and backward
    backprop_oracle.oracle       the witnesses, the op specs, comparison and tolerance
    backprop_oracle.conformance  the pytest suite (plugin, options) and learner grading
    backprop_oracle.reports      the HTML report and the merging of runs
    backprop_oracle.tools        the seed sweep and the mutation test
"""
from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("backprop-oracle")
except _metadata.PackageNotFoundError:   # a source tree that is not installed
    __version__ = "0+unknown"
