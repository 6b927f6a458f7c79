"""The correction passes that run on the recogniser's output, one named function each, in the
order `read_page` applies them:

per OCR job (crop)
    closed_list          a value from a closed list (a facility, a date part): the list's entry
    second_digit_reader  digits read again by the digit classifier; the two readers' joint score
    check_digit          a 個人番号 whose check digit fails: the likeliest one-digit change
    address_join         a letter or kana where an address's house or room number meets the
                         building name (L04, 38ノレジデンス): the digit, or review
    facility_suffix      a facility name with no list of its own: its ending read against the
                         built-in endings (〜保育園, 〜こども園...)
    phone_number         a phone number of a shape no number has (length, 00): the likeliest
                         valid number one digit away, for review
    flag_disagreement    the two digit readers still disagree: flag for review
    unread_ink           ink the reading left unread: flag, and restore skipped digits
per page (needs another field's reading)
    postal_from_address  a postal code that does not fit the address: one-digit change that does
    family_from_names    a person's name whose family name lost or misread a character, where
                         another name on the page spells the family (小翔 beside 小川 優子)
    kana_from_name       furigana helped by the readings of the name it spells, or held where
                         they spell one of its kana otherwise
    (after finishing)    boxed dates that break the template's date rules: daterepair.py

Each pass takes the reading so far and returns it, noting what it did in `flags` (field names by
READING_FLAGS code); `apply_flags` turns those notes into the field's issues and caps its
confidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.fields.furigana import dropped_kana, family_name, fix_voicing, read_with_name, with_agreement
from pipeline.fields.plan import Job, RawField
from pipeline.forms.template import FieldSpec
from pipeline.jp import mynumber, phone
from pipeline.jp.address import (
    PostalLookupError,
    broken_number_block,
    choon_suspects,
    join_suspects,
    lookup_postal,
    postal_town_matches,
)
from pipeline.jp.text import edit_distance
from pipeline.ocr import coverage, digits
from pipeline.ocr.charsets import KATAKANA_LETTERS, label_index
from pipeline.ocr.ctc import log_likelihoods
from pipeline.ocr.decode import is_japanese, matches
from pipeline.ocr.lexicon import (
    FACILITY_SUFFIXES,
    best_candidate,
    match_building,
    match_lexicon,
    match_place,
    match_suffix,
    match_words,
    place_words,
    rescorable_index,
)
from pipeline.ocr.spans import char_spans, digit_alternative, likeliest_of
from pipeline.ocr.zoo import ModelSpec
from pipeline.result import Char, Issue, Reading

DISAGREE_CONFIDENCE = 0.5

Flags = dict[str, set[str]]  # READING_FLAGS code -> names of the fields it applies to
Readings = dict[str, dict[str, list[Reading]]]  # field -> slot -> readings of its jobs


@dataclass(frozen=True)
class Kept:
    """A job's matrix and final reading, kept for the page-level passes."""

    kind: str
    probs: np.ndarray
    reading: Reading
    opinion: digits.Opinion | None
    has_ink: bool


