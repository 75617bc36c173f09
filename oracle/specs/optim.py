"""Optimizer steps and gradient clipping: the updated parameters are the checked quantities.

These ops are not layers: each spec gives runners (impl, torch, jax) that start from the
case's parameters, apply the case's sequence of gradients (one step or ten) and return
{"out:<param>": the parameters after the steps, "out:state_<s>_<param>": the optimizer's
state s}. The impl runner looks the class up on the implementation under test, so a
learner's optimizer is graded the same way. Finite differences do not apply.
"""
import numpy as np

from ...impl import optim as O
from .. import jax_oracle, torch_oracle
from ..frameworks import jax, jnp, optax, torch
from ..errors import NotAttempted
from ..impl_runner import layer_class, unknown_options
from ..spec import Case, CaseData, Mistake, OpSpec, with_mistakes
from ._cases import normal

NOT_A_GRADIENT = ("an update rule is not the gradient of a function of the inputs: "
                  "finite differences have nothing to check")
NOT_A_GRADIENT_JA = "更新則は入力の関数の勾配ではない: 数値微分で検証するものがない"
PARAM_SHAPES = {"W": (3, 4), "b": (4,)}


def _sequence(steps, grad_scale=1.0):
    """Parameters W (3, 4), b (4,) and `steps` gradients of each (leading axis: the step)."""
    def make(rng):
        params = {name: normal(rng, *shape) for name, shape in PARAM_SHAPES.items()}
        grads = {f"grad_{name}": normal(rng, steps, *shape, scale=grad_scale)
                 for name, shape in PARAM_SHAPES.items()}
        return CaseData(inputs=params, extra=grads)
    return make


def _start(ctx):
    """Copies of the parameters and the list of gradient dicts, one per step."""
    params = {name: np.array(value) for name, value in ctx.data.inputs.items()}
    steps = len(next(iter(ctx.data.extra.values())))
    grads = [{name: np.array(ctx.data.extra[f"grad_{name}"][k]) for name in params}
             for k in range(steps)]
    return params, grads


def _result(params, states):
    """{"out:W": ..., "out:state_v_W": ...} from the final parameters and {state: {param: array}}."""
    result = {f"out:{name}": np.asarray(value) for name, value in params.items()}
    for state, per_param in states.items():
        result.update({f"out:state_{state}_{name}": np.asarray(v) for name, v in per_param.items()})
    return result


# ---- the three runners -------------------------------------------------------------

def _impl_optimizer(state_names):
    def run(spec, ctx):
        cls = layer_class(spec, ctx.module)
        unknown = unknown_options(cls, ctx.hp)
        if unknown:   # e.g. a learner's Adam without correction_in_lr, on that option's case
            raise NotAttempted(f"{spec.impl} takes no argument {', '.join(map(repr, unknown))}: "
                               f"this case is an option of the answer key")
        optimizer = cls(**ctx.hp)
        params, grads = _start(ctx)
        for g in grads:
            optimizer.update(params, g)
        return _result(params, {s: getattr(optimizer, s) for s in state_names})
    return run


def _torch_optimizer(make, states=None):
    """make(params: list of tensors, hp) -> torch.optim optimizer; states(state dict, hp) ->
    {our state name: tensor} in the answer key's form."""
    def run(spec, ctx):
        dev = torch_oracle.device(ctx.device)
        params, grads = _start(ctx)
        tensors = {name: torch_oracle.to_tensor(value, dev, True) for name, value in params.items()}
        optimizer = make(list(tensors.values()), ctx.hp)
        for g in grads:
            for name, t in tensors.items():
                t.grad = torch_oracle.to_tensor(g[name], dev)
            optimizer.step()
        final = {name: torch_oracle.to_numpy(t) for name, t in tensors.items()}
        per_state = {}
        for name, t in tensors.items():
            for state, value in (states(optimizer.state[t], ctx.hp) if states else {}).items():
                per_state.setdefault(state, {})[name] = torch_oracle.to_numpy(value)
        return _result(final, per_state)
    return run


def _optax_optimizer(make, states=None):
    """make(hp) -> optax transformation; states(opt_state, hp) -> {our state name: {param: array}}."""
    def run(spec, ctx):
        with jax.default_device(jax_oracle.device(ctx.device)):
            params, grads = _start(ctx)
            params = {name: jnp.asarray(value) for name, value in params.items()}
            transformation = make(ctx.hp)
            opt_state = transformation.init(params)
            for g in grads:
                updates, opt_state = transformation.update({k: jnp.asarray(v) for k, v in g.items()},
                                                           opt_state, params)
                params = optax.apply_updates(params, updates)
            return _result(params, states(opt_state, ctx.hp) if states else {})
    return run


def _with_decay(hp, transformation):
    """torch's coupled weight decay: add wd * p to the gradient before the rule."""
    wd = hp.get("weight_decay", 0.0)
    return optax.chain(optax.add_decayed_weights(wd), transformation) if wd else transformation


def _states_from_optax(**fields):
    """{our name: (optax field, scale(hp))} -> states(opt_state, hp)."""
    def states(opt_state, hp):
        return {ours: {k: scale(hp) * np.asarray(v)
                       for k, v in optax.tree_utils.tree_get(opt_state, field).items()}
                for ours, (field, scale) in fields.items()}
    return states


def _velocity_from_buffer(state, hp):
    """torch keeps b = mu b + g; the answer key's velocity is v = -lr b."""
    return {"v": -hp["lr"] * state["momentum_buffer"]}


# ---- the cases ---------------------------------------------------------------------

def _cases(hp, decay=None, extra=()):
    """One step and ten steps, without and (when `decay` is given) with weight decay."""
    cases = [Case("one_step", _sequence(1), hparams=dict(hp)),
             Case("ten_steps", _sequence(10), hparams=dict(hp))]
    if decay is not None:
        cases += [Case("one_step_decay", _sequence(1), hparams={**hp, "weight_decay": decay}),
                  Case("ten_steps_decay", _sequence(10), hparams={**hp, "weight_decay": decay})]
    return cases + list(extra)


def _optimizer_spec(name, impl, hp, torch_make, optax_make, *, state_names=(), torch_states=None,
                    optax_states=None, decay=0.1, extra_cases=(), formulas=None, convention="",
                    convention_ja=""):
    return OpSpec(
        name=name, family="optim", impl=impl, cases=_cases(hp, decay, extra_cases),
        runners={"impl": _impl_optimizer(state_names),
                 "torch": _torch_optimizer(torch_make, torch_states),
                 "jax": _optax_optimizer(optax_make, optax_states)},
        unavailable={"fd": NOT_A_GRADIENT}, unavailable_ja={"fd": NOT_A_GRADIENT_JA},
        formulas=formulas or {}, convention=convention, convention_ja=convention_ja,
    )


