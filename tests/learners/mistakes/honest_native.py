"""Native API, correct, written from scratch with in-place updates (params[k] -= ...,
dout *= ...). Must pass every check."""
import numpy as np


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        dx = dout.copy()
        dx *= 1 - self.y ** 2
        return dx


class Embedding:
    def __init__(self, W):
        self.params, self.grads = {"W": W}, {}

    def forward(self, idx):
        self.idx = idx
        return self.params["W"][idx]

    def backward(self, dout):
        dW = np.zeros_like(self.params["W"])
        np.add.at(dW, self.idx, dout)
        self.grads["W"] = dW


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, beta1, beta2, eps, weight_decay
        self.t, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(p) for k, p in params.items()}
            self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.t += 1
        for k in params:
            g = grads[k] + self.wd * params[k]
            self.m[k] += (1 - self.b1) * (g - self.m[k])
            self.v[k] += (1 - self.b2) * (g ** 2 - self.v[k])
            m_hat = self.m[k] / (1 - self.b1 ** self.t)
            v_hat = self.v[k] / (1 - self.b2 ** self.t)
            params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class Mul:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


class Add:
    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout * 1, dout * 1
