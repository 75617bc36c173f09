"""Learners' own recurrent layers with one mistake each (tests/learners/mistakes_recurrent/):
the suite catches every one, and the catalogue of the op names that mistake and no other,
at T > 1 as at T = 1. The honest module passes every case it attempts.

The learner modules are written as learners write (a cell per step, the BPTT loop over
the cells), independently of the catalogue's code (oracle/specs/_mistakes_recurrent.py).
"""
import os

import pytest

from backprop_oracle.conformance.loading import load_implementation
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import Check, context, implementation_result, run_check
from backprop_oracle.oracle.mistakes import matching_mistakes
from backprop_oracle.oracle.tolerance import tolerance
from tests.conftest import ROOT

FOLDER = os.path.join(ROOT, "tests", "learners", "mistakes_recurrent")
_loaded = {}


def learner(name, folder=FOLDER):
    path = os.path.join(folder, f"{name}.py")
    if path not in _loaded:
        _loaded[path] = load_implementation(path)
    return _loaded[path]


def failing(module, op, oracle="torch", dtype="float64"):
    """(case, record, names of the matching catalogue entries) for every failing record."""
    spec = registry.get(op)
    found = []
    for case in spec.cases:
        check = Check(op, case.name, oracle, "cpu", dtype)
        if not spec.applies(case, oracle)[0]:
            continue
        records = [r for r in run_check(check, module) if r["oracle"] == oracle]
        assert not [r for r in records if r["status"] == "error"], records
        bad = [r for r in records if r["status"] == "fail"]
        if not bad:
            continue
        ctx = context(check, 0, module)
        actual = implementation_result(check, 0, module)
        tol = tolerance(spec, oracle, dtype)
        cache = {}
        for r in bad:
            names = [m.name for m in matching_mistakes(spec, ctx, r["quantity"], actual[r["quantity"]],
                                                       tol, cache)]
            found.append((case.name, r, names))
    return found


# (learner module, op, the catalogue entry that must be named)
MISTAKES = [
    ("bptt_not_reversed", "lstm", "bptt_not_reversed"),
    ("rnn_dh_next_dropped", "rnn", "dh_next_dropped"),
    ("rnn_dh_n_ignored", "rnn", "dh_n_ignored"),
    ("lstm_dc_not_carried", "lstm", "dc_not_carried"),
    ("lstm_no_gradient_through_time", "lstm", "no_gradient_through_time"),
    ("lstm_tanh_prime_of_prev_c", "lstm_cell", "tanh_prime_of_prev_c"),
    ("lstm_final_state_ignored", "lstm", "final_states_ignored"),
    ("lstm_dc_n_ignored", "lstm", "dc_n_ignored"),
    ("lstm_cell_dc_next_ignored", "lstm_cell", "dc_next_ignored"),
    ("lstm_gate_order_fgio", "lstm_cell", "gate_order_fgio"),
    ("lstm_gate_order_fgio", "lstm", "gate_order_fgio"),
    ("lstm_tanh_prime_of_c", "lstm_cell", "tanh_prime_of_c"),
    ("lstm_tanh_prime_of_c", "lstm", "tanh_prime_of_c"),
    ("lstm_output_gate_prev_c", "lstm", "output_gate_prev_c"),
    ("lstm_forget_with_c_next", "lstm", "forget_with_c_next"),
    ("lstm_no_sigmoid_prime_o", "lstm", "no_derivative_o"),
    ("lstm_no_sigmoid_prime_o", "lstm_cell", "no_derivative_o"),
    ("lstm_no_sigmoid_prime_i", "lstm", "no_derivative_i"),
    ("lstm_dc_not_times_f", "lstm", "dc_not_times_f"),
    ("lstm_dc_not_times_f", "lstm_cell", "dc_not_times_f"),
    ("lstm_dWh_with_h_t", "lstm", "dWh_with_h_t"),
    ("rnn_relu_mask_ge", "rnn", "relu_mask_ge"),
    ("rnn_relu_mask_ge", "rnn_cell", "relu_mask_ge"),
    ("rnn_tanh_prime_at_u", "rnn", "derivative_at_pre_activation"),
    ("rnn_dWh_with_h_t", "rnn", "dWh_with_h_t"),
    ("rnn_dWh_with_h_t", "rnn_cell", "dWh_with_h_t"),
    ("gru_z_swapped", "gru", "z_swapped"),
    ("gru_z_swapped", "gru_cell", "z_swapped"),
    ("gru_direct_path_dropped", "gru", "direct_path_dropped"),
    ("gru_direct_path_dropped", "gru_cell", "direct_path_dropped"),
    ("gru_reset_before_matmul", "gru", "reset_before_matmul"),
    ("gru_reset_before_matmul", "gru_cell", "reset_before_matmul"),
    ("embedding_overwrite", "time_embedding", "repeated_ids_overwrite"),
    ("time_ce_all_positions", "time_softmax_cross_entropy", "divided_by_all_positions"),
]


@pytest.mark.parametrize("module, op, expected", MISTAKES, ids=[f"{m}-{op}" for m, op, _ in MISTAKES])
def test_the_mistake_is_caught_and_named_alone(module, op, expected):
    found = failing(learner(module), op)
    assert found, f"{module} passes every case of {op}"
    wrong = [(case, r["quantity"], names) for case, r, names in found if names != [expected]]
    assert not wrong, f"{module} on {op}: expected only {expected!r} named, got {wrong}"


