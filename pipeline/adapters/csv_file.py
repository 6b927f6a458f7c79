"""The one CSV writer: accepted records of one form as a CSV file a legacy system or a clerk's
spreadsheet reads. Used by `shinsei export` and by the nightly batch's export step.

Format: UTF-8 with BOM (Excel opens it as UTF-8), CRLF line ends, a header
`document_id, sha256, page, form_id, <the template's field names in template order>`; lists
(multi_choice) joined with "・", None as empty. 個人番号 fields are masked unless the caller asks
for them (and then audit-logs that it did). The file is written to `<name>.part` and renamed, so a
reader never sees half a file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipeline.forms.template import Template
from pipeline.privacy import mask_my_number
from pipeline.store import DocumentSummary

Record = tuple[DocumentSummary, int, dict[str, Any]]  # (document, page index, field values)
HEADER = ("document_id", "sha256", "page", "form_id")


def cell(value: Any) -> str:
    """A field value as CSV text."""
    return "・".join(value) if isinstance(value, list) else ("" if value is None else value)


def write_records(
    path: Path,
    form_id: str,
    template: Template | None,
    records: Iterable[Record],
    include_my_number: bool = False,
) -> int:
    """Write `records` of form `form_id` to `path`; returns the number of records written.

    Without a template (a form no longer configured) the columns are the field names found in the
    records, sorted, and `records` must be a sequence (it is read twice)."""
    if template is not None:
        names = [f.name for f in template.fields]
        secret = {f.name for f in template.fields if f.kind == "my_number"}
    else:
        if not isinstance(records, Sequence):
            raise TypeError("records must be a sequence when there is no template")
        names = sorted({k for _, _, values in records for k in values})
        secret = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    written = 0
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([*HEADER, *names])
        for summary, page_index, values in records:
            out = []
            for name in names:
                v = values.get(name)
                if name in secret and not include_my_number:
                    v = mask_my_number(v)
                out.append(cell(v))
            writer.writerow([summary.id, summary.sha256, page_index + 1, form_id, *out])
            written += 1
    tmp.replace(path)
    return written
