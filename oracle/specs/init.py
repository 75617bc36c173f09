"""Initializers: a random draw is checked through its statistics.

A draw cannot equal a reference draw element by element (another generator, another
algorithm), so the checked quantities are statistics of a large draw (n >= 65536 values):

    out:mean_over_std   the sample mean in units of the sample std; the target is 0
    out:log_std         log of the sample std; the target is log of the initializer's std
    out:log_max_abs     (uniform) log of the largest |w|; the target is log of the bound a

The implementation returns the statistics of its own draw. The torch witness returns the
analytic targets, from torch.nn.init's own fan rule (_calculate_fan_in_and_fan_out) and
gain (calculate_gain) with the formulas of torch.nn.init's documentation. The jax witness
returns the statistics of a draw by jax.nn.initializers.variance_scaling (a second sample).
Both are compared with a tolerance derived from the sample size (STATISTICAL below), in
absolute terms: each quantity is dimensionless (a ratio, or a log, whose error is the
relative error of the std).

The fan rule itself is an exact integer formula: the op init_fans checks it against torch.
"""
import math

import numpy as np

from ...impl import init as I
from .. import jax_oracle
from ..errors import Unavailable
from ..frameworks import jax, torch
from ..impl_runner import layer_class
from ..seeding import rng_for
from ..spec import Case, CaseData, Mistake, OpSpec, Override, with_mistakes

NOT_A_GRADIENT = "an initializer has no gradient to check"
NOT_A_GRADIENT_JA = "初期化には検証すべき勾配がない"
MIN_SAMPLES = 65536          # every case draws at least this many values
SIGMAS = 5.0                 # a 5-sigma bound: a false alarm has probability ~6e-7 per quantity
_standard_error = 1 / math.sqrt(MIN_SAMPLES)


def _statistical(samples, who, who_ja):
    atol = SIGMAS * math.sqrt(samples) * _standard_error
    return Override(
        rtol=0.0, atol=atol,
        reason=f"a statistic of a random draw, not a computation: {who}. The sample mean over the "
               f"sample std has standard error 1/sqrt(n), the log of the sample std sqrt((kurtosis - 1) "
               f"/ (4n)) <= 1/sqrt(2n); with n >= {MIN_SAMPLES} a {SIGMAS:g}-sigma bound is "
               f"{atol:.4f}" + (" (sqrt(2) wider: two independent samples)" if samples == 2 else "")
               + ". The usual mistakes move log std by 0.2 or more on these shapes: log sqrt(3) = 0.55 "
               "(the std used as the bound), log sqrt(2) = 0.35 (fans swapped, gain sqrt(2) missing), "
               "log sqrt(1.5) = 0.2 (Xavier with fan_in alone)",
        reason_ja=f"計算ではなく乱数による生成の統計量である: {who_ja}。標本平均を標本標準偏差で割った値の"
                  f"標準誤差は 1/sqrt(n)、標本標準偏差の log の標準誤差は sqrt((kurtosis - 1) / (4n)) "
                  f"<= 1/sqrt(2n) であり、n >= {MIN_SAMPLES} での {SIGMAS:g}σ の許容幅は {atol:.4f}"
                  + ("（独立な 2 つの標本なので sqrt(2) 倍広い）" if samples == 2 else "")
                  + "。よくある誤りはこれらの形で log std を 0.2 以上動かす: log sqrt(3) = 0.55"
                  "（標準偏差を範囲に使う）、log sqrt(2) = 0.35（fan の入れ替え、gain sqrt(2) の欠落）、"
                  "log sqrt(1.5) = 0.2（fan_in だけの Xavier）")


STATISTICAL = {"torch": _statistical(1, "the implementation's draw against torch's analytic target",
                                     "実装の生成した値を torch の解析的な目標値と比べる"),
               "jax": _statistical(2, "the implementation's draw against jax's draw",
                                   "実装の生成した値を jax の生成した値と比べる")}


def _no_data(rng):
    return CaseData(inputs={})


def _statistics(w, uniform):
    w = np.asarray(w, dtype=np.float64)
    stats = {"out:mean_over_std": w.mean() / w.std(), "out:log_std": np.log(w.std())}
    if uniform:
        stats["out:log_max_abs"] = np.log(np.abs(w).max())
    return {k: np.asarray(v) for k, v in stats.items()}


def _split(hp):
    """The case's shape and the initializer's own hyperparameters."""
    hp = dict(hp)
    return tuple(hp.pop("shape")), hp


