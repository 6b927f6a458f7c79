"""Japanese telephone numbers: whether a written number is one that can exist (phonenumbers'
numbering plan for Japan: a mobile is 070/080/090 and eight digits, a landline ten digits with a
real area code), whether it has the shape of one at all, and the numbers one written digit
away from it."""

from __future__ import annotations

import re

import phonenumbers

DIGITS = "0123456789"


def parse(text: str, international: bool = False) -> phonenumbers.PhoneNumber | None:
    """The number `text` spells when Japan's numbering plan allows it, else None: a domestic
    number (leading 0, ten or eleven digits, hyphens or not), or with `international` one written
    +81…."""
    digits = re.sub(r"\D", "", text)
    if not international and not (digits.startswith("0") and len(digits) in (10, 11)):
        return None
    try:
        num = phonenumbers.parse(("+" if international else "") + digits, "JP")
    except phonenumbers.NumberParseException:
        return None
    return num if num.country_code == 81 and phonenumbers.is_valid_number(num) else None


def is_valid(text: str) -> bool:
    """A domestic number (leading 0, hyphens or not) that Japan's numbering plan allows."""
    return parse(text) is not None


# Prefixes of numbers eleven digits long (mobile, IP phone, 0800 free dial); every other domestic
# number has ten (a landline with its area code, 0120).
ELEVEN = ("070", "080", "090", "050", "0800")


def well_formed(text: str) -> bool:
    """Whether `text` has the shape of a domestic number: a 0, then not a second 0 (00 begins an
    international call), and as many digits as a number with its prefix has. A mobile one digit
    short is misread whatever the area-code table says, while a landline of ten digits with an
    area code the table lacks may be written as meant."""
    digits = re.sub(r"\D", "", text)
    if len(digits) < 2 or digits[0] != "0" or digits[1] == "0":
        return False
    return len(digits) == (11 if digits.startswith(ELEVEN) else 10)


def one_edit(text: str) -> list[str]:
    """Every string one digit away from `text`: a digit changed, added, or dropped (separators
    stay where they are)."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch.isdigit():
            out += [text[:i] + d + text[i + 1 :] for d in DIGITS if d != ch]
            out.append(text[:i] + text[i + 1 :])
    for i in range(len(text) + 1):
        out += [text[:i] + d + text[i:] for d in DIGITS]
    return [c for c in dict.fromkeys(out) if c != text]