def test_time_mistakes_are_named_at_T_greater_than_1():
    """The gate and time mistakes are named on the 20-step case, where the rules can only
    say that every gate block is wrong."""
    for module, op, expected in [("lstm_no_sigmoid_prime_o", "lstm", "no_derivative_o"),
                                 ("bptt_not_reversed", "lstm", "bptt_not_reversed")]:
        cases = {case for case, _, names in failing(learner(module), op) if names == [expected]}
        assert "long_T20" in cases, (module, cases)


@pytest.mark.parametrize("module, op, expected", [("lstm_no_sigmoid_prime_o", "lstm", "no_derivative_o"),
                                                  ("gru_z_swapped", "gru", "z_swapped")])
def test_named_in_float32_and_by_jax(module, op, expected):
    for oracle, dtype in (("jax", "float32"), ("jax", "float64")):
        found = failing(learner(module), op, oracle, dtype)
        assert found and all(names == [expected] for _, _, names in found), (oracle, dtype, found)


@pytest.mark.parametrize("op", ["rnn_cell", "rnn", "lstm_cell", "lstm", "gru_cell", "gru", "time_embedding",
                                "time_softmax_cross_entropy"])
def test_the_honest_learner_passes(op):
    module = learner("honest")
    spec = registry.get(op)
    attempted = 0
    for case in spec.cases:
        for oracle in ("torch", "jax"):
            if not spec.applies(case, oracle)[0]:
                continue
            records = [r for r in run_check(Check(op, case.name, oracle, "cpu", "float64"), module)
                       if r["oracle"] == oracle]
            statuses = {r["status"] for r in records}
            assert statuses <= {"pass", "not_attempted"}, (case.name, oracle, records)
            attempted += "pass" in statuses
    assert attempted >= 4


def test_the_new_cases_catch_what_no_case_caught_before():
    """Without the upstream_* and relu_kink cases these mistakes pass every case."""
    for module, op, cases in [("lstm_cell_dc_next_ignored", "lstm_cell", {"upstream_c"}),
                              ("lstm_dc_n_ignored", "lstm", {"upstream_state"}),
                              ("rnn_dh_n_ignored", "rnn", {"upstream_state"}),
                              ("rnn_relu_mask_ge", "rnn", {"relu_kink"})]:
        assert {case for case, _, _ in failing(learner(module), op)} == cases, module


def test_no_time_rule_without_a_recurrence():
    """time_softmax_cross_entropy has a time axis but no recurrence: no word about step t+1."""
    import numpy as np
    from backprop_oracle.oracle.diagnose import diagnose
    spec = registry.get("time_softmax_cross_entropy")
    ctx = context(Check(spec.name, "ignored", "torch", "cpu", "float64"), 0, None)
    hints = spec.hints(ctx.data, ctx.hp)
    rng = np.random.default_rng(0)
    expected = rng.standard_normal((2, 5, 4))
    actual = expected.copy()
    actual[:, :-1] *= 1.5
    text = diagnose(actual, expected, tolerance(spec, "torch", "float64"), hints, "grad:x")
    assert "t+1" not in text and "time step" not in text, text
    seq = registry.get("lstm")
    hints = seq.hints(context(Check("lstm", "random_state", "torch", "cpu", "float64"), 0, None).data, {})
    text = diagnose(actual, expected, tolerance(seq, "torch", "float64"), hints, "grad:x")
    assert text.startswith("right at the last time step but wrong at earlier ones"), text


@pytest.mark.parametrize("oracle", ["torch", "jax", "fd"])
def test_every_witness_sees_the_upstream_gradient_of_the_final_states(oracle):
    """dh_n and dc_n reach torch (autograd.grad of every output), jax (the vjp's cotangent)
    and finite differences (<dh_n, h_n> + <dc_n, c_n> in the scalar): the answer key passes
    each, and a layer that ignores dc_n fails each."""
    for module, expect_pass in ((learner("honest"), True), (learner("lstm_dc_n_ignored"), False)):
        records = [r for r in run_check(Check("lstm", "upstream_state", oracle, "cpu", "float64"), module)
                   if r["oracle"] == oracle]
        grads = [r for r in records if r["quantity"] in ("grad:x", "grad:h0", "grad:c0")]
        assert len(grads) == 3
        assert all((r["status"] == "pass") == expect_pass for r in grads), (oracle, grads)


def test_no_gate_is_named_falsely_at_T_greater_than_1():
    """At T = 20 a wrong output-gate derivative reaches every gate block through dh: the
    structural rules must not name a single block (the catalogue names the gate)."""
    module = learner("lstm_no_sigmoid_prime_o")
    records = run_check(Check("lstm", "long_T20", "torch", "cpu", "float64"), module)
    for r in records:
        if r["status"] == "fail" and r["quantity"].startswith("grad:weight"):
            assert "gate block" not in r["diagnosis"], r


@pytest.mark.parametrize("module, style, op, expected", [
    ("book_style_mistake", "book", "lstm_cell", "no_derivative_f"),
    ("book_style_mistake", "book", "lstm", "dh_next_dropped"),
    ("cs231n_style_mistake", "cs231n", "rnn", "dh_next_dropped")])
def test_the_teaching_styles_planted_mistakes_are_named(module, style, op, expected):
    """Mistakes planted by others in the book's and CS231n's style (tests/learners/*_mistake.py),
    graded through the style adapters: named alone by the catalogue."""
    from backprop_oracle.conformance.adapters import adapt
    adapted = adapt(load_implementation(os.path.join(ROOT, "tests", "learners", f"{module}.py")), style)
    found = failing(adapted, op)
    assert found and all(names == [expected] for _, _, names in found), found
