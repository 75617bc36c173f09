"""Native API, correct, but it writes over the upstream gradient it was given once it is
done with it (dout[...] = 0): the grader's own dout, which the witnesses and the diagnosis
use, must not change. Must pass every check."""


class Relu:
    def forward(self, x):
        self.positive = x > 0
        return x * self.positive

    def backward(self, dout):
        dx = dout * self.positive
        dout[...] = 0.0
        return dx