def _wd(hp):
    return hp.get("weight_decay", 0.0)


SGD_HP = {"lr": 0.1}
MOMENTUM_HP = {"lr": 0.1, "momentum": 0.9}
ADAGRAD_HP = {"lr": 0.1}
RMSPROP_HP = {"lr": 0.01, "decay_rate": 0.9, "eps": 1e-8}
ADAM_HP = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
EPS_IN_SQRT_WHY = ("eps inside the root, g / sqrt(h + eps): optax.rmsprop's default form, which "
                   "torch does not offer")
EPS_IN_SQRT_WHY_JA = "eps を平方根の中に置く g / sqrt(h + eps): optax.rmsprop の既定の形で、torch にはない"
TINY_WHY = ("gradients of ~1e-8, the size of eps: only here does it matter where eps sits "
            "(for gradients of order 1 it changes the update by ~1e-8 relative)")
TINY_WHY_JA = ("eps と同じ大きさ ~1e-8 の勾配: eps の位置が効くのはこの場合だけである"
               "（大きさ 1 程度の勾配では更新が相対的に ~1e-8 しか変わらない）")


def _tiny_gradients(hp, scale=1e-8, oracles=None, why=TINY_WHY, why_ja=TINY_WHY_JA):
    return Case("ten_steps_tiny_gradients", _sequence(10, grad_scale=scale), hparams=dict(hp),
                oracles=oracles, why=why, why_ja=why_ja)


ADAM_STATES = _states_from_optax(m=("mu", lambda hp: 1.0), v=("nu", lambda hp: 1.0))
BOOK_EPS = 1e-7      # 『ゼロから作る』 1 and 2 hard-code it in AdaGrad, RMSprop and Adam
BOOK_WHY = "『ゼロから作る』's hard-coded eps = 1e-7"
BOOK_WHY_JA = "『ゼロから作る』に固定で書かれた eps = 1e-7"


def _book_case(hp, why=BOOK_WHY, oracles=None, why_ja=BOOK_WHY_JA):
    return Case("ten_steps_book", _sequence(10), hparams={**hp, "eps": BOOK_EPS}, oracles=oracles, why=why,
                why_ja=why_ja)


def _adam_eps(hp, t):
    """The eps that gives correction_in_lr's update in the default form at step t:
    lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps) = lr m^ / (sqrt(v^) + eps / sqrt(1 - b2^t))."""
    return hp["eps"] / np.sqrt(1 - hp["beta2"] ** t) if hp.get("correction_in_lr") else hp["eps"]


def _TorchAdam(params, hp):
    """torch.optim.Adam, its eps set before each step to _adam_eps (torch reads group['eps']
    at every step), so that correction_in_lr is torch's own update with that eps. (Built
    here, not at import: the frameworks load lazily.)"""
    optimizer = torch.optim.Adam(params, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"],
                                 weight_decay=_wd(hp))
    step, steps = optimizer.step, [0]

    def stepped(closure=None):
        steps[0] += 1
        for group in optimizer.param_groups:
            group["eps"] = _adam_eps(hp, steps[0])
        return step(closure)
    optimizer.step = stepped
    return optimizer


def _optax_adam(hp):
    """optax.adam with eps injected as a hyperparameter, set to _adam_eps before each step."""
    inner = optax.inject_hyperparams(optax.adam)(learning_rate=hp["lr"], b1=hp["beta1"],
                                                 b2=hp["beta2"], eps=hp["eps"])
    if not hp.get("correction_in_lr"):
        return _with_decay(hp, optax.adam(hp["lr"], b1=hp["beta1"], b2=hp["beta2"], eps=hp["eps"]))

    def init(params):
        return {"adam": inner.init(params), "t": 0}

    def update(updates, state, params=None):
        t = state["t"] + 1
        state["adam"].hyperparams["eps"] = jnp.asarray(_adam_eps(hp, t))
        updates, adam = inner.update(updates, state["adam"], params)
        return updates, {"adam": adam, "t": t}
    return _with_decay(hp, optax.GradientTransformation(init, update))

