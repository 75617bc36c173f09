"""Bad input to the convolution, pooling, normalization and composite layers raises a
clear error naming the layer, the argument, and what was expected and got; never a
NumPy broadcast or an IndexError from deep inside."""
import types

import numpy as np
import pytest

from backprop_oracle import impl
from backprop_oracle.impl import ShapeError

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def conv2d():
    return impl.Conv2d(randn(6, 4, 3, 3), randn(6))


def make_cnn():
    return impl.CNN(randn(3, 2, 3, 3), randn(3), np.ones(3), np.zeros(3), randn(27, 4), randn(4))


# (layer factory, forward arguments, exception, fragments the message must contain)
BAD_FORWARD = [
    ("conv2d rank", conv2d, (randn(5, 6),), ShapeError, ["Conv2d", "'x'", "4 dimensions", "(5, 6)"]),
    ("conv2d channels", conv2d, (randn(2, 3, 5, 6),), ShapeError,
     ["Conv2d", "'x'", "size 4 on axis 1", "(2, 3, 5, 6)"]),
    ("conv2d int", conv2d, (np.ones((2, 4, 5, 6), dtype=int),), TypeError, ["Conv2d", "'x'", "int"]),
    ("conv2d too small", conv2d, (randn(2, 4, 2, 6),), ShapeError, ["Conv2d", "'x'", "(2, 4, 2, 6)", "kernel"]),
    ("conv2d groups channels", lambda: impl.Conv2d(randn(6, 2, 3, 3), randn(6), groups=2),
     (randn(2, 2, 5, 6),), ShapeError, ["Conv2d", "'x'", "size 4 on axis 1"]),
    ("depthwise channels", lambda: impl.DepthwiseConv2d(randn(3, 1, 3, 3), randn(3)),
     (randn(2, 4, 5, 6),), ShapeError, ["DepthwiseConv2d", "'x'", "size 3 on axis 1"]),
    ("conv1d rank", lambda: impl.Conv1d(randn(4, 3, 3), randn(4)), (randn(2, 3, 1, 9),), ShapeError,
     ["Conv1d", "'x'", "3 dimensions", "(2, 3, 1, 9)"]),
    ("conv1d channels", lambda: impl.Conv1d(randn(4, 3, 3), randn(4)), (randn(2, 5, 9),), ShapeError,
     ["Conv1d", "'x'", "size 3 on axis 1"]),
    ("causal int", lambda: impl.CausalConv1d(randn(4, 3, 2), randn(4)),
     (np.ones((2, 3, 9), dtype=np.int32),), TypeError, ["CausalConv1d", "'x'", "int32"]),
    ("transposed channels", lambda: impl.ConvTranspose2d(randn(4, 3, 3, 3), randn(3)),
     (randn(2, 3, 3, 4),), ShapeError, ["ConvTranspose2d", "'x'", "size 4 on axis 1"]),
    ("max_pool rank", lambda: impl.MaxPool2d(2), (randn(6, 7),), ShapeError,
     ["MaxPool2d", "'x'", "4 dimensions", "(6, 7)"]),
    ("max_pool too small", lambda: impl.MaxPool2d(3), (randn(1, 1, 2, 7),), ShapeError,
     ["MaxPool2d", "'x'", "(1, 1, 2, 7)"]),
    ("avg_pool int", lambda: impl.AvgPool2d(2), (np.ones((1, 1, 4, 4), dtype=int),), TypeError,
     ["AvgPool2d", "'x'", "int"]),
    ("global_avg rank", lambda: impl.GlobalAvgPool2d(), (randn(2, 3),), ShapeError,
     ["GlobalAvgPool2d", "'x'", "4 dimensions", "(2, 3)"]),
    ("batch_norm channels", lambda: impl.BatchNorm(np.ones(3), np.zeros(3)), (randn(4, 5),), ShapeError,
     ["BatchNorm", "'x'", "size 3 on axis 1", "(4, 5)"]),
    ("batch_norm one value", lambda: impl.BatchNorm(np.ones(3), np.zeros(3)), (randn(1, 3),), ShapeError,
     ["BatchNorm", "'x'", "(1, 3)", "at least two"]),
    ("batch_norm int", lambda: impl.BatchNorm(np.ones(3), np.zeros(3)),
     (np.ones((4, 3), dtype=int),), TypeError, ["BatchNorm", "'x'", "int"]),
    ("layer_norm trailing", lambda: impl.LayerNorm(np.ones(5), np.zeros(5)), (randn(5, 4),), ShapeError,
     ["LayerNorm", "'x'", "(5,)", "(5, 4)"]),
    ("instance_norm rank", lambda: impl.InstanceNorm(np.ones(3), np.zeros(3)), (randn(4, 3),), ShapeError,
     ["InstanceNorm", "'x'", "at least 3 dimensions", "(4, 3)"]),
    ("group_norm channels", lambda: impl.GroupNorm(np.ones(4), np.zeros(4), 2), (randn(2, 6, 3),),
     ShapeError, ["GroupNorm", "'x'", "size 4 on axis 1"]),
    ("cnn features", make_cnn, (randn(2, 2, 4, 4), np.array([0, 1])), ShapeError,
     ["CNN", "'x'", "(2, 2, 4, 4)", "fc_W", "27"]),
    ("residual channels", lambda: impl.ResidualBlock(randn(3, 3, 3, 3), randn(3), randn(3, 3, 3, 3), randn(3)),
     (randn(2, 4, 5, 6),), ShapeError, ["ResidualBlock", "'x'", "size 3 on axis 1"]),
    ("cnn channels", make_cnn, (randn(2, 3, 6, 6), np.array([0, 1])), ShapeError,
     ["CNN", "'x'", "size 2 on axis 1", "(2, 3, 6, 6)"]),
    ("cnn labels", make_cnn, (randn(2, 2, 6, 6), np.array([0, 1, 2])), ShapeError,
     ["CNN (loss)", "SoftmaxCrossEntropy", "argument 't'", "(2,)", "(3,)"]),
]

