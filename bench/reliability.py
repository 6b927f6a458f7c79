"""Is a field's confidence the probability that it is right? Reliability tables per kind, expected
calibration error (ECE) before and after calibration, and what the thresholds accept, on pages the
calibration never saw.

    python bench/accuracy.py --n 100 --seed 20261126 --json /tmp/acc.json
    python bench/devset.py --json /tmp/dev.json
    python bench/reliability.py /tmp/acc.json /tmp/dev.json [--kinds]

Reads per-field rows from either bench's --json (each row has the raw confidence, the reader's
own score, and the calibrated one the product stored and routed on). Fields with a blocking issue
or `review: always/double` are left out of the tables (they go to a person whatever their
confidence) but counted in the auto-accepted share. For each file: a table per kind (--kinds) or
pooled over kinds, by calibrated-confidence bin: fields, mean confidence, share right; then per
kind ECE of the raw and the calibrated confidence, share auto-accepted and wrong among accepted
(as routed). ECE is the field-weighted gap between mean confidence and share right over the bins.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0001)


def ece(p: np.ndarray, y: np.ndarray) -> float:
    if len(p) == 0:
        return 0.0
    total = 0.0
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        m = (p >= lo) & (p < hi)
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return float(total)


def load_rows(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """(which bench, rows with kind / raw / cal / right / accepted / judged) from a --json file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):  # bench/accuracy.py
        src, rows = "generator", data.get("fields")
        if rows is None:
            raise SystemExit(f"{path}: no per-field rows; re-run bench/accuracy.py --json")
    else:  # bench/devset.py: identified pages' fields only
        src, rows = "devset", [r for r in data if "field" in r]
    out = []
    for r in rows:
        if r.get("raw_confidence") is None:
            raise SystemExit(f"{path}: rows lack raw_confidence; re-run the bench on this branch")
        out.append(
            {
                "kind": r.get("our_kind", r["kind"]),
                "raw": float(r["raw_confidence"]),
                "cal": float(r["confidence"]),
                "right": bool(r["right"]),
                "accepted": bool(r["accepted"]),
                "judged": not r["blocking"] and not r["review_always"],
            }
        )
    return src, out


def table(rows: list[dict[str, Any]], title: str) -> None:
    p = np.array([r["cal"] for r in rows], float)
    y = np.array([r["right"] for r in rows], float)
    print(f"  {title}: {'bin':<14}{'n':>6}{'mean conf':>10}{'right':>8}")
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        m = (p >= lo) & (p < hi)
        if m.any():
            label = f"[{lo:.3f}, {min(hi, 1.0):.3f}{']' if hi > 1 else ')'}"
            print(f"  {'':<{len(title) + 1}} {label:<14}{m.sum():>6}{p[m].mean():>10.3f}{y[m].mean():>8.1%}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", type=Path, nargs="+", help="bench/accuracy.py or bench/devset.py --json output")
    ap.add_argument("--kinds", action="store_true", help="a reliability table for every kind")
    args = ap.parse_args()
    for path in args.json:
        src, rows = load_rows(path)
        judged = [r for r in rows if r["judged"]]
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_kind[r["kind"]].append(r)
        print(
            f"\n{src} ({path}): {len(rows)} fields, {len(judged)} without a blocking issue or review flag\n"
        )
        print(f"{'kind':<14}{'n':>6}{'ECE raw':>9}{'ECE cal':>9}{'auto-acc':>10}{'wrong|acc':>11}")
        for kind in [*sorted(by_kind), "ALL"]:
            rs = rows if kind == "ALL" else by_kind[kind]
            js = [r for r in rs if r["judged"]]
            y = np.array([r["right"] for r in js], float)
            raw = np.array([r["raw"] for r in js], float)
            cal = np.array([r["cal"] for r in js], float)
            acc = [r for r in rs if r["accepted"]]
            wrong = sum(not r["right"] for r in acc)
            print(
                f"{kind:<14}{len(js):>6}{ece(raw, y):>9.3f}{ece(cal, y):>9.3f}"
                f"{len(acc) / max(1, len(rs)):>10.1%}{wrong / max(1, len(acc)):>11.2%}"
            )
        print()
        table(judged, "all kinds")
        if args.kinds:
            for kind in sorted(by_kind):
                table([r for r in by_kind[kind] if r["judged"]], kind)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
