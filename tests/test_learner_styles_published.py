"""The published code of both books, CS231n and the E資格 course, graded as it is.

The copies under tests/learners/ (book1/common, book2/common, cs231n_a2/cs231n,
cs231n_a3/cs231n, eshikaku/common) reproduce the published modules' behaviour and quirks.
Every class and function pair with a counterpart is graded; the only failures allowed are
the named differences below, which are real properties of that code. Planted mistakes
(tests/learners/style_mistakes.py) must fail.
"""
import os
import types

import pytest

from backprop_oracle.conformance.adapters import adapt
from backprop_oracle.conformance.loading import load_implementation
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import all_checks, run_check

from learners.style_mistakes import MISTAKES

LEARNERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learners")

# copy -> (style, the answer-key classes it must provide)
COPIES = {
    "book1/common/layers.py": ("book", {"Affine", "Relu", "Sigmoid", "SoftmaxCrossEntropy", "Dropout",
                                        "BatchNorm", "Conv2d", "MaxPool2d"}),
    "book1/common/optimizer.py": ("book", {"SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"}),
    "book2/common/layers.py": ("book", {"Affine", "MatMul", "Relu", "Sigmoid", "Softmax",
                                        "SoftmaxCrossEntropy", "BCEWithLogits", "Dropout", "Embedding"}),
    "book2/common/time_layers.py": ("book", {"TimeEmbedding", "TimeAffine", "TimeSoftmaxCrossEntropy",
                                             "BCEWithLogits", "Dropout", "RNNCell", "RNN", "LSTMCell",
                                             "LSTM", "ChoGRU"}),
    "book2/common/optimizer.py": ("book", {"SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"}),
    "cs231n_a2/cs231n": ("cs231n", {"Affine", "Relu", "SoftmaxCrossEntropy", "MulticlassHinge", "BatchNorm",
                                    "LayerNorm", "GroupNorm", "Dropout", "Conv2d", "MaxPool2d", "SGD",
                                    "Momentum", "RMSprop", "Adam"}),
    "cs231n_a3/cs231n": ("cs231n", {"Affine", "Relu", "SoftmaxCrossEntropy", "Embedding", "TimeEmbedding",
                                    "TimeAffine", "TimeSoftmaxCrossEntropy", "RNNCell", "RNN", "LSTMCell",
                                    "LSTM"}),
    "eshikaku/common/functions.py": ("functions", {"Sigmoid", "Relu", "SoftmaxCrossEntropy", "MSE"}),
}
# answer-key classes that the copy's code cannot be graded on in any case, with the reason
NOTHING_ATTEMPTED = {}
# CS231n's lstm_forward starts from c0 = 0 and returns neither c_T nor d c0: LSTM is graded on
# the lstm case holding c0 = 0 constant (its c_n skipped), the others are not attempted
PARTLY_ATTEMPTED = {
    ("cs231n_a3/cs231n", "LSTM"): ({"c0_constant_zero"}, "returns no d c0"),
}
# book 2 builds Relu nowhere in layers.py: its Relu lives in book 1 only
COPIES["book2/common/layers.py"][1].discard("Relu")


def named_difference(copy, record):
    """Why a failure of the published code is not a bug of the adapter, or None."""
    op, quantity, oracle = record["op"], record["quantity"], record["oracle"]
    if copy.startswith("book2/common/time_layers") and oracle == "fd":
        return "dtype='f' buffers: finite differences of a float32-rounded forward"
    if op in ("softmax_cross_entropy", "bce_with_logits") and not copy.startswith("cs231n"):
        return "1e-7 inside the cross-entropy log (loss value, and finite differences of it)"
    if op == "nesterov" and copy.startswith("book"):
        return "the book's Nesterov applies mu^2 to the NEW velocity (the paper: the old one)"
    if op == "mse" and quantity == "grad:y" and copy.startswith("eshikaku"):
        return "d_mean_squared_error = (y - d) / N, the derivative of sum / 2N, not of its mean / 2"
    return None


def load(copy):
    return load_implementation(os.path.join(LEARNERS, copy))


def grade(module, ops=None, oracles=("torch", "jax", "fd"), dtypes=("float64",)):
    specs = [s for s in registry.all_specs() if s.impl in module.__all__
             and (ops is None or s.name in ops)]
    return [r for c in all_checks(specs, oracles, ("cpu",), dtypes) for r in run_check(c, module)
            if r["oracle"] != "torch~jax"]


