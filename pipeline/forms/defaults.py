"""What a template leaves unsaid, inferred from its labels and layout.

A city's IT person writes a template from the blank and the field list, and the hints that make
a field read better are easy to leave out: that a 住所 box holds an address (`charset: address`,
which reads house numbers and building names as such), which name a フリガナ row spells
(`reading_of`) and that the row is not left blank beside a written name (`required_if`), which
dates are plausible (`date_range`: a year is then read from the era years that can be meant, not
as free digits), that an era left uncircled is inferred (`infer_when_unmarked`), that the 〒 must
agree with the address (`postal_matches_address`), that everyone on the form was born before it
was filled in, a guardian before the child, and that the day asked for (利用希望日) comes after the
filing (`dates_in_order`), that a nursery class (N 歳児クラス) is 0 to 5 and the one the child's
birth gives on the start (`class_age`), that hours worked are no more than the week or day has
(`min`, `max`), that a ふりがな row is given in hiragana (`script`), that a 個人番号 or an account
number is keyed twice (`review: double`), and that an account's holder (口座名義) is the claimant.
With every hint taken out of the development set's template, 90.5% of its fields read exactly
and 1.49% of accepted values were wrong; with these assumed, 94.5% and 0.35%, as with its full
template (docs/benchmarks.md, tenth and fourteenth sessions).

`Template` (template.py) fills in each hint a template does not give where these rules find it
plain from the field's label, name and box; whatever a template says itself always wins. Each
inferred hint is listed (`Template.inferred`) and printed by `shinsei template check`, so the
city sees what was assumed and can write it down, or say otherwise. Pure functions on a field's
name, label, kind and box: the template module calls them, they know nothing of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Box = tuple[float, float, float, float]

ADDRESS_LABELS = ("住所", "所在地")
NAME_LABELS = ("氏名", "名前", "名義")
DATE_KINDS = ("date_wareki", "date")  # the field kinds that hold a date (the reader's too)
BIRTH_LABELS = ("生年月日", "誕生")
CHILD_WORDS = ("児童", "child")
ADULT_WORDS = (
    "保護者",
    "請求者",
    "申請者",
    "申込者",
    "配偶者",
    "世帯主",
    "guardian",
    "claimant",
    "applicant",
    "spouse",
    "parent",
)
FILED_LABELS = ("申込", "請求", "申請", "届出", "記入", "提出", "作成")  # the day the form was filled in
# The day asked for (利用希望日, 入所希望日, 利用開始希望日): on or after the filing, a year or two
# on at most. Looked for before FILED_LABELS: 利用開始希望日 is no filing day. Not 開始日 or 入所日
# alone: a 就労開始日 or a child's 入所日 on a status report lies years back.
START_LABELS = ("希望日", "入所予定", "入園予定", "開始予定")
# A nursery's class (入所時 N 歳児クラス): 0 to 5, and the one the child's birth and the start give.
CLASS_LABELS = ("歳児",)
CLASS_RANGE = (0, 5)
# Hours worked (週の就労時間, 1日の勤務時間): no more than the week, month or day has. A week's or a
# day's few values are then read as a closed list, as a date's parts are.
HOURS_LABELS = ("時間",)
HOURS_IN = {"週": 168, "月": 744, "日": 24}
# Plausible dates when the template gives none (offsets from the processing day): a child's birth
# (a 児童 on a child-care or allowance form is under 19), an adult's (a guardian, claimant or
# spouse is 13 or older; on a form that also asks a child's birth, the child's guardian or
# claimant, under 80), anyone else's within a lifetime; the day the form was filled in, a few
# years back at most; the day asked for, a year or two on; any other date (a move) a lifetime
# back and a few years on.
CHILD_BIRTH_RANGE = ("-19y", "+0d")
ADULT_BIRTH_RANGE = ("-100y", "-13y")
GUARDIAN_BIRTH_RANGE = ("-80y", "-13y")
BIRTH_RANGE = ("-120y", "+0d")
FILED_RANGE = ("-3y", "+1y")
START_RANGE = ("-3y", "+2y")
OTHER_DATE_RANGE = ("-100y", "+10y")
DATE_RANGES = {
    "child_birth": CHILD_BIRTH_RANGE,
    "adult_birth": ADULT_BIRTH_RANGE,
    "birth": BIRTH_RANGE,
    "filed": FILED_RANGE,
    "start": START_RANGE,
    "other": OTHER_DATE_RANGE,
}


def date_range(role: str, roles: Sequence[str]) -> tuple[str, str]:
    """The plausible range of a date of `role` on a form whose dates have `roles`."""
    if role == "adult_birth" and "child_birth" in roles:
        return GUARDIAN_BIRTH_RANGE
    return DATE_RANGES[role]


# A date with printed eras to circle, none circled (many writers circle nothing): its era is
# inferred from the year and the page (`era_inferred`, always reviewed) unless the template says
# `infer_when_unmarked: false`, rather than the written date being lost.
INFER_UNMARKED_ERA = True

# A 個人番号 is keyed again by a second person unless the template says how it is reviewed: a
# misread one that passes its check digit must not reach the back office unseen.
KEYED_TWICE_REVIEW = "double"
# So is a bank account number (口座番号): a misread digit pays someone else.
ACCOUNT_LABELS = ("口座番号",)
# An account's holder (口座名義) on a claim is the claimant: allowances are paid into the
# claimant's own account. A 名義 kana row with no name box under it spells the claimant's name.
HOLDER_LABELS = ("名義",)
CLAIMANT_WORDS = ("請求者", "申請者", "申込者", "受給者")
# A name box under a フリガナ row: its top at most this far below the row's foot (mm), or inside
# the row, and the two sharing at least this share of the narrower box's width.
READING_GAP_MM = 4.0
READING_OVERLAP = 0.5
READING_TIE_MM = 0.5  # two name boxes this close to the row are equally likely: neither is taken


def _named(name: str, word: str) -> bool:
    return re.search(rf"(^|_){word}($|_)", name) is not None


def is_address(name: str, label: str, kind: str) -> bool:
    """A text field for an address: 住所 or 所在地 in its label, or `address` in its name."""
    return kind == "text_ja" and (any(w in label for w in ADDRESS_LABELS) or _named(name, "address"))


def is_name(label: str, kind: str) -> bool:
    """A text field for a person's name: 氏名, 名前 or 名義 in its label (not its field name:
    employer_name and bank_name are names of no person)."""
    return kind == "text_ja" and any(w in label for w in NAME_LABELS)


def keyed_twice(label: str, kind: str) -> bool:
    """A 個人番号 or a bank account number: keyed again by a second person unless said otherwise."""
    return kind == "my_number" or (kind in ("digits", "number") and any(w in label for w in ACCOUNT_LABELS))


def holders_name(label: str, names: Sequence[tuple[str, str]]) -> str | None:
    """For a 口座名義 kana row (`label`) with no name box under it: the claimant's name field,
    when exactly one of `names` (field name and label) is labelled as the claimant's."""
    if not any(w in label for w in HOLDER_LABELS):
        return None
    claimant = [n for n, lab in names if any(w in lab for w in CLAIMANT_WORDS)]
    return claimant[0] if len(claimant) == 1 else None


