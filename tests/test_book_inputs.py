"""Inputs torch accepts, answered as torch answers them (issue 16, the answer key's
activation and recurrent files): gradients at NaN inputs, softmax over an empty axis,
unbatched recurrent layers and cells, errors of composite layers naming themselves,
and a wrong-shape dout into a layer whose output is a scalar loss."""
import numpy as np
import pytest

from backprop_oracle import impl
from backprop_oracle.impl import ShapeError

torch = pytest.importorskip("torch")
F = torch.nn.functional

X = np.array([np.nan, 0.0, -1.0, 1.0, -0.5, 2.0, np.nan, -3.0])
DOUT = np.array([2.0, 3.0, 5.0, 7.0, 11.0, 13.0, 17.0, 19.0])

ELEMENTWISE = {
    "Relu": (impl.Relu, F.relu), "Hardtanh": (impl.Hardtanh, F.hardtanh), "Elu": (impl.Elu, F.elu),
    "Selu": (impl.Selu, F.selu), "LeakyRelu": (impl.LeakyRelu, F.leaky_relu),
    "Gelu": (impl.Gelu, F.gelu), "Softplus": (impl.Softplus, F.softplus), "Silu": (impl.Silu, F.silu),
    "Sigmoid": (impl.Sigmoid, torch.sigmoid), "Tanh": (impl.Tanh, torch.tanh),
}


def torch_value_and_grad(fn, x, dout):
    """torch, one element at a time. torch's CPU kernels for hardtanh, elu and selu give a
    different gradient at NaN in their vectorised loop (0 or NaN, from about 8 elements on)
    than in their scalar one (the upstream gradient passes); one element at a time is the
    scalar loop, the semantics of the kernel as written, and what the answer key follows."""
    values, grads = [], []
    for xi, di in zip(x, dout):
        tx = torch.tensor([xi], requires_grad=True)
        y = fn(tx)
        y.backward(torch.tensor([di]))
        values.append(y.detach().numpy()[0])
        grads.append(tx.grad.numpy()[0])
    return np.array(values), np.array(grads)


def same_with_nan(a, b):
    return np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[~np.isnan(a)], b[~np.isnan(b)],
                                                                  rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_a_nan_input_gets_torchs_value_and_gradient(name):
    cls, reference = ELEMENTWISE[name]
    layer = cls()
    out, dx = layer.forward(X.copy()), layer.backward(DOUT.copy())
    want_out, want_dx = torch_value_and_grad(reference, X, DOUT)
    assert same_with_nan(out, want_out), (out, want_out)
    assert same_with_nan(dx, want_dx), (dx, want_dx)


