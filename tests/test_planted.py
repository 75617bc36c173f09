"""The suite must fail, with a useful message, on common mistakes in a backward pass.

Each module in tests/planted/ is the answer key with one mistake planted; it is
graded exactly as a learner's module would be (`--impl tests/planted/X.py`).
"""
import os

import pytest

from backprop_oracle.conformance.loading import load_implementation
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import all_checks, run_check

HERE = os.path.dirname(os.path.abspath(__file__))


def grade(planted, op):
    module = load_implementation(os.path.join(HERE, "planted", f"{planted}.py"))
    checks = all_checks([registry.get(op)], ("torch", "jax", "fd"), ("cpu",), ("float64",))
    return [r for c in checks for r in run_check(c, module)]


def failures(records, quantity):
    return [r for r in records if r["quantity"] == quantity and r["status"] == "fail"]


@pytest.mark.parametrize("planted, op, quantity, words", [
    ("weight_grad_transposed", "affine", "grad:W", "transpose"),
    ("bias_not_summed", "affine", "grad:b", "db = dout keeps the batch axis"),
    ("sign_flipped", "tanh", "grad:x", "sign flipped"),
    ("ce_not_divided_by_batch", "softmax_cross_entropy", "grad:x", "not divided by N"),
    ("sigmoid_of_output", "sigmoid", "grad:x", "the derivative taken at the output"),
])
def test_planted_mistake_is_caught_and_explained(planted, op, quantity, words):
    records = grade(planted, op)
    bad = failures(records, quantity)
    assert bad, f"{planted}: no failing {quantity} record"
    # every oracle catches it, and the torch/jax records name the mistake
    assert {r["oracle"] for r in bad} == {"torch", "jax", "fd"}
    named = [r for r in bad if words in r["diagnosis"]]
    assert named, f"{planted}: diagnoses {[r['diagnosis'] for r in bad]} do not say {words!r}"
    # the forward pass is untouched, so it still passes
    assert all(r["status"] == "pass" for r in records if r["quantity"] == "out")


def test_transposed_square_weight_is_named_transposed():
    bad = [r for r in grade("weight_grad_transposed", "affine")
           if r["case"] == "square" and r["oracle"] == "torch" and r["quantity"] == "grad:W"]
    assert bad[0]["status"] == "fail"
    assert bad[0]["mistake"] == "dW_transposed"
    assert bad[0]["diagnosis"].startswith("dW = dout^T x is the transpose of the gradient")


def test_the_terminal_names_the_mistake_and_the_rerun_command(suite, tmp_path):
    result = suite("--impl", os.path.join(HERE, "planted", "bias_not_summed.py"), "--op", "affine",
                   "--oracle", "torch", "--dtype", "float64", "--report-dir", str(tmp_path))
    assert result.returncode == 1, result.stdout[-2000:]
    assert "grad:b" in result.stdout and "db = dout keeps the batch axis" in result.stdout
    assert "rerun: pytest 'conformance/test_ops.py::test_op[affine-batch3-torch-cpu-float64]'" \
        in result.stdout
    assert os.path.exists(tmp_path / "results.json") and os.path.exists(tmp_path / "index.html")
