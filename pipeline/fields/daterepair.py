"""Dates the page's own rules rule out, read again from the recogniser's next-best numbers.

A boxed 和暦 date is read one part at a time against the list of valid numbers (`dates.py`), so
each part's crop has a CTC log-likelihood for every number it could hold. When the reading the
parts give breaks what the template says of the date (it is no real date, lies outside its
`date_range`, or breaks a date rule with another date of the page: `dates_in_order`,
`min_age_days`, `class_age`), the likeliest combination of part numbers that keeps every rule is
looked for among those at most `MARGIN_NATS` less likely than the best, over the dates involved
together (a child's year read 8 for 3 breaks both the order with the application date and the
minimum age at the start date; only changing the child's year mends both).

The repair is never accepted unseen: the changed field, and every date it conflicted with, get
`date_repaired` (an error), whose message names what was read and what it was changed to. Where
nothing fits within the margin, the reading and its rule failures stand as they were.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.fields import dates
from pipeline.forms.defaults import DATE_KINDS
from pipeline.forms.template import FieldSpec
from pipeline.jp.wareki import ERAS, era_year
from pipeline.ocr.charsets import label_index
from pipeline.ocr.ctc import log_likelihoods
from pipeline.result import Char, Issue

# How much less likely (nats, summed over the three parts) a repaired date may be than the best
# combination of the parts' numbers: the closed-list margin (ocr/lexicon.py), a digit or two the
# recogniser found hard. A correct reading of a date that truly breaks a rule (the applicant's own
# mistake, which a person must see as written) should have no other combination this close: on
# our generator's pages (seed 9090, 80 nursery and 60 allowance pages, no bench's seed) the
# cheapest change that would have "mended" a deliberate violation cost 9.1 nats or more.
MARGIN_NATS = 6.0
# A date that breaks several of the page's rules at once (a child's year read 8 for 3 is after the
# day of filing, too young at the start date and in another class) is far likelier misread than
# written so: an applicant's own mistake breaks one rule. Each problem past the first widens the
# margin for that date by this much.
MARGIN_PER_RULE = 3.0
# Numbers kept per part, and repaired dates kept per field, when looking for a combination: the
# search over the fields involved together is their product.
TOP_PER_PART = 8
TOP_PER_FIELD = 12
# Combinations checked against the rules at most (each check ~30 µs): with many dates involved,
# each keeps fewer repairs.
MAX_COMBOS = 4096
# An era mark read with less than this confidence (two eras marked, a ring half drawn) may be
# the wrong one: another printed era is then tried, at the cost of a misread digit. A surely read
# era is never changed: a date decades off its range with a clear ring is the applicant's.
ERA_UNSURE = 0.5
ERA_SWITCH_NATS = 4.0
# Two changes this close in likelihood are a tie (two printed eras that both fit, say).
TIE_NATS = 0.05
# A changed part's characters carry at most this probability (the field is held anyway).
REPAIRED_PROB = 0.5

SLOTS = ("year", "month", "day")
Parts = tuple[str, str, str]
# Date-rule failures of the page's date values (field name -> ISO date or None): validate_cross
# restricted to the template's date rules.
DateCheck = Callable[[Mapping[str, Any]], list[Issue]]

# What a year box, and a month or day box, may hold for the rules to judge the date (a part read
# as something else, 元 in a month box, names no date: the field is left to validation as read).
_YEAR = re.compile(r"元|\d*")
_NUMBER = re.compile(r"\d*")


@dataclass(frozen=True)
class DateRead:
    """A boxed date as read: its era (None when none was circled or inferred), the part numbers
    read, and per part the log-likelihood of every number it may hold (empty: no crop to judge)."""

    spec: FieldSpec
    era: str | None
    parts: Parts
    scores: tuple[dict[str, float], dict[str, float], dict[str, float]]
    era_prob: float = 1.0  # how sure the era's mark was read (its character's probability)


@dataclass(frozen=True)
class Option:
    """One way to read a date: its era, parts, the date they make, and how many nats less likely
    than the best combination of the parts' numbers (0 for the reading itself)."""

    era: str | None
    parts: Parts
    day: dt.date | None
    cost: float


