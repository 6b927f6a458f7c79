"""Calibrated confidence: the committed maps are monotone probabilities covering every routed kind,
the pipeline stores and routes on them, template and environment thresholds still win, and a
blocking issue or a review flag keeps a field from a sure reading's auto-acceptance."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest

from pipeline.fields import calibration
from pipeline.fields.plan import RawField
from pipeline.forms.template import FieldSpec, load_template
from pipeline.result import Issue
from pipeline.route import DEFAULT_THRESHOLDS, accept_field, below_threshold_words, blocking, threshold_for
from pipeline.run import finish_fields
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ROUTED = {"choice", "multi_choice", "checkbox", "signature", "text_ja", "date_wareki", "phone", "kana"}
ROUTED |= {"my_number", "postal_code", "number"}


def spec(kind: str, **kw: object) -> FieldSpec:
    """The bundled form's first field of `kind` (a real, valid spec), with `kw` changed."""
    tpl = load_template(ROOT / "templates_forms" / "nursery_enrolment")
    return next(f for f in tpl.fields if f.kind == kind).model_copy(update=kw)


def test_pav_is_monotone_and_every_knot_has_its_floor_of_fields() -> None:
    rng = random.Random(3)
    xs = [rng.random() for _ in range(3000)]
    ys = [float(rng.random() < x**3) for x in xs]
    blocks = calibration.pav(xs, ys, min_n=50)
    shares = [b[1] for b in blocks]
    assert shares == sorted(shares)
    assert all(b[2] >= 50 for b in blocks)
    assert sum(b[2] for b in blocks) == 3000
    assert [b[0] for b in blocks] == sorted(b[0] for b in blocks)


def test_pav_pools_a_violation() -> None:
    blocks = calibration.pav([0.1, 0.2, 0.3], [1.0, 0.0, 1.0])
    assert [round(b[1], 3) for b in blocks] == [0.5, 1.0]


def test_committed_file_loads_and_covers_every_routed_kind() -> None:
    cal = calibration.load()
    kinds_in_forms = set()
    for tpl in (ROOT / "templates_forms").glob("*/template.yaml"):
        kinds_in_forms |= {f.kind for f in load_template(tpl.parent).fields}
    assert ROUTED <= set(DEFAULT_THRESHOLDS)
    for kind in ROUTED | kinds_in_forms:
        assert kind in cal.curves, kind
        assert 0.0 < DEFAULT_THRESHOLDS[kind] <= 1.0
    assert cal.meta["generator"]["seed"] != 20261126  # the accuracy bench's seed is never fitted on
    assert len(calibration.DATA_FILE.read_bytes()) < 60_000  # small enough to re-fit and review


@pytest.mark.parametrize("kind", sorted(ROUTED))
def test_every_map_is_a_monotone_probability(kind: str) -> None:
    cal = calibration.load()
    grid = [i / 1000 for i in range(1001)]
    ps = [cal.probability(kind, x) for x in grid]
    assert all(0.0 <= p <= 1.0 for p in ps)
    assert all(b >= a for a, b in zip(ps, ps[1:], strict=False))


def test_a_file_that_is_not_monotone_is_refused() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        calibration.from_dict({"kinds": {"kana": {"x": [0.5, 0.9], "y": [0.9, 0.5]}}})
    with pytest.raises(ValueError, match="increasing"):
        calibration.from_dict({"kinds": {"kana": {"x": [0.9, 0.5], "y": [0.5, 0.9]}}})


def test_curve_interpolates_between_knots_and_claims_nothing_below_them() -> None:
    c = calibration.Curve((0.5, 0.9), (0.6, 1.0))
    assert c(0.99) == 1.0 and c(0.0) == 0.0
    assert c(0.25) == pytest.approx(0.3)
    assert c(0.7) == pytest.approx(0.8)
    unknown = calibration.from_dict({"kinds": {}})
    assert unknown.probability("free_text", 0.42) == 0.42  # a kind without a map keeps its score


def test_the_pipeline_stores_and_routes_on_the_calibrated_confidence() -> None:
    tpl = load_template(ROOT / "templates_forms" / "nursery_enrolment")
    target = next(f for f in tpl.fields if f.kind == "kana")
    raws = [
        RawField(f, raw=None if f.kind in calibration.MARK_KINDS else "", confidence=1.0) for f in tpl.fields
    ]
    raw = 0.9
    raws[tpl.fields.index(target)] = RawField(target, raw="ヤマダ タロウ", confidence=raw)
    settings = Settings(reference_date=dt.date(2026, 11, 26))
    fields, _ = finish_fields(tpl, raws, settings)
    f = next(x for x in fields if x.name == target.name)
    assert f.evidence.startswith("kana/furigana")
    p = calibration.calibrated("kana", raw, False, f.evidence)
    assert f.raw_confidence == raw
    assert f.confidence == pytest.approx(p)
    assert f.accepted == (p >= threshold_for(target, settings) and not blocking(f.issues))
    assert "raw_confidence" not in f.export()  # stored: the probability only


