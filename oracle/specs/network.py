"""Whole networks: every parameter gradient checked end to end."""
import numpy as np

from ...impl.networks import CNN, MLP, ResidualBlock
from ..frameworks import F, jnn, jnp, lax, torch
from ..spec import Case, CaseData, Mistake, OpSpec
from ._cases import labels, normal, weight


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


def _cnn(batch, height, width, channels=2, filters=3, classes=4):
    """x (batch, channels, height, width), labels t; conv 3x3, pool 2x2, fc to `classes`."""
    def make(rng):
        features = filters * (height // 2) * (width // 2)
        params = {"conv_W": weight(rng, channels * 9, filters, channels, 3, 3),
                  "conv_b": normal(rng, filters, scale=0.1),
                  "bn_gamma": 1.0 + normal(rng, filters, scale=0.2),
                  "bn_beta": normal(rng, filters, scale=0.2),
                  "fc_W": weight(rng, features, features, classes),
                  "fc_b": normal(rng, classes, scale=0.1)}
        return CaseData(inputs={"x": normal(rng, batch, channels, height, width)}, params=params,
                        extra={"t": labels(rng, batch, classes)})
    return make


def _torch_cnn(a, e, hp):
    h = F.conv2d(a["x"], a["conv_W"], a["conv_b"], padding=1)
    h = F.batch_norm(h, None, None, a["bn_gamma"], a["bn_beta"], training=True, eps=1e-5)
    h = F.max_pool2d(F.relu(h), 2)
    logits = F.linear(h.flatten(1), a["fc_W"].T, a["fc_b"])
    return F.cross_entropy(logits, e["t"])


def _jax_conv_same(x, W, b):
    pad = W.shape[-1] // 2
    y = lax.conv_general_dilated(x, W, (1, 1), [(pad, pad), (pad, pad)],
                                 dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y + b[None, :, None, None]


def _jax_cnn(a, e, hp):
    h = _jax_conv_same(a["x"], a["conv_W"], a["conv_b"])
    mu = h.mean(axis=(0, 2, 3), keepdims=True)
    var = ((h - mu) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    h = (h - mu) / jnp.sqrt(var + 1e-5) * a["bn_gamma"][None, :, None, None] \
        + a["bn_beta"][None, :, None, None]
    h = lax.reduce_window(jnn.relu(h), -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    logits = h.reshape(h.shape[0], -1) @ a["fc_W"] + a["fc_b"]
    logp = jnn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(logp, e["t"][:, None], axis=1).mean()


def _residual(batch, channels, height, width, kernel=3):
    def make(rng):
        fan_in = channels * kernel * kernel
        return CaseData(inputs={"x": normal(rng, batch, channels, height, width)},
                        params={"W1": weight(rng, fan_in, channels, channels, kernel, kernel),
                                "b1": normal(rng, channels, scale=0.1),
                                "W2": weight(rng, fan_in, channels, channels, kernel, kernel),
                                "b2": normal(rng, channels, scale=0.1)})
    return make


def _torch_residual(a, e, hp):
    pad = a["W1"].shape[-1] // 2
    h = F.relu(F.conv2d(a["x"], a["W1"], a["b1"], padding=pad))
    return F.relu(a["x"] + F.conv2d(h, a["W2"], a["b2"], padding=pad))


def _jax_residual(a, e, hp):
    h = jnn.relu(_jax_conv_same(a["x"], a["W1"], a["b1"]))
    return jnn.relu(a["x"] + _jax_conv_same(h, a["W2"], a["b2"]))


# ---- the mistakes people make writing these networks' backward ---------------------------

class _MLPBook(MLP):
    """Seed 002's backward with each step a method, so that a mistake changes one line."""

    def output_delta(self, o3):
        return (o3 - self.y) * o3 * (1 - o3)

    def hidden_delta(self, back, o):
        return back * o * (1 - o)

    def weight_grad(self, delta, o_prev):
        return delta.T @ o_prev

    def theta_grad(self, delta):
        return delta.sum(axis=0)

    def backward(self, dout=1.0):
        p, o = self.params, self.o
        delta = self.output_delta(o[3]) * float(np.asarray(dout))
        for l in reversed(self.LAYERS):
            self.grads[f"w{l}"] = self.weight_grad(delta, o[l - 1])
            self.grads[f"theta{l}"] = self.theta_grad(delta)
            back = delta @ p[f"w{l}"]
            if l > 1:
                delta = self.hidden_delta(back, o[l - 1])
        return back


class _MLPHiddenDerivativeMissing(_MLPBook):
    def hidden_delta(self, back, o):
        return back                                     # o (1 - o) left out


class _MLPOutputDerivativeMissing(_MLPBook):
    def output_delta(self, o3):
        return o3 - self.y                              # o^3 (1 - o^3) left out


class _MLPWeightTransposed(_MLPBook):
    def weight_grad(self, delta, o_prev):
        return o_prev.T @ delta


class _MLPThetaNotSummed(_MLPBook):
    def theta_grad(self, delta):
        return delta


class _MLPErrorSign(_MLPBook):
    def output_delta(self, o3):
        return (self.y - o3) * o3 * (1 - o3)


MLP_MISTAKES = [
    Mistake("hidden_sigmoid_derivative_missing", "the hidden deltas miss sigmoid' = o (1 - o): "
            "delta^l = (delta^{l+1} w^{l+1}) . o^l (1 - o^l)", _MLPHiddenDerivativeMissing,
            says_ja="中間層の δ に sigmoid' = o (1 - o) が掛かっていない: δ^l = (δ^{l+1} w^{l+1}) ⊙ o^l (1 - o^l)"),
    Mistake("output_sigmoid_derivative_missing", "the output delta misses sigmoid' of the output "
            "layer: delta^3 = (o^3 - y) . o^3 (1 - o^3)", _MLPOutputDerivativeMissing,
            says_ja="出力層の δ に出力層の sigmoid' が掛かっていない: δ^3 = (o^3 - y) ⊙ o^3 (1 - o^3)"),
    Mistake("weight_gradient_transposed", "dE/dw^l is (delta^l)^T o^{l-1}, shaped like w^l (units "
            "of l, units of l-1): o^T delta is its transpose", _MLPWeightTransposed,
            says_ja="dE/dw^l は (δ^l)^T o^{l-1} で w^l と同じ形（l 層のユニット数, l-1 層のユニット数）: "
                    "o^T δ はその転置"),
    Mistake("theta_not_summed", "dE/dtheta^l sums delta^l over the samples of the batch",
            _MLPThetaNotSummed, says_ja="dE/dθ^l はバッチのサンプルについて δ^l の和をとる"),
    Mistake("error_sign", "the output error is o^3 - y (the derivative of 1/2 (o - y)^2 by o), "
            "not y - o^3", _MLPErrorSign,
            says_ja="出力の誤差は o^3 - y（1/2 (o - y)^2 を o で微分したもの）で、y - o^3 ではない"),
]


class _CNNBatchNormSkipped(CNN):
    def backward(self, dout=1.0):
        d = self.fc.backward(self.loss.backward(dout)).reshape(self.pooled_shape)
        d = self.relu.backward(self.pool.backward(d))
        self.bn.backward(d)                              # its parameter gradients only ...
        d = self.conv.backward(d)                        # ... and the conv gets the un-normalized d
        for name, (layer, key) in self.owners.items():
            self.grads[name] = layer.grads[key]
        return d


class _CNNUnflattenOrder(CNN):
    def backward(self, dout=1.0):
        n, c, h, w = self.pooled_shape
        d = self.fc.backward(self.loss.backward(dout))
        d = d.reshape(n, h, w, c).transpose(0, 3, 1, 2)  # channels-last order
        for layer in (self.pool, self.relu, self.bn, self.conv):
            d = layer.backward(d)
        for name, (layer, key) in self.owners.items():
            self.grads[name] = layer.grads[key]
        return d


CNN_MISTAKES = [
    Mistake("batch_norm_skipped", "the gradient bypasses batch norm's backward on its way to the "
            "convolution: every layer's backward is applied, right to left", _CNNBatchNormSkipped,
            says_ja="畳み込みへ向かう勾配がバッチ正規化の逆伝播を通っていない: すべての層の逆伝播を右から左へ順に適用する"),
    Mistake("unflatten_order", "the gradient of the flattened features is reshaped back in "
            "another order (channels last): reshape to (N, C, H, W), as forward flattened",
            _CNNUnflattenOrder,
            says_ja="平坦化した特徴の勾配を別の順序（チャネル最後）で戻している: 順伝播と同じ (N, C, H, W) に reshape する"),
]


class _ResidualSkipMissing(ResidualBlock):
    def backward(self, dout):
        dz = self.relu2.backward(dout)
        dh = self.relu1.backward(self.conv2.backward(dz))
        dx = self.conv1.backward(dh)                     # the skip path's dz left out
        for i, conv in ((1, self.conv1), (2, self.conv2)):
            self.grads[f"W{i}"], self.grads[f"b{i}"] = conv.grads["W"], conv.grads["b"]
        return dx


class _ResidualSkipUnmasked(ResidualBlock):
    def backward(self, dout):
        dz = self.relu2.backward(dout)
        dh = self.relu1.backward(self.conv2.backward(dz))
        dx = dout + self.conv1.backward(dh)              # dout where dz (after relu's mask)
        for i, conv in ((1, self.conv1), (2, self.conv2)):
            self.grads[f"W{i}"], self.grads[f"b{i}"] = conv.grads["W"], conv.grads["b"]
        return dx


RESIDUAL_MISTAKES = [
    Mistake("skip_gradient_missing", "the skip connection's gradient is missing: dx = dz + "
            "(the convolution path's gradient), the two paths add up", _ResidualSkipMissing,
            says_ja="スキップ接続の勾配が抜けている: dx = dz +（畳み込みの経路の勾配）で、二つの経路の勾配を足す"),
    Mistake("skip_gradient_unmasked", "the skip path carries dout where the gradient of the sum "
            "z = x + conv2(h) after the last relu (dz = dout [z > 0]) is needed", _ResidualSkipUnmasked,
            says_ja="スキップの経路に dout を流しているが、必要なのは最後の relu を通った和 z = x + conv2(h) の"
                    "勾配 dz = dout [z > 0]"),
]


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
        convention_ja="講義ノート 002 の 3 層の sigmoid ネットワーク。w^l の形は torch.nn.Linear と同じ"
                      "（l 層のユニット数, l-1 層のユニット数）。E はバッチのサンプルについての和。",
        hints=lambda d, hp: {"batch_size": d.inputs["x"].shape[0]},
        mistakes=MLP_MISTAKES,
    ),
    OpSpec(
        name="cnn", family="network", impl="CNN",
        cases=[
            Case("batch3", _cnn(3, 6, 6)),
            Case("batch1", _cnn(1, 6, 6), why="batch size 1: batch norm over the 36 pixels alone",
                 why_ja="バッチサイズ 1: バッチ正規化は 36 画素だけにわたる"),
            Case("non_square", _cnn(2, 4, 6), why="4x6 images, 2x3 pooled maps",
                 why_ja="4x6 の画像、プーリング後のマップは 2x3"),
        ],
        torch=_torch_cnn, jax=_jax_cnn,
        formulas={"forward": r"L = \mathrm{CE}\big(\mathrm{flatten}(\mathrm{maxpool}(\mathrm{relu}("
                             r"\mathrm{BN}(W_{conv} * x + b_{conv}))))\, W_{fc} + b_{fc},\ t\big)",
                  "backward": r"\frac{\partial L}{\partial \theta} = \frac{\partial L}{\partial z_k}"
                              r"\frac{\partial z_k}{\partial z_{k-1}} \cdots \frac{\partial z_{j}}{\partial \theta}"
                              r"\quad\text{(each factor one layer's backward, right to left)}"},
        convention="conv 3x3 (padding 1) -> batch norm in training mode (batch statistics, biased "
                   "variance) -> relu -> 2x2 max pooling -> flatten (torch's C, H, W order) -> affine "
                   "(book layout W (in, out)) -> softmax cross-entropy with mean reduction. Every "
                   "parameter gradient is checked end to end.",
        convention_ja="3x3 の畳み込み（padding 1）-> 学習モードのバッチ正規化（バッチの統計量、偏りのある分散）"
                      "-> relu -> 2x2 の最大プーリング -> 平坦化（torch の C, H, W の順）-> affine（本の並び "
                      "W (in, out)）-> 平均をとる softmax 交差エントロピー。すべてのパラメータの勾配を、"
                      "ネットワーク全体を通して確かめる。",
        hints=lambda d, hp: {"batch_size": d.inputs["x"].shape[0]},
        mistakes=CNN_MISTAKES,
    ),
    OpSpec(
        name="residual_block", family="network", impl="ResidualBlock",
        cases=[
            Case("basic", _residual(2, 3, 5, 6)),
            Case("batch1", _residual(1, 3, 5, 6), why="batch size 1", why_ja="バッチサイズ 1"),
            Case("kernel1", _residual(2, 3, 5, 6, kernel=1), why="1x1 convolutions, no padding",
                 why_ja="1x1 の畳み込み、パディングなし"),
        ],
        torch=_torch_residual, jax=_jax_residual,
        formulas={"forward": r"h = \mathrm{relu}(W_1 * x + b_1),\quad y = \mathrm{relu}(x + W_2 * h + b_2)",
                  "backward": r"\delta = \frac{\partial L}{\partial y}\,[z > 0],\quad "
                              r"\frac{\partial L}{\partial x} = \delta + "
                              r"\mathrm{conv}_1^{\top}\!\left([W_1 * x + b_1 > 0]\ \mathrm{conv}_2^{\top} \delta\right)"},
        convention="Basic residual block without normalization; kernels (C, C, K, K) with K odd and "
                   "padding K // 2 ('same'); the gradient of the skip connection adds to the "
                   "convolution path's.",
        convention_ja="正規化のない基本の残差ブロック。カーネルは (C, C, K, K) で K は奇数、padding は K // 2"
                      "（'same'）。スキップ接続の勾配は畳み込みの経路の勾配に足される。",
        hints=lambda d, hp: {"batch_size": d.inputs["x"].shape[0]},
        mistakes=RESIDUAL_MISTAKES,
    ),
]
