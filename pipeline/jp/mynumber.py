"""個人番号 (My Number): 12 digits whose last is a check digit (python-stdnum). Never log,
print or put the number in a message or a file name; see pipeline/privacy.py for masking."""

from __future__ import annotations

from stdnum.jp import in_ as _in

LENGTH = 12


def is_valid(number: str) -> bool:
    """Whether `number` is 12 digits with a matching check digit."""
    return bool(_in.is_valid(number))
