"""An interrupted run still leaves a valid report, marked partial."""
import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from backprop_oracle.reports.model import load_results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _records_written(report_dir):
    lines = 0
    for path in glob.glob(os.path.join(report_dir, ".parts", "*", "*.jsonl")):
        with open(path, encoding="utf-8") as f:
            lines += sum(1 for _ in f)
    return lines


@pytest.mark.parametrize("mode, sig", [
    (("-p", "no:xdist"), signal.SIGINT),     # what Ctrl-C sends
    (("-n", "2"), signal.SIGINT),
    (("-n", "2"), signal.SIGTERM),           # what a CI time limit or `timeout` sends
], ids=["one-process", "xdist", "xdist-sigterm"])
def test_ctrl_c_part_way_leaves_a_partial_report(tmp_path, mode, sig):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", *mode,
         "-q", "--report-dir", str(tmp_path)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while _records_written(str(tmp_path)) < 20:            # part-way: some checks done
            assert process.poll() is None, process.stdout.read()[-2000:]
            assert time.monotonic() < deadline, "no records written in 240 s"
            time.sleep(0.1)
        process.send_signal(sig)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, output[-2000:]             # pytest's "interrupted"
    results = load_results(tmp_path / "results.json")         # valid, this schema
    meta = results["meta"]
    assert meta["partial"] is True and "interrupted" in meta["partial_reason"]
    assert 20 <= len(results["records"]) and meta["checks_finished"] < meta["checks_collected"]
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Partial run" in index and "(partial)" in index
    assert "PARTIAL" in output and str(tmp_path / "index.html") in output
