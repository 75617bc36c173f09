"""Load the implementation under test named by --impl.

`load_implementation(name)` takes a dotted module name (importable from the current
directory), the path of a .py file, or the path of a directory, and returns one module:

- a file is imported under its real dotted name with the right root on sys.path, so that
  its own imports work as they do in the learner's project: the root is found by walking
  up while the parent folder is a package (has __init__.py), and further up to the folder
  that holds the top-level name of the file's absolute imports when that name is its own
  folder (『ゼロから作る』's `common/layers.py` imports `common.functions` with or without a
  `common/__init__.py`; CS231n's `cs231n/layers.py` sits in the package `cs231n`);
- a directory (a package, or a plain folder of modules) is graded through its submodules:
  every module in it is imported and the classes and functions they define are gathered
  into one namespace (an `__init__.py` that defines nothing is never all that is graded);
  a submodule that cannot be imported is left out and named in `skipped_submodules`.

A top-level name already imported from somewhere else (another learner's `common` or
`cs231n` in the same process) is dropped from sys.modules first, so each load sees its
own files.
"""
import ast
import importlib
import importlib.util
import os
import sys
import types


class LoadError(Exception):
    """The submission cannot be loaded: the message names it and why. (Not pytest's
    UsageError: this module also runs in the implementation's own process, which
    imports no pytest.)"""


def load_implementation(name):
    """The module under test for --impl NAME; None: the answer key."""
    if name is None:
        from .. import impl
        return impl
    if name.endswith(".py") or os.sep in name or (os.altsep and os.altsep in name) \
            or os.path.isdir(name):
        path = os.path.abspath(name.rstrip("/" + os.sep))
        if os.path.isdir(path):
            return _load_directory(name, path)
        if not os.path.isfile(path):
            raise LoadError(f"--impl {name}: no such file or directory")
        root, dotted = _file_root(path)
        if _foreign(dotted.split(".")[0]):
            return _import_file(name, path, dotted)
        return _import(name, root, dotted)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return _import(name, None, name)


# ---- where a file's project root is ---------------------------------------------------

def _is_package(folder):
    return os.path.isfile(os.path.join(folder, "__init__.py"))


def _absolute_import_roots(path):
    """Top-level names of the file's absolute imports (`from common.x import y` -> common)."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
    except (SyntaxError, UnicodeDecodeError, OSError):
        return set()          # the import itself will report it
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _file_root(path):
    """(root folder to put on sys.path, dotted module name) of a .py file."""
    folder, stem = os.path.split(path)
    parts = [os.path.splitext(stem)[0]]
    while _is_package(folder) and os.path.dirname(folder) != folder:
        folder, package = os.path.split(folder)
        parts.insert(0, package)
    # `common/layers.py` doing `from common.functions import ...` without __init__.py:
    # its folder's name is one of its own absolute imports, so the root is one level up.
    if len(parts) == 1 and os.path.basename(folder) in _absolute_import_roots(path):
        folder, package = os.path.split(folder)
        parts.insert(0, package)
    return folder, ".".join(parts)


# ---- importing ------------------------------------------------------------------------

def _foreign(top):
    """Whether `top` names a module of Python itself or of an installed package (a learner's
    `random.py` or `test.py`): it is then loaded from its file without taking that name."""
    if top in sys.stdlib_module_names:
        return True
    loaded = sys.modules.get(top)
    where = (getattr(loaded, "__file__", None) or "") if loaded else ""
    return any(d in where.replace("\\", "/") for d in ("/site-packages/", "/dist-packages/")) \
        or top == __name__.split(".")[0]


def _import_file(name, path, dotted):
    spec = importlib.util.spec_from_file_location(dotted, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        raise LoadError(f"--impl {name}: importing it raised "
                                f"{type(err).__name__}: {err}") from err
    return module


def _forget(top, root):
    """Drop `top` and its submodules from sys.modules where they do not come from `root`
    (a namespace package, which has no file, is always dropped: its path follows sys.path)."""
    inside = os.path.join(root, "") if root else None
    for key in [k for k in sys.modules if k == top or k.startswith(top + ".")]:
        where = getattr(sys.modules[key], "__file__", None)
        if inside is None or not where or not os.path.abspath(where).startswith(inside):
            del sys.modules[key]


def _import(name, root, dotted):
    if root is not None:
        if root in sys.path:
            sys.path.remove(root)
        sys.path.insert(0, root)
        _forget(dotted.split(".")[0], root)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(dotted)
    except Exception as err:
        raise LoadError(f"--impl {name}: importing it as {dotted!r}"
                                + (f" from {root}" if root else "")
                                + f" raised {type(err).__name__}: {err}") from err


def _submodule_names(path, prefix):
    """Dotted names of the modules under folder `path` (packages recursed), sorted."""
    names = []
    for entry in sorted(os.listdir(path)):
        full = os.path.join(path, entry)
        if entry.startswith((".", "_")) and entry != "__init__.py":
            continue
        if entry.endswith(".py") and entry != "__init__.py":
            names.append(prefix + entry[:-3])
        elif os.path.isdir(full) and _is_package(full) and entry.isidentifier():
            names.append(prefix + entry)
            names += _submodule_names(full, f"{prefix}{entry}.")
    return names


def _own_public(module):
    """The classes and functions a module defines itself (not those it imports)."""
    return {k: v for k, v in vars(module).items()
            if not k.startswith("_") and isinstance(v, type | types.FunctionType)
            and getattr(v, "__module__", None) == module.__name__}


def _public(module):
    return {k: v for k, v in vars(module).items()
            if not k.startswith("_") and isinstance(v, type | types.FunctionType)}


def _load_directory(name, path):
    """One namespace from every module of a package directory or a folder of modules."""
    if _is_package(path):
        root, top = os.path.split(path)
        prefix = top + "."
        dotted = [top] + _submodule_names(path, prefix)
    else:
        root, dotted = path, _submodule_names(path, "")
        for top in {d.split(".")[0] for d in dotted}:
            _forget(top, root)
        if not dotted:
            raise LoadError(f"--impl {name}: the folder holds no Python module")
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    _forget(dotted[0].split(".")[0], root)
    importlib.invalidate_caches()
    modules, skipped = [], {}
    for mod in dotted:
        try:
            modules.append(importlib.import_module(mod))
        except Exception as err:      # e.g. a data loader needing a package not installed
            if mod == dotted[0] and _is_package(path):
                raise LoadError(f"--impl {name}: importing the package {mod!r} from "
                                        f"{root} raised {type(err).__name__}: {err}") from err
            skipped[mod] = f"{type(err).__name__}: {err}"
    namespace = types.ModuleType(os.path.basename(path))
    namespace.__file__ = path
    # what a module defines itself wins over a name another module imported from it
    for module in modules:
        for key, value in _public(module).items():
            vars(namespace).setdefault(key, value)
    for module in modules:
        vars(namespace).update(_own_public(module))
    if not _public(namespace):
        detail = "; ".join(f"{m}: {e}" for m, e in skipped.items())
        raise LoadError(f"--impl {name}: no module in {path} defines a class or "
                                f"function to grade" + (f" (could not import {detail})" if detail else ""))
    namespace.learner_modules = modules
    namespace.skipped_submodules = skipped
    return namespace


def describe(module):
    return getattr(module, "__file__", None) or getattr(module, "__name__", repr(module))