SPECS = [
    _optimizer_spec(
        "sgd", "SGD", SGD_HP,
        lambda ps, hp: torch.optim.SGD(ps, lr=hp["lr"], weight_decay=_wd(hp)),
        lambda hp: _with_decay(hp, optax.sgd(hp["lr"])),
        formulas={"forward": r"p \leftarrow p - \eta\,(g + \lambda p)", "backward": ""},
        convention="torch.optim.SGD; weight decay lambda adds lambda p to the gradient (optax: "
                   "add_decayed_weights before sgd).",
        convention_ja=("torch.optim.SGD。荷重減衰 lambda は勾配に lambda p を足す（optax: sgd の前に "
                       "add_decayed_weights）。")),
    _optimizer_spec(
        "momentum", "Momentum", MOMENTUM_HP,
        lambda ps, hp: torch.optim.SGD(ps, lr=hp["lr"], momentum=hp["momentum"], weight_decay=_wd(hp)),
        lambda hp: _with_decay(hp, optax.sgd(hp["lr"], momentum=hp["momentum"])),
        state_names=("v",), torch_states=_velocity_from_buffer,
        optax_states=_states_from_optax(v=("trace", lambda hp: -hp["lr"])),
        formulas={"forward": r"v \leftarrow \mu v - \eta g,\quad p \leftarrow p + v", "backward": ""},
        convention="The book's velocity v; torch and optax keep b = -v / eta (b <- mu b + g, "
                   "p <- p - eta b), the same update for a constant eta; their state is compared "
                   "as -eta b.",
        convention_ja=("本の速度 v を使う。torch と optax は b = -v / eta を持つ（b <- mu b + g、p <- p - eta b）。"
                      "eta が一定なら同じ更新であり、その状態は -eta b として比べる。")),
    _optimizer_spec(
        "nesterov", "Nesterov", MOMENTUM_HP,
        lambda ps, hp: torch.optim.SGD(ps, lr=hp["lr"], momentum=hp["momentum"], nesterov=True,
                                       weight_decay=_wd(hp)),
        lambda hp: _with_decay(hp, optax.sgd(hp["lr"], momentum=hp["momentum"], nesterov=True)),
        state_names=("v",), torch_states=_velocity_from_buffer,
        optax_states=_states_from_optax(v=("trace", lambda hp: -hp["lr"])),
        formulas={"forward": r"v \leftarrow \mu v - \eta g,\quad p \leftarrow p + \mu v - \eta g",
                  "backward": ""},
        convention="torch.optim.SGD(nesterov=True) and optax.sgd(nesterov=True), which agree. The "
                   "book's Nesterov class (p <- p + mu^2 v - (1 + mu) eta g) is a different rule.",
        convention_ja=("torch.optim.SGD(nesterov=True) と optax.sgd(nesterov=True)（両者は一致する）。本の Nesterov "
                      "クラス（p <- p + mu^2 v - (1 + mu) eta g）は別の更新則である。")),
    _optimizer_spec(
        "adagrad", "AdaGrad", ADAGRAD_HP,
        lambda ps, hp: torch.optim.Adagrad(ps, lr=hp["lr"], eps=hp.get("eps", 1e-10), weight_decay=_wd(hp)),
        # optax puts eps inside the root and starts the sum at 0.1: both set to 0 here; torch's
        # eps 1e-10 outside the root then differs by 1e-10 / sqrt(h) relative (a few 1e-9 for the
        # smallest h of these cases: the seed sweep's worst margin is 0.04)
        lambda hp: _with_decay(hp, optax.adagrad(hp["lr"], initial_accumulator_value=0.0, eps=0.0)),
        state_names=("h",), torch_states=lambda state, hp: {"h": state["sum"]},
        extra_cases=[_tiny_gradients({"lr": 0.1}, scale=1e-10, oracles=("torch",),
                                     why=TINY_WHY.replace("~1e-8", "~1e-10") + "; optax's eps sits inside "
                                         "the root, so torch is the witness",
                                     why_ja=TINY_WHY_JA.replace("~1e-8", "~1e-10") + "。optax の eps は"
                                            "平方根の中にあるので torch を検証器とする"),
                     _book_case(ADAGRAD_HP, oracles=("torch",),
                                why=BOOK_WHY + " outside the root; optax's sits inside, so torch is the witness",
                                why_ja=BOOK_WHY_JA + "（平方根の外）。optax の eps は平方根の中にあるので "
                                       "torch を検証器とする")],
        optax_states=_states_from_optax(h=("sum_of_squares", lambda hp: 1.0)),
        formulas={"forward": r"h \leftarrow h + g \odot g,\quad p \leftarrow p - \eta\,\frac{g}{\sqrt{h} + \epsilon}",
                  "backward": ""},
        convention="torch.optim.Adagrad: the sum starts at 0, eps = 1e-10 outside the root. optax.adagrad "
                   "starts at 0.1 and puts eps inside the root by default; its witness is configured "
                   "with 0 and 0, which leaves a 1e-10 / sqrt(h) relative difference.",
        convention_ja=("torch.optim.Adagrad: 和は 0 から始め、eps = 1e-10 は平方根の外。optax.adagrad は既定で和を "
                      "0.1 から始め、eps を平方根の中に置く。その検証器は両方を 0 に設定しており、相対差 "
                      "1e-10 / sqrt(h) が残る。")),
    _optimizer_spec(
        "rmsprop", "RMSprop", RMSPROP_HP,
        lambda ps, hp: torch.optim.RMSprop(ps, lr=hp["lr"], alpha=hp["decay_rate"], eps=hp["eps"],
                                           weight_decay=_wd(hp)),
        lambda hp: _with_decay(hp, optax.rmsprop(hp["lr"], decay=hp["decay_rate"], eps=hp["eps"],
                                                 eps_in_sqrt=hp.get("eps_in_sqrt", False))),
        state_names=("h",), torch_states=lambda state, hp: {"h": state["square_avg"]},
        optax_states=_states_from_optax(h=("nu", lambda hp: 1.0)),
        extra_cases=[_tiny_gradients(RMSPROP_HP),
                     Case("ten_steps_eps_in_sqrt", _sequence(10, grad_scale=1e-3),
                          hparams={**RMSPROP_HP, "eps": 1e-6, "eps_in_sqrt": True}, oracles=("jax",),
                          why=EPS_IN_SQRT_WHY + "; small gradients (1e-3) and eps 1e-6 make the "
                              "placement matter",
                          why_ja=EPS_IN_SQRT_WHY_JA + "。小さな勾配 (1e-3) と eps 1e-6 で eps の位置が"
                                 "結果に効く"),
                     _book_case({**RMSPROP_HP, "decay_rate": 0.99}, why=BOOK_WHY + " and decay 0.99",
                                 why_ja=BOOK_WHY_JA + "、decay 0.99")],
        formulas={"forward": r"h \leftarrow \rho h + (1 - \rho)\, g \odot g,\quad "
                             r"p \leftarrow p - \eta\,\frac{g}{\sqrt{h} + \epsilon}", "backward": ""},
        convention="torch.optim.RMSprop (eps outside the root), which optax.rmsprop(eps_in_sqrt=False) "
                   "computes too; eps_in_sqrt=True (optax's default, g / sqrt(h + eps)) is an option of "
                   "the answer key checked against optax alone.",
        convention_ja=("torch.optim.RMSprop（eps は平方根の外）。optax.rmsprop(eps_in_sqrt=False) も同じ計算をする。"
                      "eps_in_sqrt=True（optax の既定、g / sqrt(h + eps)）は模範解答のオプションで、optax "
                      "だけで検証する。")),
    _optimizer_spec(
        "adam", "Adam", ADAM_HP,
        lambda ps, hp: _TorchAdam(ps, hp),
        _optax_adam,
        state_names=("m", "v"), optax_states=ADAM_STATES,
        extra_cases=[_tiny_gradients(ADAM_HP),
                     Case("ten_steps_book", _sequence(10),
                          hparams={"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": BOOK_EPS,
                                   "correction_in_lr": True},
                          why="『ゼロから作る』's Adam: the bias correction folded into the step size, "
                              "eps = 1e-7 added to sqrt(v) before it (option correction_in_lr)",
                          why_ja="『ゼロから作る』の Adam: バイアス補正を更新幅に繰り込み、eps = 1e-7 は"
                                 "補正前の sqrt(v) に足す（オプション correction_in_lr）"),
                     Case("ten_steps_book_tiny_gradients", _sequence(10, grad_scale=1e-7),
                          hparams={"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": BOOK_EPS,
                                   "correction_in_lr": True},
                          why="the book's Adam with gradients of ~1e-7, the size of its eps: only here "
                              "does it show that eps is added to sqrt(v) before the correction",
                          why_ja="『ゼロから作る』の Adam に eps と同じ大きさ ~1e-7 の勾配: eps を補正前の "
                                 "sqrt(v) に足すことが見えるのはこの場合だけである")],
        torch_states=lambda state, hp: {"m": state["exp_avg"], "v": state["exp_avg_sq"]},
        formulas={"forward": r"\hat m = \frac{m}{1 - \beta_1^t},\ \hat v = \frac{v}{1 - \beta_2^t},\quad "
                             r"p \leftarrow p - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}", "backward": ""},
        convention="torch.optim.Adam and optax.adam agree: eps outside the root of the bias-corrected v "
                   "(optax's eps_root = 0). Weight decay is the L2 term added to the gradient "
                   "(torch's Adam weight_decay; optax: add_decayed_weights before adam). Option "
                   "correction_in_lr (『ゼロから作る』's Adam, the paper's efficient ordering): "
                   "p <- p - eta sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps), which is the default "
                   "form with eps / sqrt(1 - b2^t): torch and optax are run with that eps at each step.",
        convention_ja=("torch.optim.Adam と optax.adam は一致する: eps はバイアス補正した v の平方根の外"
                      "（optax の eps_root = 0）。荷重減衰は勾配に足す L2 項（torch の Adam の weight_decay、"
                      "optax: adam の前に add_decayed_weights）。オプション correction_in_lr（『ゼロから作る』"
                      "の Adam、論文の効率的な計算順序）: p <- p - eta sqrt(1 - b2^t) / (1 - b1^t) m / "
                      "(sqrt(v) + eps)。これは eps を eps / sqrt(1 - b2^t) とした既定の形に等しいので、"
                      "torch と optax は各ステップでその eps を使って実行する。")),
    _optimizer_spec(
        "adamw", "AdamW", {**ADAM_HP, "weight_decay": 0.0},
        lambda ps, hp: torch.optim.AdamW(ps, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"],
                                         weight_decay=_wd(hp)),
        lambda hp: optax.adamw(hp["lr"], b1=hp["beta1"], b2=hp["beta2"], eps=hp["eps"],
                               weight_decay=_wd(hp)),
        state_names=("m", "v"), optax_states=ADAM_STATES, decay=0.1,
        extra_cases=[_tiny_gradients({**ADAM_HP, "weight_decay": 0.1})],
        torch_states=lambda state, hp: {"m": state["exp_avg"], "v": state["exp_avg_sq"]},
        formulas={"forward": r"p \leftarrow p - \eta\left(\frac{\hat m}{\sqrt{\hat v} + \epsilon} + \lambda p\right)",
                  "backward": ""},
        convention="Decoupled weight decay: torch.optim.AdamW (p <- p (1 - eta lambda), then Adam) and "
                   "optax.adamw compute the same update; the moments see the raw gradient.",
        convention_ja=("分離型の荷重減衰 (decoupled weight decay): torch.optim.AdamW（p <- p (1 - eta lambda) の後に "
                      "Adam）と optax.adamw は同じ更新を計算する。モーメントには減衰を足さない元の勾配が入る。")),
]


