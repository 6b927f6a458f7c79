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


def test_open_facility_lists_name_a_nursery_after_the_applicants_district() -> None:
    import numpy as np

    from samples.profile import DISTRICT_ENDINGS, district_facility, make_context

    rng = np.random.default_rng(3)
    names = [district_facility(rng, "大鶴本町") for _ in range(20)]
    assert all(n.startswith("大鶴") and n.endswith(DISTRICT_ENDINGS) for n in names)
    assert not any("町" + e in n for n in names for e in DISTRICT_ENDINGS)
    assert all(district_facility(rng, "新川町一丁目").startswith("新川") for _ in range(5))
    # Only forms read open get them: a city's own list is what its applicants choose from.
    own = ["第一保育園", "第二保育園", "第三保育園", "第四保育園"]
    # Whether the form is read open is said, not told from which list is passed.
    for names in (own, FALLBACK_FACILITIES):
        for seed in range(10):
            assert set(make_context(np.random.default_rng(seed), None, names).facilities) <= set(names)
    towns = []
    for seed in range(20):
        ctx = make_context(np.random.default_rng(seed), None, list(FALLBACK_FACILITIES), read_open=True)
        towns += [f for f in ctx.facilities if f not in FALLBACK_FACILITIES]
    assert towns  # about one applicant in two
