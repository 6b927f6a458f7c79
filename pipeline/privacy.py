"""Masking of 個人番号 (マイナンバー) for display, export and logs."""

from __future__ import annotations

import re
from typing import Any

_DIGITS = re.compile(r"\d")


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
