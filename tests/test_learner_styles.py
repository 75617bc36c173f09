"""Learners' code in the two common teaching styles, graded as it is through an adapter."""
import os

import numpy as np
import pytest

from backprop_oracle.conformance.adapters import adapt
from backprop_oracle.conformance.adapters._common import permute_gates
from backprop_oracle.conformance.loading import load_implementation
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import all_checks, run_check
from backprop_oracle.reports.model import load_results

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
    missing = {(r["op"], r["case"], r["message"]) for r in records
               if r["status"] == "not_attempted"}
    cases = {case for _, case, _ in missing}
    assert {op for op, _, _ in missing} == {"softmax_cross_entropy"}
    assert {"labels_none", "probs_mean", "weights_mean", "ignore_mean"} <= cases
    assert "labels_mean" not in cases and "onehot_mean" not in cases
    assert all(style in message for _, _, message in missing)


@pytest.mark.parametrize("learner, style, quantity, words", [
    # 'sum' is N times the book's mean (the adapter's): there the rules name the factor N
    ("book_style_mistake", "book", "grad:x", ("not divided by N", "a factor of the batch size N=")),
    ("cs231n_style_mistake", "cs231n", "grad:W", ("dW = dout^T x is the transpose of the gradient",)),
])
def test_a_planted_mistake_in_a_teaching_style_is_diagnosed(learner, style, quantity, words):
    records = grade(learner, style)
    bad = [r for r in records if r["status"] == "fail"]
    assert bad and {r["quantity"] for r in bad} == {quantity}
    assert all(any(w in r["diagnosis"] for w in words) for r in bad), {r["diagnosis"] for r in bad}
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
    meta = load_results(tmp_path / "results.json")["meta"]
    assert meta["impl_style"] == "book"
    assert meta["adapter"] == "book: conformance/adapters/book.py"
    assert meta["impl"].endswith("book_style.py")
    assert meta["grade"]["overall"]["passed"] == meta["grade"]["overall"]["attempted"] > 0
    assert "overall" in result.stdout and "checks passed (100%)" in result.stdout


# -- LSTM cells: layouts and gate orders, checked against torch.nn.LSTMCell itself -----------
def torch_lstm_cell(params, x, h, c, dout):
    torch = pytest.importorskip("torch")
    D, H = x.shape[1], h.shape[1]
    cell = torch.nn.LSTMCell(D, H).double()
    with torch.no_grad():
        for name, value in params.items():
            getattr(cell, name).copy_(torch.from_numpy(value))
    xs = [torch.tensor(a, requires_grad=True) for a in (x, h, c)]
    h_next, c_next = cell(xs[0], (xs[1], xs[2]))
    (h_next * torch.from_numpy(dout)).sum().backward()
    grads = {f"grad:{n}": t.grad.numpy() for n, t in zip(("x", "h", "c"), xs)}
    grads.update({f"grad:{n}": getattr(cell, n).grad.numpy() for n in params})
    return {"out": h_next.detach().numpy(), "out:c": c_next.detach().numpy(), **grads}


def adapted_lstm_cell(learner, style, params, x, h, c, dout):
    module = adapt(load_implementation(os.path.join(LEARNERS, f"{learner}.py")), style)
    cell = module.LSTMCell(**params)
    out = cell.forward(x, h, c)
    dx, dh, dc = cell.backward(dout)
    return {"out": out, "out:c": cell.c_next, "grad:x": dx, "grad:h": dh, "grad:c": dc,
            **{f"grad:{n}": g for n, g in cell.grads.items()}}


def lstm_case(N=3, D=2, H=3, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"weight_ih": (4 * H, D), "weight_hh": (4 * H, H), "bias_ih": (4 * H,), "bias_hh": (4 * H,)}
    params = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    return params, *(rng.standard_normal(s) for s in ((N, D), (N, H), (N, H), (N, H)))


@pytest.mark.parametrize("learner, style", [("book_style", "book"), ("cs231n_style", "cs231n")])
def test_an_lstm_cell_in_a_teaching_style_matches_torch(learner, style):
    case = lstm_case()
    want = torch_lstm_cell(*case)
    got = adapted_lstm_cell(learner, style, *case)
    assert set(got) == set(want)
    for quantity in want:
        np.testing.assert_allclose(got[quantity], want[quantity], rtol=1e-10, atol=1e-12,
                                   err_msg=quantity)


