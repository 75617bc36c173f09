"""Losses: the gradient of the prediction, for every reduction."""
from ..frameworks import F, jnn, jnp
from ..spec import Case, CaseData, OpSpec
from ._cases import batch_hint, distribution, labels, normal


def _logits(n, c, target="labels", scale=1.0):
    def make(rng):
        x = normal(rng, n, c, scale=scale)
        t = {"labels": lambda: labels(rng, n, c),
             "onehot": lambda: (labels(rng, n, c)[:, None] == range(c)).astype(float),
             "probs": lambda: distribution(rng, n, c)}[target]()
        return CaseData(inputs={"x": x}, extra={"target": t})
    return make


def _reduce(losses, reduction, xp_sum):
    if reduction == "none":
        return losses
    return xp_sum(losses) / (losses.shape[0] if reduction == "mean" else 1)


def _jax_cross_entropy(a, e, hp):
    x, t = a["x"], e["target"]
    logp = jnn.log_softmax(x, axis=-1)
    dist = jnn.one_hot(t, x.shape[-1], dtype=x.dtype) if jnp.issubdtype(t.dtype, jnp.integer) else t
    return _reduce(-(dist * logp).sum(axis=-1), hp.get("reduction", "mean"), jnp.sum)


def _pair(*shape):
    return lambda rng: CaseData(inputs={"y": normal(rng, *shape)}, extra={"t": normal(rng, *shape)})


def _torch_mse(a, e, hp):
    reduction = hp.get("reduction", "mean")
    if reduction == "half_sum":
        return 0.5 * F.mse_loss(a["y"], e["t"], reduction="sum")
    return F.mse_loss(a["y"], e["t"], reduction=reduction)


def _jax_mse(a, e, hp):
    squared = (a["y"] - e["t"]) ** 2
    return {"mean": jnp.mean, "sum": jnp.sum, "none": lambda s: s,
            "half_sum": lambda s: 0.5 * jnp.sum(s)}[hp.get("reduction", "mean")](squared)


SPECS = [
    OpSpec(
        name="softmax_cross_entropy", family="loss", impl="SoftmaxCrossEntropy",
        cases=[
            Case("labels_mean", _logits(4, 3)),
            Case("labels_sum", _logits(4, 3), hparams={"reduction": "sum"}),
            Case("labels_none", _logits(4, 3), hparams={"reduction": "none"}),
            Case("onehot_mean", _logits(5, 4, "onehot"), why="one-hot float targets"),
            Case("probs_mean", _logits(3, 4, "probs"), why="probability targets: 'mean' divides by N"),
            Case("batch1", _logits(1, 5)),
            Case("large_logits", _logits(4, 3, scale=50.0), oracles=("torch", "jax"),
                 why="logits of magnitude ~100 must not overflow; a relative finite-difference "
                     "step of 1e-3 is too coarse there, so torch and jax check it"),
        ],
        torch=lambda a, e, hp: F.cross_entropy(a["x"], e["target"], reduction=hp.get("reduction", "mean")),
        jax=_jax_cross_entropy,
        formulas={"forward": r"L = -\frac{1}{N}\sum_{n}\sum_{c} t_{nc} \log \frac{e^{x_{nc}}}{\sum_k e^{x_{nk}}}",
                  "backward": r"\frac{\partial L}{\partial x_{nc}} = \frac{1}{N}\,(y_{nc} - t_{nc})"},
        convention="Targets are class indices or distributions; 'mean' divides by the batch size N "
                   "(PyTorch with no class weights).",
        hints=batch_hint("x"),
    ),
    OpSpec(
        name="mse", family="loss", impl="MSE",
        cases=[
            Case("mean", _pair(4, 3)),
            Case("sum", _pair(4, 3), hparams={"reduction": "sum"}),
            Case("none", _pair(4, 3), hparams={"reduction": "none"}),
            Case("half_sum", _pair(4, 3), hparams={"reduction": "half_sum"},
                 why="the lecture notes' E = 1/2 sum (y - t)^2"),
            Case("vector", _pair(6), why="a single vector of outputs"),
        ],
        torch=_torch_mse,
        jax=_jax_mse,
        formulas={"forward": r"L = \frac{1}{K}\sum_k (y_k - t_k)^2 \quad\text{or}\quad E = \frac{1}{2}\sum_k (y_k - t_k)^2",
                  "backward": r"\frac{\partial L}{\partial y_k} = \frac{2}{K}(y_k - t_k) \quad\text{or}\quad "
                              r"\frac{\partial E}{\partial y_k} = y_k - t_k"},
        convention="reduction='mean' is PyTorch's mse_loss (mean over all K elements); "
                   "'half_sum' is the seeds' E = 1/2 sum (y - t)^2.",
        hints=lambda d, hp: {"batch_size": d.inputs["y"].shape[0]},
    ),
]
