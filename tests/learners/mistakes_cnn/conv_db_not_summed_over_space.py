"""Conv2d: db summed over the batch only. Expected: db_not_summed_over_space."""
from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class Conv2d(honest.Conv2d):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = dout.sum(axis=0)                # the mistake: axis=(0, 2, 3)
        return dx
