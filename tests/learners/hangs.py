"""Relu's backward never returns: the per-check timeout must stop it."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Relu as _Relu


class Relu(_Relu):
    def backward(self, dout):
        while True:
            pass
