"""TimeEmbedding: dW[idx] = dout. Expected: repeated_ids_overwrite."""
import numpy as np

from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest


class TimeEmbedding(honest.TimeEmbedding):
    def backward(self, dout):
        dW = np.zeros_like(self.params["W"])
        dW[self.idx] = dout                       # the mistake: np.add.at(dW, self.idx, dout)
        self.grads["W"] = dW
        return None
