"""The HTML report: pages, escaping, merging runs, witness comparisons, atomic files."""
import json
import os
import re

import numpy as np
import pytest

from backprop_oracle.oracle import engine, registry
from backprop_oracle.oracle.spec import Override
from backprop_oracle.reports import __main__ as cli
from backprop_oracle.reports.merge import MergeError, merge
from backprop_oracle.reports.model import SchemaError, counts, load_results, write_results
from backprop_oracle.reports.render import render


def record(op="affine", case="batch3", oracle="torch", device="cpu", dtype="float64",
           quantity="grad:W", status="pass", margin=1e-9, message="", diagnosis=""):
    spec = registry.get(op) if op in {s.name for s in registry.all_specs()} else None
    return {"op": op, "family": spec.family if spec else "elsewhere", "case": case,
            "oracle": oracle, "device": device, "dtype": dtype, "quantity": quantity,
            "status": status, "max_abs": None if margin is None else margin * 1e-7,
            "max_rel": None if margin is None else margin * 1e-7, "margin": margin,
            "atol": 1e-7, "rtol": 1e-7, "tolerance": "policy", "worst_index": [0, 1],
            "expected_at_worst": 0.5, "actual_at_worst": 0.5, "diagnosis": diagnosis,
            "message": message, "seconds": 0.001}


def meta(devices=("cpu",), impl_name="impl", host="box", partial=False):
    return {"impl": "impl (the answer key)", "impl_name": impl_name, "seed": 0,
            "oracles": ["torch", "jax", "fd"], "devices": list(devices), "devices_absent": {},
            "dtypes": ["float64", "float32"], "versions": {"numpy": "2", "torch": "2", "jax": "0"},
            "host": host, "started": "2026-01-01T00:00:00+00:00",
            "finished": "2026-01-01T00:01:00+00:00", "checks_collected": 2,
            "checks_finished": 2, "partial": partial, "partial_reason": ""}


def run_dir(tmp_path, name, records, **meta_args):
    directory = tmp_path / name
    write_results(str(directory / "results.json"), meta(**meta_args), records)
    return directory


def read(path):
    return path.read_text(encoding="utf-8")


def test_an_op_page_has_mathml_formulas_source_cases_checks_plot_and_rerun_commands(tmp_path):
    records = [record(), record(dtype="float32", margin=0.3), record(oracle="fd", margin=2.0,
                                                                      status="fail")]
    index = render({"meta": meta(), "records": records}, str(tmp_path))
    page = read(tmp_path / "ops" / "affine.html")
    assert "<math" in page                                        # MathML, no JavaScript for it
    assert re.findall(r"<script[^>]*>", page) == ['<script src="../report.js">']  # local
    assert "def backward" in page and "class Affine" in page      # the implementation's source
    for case in registry.get("affine").cases:                     # every case, rerunnable
        assert f'pytest conformance --op affine -k affine-{case.name}-' in page
    assert "batch size 1: db must still be a vector" in page     # a case's why
    grid = page.split('id="checks"')[1].split('id="not-passed"')[0]
    assert grid.count("<tr><th>batch3</th>") == 1                 # a row per case: its margins
    assert "3.0e-01" in grid and "1.0e-09" in grid and "2.0e+00" in grid
    failed = page.split('id="not-passed"')[1].split('id="source"')[0]
    assert failed.count("<tr><td>batch3<td>") == 1                # a row per record not passed
    plot = tmp_path / "ops" / "affine.svg"
    assert plot.exists() and plot.stat().st_size < 100_000 and 'src="affine.svg"' in page
    html = read(tmp_path / "index.html")
    assert 'href="ops/affine.html' in html and "1 fail" in html
    assert "test_op[affine-batch3-fd-cpu-float64]" in html           # rerun of the failure
    assert index == str(tmp_path / "index.html")


def test_text_from_the_implementation_is_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    records = [record(status="error", margin=None, message=f"ValueError: {evil}"),
               record(case=evil, status="fail", diagnosis=evil),
               record(op=evil, status="error", margin=None, message=evil)]
    render({"meta": dict(meta(), impl=evil, host=evil), "records": records}, str(tmp_path))
    pages = [tmp_path / "index.html", tmp_path / "tolerance.html", *(tmp_path / "ops").iterdir()]
    for page in pages:
        text = read(page)
        assert "<script>" not in text and "alert(1)</" not in text, page   # only report.js
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in read(tmp_path / "index.html")
    names = os.listdir(tmp_path / "ops")
    assert all("<" not in n and "/" not in n for n in names)


