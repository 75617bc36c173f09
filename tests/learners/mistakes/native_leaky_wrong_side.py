"""Native API. LeakyRelu puts the slope on the positive side.
Diagnosis: the entry leaky_relu/slope_on_wrong_side."""
import numpy as np


class LeakyRelu:
    def __init__(self, negative_slope=0.01):
        self.a = negative_slope

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.a * x)

    def backward(self, dout):
        return dout * np.where(self.x > 0, self.a, 1.0)
