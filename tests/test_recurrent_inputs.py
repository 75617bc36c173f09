"""Recurrent layers refuse bad input with an error naming the layer, the argument and the shapes."""
import numpy as np
import pytest

from backprop_oracle import impl
from backprop_oracle.impl import ShapeError


def lstm_params(D=3, H=4, G=4):
    return dict(weight_ih_l0=np.zeros((G * H, D)), weight_hh_l0=np.zeros((G * H, H)),
                bias_ih_l0=np.zeros(G * H), bias_hh_l0=np.zeros(G * H))


STATE = np.zeros((1, 2, 4))
X = np.zeros((2, 5, 3))


@pytest.mark.parametrize("call, error, words", [
    (lambda: impl.LSTM(**lstm_params()).forward(np.zeros((2, 5, 4)), STATE, STATE), ShapeError,
     "LSTM: argument 'x' must have size 3 on axis 2"),
    (lambda: impl.LSTM(**lstm_params()).forward(X, np.zeros((2, 4)), STATE), ShapeError,
     "LSTM: argument 'h0' must have shape (1, 2, 4)"),
    (lambda: impl.LSTM(**lstm_params()).forward(X, STATE, STATE, np.array([6, 1])), ValueError,
     "LSTM: argument 'lengths' must hold values in [1, 6)"),
    (lambda: impl.LSTM(**lstm_params()).forward(X, STATE, STATE, np.array([2.0, 1.0])), TypeError,
     "argument 'lengths' must be an integer array"),
    (lambda: impl.RNN(**lstm_params(G=1)).forward(X.astype(int), STATE), TypeError,
     "RNN: argument 'x' must be a floating-point array"),
    (lambda: impl.GRU(**lstm_params()), ShapeError, "GRU: argument 'weight_hh_l0' must have shape (12, 4)"),
    (lambda: impl.LSTM(num_layers=2, **lstm_params()), TypeError, "missing parameter 'weight_ih_l1'"),
    (lambda: impl.RNN(nonlinearity="gelu", **lstm_params(G=1)), ValueError, "nonlinearity must be one of"),
    (lambda: impl.LSTM(**lstm_params()).backward(np.zeros((2, 5, 4))), RuntimeError,
     "LSTM.backward called before forward"),
    (lambda: impl.TimeEmbedding(np.zeros((5, 3))).forward(np.array([[0, 5]])), ValueError,
     "TimeEmbedding: argument 'idx' must hold values in [0, 5)"),
    (lambda: impl.TimeSoftmaxCrossEntropy().forward(np.zeros((2, 3, 4)), np.zeros((2, 2), int)), ShapeError,
     "TimeSoftmaxCrossEntropy: argument 't' must have shape (2, 3)"),
])
def test_bad_input_is_refused_clearly(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_outputs_past_the_end_are_zero_and_h_n_is_the_last_valid_state():
    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(v.shape) for k, v in lstm_params(G=1).items()}
    rnn = impl.RNN(**params)
    x, h0 = rng.standard_normal((2, 5, 3)), rng.standard_normal((1, 2, 4))
    out = rnn.forward(x, h0, np.array([5, 2]))
    assert np.all(out[1, 2:] == 0)
    assert np.allclose(rnn.h_n[0, 1], out[1, 1])
    alone = impl.RNN(**params).forward(x[1:, :2], h0[:, 1:])   # the short sequence on its own
    assert np.allclose(alone[0], out[1, :2])


def test_ignored_positions_get_no_gradient_and_do_not_count():
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((1, 4, 3)), np.array([[0, -1, 2, -1]])
    loss = impl.TimeSoftmaxCrossEntropy()
    value = loss.forward(x, t)
    dx = loss.backward()
    assert np.all(dx[0, [1, 3]] == 0)
    kept = impl.TimeSoftmaxCrossEntropy().forward(x[:, [0, 2]], t[:, [0, 2]])
    assert np.isclose(value, kept)                                # mean over the 2 counted positions
