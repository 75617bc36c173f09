"""Optimizer steps and gradient clipping, in the style of the book's optimizers:

    opt = Adam(lr=0.001)
    opt.update(params, grads)     # params and grads are dicts name -> array; params change in place

The state lives in dicts keyed like params (Momentum.v, AdaGrad.h, Adam.m and Adam.v)
and is created at the first update. Every rule follows PyTorch's torch.optim, where
optax computes the same update too (the oracle states where the two differ).
Weight decay, where given, is the L2 term added to the gradient, g <- g + wd * p
(torch's weight_decay), except in AdamW, where it is decoupled from the gradient.
"""
import numpy as np

from ._checks import float_array, same_shape

__all__ = ['SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSprop', 'Adam', 'AdamW',
           'ClipGradNorm', 'ClipGradValue']


def _checked(optimizer, params, grads):
    """Every parameter has a floating gradient of its own shape."""
    owner = type(optimizer).__name__
    if set(params) != set(grads):
        raise KeyError(f"{owner}.update: params and grads must have the same names, "
                       f"got {sorted(params)} and {sorted(grads)}")
    for name in params:
        float_array(owner, f"params[{name!r}]", params[name])
        same_shape(owner, f"grads[{name!r}]", float_array(owner, f"grads[{name!r}]", grads[name]),
                   params[name].shape, f"the shape of params[{name!r}]")
    return params, grads


def _zeros_like(params):
    return {name: np.zeros_like(p) for name, p in params.items()}


class Optimizer:
    def __init__(self, lr, weight_decay=0.0):
        if lr <= 0:
            raise ValueError(f"{type(self).__name__}: lr must be positive, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be >= 0, got {weight_decay}")
        self.lr, self.weight_decay = lr, weight_decay

    def decayed(self, p, g):
        """The gradient with the L2 term: g + wd * p (torch's coupled weight_decay)."""
        return g + self.weight_decay * p if self.weight_decay else g

    def update(self, params, grads):
        raise NotImplementedError


class SGD(Optimizer):
    """p <- p - lr * g"""

    def __init__(self, lr=0.01, weight_decay=0.0):
        super().__init__(lr, weight_decay)

    def update(self, params, grads):
        for name, p in _checked(self, params, grads)[0].items():
            p -= self.lr * self.decayed(p, grads[name])


class Momentum(Optimizer):
    """v <- mu * v - lr * g;  p <- p + v      (v starts at 0)

    The book's form; torch keeps b = -v / lr instead (b <- mu * b + g, p <- p - lr * b),
    which is the same update for a constant lr.
    """

    def __init__(self, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.momentum, self.v = momentum, None

    def update(self, params, grads):
        _checked(self, params, grads)
        if self.v is None:
            self.v = _zeros_like(params)
        for name, p in params.items():
            self.v[name] = self.momentum * self.v[name] - self.lr * self.decayed(p, grads[name])
            p += self.v[name]


class Nesterov(Momentum):
    """Nesterov momentum as torch.optim.SGD(nesterov=True) and optax.sgd(nesterov=True):
        v <- mu * v - lr * g;  p <- p + mu * v - lr * g
    (the step looks ahead along the new velocity). The book's Nesterov class updates
    p <- p + mu^2 v - (1 + mu) lr g with the new v, a different rule; this one is the
    frameworks'. The velocity and its start are Momentum's; only the step differs.
    """

    def update(self, params, grads):
        _checked(self, params, grads)
        if self.v is None:
            self.v = _zeros_like(params)
        for name, p in params.items():
            g = self.decayed(p, grads[name])
            self.v[name] = self.momentum * self.v[name] - self.lr * g
            p += self.momentum * self.v[name] - self.lr * g


class AdaGrad(Optimizer):
    """h <- h + g * g;  p <- p - lr * g / (sqrt(h) + eps)     (torch: eps 1e-10 outside the root)"""

    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.eps, self.h = eps, None

    def update(self, params, grads):
        _checked(self, params, grads)
        if self.h is None:
            self.h = _zeros_like(params)
        for name, p in params.items():
            g = self.decayed(p, grads[name])
            self.h[name] += g * g
            p -= self.lr * g / (np.sqrt(self.h[name]) + self.eps)


class RMSprop(Optimizer):
    """h <- rho * h + (1 - rho) * g * g;  p <- p - lr * g / (sqrt(h) + eps)

    torch.optim.RMSprop (rho = alpha = 0.99, eps = 1e-8 outside the root). optax.rmsprop puts
    eps inside the root by default, g / sqrt(h + eps): eps_in_sqrt=True gives that form.
    """

    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-8, weight_decay=0.0, eps_in_sqrt=False):
        super().__init__(lr, weight_decay)
        self.decay_rate, self.eps, self.eps_in_sqrt, self.h = decay_rate, eps, eps_in_sqrt, None

    def update(self, params, grads):
        _checked(self, params, grads)
        if self.h is None:
            self.h = _zeros_like(params)
        rho = self.decay_rate
        for name, p in params.items():
            g = self.decayed(p, grads[name])
            self.h[name] = rho * self.h[name] + (1 - rho) * g * g
            denominator = np.sqrt(self.h[name] + self.eps) if self.eps_in_sqrt \
                else np.sqrt(self.h[name]) + self.eps
            p -= self.lr * g / denominator


