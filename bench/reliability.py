"""Is a field's confidence the probability that it is right? Reliability tables per kind, expected
calibration error (ECE) before and after calibration, and what the thresholds accept, on pages the
calibration never saw.

    python bench/accuracy.py --n 100 --seed 20261126 --json /tmp/acc.json
    python bench/devset.py --json /tmp/dev.json
    python bench/reliability.py /tmp/acc.json /tmp/dev.json [--kinds] [--groups] [--with OTHER.json]

Reads per-field rows from either bench's --json (each row has the raw confidence, the reader's
own score, and the calibrated one the product stored and routed on). Fields with a blocking issue
or `review: always/double` are left out of the tables (they go to a person whatever their
confidence) but counted in the auto-accepted share. For each file: a table per kind (--kinds) or
pooled over kinds, by calibrated-confidence bin: fields, mean confidence, share right; then per
kind ECE of the raw and the calibrated confidence, share auto-accepted and wrong among accepted
(as routed). ECE is the field-weighted gap between mean confidence and share right over the bins.
--groups adds the same figures per evidence group (pipeline/fields/evidence.py). --with FILE
(repeatable) also shows what another calibration file (an older calibration.json, from git show) would have
stored and accepted on the same readings: the raw confidences do not depend on the calibration, so
one run of each bench gives before and after (a template's own `threshold` is not seen here).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.fields.calibration import from_dict  # noqa: E402

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
                "group": r.get("evidence") or r.get("our_kind", r["kind"]),
                "empty": bool(r.get("empty_reading", r.get("raw") == "")),
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


def recalibrated(rows: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """`rows` as calibration file `path` would have stored and routed them."""
    cal = from_dict(json.loads(path.read_text(encoding="utf-8")))
    out = []
    for r in rows:
        p = cal.probability(r["kind"], r["raw"], r["empty"], r["group"])
        out.append({**r, "cal": p, "accepted": r["judged"] and p >= cal.thresholds.get(r["kind"], 0.9)})
    return out


def summary(rows: list[dict[str, Any]], key: str) -> None:
    """ECE raw / calibrated, auto-accepted and wrong among accepted, per value of `key`."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[r[key]].append(r)
    print(f"{key:<28}{'n':>6}{'ECE raw':>9}{'ECE cal':>9}{'auto-acc':>10}{'wrong|acc':>11}")
    for name in [*sorted(by), "ALL"]:
        rs = rows if name == "ALL" else by[name]
        js = [r for r in rs if r["judged"]]
        y = np.array([r["right"] for r in js], float)
        raw = np.array([r["raw"] for r in js], float)
        cal = np.array([r["cal"] for r in js], float)
        acc = [r for r in rs if r["accepted"]]
        wrong = sum(not r["right"] for r in acc)
        print(
            f"{name:<28}{len(js):>6}{ece(raw, y):>9.3f}{ece(cal, y):>9.3f}"
            f"{len(acc) / max(1, len(rs)):>10.1%}{wrong / max(1, len(acc)):>11.2%}"
        )


def report(rows: list[dict[str, Any]], kinds: bool, groups: bool) -> None:
    judged = [r for r in rows if r["judged"]]
    summary(rows, "kind")
    if groups:
        print()
        summary(rows, "group")
    print()
    table(judged, "all kinds")
    if kinds:
        for kind in sorted({r["kind"] for r in rows}):
            table([r for r in judged if r["kind"] == kind], kind)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", type=Path, nargs="+", help="bench/accuracy.py or bench/devset.py --json output")
    ap.add_argument("--kinds", action="store_true", help="a reliability table for every kind")
    ap.add_argument("--groups", action="store_true", help="figures per evidence group too")
    ap.add_argument(
        "--with",
        dest="files",
        type=Path,
        action="append",
        default=[],
        help="a calibration file to compare with",
    )
    args = ap.parse_args()
    for path in args.json:
        src, rows = load_rows(path)
        judged = [r for r in rows if r["judged"]]
        print(
            f"\n{src} ({path}): {len(rows)} fields, {len(judged)} without a blocking issue or review flag\n"
        )
        for other in args.files:
            print(f"-- as {other} would have calibrated and routed them\n")
            report(recalibrated(rows, other), args.kinds, args.groups)
            print()
        print("-- as run\n")
        report(rows, args.kinds, args.groups)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
