"""Book style. Relu's mask is x < 0, so the gradient passes at exactly x = 0.
Diagnosis: the entry relu/mask_x_ge_0."""


class Relu:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, x):
        self.mask = (x < 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout
