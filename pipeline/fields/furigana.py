"""Read フリガナ with the help of the kanji name it spells.

A kana crop is read on its own first. The name field it belongs to (`reading_of` in the template)
was read too, and a table of name readings (the 人名 entries of IPAdic, 12k family and 18k given
names, `lexicons/name_readings.json.gz`, recipe in `tools/make_name_readings.py`) knows how most family
names and many given names are read. Those readings are offered as candidates beside the free reading:
the whole name's reading, and the family name's reading followed by what was read after it. All
are scored by CTC likelihood on the kana crop, a dictionary candidate with a bonus of
`BONUS_NATS`: enough to restore a lost dakuten or a dropped kana, far too little to override
writing that plainly says something else (a given name read another way than the dictionary's).
A candidate that wins only by its bonus keeps a low probability on the characters it changed,
so the field goes to review rather than being accepted on the dictionary's word.

The other way round, where the writing alone is read as a dictionary reading of the name
(`vouched`), the two are independent evidence for the same kana: their probabilities are raised
(odds times `AGREE_ODDS`), so a furigana that spells its name as the dictionary does can be
accepted though one kana of it was written unclearly.
"""

from __future__ import annotations

import gzip
import itertools
import json
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

import jaconv
import numpy as np

from pipeline.ocr.ctc import log_likelihoods
from pipeline.ocr.lexicon import rescorable_index
from pipeline.result import Char, Reading

BONUS_NATS = 4.0


TABLE = Path(__file__).resolve().parent / "lexicons" / "name_readings.json.gz"
FAMILY_READINGS = 2  # readings tried per family name, likeliest first
GIVEN_READINGS = 3


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    with gzip.open(TABLE) as f:
        data = json.loads(f.read())
    return data["family"], data["given"]


def split_name(name: str) -> tuple[list[str], list[str], str] | None:
    """(family readings, given readings, given name) of a written name (spaces ignored): the
    family name is its longest leading part (up to 4 characters) the table knows, the given name
    the rest (its readings may be none); None when the table knows no family name at its start.
    A given name the table lists only among family names (IPAdic files 青空 アオゾラ as a 姓
    alone) is read as the table reads it there: a word in a name is read alike in either part."""
    text = "".join(name.split())
    family, given = _table()
    for k in range(min(len(text), 4), 0, -1):
        fam = family.get(text[:k])
        if fam:
            rest = text[k:]
            return fam, given.get(rest) or family.get(rest, []), rest
    return None


def family_name(name: str) -> str | None:
    """The family name a written name starts with: its longest leading part (up to 4 characters,
    spaces ignored) the table knows as a family name; None when it knows none."""
    text = "".join(name.split())
    family, _ = _table()
    return next((text[:k] for k in range(min(len(text), 4), 0, -1) if text[:k] in family), None)


@lru_cache(maxsize=4096)
def name_readings(name: str) -> tuple[str, ...]:
    """Dictionary readings (katakana) of a written name: family + given name together, then the
    family name alone. The family name is the longest leading part the table knows; empty when
    it knows none."""
    split = split_name(name)
    if split is None:
        return ()
    fam, giv = split[0][:FAMILY_READINGS], split[1][:GIVEN_READINGS]
    return tuple(dict.fromkeys([*(f + g for f in fam for g in giv), *fam]))


def _is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f"


def in_script_of(text: str, readings: Sequence[str]) -> tuple[str, ...]:
    """`readings` (katakana) in hiragana when `text` is written mostly in hiragana (ふりがな),
    as they are otherwise."""
    kana = [ch for ch in text if _is_hiragana(ch) or "\u30a1" <= ch <= "\u30fa"]
    if 2 * sum(map(_is_hiragana, kana)) > len(kana):
        return tuple(jaconv.kata2hira(r) for r in readings)
    return tuple(readings)


def candidates(free: str, readings: Sequence[str]) -> list[str]:
    """Dictionary candidates: each reading as it is, and each followed by the rest of the free
    reading from every cut point where a given name can begin (`タカ|アヤカ` → `タカダアヤカ`; not
    before a kana no word starts with, `_CANNOT_START`: ショ|ョタ)."""
    kata = jaconv.hira2kata(free)
    out = list(readings)
    for r in readings:
        out += [r + free[k:] for k in range(len(free) + 1) if kata[k : k + 1] not in _CANNOT_START]
    return [c for c in dict.fromkeys(out) if c and c != free]


