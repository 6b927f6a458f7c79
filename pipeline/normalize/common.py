"""What every normaliser shares: the raw type, the `Normalized` result, issue and text helpers,
and the legacy-charset (外字) check."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pipeline.forms.template import FieldSpec
from pipeline.jp.text import DASHES
from pipeline.result import Issue

Raw = str | list[str] | bool | None


@dataclass(frozen=True)
class Normalized:
    value: Any
    issues: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


def is_address_field(spec: FieldSpec) -> bool:
    """Address boxes get digit folding; we know them by name or printed label."""
    name = spec.name
    return (
        name == "address"
        or name.startswith("address_")
        or name.endswith("_address")
        or "住所" in spec.label
        or "所在地" in spec.label
    )


def is_blank(raw: Raw) -> bool:
    if raw is None or raw is False:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list):
        return all(not str(r).strip() for r in raw)
    return False


def issue(spec: FieldSpec, code: str, message: str, severity: str = "error") -> Issue:
    return Issue(code=code, message=message, fields=(spec.name,), severity=severity)


def as_text(raw: Raw, joiner: str = "") -> str:
    if isinstance(raw, list):
        return joiner.join(str(r) for r in raw)
    if isinstance(raw, bool):
        return ""
    return str(raw)


def length_issue(spec: FieldSpec, value: str) -> list[Issue]:
    if spec.max_length is not None and len(value) > spec.max_length:
        return [
            issue(spec, "too_long", f"「{spec.label}」は{spec.max_length}文字以内です（{len(value)}文字）")
        ]
    return []


def charset_issues(spec: FieldSpec, value: str, encoding: str = "cp932") -> list[Issue]:
    """Warn about characters that do not survive a round trip through the legacy encoding (外字 risk)."""
    bad: list[str] = []
    for ch in dict.fromkeys(value):
        if ch in "\n":
            continue
        try:
            ok = ch.encode(encoding).decode(encoding) == ch
        except UnicodeError:
            ok = False
        if not ok:
            bad.append(ch)
    if not bad:
        return []
    shown = "、".join(f"「{c}」(U+{ord(c):04X})" for c in bad[:5])
    return [
        issue(
            spec,
            "charset",
            f"{shown}は旧システムの文字コード（{encoding}）で表せません（外字の可能性）",
            severity="warning",
        )
    ]


def digit_string(raw: Raw) -> str:
    text = unicodedata.normalize("NFKC", as_text(raw))
    return re.sub(rf"[\s{re.escape(DASHES)}]", "", text)
