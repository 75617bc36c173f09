# A test copy of the E資格 course's common/functions.py (DNN_code), written for
# backprop-oracle's tests with the course's behaviour: the teacher first in the losses
# (d, y), derivatives at the pre-activation, 1e-7 inside the cross-entropy log,
# d_mean_squared_error = (y - d) / N next to mean_squared_error = mean((d - y)^2) / 2.
import numpy as np


# 中間層の活性化関数
def sigmoid(x):
    return 1/(1 + np.exp(-x))


def relu(x):
    return np.maximum(0, x)


def step_function(x):
    return np.where(x > 0, 1, 0)


# 出力層の活性化関数
def softmax(x):
    if x.ndim == 2:
        x = x.T
        x = x - np.max(x, axis=0)
        y = np.exp(x) / np.sum(np.exp(x), axis=0)
        return y.T

    x = x - np.max(x)  # オーバーフロー対策
    return np.exp(x) / np.sum(np.exp(x))


def softmax_with_loss(d, x):
    y = softmax(x)
    return cross_entropy_error(d, y)


# 誤差関数
def mean_squared_error(d, y):
    return np.mean(np.square(d - y)) / 2


def cross_entropy_error(d, y):
    if y.ndim == 1:
        d = d.reshape(1, d.size)
        y = y.reshape(1, y.size)

    # 教師データがone-hot-vectorの場合、正解ラベルのインデックスに変換
    if d.size == y.size:
        d = d.argmax(axis=1)

    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), d] + 1e-7)) / batch_size


# 活性化関数の導関数
def d_sigmoid(x):
    dx = (1.0 - sigmoid(x)) * sigmoid(x)
    return dx


def d_relu(x):
    return np.where(x > 0, 1, 0)


def d_step_function(x):
    return 0


def d_mean_squared_error(d, y):
    if type(d) == np.ndarray:
        batch_size = d.shape[0]
        dx = (y - d)/batch_size
    else:
        dx = y - d
    return dx


def d_softmax_with_loss(d, y):
    batch_size = d.shape[0]
    if d.size == y.size:  # 教師データがone-hot-vectorの場合
        dx = (y - d) / batch_size
    else:
        dx = y.copy()
        dx[np.arange(batch_size), d] -= 1
        dx = dx / batch_size
    return dx


def d_sigmoid_with_loss(d, y):
    return y - d