VOICING_REVIEW = 0.9  # a disputed kana read with less probability than this goes to review

# How much likelier a kana read from the writing is right when the name's dictionary reading has
# the same kana there: the kanji name is another crop read by the same model, so the two readings
# fail together only when both crops are misread into one name and its reading.
AGREE_ODDS = 20.0


def _vouched_part(text: str, readings: Sequence[str]) -> tuple[int, set[int]]:
    """The longest of `readings` that starts `text`: its length, and the positions in it where no
    other reading of that length spells another kana (松沢: マツザワ, マツサワ: not the ザ/サ)."""
    hits = [r for r in readings if r and text.startswith(r)]
    if not hits:
        return 0, set()
    best = max(hits, key=len)
    others = [r for r in readings if len(r) == len(best) and r != best]
    return len(best), {i for i in range(len(best)) if all(o[i] == best[i] for o in others)}


def vouched(text: str, name: str) -> tuple[bool, ...]:
    """For each kana of `text`, whether the written `name`'s dictionary readings spell it: the
    family name's reading at the start, then a given name's reading as the whole rest. A kana
    where the table knows another spelling of the same part (a voicing mark, a small kana) is
    not vouched for: the writing alone decides it. Hiragana count as their katakana."""
    return _agreement(jaconv.hira2kata(text), name)[1]


def _agreement(text: str, name: str) -> tuple[int, tuple[bool, ...]]:
    """(length of the family name's reading that starts `text`, 0 when none; `vouched`)."""
    out = [False] * len(text)
    split = split_name(name)
    if split is None:
        return 0, tuple(out)
    fam, given_readings, _ = split
    n, sure = _vouched_part(text, fam)
    if n == 0:
        return 0, tuple(out)
    for i in sure:
        out[i] = True
    rest = text[n:]
    giv = [g for g in given_readings if len(g) == len(rest)]
    if rest and rest in giv:
        _, sure_given = _vouched_part(rest, giv)
        for i in sure_given:
            out[n + i] = True
    return n, tuple(out)


# No word starts with these, so neither does a given name: after a family name's reading, one of
# them means the two were split wrongly or the kana misread (ハヤシ|ュウスケ for ハヤシユウスケ).
_CANNOT_START = frozenset("ァィゥェォッャュョヮンー")


def with_agreement(free: Reading, name: str) -> Reading:
    """`free` with the kana the name's readings vouch for (`vouched`) raised: odds × AGREE_ODDS.
    A given name read as starting with a small kana, ン or ー is not raised, and that kana is
    made unsure (at most 0.5), so a person looks at it; a small kana there is spelt large."""
    kata = jaconv.hira2kata(free.text)
    n, marks = _agreement(kata, name)
    if len(free.chars) != len(free.text) or not any(marks):
        return free
    if n < len(kata) and kata[n] in _CANNOT_START:
        # A small kana there is its large one (ムラカミ|ュア is ムラカミユア: handwriting makes
        # them look alike, and ミュ alone is a legal sound): spelt so, still for review.
        large = _SMALL_LARGE.get(kata[n])
        ch = free.text[n]
        if large is not None:
            ch = large if ch == kata[n] else jaconv.kata2hira(large)
        chars = list(free.chars)
        chars[n] = Char(ch, min(chars[n].prob, 0.5))
        return Reading(free.text[:n] + ch + free.text[n + 1 :], tuple(chars))
    return Reading(
        free.text,
        tuple(Char(c.text, _raise_odds(c.prob)) if m else c for c, m in zip(free.chars, marks, strict=True)),
    )


# Kana by vowel, for the long vowels a name may leave unwritten (玲 レイ read レ, 優 ユウ read ユ).
_I_OR_E = set("イキシチニヒミリギジヂビピィエケセテネヘメレゲゼデベペェ")
_U_OR_O = set("ウクスツヌフムユルグズヅブプュゥオコソトノホモヨロゴゾドボポョォ")


def _long_vowel(prev: str, ch: str) -> bool:
    """Whether `ch` after `prev` only lengthens its vowel (レイ, ユウ, コウ, ソー)."""
    return ch == "ー" or (ch == "イ" and prev in _I_OR_E) or (ch == "ウ" and prev in _U_OR_O)


