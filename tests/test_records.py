"""Records from several xdist workers merge into one results.json."""
import json

from backprop_oracle.conformance.plugin import Run
from backprop_oracle.reports.model import SchemaError, load_results, validate

import pytest


def test_parts_of_several_workers_merge_and_a_cut_line_is_dropped(tmp_path):
    (tmp_path / "gw0.jsonl").write_text(json.dumps({"op": "a", "n": 1}) + "\n"
                                        + json.dumps({"op": "a", "n": 2}) + "\n")
    (tmp_path / "gw1.jsonl").write_text(json.dumps({"op": "b", "n": 3}) + "\n" + '{"op": "b", "n"')
    run = Run.__new__(Run)
    run.parts_dir = str(tmp_path)
    records = run.read_parts()
    assert sorted(r["n"] for r in records) == [1, 2, 3]


def test_a_two_worker_run_holds_every_check_once(suite, tmp_path):
    result = suite("-n", "2", "--op", "add,mul,relu", "--report-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:]
    data = load_results(tmp_path / "results.json")
    keys = [(r["op"], r["case"], r["oracle"], r["device"], r["dtype"], r["quantity"])
            for r in data["records"]]
    assert len(keys) == len(set(keys))
    checks = {k[:5] for k in keys if "~" not in k[2]}  # torch~jax records ride on jax checks
    assert data["meta"]["checks_collected"] == data["meta"]["checks_finished"] == len(checks)
    assert data["meta"]["partial"] is False
    assert {"add", "mul", "relu"} == {k[0] for k in keys}
    assert not (tmp_path / ".parts").exists()


def test_schema_is_checked():
    with pytest.raises(SchemaError, match="schema 2"):
        validate({"schema": 2, "records": []})
    with pytest.raises(SchemaError, match="lacks"):
        validate({"schema": 1, "records": [{"op": "x"}]})
