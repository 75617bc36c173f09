"""Loading a learner's project as it is laid out, and saying what a style cannot map."""
import os
import subprocess
import sys
import textwrap
import types

import pytest

from backprop_oracle.conformance.adapters import adapt
from backprop_oracle.conformance.loading import LoadError, load_implementation
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import all_checks, run_check

LEARNERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learners")


def write(root, files):
    for path, text in files.items():
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(textwrap.dedent(text))


def records(module, op, oracles=("torch",)):
    return [r for c in all_checks([registry.get(op)], oracles, ("cpu",), ("float64",))
            for r in run_check(c, module)]


def test_a_file_in_common_without_init_finds_its_root(tmp_path):
    """book 2's layout: common/layers.py does `from common.np import *`, no __init__.py."""
    module = load_implementation(os.path.join(LEARNERS, "book2", "common", "time_layers.py"))
    assert module.__name__ == "common.time_layers"
    assert module.__file__.endswith(os.path.join("book2", "common", "time_layers.py"))
    assert hasattr(module, "TimeAffine") and hasattr(module, "Embedding")   # via common.layers


def test_two_projects_with_the_same_package_name_load_their_own_files():
    """Book 1 and book 2 both have `common`; CS231n's assignments both have `cs231n`."""
    one = load_implementation(os.path.join(LEARNERS, "book1", "common", "layers.py"))
    two = load_implementation(os.path.join(LEARNERS, "book2", "common", "layers.py"))
    assert hasattr(one, "BatchNormalization") and not hasattr(two, "BatchNormalization")
    assert hasattr(two, "MatMul") and not hasattr(one, "MatMul")
    a2 = load_implementation(os.path.join(LEARNERS, "cs231n_a2", "cs231n"))
    a3 = load_implementation(os.path.join(LEARNERS, "cs231n_a3", "cs231n"))
    assert hasattr(a2, "batchnorm_forward") and not hasattr(a3, "batchnorm_forward")
    assert hasattr(a3, "lstm_forward") and not hasattr(a2, "lstm_forward")
    assert a3.rnn_forward.__module__ == "cs231n.rnn_layers"


def test_a_package_is_graded_through_its_submodules():
    namespace = load_implementation(os.path.join(LEARNERS, "cs231n_a2", "cs231n"))
    # __init__.py is empty: the functions come from layers.py, layer_utils.py and optim.py
    assert {"affine_forward", "affine_relu_forward", "adam"} <= set(vars(namespace))
    assert namespace.affine_forward.__module__ == "cs231n.layers"     # not layer_utils' import
    adapted = adapt(namespace, "cs231n")
    assert {"Affine", "BatchNorm", "Adam"} <= set(adapted.__all__)


def test_an_empty_package_is_refused_not_graded_as_nothing(tmp_path):
    write(tmp_path, {"empty/__init__.py": "", "empty/notes.py": "X = 1\n"})
    with pytest.raises(LoadError, match="defines a class or function to grade"):
        load_implementation(str(tmp_path / "empty"))


def test_a_submodule_that_cannot_be_imported_is_left_out_and_named(tmp_path):
    write(tmp_path, {"proj/__init__.py": "",
                     "proj/layers.py": "def relu_forward(x):\n    return x * (x > 0), x\n",
                     "proj/data_utils.py": "import a_package_that_is_not_installed\n"})
    namespace = load_implementation(str(tmp_path / "proj"))
    assert hasattr(namespace, "relu_forward")
    assert "proj.data_utils" in namespace.skipped_submodules
    assert "a_package_that_is_not_installed" in namespace.skipped_submodules["proj.data_utils"]


def test_a_learner_file_named_like_a_standard_module_is_loaded_from_its_file(tmp_path):
    write(tmp_path, {"random.py": "class Relu:\n    pass\n"})
    module = load_implementation(str(tmp_path / "random.py"))
    assert hasattr(module, "Relu")
    import random
    assert hasattr(random, "shuffle")          # the standard module is untouched


def test_a_class_the_style_cannot_map_is_said_so_never_has_no_class(tmp_path):
    """A learner's TimeAffine in another API, a forward without its backward."""
    module = types.ModuleType("mixed")
    module.affine_forward = lambda x, w, b: (x @ w + b, None)          # no affine_backward

    class TimeAffine:                                                  # not the cs231n form
        pass
    module.TimeAffine = TimeAffine
    adapted = adapt(module, "cs231n")
    [affine] = {r["message"] for r in records(adapted, "affine")}
    assert "defines affine_forward" in affine and "affine_backward is not defined" in affine
    messages = {r["message"] for r in records(adapted, "time_affine")}
    assert all("defines TimeAffine" in m and "does not map" in m for m in messages), messages
    assert not any("has no class TimeAffine" in m for m in messages)
    assert "affine_forward" in adapted.unmapped["Affine"]


def test_a_book_gru_without_time_gru_is_said_so():
    module = types.ModuleType("gru_only")
    module.GRU = type("GRU", (), {})
    messages = {r["message"] for r in records(adapt(module, "book"), "gru_cho", ("jax",))}
    assert messages and all("GRU is graded inside TimeGRU" in m for m in messages), messages


def test_each_load_works_in_a_fresh_process():
    """The sandboxed worker loads one submission per process: nothing relies on the test's."""
    code = ("import sys; from backprop_oracle.conformance.loading import load_implementation; "
            "from backprop_oracle.conformance.adapters import adapt; "
            "m = adapt(load_implementation(sys.argv[1]), 'cs231n'); print(' '.join(m.__all__))")
    out = subprocess.run([sys.executable, "-c", code, os.path.join(LEARNERS, "cs231n_a3", "cs231n")],
                         capture_output=True, text=True, timeout=120, cwd="/")
    assert out.returncode == 0, out.stderr
    assert {"TimeAffine", "LSTMCell", "RNN"} <= set(out.stdout.split())


def test_the_suite_runs_a_book_project_by_its_file(suite, tmp_path):
    result = suite("--impl", os.path.join(LEARNERS, "book2", "common", "time_layers.py"),
                   "--impl-style", "book", "--op", "time_affine", "--oracle", "torch",
                   "--dtype", "float64", "--report-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:]
    assert "checks passed (100%)" in result.stdout


def test_the_functions_style_is_an_option(suite, tmp_path):
    result = suite("--impl", os.path.join(LEARNERS, "eshikaku", "common", "functions.py"),
                   "--impl-style", "functions", "--op", "sigmoid,relu", "--oracle", "torch",
                   "--dtype", "float64", "--report-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:]
    assert "checks passed (100%)" in result.stdout


def test_an_option_the_learners_class_does_not_take_is_not_attempted():
    """A learner's BatchNorm and Adam written to the torch convention, without the answer
    key's options (momentum=None, correction_in_lr): those cases are not attempted, named."""
    import numpy as np
    module = types.ModuleType("plain")

    class Adam:
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
            self.lr = lr

        def update(self, params, grads):
            pass
    module.Adam = Adam
    [message] = {r["message"] for r in records(module, "adam") if r["case"] == "ten_steps_book"}
    assert "takes no argument 'correction_in_lr'" in message
    assert all(r["status"] == "not_attempted" for r in records(module, "adam")
               if r["case"] in ("ten_steps_book", "one_step_decay"))
    assert np  # the module's other cases run (and fail: this Adam never moves)
