"""Resources: background processes started at import (setsid, double fork) that sleep; a
backward that catches every exception and never ends; a backward that asks for more and more memory."""
import os
import time

import numpy as np


def _background(count=3):
    pids = os.environ.get("HOSTILE_PIDS")
    for _ in range(count):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                if pids:
                    try:
                        with open(pids, "a") as f:
                            f.write(f"{os.getpid()}\n")
                    except OSError:
                        pass
                time.sleep(600)
            os._exit(0)


_background()


class Gelu:
    def __init__(self, approximate="none"):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.x = x
        return x * 0.5 * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x ** 3)))

    def backward(self, dout):
        while True:
            try:
                time.sleep(0.01)
            except BaseException:     # the time limit's exception too, were there one
                pass


class Selu:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        return x

    def backward(self, dout):
        hog = []
        while True:                               # 128 MiB at a time: 1 TiB asked for
            hog.append(np.zeros(2 ** 24))         # (calloc: fast, the limit is on address space)
