"""Pieces shared by the adapters."""
import numpy as np


def flatten_batch(x):
    """x (..., D) as (n, D): the teaching styles take one batch axis."""
    return x.reshape(-1, x.shape[-1])


def is_one_hot(target):
    t = np.asarray(target)
    return t.ndim == 2 and np.isin(t, (0.0, 1.0)).all() and (t.sum(axis=1) == 1).all()


def class_labels(target, style):
    """Class indices from labels or one-hot rows; probability targets have no counterpart."""
    t = np.asarray(target)
    if np.issubdtype(t.dtype, np.integer):
        return t
    if is_one_hot(t):
        return t.argmax(axis=1)
    raise NotImplementedError(f"the {style} style's softmax loss takes class labels or one-hot "
                              f"rows; probability targets have no counterpart")


def reduction_scale(reduction, n, style):
    """The styles' loss is the batch mean; 'sum' is n times it, 'none' has no counterpart."""
    if reduction == "mean":
        return 1.0
    if reduction == "sum":
        return float(n)
    raise NotImplementedError(f"the {style} style's softmax loss averages over the batch; "
                              f"reduction={reduction!r} has no counterpart")


def permute_gates(w, order_from, order_to, axis=-1):
    """Reorder the gate blocks of a stacked weight along `axis`, e.g. ifgo -> fgio."""
    blocks = dict(zip(order_from, np.split(w, len(order_from), axis=axis)))
    return np.concatenate([blocks[g] for g in order_to], axis=axis)
