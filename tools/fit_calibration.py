"""Recipe for `pipeline/fields/calibration.json`: confidence calibration per kind and evidence
group, and the threshold.

    .venv/bin/python -m tools.fit_calibration [--n 350] [--seed 7301] [--dir /tmp/fitcal]

Re-run it whenever a reader changes (its raw confidences shift). It generates pages with our
generator only (`samples.generate`, the SETS below: the nursery form on the mixed profile with the
training fonts, the nursery form on the hard profile with the held-out fonts, two other forms,
`childcare_status` and the claim form `child_allowance`, and the nursery form once more with its
facility list dropped, so facility names are read open as on a city's form that lists none;
seeds --seed, --seed + 1, ...; never 20261126, which the accuracy bench measures on; the
development set and its form are never read). Every page is read by the whole pipeline and
each field's raw confidence (the reader's own score), its evidence group (pipeline/fields/
evidence.py) and whether the reading is right are kept. Pages are split by
number: two of three fit the maps, the third chooses the threshold.

* Map, per kind and per evidence group (each node of a group's path kind/role/evidence/length)
  with at least --min-group read fields: isotonic regression (pool-adjacent-violators) of
  right/wrong on the raw confidence, over fields with no blocking issue, every knot on at least
  --min-bin fields, each knot's share shrunk by half a field each way ((right + 0.5) / (n + 1)).
  A first block of at least twice --min-bin fields gets a knot more, at the mean raw confidence
  of its lowest --min-bin fields and their own share (never above the block's), so a group as
  right at its low end as above is not marked down under its first block's mean.
  An empty OCR reading gets its own figure when --min-bin of them were seen. A field whose group
  has no map of its own takes its nearest fitted ancestor's (in the end its kind's).
* Threshold: on the held-out third, the lowest calibrated confidence at which the share wrong
  among the fields it accepts (no blocking issue, confidence at or over it; all kinds together)
  is at most --target, never under --floor. Every kind gets that cut: once confidences are
  probabilities, taking the surest fields first whatever their kind accepts the most for a given
  error; but a kind whose own accepted fields are more than --kind-limit (1%) wrong at it gets the
  lowest higher cut that keeps it within (a clerk trusts a kind by its own record). Per-kind
  figures at the cuts are printed; a kind too rare to judge keeps its old threshold.

The work is generating and reading the pages (about 2 CPU-seconds a page each, 490 pages: some
16 CPU-minutes, so 10-14 minutes on 2 idle cores; far longer on a shared loaded machine). --dir
keeps the pages and the rows (DIR/SET.rows.json, with the facts each group is computed from): a
second run only refits, in seconds, and recomputes the groups, so a change to evidence.py or to
--min-bin/--min-group/--target needs no reading.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import open_facilities  # noqa: E402
from bench.common import generate, load_gt, same  # noqa: E402
from pipeline.fields import calibration, evidence  # noqa: E402
from pipeline.fields.calibration import (  # noqa: E402
    DATA_FILE,
    MARK_KINDS,
    Calibration,
    Curve,
    from_dict,
    pav,
    shrunk,
)
from pipeline.forms.template import load_template  # noqa: E402
from pipeline.route import BILEVEL, blocking  # noqa: E402
from pipeline.run import Engine, process_file  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

# The pages fitted on: (name, share of --n, profile, fonts, form id in FORMS); set i uses
# seed --seed + i. The 'hard' profile and the held-out fonts are in so the maps are not fitted to
# the easy pages alone, and other forms so a group is not one form's quirk. Never the dev set's
# form (bench/forms/sakura_nursery), never its pages.
BUNDLED = ROOT / "templates_forms"
# Every form fitted on, by form id: its template folder. The sets below, the engine that reads
# them and the evidence groups' templates all come from this one list.
FORMS: dict[str, Path] = {
    "nursery_enrolment": BUNDLED / "nursery_enrolment",
    "childcare_status": ROOT / "bench" / "forms" / "childcare_status",
    # A claim form unlike the nursery ones (landscape, printed words to circle, a table of
    # children, a bank account), so a map is not the application forms' quirk.
    "child_allowance": ROOT / "bench" / "forms" / "child_allowance",
}
SETS: tuple[tuple[str, float, str, str, str], ...] = (
    ("nursery-mixed-train", 0.4, "mixed", "train", "nursery_enrolment"),
    ("nursery-hard-holdout", 0.2, "hard", "holdout", "nursery_enrolment"),
    ("status-mixed-train", 0.2, "mixed", "train", "childcare_status"),
    ("allowance-mixed-train", 0.2, "mixed", "train", "child_allowance"),
    ("nursery-open-train", 0.4, "mixed", "train", "nursery_enrolment"),
)
# Sets whose form is filled and read without its facility list (`bench.accuracy.open_facilities`),
# as a city's form that lists none: its facility names are the generator's own, read open, so the
# facility groups (evidence.py, `facility/named`) have fields to be fitted on.
OPEN_FACILITY_SETS = frozenset({"nursery-open-train"})


def _engine(folder: Path) -> Engine:
    """The pipeline with the bundled forms and, when `folder` is another, every form of FORMS, a
    form of `folder` in place of FORMS' own (an open-facility copy)."""
    templates = BUNDLED
    if folder.resolve() != BUNDLED.resolve():
        templates = Path(tempfile.mkdtemp(prefix="shinsei-fitcal-forms-"))
        for form, src in FORMS.items():
            own = folder / form
            (templates / src.name).symlink_to((own if own.is_dir() else src).resolve())
    return Engine.load(Settings(reference_date=dt.date(2026, 11, 26), templates_dir=templates))


