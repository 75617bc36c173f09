"""Planted mistakes in the teaching styles, each the kind learners make, written on top of
the correct copies (tests/learners/book1, book2, cs231n_a2, cs231n_a3, eshikaku): each
function or class here replaces its correct namesake in a copy of the learner's module.
MISTAKES maps (style, copy, answer-key op) to (name, replacement, what is wrong)."""
import numpy as np


# ---- book style -------------------------------------------------------------------------

def book_affine(correct):
    class Affine(correct.Affine):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db = dout[0]                       # the bias gradient of one sample, not summed
            return dx
    return Affine


def book_embedding(correct):
    class Embedding(correct.Embedding):
        def backward(self, dout):
            dW, = self.grads
            dW[...] = 0
            dW[self.idx] = dout                     # a repeated id keeps one row, not the sum
            return None
    return Embedding


def book_time_softmax(correct):
    class TimeSoftmaxWithLoss(correct.TimeSoftmaxWithLoss):
        def forward(self, xs, ts):
            loss = super().forward(xs, ts)
            ts_, ys, mask, shape = self.cache
            return loss * mask.sum() / mask.size    # divided by N*T, ignored positions counted

        def backward(self, dout=1):
            ts_, ys, mask, shape = self.cache
            return super().backward(dout) * mask.sum() / mask.size
    return TimeSoftmaxWithLoss


def book_batchnorm(correct):
    class BatchNormalization(correct.BatchNormalization):
        def backward(self, dout):
            super().backward(dout)                   # dgamma, dbeta as the book computes them
            flat = dout.reshape(dout.shape[0], -1)
            return (self.gamma * flat / self.std).reshape(self.input_shape)   # mu, var as constants
    return BatchNormalization


def book_dropout(correct):
    class TimeDropout(correct.TimeDropout):
        def backward(self, dout):
            return dout                              # the mask forgotten in backward
    return TimeDropout


def book_adam(correct):
    class Adam(correct.Adam):
        def update(self, params, grads):
            self.beta2_saved = self.beta2
            super().update(params, grads)
            for key in (params.keys() if isinstance(params, dict) else range(len(params))):
                params[key] -= 1e-4 * grads[key]     # an extra plain SGD step
    return Adam


def book_pooling(correct):
    class Pooling(correct.Pooling):
        def backward(self, dout):
            dx = super().backward(dout)
            return dx / (self.pool_h * self.pool_w)  # average pooling's gradient in a max pool
    return Pooling


def book_lstm(correct):
    class TimeLSTM(correct.TimeLSTM):
        def backward(self, dhs):
            N, T, H = dhs.shape
            dxs = np.empty((N, T, self.params[0].shape[0]))
            dh, grads = 0, [0, 0, 0]
            for t in reversed(range(T)):
                dx, dh, dc = self.layers[t].backward(dhs[:, t, :] + dh, 0)   # dc not carried back
                dxs[:, t, :] = dx
                for i, grad in enumerate(self.layers[t].grads):
                    grads[i] += grad
            for i, grad in enumerate(grads):
                self.grads[i][...] = grad
            self.dh = dh
            return dxs
    return TimeLSTM


# ---- cs231n style -----------------------------------------------------------------------

def cs231n_svm(correct):
    def svm_loss(x, y):
        loss, dx = correct.svm_loss(x, y)
        return loss, dx * x.shape[0]                 # dx not divided by N
    return svm_loss


def cs231n_batchnorm_alt(correct):
    def batchnorm_backward_alt(dout, cache):
        dx, dgamma, dbeta = correct.batchnorm_backward_alt(dout, cache)
        x, x_hat, mu, std, gamma = cache
        return dx + (dout * gamma).mean(axis=0) / std, dgamma, dbeta   # the mean term forgotten
    return batchnorm_backward_alt


def cs231n_dropout(correct):
    def dropout_backward(dout, cache):
        dropout_param, mask = cache
        if mask is None:                             # test mode
            return dout
        return dout * (mask > 0)                     # the 1 / p of the forward left out
    return dropout_backward


def cs231n_conv(correct):
    def conv_backward_naive(dout, cache):
        dx, dw, db = correct.conv_backward_naive(dout, cache)
        return dx, dw[:, :, ::-1, ::-1], db          # the kernel gradient flipped
    return conv_backward_naive


def cs231n_layernorm(correct):
    def layernorm_backward(dout, cache):
        x_hat, std, gamma = cache
        dx, dgamma, dbeta = correct.layernorm_backward(dout, cache)
        return dout * gamma / std, dgamma, dbeta     # the statistics treated as constants
    return layernorm_backward


def cs231n_word_embedding(correct):
    def word_embedding_backward(dout, cache):
        x, shape = cache
        dW = np.zeros(shape)
        dW[x] += dout                                # += on fancy indexing: repeats lost
        return dW
    return word_embedding_backward