def test_template_threshold_and_environment_override_still_win() -> None:
    s = Settings(confidence_by_kind={"kana": 0.5})
    assert threshold_for(spec("kana"), s) == 0.5
    assert threshold_for(spec("kana", threshold=0.7), s) == 0.7
    assert threshold_for(spec("kana"), Settings()) == DEFAULT_THRESHOLDS["kana"]
    assert accept_field(spec("kana", threshold=0.7), 0.75, (), s)
    assert not accept_field(spec("kana", threshold=0.8), 0.75, (), s)


def test_settings_read_the_override_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHINSEI_CONFIDENCE_BY_KIND", json.dumps({"phone": 0.42}))
    assert threshold_for(spec("phone"), Settings()) == 0.42


@pytest.mark.parametrize("kind", sorted(ROUTED))
def test_a_blocking_issue_or_a_review_flag_is_never_accepted(kind: str) -> None:
    issue = Issue("correction", "訂正線があります。", ("f",))
    assert not accept_field(spec(kind), 1.0, (issue,), Settings())
    assert not accept_field(spec(kind, review="always"), 1.0, (), Settings())
    assert not accept_field(spec(kind, review="double"), 1.0, (), Settings())
    warning = Issue("note", "参考", ("f",), severity="warning")
    assert accept_field(spec(kind, review="auto", threshold=None), 1.0, (warning,), Settings())


def test_an_empty_reading_gets_its_own_figure_but_keeps_a_pass_s_doubt() -> None:
    cal = calibration.from_dict({"kinds": {"number": {"x": [0.9, 1.0], "y": [0.9, 0.999], "empty": 0.98}}})
    assert cal.probability("number", 1.0, empty=True) == 0.98
    assert cal.probability("number", 0.5, empty=True) == pytest.approx(0.5)  # not 0.98: a pass doubted it
    assert cal.probability("number", 1.0) == 0.999


def test_below_threshold_words_shows_enough_digits_to_differ() -> None:
    from pipeline.route import below_threshold_words

    assert below_threshold_words(0.82, 0.93) == "確信度 0.82 < 基準 0.93"
    assert below_threshold_words(0.978, 0.9801) == "確信度 0.978 < 基準 0.980"
    assert below_threshold_words(0.97999, 0.9801) == "確信度 0.9800 < 基準 0.9801"


def test_a_group_takes_its_most_specific_fitted_map_and_falls_back_to_its_kind() -> None:
    cal = calibration.from_dict(
        {
            "kinds": {
                "text_ja": {"x": [0.5], "y": [0.5]},
                "text_ja/address": {"x": [0.5], "y": [0.7]},
                "text_ja/address/agree": {"x": [0.5], "y": [0.9]},
            }
        }
    )
    assert cal.probability("text_ja", 0.8, group="text_ja/address/agree/l") == 0.9
    assert cal.probability("text_ja", 0.8, group="text_ja/address/differ/l") == 0.7
    assert cal.probability("text_ja", 0.8, group="text_ja/name/agree/s") == 0.5
    assert cal.probability("text_ja", 0.8) == 0.5
    assert calibration.from_dict({"kinds": {}}).probability("kana", 0.3, group="kana/furigana") == 0.3


@pytest.mark.parametrize("group", sorted(g for g in calibration.load().curves if "/" in g))
def test_every_committed_group_map_is_a_monotone_probability_under_a_known_kind(group: str) -> None:
    cal = calibration.load()
    assert group.split("/")[0] in cal.curves  # every group's kind has a map to fall back to
    ps = [cal.probability(group.split("/")[0], i / 200, group=group) for i in range(201)]
    assert all(0.0 <= p <= 1.0 for p in ps)
    assert all(b >= a for a, b in zip(ps, ps[1:], strict=False))


def test_a_role_s_own_cut_is_found_on_the_field_s_evidence_group() -> None:
    # fit_calibration gives a role (kind/role) its own cut when its fields are more than 1% wrong
    # at the kind's: on our pages addresses are, so the fitted file refuses them above the kind.
    address = spec("text_ja", charset="address")
    kind_cut = threshold_for(address, Settings())
    assert DEFAULT_THRESHOLDS["text_ja/address"] > kind_cut
    assert (
        threshold_for(address, Settings(), "text_ja/address/agree/l") == DEFAULT_THRESHOLDS["text_ja/address"]
    )
    assert threshold_for(address, Settings(), "text_ja/name/agree/s") == kind_cut
    assert not accept_field(address, 0.99, (), Settings(), "text_ja/address/agree/l")
    assert accept_field(address, 0.99, (), Settings(), "text_ja/name/agree/s")
    # A template's own threshold still wins over the role's.
    assert accept_field(
        spec("text_ja", charset="address", threshold=0.9), 0.95, (), Settings(), "text_ja/address"
    )


