"""Input checks shared by every layer.

A wrong shape must never turn into a silent NumPy broadcast: every layer checks
its arguments on the way in and raises an error that names the layer, the
argument, what was expected and what it got.
"""
from contextlib import contextmanager

import numpy as np


class ShapeError(ValueError):
    """An argument has the wrong shape or rank for the layer it was given to."""


def _where(layer, arg):
    owner = layer if isinstance(layer, str) else type(layer).__name__
    return f"{owner}: argument '{arg}'"


def float_array(layer, arg, x, ndim=None, min_ndim=None):
    """Return x as a floating-point ndarray, or raise a clear error.

    Integer or boolean arrays are refused (a gradient of an integer is
    meaningless and silently casting would hide a learner's mistake).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{_where(layer, arg)} must be a floating-point array, "
                        f"got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ShapeError(f"{_where(layer, arg)} must have {ndim} dimensions, "
                         f"got shape {x.shape}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise ShapeError(f"{_where(layer, arg)} must have at least {min_ndim} "
                         f"dimensions, got shape {x.shape}")
    return x


def int_array(layer, arg, x, ndim=None, low=0, high=None):
    """Return x as an integer ndarray with values in [low, high), or raise."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"{_where(layer, arg)} must be an integer array, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ShapeError(f"{_where(layer, arg)} must have {ndim} dimensions, got shape {x.shape}")
    if x.size and (x.min() < low or (high is not None and x.max() >= high)):
        raise ValueError(f"{_where(layer, arg)} must hold values in [{low}, {high}), "
                         f"got min {x.min()} and max {x.max()}")
    return x


def same_shape(layer, arg, x, expected_shape, what="expected"):
    """Raise unless x.shape == expected_shape."""
    if tuple(x.shape) != tuple(expected_shape):
        raise ShapeError(f"{_where(layer, arg)} must have shape {tuple(expected_shape)} "
                         f"({what}), got {tuple(x.shape)}")
    return x


def dim_equals(layer, arg, x, axis, size, what):
    """Raise unless x.shape[axis] == size."""
    if x.shape[axis] != size:
        raise ShapeError(f"{_where(layer, arg)} must have size {size} on axis {axis} "
                         f"({what}), got shape {x.shape}")
    return x


def axis_in_range(layer, arg, x, axis):
    """Raise unless `axis` names an axis of x (negative axes count from the end)."""
    if not -x.ndim <= axis < x.ndim:
        raise ShapeError(f"{_where(layer, arg)}: axis {axis} is out of range for shape {x.shape}")
    return axis


def upstream(layer, dout, out_shape):
    """Check the upstream gradient: same shape as the forward output."""
    dout = float_array(layer, "dout", dout)
    return same_shape(layer, "dout", dout, out_shape, "the shape of the forward output")


def scalar_upstream(layer, dout):
    """The upstream gradient of a scalar output (a loss): a 0-d float, returned as a Python float."""
    value = np.asarray(dout)
    if value.ndim != 0:
        raise ShapeError(f"{_where(layer, 'dout')} must be a scalar (the output is a scalar loss), "
                         f"got shape {value.shape}")
    if not np.issubdtype(value.dtype, np.floating) and not np.issubdtype(value.dtype, np.integer):
        raise TypeError(f"{_where(layer, 'dout')} must be a real number, got dtype {value.dtype}")
    return float(value)


def require_forward(layer, *attributes):
    """backward() before forward() is a usage error, not an AttributeError."""
    for name in attributes:
        if getattr(layer, name, None) is None:
            raise RuntimeError(f"{type(layer).__name__}.backward called before forward")


@contextmanager
def inner_layer(layer, part, names):
    """An error raised inside a composite's inner layer, told in the composite's terms.

    `names` maps the inner layer's argument names to the composite's (Conv2d's 'W' is
    CNN's 'conv_W'), so the message names the argument the caller actually passed.
    """
    try:
        yield
    except (TypeError, ValueError) as err:
        message = str(err)
        for inner, outer in names.items():
            message = message.replace(f"argument '{inner}'", f"argument '{outer}'")
        owner = layer if isinstance(layer, str) else type(layer).__name__
        raise type(err)(f"{owner} ({part}): {message}") from err
