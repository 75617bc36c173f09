"""The grade, the distinct problems and the rerun commands: one computation shared by the
terminal, results.json and the HTML; never rounded up; reruns that are safe to paste."""
import os
import re
import shlex
import subprocess
import sys

import pytest

from backprop_oracle.conformance import grading, options, reporting, terminal
from backprop_oracle.oracle.engine import Check
from backprop_oracle.reports.commands import case_command, check_command
from backprop_oracle.reports.model import distinct_problems, load_results, quantity_summary

from test_report import record

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# -- the grade -------------------------------------------------------------------------
def test_one_failure_in_2025_is_not_100_percent():
    assert grading.percent(2024, 2025) == 99.9
    assert grading.percent(1, 3) == 33.3 and grading.percent(2, 3) == 66.6   # floored
    assert grading.percent(3, 3) == 100.0 and grading.percent(0, 0) is None
    for attempted in range(1, 3000):                     # never 100 short of all
        assert grading.percent(attempted - 1, attempted) < 100
    line = grading.summary_lines({"families": {}, "overall": {
        "passed": 2024, "attempted": 2025, "not_attempted": 0}} | {"overall": dict(
            passed=2024, attempted=2025, not_attempted=0, percent=grading.percent(2024, 2025))})[-1]
    assert "2024/2025 checks passed (99.9%)" in line


def test_an_expected_check_without_records_is_an_error_record():
    checks = [(Check("affine", "batch3", "torch", "cpu", "float64"), "linear"),
              (Check("affine", "batch1", "torch", "cpu", "float64"), "linear")]
    records = [record(case="batch3", quantity=q) for q in ("out", "grad:x")]
    missing = grading.missing_records(checks, records, "the worker died")
    assert [(r["case"], r["status"], r["message"]) for r in missing] == [
        ("batch1", "error", "the worker died")]
    g = grading.grade(records + missing)["overall"]
    assert (g["passed"], g["attempted"], g["errors"]) == (1, 2, 1)


def _grade_line(text):
    return re.search(r"overall\s+(\d+/\d+ checks passed \([\d.]+%\))", text).group(1)


def test_terminal_results_and_html_give_the_same_grade(suite, tmp_path):
    result = suite("--impl", os.path.join(HERE, "planted", "bias_not_summed.py"),
                   "--op", "affine,relu", "--oracle", "torch", "--dtype", "float64",
                   "--report-dir", str(tmp_path))
    assert result.returncode == 1, result.stdout[-3000:]
    data = load_results(tmp_path / "results.json")
    stored = grading.fraction(data["meta"]["grade"]["overall"])
    assert stored == grading.fraction(grading.grade(data["records"])["overall"])
    assert _grade_line(result.stdout) == stored
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert f'id="overall" class="fail">{stored}<' in index
    # the grade comes first, then the distinct problems, then the matrix
    assert index.index('id="grade"') < index.index('id="problems"') < index.index('id="matrix"')


# -- one mistake, one line -------------------------------------------------------------
def test_a_planted_mistake_is_one_problem_in_the_terminal_and_the_report(suite, tmp_path):
    result = suite("--impl", os.path.join(HERE, "planted", "bias_not_summed.py"),
                   "--op", "affine", "--report-dir", str(tmp_path))
    assert result.returncode == 1
    data = load_results(tmp_path / "results.json")
    bad = [r for r in data["records"] if r["status"] == "fail"]
    assert len(bad) >= 20                                    # every case, witness and dtype
    problems = distinct_problems(data["records"])
    assert len(problems) == 1 and problems[0]["records"] == len(bad)
    assert problems[0]["quantities"] == ["grad:b"]
    summary = result.stdout.split("= backprop-oracle =")[1]
    assert summary.count("rerun:") == 1 and "distinct problems: 1" in summary
    assert f"{len(bad)} records" in summary
    assert len(result.stdout.splitlines()) < 4 * len(bad) + 40   # short per-check output
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    problems_html = index.split('id="problems"')[1].split('id="matrix"')[0]
    assert problems_html.count("<tr><td>") == 1 and "keeps the batch axis" in problems_html
    page = (tmp_path / "ops" / "affine.html").read_text(encoding="utf-8")
    summary_html = page.split('id="quantities"')[1].split("</table>")[0]
    assert summary_html.count("<tr>") == 4                  # out, dx, dW, db
    assert re.search(r"b の勾配|b \(gradient\)</th><td class=\"fail\">", summary_html)