# How many fields' worth of its parent's figure a group's map leans on (fit_curve).
PRIOR = 20.0

# Where a kind is too rare in the held-out pages to choose a threshold: the thresholds the
# project used before calibration, which were on the raw scale and so are at least as strict.
FALLBACK = {
    "choice": 0.5,
    "multi_choice": 0.5,
    "checkbox": 0.5,
    "signature": 0.5,
    "text_ja": 0.98,
    "date_wareki": 0.98,
    "phone": 0.97,
    "kana": 0.93,
    "my_number": 0.9,
    "postal_code": 0.9,
    "number": 0.95,
}


def collect(files: list[Path], engine: Engine, first_doc: int = 1) -> list[dict[str, Any]]:
    """One row per field of every identified page: kind, raw confidence, empty, blocking, right,
    and what the evidence groups are computed from (raw text, value, issue codes, the page's
    other fields), so a change to the groups refits without reading the pages again."""
    rows = []
    for doc_no, file in enumerate(files, first_doc):
        gt = load_gt(file)
        result = process_file(file, engine).result
        for gpage in gt["pages"]:
            page = next((p for p in result.pages if p.index == gpage["page"]), None)
            if page is None or page.form_id != gt["form_id"]:
                continue
            facts = {
                f.name: [f.raw, f.value, sorted({i.code for i in f.issues}), f.digit_agreement]
                for f in page.fields
            }
            for f in page.fields:
                if f.name not in gpage["values"]:
                    continue
                rows.append(
                    {
                        "doc": doc_no,
                        "form": page.form_id,
                        "name": f.name,
                        "kind": f.kind,
                        "raw": round(float(f.raw_confidence if f.raw_confidence is not None else 0.0), 6),
                        "empty": f.kind not in MARK_KINDS and f.raw == "",
                        "blocking": blocking(f.issues),
                        "double": f.double_entry,
                        "right": same(f.value, gpage["values"][f.name]),
                        "group": f.evidence,
                        "page_no": gpage["page"],
                        "page": facts,
                        "bilevel": page.bilevel,
                        "dpi": gpage.get("dpi"),  # not in the map; kept to check it need not be
                    }
                )
    return rows


