"""The structural rules say only what the numbers show, in English and in Japanese."""
import numpy as np
import pytest

from backprop_oracle.oracle.diagnose import diagnose, explain
from backprop_oracle.oracle.tolerance import Tolerance

TOL = Tolerance(1e-7, 1e-7, "policy")
RNG = np.random.default_rng(0)


def test_a_scalar_gets_both_values_and_no_constant_factor():
    found = explain(np.float64(0.23 * 1.7), np.float64(1.7), TOL, {}, "out")
    assert "constant factor" not in found.text
    assert "got 0.391" in found.text and "expected 1.7" in found.text
    assert "期待値 1.7" in found.text_ja


def test_a_scalar_ratio_that_is_a_named_factor_is_said_as_a_ratio():
    found = explain(np.float64(8.0), np.float64(2.0), TOL, {"batch_size": 4}, "out")
    assert "ratio is exactly the batch size N=4" in found.text and "constant factor" not in found.text
    assert "バッチサイズ N=4" in found.text_ja


def test_a_scalar_with_a_tiny_difference_points_at_an_eps():
    found = explain(np.float64(1.0 + 3e-7), np.float64(1.0), TOL, {}, "out")
    assert "1e-7 inside a log" in found.text


def test_a_factor_needs_enough_elements():
    expected = np.array([1.5, -2.0])
    assert "constant factor" not in diagnose(0.23 * expected, expected, TOL, {})
    expected = RNG.standard_normal((3, 4))
    assert diagnose(0.23 * expected, expected, TOL, {}) == "off by a constant factor: actual = 0.23 x expected"


def test_two_elements_still_name_a_named_factor():
    expected = np.array([1.5, -2.0])
    text = diagnose(2 * expected, expected, TOL, {})
    assert text == "off by a constant factor: actual = 2 x expected (a factor of 2)"


def test_a_keepdims_row_is_not_called_unsummed():
    expected = RNG.standard_normal(5)
    found = explain(expected[None, :], expected, TOL, {}, "grad:b")
    assert found.text.startswith("right values with an extra leading axis of size 1: shape (1, 5), expected (5,)")
    assert "not summed" not in found.text and "keepdims" in found.text_ja


def test_a_batch_of_rows_is_called_unsummed():
    rows = RNG.standard_normal((4, 5))
    assert diagnose(rows, rows.sum(axis=0), TOL, {}).startswith("not summed over the batch")


def test_a_float32_array_in_a_float64_check_is_named():
    expected = RNG.standard_normal((3, 4)) * 1e3
    actual = (expected * (1 + 1e-6)).astype(np.float32)
    found = explain(actual, expected, TOL, {}, "grad:x", dtype="float64")
    assert found.text.startswith("returned float32 in a float64 check") and "dtype='f'" in found.text


def test_float32_values_in_a_float64_array_are_named():
    expected = 1e3 * RNG.standard_normal((3, 4))
    actual = expected.astype(np.float32).astype(np.float64)
    found = explain(actual, expected, Tolerance(1e-12, 1e-12, "tight"), {}, "grad:x", dtype="float64")
    assert found.text.startswith("float32 values in a float64 check")


def test_float32_rules_keep_quiet_in_a_float32_check():
    expected = RNG.standard_normal((3, 4))
    actual = 2 * expected.astype(np.float32)
    assert "float32" not in explain(actual, expected, TOL, {}, "grad:x", dtype="float32").text


@pytest.mark.parametrize("actual, expected", [
    (np.zeros((2, 3)), np.ones((2, 3))),
    (-np.arange(1.0, 7.0).reshape(2, 3), np.arange(1.0, 7.0).reshape(2, 3)),
    (np.array([[1.0, np.nan]]), np.array([[1.0, 2.0]])),
    (np.ones((3, 2)), np.ones((2, 3))),
    (RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))),
    (np.float64(3.0), np.float64(2.0)),
])
def test_every_rule_speaks_japanese_too(actual, expected):
    found = explain(actual, expected, TOL, {}, "grad:x")
    assert found.text and found.text_ja and found.text_ja != found.text