def test_distinct_problems_ignore_the_numbers_that_differ_between_cases():
    records = [record(case="batch3", status="fail", diagnosis="shape (3, 5), expected (5,)"),
               record(case="wide", status="fail", diagnosis="shape (2, 2), expected (2,)"),
               record(case="wide", quantity="grad:x", status="fail", diagnosis="sign flipped"),
               record(op="relu", case="mixed", status="error", margin=None,
                      message="impl.py:3 in backward: x\nValueError: no")]
    problems = distinct_problems(records)
    # by family (activation before linear), then the most records first
    assert [(p["op"], p["records"]) for p in problems] == [("relu", 1), ("affine", 2), ("affine", 1)]
    assert problems[0]["problem"] == "ValueError: no"
    summary = {q["quantity"]: q["status"] for q in quantity_summary(records)}
    assert summary == {"grad:W": "error", "grad:x": "fail"}      # an error outranks a failure


# -- rerun commands --------------------------------------------------------------------
def test_a_rerun_command_pasted_into_a_shell_runs_nothing_else(tmp_path):
    marker = tmp_path / "X"
    evil = f"hw3_$(touch {marker}).py"
    command = check_command("affine-batch3-torch-cpu-float64", ["--impl", evil, "--seed", "3"])
    shown = subprocess.run(["bash", "-c", 'pytest() { printf "%s\\n" "$@"; }; ' + command],
                           capture_output=True, text=True, cwd=tmp_path).stdout.splitlines()
    assert not marker.exists()
    assert shown == ["conformance/test_ops.py::test_op[affine-batch3-torch-cpu-float64]",
                     "--impl", evil, "--seed", "3"]
    assert shlex.split(case_command("affine", "batch1", ["--impl", evil]))[-1] == evil


class FakeConfig:
    def __init__(self, **values):
        self.values = {"impl": None, "impl_style": "native", "seed": 0, "tf32": False,
                       "check_timeout": None, "device": None,
                       "dtype": "float64,float32", "oracle": "torch,jax,fd,golden", **values}

    def getoption(self, name, default=None):
        return self.values.get(name, default)


def test_rerun_options_keep_everything_that_changes_the_result():
    config = FakeConfig(impl=["a.py", "b dir/c.py"], impl_style="book", seed=7, tf32=True,
                        dtype="float32", device="cpu", oracle="torch,fd", check_timeout=2.5,
                        lang="ja")
    assert reporting.rerun_options(config) == [
        "--impl", "a.py", "--impl", "b dir/c.py", "--impl-style", "book", "--seed", "7",
        "--dtype", "float32", "--device", "cpu", "--oracle", "torch,fd", "--tf32",
        "--check-timeout", "2.5", "--lang", "ja"]
    assert reporting.rerun_options(FakeConfig()) == []          # defaults: nothing to repeat


