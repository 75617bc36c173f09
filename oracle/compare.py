"""Compare one quantity of the implementation with one witness.

For every quantity it reports: max absolute error, max relative error, the
margin (the worst |a - b| / (atol + rtol |b|); <= 1 passes), the index of the
worst element with both values there, and a diagnosis when it fails.
"""
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .diagnose import diagnose


@dataclass
class Comparison:
    passed: bool
    max_abs: Optional[float]
    max_rel: Optional[float]
    margin: Optional[float]
    worst_index: list = field(default_factory=list)
    expected_at_worst: Optional[float] = None
    actual_at_worst: Optional[float] = None
    diagnosis: str = ""


def _finite_or_none(x):
    x = float(x)
    return x if np.isfinite(x) else None


def margins(actual, expected, rtol, atol):
    """|a - b| / (atol + rtol |b|) element-wise; equal NaNs and equal infinities count as 0."""
    a = np.asarray(actual, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        m = np.abs(a - b) / (atol + rtol * np.abs(b))
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    m = np.where(same, 0.0, m)
    return np.where(np.isnan(m), np.inf, m)


def close(actual, expected, tol):
    a, b = np.asarray(actual), np.asarray(expected)
    return a.shape == b.shape and bool(np.all(margins(a, b, tol.rtol, tol.atol) <= 1.0))


def compare(actual, expected, tol, hints=None, quantity=""):
    """Compare `actual` (the implementation) with `expected` (the witness)."""
    try:
        a = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return Comparison(False, None, None, None,
                          diagnosis=f"not a numeric array: got {type(actual).__name__}")
    b = np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        return Comparison(False, None, None, None,
                          diagnosis=diagnose(a, b, tol, hints or {}, quantity))
    if a.size == 0:
        return Comparison(True, 0.0, 0.0, 0.0)
    m = margins(a, b, tol.rtol, tol.atol)
    worst = np.unravel_index(int(np.argmax(m)), m.shape) if m.ndim else ()
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_err = np.abs(a - b)
        abs_err = np.where((a == b) | (np.isnan(a) & np.isnan(b)), 0.0, abs_err)
        rel_err = np.where(abs_err == 0, 0.0, abs_err / np.abs(b))
    passed = bool(m.max() <= 1.0)
    return Comparison(
        passed=passed,
        max_abs=_finite_or_none(np.nan_to_num(abs_err, nan=np.inf).max()),
        max_rel=_finite_or_none(np.nan_to_num(rel_err, nan=np.inf).max()),
        margin=_finite_or_none(m.max()),
        worst_index=[int(i) for i in worst],
        expected_at_worst=float(b[worst]),
        actual_at_worst=float(a[worst]),
        diagnosis="" if passed else diagnose(a, b, tol, hints or {}, quantity),
    )
