"""Realistic learner code (tests/learners/mistakes/): each planted mistake fails with the
diagnosis that names it, and nothing else is named; honest code, in-place idioms included,
passes. Graded as `--impl FILE [--impl-style book]` grades it: through the loader and the
adapter, against torch and finite differences, in float64."""
import os

import pytest

from backprop_oracle.conformance.adapters import adapt
from backprop_oracle.conformance.loading import load_implementation
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import all_checks, run_check
from backprop_oracle.reports.model import distinct_problems

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learners", "mistakes")


def grade(name, ops, style="native", oracles=("torch", "fd"), dtypes=("float64",)):
    module = adapt(load_implementation(os.path.join(HERE, f"{name}.py")), style)
    specs = [registry.get(op) for op in ops]
    return [r for c in all_checks(specs, oracles, ("cpu",), dtypes) for r in run_check(c, module)
            if "~" not in r["oracle"]]


def named(record):
    return set((record.get("mistake") or "").split("|")) - {""}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("learner, style, op, quantity, entry", [
    ("book_affine_db_keepdims", "book", "affine", "grad:b", "db_keepdims"),
    ("book_affine_dw_transposed", "book", "affine", "grad:W", "dW_transposed"),
    ("book_sigmoid_d_of_output", "book", "sigmoid", "grad:x", "derivative_of_output"),
    ("book_relu_kink", "book", "relu", "grad:x", "mask_x_ge_0"),
    ("book_softmax_loss_eps", "book", "softmax_cross_entropy", "out", "eps_in_log"),
    ("book_softmax_loss_not_divided", "book", "softmax_cross_entropy", "grad:x", "mean_not_divided"),
    ("native_tanh_at_input", "native", "tanh", "grad:x", "derivative_at_input"),
    ("native_leaky_wrong_side", "native", "leaky_relu", "grad:x", "slope_on_wrong_side"),
    ("native_softmax_diagonal", "native", "softmax", "grad:x", "jacobian_dropped"),
    ("native_embedding_assign", "native", "embedding", "grad:W", "assigned_not_accumulated"),
    ("native_mse_without_2", "native", "mse", "grad:y", "derivative_without_2"),
    ("native_bce_no_clamp", "native", "bce", "grad:p", "gradient_not_clamped"),
    ("native_dropout_not_scaled", "native", "dropout", "grad:x", "not_scaled"),
    ("native_dropout_not_scaled", "native", "dropout", "out", "eval_scaled"),
    ("native_adam_no_bias_correction", "native", "adam", "out:W", "no_bias_correction"),
    ("native_momentum_old_velocity", "native", "momentum", "out:W", "old_velocity"),
    ("native_mul_not_swapped", "native", "mul", "grad:x", "inputs_not_swapped"),
])
def test_a_realistic_mistake_is_named(learner, style, op, quantity, entry):
    oracles = ("torch", "golden") if registry.get(op).golden else ("torch", "fd")
    records = grade(learner, [op], style, oracles)
    bad = [r for r in records if r["quantity"] == quantity and r["status"] == "fail"]
    assert bad, f"{learner}: no failing {quantity}"
    assert any(entry in named(r) for r in bad), {(r["case"], r["oracle"], r["diagnosis"]) for r in bad}
    # precision: an entry is named only where it is the mistake (or indistinguishable from it)
    spec = registry.get(op)
    others = {n for r in records for n in named(r)} - {entry}
    assert others <= INDISTINGUISHABLE.get((op, entry), set()), others
    assert all(r["diagnosis_ja"] for r in records if r["status"] == "fail")
    assert spec.mistakes
    # one mistake, one row of the report and the terminal: every case, witness and shape of it
    rows = distinct_problems(records)
    assert len(rows) == ROWS.get(learner, 1), [(p["records"], p["problem"]) for p in rows]
    assert any(entry in (p["record"]["mistake"] or "").split("|") for p in rows)


