"""bench/accuracy.py --open-facilities: the nursery form without its facility list, so the
generator writes its own facility names and the pipeline reads them open."""

from __future__ import annotations

from bench.accuracy import BUNDLED, _with_bundled, open_facilities
from pipeline.forms.template import load_template
from samples.profile import FALLBACK_FACILITIES, facility_names


def test_open_facilities_drops_the_list_and_hides_the_bundled_form() -> None:
    folder = open_facilities(BUNDLED, "nursery_enrolment")
    tpl = load_template(folder / "nursery_enrolment")
    facilities = [f for f in tpl.fields if f.name.startswith("facility")]
    assert facilities and all(not f.vocabulary for f in facilities)
    assert facility_names(tpl) == FALLBACK_FACILITIES
    both = _with_bundled(folder)
    assert (both / "nursery_enrolment").resolve() == (folder / "nursery_enrolment").resolve()