def _impl_draw(uniform):
    def run(spec, ctx):
        shape, hp = _split(ctx.hp)
        initializer = layer_class(spec, ctx.module)(**hp)
        w = initializer(shape, rng_for(ctx.seed, spec.name, ctx.case, "draw"),
                        dtype=np.dtype(ctx.dtype))
        if np.shape(w) != shape:
            raise ValueError(f"{spec.impl} drew shape {np.shape(w)}, asked for {shape}")
        return _statistics(w, uniform)
    return run


def _torch_layout(shape, hp):
    """The shape as torch lays a weight out, (out, in, *rest), from the case's in_axis/out_axis."""
    in_axis, out_axis = hp.get("in_axis", 1) % len(shape), hp.get("out_axis", 0) % len(shape)
    rest = [s for axis, s in enumerate(shape) if axis not in (in_axis, out_axis)]
    return (shape[out_axis], shape[in_axis], *rest)


def _cpu_only(ctx):
    if ctx.device != "cpu":
        raise Unavailable("torch's analytic targets and fan rule do not depend on the device: "
                          "checked on cpu")


def _torch_fans(shape, hp):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(_torch_layout(shape, hp)))


def _torch_target(kind, uniform):
    """torch.nn.init's documented std: xavier gain sqrt(2/(fan_in+fan_out)); kaiming gain/sqrt(fan)."""
    def run(spec, ctx):
        _cpu_only(ctx)
        shape, hp = _split(ctx.hp)
        fan_in, fan_out = _torch_fans(shape, hp)
        if kind == "xavier":
            std = hp.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
        else:   # kaiming_* with its default nonlinearity leaky_relu, a = 0
            fan = fan_in if hp.get("mode", "fan_in") == "fan_in" else fan_out
            std = torch.nn.init.calculate_gain("leaky_relu", 0) / math.sqrt(fan)
        target = {"out:mean_over_std": 0.0, "out:log_std": math.log(std)}
        if uniform:
            target["out:log_max_abs"] = math.log(std * math.sqrt(3.0))
        return {k: np.asarray(v) for k, v in target.items()}
    return run


def _jax_draw(kind, uniform):
    """jax.nn.initializers.variance_scaling: glorot_* is (1, 'fan_avg'), he_* is (2, 'fan_in').
    'normal' is the untruncated normal torch draws (jax's named glorot_normal/he_normal use
    a truncated normal with the same variance)."""
    def run(spec, ctx):
        shape, hp = _split(ctx.hp)
        scale, mode = (hp.get("gain", 1.0) ** 2, "fan_avg") if kind == "xavier" \
            else (2.0, hp.get("mode", "fan_in"))
        init = jax.nn.initializers.variance_scaling(
            scale, mode, "uniform" if uniform else "normal",
            in_axis=hp.get("in_axis", 1), out_axis=hp.get("out_axis", 0))
        seed = int(rng_for(ctx.seed, spec.name, ctx.case, "jax-draw").integers(2 ** 31))
        with jax.default_device(jax_oracle.device(ctx.device)):
            w = init(jax.random.PRNGKey(seed), shape, dtype=np.dtype(ctx.dtype))
        return _statistics(np.asarray(w), uniform)
    return run


# ---- the mistakes people make writing initializers: std() or bound() with one line changed --

def _std_as_bound(base):
    return type(f"_{base.__name__}StdAsBound", (base,), {"bound": lambda self, shape: self.std(shape)})


def _bound_as_std(base):
    original = base.std
    return type(f"_{base.__name__}BoundAsStd", (base,),
                {"std": lambda self, shape: original(self, shape) * np.sqrt(3.0)})


class _XavierFanInOnly:
    def std(self, shape):
        fan_in, _fan_out = self.fans(shape)
        return self.gain * np.sqrt(1.0 / fan_in)


class _XavierGainIgnored:
    def std(self, shape):
        fan_in, fan_out = self.fans(shape)
        return np.sqrt(2.0 / (fan_in + fan_out))


class _XavierVariance:
    def std(self, shape):
        fan_in, fan_out = self.fans(shape)
        return self.gain * 2.0 / (fan_in + fan_out)       # the variance, not its root


class _HeOtherFan:
    def std(self, shape):
        fan_in, fan_out = self.fans(shape)
        return np.sqrt(2.0 / (fan_out if self.mode == "fan_in" else fan_in))