@pytest.mark.parametrize("channels", [1, 2])
def test_prelu_at_a_nan_input_as_torch(channels):
    x, dout = X.reshape(2, 2, 2), DOUT.reshape(2, 2, 2)
    a = np.full(channels, 0.25)
    layer = impl.PRelu(a)
    out, dx = layer.forward(x.copy()), layer.backward(dout.copy())
    tx, ta = torch.tensor(x, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = F.prelu(tx, ta)
    y.backward(torch.tensor(dout))
    assert same_with_nan(out, y.detach().numpy())
    assert same_with_nan(dx, tx.grad.numpy())
    assert same_with_nan(layer.grads["a"], ta.grad.numpy())


@pytest.mark.parametrize("cls, reference", [(impl.Softmax, torch.softmax), (impl.LogSoftmax, torch.log_softmax)])
@pytest.mark.parametrize("shape, axis", [((2, 0), -1), ((0, 3), 0), ((2, 0, 3), 1)])
def test_softmax_over_an_empty_axis_is_empty(cls, reference, shape, axis):
    x = np.zeros(shape)
    layer = cls(axis=axis)
    out = layer.forward(x)
    dx = layer.backward(np.zeros(shape))
    want = reference(torch.tensor(x), dim=axis).numpy()
    assert out.shape == want.shape == dx.shape == shape


# --- unbatched recurrent layers and cells --------------------------------------------

def weights(rng, G, D, H, suffix=""):
    return {f"weight_ih{suffix}": rng.standard_normal((G * H, D)) * 0.5,
            f"weight_hh{suffix}": rng.standard_normal((G * H, H)) * 0.5,
            f"bias_ih{suffix}": rng.standard_normal(G * H) * 0.5,
            f"bias_hh{suffix}": rng.standard_normal(G * H) * 0.5}


SEQUENCES = {"RNN": 1, "LSTM": 4, "GRU": 3}


@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, True)])
@pytest.mark.parametrize("kind", sorted(SEQUENCES))
def test_an_unbatched_sequence_is_run_as_torch_runs_it(kind, num_layers, bidirectional):
    rng = np.random.default_rng(3)
    T, D, H, dirs = 4, 3, 5, 2 if bidirectional else 1
    params = {}
    for l in range(num_layers):
        for d in range(dirs):
            params.update(weights(rng, SEQUENCES[kind], D if l == 0 else dirs * H, H,
                                  f"_l{l}" + ("_reverse" if d else "")))
    x = rng.standard_normal((T, D))
    states = [rng.standard_normal((num_layers * dirs, H)) for _ in range(2 if kind == "LSTM" else 1)]
    dout = rng.standard_normal((T, dirs * H))
    layer = getattr(impl, kind)(num_layers=num_layers, bidirectional=bidirectional, **params)
    out = layer.forward(x, *states)
    grads = layer.backward(dout)

    module = getattr(torch.nn, kind)(D, H, num_layers=num_layers, bidirectional=bidirectional,
                                     batch_first=True).double()
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx = torch.tensor(x, requires_grad=True)
    tstates = [torch.tensor(s, requires_grad=True) for s in states]
    tout, tfinal = torch.func.functional_call(
        module, tparams, (tx, tuple(tstates) if kind == "LSTM" else tstates[0]))
    tout.backward(torch.tensor(dout))
    assert out.shape == tout.shape and np.allclose(out, tout.detach().numpy(), atol=1e-12)
    h_n = tfinal[0] if kind == "LSTM" else tfinal
    assert layer.h_n.shape == h_n.shape and np.allclose(layer.h_n, h_n.detach().numpy(), atol=1e-12)
    for mine, theirs in zip(grads, [tx] + tstates):
        assert mine.shape == theirs.shape and np.allclose(mine, theirs.grad.numpy(), atol=1e-12)
    for name, p in tparams.items():
        assert np.allclose(layer.grads[name], p.grad.numpy(), atol=1e-12), name


CELLS = {"RNNCell": 1, "LSTMCell": 4, "GRUCell": 3}


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_an_unbatched_cell_step_is_run_as_torch_runs_it(kind):
    rng = np.random.default_rng(4)
    D, H = 3, 5
    params = weights(rng, CELLS[kind], D, H)
    x = rng.standard_normal(D)
    states = [rng.standard_normal(H) for _ in range(2 if kind == "LSTMCell" else 1)]
    dh = rng.standard_normal(H)
    layer = getattr(impl, kind)(**params)
    out = layer.forward(x, *states)
    grads = layer.backward(dh)

    module = getattr(torch.nn, kind)(D, H).double()
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx = torch.tensor(x, requires_grad=True)
    tstates = [torch.tensor(s, requires_grad=True) for s in states]
    result = torch.func.functional_call(module, tparams, (tx, tuple(tstates) if kind == "LSTMCell" else tstates[0]))
    th = result[0] if kind == "LSTMCell" else result
    th.backward(torch.tensor(dh))
    assert out.shape == (H,) and np.allclose(out, th.detach().numpy(), atol=1e-12)
    for mine, theirs in zip(grads, [tx] + tstates):
        assert mine.shape == theirs.shape and np.allclose(mine, theirs.grad.numpy(), atol=1e-12)
    for name, p in tparams.items():
        assert np.allclose(layer.grads[name], p.grad.numpy(), atol=1e-12), name


# --- composites name themselves; a wrong-shape dout into a scalar loss ----------------

def tbptt(rng, D=3, H=4):
    return impl.TruncatedBPTTLSTM(**{k + "_l0": v for k, v in weights(rng, 4, D, H).items()}, chunk_size=2)


@pytest.mark.parametrize("call, words", [
    (lambda rng: tbptt(rng).forward(np.zeros((2, 5, 4)), np.zeros((1, 2, 4)), np.zeros((1, 2, 4))),
     "TruncatedBPTTLSTM: argument 'x' must have size 3 on axis 2"),
    (lambda rng: tbptt(rng).forward(np.zeros((2, 5, 3)), np.zeros((1, 3, 4)), np.zeros((1, 2, 4))),
     "TruncatedBPTTLSTM: argument 'h0' must have shape (1, 2, 4)"),
    (lambda rng: impl.TruncatedBPTTLSTM(**{k + "_l0": v for k, v in weights(rng, 3, 3, 4).items()},
                                        chunk_size=2), "TruncatedBPTTLSTM (LSTM)"),
    (lambda rng: impl.LSTM(num_layers=2, **{**weights(rng, 4, 3, 4, "_l0"), **weights(rng, 4, 5, 4, "_l1")}),
     "LSTM: argument 'weight_ih_l1' must have 4 columns"),
])
def test_composite_layers_name_themselves(call, words):
    with pytest.raises((ShapeError, TypeError, ValueError)) as info:
        call(np.random.default_rng(0))
    assert words in str(info.value), str(info.value)


