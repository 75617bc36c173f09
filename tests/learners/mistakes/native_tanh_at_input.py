"""Native API. Tanh differentiates at the input: dx = dout (1 - x^2).
Diagnosis: the entry tanh/derivative_at_input."""
import numpy as np


class Tanh:
    def forward(self, x):
        self.x = x
        return np.tanh(x)

    def backward(self, dout):
        return dout * (1 - self.x ** 2)
