"""Rules of the diagnosis for recurrent layers: which time steps, which gate blocks
are wrong. `hints` (from the op spec) say:

  recurrence: True              the op has a recurrence (RNN, LSTM, GRU, truncated BPTT);
                                time-distributed ops (time_affine, time_softmax_cross_entropy)
                                have a time axis but no gradient flowing from step t+1
  time_axis: {quantity: axis}   the time axis of a quantity
  seq_len                       T; gate rules read the summed weight gradients only at T = 1
  gates: {quantity: (axis, names)}  gate blocks of a stacked LSTM/GRU weight

What the rules can and cannot say. At T > 1 a mistake in one gate's derivative reaches
every gate block of dW: the wrong d a_X^t goes back into dh^{t-1} = W_hh^T d a^t and from
there into every gate at every earlier step. Only the last step's d a^{T-1} is wrong in
gate X alone, and the summed dW = sum_t d a^t [x^t]^T does not keep it apart (nor does
dx^{T-1} = d a^{T-1} W_ih, a sum over the gate blocks). So at T > 1 a gate is named by the
catalogue (a mistaken gate derivative, computed over the whole BPTT, matches at any T),
and the rules here say only what the blocks show: a block that alone is wrong, or blocks
that match in another order, which are facts about dW, never a guess about the cause.
"""
import numpy as np


def _close(a, b, tol):
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(a - b) <= tol.atol + tol.rtol * np.abs(b)))


def block_rules(a, b, tol, hints, quantity):
    """Recurrent layers: which time steps, which gate blocks are wrong."""
    return time_rule(a, b, tol, hints, quantity) or gate_rule(a, b, tol, hints, quantity)


def time_rule(a, b, tol, hints, quantity):
    """A gradient right at the last step and wrong before: what flows back in time is wrong.

    Only for an op with a recurrence and for a gradient (a forward output wrong at early
    steps says nothing about BPTT). The last step T-1 reads no gradient from a later step
    of the forward direction (only dout^{T-1} and dh_n), so when it alone is right, the
    mistake is in what step t+1 passes back to step t."""
    if not hints.get("recurrence") or not quantity.startswith("grad:"):
        return None
    axis = hints.get("time_axis", {}).get(quantity)
    if axis is None or a.ndim <= axis or a.shape[axis] < 2:
        return None
    steps = [not _close(np.take(a, t, axis), np.take(b, t, axis), tol)
             for t in range(a.shape[axis])]
    if not steps[-1] and any(steps[:-1]):
        first = max(t for t, wrong in enumerate(steps) if wrong)
        return ("right at the last time step but wrong at earlier ones (the latest wrong "
                f"step is t = {first} of T = {a.shape[axis]}): the gradient flowing back from "
                "step t+1 (dh, and dc for an LSTM) is dropped or wrong")
    return None


def gate_rule(a, b, tol, hints, quantity):
    gates = hints.get("gates", {}).get(quantity)
    if gates is None:
        return None
    g_axis, names = gates
    if a.ndim <= g_axis or a.shape[g_axis] % len(names):
        return None
    blocks = np.split(a, len(names), axis=g_axis)
    expected = np.split(b, len(names), axis=g_axis)
    order = _gate_order(blocks, expected, names, tol)
    if order:
        return (f"gate blocks in the wrong order: the blocks match when read in the "
                f"order {', '.join(order)}; expected {', '.join(names)}")
    wrong = [n for n, x, y in zip(names, blocks, expected) if not _close(x, y, tol)]
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