# What reading noticed about a field beyond its text, as (message, severity); {label} is the
# field's printed label.
READING_FLAGS: dict[str, tuple[str, str]] = {
    "not_in_list": ("「{label}」が一覧にない値です。確認してください。", "error"),
    "check_digit_corrected": (
        "チェックデジットが合わないため、最も確からしい番号に1桁直しました。原本と照合してください。",
        "error",
    ),
    "postal_corrected": (
        "郵便番号が住所と合わないため、住所に合う番号に直しました（1～2桁）。確認してください。",
        "error",
    ),
    "digit_reader_only": (
        "記入された数字を補助の数字認識だけで読みました。確認してください。",
        "warning",
    ),
    "kana_from_name": (
        "フリガナの一部（濁点・半濁点・小さい字を含む）を氏名の一般的な読みで補いました。本人の記入と照合してください。",
        "warning",
    ),
    # Two independent readers disagree on a digit: not sure enough to accept unseen.
    "digits_uncertain": ("数字の読み取りが二通りに分かれました。確認してください。", "warning"),
    # The reading leaves ink unread: a character may have been skipped (see ocr/coverage.py).
    "unread_ink": ("読み取れなかった文字があるかもしれません。原本と照合してください。", "warning"),
    # A phone number of an impossible shape (length, 00), changed by one digit into the likeliest valid one.
    "phone_repaired": (
        "電話番号の桁数や先頭が電話番号の形に合わないため、1桁直して最も確からしい番号にしました。原本と照合してください。",
        "error",
    ),
    # The furigana is kept as written, but the name's dictionary reading spells one or two of its
    # kana otherwise (静香 シズカ, read シスカ; 松本 マツモト, read マノモト).
    "kana_disputed": (
        "フリガナの一部（濁点・小さい字を含む）が氏名の一般的な読みと違います。本人の記入と照合してください。",
        "warning",
    ),
    # The furigana reads as the name's reading with one kana left out (furigana.dropped_kana).
    "kana_short": (
        "フリガナが氏名の読みより1字少なく読めました（字の読み落とし）。本人の記入と照合してください。",
        "warning",
    ),
    # A kana field read in both scripts at once (passes.mixed_script).
    "kana_mixed_script": (
        "フリガナがひらがなとカタカナの混じった形で読めました（読み誤りの疑い）。原本と照合してください。",
        "warning",
    ),
    # A person's family name read as another name on the page spells it (family_from_names).
    "family_from_page": (
        "氏名の姓を、同じ用紙の他の氏名の姓に合わせて読みました。本人の記入と照合してください。",
        "warning",
    ),
    # A person's name read with digits, letters or marks at its ends (a neighbour's writing, a
    # speck) or inside it (name_stray_marks).
    "name_stray_marks": (
        "氏名に漢字・かな以外の数字や記号が読み取られました（隣の記入や汚れの可能性）。原本と照合してください。",
        "warning",
    ),
    # A house or room number running into the building name was read with a letter or kana in it.
    "address_join": (
        "住所の番地・部屋番号と建物名の境目の読み取りが不確かです。原本と照合してください。",
        "warning",
    ),
}


# Flags that cap the field's confidence (DISAGREE_CONFIDENCE): the pass doubts the reading itself.
CAPPING_FLAGS = (
    "name_stray_marks",
    "digits_uncertain",
    "unread_ink",
    "address_join",
    "kana_short",
    "family_from_page",
    "kana_mixed_script",
)


def new_flags() -> Flags:
    return {code: set() for code in READING_FLAGS}


def validity(job: Job) -> Callable[[str], bool] | None:
    """What a repaired reading must satisfy: the field's list or grammar, and for a 個人番号 its
    check digit."""
    pattern = job.constraint.pattern
    if job.words:
        return frozenset(job.words).__contains__
    if job.kind == "my_number":
        return mynumber.is_valid
    if pattern is None:
        return None
    return lambda text: matches(pattern, text)


def wants_digit_reader(job: Job, reading: Reading) -> bool:
    """Whether the digit classifier reads this crop's digits too: any one-line crop with digits
    (phone, postal code, 個人番号, a house number in an address), except dates, whose numbers are
    read against the list of valid ones and where fusing fixed as many as it broke, and crops
    read against a closed list."""
    return (
        job.ink is not None
        and not job.words
        and job.constraint.charset != "wareki"
        and any(c.isdigit() for c in reading.text)
    )


def _repaired(reading: Reading, best: str, posterior: float) -> Reading:
    """`best` in place of `reading`: changed characters carry the repair's posterior as their
    probability, unchanged ones keep the recogniser's."""
    return Reading(
        best,
        tuple(
            Char(ch, posterior if ch != reading.text[i] else c.prob)
            for i, (ch, c) in enumerate(zip(best, reading.chars, strict=False))
        ),
    )


def _fix_check_digit(
    probs: np.ndarray, labels: Any, reading: Reading, op: digits.Opinion | None
) -> Reading | None:
    """A 12-digit 個人番号 whose check digit fails has (almost always) one misread digit: try every
    single-digit change that passes, and keep the one the two digit readers find most likely."""
    text = reading.text
    if len(text) != 12 or not text.isdigit() or mynumber.is_valid(text):
        return None
    cands = [
        text[:i] + d + text[i + 1 :]
        for i in range(12)
        for d in "0123456789"
        if d != text[i] and mynumber.is_valid(text[:i] + d + text[i + 1 :])
    ]
    ranked = digits.rank(probs, labels, cands, op)
    if not ranked:
        return None
    return _repaired(reading, *ranked[0])