# (constructor, exception, fragments)
BAD_CONSTRUCTOR = [
    ("conv2d W rank", lambda: impl.Conv2d(randn(6, 4, 3), randn(6)), ShapeError,
     ["Conv2d", "'W'", "4 dimensions", "(6, 4, 3)"]),
    ("conv2d bias", lambda: impl.Conv2d(randn(6, 4, 3, 3), randn(4)), ShapeError,
     ["Conv2d", "'b'", "(6,)", "(4,)"]),
    ("conv2d int W", lambda: impl.Conv2d(np.ones((6, 4, 3, 3), dtype=int), randn(6)), TypeError,
     ["Conv2d", "'W'", "int"]),
    ("conv2d groups", lambda: impl.Conv2d(randn(6, 2, 3, 3), randn(6), groups=4), ValueError,
     ["Conv2d", "groups", "6"]),
    ("conv2d stride", lambda: impl.Conv2d(randn(6, 4, 3, 3), randn(6), stride=0), ValueError,
     ["Conv2d", "stride", "0"]),
    ("depthwise W", lambda: impl.DepthwiseConv2d(randn(3, 2, 3, 3), randn(3)), ShapeError,
     ["DepthwiseConv2d", "'W'", "size 1 on axis 1", "(3, 2, 3, 3)"]),
    ("transposed bias", lambda: impl.ConvTranspose2d(randn(4, 3, 3, 3), randn(4)), ShapeError,
     ["ConvTranspose2d", "'b'", "(3,)", "(4,)"]),
    ("transposed output_padding", lambda: impl.ConvTranspose2d(randn(4, 3, 3, 3), randn(3), output_padding=1),
     ValueError, ["ConvTranspose2d", "output_padding"]),
    ("max_pool padding", lambda: impl.MaxPool2d(2, padding=2), ValueError, ["MaxPool2d", "padding"]),
    ("batch_norm beta", lambda: impl.BatchNorm(np.ones(3), np.zeros(4)), ShapeError,
     ["BatchNorm", "'beta'", "(3,)", "(4,)"]),
    ("batch_norm running_var", lambda: impl.BatchNorm(np.ones(3), np.zeros(3), running_var=np.ones(2)),
     ShapeError, ["BatchNorm", "'running_var'", "(3,)", "(2,)"]),
    ("group_norm groups", lambda: impl.GroupNorm(np.ones(4), np.zeros(4), 3), ValueError,
     ["GroupNorm", "num_groups", "4"]),
    ("layer_norm beta", lambda: impl.LayerNorm(np.ones((3, 5)), np.zeros(5)), ShapeError,
     ["LayerNorm", "'beta'", "(3, 5)", "(5,)"]),
    ("cnn gamma", lambda: impl.CNN(randn(3, 2, 3, 3), randn(3), np.ones(4), np.zeros(4), randn(27, 4), randn(4)),
     ShapeError, ["CNN", "'bn_gamma'", "(4,)"]),
    ("residual even kernel", lambda: impl.ResidualBlock(randn(3, 3, 2, 2), randn(3), randn(3, 3, 2, 2), randn(3)),
     ShapeError, ["ResidualBlock", "'W1'", "(3, 3, 2, 2)"]),
]


