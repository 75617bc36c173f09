"""The comparison (margin, worst index) and the tolerance policy."""
import numpy as np
import pytest

from backprop_oracle.oracle.compare import compare, margins
from backprop_oracle.oracle.spec import Case, CaseData, OpSpec, Override
from backprop_oracle.oracle.tolerance import POLICY, Tolerance, tolerance

TOL = Tolerance(rtol=1e-3, atol=1e-6, source="policy")


def test_margin_is_error_over_allowed_error():
    expected = np.array([1.0, 2.0, -4.0])
    actual = np.array([1.0, 2.001, -4.0])
    c = compare(actual, expected, TOL)
    allowed = 1e-6 + 1e-3 * 2.0
    assert c.margin == pytest.approx(0.001 / allowed)
    assert c.passed and c.worst_index == [1]
    assert c.max_abs == pytest.approx(0.001) and c.max_rel == pytest.approx(0.0005)


def test_a_failure_has_the_worst_element_and_a_diagnosis():
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    actual = expected.copy()
    actual[1, 2] += 1.0
    c = compare(actual, expected, TOL)
    assert not c.passed and c.margin > 1
    assert c.worst_index == [1, 2]
    assert (c.expected_at_worst, c.actual_at_worst) == (6.0, 7.0)
    assert "at (1, 2) expected 6, got 7" in c.diagnosis


def test_nan_where_a_number_is_expected_fails():
    c = compare(np.array([1.0, np.nan]), np.array([1.0, 2.0]), TOL)
    assert not c.passed and "NaN" in c.diagnosis


def test_equal_nans_and_infinities_agree():
    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    assert compare(x, x.copy(), TOL).passed
    assert np.all(margins(x, x, 1e-3, 1e-6) == 0)


def test_shape_mismatch_fails_without_broadcasting():
    c = compare(np.ones((3, 4)), np.ones(4), TOL)
    assert not c.passed and c.margin is None
    assert "shape" in c.diagnosis


def _spec(**overrides):
    return OpSpec(name="t", family="test", impl="T", cases=[Case("c", lambda r: CaseData({}))],
                  unavailable={"torch": "-", "jax": "-"}, overrides=overrides)


def test_policy_table_covers_every_witness_and_dtype():
    for oracle in ("torch", "jax", "fd", "golden"):
        for dtype in ("float64", "float32"):
            rtol, atol = POLICY[(oracle, dtype)]
            assert 0 < rtol < 1e-2 and 0 < atol < 1e-2
            assert tolerance(_spec(), oracle, dtype).source == "policy"
    # float32 is looser than float64 for every witness
    for oracle in ("torch", "jax", "fd"):
        assert POLICY[(oracle, "float32")][0] > POLICY[(oracle, "float64")][0]


def test_override_carries_its_reason_and_most_specific_wins():
    spec = _spec(**{"fd": Override(1e-4, 1e-6, "curvature"),
                    "fd/float32": Override(1e-3, 1e-5, "float32 curvature")})
    assert tolerance(spec, "fd", "float64") == Tolerance(1e-4, 1e-6, "override: curvature")
    assert tolerance(spec, "fd", "float32").source == "override: float32 curvature"
    assert tolerance(spec, "torch", "float64").source == "policy"
