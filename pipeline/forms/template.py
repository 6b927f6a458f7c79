"""Form template model and loader.

A template is `templates_forms/<form_id>/template.yaml` plus the blank form image it refers to.
Everything the pipeline knows about a form comes from here, so a new form is a new folder, not
new code. Loading validates the YAML with pydantic and reports every problem at once as
`template.yaml:LINE:COL key.path: message`, with a "did you mean" for misspelt keys and kinds.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import TemplateError
from pipeline.forms import defaults

FieldKind = Literal[
    "text_ja",
    "kana",
    "digits",
    "number",
    "date_wareki",
    "date",
    "phone",
    "postal_code",
    "my_number",
    "checkbox",
    "choice",
    "multi_choice",
    "signature",
    "free_text",
]
FIELD_KINDS: tuple[str, ...] = FieldKind.__args__  # type: ignore[attr-defined]

CrossRuleName = Literal[
    "class_age",
    "min_age_days",
    "dates_in_order",
    "postal_matches_address",
    "one_of_required",
    "required_if",
    "blank_unless",
    "equals_count",
]
CROSS_RULES: tuple[str, ...] = CrossRuleName.__args__  # type: ignore[attr-defined]
# Rules that decide for themselves what a blank field means (the others skip a rule with a blank).
CONDITIONAL_RULES = ("required_if", "blank_unless", "equals_count")

Box = Annotated[
    tuple[float, float, float, float], Field(description="x, y, width, height in mm on the blank")
]


_OFFSET_RE = re.compile(r"^[+-]\d+[ymd]$")


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageSize(_Strict):
    width_mm: float = Field(gt=0)
    height_mm: float = Field(gt=0)


class Option(_Strict):
    """One choice. `box` is its printed square (where a tick, fill or circle lands) and `label` its
    printed text (writers also circle the label, or tick it): either or both may be given."""

    value: str
    box: Box | None = None
    label: Box | None = Field(default=None, description="the option's printed text beside its square")

    @model_validator(mode="after")
    def _box_or_label(self) -> Option:
        if self.box is None and self.label is None:
            raise ValueError(f"option {self.value!r} needs `box`, `label` or both")
        return self

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """The smallest box holding the square and the label: what a ring or a strike surrounds."""
        boxes = [b for b in (self.box, self.label) if b is not None]
        x0 = min(b[0] for b in boxes)
        y0 = min(b[1] for b in boxes)
        x1 = max(b[0] + b[2] for b in boxes)
        y1 = max(b[1] + b[3] for b in boxes)
        return (x0, y0, x1 - x0, y1 - y0)


class Cells(_Strict):
    """One character per printed cell (digit boxes); `groups` splits the cells, e.g. 〒 [3, 4].

    `boxes` lists each printed cell where they are not evenly spaced (a printed gap or "-"
    between groups); `count` then defaults to their number."""

    count: int = Field(gt=0, le=40)
    groups: list[int] | None = None
    separator: str = ""
    boxes: list[Box] | None = None

    @model_validator(mode="before")
    @classmethod
    def _count_from_boxes(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("count") is None and isinstance(data.get("boxes"), list):
            data = {**data, "count": len(data["boxes"])}
        return data

    @model_validator(mode="after")
    def _groups_sum(self) -> Cells:
        if self.groups is not None and sum(self.groups) != self.count:
            raise ValueError(f"groups {self.groups} add up to {sum(self.groups)}, not count {self.count}")
        if self.boxes is not None and len(self.boxes) != self.count:
            raise ValueError(f"{len(self.boxes)} cell boxes, but count is {self.count}")
        return self


class DateParts(_Strict):
    """Year, month and day written in separate boxes (after an era that is circled or printed)."""

    year: Box
    month: Box
    day: Box


class FieldSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    kind: FieldKind
    box: Box
    required: bool = False
    review: Literal["auto", "always", "double"] = "auto"
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="overrides the kind's confidence threshold"
    )
    charset: str | None = Field(default=None, description="OCR charset name overriding the kind's default")
    date_range: tuple[str, str] | None = Field(
        default=None,
        description="plausible dates: offsets from the processing day ([-7y, +1y]), absolute dates "
        "([2020-04-01, 2030-03-31]) or both mixed; also `{min: ..., max: ...}`",
    )
    vocabulary: str | None = Field(
        default=None, description="name of a list in `vocabularies` the value must come from"
    )
    cells: Cells | None = None
    options: list[Option] | None = None
    era: str | None = Field(default=None, description="era printed on the form, when it is not circled")
    era_options: list[Option] | None = Field(
        default=None,
        description="printed eras to circle; also `{options: [...], infer_when_unmarked: true}`",
    )
    infer_when_unmarked: bool = Field(
        default=False,
        description="with era_options: when no era is circled, infer it from the year and the page",
    )
    parts: DateParts | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    lines: int = Field(default=1, ge=1, le=4, description="lines of handwriting the box holds")
    reading_of: str | None = Field(
        default=None, description="for a フリガナ field: the name field it spells (helps reading it)"
    )
    script: Literal["katakana", "hiragana"] | None = Field(
        default=None,
        description="for a kana field: the script its value is given in; by default the one its label"
        " asks for (ふりがな, よみがな: hiragana; フリガナ, カナ: katakana)",
    )

    @field_validator("date_range", mode="before")
    @classmethod
    def _date_range_bounds(cls, v: Any) -> Any:
        """`{min: a, max: b}` is the same as `[a, b]`; YAML reads an unquoted 2020-04-01 as a date,
        kept here as its ISO text. Each bound must be an offset (-7y, +2m, +30d) or an ISO date."""
        if v is None:
            return v
        if isinstance(v, dict):
            extra = set(v) - {"min", "max"}
            if extra or not {"min", "max"} <= set(v):
                raise ValueError("date_range mapping needs exactly `min` and `max`")
            v = [v["min"], v["max"]]
        if not isinstance(v, (list, tuple)) or len(v) != 2:
            raise ValueError("date_range needs two bounds: [min, max] or {min: ..., max: ...}")
        out = []
        for b in v:
            if isinstance(b, dt.datetime):
                b = b.date()
            if isinstance(b, dt.date):
                b = b.isoformat()
            if not isinstance(b, str) or not (_OFFSET_RE.match(b.strip()) or _iso_date(b) is not None):
                raise ValueError(
                    f"date_range bound {b!r} should be an offset like -7y, +2m, +30d "
                    "or a date like 2020-04-01"
                )
            out.append(b.strip())
        lo, hi = _iso_date(out[0]), _iso_date(out[1])
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"date_range min {out[0]} is after max {out[1]}")
        return tuple(out)

    @model_validator(mode="before")
    @classmethod
    def _era_options_mapping(cls, data: Any) -> Any:
        """`era_options: {options: [...], infer_when_unmarked: true}` is the same as the list plus
        the field-level flag; both spellings are accepted."""
        if isinstance(data, dict) and isinstance(data.get("era_options"), dict):
            eo = dict(data["era_options"])
            data = {**data, "era_options": eo.pop("options", None)}
            if "infer_when_unmarked" in eo:
                data["infer_when_unmarked"] = eo.pop("infer_when_unmarked")
            if eo:
                raise ValueError(
                    f"era_options: unknown key(s) {', '.join(map(str, eo))} "
                    "(allowed: options, infer_when_unmarked)"
                )
        return data

    @model_validator(mode="after")
    def _kind_needs(self) -> FieldSpec:
        if self.charset is not None:
            from pipeline.ocr.charsets import CHARSET_NAMES

            if self.charset not in CHARSET_NAMES:
                hint = difflib.get_close_matches(self.charset, CHARSET_NAMES, n=1)
                raise ValueError(
                    f"unknown charset {self.charset!r}"
                    + (f" (did you mean {hint[0]!r}?)" if hint else f"; known: {', '.join(CHARSET_NAMES)}")
                )
        if self.kind in ("choice", "multi_choice") and not self.options:
            raise ValueError(f"kind {self.kind} needs `options`")
        if self.options and self.kind not in ("choice", "multi_choice"):
            # A generator's field list may call a group of tick boxes `checkbox`: read as one
            # box, ticked or not, none of its values could come out.
            raise ValueError(
                f"`options` are for kind choice (one may be marked) or multi_choice (several may); "
                f"kind {self.kind} has none"
                + (": a checkbox is one box, ticked or not" if self.kind == "checkbox" else "")
            )
        if self.kind == "my_number" and (self.cells is None or self.cells.count != 12):
            raise ValueError("kind my_number needs `cells` with count 12")
        if self.kind == "postal_code" and self.cells is not None and self.cells.count != 7:
            raise ValueError("kind postal_code with `cells` needs count 7")
        if self.kind == "date_wareki" and self.parts is not None and not (self.era or self.era_options):
            raise ValueError("a date_wareki with `parts` needs `era` or `era_options`")
        if self.reading_of is not None and self.kind != "kana":
            raise ValueError("`reading_of` is for kind kana only")
        if self.script is not None and self.kind != "kana":
            raise ValueError("`script` is for kind kana only")
        if self.kind != "date_wareki" and (self.parts or self.era_options or self.era):
            raise ValueError("`parts`, `era` and `era_options` are for kind date_wareki only")
        if self.infer_when_unmarked and not self.era_options:
            raise ValueError("`infer_when_unmarked` needs `era_options`")
        return self

    def cell_boxes(self) -> list[tuple[float, float, float, float]]:
        """The printed cells of a digit-box field (mm): its listed `boxes`, or its box cut evenly."""
        if self.cells is None:
            return []
        if self.cells.boxes:
            return [tuple(c) for c in self.cells.boxes]  # type: ignore[misc]
        x, y, w, h = self.box
        n = self.cells.count
        return [(x + i * w / n, y, w / n, h) for i in range(n)]

    def all_boxes(self) -> list[tuple[str, tuple[float, float, float, float]]]:
        """Every rectangle this field reads, for drawing and bounds checks."""
        boxes: list[tuple[str, tuple[float, float, float, float]]] = [("box", self.box)]
        for opt in (self.options or []) + (self.era_options or []):
            if opt.box is not None:
                boxes.append((f"option {opt.value}", opt.box))
            if opt.label is not None:
                boxes.append((f"label {opt.value}", opt.label))
        for i, cell in enumerate(self.cells.boxes if self.cells and self.cells.boxes else []):
            boxes.append((f"cell {i + 1}", cell))
        if self.parts:
            boxes += [("year", self.parts.year), ("month", self.parts.month), ("day", self.parts.day)]
        return boxes


class CrossRule(_Strict):
    rule: CrossRuleName
    fields: list[str] = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    message: str | None = None


def _as_written(value: Any) -> str:
    """A hint's value as a template would write it (`true`, `[-3y, +1y]`), for `template check`."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(list(value) if isinstance(value, tuple) else value)


