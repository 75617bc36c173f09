"""Nodes of the computational graph (seed 000): the apple example.

    apple price 100 ──┐
                      (×) 200 ──┐
    apple count   2 ──┘          (×) 220
    tax         1.1 ────────────┘

Backward from 1: d/d(apple price) = 2.2, d/d(count) = 110, d/d(tax) = 200.
A multiplication node sends each input the upstream gradient times the *other*
input; an addition node passes the upstream gradient through unchanged.
"""
from ._checks import float_array, same_shape, upstream, require_forward
from .base import Layer

__all__ = ['Add', 'Mul']


class Add(Layer):
    """z = x + y;  dz/dx = 1, dz/dy = 1."""

    def forward(self, x, y):
        x = float_array(self, "x", x)
        y = same_shape(self, "y", float_array(self, "y", y), x.shape, "the shape of x")
        self.shape = x.shape
        return x + y

    def backward(self, dout):
        require_forward(self, "shape")
        dout = upstream(self, dout, self.shape)
        return dout * 1.0, dout * 1.0


class Mul(Layer):
    """z = x * y;  dz/dx = y, dz/dy = x (the inputs swap places)."""

    def forward(self, x, y):
        x = float_array(self, "x", x)
        y = same_shape(self, "y", float_array(self, "y", y), x.shape, "the shape of x")
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        require_forward(self, "x")
        dout = upstream(self, dout, self.x.shape)
        return dout * self.y, dout * self.x