def _postal_fits(code: str, address: str) -> bool:
    """The code exists, and (when an address was read) its city starts the address, give or take
    one misread character."""
    try:
        rec = lookup_postal(code)
    except PostalLookupError:
        return True  # no postal data to judge by: leave the reading alone
    if rec is None:
        return False
    if not address:
        return True
    for r in [rec, *(getattr(rec, "alternates", None) or [])]:
        for place in (f"{r.prefecture}{r.city}", r.city):
            if edit_distance(address[: len(place)], place) <= 1:
                return True
    return False


# How much less likely (nats, the two digit readers together) a code two digits from the one read
# may be and still replace it (`_fix_postal`): two digits the readers found hard, as a date repair
# allows over a date's three parts (daterepair.MARGIN_NATS) and a little more, the address's town
# vouching for the code. A digit read at 0.99 against 0.0001 costs 9 nats to change.
POSTAL_TWO_DIGIT_NATS = 8.0


def _fix_postal(
    probs: np.ndarray, labels: Any, reading: Reading, address: str, op: digits.Opinion | None
) -> Reading | None:
    """A postal code that does not exist, or names another city than the address, most often has
    one misread digit: keep the likeliest single-digit change that names the address's own town
    (町域), else one that changes two digits and names it (489-2451 for 武隈's 989-2452: a looped
    9 and a 2 both misread), else a single-digit change that fits the address's city. A code of
    the address's city whose town is not the address's is changed only by one digit, and only to
    a code naming that town (the writer may have written a neighbouring town's code)."""
    text = reading.text
    digits_only = text.replace("-", "")
    if len(digits_only) != 7 or not digits_only.isdigit() or not address:
        return None
    city_fits = _postal_fits(digits_only, address)
    if city_fits and postal_town_matches(digits_only, address) is not False:
        return None
    pos = [i for i, ch in enumerate(text) if ch.isdigit()]

    def fits(cand: str) -> bool:
        return _postal_fits(cand.replace("-", ""), address)

    def names_town(cand: str) -> bool:  # of a code that fits the city
        return postal_town_matches(cand.replace("-", ""), address, strict=True) is True

    one = [text[:i] + d + text[i + 1 :] for i in pos for d in "0123456789" if d != text[i]]
    cands = [c for c in one if fits(c)]
    in_town = [c for c in cands if names_town(c)]
    if not in_town and not city_fits:
        two = {
            c[:j] + d + c[j + 1 :]
            for c in one
            for j in pos
            if c[j] == text[j]
            for d in "0123456789"
            if d != c[j]
        }
        in_town = sorted(c for c in two if fits(c) and names_town(c))
        if in_town:  # two digits the readers found hard, not a plainly written other code
            score = digits.joint_scores(probs, labels, [text, *in_town], op)
            in_town = [
                c for c, s in zip(in_town, score[1:], strict=True) if score[0] - s <= POSTAL_TWO_DIGIT_NATS
            ]
    cands = in_town if city_fits or in_town else cands
    ranked = digits.rank(probs, labels, cands, op)
    if not ranked:
        return None
    return _repaired(reading, *ranked[0])


# --------------------------------------------------------------------------- per job


def closed_list(job: Job, probs: np.ndarray, labels: Any, reading: Reading, flags: Flags) -> Reading:
    """A crop read against a closed list takes the list's likeliest entry. Ink the recogniser read
    as nothing (a thin 1, say) takes the digit classifier's reading, capped so that a person
    confirms it."""
    if not job.words:
        return reading
    m = match_lexicon(probs, labels, job.words, reading)
    reading = m.reading
    alone = digits.read_alone(job.ink) if not reading.text and job.ink is not None else None
    if alone is not None and alone.text in job.words:
        reading = Reading(
            alone.text, tuple(Char(c.text, min(c.prob, DISAGREE_CONFIDENCE)) for c in alone.chars)
        )
        flags["digit_reader_only"].add(job.field)
    elif not m.in_list:
        flags["not_in_list"].add(job.field)
    return reading


def second_digit_reader(
    job: Job, probs: np.ndarray, labels: Any, reading: Reading, spec: ModelSpec
) -> tuple[Reading, digits.Opinion | None]:
    """A second reader on each handwritten digit: where the two disagree, their joint score
    decides (for a 個人番号, among numbers whose check digit holds). Returns the reading and the
    digit classifier's opinion (None when it did not read this crop)."""
    if job.ink is None or not wants_digit_reader(job, reading):
        return reading, None
    op = digits.opinion(probs, labels, reading, job.ink, spec)
    valid = validity(job)
    fused = digits.fuse(probs, labels, reading, op, valid) if op is not None else None
    return (fused if fused is not None else reading), op


