"""Conv2d: dW reshaped without the transpose. Expected: dW_reshape_without_transpose."""
from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class Conv2d(honest.Conv2d):
    def backward(self, dout):
        FN = self.params["W"].shape[0]
        dout2 = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.grads["b"] = dout2.sum(axis=0)
        self.grads["W"] = (self.col.T @ dout2).reshape(self.params["W"].shape)   # .transpose(1, 0) forgotten
        dcol = dout2 @ self.kernel_for_dx().reshape(FN, -1)
        return self.col2im(dcol)
