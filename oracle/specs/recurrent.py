"""Recurrent layers (seed 001): RNN, LSTM, GRU and their BPTT, batch first.

Layout everywhere: x (N, T, D) batch first (torch with batch_first=True); h0, c0
(num_layers * directions, N, H) as torch; weights in torch's layout and names.
torch references are torch's own nn.RNN / nn.LSTM / nn.GRU (run with the case's
weights through torch.func.functional_call, packed sequences for variable
lengths); jax references are written from the equations with lax.scan.
"""
import numpy as np

from ..frameworks import F, jnn, jnp, lax, torch
from ..spec import Case, CaseData, OpSpec
from ._cases import normal, weight
from ._mistakes_recurrent import (SEQ2SEQ_MISTAKES, TIME_AFFINE_MISTAKES, TIME_CE_MISTAKES,
                                  TIME_EMBEDDING_MISTAKES, catalogue, tbptt_catalogue)

GATE_NAMES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "lstm_peephole": ("i", "f", "g", "o"),
              "gru": ("r", "z", "n"), "gru_cho": ("r", "z", "n")}
PEEPHOLES = ("weight_ci", "weight_cf", "weight_co")


# --------------------------------------------------------------------------------------
# Case data
# --------------------------------------------------------------------------------------

def _lstm_like(kind):
    return kind in ("lstm", "lstm_peephole")


def _weights(rng, kind, D, H, suffix=""):
    G = len(GATE_NAMES[kind])
    p = {f"weight_ih{suffix}": weight(rng, D, G * H, D), f"weight_hh{suffix}": weight(rng, H, G * H, H),
         f"bias_ih{suffix}": normal(rng, G * H, scale=0.5), f"bias_hh{suffix}": normal(rng, G * H, scale=0.5)}
    if kind == "lstm_peephole":
        p.update({f"{n}{suffix}": normal(rng, H, scale=0.5) for n in PEEPHOLES})
    return p


def cell_case(kind, N=3, D=3, H=4, zero_state=False):
    def make(rng):
        state = (lambda: np.zeros((N, H))) if zero_state else (lambda: normal(rng, N, H))
        inputs = {"x": normal(rng, N, D), "h": state()}
        if _lstm_like(kind):
            inputs["c"] = state()
        return CaseData(inputs=inputs, params=_weights(rng, kind, D, H))
    return make


def seq_case(kind, N=3, T=5, D=3, H=4, num_layers=1, bidirectional=False, zero_state=False,
             lengths=None):
    dirs = 2 if bidirectional else 1

    def make(rng):
        params = {}
        for l in range(num_layers):
            for d in range(dirs):
                params.update(_weights(rng, kind, D if l == 0 else dirs * H, H,
                                       f"_l{l}" + ("_reverse" if d else "")))
        shape = (num_layers * dirs, N, H)
        state = (lambda: np.zeros(shape)) if zero_state else (lambda: normal(rng, *shape))
        inputs = {"x": normal(rng, N, T, D), "h0": state()}
        if _lstm_like(kind):
            inputs["c0"] = state()
        extra = {} if lengths is None else {"lengths": np.array(lengths, dtype=np.int64)}
        return CaseData(inputs=inputs, params=params, extra=extra)
    return make


def seq_hparams(num_layers=1, bidirectional=False, **hp):
    return {"num_layers": num_layers, "bidirectional": bidirectional, **hp}


def standard_seq_cases(kind):
    """T=1, a long sequence, batch 1, zero and random states, stacked + bidirectional, lengths."""
    return [
        Case("T1", seq_case(kind, T=1), seq_hparams(), why="one step: no gradient through time",
             why_ja="1 ステップ: 時間方向の勾配はない"),
        Case("long_T20", seq_case(kind, N=2, T=20), seq_hparams(),
             why="20 steps: the gradient through time must survive every step back",
             why_ja="20 ステップ: 時間をさかのぼる勾配が、すべてのステップを通り抜けて伝わらなければならない"),
        Case("batch1_zero_state", seq_case(kind, N=1, zero_state=True), seq_hparams(),
             why="batch 1 and h0 (c0) = 0", why_ja="バッチサイズ 1 で h0 (c0) = 0"),
        Case("random_state", seq_case(kind), seq_hparams(), why="random h0 (c0): dh0 is checked",
             why_ja="ランダムな h0 (c0): dh0 も確かめる"),
        Case("stacked_bidirectional", seq_case(kind, num_layers=2, bidirectional=True),
             seq_hparams(2, True), why="num_layers=2, bidirectional: directions concatenated",
             why_ja="num_layers=2、双方向: 両方向の出力を連結する"),
        Case("lengths", seq_case(kind, num_layers=2, bidirectional=True, lengths=[5, 2, 3]),
             seq_hparams(2, True), why="variable lengths (packed sequences), two layers, both directions",
             why_ja="可変長の系列（packed sequences）、2 層、両方向"),
        Case("lengths_one_layer", seq_case(kind, lengths=[2, 5, 1]), seq_hparams(),
             why="variable lengths on one layer in one direction (the layer given lengths itself)",
             why_ja="1 層・一方向での可変長の系列（層そのものに lengths を渡す）"),
    ]


def cell_cases(kind):
    return [Case("batch3", cell_case(kind)),
            Case("batch1", cell_case(kind, N=1), why="batch size 1", why_ja="バッチサイズ 1"),
            Case("zero_state", cell_case(kind, zero_state=True), why="h (c) = 0",
                 why_ja="状態 h (c) = 0")]


FINAL_STATES = {"rnn": ("h_n",), "gru": ("h_n",), "gru_cho": ("h_n",),
                "lstm": ("h_n", "c_n"), "lstm_peephole": ("h_n", "c_n")}


