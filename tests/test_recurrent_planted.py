"""The suite catches the two mistakes learners make most in recurrent layers, and names them.

Each test builds a learner module in memory: the answer key with one mistake
planted by subclassing, graded exactly as `--impl` would grade it.
"""
import types

import numpy as np
import pytest

from backprop_oracle import impl
from backprop_oracle.impl.recurrent import LSTMStep, RNNStep
from backprop_oracle.oracle.engine import Check, run_check


def learner(**classes):
    """A module with every class of the answer key, some replaced by planted ones."""
    module = types.ModuleType("planted_learner")
    module.__dict__.update({name: getattr(impl, name) for name in impl.__all__})
    module.__dict__.update(classes)
    return module


def records(module, op, case, oracle="torch"):
    return {r["quantity"]: r for r in run_check(Check(op, case, oracle, "cpu", "float64"), module)
            if r["oracle"] == oracle}         # not the torch~jax records that compare the witnesses


# --- BPTT that drops the gradient flowing back from step t+1 -----------------------------

class TruncatedStep(RNNStep):
    """delta^t computed from the output at t alone: the term delta^{t+1} W is dropped."""

    def backward(self, p, dz, dc, cache):
        delta, dh, dc, grads = super().backward(p, dz, dc, cache)
        return delta, np.zeros_like(dh), dc, grads


class RNNWithoutTime(impl.RNN):
    def __init__(self, nonlinearity="tanh", **kwargs):
        super().__init__(nonlinearity, **kwargs)
        self.step = TruncatedStep(nonlinearity)


@pytest.mark.parametrize("oracle", ["torch", "jax"])
def test_bptt_without_the_gradient_from_the_next_step_is_caught(oracle):
    found = records(learner(RNN=RNNWithoutTime), "rnn", "random_state", oracle)
    assert found["out"]["status"] == "pass"            # the forward pass is right
    dx = found["grad:x"]
    assert dx["status"] == "fail"
    # the catalogue names it (the rules would say "right at the last time step ...")
    assert dx["mistake"] == "dh_next_dropped", dx["diagnosis"]
    assert dx["diagnosis"].startswith("the gradient from step t+1 is not added")
    for name in ("grad:h0", "grad:weight_hh_l0"):
        assert found[name]["status"] == "fail"


def test_the_answer_key_passes_the_same_check():
    found = records(impl, "rnn", "random_state")
    assert all(r["status"] == "pass" for r in found.values())


def test_a_single_step_shows_the_mistake_only_in_dh0():
    """With T = 1 there is no step t+1: x and the weights pass, only dh0 (lost too) fails.
    This is why every recurrent op has cases with T > 1 and a random h0."""
    found = records(learner(RNN=RNNWithoutTime), "rnn", "T1")
    assert {q for q, r in found.items() if r["status"] != "pass"} == {"grad:h0"}
    assert found["grad:h0"]["diagnosis"].startswith("zero everywhere")


# --- an LSTM gate with a wrong derivative --------------------------------------------------

class ForgottenTanhStep(LSTMStep):
    """The output gate's gradient taken as dh instead of dh * tanh(c'): only block o is wrong."""

    def backward(self, p, dh, dc, cache):
        da, dh_prev, dc_prev, grads = super().backward(p, dh, dc, cache)
        h, c, i, f, g, o, tc = cache
        H = h.shape[1]
        da = da.copy()
        da[:, 3 * H:] = dh * o * (1 - o)                # should be dh * tanh(c') * o (1 - o)
        return da, da @ p["weight_hh"], dc_prev, {"weight_hh": da.T @ h, "bias_hh": da.sum(axis=0)}


class LSTMCellWrongGate(impl.LSTMCell):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.step = ForgottenTanhStep()


class LSTMWrongGate(impl.LSTM):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.step = ForgottenTanhStep()


@pytest.mark.parametrize("quantity", ["grad:weight_ih", "grad:weight_hh", "grad:bias_ih", "grad:bias_hh"])
def test_a_wrong_lstm_cell_gate_is_named(quantity):
    found = records(learner(LSTMCell=LSTMCellWrongGate), "lstm_cell", "batch3")
    assert found["out"]["status"] == "pass"
    assert found[quantity]["status"] == "fail"
    assert "wrong only in the gate block o (gate order i, f, g, o)" in found[quantity]["diagnosis"], \
        found[quantity]["diagnosis"]


def test_a_wrong_lstm_gate_is_named_in_a_sequence_of_one_step():
    found = records(learner(LSTM=LSTMWrongGate), "lstm", "T1", "jax")
    bad = found["grad:weight_ih_l0"]
    assert bad["status"] == "fail"
    assert "gate block o" in bad["diagnosis"], bad["diagnosis"]


def test_finite_differences_catch_the_wrong_gate_too():
    found = records(learner(LSTM=LSTMWrongGate), "lstm", "long_T20", "fd")
    assert found["grad:weight_ih_l0"]["status"] == "fail"
    assert found["grad:x"]["status"] == "fail"
