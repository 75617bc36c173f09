"""The layer protocol of the answer key, as in the book's layer classes.

    layer = Affine(W, b)           # parameters are given to the constructor
    out = layer.forward(x)         # remembers what backward needs
    dx = layer.backward(dout)      # returns the gradient of each input
    layer.grads["W"]               # gradients of the parameters, same names as params

backward returns one array for a layer with one differentiable input and a
tuple (in forward's order) for several.
"""


class Layer:
    """A layer: parameters in `params`, their gradients in `grads` (same names) after backward.

    forward(*inputs) computes the output and keeps what backward needs;
    backward(dout) takes dL/d(output) and returns dL/d(input) (a tuple for several
    inputs), filling grads[name] = dL/d(params[name]).
    """

    def __init__(self, **params):
        self.params = dict(params)
        self.grads = {}

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def __repr__(self):
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"
