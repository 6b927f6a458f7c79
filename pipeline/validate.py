"""Cross-field business rules, run on normalised values (see `pipeline.normalize` for conventions).

`validate_cross(rules, values, settings)` returns one `Issue` per failed rule, naming the fields
involved. A rule with any of its fields blank is skipped: the blank is the field's own issue.
The conditional rules (required_if, blank_unless, equals_count) are about blanks, so they always
run; their issues name the field and the one the condition is about, so both go to review. The
numbers (class-age range, minimum age in days) come from `Settings` unless the rule's params set them.

`fix_addresses(rules, values)` is the one rule that changes a value: it adds a prefecture the applicant
left out (三鷹市… → 東京都三鷹市…). Call it before `validate_cross` and store what it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any

from pipeline.forms.template import CONDITIONAL_RULES, CrossRule
from pipeline.jp.address import address_prefix_fix, postal_town_issue, snap_address_prefix
from pipeline.result import Issue
from pipeline.settings import Settings


def _blank(v: Any) -> bool:
    return v is None or v == "" or v == []


def _as_int(v: Any) -> int | None:
    """A whole number as normalised (int, or its digits as text); None for blanks and the rest."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None


def _as_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            return None
    return None


def age_on(birth: dt.date, day: dt.date) -> int:
    """満年齢 at the start of `day`.

    年齢計算ニ関スル法律: a person reaches each age when the day before the birthday ends, i.e. at the
    very start of the birthday. So on a birthday the new age already holds (born 4/1 → one year
    older on 4/1), and someone born on 2/29 turns a year older on 3/1 in a common year.
    """
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def fiscal_year(day: dt.date) -> int:
    """年度: 1 April to 31 March, named by the year it starts in."""
    return day.year if day.month >= 4 else day.year - 1


def class_age(birth: dt.date, start: dt.date) -> int:
    """クラス年齢: 満年齢 on 1 April of the start date's fiscal year (children born 4/2–4/1 share one).

    A child born after that 1 April (during the fiscal year) is in the 0歳児 class.
    """
    return max(0, age_on(birth, dt.date(fiscal_year(start), 4, 1)))


class _Ctx:
    def __init__(
        self,
        rule: CrossRule,
        values: Mapping[str, Any],
        settings: Settings,
        today: dt.date,
        labels: Mapping[str, str],
    ) -> None:
        self.rule = rule
        self.values = values
        self.settings = settings
        self.today = today
        self.labels = labels

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def issue(
        self, code: str, message: str, fields: tuple[str, ...] | None = None, severity: str = "error"
    ) -> Issue:
        return Issue(
            code=code,
            message=self.rule.message or message,
            fields=fields if fields is not None else tuple(self.rule.fields),
            severity=severity,
        )

    def dates(self) -> list[dt.date] | None:
        out = [_as_date(self.values.get(f)) for f in self.rule.fields]
        return None if any(d is None for d in out) else out  # type: ignore[return-value]


def _class_age(c: _Ctx) -> list[Issue]:
    dates = c.dates()
    if dates is None or len(dates) < 2:
        return []
    birth, start = dates[0], dates[1]
    lo = int(c.rule.params.get("min", 0))
    hi = int(c.rule.params.get("max", c.settings.max_class_age))
    age = class_age(birth, start)
    ref = dt.date(fiscal_year(start), 4, 1)
    if not lo <= age <= hi:
        return [
            c.issue(
                "class_age_out_of_range",
                f"クラス年齢（{ref.year}年4月1日時点の満年齢）が{age}歳で、対象（{lo}〜{hi}歳）外です",
            )
        ]
    # The class the applicant wrote (入所時 N 歳児クラス) must be the one the dates give: when
    # they differ, a digit of the birth year or of the class was misread (or mis-written).
    written = c.rule.params.get("written")
    said = _as_int(c.values.get(written)) if written else None
    # A class outside the range is the class field's own problem (its min/max), not the dates'.
    if said is None or said == age or not lo <= said <= hi:
        return []
    return [
        c.issue(
            "class_age_mismatch",
            f"{c.label(written)}が{said}歳児クラスですが、{c.label(c.rule.fields[0])}と"
            f"{c.label(c.rule.fields[1])}からは{age}歳児クラス（{ref.year}年4月1日時点の満年齢）です",
            fields=(*c.rule.fields[:2], written),
        )
    ]


