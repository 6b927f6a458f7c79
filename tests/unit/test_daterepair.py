"""Repairing boxed dates that break the template's date rules (pipeline/fields/daterepair.py), on
synthetic part scores and CTC matrices: no page, no recogniser."""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipeline.fields import daterepair as dr
from pipeline.fields.dates import DAY_WORDS, MONTH_WORDS
from pipeline.fields.plan import RawField
from pipeline.forms.template import CrossRule, DateParts, FieldSpec
from pipeline.result import Char
from pipeline.settings import Settings
from pipeline.validate import date_rule_check

TODAY = dt.date(2026, 11, 29)
BOX = (0.0, 0.0, 10.0, 10.0)
PARTS = DateParts(year=BOX, month=BOX, day=BOX)


def spec(name: str, date_range: tuple[str, str], **kw: object) -> FieldSpec:
    return FieldSpec(
        name=name, label=name, kind="date_wareki", box=BOX, parts=PARTS, date_range=date_range, **kw
    )


CHILD = spec(
    "child_birth",
    ("-9y", "+1y"),
    era_options={"options": [{"value": "平成", "box": BOX}, {"value": "令和", "box": BOX}]},
)
START = spec("start", ("-3y", "+2y"), era="令和")
APPLIED = spec("applied", ("-3y", "+1y"), era="令和")
RULES = [
    CrossRule(rule="dates_in_order", fields=["child_birth", "applied"]),
    CrossRule(rule="min_age_days", fields=["child_birth", "start"]),
]
CHECK = date_rule_check(RULES, Settings(), TODAY)


def scores(best: str, others: dict[str, float], words: tuple[str, ...]) -> dict[str, float]:
    """Part scores: `best` at 0 nats, `others` as given, every other word far below."""
    out = dict.fromkeys(words, -40.0)
    out[best] = 0.0
    out.update(others)
    return out


YEARS = tuple(str(i) for i in range(1, 12))


def read(
    s: FieldSpec, era: str, parts: tuple[str, str, str], alt: dict[int, dict[str, float]] | None = None
) -> dr.DateRead:
    alt = alt or {}
    words = (YEARS, MONTH_WORDS, DAY_WORDS)
    y, m, d = (scores(p, alt.get(k, {}), words[k]) for k, p in enumerate(parts))
    return dr.DateRead(s, era, parts, (y, m, d))


def iso(r: dr.DateRead) -> str | None:
    day = dr.to_date(r.era, r.parts)
    return day.isoformat() if day else None


def values(reads: dict[str, dr.DateRead]) -> dict[str, str | None]:
    return {n: iso(r) for n, r in reads.items()}


def test_child_year_misread_is_repaired_from_the_next_best_year() -> None:
    # 令和8年12月15日 for 令和3年: after the application and too young at the start.
    reads = {
        "child_birth": read(CHILD, "令和", ("8", "12", "15"), {0: {"3": -3.0, "6": -5.0}}),
        "applied": read(APPLIED, "令和", ("7", "4", "18"), {0: {"8": -4.0}}),
        "start": read(START, "令和", ("8", "4", "1"), {0: {"9": -2.0}}),
    }
    fix = dr.repair(reads, values(reads), CHECK, TODAY)
    assert fix is not None
    assert set(fix.changed) == {"child_birth"}
    assert fix.changed["child_birth"].parts == ("3", "12", "15")
    assert fix.partners["child_birth"] == ("applied", "start")


def test_true_violation_read_surely_is_left_as_read() -> None:
    # The applicant's own mistake: no other reading of any part comes within the margin.
    reads = {
        "child_birth": read(CHILD, "令和", ("8", "12", "15")),
        "applied": read(APPLIED, "令和", ("7", "4", "18")),
        "start": read(START, "令和", ("8", "4", "1")),
    }
    assert dr.repair(reads, values(reads), CHECK, TODAY) is None


def test_no_problem_no_repair() -> None:
    reads = {
        "child_birth": read(CHILD, "令和", ("3", "12", "15"), {0: {"8": -0.5}}),
        "applied": read(APPLIED, "令和", ("7", "4", "18")),
        "start": read(START, "令和", ("8", "4", "1")),
    }
    assert dr.repair(reads, values(reads), CHECK, TODAY) is None


def test_impossible_day_takes_the_likeliest_real_one() -> None:
    # 2月30日 does not exist; the day box's next-best number (20) makes a real date.
    reads = {"start": read(START, "令和", ("8", "2", "30"), {2: {"20": -2.5, "31": -1.0}})}
    fix = dr.repair(reads, values(reads), CHECK, TODAY)
    assert fix is not None
    assert fix.changed["start"].parts == ("8", "2", "20")
    assert fix.was["start"] == "存在しない日付の"


