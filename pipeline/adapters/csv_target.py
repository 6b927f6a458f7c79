"""CSV target: one file per batch, in the profile's encoding (cp932 by default; UTF-8 with or
without a BOM), CRLF line ends, quoting per profile, written atomically with a manifest
(`files.write_batch`). The receipt of each record is `file:line`.

This is shinsei's one CSV writer: `write_csv` also serves the plain export (`shinsei export --csv`
and the nightly batch's export step, `export.py`), the bundled profile `export_utf8` (UTF-8 with
BOM, a header of field names, 個人番号 masked unless asked).

Options (profile `options:`): `dir` (default `<data_dir>/deliveries/<profile name>`; a relative
path is under data_dir), `header` (true), `quoting` (`minimal` | `all` | `nonnumeric`), `bom`
(false; only with a UTF-8 encoding), `line_end` ("\r\n").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipeline.adapters import files
from pipeline.adapters.base import Receipt, Rendered
from pipeline.adapters.profile import TargetProfile

QUOTING = {"minimal": csv.QUOTE_MINIMAL, "all": csv.QUOTE_ALL, "nonnumeric": csv.QUOTE_NONNUMERIC}


def file_encoding(profile: TargetProfile) -> str:
    """The Python codec for the bytes on disk: `utf-8-sig` when a UTF-8 profile asks for a BOM."""
    utf8 = profile.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    return "utf-8-sig" if utf8 and profile.option("bom", False) else profile.encoding


def csv_bytes(profile: TargetProfile, header: Sequence[str] | None, rows: Iterable[Sequence[str]]) -> bytes:
    """The whole file as bytes, encoded strictly (values were checked by `render`; a header the
    encoding cannot hold is a profile error and raises here)."""
    buf = io.StringIO(newline="")
    quoting = QUOTING[str(profile.option("quoting", "minimal"))]
    w = csv.writer(buf, lineterminator=str(profile.option("line_end", "\r\n")), quoting=quoting)
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(file_encoding(profile))


def write_csv(
    path: Path,
    profile: TargetProfile,
    header: Sequence[str] | None,
    rows: Iterable[Sequence[str]],
    *,
    replace: bool = False,
) -> files.BatchFile:
    """Write one CSV file (and its manifest) atomically at `path`; `rows` are already rendered.
    `replace`: an export may overwrite its earlier file (a delivery batch file never is)."""
    rows = [list(r) for r in rows]
    data = csv_bytes(profile, header, rows)
    keys = [f"row{i + 1}" for i in range(len(rows))]
    return files.write_batch(
        path.parent, path.name, data, keys, first_line=2 if header else 1, replace=replace
    )


class CsvAdapter(files.BatchFileAdapter):
    kind = "csv"
    suffix = ".csv"
    _cache: tuple[tuple[Path, int, int], list[list[str]]] | None = None

    @property
    def header(self) -> list[str] | None:
        return [c.column for c in self.profile.columns] if self.profile.option("header", True) else None

    def batch_bytes(self, records: Sequence[Rendered]) -> tuple[bytes, int, dict[str, Any]]:
        rows = [[f.as_sent for f in r.fields] for r in records]
        data = csv_bytes(self.profile, self.header, rows)
        return data, 2 if self.header else 1, {"encoding": file_encoding(self.profile)}

    def _rows(self, path: Path) -> list[list[str]]:
        """The file's rows, parsed once per file version (a batch is verified record by record)."""
        stat = path.stat()
        stamp = (path, stat.st_mtime_ns, stat.st_size)
        if self._cache is None or self._cache[0] != stamp:
            text = path.read_bytes().decode(file_encoding(self.profile))
            self._cache = (stamp, list(csv.reader(io.StringIO(text, newline=""))))
        return self._cache[1]

    def read_back(self, receipt: Receipt) -> dict[str, str] | None:
        name, line = files.parse_ref(receipt.ref)
        path = self.out_dir / name
        if not path.is_file():
            return None
        rows = self._rows(path)
        if not 0 < line <= len(rows):
            return None
        columns = self.header or [c.column for c in self.profile.columns]
        return dict(zip(columns, rows[line - 1], strict=False))
