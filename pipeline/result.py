"""Records that cross stages: Document → Page → Field → Char, and the `DeliveryRecord` the outbox
hands the delivery adapters (one accepted page with its final values).

Each is a frozen dataclass with `export()` / `from_dict()` so it can be stored as JSON, sent to a
worker, or compared in a golden test. A field's confidence is its characters' minimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Route(StrEnum):
    accepted = "accepted"  # every field sure and valid: goes straight to the outbox
    review = "review"  # at least one field needs a person
    quarantined = "quarantined"  # the file could not be read at all
    unknown_form = "unknown_form"  # a page that matches no template


@dataclass(frozen=True)
class Char:
    text: str
    prob: float


@dataclass(frozen=True)
class Issue:
    """Why a field (or the document) needs a person. `code` is stable; `message` is for clerks."""

    code: str
    message: str
    fields: tuple[str, ...] = ()
    severity: str = "error"  # "error" blocks auto-accept; "warning" is shown but does not

    def export(self) -> dict[str, Any]:
        d = asdict(self)
        d["fields"] = list(self.fields)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Issue:
        return cls(d["code"], d["message"], tuple(d.get("fields", ())), d.get("severity", "error"))


@dataclass(frozen=True)
class Reading:
    """What the recogniser saw in one crop: raw text and per-character probabilities."""

    text: str
    chars: tuple[Char, ...] = ()

    @property
    def confidence(self) -> float:
        return min((c.prob for c in self.chars), default=1.0)


@dataclass(frozen=True)
class FieldResult:
    name: str
    kind: str
    raw: str  # as read, before normalisation
    value: Any  # normalised value (str, int, list[str], ISO date string, bool) or None when blank
    confidence: float
    chars: tuple[Char, ...] = ()
    issues: tuple[Issue, ...] = ()
    accepted: bool = False
    box_px: tuple[int, int, int, int] | None = None  # on the aligned page at work dpi
    crop_path: str | None = None
    # The template marks it `review: double`: two different people must key it before it counts.
    double_entry: bool = False
    # The confidence it had to reach to be accepted (its kind's, its role's, a black-and-white
    # page's), so "held: 0.87 < 0.89" quotes the cut that applied; None on results stored before.
    threshold: float | None = None
    # The reader's own score before calibration (pipeline/fields/calibration.py), for benches and
    # refitting; not stored: `confidence` is the probability that the reading is right.
    raw_confidence: float | None = field(default=None, compare=False)
    # Its evidence group (pipeline/fields/evidence.py), which chose its calibration map; for
    # benches and refitting, not stored.
    evidence: str = field(default="", compare=False)
    # How far the digit classifier backs the digits read (RawField.digit_agreement); for refitting
    # the calibration's evidence groups, not stored.
    digit_agreement: float | None = field(default=None, compare=False)

    @property
    def blank(self) -> bool:
        return self.value in (None, "", [])

    def export(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "raw": self.raw,
            "value": self.value,
            "confidence": round(self.confidence, 4),
            "chars": [[c.text, round(c.prob, 4)] for c in self.chars],
            "issues": [i.export() for i in self.issues],
            "accepted": self.accepted,
            "box_px": list(self.box_px) if self.box_px else None,
            "crop_path": self.crop_path,
            "double_entry": self.double_entry,
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FieldResult:
        return cls(
            name=d["name"],
            kind=d["kind"],
            raw=d["raw"],
            value=d["value"],
            confidence=d["confidence"],
            chars=tuple(Char(t, p) for t, p in d.get("chars", [])),
            issues=tuple(Issue.from_dict(i) for i in d.get("issues", [])),
            accepted=d.get("accepted", False),
            box_px=tuple(d["box_px"]) if d.get("box_px") else None,
            crop_path=d.get("crop_path"),
            double_entry=bool(d.get("double_entry", False)),
            threshold=d.get("threshold"),
        )


@dataclass(frozen=True)
class PageResult:
    index: int  # 0-based page number in the file
    form_id: str | None
    form_version: str | None
    route: Route
    orientation: int = 0  # degrees the scan was turned to read upright
    skew_deg: float = 0.0
    match_score: float = 0.0
    fields: tuple[FieldResult, ...] = ()
    issues: tuple[Issue, ...] = ()  # document-level (cross-field) and page-level problems
    bilevel: bool = False  # the scan held black and white only (a fax): confidences are fitted so

    def values(self) -> dict[str, Any]:
        return {f.name: f.value for f in self.fields}

    def export(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "form_id": self.form_id,
            "form_version": self.form_version,
            "route": str(self.route),
            "orientation": self.orientation,
            "skew_deg": round(self.skew_deg, 3),
            "match_score": round(self.match_score, 4),
            "bilevel": self.bilevel,
            "fields": [f.export() for f in self.fields],
            "issues": [i.export() for i in self.issues],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PageResult:
        return cls(
            index=d["index"],
            form_id=d.get("form_id"),
            form_version=d.get("form_version"),
            route=Route(d["route"]),
            orientation=d.get("orientation", 0),
            skew_deg=d.get("skew_deg", 0.0),
            match_score=d.get("match_score", 0.0),
            bilevel=bool(d.get("bilevel", False)),
            fields=tuple(FieldResult.from_dict(f) for f in d.get("fields", [])),
            issues=tuple(Issue.from_dict(i) for i in d.get("issues", [])),
        )


@dataclass(frozen=True)
class DocumentResult:
    sha256: str
    source_name: str
    route: Route
    pages: tuple[PageResult, ...] = ()
    reason: str | None = None  # stable code when quarantined
    message: str | None = None  # clerk-readable explanation when quarantined
    extra: dict[str, Any] = field(default_factory=dict)

    def export(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "source_name": self.source_name,
            "route": str(self.route),
            "pages": [p.export() for p in self.pages],
            "reason": self.reason,
            "message": self.message,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DocumentResult:
        return cls(
            sha256=d["sha256"],
            source_name=d["source_name"],
            route=Route(d["route"]),
            pages=tuple(PageResult.from_dict(p) for p in d.get("pages", [])),
            reason=d.get("reason"),
            message=d.get("message"),
            extra=d.get("extra", {}),
        )


@dataclass(frozen=True)
class DeliveryRecord:
    """One accepted application as shinsei holds it (final values, reviewer corrections applied),
    as the outbox (pipeline/store/outbox.py) reads it and the adapters (pipeline/adapters/) send it."""

    key: str  # idempotency key: unique per document page and target
    document_id: int
    sha256: str
    page_index: int
    form_id: str
    values: Mapping[str, Any]
    kinds: Mapping[str, str] = field(default_factory=dict)  # field name → kind (my_number, date, ...)