# ---- the mistakes people make writing optimizers: update() with one line changed -----------

class _SgdDecayIgnored(O.SGD):
    def update(self, params, grads):
        for name, p in params.items():
            p -= self.lr * grads[name]


class _SgdDecaySign(O.SGD):
    def update(self, params, grads):
        for name, p in params.items():
            p -= self.lr * (grads[name] - self.weight_decay * p)


class _SgdDecayWithoutLr(O.SGD):
    def update(self, params, grads):
        for name, p in params.items():
            p -= self.lr * grads[name] + self.weight_decay * p


SGD_MISTAKES = [
    Mistake("weight_decay_ignored", "weight_decay is ignored: add it to the gradient, "
            "g + wd * p", _SgdDecayIgnored,
            says_ja="weight_decay が無視されている: 勾配に足して g + wd * p とする"),
    Mistake("weight_decay_sign", "weight decay subtracted from the gradient: it is added, "
            "g + wd * p, so that it shrinks p", _SgdDecaySign,
            says_ja="荷重減衰を勾配から引いている: g + wd * p と足して p を縮める"),
    Mistake("weight_decay_without_lr", "p -= lr * g + wd * p applies the decay without the "
            "learning rate: p -= lr * (g + wd * p)", _SgdDecayWithoutLr,
            says_ja="p -= lr * g + wd * p は学習率なしで減衰させている: p -= lr * (g + wd * p)"),
]


class _MomentumOldVelocity(O.Momentum):
    def update(self, params, grads):
        if self.v is None:
            self.v = O._zeros_like(params)
        for name, p in params.items():
            p += self.v[name]                           # the velocity of the previous step
            self.v[name] = self.momentum * self.v[name] - self.lr * self.decayed(p, grads[name])


class _MomentumEma(O.Momentum):
    def update(self, params, grads):
        if self.v is None:
            self.v = O._zeros_like(params)
        for name, p in params.items():
            mu = self.momentum                          # v = mu v + (1 - mu) g;  p -= lr v
            self.v[name] = mu * self.v[name] - (1 - mu) * self.lr * self.decayed(p, grads[name])
            p += self.v[name]


class _MomentumLrTwice(O.Momentum):
    def update(self, params, grads):
        if self.v is None:
            self.v = O._zeros_like(params)
        for name, p in params.items():
            self.v[name] = self.momentum * self.v[name] - self.lr * self.decayed(p, grads[name])
            p += self.lr * self.v[name]                 # torch's p -= lr b with the book's v


MOMENTUM_MISTAKES = [
    Mistake("old_velocity", "momentum with the old velocity: p moves by the v of the previous "
            "step; update v = mu v - lr g first, then p += v", _MomentumOldVelocity,
            says_ja="古い速度でモーメンタム更新している: p が前のステップの v で動く。先に v = μv - lr g を"
                    "更新してから p += v"),
    Mistake("ema_of_gradients", "v = mu v + (1 - mu) g is the moving average form (a different "
            "rule, lr effectively scaled by 1 - mu): the book's and torch's is v = mu v - lr g",
            _MomentumEma,
            says_ja="v = μv + (1 - μ) g は移動平均の形（別の規則で、実質的に学習率が 1 - μ 倍）: 本と torch は "
                    "v = μv - lr g"),
    Mistake("lr_twice", "the learning rate applied twice: with v = mu v - lr g the step is "
            "p += v (torch's buffer form p -= lr b keeps b = mu b + g without lr)", _MomentumLrTwice,
            says_ja="学習率を二度掛けている: v = μv - lr g なら更新は p += v（torch のバッファ形式 p -= lr b では "
                    "b = μb + g に lr は入らない）"),
]