def test_the_tolerance_page_shows_the_policy_its_reasons_and_every_override(tmp_path, monkeypatch):
    reason = "float32 sums of 10^4 terms: measured 3e-4 relative error in torch"
    monkeypatch.setattr(registry.get("affine"), "overrides",
                        {"torch/float32": Override(rtol=1e-3, atol=1e-5, reason=reason)})
    render({"meta": meta(), "records": [record()]}, str(tmp_path))
    page = read(tmp_path / "tolerance.html")
    assert "finite differences" in page.lower()                 # the reasons of the policy
    assert "rtol 1e-07, atol 1e-07" in page                      # torch/float64 policy
    assert reason in page and "torch/float32" in page
    assert reason in read(tmp_path / "ops" / "affine.html")


def test_two_runs_on_different_devices_merge_into_one_report(tmp_path):
    cpu = run_dir(tmp_path, "cpu", [record(), record(oracle="fd")], host="cpu-box")
    cuda = run_dir(tmp_path, "cuda", [record(device="cuda"), record(device="cuda", dtype="float32"),
                                       record(oracle="fd")],  # fd runs on cpu on both boxes
                   devices=("cpu", "cuda"), host="gpu-box")
    out = tmp_path / "merged"
    assert cli.main(["merge", str(cpu), str(cuda / "results.json"), "-o", str(out)]) == 0
    merged = load_results(out / "results.json")
    assert merged["meta"]["devices"] == ["cpu", "cuda"]
    assert [r["host"] for r in merged["meta"]["runs"]] == ["cpu-box", "gpu-box"]
    assert sorted(r["device"] for r in merged["records"]) == ["cpu", "cpu", "cuda", "cuda"]
    html = read(out / "index.html")
    assert "torch@cpu" in html and "torch@cuda" in html and "gpu-box" in html
    assert "1 records of checks that an earlier run also holds" in html


def test_merge_refuses_another_implementation_or_schema(tmp_path, capsys):
    mine = run_dir(tmp_path, "mine", [record()])
    theirs = run_dir(tmp_path, "theirs", [record(device="cuda")], impl_name="student.py")
    with pytest.raises(MergeError, match="impl_name.*student.py"):
        merge([str(mine), str(theirs)])
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "results.json").write_text(json.dumps({"schema": 0, "records": []}))
    assert cli.main(["merge", str(mine), str(tmp_path / "old"), "-o", str(tmp_path / "o")]) == 2
    assert "schema 0, this version reads schemas 1 and 2" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_witnesses_are_compared_with_each_other_without_failing_the_implementation():
    spec = registry.get("affine")
    torch_check = engine.Check("affine", "batch3", "torch", "cpu", "float32")
    ctx = engine.context(torch_check, 99, engine.reference_impl)
    ones = {"out": np.ones((3, 5)), "grad:x": np.ones((3, 4))}
    assert engine.compare_witnesses(torch_check, spec, ctx, ones) == []  # kept for jax
    off = {"out": np.ones((3, 5)) * 1.01, "grad:x": np.ones((3, 4))}
    jax_check = engine.Check("affine", "batch3", "jax", "cpu", "float32")
    cross = engine.compare_witnesses(jax_check, spec, ctx, off)
    assert [(r["oracle"], r["quantity"], r["status"]) for r in cross] == [
        ("torch~jax", "out", "fail")]                                # the worst quantity
    assert "2 quantities compared" in cross[0]["message"] and "beyond tolerance: out" in \
        cross[0]["message"]
    assert counts(cross) == {s: 0 for s in counts([])}  # not counted as the implementation's


def test_a_jax_check_compares_with_torch_even_when_torch_ran_elsewhere():
    records = engine.run_check(engine.Check("affine", "wide", "jax", "cpu", "float64"), seed=7)
    cross = [r for r in records if r["oracle"] == "torch~jax"]
    assert len(cross) == 1 and cross[0]["status"] == "pass" and cross[0]["margin"] < 1e-3
    assert cross[0]["message"].startswith("4 quantities compared")  # out, grad:x, W, b