def upstream_seq_cases(kind):
    """An upstream gradient into every output: the sequence and the final states."""
    states = FINAL_STATES[kind]
    into = " and ".join(f"d{s}" for s in states)
    into_ja = " と ".join(f"d{s}" for s in states)
    return [
        Case("upstream_state", seq_case(kind), seq_hparams(), upstream=states,
             why=f"{into} != 0 as well: backward(dout, {', '.join('d' + s for s in states)}) "
                 f"must start BPTT from them",
             why_ja=f"{into_ja} も 0 でない: backward(dout, {', '.join('d' + s for s in states)}) "
                    f"はこれらの勾配からも BPTT を始めなければならない"),
        Case("upstream_state_lengths", seq_case(kind, num_layers=2, bidirectional=True, lengths=[5, 2, 3]),
             seq_hparams(2, True), upstream=states,
             why=f"{into} != 0 with variable lengths, two layers, both directions: the final "
                 f"state of a short sequence is its state at its last valid step",
             why_ja=f"可変長・2 層・両方向で {into_ja} != 0: 短い系列の最終状態は、"
                    f"その系列の最後の有効なステップでの状態"),
    ]


def constant_zero_cell(N=3, T=5, D=3, H=4):
    """seq_case's LSTM with c0 = 0 as a constant (extra, not an input): no d c0 to check."""
    def make(rng):
        data = seq_case("lstm", N, T, D, H)(rng)
        data.extra["c0"] = np.zeros_like(data.inputs.pop("c0"))
        return data
    return make


def constant_zero_cell_cases():
    """c0 = 0 held constant, c_n checked where the layer keeps it: the form of CS231n's
    lstm_forward(x, h0, Wx, Wh, b), which starts from c0 = 0 and returns neither c_T nor d c0."""
    return [Case("c0_constant_zero", constant_zero_cell(), seq_hparams(), constants=("c0",),
                 optional=("c_n",),
                 why="c0 = 0 as a constant, not an input (no d c0), random h0; c_n is checked where "
                     "the layer keeps it: CS231n's lstm_forward starts from c0 = 0 and returns "
                     "neither c_T nor d c0",
                 why_ja="c0 = 0 を入力ではなく定数として与える（d c0 はない）。h0 はランダム。c_n は層が"
                        "保持している場合に確かめる: CS231n の lstm_forward は c0 = 0 から始め、c_T も "
                        "d c0 も返さない")]


def relu_kink_cell(N=3, D=3, H=4):
    """Sample 0 with x = 0 and h = 0, and b_hh = -b_ih: its pre-activations are exactly 0."""
    def make(rng):
        data = cell_case("rnn", N, D, H)(rng)
        data.inputs["x"][0] = 0.0
        data.inputs["h"][0] = 0.0
        data.params["bias_hh"] = -data.params["bias_ih"]
        return data
    return make


def relu_kink_seq(N=3, T=5, D=3, H=4):
    """Sample 0 with x^t = 0 at every step and h0 = 0, and b_hh = -b_ih: its pre-activations
    are exactly 0 at every step (its state stays 0), the other samples' are not."""
    def make(rng):
        data = seq_case("rnn", N, T, D, H)(rng)
        data.inputs["x"][0] = 0.0
        data.inputs["h0"][:, 0] = 0.0
        data.params["bias_hh_l0"] = -data.params["bias_ih_l0"]
        return data
    return make


KINK_WHY = ("relu at its kink: pre-activations exactly 0 (x = 0, h = 0, b_hh = -b_ih), where "
            "relu'(0) = 0 as torch and jax take it (a mask u >= 0 is wrong); finite differences "
            "would straddle the kink, so torch and jax check it")
KINK_WHY_JA = ("折れ点での relu: 活性化前の値がちょうど 0（x = 0, h = 0, b_hh = -b_ih）。torch と jax と"
               "同じく relu'(0) = 0 とする（マスク u >= 0 は誤り）。数値微分は折れ点をまたいでしまうので、"
               "torch と jax が確かめる")


# --------------------------------------------------------------------------------------
# torch references
# --------------------------------------------------------------------------------------

TORCH_MODULES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def torch_sequence(kind):
    """torch's own nn.RNN / nn.LSTM / nn.GRU, batch first, packed for variable lengths."""
    def run(a, e, hp):
        x, h0 = a["x"], a["h0"]
        H = h0.shape[-1]
        options = {"num_layers": hp["num_layers"], "bidirectional": hp["bidirectional"], "batch_first": True}
        if kind == "rnn":
            options["nonlinearity"] = hp.get("nonlinearity", "tanh")
        module = getattr(torch.nn, TORCH_MODULES[kind])(x.shape[-1], H, **options)
        params = {k: v for k, v in a.items() if k not in ("x", "h0", "c0")}
        state = (h0, a["c0"] if "c0" in a else e["c0"]) if kind == "lstm" else h0   # c0: or a constant
        seq = x
        if "lengths" in e:
            seq = torch.nn.utils.rnn.pack_padded_sequence(x, e["lengths"].cpu(), batch_first=True,
                                                          enforce_sorted=False)
        out, state = torch.func.functional_call(module, params, (seq, state))
        if "lengths" in e:
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out, ({"h_n": state[0], "c_n": state[1]} if kind == "lstm" else {"h_n": state})
    return run


def torch_sigmoid_rnn(a, e, hp):
    """torch.nn.RNN has no sigmoid; the seed's recurrence written with torch operations."""
    h = a["h0"][0]
    outs = []
    for t in range(a["x"].shape[1]):
        h = torch.sigmoid(F.linear(a["x"][:, t], a["weight_ih_l0"], a["bias_ih_l0"])
                          + F.linear(h, a["weight_hh_l0"], a["bias_hh_l0"]))
        outs.append(h)
    return torch.stack(outs, dim=1), {"h_n": h[None]}