def test_the_printed_rerun_reruns_the_check_from_the_run_folder(suite, tmp_path):
    learner = tmp_path / "hw3_$(touch X).py"
    learner.write_text(open(os.path.join(HERE, "planted", "bias_not_summed.py")).read())
    result = suite("--impl", str(learner), "--op", "affine", "--oracle", "torch",
                   "--dtype", "float64", "--seed", "2", "--report-dir", str(tmp_path / "r"))
    assert result.returncode == 1
    line = next(l for l in result.stdout.splitlines() if "rerun:" in l).split("rerun:", 1)[1]
    words = shlex.split(line)
    assert words[0] == "pytest" and "--seed" in words and str(learner) in words
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    again = subprocess.run([sys.executable, "-m", *words, "-p", "no:cacheprovider", "-q",
                            "--report-dir", str(tmp_path / "again")],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "1 failed" in again.stdout, again.stdout[-2000:]
    assert not (tmp_path / "X").exists() and not os.path.exists(os.path.join(ROOT, "X"))


# -- the terminal ----------------------------------------------------------------------
def test_control_characters_are_removed_and_newlines_kept():
    assert terminal.plain("a\x1b[2J\x1b[31mb\x1b[0m\x07\r\x1b]0;t\x07c\n\td\u202e") == "abc\n\td"
    assert terminal.plain("\x9b31mx\x00y") == "xy"


def test_learner_text_reaches_the_terminal_without_control_characters(suite, tmp_path):
    result = suite("--impl", os.path.join(HERE, "learners", "shouts.py"), "--op", "relu",
                   "--oracle", "torch", "--dtype", "float64", "--report-dir", str(tmp_path))
    assert result.returncode == 1
    assert "ValueError: boomgrade 100%" in result.stdout     # the exception's own line, whole
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", result.stdout), \
        repr([l for l in result.stdout.splitlines() if re.search(r"[\x00-\x1f]", l)][:3])


# -- devices ---------------------------------------------------------------------------
def test_a_device_asked_for_and_absent_is_an_error(monkeypatch):
    monkeypatch.setattr(options, "cuda_present", lambda: (False, "no NVIDIA GPU here"))

    class Config(FakeConfig):
        pass
    config = Config(device="cuda", op=None)
    with pytest.raises(pytest.UsageError, match="cuda was asked for and is absent: no NVIDIA GPU"):
        options.resolve(config)
    default = options.resolve(Config(device=None, op=None))
    assert default["devices"] == ("cpu",) and default["devices_absent"]["cuda"] == "no NVIDIA GPU here"


def test_device_cuda_without_a_gpu_stops_the_run(suite, tmp_path):
    if options.cuda_present()[0]:
        pytest.skip("this machine has a GPU")
    result = suite("--device", "cuda", "--op", "relu", "--report-dir", str(tmp_path / "r"))
    assert result.returncode == 4 and "cuda was asked for and is absent" in result.stderr
    assert "passed" not in result.stdout and not (tmp_path / "r").exists()


def test_the_run_gives_every_collected_check_without_records_an_error_record():
    from backprop_oracle.conformance import plugin
    run = plugin.Run.__new__(plugin.Run)
    checks = [Check("affine", c, "torch", "cpu", "float64") for c in ("batch3", "batch1", "wide")]
    run.by_id = {c.id: c for c in checks}
    run.collected_ids = set(run.by_id)
    run.finished_ids = {checks[0].id, checks[1].id}          # wide never reported back
    records = [record(case="batch3", quantity="out")]         # batch1's record file was lost
    missing = {r["case"]: r["message"] for r in run.missing(records, pytest.ExitCode.TESTS_FAILED)}
    assert set(missing) == {"batch1", "wide"}
    assert "left no record" in missing["batch1"] and "not run" in missing["wide"]
    interrupted = run.missing(records, pytest.ExitCode.INTERRUPTED)
    assert any("interrupted before this check" in r["message"] for r in interrupted)
    g = grading.grade(records + run.missing(records, 1))["overall"]
    assert (g["passed"], g["attempted"], g["errors"]) == (1, 3, 2) and g["percent"] == 33.3


def test_one_mistake_at_every_shape_is_one_problem(suite, tmp_path):
    """db = dout: (3, 5) on the plain cases, (2, 3, 5) with leading batch axes, (1, 3) where
    it cannot be told from keepdims: one row, naming the catalogue's entry."""
    result = suite("--impl", os.path.join(HERE, "learners", "mistake_not_summed.py"), "--op", "affine",
                   "--oracle", "torch,fd", "--dtype", "float64", "--report-dir", str(tmp_path))
    data = load_results(tmp_path / "results.json")
    rows = distinct_problems(data["records"])
    assert len(rows) == 1 and rows[0]["record"]["mistake"] == "db_not_summed", rows
    assert {"leading_dims", "batch1", "batch3"} <= set(rows[0]["cases"])
    assert result.stdout.count("rerun:") == 1