def check_digit(
    job: Job, probs: np.ndarray, labels: Any, reading: Reading, op: digits.Opinion | None, flags: Flags
) -> Reading:
    """個人番号: a check digit that fails means (almost always) one misread digit."""
    fixed = _fix_check_digit(probs, labels, reading, op)
    if fixed is None:
        return reading
    flags["check_digit_corrected"].add(job.field)
    return fixed


# A look-alike kana at a number's edge is taken as the digit when the recogniser gave that digit
# at least this share of the kana's own probability; with less (but some) doubt the field is only
# sent to review, so a real パーク101 stays as written.
JOIN_DIGIT_RATIO = 0.5
JOIN_DOUBT_RATIO = 0.1


def address_join(
    job: Job, probs: np.ndarray, labels: Any, reading: Reading, op: digits.Opinion | None, flags: Flags
) -> Reading:
    """Addresses (charset `address`): where the number block meets the building, a Latin letter
    or symbol touching a digit is a misread digit (604 → L04, 607 → 60>) and becomes the
    recogniser's likeliest digit there; a look-alike kana (380 → 38ノ) becomes the digit when the
    recogniser half thought so. Either way, and for a number block broken by a hyphen before
    katakana (2071-2 パー → 2071-21-), the field goes to review."""
    if job.constraint.charset != "address" or not reading.text:
        return reading
    text = reading.text
    doubt = broken_number_block(text)
    suspects = join_suspects(text)
    if suspects:
        greedy_text, spans = char_spans(probs, labels, job.constraint.charset)
        if len(greedy_text) != len(text) or len(reading.chars) != len(text):
            doubt = True
        else:
            chars = list(reading.chars)
            for i, sure in suspects:
                alt = digit_alternative(probs, labels, job.constraint.charset, spans[i], greedy_text[i])
                if alt is None:
                    doubt = True
                    continue
                if sure or alt.p_digit >= JOIN_DIGIT_RATIO * alt.p_char:
                    chars[i] = Char(alt.digit, min(alt.p_digit, DISAGREE_CONFIDENCE))
                    doubt = True
                elif alt.p_digit >= JOIN_DOUBT_RATIO * alt.p_char:
                    doubt = True
            if chars != list(reading.chars):
                reading = Reading("".join(c.text for c in chars), tuple(chars))
    reading, misread_kana = _choon_kana(job, probs, labels, reading)
    # The part after the gap between number and building (`ink.segment_gap`) is read on its own.
    building_only = job.slot.rpartition("#")[2] not in ("", "0", job.slot)
    reading = match_building(probs, labels, reading, building_only) or reading
    if doubt or misread_kana:
        flags["address_join"].add(job.field)
    return reading


def _choon_kana(job: Job, probs: np.ndarray, labels: Any, reading: Reading) -> tuple[Reading, bool]:
    """A digit read before ー and a katakana (`choon_suspects`) becomes the recogniser's likeliest
    katakana there; returns the reading and whether one was found (the field then goes to review,
    the kana being the recogniser's second choice)."""
    found = choon_suspects(reading.text)
    if not found:
        return reading, False
    greedy_text, spans = char_spans(probs, labels, job.constraint.charset)
    if greedy_text != reading.text or len(reading.chars) != len(reading.text):
        return reading, True
    chars = list(reading.chars)
    for i in found:
        alt = likeliest_of(probs, labels, job.constraint.charset, spans[i], KATAKANA_LETTERS)
        if alt is not None:
            chars[i] = Char(alt[0], min(alt[1], DISAGREE_CONFIDENCE))
    return Reading("".join(c.text for c in chars), tuple(chars)), True


def is_facility_job(job: Job) -> bool:
    """A facility-name field (by its name: `facility…`, `…_facility`, `nursery…`) read without
    a closed list of its own (`vocabulary` in the template)."""
    return not job.words and is_facility_name(job.field)


def is_facility_name(field: str) -> bool:
    """A field named for a facility (`facility…`, `…_facility`, `nursery…`)."""
    name = field.lower()
    return "facility" in name or "nursery" in name


def only_facility_ending(text: str) -> bool:
    """Whether `text` is nothing but a facility's ending (保育園, こども園...)."""
    return "".join(text.split()) in FACILITY_SUFFIXES


