"""Generator behaviours of issue 12 item 5 (docs/devset-a-findings.md G3, G6, handwriting):
corrections of every written kind with a 訂正印, the third form (small squares with labels,
printed eras, 〒 cell boxes), and per-writer slant and baseline drift. Each new behaviour draws from
a stream of its own, so the rest of a page is unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.forms.template import load_template
from samples import profile
from samples.handwriting import Hand, Ink, Style, shear, vary_writer
from samples.render import render_page, to_px
from tests.unit.filled import render_filled

REPO = Path(__file__).resolve().parents[2]
NURSERY = REPO / "templates_forms" / "nursery_enrolment"
STATUS = REPO / "bench" / "forms" / "childcare_status"


@pytest.fixture(scope="module")
def nursery():
    return load_template(NURSERY)


@pytest.fixture(scope="module")
def status():
    return load_template(STATUS)


def _render(template, seed: int = 11, **kw):
    return render_filled(template, seed, "", **kw)


def test_no_extra_corrections_leave_the_page_as_it_was(nursery):
    _, before = _render(nursery)
    _, after = _render(nursery, corr_rng=np.random.default_rng(9), p_extra_correction=0.0)
    assert np.array_equal(before.pen, after.pen) and not after.corrections and after.seal is None


def test_every_written_kind_can_be_corrected_and_the_struck_value_is_recorded(nursery):
    fills, plain = _render(nursery, corr_rng=np.random.default_rng(9), p_extra_correction=0.0)
    _, fixed = _render(nursery, corr_rng=np.random.default_rng(9), p_extra_correction=1.0, p_seal=0.0)
    ppm = nursery.blank_dpi / 25.4
    written = [f for f in nursery.fields if "text" in fills[f.name].draw or "era" in fills[f.name].draw]
    for f in written:
        if f.lines > 1:
            continue
        info = fixed.corrections[f.name]
        assert f.name in fixed.corrected and info["seal"] is False
        if f.cells is not None:  # one struck digit, rewritten
            want = fills[f.name].draw["text"].replace("-", "")
            got = info["struck_value"].replace("-", "")
            assert len(got) == len(want) and sum(a != b for a, b in zip(got, want, strict=True)) == 1
            assert info["mark"] in ("cross", "double") and info["where"] in ("above", "beside", "over")
        elif "era" in fills[f.name].draw:
            assert info["part"] in ("year", "month", "day")
        else:
            assert info["struck_value"] != fills[f.name].draw["text"]
    # marks and signatures are drawn as before: the hand's own stream was left alone
    for f in nursery.fields:
        if f.kind in ("choice", "multi_choice", "checkbox", "signature"):
            x, y, w, h = (int(v) for v in to_px(f.box, ppm))
            a, b = plain.pen[y : y + h, x : x + w], fixed.pen[y : y + h, x : x + w]
            assert np.array_equal(a, b), f.name


def test_a_seal_is_red_ink_beside_the_correction_and_not_pen_ink(nursery):
    _, sealed = _render(nursery, corr_rng=np.random.default_rng(9), p_extra_correction=1.0, p_seal=1.0)
    _, unsealed = _render(nursery, corr_rng=np.random.default_rng(9), p_extra_correction=1.0, p_seal=0.0)
    assert sealed.seal is not None and (sealed.seal > 100).sum() > 500
    assert all(c["seal"] for c in sealed.corrections.values())
    red = (sealed.rgb[..., 0].astype(int) - sealed.rgb[..., 1]) > 80
    assert red.sum() > 500 and (sealed.seal[red] > 0).mean() > 0.9
    assert np.array_equal(sealed.pen, unsealed.pen)  # the seal never enters the pen layer


def test_the_third_form_has_small_labelled_squares_printed_eras_and_cell_boxes(status):
    kinds = {f.kind for f in status.fields}
    assert {"my_number", "postal_code", "date_wareki", "choice", "multi_choice", "checkbox"} <= kinds
    for f in status.fields:
        for o in f.options or []:
            assert o.box is not None and o.label is not None and o.box[2] == pytest.approx(3.6)
    eras = [f for f in status.fields if f.era_options]
    assert len(eras) == 2 and all(f.infer_when_unmarked for f in eras)
    assert all(o.box is None and o.label is not None for f in eras for o in f.era_options)
    postal = next(f for f in status.fields if f.kind == "postal_code")
    assert postal.cells.boxes and len(postal.cells.boxes) == 7


def test_the_third_form_is_filled_where_its_template_says(status):
    fills, r = _render(status, seed=4, p_era_unmarked=0.0)
    ppm = status.blank_dpi / 25.4
    for f in status.fields:
        if not f.era_options or not fills[f.name].draw:
            continue
        era = fills[f.name].draw["era"]
        assert r.marks[f"{f.name}:{era}"] == "circle"
        x, y, w, h = to_px(next(o.label for o in f.era_options if o.value == era), ppm)
        ring = r.pen[int(y - 2 * ppm) : int(y + h + 2 * ppm), int(x - 3 * ppm) : int(x + w + 3 * ppm)]
        assert (ring > 100).sum() > 50, f.name  # a ring round the printed era
    postal = next(f for f in status.fields if f.kind == "postal_code")
    for b in postal.cells.boxes:
        x, y, w, h = (int(v) for v in to_px(b, ppm))
        assert (r.pen[y : y + h, x : x + w] > 100).sum() > 20
    gap = to_px((63.6, 78, 5.0, 5), ppm)  # between the 3 and 4 cells, where "－" is printed
    x, y, w, h = (int(v) for v in gap)
    assert (r.pen[y : y + h, x : x + w] > 100).sum() == 0


def test_writer_variation_slants_and_waves_without_touching_the_hands_stream():
    a = vary_writer(Style(), np.random.default_rng([1, 2, 3, 4]))
    b = vary_writer(Style(), np.random.default_rng([1, 2, 3, 4]))
    assert a == b and -6 <= a.slant <= 14 and 0 <= a.drift <= 0.08
    m = np.zeros((20, 10), np.uint8)
    m[:, 4:6] = 255  # a vertical bar leans right when slanted right
    s, _ = shear(m, 12.0)
    ys, xs = np.nonzero(s > 100)
    assert xs[ys < 3].mean() > xs[ys > 16].mean()

    def write(style: Style) -> tuple[np.ndarray, float]:
        rng = np.random.default_rng(5)
        ink = Ink(200, 900)
        Hand(rng, "train", "seto", style).write(ink, "山田太郎 090-1234-5678", (10, 10, 880, 120))
        return ink.a, rng.random()

    plain, next_plain = write(Style())
    slanted, next_slanted = write(Style(slant=10.0, drift=0.1, drift_period=6.0))
    assert next_plain == next_slanted  # the same draws from the hand's stream
    assert not np.array_equal(plain, slanted)


def test_writer_variation_leaves_the_pages_other_choices_alone(nursery):
    """Slant, slope and drift are applied after fitting: the page's stream ends where it did."""

    def render(style: Style) -> tuple[np.ndarray, float]:
        rng = np.random.default_rng(21)
        fills, _ = profile.make_page_values(nursery, rng, "")
        hand = Hand(rng, "train", "seto", style)
        r = render_page(nursery, fills, hand, rng, stamp=False, ink_colour=(20, 20, 30), p_correction=0.2)
        return r.pen, rng.random()

    plain, after_plain = render(Style())
    varied, after_varied = render(vary_writer(Style(), np.random.default_rng(8)))
    assert after_plain == after_varied and not np.array_equal(plain, varied)


