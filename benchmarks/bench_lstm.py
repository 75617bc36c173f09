"""LSTM forward + backward: the answer key against torch's CPU LSTM (batch 32, 50 steps,
input 64, hidden 128), in float64 and float32. Prints the median of several runs.

    python benchmarks/bench_lstm.py
"""
import time

import numpy as np

from backprop_oracle import impl

N, T, D, H = 32, 50, 64, 128
REPEATS = 15


def median_seconds(*fns, repeats=REPEATS, clock=time.perf_counter):
    """Median time of each function, run in turns so that both see the same machine load.
    clock=time.process_time gives the CPU time of all threads: steadier on a busy machine."""
    times = [[] for _ in fns]
    for fn in fns:
        fn()                                         # warm up
    for _ in range(repeats):
        for fn, spent in zip(fns, times):
            start = clock()
            fn()
            spent.append(clock() - start)
    return [float(np.median(t)) for t in times]


def numpy_lstm(dtype, rng, sizes=(N, T, D, H)):
    N, T, D, H = sizes
    params = {"weight_ih_l0": rng.standard_normal((4 * H, D)) / np.sqrt(D),
              "weight_hh_l0": rng.standard_normal((4 * H, H)) / np.sqrt(H),
              "bias_ih_l0": np.zeros(4 * H), "bias_hh_l0": np.zeros(4 * H)}
    layer = impl.LSTM(**{k: v.astype(dtype) for k, v in params.items()})
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = np.zeros((1, N, H), dtype)
    dout = rng.standard_normal((N, T, H)).astype(dtype)

    def step():
        layer.forward(x, h0, h0)
        layer.backward(dout)
    return step


def torch_lstm(dtype, sizes=(N, T, D, H)):
    import torch
    N, T, D, H = sizes
    torch.manual_seed(0)
    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    lstm = torch.nn.LSTM(D, H, batch_first=True).to(tdtype)
    x = torch.randn(N, T, D, dtype=tdtype, requires_grad=True)
    dout = torch.randn(N, T, H, dtype=tdtype)

    def step():
        out, _ = lstm(x)
        out.backward(dout)
    return step


def main():
    import torch
    print(f"LSTM forward+backward, N={N} T={T} D={D} H={H}, torch threads={torch.get_num_threads()}")
    for dtype in (np.float64, np.float32):
        fns = numpy_lstm(dtype, np.random.default_rng(0)), torch_lstm(dtype)
        for clock, label in ((time.perf_counter, "wall"), (time.process_time, "cpu ")):
            ours, theirs = median_seconds(*fns, clock=clock)
            print(f"{dtype.__name__:8s} {label} impl {ours * 1e3:7.1f} ms   torch {theirs * 1e3:7.1f} ms   "
                  f"ratio {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