def regroup(rows: list[dict[str, Any]]) -> None:
    """Each row's evidence group computed again from the facts kept with it, so a change to
    pipeline/fields/evidence.py refits from the cached rows without reading the pages again."""
    tpls = {(t.form_id, False): t for t in map(load_template, FORMS.values())}
    for form in {s[4] for s in SETS if s[0] in OPEN_FACILITY_SETS}:
        tpls[(form, True)] = load_template(open_facilities(FORMS[form].parent, form) / form)
    cache: dict[tuple[int, int], dict[str, str]] = {}
    for r in rows:
        key = (r["doc"], r["page_no"])
        if key not in cache:
            facts = {n: (v[0], v[1], set(v[2]), v[3] if len(v) > 3 else None) for n, v in r["page"].items()}
            cache[key] = evidence.groups(tpls[(r["form"], bool(r.get("open")))], facts)
        r["group"] = cache[key][r["name"]]


def leaned(right: int, n: int, p_parent: float, prior: float) -> float:
    """Share right of a group's block, with `prior` fields at its parent's probability and, as in
    `shrunk`, half a field of doubt each way (the parent's fields include the group's own, so the
    prior alone would let each level of a path claim a little more than the last)."""
    return (right + 0.5 + prior * p_parent) / (n + 1 + prior)


def fit_curve(
    rs: list[dict[str, Any]], min_bin: int, parent: Curve | None = None, prior: float = 0.0
) -> dict[str, Any]:
    """Knots of one monotone map, and the empty-reading figure where there is one. A group's map
    leans on its parent's (`prior` pseudo-fields at the parent's probability at each knot), so a
    small group that reads like its parent keeps the parent's figure rather than falling towards
    one half, and one that reads worse shows it."""
    read = [r for r in rs if not r["empty"]]
    # An empty reading scores 1.0 unless a pass doubted it (ink left unread); a doubted one gets
    # its raw score's probability as well (Calibration.probability takes the lower), so the empty
    # figure is that of the undoubted blanks: counting the doubted ones too would count the doubt
    # twice and mark down every blank of the kind.
    empty = [r for r in rs if r["empty"] and r["raw"] >= 1.0]
    blocks = pav([r["raw"] for r in read], [float(r["right"]) for r in read], min_bin) if read else []
    ys, top = [], 0.0
    for x, _, n, right in blocks:
        p = shrunk(right, n) if parent is None else leaned(right, n, parent(x), prior)
        top = max(top, p)  # the shrink may tip two equal shares; keep it monotone
        ys.append(round(top, 5))
    xs, ns = [round(b[0], 6) for b in blocks], [b[2] for b in blocks]
    # A knot sits at its block's mean raw confidence, so under the first one the map falls to 0
    # even where the fit saw plenty of fields: a group right all along (a postal code that names
    # the address's town: 398 of 398 on our pages, 43 of them under a raw 0.9) marked down its own
    # lower half. A first block big enough for two knots gets one more at the mean of its lowest
    # `min_bin` fields, at their own share (never above the block's): as right as the rest, the map
    # is flat down to there; less right, it falls sooner. (Its n counts fields of the first block
    # too: every knot still stands on `min_bin` of them.)
    if blocks and blocks[0][2] >= 2 * min_bin:
        lowest = sorted(read, key=lambda r: r["raw"])[:min_bin]
        lx = round(sum(r["raw"] for r in lowest) / min_bin, 6)
        right = sum(r["right"] for r in lowest)
        ly = shrunk(right, min_bin) if parent is None else leaned(right, min_bin, parent(lx), prior)
        if 0.0 < lx < xs[0]:
            xs, ys, ns = [lx, *xs], [round(min(ly, ys[0]), 5), *ys], [min_bin, *ns]
    c: dict[str, Any] = {"x": xs, "y": ys, "n": ns}
    if len(empty) >= min_bin:
        right = sum(r["right"] for r in empty)
        if parent is None or parent.empty is None:
            c["empty"] = round(shrunk(right, len(empty)), 5)
        else:
            c["empty"] = round(leaned(right, len(empty), parent.empty, prior), 5)
        c["n_empty"] = len(empty)
    elif parent is not None and parent.empty is not None:
        c["empty"] = parent.empty  # too few of its own: the parent's figure stands
    return c


