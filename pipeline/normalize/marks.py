"""Mark kinds: checkbox, signature, choice, multi_choice."""

from __future__ import annotations

import re
import unicodedata

from pipeline.forms.template import FieldSpec
from pipeline.normalize.common import (
    Normalized,
    Raw,
    as_text,
    issue,
)
from pipeline.result import Issue

_TRUE = {"1", "true", "yes", "y", "on", "x", "✓", "✔", "レ", "○", "〇", "◯", "☑", "■", "有", "済"}
_FALSE = {"0", "false", "no", "n", "off", "□", "☐", "無"}


def _to_bool(raw: Raw) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, list):
        return any(_to_bool(r) for r in raw)
    s = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if not s:
        return False
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def checkbox(spec: FieldSpec, raw: Raw) -> Normalized:
    value = _to_bool(raw)
    if value is None:
        return Normalized(
            False, (issue(spec, "checkbox_invalid", f"「{spec.label}」のチェックを判定できません"),)
        )
    if spec.required and not value:
        # A required checkbox (同意欄) means "must be ticked".
        return Normalized(False, (issue(spec, "unchecked", f"「{spec.label}」にチェックがありません"),))
    return Normalized(value)


def signature(spec: FieldSpec, raw: Raw) -> Normalized:
    value = _to_bool(raw)
    if value is None:
        value = isinstance(raw, str) and bool(raw.strip())
    if spec.required and not value:
        return Normalized(False, (issue(spec, "signature_missing", f"「{spec.label}」がありません"),))
    return Normalized(value)


def _option_values(spec: FieldSpec) -> list[str]:
    return [o.value for o in spec.options or []]


def _match_option(spec: FieldSpec, chosen: str) -> str | None:
    options = _option_values(spec)
    c = chosen.strip()
    if c in options:
        return c
    folded = {unicodedata.normalize("NFKC", o).replace(" ", ""): o for o in options}
    return folded.get(unicodedata.normalize("NFKC", c).replace(" ", ""))


def _chosen_list(raw: Raw) -> list[str]:
    if isinstance(raw, list):
        return [str(r) for r in raw if str(r).strip()]
    return [p for p in re.split(r"[,、，]", as_text(raw)) if p.strip()]


def choice(spec: FieldSpec, raw: Raw) -> Normalized:
    chosen = _chosen_list(raw)
    if len(chosen) > 1:
        return Normalized(
            None, (issue(spec, "choice_multiple", f"「{spec.label}」で複数の選択肢に印があります"),)
        )
    value = _match_option(spec, chosen[0])
    if value is None:
        return Normalized(None, (issue(spec, "choice_invalid", f"「{spec.label}」の選択肢にない値です"),))
    return Normalized(value)


def multi_choice(spec: FieldSpec, raw: Raw) -> Normalized:
    matched = {_match_option(spec, c) for c in _chosen_list(raw)}
    issues: tuple[Issue, ...] = ()
    if None in matched:
        issues = (issue(spec, "choice_invalid", f"「{spec.label}」の選択肢にない値があります"),)
    value = [o for o in _option_values(spec) if o in matched]
    if spec.required and not value and not issues:
        issues = (issue(spec, "required", f"必須項目「{spec.label}」が空欄です"),)
    return Normalized(value, issues)