def _first_gap(short: str, full: str) -> int | None:
    """Where `short` is `full` with one or more kana left out (a subsequence of it, shorter):
    the position in `short` of the first gap, else None. Kana that only lengthen a vowel do not
    count as left out (レリ for レイリ is how 玲里 may be read), unless others are missing too."""
    if len(short) >= len(full):
        return None
    gap, j, real = None, 0, False
    for i, ch in enumerate(full):
        if j < len(short) and short[j] == ch:
            j += 1
            continue
        gap = j if gap is None else gap
        real = real or not (i > 0 and _long_vowel(full[i - 1], ch))
    return gap if j == len(short) and real else None


def _kanji_count(text: str) -> int:
    return sum(1 for ch in text if unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH"))


def dropped_kana(text: str, name: str) -> int | None:
    """Where the furigana `text` reads as a dictionary reading of the written `name` with kana
    left out after the family name's reading (ヤマダ|ウコ beside 山田優子: ユウコ; マエダ|ル beside
    前田千鶴: チヅル), or with fewer kana there than the given name has kanji: the position of the
    (first) gap in `text`, else None. Small handwriting loses a kana to the recogniser (a repeated or a
    narrow kana merged into its neighbour) far more often than a writer leaves one out, and what
    is left still starts like the name's reading, so it looks vouched for. Nothing is said when
    the text spells a reading whole, or when the table does not know the family name."""
    kata = jaconv.hira2kata("".join(text.split()))
    split = split_name(name)
    if split is None:
        return None
    fams, givs, given_name = split
    starts = [f for f in fams if kata.startswith(f)]
    for f in starts:  # the family reading whole: a given reading with kana left out
        rest = kata[len(f) :]
        if rest in givs:
            return None
        gaps = [g for g in (_first_gap(rest, r) for r in givs) if g is not None]
        if gaps:
            return len(f) + gaps[0]
        if len(rest) < _kanji_count(given_name):  # every kanji of a name is read with a kana at least
            return len(f)
    # A family name the writing does not start with is left alone: family names have readings
    # the table lacks (川原 is カワラ as often as カワハラ).
    return None


def _raise_odds(p: float) -> float:
    odds = AGREE_ODDS * p / max(1.0 - p, 1e-12)
    return odds / (1.0 + odds)


def _dictionary_split(free: str, cand: str, readings: Sequence[str]) -> bool:
    """Whether `cand` differs from `free` only in (han)dakuten or small kana, at kana where the
    dictionary also has `free`'s spelling (松沢: マツザワ and マツサワ both)."""
    return _siblings_only(free, cand) and _spelt_by_dictionary(free, cand, readings)


def _spelt_by_dictionary(free: str, cand: str, readings: Sequence[str]) -> bool:
    """Whether `free`, up to its last kana that differs from `cand`, is itself one of `readings`
    (河野 カワノ beside コウノ): the writing then spells a reading the name has."""
    last = max(i for i, (x, y) in enumerate(zip(free, cand, strict=True)) if x != y)
    return any(free.startswith(r) and len(r) > last for r in readings)


def _siblings_only(free: str, cand: str) -> bool:
    """Whether `cand` differs from `free` only in (han)dakuten or small kana (`_sibling_table`)."""
    if len(free) != len(cand) or free == cand:
        return False
    table = _sibling_table()
    return all(x == y or y in table.get(x, ()) for x, y in zip(free, cand, strict=True))


def _disputes(free: str, cand: str, families: Sequence[str], readings: Sequence[str]) -> bool:
    """Whether dictionary candidate `cand` disputes kana the writing reads plainly: it spells
    `free` with only (han)dakuten or small kana changed (シズカ for シスカ, サイトウ for
    サイトゥ), or it is a family name's reading followed by the rest of `free` with one kana of
    the family name replaced (マツモト for マノモト); and `free` is not itself a reading the
    name has (`_spelt_by_dictionary`). Given names have too many readings for the table to know
    them all: another kana there is no dispute."""
    if len(free) != len(cand) or free == cand:
        return False
    differs = _siblings_only(free, cand) or (
        sum(a != b for a, b in zip(free, cand, strict=True)) == 1
        and any(cand.startswith(r) and cand[len(r) :] == free[len(r) :] for r in families)
    )
    return differs and not _spelt_by_dictionary(free, cand, readings)


def _held_kana(
    free: Reading, cand: str, known: bool, families: Sequence[str], readings: Sequence[str]
) -> list[int]:
    """Where the writing stands against `cand`, its kana a person should look at. Where the
    dictionary knows both spellings (`known`, 松沢 マツザワ and マツサワ), those the writing was
    unsure of; where it knows only `cand`'s (`_disputes`: 静香 シズカ, read シスカ), every kana
    `cand` spells otherwise, however sure the writing was: a dakuten or a small kana is what a
    hand and a font draw least alike."""
    if not known and not _disputes(free.text, cand, families, readings):
        return []
    return [
        i
        for i, (a, b) in enumerate(zip(free.text, cand, strict=True))
        if a != b and (not known or free.chars[i].prob < VOICING_REVIEW)
    ]


def read_with_name(probs: np.ndarray, labels: Sequence[str], free: Reading, name: str) -> Reading | None:
    """The kana reading after weighing the name's dictionary readings; None when the free
    reading stands."""
    # Candidates are scored on the crop, so they are spelt in the writing's own script.
    readings = in_script_of(free.text, name_readings(name))
    index = rescorable_index(probs, labels, free) if readings else None
    if index is None:
        return None
    cands = [c for c in candidates(free.text, readings) if all(ch in index for ch in c)]
    if not cands:
        return None
    ll = log_likelihoods(probs, labels, [free.text, *cands])
    # A candidate that differs from the writing only in (han)dakuten or small kana, where the
    # dictionary knows the written spelling too (マツサワ beside a written マツザワ: 松沢 is read
    # both ways), gets no bonus: the crop's own probabilities decide. If the writing was unsure
    # there, the field still goes to review.
    voicing_only = np.array([_dictionary_split(free.text, c, readings) for c in cands], dtype=bool)
    scores = ll + np.r_[0.0, np.where(voicing_only, 0.0, BONUS_NATS)]
    best = int(scores.argmax())
    if best == 0:
        split = split_name(name)
        families = in_script_of(free.text, split[0][:FAMILY_READINGS]) if split else ()
        unsure = {
            i
            for c, known in zip(cands, voicing_only, strict=True)
            for i in _held_kana(free, c, bool(known), families, readings)
        }
        if not unsure:
            return None
        # The writing stands, but a person looks at the kana the name's reading disputes.
        return Reading(
            free.text,
            tuple(Char(c.text, min(c.prob, 0.5)) if i in unsure else c for i, c in enumerate(free.chars)),
        )
    word = cands[best - 1]
    # How sure the writing alone is of the winner against the free reading.
    alone = float(1.0 / (1.0 + np.exp(ll[0] - ll[best])))
    # Characters the free reading already had keep its probability; the reviewer's eye goes to
    # the ones the dictionary supplied.
    probs_out = [alone] * len(word)
    for block in SequenceMatcher(None, free.text, word, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            probs_out[block.b + k] = free.chars[block.a + k].prob
    return Reading(word, tuple(Char(ch, p) for ch, p in zip(word, probs_out, strict=True)))


# --------------------------------------------------------------------------- (han)dakuten, small kana
#
# Handwritten dakuten and handakuten are small and often lost or confused (スズキ → ススキ,
# アキノブ → アキノプ), and small kana look like large ones. Where the recogniser is not sure of
# such a kana, its siblings (ス/ズ, ブ/プ/フ, ッ → ツ) are tried: each spelling is scored by CTC
# likelihood on the crop plus a character-bigram model of Japanese name readings (the same IPAdic
# name table), so that the recogniser's own probabilities decide unless the writing is ambiguous,
# and then the spelling names usually have wins. The field then goes to review (kana_from_name).

VOICING_DOUBT = 0.98  # only kana read with less probability than this are varied
VOICING_MAX_CHANGES = 2
_SMALL_LARGE = dict(zip("ッャュョァィゥェォヮ", "ツヤユヨアイウエオワ", strict=True))


@lru_cache(maxsize=1)
def _sibling_table() -> dict[str, tuple[str, ...]]:
    """Katakana → the others of its voicing family (カ ガ; ハ バ パ; ウ ヴ) and small/large pair."""
    groups: dict[str, set[str]] = {}
    for cp in range(0x30A1, 0x30FB):
        ch = chr(cp)
        base = unicodedata.normalize("NFD", ch)[0]
        groups.setdefault(base, set()).add(ch)
    table: dict[str, set[str]] = {}
    for members in groups.values():
        for ch in members:
            table.setdefault(ch, set()).update(members - {ch})
    # A small kana may be the large one (マッザワ → マツザワ), not the other way: a large kana read
    # as small is rare, and turning イツキ into イッキ makes another name. A small kana may also be
    # the large one's voiced sibling (ハッキ for ハヅキ: the dakuten lost and the kana drawn small).
    for small, large in _SMALL_LARGE.items():
        table.setdefault(small, set()).update(
            {large, *(groups[unicodedata.normalize("NFD", large)[0]] - {small})}
        )
    # The same families in hiragana: ふりがな are often written so (ことう for ごとう).
    for ch, others in list(table.items()):
        hira = jaconv.kata2hira(ch)
        if hira != ch:
            table.setdefault(hira, set()).update(jaconv.kata2hira(o) for o in others)
    return {k: tuple(sorted(v)) for k, v in table.items() if v}


@lru_cache(maxsize=1)
def _voicing_table() -> dict[str, tuple[str, ...]]:
    """What a doubtful kana may be instead, for `fix_voicing`: a mark added (ス → ズ, フ → ブ プ),
    ブ and プ swapped, a small kana made large. Never a mark taken away: handwriting loses
    dakuten, the recogniser rarely invents one, and ダイゴ → タイゴ makes another name."""
    table: dict[str, tuple[str, ...]] = {}
    for ch, others in _sibling_table().items():
        marked = unicodedata.normalize("NFD", ch)[1:]
        keep = [o for o in others if not marked or unicodedata.normalize("NFD", o)[1:]]
        large = _SMALL_LARGE.get(jaconv.hira2kata(ch))
        if large is not None:
            keep = [large if ch in _SMALL_LARGE else jaconv.kata2hira(large)]
        if keep:
            table[ch] = tuple(keep)
    return table


@lru_cache(maxsize=1)
def _bigram_model() -> tuple[dict[tuple[str, str], float], dict[str, float], float]:
    """Add-half bigram counts over every reading in the name table ("^" and "$" mark the ends)."""
    family, given = _table()
    pairs: dict[tuple[str, str], float] = {}
    firsts: dict[str, float] = {}
    chars: set[str] = set()
    for table in (family, given):
        for readings in table.values():
            for r in readings:
                seq = ["^", *r, "$"]
                chars.update(r)
                for a, b in zip(seq, seq[1:], strict=False):
                    pairs[(a, b)] = pairs.get((a, b), 0.0) + 1.0
                    firsts[a] = firsts.get(a, 0.0) + 1.0
    return pairs, firsts, float(len(chars) + 1)


def name_logprob(text: str) -> float:
    """log P(text) under the name readings' bigram model (add-half smoothing); hiragana are
    scored as their katakana."""
    pairs, firsts, v = _bigram_model()
    seq = ["^", *jaconv.hira2kata(text), "$"]
    return float(
        sum(
            np.log((pairs.get((a, b), 0.0) + 0.5) / (firsts.get(a, 0.0) + 0.5 * v))
            for a, b in zip(seq, seq[1:], strict=False)
        )
    )


def fix_voicing(probs: np.ndarray, labels: Sequence[str], free: Reading) -> Reading | None:
    """The free kana reading with up to two doubtful kana swapped for a sibling (ス → ズ) where
    the crop and the name-reading model together prefer it; None when the free reading stands."""
    text = free.text
    index = rescorable_index(probs, labels, free)
    if index is None:
        return None
    table = _voicing_table()
    spots = [i for i, c in enumerate(free.chars) if c.prob < VOICING_DOUBT and c.text in table]
    if not spots:
        return None
    cands: list[str] = []
    for n in range(1, VOICING_MAX_CHANGES + 1):
        for where in itertools.combinations(spots, n):
            options = [[s for s in table[text[i]] if s in index] for i in where]
            for swap in itertools.product(*options):
                chars = list(text)
                for i, ch in zip(where, swap, strict=True):
                    chars[i] = ch
                cands.append("".join(chars))
    if not cands:
        return None
    ll = log_likelihoods(probs, labels, [text, *cands])
    prior = np.array([name_logprob(c) for c in [text, *cands]])
    best = int((ll + prior).argmax())
    if best == 0:
        return None
    word = cands[best - 1]
    alone = float(1.0 / (1.0 + np.exp(min(ll[0] - ll[best], 50.0))))
    return Reading(
        word,
        tuple(
            c if ch == c.text else Char(ch, min(alone, c.prob))
            for ch, c in zip(word, free.chars, strict=True)
        ),
    )
