"""Tries to signal its parent (the grader) and to write into the report folder, then
answers honestly. Run as root, the grader drops this code to a uid of its own: both fail."""
import os
import signal

import numpy as np

ATTEMPTS = []
try:
    os.kill(os.getppid(), signal.SIGKILL)
    ATTEMPTS.append("killed the grader")
except OSError as err:
    ATTEMPTS.append(f"kill: {type(err).__name__}")
target = os.environ.get("HOSTILE_REPORT")
if target:
    try:
        with open(os.path.join(target, "planted.txt"), "w") as f:
            f.write("written by learner code")
    except OSError as err:
        ATTEMPTS.append(f"write: {type(err).__name__}")


class Relu:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x).astype(x.dtype)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout).astype(dout.dtype)
