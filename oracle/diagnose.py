"""Say in plain words what is wrong with a gradient that does not match.

Each rule tests one common mistake against the expected value; the first that
explains the whole mismatch wins. `hints` come from the op spec and the case:
  batch_size, seq_len           sizes whose factors are worth naming
  time_axis: {quantity: axis}   the time axis of a recurrent quantity
  gates: {quantity: (axis, names)}  gate blocks of a stacked LSTM/GRU weight
"""
import numpy as np


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


def _block_rules(a, b, tol, hints, quantity):
    """Recurrent layers: which time steps, which gate blocks are wrong."""
    axis = hints.get("time_axis", {}).get(quantity)
    if axis is not None and a.ndim > axis and a.shape[axis] > 1:
        steps = [not _close(np.take(a, t, axis), np.take(b, t, axis), tol)
                 for t in range(a.shape[axis])]
        if not steps[-1] and any(steps[:-1]):
            return ("right at the last time step but wrong at earlier ones: "
                    "the gradient flowing back from step t+1 is dropped or wrong")
    gates = hints.get("gates", {}).get(quantity)
    if gates is not None:
        g_axis, names = gates
        if a.shape[g_axis] % len(names) == 0:
            blocks = np.split(a, len(names), axis=g_axis)
            expected = np.split(b, len(names), axis=g_axis)
            wrong = [n for n, x, y in zip(names, blocks, expected) if not _close(x, y, tol)]
            order = _gate_order(blocks, expected, names, tol)
            if order:
                return (f"gate blocks in the wrong order: the blocks match when read in the "
                        f"order {', '.join(order)}; expected {', '.join(names)}")
            if 0 < len(wrong) < len(names):
                return (f"wrong only in the gate block{'s' if len(wrong) > 1 else ''} "
                        f"{', '.join(wrong)} (gate order {', '.join(names)})")
    return None


def _gate_order(blocks, expected, names, tol):
    """The order in which the actual gate blocks are stacked, when it is a permutation."""
    order = []
    for x in blocks:
        match = [n for n, y in zip(names, expected) if _close(x, y, tol)]
        if len(match) != 1:
            return None
        order.append(match[0])
    return order if len(set(order)) == len(names) and order != list(names) else None


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
    block = _block_rules(a, b, tol, hints, quantity)
    if block:
        return block
    return _worst_elements(a, b, tol)


def _elementwise_close(a, b, tol):
    return np.abs(a - b) <= tol.atol + tol.rtol * np.abs(b)
