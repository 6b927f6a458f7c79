"""Reading against a closed list (the city's facilities, say): CTC likelihood of every entry.

Where a field can only hold one of a known list of values, scoring each entry with the CTC
forward algorithm is far more reliable than spelling out characters and fixing them afterwards:
a misread kana in `ひまわりこども園` still leaves that entry much more likely than any other.
If the writing fits no entry better than its own free reading, the free reading is kept and
the caller is told, so a facility outside the list goes to a person instead of being guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.jp.address import same_spelling, split_city
from pipeline.jp.text import edit_distance
from pipeline.ocr.charsets import KANA_LOOKALIKE_SOURCES, label_index
from pipeline.ocr.ctc import log_likelihoods
from pipeline.result import Char, Reading

# How much less likely (in nats) the best entry may be than the free best path and still be
# taken. The free best path is one alignment of one string, so a correct entry, which sums over
# all alignments, usually scores higher than it; a margin allows for a character or two the
# model found hard to read.
MARGIN_NATS = 6.0
# A free reading this close to exactly one entry is taken as that entry (for review): short
# entries (date numbers) are left out, as one edit turns any of them into several others.
NEAR_EDITS = 1
NEAR_MIN_LEN = 4


@dataclass(frozen=True)
class LexiconMatch:
    reading: Reading
    in_list: bool
    posterior: float


def match_lexicon(
    probs: np.ndarray, labels: Sequence[str], words: Sequence[str], free: Reading
) -> LexiconMatch:
    """Best entry of `words` for this crop, or the free reading when none fits."""
    index = label_index(labels)
    cands = [w for w in words if w and all(ch in index for ch in w)]
    if not cands or probs.shape[0] == 0:
        return LexiconMatch(free, free.text in words, 0.0)
    ll = log_likelihoods(probs, labels, cands)
    best = int(np.argmax(ll))
    post = np.exp(ll - ll.max())
    posterior = float(post[best] / post.sum())
    free_path = float(np.log(np.clip(probs.max(axis=1).astype(np.float64), 1e-12, 1.0)).sum())
    if ll[best] < free_path - MARGIN_NATS:
        near = _nearest(free.text, cands)
        if near is None:
            return LexiconMatch(free, False, posterior)
        # The writing is one misread kana away from exactly one entry (ことも園 for こども園): take
        # the entry, but with the writing's own (low) support, so a person confirms it.
        support = float(np.exp(max(ll[cands.index(near)] - free_path, -50.0)))
        return LexiconMatch(Reading(near, tuple(Char(ch, support) for ch in near)), True, support)
    word = cands[best]
    return LexiconMatch(Reading(word, tuple(Char(ch, posterior) for ch in word)), True, posterior)


def _nearest(text: str, words: Sequence[str]) -> str | None:
    """The one entry (of at least `NEAR_MIN_LEN` characters) within `NEAR_EDITS` edits of `text`;
    None when there is none, or more than one at the smallest distance."""
    if len(text) < NEAR_MIN_LEN:
        return None
    dists = [(edit_distance(text, w), w) for w in words if len(w) >= NEAR_MIN_LEN]
    close = sorted(d for d in dists if d[0] <= NEAR_EDITS)
    if not close or (len(close) > 1 and close[1][0] == close[0][0]):
        return None
    return close[0][1]


def rescorable_index(probs: np.ndarray, labels: Sequence[str], free: Reading) -> dict[str, int] | None:
    """The label index when the free reading can be rescored against candidate spellings on this
    crop (a reading with one probability per character, every character a label of the model);
    None when it cannot, and the free reading stands."""
    text = free.text
    if not text or probs.shape[0] == 0 or len(free.chars) != len(text):
        return None
    index = label_index(labels)
    return index if all(ch in index for ch in text) else None


def best_candidate(
    probs: np.ndarray,
    labels: Sequence[str],
    text: str,
    cands: Sequence[str],
    bonus: float | Sequence[float],
) -> tuple[str, float] | None:
    """The likeliest of `cands` on the crop, each given `bonus` nats (one for all, or one each)
    over the free reading `text`, with how sure the writing alone is of it over `text` (the
    logistic of their likelihood gap); None when the free reading stands (or no candidate)."""
    if not cands:
        return None
    ll = log_likelihoods(probs, labels, [text, *cands])
    bonuses = np.broadcast_to(np.asarray(bonus, dtype=float), (len(cands),))
    best = int((ll + np.r_[0.0, bonuses]).argmax())
    if best == 0:
        return None
    return cands[best - 1], float(1.0 / (1.0 + np.exp(min(ll[0] - ll[best], 50.0))))


# --------------------------------------------------------------------------- built-in suffixes

# Facility names are open (every city names its own), but they end in one of a few words. A
# facility field with no list of its own is read against these endings: the free reading with
# its last characters replaced by each ending is scored by CTC likelihood, the endings with a
# bonus of SUFFIX_BONUS_NATS. That restores a lost dakuten (ことも園) or a look-alike kanji
# (保斎園, 保育團), and is far too little to turn another word into an ending. A kana of an ending
# also counts its look-alikes' probability (`charsets.KANA_LOOKALIKE_SOURCES`): written so,
# 保育ルーム is often read 保育儿一人, where ル and ー alone score far too low for any bonus.
FACILITY_SUFFIXES: tuple[str, ...] = (
    "保育園", "こども園", "認定こども園", "保育所", "保育ルーム", "乳児保育園", "幼稚園",
    "保育室", "託児所", "子ども園",
)  # fmt: skip
SUFFIX_BONUS_NATS = 4.0
SUFFIX_SLACK = 2  # the ending may replace this many characters more or fewer than its length


def ending_of(text: str, suffixes: Sequence[str] = FACILITY_SUFFIXES) -> str:
    """The longest of `suffixes` that `text` ends with ("" for none)."""
    return max((s for s in suffixes if text.endswith(s)), key=len, default="")


def match_suffix(
    probs: np.ndarray, labels: Sequence[str], free: Reading, suffixes: Sequence[str] = FACILITY_SUFFIXES
) -> Reading | None:
    """The free reading with its ending replaced by the likeliest of `suffixes`, or None when the
    free reading stands (it already ends so, or no ending fits better). Characters the ending
    changed carry how sure the writing alone is of them, so a person confirms a repair the
    recogniser did not itself favour."""
    text = free.text
    if ending_of(text, suffixes):
        return None
    index = rescorable_index(probs, labels, free)
    if index is None:
        return None
    cands: list[str] = []
    for s in suffixes:
        lo = max(1, len(text) - len(s) - SUFFIX_SLACK)  # keep at least one character of the name
        for k in range(lo, len(text)):
            if len(text) - k >= len(s) - SUFFIX_SLACK:
                cands.append(text[:k] + s)
    cands = [c for c in dict.fromkeys(cands) if c != text and all(ch in index for ch in c)]
    if not cands:
        return None
    ll = log_likelihoods(probs, labels, [text, *cands], KANA_LOOKALIKE_SOURCES)
    scores = ll + np.r_[0.0, np.full(len(cands), SUFFIX_BONUS_NATS)]
    best = int(scores.argmax())
    if best == 0:
        return None
    word = cands[best - 1]
    # How sure the writing alone is of the repair: look-alikes' probability not counted.
    own = log_likelihoods(probs, labels, [text, word])
    alone = float(1.0 / (1.0 + np.exp(min(own[0] - own[1], 50.0))))
    k = next((i for i in range(min(len(word), len(text))) if word[i] != text[i]), min(len(word), len(text)))
    chars = [*free.chars[:k], *(Char(ch, alone) for ch in word[k:])]
    return Reading(word, tuple(chars))


# --------------------------------------------------------------------------- common name words

# Facility names are open, but the hiragana words they are made of are few: nature, light, sky,
# animals, growing up. A hiragana word that the recogniser read with a doubtful (han)dakuten or a
# look-alike kana (あさび, のひのひ, あおぞう) is read against these words: the reading with the
# word in its place, scored by CTC likelihood with a bonus of WORD_BONUS_NATS, replaces it when it
# scores higher. The list is general knowledge of Japanese facility names, not any city's list.
FACILITY_WORDS: tuple[str, ...] = (
    # sky, light, weather, seasons
    "あおぞら", "おおぞら", "そら", "ひかり", "あさひ", "あさやけ", "ゆうやけ", "おひさま", "たいよう",
    "にじ", "にじいろ", "ほし", "ほしぞら", "つき", "かぜ", "そよかぜ", "はるかぜ", "あけぼの", "しらゆき",
    "はる", "なつ", "あき", "ふゆ", "こはる", "さつき", "やよい", "みらい", "ゆめ", "のぞみ", "めぐみ",
    # plants and flowers
    "さくら", "ひまわり", "たんぽぽ", "すみれ", "もみじ", "わかば", "わかくさ", "みどり", "つくし",
    "どんぐり", "くるみ", "けやき", "かえで", "ゆり", "すずらん", "あじさい", "こすもす", "ちゅうりっぷ",
    "なのはな", "れんげ", "あやめ", "つばき", "うめ", "もも", "いちょう", "ひのき", "まつぼっくり",
    "なでしこ", "あさがお", "はなぞの", "ふたば", "めばえ", "いちご", "りんご", "みかん", "どれみ",
    # animals
    "こばと", "はと", "ことり", "ひばり", "つばめ", "かもめ", "すずめ", "うさぎ", "こぐま", "りす",
    "きりん", "ぱんだ", "こあら", "らっこ", "ひよこ", "めだか", "とんぼ", "ほたる", "ちょうちょ",
    # places and water
    "やまびこ", "こだま", "いずみ", "せせらぎ", "みずうみ", "うみ", "やま", "もり", "おか", "のはら",
    "みなみ", "ひがし", "きた", "にし", "なかよし", "みんな",
    # growing up, children
    "のびのび", "すくすく", "にこにこ", "わくわく", "きらきら", "ぽかぽか", "ほほえみ", "はぐくみ",
    "すこやか", "あゆみ", "ゆりかご", "ほしのこ", "こども", "ひだまり", "ひなた", "まどか", "わらべ",
)  # fmt: skip
WORD_BONUS_NATS = 4.0
# A word whose kana the recogniser read as look-alike kanji or digits, or lost (二と for こばと, ひい
# for ひかり), costs the word 5-7 nats on the crop: such a reading is no hiragana word at all, so
# the word's bonus is larger there (MISREAD_BONUS_NATS). A plainly written other hiragana (ひかる
# beside ひかり, る at 0.98) keeps WORD_BONUS_NATS and stands. Either way the changed characters
# keep how sure the writing alone was of them, and the field goes to review. Measured: dev set
# 94.5% -> 94.6% (こばと, ひかり), our open-facility nursery pages 92.2% -> 92.3% with one wrong
# facility no longer accepted (docs/benchmarks.md, fourteenth session).
MISREAD_BONUS_NATS = 7.0
WORD_MIN_LEN = 3


def _hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u3096"


def _hiragana_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of hiragana in `text`."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and _hiragana(text[j]):
            j += 1
        if j > i:
            runs.append((i, j))
        i = max(j, i + 1)
    return runs


def _word_candidates(text: str, words: Sequence[str]) -> list[str]:
    """`text` with the start of a hiragana run replaced by a word: one of the same length that
    differs from it in at most half its characters, or one a character longer or shorter that is a
    single edit from it (a small kana the recogniser dropped, もじ for もみじ, or a stray mark or
    a kana split in two read as one more, なかよ比し for なかよし). A run that already starts with a
    word is left alone."""
    out: list[str] = []
    runs = _hiragana_runs(text)
    for r, (i, j) in enumerate(runs):
        # A stray mark read inside a word splits its run in two (なかよ比し): a word one shorter
        # than the span may reach across the one character between the runs.
        across = runs[r + 1][1] if r + 1 < len(runs) and runs[r + 1][0] == j + 1 else j
        fits = [w for w in words if len(w) >= WORD_MIN_LEN and i + len(w) <= j]
        diffs = [sum(a != b for a, b in zip(text[i : i + len(w)], w, strict=True)) for w in fits]
        if 0 in diffs:
            continue
        out += [
            text[:i] + w + text[i + len(w) :] for w, d in zip(fits, diffs, strict=True) if d <= len(w) // 2
        ]
        for w in words:
            for n, end in ((len(w) - 1, j), (len(w) + 1, across)):
                if len(w) >= WORD_MIN_LEN and i + n <= end and edit_distance(text[i : i + n], w) == 1:
                    out.append(text[:i] + w + text[i + n :])
    return list(dict.fromkeys(out))


def _plain_swap(text: str, cand: str) -> bool:
    """Whether `cand` only puts other hiragana in place of hiragana of `text`, one for one."""
    return len(cand) == len(text) and all(_hiragana(a) for a, b in zip(text, cand, strict=True) if a != b)


def _misread_start(text: str, words: Sequence[str]) -> list[str]:
    """`text` with the stretch its name begins with (after 市立 and the like, before a built-in
    ending) replaced by a word at most half of whose characters it gets wrong: the recogniser read
    a word's kana as look-alike kanji or digits (二と for こばと, さく51 for さくら) or lost one
    (ひい for ひかり). The stretch may be up to half the word (rounded up) longer or shorter than
    it. Nothing where the name already begins with a word."""
    owner = _OWNED.match(text)
    i = owner.end() if owner else 0
    if any(text.startswith(w, i) for w in words):
        return []
    end = len(text) - len(ending_of(text))
    out: list[str] = []
    for w in words:
        if len(w) < WORD_MIN_LEN:
            continue
        most = (len(w) + 1) // 2
        for k in range(max(i + 1, i + len(w) - most), min(end, i + len(w) + most) + 1):
            if edit_distance(text[i:k], w) <= most:
                out.append(text[:i] + w + text[k:])
    return out


def match_words(
    probs: np.ndarray, labels: Sequence[str], free: Reading, words: Sequence[str] = FACILITY_WORDS
) -> Reading | None:
    """The free reading with a hiragana word replaced by the likeliest of `words` of the same
    length, or None when the free reading stands. The characters the word changed carry how sure
    the writing alone is of them, so a person confirms a repair the recogniser did not favour."""
    text = free.text
    index = rescorable_index(probs, labels, free)
    if index is None:
        return None
    plain = _word_candidates(text, words)
    misread = [c for c in dict.fromkeys(_misread_start(text, words)) if c not in plain]
    scored = [(c, WORD_BONUS_NATS) for c in plain] + [
        (c, WORD_BONUS_NATS if _plain_swap(text, c) else MISREAD_BONUS_NATS) for c in misread
    ]
    scored = [(c, b) for c, b in scored if all(ch in index for ch in c)]
    found = best_candidate(probs, labels, text, [c for c, _ in scored], [b for _, b in scored])
    if found is None:
        return None
    word, alone = found
    if len(word) == len(text):
        chars = [
            c if c.text == ch else Char(ch, min(c.prob, alone))
            for c, ch in zip(free.chars, word, strict=True)
        ]
        return Reading(word, tuple(chars))
    return splice(free, word, alone)


def splice(free: Reading, word: str, alone: float) -> Reading:
    """`word` (a repair of `free`'s text) as a reading: the ends it shares with `free` keep their
    characters, what lies between carries `alone` (how sure the writing alone is of the repair).
    Where characters were only taken out, the character after them carries it instead, so no
    repair is ever left with the free reading's certainty."""
    text = free.text
    short = min(len(word), len(text))
    k = next(i for i in range(short + 1) if i == short or word[i] != text[i])
    tail = next(n for n in range(short - k + 1) if n == short - k or word[-1 - n] != text[-1 - n])
    middle = [Char(ch, alone) for ch in word[k : len(word) - tail]]
    kept = list(free.chars[len(text) - tail :])
    if not middle and kept:
        kept[0] = Char(kept[0].text, min(kept[0].prob, alone))
    elif not middle and k > 0:
        kept = [Char(free.chars[k - 1].text, min(free.chars[k - 1].prob, alone))]
        return Reading(word, (*free.chars[: k - 1], *kept))
    return Reading(word, (*free.chars[:k], *middle, *kept))


# --------------------------------------------------------------------------- building words

# After the house number an address often names its building: a name and a kind of building
# (グリーンパレス, コーポ中央, みどりハイツ), then the room. The kinds are few, and their kana are the
# ones the recogniser confuses (パ read ハ or バ, ポ read ボ or 水). A stretch after the first digit
# one or two edits from a kind (`BUILDING_EDITS`), holding at least one katakana, is tried with the
# kind in its place, scored by CTC likelihood with WORD_BONUS_NATS; a stretch that already spells
# one is left alone. The list is general knowledge of Japanese apartment names, not a register.
BUILDING_KINDS: tuple[str, ...] = (
    "ハイツ", "コーポ", "コーポラス", "パレス", "マンション", "レジデンス", "ハイム", "メゾン", "ヴィラ",
    "コート", "テラス", "プラザ", "ハウス", "ヒルズ", "タワー", "アパート", "シャトー", "カーサ",
    "ガーデン", "パーク", "シティ", "グランド", "ビレッジ", "ドミール", "ステージ", "レジデンシャル",
)  # fmt: skip


def _katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fc"


def _stray_digits_only(text: str, i: int, n: int) -> bool:
    """Whether the digits in `text[i:i+n]` (at most one) stand alone between letters: a kana
    read as a digit (中央1レス, ハ1イム), not the house or room number's own (559-9ヴィラ, コーポ1202)."""
    at = [j for j in range(i, i + n) if text[j].isdigit()]
    if len(at) > 1:
        return False
    return not at or not any(
        0 <= j < len(text) and (text[j].isdigit() or text[j] in "-‐－ー―") for j in (at[0] - 1, at[0] + 1)
    )


def _building_candidates(text: str, kinds: Sequence[str], start: int | None) -> list[str]:
    if start is None:
        first_digit = next((i for i, ch in enumerate(text) if ch.isdigit()), None)
        if first_digit is None:
            return []
        start = first_digit + 1
    # A kind already spelt is left alone, and no stretch may reach into it (パーク: not ーク → パーク).
    spelt = np.zeros(len(text) + 1, bool)
    for k in kinds:
        j = text.find(k)
        while j >= 0:
            spelt[j : j + len(k)] = True
            j = text.find(k, j + 1)
    out: list[str] = []
    for w in kinds:
        edits = max(1, len(w) // 3)
        for i in range(start, len(text)):
            for n in (len(w) - 1, len(w), len(w) + 1):
                seg = text[i : i + n]
                if len(seg) != n or spelt[i : i + n].any() or not _stray_digits_only(text, i, n):
                    continue
                if (_katakana(seg[0]) or _katakana(seg[-1])) and edit_distance(seg, w) <= edits:
                    out.append(text[:i] + w + text[i + n :])
    return list(dict.fromkeys(out))


def match_building(
    probs: np.ndarray, labels: Sequence[str], free: Reading, building_only: bool = False
) -> Reading | None:
    """An address's reading with a misread kind of building (グリーンバレス, コー水207) replaced by
    the likeliest of `BUILDING_KINDS`, or None when the free reading stands. The building is
    looked for after the house number's first digit, or anywhere in a reading of the building
    alone (`building_only`: the part after the gap `ink.segment_gap` found). Changed characters
    carry how sure the writing alone is of them, so a person confirms the repair."""
    text = free.text
    if rescorable_index(probs, labels, free) is None:
        return None
    cands = _building_candidates(text, BUILDING_KINDS, 0 if building_only else None)
    found = best_candidate(probs, labels, text, cands, WORD_BONUS_NATS)
    if found is None:
        return None
    word, alone = found
    return splice(free, word, alone)


# --------------------------------------------------------------------------- the page's own places

# Nurseries are often named after the district they stand in (東平認定こども園 in 東松山市東平,
# 大鶴本保育園 in 大鶴本町), so the applicant's own address offers words a facility name may start
# with. Each is tried in place of the reading's first characters, scored by CTC likelihood with a
# bonus of PLACE_BONUS_NATS: enough to mend a kanji the recogniser confused (武限 for 武隈) or
# dropped (東 for 東平), far too little to turn another place's name into the applicant's.
PLACE_BONUS_NATS = 4.0
PLACE_WORD_LENGTHS = (2, 3, 4)
_PREFECTURE = re.compile(r"^(東京都|北海道|京都府|大阪府|.{2,3}県)")
_CITY = re.compile(r"^(.{1,4}?郡.{1,3}?[町村]|.{1,5}?市.{1,4}?区|.{1,5}?[市区町村])")
_OWNED = re.compile(r"^([市町村区]立|私立|公立)")


def place_words(address: str) -> list[str]:
    """Words a local facility's name may start with, from an address as read: the town part (after
    the prefecture and the city, before the house number) and the city's name without 市/町/村,
    every run of 2–4 of their characters. The city is found in Japan Post's list
    (`address.split_city`), so 四日市市 is not cut at its first 市; a city read wrongly is cut at
    its first 市/区/町/村."""
    head = re.split(r"[0-9０-９]", "".join(address.split()), maxsplit=1)[0]
    head = re.sub(r"[〇一二三四五六七八九十]+丁目.*$", "", head)
    known = split_city(head)
    if known is not None:
        city, town = known
        city = _PREFECTURE.sub("", city)
    else:
        head = _PREFECTURE.sub("", head)
        m = _CITY.match(head)
        city, town = (m.group(0), head[m.end() :]) if m else ("", head)
    parts = [town, re.sub(r"[市区町村郡]$", "", city)] if city else [town]
    words: list[str] = []
    for part in parts:
        for n in PLACE_WORD_LENGTHS:
            words += [part[i : i + n] for i in range(len(part) - n + 1)]
    return list(dict.fromkeys(w for w in words if len(w) >= 2))


def match_place(
    probs: np.ndarray, labels: Sequence[str], free: Reading, words: Sequence[str]
) -> Reading | None:
    """The free reading with its first characters (after 市立 and the like) replaced by the
    likeliest of the page's place `words`, or None when the free reading stands. Changed
    characters carry how sure the writing alone is of them, so a person confirms the repair."""
    index = rescorable_index(probs, labels, free)
    if index is None or not words:
        return None
    text = free.text
    owned = _OWNED.match(text)
    lead = owned.end() if owned else 0
    body = text[lead:]
    started = max((w for w in words if body.startswith(w)), key=len, default="")
    if started:
        # It starts with a place word: only a longer word it is the start of may be meant (the
        # district's third kanji lost or misread after its first two were read).
        words = [w for w in words if len(w) > len(started) and w.startswith(started)]
    cands: list[str] = []
    for w in words:
        for k in range(max(1, len(w) - 1), len(w) + 2):
            if k < len(body) - 1:  # keep at least two characters of the rest (the ending)
                cands.append(text[:lead] + w + body[k:])
    # A word spelt as read but for ヶ/ケ or a variant kanji is no repair: the writer's own stands.
    cands = [c for c in dict.fromkeys(cands) if not same_spelling(c, text) and all(ch in index for ch in c)]
    found = best_candidate(probs, labels, text, cands, PLACE_BONUS_NATS)
    if found is None:
        return None
    word, alone = found
    k = next((i for i in range(min(len(word), len(text))) if word[i] != text[i]), min(len(word), len(text)))
    return Reading(word, (*free.chars[:k], *(Char(ch, alone) for ch in word[k:])))


# --------------------------------------------------------------------------- composed names

# What joins or qualifies the words of a facility's name: なかよしの森, 裏宿町第一, 谷塚東. None is
# a name by itself, so a name spelt from them alone is not of the make (`composed_facility_name`
# wants a word or a place besides).
FACILITY_JOINERS: tuple[str, ...] = (
    "の", "の森", "の丘", "の里", "の家", "の木", "第一", "第二", "第三", "中央", "北", "南", "東",
    "西", "台", "町",
)  # fmt: skip


def composed_facility_name(text: str, places: Sequence[str] = ()) -> bool:
    """Whether `text` is wholly a facility name of the common make: an owner (市立...) or none,
    then common facility words (`FACILITY_WORDS`), the page's own place words (`place_words`)
    and joiners (`FACILITY_JOINERS`), at least one word or place among them, then an ending
    (`FACILITY_SUFFIXES`). A reading spelt so is evidence beside the recogniser's score: a misread
    character seldom turns one such name into another (calibration's `facility/named` group
    measures how often it does)."""
    t = "".join(text.split())
    owned = _OWNED.match(t)
    t = t[owned.end() :] if owned else t
    ending = ending_of(t)
    body = t[: len(t) - len(ending)] if ending else ""
    if not body:
        return False
    words = set(FACILITY_WORDS) | {p for p in places if len(p) >= 2}
    # reach[i]: body[:i] is spelt from the tokens, and (second) a word or a place is among them.
    reach: list[tuple[bool, bool]] = [(True, False)] + [(False, False)] * len(body)
    for i in range(len(body)):
        ok, named = reach[i]
        if not ok:
            continue
        for w in words:
            if body.startswith(w, i):
                reach[i + len(w)] = (True, True)
        for j in FACILITY_JOINERS:
            if body.startswith(j, i) and not reach[i + len(j)][1]:
                reach[i + len(j)] = (True, named)
    return reach[-1] == (True, True)
