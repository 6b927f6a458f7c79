"""Evidence groups: what the page already says about a field's reading beyond the reader's score.

Calibration (calibration.py) maps a raw confidence to the probability that the reading is right,
but how often a reading at a given score is right differs with what the field is (an address,
long and mixed digits + kanji, behaves nothing like a four-character name) and with what the
rest of the page says about it: a postal code whose town the address names, furigana that is a
dictionary reading of the name beside it, a date the page's other dates agree with, a facility
name read open that is wholly of the common make (ひかり, the address's own district, an ending:
`facility/named`), a reading a pass had to doubt. `groups` names each field's group as a path,
most general first:

    kind / role / evidence / length        e.g. text_ja/address/agree/l, kana/furigana/agree/s,
                                           text_ja/facility/named/m
    kind / role / evidence / digits        e.g. date_wareki/checked/digits-sure, phone/digits-unsure

The digits part says whether the second digit reader (the classifier of ocr/digits.py) backs
every digit the line recogniser read: two readers that agree are right far more often than
either's score says.

Calibration keeps a map for each group it saw enough of and falls back along the path
(text_ja/address/agree/l → text_ja/address/agree → text_ja/address → text_ja). Everything here
is a look-up over values the pipeline has already read and validated (postal records, name
readings, the template's rules), so it adds no image or recogniser work.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pipeline.fields.furigana import name_readings
from pipeline.fields.passes import CAPPING_FLAGS, is_facility_name
from pipeline.forms.defaults import DATE_KINDS
from pipeline.forms.template import Template
from pipeline.jp import mynumber
from pipeline.jp.address import PostalLookupError, address_prefix_fix, lookup_postal, postal_town_issue
from pipeline.ocr.lexicon import composed_facility_name, place_words
from pipeline.validate import DATE_RULES

# Per field: (raw text as read, normalised value, codes of its issues) and, where known, the
# least probability the digit classifier gives any of its digits as read (None: not judged).
Fact = tuple[str, Any, Collection[str]] | tuple[str, Any, Collection[str], float | None]
# Issue codes (warnings) that say a pass itself doubted or changed the reading.
# The flags that cap a reading (passes.CAPPING_FLAGS), and a digit only one reader saw.
DOUBT_CODES = frozenset(CAPPING_FLAGS) | {"digit_reader_only"}
POSTAL_RULE = "postal_matches_address"
# Kinds whose digits the classifier judges (passes.DOUBT_KINDS less 個人番号, which two people
# key anyway): a last part says whether it backs every digit read.
DIGIT_KINDS = frozenset({"number", "date_wareki", "date", "phone", "postal_code", "digits"})
# The classifier gives every digit as read at least this: `digits-sure`. On our generator's pages
# (seed 4242, 150 pages, 1,350 digit fields) such fields were right 99.8% of the time at any raw
# score, those under 0.5 about 70%.
DIGITS_SURE = 0.9


def length_bucket(text: str) -> str:
    """s: up to 4 characters (a name), m: 5-9, l: 10 or more (an address)."""
    n = len("".join(text.split()))
    return "s" if n <= 4 else "m" if n <= 9 else "l"


def postal_agreement(postal: Any, address: Any) -> str:
    """agree: the code exists and the address names its city and town; differ: it does not;
    alone: one of the two is missing (or no postal data to judge by)."""
    code = postal.replace("-", "") if isinstance(postal, str) else ""
    if len(code) != 7 or not code.isdigit() or not isinstance(address, str) or not address:
        return "alone"
    try:
        if lookup_postal(code) is None:
            return "differ"
    except PostalLookupError:
        return "alone"
    _, found = address_prefix_fix(code, address)
    if found is not None and found.code != "address_prefix_added":
        return "differ"
    return "differ" if postal_town_issue(code, address) is not None else "agree"


def kana_agreement(kana: Any, name: Any) -> str:
    """agree: the furigana is a dictionary reading of the name (whole, or the family name and
    more); differ: the dictionary knows the name and the furigana is none of its readings;
    alone: either is blank or the dictionary does not know the name."""
    if not isinstance(kana, str) or not isinstance(name, str) or not kana or not name:
        return "alone"
    readings = name_readings(name)
    if not readings:
        return "alone"
    text = "".join(kana.split())
    return "agree" if any(text == r or (text.startswith(r) and len(r) >= 2) for r in readings) else "differ"


def facility_make(name: Any, address: Any) -> str:
    """named: a facility name read open is wholly of the common make (an owner, common words or
    the page's own place words, an ending: `lexicon.composed_facility_name`); open: it is not;
    empty when nothing was read."""
    if not isinstance(name, str) or not name:
        return ""
    places = place_words(address) if isinstance(address, str) and address else []
    return "named" if composed_facility_name(name, places) else "open"


def _roles(tpl: Template) -> dict[str, tuple[str, str | None]]:
    """Per field: its role and the field whose reading is its evidence (or None)."""
    postal_of: dict[str, str] = {}
    for rule in tpl.rules:
        if rule.rule == POSTAL_RULE and len(rule.fields) >= 2:
            postal_of[rule.fields[1]] = rule.fields[0]
            postal_of[rule.fields[0]] = rule.fields[1]
    kana_of = {f.reading_of: f.name for f in tpl.fields if f.reading_of}
    address = next((f.name for f in tpl.fields if f.charset == "address"), None)
    out: dict[str, tuple[str, str | None]] = {}
    for f in tpl.fields:
        if f.kind in ("text_ja", "free_text"):
            if f.charset == "address" or (f.name in postal_of and f.kind != "postal_code"):
                out[f.name] = ("address", postal_of.get(f.name))
            elif f.name in kana_of:
                out[f.name] = ("name", kana_of[f.name])
            elif f.vocabulary:
                out[f.name] = ("list", None)
            elif f.kind == "text_ja" and is_facility_name(f.name):
                out[f.name] = ("facility", address)  # read open: no list of the city's own
            else:
                out[f.name] = ("text", None)
        elif f.kind == "kana":
            out[f.name] = ("furigana", f.reading_of) if f.reading_of else ("kana", None)
        elif f.kind == "postal_code":
            out[f.name] = ("postal", postal_of.get(f.name))
        else:
            out[f.name] = ("", None)
    return out


def _dated(tpl: Template) -> dict[str, list[tuple[str, ...]]]:
    """Per date field: the tuples of fields of the date rules it is in."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for rule in tpl.rules:
        if rule.rule in DATE_RULES:
            for name in rule.fields:
                out.setdefault(name, []).append(tuple(rule.fields))
    return out


def _evidence(
    kind: str,
    role: str,
    other: str | None,
    name: str,
    facts: Mapping[str, Fact],
    dated: list[tuple[str, ...]],
) -> str:
    text, value, codes = facts[name][:3]
    if codes and DOUBT_CODES.intersection(codes):
        return "doubt"
    if role in ("address", "postal") and other in facts:
        pv, av = (facts[other][1], value) if role == "address" else (value, facts[other][1])
        return postal_agreement(pv, av)
    if role == "name" and other in facts:
        return kana_agreement(facts[other][1], value)
    if role == "facility":
        return "named"  # `groups` leaves only names of the common make in the role
    if role == "furigana" and other in facts:
        if "kana_from_name" in codes:
            return "helped"  # made to agree with the name by the pass: no independent evidence
        return kana_agreement(value, facts[other][1])
    if kind in DATE_KINDS:
        # Checked against the page's other dates: every date of a rule it is in was read (the
        # rules' failures are errors, so an unblocked field that was checked passed). A date
        # repaired to keep the rules (`date_repaired`) checks nothing: it was made to pass.
        checked = any(all(_read_as_written(facts.get(n, ("", None, ()))) for n in fs) for fs in dated)
        return "checked" if checked and value not in (None, "") else "alone"
    if kind == "my_number":
        return "valid" if isinstance(value, str) and mynumber.is_valid(value) else "invalid"
    return ""


def _value(facts: Mapping[str, Fact], name: str | None) -> Any:
    return facts[name][1] if name is not None and name in facts else None


def _read_as_written(fact: Fact) -> bool:
    """A value was read, and not repaired to fit the page's date rules."""
    return fact[1] not in (None, "") and "date_repaired" not in fact[2]


def digit_backing(kind: str, fact: Fact) -> str:
    """digits-sure: the digit classifier reads every digit the same, surely; digits-unsure: it
    doubts one; empty for other kinds, or where it gave no opinion."""
    agreement = fact[3] if len(fact) > 3 else None
    if kind not in DIGIT_KINDS or agreement is None:
        return ""
    return "digits-sure" if agreement >= DIGITS_SURE else "digits-unsure"


def groups(tpl: Template, facts: Mapping[str, Fact]) -> dict[str, str]:
    """Each field's evidence group, `kind/role/evidence/length` with empty parts left out (see the module docstring)."""
    roles = _roles(tpl)
    dated = _dated(tpl)
    kinds = {f.name: f.kind for f in tpl.fields}
    out = {}
    for name in facts:
        kind = kinds.get(name, "")
        role, other = roles.get(name, ("", None))
        if role == "facility" and facility_make(facts[name][1], _value(facts, other)) != "named":
            # A facility name not of the common make has nothing beside the reader's score: it
            # is read as any free text is, and held to the text's map and cut (a name a misread
            # kana took out of the common make, 北町ひかリ, was accepted at the facilities' cut).
            role, other = "text", None
        parts = [kind, role, _evidence(kind, role, other, name, facts, dated.get(name, []))]
        if kind in ("text_ja", "free_text", "kana") and facts[name][0]:
            parts.append(length_bucket(facts[name][0]))
        parts.append(digit_backing(kind, facts[name]))
        out[name] = "/".join(p for p in parts if p)
    return out
