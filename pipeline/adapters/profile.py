"""`render()`: turns a `DeliveryRecord` into exactly what one target will receive, by its profile
(`pipeline/targets.py` reads and checks profiles; their names are re-exported here).

外字: every value is encoded with the target encoding, strictly. A character it cannot hold is
never replaced silently: under policy `review` (the default) `render` raises `UnencodableError`
naming each character and field, so nothing is written; under `substitute` it becomes 〓 and the
column is flagged. Characters the encoding folds into another code point on the way (〜 U+301C and
～ U+FF5E are both 0x8160 in cp932 and come back as ～) are sent as the target will give them back,
and flagged "folded", so read-back compares like with like.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pipeline.adapters.base import (
    MY_NUMBER_KIND,
    DeliveryRecord,
    DeliveryRejected,
    Rendered,
    SentField,
    TruncationError,
    Unencodable,
    UnencodableError,
)
from pipeline.privacy import mask_my_number
from pipeline.targets import (
    BUNDLED_DIR,
    DEFAULT_ERA_CODES,
    ERAS,
    META_SOURCES,
    ColumnSpec,
    TargetProfile,
    available_profiles,
    load_profile,
    load_profile_file,
    profile_dirs,
    target_profile,
)

GETA = "〓"  # U+3013, the customary mark for a character that could not be set; in every JIS table

__all__ = [
    "BUNDLED_DIR",
    "DEFAULT_ERA_CODES",
    "ERAS",
    "META_SOURCES",
    "GETA",
    "ColumnSpec",
    "TargetProfile",
    "available_profiles",
    "byte_len",
    "load_profile",
    "load_profile_file",
    "profile_dirs",
    "render",
    "target_profile",
    "wareki",
]


# --- rendering ---


def wareki(d: date) -> tuple[str, int]:
    """(era name, year of the era) for a date from 明治 on."""
    for era, start in ERAS:
        if d >= start:
            return era, d.year - start.year + 1
    raise ValueError(f"{d.isoformat()} is before 明治")


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _format(spec: ColumnSpec, profile: TargetProfile, value: Any) -> str:
    if value is None or value == "" or value == []:
        return spec.default
    f = spec.format
    if f == "bool":
        return spec.if_true if value else spec.if_false
    if f == "code":
        table = profile.code_tables[spec.code or ""]
        items = value if isinstance(value, list) else [value]
        missing = [str(v) for v in items if str(v) not in table]
        if missing:
            raise DeliveryRejected(
                f"{spec.source}: コード表 {spec.code} にない値です: {'、'.join(missing)}", reason="no_code"
            )
        return spec.join.join(table[str(v)] for v in items)
    if f in ("date", "era_code", "era_year", "year", "month", "day"):
        d = _as_date(value)
        if d is None:
            return spec.default
        era, year = wareki(d)
        if f == "era_code":
            return profile.era_codes[era]
        if f == "era_year":
            return f"{year:02d}"
        if f == "year":
            return f"{d.year:04d}"
        if f == "month":
            return f"{d.month:02d}"
        if f == "day":
            return f"{d.day:02d}"
        if profile.date_style == "iso":
            return d.isoformat()
        if profile.date_style == "wareki":
            return f"{profile.era_codes[era]}{year:02d}{d.month:02d}{d.day:02d}"
        return f"{d.year:04d}{d.month:02d}{d.day:02d}"
    if f == "digits":
        return "".join(ch for ch in str(value) if ch.isdigit())
    if isinstance(value, list):
        return spec.join.join(str(v) for v in value)
    if isinstance(value, bool):
        return spec.if_true if value else spec.if_false
    return str(value)


def _meta(source: str, record: DeliveryRecord) -> Any:
    return {
        "key": record.key,
        "document_id": record.document_id,
        "sha256": record.sha256,
        "page": record.page_index + 1,
        "form_id": record.form_id,
    }[source]


def _encode(text: str, encoding: str) -> tuple[str, list[str]]:
    """(what the target will hold, characters it cannot hold). Each character is tried alone so
    every offender is named, not only the first."""
    held, bad = [], []
    for ch in text:
        try:
            held.append(ch.encode(encoding).decode(encoding))
        except UnicodeEncodeError:
            bad.append(ch)
            held.append(GETA)
    return "".join(held), bad


def byte_len(text: str, encoding: str) -> int:
    return len(text.encode(encoding))


def render(
    record: DeliveryRecord, profile: TargetProfile, *, include_my_number: bool | None = None
) -> Rendered:
    """What `profile`'s target receives for `record`. Raises `UnencodableError` (policy review) or
    `TruncationError` (a value longer than its column's byte width); nothing is sent then."""
    reveal = profile.include_my_number if include_my_number is None else include_my_number
    fields: list[SentField] = []
    unencodable: list[Unencodable] = []
    too_long: list[str] = []
    for spec in profile.columns:
        meta = spec.source in META_SOURCES
        value = _meta(spec.source, record) if meta else record.values.get(spec.source)
        secret = not meta and record.kinds.get(spec.source) == MY_NUMBER_KIND
        written = _format(spec, profile, value)
        if secret and (spec.mask if spec.mask is not None else not reveal):
            written = _mask_digits(written)
        sent, bad = _encode(written, profile.encoding)
        flags: list[str] = []
        if bad:
            unencodable += [Unencodable(spec.source, spec.column, ch) for ch in dict.fromkeys(bad)]
            flags.append("substituted")
        elif sent != written:
            flags.append("folded")
        if spec.width is not None and byte_len(sent, profile.encoding) > spec.width:
            n = byte_len(sent, profile.encoding)
            too_long.append(
                f"{spec.source}（{spec.column}）は {n} バイトで、幅 {spec.width} バイトを超えます"
            )
        fields.append(SentField(spec.column, spec.source, written, sent, tuple(flags), secret))
    if unencodable and profile.gaiji == "review":
        raise UnencodableError(profile.name, unencodable)
    if too_long:
        raise TruncationError("切り捨てはしません: " + "；".join(too_long))
    return Rendered(record, profile.name, tuple(fields), tuple(unencodable))


def _mask_digits(value: str) -> str:
    return str(mask_my_number(value))
