"""BatchNorm: the running variance updated with the biased variance. Expected: running_var_biased."""
from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class BatchNorm(honest.BatchNorm):
    def update(self, mu, var, m):
        self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mu
        self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var   # * m / (m - 1)
