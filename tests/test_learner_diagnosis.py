"""Learner modules with one planted mistake each get the status and the diagnosis that
names the mistake; the answer key's copy passes everything; errors point at the
learner's line."""
import os
import shutil

import numpy as np
import pytest

from backprop_oracle.conformance.loading import load_implementation
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.diagnose import diagnose
from backprop_oracle.oracle.engine import all_checks, run_check
from backprop_oracle.oracle.tolerance import Tolerance
from tests.conftest import ROOT

LEARNERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learners")


def grade(module, ops, oracles=("torch", "fd"), dtypes=("float64",)):
    if isinstance(module, str):
        module = load_implementation(os.path.join(LEARNERS, f"{module}.py"))
    specs = [registry.get(op) for op in ops]
    return [r for c in all_checks(specs, oracles, ("cpu",), dtypes) for r in run_check(c, module)]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")   # mistake_nan
@pytest.mark.parametrize("learner, op, quantity, words, dtype", [
    ("mistake_transposed", "affine", "grad:W", "dW = dout^T x is the transpose of the gradient", "float64"),
    ("mistake_sign", "sigmoid", "grad:x", "sign flipped", "float64"),
    ("mistake_batch_factor", "softmax_cross_entropy", "grad:x",
     "the gradient of the mean is not divided by N", "float64"),
    ("mistake_half", "mse", "grad:y", "the 2 is missing", "float64"),
    ("mistake_not_summed", "affine", "grad:b", "db = dout keeps the batch axis", "float64"),
    ("mistake_zero", "affine", "grad:x", "zero where it should not be", "float64"),
    ("mistake_nan", "relu", "grad:x", "NaN or inf in 3 of 12 elements (first at (0, 0))", "float64"),
    ("mistake_other", "tanh", "grad:x", "1 - x^2 evaluated at the input", "float64"),
    ("mistake_unlisted", "tanh", "grad:x", "worst elements: at (", "float64"),
])
def test_a_planted_mistake_fails_with_its_diagnosis(learner, op, quantity, words, dtype):
    records = grade(learner, [op], dtypes=(dtype,))
    bad = [r for r in records if r["quantity"] == quantity and r["status"] == "fail"]
    assert bad, f"{learner}: no failing {quantity}"
    named = [r for r in bad if words in r["diagnosis"]]
    assert named, f"{learner}: {sorted({r['diagnosis'] for r in bad})} do not say {words!r}"
    assert not [r for r in records if r["status"] == "error"]


def test_the_fallback_gives_expected_and_actual_values():
    r = next(r for r in grade("mistake_unlisted", ["tanh"], oracles=("torch",))
             if r["status"] == "fail")
    assert "expected" in r["diagnosis"] and ", got " in r["diagnosis"]


def test_a_copy_of_the_answer_key_passes_every_check():
    every_op = [s.name for s in registry.all_specs()]
    records = grade("answer_key_copy", every_op, oracles=("torch", "fd", "golden"))
    assert records
    assert {r["status"] for r in records} <= {"pass", "skipped"}, \
        {(r["op"], r["case"], r["quantity"], r["status"]) for r in records if r["status"] != "pass"}
    assert any(r["status"] == "pass" for r in records)


def test_a_package_directory_is_graded_as_is(tmp_path):
    shutil.copytree(os.path.join(ROOT, "impl"), tmp_path / "my_impl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    module = load_implementation(str(tmp_path / "my_impl"))
    assert module.__file__.startswith(str(tmp_path))
    records = grade(module, ["affine", "softmax_cross_entropy"])
    assert records and {r["status"] for r in records} <= {"pass", "skipped"}


def test_an_exception_is_an_error_pointing_at_the_learners_line():
    records = grade("raises", ["relu"], oracles=("torch",))
    assert records and all(r["status"] == "error" for r in records)
    message = records[0]["message"]
    assert "raises.py:8 in backward: return dout * self.positive" in message
    assert message.splitlines()[-1].startswith("AttributeError:")
    assert "/oracle/" not in message and "impl_runner" not in message


# -- rules that need a recurrent layer, checked on the diagnosis itself ----------------
TOL = Tolerance(1e-7, 1e-7, "policy")


def test_right_at_the_last_time_step_only():
    rng = np.random.default_rng(0)
    expected = rng.standard_normal((2, 5, 3))          # dxs (N, T, D)
    actual = expected.copy()
    actual[:, :-1] *= 0.7                              # the gradient from step t+1 dropped
    text = diagnose(actual, expected, TOL, {"recurrence": True, "time_axis": {"grad:x": 1}}, "grad:x")
    assert text.startswith("right at the last time step but wrong at earlier ones")


@pytest.mark.parametrize("axis", [0, 1])
def test_which_gate_block_is_wrong(axis):
    rng = np.random.default_rng(1)
    expected = rng.standard_normal((12, 3) if axis == 0 else (3, 12))   # 4 gates of H=3
    actual = expected.copy()
    block = [slice(None), slice(None)]
    block[axis] = slice(6, 9)                                            # the third gate: g
    actual[tuple(block)] += 0.5
    hints = {"gates": {"grad:W": (axis, ("i", "f", "g", "o"))}}
    assert diagnose(actual, expected, TOL, hints, "grad:W") == \
        "wrong only in the gate block g (gate order i, f, g, o)"


def test_gate_blocks_in_another_order():
    rng = np.random.default_rng(2)
    expected = rng.standard_normal((4, 8))
    i, f, g, o = np.split(expected, 4, axis=1)
    actual = np.concatenate([f, g, i, o], axis=1)       # the book's order, not torch's
    hints = {"gates": {"grad:Wx": (1, ("i", "f", "g", "o"))}}
    text = diagnose(actual, expected, TOL, hints, "grad:Wx")
    assert "wrong order" in text and "f, g, i, o" in text


def test_a_factor_of_the_sequence_length_is_named():
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    text = diagnose(expected / 5, expected, TOL, {"seq_len": 5, "batch_size": 2}, "grad:Wh")
    assert "1 / the sequence length T=5" in text


def test_zero_everywhere_and_a_factor_of_two():
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    assert diagnose(np.zeros_like(expected), expected, TOL, {}).startswith("zero everywhere")
    assert "(a factor of 2)" in diagnose(2 * expected, expected, TOL, {})
