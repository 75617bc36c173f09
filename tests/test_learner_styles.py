"""Learners' code in the two common teaching styles, graded as it is through an adapter."""
import json
import os

import numpy as np
import pytest

from conformance.adapters import adapt
from conformance.adapters._common import permute_gates
from conformance.loading import load_implementation
from oracle import registry
from oracle.engine import all_checks, run_check

LEARNERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learners")
CORE = ["affine", "relu", "sigmoid", "softmax_cross_entropy"]


def grade(learner, style, ops=CORE):
    module = adapt(load_implementation(os.path.join(LEARNERS, f"{learner}.py")), style)
    checks = all_checks([registry.get(op) for op in ops], ("torch", "fd"), ("cpu",),
                        ("float64", "float32"))
    return [r for c in checks for r in run_check(c, module)]


@pytest.mark.parametrize("learner, style", [("book_style", "book"), ("cs231n_style", "cs231n")])
def test_a_correct_module_in_a_teaching_style_passes(learner, style):
    records = grade(learner, style)
    assert {r["status"] for r in records} <= {"pass", "skipped", "not_attempted"}
    passed = {r["op"] for r in records if r["status"] == "pass"}
    assert passed == set(CORE)
    # what the style cannot express is "not attempted", with the reason
    missing = {(r["case"], r["message"]) for r in records if r["status"] == "not_attempted"}
    assert {case for case, _ in missing} == {"labels_none", "probs_mean"}
    assert all(style in message for _, message in missing)


@pytest.mark.parametrize("learner, style, quantity, words", [
    ("book_style_mistake", "book", "grad:x", "the batch size N="),
    ("cs231n_style_mistake", "cs231n", "grad:W", "transposed"),
])
def test_a_planted_mistake_in_a_teaching_style_is_diagnosed(learner, style, quantity, words):
    records = grade(learner, style)
    bad = [r for r in records if r["status"] == "fail"]
    assert bad and {r["quantity"] for r in bad} == {quantity}
    assert all(words in r["diagnosis"] for r in bad), {r["diagnosis"] for r in bad}
    assert not [r for r in records if r["status"] == "error"]


def test_a_layer_the_learner_did_not_write_is_not_attempted():
    records = grade("cs231n_style", "cs231n", ops=["tanh", "mse"])
    assert records and {r["status"] for r in records} == {"not_attempted"}


def test_native_style_is_the_module_itself():
    module = load_implementation(os.path.join(LEARNERS, "answer_key_copy.py"))
    assert adapt(module, "native") is module
    with pytest.raises(ValueError, match="unknown implementation style"):
        adapt(module, "keras")


def test_gate_blocks_are_permuted():
    w = np.concatenate([np.full((2, 3), k) for k in range(4)], axis=1)   # blocks 0 1 2 3 = i f g o
    book = permute_gates(w, "ifgo", "fgio")
    assert [int(b[0, 0]) for b in np.split(book, 4, axis=1)] == [1, 2, 0, 3]
    assert np.array_equal(permute_gates(book, "fgio", "ifgo"), w)


def test_the_report_says_which_adapter_was_used(suite, tmp_path):
    result = suite("--impl", os.path.join(LEARNERS, "book_style.py"), "--impl-style", "book",
                   "--op", "affine,relu", "--oracle", "torch", "--dtype", "float64",
                   "--report-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:]
    meta = json.loads((tmp_path / "results.json").read_text())["meta"]
    assert meta["impl_style"] == "book"
    assert meta["adapter"] == "book: conformance/adapters/book.py"
    assert meta["impl"].endswith("book_style.py")
    assert meta["grade"]["overall"]["passed"] == meta["grade"]["overall"]["attempted"] > 0
    assert "overall" in result.stdout and "checks passed (100%)" in result.stdout
