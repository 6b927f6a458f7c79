"""Copy a refused file aside, with a reason.json a clerk can read; the original is kept."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- quarantine

_SHA_RE = re.compile(r"[0-9a-f]{16,64}")
_REASON_RE = re.compile(r"[a-z0-9_]{1,64}")
_EXT_RE = re.compile(r"\.[a-z0-9]{1,10}")


def quarantine(
    path: Path,
    quarantine_dir: Path,
    sha256: str,
    reason: str,
    message: str,
    *,
    original_name: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Copy `path` to `quarantine_dir/<sha256[:16]>_<reason>/original<ext>` with a `reason.json`.

    `original_name` is the clerk's file name, recorded in `reason.json` (default: `path`'s name;
    callers that quarantine the content-addressed stored copy pass the name it arrived with).
    `extra` adds keys to `reason.json` (the guard's exception class and redacted traceback).
    The original is never moved or deleted. Calling it again for the same file and reason changes
    nothing (the first `reason.json` is kept; a different file name is added to `other_names`).
    Returns the folder.
    """
    path = Path(path)
    sha256 = sha256.lower()
    if not _SHA_RE.fullmatch(sha256):
        raise ValueError("sha256 must be a hex digest")
    if not _REASON_RE.fullmatch(reason):
        raise ValueError(f"bad reason code {reason!r}")
    folder = Path(quarantine_dir) / f"{sha256[:16]}_{reason}"
    folder.mkdir(parents=True, exist_ok=True)

    ext = path.suffix.lower()
    stored = folder / ("original" + (ext if _EXT_RE.fullmatch(ext) else ""))
    size = path.stat().st_size
    if not (stored.is_file() and stored.stat().st_size == size):
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, stored)
        finally:
            tmp.unlink(missing_ok=True)

    name = original_name or path.name
    meta_path = folder / "reason.json"
    meta: dict[str, Any] | None = None
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None  # half-written by a crash: rewrite it
    if meta is None:
        meta = {
            "reason": reason,
            "message": message,
            "original_name": name,
            "stored_as": stored.name,
            "size_bytes": size,
            "sha256": sha256,
            "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **(extra or {}),
        }
    elif name != meta.get("original_name") and name not in meta.get("other_names", []):
        meta["other_names"] = [*meta.get("other_names", []), name]
    else:
        return folder
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    try:
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, meta_path)
    finally:
        tmp.unlink(missing_ok=True)
    return folder
