"""A learner's own Conv2d (the book's im2col), pooling, BatchNorm, LayerNorm and attention
in the answer key's API. Conv2d takes square stride and padding, no dilation, no groups
(those cases are not attempted). The other modules of this folder plant one mistake in a
copy of one method; this one is right and must pass.
"""
import numpy as np


def pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def one_batch(x):
    """(N, C, H, W) only: an unbatched sample is not attempted."""
    if np.ndim(x) != 4:
        raise NotImplementedError("one batch (N, C, H, W) only")
    return x


class Conv2d:
    def __init__(self, W, b, stride=1, padding=0, dilation=1, groups=1):
        if groups != 1 or dilation != 1 or not np.isscalar(stride) or not np.isscalar(padding) \
                or isinstance(padding, str):
            raise NotImplementedError("square stride and padding, no dilation, no groups")
        self.params, self.grads = {"W": W, "b": b}, {}
        self.stride, self.pad = stride, padding

    def forward(self, x):
        W, b = self.params["W"], self.params["b"]
        FN, C, FH, FW = W.shape
        x = one_batch(x)
        N, _, H, Wd = x.shape
        S, P = self.stride, self.pad
        OH, OW = (H + 2 * P - FH) // S + 1, (Wd + 2 * P - FW) // S + 1
        xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
        col = np.zeros((N, C, FH, FW, OH, OW))
        for y in range(FH):
            for xx in range(FW):
                col[:, :, y, xx] = xp[:, :, y:y + S * OH:S, xx:xx + S * OW:S]
        self.col = col.transpose(0, 4, 5, 1, 2, 3).reshape(N * OH * OW, -1)
        self.x_shape, self.out_hw = x.shape, (OH, OW)
        out = self.col @ W.reshape(FN, -1).T + b
        return out.reshape(N, OH, OW, FN).transpose(0, 3, 1, 2)

    def kernel_for_dx(self):
        return self.params["W"]

    def col2im(self, dcol):
        N, C, H, Wd = self.x_shape
        FN, _, FH, FW = self.params["W"].shape
        OH, OW = self.out_hw
        S, P = self.stride, self.pad
        dcol = dcol.reshape(N, OH, OW, C, FH, FW).transpose(0, 3, 4, 5, 1, 2)
        img = np.zeros((N, C, H + 2 * P + S - 1, Wd + 2 * P + S - 1))
        for y in range(FH):
            for xx in range(FW):
                img[:, :, y:y + S * OH:S, xx:xx + S * OW:S] += dcol[:, :, y, xx]
        return img[:, :, P:H + P, P:Wd + P]

    def backward(self, dout):
        FN = self.params["W"].shape[0]
        dout2 = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.grads["b"] = dout2.sum(axis=0)
        self.grads["W"] = (self.col.T @ dout2).transpose(1, 0).reshape(self.params["W"].shape)
        dcol = dout2 @ self.kernel_for_dx().reshape(FN, -1)
        return self.col2im(dcol)


class MaxPool2d:
    def __init__(self, kernel_size, stride=None, padding=0, **options):
        defaults = {"dilation": 1, "ceil_mode": False, "count_include_pad": True,
                    "divisor_override": None}
        if set(options) - set(defaults) or any(options.get(k, d) != d for k, d in defaults.items()):
            raise NotImplementedError("no dilation, ceil_mode or other pooling options")
        self.k = pair(kernel_size)
        self.s = pair(stride if stride is not None else kernel_size)
        self.p = pair(padding)
        self.params, self.grads = {}, {}

    def windows(self, x, fill):
        x = one_batch(x)
        (kh, kw), (sh, sw), (ph, pw) = self.k, self.s, self.p
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
        OH, OW = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
        return xp, OH, OW

    def forward(self, x):
        xp, OH, OW = self.windows(x, -np.inf)
        (kh, kw), (sh, sw) = self.k, self.s
        self.xp, self.x_shape = xp, x.shape
        out = np.zeros(x.shape[:2] + (OH, OW))
        for i in range(OH):
            for j in range(OW):
                out[:, :, i, j] = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].max(axis=(2, 3))
        return out

    def route(self, window):
        """1 at the first maximum of each window (row-major), 0 elsewhere."""
        N, C, kh, kw = window.shape
        flat = window.reshape(N, C, -1)
        mask = np.zeros_like(flat)
        mask[np.arange(N)[:, None], np.arange(C)[None, :], flat.argmax(axis=2)] = 1
        return mask.reshape(window.shape)

    def backward(self, dout):
        (kh, kw), (sh, sw), (ph, pw) = self.k, self.s, self.p
        dxp = np.zeros_like(self.xp)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                window = self.xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                dxp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += \
                    self.route(window) * dout[:, :, i, j][:, :, None, None]
        H, W = self.x_shape[2:]
        return dxp[:, :, ph:ph + H, pw:pw + W]


