"""Load the implementation under test named by --impl."""
import importlib
import importlib.util
import os
import sys

try:                          # pytest's error when there is pytest; the API runs without it
    from pytest import UsageError
except ImportError:            # pragma: no cover (backprop_oracle.grade in a plain venv)
    class UsageError(Exception):
        """A wrong argument of the run."""


def load_implementation(name):
    """A module (dotted name, importable from the current directory), a .py file path,
    or the path of a package directory (one holding __init__.py); None: the answer key."""
    if name is None:
        from .. import impl
        return impl
    if name.endswith(".py") or os.sep in name:
        path = os.path.abspath(name.rstrip(os.sep))
        package = os.path.isfile(os.path.join(path, "__init__.py"))
        if not os.path.isfile(path) and not package:
            raise UsageError(f"--impl {name}: no such file (nor a package directory)")
        module_name = os.path.splitext(os.path.basename(path))[0]
        spec = (importlib.util.spec_from_file_location(
                    module_name, os.path.join(path, "__init__.py"), submodule_search_locations=[path])
                if package else importlib.util.spec_from_file_location(module_name, path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        loader = spec.loader.exec_module
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        module, loader = None, None
    try:
        if loader:
            loader(module)
        else:
            module = importlib.import_module(name)
    except Exception as err:
        raise UsageError(f"--impl {name}: importing it raised "
                                f"{type(err).__name__}: {err}") from err
    return module


def describe(module):
    return getattr(module, "__file__", None) or getattr(module, "__name__", repr(module))
