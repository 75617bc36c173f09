"""The suite catches the two mistakes learners make most in recurrent layers, and names them.

Each test builds a learner module in memory: the answer key with one mistake
planted by subclassing, graded exactly as `--impl` would grade it.
"""
import types

import numpy as np
import pytest

from backprop_oracle import impl
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

class RNNWithoutTime(impl.RNN):
    """delta^t computed from the output at t alone: the term delta^{t+1} W is dropped
    (backward run with W = 0 in the product that carries the gradient to step t-1; dW
    itself is sum_t delta^t^T z^{t-1} and does not read W)."""

    def backward(self, dout, dh_n=None):
        W = self.params["weight_hh_l0"]
        self.params["weight_hh_l0"] = np.zeros_like(W)
        try:
            return super().backward(dout, dh_n)
        finally:
            self.params["weight_hh_l0"] = W


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

class LSTMCellWrongGate(impl.LSTMCell):
    """The output gate's gradient taken as dh instead of dh * tanh(c'): only block o is wrong."""

    def backward(self, dh_next, dc_next=None):
        dx, dh, dc = super().backward(dh_next, dc_next)
        H, tc, o = self.hidden_size, self.tc, self.o
        wrong = dh_next * o * (1 - o) - dh_next * tc * o * (1 - o)   # what the mistake adds to d a_o
        p = self.params
        self.grads["weight_ih"][3 * H:] += wrong.T @ self.x
        self.grads["weight_hh"][3 * H:] += wrong.T @ self.h
        self.grads["bias_ih"][3 * H:] += wrong.sum(axis=0)
        self.grads["bias_hh"][3 * H:] += wrong.sum(axis=0)
        return dx + wrong @ p["weight_ih"][3 * H:], dh + wrong @ p["weight_hh"][3 * H:], dc


class LSTMWrongGate(impl.LSTM):
    """The same mistake in the sequence layer: d a_o = dh^t o (1 - o), tanh(c^t) forgotten
    (done by running backward with the stored output gate's tanh(c^t) factor replaced by 1:
    self.c is read only for tanh(c^t) and c^{t-1}, so the cells are kept for c^{t-1})."""

    def backward(self, dout, dh_n=None, dc_n=None):
        H = self.hidden_size
        W_hh, W_ih = self.params["weight_hh_l0"], self.params["weight_ih_l0"]
        dout, dh_n, dc_n = (np.asarray(dout).transpose(1, 0, 2),
                            np.zeros((self.x.shape[1], H)), np.zeros((self.x.shape[1], H)))
        tc = np.tanh(self.c)
        c_prev = np.concatenate([self.c0[None], self.c[:-1]])
        h_prev = np.concatenate([self.h0[None], self.h[:-1]])
        da = np.empty_like(self.gates)
        dh, dc = dh_n, dc_n
        for t in reversed(range(len(da))):
            i, f, g, o = np.split(self.gates[t], 4, axis=1)
            dh = dout[t] + dh
            dc = dc + dh * o * (1 - tc[t] ** 2)
            da[t] = np.concatenate([dc * g * i * (1 - i), dc * c_prev[t] * f * (1 - f),
                                    dc * i * (1 - g * g), dh * o * (1 - o)], axis=1)  # tanh(c^t) forgotten
            dh, dc = da[t] @ W_hh, dc * f
        T, N, G = da.shape
        flat = da.reshape(T * N, G)
        self.grads = {"weight_ih_l0": flat.T @ self.x.reshape(T * N, -1), "bias_ih_l0": flat.sum(axis=0),
                      "weight_hh_l0": flat.T @ h_prev.reshape(T * N, H), "bias_hh_l0": flat.sum(axis=0)}
        return (da @ W_ih).transpose(1, 0, 2), dh[None], dc[None]


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
