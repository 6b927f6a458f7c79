"""Katakana rules for handwriting: small kana that cannot stand where they were read are the
large ones (キャ is fine, アャ is アヤ)."""

from __future__ import annotations

import re

# Small kana are legal only after certain sounds: ャュョ after an イ-row kana (キャ, シュ), ァィゥェォ
# after the few kana that form foreign sounds (ファ, ティ, ウェ), ッ before a k/s/t/p-row kana.
# Handwriting makes small and large kana look alike, so an impossible small kana is the large one.
_YOON_BEFORE = set("キシチニヒミリギジヂビピ")
_SMALL_VOWEL_BEFORE = set("フヴウテデトドツシジチクグスズ")
_SOKUON_BEFORE = set("カキクケコサシスセソタチツテトパピプペポガギグゲゴザジズゼゾダヂヅデドバビブベボ")
_SMALL_TO_LARGE = dict(zip("ャュョァィゥェォッヵヶ", "ヤユヨアイウエオツカケ", strict=True))


def fix_small_kana(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        prev = out[-1] if out else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch in "ャュョ" and prev not in _YOON_BEFORE:
            ch = _SMALL_TO_LARGE[ch]
        elif ch in "ァィゥェォ" and prev not in _SMALL_VOWEL_BEFORE:
            ch = _SMALL_TO_LARGE[ch]
        elif ch == "ッ" and (not prev or prev in "ンーッ" or nxt not in _SOKUON_BEFORE):
            ch = "ツ"
        elif ch in "ヵヶ":
            ch = _SMALL_TO_LARGE[ch]
        out.append(ch)
    return "".join(out)


_VU_LARGE = re.compile(r"ヴ[アイエオ]")
_VU_VOWEL = str.maketrans("アイエオ", "ァィェォ")


def small_after_vu(text: str) -> str:
    """ヴ's vowel small (カーサヴイラ → カーサヴィラ): ヴィ, ヴァ, ヴェ, ヴォ are spelt with the small
    kana, which the recogniser often reads large at working resolution."""
    return _VU_LARGE.sub(lambda m: m.group(0).translate(_VU_VOWEL), text)
