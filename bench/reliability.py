"""Is a field's confidence the probability that it is right? Reliability table and expected
calibration error (ECE) per kind, from a `bench/devset.py --json` file, with an isotonic
calibration fitted on one half of the scans and measured on the other.

    python bench/devset.py --json /tmp/devset.json
    python bench/reliability.py /tmp/devset.json [--target 0.005]

Only filled fields without a blocking reason count (those go to review whatever their confidence),
scored by the truth's kind. The scans are split by number (odd / even): a calibration map is
fitted per kind on one half (pool-adjacent-violators on the confidence), applied to the other,
and the two held-out halves are pooled for the table. Printed per kind: fields, ECE before and
after, and the lowest calibrated threshold whose held-out error among accepted fields stays at or
under --target, with the share of fields it would accept. 60 scans are few: read the thresholds as
a direction, not as settings.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001)


def isotonic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool-adjacent-violators fit of y on x (non-decreasing); returns knots (x, fitted y)."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order].astype(float)
    vals, wts, lo = list(ys), [1.0] * len(ys), list(range(len(ys)))
    i = 0
    while i < len(vals) - 1:
        if vals[i] > vals[i + 1]:
            w = wts[i] + wts[i + 1]
            vals[i] = (vals[i] * wts[i] + vals[i + 1] * wts[i + 1]) / w
            wts[i] = w
            del vals[i + 1], wts[i + 1], lo[i + 1]
            i = max(0, i - 1)
        else:
            i += 1
    knots_x = np.array([xs[j] for j in lo])
    return knots_x, np.array(vals)


def apply(knots: tuple[np.ndarray, np.ndarray], x: np.ndarray) -> np.ndarray:
    kx, ky = knots
    if len(kx) == 0:
        return x
    idx = np.searchsorted(kx, x, side="right") - 1
    return ky[np.clip(idx, 0, len(ky) - 1)]


def ece(p: np.ndarray, y: np.ndarray) -> float:
    if len(p) == 0:
        return 0.0
    total = 0.0
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        m = (p >= lo) & (p < hi)
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return float(total)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", type=Path, help="bench/devset.py --json output")
    ap.add_argument("--target", type=float, default=0.005, help="wrong share allowed among accepted")
    args = ap.parse_args()
    rows = [
        r
        for r in json.loads(args.json.read_text(encoding="utf-8"))
        if r["filled"] and not r["blocking"] and not r["review_always"]
    ]
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r)

    print(f"reliability on {args.json} (filled, non-blocked fields; held-out halves by scan number)\n")
    print(
        f"{'kind':<12} {'n':>5} {'ECE raw':>8} {'ECE cal':>8} {'thr (cal)':>9} {'accepted':>9} {'wrong|acc':>9}"
    )
    pooled_raw, pooled_cal, pooled_y = [], [], []
    for kind in sorted(by_kind):
        rs = by_kind[kind]
        conf = np.array([r["confidence"] for r in rs], float)
        right = np.array([r["right"] for r in rs], float)
        half = np.array([int(r["doc"].split("_")[-1]) % 2 for r in rs])
        cal = np.zeros_like(conf)
        for h in (0, 1):
            fit, test = half != h, half == h
            knots = isotonic(conf[fit], right[fit]) if fit.any() else (np.array([]), np.array([]))
            cal[test] = apply(knots, conf[test])
        pooled_raw.append(conf)
        pooled_cal.append(cal)
        pooled_y.append(right)
        thr, acc_share, wrong = 1.01, 0.0, 0.0
        for t in sorted(set(np.round(cal, 4))):
            m = cal >= t
            err = 1 - right[m].mean()
            if err <= args.target:
                thr, acc_share, wrong = t, m.mean(), err
                break
        print(
            f"{kind:<12} {len(rs):>5} {ece(conf, right):>8.3f} {ece(cal, right):>8.3f} "
            f"{thr:>9.3f} {acc_share:>9.1%} {wrong:>9.2%}"
        )
    raw, cal, y = (np.concatenate(a) for a in (pooled_raw, pooled_cal, pooled_y))
    print(f"{'ALL':<12} {len(y):>5} {ece(raw, y):>8.3f} {ece(cal, y):>8.3f}")

    print("\nreliability (all kinds, held out): confidence bin, fields, mean confidence, share right")
    print(
        f"{'bin':<12} {'raw n':>6} {'raw conf':>8} {'right':>7}   {'cal n':>6} {'cal conf':>8} {'right':>7}"
    )
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        mr, mc = (raw >= lo) & (raw < hi), (cal >= lo) & (cal < hi)
        label = f"[{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}"
        fmt = lambda m, p: (  # noqa: E731
            f"{m.sum():>6} {p[m].mean():>8.3f} {y[m].mean():>7.1%}" if m.any() else f"{0:>6} {'':>8} {'':>7}"
        )
        print(f"{label:<12} {fmt(mr, raw)}   {fmt(mc, cal)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
