"""Whole networks: every parameter gradient checked end to end."""
from ..frameworks import F, jnn, torch
from ..spec import Case, CaseData, OpSpec
from ._cases import normal, weight


def _mlp(batch, m=4, h1=5, h2=3, n=2):
    def make(rng):
        sizes = [m, h1, h2, n]
        params = {}
        for l in (1, 2, 3):
            params[f"w{l}"] = weight(rng, sizes[l - 1], sizes[l], sizes[l - 1])
            params[f"theta{l}"] = normal(rng, sizes[l], scale=0.5)
        return CaseData(inputs={"x": normal(rng, batch, m)}, params=params,
                        extra={"y": rng.random((batch, n))})
    return make


def _torch_mlp(a, e, hp):
    o = a["x"]
    for l in (1, 2, 3):
        o = torch.sigmoid(F.linear(o, a[f"w{l}"], a[f"theta{l}"]))
    return 0.5 * ((o - e["y"]) ** 2).sum()


def _jax_mlp(a, e, hp):
    o = a["x"]
    for l in (1, 2, 3):
        o = jnn.sigmoid(o @ a[f"w{l}"].T + a[f"theta{l}"])
    return 0.5 * ((o - e["y"]) ** 2).sum()


SPECS = [
    OpSpec(
        name="mlp", family="network", impl="MLP",
        cases=[Case("batch6", _mlp(6)), Case("batch1", _mlp(1)),
               Case("wide", _mlp(3, m=7, h1=6, h2=4, n=3))],
        torch=_torch_mlp,
        jax=_jax_mlp,
        formulas={
            "forward": r"o^{l} = \sigma\!\left(w^{l} o^{l-1} + \theta^{l}\right),\quad "
                       r"E = \frac{1}{2}\sum_i \left(o^3_i - y_i\right)^2",
            "backward": r"\delta^3 = (o^3 - y)\, o^3 (1 - o^3),\quad "
                        r"\delta^{l} = \left((w^{l+1})^{\top} \delta^{l+1}\right) o^{l}(1 - o^{l}),\quad "
                        r"\frac{\partial E}{\partial w^{l}} = \delta^{l} (o^{l-1})^{\top},\quad "
                        r"\frac{\partial E}{\partial \theta^{l}} = \delta^{l}"},
        convention="Seed 002's three-layer sigmoid network; w^l has shape (units of l, units of l-1), "
                   "as torch.nn.Linear; E sums over the samples of the batch.",
        hints=lambda d, hp: {"batch_size": d.inputs["x"].shape[0]},
    ),
]
