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

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")   # as in a pytest worker and in the sandbox
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


def child_cpu(implementation):
    """CPU seconds the sandbox's process has used (0 for an in-process implementation)."""
    proc = getattr(implementation, "proc", None)
    if proc is None:
        return 0.0
    with open(f"/proc/{proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(run, selected, implementation, repeats):
    """Best of `repeats` of running every selected check (results not cached across runs):
    (wall seconds, CPU seconds of this process and of the sandbox's). CPU time is the
    figure to compare on a shared machine, where the wall clock waits for the cores."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        fresh_caches()
        start, cpu = time.perf_counter(), time.process_time() + child_cpu(implementation)
        for c in selected:
            run(c, implementation, 0)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() + child_cpu(implementation) - cpu)
    return best, best_cpu


def answer_key_only(ops, repeats):
    from backprop_oracle import impl
    from backprop_oracle.oracle import engine
    selected = checks(ops)
    for c in selected:                     # warm the case caches, imports
        engine.run_check(c, impl)
    seconds, cpu = timed(engine.run_check, selected, impl, repeats)
    print(f"answer key, in-process: {len(selected)} fd and golden checks of {', '.join(ops)}: "
          f"wall {seconds * 1e3:.0f} ms, CPU {cpu * 1e3:.0f} ms "
          f"({cpu / len(selected) * 1e3:.2f} ms CPU per check, best of {repeats})")
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
        (local, local_cpu) = timed(engine.run_check, selected, in_process, repeats)
        (remote, remote_cpu) = timed(engine.run_check, selected, sandbox, repeats)
        requests = _count_requests(sandbox, selected)
    finally:
        sandbox.close()
    n = len(selected)
    print(f"sandbox start-up (spawn, imports, protections, the submission): {startup * 1e3:.0f} ms "
          f"per pytest process")
    print(f"same checks, the answer key's classes as a submission: in-process "
          f"wall {local * 1e3:.0f} ms / CPU {local_cpu * 1e3:.0f} ms, sandboxed wall "
          f"{remote * 1e3:.0f} ms / CPU {remote_cpu * 1e3:.0f} ms (grader and sandbox)")
    print(f"per-check overhead of the separate process: wall {(remote - local) / n * 1e3:.2f} ms, "
          f"CPU {(remote_cpu - local_cpu) / n * 1e3:.2f} ms ({n} checks, {requests} requests: "
          f"CPU {(remote_cpu - local_cpu) / requests * 1e3:.2f} ms per request)")
    print(f"protections: {sandbox.held}")


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