def test_out_of_range_year_repaired_within_margin_only() -> None:
    far = {"start": read(START, "令和", ("4", "6", "1"), {0: {"9": -(dr.MARGIN_NATS + 1.0)}})}
    assert dr.repair(far, values(far), CHECK, TODAY) is None
    near = {"start": read(START, "令和", ("4", "6", "1"), {0: {"9": -3.0}})}
    fix = dr.repair(near, values(near), CHECK, TODAY)
    assert fix is not None and fix.changed["start"].day == dt.date(2027, 6, 1)


def test_wrongly_circled_era_is_switched_when_the_range_demands() -> None:
    # 平成4年 for a child born within nine years is 1992: the other printed era fits.
    # Only where the mark was unsure: a clear ring round 平成 is what the applicant circled.
    sure = {"child_birth": read(CHILD, "平成", ("4", "10", "31"))}
    assert dr.repair(sure, values(sure), CHECK, TODAY) is None
    r = read(CHILD, "平成", ("4", "10", "31"))
    unsure = {"child_birth": dr.DateRead(r.spec, r.era, r.parts, r.scores, era_prob=0.0)}
    fix = dr.repair(unsure, values(unsure), CHECK, TODAY)
    assert fix is not None
    assert fix.changed["child_birth"].era == "令和"
    assert fix.changed["child_birth"].cost == dr.ERA_SWITCH_NATS


def test_two_equally_likely_repairs_are_a_tie_and_none_is_made() -> None:
    reads = {"start": read(START, "令和", ("8", "2", "30"), {2: {"20": -2.0, "10": -2.0}})}
    assert dr.repair(reads, values(reads), CHECK, TODAY) is None


def test_part_without_a_crop_cannot_be_repaired() -> None:
    r = read(START, "令和", ("8", "2", "30"))
    reads = {"start": dr.DateRead(START, "令和", r.parts, (r.scores[0], r.scores[1], {}))}
    assert dr.repair(reads, values(reads), CHECK, TODAY) is None


def test_word_scores_follow_the_ctc_matrix() -> None:
    labels = ["<blank>", *"0123456789"]
    probs = np.full((6, len(labels)), 0.01, np.float32)
    probs[[0, 2, 3, 5], 0] = 0.9  # blank, 3, blank, blank, 1 ... a crop reading "31"
    probs[1, labels.index("3")] = 0.6
    probs[1, labels.index("8")] = 0.35
    probs[4, labels.index("1")] = 0.9
    s = dr.word_scores(probs, ["31", "81", "11"], labels)
    assert s["31"] > s["81"] > s["11"]


def test_repair_page_changes_the_field_and_holds_its_partners() -> None:
    labels = ["<blank>", *"0123456789"]

    def crop(text_probs: list[dict[str, float]]) -> np.ndarray:
        rows = []
        for p in text_probs:
            blank = np.full(len(labels), 0.001, np.float32)
            blank[0] = 0.99
            row = np.full(len(labels), 0.001, np.float32)
            for ch, v in p.items():
                row[labels.index(ch)] = v
            rows += [blank, row]
        rows.append(blank)
        return np.stack(rows)

    years = tuple(str(i) for i in range(1, 12))
    child_parts = {
        "year": (crop([{"8": 0.6, "3": 0.35}]), years),
        "month": (crop([{"1": 0.97}, {"2": 0.97}]), MONTH_WORDS),
        "day": (crop([{"1": 0.97}, {"5": 0.97}]), DAY_WORDS),
    }
    start_parts = {
        "year": (crop([{"8": 0.97}]), years),
        "month": (crop([{"4": 0.97}]), MONTH_WORDS),
        "day": (crop([{"1": 0.97}]), DAY_WORDS),
    }
    child = RawField(
        CHILD,
        raw="令和8年12月15日",
        chars=(Char("令和", 0.9), *(Char(c, 0.9) for c in "8年12月15日")),
        wareki=("令和", ("8", "12", "15")),
    )
    start = RawField(
        START,
        raw="令和8年4月1日",
        chars=(Char("令和", 0.9), *(Char(c, 0.9) for c in "8年4月1日")),
        wareki=("令和", ("8", "4", "1")),
    )
    dr.repair_page([child, start], {"child_birth": child_parts, "start": start_parts}, labels, CHECK, TODAY)
    assert child.raw == "令和3年12月15日"
    assert child.wareki == ("令和", ("3", "12", "15"))
    assert [i.code for i in child.issues] == ["date_repaired"]
    assert "令和8年12月15日" in child.issues[0].message and "令和3年12月15日" in child.issues[0].message
    assert child.confidence <= dr.REPAIRED_PROB
    assert [c.text for c in child.chars] == ["令和", *"3年12月15日"]
    assert [i.code for i in start.issues] == ["date_repaired"]
    assert start.raw == "令和8年4月1日"


