"""The tolerance policy: one table per dtype and witness, plus per-op overrides.

A check passes when every element satisfies |actual - expected| <= atol + rtol * |expected|.

Why these numbers:
- torch and jax in float64 compute the same expression as the answer key in a
  different order; they agree to ~1e-14. rtol = atol = 1e-7 (torch.testing's
  float64 default) is far above rounding and far below any real mistake.
- In float32 each side rounds at ~6e-8 per operation and the errors of long
  sums, matrix products and recurrences grow with their length: rtol 1e-4 and
  atol 1e-5 leave room for about a thousand ulps of accumulated rounding.
- Finite differences in float64 (central, step 1e-5 * max(1, |x|)) carry a
  truncation error ~h^2 |f'''| / 6 and a rounding error ~1e-16 |L| / h, both
  below 1e-8 for the cases' O(1)-O(100) magnitudes: rtol 1e-6, atol 1e-7.
  In float32 the float32 rounding of the implementation dominates, as above.
- Golden values are worked examples: they must match to the last few digits.
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