def test_a_failing_witness_comparison_does_not_fail_the_check(monkeypatch):
    from backprop_oracle.conformance import plugin
    check = engine.Check("affine", "batch3", "jax", "cpu", "float32")
    run = plugin.Run.__new__(plugin.Run)
    run.module, run.seed, written = None, 0, []
    run.write = written.extend
    monkeypatch.setattr(plugin, "run_check", lambda *a: [
        record(oracle="jax", dtype="float32"), record(oracle="torch~jax", status="fail", margin=3)])
    run.check(check)                                                 # does not raise
    assert [r["oracle"] for r in written] == ["jax", "torch~jax"]  # both recorded


def test_a_rerender_removes_pages_of_ops_no_longer_in_the_run(tmp_path):
    render({"meta": meta(), "records": [record(), record(op="relu", case="mixed")]}, str(tmp_path))
    assert (tmp_path / "ops" / "relu.html").exists()
    render({"meta": meta(), "records": [record()]}, str(tmp_path))
    assert not (tmp_path / "ops" / "relu.html").exists()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]  # atomic writes


def test_render_command_rerenders_a_run_beside_its_results(tmp_path, capsys):
    run = run_dir(tmp_path, "run", [record(), record(status="fail", margin=4.0)])
    assert cli.main(["render", str(run)]) == 0
    assert "1 pass, 1 fail" in capsys.readouterr().out
    assert (run / "index.html").exists() and (run / "ops" / "affine.html").exists()
    assert cli.main(["render", str(tmp_path / "nowhere")]) == 2
    assert "no results.json" in capsys.readouterr().err


def test_a_case_command_selects_exactly_the_checks_of_that_case(tmp_path):
    import shlex
    import subprocess
    import sys
    from backprop_oracle.reports.commands import case_command
    args = shlex.split(case_command("affine", "batch1"))[1:]   # without "pytest"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    out = subprocess.run([sys.executable, "-m", "pytest", *args, "--collect-only", "-q",
                          "-p", "no:cacheprovider", "--report-dir", str(tmp_path)],
                         cwd=root, env=env, capture_output=True, text=True, timeout=120).stdout
    collected = {line.split("[")[1].rstrip("]") for line in out.splitlines() if "test_op[" in line}
    devices = tuple(sorted({check_id.split("-")[-2] for check_id in collected}))  # cpu, cuda?
    assert "cpu" in devices
    expected = {c.id for c in engine.all_checks([registry.get("affine")], ("torch", "jax", "fd"),
                                                devices, ("float64", "float32"))
                if c.case == "batch1"}
    assert collected == expected


def test_a_tolerance_reason_is_written_once_and_read_back_in_every_record(tmp_path):
    reason = "override: " + "a long written reason " * 5
    records = [dict(record(case=c), tolerance=reason) for c in ("a", "b", "c")] + [record()]
    write_results(str(tmp_path / "results.json"), meta(), records)
    text = (tmp_path / "results.json").read_text(encoding="utf-8")
    assert text.count("a long written reason") == 5 and '"override #0"' in text
    back = load_results(tmp_path / "results.json")
    assert [r["tolerance"] for r in back["records"]] == [reason] * 3 + ["policy"]
    assert "tolerance_reasons" not in back["meta"]


def test_records_are_rows_under_fields_and_read_back_as_dicts(tmp_path):
    records = [record(case=c, quantity=q) for c in ("a", "b") for q in ("out", "grad:x")]
    records[0]["diagnosis"] = "dW is transposed"
    write_results(str(tmp_path / "results.json"), meta(), records)
    lines = (tmp_path / "results.json").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith('"fields":["op","family","case"')
    rows = [json.loads(line.rstrip(",")) for line in lines[3:-1]]
    assert len(rows) == 4 and all(isinstance(row, list) for row in rows)   # one line each
    assert load_results(tmp_path / "results.json")["records"] == records


def test_a_schema_1_run_still_loads_and_merges(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    records = [record(device="cuda")]
    (old / "results.json").write_text(json.dumps({"schema": 1, "meta": meta(devices=("cuda",)),
                                                  "records": records}))
    assert load_results(old / "results.json")["records"] == records
    new = run_dir(tmp_path, "new", [record()])
    merged = merge([str(new), str(old)])
    assert {r["device"] for r in merged["records"]} == {"cpu", "cuda"}


def test_a_row_of_the_wrong_length_is_named(tmp_path):
    write_results(str(tmp_path / "results.json"), meta(), [record()])
    text = (tmp_path / "results.json").read_text(encoding="utf-8").replace('"policy",', "", 1)
    (tmp_path / "results.json").write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match=f"record 0 is not a row of {len(record())} fields"):
        load_results(tmp_path / "results.json")
