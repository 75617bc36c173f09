"""The mistakes people make writing RNN, LSTM and GRU backward passes (issue 13), as code.

Each mistake is the computation the mistaken code does, written here on its own: one
time step (forward and backward) per recurrence with the mistake switched on by a flag,
and the BPTT loop of the seed (stacked layers, both directions, variable lengths) with
its own flags. A mistaken layer subclasses the answer key's class only for its
constructor (its parameters and their checks) and overrides forward and backward, so
the catalogue does not depend on how the answer key is written inside.

Gate order and layout as torch: weight_ih (G*H, D), weight_hh (G*H, H), LSTM gates
i, f, g, o, GRU gates r, z, n.
"""
import numpy as np

from ... import impl
from ..spec import Mistake


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


ACTIVATIONS = {"tanh": np.tanh, "relu": lambda u: np.maximum(u, 0), "sigmoid": sigmoid}


# --------------------------------------------------------------------------------------
# One step: forward(p, x, h, c) -> (h', c', cache); backward(p, dh', dc', cache)
# -> (d gx, dh, dc, {hidden-side gradients}), gx = x W_ih^T + b_ih
# --------------------------------------------------------------------------------------

class RNNStep:
    """z' = f(u), u = x W_ih^T + b_ih + z W_hh^T + b_hh."""
    has_cell, extra_params = False, ()

    def __init__(self, flags, nonlinearity="tanh"):
        self.flags, self.nl = flags, nonlinearity

    def forward(self, p, x, h, c):
        u = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
        z = ACTIVATIONS[self.nl](u)
        return z, None, (h, u, z)

    def derivative(self, u, z):
        F, nl = self.flags, self.nl
        if F.get("relu_mask_ge") and nl == "relu":
            return (u >= 0).astype(u.dtype)                 # 1 at the kink: wrong
        if F.get("derivative_at_pre"):                      # f'(u) written as if u were f(u)
            return {"tanh": 1 - u * u, "sigmoid": u * (1 - u), "relu": (u > 0).astype(u.dtype)}[nl]
        if F.get("derivative_at_output"):                   # f'(z) instead of f'(u)
            s = ACTIVATIONS[nl](z)
            return {"tanh": 1 - s * s, "sigmoid": s * (1 - s), "relu": (z > 0).astype(z.dtype)}[nl]
        return {"tanh": 1 - z * z, "sigmoid": z * (1 - z), "relu": (u > 0).astype(u.dtype)}[nl]

    def backward(self, p, dz, dc, cache):
        h, u, z = cache
        delta = dz * self.derivative(u, z)
        h_for_dW = z if self.flags.get("dWh_with_h_t") else h
        return delta, delta @ p["weight_hh"], None, {"weight_hh": delta.T @ h_for_dW,
                                                     "bias_hh": delta.sum(axis=0)}


class LSTMStep:
    """c' = f c + i g, h' = o tanh(c'); `order` is the order the code reads the gate blocks in."""
    has_cell, extra_params = True, ()
    peephole = False

    def __init__(self, flags, nonlinearity=None):
        self.flags = flags
        self.order = flags.get("order", "ifgo")

    def _blocks(self, a):
        H = a.shape[1] // 4
        return {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(self.order)}

    def _stack(self, d):
        return np.concatenate([d[name] for name in self.order], axis=1)

    def forward(self, p, x, h, c):
        a = self._blocks(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])
        if self.peephole:
            a["i"], a["f"] = a["i"] + p["weight_ci"] * c, a["f"] + p["weight_cf"] * c
        i, f, g = sigmoid(a["i"]), sigmoid(a["f"]), np.tanh(a["g"])
        c_next = f * c + i * g
        if self.peephole:
            a["o"] = a["o"] + p["weight_co"] * c_next
        o = sigmoid(a["o"])
        h_next = o * np.tanh(c_next)
        return h_next, c_next, (h, c, a, i, f, g, o, c_next, h_next)

    def _gate_derivatives(self, a, i, f, g, o):
        """sigma'(a) and tanh'(a) of each gate, as the (mistaken) code takes them."""
        if self.flags.get("derivative_at_pre"):            # sigma'(a) written as a (1 - a)
            d = {k: a[k] * (1 - a[k]) for k in "ifo"}
            d["g"] = 1 - a["g"] * a["g"]
        else:
            d = {"i": i * (1 - i), "f": f * (1 - f), "o": o * (1 - o), "g": 1 - g * g}
        for k in self.flags.get("no_derivative", ""):      # a gate's own derivative left out
            d[k] = np.ones_like(d[k])
        return d

    def backward(self, p, dh, dc, cache):
        F = self.flags
        h, c, a, i, f, g, o, c_next, h_next = cache
        tc = np.tanh(c_prev_or(c, c_next, F.get("output_gate_prev_c")))
        d = self._gate_derivatives(a, i, f, g, o)
        da_o = dh * tc * d["o"]
        if F.get("tanh_prime_of_c"):
            tanh_prime = 1 - c_next * c_next                 # tanh' written without the tanh
        elif F.get("tanh_prime_of_prev_c"):
            tanh_prime = 1 - np.tanh(c) ** 2                 # tanh' of the previous cell
        else:
            tanh_prime = 1 - np.tanh(c_next) ** 2
        dc = dc + dh * o * tanh_prime
        if self.peephole and not F.get("peephole_co_path_dropped"):
            dc = dc + da_o * p["weight_co"]                 # c' also feeds o
        da = {"i": dc * g * d["i"], "f": dc * (c_next if F.get("forget_with_c_next") else c) * d["f"],
              "g": dc * i * d["g"], "o": da_o}
        dc_prev = dc if F.get("dc_not_times_f") else dc * f
        grads = {}
        if self.peephole:
            if not F.get("peephole_dc_prev_incomplete"):
                dc_prev = dc_prev + da["i"] * p["weight_ci"] + da["f"] * p["weight_cf"]
            grads = {"weight_ci": (da["i"] * c).sum(axis=0), "weight_cf": (da["f"] * c).sum(axis=0),
                     "weight_co": (da_o * c_next).sum(axis=0)}
        da = self._stack(da)
        h_for_dW = h_next if F.get("dWh_with_h_t") else h
        grads.update({"weight_hh": da.T @ h_for_dW, "bias_hh": da.sum(axis=0)})
        return da, da @ p["weight_hh"], dc_prev, grads


