"""Conv2d: dx with the flipped kernel. Expected: dx_kernel_flipped."""
from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class Conv2d(honest.Conv2d):
    def kernel_for_dx(self):
        return self.params["W"][:, :, ::-1, ::-1]          # the mistake: no flip in dx
