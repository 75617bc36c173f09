"""grade() of one layer from Python, as a notebook does it: the first call (imports torch
and JAX, compiles) and the calls after it (everything loaded), with every witness and
both dtypes. Target: the second call of one layer well under a second.

    python -m benchmarks.bench_api            # affine, 5 repeats
    python -m benchmarks.bench_api lstm 3     # another op, another count

Prints the seconds of each call and the median of the later ones; nothing is asserted.
"""
import statistics
import sys
import time

import backprop_oracle as bo
from backprop_oracle import impl
from backprop_oracle.oracle import registry

TARGET_SECONDS = 1.0


def learner_classes(op):
    """The answer key's class for `op`, redefined as a notebook cell would (its own class)."""
    base = getattr(impl, registry.get(op).impl)
    return {base.__name__: type(base.__name__, (base,), {"__module__": "__main__"})}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    op = argv[0] if argv else "affine"
    repeats = int(argv[1]) if len(argv) > 1 else 5
    classes = learner_classes(op)
    times, result = [], None
    for _ in range(1 + repeats):
        start = time.perf_counter()
        result = bo.grade(classes, ops=op)
        times.append(time.perf_counter() - start)
    later = statistics.median(times[1:]) if repeats else float("nan")
    print(f"grade({{{', '.join(classes)}}}, ops={op!r}): {result.attempted} checks "
          f"({', '.join(result.meta['oracles'])}; {', '.join(result.meta['dtypes'])}), "
          f"{result.passed} passed")
    print(f"  first call (imports torch and JAX, compiles): {times[0]:.2f} s")
    print(f"  later calls: {', '.join(f'{t:.3f}' for t in times[1:])} s; median {later:.3f} s "
          f"(target <= {TARGET_SECONDS:g} s: {'met' if later <= TARGET_SECONDS else 'missed'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
