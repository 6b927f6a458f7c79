"""Routing: which fields are auto-accepted, and whether a page goes straight through.

A field is accepted only when its confidence clears its threshold, it has no error-level
issue, and its template does not ask for a person every time (`review: always`). A page goes
straight through only when every field is accepted and no cross-field rule failed.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.forms.template import FieldSpec
from pipeline.result import FieldResult, Issue, Route
from pipeline.settings import Settings

# Marks are scored by distance from an uncertain ink band (1.0 = clearly marked or clearly
# empty), OCR fields by their least sure character. The OCR values come from
# `bench/calibrate.py` (training fonts, seed 5, 80 pages, target 1% error among accepted),
# raised a step where unseen fonts showed more error (docs/benchmarks.md), never below 0.9;
# a check digit or postal-code lookup guards the kinds left at 0.9.
DEFAULT_THRESHOLDS: dict[str, float] = {
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


def threshold_for(spec: FieldSpec, settings: Settings) -> float:
    if spec.threshold is not None:
        return spec.threshold
    if spec.kind in settings.confidence_by_kind:
        return settings.confidence_by_kind[spec.kind]
    return DEFAULT_THRESHOLDS.get(spec.kind, settings.confidence_default)


def blocking(issues: Iterable[Issue]) -> bool:
    return any(i.severity == "error" for i in issues)


def accept_field(spec: FieldSpec, confidence: float, issues: Iterable[Issue], settings: Settings) -> bool:
    if spec.review in ("always", "double"):  # double: two clerks key it, whatever the machine read
        return False
    return confidence >= threshold_for(spec, settings) and not blocking(issues)


def route_page(fields: Iterable[FieldResult], page_issues: Iterable[Issue]) -> Route:
    if blocking(page_issues):
        return Route.review
    return Route.accepted if all(f.accepted for f in fields) else Route.review


def route_document(page_routes: list[Route]) -> Route:
    if not page_routes:
        return Route.quarantined
    if all(r == Route.accepted for r in page_routes):
        return Route.accepted
    if all(r == Route.unknown_form for r in page_routes):
        return Route.unknown_form
    return Route.review
