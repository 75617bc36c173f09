"""The tolerance policy: one table per dtype and witness, plus per-op overrides.

A check passes when every element satisfies |actual - expected| <= atol + rtol * |expected|.
Why these numbers: WHY, one reason for each row of the table (the report's tolerance
page shows them beside the table, in English and in Japanese).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    source: str          # "policy" or "override: <reason>"


POLICY = {
    ("torch", "float64"): (1e-7, 1e-7),
    ("jax", "float64"): (1e-7, 1e-7),
    ("fd", "float64"): (1e-6, 1e-7),
    ("golden", "float64"): (1e-12, 1e-12),
    ("torch", "float32"): (1e-4, 1e-5),
    ("jax", "float32"): (1e-4, 1e-5),
    ("fd", "float32"): (1e-4, 1e-5),
    ("golden", "float32"): (1e-6, 1e-6),
}


@dataclass(frozen=True)
class Why:
    """The reason for the POLICY entries of `witnesses` in `dtype`."""
    witnesses: tuple
    dtype: str
    en: str
    ja: str


WHY = (
    Why(("torch", "jax"), "float64",
        "torch and jax compute the same expression as the answer key in another order; they "
        "agree to about 1e-14. rtol = atol = 1e-7 (torch.testing's float64 default) is far above "
        "rounding and far below any real mistake.",
        "torch と jax は模範解答と同じ式を別の順序で計算し、1e-14 程度まで一致します。"
        "rtol = atol = 1e-7（torch.testing の float64 の既定値）は丸め誤差よりはるかに大きく、"
        "本当の間違いよりはるかに小さい値です。"),
    Why(("torch", "jax", "fd"), "float32",
        "each side rounds at about 6e-8 per operation, and the errors of long sums, matrix "
        "products and recurrences grow with their length: rtol 1e-4 and atol 1e-5 leave room "
        "for about a thousand ulps of accumulated rounding. Finite differences in float32 "
        "difference the implementation's float32 forward, whose rounding dominates the same way.",
        "どちらの側も演算ごとに約 6e-8 の丸めが入り、長い和・行列積・再帰ではその誤差が長さとともに"
        "積み重なります。rtol 1e-4、atol 1e-5 は約 1000 ulp の丸めの蓄積を許す幅です。"
        "float32 の数値微分は実装の float32 の順伝播の差分なので、同じくその丸めが支配的です。"),
    Why(("fd",), "float64",
        "central differences with step h = 1e-5 max(1, |x|) carry a truncation error of about "
        "h² |f‴| / 6 and a rounding error of about 1e-16 |L| / h, both below 1e-8 for the "
        "cases' magnitudes (1 to 100): rtol 1e-6, atol 1e-7.",
        "刻み h = 1e-5 max(1, |x|) の中心差分には約 h² |f‴| / 6 の打ち切り誤差と"
        "約 1e-16 |L| / h の丸め誤差があり、ケースの大きさ（1〜100）ではどちらも 1e-8 未満です。"
        "そこで rtol 1e-6、atol 1e-7 とします。"),
    Why(("golden",), "float64",
        "golden values are the worked examples of the teaching notes: they must match to the "
        "last few digits.",
        "golden の値は講義ノートの計算例です。最後の数桁まで一致しなければなりません。"),
    Why(("golden",), "float32",
        "the same worked examples computed in float32: to about float32's seven digits.",
        "同じ計算例を float32 で計算したものです。float32 の約 7 桁まで一致します。"),
)


def tolerance(spec, oracle, dtype):
    """The tolerance of one (op, oracle, dtype): an override of the spec if any, else the policy."""
    for key in (f"{oracle}/{dtype}", oracle, f"*/{dtype}"):
        override = spec.overrides.get(key)
        if override is not None:
            return Tolerance(override.rtol, override.atol, f"override: {override.reason}")
    try:
        rtol, atol = POLICY[(oracle, dtype)]
    except KeyError:
        raise KeyError(f"no tolerance policy for oracle {oracle!r} and dtype {dtype!r}") from None
    return Tolerance(rtol, atol, "policy")
