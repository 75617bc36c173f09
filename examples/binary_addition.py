"""Seed 001's exercise: a sigmoid RNN learns 8-bit binary addition, built from the answer key.

At each step t the RNN reads one bit of a and one of b (least significant first)
and outputs one bit of a + b; the carry has to live in the hidden state z^t.

    u^t = W_in x^t + W z^{t-1} + b,  z^t = sigmoid(u^t)     impl.RNN(nonlinearity="sigmoid")
    y^t = sigmoid(W_out z^t + c)                            impl.TimeAffine + impl.Sigmoid
    E = 1/2 sum_t (y^t - d^t)^2                              impl.MSE("half_sum")

As in the seed: hidden size 16, weights ~ N(0, 1), learning rate 0.1, 10,000
iterations of one random pair (a, b < 128) each, plain SGD; the gradients are
clipped by their global norm first (seed 001: 勾配クリッピング). At the end every
pair that was never drawn for training is added by the network.

    python examples/binary_addition.py [--iterations 10000] [--seed 0]
"""
import argparse
import os
import sys
import time

import numpy as np

from backprop_oracle import impl

BITS = 8
HIDDEN = 16
LEARNING_RATE = 0.1
MAX_NORM = 5.0
PRINT_EVERY = 100


def to_bits(numbers):
    """(K,) integers < 256 -> (K, 8) bits, least significant first (the order the RNN reads)."""
    return ((np.asarray(numbers)[:, None] >> np.arange(BITS)) & 1).astype(np.float64)


def from_bits(bits):
    return (np.asarray(bits).astype(np.int64) << np.arange(BITS)).sum(axis=-1)


def clip_by_global_norm(grads, max_norm):
    """Scale every gradient by max_norm / ||g|| when the norm of all of them together exceeds max_norm."""
    norm = np.sqrt(sum(float((g * g).sum()) for g in grads))
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return norm


class BinaryAdder:
    def __init__(self, rng, hidden=HIDDEN):
        self.rnn = impl.RNN(nonlinearity="sigmoid",
                            weight_ih_l0=rng.standard_normal((hidden, 2)),       # W_in
                            weight_hh_l0=rng.standard_normal((hidden, hidden)),  # W
                            bias_ih_l0=np.zeros(hidden), bias_hh_l0=np.zeros(hidden))
        self.out = impl.TimeAffine(rng.standard_normal((hidden, 1)), np.zeros(1))  # W_out, c
        self.sigmoid = impl.Sigmoid()
        self.loss = impl.MSE(reduction="half_sum")
        self.layers = (self.rnn, self.out)

    def predict(self, a, b):
        """y (K, 8): the probability of each bit of a + b."""
        x = np.stack([to_bits(a), to_bits(b)], axis=2)                 # (K, T=8, 2)
        z = self.rnn.forward(x, np.zeros((1, len(x), self.rnn.hidden_size)))
        return self.sigmoid.forward(self.out.forward(z))[..., 0]

    def train_step(self, a, b, learning_rate=LEARNING_RATE):
        y = self.predict(a, b)
        d = to_bits(np.asarray(a) + np.asarray(b))
        loss = self.loss.forward(y, d)
        dy = self.sigmoid.backward(self.loss.backward(1.0)[..., None])   # delta^{out,t}
        self.rnn.backward(self.out.backward(dy))                         # BPTT
        grads = [layer.grads[name] for layer in self.layers for name in layer.params]
        clip_by_global_norm(grads, MAX_NORM)
        for layer in self.layers:
            for name, value in layer.params.items():
                value -= learning_rate * layer.grads[name]
        return loss, y


def train(iterations=10_000, seed=0, verbose=True):
    rng = np.random.default_rng(seed)
    model = BinaryAdder(rng)
    seen = np.zeros((128, 128), dtype=bool)
    for i in range(iterations):
        a, b = rng.integers(0, 128, size=2)
        seen[a, b] = True
        loss, y = model.train_step([a], [b])
        if verbose and i % PRINT_EVERY == 0:
            pred = np.round(y[0]).astype(int)
            print(f"iters:{i}\nLoss:{loss}\nPred:{pred[::-1]}\nTrue:{to_bits([a + b])[0, ::-1].astype(int)}\n"
                  f"{a} + {b} = {from_bits(pred)}\n------------")
    return model, seen


def accuracy_on_unseen(model, seen):
    """The fraction of the pairs never trained on whose sum comes out right, every bit."""
    a, b = np.nonzero(~seen)
    sums = from_bits(np.round(model.predict(a, b)))
    return float(np.mean(sums == a + b)), len(a)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    model, seen = train(args.iterations, args.seed, verbose=not args.quiet)
    seconds = time.perf_counter() - start
    accuracy, count = accuracy_on_unseen(model, seen)
    print(f"trained {args.iterations} iterations in {seconds:.2f} s")
    print(f"accuracy on the {count} pairs it did not train on: {100 * accuracy:.2f}%")


if __name__ == "__main__":
    main()
