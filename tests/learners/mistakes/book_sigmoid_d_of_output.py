"""Book style with the E資格 course's functions: d_sigmoid takes the pre-activation, but
backward passes it the output y = sigmoid(u).
Diagnosis: the entry sigmoid/derivative_of_output."""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def d_sigmoid(x):
    return (1.0 - sigmoid(x)) * sigmoid(x)


class Sigmoid:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * d_sigmoid(self.out)
