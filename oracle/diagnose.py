"""Say in plain words what is wrong with a value that does not match: the structural rules.

Each rule tests one pattern of the actual value against the expected one; the first
that explains the whole mismatch within the tolerance wins. They speak when no entry
of the op's catalogue of mistakes (oracle/mistakes.py) matches, and every rule has an
English and a Japanese sentence (the report shows `diagnosis_ja` under --lang ja).

A rule says only what the numbers show: no "constant factor" for a scalar (any two
numbers have a ratio), a factor only with enough elements to mean something, time
and gate rules only where the op's hints name a time axis or gate blocks.

`hints` come from the op spec and the case:
  batch_size, seq_len           sizes whose factors are worth naming
  time_axis: {quantity: axis}   the time axis of a recurrent quantity (ops with a recurrence)
  gates: {quantity: (axis, names)}  gate blocks of a stacked LSTM/GRU weight
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .diagnose_recurrent import block_rules

F32_UNIT_ROUNDOFF = 2.0 ** -24      # float32: a value rounded once is within this, relative
FACTOR_MIN_ELEMENTS = 4             # a ratio common to fewer elements than this means little


@dataclass(frozen=True)
class Diagnosis:
    """One diagnosis in both languages; `mistake` names the catalogue entry it comes from."""
    text: str
    text_ja: str = ""
    mistake: Optional[str] = None


def _close(a, b, tol):
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(a - b) <= tol.atol + tol.rtol * np.abs(b)))


def _elementwise_close(a, b, tol):
    with np.errstate(invalid="ignore", over="ignore"):
        return np.abs(a - b) <= tol.atol + tol.rtol * np.abs(b)


# -- named factors --------------------------------------------------------------------------
def _named_factor(c, hints):
    """(English, Japanese) names of the constant factor c, when it is one worth naming."""
    names = [(2.0, "2", "2"), (0.5, "1/2", "1/2"), (-1.0, "-1", "-1")]
    for key, en, ja in (("batch_size", "the batch size N", "バッチサイズ N"),
                        ("seq_len", "the sequence length T", "系列長 T")):
        n = hints.get(key)
        if n and n > 1:
            names += [(float(n), f"{en}={n}", f"{ja}={n}"),
                      (1.0 / n, f"1 / {en}={n}", f"1 / {ja}={n}")]
    for value, en, ja in names:
        if abs(c - value) <= 1e-6 * abs(value):
            return en, ja
    return None


# -- shapes ---------------------------------------------------------------------------------
def _shape_rules(a, b, tol):
    if a.shape == (1,) + b.shape and _close(a.reshape(b.shape), b, tol):
        return Diagnosis(
            f"right values with an extra leading axis of size 1: shape {a.shape}, expected "
            f"{b.shape}; a sum with keepdims=True (or a bias kept as (1, D)) where ({', '.join(map(str, b.shape))}{',' if b.ndim == 1 else ''}) "
            f"is expected: sum without keepdims (dout.sum(axis=0)) or reshape",
            f"値は正しいが、先頭に大きさ 1 の軸が余分: 形 {a.shape}、期待される形 {b.shape}。"
            f"keepdims=True の和（または (1, D) のまま持ったバイアス）。keepdims なしで和をとる"
            f"（dout.sum(axis=0)）か reshape する")
    extra = a.ndim - b.ndim
    if extra > 0 and a.shape[extra:] == b.shape and int(np.prod(a.shape[:extra])) > 1 \
            and _close(a.sum(axis=tuple(range(extra))), b, tol):
        axes = "axis 0" if extra == 1 else f"axes {', '.join(map(str, range(extra)))}"
        return Diagnosis(
            f"not summed over the batch: shape {a.shape}, expected {b.shape}; "
            f"summing over {axes} gives the right answer",
            f"バッチ方向の和をとっていない: 形 {a.shape}、期待される形 {b.shape}。"
            f"{'軸 0' if extra == 1 else '軸 ' + ', '.join(map(str, range(extra)))} で和をとると正しい値になる")
    if a.ndim == b.ndim == 2 and a.shape == b.shape[::-1] and _close(a.T, b, tol):
        return Diagnosis(
            f"transposed: shape {a.shape}, expected {b.shape}, and its transpose matches",
            f"転置になっている: 形 {a.shape}、期待される形 {b.shape}。転置すると一致する")
    if a.size == b.size and _close(a.reshape(b.shape), b, tol):
        return Diagnosis(f"right values in the wrong shape: {a.shape}, expected {b.shape}",
                         f"値は正しいが形が違う: {a.shape}、期待される形 {b.shape}")
    return Diagnosis(f"wrong shape: {a.shape}, expected {b.shape}",
                     f"形が違う: {a.shape}、期待される形 {b.shape}")


# -- float32 in a float64 check -------------------------------------------------------------
def _float32_rule(a, b, tol, dtype, actual_dtype):
    """float32 arrays or buffers in a float64 check: errors at float32's rounding level."""
    if dtype != "float64":
        return None
    if actual_dtype == np.float32:
        return Diagnosis(
            "returned float32 in a float64 check: an array allocated with dtype='f' "
            "(np.float32) or cast to float32; allocate with the input's dtype (x.dtype)",
            "float64 の検査で float32 の配列を返している: dtype='f'（np.float32）で確保したか "
            "float32 に変換した配列。入力の dtype（x.dtype）で確保する")
    with np.errstate(invalid="ignore", over="ignore"):
        exact32 = np.all(a.astype(np.float32).astype(np.float64) == a)
        expected_exact32 = np.all(b.astype(np.float32).astype(np.float64) == b)
        rounded = np.abs(a - b) <= 2 * F32_UNIT_ROUNDOFF * np.abs(b) + tol.atol
    if exact32 and not expected_exact32 and np.all(rounded):
        worst = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
        return Diagnosis(
            f"float32 values in a float64 check: every element is a float32 number, within "
            f"float32 rounding of the expected value (max relative error {worst:.2g}): a buffer "
            f"allocated with dtype='f' (np.float32); allocate it with the input's dtype",
            f"float64 の検査で値が float32: すべての要素が float32 の数で、期待値とは float32 の"
            f"丸め誤差の範囲で一致（最大相対誤差 {worst:.2g}）。dtype='f'（np.float32）で確保した"
            f"配列。入力の dtype で確保する")
    return None


