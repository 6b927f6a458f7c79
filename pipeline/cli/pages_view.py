"""The terminal view of a document's pages and fields, shared by `shinsei show` (a stored
document) and `shinsei read` (one file, nothing stored). It prints an export dict
(`export()` of either), already masked by the caller.

Every field held back for a person says why: its issues' messages, and, where its confidence is
under its threshold, "確信度 0.82 < 基準 0.93" (the only reason when nothing else is wrong).
Columns are padded by display width, so full-width text (names, addresses) keeps them aligned.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pipeline.forms.template import Template
from pipeline.route import below_threshold_words, threshold_for
from pipeline.settings import Settings


@dataclass(frozen=True)
class Rule:
    """What decides whether a field is accepted, besides its issues."""

    threshold: float
    always: bool  # `review: always`: a person checks it every time


RuleOf = Callable[[str | None, str], Rule | None]  # (form id, field name) -> its rule, if known


def rules_of(templates: Iterable[Template], settings: Settings) -> RuleOf:
    """Each template field's threshold under the current settings."""
    rules = {
        (t.form_id, f.name): Rule(threshold_for(f, settings), f.review == "always")
        for t in templates
        for f in t.fields
    }
    return lambda form_id, name: rules.get((form_id, name))


def width(text: str) -> int:
    """Terminal columns: full-width and wide characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def pad(text: str, columns: int) -> str:
    """`text` left-aligned in `columns` terminal columns (longer text is kept whole)."""
    return text + " " * max(0, columns - width(text))


def clip(text: str, columns: int) -> str:
    """`text` cut to at most `columns` terminal columns, with "…" where it was cut."""
    if width(text) <= columns:
        return text
    out, used = "", 0
    for ch in text:
        w = width(ch)
        if used + w > columns - 1:
            break
        out, used = out + ch, used + w
    return out + "…"


def _value(v: Any) -> str:
    return "・".join(v) if isinstance(v, list) else ("" if v is None else str(v))


def held_because(f: dict[str, Any], rule: Rule | None) -> list[str]:
    """Why a field was not accepted, in the clerk's words: issue messages, then the confidence."""
    if f["accepted"]:
        return [i["message"] for i in f["issues"]]
    reasons = [i["message"] for i in f["issues"]]
    if rule is not None:
        limit = applied_threshold(f, rule)
        if rule.always:
            reasons.append("毎回確認する項目です")
        elif f["confidence"] < limit:
            reasons.append(below_threshold_words(f["confidence"], limit))
    return reasons


def applied_threshold(f: dict[str, Any], rule: Rule) -> float:
    """The cut the field was judged against when it was read (its role's, a black-and-white
    page's), else its template rule's under the current settings (results stored before)."""
    stored = f.get("threshold")
    return float(stored) if stored is not None else rule.threshold


def print_pages(
    data: dict[str, Any],
    *,
    rule: RuleOf | None = None,
    explain: bool = False,
    raw: bool = False,
) -> None:
    """One block per page: form, orientation, skew, route and page issues, then one line per
    field (ok/REV, value, confidence, reasons). `rule(form_id, field)` gives the thresholds the
    reasons quote; `raw` adds each field's threshold and raw reading; `explain` adds
    per-character probabilities and issue codes."""
    for p in data["pages"]:
        form = f"{p['form_id'] or '-'}" + (f" {p['form_version']}" if p.get("form_version") else "")
        score = f"  match {p['match_score']:.3f}" if explain and p.get("match_score") is not None else ""
        print(
            f"\npage {p['index'] + 1}: form {form}{score}  turned {p['orientation']}°"
            f"  skew {p['skew_deg']:+.1f}°  route {p['route']}"
        )
        for i in p["issues"]:
            print(f"  ! [{i['code']}] {i['message']}" if explain else f"  ! {i['message']}")
        for f in p["fields"]:
            mark = "ok " if f["accepted"] else "REV"
            r = rule(p["form_id"], f["name"]) if rule is not None else None
            line = f"  {mark} {pad(f['name'], 20)} {pad(_value(f['value']), 28)} conf {f['confidence']:.3f}"
            if raw:
                line += f" / {applied_threshold(f, r):.2f}" if r is not None else " / -"
                line += f"  raw {f['raw']!r}"
            if not explain:
                line += "  " + "; ".join(held_because(f, r))
            print(line.rstrip())
            if explain:
                if f["chars"]:
                    print("        chars " + " ".join(f"{c}:{prob:.2f}" for c, prob in f["chars"]))
                for i in f["issues"]:
                    print(f"        [{i['code']}/{i['severity']}] {i['message']}")
                if not f["accepted"] and r is not None and not f["issues"]:
                    print(f"        [{'; '.join(held_because(f, r))}]")
