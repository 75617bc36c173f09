"""Whole networks built from the equations of the lecture notes, and from the layers of
this answer key (CNN, ResidualBlock), whose backward is the layers' backwards in reverse.

MLP is the three-layer sigmoid network of seed 002, written in its notation:
input x (M) -> hidden o^1 (H1) -> hidden o^2 (H2) -> output o^3 (N), every unit
o = sigma(w o_prev + theta), squared error E = 1/2 sum (o^3 - y)^2.
"""
import numpy as np

from ._checks import (float_array, same_shape, dim_equals, inner_layer, require_forward, scalar_upstream,
                      upstream, ShapeError)
from .activations import Relu, sigmoid
from .base import Layer
from .conv import Conv2d, MaxPool2d
from .linear import Affine
from .losses import SoftmaxCrossEntropy
from .norm import BatchNorm

__all__ = ['MLP', 'CNN', 'ResidualBlock']


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
        dout = scalar_upstream(self, dout)
        delta = (o[3] - self.y) * dout * o[3] * (1 - o[3])       # delta^3
        for l in reversed(self.LAYERS):
            self.grads[f"w{l}"] = delta.T @ o[l - 1]
            self.grads[f"theta{l}"] = delta.sum(axis=0)
            back = delta @ p[f"w{l}"]                            # sum_i delta_i w_ij
            if l > 1:
                delta = back * o[l - 1] * (1 - o[l - 1])         # delta^{l-1}
        return back                                              # dE/dx = delta^1 w^1


class CNN(Layer):
    """A small convolutional classifier, every layer from this answer key:

        x -> Conv2d (3x3 kernels, padding 1) -> BatchNorm (training) -> Relu
          -> MaxPool2d (2x2) -> flatten -> Affine -> SoftmaxCrossEntropy(t) -> L

    Backward is the chain rule read right to left: each layer's backward takes the
    gradient of its output and returns the gradient of its input; flatten's backward
    is a reshape back to the pooled shape. Parameters are named after their layer
    (conv_W, conv_b, bn_gamma, bn_beta, fc_W, fc_b).
    """

    def __init__(self, conv_W, conv_b, bn_gamma, bn_beta, fc_W, fc_b):
        with inner_layer(self, "conv", {"W": "conv_W", "b": "conv_b"}):
            self.conv = Conv2d(conv_W, conv_b, padding=np.shape(conv_W)[-1] // 2)
        with inner_layer(self, "batch norm", {"gamma": "bn_gamma", "beta": "bn_beta"}):
            self.bn = BatchNorm(bn_gamma, bn_beta)
        self.relu = Relu()
        self.pool = MaxPool2d(2)
        with inner_layer(self, "affine", {"W": "fc_W", "b": "fc_b"}):
            self.fc = Affine(fc_W, fc_b)
        self.loss = SoftmaxCrossEntropy()
        self.owners = {"conv_W": (self.conv, "W"), "conv_b": (self.conv, "b"),
                       "bn_gamma": (self.bn, "gamma"), "bn_beta": (self.bn, "beta"),
                       "fc_W": (self.fc, "W"), "fc_b": (self.fc, "b")}
        super().__init__(**{name: layer.params[key] for name, (layer, key) in self.owners.items()})
        if self.bn.params["gamma"].shape[0] != self.conv.params["W"].shape[0]:
            raise ShapeError(f"CNN: argument 'bn_gamma' must have one value per conv channel "
                             f"({self.conv.params['W'].shape[0]}), got shape "
                             f"{self.bn.params['gamma'].shape}")

    def forward(self, x, t):
        x = float_array(self, "x", x, ndim=4)
        dim_equals(self, "x", x, 1, self.params["conv_W"].shape[1], "the input channels of conv_W")
        h = x
        for layer in (self.conv, self.bn, self.relu, self.pool):
            h = layer.forward(h)
        self.pooled_shape = h.shape
        features = h[0].size
        if features != self.fc.params["W"].shape[0]:
            raise ShapeError(f"CNN: argument 'x' of shape {x.shape} gives {features} features "
                             f"after pooling, but fc_W has {self.fc.params['W'].shape[0]} rows")
        logits = self.fc.forward(h.reshape(len(h), features))     # flatten
        with inner_layer(self, "loss", {"target": "t"}):
            return self.loss.forward(logits, t)

    def backward(self, dout=1.0):
        require_forward(self, "pooled_shape")
        d = self.fc.backward(self.loss.backward(scalar_upstream(self, dout)))
        d = d.reshape(self.pooled_shape)                          # un-flatten
        for layer in (self.pool, self.relu, self.bn, self.conv):
            d = layer.backward(d)
        for name, (layer, key) in self.owners.items():
            self.grads[name] = layer.grads[key]
        return d


class ResidualBlock(Layer):
    """Two convolutions with a skip connection (He et al. 2016, without normalization):

        h = relu(conv1(x)),   y = relu(x + conv2(h))

    Kernels W1, W2 of shape (C, C, K, K), K odd, padded by K // 2 so that conv2(h)
    has the shape of x. Backward: the gradient reaching the sum flows down both paths
    and the two contributions add up:
        dz = dout [z > 0],   dx = dz + conv1_backward(relu_backward(conv2_backward(dz)))
    """

    def __init__(self, W1, b1, W2, b2):
        for name, W in (("W1", W1), ("W2", W2)):
            W = float_array(self, name, W, ndim=4)
            if W.shape[0] != W.shape[1] or W.shape[2] != W.shape[3] or W.shape[2] % 2 == 0:
                raise ShapeError(f"ResidualBlock: argument '{name}' must have shape (C, C, K, K) "
                                 f"with K odd, so that the block keeps the shape of x; got {W.shape}")
        with inner_layer(self, "first conv", {"W": "W1", "b": "b1"}):
            self.conv1 = Conv2d(W1, b1, padding=np.shape(W1)[-1] // 2)
        with inner_layer(self, "second conv", {"W": "W2", "b": "b2"}):
            self.conv2 = Conv2d(W2, b2, padding=np.shape(W2)[-1] // 2)
        if self.conv1.params["W"].shape[0] != self.conv2.params["W"].shape[0]:
            raise ShapeError(f"ResidualBlock: argument 'W2' must have as many channels as W1 "
                             f"{np.shape(W1)}, got {np.shape(W2)}")
        self.relu1, self.relu2 = Relu(), Relu()
        super().__init__(W1=self.conv1.params["W"], b1=self.conv1.params["b"],
                         W2=self.conv2.params["W"], b2=self.conv2.params["b"])

    def forward(self, x):
        x = float_array(self, "x", x, ndim=4)
        dim_equals(self, "x", x, 1, self.params["W1"].shape[1], "the channels of W1")
        h = self.relu1.forward(self.conv1.forward(x))
        self.out = self.relu2.forward(x + self.conv2.forward(h))
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dz = self.relu2.backward(upstream(self, dout, self.out.shape))   # gradient of z = x + conv2(h)
        dh = self.relu1.backward(self.conv2.backward(dz))
        dx = dz + self.conv1.backward(dh)                    # skip path + convolution path
        for i, conv in ((1, self.conv1), (2, self.conv2)):
            self.grads[f"W{i}"] = conv.grads["W"]
            self.grads[f"b{i}"] = conv.grads["b"]
        return dx
