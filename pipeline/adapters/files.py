"""One file per batch, written so a reader never sees half of it and a crash never loses or
doubles a record: shared by the CSV and fixed-width targets.

`write_batch` writes the manifest first (`<file>.manifest.json`: record count, sha256 and byte size of
the data file, and each record's idempotency key with its line), then the data file, each through a
temporary name in the same folder, fsync and rename. A data file is therefore only ever visible
complete, and always with its manifest beside it. `find_key` answers "is this record already in a
file?" from the manifests whose data file exists and matches its sha256; a manifest whose data file
never appeared (a crash between the two renames) is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.adapters.base import Adapter, Outcome, Receipt, Rendered

MANIFEST_SUFFIX = ".manifest.json"


@dataclass(frozen=True)
class BatchFile:
    path: Path
    manifest: Path
    sha256: str
    records: int
    first_line: int  # line number (1-based) of the first record: 2 after a header line


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def batch_name(target: str, suffix: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{target}_{stamp}_{uuid.uuid4().hex[:6]}{suffix}"


def write_batch(
    out_dir: Path,
    name: str,
    data: bytes,
    keys: Sequence[str],
    *,
    first_line: int,
    extra: dict[str, Any] | None = None,
    replace: bool = False,
) -> BatchFile:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    if path.exists() and not replace:
        raise FileExistsError(f"{path} exists; batch files are never overwritten")
    sha = hashlib.sha256(data).hexdigest()
    manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    body = {
        "file": path.name,
        "records": len(keys),
        "sha256": sha,
        "bytes": len(data),
        "first_line": first_line,
        "keys": {k: first_line + i for i, k in enumerate(keys)},
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    _atomic_write(manifest, json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"))
    _atomic_write(path, data)
    return BatchFile(path, manifest, sha, len(keys), first_line)


def read_manifest(data_file: Path) -> dict[str, Any] | None:
    m = data_file.with_name(data_file.name + MANIFEST_SUFFIX)
    if not m.is_file():
        return None
    return json.loads(m.read_text(encoding="utf-8"))


def check_file(data_file: Path) -> bool:
    """The data file exists and matches the count and sha256 its manifest records."""
    manifest = read_manifest(data_file)
    if manifest is None or not data_file.is_file():
        return False
    return hashlib.sha256(data_file.read_bytes()).hexdigest() == manifest["sha256"]


def find_key(out_dir: Path, key: str) -> tuple[Path, int] | None:
    """(data file, line) holding the record with idempotency key `key`, from complete batches only."""
    if not out_dir.is_dir():
        return None
    for m in sorted(out_dir.glob("*" + MANIFEST_SUFFIX), reverse=True):
        try:
            body = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        line = body.get("keys", {}).get(key)
        if line is None:
            continue
        data_file = m.with_name(body["file"])
        if data_file.is_file() and check_file(data_file):
            return data_file, int(line)
    return None


def read_line(data_file: Path, line: int, separator: bytes = b"\r\n") -> bytes | None:
    """Line `line` (1-based) of a batch file, without its separator."""
    if not data_file.is_file():
        return None
    lines = data_file.read_bytes().split(separator)
    return lines[line - 1] if 0 < line <= len(lines) else None


def parse_ref(ref: str) -> tuple[str, int]:
    """A file receipt's ref is `name:line`."""
    name, _, line = ref.rpartition(":")
    return name, int(line)


class BatchFileAdapter(Adapter):
    """A target that takes one file per batch (CSV, fixed width): the relay hands over the whole
    claim; each record's receipt is `file:line`. A subclass says how the batch becomes bytes."""

    batched = True
    suffix = ".dat"

    @property
    def out_dir(self) -> Path:
        """`dir` option (default `<data_dir>/deliveries/<profile name>`; relative: under data_dir)."""
        d = Path(self.profile.option("dir") or Path("deliveries") / self.profile.name)
        return d if d.is_absolute() else Path(self.settings.data_dir) / d

    def batch_bytes(self, records: Sequence[Rendered]) -> tuple[bytes, int, dict[str, Any]]:
        """(file contents, line of the first record, extra manifest entries)."""
        raise NotImplementedError

    def deliver(self, rendered: Rendered) -> Receipt:
        out = self.deliver_batch([rendered])[0]
        if isinstance(out, BaseException):
            raise out
        return out

    def deliver_batch(self, records: Sequence[Rendered]) -> list[Outcome]:
        if not records:
            return []
        data, first, extra = self.batch_bytes(records)
        name = batch_name(self.profile.name, str(self.profile.option("suffix", self.suffix)))
        keys = [r.key for r in records]
        bf = write_batch(
            self.out_dir, name, data, keys, first_line=first, extra={"target": self.profile.name, **extra}
        )
        return [
            Receipt(
                f"{bf.path.name}:{first + i}", {"file": bf.path.name, "line": first + i, "sha256": bf.sha256}
            )
            for i in range(len(records))
        ]

    def find(self, key: str) -> Receipt | None:
        """The record's place in a complete batch file of this target, from the manifests."""
        hit = find_key(self.out_dir, key)
        if hit is None:
            return None
        path, line = hit
        return Receipt(f"{path.name}:{line}", {"file": path.name, "line": line})