class _HeGainMissing:
    def std(self, shape):
        fan_in, fan_out = self.fans(shape)
        return np.sqrt(1.0 / (fan_in if self.mode == "fan_in" else fan_out))


class _HeVariance:
    def std(self, shape):
        fan_in, fan_out = self.fans(shape)
        return 2.0 / (fan_in if self.mode == "fan_in" else fan_out)


class _NoReceptiveField:
    def fans(self, shape):
        return int(shape[self.in_axis]), int(shape[self.out_axis])


def _mixed(mixin, base):
    return type(f"{mixin.__name__}{base.__name__}", (mixin, base), {})


STD_AS_BOUND = ("the std used as the bound of the uniform draw: U(-a, a) has std a / sqrt(3), so "
                "a = sqrt(3) std (xavier: gain sqrt(6 / (fan_in + fan_out)), he: sqrt(6 / fan))")
STD_AS_BOUND_JA = ("一様分布の範囲に標準偏差をそのまま使っている: U(-a, a) の標準偏差は a / sqrt(3) なので "
                   "a = sqrt(3) × 標準偏差（xavier: gain sqrt(6 / (fan_in + fan_out))、he: sqrt(6 / fan)）")
BOUND_AS_STD = ("the uniform bound used as the std of the normal draw: the std is bound / sqrt(3) "
                "(xavier: gain sqrt(2 / (fan_in + fan_out)), he: sqrt(2 / fan))")
BOUND_AS_STD_JA = ("一様分布の範囲を正規分布の標準偏差に使っている: 標準偏差は 範囲 / sqrt(3)"
                   "（xavier: gain sqrt(2 / (fan_in + fan_out))、he: sqrt(2 / fan)）")


def RECEPTIVE_FIELD_IGNORED(base):
    return Mistake("receptive_field_ignored", "the fans leave out the receptive field: for a "
                   "convolution fan_in = in x (the product of the kernel sizes), fan_out = out x the same",
                   _mixed(_NoReceptiveField, base),
                   says_ja="fan に受容野が入っていない: 畳み込みでは fan_in = 入力チャネル数 × カーネルの大きさの積、"
                           "fan_out = 出力チャネル数 × 同じ積")


def _xavier_mistakes(base, uniform):
    first = Mistake("std_as_bound", STD_AS_BOUND, _std_as_bound(base), says_ja=STD_AS_BOUND_JA) if uniform \
        else Mistake("bound_as_std", BOUND_AS_STD, _bound_as_std(base), says_ja=BOUND_AS_STD_JA)
    return [first,
            Mistake("fan_in_only", "Xavier's variance is 2 / (fan_in + fan_out): 1 / fan_in alone is "
                    "LeCun's", _mixed(_XavierFanInOnly, base),
                    says_ja="Xavier の分散は 2 / (fan_in + fan_out): 1 / fan_in だけなのは LeCun の初期値"),
            Mistake("gain_ignored", "the gain is ignored: the std is gain sqrt(2 / (fan_in + fan_out))",
                    _mixed(_XavierGainIgnored, base),
                    says_ja="gain が無視されている: 標準偏差は gain sqrt(2 / (fan_in + fan_out))"),
            Mistake("variance_as_std", "2 / (fan_in + fan_out) is the variance: the std is its square "
                    "root", _mixed(_XavierVariance, base),
                    says_ja="2 / (fan_in + fan_out) は分散: 標準偏差はその平方根"),
            RECEPTIVE_FIELD_IGNORED(base)]


def _he_mistakes(base, uniform):
    first = Mistake("std_as_bound", STD_AS_BOUND, _std_as_bound(base), says_ja=STD_AS_BOUND_JA) if uniform \
        else Mistake("bound_as_std", BOUND_AS_STD, _bound_as_std(base), says_ja=BOUND_AS_STD_JA)
    return [first,
            Mistake("other_fan", "fan_in and fan_out swapped: mode='fan_in' (the default) divides by "
                    "fan_in = in x receptive field", _mixed(_HeOtherFan, base),
                    says_ja="fan_in と fan_out が入れ替わっている: mode='fan_in'（既定）は "
                            "fan_in = 入力数 × 受容野 で割る"),
            Mistake("gain_sqrt2_missing", "He's std is sqrt(2 / fan): without the 2 (the gain sqrt(2) "
                    "of relu) it is LeCun's sqrt(1 / fan)", _mixed(_HeGainMissing, base),
                    says_ja="He の標準偏差は sqrt(2 / fan): 2（relu の gain sqrt(2)）がないと LeCun の sqrt(1 / fan)"),
            Mistake("variance_as_std", "2 / fan is the variance: the std is sqrt(2 / fan)",
                    _mixed(_HeVariance, base), says_ja="2 / fan は分散: 標準偏差は sqrt(2 / fan)"),
            RECEPTIVE_FIELD_IGNORED(base)]