# -- scalars --------------------------------------------------------------------------------
def _scalar_rule(a, b, hints, quantity):
    """A single number: both values, and what usually causes such a difference."""
    x, y = float(a.reshape(())), float(b.reshape(()))
    head = f"got {x:.10g}, expected {y:.10g} (difference {x - y:+.3g}"
    head_ja = f"値 {x:.10g}、期待値 {y:.10g}（差 {x - y:+.3g}"
    if y != 0 and np.isfinite(x):
        head += f", ratio {x / y:.6g})"
        head_ja += f"、比 {x / y:.6g}）"
        named = _named_factor(x / y, hints)
    else:
        head += ")"
        head_ja += "）"
        named = None
    if quantity.startswith("out:log_") and np.isfinite(x - y):
        return _log_statistic(x, y, head, head_ja)
    if named is not None and named[0] == "-1":
        return Diagnosis(head + ": the negative of the expected value, a sign lost or added",
                         head_ja + ": 符号が逆。マイナスの付け忘れか付けすぎ")
    if named is not None:
        return Diagnosis(
            head + f": the ratio is exactly {named[0]}, as from a sum where a mean was meant "
                   "(or a mean taken twice), or the 1/2 of E = 1/2 sum (y - t)^2 (or the 2 of a "
                   "square's derivative)",
            head_ja + f": 比がちょうど {named[1]}。平均のところを和にした（または平均を二度とった）か、"
                      "E = 1/2 Σ (y - t)^2 の 1/2（または二乗の微分の 2）")
    relative = abs(x - y) / abs(y) if y != 0 else np.inf
    if relative < 1e-4:
        return Diagnosis(
            head + ": a small difference, as from an eps added somewhere (1e-7 inside a log, "
                   "1e-8 in a denominator) or a float32 constant",
            head_ja + ": 小さな差。どこかに足した eps（log の中の 1e-7、分母の 1e-8）か float32 の定数による"
                      "ことが多い")
    if quantity.startswith("grad:"):
        return Diagnosis(
            head + ": a single gradient value; compare the formula of the docstring term by term "
                   "(a term left out, the derivative taken at the wrong value)",
            head_ja + ": 1 つの勾配の値。docstring の式を項ごとに比べる（項の抜け、違う点で取った微分）")
    return Diagnosis(
        head + ": a single value, as from another reduction (sum or mean, over which axis), "
               "a missing term or constant, or another formula",
        head_ja + ": 1 つの値。集約の違い（和か平均か、どの軸か）、項や定数の抜け、別の式によることが多い")


