"""A pytest plugin that records where one suite run's time goes: `-p benchmarks.probe`.

Every process of the run (the controller and each xdist worker) writes one JSON
file into the directory named by $BACKPROP_BENCH_PROBE_DIR when it ends:

- startup: seconds from the process's start to its first check (interpreter,
  pytest, the harness, collection); `frameworks_at_collection` lists torch or
  jax if either was imported by then (it should not be);
- seconds inside checks, by witness, with the nested parts taken out: first
  imports of the frameworks, the implementation under test, and JAX's tracing,
  lowering and compilation (from jax.monitoring events);
- jax: compiles, persistent-cache hits and misses, and the number of distinct
  (op, hyperparameters, shapes, dtype) signatures its checks had, so that a
  recompilation of one signature shows;
- the ops whose jax checks ran here (to verify that one op stays on one worker);
- report: the controller's seconds in pytest_sessionfinish (merging and rendering);
- peak resident memory (ru_maxrss).
Nothing is written when the variable is unset, so loading it by mistake is harmless.
"""
import json
import os
import resource
import sys
import time
from collections import defaultdict

import pytest

DIR_ENV = "BACKPROP_BENCH_PROBE_DIR"
JAX_COMPILE_EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "compile",
}
JAX_CACHE_EVENTS = {"/jax/compilation_cache/cache_hits": "cache_hits",
                    "/jax/compilation_cache/cache_misses": "cache_misses"}


def process_start_time():
    """The wall-clock time this process started (Linux /proc; else the probe's import)."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return _IMPORTED


_IMPORTED = time.time()


class Probe:
    def __init__(self, config):
        self.config = config
        self.worker = getattr(config, "workerinput", {}).get("workerid", "controller")
        self.started = process_start_time()
        self.first_check = None
        self.nested = defaultdict(float)       # imports, impl, jax trace/lower/compile
        self.witness = defaultdict(float)      # oracle -> seconds, nested parts removed
        self.checks = defaultdict(int)
        self.jax_counts = defaultdict(int)     # compiles, cache hits and misses
        self.jax_signatures = set()
        self.jax_ops = set()
        self.frameworks_at_collection = []
        self.report_seconds = 0.0
        self._listening = False
        self._wrap_implementation()

    def _wrap_implementation(self):
        from backprop_oracle.oracle import engine
        original = engine.implementation_result

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.nested["impl"] += time.perf_counter() - start
        engine.implementation_result = timed

    def _listen_to_jax(self):
        if self._listening:
            return
        from backprop_oracle.oracle.frameworks import require
        monitoring = require("jax.monitoring")

        def on_duration(event, seconds, **_):
            if event in JAX_COMPILE_EVENTS:
                self.nested["jax_" + JAX_COMPILE_EVENTS[event]] += seconds
                if JAX_COMPILE_EVENTS[event] == "compile":
                    self.jax_counts["compiles"] += 1

        def on_event(event, **_):
            if event in JAX_CACHE_EVENTS:
                self.jax_counts[JAX_CACHE_EVENTS[event]] += 1
        monitoring.register_event_duration_secs_listener(on_duration)
        monitoring.register_event_listener(on_event)
        self._listening = True

    def _imports(self):
        from backprop_oracle.oracle.frameworks import IMPORT_SECONDS
        return sum(IMPORT_SECONDS.values())

    def _jax_signature(self, check):
        from backprop_oracle.oracle import engine, registry
        data = engine.case_data(check.op, check.case, self.config.getoption("seed") or 0)
        shapes = tuple((k, getattr(v, "shape", ())) for part in (data.inputs, data.params, data.extra)
                       for k, v in part.items())
        hp = json.dumps(registry.get(check.op).case(check.case).hparams, sort_keys=True, default=repr)
        return check.op, hp, shapes, check.dtype

    @pytest.hookimpl
    def pytest_collection_finish(self, session):
        self.frameworks_at_collection = [m for m in ("torch", "jax") if m in sys.modules]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        check = getattr(getattr(item, "callspec", None), "params", {}).get("check")
        if check is None:
            yield
            return
        if self.first_check is None:
            self.first_check = time.time()
        if check.oracle == "jax":
            self._listen_to_jax()
            self.jax_ops.add(check.op)
            self.jax_signatures.add(self._jax_signature(check))
        imports_before, nested_before = self._imports(), sum(self.nested.values())
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        imported = self._imports() - imports_before
        self.nested["imports_in_checks"] += imported
        inner = sum(self.nested.values()) - nested_before
        self.witness[check.oracle] += elapsed - inner
        self.checks[check.oracle] += 1

    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session):
        start = time.perf_counter()
        yield
        self.report_seconds = time.perf_counter() - start

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config):
        directory = os.environ.get(DIR_ENV)
        if not directory:
            return
        from backprop_oracle.oracle.frameworks import IMPORT_SECONDS
        now = time.time()
        nested = dict(self.nested)
        nested.pop("imports_in_checks", None)
        record = {
            "worker": self.worker,
            "lifetime": now - self.started,
            "startup": (self.first_check or now) - self.started,
            "frameworks_at_collection": self.frameworks_at_collection,
            "imports": dict(IMPORT_SECONDS),
            "nested": nested,
            "witness": dict(self.witness),
            "checks": dict(self.checks),
            "jax": {**self.jax_counts, "signatures": len(self.jax_signatures)},
            "jax_ops": sorted(self.jax_ops),
            "report": self.report_seconds,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "threads": {"torch": sys.modules["torch"].get_num_threads() if "torch" in sys.modules
                        else None, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        }
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"{self.worker}.json"), "w") as f:
            json.dump(record, f, indent=1)


def pytest_configure(config):
    config.pluginmanager.register(Probe(config), "backprop-oracle-probe")