def _fans_without_receptive_field(shape, in_axis=1, out_axis=0):
    return int(shape[in_axis]), int(shape[out_axis])


def _fans_swapped(shape, in_axis=1, out_axis=0):
    fan_in, fan_out = I.fan_in_and_fan_out(shape, in_axis, out_axis)
    return fan_out, fan_in


FANS_MISTAKES = [
    Mistake("receptive_field_ignored", "the receptive field is left out: fan_in = in x "
            "(the product of the kernel sizes), fan_out = out x the same", _fans_without_receptive_field,
            says_ja="受容野が抜けている: fan_in = 入力チャネル数 × カーネルの大きさの積、fan_out = 出力チャネル数 × 同じ積"),
    Mistake("fans_swapped", "fan_in and fan_out swapped: torch's layout is (out, in, *kernel), "
            "fan_in comes from axis 1", _fans_swapped,
            says_ja="fan_in と fan_out が入れ替わっている: torch の形は (out, in, *kernel) で、fan_in は軸 1 から"),
]


LINEAR = (512, 256)            # (out, in): fan_in 256, fan_out 512
CONV1D = (256, 64, 5)          # fan_in 320, fan_out 1280
CONV2D = (128, 64, 3, 3)       # fan_in 576, fan_out 1152
BOOK_AFFINE = (256, 512)       # the book's Affine W (in, out): fan_in 256, fan_out 512
BOOK_AXES = {"in_axis": 0, "out_axis": 1}
BOOK_WHY = "the book's Affine W is (in, out): in_axis=0, out_axis=1"
BOOK_WHY_JA = "本の Affine の W は (in, out) の形: in_axis=0, out_axis=1"


def _init_spec(name, impl, kind, uniform, extra_cases, formula, convention, convention_ja):
    cases = [Case("linear", _no_data, hparams={"shape": LINEAR}),
             Case("conv2d", _no_data, hparams={"shape": CONV2D}),
             Case("conv1d", _no_data, hparams={"shape": CONV1D}),
             Case("book_affine", _no_data, hparams={"shape": BOOK_AFFINE, **BOOK_AXES}, why=BOOK_WHY,
                  why_ja=BOOK_WHY_JA)]
    return OpSpec(
        name=name, family="init", impl=impl, cases=cases + extra_cases,
        runners={"impl": _impl_draw(uniform), "torch": _torch_target(kind, uniform),
                 "jax": _jax_draw(kind, uniform)},
        unavailable={"fd": NOT_A_GRADIENT}, unavailable_ja={"fd": NOT_A_GRADIENT_JA},
        overrides=dict(STATISTICAL),
        formulas={"forward": formula, "backward": ""},
        convention=convention + " Checked through statistics of a draw of >= 65536 values: see the "
                                "tolerance's reason.",
        convention_ja=convention_ja + "65536 個以上の値を生成し、その統計量で検証する: 許容誤差の理由を参照。",
    )


XAVIER_STD = r"\sigma = g\sqrt{\frac{2}{n_\text{in} + n_\text{out}}}"
HE_STD = r"\sigma = \sqrt{\frac{2}{n_\text{in}}}"
GAIN = [Case("tanh_gain", _no_data, hparams={"shape": LINEAR, "gain": 5 / 3},
             why="gain 5/3, torch's calculate_gain('tanh')",
             why_ja="gain 5/3、torch の calculate_gain('tanh')")]
FAN_OUT = [Case("fan_out", _no_data, hparams={"shape": CONV2D, "mode": "fan_out"},
                why="mode='fan_out': the std preserves the magnitude of the backward pass",
                why_ja="mode='fan_out': 標準偏差が逆伝播の大きさを保つ")]