def c_prev_or(c, c_next, use_prev):
    """The cell state whose tanh the output gate's derivative reads."""
    return c if use_prev else c_next


class PeepholeLSTMStep(LSTMStep):
    extra_params = ("weight_ci", "weight_cf", "weight_co")
    peephole = True


class GRUStep:
    """h' = (1 - z) n + z h; reset after the hidden matmul (torch) or before it (Cho)."""
    has_cell, extra_params = False, ()

    def __init__(self, flags, nonlinearity=None, reset_after=True):
        self.flags = flags
        self.reset_after = flags.get("reset_after", reset_after)
        # a swap only in backward gives the same gradients as a swap in both (the gates
        # are the same), so the catalogue has one entry, named by the gradients and out
        self.swap_forward = self.swap_backward = bool(flags.get("z_swapped"))

    def forward(self, p, x, h, c):
        H = h.shape[1]
        W, b = p["weight_hh"], p["bias_hh"]
        gx = x @ p["weight_ih"].T + p["bias_ih"]
        gh = h @ W[:2 * H].T + b[:2 * H]
        r = sigmoid(gx[:, :H] + gh[:, :H])
        z = sigmoid(gx[:, H:2 * H] + gh[:, H:])
        if self.reset_after:
            gh_n = h @ W[2 * H:].T + b[2 * H:]
            n = np.tanh(gx[:, 2 * H:] + r * gh_n)
        else:
            gh_n = None
            n = np.tanh(gx[:, 2 * H:] + (r * h) @ W[2 * H:].T + b[2 * H:])
        keep = (1 - z) if self.swap_forward else z          # the weight of h in h'
        h_next = keep * h + (1 - keep) * n
        return h_next, None, (h, r, z, n, gh_n, h_next)

    def backward(self, p, dh, dc, cache):
        F = self.flags
        h, r, z, n, gh_n, h_next = cache
        H = h.shape[1]
        W = p["weight_hh"]
        keep = (1 - z) if self.swap_backward else z
        da_n = dh * (1 - keep) * (1 - n * n)
        da_z = dh * (h - n) * z * (1 - z) * (-1 if self.swap_backward else 1)
        direct = 0 if F.get("direct_path_dropped") else dh * keep
        h_for_dW = h_next if F.get("dWh_with_h_t") else h
        if self.reset_after:
            da_r = da_n * gh_n * r * (1 - r)
            dgh = np.concatenate([da_r, da_z, da_n if F.get("reset_left_out_of_dgh") else da_n * r], axis=1)
            dgx = np.concatenate([da_r, da_z, da_n], axis=1)
            return dgx, direct + dgh @ W, None, {"weight_hh": dgh.T @ h_for_dW, "bias_hh": dgh.sum(axis=0)}
        drh = da_n @ W[2 * H:]                               # gradient of r * h
        da_r = drh * h * r * (1 - r)
        da_rz = np.concatenate([da_r, da_z], axis=1)
        dh_prev = direct + drh * r + da_rz @ W[:2 * H]
        return np.concatenate([da_rz, da_n], axis=1), dh_prev, None, {
            "weight_hh": np.concatenate([da_rz.T @ h_for_dW, da_n.T @ (r * h)], axis=0),
            "bias_hh": np.concatenate([da_rz.sum(axis=0), da_n.sum(axis=0)])}


class ChoGRUStep(GRUStep):
    def __init__(self, flags, nonlinearity=None):
        super().__init__(flags, nonlinearity, reset_after=False)


STEPS = {"rnn": RNNStep, "lstm": LSTMStep, "lstm_peephole": PeepholeLSTMStep,
         "gru": GRUStep, "gru_cho": ChoGRUStep}


# --------------------------------------------------------------------------------------
# Cells: one step
# --------------------------------------------------------------------------------------

def _add(grads, new, x, dgx):
    grads.update(new)
    grads["weight_ih"] = dgx.T @ x
    grads["bias_ih"] = dgx.sum(axis=0)
    return grads


class MistakenCell:
    """forward(x, h[, c]) -> h', c' in c_next; backward(dh'[, dc']) -> (dx, dh[, dc])."""
    kind, flags = "rnn", {}

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity="tanh"):
        self.params = dict(weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih, bias_hh=bias_hh)
        self.grads = {}
        self.step = STEPS[self.kind](self.flags, nonlinearity)

    def forward(self, x, h, c=None):
        self.x = x
        h_next, self.c_next, self.cache = self.step.forward(self.params, x, h, c)
        return h_next

    def backward(self, dh_next, dc_next=None):
        if self.step.has_cell:
            dc_next = np.zeros_like(dh_next) if dc_next is None or self.flags.get("dc_next_ignored") \
                else dc_next
        dgx, dh, dc, hidden = self.step.backward(self.params, dh_next, dc_next, self.cache)
        self.grads = _add({}, hidden, self.x, dgx)
        dx = dgx @ self.params["weight_ih"]
        return (dx, dh, dc) if self.step.has_cell else (dx, dh)