def test_a_black_and_white_page_s_map_only_lowers_a_probability() -> None:
    cal = calibration.from_dict(
        {
            "kinds": {"phone": {"x": [0.5, 0.9], "y": [0.6, 1.0]}},
            "bilevel": {"phone": {"x": [0.6, 0.95], "y": [0.3, 0.97]}},
        }
    )
    grey = cal.probability("phone", 0.9)
    assert grey == 1.0
    assert cal.probability("phone", 0.9, bilevel=True) == pytest.approx(0.97)  # surer than right
    assert cal.probability("phone", 0.7, bilevel=True) < cal.probability("phone", 0.7)
    # Where such pages read better than the map claims, the grey page's figure stands.
    kind = calibration.from_dict(
        {"kinds": {"kana": {"x": [0.5, 0.9], "y": [0.5, 0.9]}}, "bilevel": {"kana": {"x": [0.1], "y": [1.0]}}}
    )
    assert kind.probability("kana", 0.6, bilevel=True) == pytest.approx(kind.probability("kana", 0.6))
    assert cal.probability("kana", 0.42, bilevel=True) == 0.42  # no map of either: the score stands
    with pytest.raises(ValueError, match="non-decreasing"):
        calibration.from_dict({"kinds": {}, "bilevel": {"kana": {"x": [0.5, 0.9], "y": [0.9, 0.5]}}})


def _page_with_a_phone_read_at(raw: float) -> tuple[Any, FieldSpec, list[RawField]]:
    """The bundled form read as blank but for its first phone, read 090-1234-5678 at `raw`."""
    tpl = load_template(ROOT / "templates_forms" / "nursery_enrolment")
    target = next(f for f in tpl.fields if f.kind == "phone")
    raws = [
        RawField(f, raw=None if f.kind in calibration.MARK_KINDS else "", confidence=1.0) for f in tpl.fields
    ]
    raws[tpl.fields.index(target)] = RawField(target, raw="090-1234-5678", confidence=raw)
    return tpl, target, raws


def test_the_pipeline_calibrates_a_black_and_white_page_s_fields_as_such() -> None:
    tpl, target, raws = _page_with_a_phone_read_at(0.9)
    settings = Settings(reference_date=dt.date(2026, 11, 26))
    grey = next(f for f in finish_fields(tpl, raws, settings)[0] if f.name == target.name)
    bw = next(f for f in finish_fields(tpl, raws, settings, bilevel=True)[0] if f.name == target.name)
    assert bw.confidence == pytest.approx(calibration.calibrated("phone", 0.9, False, bw.evidence, True))
    assert bw.confidence <= grey.confidence
    if "phone" in calibration.load().bilevel:
        assert bw.confidence < grey.confidence


def test_a_black_and_white_page_s_fields_need_at_least_the_cut_fitted_for_such_pages() -> None:
    from pipeline import route

    s = Settings()
    phone = spec("phone")
    grey = threshold_for(phone, s, "phone/digits-sure")
    bw_cut = route.DEFAULT_THRESHOLDS.get(route.BILEVEL)
    bw = threshold_for(phone, s, "phone/digits-sure", bilevel=True)
    assert bw == max(grey, bw_cut or 0.0)
    if bw_cut is not None and bw_cut > grey:
        between = (grey + bw_cut) / 2
        assert accept_field(phone, between, [], s, "phone/digits-sure")
        assert not accept_field(phone, between, [], s, "phone/digits-sure", bilevel=True)
    # A template's own threshold and the settings' still win on such pages too.
    assert threshold_for(spec("phone", threshold=0.5), s, bilevel=True) == 0.5
    assert threshold_for(phone, Settings(confidence_by_kind={"phone": 0.6}), bilevel=True) == 0.6


def test_a_field_keeps_the_cut_it_was_judged_against_and_its_reason_quotes_it() -> None:
    from pipeline.cli.pages_view import Rule, held_because
    from pipeline.store.reviewing import FieldTask
    from web.review import reason_words

    tpl, target, raws = _page_with_a_phone_read_at(0.9)
    settings = Settings(reference_date=dt.date(2026, 11, 26))
    for bilevel in (False, True):
        f = next(x for x in finish_fields(tpl, raws, settings, bilevel=bilevel)[0] if x.name == target.name)
        assert f.threshold == threshold_for(target, settings, f.evidence, bilevel)
        assert type(f).from_dict(f.export()).threshold == f.threshold
    # Held by a cut above its kind's (a role's, a black-and-white page's): the reason quotes it.
    kind_cut = threshold_for(target, settings)
    stored = {"accepted": False, "issues": [], "confidence": kind_cut + 0.01, "threshold": kind_cut + 0.02}
    assert held_because(stored, Rule(kind_cut, False)) == [
        below_threshold_words(kind_cut + 0.01, kind_cut + 0.02)
    ]
    assert held_because(stored | {"threshold": None}, Rule(kind_cut, False)) == []  # stored before: as it was
    task = FieldTask(1, 0, target.name, "phone", tpl.form_id, "a.png", "090", confidence=kind_cut + 0.01)
    assert not any("確信度" in w for w in reason_words(task, target, settings))
    held = FieldTask(
        1,
        0,
        target.name,
        "phone",
        tpl.form_id,
        "a.png",
        "090",
        confidence=kind_cut + 0.01,
        threshold=kind_cut + 0.02,
    )
    assert below_threshold_words(kind_cut + 0.01, kind_cut + 0.02) in reason_words(held, target, settings)
