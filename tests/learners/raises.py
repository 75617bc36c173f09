"""Relu's backward refers to an attribute forward never set: an error, not a failure."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Relu as _Relu


class Relu(_Relu):
    def backward(self, dout):
        return dout * self.positive   # forward stored self.mask