# --------------------------------------------------------------------------------------
# Sequences: the BPTT loop, with its own mistakes
#   forward_order      the backward loop runs t = 0, 1, ... instead of t = T-1, ..., 0
#   dh_next_dropped    dE/dh^t = dout^t only: the gradient from step t+1 is not added
#   dc_not_carried     dc from step t+1 is not carried (each step starts from dc = 0)
#   dh_n_ignored, dc_n_ignored   backward starts from 0 instead of dh_n, dc_n
# --------------------------------------------------------------------------------------

class MistakenSequence:
    kind, flags = "rnn", {}

    def __init__(self, nonlinearity="tanh", num_layers=1, bidirectional=False, **params):
        self.params, self.grads = dict(params), {}
        self.num_layers, self.dirs = int(num_layers), 2 if bidirectional else 1
        self.step = STEPS[self.kind](self.flags, nonlinearity)

    def _p(self, l, d):
        suffix = f"_l{l}" + ("_reverse" if d else "")
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") + self.step.extra_params
        return suffix, {n: self.params[n + suffix] for n in names}

    def forward(self, x, h0, *rest):
        c0 = rest[0] if self.step.has_cell else None
        lengths = rest[1 if self.step.has_cell else 0] if len(rest) > self.step.has_cell else None
        N, T, _ = x.shape
        H = h0.shape[-1]
        self.mask = np.ones((N, T, 1), x.dtype) if lengths is None else \
            (np.arange(T)[None, :] < np.asarray(lengths)[:, None]).astype(x.dtype)[:, :, None]
        self.h_n = np.empty_like(h0)
        self.c_n = None if c0 is None else np.empty_like(c0)
        self.inputs, self.caches, inp = [], {}, x
        for l in range(self.num_layers):
            out = np.zeros((N, T, self.dirs * H), x.dtype)
            for d in range(self.dirs):
                k = l * self.dirs + d
                _, p = self._p(l, d)
                h, c, caches = h0[k], None if c0 is None else c0[k], []
                for t in (range(T - 1, -1, -1) if d else range(T)):
                    m = self.mask[:, t]
                    h_new, c_new, cache = self.step.forward(p, inp[:, t], h, c)
                    caches.append((t, cache))
                    h = m * h_new + (1 - m) * h
                    c = None if c is None else m * c_new + (1 - m) * c
                    out[:, t, d * H:(d + 1) * H] = m * h_new
                self.caches[k] = caches
                self.h_n[k] = h
                if c is not None:
                    self.c_n[k] = c
            self.inputs.append(inp)
            inp = out
        return inp

    def backward(self, dout, dh_n=None, dc_n=None):
        F = self.flags
        dh_n = np.zeros_like(self.h_n) if dh_n is None or F.get("dh_n_ignored") else dh_n
        if self.step.has_cell:
            dc_n = np.zeros_like(self.c_n) if dc_n is None or F.get("dc_n_ignored") else dc_n
        dh0 = np.empty_like(self.h_n)
        dc0 = np.empty_like(self.h_n) if self.step.has_cell else None
        H = self.h_n.shape[-1]
        for l in reversed(range(self.num_layers)):
            inp = self.inputs[l]
            dinp = np.zeros_like(inp)
            for d in range(self.dirs):
                k = l * self.dirs + d
                suffix, p = self._p(l, d)
                grads = {n: np.zeros_like(v) for n, v in p.items()}
                dh = dh_n[k]
                dc = dc_n[k] if self.step.has_cell else None
                caches = self.caches[k] if F.get("forward_order") else reversed(self.caches[k])
                for t, cache in caches:
                    m = self.mask[:, t]
                    dz = dout[:, t, d * H:(d + 1) * H] + (0 if F.get("dh_next_dropped") else dh)
                    dc_in = None if dc is None else (np.zeros_like(dc) if F.get("dc_not_carried") else dc)
                    dgx, dh_step, dc_step, hidden = self.step.backward(
                        p, m * dz, None if dc_in is None else m * dc_in, cache)
                    dh = dh_step + (1 - m) * dh
                    dc = None if dc is None else dc_step + (1 - m) * dc
                    for n, g in _add(hidden, {}, inp[:, t], dgx).items():
                        grads[n] += g
                    dinp[:, t] += dgx @ p["weight_ih"]
                dh0[k] = dh
                if self.step.has_cell:
                    dc0[k] = dc
                self.grads.update({n + suffix: g for n, g in grads.items()})
            dout = dinp
        return (dout, dh0, dc0) if self.step.has_cell else (dout, dh0)


class _NoNonlinearity:
    """Sequence layers other than RNN take no nonlinearity argument."""

    def __init__(self, num_layers=1, bidirectional=False, **params):
        MistakenSequence.__init__(self, "tanh", num_layers, bidirectional, **params)


# --------------------------------------------------------------------------------------
# The mistaken classes and the catalogue entries
# --------------------------------------------------------------------------------------

KEY_CLASS = {("cell", "rnn"): "RNNCell", ("cell", "lstm"): "LSTMCell", ("cell", "gru"): "GRUCell",
             ("seq", "rnn"): "RNN", ("seq", "lstm"): "LSTM", ("seq", "lstm_peephole"): "PeepholeLSTM",
             ("seq", "gru"): "GRU", ("seq", "gru_cho"): "ChoGRU"}


