"""Weight initializers: Xavier (Glorot) and He (Kaiming), the notes' Xavierの初期値 and Heの初期値.

    init = HeNormal()
    W = init((out_features, in_features), rng)     # rng: a numpy Generator

Shapes follow PyTorch's layout by default: (out, in) for a linear weight, (out, in, *kernel)
for a convolution. fan_in = in * receptive field, fan_out = out * receptive field, the
receptive field being the product of the remaining axes (torch.nn.init's rule). For the
book's Affine, whose W is (in, out), pass in_axis=0, out_axis=1 (as jax's variance_scaling).

    Xavier: std = gain sqrt(2 / (fan_in + fan_out));  uniform bound = gain sqrt(6 / (fan_in + fan_out))
    He:     std = sqrt(2 / fan);                      uniform bound = sqrt(6 / fan)   (fan = fan_in by default)

A uniform draw on [-a, a] has std a / sqrt(3): the uniform and normal forms share the std.
With fan_in = fan_out = n, Xavier's std is 1 / sqrt(n), the notes' Xavier initial value.
"""
import numpy as np

__all__ = ['fan_in_and_fan_out', 'XavierUniform', 'XavierNormal', 'HeUniform', 'HeNormal']


def fan_in_and_fan_out(shape, in_axis=1, out_axis=0):
    """(fan_in, fan_out) of a weight of this shape, as torch.nn.init._calculate_fan_in_and_fan_out
    for the default axes."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"fan_in_and_fan_out: a weight needs at least 2 dimensions to have a "
                         f"fan-in and a fan-out, got shape {shape}")
    in_axis, out_axis = in_axis % len(shape), out_axis % len(shape)
    if in_axis == out_axis:
        raise ValueError(f"fan_in_and_fan_out: in_axis and out_axis must differ, got {in_axis}")
    receptive_field = int(np.prod([s for axis, s in enumerate(shape) if axis not in (in_axis, out_axis)]))
    return shape[in_axis] * receptive_field, shape[out_axis] * receptive_field


class Initializer:
    """Draws a weight of a given shape; std(shape) is its target standard deviation."""

    uniform = False

    def __init__(self, in_axis=1, out_axis=0):
        self.in_axis, self.out_axis = in_axis, out_axis

    def fans(self, shape):
        return fan_in_and_fan_out(shape, self.in_axis, self.out_axis)

    def std(self, shape):
        raise NotImplementedError

    def bound(self, shape):
        """The half-width a of the uniform draw on [-a, a]: std * sqrt(3)."""
        return self.std(shape) * np.sqrt(3.0)

    def __call__(self, shape, rng=None, dtype=np.float64):
        rng = np.random.default_rng() if rng is None else rng
        if self.uniform:
            a = self.bound(shape)
            return rng.uniform(-a, a, size=shape).astype(dtype)
        return (self.std(shape) * rng.standard_normal(shape)).astype(dtype)


class XavierNormal(Initializer):
    """N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out))  (torch.nn.init.xavier_normal_)."""

    def __init__(self, gain=1.0, in_axis=1, out_axis=0):
        super().__init__(in_axis, out_axis)
        self.gain = gain

    def std(self, shape):
        fan_in, fan_out = self.fans(shape)
        return self.gain * np.sqrt(2.0 / (fan_in + fan_out))


class XavierUniform(XavierNormal):
    """U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out))  (torch.nn.init.xavier_uniform_)."""

    uniform = True


class HeNormal(Initializer):
    """N(0, std^2) with std = sqrt(2 / fan), fan = fan_in (mode='fan_in') or fan_out
    (torch.nn.init.kaiming_normal_ with its default nonlinearity, gain sqrt(2))."""

    def __init__(self, mode="fan_in", in_axis=1, out_axis=0):
        super().__init__(in_axis, out_axis)
        if mode not in ("fan_in", "fan_out"):
            raise ValueError(f"{type(self).__name__}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
        self.mode = mode

    def std(self, shape):
        fan_in, fan_out = self.fans(shape)
        return np.sqrt(2.0 / (fan_in if self.mode == "fan_in" else fan_out))


class HeUniform(HeNormal):
    """U(-a, a) with a = sqrt(6 / fan)  (torch.nn.init.kaiming_uniform_ with its default gain sqrt(2))."""

    uniform = True
