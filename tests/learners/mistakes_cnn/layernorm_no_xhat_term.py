"""LayerNorm: dx without the variance term. Expected: no_xhat_term."""
from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class LayerNorm(honest.LayerNorm):
    def backward(self, dout):
        super().backward(dout)
        dxhat = dout * self.params["gamma"]
        return (dxhat - dxhat.mean(axis=self.axes, keepdims=True)) / self.std
