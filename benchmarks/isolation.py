"""What running the implementation in a process of its own costs, per check.

    python -m benchmarks.isolation            # the figures below (about a minute)
    python -m benchmarks.isolation --quick    # fewer ops: checks the script works
    python benchmarks/isolation.py --answer-key-only   # the engine's in-process time only:
                                              # runs on an older checkout too (before/after)

1. The answer key's own engine time (in-process, no torch/jax: the implementation's
   quantities, finite differences and golden values of every check of the chosen ops),
   the part of the answer key's suite that the party interface touches.
2. The same checks with the answer key's classes as a learner's submission
   (tests/learners/answer_key_copy.py) in-process and in a sandbox: the difference,
   divided by the number of checks, is the per-check overhead of the separate process.
   Also the sandbox's start-up (spawn, imports, protections, loading the submission).
"""
import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS = ("affine", "relu", "sigmoid", "softmax_cross_entropy", "conv2d", "batch_norm", "lstm",
       "gru", "embedding", "adam", "mlp")
QUICK_OPS = ("affine", "relu", "lstm")


def checks(ops):
    from backprop_oracle.oracle import engine, registry
    specs = [registry.get(op) for op in ops]
    return [c for c in engine.all_checks(specs, ("fd", "golden"), ("cpu",), ("float64", "float32"))
            if registry.get(c.op).applies(registry.get(c.op).case(c.case), c.oracle)[0]]


def fresh_caches():
    from backprop_oracle.oracle import engine
    engine._impl_results.clear()


def timed(run, selected, implementation, repeats):
    """Best of `repeats` of running every selected check (results not cached across runs)."""
    best = float("inf")
    for _ in range(repeats):
        fresh_caches()
        start = time.perf_counter()
        for c in selected:
            run(c, implementation, 0)
        best = min(best, time.perf_counter() - start)
    return best


def answer_key_only(ops, repeats):
    from backprop_oracle import impl
    from backprop_oracle.oracle import engine
    selected = checks(ops)
    for c in selected:                     # warm the case caches, imports
        engine.run_check(c, impl)
    seconds = timed(engine.run_check, selected, impl, repeats)
    print(f"answer key, in-process: {len(selected)} fd and golden checks of {', '.join(ops)}: "
          f"{seconds * 1e3:.0f} ms ({seconds / len(selected) * 1e3:.2f} ms per check, "
          f"best of {repeats})")
    return seconds, len(selected)


def overhead(ops, repeats):
    import importlib.util
    from backprop_oracle.oracle import engine, party
    path = os.path.join(ROOT, "tests", "learners", "answer_key_copy.py")
    spec = importlib.util.spec_from_file_location("answer_key_copy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    selected = checks(ops)
    in_process = party.InProcess(module)
    start = time.perf_counter()
    sandbox = party.Sandboxed(path, timeout=120)
    sandbox.start()
    startup = time.perf_counter() - start
    try:
        for c in selected:
            engine.run_check(c, in_process)
            engine.run_check(c, sandbox)
        local = timed(engine.run_check, selected, in_process, repeats)
        remote = timed(engine.run_check, selected, sandbox, repeats)
        requests = _count_requests(sandbox, selected)
    finally:
        sandbox.close()
    n = len(selected)
    print(f"sandbox start-up (spawn, imports, protections, the submission): {startup * 1e3:.0f} ms "
          f"per pytest process")
    print(f"same checks, the answer key's classes as a submission: in-process "
          f"{local * 1e3:.0f} ms, sandboxed {remote * 1e3:.0f} ms")
    print(f"per-check overhead of the separate process: {(remote - local) / n * 1e3:.2f} ms "
          f"({n} checks, {requests} requests: {(remote - local) / requests * 1e3:.2f} ms per "
          f"request; protections: {sandbox.held})")


def _count_requests(sandbox, selected):
    before = sandbox.next_id
    fresh_caches()
    from backprop_oracle.oracle import engine
    for c in selected:
        engine.run_check(c, sandbox)
    return sandbox.next_id - before


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--answer-key-only", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    ops = QUICK_OPS if args.quick else OPS
    repeats = 1 if args.quick else args.repeats
    answer_key_only(ops, repeats)
    if not args.answer_key_only:
        overhead(ops, repeats)


if __name__ == "__main__":
    sys.exit(main())
