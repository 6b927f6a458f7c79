"""The plain export of accepted records (`shinsei export --csv FILE` and the nightly batch's export
step) through shinsei's one CSV writer (`csv_target.write_csv`): the bundled profile `export_utf8`
(UTF-8 with BOM, CRLF, minimal quoting, a header, ISO dates) with its columns taken from the form's
template, so any form exports the same way.

Columns: `document_id, sha256, page, form_id`, then the template's field names in template order
(without a template, the field names found in the records, sorted). Lists (multi-choice) are joined
with "・", None is empty, booleans are `True`/`False`; 個人番号 is masked unless the caller asks for
it (and then audit-logs that it did). The file is written atomically with a manifest beside it
(`<file>.manifest.json`: count, sha256); an export replaces an earlier file of the same name. A
character the profile's encoding cannot hold raises `UnencodableError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from pipeline.adapters.csv_target import write_csv
from pipeline.adapters.profile import render
from pipeline.forms.template import Template
from pipeline.result import DeliveryRecord
from pipeline.targets import META_SOURCES, ColumnSpec, TargetProfile, load_profile

EXPORT_PROFILE = "export_utf8"
HEADER = ("document_id", "sha256", "page", "form_id")


class _Summary(Protocol):
    id: int
    sha256: str


Record = tuple[_Summary, int, Mapping[str, Any]]  # (document, page index, final field values)


def export_profile(form_id: str, names: Sequence[str], base: TargetProfile | None = None) -> TargetProfile:
    """`export_utf8` (or `base`) with one text column per field name after the four meta columns."""
    base = base or load_profile(EXPORT_PROFILE)
    columns = [ColumnSpec(column=c, source=c) for c in HEADER] + [
        ColumnSpec(column=n, source=n, if_true="True", if_false="False") for n in names
    ]
    return base.model_copy(update={"form_id": form_id, "columns": columns})


def export_csv(
    path: Path,
    form_id: str,
    template: Template | None,
    records: Iterable[Record],
    *,
    include_my_number: bool = False,
) -> int:
    """Write `records` of form `form_id` to `path`; returns the number of records written."""
    records = list(records)
    if template is not None:
        names = [f.name for f in template.fields]
        kinds = {f.name: f.kind for f in template.fields}
    else:  # a form no longer configured: what the records hold, none of it known to be a 個人番号
        names = sorted({k for _, _, values in records for k in values} - META_SOURCES)
        kinds = {}
    profile = export_profile(form_id, names)
    rows = []
    for summary, page_index, values in records:
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
    header = [c.column for c in profile.columns]
    return write_csv(path, profile, header, rows, replace=True).records
