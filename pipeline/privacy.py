"""個人番号 (マイナンバー) kept out of sight: masking for display and export (`mask_my_number`,
`mask_export`) and redaction of anything that looks like one before it is logged or written to
the audit log or the failed-task table (`redact`)."""

from __future__ import annotations

import re
from typing import Any

_DIGITS = re.compile(r"\d")
REDACTED = "[redacted]"
# 12 or more digits (ASCII or full-width), optionally split by spaces or dashes: a possible 個人番号.
_LONG_DIGIT_RUN = re.compile(r"\d(?:[\s\-‐‑‒–—―－ー]?\d){11,}")


def mask_my_number(value: Any) -> Any:
    """`123456789012` → `********9012`; keeps only the last four digits, as on a receipt."""
    if not isinstance(value, str) or not value:
        return value
    digits = _DIGITS.findall(value)
    if len(digits) <= 4:
        return "*" * len(value)
    keep = "".join(digits[-4:])
    return "*" * (len(digits) - 4) + keep


def mask_export(data: dict[str, Any]) -> dict[str, Any]:
    """Mask every 個人番号 field of a document's export (`DocumentResult.export()` or the store's
    `Document.export()`) in place, and drop its per-character probabilities, which would spell the
    number out. Returns `data`."""
    for page in data.get("pages", []):
        for f in page.get("fields", []):
            if f.get("kind") == "my_number":
                f["value"], f["raw"], f["chars"] = mask_my_number(f["value"]), mask_my_number(f["raw"]), []
    return data


def redact(value: Any) -> Any:
    """Replace every run of 12+ digits (a possible 個人番号) in strings, ints and dict keys."""
    if isinstance(value, str):
        return _LONG_DIGIT_RUN.sub(REDACTED, value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return REDACTED if len(str(abs(value))) >= 12 else value
    if isinstance(value, dict):
        return {redact(str(k)): redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return redact(str(value))