def mistaken_class(form, kind, flags):
    """A subclass of the answer key's class with the mistaken forward and backward."""
    key = getattr(impl, KEY_CLASS[(form, kind)])
    if form == "cell":
        bases = (MistakenCell, key)
    elif kind == "rnn":
        bases = (MistakenSequence, key)
    else:
        bases = (_NoNonlinearity, MistakenSequence, key)
    return type(f"Mistaken{key.__name__}", bases, {"kind": kind, "flags": dict(flags)})


def entry(form, kind, name, flags, says, says_ja):
    return Mistake(name, says, layer=mistaken_class(form, kind, flags), says_ja=says_ja)


# (name, flags, says, says_ja): the same mistake for every recurrence it applies to
TIME_MISTAKES = [
    ("bptt_not_reversed", {"forward_order": True},
     "the BPTT loop runs forward in time (t = 0, 1, ...): go back from the last step, "
     "for t in reversed(range(T))",
     "BPTT のループが時刻の順に進んでいる: 最後の時刻から逆向きに (reversed(range(T))) 逆伝播する"),
    ("dh_next_dropped", {"dh_next_dropped": True},
     "the gradient from step t+1 is not added: dh^t = dout^t + (the dh that step t+1 returned)",
     "時刻 t+1 から戻ってくる勾配 dh を足していない: dh^t = dout^t + (時刻 t+1 の逆伝播が返した dh)"),
    ("dh_n_ignored", {"dh_n_ignored": True},
     "the upstream gradient of the last state dh_n is ignored: start BPTT from dh = dh_n, not 0",
     "最後の隠れ状態への勾配 dh_n を無視している: 逆伝播は dh = 0 ではなく dh = dh_n から始める"),
    ("dWh_with_h_t", {"dWh_with_h_t": True},
     "dW_hh is summed with h^t, the step's own output: it is delta^t^T h^{t-1}, the state the step read",
     "dW_hh を出力 h^t で計算している: その時刻が入力として読んだ h^{t-1} を使い delta^t^T h^{t-1} とする"),
]
CELL_TIME_MISTAKES = [
    ("dc_not_carried", {"dc_not_carried": True},
     "the cell-state gradient from step t+1 is not carried: dc^t = dc^{t+1} f^{t+1} + dh^t o^t (1 - tanh^2 c^t)",
     "記憶セルの勾配を時刻 t+1 から受け取っていない: dc^t = dc^{t+1} f^{t+1} + dh^t o^t (1 - tanh^2 c^t)"),
    ("dc_not_times_f", {"dc_not_times_f": True},
     "dc passed to step t-1 is not multiplied by the forget gate: dc^{t-1} = dc^t * f^t",
     "前の時刻へ渡す記憶セルの勾配に忘却ゲートを掛けていない: dc^{t-1} = dc^t * f^t"),
    ("no_gradient_through_time", {"dh_next_dropped": True, "dc_not_carried": True},
     "neither dh nor dc returned by step t+1 is passed back into step t: "
     "call cell.backward(dout[:, t] + dh, dc) with both",
     "時刻 t+1 からの dh も dc も渡していない: cell.backward(dout[:, t] + dh, dc) と両方を前の時刻へ渡す"),
    ("final_states_ignored", {"dh_n_ignored": True, "dc_n_ignored": True},
     "the upstream gradients of the last states dh_n and dc_n are ignored: start BPTT from "
     "dh = dh_n and dc = dc_n, not 0",
     "最後の状態への勾配 dh_n と dc_n を無視している: 逆伝播は dh = dh_n、dc = dc_n から始める"),
    ("dc_n_ignored", {"dc_n_ignored": True},
     "the upstream gradient of the last cell state dc_n is ignored: start BPTT from dc = dc_n, not 0",
     "最後の記憶セルへの勾配 dc_n を無視している: 逆伝播は dc = 0 ではなく dc = dc_n から始める"),
]
RNN_MISTAKES = [
    ("derivative_at_pre_activation", {"derivative_at_pre": True},
     "f'(u) is computed as if u were f(u) (1 - u^2, u (1 - u)): use the output z, 1 - z^2 or z (1 - z)",
     "活性化関数の微分を活性化前の値 u で 1 - u^2 などとしている: 出力 z を使い 1 - z^2 (sigmoid は z(1 - z))"),
    ("derivative_at_output", {"derivative_at_output": True},
     "f' is taken at the output z instead of the pre-activation u (tanh'(z) = 1 - tanh(z)^2): "
     "f'(u) = 1 - z^2 uses z directly",
     "微分を出力 z に対して取っている (1 - tanh(z)^2): f'(u) = 1 - z^2 と z をそのまま使う"),
    ("relu_mask_ge", {"relu_mask_ge": True},
     "the relu mask is u >= 0: relu'(0) = 0, use u > 0",
     "ReLU のマスクが u >= 0 になっている: u = 0 での微分は 0 なので u > 0 とする"),
]
GATE_NAMES_JA = {"i": "入力ゲート i", "f": "忘却ゲート f", "g": "新しい記憶 g", "o": "出力ゲート o"}
LSTM_MISTAKES = [
    ("gate_order_fgio", {"order": "fgio"},
     "the gate blocks are read in the book's order f, g, i, o: torch stacks them i, f, g, o",
     "ゲートのブロックを本の順 f, g, i, o で読んでいる: torch の重みは i, f, g, o の順に並ぶ"),
    ("gate_order_ifog", {"order": "ifog"},
     "the gate blocks are read in the order i, f, o, g: torch stacks them i, f, g, o",
     "ゲートのブロックを i, f, o, g の順で読んでいる: torch の重みは i, f, g, o の順に並ぶ"),
    ("tanh_prime_of_c", {"tanh_prime_of_c": True},
     "tanh' of the cell is taken as 1 - c^2: it is 1 - tanh(c)^2, dc += dh * o * (1 - tanh(c)^2)",
     "記憶セルの tanh の微分を 1 - c^2 としている: 1 - tanh(c)^2、dc += dh * o * (1 - tanh(c)^2)"),
    ("tanh_prime_of_prev_c", {"tanh_prime_of_prev_c": True},
     "tanh' is taken at the previous cell c^{t-1}: h^t = o tanh(c^t), so dc^t += dh * o * (1 - tanh(c^t)^2)",
     "tanh の微分を前の時刻の記憶セル c^{t-1} で取っている: h^t = o tanh(c^t) なので dc^t += dh * o * (1 - tanh(c^t)^2)"),
    ("output_gate_prev_c", {"output_gate_prev_c": True},
     "the output gate's derivative uses tanh of the previous cell c^{t-1}: h^t = o tanh(c^t), "
     "so d a_o = dh * tanh(c^t) * o (1 - o)",
     "出力ゲートの微分に前の時刻の記憶セル tanh(c^{t-1}) を使っている: h^t = o tanh(c^t) なので tanh(c^t)"),
    ("forget_with_c_next", {"forget_with_c_next": True},
     "the forget gate's derivative uses the new cell c^t: c^t = f c^{t-1} + i g, so d a_f = dc * c^{t-1} * f (1 - f)",
     "忘却ゲートの微分に新しい記憶セル c^t を使っている: d a_f = dc * c^{t-1} * f (1 - f)"),
    ("derivative_at_pre_activation", {"derivative_at_pre": True},
     "the gates' derivatives are taken at the pre-activations (a (1 - a), 1 - a^2): "
     "use the gate values, i (1 - i), 1 - g^2",
     "ゲートの微分を活性化前の値 a で a(1 - a) としている: ゲートの値で i(1 - i)、1 - g^2 とする"),
] + [(f"no_derivative_{k}", {"no_derivative": k},
      f"the derivative of the {'tanh' if k == 'g' else 'sigmoid'} of gate {k} is left out: "
      f"multiply by {'1 - g^2' if k == 'g' else f'{k} (1 - {k})'}",
      f"{GATE_NAMES_JA[k]} の活性化関数の微分を掛けていない: "
      f"{'1 - g^2' if k == 'g' else f'{k}(1 - {k})'} を掛ける") for k in "ifgo"]
