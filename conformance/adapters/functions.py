"""The E資格 course style: module-level functions of common/functions.py and their derivatives.

    sigmoid(x), d_sigmoid(x)        Sigmoid: y = sigmoid(x), dx = dout * d_sigmoid(x)
    relu(x), d_relu(x)              Relu:    dx = dout * d_relu(x)
    tanh(x), d_tanh(x)              Tanh (where the learner wrote them)
    softmax_with_loss(d, x),        SoftmaxCrossEntropy: the batch mean of -log softmax(x)[d];
      d_softmax_with_loss(d, y)       the derivative takes y = softmax(x) (the course's form);
                                      d class labels or one-hot rows
    mean_squared_error(d, y),       MSE: the course's loss is mean((d - y)^2) / 2, so 'mean' is
      d_mean_squared_error(d, y)      2 times it and 'half_sum' K (the number of elements)
                                      times it; the derivative is scaled by the same factor

The derivative functions take the PRE-activation x: the course's d_sigmoid(x) is
(1 - sigmoid(x)) sigmoid(x), and the adapter calls it with the forward's input. A
derivative written for the output (d_sigmoid(y) = (1 - y) y, fed sigmoid(x)) is then
evaluated at the wrong point and fails as such: the course's network code calls
d_sigmoid with the layer's output in places, which is that mistake.

The teacher comes first in the course's losses, (d, y). The course's d_mean_squared_error
is (y - d) / N, the derivative of sum((y - d)^2) / (2 N), while its mean_squared_error is
mean((d - y)^2) / 2 = sum / (2 N D): the two agree only for one output per sample, and a
case with D > 1 fails grad:y by the factor D. That is a real inconsistency of the pair,
graded as it is.
"""
import numpy as np

from ._common import (class_labels, copied, logit_rows, plain_cross_entropy_only, reduction_scale,
                      refuse_ignored)

STYLE = "functions"


def _functions(module, *names):
    found = tuple(getattr(module, n, None) for n in names)
    return None if any(f is None or not callable(f) for f in found) else found


def elementwise(name, function):
    def make(module):
        pair = _functions(module, function, f"d_{function}")
        if pair is None:
            return None
        f, df = pair

        class Elementwise:
            """y = f(x); dx = dout * d_f(x), the derivative at the pre-activation x."""

            def __init__(self):
                self.params, self.grads = {}, {}

            def forward(self, x):
                self.x = copied(x)
                return np.asarray(f(copied(x)))

            def backward(self, dout):
                return dout * np.asarray(df(copied(self.x)))
        Elementwise.__name__ = Elementwise.__qualname__ = name
        return Elementwise
    return make


def softmax_with_loss(module):
    pair = _functions(module, "softmax_with_loss", "d_softmax_with_loss", "softmax")
    if pair is None:
        return None
    loss, dloss, softmax = pair

    class SoftmaxCrossEntropy:
        """softmax_with_loss(d, x) and d_softmax_with_loss(d, softmax(x)): the batch mean."""

        def __init__(self, reduction="mean", **options):
            self.reduction = reduction
            self.ignore_index = plain_cross_entropy_only(STYLE, **options)
            self.params, self.grads = {}, {}

        def forward(self, x, target):
            self.scale = reduction_scale(self.reduction, len(logit_rows(x, STYLE)), STYLE)
            target = np.asarray(target)
            refuse_ignored(class_labels(target, STYLE), self.ignore_index, STYLE)
            self.d, self.x = copied(target), copied(x)
            return loss(copied(target), copied(x)) * self.scale

        def backward(self, dout=1.0):
            y = softmax(copied(self.x))
            return np.asarray(dloss(self.d, y)) * (np.asarray(dout) * self.scale)
    return SoftmaxCrossEntropy


def mean_squared_error(module):
    pair = _functions(module, "mean_squared_error", "d_mean_squared_error")
    if pair is None:
        return None
    loss, dloss = pair

    class MSE:
        """mean_squared_error(d, y) = mean((d - y)^2) / 2: 'mean' is 2x, 'half_sum' K x."""

        def __init__(self, reduction="mean"):
            if reduction not in ("mean", "half_sum"):
                raise NotImplementedError(f"the {STYLE} style's mean_squared_error is "
                                          f"mean((d - y)^2) / 2; reduction={reduction!r} has "
                                          f"no counterpart")
            self.reduction = reduction
            self.params, self.grads = {}, {}

        def forward(self, y, t):
            self.scale = 2.0 if self.reduction == "mean" else float(np.size(y))
            self.y, self.t = copied(y), copied(t)
            return loss(copied(t), copied(y)) * self.scale

        def backward(self, dout=1.0):
            return np.asarray(dloss(copied(self.t), copied(self.y))) * (np.asarray(dout) * self.scale)
    return MSE


CLASSES = {
    "Sigmoid": elementwise("Sigmoid", "sigmoid"),
    "Relu": elementwise("Relu", "relu"),
    "Tanh": elementwise("Tanh", "tanh"),
    "SoftmaxCrossEntropy": softmax_with_loss,
    "MSE": mean_squared_error,
}
LEARNER_NAMES = {
    "Sigmoid": ("sigmoid", "d_sigmoid"), "Relu": ("relu", "d_relu"), "Tanh": ("tanh", "d_tanh"),
    "SoftmaxCrossEntropy": ("softmax_with_loss", "d_softmax_with_loss", "softmax"),
    "MSE": ("mean_squared_error", "d_mean_squared_error"),
}
NEEDS_ALL = set(LEARNER_NAMES)
# functions of the course with no op of their own (the loss of probabilities, the step
# function, numerical differentiation, im2col helpers)
HELPERS = ("cross_entropy_error", "step_function", "d_step_function", "identity_function",
           "d_sigmoid_with_loss", "numerical_gradient", "im2col", "col2im", "softmax")
