"""Learner code must not take the run down: an endless loop is stopped and recorded, an
exception is an error record, a worker that dies is recorded and the run goes on. And
the grade: checks passed out of checks attempted."""
import os

from backprop_oracle.conformance.grading import grade, summary_lines
from backprop_oracle.reports.model import load_results

LEARNERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learners")


def records_of(report_dir):
    data = load_results(report_dir / "results.json")
    return data["meta"], data["records"]


def by_op(records):
    out = {}
    for r in records:
        out.setdefault(r["op"], set()).add(r["status"])
    return out


def test_an_endless_loop_is_stopped_and_recorded(suite, tmp_path):
    result = suite("--impl", os.path.join(LEARNERS, "hangs.py"), "--op", "relu,identity",
                   "-k", "batch1", "--oracle", "torch,fd", "--dtype", "float64",
                   "--check-timeout", "2", "--report-dir", str(tmp_path), timeout=120)
    assert result.returncode == 1, result.stdout[-2000:]
    meta, records = records_of(tmp_path)
    assert by_op(records) == {"relu": {"error"}, "identity": {"pass"}}
    relu = [r for r in records if r["op"] == "relu"]
    assert len(relu) == 2   # both witnesses recorded; the second did not wait again
    assert all("hangs.py:9 in backward: pass" in r["message"] or
               "hangs.py:8 in backward: while True:" in r["message"] for r in relu)
    assert all("stopped after 2 s (--check-timeout)" in r["message"] for r in relu)
    assert meta["check_timeout"] == 2.0 and meta["partial"] is False
    assert "--check-timeout" in result.stdout


def test_an_exception_is_recorded_as_an_error_and_the_run_goes_on(suite, tmp_path):
    result = suite("--impl", os.path.join(LEARNERS, "raises.py"), "--op", "relu,identity",
                   "--oracle", "torch", "--dtype", "float64", "--report-dir", str(tmp_path))
    assert result.returncode == 1
    meta, records = records_of(tmp_path)
    assert by_op(records) == {"relu": {"error"}, "identity": {"pass"}}
    assert "raises.py:8 in backward: return dout * self.positive" in result.stdout
    assert meta["grade"]["families"]["activation"]["errors"] == 4


def test_a_crashed_implementation_is_recorded_and_the_run_goes_on(suite, tmp_path):
    result = suite("--impl", os.path.join(LEARNERS, "crashes.py"), "--op", "relu,identity",
                   "-k", "batch1", "--oracle", "fd", "--dtype", "float64", "-n", "1",
                   "--report-dir", str(tmp_path), timeout=120)
    assert result.returncode == 1, result.stdout[-2000:]
    meta, records = records_of(tmp_path)
    assert by_op(records) == {"relu": {"error"}, "identity": {"pass"}}
    crash = next(r for r in records if r["op"] == "relu")
    # the learner's own process died, not the worker: the run is complete
    assert "the implementation's process died in Relu on case batch1" in crash["message"]
    assert "exited with status 3" in crash["message"]
    assert meta["partial"] is False


def record(op, case, status, family="f", quantity="grad:x", oracle="torch"):
    return {"op": op, "family": family, "case": case, "oracle": oracle, "device": "cpu",
            "dtype": "float64", "quantity": quantity, "status": status}


def test_the_grade_counts_checks_not_records():
    records = [record("a", "c1", "pass", quantity="out"), record("a", "c1", "fail"),   # 1 check: fail
               record("a", "c2", "pass", quantity="out"), record("a", "c2", "pass"),   # 1 check: pass
               record("b", "c1", "error", family="g"),
               record("b", "c2", "not_attempted", family="g"),
               record("b", "c3", "skipped", family="g"),
               record("a", "c1", "fail", oracle="torch~jax")]                         # not graded
    g = grade(records)
    assert g["overall"] == {"passed": 1, "attempted": 3, "failed": 1, "errors": 1,
                            "not_attempted": 1, "skipped": 1, "percent": 33.3}
    assert g["families"]["f"]["passed"] == 1 and g["families"]["f"]["attempted"] == 2
    assert g["families"]["g"]["attempted"] == 1 and g["ops"]["b"]["not_attempted"] == 1
    lines = summary_lines(g)
    assert lines[-1].split() == ["overall", "1/3", "checks", "passed", "(33.3%),", "1", "not",
                                 "attempted"]


def test_pytest_timeouts_own_limit_is_recorded_too(suite, tmp_path):
    result = suite("--impl", os.path.join(LEARNERS, "hangs.py"), "--op", "relu", "-k", "batch1",
                   "--oracle", "fd", "--dtype", "float64", "--timeout", "2",
                   "--report-dir", str(tmp_path), timeout=120)
    assert result.returncode == 1
    meta, records = records_of(tmp_path)
    assert meta["check_timeout"] is None          # --timeout replaces --check-timeout
    assert [r["status"] for r in records] == ["error"]
    assert "hangs.py:" in records[0]["message"] and "Timeout" in records[0]["message"]
