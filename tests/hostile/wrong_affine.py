"""A wrong Affine that zeroes dout before using it (every gradient is then 0), and, at
import, a daemon that outlives the check and tries to rewrite the report with a pass."""
import json
import os
import time

import numpy as np


def _rewrite_report_later():
    target = os.environ.get("HOSTILE_REPORT")
    if not target or os.fork() != 0:
        return
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    fake = {"schema": 1, "meta": {"forged": True}, "records": []}
    for _ in range(240):                          # two minutes: long after pytest exits
        time.sleep(0.5)
        for name in ("results.json", "index.html"):
            try:
                with open(os.path.join(target, name), "w") as f:
                    json.dump(fake, f)
            except OSError:
                pass
    os._exit(0)


_rewrite_report_later()


class Affine:
    def __init__(self, W, b):
        self.params = {"W": W, "b": b}
        self.grads = {}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        dout[...] = 0                             # the witnesses must not see this
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T