class _NesterovPlain(O.Nesterov):
    update = O.Momentum.update


class _NesterovBook(O.Nesterov):
    """The book's Nesterov: p += mu^2 v - (1 + mu) lr g with the new v."""

    def update(self, params, grads):
        if self.v is None:
            self.v = O._zeros_like(params)
        for name, p in params.items():
            g = self.decayed(p, grads[name])
            self.v[name] = self.momentum * self.v[name] - self.lr * g
            p += self.momentum ** 2 * self.v[name] - (1 + self.momentum) * self.lr * g


NESTEROV_MISTAKES = [
    Mistake("plain_momentum", "Nesterov as plain momentum: the step looks ahead along the new "
            "velocity, p += mu v - lr g (not p += v)", _NesterovPlain,
            says_ja="Nesterov が普通のモーメンタムになっている: 更新は新しい速度の先を見て p += μv - lr g "
                    "（p += v ではない）"),
    Mistake("book_rearranged_form", "the book's Nesterov (p += mu^2 v - (1 + mu) lr g with the new "
            "v) is another rule than torch's and optax's p += mu v - lr g", _NesterovBook,
            says_ja="本の Nesterov（新しい v で p += μ^2 v - (1 + μ) lr g）は torch や optax の "
                    "p += μv - lr g とは別の規則"),
]


class _AdaGradEpsInSqrt(O.AdaGrad):
    def update(self, params, grads):
        if self.h is None:
            self.h = O._zeros_like(params)
        for name, p in params.items():
            g = self.decayed(p, grads[name])
            self.h[name] += g * g
            p -= self.lr * g / np.sqrt(self.h[name] + self.eps)


class _AdaGradNotAccumulated(O.AdaGrad):
    def update(self, params, grads):
        if self.h is None:
            self.h = O._zeros_like(params)
        for name, p in params.items():
            g = self.decayed(p, grads[name])
            self.h[name] = g * g                        # = instead of +=
            p -= self.lr * g / (np.sqrt(self.h[name]) + self.eps)


class _AdaGradBookEps(O.AdaGrad):
    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(lr, 1e-7, weight_decay)        # the book's hard-coded 1e-7


ADAGRAD_MISTAKES = [
    Mistake("eps_inside_sqrt", "eps inside the root, g / sqrt(h + eps): torch's Adagrad puts it "
            "outside, g / (sqrt(h) + eps)", _AdaGradEpsInSqrt,
            says_ja="eps が平方根の中にある g / sqrt(h + eps): torch の Adagrad は外側 g / (sqrt(h) + eps)"),
    Mistake("sum_not_accumulated", "h = g * g keeps only the last gradient: AdaGrad sums every "
            "squared gradient, h += g * g", _AdaGradNotAccumulated,
            says_ja="h = g * g では最後の勾配しか残らない: AdaGrad はすべての勾配の二乗を足し込む h += g * g"),
    Mistake("book_eps", "eps = 1e-7 (the book's hard-coded value) where 1e-10 (torch's) was "
            "asked: take eps from the constructor", _AdaGradBookEps,
            says_ja="eps = 1e-7（本に書き込まれた値）になっているが、求められているのは 1e-10（torch）: "
                    "eps はコンストラクタの値を使う"),
]


class _RMSpropEpsOtherSide(O.RMSprop):
    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-8, weight_decay=0.0, eps_in_sqrt=False):
        super().__init__(lr, decay_rate, eps, weight_decay, not eps_in_sqrt)


class _RMSpropWeightsSwapped(O.RMSprop):
    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-8, weight_decay=0.0, eps_in_sqrt=False):
        super().__init__(lr, 1 - decay_rate, eps, weight_decay, eps_in_sqrt)


class _RMSpropWithoutOneMinus(O.RMSprop):
    def update(self, params, grads):
        if self.h is None:
            self.h = O._zeros_like(params)
        rho = self.decay_rate
        for name, p in params.items():
            g = self.decayed(p, grads[name])
            self.h[name] = rho * self.h[name] + g * g   # (1 - rho) missing
            denominator = np.sqrt(self.h[name] + self.eps) if self.eps_in_sqrt \
                else np.sqrt(self.h[name]) + self.eps
            p -= self.lr * g / denominator


class _RMSpropNotSquared(O.RMSprop):
    def update(self, params, grads):
        if self.h is None:
            self.h = O._zeros_like(params)
        rho = self.decay_rate
        for name, p in params.items():
            g = self.decayed(p, grads[name])
            self.h[name] = rho * self.h[name] + (1 - rho) * g      # g for g * g
            with np.errstate(invalid="ignore"):
                denominator = np.sqrt(self.h[name] + self.eps) if self.eps_in_sqrt \
                    else np.sqrt(self.h[name]) + self.eps
            p -= self.lr * g / denominator


RMSPROP_MISTAKES = [
    Mistake("gradient_not_squared", "h averages g instead of g * g (negative entries, NaN under "
            "the root): h = rho h + (1 - rho) g * g", _RMSpropNotSquared,
            says_ja="h が g * g ではなく g を平均している（負の要素ができ、平方根で NaN）: "
                    "h = ρ h + (1 - ρ) g * g"),
    Mistake("eps_other_side_of_sqrt", "eps on the other side of the root: torch's RMSprop "
            "divides by sqrt(h) + eps, optax's default by sqrt(h + eps); the case says which",
            _RMSpropEpsOtherSide,
            says_ja="eps が平方根の反対側にある: torch の RMSprop は sqrt(h) + eps、optax の既定は "
                    "sqrt(h + eps) で割る。どちらかはケースが指定する"),
    Mistake("decay_weights_swapped", "h = (1 - rho) h + rho g^2 swaps the weights: "
            "h = rho h + (1 - rho) g^2 keeps most of the old average", _RMSpropWeightsSwapped,
            says_ja="h = (1 - ρ) h + ρ g^2 は重みが逆: h = ρ h + (1 - ρ) g^2 で古い平均の大部分を残す"),
    Mistake("one_minus_rho_missing", "h = rho h + g^2 misses the (1 - rho) of the moving "
            "average: h = rho h + (1 - rho) g^2", _RMSpropWithoutOneMinus,
            says_ja="h = ρ h + g^2 では移動平均の (1 - ρ) が抜けている: h = ρ h + (1 - ρ) g^2"),
]


