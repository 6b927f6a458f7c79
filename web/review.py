"""What the document page shows and does for each field, on top of the store and the stages.

`field_views` turns stored fields into what a clerk sees: printed label, crop, machine value with
its uncertain characters marked, the reason in words ("確信度 0.82 < 基準 0.93", a rule by name),
and the 個人番号 masked unless this login revealed it. `check_value` re-runs the field's
normalisation on what the clerk typed and the form's cross-field rules on the page's values with
that correction, so the page can show the outcome at once and the server can refuse a bad value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.forms.template import FieldSpec, Template, load_all_templates
from pipeline.normalize import normalize_field
from pipeline.privacy import mask_my_number
from pipeline.result import Issue
from pipeline.route import below_threshold_words, threshold_for
from pipeline.settings import Settings
from pipeline.store.reviewing import FieldTask
from pipeline.store.tables import DocumentRow, FieldRow, PageRow
from pipeline.validate import validate_cross

MY_NUMBER = "my_number"

# What a clerk types, per kind (shown under the input).
HINTS: dict[str, str] = {
    "date_wareki": "例: 令和7年4月1日",
    "date": "例: 2025-04-01",
    "checkbox": "1 = 印あり / 0 = なし",
    "signature": "1 = あり / 0 = なし",
    "multi_choice": "読点（、）で区切る",
    "my_number": "12桁の数字",
    "postal_code": "例: 123-4567",
    "phone": "例: 03-1234-5678",
    "kana": "カタカナ",
}

RULE_NAMES: dict[str, str] = {
    "class_age": "クラス年齢の確認",
    "min_age_days": "入所可能な月齢",
    "dates_in_order": "日付の前後関係",
    "postal_matches_address": "郵便番号と住所の一致",
    "one_of_required": "いずれか必須",
    "required_if": "条件付きの必須",
    "blank_unless": "条件付きの記入",
    "equals_count": "件数の一致",
}


@lru_cache(maxsize=8)
def _templates(folder: str) -> dict[tuple[str, str], Template]:
    return {(t.form_id, t.version): t for t in load_all_templates(Path(folder))}


def template_for(settings: Settings, form_id: str | None, version: str | None) -> Template | None:
    if form_id is None:
        return None
    all_ = _templates(str(settings.templates_dir))
    return all_.get((form_id, version or "")) or next(
        (t for (f, _v), t in all_.items() if f == form_id), None
    )


def deadline_rules(settings: Settings) -> dict[str, int]:
    """form_id -> business days to settle it, for the templates that declare `deadline`."""
    return {
        f: t.deadline.business_days
        for (f, _v), t in sorted(_templates(str(settings.templates_dir)).items())
        if t.deadline is not None
    }


def form_titles(settings: Settings) -> dict[str, str]:
    return {f: t.title for (f, _v), t in _templates(str(settings.templates_dir)).items()}


@dataclass
class CharView:
    text: str
    uncertain: bool


@dataclass
class FieldView:
    page: int
    name: str
    label: str
    kind: str
    review: str  # auto | always | double
    flagged: bool  # the pipeline did not accept it (or QA: every field)
    settled: bool
    machine: str  # as shown (masked for 個人番号 unless revealed)
    chars: list[CharView]
    reasons: list[str]
    settled_value: str | None
    settled_by: str | None
    has_crop: bool
    hint: str
    revealed: bool
    my_number: bool
    awaiting_second: str | None = None  # double entry: who keyed it first
    mismatch: bool = False
    entries: list[str] = field(default_factory=list)  # supervisor: the two keyed values


def show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def applied_threshold(f: FieldRow | FieldTask, spec: FieldSpec | None, settings: Settings) -> float:
    """The cut the field was judged against when it was read (its role's, a black-and-white
    page's), else its template's under the current settings (fields stored before it was kept)."""
    if f.threshold is not None:
        return float(f.threshold)
    return threshold_for(spec, settings) if spec else settings.confidence_default


def reason_words(f: FieldRow | FieldTask, spec: FieldSpec | None, settings: Settings) -> list[str]:
    out: list[str] = []
    if spec is not None and spec.review == "double":
        out.append("2人による入力が必要な項目（個人番号など）")
    elif spec is not None and spec.review == "always":
        out.append("常に目視確認する項目")
    if spec is not None:
        limit = applied_threshold(f, spec, settings)
        if f.confidence < limit:
            out.append(below_threshold_words(f.confidence, limit))
    for i in f.issues or []:
        issue = Issue.from_dict(i)
        rule = RULE_NAMES.get(issue.code)
        text = f"規則「{rule}」: {issue.message}" if rule else issue.message
        if issue.severity != "error":
            text = "（注意）" + text
        out.append(text)
    return out or ["目視確認"]


def field_views(
    doc: DocumentRow,
    settings: Settings,
    revealed: frozenset[str],
    double_entries: dict[tuple[int, str], list[tuple[str, str, Any]]],
    *,
    supervisor: bool,
) -> list[FieldView]:
    """The fields a clerk must settle, in page order (for a QA sample: every field)."""
    views: list[FieldView] = []
    for page in doc.pages:
        tpl = template_for(settings, page.form_id, page.form_version)
        specs = {s.name: s for s in tpl.fields} if tpl else {}
        for f in page.fields:
            if f.accepted and not doc.qa_sample:
                continue
            spec = specs.get(f.name)
            views.append(_view(doc, page, f, spec, settings, revealed, double_entries, supervisor))
    return views


def _view(
    doc: DocumentRow,
    page: PageRow,
    f: FieldRow,
    spec: FieldSpec | None,
    settings: Settings,
    revealed: frozenset[str],
    double_entries: dict[tuple[int, str], list[tuple[str, str, Any]]],
    supervisor: bool,
) -> FieldView:
    is_mn = f.kind == MY_NUMBER
    key = f"{doc.id}:{page.index}:{f.name}"
    clear = (not is_mn) or key in revealed
    limit = applied_threshold(f, spec, settings)
    if clear:
        chars = [CharView(str(t), float(p) < limit) for t, p in (f.chars or [])]
        machine = show(f.value)
        settled_value = show(f.corrected_value) if f.corrected_at is not None else None
    else:
        chars = []
        machine = show(mask_my_number(show(f.value))) if f.value else ""
        settled_value = show(mask_my_number(show(f.corrected_value))) if f.corrected_at is not None else None
    entries = double_entries.get((page.index, f.name), [])
    firsts = [e for e in entries if e[1] == "double_entry_first"]
    mismatch = any(e[1] == "double_mismatch" for e in entries) and f.corrected_at is None
    return FieldView(
        page=page.index,
        name=f.name,
        label=spec.label if spec else f.name,
        kind=f.kind,
        review=spec.review if spec else "auto",
        flagged=not f.accepted,
        settled=f.corrected_at is not None,
        machine=machine,
        chars=chars,
        reasons=reason_words(f, spec, settings),
        settled_value=settled_value,
        settled_by=f.corrected_by,
        has_crop=bool(f.crop_path),
        hint=HINTS.get(f.kind, ""),
        revealed=is_mn and key in revealed,
        my_number=is_mn,
        awaiting_second=firsts[-1][0] if firsts and f.corrected_at is None else None,
        mismatch=mismatch,
        entries=[show(e[2]) for e in entries if e[1] != "double_entry_first"] if supervisor and clear else [],
    )


@dataclass(frozen=True)
class Checked:
    value: Any
    field_issues: list[str]  # error-level problems of the typed value: it cannot be saved
    warnings: list[str]
    cross: list[str]  # cross-field rules failing on the page with this value


def check_value(
    doc: DocumentRow, page_index: int, name: str, typed: str, settings: Settings, today: date | None = None
) -> Checked:
    """Normalise `typed` as the field's kind and run the form's cross-field rules with it."""
    page = next(p for p in doc.pages if p.index == page_index)
    tpl = template_for(settings, page.form_id, page.form_version)
    if tpl is None:
        return Checked(typed, [], [], [])
    spec = next((s for s in tpl.fields if s.name == name), None)
    if spec is None:
        return Checked(typed, [], [], [])
    norm = normalize_field(spec, typed)
    values = {f.name: f.final_value for f in page.fields} | {name: norm.value}
    cross = cross_issues(tpl, values, settings, today)
    return Checked(
        norm.value,
        [i.message for i in norm.issues if i.severity == "error"],
        [i.message for i in norm.issues if i.severity != "error"],
        [i.message for i in cross if i.severity == "error"],
    )


def cross_issues(
    tpl: Template, values: dict[str, Any], settings: Settings, today: date | None = None
) -> list[Issue]:
    labels = {f.name: f.label for f in tpl.fields}
    return validate_cross(
        list(tpl.rules),
        values,
        settings,
        today=today or settings.reference_date or date.today(),
        labels=labels,
    )


def document_cross_errors(doc: DocumentRow, settings: Settings) -> list[str]:
    """Cross-field rules failing on the reviewed values of every identified page."""
    out: list[str] = []
    for page in doc.pages:
        tpl = template_for(settings, page.form_id, page.form_version)
        if tpl is None:
            continue
        values = {f.name: f.final_value for f in page.fields}
        out += [i.message for i in cross_issues(tpl, values, settings) if i.severity == "error"]
    return out