def torch_rnn(a, e, hp):
    if hp.get("nonlinearity", "tanh") == "sigmoid":
        return torch_sigmoid_rnn(a, e, hp)
    return torch_sequence("rnn")(a, e, hp)


def torch_cell(kind):
    def run(a, e, hp):
        D, H = a["x"].shape[1], a["h"].shape[1]
        params = {k: a[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        if kind == "rnn" and hp.get("nonlinearity") == "sigmoid":
            return torch.sigmoid(F.linear(a["x"], a["weight_ih"], a["bias_ih"])
                                 + F.linear(a["h"], a["weight_hh"], a["bias_hh"]))
        if kind == "rnn":
            module = torch.nn.RNNCell(D, H, nonlinearity=hp.get("nonlinearity", "tanh"))
            return torch.func.functional_call(module, params, (a["x"], a["h"]))
        if kind == "gru":
            return torch.func.functional_call(torch.nn.GRUCell(D, H), params, (a["x"], a["h"]))
        h, c = torch.func.functional_call(torch.nn.LSTMCell(D, H), params, (a["x"], (a["h"], a["c"])))
        return h, {"c": c}
    return run


# --------------------------------------------------------------------------------------
# jax references: each step from its equations, time loop with lax.scan
# --------------------------------------------------------------------------------------

def jax_step(kind, hp):
    act = {"tanh": jnp.tanh, "relu": jnn.relu, "sigmoid": jnn.sigmoid}[hp.get("nonlinearity", "tanh")]
    sig = jnn.sigmoid

    def rnn(p, x, h, c):
        return act(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]), c

    def lstm(p, x, h, c):
        i, f, g, o = jnp.split(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"], 4, -1)
        if kind == "lstm_peephole":
            i, f = i + p["weight_ci"] * c, f + p["weight_cf"] * c
        c = sig(f) * c + sig(i) * jnp.tanh(g)
        if kind == "lstm_peephole":
            o = o + p["weight_co"] * c
        return sig(o) * jnp.tanh(c), c

    def gru(p, x, h, c):
        xr, xz, xn = jnp.split(x @ p["weight_ih"].T + p["bias_ih"], 3, -1)
        W_r, W_z, W_n = jnp.split(p["weight_hh"], 3, 0)
        b_r, b_z, b_n = jnp.split(p["bias_hh"], 3)
        r = sig(xr + h @ W_r.T + b_r)
        z = sig(xz + h @ W_z.T + b_z)
        if kind == "gru_cho":
            n = jnp.tanh(xn + (r * h) @ W_n.T + b_n)
        else:
            n = jnp.tanh(xn + r * (h @ W_n.T + b_n))
        return (1 - z) * n + z * h, c

    return {"rnn": rnn, "lstm": lstm, "lstm_peephole": lstm, "gru": gru, "gru_cho": gru}[kind]


def jax_direction(step, p, x, h, c, mask, reverse):
    """One layer, one direction over time-major x (T, N, D); outputs 0 and state held past the end."""
    def body(carry, xs):
        h, c = carry
        x_t, m_t = xs
        h_new, c_new = step(p, x_t, h, c)
        h = jnp.where(m_t, h_new, h)
        c = None if c is None else jnp.where(m_t, c_new, c)
        return (h, c), jnp.where(m_t, h_new, jnp.zeros_like(h_new))
    (h, c), out = lax.scan(body, (h, c), (x, mask), reverse=reverse)
    return out, h, c


def jax_recurrence(kind, a, e, hp, h0, c0=None):
    step = jax_step(kind, hp)
    dirs = 2 if hp["bidirectional"] else 1
    x = jnp.swapaxes(a["x"], 0, 1)
    T, N = x.shape[:2]
    lengths = e["lengths"] if "lengths" in e else jnp.full((N,), T)
    mask = (jnp.arange(T)[:, None] < lengths[None, :])[:, :, None]
    h_n, c_n = [], []
    for l in range(hp["num_layers"]):
        outs = []
        for d in range(dirs):
            suffix = f"_l{l}" + ("_reverse" if d else "")
            p = {k[:-len(suffix)]: v for k, v in a.items() if k.endswith(suffix)}
            k = l * dirs + d
            out, h, c = jax_direction(step, p, x, h0[k], None if c0 is None else c0[k], mask, bool(d))
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        x = jnp.concatenate(outs, axis=-1)
    extras = {"h_n": jnp.stack(h_n)}
    if c0 is not None:
        extras["c_n"] = jnp.stack(c_n)
    return jnp.swapaxes(x, 0, 1), extras


def jax_sequence(kind):
    # c0 differentiable (in arrays) or held constant (in extra: Case.constants)
    return lambda a, e, hp: jax_recurrence(kind, a, e, hp, a["h0"], a["c0"] if "c0" in a else e.get("c0"))


def jax_cell(kind):
    def run(a, e, hp):
        h, c = jax_step(kind, hp)(a, a["x"], a["h"], a.get("c"))
        return (h, {"c": c}) if _lstm_like(kind) else h
    return run


# --------------------------------------------------------------------------------------
# Diagnosis hints, formulas
# --------------------------------------------------------------------------------------

def gate_hints(kind, suffixes):
    names = GATE_NAMES[kind]
    if len(names) == 1:
        return {}
    return {f"grad:{w}{s}": (0, names) for s in suffixes
            for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def seq_hints(kind):
    def hints(data, hp):
        x = data.inputs["x"]
        dirs = 2 if hp.get("bidirectional") else 1
        suffixes = [f"_l{l}" + ("_reverse" if d else "") for l in range(hp.get("num_layers", 1))
                    for d in range(dirs)]
        return {"batch_size": x.shape[0], "seq_len": x.shape[1], "recurrence": True,
                "time_axis": {"grad:x": 1, "out": 1}, "gates": gate_hints(kind, suffixes)}
    return hints


def cell_hints(kind):
    return lambda data, hp: {"batch_size": data.inputs["x"].shape[0], "gates": gate_hints(kind, [""])}


def final_states(*names):
    """The layer's final states as extra outputs; one a learner's layer lacks is reported
    missing for that quantity alone (its other quantities are still graded)."""
    return lambda layer: {name: getattr(layer, attr) for name, attr in names
                          if getattr(layer, attr, None) is not None}


seq_extras = final_states(("h_n", "h_n"), ("c_n", "c_n"))


RNN_FORMULAS = {
    "forward": r"u^t = W_{(in)} x^t + W z^{t-1} + b,\quad z^t = f(u^t)",
    "backward": r"\delta^t = \left(\frac{\partial E}{\partial z^t} + W^{\top}\delta^{t+1}\right) \odot f'(u^t),\quad "
                r"\frac{\partial E}{\partial W_{(in)}} = \sum_t \delta^t [x^t]^{\top},\quad "
                r"\frac{\partial E}{\partial W} = \sum_t \delta^t [z^{t-1}]^{\top},\quad "
                r"\frac{\partial E}{\partial b} = \sum_t \delta^t"}
LSTM_FORMULAS = {
    "forward": r"[a_i, a_f, a_g, a_o] = W_{ih} x^t + b_{ih} + W_{hh} h^{t-1} + b_{hh},\quad "
               r"c^t = \sigma(a_f) \odot c^{t-1} + \sigma(a_i) \odot \tanh(a_g),\quad h^t = \sigma(a_o) \odot \tanh(c^t)",
    "backward": r"\delta c^t = \delta c^{t+1} \odot f^{t+1} + \delta h^t \odot o^t \odot (1 - \tanh^2 c^t),\quad "
                r"\delta a_i = \delta c^t \odot g \odot i(1-i),\ \delta a_f = \delta c^t \odot c^{t-1} \odot f(1-f),\ "
                r"\delta a_g = \delta c^t \odot i \odot (1-g^2),\ \delta a_o = \delta h^t \odot \tanh c^t \odot o(1-o),\quad "
                r"\delta h^{t-1} \mathrel{+}= W_{hh}^{\top} \delta a"}
PEEPHOLE_FORMULAS = {
    "forward": r"i = \sigma(a_i + w_{ci} \odot c^{t-1}),\ f = \sigma(a_f + w_{cf} \odot c^{t-1}),\ "
               r"c^t = f \odot c^{t-1} + i \odot \tanh(a_g),\ o = \sigma(a_o + w_{co} \odot c^t),\ h^t = o \odot \tanh c^t",
    "backward": r"\delta c^t \mathrel{+}= \delta a_o \odot w_{co},\quad "
                r"\delta c^{t-1} = \delta c^t \odot f + \delta a_i \odot w_{ci} + \delta a_f \odot w_{cf},\quad "
                r"\frac{\partial E}{\partial w_{ci}} = \sum \delta a_i \odot c^{t-1}"}
GRU_FORMULAS = {
    "forward": r"r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}),\ z = \sigma(\dots),\ "
               r"n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})),\ h' = (1 - z) \odot n + z \odot h",
    "backward": r"\delta a_n = \delta h' (1-z)(1-n^2),\ \delta a_z = \delta h' (h - n) z (1-z),\ "
                r"\delta a_r = \delta a_n (W_{hn} h + b_{hn}) r (1-r),\ "
                r"\delta h = \delta h' z + W_{hr}^{\top}\delta a_r + W_{hz}^{\top}\delta a_z + W_{hn}^{\top}(r \delta a_n)"}
CHO_FORMULAS = {
    "forward": r"n = \tanh(W_{in} x + b_{in} + W_{hn} (r \odot h) + b_{hn}),\ h' = (1 - z) \odot n + z \odot h",
    "backward": r"\delta (r \odot h) = W_{hn}^{\top} \delta a_n,\ \delta a_r = \delta(r \odot h) \odot h \odot r(1-r),\ "
                r"\delta h = \delta h' z + \delta(r \odot h) \odot r + W_{hr}^{\top}\delta a_r + W_{hz}^{\top}\delta a_z"}

SEQ_CONVENTION = ("Batch first: x (N, T, D), output (N, T, directions*H) with the forward direction first; "
                  "h0/c0 and h_n/c_n (num_layers*directions, N, H) as torch; weights in torch's layout "
                  "weight_ih (G*H, D). Variable lengths: outputs past a sequence's end are 0 and its state "
                  "stops changing, so h_n is the state at its last valid step (reverse direction: after "
                  "step 0, started at step length-1), as torch's packed sequences. h_n/c_n are checked as "
                  "outputs; the upstream gradient flows into the output sequence only, except in the "
                  "upstream_* cases, where h_n (and c_n) get their own: backward(dout, dh_n, dc_n).")
SEQ_CONVENTION_JA = ("バッチ優先: x (N, T, D)、出力 (N, T, directions*H) は順方向が先。h0/c0 と h_n/c_n は "
                     "torch と同じ (num_layers*directions, N, H)。重みは torch の並びで weight_ih (G*H, D)。"
                     "可変長: 系列の終わりより後の出力は 0 で、状態はそこから変わらない。よって h_n は最後の"
                     "有効なステップでの状態（逆方向では、ステップ length-1 から始めてステップ 0 の後の状態）で、"
                     "torch の packed sequences と同じ。h_n/c_n は出力として確かめる。上流の勾配は出力系列に"
                     "だけ流れる。ただし upstream_* のケースでは h_n（と c_n）にもそれぞれの上流の勾配が入る: "
                     "backward(dout, dh_n, dc_n)。")


def sequence_spec(name, impl, kind, cases, formulas, convention, torch_ref=None, unavailable=None,
                  convention_ja="", unavailable_ja=None):
    return OpSpec(name=name, family="recurrent", impl=impl, cases=cases,
                  torch=torch_ref, jax=jax_sequence(kind), formulas=formulas,
                  convention=SEQ_CONVENTION + " " + convention, unavailable=unavailable or {},
                  convention_ja=SEQ_CONVENTION_JA + convention_ja, unavailable_ja=unavailable_ja or {},
                  impl_extras=seq_extras, hints=seq_hints(kind), mistakes=catalogue("seq", kind))


def cell_spec(name, impl, kind, cases, formulas, convention, convention_ja=""):
    return OpSpec(name=name, family="recurrent", impl=impl, cases=cases, torch=torch_cell(kind),
                  jax=jax_cell(kind), formulas=formulas, convention=convention, convention_ja=convention_ja,
                  impl_extras=final_states(("c", "c_next")) if _lstm_like(kind) else None,
                  hints=cell_hints(kind), mistakes=catalogue("cell", kind))


NO_PEEPHOLE = "torch has no LSTM with peephole connections; jax and finite differences check it"
NO_CHO = ("torch's GRU applies the reset gate after the hidden matmul only; "
          "jax and finite differences check the original formulation")
NO_PEEPHOLE_JA = "torch にはピープホール結合つきの LSTM がない。jax と数値微分が確かめる"
NO_CHO_JA = ("torch の GRU はリセットゲートを隠れ状態の行列積の後にしか掛けない。元の定式化は "
             "jax と数値微分が確かめる")

SPECS = [
    cell_spec("rnn_cell", "RNNCell", "rnn",
              cell_cases("rnn") + [
                  Case("relu", cell_case("rnn"), {"nonlinearity": "relu"}, why="f = relu",
                       why_ja="活性化関数 f = relu"),
                  Case("sigmoid", cell_case("rnn"), {"nonlinearity": "sigmoid"}, why="f = sigmoid, as the seed",
                       why_ja="活性化関数 f = sigmoid（講義ノートのとおり）"),
                  Case("relu_kink", relu_kink_cell(), {"nonlinearity": "relu"}, oracles=("torch", "jax"),
                       why=KINK_WHY, why_ja=KINK_WHY_JA)],
              RNN_FORMULAS, "torch.nn.RNNCell; sigmoid (torch has none) checked against torch operations.",
              "torch.nn.RNNCell。sigmoid（torch にはない）は torch の演算で書いたものと照らし合わせる。"),
    sequence_spec("rnn", "RNN", "rnn", standard_seq_cases("rnn") + [
        Case("relu", seq_case("rnn"), seq_hparams(nonlinearity="relu"), why="f = relu",
             why_ja="活性化関数 f = relu"),
        Case("sigmoid", seq_case("rnn"), seq_hparams(nonlinearity="sigmoid"),
             why="f = sigmoid as in the seed's binary addition; torch's reference is a loop of torch ops",
             why_ja="講義ノートの 2 進数の足し算と同じ f = sigmoid。torch の参照は torch の演算のループ"),
        Case("relu_kink", relu_kink_seq(), seq_hparams(nonlinearity="relu"), oracles=("torch", "jax"),
             why=KINK_WHY, why_ja=KINK_WHY_JA)] + upstream_seq_cases("rnn"),
        RNN_FORMULAS, "W_(in) = weight_ih, W = weight_hh, b = bias_ih + bias_hh (seed 001).", torch_rnn,
        convention_ja="W_(in) = weight_ih、W = weight_hh、b = bias_ih + bias_hh（講義ノート 001）。"),
    cell_spec("lstm_cell", "LSTMCell", "lstm", cell_cases("lstm") + [
                  Case("upstream_c", cell_case("lstm"), upstream=("c",),
                       why="an upstream gradient into c' too: backward(dh_next, dc_next) with dc_next != 0",
                       why_ja="c' にも上流の勾配が入る: dc_next != 0 で backward(dh_next, dc_next)")],
              LSTM_FORMULAS,
              "torch.nn.LSTMCell, gates i, f, g, o; forward returns h', c' is checked as out:c "
              "(case upstream_c gives c' an upstream gradient, backward(dh_next, dc_next)).",
              "torch.nn.LSTMCell、ゲートは i, f, g, o。forward は h' を返し、c' は out:c として確かめる"
              "（ケース upstream_c では c' にも上流の勾配を与える: backward(dh_next, dc_next)）。"),
    sequence_spec("lstm", "LSTM", "lstm", standard_seq_cases("lstm") + upstream_seq_cases("lstm")
                  + constant_zero_cell_cases(),
                  LSTM_FORMULAS,
                  "torch.nn.LSTM: gates i, f, g, o; both bias vectors.", torch_sequence("lstm"),
                  convention_ja="torch.nn.LSTM: ゲートは i, f, g, o。バイアスのベクトルは 2 つとも使う。"),
    sequence_spec("lstm_peephole", "PeepholeLSTM", "lstm_peephole", standard_seq_cases("lstm_peephole") + upstream_seq_cases("lstm_peephole"),
                  PEEPHOLE_FORMULAS, "Diagonal peepholes weight_ci/cf/co_l{k} (H,): i and f see c^{t-1}, "
                  "o sees c^t (Gers and Schmidhuber).", unavailable={"torch": NO_PEEPHOLE},
                  convention_ja="対角のピープホール weight_ci/cf/co_l{k} (H,): i と f は c^{t-1} を、"
                                "o は c^t を見る（Gers and Schmidhuber）。",
                  unavailable_ja={"torch": NO_PEEPHOLE_JA}),
    cell_spec("gru_cell", "GRUCell", "gru", cell_cases("gru"), GRU_FORMULAS,
              "torch.nn.GRUCell: gates r, z, n; reset after the hidden matmul; h' = (1-z) n + z h.",
              "torch.nn.GRUCell: ゲートは r, z, n。リセットゲートは隠れ状態の行列積の後に掛ける。"
              "h' = (1-z) n + z h。"),
    sequence_spec("gru", "GRU", "gru", standard_seq_cases("gru") + upstream_seq_cases("gru"), GRU_FORMULAS,
                  "torch.nn.GRU: gates r, z, n; reset after the hidden matmul; h' = (1-z) n + z h.",
                  torch_sequence("gru"),
                  convention_ja="torch.nn.GRU: ゲートは r, z, n。リセットゲートは隠れ状態の行列積の後に掛ける。"
                                "h' = (1-z) n + z h。"),
    sequence_spec("gru_cho", "ChoGRU", "gru_cho", standard_seq_cases("gru_cho") + upstream_seq_cases("gru_cho"), CHO_FORMULAS,
                  "Cho et al. 2014 / Keras reset_after=False: r multiplies h before W_hn; "
                  "weights in torch's layout, h' = (1-z) n + z h.", unavailable={"torch": NO_CHO},
                  convention_ja="Cho et al. 2014 / Keras の reset_after=False: r は W_hn を掛ける前の h に掛かる。"
                                "重みは torch の並び、h' = (1-z) n + z h。",
                  unavailable_ja={"torch": NO_CHO_JA}),
]


# --------------------------------------------------------------------------------------
# Time layers, truncated BPTT, seq2seq
# --------------------------------------------------------------------------------------

def time_affine_case(N, T, D=3, O=4):
    return lambda rng: CaseData(inputs={"x": normal(rng, N, T, D)},
                                params={"W": weight(rng, D, D, O), "b": normal(rng, O)})


def embedding_case(N, T, V=6, D=3):
    def make(rng):
        idx = rng.integers(0, V, size=(N, T))
        idx.flat[-1] = idx.flat[0]                      # at least one repeated id
        return CaseData(inputs={}, params={"W": normal(rng, V, D)}, extra={"idx": idx})
    return make


def time_ce_case(N, T, V=4, ignored=2):
    def make(rng):
        t = rng.integers(0, V, size=(N, T))
        t.flat[rng.choice(N * T, size=min(ignored, N * T - 1), replace=False)] = -1
        return CaseData(inputs={"x": normal(rng, N, T, V)}, extra={"t": t})
    return make


def torch_time_ce(a, e, hp):
    V = a["x"].shape[-1]
    return F.cross_entropy(a["x"].reshape(-1, V), e["t"].reshape(-1), ignore_index=-1,
                           reduction=hp.get("reduction", "mean"))


def jax_time_ce(a, e, hp):
    x, t = a["x"], e["t"]
    valid = t != -1
    logp = jnn.log_softmax(x, axis=-1)
    picked = jnp.take_along_axis(logp, jnp.where(valid, t, 0)[..., None], axis=-1)[..., 0]
    total = -(picked * valid).sum()
    return total / valid.sum() if hp.get("reduction", "mean") == "mean" else total


def tbptt_case(N=2, T=20, zero_state=False):
    return seq_case("lstm", N=N, T=T, zero_state=zero_state)


def torch_tbptt(a, e, hp):
    x = a["x"]
    module = torch.nn.LSTM(x.shape[-1], a["h0"].shape[-1], batch_first=True)
    params = {k: a[k] for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
    h, c, outs = a["h0"], a["c0"], []
    for start in range(0, x.shape[1], hp["chunk_size"]):
        out, (h, c) = torch.func.functional_call(module, params, (x[:, start:start + hp["chunk_size"]], (h, c)))
        outs.append(out)
        h, c = h.detach(), c.detach()                   # the state goes on, the gradient stops
    return torch.cat(outs, dim=1), {"h_n": h, "c_n": c}


def jax_tbptt(a, e, hp):
    x, h, c = a["x"], a["h0"], a["c0"]
    outs = []
    lstm_hp = {"num_layers": 1, "bidirectional": False}
    for start in range(0, x.shape[1], hp["chunk_size"]):
        chunk = {**a, "x": x[:, start:start + hp["chunk_size"]]}
        out, ex = jax_recurrence("lstm", chunk, {}, lstm_hp, h, c)
        outs.append(out)
        h, c = lax.stop_gradient(ex["h_n"]), lax.stop_gradient(ex["c_n"])
    return jnp.concatenate(outs, axis=1), {"h_n": h, "c_n": c}


def seq2seq_case(N=2, Tx=4, Ty=3, D=3, H=4, V=5, ignored=1):
    def make(rng):
        params = {}
        for part in ("enc", "dec"):
            params.update({f"{part}_{k}": v for k, v in _weights(rng, "lstm", D, H).items()})
        params.update({"W": weight(rng, 2 * H, 2 * H, V), "b": normal(rng, V)})
        ts = rng.integers(0, V, size=(N, Ty))
        ts.flat[rng.choice(N * Ty, size=ignored, replace=False)] = -1
        return CaseData(inputs={"xs": normal(rng, N, Tx, D), "ys": normal(rng, N, Ty, D)},
                        params=params, extra={"ts": ts})
    return make


def torch_seq2seq(a, e, hp):
    xs, ys = a["xs"], a["ys"]
    H = a["enc_weight_hh"].shape[1]
    lstm = torch.nn.LSTM(xs.shape[-1], H, batch_first=True)
    part = lambda p: {f"{k}_l0": a[f"{p}_{k}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    zeros = torch.zeros(1, xs.shape[0], H, dtype=xs.dtype, device=xs.device)
    hs, state = torch.func.functional_call(lstm, part("enc"), (xs, (zeros, zeros)))
    hd, _ = torch.func.functional_call(lstm, part("dec"), (ys, state))
    attention = torch.softmax(hd @ hs.transpose(1, 2), dim=-1)
    logits = F.linear(torch.cat([attention @ hs, hd], dim=-1), a["W"].T, a["b"])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), e["ts"].reshape(-1), ignore_index=-1)


def jax_seq2seq(a, e, hp):
    xs = a["xs"]
    H = a["enc_weight_hh"].shape[1]
    one = {"num_layers": 1, "bidirectional": False}
    part = lambda p, x: {"x": x, **{f"{k}_l0": a[f"{p}_{k}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}}
    zeros = jnp.zeros((1, xs.shape[0], H), xs.dtype)
    hs, enc = jax_recurrence("lstm", part("enc", xs), {}, one, zeros, zeros)
    hd, _ = jax_recurrence("lstm", part("dec", a["ys"]), {}, one, enc["h_n"], enc["c_n"])
    attention = jnn.softmax(hd @ jnp.swapaxes(hs, 1, 2), axis=-1)
    logits = jnp.concatenate([attention @ hs, hd], axis=-1) @ a["W"] + a["b"]
    return jax_time_ce({"x": logits}, {"t": e["ts"]}, {})


def time_hints(name):
    """A time axis but no recurrence: no rule about the gradient from step t+1."""
    return lambda d, hp: {"batch_size": d.inputs[name].shape[0], "seq_len": d.inputs[name].shape[1],
                          "time_axis": {f"grad:{name}": 1}}


SPECS += [
    OpSpec(
        name="time_affine", family="recurrent", mistakes=TIME_AFFINE_MISTAKES, impl="TimeAffine",
        cases=[Case("batch2_T5", time_affine_case(2, 5)),
               Case("T1", time_affine_case(3, 1), why="T = 1", why_ja="系列長 T = 1"),
               Case("batch1", time_affine_case(1, 5), why="batch 1", why_ja="バッチサイズ 1"),
               Case("long_T20", time_affine_case(2, 20), why="20 steps: dW sums over N*T rows",
                    why_ja="20 ステップ: dW は N*T 行にわたる和")],
        torch=lambda a, e, hp: F.linear(a["x"], a["W"].T, a["b"]),
        jax=lambda a, e, hp: a["x"] @ a["W"] + a["b"],
        formulas={"forward": r"y^t = x^t W + b",
                  "backward": r"\frac{\partial L}{\partial W} = \sum_{n,t} [x^t_n]^{\top} \frac{\partial L}{\partial y^t_n},\quad "
                              r"\frac{\partial L}{\partial b} = \sum_{n,t} \frac{\partial L}{\partial y^t_n},\quad "
                              r"\frac{\partial L}{\partial x^t} = \frac{\partial L}{\partial y^t} W^{\top}"},
        convention="x (N, T, D), W (D, O) in the book's layout (torch's Linear stores W^T).",
        convention_ja="x (N, T, D)、W (D, O) は本の並び（torch の Linear は W^T を持つ）。",
        hints=time_hints("x"),
    ),
    OpSpec(
        name="time_embedding", family="recurrent", mistakes=TIME_EMBEDDING_MISTAKES, impl="TimeEmbedding",
        cases=[Case("batch2_T5", embedding_case(2, 5), why="a repeated id: its gradients must add up",
                    why_ja="繰り返し現れる ID: その勾配は足し合わせなければならない"),
               Case("T1", embedding_case(3, 1), why="T = 1", why_ja="系列長 T = 1"),
               Case("batch1", embedding_case(1, 5), why="batch 1", why_ja="バッチサイズ 1"),
               Case("long_T20", embedding_case(2, 20), why="20 steps, many repeated ids",
                    why_ja="20 ステップ、繰り返し現れる ID が多い")],
        torch=lambda a, e, hp: F.embedding(e["idx"], a["W"]),
        jax=lambda a, e, hp: a["W"][e["idx"]],
        formulas={"forward": r"y_{nt} = W_{\mathrm{idx}_{nt}}",
                  "backward": r"\frac{\partial L}{\partial W_v} = \sum_{(n,t):\,\mathrm{idx}_{nt} = v} \frac{\partial L}{\partial y_{nt}}"},
        convention="idx (N, T) integer ids (not differentiable), W (V, D); backward returns None.",
        convention_ja="idx (N, T) は整数の ID（微分しない）、W (V, D)。backward は None を返す。",
        hints=lambda d, hp: {"batch_size": d.extra["idx"].shape[0], "seq_len": d.extra["idx"].shape[1]},
    ),
    OpSpec(
        name="time_softmax_cross_entropy", family="recurrent", mistakes=TIME_CE_MISTAKES, impl="TimeSoftmaxCrossEntropy",
        cases=[Case("ignored", time_ce_case(2, 5), why="two positions ignored (t = -1): divide by 8, not 10",
                    why_ja="2 つの位置を無視する (t = -1): 10 ではなく 8 で割る"),
               Case("none_ignored", time_ce_case(2, 5, ignored=0), why="no position ignored",
                    why_ja="無視する位置がない"),
               Case("sum", time_ce_case(2, 5), {"reduction": "sum"}, why="reduction='sum'",
                    why_ja="reduction='sum'（和をとる）"),
               Case("batch1_T1", time_ce_case(1, 1, ignored=0), why="batch 1, T = 1",
                    why_ja="バッチサイズ 1、T = 1"),
               Case("long_T20", time_ce_case(2, 20, ignored=5), why="20 steps, five ignored",
                    why_ja="20 ステップ、5 つの位置を無視")],
        torch=torch_time_ce, jax=jax_time_ce,
        formulas={"forward": r"L = -\frac{1}{K}\sum_{(n,t):\,t_{nt} \neq -1} \log \mathrm{softmax}(x_{nt})_{t_{nt}}",
                  "backward": r"\frac{\partial L}{\partial x_{nt}} = \frac{1}{K}\left(\mathrm{softmax}(x_{nt}) - "
                              r"\mathrm{onehot}(t_{nt})\right)\ \text{if } t_{nt} \neq -1, \text{ else } 0"},
        convention="x (N, T, V), t (N, T); t = -1 (ignore_index) marks ignored positions. 'mean' divides by "
                   "K, the number of positions NOT ignored (torch's cross_entropy with ignore_index; the "
                   "book's TimeSoftmaxWithLoss), not by N*T.",
        convention_ja="x (N, T, V)、t (N, T)。t = -1（ignore_index）は無視する位置を表す。'mean' は N*T では"
                      "なく、無視「しない」位置の数 K で割る（torch の ignore_index つき cross_entropy、本の "
                      "TimeSoftmaxWithLoss と同じ）。",
        hints=time_hints("x"),
    ),
    OpSpec(
        name="lstm_tbptt", family="recurrent", impl="TruncatedBPTTLSTM",
        cases=[Case("T20_chunk5", tbptt_case(), {"chunk_size": 5}, why="four chunks of five steps",
                    why_ja="5 ステップのチャンクが 4 つ"),
               Case("uneven_chunks", tbptt_case(T=7), {"chunk_size": 3}, why="chunks of 3, 3 and 1 steps",
                    why_ja="3、3、1 ステップのチャンク"),
               Case("batch1_zero_state", tbptt_case(N=1, T=6, zero_state=True), {"chunk_size": 2},
                    why="batch 1, h0 = c0 = 0", why_ja="バッチサイズ 1、h0 = c0 = 0"),
               Case("T1", tbptt_case(T=1), {"chunk_size": 4}, why="one step, shorter than a chunk",
                    why_ja="1 ステップで、チャンクより短い")],
        torch=torch_tbptt, jax=jax_tbptt,
        formulas={"forward": r"(h^{t}, c^{t}) = \mathrm{LSTM}(x^t, h^{t-1}, c^{t-1})\ \text{over every step}",
                  "backward": r"\frac{\partial E}{\partial h^{kC-1}} \leftarrow 0,\ \frac{\partial E}{\partial c^{kC-1}} "
                              r"\leftarrow 0\ \text{at each chunk boundary } kC;\ \text{parameter gradients summed over chunks}"},
        convention="One LSTM layer, batch first; the state is carried between chunks of chunk_size steps and "
                   "the gradient is cut there (torch: h.detach(), c.detach()); dh0, dc0 come from the first chunk.",
        convention_ja="LSTM 1 層、バッチ優先。状態は chunk_size ステップごとのチャンクの間で引き継ぎ、勾配は"
                      "そこで切る（torch: h.detach(), c.detach()）。dh0, dc0 は最初のチャンクから得る。",
        impl_extras=seq_extras, hints=seq_hints("lstm"), mistakes=tbptt_catalogue(),
        unavailable={"fd": "the truncated gradient is by design not the derivative of the output: "
                           "finite differences measure the full BPTT gradient (they agree only for one chunk)"},
        unavailable_ja={"fd": "打ち切った勾配は設計上、出力の微分ではない: 数値微分が測るのは打ち切らない "
                              "BPTT の勾配である（一致するのはチャンクが 1 つのときだけ）"},
    ),
    OpSpec(
        name="seq2seq", family="recurrent", impl="Seq2Seq", mistakes=SEQ2SEQ_MISTAKES,
        cases=[Case("batch2", seq2seq_case()),
               Case("batch1", seq2seq_case(N=1), why="batch 1", why_ja="バッチサイズ 1"),
               Case("long_source", seq2seq_case(Tx=20, Ty=6, ignored=3),
                    why="a 20-step source: attention and the encoder's final state both carry gradient",
                    why_ja="20 ステップの入力系列: アテンションとエンコーダの最終状態の両方を勾配が流れる"),
               Case("T1", seq2seq_case(Tx=1, Ty=1, ignored=0), why="one step each",
                    why_ja="入力も出力も 1 ステップ")],
        torch=torch_seq2seq, jax=jax_seq2seq,
        formulas={"forward": r"h^s = \mathrm{Enc}(x),\ h^d = \mathrm{Dec}(y; h^s_{T}, c^s_{T}),\ "
                             r"a = \mathrm{softmax}(h^d [h^s]^{\top}),\ L = \mathrm{CE}([a h^s, h^d] W + b, t)",
                  "backward": r"\delta h^s = a^{\top} \delta\mathrm{ctx} + \delta s^{\top} h^d,\ "
                              r"\delta h^d = \delta s\, h^s + \delta h^d_{\mathrm{affine}},\ "
                              r"\delta s = a \odot (\delta a - \textstyle\sum_j a_j \delta a_j)"},
        convention="One-layer LSTM encoder from zero state; the decoder starts from the encoder's final (h, c) "
                   "and reads given inputs ys (teacher forcing); dot-product attention over all encoder "
                   "states; W (2H, V) acts on [context, decoder state]; loss as time_softmax_cross_entropy.",
        convention_ja="1 層の LSTM エンコーダはゼロ状態から始める。デコーダはエンコーダの最終 (h, c) から始め、"
                      "与えられた入力 ys を読む（教師強制）。エンコーダのすべての状態に対する内積アテンション。"
                      "W (2H, V) は [文脈, デコーダの状態] に掛かる。損失は time_softmax_cross_entropy と同じ。",
        hints=lambda d, hp: {"batch_size": d.inputs["xs"].shape[0]},
    ),
]