def facility_suffix(
    job: Job, probs: np.ndarray, labels: Any, reading: Reading, op: digits.Opinion | None, flags: Flags
) -> Reading:
    """A facility name's hiragana words (あさひ, のびのび...) and its ending (保育園, こども園...)
    read against the built-in ones (`lexicon.FACILITY_WORDS`, `lexicon.FACILITY_SUFFIXES`) when
    the template gives the field no list."""
    if not is_facility_job(job):
        return reading
    reading = match_words(probs, labels, reading) or reading
    fixed = match_suffix(probs, labels, reading)
    return reading if fixed is None else fixed


# A phone number that cannot exist is repaired by one digit (changed, added or dropped) only when
# the best such number is at most PHONE_MARGIN_NATS less likely on the crop than the reading, and
# PHONE_CLEAR_NATS likelier than the next: a repair the writing does not single out is no repair.
PHONE_MARGIN_NATS = 6.0
PHONE_CLEAR_NATS = 1.0


def phone_number(
    job: Job, probs: np.ndarray, labels: Any, reading: Reading, op: digits.Opinion | None, flags: Flags
) -> Reading:
    """A phone number not shaped like any domestic number (a mobile one digit short, 00 for 090:
    `phone.well_formed`) becomes the likeliest valid number one digit away, for review. A number of
    the right length is left alone even where the area-code table lacks it: it may be written as
    meant, and a digit changed to please the table would be a guess."""
    text = reading.text
    if not text or job.constraint.pattern is None or probs.shape[0] == 0:
        return reading
    if phone.is_valid(text) or phone.well_formed(text):
        return reading
    cands = [c for c in phone.one_edit(text) if phone.is_valid(c) and matches(job.constraint.pattern, c)]
    index = label_index(labels)
    cands = [c for c in cands if all(ch in index for ch in c)]
    if not cands or not all(ch in index for ch in text):
        return reading
    ll = log_likelihoods(probs, labels, [text, *cands])
    order = np.argsort(-ll[1:]) + 1
    best = int(order[0])
    if ll[best] < ll[0] - PHONE_MARGIN_NATS:
        return reading
    if len(order) > 1 and ll[best] - ll[int(order[1])] < PHONE_CLEAR_NATS:
        return reading
    post = np.exp(ll - ll.max())
    share = min(DISAGREE_CONFIDENCE, float(post[best] / post.sum()))
    word = cands[best - 1]
    if len(word) == len(text):
        fixed = _repaired(reading, word, share)
    else:
        fixed = Reading(word, tuple(Char(ch, share) for ch in word))
    flags["phone_repaired"].add(job.field)
    return fixed


def mixed_script(
    job: Job, probs: np.ndarray, labels: Any, reading: Reading, op: digits.Opinion | None, flags: Flags
) -> Reading:
    """Kana read as hiragana and katakana both (オかヒロト, キムやまでゃ): a writer keeps to one
    script in a フリガナ, so a letter of the other is a misread one (a lost dakuten, a kanji's
    part), however sure the recogniser was of it. The field goes to review."""
    text = reading.text
    if any("\u3041" <= c <= "\u3096" for c in text) and any("\u30a1" <= c <= "\u30fa" for c in text):
        flags["kana_mixed_script"].add(job.field)
    return reading


JobPass = Callable[[Job, np.ndarray, Any, Reading, "digits.Opinion | None", Flags], Reading]
# Passes that only one kind of field gets, after the digit reader.
KIND_PASSES: dict[str, tuple[JobPass, ...]] = {
    "my_number": (check_digit,),
    "phone": (phone_number,),
    "kana": (mixed_script,),
    "text_ja": (address_join, facility_suffix),
    "free_text": (address_join,),
}


def flag_disagreement(job: Job, reading: Reading, op: digits.Opinion | None, flags: Flags) -> None:
    if op is not None and digits.contradicts(reading.text, op):
        flags["digits_uncertain"].add(job.field)


