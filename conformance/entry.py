"""The package's `pytest11` entry point: dormant unless the suite is collected.

pytest loads every installed entry point in every run of the environment, a user's
own unrelated project included. This module imports nothing of the harness and adds
no option there (the suite's options, `--device`, `--seed`, `--dtype`..., would clash
with a project's own conftest options of the same names). Only when the paths to
collect include the suite (this folder) does it register the plugin
(conformance/plugin.py), whose options and hooks then join the run: `pytest
conformance`, a check's node id, the clone's testpaths, or `pytest --pyargs
backprop_oracle.conformance` from anywhere.

The decision is taken in pytest_load_initial_conftests, the hook that pytest gives
plugins to add options once the command line's paths are known (the options are
parsed in full after it), on the controller and on every xdist worker alike.
"""
import glob
import importlib.util
import os

SUITE_DIR = os.path.dirname(os.path.abspath(__file__))

# Folders pytest does not recurse into by default (its `norecursedirs`, and virtual
# environments): a suite installed under them is not collected from an ancestor.
NOT_RECURSED = {"site-packages", "dist-packages", "build", "dist", "node_modules", "venv",
                "CVS", "_darcs", "{arch}"}


def _pyarg_path(name):
    """The file or folder of a dotted module name (`--pyargs`), or None."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None
    return os.path.dirname(spec.origin) if spec.origin.endswith("__init__.py") else spec.origin


def _recursed_into(ancestor, below):
    """Whether pytest, collecting `ancestor`, walks down into `below` (a folder inside it)."""
    path = ancestor
    for part in os.path.relpath(below, ancestor).split(os.sep)[:-1]:
        path = os.path.join(path, part)
        if part.startswith(".") or part in NOT_RECURSED or part.endswith(".egg") \
                or os.path.exists(os.path.join(path, "pyvenv.cfg")):
            return False
    return True


def collects_suite(paths, pyargs, invocation_dir):
    """Whether collecting `paths` (files, folders, node ids, or dotted names with
    --pyargs) collects this folder's checks."""
    for arg in paths:
        target = str(arg).split("::")[0]
        if pyargs and not os.path.exists(os.path.join(invocation_dir, target)):
            target = _pyarg_path(target)
            if target is None:
                continue
        path = os.path.abspath(os.path.join(str(invocation_dir), target))
        if path == SUITE_DIR or path.startswith(SUITE_DIR + os.sep):
            return True
        if SUITE_DIR.startswith(path.rstrip(os.sep) + os.sep) and _recursed_into(path, SUITE_DIR):
            return True
    return False


def initial_paths(early_config):
    """The paths pytest will collect, decided as pytest decides them: the command line's,
    else the ini file's testpaths when run from the rootdir, else the current folder."""
    ns = early_config.known_args_namespace
    if ns.file_or_dir:
        return list(ns.file_or_dir)
    invocation = early_config.invocation_params.dir
    paths = []
    if invocation == early_config.rootpath:
        for path in early_config.getini("testpaths"):
            paths += [path] if ns.pyargs else sorted(glob.iglob(os.path.join(str(invocation), path),
                                                                recursive=True))
    return paths or [str(invocation)]


def pytest_load_initial_conftests(early_config, parser, args):
    ns = early_config.known_args_namespace
    if collects_suite(initial_paths(early_config), ns.pyargs, early_config.invocation_params.dir):
        from . import plugin   # pytest_addoption and pytest_configure are historic hooks:
        if not early_config.pluginmanager.is_registered(plugin):   # they reach it now
            early_config.pluginmanager.register(plugin, "backprop_oracle.conformance.plugin")
