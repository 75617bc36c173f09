"""Rules of the diagnosis for recurrent layers: which time steps, which gate blocks
are wrong. `hints` (from the op spec) give the time axis and the gate blocks of a
quantity: time_axis: {quantity: axis}, gates: {quantity: (axis, names)}."""
import numpy as np


def _close(a, b, tol):
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(a - b) <= tol.atol + tol.rtol * np.abs(b)))


def block_rules(a, b, tol, hints, quantity):
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