# Kinds whose digits a wrong auto-accept costs most (a date, an hour count, a phone number).
DOUBT_KINDS = frozenset({"number", "date_wareki", "date", "phone", "postal_code", "digits", "my_number"})
# The classifier "doubts" a digit the recogniser read when it gives that digit less than
# DOUBT_BACKING, wherever the rest of its probability goes: sure of another digit (a 7 where a 4
# is written), or leaning to another while unsure, on the shapes both readers find hard and where
# the recogniser is sure of the wrong digit (a 3 with a closed lower loop or a 2 with a big loop
# read 8, a tick-and-stem 4 read 1). This one threshold replaces two rules that each implied a
# backing under 0.25 (a sure contradiction, under 0.15 against 0.6 or more; another digit three
# times likelier, at least 0.4) and holds what they let through (0.45 on a 2, 0.25 on the 8 read).
# Set on our generator's pages (seed 20261126, nursery and allowance, 40 each, 401 digit fields
# accepted under the old rules, 3 of them wrong): 0.25 holds 2 of the 3 wrong and 7 right ones,
# 0.3 the same 2 and 12 right, 0.35 the same 2 and 21 right (docs/benchmarks.md, "Branch digits3").
DOUBT_BACKING = 0.25
# ... or when it gives no digit at least DOUBT_TOP: the written shape lies between two digits
# (a 4 with a closed top, a 3 half a 5), where the recogniser's certainty means little. Fitted
# on our generator (seed 20261126, 518 auto-accepted digit fields, 7 of them wrong): under 0.3
# holds 8 (2 wrong), under 0.5 would hold 59 (3 wrong).
DOUBT_TOP = 0.3


def opinion_of(
    job: Job, probs: np.ndarray, labels: Any, reading: Reading, op: digits.Opinion | None, spec: ModelSpec
) -> digits.Opinion | None:
    """The digit classifier's opinion on the digits of `reading` as it now stands (`op` when it
    was given on this very text); None for a kind the classifier does not judge, a crop with no
    digits, or where no opinion can be given."""
    if job.kind not in DOUBT_KINDS or job.ink is None or not any(c.isdigit() for c in reading.text):
        return None
    if op is not None and op.text == reading.text:
        return op
    return digits.opinion(probs, labels, reading, job.ink, spec)


def digit_agreement(
    job: Job, probs: np.ndarray, labels: Any, reading: Reading, op: digits.Opinion | None, spec: ModelSpec
) -> float | None:
    """How far the digit classifier backs the reading's digits: the least probability it gives
    any digit as read (1.0 = it reads every digit the same, surely). None when the crop holds no
    digit of a kind the classifier judges, or it could give no opinion. Not a reason for review:
    evidence for calibration (`evidence.groups`), where two readers that agree on every digit
    are right far more often than the recogniser's score alone says."""
    op = opinion_of(job, probs, labels, reading, op, spec)
    return None if op is None else agreement_of(reading, op)


def agreement_of(reading: Reading, op: digits.Opinion) -> float:
    """The least probability the classifier's opinion `op` gives any digit of `reading` as read
    (1.0 where `reading` is not of the opinion's shape: nothing to judge)."""
    return float(min((row[d] for d, row in digits.read_rows(reading.text, op)), default=1.0))


def digit_doubt(
    job: Job,
    probs: np.ndarray,
    labels: Any,
    reading: Reading,
    op: digits.Opinion | None,
    spec: ModelSpec,
    flags: Flags,
) -> None:
    """A digit the recogniser read surely but the digit classifier reads as another, or cannot
    tell from a second digit: the field stays in review (`digits_uncertain`). Date parts, which
    the classifier does not fuse with (see `wants_digit_reader`), get its opinion here too, only
    as a doubt."""
    op = opinion_of(job, probs, labels, reading, op, spec)
    if op is not None and doubts(reading, op):
        flags["digits_uncertain"].add(job.field)


def one_digit(job: Job, reading: Reading, flags: Flags) -> Reading:
    """Two digits read from what is written as one (`digits.one_digit_written`: a 6 whose stem
    curls into a loop beside it, read 10) become that digit where the field's list allows it,
    capped so that a person confirms it; the field goes to review either way."""
    if job.ink is None:
        return reading
    one = digits.one_digit_written(job.ink, reading.text)
    if one is None:
        return reading
    flags["digits_uncertain"].add(job.field)
    if job.words is not None and one.text not in job.words:
        return reading
    return Reading(one.text, tuple(Char(c.text, min(c.prob, DISAGREE_CONFIDENCE)) for c in one.chars))


def doubts(reading: Reading, op: digits.Opinion) -> bool:
    """Whether the classifier's opinion `op` doubts a digit of `reading`: it backs some digit as
    read with less than DOUBT_BACKING, or is sure of no digit somewhere (see `digit_doubt`)."""
    torn = float(np.exp(op.logp).max(axis=1).min()) < DOUBT_TOP
    return torn or agreement_of(reading, op) < DOUBT_BACKING


