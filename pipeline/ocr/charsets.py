"""Named character sets for field kinds, as masks over the recogniser's classes.

A form template says what a field may contain (`phone`, `kana`, `address`, ...). Here each name
becomes

* a boolean mask over the model's classes (`class_mask`), index 0 (the CTC blank) always allowed;
* a list of look-alike merges (`merge_probs`): before masking, the probability of a character
  that a writer cannot mean in this field is added to the one they do mean (a full-width ５ in a
  phone number is a 5, a long-vowel mark ー between digit groups is a hyphen).

Merge sources are removed from the mask, so their mass is counted once, on the target.
The decoder (`pipeline.ocr.decode`) applies both; nothing here knows about images.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.jp.text import VARIANT_FOLD

DIGITS = "0123456789"
_FULLWIDTH_DIGITS = {chr(0xFF10 + i): str(i) for i in range(10)}
_ZERO_LOOKALIKES = {"O": "0", "o": "0", "〇": "0"}
_DASH_LOOKALIKES = {c: "-" for c in "ー−－‐―一〜~"}
# Kana that handwriting makes indistinguishable from a kanji or a symbol (ル from 儿, ー from 一
# or a dash, ロ from 口): the recogniser, with no context, often prefers the other. One table,
# look-alike → the kana it is written for, read two ways: a kana field merges the long-vowel
# mark's look-alikes into ー (`MERGES`: a writer of kana means no dash), and where context says
# kana (a facility ending 保育ルーム) a kana is credited with all its look-alikes' probability
# (`KANA_LOOKALIKE_SOURCES`), never to read kana by themselves.
KANA_LOOKALIKES: dict[str, str] = {
    **{c: "ー" for c in "一-―−－—‐"},
    "儿": "ル", "厶": "ム", "口": "ロ", "工": "エ", "力": "カ", "夕": "タ",
    "二": "ニ", "八": "ハ", "卜": "ト", "匕": "ヒ", "千": "チ", "才": "オ", "木": "ホ",
}  # fmt: skip
_LONG_VOWEL_LOOKALIKES = {src: kana for src, kana in KANA_LOOKALIKES.items() if kana == "ー"}


def _by_kana(table: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for src, kana in table.items():
        out[kana] = out.get(kana, "") + src
    return out


# `KANA_LOOKALIKES` turned round for `ctc.log_likelihoods`: each kana → its look-alikes.
KANA_LOOKALIKE_SOURCES: dict[str, str] = _by_kana(KANA_LOOKALIKES)


# The katakana letters (ァ..ヶ, with ヴ ヵ ヶ), and as a field's charset with the long-vowel mark.
KATAKANA_LETTERS = "".join(chr(c) for c in range(0x30A1, 0x30F7))
KATAKANA = KATAKANA_LETTERS + "ー"
HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097)) + "ゝゞー"  # ぁ..ゖ

# Charsets given as an explicit list of characters. Space is in none of them: furigana boxes are
# read as one run (ヤマダタロウ), and a gap between family and given name is not kept.
FIXED_CHARSETS: dict[str, str] = {
    "digits": DIGITS,
    "number": DIGITS,
    "phone": DIGITS + "-",
    "postal": DIGITS + "-",
    "kana": KATAKANA,
    "hiragana": HIRAGANA,
    # フリガナ boxes are often filled in hiragana; both scripts are read and normalised later.
    "furigana": KATAKANA + HIRAGANA,
    "wareki": DIGITS + "令和平成昭和大正元年月日",
    "date": DIGITS + "/年月日",
}


def _cp932(ch: str) -> bool:
    try:
        ch.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def _jis_x0208(ch: str) -> bool:
    try:
        ch.encode("iso2022_jp")
    except UnicodeEncodeError:
        return False
    return True


# Name kanji outside JIS X 0208 that families really use (cp932 vendor extensions).
# 德 is not among them: it is folded into 徳 (see VARIANT_FOLD), which is what forms almost always mean.
NAME_EXTRAS = frozenset("髙﨑濵瀨𠮷")


def _name_char(ch: str) -> bool:
    # JIS X 0208 rather than all of cp932: the model often reads a Japanese kanji as its Chinese
    # form (緑→綠, 横→橫, 戸→户), and those forms sit in cp932's IBM extensions, not in JIS X 0208.
    return (_jis_x0208(ch) and not _halfwidth_katakana(ch)) or ch in NAME_EXTRAS


def _halfwidth_katakana(ch: str) -> bool:
    return len(ch) == 1 and 0xFF61 <= ord(ch) <= 0xFF9F


# Charsets defined by a rule over the model's dictionary. cp932 = JIS X 0208 levels 1+2 plus the
# NEC/IBM extensions, so name variants such as 髙 are kept, while Chinese-only forms are dropped.
# The appended space class is kept in these: addresses and names are often written with gaps.
RULE_CHARSETS: dict[str, Callable[[str], bool]] = {
    "address": _name_char,
    "name": _name_char,
    "free": lambda ch: True,
}

CHARSET_NAMES: tuple[str, ...] = tuple(FIXED_CHARSETS) + tuple(RULE_CHARSETS)

_DIGIT_MERGES = {**_FULLWIDTH_DIGITS, **_ZERO_LOOKALIKES}
MERGES: dict[str, dict[str, str]] = {
    "digits": _DIGIT_MERGES,
    "number": _DIGIT_MERGES,
    "phone": {**_DIGIT_MERGES, **_DASH_LOOKALIKES},
    "postal": {**_DIGIT_MERGES, **_DASH_LOOKALIKES},
    "wareki": _DIGIT_MERGES,
    "date": {**_DIGIT_MERGES, "／": "/"},
    "kana": _LONG_VOWEL_LOOKALIKES,
    "hiragana": _LONG_VOWEL_LOOKALIKES,
    "furigana": _LONG_VOWEL_LOOKALIKES,
    # Full-width digits in an address are the same number; fold them so house numbers come out ASCII.
    # A handwritten 1 is often read as a slash or bar; neither belongs in a Japanese address.
    "address": {
        **_FULLWIDTH_DIGITS,
        **{c: "1" for c in "/|\\()（）.,l｜／I"},
        **VARIANT_FOLD,
    },
    # An old or variant kanji's probability goes to its common form (穗 → 穂), so the common form
    # is read unless the writing says something else entirely.
    "name": VARIANT_FOLD,
    "free": VARIANT_FOLD,
}


def check_charset(name: str) -> None:
    if name not in CHARSET_NAMES:
        raise ValueError(f"unknown charset {name!r}; valid names: {', '.join(CHARSET_NAMES)}")


# Caches keyed by id(labels); the labels object is kept alive in the value so the id stays unique.
_lock = threading.Lock()
_index_cache: dict[int, tuple[Sequence[str], dict[str, int]]] = {}
_mask_cache: dict[tuple[str, int], tuple[Sequence[str], np.ndarray]] = {}
_merge_cache: dict[tuple[str, int], tuple[Sequence[str], np.ndarray, np.ndarray]] = {}
_compact_cache: dict[tuple[str, int], tuple[Sequence[str], Compact]] = {}


def label_index(labels: Sequence[str]) -> dict[str, int]:
    """Class index of each label (index 0, the blank, is skipped)."""
    key = id(labels)
    hit = _index_cache.get(key)
    if hit is not None and hit[0] is labels:
        return hit[1]
    index: dict[str, int] = {}
    for i, lab in enumerate(labels):
        if i > 0:
            index.setdefault(lab, i)
    with _lock:
        _index_cache[key] = (labels, index)
    return index


def allowed_chars(charset_name: str, labels: Sequence[str]) -> frozenset[str]:
    """Characters of `labels` that a field of this charset may produce (merge sources excluded)."""
    check_charset(charset_name)
    merged_away = MERGES[charset_name].keys()
    fixed = FIXED_CHARSETS.get(charset_name)
    if fixed is not None:
        return frozenset(c for c in fixed if c in label_index(labels))
    rule = RULE_CHARSETS[charset_name]
    return frozenset(lab for lab in labels[1:] if rule(lab) and lab not in merged_away)


def class_mask(charset_name: str, labels: Sequence[str]) -> np.ndarray:
    """Boolean mask over all classes (len(labels)); the blank (index 0) is always allowed.

    Cached per (charset, labels object); the returned array is read-only.
    """
    key = (charset_name, id(labels))
    hit = _mask_cache.get(key)
    if hit is not None and hit[0] is labels:
        return hit[1]
    allowed = allowed_chars(charset_name, labels)
    mask = np.fromiter((lab in allowed for lab in labels), dtype=bool, count=len(labels))
    mask[0] = True
    mask.setflags(write=False)
    with _lock:
        _mask_cache[key] = (labels, mask)
    return mask


def merge_pairs(charset_name: str, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(source class indices, target class indices) of this charset's look-alike merges."""
    check_charset(charset_name)
    key = (charset_name, id(labels))
    hit = _merge_cache.get(key)
    if hit is not None and hit[0] is labels:
        return hit[1], hit[2]
    index = label_index(labels)
    pairs = [
        (index[src], index[dst]) for src, dst in MERGES[charset_name].items() if src in index and dst in index
    ]
    src = np.array([p[0] for p in pairs], dtype=np.intp)
    dst = np.array([p[1] for p in pairs], dtype=np.intp)
    with _lock:
        _merge_cache[key] = (labels, src, dst)
    return src, dst


