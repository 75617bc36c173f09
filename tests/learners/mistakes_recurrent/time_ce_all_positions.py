"""TimeSoftmaxCrossEntropy: the mean over N*T positions. Expected: divided_by_all_positions."""
from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest


class TimeSoftmaxCrossEntropy(honest.TimeSoftmaxCrossEntropy):
    def count(self, mask):
        return mask.size if self.reduction == "mean" else 1       # the mistake: mask.sum()