def _assert_message(info, fragments):
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from the error message: {message}"


@pytest.mark.parametrize("name, factory, args, error, fragments", BAD_FORWARD,
                         ids=[case[0] for case in BAD_FORWARD])
def test_bad_forward_input(name, factory, args, error, fragments):
    layer = factory()
    with pytest.raises(error) as info:
        layer.forward(*args)
    _assert_message(info, fragments)


@pytest.mark.parametrize("name, factory, error, fragments", BAD_CONSTRUCTOR,
                         ids=[case[0] for case in BAD_CONSTRUCTOR])
def test_bad_constructor_argument(name, factory, error, fragments):
    with pytest.raises(error) as info:
        factory()
    _assert_message(info, fragments)


UPSTREAM = [
    ("conv2d", conv2d, (randn(2, 4, 5, 6),)),
    ("conv1d", lambda: impl.Conv1d(randn(4, 3, 3), randn(4)), (randn(2, 3, 9),)),
    ("causal_conv1d", lambda: impl.CausalConv1d(randn(4, 3, 2), randn(4)), (randn(2, 3, 9),)),
    ("conv_transpose2d", lambda: impl.ConvTranspose2d(randn(4, 3, 3, 3), randn(3)), (randn(2, 4, 3, 4),)),
    ("max_pool2d", lambda: impl.MaxPool2d(2), (randn(2, 3, 6, 7),)),
    ("avg_pool2d", lambda: impl.AvgPool2d(2), (randn(2, 3, 6, 7),)),
    ("global_avg_pool2d", lambda: impl.GlobalAvgPool2d(), (randn(2, 3, 6, 7),)),
    ("batch_norm", lambda: impl.BatchNorm(np.ones(3), np.zeros(3)), (randn(4, 3, 2, 2),)),
    ("layer_norm", lambda: impl.LayerNorm(np.ones(5), np.zeros(5)), (randn(4, 5),)),
    ("instance_norm", lambda: impl.InstanceNorm(np.ones(3), np.zeros(3)), (randn(2, 3, 4),)),
    ("group_norm", lambda: impl.GroupNorm(np.ones(4), np.zeros(4), 2), (randn(2, 4, 3),)),
    ("residual_block", lambda: impl.ResidualBlock(randn(3, 3, 3, 3), randn(3), randn(3, 3, 3, 3), randn(3)),
     (randn(2, 3, 5, 6),)),
]


@pytest.mark.parametrize("name, factory, args", UPSTREAM, ids=[case[0] for case in UPSTREAM])
def test_upstream_gradient_of_the_wrong_shape(name, factory, args):
    layer = factory()
    out = layer.forward(*args)
    with pytest.raises(ShapeError) as info:
        layer.backward(np.ones(out.shape + (1,)))
    assert "'dout'" in str(info.value) and str(tuple(out.shape)) in str(info.value)


@pytest.mark.parametrize("name, factory, args", UPSTREAM, ids=[case[0] for case in UPSTREAM])
def test_backward_before_forward(name, factory, args):
    layer = factory()
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones(1))


# ---- A changed convention must fail: mutants of the answer key, each caught by the case made for it

from backprop_oracle.oracle import registry                      # noqa: E402
from backprop_oracle.oracle.engine import Check, run_check       # noqa: E402


class MaxPoolLastMaximum(impl.MaxPool2d):
    """Gives a tied window's gradient to its LAST maximum instead of the first."""

    def forward(self, x):
        out = super().forward(x)
        windows = impl.conv.im2col(x, self.kernel, self.stride, self.padding, pad_value=-np.inf)
        flat = windows.reshape(*out.shape, -1)
        self.argmax = flat.shape[-1] - 1 - flat[..., ::-1].argmax(axis=-1)
        return out


class BatchNormBiasedRunningVar(impl.BatchNorm):
    """Updates the running variance with the biased batch variance (CS231n), not the unbiased."""

    def forward(self, x):
        old = self.running_var.copy()
        out = super().forward(x)
        self.running_var = (1 - self.momentum) * old + self.momentum * x.var(axis=self.axes)
        return out


class BatchNormMomentumOnOld(impl.BatchNorm):
    """Reads momentum as the weight of the OLD running mean (CS231n's 0.9 convention)."""

    def forward(self, x):
        old = self.running_mean.copy()
        out = super().forward(x)
        self.running_mean = self.momentum * old + (1 - self.momentum) * x.mean(axis=self.axes)
        return out


