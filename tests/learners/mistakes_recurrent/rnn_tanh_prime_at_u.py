"""RNN: tanh' computed from the pre-activation as 1 - u^2. Expected: derivative_at_pre_activation."""
from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest


class RNNCell(honest.RNNCell):
    def derivative(self, u, z):
        if self.nonlinearity == "tanh":
            return 1 - u ** 2                        # the mistake: 1 - z ** 2
        return super().derivative(u, z)


class RNN(honest.RNN):
    cell = RNNCell
