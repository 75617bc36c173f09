"""Relu's backward kills its process: the worker's crash is recorded and the run goes on."""
import os

from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Relu as _Relu


class Relu(_Relu):
    def backward(self, dout):
        os._exit(3)