STD_RATIOS = [(np.sqrt(3.0), "sqrt(3)", "the std used as the uniform bound, or the bound as the std"),
              (np.sqrt(2.0), "sqrt(2)", "the gain sqrt(2) of relu, or fan_in + fan_out against one fan "
                                        "twice as large"),
              (2.0, "2", "the variance 2 / fan against its root, or fans four times apart"),
              (3.0, "3", "a 3x3 kernel's receptive field (9) left out of the fans"),
              (np.sqrt(1.5), "sqrt(1.5)", "Xavier's fan_in + fan_out against 2 fan_in"),
              (5 / 3, "5/3", "the gain of tanh")]


def _log_statistic(x, y, head, head_ja):
    """The log of a statistic (an initializer's std or bound): the ratio e^(x - y) may be named."""
    ratio = float(np.exp(x - y))
    for value, label, cause in STD_RATIOS:
        for r, sign in ((value, ""), (1 / value, "1/")):
            if abs(ratio / r - 1) < 0.03:
                name = f"{sign}{label}"
                return Diagnosis(
                    f"{head}: the statistic is {ratio:.4g} times its target, about {name}: usually "
                    f"{cause}",
                    f"{head_ja}: 統計量が目標の {ratio:.4g} 倍で、ほぼ {name}。よくある原因: {cause}")
    return Diagnosis(
        f"{head}: the statistic is {ratio:.4g} times its target: compare the std and the fans with "
        f"the docstring's formula",
        f"{head_ja}: 統計量が目標の {ratio:.4g} 倍。標準偏差と fan を docstring の式と比べる")


# -- the rules ------------------------------------------------------------------------------
def explain(actual, expected, tol, hints, quantity="", dtype=None):
    """The structural Diagnosis of `actual` against `expected` (never vacuous)."""
    actual_dtype = getattr(actual, "dtype", None)
    a, b = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        return _shape_rules(a, b, tol)
    bad = ~np.isfinite(a) & np.isfinite(b)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        return Diagnosis(f"NaN or inf in {int(bad.sum())} of {a.size} elements (first at {first})",
                         f"{a.size} 要素のうち {int(bad.sum())} 個が NaN か inf（最初は {first}）")
    if a.size == 0:
        return Diagnosis("", "")
    found = _float32_rule(a, b, tol, dtype, actual_dtype)
    if found:
        return found
    if a.size == 1:
        return _scalar_rule(a, b, hints, quantity)
    if not np.any(a) and np.any(b):
        return Diagnosis(
            f"zero everywhere, expected non-zero values (max |expected| {np.abs(b).max():.3g})",
            f"すべて 0。期待値は 0 ではない（期待値の最大絶対値 {np.abs(b).max():.3g}）")
    wrong_zero = (a == 0) & ~_elementwise_close(a, b, tol)
    if wrong_zero.any() and _close(np.where(wrong_zero, b, a), b, tol):
        return Diagnosis(
            f"zero where it should not be: {int(wrong_zero.sum())} of {a.size} "
            f"elements are 0 and are the only ones wrong",
            f"0 であってはならない所が 0: {a.size} 要素のうち {int(wrong_zero.sum())} 個が 0 で、"
            f"違うのはそこだけ")
    if _close(-a, b, tol):
        return Diagnosis("sign flipped: the negative of the expected value",
                         "符号が逆: 期待値の符号を反転した値")
    if a.ndim == 2 and a.shape[0] == a.shape[1] and _close(a.T, b, tol):
        return Diagnosis("transposed: its transpose matches", "転置になっている: 転置すると一致する")
    factor = _factor_rule(a, b, tol, hints)
    if factor:
        return factor
    block = block_rules(a, b, tol, hints, quantity)
    if block:
        return _as_diagnosis(block)
    return _worst_elements(a, b, tol)


