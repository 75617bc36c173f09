"""The worked example of every op page: the answer key's numbers on the op's smallest
case, and they are the numbers a witness agrees with."""
import numpy as np
import pytest

from backprop_oracle import impl
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import Check, implementation_result, run_check
from backprop_oracle.reports.worked import format_array, smallest_case, worked_example

ORACLES = ("torch", "fd", "jax", "golden")


def witness_for(spec, case):
    for oracle in ORACLES:
        if spec.applies(case, oracle)[0]:
            return oracle
    return None


@pytest.mark.parametrize("op", [s.name for s in registry.all_specs()])
def test_the_worked_example_is_the_answer_keys_and_a_witness_agrees(op):
    spec = registry.get(op)
    worked = worked_example(spec)
    assert worked is not None
    case, data = smallest_case(spec)
    assert worked["case"] == case.name
    given = sum(np.size(v) for part in (data.inputs, data.params, data.extra) for v in part.values())
    assert worked["numbers"] > given                      # the arrays given, and what came out
    check = Check(op, case.name, witness_for(spec, case), "cpu", "float64")
    computed = implementation_result(check, 0, impl)
    assert set(computed) == set(worked["quantities"])
    for name, value in computed.items():                  # the very arrays the check compares
        assert np.array_equal(np.asarray(value), np.asarray(worked["quantities"][name]), equal_nan=True)
    records = [r for r in run_check(check, impl) if "~" not in r["oracle"]]
    assert records and all(r["status"] in ("pass", "skipped") for r in records), \
        [(r["quantity"], r["status"], r["message"][:200]) for r in records if r["status"] != "pass"]
    shown = {e["name"] for e in worked["forward"] + worked["outputs"] + worked["backward"]}
    assert set(data.inputs) | set(data.params) <= shown
    assert any(e["name"].startswith("d") for e in worked["backward"]) or "impl" in spec.runners \
        or not data.inputs and not data.params


def test_the_smallest_affine_case_prints_every_number():
    worked = worked_example(registry.get("affine"))
    x = next(e for e in worked["forward"] if e["name"] == "x")
    assert x["text"].count(",") + 1 == x["value"].size            # every number, none elided
    assert worked["code"][0] == "layer = Affine(**params)"
    names = [e["name"] for e in worked["backward"]]
    assert names[:2] == ["dout", "dx"] and {"dW", "db"} <= set(names)


def test_format_array_rounds_and_elides_honestly():
    assert format_array(np.array([[1.23456, -2.0]])) == "[[1.235, -2]]"
    long = format_array(np.arange(300.0), limit=10)
    assert long.endswith("the first 10 of 300 numbers (row-major)")


def test_the_partial_renders_in_the_reports_environment_in_both_languages():
    from backprop_oracle.reports.render import _environment
    worked = worked_example(registry.get("lstm"))
    html = _environment("en").get_template("_worked.html").render(worked=worked)
    assert "Worked example" in html and "dweight_hh_l0" in html and "layer.backward(dout)" in html
    assert "upstream gradient" in html and "<b>" + worked["case"] + "</b>" in html
    ja = _environment("ja").get_template("_worked.html").render(worked=worked)
    assert "計算例" in ja and "逆伝播" in ja and "上流から伝わる勾配" in ja and "Worked example" not in ja
