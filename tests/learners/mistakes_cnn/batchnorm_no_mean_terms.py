"""BatchNorm: dx = dxhat / std. Expected: no_mean_terms."""
from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class BatchNorm(honest.BatchNorm):
    def backward(self, dout):
        self.grads["gamma"] = (dout * self.xhat).sum(axis=self.axes)
        self.grads["beta"] = dout.sum(axis=self.axes)
        return dout * self.shape(self.params["gamma"], dout) / self.std
