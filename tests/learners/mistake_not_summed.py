"""Planted mistake: Affine's db is left per sample, db = dout, instead of summed over the batch.
Diagnosis: the catalogue's db_not_summed, "db = dout keeps the batch axis", on every case."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Affine as _Affine


class Affine(_Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = dout
        return dx
