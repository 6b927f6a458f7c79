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
