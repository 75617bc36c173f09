"""LSTMCell: backward ignores dc_next. Expected: lstm_cell dc_next_ignored (case upstream_c);
the sequence LSTM keeps the honest cell and passes."""
import numpy as np

from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest


class LSTMCell(honest.LSTMCell):
    def backward(self, dh_next, dc_next=None):
        return super().backward(dh_next)
