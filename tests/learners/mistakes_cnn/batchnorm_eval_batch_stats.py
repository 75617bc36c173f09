"""BatchNorm: evaluation mode normalizes with the batch's statistics. Expected: batch_statistics_in_eval."""
from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class BatchNorm(honest.BatchNorm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.training = True            # the mistake: training=False is ignored

    def update(self, mu, var, m):
        pass