def _min_age_days(c: _Ctx) -> list[Issue]:
    dates = c.dates()
    if dates is None or len(dates) < 2:
        return []
    birth, start = dates[0], dates[1]
    need = int(c.rule.params.get("days", c.settings.min_age_days_at_start))
    days = (start - birth).days
    if days >= need:
        return []
    return [
        c.issue(
            "min_age_days",
            f"{c.label(c.rule.fields[1])}（{start.isoformat()}）に生後{need}日に達していません（{days}日）",
        )
    ]


def _dates_in_order(c: _Ctx) -> list[Issue]:
    dates = c.dates()
    if dates is None:
        return []
    strict = bool(c.rule.params.get("strict", False))
    issues = []
    names = c.rule.fields
    for (a, da), (b, db) in pairwise(zip(names, dates, strict=True)):
        if da > db or (strict and da == db):
            rel = "より前" if strict else "以前"
            issues.append(
                c.issue(
                    "dates_out_of_order",
                    f"{c.label(a)}（{da.isoformat()}）は{c.label(b)}（{db.isoformat()}）{rel}の日付でなければなりません",
                    fields=(a, b),
                )
            )
    if c.rule.params.get("not_after_today") and dates[-1] > c.today:
        issues.append(
            c.issue(
                "date_in_future",
                f"{c.label(names[-1])}（{dates[-1].isoformat()}）が今日より後の日付です",
                fields=(names[-1],),
            )
        )
    return issues


def _postal_matches_address(c: _Ctx) -> list[Issue]:
    postal_f, addr_f = c.rule.fields[0], c.rule.fields[1]
    postal, address = c.values.get(postal_f), c.values.get(addr_f)
    if not isinstance(postal, str) or not isinstance(address, str):
        return []
    _, found = address_prefix_fix(postal, address)
    fields = (postal_f, addr_f)
    issues: list[Issue] = []
    # address_prefix_added is reported by fix_addresses, which also applies the fix.
    if found is not None and found.code != "address_prefix_added":
        issues.append(c.issue(found.code, found.message, fields=fields, severity=found.severity))
    if (found is None or found.severity != "error") and c.rule.params.get("town", True):
        town = postal_town_issue(postal, address)
        if town is not None:
            issues.append(c.issue(town.code, town.message, fields=fields, severity=town.severity))
    return issues


def _filled(v: Any) -> bool:
    return not _blank(v) and v is not False


def _one_of_required(c: _Ctx) -> list[Issue]:
    if any(_filled(c.values.get(f)) for f in c.rule.fields):
        return []
    names = "、".join(c.label(f) for f in c.rule.fields)
    return [c.issue("one_of_required", f"次のうち少なくとも1つを記入してください：{names}")]


# ---------------------------------------------------------------------------------------------
# Conditional rules: one field's content depends on another's (see docs/templates.md).


def _marked(c: _Ctx) -> tuple[bool, str]:
    """Whether params.field holds what the condition names, and the words for it: 「事由」の「就労」
    (when `is` names options) or 「事由」 (when any content counts)."""
    cond = str(c.rule.params["field"])
    v = c.values.get(cond)
    if "is" not in c.rule.params:
        return _filled(v), f"「{c.label(cond)}」"
    wanted = c.rule.params["is"]
    wanted = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
    got = [str(x) for x in v] if isinstance(v, list) else ([] if _blank(v) else [str(v)])
    hit = [w for w in wanted if w in got]
    shown = hit or wanted
    return bool(hit), f"「{c.label(cond)}」の" + "・".join(f"「{w}」" for w in shown)


def _negated(c: _Ctx) -> bool:
    """`not: true`: the condition holds when the field is NOT marked or filled (公金受取口座 not
    ticked → the account is required)."""
    return bool(c.rule.params.get("not", False))


def _condition(c: _Ctx) -> tuple[bool, str]:
    """Whether the rule's condition holds, and the words for params.field (see `_marked`)."""
    marked, words = _marked(c)
    return marked != _negated(c), words


def _mark_word(c: _Ctx) -> str:
    """印 for a ticked option or box, 記入 for written content."""
    v = c.values.get(str(c.rule.params["field"]))
    return "印" if "is" in c.rule.params or isinstance(v, bool | list) else "記入"


def _required_if(c: _Ctx) -> list[Issue]:
    met, words = _condition(c)
    if not met:
        return []
    cond = str(c.rule.params["field"])
    return [
        c.issue(
            "required_if",
            f"{words}に{_mark_word(c)}が{'ない' if _negated(c) else 'ある'}のに「{c.label(f)}」が空欄です",
            fields=(f, cond),
        )
        for f in c.rule.fields
        if not _filled(c.values.get(f))
    ]