def test_a_writer_who_overruns_boxes_writes_numbers_past_the_box_edge_only():
    """`overrun` moves a number's line out of its box (below for +), after fitting: same draws."""

    def write(style: Style, text: str) -> tuple[np.ndarray, float]:
        rng = np.random.default_rng(5)
        ink = Ink(120, 200)
        Hand(rng, "train", "seto", style).write(ink, text, (20, 40, 120, 40), hfrac=(0.7, 0.75))
        return ink.a, rng.random()

    inside, next_inside = write(Style(), "27")
    low, next_low = write(Style(overrun=0.3), "27")
    assert next_inside == next_low
    assert not inside[81:].any() and low[81:].any()  # ink below the box's bottom edge (y 80)
    words, _ = write(Style(), "山田")
    words_low, _ = write(Style(overrun=0.3), "山田")
    assert np.array_equal(words, words_low)  # names and addresses stay in their boxes


def test_a_date_parts_new_number_may_go_small_over_its_box():
    """Dev set A scan 40: 28日 struck, 27 written small above the part, not in its box."""
    from samples.render import _write_corrected

    rng = np.random.default_rng(3)
    ink = Ink(160, 200)
    box = (60.0, 80.0, 60.0, 40.0)
    wrong, where, bb = _write_corrected(Hand(rng, "train", "seto", Style()), ink, "27", box, rng, over=True)
    assert where == "over" and wrong != "27"
    assert bb[1] >= box[1] - 1 and bb[3] <= box[1] + box[3] + 1  # the struck value in its box
    ys = np.flatnonzero((ink.a > 100).any(axis=1))
    assert ys.min() < box[1] - 0.2 * box[3]  # the new one over the box's top border
