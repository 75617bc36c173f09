"""Compare one quantity of the implementation with one witness.

For every quantity it reports: max absolute error, max relative error, the
margin (the worst |a - b| / (atol + rtol |b|); <= 1 passes), the index of the
worst element with both values there, and a diagnosis when it fails.
"""
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .diagnose import Diagnosis, explain


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
    diagnosis_ja: str = ""
    mistake: Optional[str] = None     # the catalogue entry the diagnosis names, if any

    def diagnosed(self, found):
        """Set the diagnosis (a oracle.diagnose.Diagnosis) in both languages."""
        self.diagnosis, self.diagnosis_ja, self.mistake = found.text, found.text_ja, found.mistake
        return self


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


def compare(actual, expected, tol, hints=None, quantity="", dtype=None):
    """Compare `actual` (the implementation) with `expected` (the witness); `dtype` is the
    check's dtype (a float32 array in a float64 check is diagnosed as such)."""
    try:
        a = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        name = type(actual).__name__
        return Comparison(False, None, None, None).diagnosed(Diagnosis(
            f"not a numeric array: got {name}", f"数値の配列ではない: {name} が返された"))
    b = np.asarray(expected, dtype=np.float64)

    def explained():
        return explain(np.asarray(actual), b, tol, hints or {}, quantity, dtype)

    if a.shape != b.shape:
        return Comparison(False, None, None, None).diagnosed(explained())
    if a.size == 0:
        return Comparison(True, 0.0, 0.0, 0.0)
    m = margins(a, b, tol.rtol, tol.atol)
    worst = np.unravel_index(int(np.argmax(m)), m.shape) if m.ndim else ()
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_err = np.abs(a - b)
        abs_err = np.where((a == b) | (np.isnan(a) & np.isnan(b)), 0.0, abs_err)
        rel_err = np.where(abs_err == 0, 0.0, abs_err / np.abs(b))
    passed = bool(m.max() <= 1.0)
    cmp = Comparison(
        passed=passed,
        max_abs=_finite_or_none(np.nan_to_num(abs_err, nan=np.inf).max()),
        max_rel=_finite_or_none(np.nan_to_num(rel_err, nan=np.inf).max()),
        margin=_finite_or_none(m.max()),
        worst_index=[int(i) for i in worst],
        expected_at_worst=float(b[worst]),
        actual_at_worst=float(a[worst]),
    )
    return cmp if passed else cmp.diagnosed(explained())