def _factor_rule(a, b, tol, hints):
    """actual = c x expected, said only where enough elements share the ratio."""
    dot = float((b * b).sum())
    if dot <= 0:
        return None
    c = float((a * b).sum()) / dot
    if c == 0 or abs(c - 1) <= 1e-6 or not _close(a, c * b, tol):
        return None
    significant = int(np.sum(np.abs(b) > tol.atol + 1e-3 * np.abs(b).max()))
    named = _named_factor(c, hints)
    if significant < FACTOR_MIN_ELEMENTS and not (named and significant >= 2):
        return None
    en = f"off by a constant factor: actual = {c:.6g} x expected"
    ja = f"定数倍ずれている: 実際の値 = {c:.6g} × 期待値"
    if named:
        en += f" (a factor of {named[0]})"
        ja += f"（{named[1]} 倍）"
    return Diagnosis(en, ja)


def _as_diagnosis(found):
    """diagnose_recurrent's rules return a Diagnosis, an (English, Japanese) pair or a str."""
    if isinstance(found, Diagnosis):
        return found
    if isinstance(found, tuple):
        return Diagnosis(*found)
    return Diagnosis(found, _recurrent_ja(found))


def _recurrent_ja(text):
    """Japanese for the recurrent rules that give only English."""
    if text.startswith("right at the last time step"):
        return ("最後の時刻では正しいが、それより前の時刻で違う: 時刻 t+1 から逆伝播してくる"
                "勾配が落ちているか間違っている")
    if text.startswith("wrong only in the gate block"):
        return "ゲートのブロックの一部だけが違う: " + text
    if text.startswith("gate blocks in the wrong order"):
        return "ゲートのブロックの並び順が違う: " + text
    return text


def _digits(x, y):
    """Significant digits that show where x and y differ (6, up to 17)."""
    with np.errstate(all="ignore"):
        rel = abs(x - y) / max(abs(x), abs(y))
    if not np.isfinite(rel) or rel == 0:
        return 6
    return int(min(17, max(6, 2 + np.ceil(-np.log10(rel)))))


def _worst_elements(a, b, tol, count=3):
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.abs(a - b) / (tol.atol + tol.rtol * np.abs(b))
    err = np.where(np.isnan(err), np.inf, err).ravel()
    parts, parts_ja = [], []
    for flat in np.argsort(-err)[:count]:
        index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
        x, y = a[index], b[index]
        digits = _digits(x, y)
        parts.append(f"at {index} expected {y:.{digits}g}, got {x:.{digits}g}")
        parts_ja.append(f"{index} で期待値 {y:.{digits}g}、値 {x:.{digits}g}")
    return Diagnosis("worst elements: " + "; ".join(parts),
                     "ずれの大きい要素: " + "; ".join(parts_ja))


def diagnose(actual, expected, tol, hints, quantity="", dtype=None):
    """The structural diagnosis in English (explain() gives both languages)."""
    return explain(actual, expected, tol, hints, quantity, dtype).text
