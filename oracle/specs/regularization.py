"""Regularization layers: dropout with its mask handed to every witness."""
import numpy as np

from ...impl.regularization import Dropout
from ..frameworks import F
from ..spec import Case, CaseData, Mistake, OpSpec
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


# ---- the mistakes people make writing dropout ----------------------------------------------

class _DropoutNotScaled(Dropout):
    """The book's Dropout in training: y = x * mask, dx = dout * mask."""

    def forward(self, x, mask=None):
        out = super().forward(x, mask)
        if self.training:
            self.scaled_mask = (self.scaled_mask != 0).astype(x.dtype)
            return x * self.scaled_mask
        return out


class _DropoutBackwardNotScaled(Dropout):
    def backward(self, dout):
        return dout * (self.scaled_mask != 0)          # the forward scaled, the backward not


class _DropoutScaledTwice(Dropout):
    def backward(self, dout):
        return dout * self.scaled_mask / (1.0 - self.p) if self.training else dout * self.scaled_mask


class _DropoutMaskForgotten(Dropout):
    def backward(self, dout):
        return dout / (1.0 - self.p) if self.training and self.p < 1 else dout.copy()


class _DropoutKeepProbability(Dropout):
    """p read as the probability of keeping a unit (CS231n's convention): scaled by 1/p."""

    def forward(self, x, mask=None):
        out = super().forward(x, mask)
        if self.training and self.p > 0:
            self.scaled_mask = ((self.scaled_mask != 0) / self.p).astype(x.dtype)
            return x * self.scaled_mask
        return out


class _DropoutEvalScaled(Dropout):
    """The book's test time: y = x * (1 - p)."""

    def forward(self, x, mask=None):
        out = super().forward(x, mask)
        if not self.training:
            self.scaled_mask = np.full(x.shape, 1.0 - self.p, dtype=x.dtype)
            return x * (1.0 - self.p)
        return out


DROPOUT_MISTAKES = [
    Mistake("not_scaled", "the kept units are not scaled by 1 / (1 - p) in training (the book's "
            "Dropout): inverted dropout scales y and dx by 1 / (1 - p) so that evaluation is "
            "the identity", _DropoutNotScaled,
            says_ja="学習時に残したユニットを 1 / (1 - p) 倍していない（本の Dropout）: 逆ドロップアウトは "
                    "y と dx を 1 / (1 - p) 倍し、評価時は恒等写像にする"),
    Mistake("backward_not_scaled", "backward uses the mask without the 1 / (1 - p) that forward "
            "applied: dx = dout * mask / (1 - p)", _DropoutBackwardNotScaled,
            says_ja="逆伝播で、順伝播で掛けた 1 / (1 - p) なしでマスクを使っている: dx = dout * mask / (1 - p)"),
    Mistake("scaled_twice", "the gradient is scaled by 1 / (1 - p) twice (a mask that already "
            "holds the scale, divided again): dx = dout * mask / (1 - p)", _DropoutScaledTwice,
            says_ja="勾配を 1 / (1 - p) で二度スケールしている（スケール済みのマスクをさらに割っている）: "
                    "dx = dout * mask / (1 - p)"),
    Mistake("mask_forgotten_in_backward", "backward scales dout but forgets the mask: dropped "
            "units get no gradient, dx = dout * mask / (1 - p)", _DropoutMaskForgotten,
            says_ja="逆伝播で dout をスケールしているがマスクを掛け忘れている: 落としたユニットに勾配は流れない。"
                    "dx = dout * mask / (1 - p)"),
    Mistake("p_as_keep_probability", "scaled by 1 / p, as if p were the probability of keeping a "
            "unit (CS231n's convention): here p is the drop probability, scale by 1 / (1 - p)",
            _DropoutKeepProbability,
            says_ja="p を残す確率（CS231n の約束）とみなして 1 / p 倍している: ここでの p は落とす確率で、"
                    "1 / (1 - p) 倍する"),
    Mistake("eval_scaled", "evaluation multiplies by (1 - p) (the book's test time): with "
            "inverted dropout evaluation is the identity", _DropoutEvalScaled,
            says_ja="評価時に (1 - p) を掛けている（本のテスト時）: 逆ドロップアウトでは評価時は恒等写像"),
]


SPECS = [
    OpSpec(
        name="dropout", family="regularization", impl="Dropout",
        cases=[
            Case("p0.5", _dropout(4, 5), {"p": 0.5}),
            Case("p0.2_rank4", _dropout(2, 3, 2, 2, p=0.2), {"p": 0.2}, why="another rate, any shape",
                 why_ja="別の率、任意の形"),
            Case("p0.9_batch1", _dropout(1, 8, p=0.9), {"p": 0.9}, why="batch size 1, most units dropped: scale 10",
                 why_ja="バッチサイズ 1、ほとんどのユニットを落とす: 10 倍する"),
            Case("p0", _dropout(3, 4, p=0.0), {"p": 0.0}, why="p = 0: the identity", why_ja="p = 0: 恒等写像"),
            Case("eval", _dropout(3, 4), {"p": 0.5, "training": False},
                 why="evaluation mode: y = x, no scaling (the point of inverted dropout)",
                 why_ja="評価モード: y = x でスケールしない（逆ドロップアウトの要点）"),
            Case("not_inverted", _dropout(4, 5), {"p": 0.5, "inverted": False},
                 why="the book's Dropout (option inverted=False): y = x m in training, no scaling",
                 why_ja="本の Dropout（オプション inverted=False）: 学習時は y = x m でスケールしない"),
            Case("not_inverted_p0.2", _dropout(2, 3, 4, p=0.2), {"p": 0.2, "inverted": False},
                 why="the book's form at another rate", why_ja="本の形を別の率で"),
            Case("not_inverted_eval", _dropout(3, 4), {"p": 0.5, "training": False, "inverted": False},
                 why="the book's form at test time: y = x (1 - p)",
                 why_ja="テスト時の本の形: y = x (1 - p)"),
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
        convention_ja="逆ドロップアウト（PyTorch の F.dropout）: 学習時は残したユニットを 1/(1-p) 倍し、評価時は"
                      "恒等写像。本の Dropout は逆ドロップアウトではない（学習時はスケールせず、テスト時に "
                      "x (1-p)）。残すユニットのマスクはケースのシードから引き、微分しない `extra` 入力として"
                      "すべての検証器に渡すので、チェックは厳密になる。F.dropout は自分でマスクを引くので、torch "
                      "と jax はこのマスクを x * m / (1 - p) として適用する。オプション inverted=False は本の形"
                      "（ケース not_inverted*）: 学習時は y = x m、テスト時は x (1 - p)。CS231n の dropout_param "
                      "の p は「残す」確率で、ここでの 1 - p にあたる（アダプタが変換する）。",
        mistakes=DROPOUT_MISTAKES,
    ),
]
