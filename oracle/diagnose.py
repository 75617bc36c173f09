"""Say in plain words what is wrong with a gradient that does not match.

Each rule tests one common mistake against the expected value; the first that
explains the whole mismatch wins. `hints` come from the op spec and the case:
  batch_size, seq_len           sizes whose factors are worth naming
  time_axis: {quantity: axis}   the time axis of a recurrent quantity
  gates: {quantity: (axis, names)}  gate blocks of a stacked LSTM/GRU weight
"""
import numpy as np

from .diagnose_recurrent import block_rules


def _close(a, b, tol):
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(a - b) <= tol.atol + tol.rtol * np.abs(b)))


def _named_factor(c, hints):
    """A name for the constant factor c, when it is one worth naming."""
    names = [(2.0, "2"), (0.5, "1/2")]
    for key, label in (("batch_size", "the batch size N"), ("seq_len", "the sequence length T")):
        n = hints.get(key)
        if n and n > 1:
            names += [(float(n), f"{label}={n}"), (1.0 / n, f"1 / {label}={n}")]
    for value, label in names:
        if abs(c - value) <= 1e-3 * abs(value):
            return label
    return None


def _shape_rules(a, b, tol):
    extra = a.ndim - b.ndim
    if extra > 0 and a.shape[extra:] == b.shape and _close(a.sum(axis=tuple(range(extra))), b, tol):
        axes = "axis 0" if extra == 1 else f"axes {', '.join(map(str, range(extra)))}"
        return (f"not summed over the batch: shape {a.shape}, expected {b.shape}; "
                f"summing over {axes} gives the right answer")
    if a.ndim == b.ndim == 2 and a.shape == b.shape[::-1] and _close(a.T, b, tol):
        return f"transposed: shape {a.shape}, expected {b.shape}, and its transpose matches"
    if a.size == b.size and _close(a.reshape(b.shape), b, tol):
        return f"right values in the wrong shape: {a.shape}, expected {b.shape}"
    return f"wrong shape: {a.shape}, expected {b.shape}"


def _worst_elements(a, b, tol, count=3):
    err = np.abs(a - b) / (tol.atol + tol.rtol * np.abs(b))
    err = np.where(np.isnan(err), np.inf, err).ravel()
    parts = []
    for flat in np.argsort(-err)[:count]:
        index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
        parts.append(f"at {index} expected {b[index]:.6g}, got {a[index]:.6g}")
    return "worst elements: " + "; ".join(parts)


def diagnose(actual, expected, tol, hints, quantity=""):
    a, b = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        return _shape_rules(a, b, tol)
    bad = ~np.isfinite(a) & np.isfinite(b)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        return f"NaN or inf in {int(bad.sum())} of {a.size} elements (first at {first})"
    if a.size == 0:
        return ""
    if not np.any(a) and np.any(b):
        return f"zero everywhere, expected non-zero values (max |expected| {np.abs(b).max():.3g})"
    wrong_zero = (a == 0) & ~_elementwise_close(a, b, tol)
    if wrong_zero.any() and _close(np.where(wrong_zero, b, a), b, tol):
        return (f"zero where it should not be: {int(wrong_zero.sum())} of {a.size} "
                f"elements are 0 and are the only ones wrong")
    if _close(-a, b, tol):
        return "sign flipped: the negative of the expected value"
    if a.ndim == 2 and a.shape[0] == a.shape[1] and _close(a.T, b, tol):
        return "transposed: its transpose matches"
    dot = float((b * b).sum())
    if dot > 0:
        c = float((a * b).sum()) / dot
        if c != 0 and _close(a, c * b, tol) and abs(c - 1) > 1e-6:
            name = _named_factor(c, hints)
            return (f"off by a constant factor: actual = {c:.6g} x expected"
                    + (f" (a factor of {name})" if name else ""))
    block = block_rules(a, b, tol, hints, quantity)
    if block:
        return block
    return _worst_elements(a, b, tol)


def _elementwise_close(a, b, tol):
    return np.abs(a - b) <= tol.atol + tol.rtol * np.abs(b)
