"""The finite-difference witness against functions whose gradients are known in closed form."""
import types

import numpy as np
import pytest

from backprop_oracle.oracle import fd
from backprop_oracle.oracle.context import Context
from backprop_oracle.oracle.spec import Case, CaseData, OpSpec

NO_FRAMEWORKS = {"torch": "test op", "jax": "test op"}


class Cube:
    """y = x^3 * w (w a parameter): dL/dx = 3 x^2 w dout, dL/dw = x^3 dout."""

    def __init__(self, w):
        self.w = w

    def forward(self, x):
        return x ** 3 * self.w


class LogSumExp:
    """y = log sum exp(x) per row: dL/dx = softmax(x) dout."""

    def forward(self, x):
        m = x.max(axis=1, keepdims=True)
        return (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]


def _run(cls, data, dout):
    spec = OpSpec(name="t", family="test", impl=cls.__name__,
                  cases=[Case("c", lambda rng: data)], unavailable=NO_FRAMEWORKS)
    module = types.SimpleNamespace(**{cls.__name__: cls})
    ctx = Context(data=data, hp={}, dout=dout, dtype="float64", module=module, case="c")
    return fd.run(spec, ctx)


def test_full_check_matches_closed_form():
    rng = np.random.default_rng(1)
    x, w, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    result = _run(Cube, CaseData(inputs={"x": x}, params={"w": w}), dout)
    np.testing.assert_allclose(result["grad:x"], 3 * x ** 2 * w * dout, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(result["grad:w"], x ** 3 * dout, rtol=1e-8, atol=1e-9)


def test_projection_mode_above_the_size_threshold():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7))            # 35 elements > FULL_CHECK_MAX_ELEMENTS
    assert x.size > fd.FULL_CHECK_MAX_ELEMENTS
    dout = rng.standard_normal(5)
    result = _run(LogSumExp, CaseData(inputs={"x": x}), dout)
    projection = result["grad:x"]
    assert isinstance(projection, fd.Projection)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    exact = e / e.sum(axis=1, keepdims=True) * dout[:, None]
    np.testing.assert_allclose(projection.values, projection.project(exact), rtol=1e-7, atol=1e-9)
    # the directions are unit vectors, and a wrong gradient is visible along them
    norms = np.sqrt((projection.directions ** 2).sum(axis=(1, 2)))
    np.testing.assert_allclose(norms, 1.0)
    assert not np.allclose(projection.values, projection.project(2 * exact), rtol=1e-3)


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_step_scales_with_the_input(scale):
    """x^3 at |x| ~ 1000: the relative step keeps the estimate accurate."""
    x = np.array([[1.5, -2.0]]) * scale
    result = _run(Cube, CaseData(inputs={"x": x}, params={"w": np.ones((1, 2))}), np.ones((1, 2)))
    np.testing.assert_allclose(result["grad:x"], 3 * x ** 2, rtol=1e-7)