def test_tbptt_refuses_a_wrong_shape_dout_in_its_own_name():
    rng = np.random.default_rng(0)
    layer = tbptt(rng)
    layer.forward(np.zeros((2, 5, 3)), np.zeros((1, 2, 4)), np.zeros((1, 2, 4)))
    with pytest.raises(ShapeError, match=r"TruncatedBPTTLSTM: argument 'dout' must have shape \(2, 5, 4\)"):
        layer.backward(np.zeros((2, 4, 4)))


def scalar_losses(rng):
    mlp = impl.MLP(rng.standard_normal((4, 3)), np.zeros(4), rng.standard_normal((2, 4)), np.zeros(2),
                   rng.standard_normal((1, 2)), np.zeros(1))
    mlp.forward(rng.standard_normal((5, 3)), rng.standard_normal((5, 1)))
    tce = impl.TimeSoftmaxCrossEntropy()
    tce.forward(rng.standard_normal((2, 3, 4)), np.array([[0, 1, 2], [3, -1, 0]]))
    lstm = {f"{side}_{k}": v for side in ("enc", "dec") for k, v in weights(rng, 4, 3, 4).items()}
    s2s = impl.Seq2Seq(rng.standard_normal((8, 5)), np.zeros(5), **lstm)
    s2s.forward(rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3, 3)), np.array([[0, 1, 2], [3, 4, -1]]))
    return {"MLP": mlp, "TimeSoftmaxCrossEntropy": tce, "Seq2Seq": s2s}


@pytest.mark.parametrize("name", ["MLP", "TimeSoftmaxCrossEntropy", "Seq2Seq"])
@pytest.mark.parametrize("dout", [np.ones(3), np.ones((2, 3))])
def test_a_wrong_shape_dout_into_a_scalar_loss_is_a_clear_error(name, dout):
    layer = scalar_losses(np.random.default_rng(0))[name]
    with pytest.raises(ShapeError, match=rf"{name}: argument 'dout' must be a scalar"):
        layer.backward(dout)
    layer.backward(np.float64(2.0))          # a 0-d upstream gradient is right


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "PeepholeLSTM", "GRU", "ChoGRU", "TruncatedBPTTLSTM"])
def test_an_unbatched_sequence_equals_a_batch_of_one(kind):
    """Every sequence layer, torch or not: x (T, D) gives what x[None] gives, without the axis."""
    rng = np.random.default_rng(5)
    T, D, H = 5, 3, 4
    G = {"RNN": 1, "GRU": 3, "ChoGRU": 3}.get(kind, 4)
    params = weights(rng, G, D, H, "_l0")
    if kind == "PeepholeLSTM":
        params.update({f"{n}_l0": rng.standard_normal(H) for n in ("weight_ci", "weight_cf", "weight_co")})
    extra = {"chunk_size": 2} if kind == "TruncatedBPTTLSTM" else {}
    x, dout = rng.standard_normal((T, D)), rng.standard_normal((T, H))
    states = [rng.standard_normal((1, H)) for _ in range(1 if G in (1, 3) else 2)]
    alone, batch = (getattr(impl, kind)(**params, **extra) for _ in range(2))
    out = alone.forward(x, *states)
    grads = alone.backward(dout)
    out1 = batch.forward(x[None], *(s[:, None] for s in states))
    grads1 = batch.backward(dout[None])
    assert out.shape == (T, H) and np.array_equal(out, out1[0])
    assert alone.h_n.shape == (1, H) and np.array_equal(alone.h_n, batch.h_n[:, 0])
    assert grads[0].shape == x.shape and np.array_equal(grads[0], grads1[0][0])
    for g, g1 in zip(grads[1:], grads1[1:]):
        assert g.shape == (1, H) and np.array_equal(g, g1[:, 0])
    for name in params:
        assert np.array_equal(alone.grads[name], batch.grads[name]), name