def fit(
    rows: list[dict[str, Any]], min_bin: int, min_group: int | None = None, prior: float = PRIOR
) -> dict[str, dict[str, Any]]:
    """A map per kind, and per evidence group (and each ancestor on its path) holding at least
    `min_group` fields with something read, leaning on its nearest fitted ancestor's map with
    `prior` pseudo-fields; a field of a smaller group takes its nearest fitted ancestor's map
    (calibration.Calibration.curve_for)."""
    min_group = 3 * min_bin if min_group is None else min_group
    by_node: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["blocking"]:
            continue
        nodes = calibration.path(r.get("group") or r["kind"])
        for node in dict.fromkeys([*nodes, r["kind"]]):
            by_node[node].append(r)
    kinds = {r["kind"] for r in rows}
    out: dict[str, dict[str, Any]] = {}
    # Parents first (fewer parts), so each group's prior is already fitted.
    for node in sorted(by_node, key=lambda k: (k.count("/"), k)):
        rs = by_node[node]
        if node in kinds:
            out[node] = fit_curve(rs, min_bin)
        elif sum(not r["empty"] for r in rs) >= min_group:
            up = next(a for a in calibration.path(node)[1:] if a in out)
            parent = from_dict({"kinds": {up: out[up]}}).curves[up]
            out[node] = fit_curve(rs, min_bin, parent, prior)
    return dict(sorted(out.items()))


def fit_bilevel(
    rows: list[dict[str, Any]], cal: Calibration, min_bin: int, min_group: int, prior: float = PRIOR
) -> dict[str, dict[str, Any]]:
    """Per kind seen on enough black-and-white pages (`min_group` unblocked fields), a monotone
    map from the probability `cal` gives a field to the share of such fields right, leaning on
    the probability itself (`prior` pseudo-fields at it): a fax's or a 1-bit scan's writing has
    lost its grey edges, and its readings were surer than right (on our pages at 0.90-0.95, 81%
    right against 98% on grey pages)."""
    identity = Curve((0.0, 1.0), (0.0, 1.0))
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["blocking"] or not r.get("bilevel"):
            continue
        p = cal.probability(r["kind"], r["raw"], r["empty"], r["group"])
        by_kind[r["kind"]].append({"raw": p, "empty": False, "right": r["right"]})
    out = {}
    for kind, rs in sorted(by_kind.items()):
        if len(rs) >= min_group:
            c = fit_curve(rs, min_bin, identity, prior)
            out[kind] = {"x": c["x"], "y": c["y"], "n": c["n"]}
    return out


def choose(
    probs: list[tuple[float, bool]], target: float, floor: float, min_n: int
) -> tuple[float | None, float, float]:
    """Lowest threshold whose accepted fields are at most `target` wrong: (threshold, share
    accepted, wrong among accepted); threshold None when fewer than `min_n` fields were seen."""
    if len(probs) < min_n:
        return None, 0.0, 0.0
    rows = sorted(probs, key=lambda r: -r[0])
    best: tuple[float | None, float, float] = (1.0, 0.0, 0.0)
    wrong = 0
    for i, (p, ok) in enumerate(rows, 1):
        wrong += not ok
        # Only cut where the confidence changes, so ties are accepted or refused together.
        if (i == len(rows) or rows[i][0] < p) and wrong / i <= target and p >= floor:
            best = (p, i / len(rows), wrong / i)
    return best


def at_cut(probs: list[tuple[float, bool]], cut: float) -> tuple[float, float]:
    """(share of `probs` a cut accepts, share wrong among those it accepts)."""
    acc = [ok for p, ok in probs if p >= cut]
    return len(acc) / max(1, len(probs)), (len(acc) - sum(acc)) / max(1, len(acc))


# One wrong field among a kind's few accepted ones is no record of the kind's own: 83 held-out
# multi-choice fields with one wrong are 1.2% wrong, and refusing every multi-choice field for it
# (no cut above keeps within 1% once that one is at the top) would be the limit misjudging noise.
# A kind is held to its limit once KIND_MIN_WRONG of its accepted fields are wrong.
KIND_MIN_WRONG = 2