def _hint(name: str, known: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" for the closest known name, or nothing."""
    hint = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


Located = list[tuple[tuple[str | int, ...], str]]


class _Located(ValueError):
    """Several template problems, each with its place in the YAML (a pydantic-style location)."""

    def __init__(self, problems: Located) -> None:
        super().__init__("; ".join(m for _, m in problems))
        self.problems = problems


def _class_age_problems(rule: CrossRule, fields: dict[str, FieldSpec]) -> Located:
    """What is wrong with a class_age rule's `written`: it must name a number field (the class the
    applicant wrote)."""
    written = rule.params.get("written")
    if written is None or (written in fields and fields[written].kind == "number"):
        return []
    return [
        (
            ("params", "written"),
            f"class_age: params.written must name a number field (the class the applicant wrote); "
            f"{written!r} is not one" + _hint(str(written), fields),
        )
    ]


def _conditional_problems(rule: CrossRule, fields: dict[str, FieldSpec]) -> Located:
    """What is wrong with a required_if / blank_unless / equals_count rule's params: unknown keys,
    an unknown field, an option value the field does not print; each with where it is in the rule."""
    allowed = {
        "required_if": {"field", "is", "not"},
        "blank_unless": {"field", "is", "not"},
        "equals_count": {"options"},
    }
    out: Located = []
    for key in rule.params:
        if key not in allowed[rule.rule]:
            known = allowed[rule.rule]
            out.append(
                (
                    ("params", key),
                    f"unknown params key {key!r}"
                    + (_hint(key, known) or f" (allowed: {', '.join(sorted(known))})"),
                )
            )
    if rule.rule == "equals_count":
        if len(rule.fields) < 2:
            out.append((("fields",), "needs the number field first, then at least one field to count"))
            return out
        number = fields.get(rule.fields[0])
        if number is not None and number.kind not in ("number", "digits"):
            out.append((("fields", 0), f"the first field {number.name!r} is a {number.kind}, not a number"))
        wanted = rule.params.get("options")
        if wanted is not None:
            if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
                out.append((("params", "options"), "params.options must be a list of option values"))
                return out
            printed = {o.value for n in rule.fields[1:] if n in fields for o in fields[n].options or []}
            for w in wanted:
                if w not in printed:
                    out.append(
                        (
                            ("params", "options"),
                            f"params.options names unknown option {w!r}" + _hint(w, printed),
                        )
                    )
        return out
    cond = rule.params.get("field")
    if not isinstance(cond, str):
        out.append((("params",), "needs params.field: the field the condition is about"))
        return out
    spec = fields.get(cond)
    if spec is None:
        out.append((("params", "field"), f"params.field names unknown field {cond!r}" + _hint(cond, fields)))
        return out
    if "not" in rule.params and not isinstance(rule.params["not"], bool):
        out.append((("params", "not"), "params.not must be true or false"))
    if cond in rule.fields:
        out.append(
            (("params", "field"), f"field {cond!r} is both the condition and one of the rule's fields")
        )
    if "is" in rule.params:
        if spec.kind not in ("choice", "multi_choice"):
            out.append(
                (
                    ("params", "is"),
                    f"params.is is for a choice or multi_choice field; {cond!r} is a {spec.kind} "
                    "(leave `is` out to mean 'filled in' or 'ticked')",
                )
            )
            return out
        values = rule.params["is"] if isinstance(rule.params["is"], list) else [rule.params["is"]]
        printed = [o.value for o in spec.options or []]
        for v in values:
            if str(v) not in printed:
                out.append(
                    (
                        ("params", "is"),
                        f"params.is names {v!r}, not an option of {cond!r}"
                        + (_hint(str(v), printed) or f" (options: {', '.join(printed)})"),
                    )
                )
    return out


class DeadlineRule(_Strict):
    """By when a received form must be settled: `business_days` working days (no weekends, no
    Japanese national holidays) after the day it was received (`from: received`, the 受付日)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    business_days: int = Field(gt=0, le=366)
    from_: Literal["received"] = Field(default="received", alias="from")


class IdentifySettings(_Strict):
    """How sure identification must be before a page is called this form (see
    pipeline/forms/identify.py for the defaults and how they were chosen)."""

    min_inliers: int | None = Field(default=None, ge=4, description="consistent feature matches needed")
    min_score: float | None = Field(
        default=None, gt=0, le=1, description="share of the blank's features that must match"
    )
    near_miss: int | None = Field(
        default=None, ge=0, description="inliers that earn a page a second, stronger try"
    )
    second_try: bool = True
    registration_marks: list[Box] | None = Field(
        default=None,
        description="solid squares printed near the corners; a page that nearly matched is aligned on them",
    )

    @field_validator("registration_marks")
    @classmethod
    def _enough_marks(cls, marks: list[Box] | None) -> list[Box] | None:
        if marks is not None and len(marks) < 3:
            raise ValueError(f"registration_marks needs at least 3 squares, got {len(marks)}")
        return marks


class Template(_Strict):
    form_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str
    title: str
    page: PageSize
    blank: str = "blank.png"
    blank_dpi: int = Field(default=300, ge=100, le=600)
    fields: list[FieldSpec] = Field(min_length=1)
    rules: list[CrossRule] = Field(default_factory=list)
    vocabularies: dict[str, list[str]] = Field(
        default_factory=dict, description="closed lists, e.g. the city's facilities"
    )
    deadline: DeadlineRule | None = Field(
        default=None, description="review deadline; the review queue is ordered by it"
    )
    identify: IdentifySettings = Field(
        default_factory=IdentifySettings, description="identification thresholds for this form"
    )

    # Set by the loader, not the YAML.
    folder: Path | None = Field(default=None, exclude=True)
    # The hints the template leaves out and `_infer_hints` fills in, as `field: hint value`.
    _inferred: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[FieldSpec]) -> list[FieldSpec]:
        seen: set[str] = set()
        for f in fields:
            if f.name in seen:
                raise ValueError(f"field name {f.name!r} is used twice")
            seen.add(f.name)
        return fields

    @model_validator(mode="after")
    def _geometry_and_refs(self) -> Template:
        # Each problem keeps where it is in the YAML, so the loader can give its line.
        problems: Located = []

        def outside(x: float, y: float, w: float, h: float) -> bool:
            return (
                w <= 0
                or h <= 0
                or x < 0
                or y < 0
                or x + w > self.page.width_mm
                or y + h > self.page.height_mm
            )

        for i, f in enumerate(self.fields):
            for what, (x, y, w, h) in f.all_boxes():
                if outside(x, y, w, h):
                    problems.append(
                        (("fields", i), f"field {f.name!r} {what} {x, y, w, h} is not inside the page")
                    )
        for i, (x, y, w, h) in enumerate(self.identify.registration_marks or []):
            if outside(x, y, w, h):
                problems.append(
                    (
                        ("identify", "registration_marks", i),
                        f"registration mark {x, y, w, h} is not inside the page",
                    )
                )
        names = {f.name for f in self.fields}
        for i, f in enumerate(self.fields):
            if f.vocabulary is not None and f.vocabulary not in self.vocabularies:
                problems.append(
                    (
                        ("fields", i, "vocabulary"),
                        f"field {f.name!r} names unknown vocabulary {f.vocabulary!r}"
                        + _hint(f.vocabulary, self.vocabularies),
                    )
                )
            if f.reading_of is not None and f.reading_of not in names:
                problems.append(
                    (
                        ("fields", i, "reading_of"),
                        f"field {f.name!r} is the reading of unknown field {f.reading_of!r}"
                        + _hint(f.reading_of, names),
                    )
                )
        by_name = {f.name: f for f in self.fields}
        for i, r in enumerate(self.rules):
            for j, n in enumerate(r.fields):
                if n not in names:
                    problems.append(
                        (
                            ("rules", i, "fields", j),
                            f"rule {r.rule} names unknown field {n!r}" + _hint(n, names),
                        )
                    )
            if r.rule in CONDITIONAL_RULES:
                problems += [
                    (("rules", i, *where), f"{r.rule}: {p}") for where, p in _conditional_problems(r, by_name)
                ]
            if r.rule == "class_age":
                problems += [(("rules", i, *where), p) for where, p in _class_age_problems(r, by_name)]
        if problems:
            raise _Located(problems)
        return self

    @model_validator(mode="after")
    def _infer_hints(self) -> Template:
        """The hints a template leaves unsaid, where its labels and boxes make them plain
        (pipeline/forms/defaults.py); what the template says itself is never changed."""
        said: list[str] = []
        people = [f for f in self.fields if defaults.is_name(f.label, f.kind)]
        names = [(f.name, f.box) for f in people]
        roles = {
            f.name: defaults.date_role(f.name, f.label) for f in self.fields if f.kind in defaults.DATE_KINDS
        }
        present = list(roles.values())
        for i, f in enumerate(self.fields):
            update: dict[str, Any] = {}
            if f.charset is None and defaults.is_address(f.name, f.label, f.kind):
                update["charset"] = "address"
            if f.kind == "kana" and f.reading_of is None:
                spelled = defaults.spelled_name(f.box, [n for n in names if n[0] != f.name])
                if spelled is None:
                    spelled = defaults.holders_name(f.label, [(p.name, p.label) for p in people])
                if spelled is not None:
                    update["reading_of"] = spelled
            if f.name in roles and f.date_range is None:
                update["date_range"] = defaults.date_range(roles[f.name], present)
            if f.script is None and defaults.asks_hiragana(f.label, f.kind):
                update["script"] = "hiragana"
            if defaults.keyed_twice(f.label, f.kind) and "review" not in f.model_fields_set:
                update["review"] = defaults.KEYED_TWICE_REVIEW
            if f.era_options and "infer_when_unmarked" not in f.model_fields_set:
                update["infer_when_unmarked"] = defaults.INFER_UNMARKED_ERA
            plain = defaults.number_range(f.label, f.kind)
            if plain is not None and f.min is None and f.max is None:
                update["min"], update["max"] = plain
            if update:
                self.fields[i] = f.model_copy(update=update)
                said += [f"{f.name}: {k} {_as_written(v)}" for k, v in update.items()]
        postal = [f.name for f in self.fields if f.kind == "postal_code"]
        address = [f.name for f in self.fields if f.charset == "address"]
        if (
            len(postal) == 1
            and len(address) == 1
            and not any(r.rule == "postal_matches_address" for r in self.rules)
        ):
            self.rules.append(CrossRule(rule="postal_matches_address", fields=[postal[0], address[0]]))
            said.append(f"{postal[0]}, {address[0]}: rule postal_matches_address")
        said += self._infer_date_rules(roles)
        said += self._infer_furigana_rules(names)
        self._inferred = tuple(said)
        return self

    def _infer_furigana_rules(self, names: list[tuple[str, Box]]) -> list[str]:
        """A フリガナ row is written with the name it spells: where the name is filled in and the
        row read empty (a faint, tiny furigana the reader lost), the row goes to review
        (`required_if`) instead of being accepted as blank. Said for a row right over its name
        box (not an account holder's 名義 row, blank when the account is not asked for) that is
        not `required` and that no conditional rule of the template names."""
        said: list[str] = []
        named = {n for r in self.rules if r.rule in CONDITIONAL_RULES for n in r.fields}
        for f in self.fields:
            if f.reading_of is None or f.required or f.name in named:
                continue
            if defaults.spelled_name(f.box, [n for n in names if n[0] != f.name]) != f.reading_of:
                continue
            self.rules.append(CrossRule(rule="required_if", fields=[f.name], params={"field": f.reading_of}))
            said.append(f"{f.name}: rule required_if {f.reading_of}")
        return said

    def _infer_date_rules(self, roles: dict[str, str]) -> list[str]:
        """The order of the form's dates, said when the template orders none of them itself:
        everyone was born before the day it was filled in, a guardian (an adult's birth) before
        a child, and the day asked for (利用希望日) is not before the filing; a nursery class
        (N 歳児クラス) is the one the child's birth gives on that day (`class_age`)."""
        said: list[str] = []

        def add(rule: str, fields: list[str], **params: str) -> None:
            self.rules.append(CrossRule(rule=rule, fields=fields, params=params))
            said.append(f"{', '.join(fields)}: rule {rule}")

        def having(role: str) -> list[str]:
            return [n for n, r in roles.items() if r == role]

        filed, starts, children = having("filed"), having("start"), having("child_birth")
        if not any(r.rule == "dates_in_order" for r in self.rules):
            if len(filed) == 1:
                for n, role in roles.items():
                    if role.endswith("birth"):
                        add("dates_in_order", [n, filed[0]])
                for n in starts:
                    add("dates_in_order", [filed[0], n])
            for adult in having("adult_birth"):
                for child in children:
                    add("dates_in_order", [adult, child])
        classes = [f.name for f in self.fields if defaults.is_class(f.label, f.kind)]
        if len(classes) == len(children) == len(starts) == 1 and not any(
            r.rule == "class_age" for r in self.rules
        ):
            add("class_age", [children[0], starts[0]], written=classes[0])
        return said

    @property
    def inferred(self) -> tuple[str, ...]:
        """The hints this template was given by `_infer_hints`, not by its author."""
        return self._inferred

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def blank_path(self) -> Path:
        return (self.folder or Path(".")) / self.blank


# ---------------------------------------------------------------------------------------------
# Loading with line numbers


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Walk a composed YAML node tree along a pydantic error location; return the deepest match."""
    for part in loc:
        if node is None:
            return None
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == part:
                    nxt = v
                    break
            if nxt is None:
                return node
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _key_node(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """For an unknown key, point at the key itself rather than its parent mapping."""
    parent = _node_at(node, loc[:-1])
    if isinstance(parent, yaml.MappingNode):
        for k, _v in parent.value:
            if k.value == loc[-1]:
                return k
    return parent


def _suggest(err: dict[str, Any]) -> str:
    loc = err["loc"]
    if err["type"] == "extra_forbidden" and loc:
        model_fields = {
            "fields": FieldSpec.model_fields,
            "rules": CrossRule.model_fields,
            "page": PageSize.model_fields,
            "options": Option.model_fields,
            "era_options": Option.model_fields | {"options": None, "infer_when_unmarked": None},
            "cells": Cells.model_fields,
            "parts": DateParts.model_fields,
            "identify": IdentifySettings.model_fields,
        }
        parent = next((p for p in reversed(loc[:-1]) if isinstance(p, str)), None)
        known = model_fields.get(parent or "", Template.model_fields)
        hint = difflib.get_close_matches(str(loc[-1]), list(known), n=1, cutoff=0.6)
        return (
            f" (did you mean {hint[0]!r}?)"
            if hint
            else f" (allowed: {', '.join(k for k in known if k != 'folder')})"
        )
    if err["type"] == "literal_error" and loc and loc[-1] == "kind":
        hint = difflib.get_close_matches(str(err.get("input")), FIELD_KINDS, n=1, cutoff=0.5)
        return f" (did you mean {hint[0]!r}?)" if hint else ""
    return ""


def _located_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors, with each of a `_Located`'s problems an entry at its own place."""
    errors = []
    for err in exc.errors():
        found = (err.get("ctx") or {}).get("error")
        if isinstance(found, _Located):
            errors += [{**err, "loc": (*err["loc"], *where), "msg": msg} for where, msg in found.problems]
        else:
            errors.append(err)
    return errors


def _problems_between_valid_fields(data: dict[str, Any], exc: ValidationError) -> list[dict[str, Any]]:
    """The problems between fields (a `reading_of` or a rule naming no field, an `is:` naming no
    option) that a field's own problem hides, as pydantic checks them only once every field is
    valid: found on the template without its broken fields, so an author sees every problem at
    once. Problems that name a left-out field are not reported (it exists, only broken)."""
    fields = data.get("fields")
    broken = {
        e["loc"][1]
        for e in exc.errors()
        if len(e["loc"]) >= 2 and e["loc"][0] == "fields" and isinstance(e["loc"][1], int)
    }
    if not isinstance(fields, list) or not broken or len(broken) >= len(fields):
        return []
    kept = [i for i in range(len(fields)) if i not in broken]
    left_out = {str(fields[i].get("name")) for i in broken if isinstance(fields[i], dict)}
    try:
        Template.model_validate({**data, "fields": [fields[i] for i in kept]})
    except ValidationError as again:
        out = []
        for err in _located_errors(again):
            loc = tuple(err["loc"])
            if any(repr(name) in err["msg"] for name in left_out):
                continue
            if len(loc) >= 2 and loc[0] == "fields" and isinstance(loc[1], int):
                loc = ("fields", kept[loc[1]], *loc[2:])  # back to its place in the YAML
            out.append({**err, "loc": loc})
        return out
    return []


def parse_template(text: str, source: str = "template.yaml", folder: Path | None = None) -> Template:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise TemplateError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        tpl = Template.model_validate(data)
    except ValidationError as exc:
        problems = []
        errors = _located_errors(exc) + _problems_between_valid_fields(data, exc)
        for err in errors:
            loc = tuple(err["loc"])
            node = _key_node(root, loc) if err["type"] == "extra_forbidden" else _node_at(root, loc)
            mark = node.start_mark if node is not None else None
            where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
            path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
            name_hint = ""
            if len(loc) >= 2 and loc[0] == "fields" and isinstance(loc[1], int):
                try:
                    name_hint = f" (field {data['fields'][loc[1]].get('name')!r})"
                except (KeyError, IndexError, AttributeError, TypeError):
                    name_hint = ""
            problems.append(f"{where} {path or '<top>'}{name_hint}: {err['msg']}{_suggest(err)}")
        raise TemplateError(f"{source}: {len(problems)} problem(s) in the template", problems) from None
    return tpl.model_copy(update={"folder": folder})


def load_template(path: Path) -> Template:
    """Load `path` (a template.yaml or the folder holding one) and check its blank exists."""
    path = Path(path)
    if path.is_dir():
        path = path / "template.yaml"
    if not path.exists():
        raise TemplateError(f"{path}: no such template file")
    tpl = parse_template(path.read_text(encoding="utf-8"), source=str(path), folder=path.parent)
    if not tpl.blank_path.exists():
        raise TemplateError(f"{path}: blank image {tpl.blank!r} not found next to the template")
    return tpl


def template_folders(templates_dir: Path) -> list[Path]:
    """The sub-folders of `templates_dir` that hold a template.yaml, by name."""
    return sorted(p.parent for p in Path(templates_dir).glob("*/template.yaml"))


@lru_cache(maxsize=8)
def load_all_templates(templates_dir: Path) -> tuple[Template, ...]:
    """Every form template under `templates_dir` (one sub-folder each). A broken one raises."""
    folders = template_folders(templates_dir)
    if not folders:
        raise TemplateError(f"{templates_dir}: no templates found (expected <form_id>/template.yaml)")
    return tuple(load_template(f) for f in folders)


def find_template(templates_dir: Path, form_id: str) -> Template:
    """The template whose form id is `form_id`: its own folder first, so another form's broken
    template does not stop this one from being found (and checked); else every folder, in turn."""
    own = Path(templates_dir) / form_id
    if (own / "template.yaml").is_file():
        tpl = load_template(own)
        if tpl.form_id == form_id:
            return tpl
    ids, broken = [], []
    for folder in template_folders(templates_dir):
        try:
            tpl = load_template(folder)
        except TemplateError:
            broken.append(folder.name)
            continue
        if tpl.form_id == form_id:
            return tpl
        ids.append(tpl.form_id)
    hint = difflib.get_close_matches(form_id, ids, n=1)
    raise TemplateError(
        f"no template {form_id!r}"
        + (f"; did you mean {hint[0]!r}?" if hint else "")
        + f" (known: {', '.join(ids) or 'none'})"
        + (f"; folders that could not be loaded: {', '.join(broken)}" if broken else "")
    )