PEEPHOLE_MISTAKES = [
    ("peephole_co_path_dropped", {"peephole_co_path_dropped": True},
     "the path from c^t into the output gate is dropped: dc^t += d a_o * w_co",
     "記憶セル c^t から出力ゲートへの覗き穴の経路を落としている: dc^t += d a_o * w_co"),
    ("peephole_dc_prev_incomplete", {"peephole_dc_prev_incomplete": True},
     "dc^{t-1} misses the peephole terms: dc^{t-1} = dc^t f + d a_i w_ci + d a_f w_cf",
     "dc^{t-1} に覗き穴の項がない: dc^{t-1} = dc^t f + d a_i w_ci + d a_f w_cf"),
]
GRU_MISTAKES = [
    ("z_swapped", {"z_swapped": True},
     "z and 1 - z are swapped (h' = z n + (1 - z) h): torch's GRU is h' = (1 - z) n + z h, "
     "so dh = dh' z + ... and d n = dh' (1 - z)",
     "z と 1 - z が入れ替わっている (h' = z n + (1 - z) h): torch の GRU は h' = (1 - z) n + z h、"
     "dh = dh' z + ...、d n = dh' (1 - z)"),
    ("direct_path_dropped", {"direct_path_dropped": True},
     "the direct path h -> h' is dropped from dh: dh = dh' z + (the gate terms)",
     "h から h' への直接の経路を dh から落としている: dh = dh' z + (ゲートを通る項)"),
]
GRU_RESET = {
    "gru": ("reset_before_matmul", {"reset_after": False},
            "the reset gate is applied before the hidden matmul (Cho's n = tanh(W x + W_hn (r h))): "
            "torch applies it after, n = tanh(W x + r (W_hn h + b_hn))",
            "リセットゲートを行列積の前に掛けている (Cho 版): torch は後に掛ける n = tanh(W x + r (W_hn h + b_hn))"),
    "gru_cho": ("reset_after_matmul", {"reset_after": True},
                "the reset gate is applied after the hidden matmul (torch's n = tanh(W x + r (W_hn h + b_hn))): "
                "this GRU applies it to h first, n = tanh(W x + W_hn (r h) + b_hn)",
                "リセットゲートを行列積の後に掛けている (torch 版): この GRU は先に h に掛ける n = tanh(W x + W_hn (r h) + b_hn)"),
}