@pytest.mark.parametrize("copy", sorted(COPIES))
def test_the_published_code_is_graded_on_every_class_with_a_counterpart(copy):
    style, classes = COPIES[copy]
    module = adapt(load(copy), style)
    assert classes <= set(module.__all__), sorted(classes - set(module.__all__))
    assert not module.unmapped and not module.not_graded, (module.unmapped, module.not_graded)
    records = grade(module)
    unexplained = [(r["op"], r["case"], r["oracle"], r["quantity"], r["status"], r["message"][:200])
                   for r in records if r["status"] in ("fail", "error") and not named_difference(copy, r)]
    assert not unexplained, unexplained
    spec_of = {s.name: s.impl for s in registry.all_specs()}
    passed = {spec_of[r["op"]] for r in records if r["status"] == "pass"}
    attempted = {spec_of[r["op"]] for r in records if r["status"] in ("pass", "fail")}
    expected = {c for c in classes if (copy, c) not in NOTHING_ATTEMPTED}
    # a class fails only by a named difference (the book's Nesterov), else something passes
    assert expected <= attempted, sorted(expected - attempted)
    assert expected - {"Nesterov"} <= passed, sorted(expected - {"Nesterov"} - passed)
    for (where, cls), (graded, words) in PARTLY_ATTEMPTED.items():
        if where == copy:
            mine = [r for r in records if spec_of[r["op"]] == cls]
            assert {r["case"] for r in mine if r["status"] == "pass"} == graded
            skipped = {r["quantity"] for r in mine if r["status"] == "skipped"}
            assert skipped == {"out:c_n"}, skipped
            refused = {r["message"] for r in mine if r["case"] not in graded}
            assert refused and all(r["status"] == "not_attempted" for r in mine
                                   if r["case"] not in graded)
            assert all(words in m for m in refused), refused
    for (where, cls), words in NOTHING_ATTEMPTED.items():
        if where == copy:
            messages = {r["message"] for r in records if spec_of[r["op"]] == cls}
            assert messages and all(words in m for m in messages), messages


@pytest.mark.parametrize("style, copy, op", sorted(MISTAKES))
def test_a_planted_mistake_in_each_style_fails(style, copy, op):
    name, plant = MISTAKES[(style, copy, op)]
    correct = load(copy)
    planted = types.ModuleType(correct.__name__ + " (planted)")
    vars(planted).update({k: v for k, v in vars(correct).items() if not k.startswith("__")})
    setattr(planted, name, plant(correct))
    records = grade(adapt(planted, style), ops={op}, oracles=("torch", "jax"))
    fails = [r for r in records if r["status"] == "fail"]
    assert fails, [(r["case"], r["status"], r["message"][:100]) for r in records]
    assert not [r for r in records if r["status"] == "error"]


def test_a_planted_forget_gate_mistake_in_cs231n_lstm_is_diagnosed():
    """lstm_backward whose forget-gate gradient takes next_c for prev_c fails on the case
    CS231n's functions can express, and the catalogue names the mistake."""
    name, plant = MISTAKES[("cs231n", "cs231n_a3/cs231n", "lstm")]
    correct = load("cs231n_a3/cs231n")
    planted = types.ModuleType(correct.__name__ + " (planted)")
    vars(planted).update({k: v for k, v in vars(correct).items() if not k.startswith("__")})
    setattr(planted, name, plant(correct))
    records = grade(adapt(planted, "cs231n"), ops={"lstm"}, oracles=("torch",))
    fails = [r for r in records if r["status"] == "fail"]
    assert {r["case"] for r in fails} == {"c0_constant_zero"}
    # the weights' and dh0's gradients go wrong through d a_f; dx too (da W_ih)
    assert {"grad:weight_hh_l0", "grad:h0"} <= {r["quantity"] for r in fails}
    assert {r["mistake"] for r in fails} == {"forget_with_c_next"}, \
        [(r["quantity"], r["mistake"], r["diagnosis"][:100]) for r in fails]


def test_a_kink_convention_is_graded_as_it_is():
    """The E資格 d_relu(x) = (x > 0): at x = 0 the derivative is 0, torch's convention too."""
    module = adapt(load("eshikaku/common/functions.py"), "functions")
    records = grade(module, ops={"relu"}, oracles=("torch",))
    assert {r["status"] for r in records} == {"pass"}