def cs231n_rnn(correct):
    def rnn_backward(dh, cache):
        N, T, H = dh.shape
        D = cache[0][0].shape[1]
        dx = np.zeros((N, T, D))
        dWx, dWh, db = 0, 0, 0
        for t in reversed(range(T)):                 # dprev_h not carried to the step before
            dx[:, t, :], dprev_h, a, b, c = correct.rnn_step_backward(dh[:, t, :], cache[t])
            dWx, dWh, db = dWx + a, dWh + b, db + c
        return dx, dprev_h, dWx, dWh, db
    return rnn_backward


def cs231n_lstm(correct):
    def lstm_step_backward(dnext_h, dnext_c, cache):
        x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        di = dc * g * i * (1 - i)
        df = dc * next_c * f * (1 - f)               # the new cell c^t, not prev_c
        do = dnext_h * tanh_c * o * (1 - o)
        dg = dc * i * (1 - g ** 2)
        da = np.hstack((di, df, do, dg))
        return da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)

    def lstm_backward(dh, cache):
        N, T, H = dh.shape
        dx = np.zeros((N, T, cache[0][0].shape[1]))
        dWx, dWh, db = 0, 0, 0
        dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
        for t in reversed(range(T)):
            dx[:, t, :], dprev_h, dprev_c, a, b, c = lstm_step_backward(dh[:, t, :] + dprev_h,
                                                                        dprev_c, cache[t])
            dWx, dWh, db = dWx + a, dWh + b, db + c
        return dx, dprev_h, dWx, dWh, db
    return lstm_backward


def cs231n_temporal_softmax(correct):
    def temporal_softmax_loss(x, y, mask, verbose=False):
        return correct.temporal_softmax_loss(x, y, np.ones_like(mask), verbose)   # the mask ignored
    return temporal_softmax_loss


def cs231n_adam(correct):
    def adam(w, dw, config=None):
        config = {} if config is None else config
        config.setdefault("t", 0)
        t = config["t"]
        next_w, config = correct.adam(w, dw, config)
        config["t"] = t                              # t never advances: the correction of step 1
        return next_w, config
    return adam


# ---- functions style (E資格) ---------------------------------------------------------------

def functions_d_sigmoid(correct):
    def d_sigmoid(y):
        return (1.0 - y) * y                         # written for the output, fed the input
    return d_sigmoid


def functions_d_softmax(correct):
    def d_softmax_with_loss(d, y):
        return correct.d_softmax_with_loss(d, y) * d.shape[0]   # not divided by the batch
    return d_softmax_with_loss


MISTAKES = {
    ("book", "book1/common/layers.py", "affine"): ("Affine", book_affine),
    ("book", "book1/common/layers.py", "batch_norm"): ("BatchNormalization", book_batchnorm),
    ("book", "book1/common/layers.py", "max_pool2d"): ("Pooling", book_pooling),
    ("book", "book2/common/layers.py", "embedding"): ("Embedding", book_embedding),
    ("book", "book2/common/time_layers.py", "time_softmax_cross_entropy"):
        ("TimeSoftmaxWithLoss", book_time_softmax),
    ("book", "book2/common/time_layers.py", "dropout"): ("TimeDropout", book_dropout),
    ("book", "book2/common/time_layers.py", "lstm"): ("TimeLSTM", book_lstm),
    ("book", "book1/common/optimizer.py", "adam"): ("Adam", book_adam),
    ("book", "book2/common/optimizer.py", "adam"): ("Adam", book_adam),
    ("cs231n", "cs231n_a2/cs231n", "hinge"): ("svm_loss", cs231n_svm),
    ("cs231n", "cs231n_a2/cs231n", "dropout"): ("dropout_backward", cs231n_dropout),
    ("cs231n", "cs231n_a2/cs231n", "batch_norm"): ("batchnorm_backward_alt", cs231n_batchnorm_alt),
    ("cs231n", "cs231n_a2/cs231n", "conv2d"): ("conv_backward_naive", cs231n_conv),
    ("cs231n", "cs231n_a2/cs231n", "layer_norm"): ("layernorm_backward", cs231n_layernorm),
    ("cs231n", "cs231n_a2/cs231n", "adam"): ("adam", cs231n_adam),
    ("cs231n", "cs231n_a3/cs231n", "embedding"): ("word_embedding_backward", cs231n_word_embedding),
    ("cs231n", "cs231n_a3/cs231n", "rnn"): ("rnn_backward", cs231n_rnn),
    ("cs231n", "cs231n_a3/cs231n", "lstm"): ("lstm_backward", cs231n_lstm),
    ("cs231n", "cs231n_a3/cs231n", "time_softmax_cross_entropy"):
        ("temporal_softmax_loss", cs231n_temporal_softmax),
    ("functions", "eshikaku/common/functions.py", "sigmoid"): ("d_sigmoid", functions_d_sigmoid),
    ("functions", "eshikaku/common/functions.py", "softmax_cross_entropy"):
        ("d_softmax_with_loss", functions_d_softmax),
}
