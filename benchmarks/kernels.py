"""Side-by-side timings of single computations: each returns a Figure (or a skip).

- fd_vs_gradcheck: the finite-difference witness on a GRU against
  torch.autograd.gradcheck in slow mode on the same function (torch's GRU, same data);
- lstm: the answer key's LSTM forward+backward against torch's CPU LSTM (bench_lstm.py);
- conv2d: the answer key's Conv2d forward+backward against torch's conv2d;
- binary_addition: the example's training loop (examples/binary_addition.py).
`quick` shrinks every size and repeat count, for the smoke test.
"""
import importlib.util
import os
import time
from dataclasses import dataclass

import numpy as np

from . import bench_lstm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Figure:
    name: str
    measured: str = ""
    target: str = ""
    ratio: float = None        # measured / allowed: <= 1 meets the target
    note: str = ""

    @property
    def verdict(self):
        if self.ratio is None:
            return "skipped" if self.note and not self.measured else ""
        return "ok" if self.ratio <= 1 else "MISSED"


def skipped(name, target, why):
    return Figure(name, "", target, None, f"skipped: {why}")


def side_by_side(ours, theirs, repeats):
    """Median seconds of each, run in turns so that both see the same machine load."""
    return bench_lstm.median_seconds(ours, theirs, repeats=repeats)


def _impl_class(name):
    from backprop_oracle import impl
    return getattr(impl, name, None)


# -- finite differences against gradcheck -------------------------------------------
def fd_vs_gradcheck(quick=False):
    name, target = "fd oracle / gradcheck slow mode, GRU", "<= 0.10"
    if _impl_class("GRU") is None:
        return skipped(name, target, "impl has no GRU")
    from backprop_oracle.oracle import fd, registry
    from backprop_oracle.oracle.context import Context
    from backprop_oracle.oracle.specs.recurrent import seq_case, seq_hparams
    torch = __import__("torch")
    spec, hp = registry.get("gru"), seq_hparams()
    N, T, D, H = (2, 2, 2, 3) if quick else (3, 6, 4, 5)
    data = seq_case("gru", N=N, T=T, D=D, H=H)(np.random.default_rng(0))
    dout = np.random.default_rng(1).standard_normal((N, T, H))
    from backprop_oracle import impl
    ctx = Context(data=data, hp=hp, dout=dout, dtype="float64", module=impl, case="benchmark")
    names = list(data.inputs) + list(data.params)
    leaves = [torch.tensor({**data.inputs, **data.params}[k], requires_grad=True) for k in names]

    def torch_gru(*tensors):
        out, _ = spec.torch(dict(zip(names, tensors)), {}, hp)
        return out

    repeats = 1 if quick else 3
    ours, theirs = side_by_side(lambda: fd.run_layer(spec, ctx),
                                lambda: torch.autograd.gradcheck(torch_gru, leaves, fast_mode=False),
                                repeats)
    return Figure(name, f"fd {ours * 1e3:.0f} ms, gradcheck {theirs * 1e3:.0f} ms "
                        f"= {ours / theirs:.3f}", target, (ours / theirs) / 0.10,
                  f"input {D}, hidden {H}, batch {N}, {T} steps")


# -- the answer key against torch -------------------------------------------------------
def lstm(quick=False):
    figures = []
    sizes = (2, 3, 4, 5) if quick else (bench_lstm.N, bench_lstm.T, bench_lstm.D, bench_lstm.H)
    for dtype, allowed in ((np.float64, 1.25), (np.float32, 2.0)):
        name, target = f"lstm fwd+bwd impl / torch, {dtype.__name__}", f"<= {allowed}x"
        if _impl_class("LSTM") is None:
            figures.append(skipped(name, target, "impl has no LSTM"))
            continue
        repeats = 1 if quick else 7
        ours, theirs = side_by_side(bench_lstm.numpy_lstm(dtype, np.random.default_rng(0), sizes),
                                    bench_lstm.torch_lstm(dtype, sizes), repeats)
        figures.append(Figure(name, f"{ours * 1e3:.1f} ms / {theirs * 1e3:.1f} ms = {ours / theirs:.2f}x",
                              target, ours / theirs / allowed,
                              "batch {}, {} steps, input {}, hidden {}".format(*sizes)))
    return figures


def conv2d(quick=False):
    name, target = "conv2d fwd+bwd impl / torch, float64", "<= 2x"
    cls = _impl_class("Conv2d")
    if cls is None:
        return skipped(name, target, "impl has no Conv2d")
    torch = __import__("torch")
    N, C, K, S = (2, 2, 3, 5) if quick else (16, 16, 32, 32)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, S, S))
    w = rng.standard_normal((K, C, 3, 3)) / np.sqrt(9 * C)
    b = np.zeros(K)
    try:
        layer = cls(w, b, stride=1, padding=1)
        dout = rng.standard_normal(np.shape(layer.forward(x)))
    except Exception as err:   # a constructor of another shape than torch's layout
        return skipped(name, target, f"impl.Conv2d(W, b, stride, padding) failed: {err}")

    def ours():
        layer.forward(x)
        layer.backward(dout)

    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tdout = torch.tensor(dout)

    def theirs():
        torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(tdout)

    repeats = 1 if quick else 7
    a, t = side_by_side(ours, theirs, repeats)
    return Figure(name, f"{a * 1e3:.1f} ms / {t * 1e3:.1f} ms = {a / t:.2f}x", target, a / t / 2,
                  f"batch {N}, {C} -> {K} channels, {S}x{S}, 3x3, padding 1")


def binary_addition(quick=False):
    iterations = 200 if quick else 10_000
    name, target = f"binary addition, {iterations} iterations", "<= 5 s" if not quick else ""
    path = os.path.join(ROOT, "examples", "binary_addition.py")
    if not os.path.exists(path):
        return skipped(name, target, "no examples/binary_addition.py")
    loader = importlib.util.spec_from_file_location("binary_addition", path)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    start = time.perf_counter()
    module.train(iterations, seed=0, verbose=False)
    seconds = time.perf_counter() - start
    return Figure(name, f"{seconds:.2f} s", target, seconds / 5 if not quick else None)


def all_figures(quick=False):
    figures = [fd_vs_gradcheck(quick)]
    figures += lstm(quick)
    figures += [conv2d(quick), binary_addition(quick)]
    return figures
