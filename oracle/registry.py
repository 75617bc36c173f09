"""Every op spec, discovered from the modules of oracle.specs.

A spec module defines SPECS = [OpSpec(...), ...]. Adding an op is adding a spec
to one of those modules (or a new module); nothing else needs to change.
"""
import contextlib
import importlib
import pkgutil
from functools import lru_cache

from . import specs as _specs_package


@lru_cache(maxsize=None)
def all_specs():
    found = {}
    for info in sorted(pkgutil.iter_modules(_specs_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_specs_package.__name__}.{info.name}")
        for spec in getattr(module, "SPECS", ()):
            if spec.name in found:
                raise ValueError(f"op {spec.name!r} is defined twice "
                                 f"(in {found[spec.name][1]} and {info.name})")
            found[spec.name] = (spec, info.name)
    return tuple(spec for spec, _ in found.values())


_temporary = {}   # name -> spec: ops that exist for one call (backprop_oracle.check)


@contextlib.contextmanager
def temporary(spec):
    """`spec` is known to get() (not to all_specs()) inside the block: an op made for one call."""
    if spec.name in _temporary or any(s.name == spec.name for s in all_specs()):
        raise ValueError(f"op {spec.name!r} exists already")
    _temporary[spec.name] = spec
    try:
        yield spec
    finally:
        del _temporary[spec.name]


def get(name):
    if name in _temporary:
        return _temporary[name]
    for spec in all_specs():
        if spec.name == name:
            return spec
    raise KeyError(f"no op named {name!r}; known ops: {', '.join(s.name for s in all_specs())}")


def families():
    return sorted({spec.family for spec in all_specs()})
