"""Bad input to the losses, optimizers and initializers gives a clear error that names the
layer, the argument, what was expected and what it got; never a silent broadcast."""
import numpy as np
import pytest

from backprop_oracle import impl
from backprop_oracle.impl import ShapeError

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 3))


@pytest.mark.parametrize("layer, target, words", [
    (impl.SoftmaxCrossEntropy(), np.array([0, 1, 3, 2]), ["SoftmaxCrossEntropy", "'target'", "[0, 3)", "3"]),
    (impl.SoftmaxCrossEntropy(), np.array([0, -1, 2, 2]), ["'target'", "or -100", "-1"]),
    (impl.NLL(), np.array([0, 1, 2, 7]), ["NLL", "'target'", "[0, 3)", "7"]),
    (impl.MulticlassHinge(), np.array([0, 1, 2, -100]), ["MulticlassHinge", "'target'", "[0, 3)"]),
])
def test_labels_out_of_range(layer, target, words):
    with pytest.raises(ValueError) as err:
        layer.forward(X, target)
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("layer", [impl.SoftmaxCrossEntropy(), impl.NLL(), impl.MulticlassHinge()])
def test_one_label_per_row(layer):
    with pytest.raises(ShapeError, match=r"'target' must have shape \(4,\).*got \(3,\)"):
        layer.forward(X, np.array([0, 1, 2]))


@pytest.mark.parametrize("layer", [impl.SoftmaxCrossEntropy(), impl.NLL(), impl.MulticlassHinge()])
def test_float_labels_are_not_indices(layer):
    with pytest.raises((TypeError, ShapeError), match="'target'"):
        layer.forward(X, np.array([0.0, 1.0, 2.0, 1.0]))


@pytest.mark.parametrize("cls", [impl.L1, impl.SmoothL1, impl.Huber, impl.BCEWithLogits, impl.MSE])
def test_mismatched_shapes_never_broadcast(cls):
    with pytest.raises(ShapeError, match=rf"{cls.__name__}: argument 't' must have shape \(4, 3\)"):
        cls().forward(X, np.zeros((4, 1)))


def test_bce_refuses_logits():
    with pytest.raises(ValueError, match="BCE: argument 'p' must hold probabilities in \\[0, 1\\]"):
        impl.BCE().forward(X, np.zeros_like(X))


def test_class_weights_one_per_class():
    with pytest.raises(ShapeError, match=r"'weight' must have shape \(3,\)"):
        impl.SoftmaxCrossEntropy(weight=(1.0, 2.0)).forward(X, np.array([0, 1, 2, 0]))


def test_all_ignored_mean_is_nan_with_zero_gradient():
    layer = impl.SoftmaxCrossEntropy()
    assert np.isnan(layer.forward(X, np.full(4, -100)))
    assert np.array_equal(layer.backward(1.0), np.zeros_like(X))


def test_kl_div_mismatched_target():
    with pytest.raises(ShapeError, match="KLDiv: argument 'target'"):
        impl.KLDiv().forward(X, np.full((3, 3), 1 / 3))


def test_cosine_embedding_labels():
    with pytest.raises(ValueError, match="CosineEmbedding: argument 'y' must hold 1 or -1"):
        impl.CosineEmbedding().forward(X, X, np.array([1.0, 0.0, -1.0, 1.0]))
    with pytest.raises(ShapeError, match="CosineEmbedding: argument 'x2'"):
        impl.CosineEmbedding().forward(X, X[:, :2], np.ones(4))


def _ctc_args(**change):
    args = dict(logits=rng.standard_normal((2, 5, 4)), targets=np.array([[1, 2], [3, 0]]),
                input_lengths=np.array([5, 4]), target_lengths=np.array([2, 1]))
    args.update(change)
    return args


@pytest.mark.parametrize("change, words", [
    ({"targets": np.array([[1, 4], [3, 0]])}, ["CTC: argument 'targets'", "[0, 4)"]),
    ({"targets": np.array([[1, 0], [3, 0]])}, ["blank", "row 0"]),
    ({"input_lengths": np.array([6, 4])}, ["'input_lengths'", "[1, 6)"]),
    ({"target_lengths": np.array([2, 3])}, ["'target_lengths'", "[0, 3)"]),
    ({"targets": np.array([[1, 2]])}, ["'targets'", "one label sequence per batch item"]),
])
def test_ctc_bad_input(change, words):
    with pytest.raises((ValueError, ShapeError)) as err:
        impl.CTC().forward(**_ctc_args(**change))
    for word in words:
        assert word in str(err.value)


def test_ctc_impossible_alignment_is_inf_or_zero():
    args = _ctc_args(targets=np.array([[1, 1], [3, 0]]), input_lengths=np.array([2, 4]))
    layer = impl.CTC(reduction="none")
    losses = layer.forward(**args)
    assert np.isinf(losses[0]) and np.isfinite(losses[1])
    assert np.isnan(layer.backward(np.ones(2))[0, :2]).all()
    layer = impl.CTC(reduction="none", zero_infinity=True)
    assert layer.forward(**args)[0] == 0.0
    assert not layer.backward(np.ones(2))[0].any()


def test_reduction_is_checked():
    with pytest.raises(ValueError, match="L1: reduction must be one of"):
        impl.L1(reduction="avg")


def test_upstream_of_a_mean_is_a_scalar():
    layer = impl.Huber()
    layer.forward(X, np.zeros_like(X))
    with pytest.raises(ShapeError, match="'dout' must have shape \\(\\) for reduction='mean'"):
        layer.backward(np.ones(4))


@pytest.mark.parametrize("cls", [impl.SGD, impl.Momentum, impl.Adam, impl.AdamW, impl.RMSprop])
def test_optimizer_gradient_shape(cls):
    params = {"W": np.zeros((3, 4))}
    with pytest.raises(ShapeError, match=rf"{cls.__name__}: argument 'grads\['W'\]' must have shape \(3, 4\)"):
        cls().update(params, {"W": np.zeros(4)})
    with pytest.raises(KeyError, match="same names"):
        cls().update(params, {"b": np.zeros((3, 4))})
    assert not params["W"].any()     # nothing was changed on the way to the error


def test_clip_grad_norm_is_global_and_in_place():
    grads = {"W": np.full((2, 2), 3.0), "b": np.full(2, 4.0)}   # global norm sqrt(36 + 32) ~ 8.25
    norm = impl.ClipGradNorm(1.0, eps=0.0).clip(grads)
    assert np.isclose(norm, np.sqrt(68.0))
    assert np.isclose(np.sqrt(sum((g ** 2).sum() for g in grads.values())), 1.0)


def test_initializer_fans_need_two_axes():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        impl.fan_in_and_fan_out((5,))
    with pytest.raises(ValueError, match="mode must be"):
        impl.HeNormal(mode="avg")


def test_pos_weight_one_per_class():
    with pytest.raises(ShapeError, match=r"BCEWithLogits: argument 'pos_weight' must have shape \(3,\)"):
        impl.BCEWithLogits(pos_weight=(1.0, 2.0)).forward(X, np.zeros_like(X))
