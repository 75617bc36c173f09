"""AvgPool2d: not divided by the window. Expected: not_divided."""
from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class AvgPool2d(honest.AvgPool2d):
    def divisor(self):
        return 1