def catalogue(form, kind):
    """The catalogue of one op: form "cell" or "seq", kind as GATE_NAMES."""
    rows = []
    if form == "seq":
        rows += [r for r in TIME_MISTAKES]
        if kind in ("lstm", "lstm_peephole"):
            rows += CELL_TIME_MISTAKES
    else:
        rows += [r for r in TIME_MISTAKES if r[0] == "dWh_with_h_t"]
        if kind == "lstm":
            rows += [("dc_next_ignored", {"dc_next_ignored": True},
                      "backward ignores dc_next, the upstream gradient of c': dc = dc_next + dh' o (1 - tanh^2 c')",
                      "逆伝播で記憶セル c' への勾配 dc_next を無視している: dc = dc_next + dh' o (1 - tanh^2 c')"),
                     next(r for r in CELL_TIME_MISTAKES if r[0] == "dc_not_times_f")]
    rows += {"rnn": RNN_MISTAKES, "lstm": LSTM_MISTAKES, "lstm_peephole": LSTM_MISTAKES + PEEPHOLE_MISTAKES,
             "gru": GRU_MISTAKES, "gru_cho": GRU_MISTAKES}[kind]
    if kind in GRU_RESET:
        rows.append(GRU_RESET[kind])
    if kind == "gru_cho":      # dW_hh of the n block is summed with r h: the h^t mistake reads differently
        rows = [r for r in rows if r[0] != "dWh_with_h_t"]
    return [entry(form, kind, *r) for r in rows]


# -- truncated BPTT -----------------------------------------------------------------------

class MistakenTBPTT(impl.TruncatedBPTTLSTM):
    """One LSTM layer run chunk by chunk; `flags`: not_truncated (the gradient is not cut at
    the chunk boundaries) or state_not_carried (each chunk starts again from h0, c0)."""
    flags = {}

    def __init__(self, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, chunk_size):
        self.params = dict(weight_ih=weight_ih_l0, weight_hh=weight_hh_l0, bias_ih=bias_ih_l0,
                           bias_hh=bias_hh_l0)
        self.chunk, self.grads = int(chunk_size), {}
        self.step = LSTMStep({})

    def forward(self, x, h0, c0):
        h, c = h0[0], c0[0]
        self.x, self.caches, outs = x, [], []
        for t in range(x.shape[1]):
            if t % self.chunk == 0 and self.flags.get("state_not_carried"):
                h, c = h0[0], c0[0]
            h, c, cache = self.step.forward(self.params, x[:, t], h, c)
            self.caches.append(cache)
            outs.append(h)
        self.h_n, self.c_n = h[None], c[None]
        return np.stack(outs, axis=1)

    def backward(self, dout):
        T = self.x.shape[1]
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dx = np.zeros_like(self.x)
        dh = dc = np.zeros_like(self.h_n[0])
        for t in reversed(range(T)):
            dgx, dh, dc, hidden = self.step.backward(self.params, dout[:, t] + dh, dc, self.caches[t])
            for n, g in _add(hidden, {}, self.x[:, t], dgx).items():
                grads[n] += g
            dx[:, t] = dgx @ self.params["weight_ih"]
            cut = t % self.chunk == 0 and t > 0
            if cut and (self.flags.get("state_not_carried") or not self.flags.get("not_truncated")):
                dh, dc = np.zeros_like(dh), np.zeros_like(dc)
        self.grads = {k + "_l0": g for k, g in grads.items()}
        return dx, dh[None], dc[None]


def tbptt_catalogue():
    def make(name, flags, says, says_ja):
        return Mistake(name, says, layer=type("MistakenTruncatedBPTTLSTM", (MistakenTBPTT,),
                                              {"flags": flags}), says_ja=says_ja)
    return [make("not_truncated", {"not_truncated": True},
                 "the gradient is not cut at the chunk boundaries: truncated BPTT sets dh = dc = 0 "
                 "where a chunk begins (the state goes on, the gradient stops)",
                 "ブロックの境界で勾配を切っていない: Truncated BPTT では各ブロックの始まりで dh = dc = 0 とする"),
            make("state_not_carried", {"state_not_carried": True},
                 "each chunk starts again from h0, c0: the state of the last step is carried into the "
                 "next chunk (only the gradient is cut)",
                 "各ブロックを h0, c0 からやり直している: 隠れ状態は次のブロックへ引き継ぐ (切るのは勾配だけ)")]


# -- time-distributed layers (no recurrence) -----------------------------------------------

def _time_affine(flag):
    def compute(data, hp, dout):
        x, W, b = data.inputs["x"], data.params["W"], data.params["b"]
        N, T, D = x.shape
        if flag == "db_not_summed_over_time":
            return {"grad:b": dout.sum(axis=0)}
        if flag == "dW_last_step_only":
            return {"grad:W": x[:, -1].T @ dout[:, -1]}
        # rows_mismatched: x flattened batch-major, dout time-major
        return {"grad:W": x.reshape(N * T, D).T @ dout.transpose(1, 0, 2).reshape(N * T, -1)}
    return compute


def _embedding_overwrite(data, hp, dout):
    """dW[idx] = dout: a repeated id keeps one of its gradients (numpy keeps the last)."""
    W, idx = data.params["W"], data.extra["idx"]
    dW = np.zeros_like(W)
    dW[idx] = dout
    return {"grad:W": dW}


def _embedding(flag):
    """dW of a time embedding with the mistake `flag`:
        last_step_only    the steps' gradients not summed (grad = layer.grads[0] in the loop
                          over t of the book's TimeEmbedding): only t = T - 1 is kept
        rows_mismatched   idx flattened batch-major, dout time-major"""
    def compute(data, hp, dout):
        W, idx = data.params["W"], data.extra["idx"]
        dW = np.zeros_like(W)
        if flag == "last_step_only":
            np.add.at(dW, idx[:, -1], dout[:, -1])
        else:
            np.add.at(dW, idx.reshape(-1), dout.transpose(1, 0, 2).reshape(-1, W.shape[1]))
        return {"grad:W": dW}
    return compute


