"""Target profiles: one YAML file per delivery target, read and checked by pydantic. This is
configuration, like Settings: it sits at the bottom layer so the store can learn which form each
configured target takes (`pipeline/store/outbox.py: configured_targets`) without importing the
adapters. Rendering a record for a profile is `pipeline/adapters/profile.py: render`.

A profile names its adapter (`csv`, `fixed_width`, `sql`, `rpa_web`), the form it takes, the target
encoding, the 外字 policy, code tables, the date style and the columns in order (see
docs/adapters.md). Profiles are looked up by name in `settings.delivery_profiles_dir` first, then in
the bundled `pipeline/adapters/profiles/`; `settings.delivery_options` overrides a profile's
`options` (a database URL, an output folder) without copying the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import TemplateError
from pipeline.settings import Settings

BUNDLED_DIR = Path(__file__).resolve().parent / "adapters" / "profiles"
META_SOURCES = frozenset({"key", "document_id", "sha256", "page", "form_id"})
# 明治 onward; the era codes most municipal systems use (1 明治 … 5 令和) are the profile default.
ERAS: tuple[tuple[str, date], ...] = (
    ("令和", date(2019, 5, 1)),
    ("平成", date(1989, 1, 8)),
    ("昭和", date(1926, 12, 25)),
    ("大正", date(1912, 7, 30)),
    ("明治", date(1868, 10, 23)),
)
DEFAULT_ERA_CODES = {"明治": "1", "大正": "2", "昭和": "3", "平成": "4", "令和": "5"}

Format = Literal["text", "date", "code", "digits", "bool", "era_code", "era_year", "year", "month", "day"]


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str = Field(
        description="the target's name: CSV header, table column, fixed-width item, input name"
    )
    source: str = Field(description="a field of the form, or key / document_id / sha256 / page / form_id")
    format: Format = "text"
    code: str | None = Field(default=None, description="code table for format: code")
    join: str = Field(default="・", description="between the items of a multi-choice value")
    if_true: str = "1"
    if_false: str = "0"
    width: int | None = Field(default=None, ge=1, description="bytes in the target encoding")
    align: Literal["left", "right"] = "left"
    fill: str = " "
    mask: bool | None = Field(
        default=None, description="mask a 個人番号 (default: yes unless include_my_number)"
    )
    default: str = ""
    screen: int = Field(default=1, ge=1, description="rpa_web: the entry screen step that holds it")

    @model_validator(mode="after")
    def _check(self) -> ColumnSpec:
        if self.format == "code" and not self.code:
            raise ValueError(f"column {self.column!r}: format code needs `code:` (a code table name)")
        return self


class TargetProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    adapter: Literal["csv", "fixed_width", "sql", "rpa_web"]
    form_id: str | None = Field(default=None, description="only records of this form (None: any)")
    description: str = ""
    encoding: str = "cp932"
    gaiji: Literal["review", "substitute"] = "review"
    date_style: Literal["seireki", "wareki", "iso"] = "seireki"
    era_codes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ERA_CODES))
    code_tables: dict[str, dict[str, str]] = Field(default_factory=dict)
    include_my_number: bool = False
    batch_size: int = Field(default=500, ge=1, description="records per claim (per file for file targets)")
    columns: list[ColumnSpec]
    options: dict[str, Any] = Field(
        default_factory=dict, description="adapter settings (see docs/adapters.md)"
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {v!r}") from exc
        return v

    @model_validator(mode="after")
    def _check(self) -> TargetProfile:
        for c in self.columns:
            if c.code and c.code not in self.code_tables:
                hint = difflib.get_close_matches(c.code, list(self.code_tables), n=1)
                more = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ValueError(f"column {c.column!r}: no code table {c.code!r}{more}")
        if self.adapter == "fixed_width" and any(c.width is None for c in self.columns):
            raise ValueError("a fixed_width profile needs `width` (bytes) on every column")
        if len({c.column for c in self.columns}) != len(self.columns):
            raise ValueError("column names must be unique")
        return self

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


def profile_dirs(extra: Path | None) -> list[Path]:
    return [d for d in (extra, BUNDLED_DIR) if d is not None]


def available_profiles(extra: Path | None = None) -> list[str]:
    names: list[str] = []
    for d in profile_dirs(extra):
        if d.is_dir():
            names += [p.stem for p in sorted(d.glob("*.yaml")) if p.stem not in names]
    return names


def load_profile_file(path: Path, overrides: Mapping[str, Any] | None = None) -> TargetProfile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML", [str(exc)]) from exc
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: a target profile must be a mapping")
    data.setdefault("name", path.stem)
    if overrides:
        data["options"] = {**(data.get("options") or {}), **dict(overrides)}
    try:
        return TargetProfile.model_validate(data)
    except ValidationError as exc:
        problems = [f"{path.name} {'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise TemplateError(f"target profile {path} is invalid", problems) from exc


def load_profile(
    name: str, extra_dir: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> TargetProfile:
    """The profile `name` (user folder first, then the bundled ones). An unknown name lists the
    known ones, with the closest first."""
    for d in profile_dirs(extra_dir):
        path = d / f"{name}.yaml"
        if path.is_file():
            return load_profile_file(path, overrides)
    known = available_profiles(extra_dir)
    hint = difflib.get_close_matches(name, known, n=1)
    more = f"; did you mean {hint[0]!r}?" if hint else ""
    raise TemplateError(f"no target profile {name!r} (known: {', '.join(known) or 'none'}){more}")


def target_profile(name: str, settings: Settings) -> TargetProfile:
    """The profile `name` with `settings.delivery_options[name]` over its options."""
    return load_profile(name, settings.delivery_profiles_dir, settings.delivery_options.get(name))