def word_scores(probs: np.ndarray, words: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """CTC log-likelihood of each number in `words` (those the recogniser can spell) on one crop."""
    index = label_index(labels)
    cands = [w for w in dict.fromkeys(words) if w and all(ch in index for ch in w)]
    if not cands or probs.shape[0] == 0:
        return {}
    return dict(zip(cands, log_likelihoods(probs, labels, cands).tolist(), strict=True))


def judgeable(parts: Parts) -> bool:
    """Whether a boxed date's parts are numbers the date rules can judge (元 only as a year)."""
    y, m, d = parts
    return bool(_YEAR.fullmatch(y) and _NUMBER.fullmatch(m) and _NUMBER.fullmatch(d))


def to_date(era: str | None, parts: Parts) -> dt.date | None:
    """The day a 和暦 date names, or None when it names none (no era, 2月30日, 平成32年)."""
    info = ERAS.get(era or "")
    if info is None:
        return None
    try:
        y, m, d = (1 if p == "元" else int(p) for p in parts)
        day = dt.date(info.since.year + y - 1, m, d)
    except ValueError:
        return None
    if day < info.since or (info.until is not None and day >= info.until):
        return None
    return day


def _ranked(scores: dict[str, float], top: int) -> list[tuple[str, float]]:
    """A part's numbers, likeliest first, as (number, nats below the likeliest)."""
    best = max(scores.values())
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])[:top]
    return [(w, best - s) for w, s in ranked]


def options(
    d: DateRead, within: tuple[dt.date, dt.date] | None, margin: float, top: int | None = TOP_PER_FIELD
) -> list[Option]:
    """Real dates inside `within` that the parts' numbers make at most `margin` nats below their
    likeliest combination, cheapest first (at most `top`; None: all); with the eras `era_costs`
    allows."""
    if not all(d.scores):
        return []
    ranked = [_ranked(s, TOP_PER_PART) for s in d.scores]
    out: list[Option] = []
    for era, ce in era_costs(d):
        for (y, cy), (m, cm), (dd, cd) in itertools.product(*ranked):
            cost = ce + cy + cm + cd
            if cost > margin:
                continue
            parts = (y, m, dd)
            day = to_date(era, parts)
            if day is None or (within is not None and not within[0] <= day <= within[1]):
                continue
            out.append(Option(era, parts, day, cost))
    out.sort(key=lambda o: o.cost)
    return _distinct(out)[:top]


def era_costs(d: DateRead) -> list[tuple[str, float]]:
    """The eras a repair may give the date, each with its cost in nats: a printed era only; a
    circled one, and where its mark was unsure (two eras marked, a ring half drawn) the form's
    other printed eras at ERA_SWITCH_NATS; with none circled, every printed era when the template
    lets it be inferred."""
    if d.spec.era:
        return [(d.spec.era, 0.0)]
    printed = [o.value for o in d.spec.era_options or []]
    if d.era:
        others = [(e, ERA_SWITCH_NATS) for e in printed if e != d.era] if d.era_prob < ERA_UNSURE else []
        return [(d.era, 0.0), *others]
    return [(e, 0.0) for e in printed] if d.spec.infer_when_unmarked else []


def _distinct(opts: list[Option]) -> list[Option]:
    """One option per date (0 and 05 in a day box name the same day): the cheapest."""
    seen: set[dt.date | None] = set()
    out = []
    for o in opts:
        if o.day not in seen:
            seen.add(o.day)
            out.append(o)
    return out


@dataclass(frozen=True)
class Repair:
    """What `repair` decided: the new option per changed field, and per changed field the fields
    its reading conflicted with (left as read, but held with it)."""

    changed: dict[str, Option]
    partners: dict[str, tuple[str, ...]]
    was: dict[str, str]  # per changed field, the problem with its reading, in clerk's words


def _own_problem(era: str | None, parts: Parts, within: tuple[dt.date, dt.date] | None) -> str | None:
    """Why a date is wrong by itself, in a clerk's words (None when it is not): a part left
    unread, no such day, or outside the field's range. A date read as wholly empty is no problem
    here (a blank is the field's own `required` issue)."""
    if not all(parts):
        return "一部が読めない" if any(parts) else None
    value = to_date(era, parts)
    if value is None:
        return "存在しない日付の"
    if within is not None and not within[0] <= value <= within[1]:
        return "ありえない範囲の"
    return None


@dataclass(frozen=True)
class Trouble:
    """The page's date problems `repair` looks at: the dates involved (wrong by themselves, or in
    a date rule's failure), each one's own problem, range and the fields it conflicts with."""

    involved: tuple[str, ...]  # sorted
    own: dict[str, str | None]  # per involved date, its problem by itself (see `_own_problem`)
    within: dict[str, tuple[dt.date, dt.date] | None]  # per involved date, its date_range
    partners: dict[str, set[str]]  # per involved date, the dates it broke a rule with
    broken: dict[str, int]  # per involved date, how many problems it has (by itself, and rules)