# learners whose code has two problems by design, each a row
ROWS = {
    "native_dropout_not_scaled": 2,        # training not scaled, and evaluation scaled
    # the book's loss is a mean; the suite's reduction="sum" case grades N x that mean, so its
    # missing 1/N shows as "a factor of the batch size N" there, a row of its own
    "book_softmax_loss_not_divided": 2,
}


# entries that some cases of these learners cannot tell apart from the planted one
INDISTINGUISHABLE = {
    ("affine", "db_keepdims"): {"db_not_summed"},           # batch size 1: dout is (1, out) too
    ("mse", "derivative_without_2"): {"course_d_mean_squared_error"},   # one vector: N = K
    ("dropout", "not_scaled"): {"eval_scaled"},             # the same learner's eval mode
    ("dropout", "eval_scaled"): {"not_scaled"},
    ("mul", "inputs_not_swapped"): set(),
}


def test_the_finite_difference_records_of_a_projection_get_the_full_diagnosis():
    records = grade("native_embedding_assign", ["embedding"], oracles=("fd",))
    projected = [r for r in records if r["status"] == "fail" and "random directional" in r["message"]]
    assert projected, "no projection record fails"
    assert all("assigned_not_accumulated" in named(r) for r in projected), \
        {r["diagnosis"] for r in projected}


def test_float32_buffers_are_named_for_finite_differences():
    """A float32 forward in a float64 check: fd of a function rounded to float32 is noise."""
    records = grade("native_float32_buffer", ["sigmoid"], oracles=("torch", "fd"))
    bad = [r for r in records if r["status"] == "fail"]
    assert bad and all("float32" in r["diagnosis"] and "dtype='f'" in r["diagnosis"] for r in bad), \
        {r["diagnosis"] for r in bad}
    # torch in float32 is content with it (fd is not: it differentiates the rounded forward)
    assert all(r["status"] == "pass" for r in grade("native_float32_buffer", ["sigmoid"],
                                                    oracles=("torch",), dtypes=("float32",)))


def test_a_float32_array_that_fails_is_named_float32():
    records = grade("native_float32_returned", ["affine"], oracles=("torch", "fd"))
    bad = [r for r in records if r["status"] == "fail"]
    assert all("float32" in r["diagnosis"] for r in bad), {r["diagnosis"] for r in bad}


def test_the_eps_in_the_log_leaves_the_gradient_right():
    """The gradient is the answer key's; only finite differences of the learner's own forward
    (with the 1e-7) can disagree with it, and they are told why."""
    records = grade("book_softmax_loss_eps", ["softmax_cross_entropy"], "book")
    grads = [r for r in records if r["status"] == "fail" and r["quantity"] != "out"]
    assert all(r["oracle"] == "fd" and "eps_in_log" in named(r) and "your own forward" in r["diagnosis"]
               for r in grads), {(r["oracle"], r["diagnosis"]) for r in grads}


@pytest.mark.parametrize("learner, style, ops", [
    ("honest_book", "book", ["relu", "sigmoid", "affine"]),
    ("honest_native", "native", ["tanh", "embedding", "adam", "mul", "add"]),
])
def test_honest_learner_code_passes(learner, style, ops):
    oracles = ("torch", "fd", "golden")
    records = grade(learner, ops, style, oracles, ("float64", "float32"))
    assert records and {r["status"] for r in records} <= {"pass", "skipped", "not_attempted"}, \
        {(r["op"], r["case"], r["quantity"], r["status"], r["diagnosis"] or r["message"][-100:])
         for r in records if r["status"] not in ("pass", "skipped", "not_attempted")}
    assert {r["op"] for r in records if r["status"] == "pass"} == set(ops)


def test_a_learner_that_writes_over_dout_does_not_change_the_graders_dout():
    records = grade("honest_clobbers_dout", ["relu"], oracles=("torch", "fd"), dtypes=("float64", "float32"))
    assert records and {r["status"] for r in records} <= {"pass", "skipped"}, \
        {(r["case"], r["oracle"], r["status"]) for r in records if r["status"] != "pass"}