class _AdamNoBiasCorrection(O.Adam):
    def direction(self, p, g, name):
        b1, b2 = self.beta1, self.beta2
        self.m[name] = b1 * self.m[name] + (1 - b1) * g
        self.v[name] = b2 * self.v[name] + (1 - b2) * g * g
        return self.m[name] / (np.sqrt(self.v[name]) + self.eps)


class _AdamStepNotCounted(O.Adam):
    def update(self, params, grads):
        super().update(params, grads)
        self.t = 0                                      # t stays at 1 for every step


class _AdamEpsInSqrt(O.Adam):
    def direction(self, p, g, name):
        b1, b2 = self.beta1, self.beta2
        self.m[name] = b1 * self.m[name] + (1 - b1) * g
        self.v[name] = b2 * self.v[name] + (1 - b2) * g * g
        m_hat = self.m[name] / (1 - b1 ** self.t)
        v_hat = self.v[name] / (1 - b2 ** self.t)
        return m_hat / np.sqrt(v_hat + self.eps)


class _AdamBookForm(O.Adam):
    """The book's Adam: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), p -= lr_t m / (sqrt(v) + 1e-7)."""

    def direction(self, p, g, name):
        b1, b2 = self.beta1, self.beta2
        self.m[name] = b1 * self.m[name] + (1 - b1) * g
        self.v[name] = b2 * self.v[name] + (1 - b2) * g * g
        scale = np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        return scale * self.m[name] / (np.sqrt(self.v[name]) + 1e-7)


class _AdamStepAfterUse(O.Adam):
    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = O._zeros_like(params), O._zeros_like(params)
        with np.errstate(divide="ignore", invalid="ignore"):
            for name, p in params.items():                  # t is still 0 at the first step
                p -= self.lr * self.direction(p, self.decayed(p, grads[name]), name)
        self.t += 1


class _AdamNotSquared(O.Adam):
    def direction(self, p, g, name):
        b1, b2 = self.beta1, self.beta2
        self.m[name] = b1 * self.m[name] + (1 - b1) * g
        self.v[name] = b2 * self.v[name] + (1 - b2) * g          # g for g * g
        m_hat = self.m[name] / (1 - b1 ** self.t)
        with np.errstate(invalid="ignore"):
            return m_hat / (np.sqrt(self.v[name] / (1 - b2 ** self.t)) + self.eps)


class _AdamDecoupled(O.Adam):
    update = O.AdamW.update


ADAM_MISTAKES = [
    Mistake("no_bias_correction", "Adam without bias correction: divide m by 1 - beta1^t and v by "
            "1 - beta2^t (t = 1, 2, ...) before the step", _AdamNoBiasCorrection,
            says_ja="バイアス補正のない Adam: 更新の前に m を 1 - β1^t で、v を 1 - β2^t で割る（t = 1, 2, ...）"),
    Mistake("step_not_counted", "the step t is not counted (the bias correction of step 1 every "
            "time): t += 1 at each update", _AdamStepNotCounted,
            says_ja="ステップ数 t が数えられていない（毎回ステップ 1 のバイアス補正）: 更新ごとに t += 1"),
    Mistake("step_counted_after_use", "t is incremented after the step, so the first step "
            "divides by 1 - beta^0 = 0: increment t before the bias correction (t = 1 at the "
            "first step)", _AdamStepAfterUse,
            says_ja="t を更新の後で増やしているため、最初のステップで 1 - β^0 = 0 で割っている: "
                    "バイアス補正の前に t を増やす（最初のステップで t = 1）"),
    Mistake("v_not_squared", "v averages g instead of g * g (negative entries, NaN under the "
            "root): v = beta2 v + (1 - beta2) g * g", _AdamNotSquared,
            says_ja="v が g * g ではなく g を平均している（負の要素ができ、平方根で NaN）: "
                    "v = β2 v + (1 - β2) g * g"),
    Mistake("eps_inside_sqrt", "eps inside the root, m^ / sqrt(v^ + eps): torch and optax divide by "
            "sqrt(v^) + eps", _AdamEpsInSqrt,
            says_ja="eps が平方根の中にある m^ / sqrt(v^ + eps): torch と optax は sqrt(v^) + eps で割る"),
    Mistake("book_folded_form", "the book's Adam (the corrections folded into lr, 1e-7 added to "
            "sqrt(v) before the correction) differs where eps matters: m^ / (sqrt(v^) + eps) with "
            "the constructor's eps", _AdamBookForm,
            says_ja="本の Adam（補正を学習率にまとめ、補正前の sqrt(v) に 1e-7 を足す）は eps が効くところで違う: "
                    "コンストラクタの eps で m^ / (sqrt(v^) + eps)"),
    Mistake("weight_decay_decoupled", "Adam's weight_decay is the L2 term added to the gradient "
            "(g + wd * p, seen by the moments); decoupled decay is AdamW's", _AdamDecoupled,
            says_ja="Adam の weight_decay は勾配に足す L2 項（g + wd * p、モーメントにも入る）: "
                    "切り離した減衰は AdamW のもの"),
]


class _AdamWCoupled(O.AdamW):
    update = O.Adam.update


class _AdamWDecayWithoutLr(O.AdamW):
    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = O._zeros_like(params), O._zeros_like(params)
        self.t += 1
        for name, p in params.items():
            p -= self.lr * self.direction(p, grads[name], name) + self.weight_decay * p


ADAMW_MISTAKES = [
    Mistake("weight_decay_coupled", "AdamW's weight decay coupled like Adam's (added to the "
            "gradient, so the moments rescale it): decouple it, p -= lr (m^ / (sqrt(v^) + eps) + "
            "wd p)", _AdamWCoupled,
            says_ja="AdamW の荷重減衰を Adam のように勾配に足している（モーメントで再スケールされる）: "
                    "切り離して p -= lr (m^ / (sqrt(v^) + eps) + wd p)"),
    Mistake("decay_without_lr", "the decoupled decay is applied without the learning rate: "
            "p -= lr * wd * p, not wd * p", _AdamWDecayWithoutLr,
            says_ja="切り離した減衰に学習率が掛かっていない: wd * p ではなく p -= lr * wd * p"),
    Mistake("no_bias_correction", "Adam without bias correction: divide m by 1 - beta1^t and v by "
            "1 - beta2^t", type("_AdamWNoBiasCorrection", (O.AdamW,),
                                {"direction": _AdamNoBiasCorrection.direction}),
            says_ja="バイアス補正のない Adam: m を 1 - β1^t で、v を 1 - β2^t で割る"),
]


