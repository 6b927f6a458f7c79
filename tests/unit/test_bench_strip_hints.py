"""bench/accuracy.py and bench/devset.py --strip-hints: the form's template without its reading
hints and rules, read with what shinsei assumes in their place."""

from __future__ import annotations

from pathlib import Path

from bench.accuracy import stripped_copy
from bench.common import HINT_KEYS
from pipeline.forms.template import load_template

FORMS = Path(__file__).resolve().parents[2] / "bench" / "forms"


def test_a_stripped_template_keeps_its_boxes_and_has_the_plain_hints_assumed() -> None:
    full = load_template(FORMS / "child_allowance")
    bare = load_template(stripped_copy(FORMS, "child_allowance") / "child_allowance")
    assert [(f.name, f.box, f.kind) for f in bare.fields] == [(f.name, f.box, f.kind) for f in full.fields]
    assert full.inferred == ()
    # every rule but those assumed is gone, and no field keeps a hint it was not given again
    assert {r.rule for r in bare.rules} == {"postal_matches_address", "dates_in_order", "required_if"}
    assert {r.fields[0] for r in bare.rules if r.rule == "required_if"} == {
        "child_2_name_kana",
        "child_3_name_kana",
    }
    assumed = {line.split(": ")[1].split(" ")[0] for line in bare.inferred}
    assert assumed == {"date_range", "reading_of", "charset", "review", "infer_when_unmarked", "rule"}
    for f in bare.fields:
        for k in set(HINT_KEYS) - assumed:
            assert getattr(f, k) in (None, "auto"), (f.name, k)
    assert bare.field("claimant_name_kana").reading_of == "claimant_name"
