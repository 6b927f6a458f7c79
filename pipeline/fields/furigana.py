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
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.ocr.charsets import label_index
from pipeline.ocr.ctc import log_likelihoods
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


@lru_cache(maxsize=4096)
def name_readings(name: str) -> tuple[str, ...]:
    """Dictionary readings (katakana) of a written name: family + given name together, then the
    family name alone. The family name is the longest leading part the table knows; empty when
    it knows none."""
    text = "".join(name.split())
    family, given = _table()
    for k in range(min(len(text), 4), 0, -1):
        fam = family.get(text[:k])
        if fam:
            break
    else:
        return ()
    fam = fam[:FAMILY_READINGS]
    giv = given.get(text[k:], [])[:GIVEN_READINGS]
    return tuple(dict.fromkeys([*(f + g for f in fam for g in giv), *fam]))


def candidates(free: str, readings: Sequence[str]) -> list[str]:
    """Dictionary candidates: each reading as it is, and each followed by the rest of the free
    reading from every cut point (`タカ|アヤカ` → `タカダアヤカ`)."""
    out = list(readings)
    for r in readings:
        out += [r + free[k:] for k in range(len(free) + 1)]
    return [c for c in dict.fromkeys(out) if c and c != free]


def read_with_name(probs: np.ndarray, labels: Sequence[str], free: Reading, name: str) -> Reading | None:
    """The kana reading after weighing the name's dictionary readings; None when the free
    reading stands."""
    readings = name_readings(name)
    if not readings or not free.text or probs.shape[0] == 0:
        return None
    index = label_index(labels)
    cands = [c for c in candidates(free.text, readings) if all(ch in index for ch in c)]
    if not cands or not all(ch in index for ch in free.text) or len(free.chars) != len(free.text):
        return None
    ll = log_likelihoods(probs, labels, [free.text, *cands])
    scores = ll + np.r_[0.0, np.full(len(cands), BONUS_NATS)]
    best = int(scores.argmax())
    if best == 0:
        return None
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
