"""The CS231n-style functions of cs231n_style.py with one planted mistake:
affine_backward returns dw = dout^T x, the transpose of x^T dout.
Diagnosis: "transposed"."""
from tests.learners.cs231n_style import (  # noqa: F401
    affine_forward, relu_backward, relu_forward, sigmoid_backward, sigmoid_forward, softmax_loss)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = dout.T.dot(x.reshape(x.shape[0], -1))
    db = dout.sum(axis=0)
    return dx, dw, db
