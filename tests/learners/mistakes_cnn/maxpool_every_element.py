"""MaxPool2d: the gradient goes to every element of the window. Expected: to_every_element."""
import numpy as np

from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class MaxPool2d(honest.MaxPool2d):
    def route(self, window):
        return np.ones_like(window)
