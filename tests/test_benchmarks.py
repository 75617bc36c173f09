"""The benchmark command runs end to end in its reduced mode (no timing is asserted)."""
import json
import os
import subprocess
import sys

from benchmarks import suite
from benchmarks.kernels import Figure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quick_benchmark_prints_every_section(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--workdir", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for heading in ("The suite", "Where the time goes, cold run", "Where the time goes, warm run",
                    "Finite differences and the answer key"):
        assert heading in out
    assert "frameworks imported at collection time:" in out
    assert "one op, one worker: yes" in out
    # the probe of each run left its figures, and the runs found their checks
    probes = list((tmp_path / "warm" / "probe").glob("*.json"))
    assert probes, "the probe plugin wrote nothing"
    record = json.loads(probes[0].read_text())
    assert record["checks"].get("fd", 0) > 0 and record["max_rss_mb"] > 0
    assert "6 checks" in out


def test_a_figure_meets_or_misses_its_target():
    assert Figure("x", "1 s", "<= 2 s", 0.5).verdict == "ok"
    assert Figure("x", "3 s", "<= 2 s", 1.5).verdict == "MISSED"
    assert Figure("x", "", "<= 2 s", None, "skipped: no GRU").verdict == "skipped"


def test_ops_split_across_workers_are_reported():
    run = suite.SuiteRun("r", 1.0, 0, 2, 2, {}, probes=[
        {"worker": "gw0", "jax_ops": ["relu", "tanh"]},
        {"worker": "gw1", "jax_ops": ["tanh"]},
        {"worker": "controller", "jax_ops": []}])
    assert suite.op_scattering(run) == {"tanh": ["gw0", "gw1"]}


def test_no_framework_is_imported_at_collection_time():
    """Importing the plugin and every op spec must not import torch or jax (lazy handles)."""
    code = ("import sys, backprop_oracle.conformance.plugin; from backprop_oracle.oracle import registry; registry.all_specs(); "
            "print(','.join(m for m in ('torch', 'jax') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", (
        f"imported at collection time: {done.stdout.strip()} (a spec evaluates a torch/jax "
        "attribute at module level; wrap it in a function)")
