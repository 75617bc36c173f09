"""Whole networks: every parameter gradient checked end to end."""
from ..frameworks import F, jnn, jnp, lax, torch
from ..spec import Case, CaseData, OpSpec
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
    OpSpec(
        name="cnn", family="network", impl="CNN",
        cases=[
            Case("batch3", _cnn(3, 6, 6)),
            Case("batch1", _cnn(1, 6, 6), why="batch size 1: batch norm over the 36 pixels alone"),
            Case("non_square", _cnn(2, 4, 6), why="4x6 images, 2x3 pooled maps"),
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
        hints=lambda d, hp: {"batch_size": d.inputs["x"].shape[0]},
    ),
    OpSpec(
        name="residual_block", family="network", impl="ResidualBlock",
        cases=[
            Case("basic", _residual(2, 3, 5, 6)),
            Case("batch1", _residual(1, 3, 5, 6), why="batch size 1"),
            Case("kernel1", _residual(2, 3, 5, 6, kernel=1), why="1x1 convolutions, no padding"),
        ],
        torch=_torch_residual, jax=_jax_residual,
        formulas={"forward": r"h = \mathrm{relu}(W_1 * x + b_1),\quad y = \mathrm{relu}(x + W_2 * h + b_2)",
                  "backward": r"\delta = \frac{\partial L}{\partial y}\,[z > 0],\quad "
                              r"\frac{\partial L}{\partial x} = \delta + "
                              r"\mathrm{conv}_1^{\top}\!\left([W_1 * x + b_1 > 0]\ \mathrm{conv}_2^{\top} \delta\right)"},
        convention="Basic residual block without normalization; kernels (C, C, K, K) with K odd and "
                   "padding K // 2 ('same'); the gradient of the skip connection adds to the "
                   "convolution path's.",
        hints=lambda d, hp: {"batch_size": d.inputs["x"].shape[0]},
    ),
]
