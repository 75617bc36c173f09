# A completed CS231n assignment 3 cs231n/layers.py (a second author): the affine and
# softmax pieces assignment 3 ships, in the assignment's form.
from builtins import range
import numpy as np


def affine_forward(x, w, b):
    N = x.shape[0]
    out = np.dot(x.reshape(N, -1), w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = np.dot(dout, w.T).reshape(x.shape)
    dw = np.dot(x.reshape(N, -1).T, dout)
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx / N