# ---- gradient clipping: the clipped gradients (and the global norm) are the quantities -----

def _gradients(scale):
    """Gradients of W (3, 4) and b (4,): global norm ~ 4.5 scale."""
    return lambda rng: CaseData(inputs={name: normal(rng, *shape, scale=scale)
                                        for name, shape in PARAM_SHAPES.items()})


def _impl_clip(spec, ctx):
    grads = {name: np.array(g) for name, g in ctx.data.inputs.items()}
    total_norm = layer_class(spec, ctx.module)(**ctx.hp).clip(grads)
    result = _result(grads, {})
    if total_norm is not None:
        result["out:total_norm"] = np.asarray(total_norm)
    return result


def _torch_clip(clip):
    """clip(tensors, hp) clips the tensors' .grad in place and returns the total norm or None."""
    def run(spec, ctx):
        dev = torch_oracle.device(ctx.device)
        tensors = {name: torch_oracle.to_tensor(np.zeros_like(g), dev, True)
                   for name, g in ctx.data.inputs.items()}
        for name, t in tensors.items():
            t.grad = torch_oracle.to_tensor(ctx.data.inputs[name], dev)
        total_norm = clip(list(tensors.values()), ctx.hp)
        result = _result({name: torch_oracle.to_numpy(t.grad) for name, t in tensors.items()}, {})
        if total_norm is not None:
            result["out:total_norm"] = torch_oracle.to_numpy(total_norm)
        return result
    return run


def _optax_clip(transformation, with_norm):
    def run(spec, ctx):
        with jax.default_device(jax_oracle.device(ctx.device)):
            grads = {name: jnp.asarray(g) for name, g in ctx.data.inputs.items()}
            t = transformation(ctx.hp)
            clipped, _ = t.update(grads, t.init(grads))
            result = _result(clipped, {})
            if with_norm:
                result["out:total_norm"] = np.asarray(optax.tree.norm(grads))
            return result
    return run


TORCH_EPS_WHY = ("torch.nn.utils.clip_grad_norm_ divides by norm + 1e-6 (eps = 1e-6, the answer "
                 "key's default); optax divides by the norm itself")
NO_EPS_WHY = ("eps = 0: the notes' rate = threshold / norm and optax.clip_by_global_norm; torch "
              "always adds 1e-6")
TORCH_EPS_WHY_JA = ("torch.nn.utils.clip_grad_norm_ は norm + 1e-6 で割る（eps = 1e-6、模範解答の既定値）。"
                    "optax はノルムそのもので割る")
NO_EPS_WHY_JA = ("eps = 0: ノートの rate = threshold / norm と optax.clip_by_global_norm。"
                 "torch は常に 1e-6 を足す")

class _ClipNormByValue(O.ClipGradNorm):
    def clip(self, grads):
        total_norm = np.sqrt(sum((g * g).sum() for g in grads.values()))
        for g in grads.values():
            np.clip(g, -self.max_norm, self.max_norm, out=g)
        return total_norm


class _ClipNormPerArray(O.ClipGradNorm):
    def clip(self, grads):
        total_norm = np.sqrt(sum((g * g).sum() for g in grads.values()))
        for g in grads.values():
            rate = self.max_norm / (np.sqrt((g * g).sum()) + self.eps)
            if rate < 1:
                g *= rate
        return total_norm


class _ClipNormAlways(O.ClipGradNorm):
    def clip(self, grads):
        total_norm = np.sqrt(sum((g * g).sum() for g in grads.values()))
        for g in grads.values():
            g *= self.max_norm / (total_norm + self.eps)
        return total_norm


class _ClipNormNoEps(O.ClipGradNorm):
    def clip(self, grads):
        total_norm = np.sqrt(sum((g * g).sum() for g in grads.values()))
        rate = self.max_norm / total_norm                 # eps left out
        if rate < 1:
            for g in grads.values():
                g *= rate
        return total_norm


class _ClipNormSquared(O.ClipGradNorm):
    def clip(self, grads):
        return super().clip(grads) ** 2


CLIP_NORM_MISTAKES = [
    Mistake("clipped_by_value", "clipping by value (each element to [-c, c]) where clipping by "
            "the norm was asked: scale every gradient by max_norm / (norm + eps) when the norm "
            "exceeds max_norm", _ClipNormByValue,
            says_ja="ノルムでのクリッピングが求められているところで値でクリップしている（各要素を [-c, c] に）: "
                    "ノルムが max_norm を超えたらすべての勾配を max_norm / (norm + eps) 倍する"),
    Mistake("norm_per_array", "each array is clipped by its own norm: the norm is global, over "
            "every array together", _ClipNormPerArray,
            says_ja="配列ごとに自分のノルムでクリップしている: ノルムはすべての配列を合わせた全体のノルム"),
    Mistake("always_rescaled", "the gradients are rescaled even when the norm is below max_norm: "
            "clip only when max_norm / (norm + eps) < 1", _ClipNormAlways,
            says_ja="ノルムが max_norm 未満でも勾配をスケールしている: max_norm / (norm + eps) < 1 のときだけクリップする"),
    Mistake("eps_dropped", "the rate is max_norm / norm without eps: torch divides by norm + eps "
            "(eps = 1e-6), which matters for small norms", _ClipNormNoEps,
            says_ja="比率が eps なしの max_norm / norm になっている: torch は norm + eps（eps = 1e-6）で割り、"
                    "ノルムが小さいときに効く"),
    Mistake("squared_norm_returned", "the returned total norm is the squared norm: return its "
            "square root", _ClipNormSquared,
            says_ja="返している全体のノルムが二乗ノルム: 平方根を返す"),
]


class _ClipValueByNorm(O.ClipGradValue):
    def clip(self, grads):
        total_norm = np.sqrt(sum((g * g).sum() for g in grads.values()))
        if total_norm > self.clip_value:
            for g in grads.values():
                g *= self.clip_value / total_norm


class _ClipValueUpperOnly(O.ClipGradValue):
    def clip(self, grads):
        for g in grads.values():
            np.minimum(g, self.clip_value, out=g)


