"""Fields stage with the real OCR model: a closed list (the city's facilities) read from a
rendered crop."""

from __future__ import annotations

import pytest

from pipeline.ocr.decode import Constraint
from pipeline.ocr.lexicon import match_lexicon
from tests.unit.test_fields import render

pytestmark = pytest.mark.model


def test_closed_list_reading_picks_the_facility(engine) -> None:
    rec = engine.recognizer
    words = ["ひまわりこども園", "ひかりこども園", "さくら保育所", "にじいろ保育園"]
    crop = render("ひまわりこども園")
    probs = rec.probs([crop])[0]
    free = rec.read([crop], [Constraint("name")])[0]
    m = match_lexicon(probs, rec.labels, words, free)
    assert m.in_list and m.reading.text == "ひまわりこども園" and m.posterior > 0.9
    other = render("みどり幼稚園")
    m2 = match_lexicon(rec.probs([other])[0], rec.labels, words, rec.read([other], [Constraint("name")])[0])
    assert not m2.in_list