def unread_ink(
    job: Job, probs: np.ndarray, labels: Any, reading: Reading, spec: ModelSpec, flags: Flags
) -> Reading:
    """Ink the reading leaves unread: a character may have been skipped. The field goes to review
    either way; with the skipped digits put back, the reviewer confirms a whole number instead of
    typing the missing digits."""
    if job.ink is None:
        return reading
    centres = coverage.placed(probs, labels, reading.text, job.ink, spec)
    if coverage.skipped(reading.text, centres, job.ink):
        flags["unread_ink"].add(job.field)
        restored = coverage.restore_digits(reading, centres, job.ink, validity(job))
        if restored is not None:
            reading = restored
    return reading


# --------------------------------------------------------------------------- per page


def _text_of(by_field: Readings, name: str) -> str:
    return "".join(r.text for r in by_field.get(name, {}).get("text", []))


def postal_from_address(
    postal_address: dict[str, str], kept: dict[str, Kept], by_field: Readings, labels: Any, flags: Flags
) -> None:
    """A postal code that names no place, or another city than its address field (from the
    template's `postal_matches_address` rules): the likeliest one-digit change that fits."""
    for postal_f, address_f in postal_address.items():
        k = kept.get(postal_f)
        if k is None or k.kind != "postal_code":
            continue
        fixed = _fix_postal(k.probs, labels, k.reading, _text_of(by_field, address_f), k.opinion)
        if fixed is not None:
            by_field[postal_f]["text"] = [fixed]
            flags["postal_corrected"].add(postal_f)


def kana_from_name(
    specs: list[FieldSpec], kept: dict[str, Kept], by_field: Readings, labels: Any, flags: Flags
) -> None:
    """Furigana (`reading_of` a name field): characters the recogniser was unsure of are taken
    from the common readings of the name written beside it; where the writing alone already
    spells such a reading, its kana are surer for it (`furigana.with_agreement`)."""
    for spec in specs:
        k = kept.get(spec.name)
        if spec.reading_of is None or k is None or k.kind != "kana" or not k.has_ink:
            continue
        (free,) = by_field[spec.name]["text"]
        # A doubtful (han)dakuten or small kana first (スズキ read ススキ), then the name's readings.
        voiced = fix_voicing(k.probs, labels, free)
        name = _text_of(by_field, spec.reading_of)
        helped = read_with_name(k.probs, labels, voiced or free, name)
        if voiced is None and helped is not None and helped.text == free.text:
            # The writing stands; the name's reading disputes a dakuten or small kana of it.
            by_field[spec.name]["text"] = [helped]
            flags["kana_disputed"].add(spec.name)
        elif helped is not None or voiced is not None:
            by_field[spec.name]["text"] = [helped or voiced]
            flags["kana_from_name"].add(spec.name)
        else:
            by_field[spec.name]["text"] = [with_agreement(free, name)]
        if dropped_kana(by_field[spec.name]["text"][0].text, name) is not None:
            flags["kana_short"].add(spec.name)


# A family name spelt by another name on the page is offered this many nats over the free
# reading, as the lexicons' words are (`lexicon.PLACE_BONUS_NATS`): enough to put back a character
# the recogniser merged into its look-alike neighbour (小川 read 小, 佐々木 read 佐々大), far too
# little to turn another family name written plainly (a spouse's own) into the claimant's.
FAMILY_BONUS_NATS = 4.0
FAMILY_SOURCE_SURE = 0.5  # a name lends its family name only where each of its characters is this sure


def is_person_name(spec: FieldSpec, furigana_of: set[str]) -> bool:
    """A field holding a person's name: the name a furigana field spells (`reading_of`), or text
    labelled 氏名 that is not a facility's (在園児氏名・施設名 holds both)."""
    if spec.kind != "text_ja" or spec.vocabulary or is_facility_name(spec.name):
        return False
    return spec.name in furigana_of or (
        "氏名" in spec.label and "施設" not in spec.label and "・" not in spec.label
    )


def _name_char(ch: str) -> bool:
    """A character a Japanese person's name is written with: kanji, kana, 々, ー, ・ and spaces."""
    return ch.isspace() or is_japanese(ch)