def _time_ce(flag):
    def compute(data, hp, dout):
        x, t = data.inputs["x"], data.extra["t"]
        valid = t != -1
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        prob = e / e.sum(axis=-1, keepdims=True)
        onehot = np.zeros_like(x)
        np.put_along_axis(onehot, (t if flag == "ignored_not_masked" else np.where(valid, t, 0))[..., None],
                          1.0, axis=2)                    # t = -1 picks the last class
        mask = np.ones_like(valid) if flag == "ignored_not_masked" else valid
        losses = -(onehot * np.log(prob)).sum(axis=2) * mask
        N, T = t.shape
        if hp.get("reduction", "mean") == "sum":
            count = 1.0
        else:
            count = {"divided_by_all_positions": N * T, "divided_by_batch": N}.get(flag, max(int(mask.sum()), 1))
        g = np.asarray(dout, dtype=x.dtype)
        return {"out": np.asarray(losses.sum() / count, dtype=x.dtype),
                "grad:x": (prob - onehot) * mask[..., None] * (g / count)}
    return compute


TIME_AFFINE_MISTAKES = [
    Mistake("db_not_summed_over_time", "db is summed over the batch only: the bias is added at every step, "
            "db = dout.sum(axis=(0, 1))", compute=_time_affine("db_not_summed_over_time"),
            says_ja="db をバッチ方向にしか足していない: バイアスは全時刻に足されるので db = dout.sum(axis=(0, 1))"),
    Mistake("dW_last_step_only", "dW is taken from the last step alone: the weights are shared by every "
            "step, dW = sum_t x^t^T dout^t", compute=_time_affine("dW_last_step_only"),
            says_ja="dW を最後の時刻だけから計算している: 重みは全時刻で共有されるので dW = sum_t x^t^T dout^t"),
    Mistake("rows_mismatched", "x and dout are flattened in different orders (batch-major and time-major): "
            "reshape both as (N*T, .) the same way", compute=_time_affine("rows_mismatched"),
            says_ja="x と dout を違う順 (バッチ優先と時刻優先) で平らにしている: 両方を同じ順で (N*T, .) にする"),
]
TIME_EMBEDDING_MISTAKES = [
    Mistake("repeated_ids_overwrite", "dW[idx] = dout keeps one gradient of a repeated id: add them all, "
            "np.add.at(dW, idx, dout)", compute=_embedding_overwrite,
            says_ja="dW[idx] = dout では同じ単語 ID の勾配が上書きされる: np.add.at(dW, idx, dout) で足し合わせる"),
    Mistake("dW_last_step_only", "dW keeps the last step's gradient only (grad = layer.grads[0] in the loop "
            "over t): the weights are shared by every step, add them, grad += layer.grads[0]",
            compute=_embedding("last_step_only"),
            says_ja="dW に最後の時刻の勾配しか残っていない (時刻のループで grad = layer.grads[0]): 重みは全時刻で"
                    "共有されるので grad += layer.grads[0] と足し合わせる"),
    Mistake("rows_mismatched", "idx and dout are flattened in different orders (batch-major and time-major): "
            "each id must meet its own position's gradient, np.add.at(dW, idx, dout)",
            compute=_embedding("rows_mismatched"),
            says_ja="idx と dout を違う順 (バッチ優先と時刻優先) で平らにしている: 各 ID にはその位置の勾配を対応させ "
                    "np.add.at(dW, idx, dout) とする"),
]
TIME_CE_MISTAKES = [
    Mistake("divided_by_all_positions", "the mean divides by N*T: ignored positions do not count, divide "
            "by K, the number of positions with t != -1", compute=_time_ce("divided_by_all_positions"),
            says_ja="N*T で割っている: 無視する位置 (t = -1) は数えず、有効な位置の数 K で割る"),
    Mistake("divided_by_batch", "the mean divides by the batch size N: divide by K, the number of positions "
            "with t != -1", compute=_time_ce("divided_by_batch"),
            says_ja="バッチサイズ N で割っている: 有効な位置 (t != -1) の数 K で割る"),
    Mistake("ignored_not_masked", "ignored positions (t = -1) are not masked out: t = -1 reads the last "
            "class; set their loss and gradient to 0", compute=_time_ce("ignored_not_masked"),
            says_ja="無視する位置 (t = -1) をマスクしていない: t = -1 は最後のクラスを指してしまう。損失と勾配を 0 にする"),
]


# -- seq2seq: the encoder, the decoder and the path of h between them ------------------------

