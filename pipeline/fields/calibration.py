"""Calibrated confidence: turn a field's raw confidence into the probability that it is right.

The readers score a field on their own scales (OCR: its least sure character; marks: distance
from an uncertain ink band), and how often a field at a given score is right differs by kind. A
committed data file (`calibration.json`, written by `tools/fit_calibration.py` from pages of our
own generator, never from the development set) holds one monotone map per kind, and one per
evidence group (pipeline/fields/evidence.py: kind/role/evidence/length, e.g. an address whose
postal code names its town) that the fit saw enough fields of; a field takes the map of the most
specific group on its path, falling back to its kind's. Each map: knots (raw
confidence → share right) from an isotonic (pool-adjacent-violators) fit, each knot standing on
at least a floor of fields. Between knots the map is linear, above the last flat, and under the
first it falls linearly to 0 at a raw 0 (no evidence there, so no claim), so it never decreases. An empty OCR reading (nothing written, raw confidence 1.0 by construction) has its own
figure where the fit saw enough of them, never above what its raw confidence maps to. A kind the file does not know keeps its raw confidence.
A page that held black and white only (a fax, a scanner's 1-bit mode: `PageResult.bilevel`) has a
second map per kind (`bilevel` in the file), fitted on such pages of ours, from that probability to
the share of their fields right; a field there takes the lower of the two.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("calibration.json")
MARK_KINDS = frozenset({"choice", "multi_choice", "checkbox", "signature"})


def path(group: str) -> list[str]:
    """An evidence group and its ancestors, most specific first: a/b/c → [a/b/c, a/b, a]."""
    parts = group.split("/")
    return ["/".join(parts[:k]) for k in range(len(parts), 0, -1)]


@dataclass(frozen=True)
class Curve:
    """One kind's map: knots `xs` (raw, increasing) to `ys` (probability, non-decreasing)."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    empty: float | None = None  # probability right of an empty OCR reading, when fitted

    def __call__(self, raw: float) -> float:
        xs, ys = self.xs, self.ys
        if not xs:
            return raw
        if raw <= xs[0]:  # under the fitted range nothing vouches for the reading: fall to 0 at 0
            return ys[0] * max(0.0, raw) / xs[0] if xs[0] > 0 else ys[0]
        if raw >= xs[-1]:
            return ys[-1]
        i = bisect.bisect_right(xs, raw)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 + (y1 - y0) * (raw - x0) / (x1 - x0)


@dataclass(frozen=True)
class Calibration:
    curves: dict[str, Curve]
    thresholds: dict[str, float]
    meta: dict[str, Any]
    # Per kind, a map from the probability above to the share right on pages that held black and
    # white only (a fax, a scanner's 1-bit mode), where readings are surer than they are right.
    bilevel: dict[str, Curve] = field(default_factory=dict)

    def curve_for(self, kind: str, group: str = "") -> Curve | None:
        """The map of the most specific fitted group on `group`'s path (evidence.py: a/b/c, then
        a/b, then a), else the kind's own."""
        for node in path(group) if group else []:
            curve = self.curves.get(node)
            if curve is not None:
                return curve
        return self.curves.get(kind)

    def probability(
        self, kind: str, raw: float, empty: bool = False, group: str = "", bilevel: bool = False
    ) -> float:
        """The probability that a field of `kind` in evidence `group` read at `raw` confidence is
        right; on a black-and-white page (`bilevel`), as such pages' fields at that figure were
        right, never more."""
        p = self._probability(kind, raw, empty, group)
        curve = self.bilevel.get(kind) if bilevel else None
        return p if curve is None else min(p, curve(p))

    def _probability(self, kind: str, raw: float, empty: bool, group: str) -> float:
        curve = self.curve_for(kind, group)
        if curve is None:
            return raw
        if empty and kind not in MARK_KINDS and curve.empty is not None:
            # Nothing read scores 1.0 by construction; a pass that doubted the blank (ink left
            # unread, say) lowered it, and that doubt stands.
            return min(curve.empty, curve(raw))
        return curve(raw)


def _curves(maps: dict[str, Any]) -> dict[str, Curve]:
    curves = {}
    for kind, c in maps.items():
        xs, ys = tuple(float(v) for v in c["x"]), tuple(float(v) for v in c["y"])
        if len(xs) != len(ys) or any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
            raise ValueError(f"calibration for {kind}: knots must be paired and increasing")
        if any(b < a for a, b in zip(ys, ys[1:], strict=False)) or any(not 0 <= y <= 1 for y in ys):
            raise ValueError(f"calibration for {kind}: probabilities must be in [0, 1] and non-decreasing")
        curves[kind] = Curve(xs, ys, c.get("empty"))
    return curves