class Adam(Optimizer):
    """Adam (Kingma and Ba), as torch.optim.Adam and optax.adam, at step t = 1, 2, ...:
        m <- b1 m + (1 - b1) g;        v <- b2 v + (1 - b2) g * g
        m^ = m / (1 - b1^t);           v^ = v / (1 - b2^t)
        p <- p - lr * m^ / (sqrt(v^) + eps)
    eps sits outside the root of the bias-corrected v^.

    correction_in_lr=True is the paper's "more efficient" ordering (Kingma and Ba, sec. 2)
    that 『ゼロから作る』 uses, with eps added to sqrt(v) BEFORE the correction:
        p <- p - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
    i.e. the default form with eps / sqrt(1 - b2^t) in place of eps (the book: eps = 1e-7).
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 correction_in_lr=False):
        super().__init__(lr, weight_decay)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.correction_in_lr = bool(correction_in_lr)
        self.t, self.m, self.v = 0, None, None

    def direction(self, p, g, name):
        """Update the moments with g and return m^ / (sqrt(v^) + eps)."""
        b1, b2 = self.beta1, self.beta2
        self.m[name] = b1 * self.m[name] + (1 - b1) * g
        self.v[name] = b2 * self.v[name] + (1 - b2) * g * g
        if self.correction_in_lr:
            return (np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
                    * self.m[name] / (np.sqrt(self.v[name]) + self.eps))
        m_hat = self.m[name] / (1 - b1 ** self.t)
        v_hat = self.v[name] / (1 - b2 ** self.t)
        return m_hat / (np.sqrt(v_hat) + self.eps)

    def update(self, params, grads):
        _checked(self, params, grads)
        if self.m is None:
            self.m, self.v = _zeros_like(params), _zeros_like(params)
        self.t += 1
        for name, p in params.items():
            p -= self.lr * self.direction(p, self.decayed(p, grads[name]), name)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as torch.optim.AdamW and optax.adamw:
        p <- p - lr * (m^ / (sqrt(v^) + eps) + wd * p)
    The moments see the raw gradient; the decay acts on p directly. torch's default wd is 0.01.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(lr, beta1, beta2, eps, weight_decay)

    def update(self, params, grads):
        _checked(self, params, grads)
        if self.m is None:
            self.m, self.v = _zeros_like(params), _zeros_like(params)
        self.t += 1
        for name, p in params.items():
            p -= self.lr * (self.direction(p, grads[name], name) + self.weight_decay * p)


class ClipGradNorm:
    """Gradient clipping by the global norm over every array (seed 001's 勾配クリッピング):
        n = sqrt(sum over all arrays and elements of g^2)
        g <- g * max_norm / (n + eps)    when that factor is below 1, else unchanged
    eps = 1e-6 is torch.nn.utils.clip_grad_norm_; eps = 0 is the notes' rate = threshold / norm
    and optax.clip_by_global_norm. clip(grads) changes grads in place and returns n.
    """

    def __init__(self, max_norm, eps=1e-6):
        if max_norm <= 0:
            raise ValueError(f"ClipGradNorm: max_norm must be positive, got {max_norm}")
        self.max_norm, self.eps = max_norm, eps

    def clip(self, grads):
        for name, g in grads.items():
            float_array("ClipGradNorm", f"grads[{name!r}]", g)
        total_norm = np.sqrt(sum((g * g).sum() for g in grads.values()))
        rate = self.max_norm / (total_norm + self.eps)
        if rate < 1:
            for g in grads.values():
                g *= rate
        return total_norm


class ClipGradValue:
    """g <- clip(g, -clip_value, clip_value) element-wise, in place
    (torch.nn.utils.clip_grad_value_, optax.clip)."""

    def __init__(self, clip_value):
        if clip_value <= 0:
            raise ValueError(f"ClipGradValue: clip_value must be positive, got {clip_value}")
        self.clip_value = clip_value

    def clip(self, grads):
        for name, g in grads.items():
            float_array("ClipGradValue", f"grads[{name!r}]", g)
            np.clip(g, -self.clip_value, self.clip_value, out=g)