def test_only_dates_in_trouble_are_looked_at() -> None:
    clean = {
        "child_birth": read(CHILD, "令和", ("3", "12", "15")),
        "start": read(START, "令和", ("8", "4", "1")),
    }
    boxed = {n: (r.spec, r.era, r.parts) for n, r in clean.items()}
    assert dr.trouble(boxed, values(clean), CHECK, TODAY) is None
    # The child's year read 8 breaks the minimum age at the start date: both dates are involved,
    # the start date as its partner; a date with no problem (the application) is not.
    bad = {**clean, "child_birth": read(CHILD, "令和", ("8", "12", "15"))}
    bad["applied"] = read(APPLIED, "令和", ("8", "12", "20"))
    boxed = {n: (r.spec, r.era, r.parts) for n, r in bad.items()}
    found = dr.trouble(boxed, values(bad), CHECK, TODAY)
    assert found is not None and found.involved == ("child_birth", "start")
    assert found.own == {"child_birth": None, "start": None}
    assert found.partners == {"child_birth": {"start"}, "start": {"child_birth"}}


def test_repair_page_leaves_dates_it_cannot_judge_as_read() -> None:
    # A month box read as 元 names no date the rules could judge: the page's rules are not run.
    def no_check(_: object) -> list:
        raise AssertionError("the rules were checked")

    child = RawField(CHILD, raw="令和8年元月15日", chars=(), wareki=("令和", ("8", "元", "15")))
    dr.repair_page([child], {}, ["<blank>"], no_check, TODAY)
    assert child.raw == "令和8年元月15日" and not child.issues
    assert dr.judgeable(("元", "4", "1")) and dr.judgeable(("8", "", "15"))
    assert not dr.judgeable(("8", "元", "15"))


def test_written_class_repairs_a_birth_year_the_other_rules_allow() -> None:
    # 入所時 4 歳児クラス, start 令和8年4月 (年度 2026): a child born 令和3年6月 is in the 4歳児
    # class. The year read 6 (2024, the 1歳児 class) breaks no order or minimum age, only the
    # written class; the class picks 3 over the likelier 4 (2022, the 3歳児 class).
    rules = [
        *RULES,
        CrossRule(rule="class_age", fields=["child_birth", "start"], params={"written": "age_class"}),
    ]
    check = date_rule_check(rules, Settings(), TODAY)
    reads = {
        "child_birth": read(CHILD, "令和", ("6", "6", "10"), {0: {"4": -2.0, "3": -3.0}}),
        "start": read(START, "令和", ("8", "4", "1")),
    }
    fix = dr.repair(reads, {**values(reads), "age_class": 4}, check, TODAY)
    assert fix is not None and fix.changed["child_birth"].parts == ("3", "6", "10")
    # Without the written class (or with it blank) the same reading stands.
    assert dr.repair(reads, {**values(reads), "age_class": None}, check, TODAY) is None
    assert dr.repair(reads, values(reads), CHECK, TODAY) is None


def test_a_date_breaking_two_rules_may_be_repaired_further_than_one_breaking_one() -> None:
    # 令和8年12月15日 for 令和3年: after the application *and* too young at the start, two rules.
    # The 3 is 7 nats below the 8, past MARGIN_NATS, within it plus MARGIN_PER_RULE.
    cost = dr.MARGIN_NATS + dr.MARGIN_PER_RULE / 2
    two = {
        "child_birth": read(CHILD, "令和", ("8", "12", "15"), {0: {"3": -cost}}),
        "applied": read(APPLIED, "令和", ("7", "4", "18")),
        "start": read(START, "令和", ("8", "4", "1")),
    }
    fix = dr.repair(two, values(two), CHECK, TODAY)
    assert fix is not None and fix.changed["child_birth"].parts == ("3", "12", "15")
    # Filed later (令和9年), the same reading is after no application: one rule broken, and the
    # applicant may have written it so.
    one = {**two, "applied": read(APPLIED, "令和", ("9", "1", "18"))}
    assert dr.repair(one, values(one), CHECK, TODAY) is None


def test_cheap_changes_that_mend_nothing_do_not_crowd_out_the_one_that_does() -> None:
    # The month and day have many near readings (each under a nat); none moves the birth out of
    # the year after the application. The year's 3 costs more than all of them and mends both.
    near = {str(m): -0.3 - 0.1 * m for m in range(1, 13) if m != 12}
    days = {str(d): -0.3 - 0.05 * d for d in range(1, 29) if d != 15}
    reads = {
        "child_birth": read(CHILD, "令和", ("8", "12", "15"), {0: {"3": -5.0}, 1: near, 2: days}),
        "applied": read(APPLIED, "令和", ("7", "4", "18")),
        "start": read(START, "令和", ("8", "4", "1")),
    }
    fix = dr.repair(reads, values(reads), CHECK, TODAY)
    assert fix is not None and fix.changed["child_birth"].day is not None
    assert fix.changed["child_birth"].day.year == 2021