class AvgPoolExcludesPadding(impl.AvgPool2d):
    """Divides each window by its number of real (unpadded) values: count_include_pad=False."""

    def forward(self, x):
        out = super().forward(x)
        ones = impl.conv.im2col(np.ones((1, 1) + x.shape[2:]), self.kernel, self.stride, self.padding)
        self.count = ones.sum(axis=(4, 5))
        return out * (self.kernel[0] * self.kernel[1]) / self.count

    def backward(self, dout):
        return super().backward(dout * (self.kernel[0] * self.kernel[1]) / self.count)


class Conv2dFlipsKernel(impl.Conv2d):
    """A true convolution (kernel flipped), where every framework computes a cross-correlation."""

    def __init__(self, W, b, **hp):
        super().__init__(np.ascontiguousarray(np.asarray(W)[:, :, ::-1, ::-1]), b, **hp)


class LayerNormNaiveVariance(impl.LayerNorm):
    """var = mean(x^2) - mean(x)^2: loses the spread when |mean| >> spread."""

    def forward(self, x):
        super().forward(x)
        mu = x.mean(axis=self.axes, keepdims=True)
        var = (x ** 2).mean(axis=self.axes, keepdims=True) - mu ** 2
        self.inv_std = 1.0 / np.sqrt(np.maximum(var, 0) + self.eps)
        self.xhat = (x - mu) * self.inv_std
        return self.params["gamma"] * self.xhat + self.params["beta"]


FRAMEWORKS = ("torch", "jax")   # finite differences see only a self-consistent forward and backward

# oracle.engine caches the implementation's results per id(module): a module freed by one
# test and a new one at the same address would share results. Keeping every mutant module
# alive keeps their ids distinct.
_MUTANT_MODULES = []


@pytest.mark.parametrize("mutant, op, case, dtype, quantity", [
    (MaxPoolLastMaximum, "max_pool2d", "ties", "float64", "grad:x"),
    (BatchNormBiasedRunningVar, "batch_norm", "nchw", "float64", "out:running_var"),
    (BatchNormMomentumOnOld, "batch_norm", "nchw", "float64", "out:running_mean"),
    (AvgPoolExcludesPadding, "avg_pool2d", "k3_s2_p1", "float64", "out"),
    (Conv2dFlipsKernel, "conv2d", "basic", "float64", "out"),
    (LayerNormNaiveVariance, "layer_norm", "large", "float32", "out"),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_a_changed_convention_fails(mutant, op, case, dtype, quantity):
    spec = registry.get(op)
    module = types.SimpleNamespace(**{name: getattr(impl, name) for name in impl.__all__})
    setattr(module, spec.impl, mutant)
    _MUTANT_MODULES.append(module)
    for oracle in FRAMEWORKS:
        records = run_check(Check(op, case, oracle, "cpu", dtype), module)
        statuses = {r["quantity"]: r["status"] for r in records if r["oracle"] == oracle}
        assert statuses.get(quantity) == "fail", f"{oracle}: {statuses}"
    # and the unchanged answer key passes the same checks
    for oracle in FRAMEWORKS:
        records = run_check(Check(op, case, oracle, "cpu", dtype))
        assert {r["status"] for r in records if r["oracle"] == oracle} == {"pass"}


# ---- The im2col form against the definition, and col2im as the adjoint of im2col

@pytest.mark.parametrize("case", [c.name for c in registry.get("conv2d").cases])
def test_conv2d_matches_its_loop_definition(case):
    from backprop_oracle.oracle.engine import case_data
    spec, data = registry.get("conv2d"), case_data("conv2d", case, 0)
    layer = impl.Conv2d(**data.params, **spec.case(case).hparams)
    expected = impl.conv.conv2d_loops(data.inputs["x"], data.params["W"], data.params["b"],
                                      **spec.case(case).hparams)
    np.testing.assert_allclose(layer.forward(data.inputs["x"]), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("geometry", [
    dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1)),
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
    dict(stride=(3, 2), padding=(1, 0), dilation=(2, 1)),
])
def test_col2im_is_the_adjoint_of_im2col(geometry):
    """<im2col(x), d> = <x, col2im(d)> for every x and d: the definition of the adjoint."""
    x = randn(2, 3, 7, 8)
    windows = impl.conv.im2col(x, (3, 2), **geometry)
    d = randn(*windows.shape)
    back = impl.conv.col2im(d, x.shape, **geometry)
    assert back.shape == x.shape
    np.testing.assert_allclose((windows * d).sum(), (x * back).sum(), rtol=1e-12)
