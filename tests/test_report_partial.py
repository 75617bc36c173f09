"""The report can't be half old: an interrupted run leaves a valid partial report; the report
folder is replaced in one step; one run writes a folder at a time; a rerun of a subset does
not replace the full report."""
import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from backprop_oracle.conformance import reporting
from backprop_oracle.reports import publish
from backprop_oracle.reports.model import load_results

from test_report import meta, record

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _records_written(report_dir):
    """Lines the workers have written so far (in the run's staging folder, beside the report)."""
    parent, name = os.path.split(str(report_dir))
    lines = 0
    for path in glob.glob(os.path.join(parent, f".{name}.run-*", ".parts", "*.jsonl")):
        with open(path, encoding="utf-8") as f:
            lines += sum(1 for _ in f)
    return lines


def _env():
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


@pytest.mark.parametrize("mode, sig", [
    (("-p", "no:xdist"), signal.SIGINT),     # what Ctrl-C sends
    (("-n", "2"), signal.SIGINT),
    (("-n", "2"), signal.SIGTERM),           # what a CI time limit or `timeout` sends
], ids=["one-process", "xdist", "xdist-sigterm"])
def test_ctrl_c_part_way_leaves_a_partial_report(tmp_path, mode, sig):
    report = tmp_path / "report"
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", *mode,
         "-q", "--report-dir", str(report)],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while _records_written(report) < 20:            # part-way: some checks done
            assert process.poll() is None, process.stdout.read()[-2000:]
            assert time.monotonic() < deadline, "no records written in 240 s"
            time.sleep(0.1)
        process.send_signal(sig)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, output[-2000:]             # pytest's "interrupted"
    results = load_results(report / "results.json")          # valid, this schema
    meta_ = results["meta"]
    assert meta_["partial"] is True and "interrupted" in meta_["partial_reason"]
    assert 20 <= len(results["records"]) and meta_["checks_finished"] < meta_["checks_collected"]
    # every collected check has records: those the interruption stopped say so
    not_run = [r for r in results["records"] if "interrupted before this check" in r["message"]]
    assert not_run and all(r["status"] == "error" for r in not_run)
    g = meta_["grade"]["overall"]
    assert g["passed"] < g["attempted"] and g["percent"] < 100
    index = (report / "index.html").read_text(encoding="utf-8")
    assert "Partial run" in index and "(partial)" in index
    assert "PARTIAL" in output and str(report / "index.html") in output
    assert not glob.glob(str(tmp_path / ".report.*"))          # no staging folder left


def _results(n_fail=0, subset=None):
    records = [record()] + [record(case=f"c{i}", status="fail", margin=3.0) for i in range(n_fail)]
    m = dict(meta(), subset=subset)
    from backprop_oracle.conformance.grading import grade
    m["grade"] = grade(records)
    return {"meta": m, "records": records}


def test_a_second_ctrl_c_while_rendering_publishes_a_whole_report_of_this_run(tmp_path):
    report = tmp_path / "report"
    report.mkdir()
    (report / "results.json").write_text('{"schema": 1, "meta": {"host": "old run"}, "records": []}')
    (report / "index.html").write_text("old run")

    def interrupted(results, folder):
        (tmp_path / "rendering").write_text("started")
        raise KeyboardInterrupt
    staging = publish.staging_dir(str(report), "abc")
    _, index, problem, target, kept = reporting.publish_report(
        _results(1), str(report), staging, None, interrupted)
    assert problem and "interrupted" in problem and kept is None
    data = load_results(report / "results.json")
    assert data["meta"]["host"] == "box" and len(data["records"]) == 2    # this run's
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "old run" not in html and "1/2 checks passed (50%)" in html          # this run's too
    assert "python -m backprop_oracle.reports render" in html
    assert not os.path.exists(staging)


def test_the_old_report_stays_whole_until_the_new_one_replaces_it(tmp_path):
    target, staging = tmp_path / "report", tmp_path / ".report.run-x"
    target.mkdir()
    (target / "index.html").write_text("old")
    (target / "results.json").write_text("old")
    staging.mkdir()
    (staging / "index.html").write_text("new")
    (staging / "results.json").write_text("new")
    publish.publish(str(staging), str(target))
    assert (target / "index.html").read_text() == "new" == (target / "results.json").read_text()
    assert sorted(os.listdir(tmp_path)) == ["report"]   # the old one removed after the swap


def test_a_second_run_into_the_same_folder_stops_with_the_holders_pid(tmp_path):
    report = tmp_path / "report"
    lock = publish.Lock(str(report)).acquire()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-q",
             "--op", "identity", "--oracle", "torch", "--report-dir", str(report)],
            cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    finally:
        lock.release()
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]  # usage error
    assert f"in use by another run (pid {os.getpid()}" in result.stderr
    assert not report.exists()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    report = tmp_path / "report"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".report.lock").write_text(f"{dead.pid} 2026-01-01T00:00:00\n")
    lock = publish.Lock(str(report)).acquire()
    assert lock.took_over == str(dead.pid)
    lock.release()
    assert not (tmp_path / ".report.lock").exists()


def test_a_folder_holding_other_files_is_not_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(publish.ReportDirError, match="notes.txt"):
        publish.check_replaceable(str(tmp_path))


def test_a_rerun_of_a_subset_is_written_beside_the_full_report(tmp_path, suite):
    report = tmp_path / "report"
    full = suite("--op", "identity,add", "--oracle", "torch", "--dtype", "float64",
                 "--report-dir", str(report))
    assert full.returncode == 0, full.stdout[-2000:]
    data = load_results(report / "results.json")
    data["meta"]["subset"] = None        # as a full run of the catalogue would leave it
    from backprop_oracle.reports.model import write_results
    write_results(str(report / "results.json"), data["meta"], data["records"])
    import shlex
    from backprop_oracle.reports.commands import check_command
    command = check_command("identity-batch1-torch-cpu-float64", data["meta"]["rerun_options"])
    rerun = subprocess.run([sys.executable, "-m", *shlex.split(command), "-p", "no:cacheprovider",
                            "--report-dir", str(report)],
                           cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout[-2000:]
    kept = load_results(report / "results.json")
    assert {r["op"] for r in kept["records"]} == {"identity", "add"}       # the full one, kept
    (folder,) = glob.glob(str(report / "reruns" / "*"))
    small = load_results(os.path.join(folder, "results.json"))
    assert {(r["op"], r["case"]) for r in small["records"]} == {("identity", "batch1")}
    assert small["meta"]["subset"] and "its report is in" in rerun.stdout and folder in rerun.stdout


def test_subset_words_and_folder_names():
    assert reporting.rerun_folder_name("-k affine batch1").startswith("k_affine_batch1-")
    assert "/" not in reporting.rerun_folder_name("test_op[a/b]")


def test_an_interrupt_whose_traceback_pytest_cannot_format_is_still_an_interrupted_run(tmp_path):
    report = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-p", "tests.fake_interrupt_trace", "--op", "affine,relu", "--oracle", "torch",
         "-q", "--report-dir", str(report)],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    meta_ = load_results(report / "results.json")["meta"]
    assert meta_["partial"] is True and "interrupted" in meta_["partial_reason"]