def from_dict(d: dict[str, Any]) -> Calibration:
    return Calibration(
        _curves(d["kinds"]),
        {k: float(v) for k, v in d.get("thresholds", {}).items()},
        d.get("meta", {}),
        _curves(d.get("bilevel", {})),
    )


@lru_cache(maxsize=4)
def load(path: Path = DATA_FILE) -> Calibration:
    """The calibration in `path` (the committed file by default), read once per process."""
    return from_dict(json.loads(path.read_text(encoding="utf-8")))


def calibrated(kind: str, raw: float, empty: bool = False, group: str = "", bilevel: bool = False) -> float:
    """`raw` confidence of a field of `kind` (in evidence `group`, see evidence.py; on a
    black-and-white page when `bilevel`) as the probability that the reading is right."""
    return load().probability(kind, raw, empty, group, bilevel)


def is_empty_reading(kind: str, raw: Any) -> bool:
    """An OCR field with nothing read (marks have their own scale for "not marked")."""
    return kind not in MARK_KINDS and raw in (None, "")


# -- fitting (used by tools/fit_calibration.py and bench/reliability.py) --------------------------
def pav(xs: Sequence[float], ys: Sequence[float], min_n: int = 1) -> list[tuple[float, float, int, int]]:
    """Isotonic fit of y (0/1) on x by pool-adjacent-violators, with every block holding at least
    `min_n` points. A small block borrows the nearest points of its neighbour rather than being
    swallowed whole, so a few wrong readings at low confidence keep a knot of their own (pooled
    with enough right ones to stand on); violators are pooled again after each move.
    Returns blocks (mean x, share of y, points, right) in increasing x."""
    pts = sorted(zip(xs, ys, strict=True))
    # Equal x values form one group: the map cannot tell them apart.
    groups: list[list[float]] = []  # [sum x, sum y, n]
    last = None
    for x, y in pts:
        if x == last:
            groups[-1][0] += x
            groups[-1][1] += y
            groups[-1][2] += 1
        else:
            groups.append([x, float(y), 1])
        last = x
    blocks: list[list[list[float]]] = [[g] for g in groups]  # each block: its groups, in order

    def tot(b: list[list[float]]) -> tuple[float, float, float]:
        return sum(g[0] for g in b), sum(g[1] for g in b), sum(g[2] for g in b)

    def share(b: list[list[float]]) -> float:
        _, sy, n = tot(b)
        return sy / n

    def pool(bs: list[list[list[float]]]) -> list[list[list[float]]]:
        out: list[list[list[float]]] = []
        for b in bs:
            out.append(b)
            while len(out) > 1 and share(out[-2]) >= share(out[-1]):
                top = out.pop()
                out[-1] = out[-1] + top
        return out

    blocks = pool(blocks)
    for _ in range(10 * len(groups) + 10):
        small = [i for i, b in enumerate(blocks) if tot(b)[2] < min_n]
        if not small or len(blocks) == 1:
            break
        i = min(small, key=lambda j: tot(blocks[j])[2])
        if i == 0:
            j = 1
        elif i == len(blocks) - 1:
            j = i - 1
        else:  # borrow from the neighbour closer in share right
            sh = share(blocks[i])
            j = i - 1 if sh - share(blocks[i - 1]) <= share(blocks[i + 1]) - sh else i + 1
        while tot(blocks[i])[2] < min_n and blocks[j]:
            if j > i:
                blocks[i].append(blocks[j].pop(0))
            else:
                blocks[i].insert(0, blocks[j].pop())
        if not blocks[j] or tot(blocks[j])[2] < min_n:  # too little left: the two become one
            a, b = sorted((i, j))
            blocks[a] = blocks[a] + blocks[b]
            del blocks[b]
        blocks = pool([b for b in blocks if b])
    out = []
    for b in blocks:
        sx, sy, n = tot(b)
        out.append((sx / n, sy / n, int(n), int(round(sy))))
    return out


def shrunk(right: int, n: int) -> float:
    """Share right with half a field of doubt each way, so a block of 40 all right reads 0.988,
    not 1.0: a probability of 1 would claim more than 40 fields can show."""
    return (right + 0.5) / (n + 1)