def merge_probs(probs: np.ndarray, charset_name: str, labels: Sequence[str]) -> np.ndarray:
    """Add look-alike probability onto the allowed class. Returns `probs` itself when nothing merges."""
    src, dst = merge_pairs(charset_name, labels)
    if src.size == 0:
        return probs
    out = probs.copy()
    # Several sources may share one target (many dashes -> '-'), so accumulate unbuffered.
    np.add.at(out, (slice(None), dst), probs[:, src])
    return out


@dataclass(frozen=True)
class Compact:
    """A charset's allowed classes as their own small label set (blank still first).

    Decoding a digits field then touches 11 columns instead of 18,710.
    """

    columns: np.ndarray  # class indices in the full matrix, ascending; columns[0] == 0 (blank)
    labels: tuple[str, ...]  # labels of those columns
    merge_src: np.ndarray  # full-matrix columns whose mass is merged...
    merge_dst: np.ndarray  # ...into these positions of the compact matrix

    def take(self, probs: np.ndarray) -> np.ndarray:
        """(T, C) full matrix -> (T, len(columns)) matrix with look-alikes merged in."""
        sub = probs[:, self.columns]
        if self.merge_src.size:
            np.add.at(sub, (slice(None), self.merge_dst), probs[:, self.merge_src])
        return sub


def compact(charset_name: str, labels: Sequence[str]) -> Compact:
    """The charset's allowed columns and merges, cached per (charset, labels object)."""
    key = (charset_name, id(labels))
    hit = _compact_cache.get(key)
    if hit is not None and hit[0] is labels:
        return hit[1]
    mask = class_mask(charset_name, labels)
    columns = np.flatnonzero(mask)
    src, dst = merge_pairs(charset_name, labels)
    keep = mask[dst]  # a merge into a class the charset does not allow would be a table bug; skip it
    result = Compact(
        columns=columns,
        labels=tuple(labels[i] for i in columns),
        merge_src=src[keep],
        merge_dst=np.searchsorted(columns, dst[keep]),
    )
    with _lock:
        _compact_cache[key] = (labels, result)
    return result
