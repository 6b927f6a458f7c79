"""The plain export (`shinsei export --csv FILE`) through the one CSV writer: accepted records,
rendered by a CSV profile (default `export_utf8`: UTF-8 with BOM, CRLF, a header of field names,
個人番号 masked unless asked), written atomically with a manifest by `csv_target.write_csv`.

The caller passes the records (`Store.accepted_pages(form_id)` rows) and audits the export; a
character the profile's encoding cannot hold raises `UnencodableError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from pipeline.adapters.base import DeliveryRecord
from pipeline.adapters.csv_target import write_csv
from pipeline.adapters.files import BatchFile
from pipeline.adapters.profile import TargetProfile, render


class _Summary(Protocol):
    id: int
    sha256: str


def export_csv(
    path: Path,
    profile: TargetProfile,
    pages: Iterable[tuple[_Summary, int, Mapping[str, Any]]],
    *,
    form_id: str,
    kinds: Mapping[str, str],
    include_my_number: bool = False,
) -> BatchFile:
    """Write every (summary, page index, final values) row to `path`; returns the file written."""
    rows = []
    for summary, page_index, values in pages:
        rec = DeliveryRecord(
            key=f"{summary.sha256}:{page_index}",
            document_id=summary.id,
            sha256=summary.sha256,
            page_index=page_index,
            form_id=form_id,
            values=values,
            kinds=kinds,
        )
        rows.append([f.as_sent for f in render(rec, profile, include_my_number=include_my_number).fields])
    header = [c.column for c in profile.columns] if profile.option("header", True) else None
    return write_csv(path, profile, header, rows)
