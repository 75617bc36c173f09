"""The CS231n-style functions of cs231n_style.py with two planted mistakes:
affine_backward returns dw = dout^T x, the transpose of x^T dout (diagnosis: "transposed");
rnn_backward drops the gradient from step t+1 (diagnosis of dx: "right at the last time
step but wrong at earlier ones")."""
import numpy as np

from tests.learners.cs231n_style import (  # noqa: F401
    affine_forward, relu_backward, relu_forward, rnn_forward, rnn_step_backward, rnn_step_forward,
    sigmoid_backward, sigmoid_forward, softmax_loss)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = dout.T.dot(x.reshape(x.shape[0], -1))
    db = dout.sum(axis=0)
    return dx, dw, db



def rnn_backward(dh, cache):
    N, T, H = dh.shape
    x0, _, Wx, Wh, _ = cache[0]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :], cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db
