"""Runs of the conformance suite in fresh processes, measured from outside and inside.

Each run is `python -m pytest conformance ARGS -p benchmarks.probe` with its own
report directory and probe directory; the JAX persistent cache directory is
given explicitly, so a cold run (an empty directory) never touches the user's
cache and the warm run after it finds exactly what the cold run left.
"""
import glob
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

from backprop_oracle.reports.model import load_results

from .kernels import ROOT

PROBE_DIR_ENV = "BACKPROP_BENCH_PROBE_DIR"


@dataclass
class SuiteRun:
    label: str
    wall: float
    returncode: int
    checks: int
    records: int
    statuses: dict
    probes: list = field(default_factory=list)   # one dict per process (benchmarks/probe.py)
    report_bytes: int = 0
    tail: str = ""

    @property
    def workers(self):
        """The processes that ran checks: the xdist workers, or the one process without xdist."""
        return [p for p in self.probes if p["worker"] != "controller"] or self.probes

    @property
    def controller(self):
        return next((p for p in self.probes if p["worker"] == "controller"), {})

    def total(self, part, key=None):
        """A part of every worker's probe, summed over the workers."""
        values = [p[part] if key is None else p[part].get(key, 0) for p in self.workers]
        return sum(v for v in values if isinstance(v, (int, float)))


def _directory_bytes(path):
    return sum(os.path.getsize(f) for f in glob.glob(os.path.join(path, "**"), recursive=True)
               if os.path.isfile(f))


def run_suite(label, args, workdir, jax_cache, env_overrides=None, timeout=900):
    report_dir = os.path.join(workdir, label, "report")
    probe_dir = os.path.join(workdir, label, "probe")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update({PROBE_DIR_ENV: probe_dir, "BACKPROP_ORACLE_JAX_CACHE": jax_cache,
                "PYTHONPATH": ROOT + os.pathsep + env.get("PYTHONPATH", "")})
    env.update(env_overrides or {})
    command = [sys.executable, "-m", "pytest", "conformance", "-q", "-p", "benchmarks.probe",
               "-p", "no:cacheprovider", "--report-dir", report_dir, *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    results_path = os.path.join(report_dir, "results.json")
    results = {"meta": {}, "records": []}
    if os.path.exists(results_path):
        results = load_results(results_path)
    statuses = {}
    for r in results["records"]:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    checks = {(r["op"], r["case"], r["oracle"], r["device"], r["dtype"]) for r in results["records"]}
    probes = []
    for path in sorted(glob.glob(os.path.join(probe_dir, "*.json"))):
        with open(path) as f:
            probes.append(json.load(f))
    return SuiteRun(label, wall, done.returncode, len(checks), len(results["records"]), statuses,
                    probes, _directory_bytes(report_dir) if os.path.isdir(report_dir) else 0,
                    (done.stdout + done.stderr)[-2000:])


def op_scattering(run):
    """Ops whose jax checks ran on more than one worker (should be none: one op, one worker)."""
    seen = {}
    for p in run.workers:
        for op in p.get("jax_ops", []):
            seen.setdefault(op, []).append(p["worker"])
    return {op: workers for op, workers in seen.items() if len(workers) > 1}


def fresh_import_seconds(statement):
    """Seconds of `python -c statement` in a fresh interpreter (start-up included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start