def test_a_wrong_gate_of_a_book_lstm_is_named_in_torchs_gate_order():
    from backprop_oracle.oracle.compare import compare
    from backprop_oracle.oracle.tolerance import Tolerance
    case = lstm_case()
    want = torch_lstm_cell(*case)
    got = adapted_lstm_cell("book_style_mistake", "book", *case)
    hints = {"gates": {"grad:weight_ih": (0, ("i", "f", "g", "o"))}}
    cmp = compare(got["grad:weight_ih"], want["grad:weight_ih"], Tolerance(1e-7, 1e-7, "policy"),
                  hints, "grad:weight_ih")
    assert not cmp.passed
    assert cmp.diagnosis == "wrong only in the gate block f (gate order i, f, g, o)"


def test_a_function_returning_the_wrong_number_of_arrays_is_an_error_that_says_where():
    import types
    module = types.ModuleType("two_grads")
    module.affine_forward = lambda x, w, b: (x @ w + b, (x, w))
    module.affine_backward = lambda dout, cache: (dout @ cache[1].T, cache[0].T @ dout)   # no db
    checks = all_checks([registry.get("affine")], ("torch",), ("cpu",), ("float64",))
    records = [r for c in checks for r in run_check(c, adapt(module, "cs231n"))]
    # a zero-size case (zero input features) holds only the answer key: there an exception
    # is "not attempted", with the note and the same excerpt
    from backprop_oracle.oracle.engine import ZERO_SIZE_NOTE
    edge = [r for r in records if r["case"] == "zero_features"]
    assert edge and all(r["status"] == "not_attempted" and r["message"].startswith(ZERO_SIZE_NOTE)
                        for r in edge)
    records = [r for r in records if r["case"] != "zero_features"]
    assert {r["status"] for r in records} == {"error"}
    message = records[0]["message"]
    assert "cs231n.py:" in message and "dx, dw, db = backward(" in message
    assert message.splitlines()[-1].startswith("ValueError: not enough values to unpack")


def torch_lstm(params, x, h0, c0, dout):
    torch = pytest.importorskip("torch")
    lstm = torch.nn.LSTM(x.shape[2], h0.shape[2], batch_first=True).double()
    with torch.no_grad():
        for name, value in params.items():
            getattr(lstm, name).copy_(torch.from_numpy(value))
    xs = [torch.tensor(a, requires_grad=True) for a in (x, h0, c0)]
    out, _ = lstm(xs[0], (xs[1], xs[2]))
    (out * torch.from_numpy(dout)).sum().backward()
    grads = {f"grad:{n}": t.grad.numpy() for n, t in zip(("x", "h0", "c0"), xs)}
    grads.update({f"grad:{n}": getattr(lstm, n).grad.numpy() for n in params})
    return {"out": out.detach().numpy(), **grads}


def adapted_time_lstm(learner, params, x, h0, c0, dout):
    module = adapt(load_implementation(os.path.join(LEARNERS, f"{learner}.py")), "book")
    layer = module.LSTM(**params)
    out = layer.forward(x, h0, c0)
    dx, dh0, dc0 = layer.backward(dout)
    return {"out": out, "grad:x": dx, "grad:h0": dh0, "grad:c0": dc0,
            **{f"grad:{n}": g for n, g in layer.grads.items()}}


def sequence_case(N=2, T=4, D=3, H=2, seed=3):
    params, *_ = lstm_case(D=D, H=H, seed=seed)
    params = {f"{k}_l0": v for k, v in params.items()}
    rng = np.random.default_rng(seed + 1)
    return params, *(rng.standard_normal(s) for s in ((N, T, D), (1, N, H), (1, N, H), (N, T, H)))


def test_the_books_time_lstm_matches_torch_including_the_gradient_of_c0():
    case = sequence_case()
    want, got = torch_lstm(*case), adapted_time_lstm("book_style", *case)
    assert set(got) == set(want)
    for quantity in want:
        np.testing.assert_allclose(got[quantity], want[quantity], rtol=1e-10, atol=1e-12,
                                   err_msg=quantity)


def test_bptt_without_the_carried_gradient_is_named():
    from backprop_oracle.oracle.compare import compare
    from backprop_oracle.oracle.tolerance import Tolerance
    case = sequence_case()
    want, got = torch_lstm(*case), adapted_time_lstm("book_style_mistake", *case)
    cmp = compare(got["grad:x"], want["grad:x"], Tolerance(1e-7, 1e-7, "policy"),
                  {"recurrence": True, "time_axis": {"grad:x": 1}}, "grad:x")
    assert cmp.diagnosis.startswith("right at the last time step but wrong at earlier ones")


