"""Regularization layers: dropout with its mask handed to every witness."""
from ..frameworks import F
from ..spec import Case, CaseData, OpSpec
from ._cases import normal


def _dropout(*shape, p=0.5):
    """x and a keep mask drawn from the case's seed: every witness sees the same mask."""
    def make(rng):
        x = normal(rng, *shape)
        return CaseData(inputs={"x": x}, extra={"mask": rng.random(shape) >= p})
    return make


def _torch_dropout(a, e, hp):
    p = hp.get("p", 0.5)
    if not hp.get("inverted", True):          # the book's form: torch has none, so by hand
        return a["x"] * e["mask"] if hp.get("training", True) else a["x"] * (1.0 - p)
    if not hp.get("training", True):
        return F.dropout(a["x"], p, training=False)
    return a["x"] * e["mask"] / (1.0 - p)


def _jax_dropout(a, e, hp):
    p = hp.get("p", 0.5)
    if not hp.get("inverted", True):
        return a["x"] * e["mask"] if hp.get("training", True) else a["x"] * (1.0 - p)
    if not hp.get("training", True):
        return a["x"]
    return a["x"] * e["mask"] / (1.0 - p)


SPECS = [
    OpSpec(
        name="dropout", family="regularization", impl="Dropout",
        cases=[
            Case("p0.5", _dropout(4, 5), {"p": 0.5}),
            Case("p0.2_rank4", _dropout(2, 3, 2, 2, p=0.2), {"p": 0.2}, why="another rate, any shape"),
            Case("p0.9_batch1", _dropout(1, 8, p=0.9), {"p": 0.9}, why="batch size 1, most units dropped: scale 10"),
            Case("p0", _dropout(3, 4, p=0.0), {"p": 0.0}, why="p = 0: the identity"),
            Case("eval", _dropout(3, 4), {"p": 0.5, "training": False},
                 why="evaluation mode: y = x, no scaling (the point of inverted dropout)"),
            Case("not_inverted", _dropout(4, 5), {"p": 0.5, "inverted": False},
                 why="the book's Dropout (option inverted=False): y = x m in training, no scaling"),
            Case("not_inverted_p0.2", _dropout(2, 3, 4, p=0.2), {"p": 0.2, "inverted": False},
                 why="the book's form at another rate"),
            Case("not_inverted_eval", _dropout(3, 4), {"p": 0.5, "training": False, "inverted": False},
                 why="the book's form at test time: y = x (1 - p)"),
        ],
        torch=_torch_dropout, jax=_jax_dropout,
        formulas={"forward": r"y = \frac{m \odot x}{1 - p},\quad m_i \sim \mathrm{Bernoulli}(1 - p)",
                  "backward": r"\frac{\partial L}{\partial x} = \frac{m}{1 - p} \odot \frac{\partial L}{\partial y}"},
        convention="Inverted dropout (PyTorch's F.dropout): kept units are scaled by 1/(1-p) in training "
                   "and evaluation is the identity. The book's Dropout is not inverted (no scaling in "
                   "training, x (1-p) at test time). The keep mask is drawn from the case's seed and "
                   "handed to every witness as a non-differentiable `extra` input, so the check is exact; "
                   "torch and jax apply it as x * m / (1 - p), since F.dropout draws its own mask. "
                   "The option inverted=False is the book's form (cases not_inverted*): y = x m in "
                   "training, x (1 - p) at test time. CS231n's dropout_param p is the KEEP "
                   "probability, 1 - p here (the adapter translates it).",
    ),
]