CLIP_VALUE_MISTAKES = [
    Mistake("clipped_by_norm", "clipping by the global norm where clipping by value was asked: "
            "clip each element to [-c, c]", _ClipValueByNorm,
            says_ja="値でのクリッピングが求められているところで全体のノルムでクリップしている: 各要素を [-c, c] に切る"),
    Mistake("upper_bound_only", "only the upper bound is applied: clip both sides, "
            "np.clip(g, -c, c)", _ClipValueUpperOnly,
            says_ja="上限しか適用していない: 両側を切る np.clip(g, -c, c)"),
]


SPECS += [
    OpSpec(
        name="clip_grad_norm", family="optim", impl="ClipGradNorm",
        cases=[
            Case("clipped", _gradients(3.0), hparams={"max_norm": 1.0}, oracles=("torch",), why=TORCH_EPS_WHY,
                 why_ja=TORCH_EPS_WHY_JA),
            Case("clipped_max_norm_5", _gradients(3.0), hparams={"max_norm": 5.0}, oracles=("torch",),
                 why=TORCH_EPS_WHY, why_ja=TORCH_EPS_WHY_JA),
            Case("clipped_no_eps", _gradients(3.0), hparams={"max_norm": 1.0, "eps": 0.0},
                 oracles=("jax",), why=NO_EPS_WHY, why_ja=NO_EPS_WHY_JA),
            Case("unclipped", _gradients(0.1), hparams={"max_norm": 5.0},
                 why="the global norm is below max_norm: the gradients pass unchanged",
                 why_ja="全体のノルムが max_norm 未満: 勾配はそのまま通る"),
            Case("clipped_small_norm", _gradients(0.01), hparams={"max_norm": 0.01}, oracles=("torch",),
                 why="a global norm of ~0.045: torch's eps 1e-6 moves the rate by ~2e-5 relative, "
                     "so that where eps sits is seen (at a norm of ~13 it moves it by 1e-7)",
                 why_ja="全体のノルムが ~0.045: torch の eps 1e-6 が比率を相対的に ~2e-5 動かすので、eps の"
                        "位置が結果に現れる（ノルム ~13 では 1e-7 しか動かない）"),
        ],
        runners={"impl": _impl_clip,
                 "torch": _torch_clip(lambda ts, hp: torch.nn.utils.clip_grad_norm_(ts, hp["max_norm"])),
                 "jax": _optax_clip(lambda hp: optax.clip_by_global_norm(hp["max_norm"]), with_norm=True)},
        unavailable={"fd": NOT_A_GRADIENT}, unavailable_ja={"fd": NOT_A_GRADIENT_JA},
        formulas={"forward": r"n = \sqrt{\textstyle\sum_{k} \lVert g_k \rVert^2},\quad "
                             r"g_k \leftarrow g_k \min\!\left(1, \frac{c}{n + \epsilon}\right)", "backward": ""},
        convention="The norm is global, over every array together (the notes' 勾配クリッピング, "
                   "torch.nn.utils.clip_grad_norm_, optax.clip_by_global_norm). eps = 1e-6 follows torch "
                   "and is checked against it; eps = 0 follows the notes and optax and is checked against "
                   "optax. The returned total norm is checked too.",
        convention_ja="ノルムはすべての配列を合わせた全体のノルムである（ノートの勾配クリッピング、"
                      "torch.nn.utils.clip_grad_norm_、optax.clip_by_global_norm）。eps = 1e-6 は torch に従い "
                      "torch で検証する。eps = 0 はノートと optax に従い optax で検証する。返す全体のノルムも検証する。",
        mistakes=CLIP_NORM_MISTAKES,
    ),
    OpSpec(
        name="clip_grad_value", family="optim", impl="ClipGradValue",
        cases=[Case("clip_half", _gradients(1.0), hparams={"clip_value": 0.5}),
               Case("clip_two", _gradients(1.5), hparams={"clip_value": 2.0}),
               Case("unclipped", _gradients(0.1), hparams={"clip_value": 5.0})],
        runners={"impl": _impl_clip,
                 "torch": _torch_clip(lambda ts, hp: torch.nn.utils.clip_grad_value_(ts, hp["clip_value"])),
                 "jax": _optax_clip(lambda hp: optax.clip(hp["clip_value"]), with_norm=False)},
        unavailable={"fd": NOT_A_GRADIENT}, unavailable_ja={"fd": NOT_A_GRADIENT_JA},
        formulas={"forward": r"g \leftarrow \min(\max(g, -c), c)", "backward": ""},
        convention="torch.nn.utils.clip_grad_value_ and optax.clip: element-wise, in place.",
        convention_ja="torch.nn.utils.clip_grad_value_ と optax.clip: 要素ごとに、その場で書き換える。",
        mistakes=CLIP_VALUE_MISTAKES,
    ),
]


def _decay_ignored(base):
    """base with its weight_decay argument taken and then ignored."""
    def __init__(self, *args, **kwargs):
        kwargs["weight_decay"] = 0.0
        base.__init__(self, *args, **kwargs)
    return type(f"_{base.__name__}DecayIgnored", (base,), {"__init__": __init__})


def _decay_mistake(base, decoupled=False):
    if decoupled:
        return Mistake("weight_decay_ignored", "weight_decay is ignored: AdamW shrinks p by "
                       "lr * wd * p at every step, besides the Adam step", _decay_ignored(base),
                       says_ja="weight_decay が無視されている: AdamW は Adam の更新とは別に、毎ステップ "
                               "p を lr * wd * p だけ縮める")
    return Mistake("weight_decay_ignored", "weight_decay is ignored: add the L2 term to the "
                   "gradient, g + wd * p, before the rule (its state sees it too)", _decay_ignored(base),
                   says_ja="weight_decay が無視されている: 規則の前に L2 項を勾配に足して g + wd * p とする"
                           "（状態にもそれが入る）")


with_mistakes(SPECS, {"sgd": SGD_MISTAKES, "momentum": MOMENTUM_MISTAKES + [_decay_mistake(O.Momentum)],
                      "nesterov": NESTEROV_MISTAKES + [_decay_mistake(O.Nesterov)],
                      "adagrad": ADAGRAD_MISTAKES + [_decay_mistake(O.AdaGrad)],
                      "rmsprop": RMSPROP_MISTAKES + [_decay_mistake(O.RMSprop)],
                      "adam": ADAM_MISTAKES + [_decay_mistake(O.Adam)],
                      "adamw": ADAMW_MISTAKES + [_decay_mistake(O.AdamW, decoupled=True)]})
