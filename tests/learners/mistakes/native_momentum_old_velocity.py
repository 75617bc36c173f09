"""Native API. Momentum moves the parameters with the velocity of the previous step.
Diagnosis: the entry momentum/old_velocity."""
import numpy as np


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9, weight_decay=0.0):
        self.lr, self.momentum, self.wd = lr, momentum, weight_decay
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {k: np.zeros_like(p) for k, p in params.items()}
        for k in params:
            params[k] += self.v[k]
            self.v[k] = self.momentum * self.v[k] - self.lr * (grads[k] + self.wd * params[k])