def test_the_books_lstm_through_the_suite_when_the_answer_key_has_one():
    if "lstm" not in {s.name for s in registry.all_specs()}:
        pytest.skip("no lstm op in this answer key yet")
    records = grade("book_style", "book", ops=["lstm", "lstm_cell"])
    assert {r["status"] for r in records} <= {"pass", "not_attempted", "skipped"}
    assert {r["op"] for r in records if r["status"] == "pass"} == {"lstm", "lstm_cell"}
    bad = [r for r in grade("book_style_mistake", "book", ops=["lstm"])
           if r["status"] == "fail" and r["quantity"] == "grad:x" and r["oracle"] == "torch"]
    # the catalogue names the mistake (the rules alone would say "right at the last time step");
    # stacked + bidirectional is built from the same class, so its wrong steps are at both ends
    assert bad and all(r["mistake"] == "dh_next_dropped" for r in bad
                       if r["case"] not in ("T1", "stacked_bidirectional")), \
        {(r["case"], r["diagnosis"]) for r in bad}


# -- Elman RNNs (tanh): the cell and the sequence, both styles, against torch.nn.RNN ---------
def torch_rnn(params, x, h0, dout):
    torch = pytest.importorskip("torch")
    cell = x.ndim == 2
    D, H = x.shape[-1], h0.shape[-1]
    rnn = (torch.nn.RNNCell(D, H) if cell else torch.nn.RNN(D, H, batch_first=True)).double()
    with torch.no_grad():
        for name, value in params.items():
            getattr(rnn, name).copy_(torch.from_numpy(value))
    xs = [torch.tensor(a, requires_grad=True) for a in (x, h0)]
    out = rnn(*xs) if cell else rnn(*xs)[0]
    (out * torch.from_numpy(dout)).sum().backward()
    grads = {f"grad:{n}": t.grad.numpy() for n, t in zip(("x", "h"), xs)}
    grads.update({f"grad:{n}": getattr(rnn, n).grad.numpy() for n in params})
    return {"out": out.detach().numpy(), **grads}


def adapted_rnn(learner, style, params, x, h0, dout):
    module = adapt(load_implementation(os.path.join(LEARNERS, f"{learner}.py")), style)
    layer = (module.RNNCell if x.ndim == 2 else module.RNN)(**params)
    out = layer.forward(x, h0)
    dx, dh = layer.backward(dout)
    return {"out": out, "grad:x": dx, "grad:h": dh,
            **{f"grad:{n}": g for n, g in layer.grads.items()}}


def rnn_case(sequence, N=2, T=4, D=3, H=2, seed=5):
    rng = np.random.default_rng(seed)
    suffix = "_l0" if sequence else ""
    shapes = {"weight_ih": (H, D), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}
    params = {name + suffix: rng.standard_normal(shape) for name, shape in shapes.items()}
    shapes = ((N, T, D), (1, N, H), (N, T, H)) if sequence else ((N, D), (N, H), (N, H))
    return params, *(rng.standard_normal(s) for s in shapes)


@pytest.mark.parametrize("sequence", [False, True])
@pytest.mark.parametrize("learner, style", [("book_style", "book"), ("cs231n_style", "cs231n")])
def test_an_rnn_in_a_teaching_style_matches_torch(learner, style, sequence):
    case = rnn_case(sequence)
    want, got = torch_rnn(*case), adapted_rnn(learner, style, *case)
    assert set(got) == set(want)
    for quantity in want:
        np.testing.assert_allclose(got[quantity], want[quantity], rtol=1e-10, atol=1e-12,
                                   err_msg=quantity)


def test_a_cs231n_rnn_backward_without_the_carried_gradient_is_named():
    from backprop_oracle.oracle.compare import compare
    from backprop_oracle.oracle.tolerance import Tolerance
    case = rnn_case(True)
    want, got = torch_rnn(*case), adapted_rnn("cs231n_style_mistake", "cs231n", *case)
    cmp = compare(got["grad:x"], want["grad:x"], Tolerance(1e-7, 1e-7, "policy"),
                  {"recurrence": True, "time_axis": {"grad:x": 1}}, "grad:x")
    assert cmp.diagnosis.startswith("right at the last time step but wrong at earlier ones")


@pytest.mark.parametrize("learner, style", [("book_style", "book"), ("cs231n_style", "cs231n")])
def test_rnns_through_the_suite_when_the_answer_key_has_them(learner, style):
    if "rnn" not in {s.name for s in registry.all_specs()}:
        pytest.skip("no rnn op in this answer key yet")
    records = grade(learner, style, ops=["rnn", "rnn_cell"])
    assert {r["status"] for r in records} <= {"pass", "not_attempted", "skipped"}
    assert {r["op"] for r in records if r["status"] == "pass"} == {"rnn", "rnn_cell"}
