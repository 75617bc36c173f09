"""Native API. Softmax's backward keeps only the diagonal of the Jacobian.
Diagnosis: the entry softmax/jacobian_dropped."""
import numpy as np


class Softmax:
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        e = np.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, dout):
        return dout * self.y * (1 - self.y)