def trouble(
    boxed: Mapping[str, tuple[FieldSpec, str | None, Parts]],
    values: Mapping[str, Any],
    check: DateCheck,
    today: dt.date,
) -> Trouble | None:
    """The problems of the dates read in parts (`boxed`: spec, era and parts per field), or None
    when they have none. Cheap (no CTC scoring): the page's rules are checked once."""
    within = {
        n: dates.resolve(spec.date_range, today) if spec.date_range else None
        for n, (spec, _, _) in boxed.items()
    }
    own = {n: _own_problem(era, parts, within[n]) for n, (_, era, parts) in boxed.items()}
    involved = {n for n, p in own.items() if p is not None}
    partners: dict[str, set[str]] = {}
    broken = {n: int(p is not None) for n, p in own.items()}
    for issue in check(values):
        for n in issue.fields:
            if n in boxed:
                involved.add(n)
                partners.setdefault(n, set()).update(f for f in issue.fields if f != n)
                broken[n] += 1
    if not involved:
        return None
    names = tuple(sorted(involved))
    return Trouble(
        names,
        {n: own[n] for n in names},
        {n: within[n] for n in names},
        partners,
        {n: broken[n] for n in names},
    )


def repair(
    reads: Mapping[str, DateRead],
    values: Mapping[str, Any],
    check: DateCheck,
    today: dt.date,
    margin: float | None = None,
) -> Repair | None:
    """The least costly change to the dates in `reads` (fields read in parts, with their part
    scores) that leaves no date problem on the fields involved; None when the page's dates have no
    problem, or no change within `margin` mends it.

    `values` are the page's normalised values (ISO dates); `check` runs the template's date rules;
    `margin` defaults to MARGIN_NATS."""
    found = trouble({n: (r.spec, r.era, r.parts) for n, r in reads.items()}, values, check, today)
    return None if found is None else mend(found, reads, values, check, margin)


def mend(
    found: Trouble,
    reads: Mapping[str, DateRead],
    values: Mapping[str, Any],
    check: DateCheck,
    margin: float | None = None,
) -> Repair | None:
    """`repair` for the problems `found`: `reads` must hold (at least) the dates involved."""
    margin = MARGIN_NATS if margin is None else margin
    names = found.involved
    involved = set(names)
    per_field = max(2, int(MAX_COMBOS ** (1 / len(names))) - 1)
    choices: list[list[Option | None]] = []  # None: keep the field as read
    for n in names:
        r = reads[n]
        current = to_date(r.era, r.parts) if all(r.parts) else None
        wider = margin + MARGIN_PER_RULE * max(0, found.broken[n] - 1)
        alts = [o for o in options(r, found.within[n], wider, None) if o.day != current]
        alts = _mending_first(n, alts, values, check)[:per_field]
        # A date wrong by itself must change when it can; one that cannot stays as read.
        keep: list[Option | None] = [] if found.own[n] is not None and alts else [None]
        choices.append(keep + alts)
    best: tuple[float, int, tuple[Option | None, ...]] | None = None
    tied = False  # another change, as likely, also fits: no telling which was written
    for combo in itertools.product(*choices):
        if all(o is None for o in combo):
            continue
        cost = sum(o.cost for o in combo if o is not None)
        changes = sum(o is not None for o in combo)
        if best is not None and cost > best[0] + TIE_NATS:
            continue
        trial = dict(values)
        for n, o in zip(names, combo, strict=True):
            if o is not None and o.day is not None:
                trial[n] = o.day.isoformat()
        if any(set(i.fields) & involved for i in check(trial)):
            continue
        if best is None or cost < best[0] - TIE_NATS or (cost <= best[0] + TIE_NATS and changes < best[1]):
            best, tied = (cost, changes, combo), False
        elif changes == best[1]:  # as likely, as many changes
            tied = True
            if cost < best[0]:
                best = (cost, changes, combo)
    if best is None or tied:
        return None
    changed = {n: o for n, o in zip(names, best[2], strict=True) if o is not None}
    was = {n: found.own[n] or "他の日付と合わない" for n in changed}
    return Repair(changed, {n: tuple(sorted(found.partners.get(n, set()))) for n in changed}, was)


def _mending_first(
    name: str, alts: list[Option], values: Mapping[str, Any], check: DateCheck
) -> list[Option]:
    """`alts` with those that alone leave `name` in no rule's failure first, each group cheapest
    first: a cheap change of the day that mends nothing must not crowd out the year that does."""

    def mends(o: Option) -> bool:
        trial = {**values, name: o.day.isoformat() if o.day is not None else None}
        return not any(name in i.fields for i in check(trial))

    return sorted(alts, key=lambda o: (not mends(o), o.cost))


def wareki_words(era: str | None, parts: Parts) -> str:
    """令和3年12月15日 as a clerk reads it (元年 for year 1; ? for a part not read)."""
    y, m, d = (p or "?" for p in parts)
    if y.isdigit():
        y = era_year(int(y))
    return f"{era or ''}{y}年{m.lstrip('0') or m}月{d.lstrip('0') or d}日"