def name_stray_marks(specs: list[FieldSpec], by_field: Readings, flags: Flags) -> None:
    """A person's name (`is_person_name`) holds kanji and kana only. Digits, letters or marks
    read at its ends are a neighbour's writing or a speck the crop took in (中島大和27): they are
    dropped; and either way, or with such a character inside the name, it goes to a person
    (`name_stray_marks`). A name that would be left empty keeps what was read."""
    furigana_of = {s.reading_of for s in specs if s.reading_of}
    for spec in specs:
        texts = by_field.get(spec.name, {}).get("text", [])
        if not is_person_name(spec, furigana_of) or len(texts) != 1:
            continue
        (r,) = texts
        if all(_name_char(c) for c in r.text):
            continue
        flags["name_stray_marks"].add(spec.name)
        a, b = 0, len(r.text)
        while a < b and not _name_char(r.text[a]):
            a += 1
        while b > a and not _name_char(r.text[b - 1]):
            b -= 1
        if 0 < b - a < len(r.text) and r.text[a:b].strip():
            by_field[spec.name]["text"] = [Reading(r.text[a:b], r.chars[a:b])]


def family_from_names(
    specs: list[FieldSpec], kept: dict[str, Kept], by_field: Readings, labels: Any, flags: Flags
) -> None:
    """Names on one page mostly share a family name (an applicant, the spouse, the children). A
    name that does not start with a family name another name on the page was read with is scored
    against that family name put in place of its first characters (one fewer to two more than
    the family name has: a character lost, merged or misread), the family with a bonus of
    `FAMILY_BONUS_NATS`; the likelier wins. A changed name carries how sure the writing alone is
    of it and goes to a person (`family_from_page`)."""
    furigana_of = {s.reading_of for s in specs if s.reading_of}
    names = [s.name for s in specs if is_person_name(s, furigana_of)]
    single = {n: by_field[n]["text"][0] for n in names if len(by_field.get(n, {}).get("text", [])) == 1}
    families: dict[str, str] = {}
    for n, r in single.items():
        fam = family_name(r.text)
        if fam and all(c.prob >= FAMILY_SOURCE_SURE for c in r.chars[: len(fam)]):
            families[n] = fam
    if len(families) == 0:
        return
    for n, free in single.items():
        k = kept.get(n)
        others = {f for m, f in families.items() if m != n}
        if k is None or k.kind != "text_ja" or not others or any(free.text.startswith(f) for f in others):
            continue
        if rescorable_index(k.probs, labels, free) is None:
            continue
        cands = [
            f + free.text[j:]
            for f in sorted(others)
            for j in range(max(1, len(f) - 1), len(f) + 2)
            if j < len(free.text)
        ]
        found = best_candidate(k.probs, labels, free.text, list(dict.fromkeys(cands)), FAMILY_BONUS_NATS)
        if found is None:
            continue
        word, alone = found
        same = next(
            (i for i, (a, b) in enumerate(zip(word, free.text, strict=False)) if a != b),
            min(len(word), len(free.text)),
        )
        by_field[n]["text"] = [Reading(word, (*free.chars[:same], *(Char(ch, alone) for ch in word[same:])))]
        flags["family_from_page"].add(n)


def facility_from_address(
    specs: list[FieldSpec], kept: dict[str, Kept], by_field: Readings, labels: Any
) -> None:
    """Facility names read open (no `vocabulary`) whose first characters the page's own address
    spells better: a nursery is often named after its district (`lexicon.match_place`)."""
    address = next((s.name for s in specs if s.charset == "address"), None)
    words = place_words(_text_of(by_field, address)) if address else []
    if not words:
        return
    for spec in specs:
        k = kept.get(spec.name)
        if spec.vocabulary or k is None or k.kind != "text_ja" or not is_facility_name(spec.name):
            continue
        (free,) = by_field[spec.name]["text"]
        fixed = match_place(k.probs, labels, free, words)
        if fixed is not None:
            by_field[spec.name]["text"] = [fixed]


def apply_flags(rf: RawField, flags: Flags) -> RawField:
    """What the passes noted about this field, as issues; unsure digits cap its confidence."""
    name = rf.spec.name
    for code, (message, severity) in READING_FLAGS.items():
        if name in flags[code] and (code != "not_in_list" or rf.raw):
            rf.issues.append(Issue(code, message.format(label=rf.spec.label), (name,), severity))
    if any(name in flags[code] for code in CAPPING_FLAGS):
        rf.confidence = min(rf.confidence, DISAGREE_CONFIDENCE)
    return rf
