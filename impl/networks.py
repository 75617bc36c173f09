"""Whole networks built from the equations of the lecture notes.

MLP is the three-layer sigmoid network of seed 002, written in its notation:
input x (M) -> hidden o^1 (H1) -> hidden o^2 (H2) -> output o^3 (N), every unit
o = sigma(w o_prev + theta), squared error E = 1/2 sum (o^3 - y)^2.
"""
import numpy as np

from ._checks import float_array, same_shape, dim_equals, require_forward, ShapeError
from .activations import sigmoid
from .base import Layer

__all__ = ['MLP']


class MLP(Layer):
    """Three sigmoid layers and the squared error E = 1/2 sum_n sum_i (o^3_ni - y_ni)^2.

    Weights in the notes' layout w^l (units of layer l, units of layer l-1), so a
    row of samples x (K, M) goes forward as o^1 = sigma(x (w^1)^T + theta^1).

    Backward (seed 002, one row per sample, . is the element-wise product):
        delta^3 = (o^3 - y) . o^3 . (1 - o^3)
        delta^2 = (delta^3 w^3) . o^2 . (1 - o^2)
        delta^1 = (delta^2 w^2) . o^1 . (1 - o^1)
        dE/dw^l = (delta^l)^T o^{l-1},  dE/dtheta^l = sum over samples of delta^l
        dE/dx   = delta^1 w^1
    """

    LAYERS = (1, 2, 3)

    def __init__(self, w1, theta1, w2, theta2, w3, theta3):
        params = dict(w1=w1, theta1=theta1, w2=w2, theta2=theta2, w3=w3, theta3=theta3)
        for name, value in params.items():
            params[name] = float_array(self, name, value, ndim=2 if name[0] == "w" else 1)
        for l in self.LAYERS:
            w, theta = params[f"w{l}"], params[f"theta{l}"]
            if theta.shape != (w.shape[0],):
                raise ShapeError(f"MLP: argument 'theta{l}' must have shape ({w.shape[0]},) "
                                 f"(one threshold per row of w{l}), got {theta.shape}")
            if l > 1 and w.shape[1] != params[f"w{l - 1}"].shape[0]:
                raise ShapeError(f"MLP: argument 'w{l}' must have {params[f'w{l - 1}'].shape[0]} "
                                 f"columns (the units of layer {l - 1}), got shape {w.shape}")
        super().__init__(**params)

    def forward(self, x, y):
        p = self.params
        x = float_array(self, "x", x, ndim=2)
        dim_equals(self, "x", x, 1, p["w1"].shape[1], "the input size of w1")
        y = same_shape(self, "y", float_array(self, "y", y), (len(x), p["w3"].shape[0]),
                       "one target row per sample")
        self.o = {0: x}                                 # o^0 = x
        for l in self.LAYERS:                            # o^l = sigma(o^{l-1} (w^l)^T + theta^l)
            self.o[l] = sigmoid(self.o[l - 1] @ p[f"w{l}"].T + p[f"theta{l}"])
        self.y = y
        return 0.5 * ((self.o[3] - y) ** 2).sum()

    def backward(self, dout=1.0):
        require_forward(self, "o")
        p, o = self.params, self.o
        dout = float(np.asarray(dout))
        delta = (o[3] - self.y) * dout * o[3] * (1 - o[3])       # delta^3
        for l in reversed(self.LAYERS):
            self.grads[f"w{l}"] = delta.T @ o[l - 1]
            self.grads[f"theta{l}"] = delta.sum(axis=0)
            back = delta @ p[f"w{l}"]                            # sum_i delta_i w_ij
            if l > 1:
                delta = back * o[l - 1] * (1 - o[l - 1])         # delta^{l-1}
        return back                                              # dE/dx = delta^1 w^1