class AvgPool2d(MaxPool2d):
    def divisor(self):
        return self.k[0] * self.k[1]

    def forward(self, x):
        xp, OH, OW = self.windows(x, 0.0)
        (kh, kw), (sh, sw) = self.k, self.s
        self.xp, self.x_shape = xp, x.shape
        out = np.zeros(x.shape[:2] + (OH, OW))
        for i in range(OH):
            for j in range(OW):
                out[:, :, i, j] = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].sum(axis=(2, 3)) / self.divisor()
        return out

    def route(self, window):
        return np.ones_like(window) / self.divisor()


class BatchNorm:
    def __init__(self, gamma, beta, eps=1e-5, momentum=0.1, running_mean=None, running_var=None,
                 training=True):
        self.params, self.grads = {"gamma": gamma, "beta": beta}, {}
        self.eps, self.momentum, self.training = eps, momentum, training
        self.running_mean = np.zeros(len(gamma)) if running_mean is None else np.array(running_mean, float)
        self.running_var = np.ones(len(gamma)) if running_var is None else np.array(running_var, float)

    def shape(self, v, x):
        return v.reshape((1, -1) + (1,) * (x.ndim - 2))

    def forward(self, x):
        self.axes = (0,) + tuple(range(2, x.ndim))
        if self.training:
            mu = x.mean(axis=self.axes)
            var = x.var(axis=self.axes)
            m = x.size // x.shape[1]
            self.update(mu, var, m)
        else:
            mu, var = self.running_mean, self.running_var
        self.std = np.sqrt(self.shape(var, x) + self.eps)
        self.xhat = (x - self.shape(mu, x)) / self.std
        return self.shape(self.params["gamma"], x) * self.xhat + self.shape(self.params["beta"], x)

    def update(self, mu, var, m):
        self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mu
        self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * m / (m - 1)

    def backward(self, dout):
        self.grads["gamma"] = (dout * self.xhat).sum(axis=self.axes)
        self.grads["beta"] = dout.sum(axis=self.axes)
        dxhat = dout * self.shape(self.params["gamma"], dout)
        if not self.training:
            return dxhat / self.std
        mean = lambda v: v.mean(axis=self.axes, keepdims=True)
        return (dxhat - mean(dxhat) - self.xhat * mean(dxhat * self.xhat)) / self.std


class LayerNorm:
    def __init__(self, gamma, beta, eps=1e-5):
        self.params, self.grads, self.eps = {"gamma": gamma, "beta": beta}, {}, eps

    def forward(self, x):
        self.axes = tuple(range(x.ndim - self.params["gamma"].ndim, x.ndim))
        mu = x.mean(axis=self.axes, keepdims=True)
        self.std = np.sqrt(x.var(axis=self.axes, keepdims=True) + self.eps)
        self.xhat = (x - mu) / self.std
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, dout):
        lead = tuple(range(dout.ndim - len(self.axes)))
        self.grads = {"gamma": (dout * self.xhat).sum(axis=lead), "beta": dout.sum(axis=lead)}
        dxhat = dout * self.params["gamma"]
        mean = lambda v: v.mean(axis=self.axes, keepdims=True)
        return (dxhat - mean(dxhat) - self.xhat * mean(dxhat * self.xhat)) / self.std


def softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class ScaledDotProductAttention:
    def __init__(self, causal=False, scale=None):
        self.causal, self.scale = causal, scale
        self.params, self.grads = {}, {}

    def allowed(self, q, k, mask):
        allowed = np.ones((q.shape[-2], k.shape[-2]), bool) if mask is None else mask
        if self.causal:
            allowed = allowed & np.tril(np.ones((q.shape[-2], k.shape[-2]), bool))
        return allowed

    def forward(self, q, k, v, mask=None):
        if mask is not None and np.asarray(mask).dtype != bool:
            raise NotImplementedError("a boolean mask only")
        self.s = self.scale if self.scale is not None else 1 / np.sqrt(q.shape[-1])
        scores = q @ np.swapaxes(k, -1, -2) * self.s
        scores = np.where(self.allowed(q, k, mask), scores, -np.inf)
        self.P = softmax(scores)
        self.q, self.k, self.v = q, k, v
        return self.P @ v

    def softmax_backward(self, dP):
        P = self.P
        return P * (dP - (dP * P).sum(axis=-1, keepdims=True))

    def backward(self, dout):
        dv = np.swapaxes(self.P, -1, -2) @ dout
        dS = self.softmax_backward(dout @ np.swapaxes(self.v, -1, -2))
        return dS @ self.k * self.s, np.swapaxes(dS, -1, -2) @ self.q * self.s, dv