SPECS = [
    _init_spec("xavier_uniform", "XavierUniform", "xavier", True, GAIN,
               XAVIER_STD + r",\quad W \sim U(-\sqrt{3}\sigma, \sqrt{3}\sigma)",
               "torch.nn.init.xavier_uniform_: bound = gain sqrt(6 / (fan_in + fan_out)).",
               "torch.nn.init.xavier_uniform_: 範囲は gain sqrt(6 / (fan_in + fan_out))。"),
    _init_spec("xavier_normal", "XavierNormal", "xavier", False, GAIN,
               XAVIER_STD + r",\quad W \sim N(0, \sigma^2)",
               "torch.nn.init.xavier_normal_ (an untruncated normal).",
               "torch.nn.init.xavier_normal_（切断しない正規分布）。"),
    _init_spec("he_uniform", "HeUniform", "he", True, FAN_OUT,
               HE_STD + r",\quad W \sim U(-\sqrt{3}\sigma, \sqrt{3}\sigma)",
               "torch.nn.init.kaiming_uniform_ with its defaults (a = 0, leaky_relu: gain sqrt(2)), "
               "bound sqrt(6 / fan_in); jax's he_uniform.",
               "torch.nn.init.kaiming_uniform_ を既定値（a = 0、leaky_relu: gain sqrt(2)）で使う。"
               "範囲は sqrt(6 / fan_in)。jax の he_uniform と同じ。"),
    _init_spec("he_normal", "HeNormal", "he", False, FAN_OUT,
               HE_STD + r",\quad W \sim N(0, \sigma^2)",
               "torch.nn.init.kaiming_normal_ with its defaults (std sqrt(2 / fan_in), untruncated).",
               "torch.nn.init.kaiming_normal_ を既定値で使う（標準偏差 sqrt(2 / fan_in)、切断しない）。"),
]


# ---- the fan rule: exact integers against torch ---------------------------------------

def _impl_fans(spec, ctx):
    shape, hp = _split(ctx.hp)
    fan_in, fan_out = layer_class(spec, ctx.module)(shape, **hp)
    return {"out:fan_in": np.asarray(fan_in), "out:fan_out": np.asarray(fan_out)}


def _torch_fans_runner(spec, ctx):
    _cpu_only(ctx)
    shape, hp = _split(ctx.hp)
    fan_in, fan_out = _torch_fans(shape, hp)
    return {"out:fan_in": np.asarray(fan_in), "out:fan_out": np.asarray(fan_out)}


SPECS.append(OpSpec(
    name="init_fans", family="init", impl="fan_in_and_fan_out",
    cases=[Case("linear", _no_data, hparams={"shape": (5, 3)}),
           Case("conv1d", _no_data, hparams={"shape": (4, 3, 5)}),
           Case("conv2d", _no_data, hparams={"shape": (8, 3, 3, 5)}),
           Case("conv3d", _no_data, hparams={"shape": (6, 2, 3, 4, 5)}),
           Case("book_affine", _no_data, hparams={"shape": (3, 5), **BOOK_AXES}, why=BOOK_WHY,
                why_ja=BOOK_WHY_JA)],
    runners={"impl": _impl_fans, "torch": _torch_fans_runner},
    unavailable={"fd": NOT_A_GRADIENT,
                 "jax": "jax computes fans inside variance_scaling with a private function; its "
                        "rule is checked through the statistics of xavier_* and he_*"},
    unavailable_ja={"fd": NOT_A_GRADIENT_JA,
                    "jax": "jax は fan を variance_scaling の中で非公開の関数で計算する。その規則は "
                           "xavier_* と he_* の統計量を通して検証する"},
    formulas={"forward": r"n_\text{in} = C_\text{in} \prod_i k_i,\quad n_\text{out} = C_\text{out} \prod_i k_i",
              "backward": ""},
    convention="torch.nn.init._calculate_fan_in_and_fan_out on torch's layout (out, in, *kernel); "
               "in_axis/out_axis name other layouts (jax's variance_scaling does the same).",
    convention_ja="torch の形 (out, in, *kernel) に対する torch.nn.init._calculate_fan_in_and_fan_out。"
                  "ほかの形は in_axis/out_axis で軸を指定する（jax の variance_scaling も同様）。",
    mistakes=FANS_MISTAKES,
))

with_mistakes(SPECS, {"xavier_uniform": _xavier_mistakes(I.XavierUniform, True),
                      "xavier_normal": _xavier_mistakes(I.XavierNormal, False),
                      "he_uniform": _he_mistakes(I.HeUniform, True),
                      "he_normal": _he_mistakes(I.HeNormal, False)})
