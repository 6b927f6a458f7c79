"""Routing: which fields are auto-accepted, and whether a page goes straight through.

A field is accepted only when its confidence (calibrated: the probability that it is right) clears
its threshold, it has no error-level issue, and its template does not ask for a person every time
(`review: always` or `double`). A page goes straight through only when every field is accepted and no cross-field rule failed.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.fields import calibration
from pipeline.forms.template import FieldSpec
from pipeline.result import FieldResult, Issue, Route
from pipeline.settings import Settings

# Thresholds on the calibrated confidence, the probability that a field's reading is right
# (pipeline/fields/calibration.py). `tools/fit_calibration.py` chooses them per kind on held-out
# generated pages for at most 0.5% wrong among the fields they accept, with no kind and no role
# (kind/role, e.g. text_ja/address) over 1% wrong among its own, and writes them beside the maps
# in calibration.json; a template's `threshold` or SHINSEI_CONFIDENCE_BY_KIND still wins.
DEFAULT_THRESHOLDS: dict[str, float] = dict(calibration.load().thresholds)


# The fitted cut for every field of a page that held black and white only (a fax): where such
# pages' fields, at the common cut, were more often wrong than the target, the recipe chose the
# lowest cut that keeps them within it (tools/fit_calibration.py).
BILEVEL = "bilevel"


def threshold_for(spec: FieldSpec, settings: Settings, group: str = "", bilevel: bool = False) -> float:
    """The template's threshold, else the settings' for the kind, else the fitted one: a role's own
    (kind/role, e.g. text_ja/address, on the field's evidence `group`) where one was fitted, else
    the kind's; on a black-and-white page (`bilevel`), at least the fitted cut for such pages."""
    if spec.threshold is not None:
        return spec.threshold
    if spec.kind in settings.confidence_by_kind:
        return settings.confidence_by_kind[spec.kind]
    fitted = DEFAULT_THRESHOLDS.get(spec.kind, settings.confidence_default)
    for node in calibration.path(group) if group else []:
        if node in DEFAULT_THRESHOLDS:
            fitted = DEFAULT_THRESHOLDS[node]
            break
    return max(fitted, DEFAULT_THRESHOLDS.get(BILEVEL, 0.0)) if bilevel else fitted


def blocking(issues: Iterable[Issue]) -> bool:
    return any(i.severity == "error" for i in issues)


def accept_field(
    spec: FieldSpec,
    confidence: float,
    issues: Iterable[Issue],
    settings: Settings,
    group: str = "",
    bilevel: bool = False,
) -> bool:
    return clears(spec, confidence, issues, threshold_for(spec, settings, group, bilevel))


def clears(spec: FieldSpec, confidence: float, issues: Iterable[Issue], threshold: float) -> bool:
    """`accept_field` against a threshold already found (the pipeline keeps it with the field)."""
    if spec.review in ("always", "double"):  # double: two clerks key it, whatever the machine read
        return False
    return confidence >= threshold and not blocking(issues)


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


def below_threshold_words(confidence: float, limit: float) -> str:
    """「確信度 0.82 < 基準 0.93」, with enough digits that the two differ (0.978 < 0.980)."""
    digits = 2
    while digits < 4 and f"{confidence:.{digits}f}" >= f"{limit:.{digits}f}":
        digits += 1
    return f"確信度 {confidence:.{digits}f} < 基準 {limit:.{digits}f}"