def kind_cut(probs: list[tuple[float, bool]], cut: float, limit: float, min_n: int) -> float:
    """A kind's own threshold: the common `cut`, unless the kind's fields it accepts are more than
    `limit` wrong (and at least KIND_MIN_WRONG of them), then the lowest cut above it that keeps
    them within and still accepts `min_n` of them (1.0: none does)."""
    accepted = [ok for p, ok in probs if p >= cut]
    wrong = len(accepted) - sum(accepted)
    if wrong < KIND_MIN_WRONG or wrong <= limit * len(accepted):
        return cut
    own, share, _ = choose(probs, limit, cut, min_n)
    # A cut that accepts a handful (17 of 142 addresses, none wrong) vouches for nothing: nought
    # wrong in 17 is no evidence of 1%. Under `min_n` accepted fields the role is never accepted.
    if own is None or share * len(probs) < min_n:
        return 1.0
    return stored_cut(own)


def stored_cut(cut: float | None) -> float:
    """The threshold as written to the file: rounded down, never up, since a cut rounded above
    the probability it was chosen at would refuse the very fields (a map's top knot, shared by
    many) it was chosen to accept; 1.0 (nothing) where no cut was found."""
    return 1.0 if cut is None else math.floor(cut * 1e5) / 1e5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=350, help="generated files in all (shared out as SETS says)")
    ap.add_argument("--seed", type=int, default=7301)
    ap.add_argument("--dir", type=Path, default=None, help="keep/reuse the generated pages and rows here")
    ap.add_argument("--min-bin", type=int, default=40, help="fewest fields behind one knot")
    ap.add_argument(
        "--min-group", type=int, default=None, help="fewest read fields for a group's own map (3 x --min-bin)"
    )
    ap.add_argument("--target", type=float, default=0.005, help="share wrong allowed among accepted")
    # A guard against a freak held-out third, not the rule: at 0.9 it was what chose the cut
    # (0.9006, with the held-out fields 0.41% wrong, under --target), so it held back fields the
    # 0.5% target allows. A field its map gives under 85% is never accepted, whatever the share.
    ap.add_argument("--floor", type=float, default=0.85, help="no threshold below this calibrated value")
    ap.add_argument(
        "--kind-limit", type=float, default=0.01, help="share wrong allowed among one kind's accepted fields"
    )
    # Our black-and-white pages are not the world's: read re-encoded as 1-bit TIFFs, the development
    # set's pages (bench/devset.py --encode bilevel) had 11 wrong fields accepted (1.05%; 8 dates)
    # at the 2026-12-02 fit's own cut 0.91912, 5 (0.49%) at 0.955, 3 (0.30%) at 0.96, none at
    # 0.975. A fit on our pages alone must not lower the cut under what pages of another hand were
    # seen to need (calibrating on the development set, as issue 12 allows; never training on it).
    ap.add_argument(
        "--bilevel-floor",
        type=float,
        default=0.96,
        help="no cut for black-and-white pages below this (checked on the development set, re-encoded)",
    )
    ap.add_argument("--out", type=Path, default=DATA_FILE)
    args = ap.parse_args()
    if 20261126 - len(SETS) < args.seed <= 20261126:
        raise SystemExit("seed 20261126 is the accuracy bench's: calibrate on a seed of its own")

    t0 = time.monotonic()
    work = args.dir or Path(f"/tmp/shinsei-fitcal-{args.seed}-{args.n}")
    rows, t_gen, t_read, n_files, first_doc = [], 0.0, 0.0, 0, 1
    for i, (name, share, profile, fonts, form) in enumerate(SETS):
        read_open = name in OPEN_FACILITY_SETS
        folder = open_facilities(FORMS[form].parent, form) if read_open else FORMS[form].parent
        t1 = time.monotonic()
        n = max(1, round(args.n * share))
        files = generate(
            work / name, n, args.seed + i, profile=profile, fonts=fonts, form=form, templates=folder
        )
        t_gen += time.monotonic() - t1
        t1 = time.monotonic()
        cache = work / f"{name}.rows.json"
        if cache.is_file() and json.loads(cache.read_text())["files"] == len(files):
            got = json.loads(cache.read_text())["rows"]
        else:
            got = collect(files, _engine(folder), first_doc)
            for r in got:
                r["open"] = read_open
            cache.write_text(json.dumps({"files": len(files), "rows": got}, ensure_ascii=False, default=str))
        rows += got
        t_read += time.monotonic() - t1
        n_files += len(files)
        first_doc += len(files)
    regroup(rows)

    fit_rows = [r for r in rows if r["doc"] % 3 != 0]
    held = [r for r in rows if r["doc"] % 3 == 0]
    min_group = 3 * args.min_bin if args.min_group is None else args.min_group
    kinds = fit(fit_rows, args.min_bin, min_group)
    bilevel = fit_bilevel(fit_rows, from_dict({"kinds": kinds}), args.min_bin, min_group)
    cal = from_dict({"kinds": kinds, "bilevel": bilevel})
    print(f"\n{n_files} files, {len(rows)} fields; fit on {len(fit_rows)}, thresholds on {len(held)}")
    # One cut on the probability for every kind: with honest probabilities, accepting the fields
    # most likely right first, whatever their kind, accepts the most for a given error overall.
    # Fields two people key (`review: double`, 個人番号) are never accepted on confidence, so
    # their misreads must not push the cut up for the fields that are (rows cached before this
    # was kept: 個人番号 is the one such kind in our templates).
    # Black-and-white pages (a fax, a 1-bit scan) get a cut of their own below, so the common one
    # is chosen on the other pages' fields: each population is held to --target on its own.
    judged = [
        (cal.probability(r["kind"], r["raw"], r["empty"], r["group"]), r["right"])
        for r in held
        if not r["blocking"] and not r.get("double", r["kind"] == "my_number") and not r.get("bilevel")
    ]
    # Named apart from the per-kind figures below: the file's meta once recorded the last role's
    # share accepted (0.8856) as the held-out third's (0.871).
    cut, held_share, held_err = choose(judged, args.target, args.floor, args.min_bin)
    cut = stored_cut(cut)
    print(
        f"threshold {cut} on held-out fields: accepts {held_share:.1%} of unblocked fields, {held_err:.2%} wrong"
    )
    bw = [
        (cal.probability(r["kind"], r["raw"], r["empty"], r["group"], True), r["right"])
        for r in held
        if r.get("bilevel") and not r["blocking"] and not r.get("double", r["kind"] == "my_number")
    ]
    bw_share, bw_err = at_cut(bw, cut)
    print(
        f"black-and-white pages ({', '.join(sorted(bilevel)) or 'no kind fitted'}): {len(bw)} held-out fields,"
        f" the cut accepts {bw_share:.1%}, {bw_err:.2%} wrong"
    )
    # Such pages are some fifth of the fields (1.01% wrong at a cut chosen over all pages, on the
    # 2026-11-30 fit): where they are over --target at the common cut, they get the lowest cut above
    # it that keeps them within (route.threshold_for takes the higher of it and the field's).
    bw_cut = None
    if bw_err > args.target:
        bw_cut = stored_cut(choose(bw, args.target, cut, args.min_bin)[0])
        bw_share, bw_err = at_cut(bw, bw_cut)
        print(f"  their own cut {bw_cut}: accepts {bw_share:.1%}, {bw_err:.2%} wrong")
    if max(cut, bw_cut or 0.0) < args.bilevel_floor:
        bw_cut = args.bilevel_floor
        bw_share, bw_err = at_cut(bw, bw_cut)
        print(f"  raised to --bilevel-floor {bw_cut}: accepts {bw_share:.1%}, {bw_err:.2%} wrong")
    print(f"{'kind':<14}{'knots':>6}{'held n':>8}{'cut':>9}{'accepts':>9}{'wrong|acc':>10}")
    thresholds: dict[str, float] = {}

    def held_probs(node: str) -> list[tuple[float, bool]]:
        """Probability right and truth of the held-out unblocked fields of a kind, or of a role
        (kind/role) by its fields' evidence groups."""
        kind = node.split("/")[0]
        return [
            (cal.probability(kind, r["raw"], r["empty"], r["group"], r.get("bilevel", False)), r["right"])
            for r in held
            if r["kind"] == kind
            and not r["blocking"]
            and (node == kind or (r["group"] + "/").startswith(node + "/"))
        ]

    for kind in sorted(set(FALLBACK) | {r["kind"] for r in rows}):
        probs = held_probs(kind)
        if kind not in kinds or len(probs) < args.min_bin:
            thresholds[kind] = FALLBACK.get(kind, 0.9)
            print(f"{kind:<14}{'':>6}{len(probs):>8}{'':>9}  (too few: kept {thresholds[kind]})")
            continue
        # The one cut keeps the share wrong over all kinds within --target, but one kind may pay for
        # the others (addresses, phones: 1.0-1.2% wrong at the cut); a clerk trusts a kind by its
        # own record, so a kind over --kind-limit gets the lowest cut above the common one that
        # keeps it there.
        thresholds[kind] = kind_cut(probs, cut, args.kind_limit, args.min_bin)
        share, wrong = at_cut(probs, thresholds[kind])
        print(
            f"{kind:<14}{len(kinds[kind]['x']):>6}{len(probs):>8}{thresholds[kind]:>9.5f}{share:>9.1%}{wrong:>10.2%}"
        )

    # Within a kind a role can pay for the others the same way (addresses, whose best maps say
    # some 7% wrong, among names and facility names that are almost all right): a role (kind/role,
    # evidence.py's second part) over --kind-limit at its kind's cut gets a cut of its own, which
    # route.threshold_for finds on the field's evidence group.
    for node in sorted({"/".join(r["group"].split("/")[:2]) for r in held if r["group"].count("/") >= 1}):
        kind = node.split("/")[0]
        if kind not in kinds or kind not in thresholds:
            continue
        probs = held_probs(node)
        if len(probs) < args.min_bin:
            continue
        own = kind_cut(probs, thresholds[kind], args.kind_limit, args.min_bin)
        if own > thresholds[kind]:
            thresholds[node] = own
            share, wrong = at_cut(probs, own)
            print(f"{node:<20}{len(probs):>8}{own:>9.5f}{share:>9.1%}{wrong:>10.2%}")

    if bw_cut is not None:
        thresholds[BILEVEL] = bw_cut
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    data = {
        "meta": {
            "recipe": "python -m tools.fit_calibration (see its docstring; docs/benchmarks.md, Calibration)",
            "what": "per kind: isotonic map raw confidence -> probability right (x -> y, n fields per "
            "knot, linear between knots); thresholds on that probability",
            "generator": {
                "seed": args.seed,
                "files": n_files,
                "sets": [
                    {"name": s[0], "share": s[1], "profile": s[2], "fonts": s[3], "form": s[4]} for s in SETS
                ],
            },
            "fields": len(rows),
            "min_bin": args.min_bin,
            "min_group": min_group,
            "target_wrong_among_accepted": args.target,
            "floor": args.floor,
            "held_out": {
                "cut": cut,
                "accepted": round(held_share, 4),
                "wrong_among_accepted": round(held_err, 4),
            },
            "held_out_bilevel": {
                "cut": bw_cut,
                "fields": len(bw),
                "accepted": round(bw_share, 4),
                "wrong_among_accepted": round(bw_err, 4),
            },
            "commit": commit.stdout.strip(),
        },
        "kinds": kinds,
        "bilevel": bilevel,
        "thresholds": thresholds,
    }
    text = json.dumps(data, ensure_ascii=False, indent=1)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(
        f"\nwrote {args.out} ({len(text)} bytes) in {time.monotonic() - t0:.0f} s "
        f"(generation {t_gen:.0f} s, reading {t_read:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