def date_role(name: str, label: str) -> str:
    """Whose date a date field holds, as its label and name say: `child_birth`, `adult_birth`,
    `birth` (anyone's), `start` (the day asked for: 利用希望日), `filed` (the day the form was
    filled in) or `other`."""

    def says(words: tuple[str, ...]) -> bool:
        return any(w in label or w in name for w in words)

    if any(w in label for w in BIRTH_LABELS) or "birth" in name:
        if says(CHILD_WORDS):
            return "child_birth"
        return "adult_birth" if says(ADULT_WORDS) else "birth"
    if any(w in label for w in START_LABELS):
        return "start"
    return "filed" if any(w in label for w in FILED_LABELS) else "other"


HIRAGANA_LABELS = ("ふりがな", "よみがな", "ひらがな")


def asks_hiragana(label: str, kind: str) -> bool:
    """A kana field whose label asks for hiragana (ふりがな, よみがな): the applicant writes it so,
    and its value is given so; フリガナ and カナ ask for katakana, the default."""
    return kind == "kana" and any(w in label for w in HIRAGANA_LABELS)


def is_class(label: str, kind: str) -> bool:
    """A number field for a nursery class (入所時 N 歳児クラス)."""
    return kind == "number" and any(w in label for w in CLASS_LABELS)


def number_range(label: str, kind: str) -> tuple[int, int] | None:
    """The plain range of a number field, from its label: a nursery class, or hours in a week,
    month or day; None when the label says no such thing."""
    if kind != "number":
        return None
    if is_class(label, kind):
        return CLASS_RANGE
    if any(w in label for w in HOURS_LABELS):
        per = next((n for unit, n in HOURS_IN.items() if unit in label), None)
        return None if per is None else (0, per)
    return None


def _shared_width(a: Box, b: Box) -> float:
    shared = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    return max(0.0, shared) / max(1e-6, min(a[2], b[2]))


def spelled_name(kana_box: Box, names: Sequence[tuple[str, Box]]) -> str | None:
    """Of the name fields (`names`: name and box), the one right under a フリガナ row (or holding
    it); None when none is, or two are about as close."""
    x, y, w, h = kana_box
    near = sorted(
        (abs(box[1] - (y + h)), name)
        for name, box in names
        if y - 1.0 <= box[1] <= y + h + READING_GAP_MM and _shared_width(kana_box, box) >= READING_OVERLAP
    )
    if not near or (len(near) > 1 and near[1][0] - near[0][0] < READING_TIE_MM):
        return None
    return near[0][1]