class MistakenSeq2Seq(impl.Seq2Seq):
    """The answer key's encoder and decoder LSTMs, attention and loss, wired with the mistake
    of `flags`:
        decoder_state_zero           forward: the decoder starts from h = c = 0, not the encoder's
        encoder_state_gradient_dropped  backward: the decoder's dh0, dc0 do not reach the encoder
        dc_not_passed                backward: the encoder gets dh0 but dc = 0
        dh_from_decoder_first_step   backward: the encoder's dh_n is the decoder's upstream
                                     gradient at step 0, not the dh0 its backward returned
        encoder_last_step_only       backward: the attention's gradient dhs does not reach the
                                     encoder (only dh0, dc0 at its last step, as without attention)
        dhs_score_term_missing       backward: dhs misses ds^T hd (s = hd hs^T has two inputs)
        dhd_score_term_missing       backward: dhd misses ds hs
        concat_split_swapped         backward: [dctx, dhd] split as [dhd, dctx]"""
    flags = ()

    def forward(self, xs, ys, ts):
        zeros = np.zeros((1, len(xs), self.encoder.hidden_size), dtype=np.result_type(xs, ys))
        self.hs = self.encoder.forward(xs, zeros, zeros)
        if "decoder_state_zero" in self.flags:
            self.hd = self.decoder.forward(ys, zeros, zeros)
        else:
            self.hd = self.decoder.forward(ys, self.encoder.h_n, self.encoder.c_n)
        s = self.hd @ self.hs.transpose(0, 2, 1)
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        self.a = e / e.sum(axis=-1, keepdims=True)
        logits = self.affine.forward(np.concatenate([self.a @ self.hs, self.hd], axis=2))
        return self.loss.forward(logits, ts)

    def backward(self, dout=1.0):
        F, H = self.flags, self.hs.shape[2]
        dcat = self.affine.backward(self.loss.backward(dout))
        if "concat_split_swapped" in F:
            dhd, dctx = dcat[..., :H].copy(), dcat[..., H:]
        else:
            dctx, dhd = dcat[..., :H], dcat[..., H:].copy()
        da = dctx @ self.hs.transpose(0, 2, 1)
        dhs = self.a.transpose(0, 2, 1) @ dctx
        ds = self.a * (da - (da * self.a).sum(axis=-1, keepdims=True))
        if "dhd_score_term_missing" not in F:
            dhd += ds @ self.hs
        if "dhs_score_term_missing" not in F:
            dhs += ds.transpose(0, 2, 1) @ self.hd
        dys, dh0, dc0 = self.decoder.backward(dhd)
        if "dh_from_decoder_first_step" in F:
            dh0 = dhd[:, :1].transpose(1, 0, 2)
        if "decoder_state_zero" in F or "encoder_state_gradient_dropped" in F:
            dh0 = np.zeros_like(dh0)
        if "decoder_state_zero" in F or "encoder_state_gradient_dropped" in F or "dc_not_passed" in F:
            dc0 = np.zeros_like(dc0)
        if "encoder_last_step_only" in F:
            dhs = np.zeros_like(dhs)
        dxs, _, _ = self.encoder.backward(dhs, dh0, dc0)
        self.grads = {prefix + name.replace("_l0", ""): g for prefix, part in self.parts.items()
                      for name, g in part.grads.items()}
        return dxs, dys


def _seq2seq(flag, says, says_ja):
    return Mistake(flag, says, layer=type("MistakenSeq2Seq", (MistakenSeq2Seq,), {"flags": (flag,)}),
                   says_ja=says_ja)


SEQ2SEQ_MISTAKES = [_seq2seq(*row) for row in [
    ("decoder_state_zero",
     "the decoder starts from a zero state: it starts from the encoder's last (h, c), and its dh0, dc0 "
     "go back into the encoder",
     "デコーダをゼロの状態から始めている: デコーダはエンコーダの最後の隠れ状態 (h, c) から始め、"
     "その dh0, dc0 をエンコーダへ逆伝播する"),
    ("encoder_state_gradient_dropped",
     "the decoder's dh0 and dc0 are not passed back into the encoder: encoder.backward(dhs, dh0, dc0), "
     "the gradient of the state the decoder started from",
     "デコーダが返す dh0, dc0 をエンコーダへ渡していない: デコーダが始めた状態の勾配なので "
     "encoder.backward(dhs, dh0, dc0) とする"),
    ("dc_not_passed",
     "only dh0 is passed back into the encoder: the decoder also started from the encoder's cell c, "
     "so pass dc0 too, encoder.backward(dhs, dh0, dc0)",
     "エンコーダへ dh0 しか渡していない: デコーダはエンコーダの記憶セル c からも始めるので "
     "dc0 も渡し encoder.backward(dhs, dh0, dc0) とする"),
    ("dh_from_decoder_first_step",
     "the encoder's dh is taken from the decoder's upstream gradient at its first step: use the dh0 that "
     "the decoder's backward returns, which has gone back through every decoder step",
     "エンコーダへの dh をデコーダの最初の時刻の上流の勾配から取っている: デコーダの逆伝播が返す dh0 "
     "（デコーダの全時刻を逆伝播してきたもの）を使う"),
    ("encoder_last_step_only",
     "the encoder gets a gradient at its last step only: through the attention every encoder state hs "
     "gets one, encoder.backward(dhs, dh0, dc0) with dhs = a^T dctx + ds^T hd",
     "エンコーダに最後の時刻の勾配しか渡していない: アテンションを通してエンコーダのすべての隠れ状態 hs に"
     "勾配が流れるので dhs = a^T dctx + ds^T hd を encoder.backward(dhs, dh0, dc0) に渡す"),
    ("dhs_score_term_missing",
     "dhs misses the score's term: s = hd hs^T depends on hs too, dhs = a^T dctx + ds^T hd",
     "dhs にスコアを通る項がない: s = hd hs^T は hs にも依存するので dhs = a^T dctx + ds^T hd"),
    ("dhd_score_term_missing",
     "the decoder's dh misses the score's term: s = hd hs^T depends on hd, dhd = (affine's part) + ds hs",
     "デコーダの隠れ状態の勾配にスコアを通る項がない: s = hd hs^T は hd に依存するので "
     "dhd = (Affine からの勾配) + ds hs"),
    ("concat_split_swapped",
     "the gradient of [ctx, hd] is split the wrong way round: the first H columns are dctx, the last H dhd",
     "[ctx, hd] の勾配を逆に分けている: 先頭の H 列が dctx、後ろの H 列が dhd"),
]]