def repaired_chars(old: Sequence[Char], era: str | None, parts: Parts, cost: float) -> tuple[Char, ...]:
    """The field's characters for the repaired date: the era's as read (or the inferred era at the
    repair's probability), unchanged parts as read, changed parts at the repair's probability."""
    prob = min(REPAIRED_PROB, float(np.exp(-cost)))
    old_era = old[0] if old else Char("?", 0.0)
    chars = [old_era if old_era.text == (era or "?") else Char(era or "?", prob)]
    pos = 1
    read = [""] * 3
    groups: list[list[Char]] = [[], [], []]
    for k in range(3):  # old chars: era, part k chars, unit
        while pos < len(old) and old[pos].text not in "年月日":
            groups[k].append(old[pos])
            pos += 1
        read[k] = "".join(c.text for c in groups[k])
        pos += 1
    for k, (unit, part) in enumerate(zip("年月日", parts, strict=True)):
        chars += groups[k] if read[k] == part else [Char(ch, prob) for ch in part]
        chars.append(Char(unit, 1.0))
    return tuple(chars)


def repair_issue(spec: FieldSpec, before: str, after: str, problem: str, partners: Sequence[str]) -> Issue:
    """The changed field's reason for review: what was read, why it cannot be, what it now is."""
    return Issue(
        "date_repaired",
        f"「{spec.label}」を{before}と読みましたが、{problem}ため、次に確からしい{after}に直しました。"
        "原本と照合してください。",
        (spec.name, *partners),
    )


def partner_issue(spec: FieldSpec, other_label: str, other: str) -> Issue:
    """A date the repaired one conflicted with: left as read, but held with it."""
    return Issue(
        "date_repaired",
        f"「{spec.label}」と矛盾したため「{other_label}」の読み取りを直しました。両方を原本と照合してください。",
        (spec.name, other),
    )


def repair_page(
    raws: Sequence[Any],
    crops: Mapping[str, Mapping[str, tuple[np.ndarray, Sequence[str]]]],
    labels: Sequence[str],
    check: DateCheck,
    today: dt.date,
) -> None:
    """Repair the boxed dates of one page's finished `RawField`s in place (see `repair`).

    A boxed date is taken as its finisher read it (`RawField.wareki`). `crops` holds, per date
    field read in parts, each part's (probability matrix, valid numbers) by slot; only the dates
    involved in a problem are scored on them. The changed fields get their new raw reading and
    characters and `date_repaired`; the fields they conflicted with get `date_repaired` too, as
    read."""
    from pipeline.normalize import normalize_field  # a date's value as validation will see it

    dated = [rf for rf in raws if rf.spec.kind in DATE_KINDS]
    boxed = {
        rf.spec.name: (rf.spec, *rf.wareki)
        for rf in dated
        if rf.wareki is not None and judgeable(rf.wareki[1])
    }
    if not boxed:
        return
    # Numbers too: a class the applicant wrote (`class_age`'s `written`) is judged with the dates.
    values = {
        rf.spec.name: normalize_field(rf.spec, rf.raw).value
        for rf in raws
        if rf.spec.kind in (*DATE_KINDS, "number")
    }
    found = trouble(boxed, values, check, today)
    if found is None:
        return
    by_name = {rf.spec.name: rf for rf in raws}
    reads: dict[str, DateRead] = {}
    for name in found.involved:
        spec, era, parts = boxed[name]
        part = crops.get(name, {})
        y, m, d = (word_scores(*part[s], labels) if s in part else {} for s in SLOTS)
        era_prob = by_name[name].chars[0].prob if by_name[name].chars else 0.0
        reads[name] = DateRead(spec, era, parts, (y, m, d), era_prob)
    fixed = mend(found, reads, values, check)
    if fixed is None:
        return
    for name, opt in fixed.changed.items():
        rf, read = by_name[name], reads[name]
        before, after = wareki_words(read.era, read.parts), wareki_words(opt.era, opt.parts)
        rf.wareki = (opt.era, opt.parts)
        rf.raw = f"{opt.era or ''}{opt.parts[0]}年{opt.parts[1]}月{opt.parts[2]}日"
        rf.chars = repaired_chars(rf.chars, opt.era, opt.parts, opt.cost)
        rf.confidence = min((c.prob for c in rf.chars), default=0.0)
        rf.issues.append(repair_issue(rf.spec, before, after, fixed.was[name], fixed.partners[name]))
        for other in fixed.partners[name]:
            # A written class the repaired date now agrees with backs the repair: it is not held.
            if other in fixed.changed or other not in by_name or by_name[other].spec.kind not in DATE_KINDS:
                continue
            partner = by_name[other]
            if not any(i.code == "date_repaired" for i in partner.issues):
                partner.issues.append(partner_issue(partner.spec, rf.spec.label, name))
