"""Planted mistake: Relu's backward takes the slope as y / x, which is 0 / 0 = NaN where
the input is exactly 0 (the kink case).
Diagnosis: "NaN or inf"."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Relu as _Relu


class Relu(_Relu):
    def forward(self, x):
        self.x, self.y = x, super().forward(x)
        return self.y

    def backward(self, dout):
        return dout * (self.y / self.x)
