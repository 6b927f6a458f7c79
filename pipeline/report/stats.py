"""Small statistics for the report, written from their formulas (no SciPy/statsmodels needed)."""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_interval(errors: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion errors/n (Wilson 1927; Brown, Cai & DasGupta 2001).

    Unlike the normal approximation it stays inside [0, 1] and gives a non-zero upper bound when no
    error was seen, which is the usual case for a QA sample of auto-accepted fields. n == 0 gives
    (nan, nan): with nothing checked there is no rate, not a zero one.
    """
    if n <= 0:
        return math.nan, math.nan
    if not 0 <= errors <= n:
        raise ValueError(f"errors must be between 0 and n ({errors} of {n})")
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = errors / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