def _blank_unless(c: _Ctx) -> list[Issue]:
    met, words = _condition(c)
    if met:
        return []
    cond = str(c.rule.params["field"])
    return [
        c.issue(
            "blank_unless",
            f"「{c.label(f)}」に記入がありますが、{words}に{_mark_word(c)}が"
            + ("あります" if _negated(c) else "ありません"),
            fields=(f, cond),
        )
        for f in c.rule.fields
        if _filled(c.values.get(f))
    ]


def _count_of(v: Any, options: list[str] | None) -> int:
    """What one counted field adds: its ticked options (only `options`, when given), else 1 when filled."""
    if isinstance(v, list):
        return sum(1 for x in v if options is None or x in options)
    return 1 if _filled(v) else 0


def _equals_count(c: _Ctx) -> list[Issue]:
    number_f, counted = c.rule.fields[0], c.rule.fields[1:]
    n = c.values.get(number_f)
    if _blank(n):
        return []  # a blank number is the field's own issue (required), not a miscount
    try:
        n = int(n)
    except (TypeError, ValueError):
        return []
    options = c.rule.params.get("options")
    count = sum(_count_of(c.values.get(f), options) for f in counted)
    if n == count:
        return []
    names = "、".join(f"「{c.label(f)}」" for f in counted)
    what = "印" if any(isinstance(c.values.get(f), bool | list) for f in counted) else "記入"
    return [
        c.issue(
            "equals_count",
            f"「{c.label(number_f)}」が{n}ですが、{names}の{what}は{count}件です",
        )
    ]


_RULES: dict[str, Callable[[_Ctx], list[Issue]]] = {
    "class_age": _class_age,
    "min_age_days": _min_age_days,
    "dates_in_order": _dates_in_order,
    "postal_matches_address": _postal_matches_address,
    "one_of_required": _one_of_required,
    "required_if": _required_if,
    "blank_unless": _blank_unless,
    "equals_count": _equals_count,
}


# Rules about blanks themselves, run whatever is blank.
_SEES_BLANKS = ("one_of_required", *CONDITIONAL_RULES)


def validate_cross(
    rules: list[CrossRule],
    values: Mapping[str, Any],
    settings: Settings,
    today: dt.date | None = None,
    *,
    labels: Mapping[str, str] | None = None,
) -> list[Issue]:
    """Run each cross-field rule on normalised `values`; `labels` (field name → printed label) make
    messages readable. A rule's own `message` replaces the default one."""
    today = today or dt.date.today()
    issues: list[Issue] = []
    for rule in rules:
        if rule.rule not in _SEES_BLANKS and any(_blank(values.get(f)) for f in rule.fields):
            continue
        issues += _RULES[rule.rule](_Ctx(rule, values, settings, today, labels or {}))
    return issues


# Rules between dates only: what a misread date breaks, and what a repaired one must keep.
DATE_RULES = frozenset({"dates_in_order", "class_age", "min_age_days"})


def date_rule_check(
    rules: list[CrossRule], settings: Settings, today: dt.date
) -> Callable[[Mapping[str, Any]], list[Issue]]:
    """`validate_cross` with only the template's date rules, for the reader's date repair."""
    dated = [r for r in rules if r.rule in DATE_RULES]

    def check(values: Mapping[str, Any]) -> list[Issue]:
        return validate_cross(dated, values, settings, today=today)

    return check


def postal_address_pairs(rules: list[CrossRule]) -> dict[str, str]:
    """Postal-code field → the address field it must agree with, from postal_matches_address rules."""
    return {
        r.fields[0]: r.fields[1] for r in rules if r.rule == "postal_matches_address" and len(r.fields) > 1
    }


def fix_addresses(rules: list[CrossRule], values: Mapping[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
    """Apply `address_prefix_fix` for each postal_matches_address rule; returns new values and the
    `address_prefix_added` warnings (naming both fields). Other outcomes are left to validate_cross."""
    out = dict(values)
    issues: list[Issue] = []
    for postal_f, addr_f in postal_address_pairs(rules).items():
        postal, address = out.get(postal_f), out.get(addr_f)
        if not isinstance(postal, str) or not isinstance(address, str) or not postal or not address:
            continue
        address, snapped = snap_address_prefix(postal, address)
        if snapped is not None:
            issues.append(Issue(snapped.code, snapped.message, (addr_f,), snapped.severity))
        fixed, found = address_prefix_fix(postal, address)
        out[addr_f] = fixed  # a prefecture added; for a ward-less 政令市 validate_cross still warns
        if found is not None and found.code == "address_prefix_added":
            issues.append(Issue(found.code, found.message, (postal_f, addr_f), found.severity))
    return out, issues
