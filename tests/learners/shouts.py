"""Relu's backward raises with terminal control sequences in its message: clear screen,
red, a bell, a carriage return that would overwrite the grade line. None may reach the
terminal raw."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Relu as _Relu


class Relu(_Relu):
    def backward(self, dout):
        print("\x1b[2J\x1b[H printed by the learner \x1b]0;title\x07")
        raise ValueError("\x1b[2J\x1b[31mboom\x1b[0m\x07\rgrade 100%\x1b[K")
