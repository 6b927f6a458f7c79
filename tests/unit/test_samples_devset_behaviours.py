"""Generator behaviours added after development set A (docs/devset-a-findings.md): an uncircled
printed era, and 200 dpi colour/grey scans with low contrast. Each is drawn from its own random
stream so pages without it are unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.forms.template import load_template
from samples import profile
from samples.handwriting import Hand, Style
from samples.render import render_page, to_px
from tests.unit.filled import render_filled

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = REPO / "templates_forms" / "nursery_enrolment"


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE_DIR)


def _render(template, p_era_unmarked: float):
    return render_filled(template, 11, p_era_unmarked=p_era_unmarked)


def test_uncircled_era_leaves_the_era_boxes_empty_and_is_recorded(template):
    eras = [f for f in template.fields if f.era_options]
    assert eras, "the nursery form has a date with era options"
    ppm = template.blank_dpi / 25.4
    fills, plain = _render(template, 0.0)
    _, bare = _render(template, 1.0)
    for f in eras:
        if not fills[f.name].draw:
            continue
        assert plain.marks.get(f"{f.name}:{fills[f.name].draw['era']}") == "circle"
        assert bare.marks[f"{f.name}:era"] == "unmarked"
        for opt in f.era_options:
            x, y, w, h = (int(v) for v in to_px(opt.box, ppm))
            assert (bare.pen[y : y + h, x : x + w] > 60).sum() == 0, opt.value
        # the year, month and day are still written
        x, y, w, h = (int(v) for v in to_px(f.parts.year, ppm))
        assert (bare.pen[y : y + h, x : x + w] > 60).sum() > 20


def test_widen_params_makes_low_dpi_and_low_contrast_scans_and_leaves_fax_alone():
    from samples.scan import sample_params, scan_page, widen_params

    seen_dpi, seen_contrast = set(), 0
    for i in range(60):
        rng = np.random.default_rng(i)
        p = widen_params(sample_params(rng, "mild", fax=False), np.random.default_rng([i, 1]))
        seen_dpi.add(p.dpi)
        seen_contrast += p.contrast is not None
        fax = widen_params(sample_params(rng, "hard", fax=True), np.random.default_rng([i, 1]))
        assert fax.dpi == 200 and fax.contrast is None
    assert seen_dpi == {200, 300}
    assert 2 <= seen_contrast <= 25

    # a low-contrast scan: black ink no darker than the floor, white paper no lighter than the ceiling
    rng = np.random.default_rng(0)
    p = sample_params(rng, "mild", fax=False)
    p.grey, p.contrast, p.clean_bg, p.noise, p.blur = True, (0.3, 0.85), False, 0.0, 0.5
    page = np.full((297 * 4, 210 * 4, 3), 255, np.uint8)
    page[400:440, 200:600] = 0
    img = np.asarray(scan_page(page, 4.0, (210.0, 297.0), [(40.0, 90.0, 120.0, 30.0)], p, rng).image)
    assert img.min() >= int(255 * 0.3) - 2
    assert img.max() <= int(255 * 0.85) + 2


def test_full_fill_inks_most_of_the_square_and_keeps_the_hand_stream(template):
    from samples.handwriting import Ink

    ppm = template.blank_dpi / 25.4
    box = to_px((100.0, 100.0, 4.0, 4.0), ppm)
    hand = Hand(np.random.default_rng(1), "train", "seto", Style())
    ink = Ink(600, 600)
    hand.fill_square(ink, (10.0, 10.0, box[2], box[3]), np.random.default_rng(2))
    x, y, w, h = 10, 10, int(box[2]), int(box[3])
    assert (ink.a[y : y + h, x : x + w] > 60).mean() > 0.7
    # the hand's own stream is untouched by a fill
    assert hand.rng.random() == np.random.default_rng(1).random()

    # every ticked square on a page becomes a full fill at p=1, and is recorded so
    rng = np.random.default_rng(11)
    fills, _ = profile.make_page_values(template, rng)
    r = render_page(
        template,
        fills,
        Hand(rng, "train", "seto", Style()),
        rng,
        stamp=False,
        ink_colour=(20, 20, 30),
        p_correction=0.0,
        extra_rng=np.random.default_rng(3),
        p_full_fill=1.0,
        p_label_circle=0.0,
    )
    styles = set(r.marks.values()) - {"circle", "unmarked"}
    assert styles == {"fill_full"}


def test_label_circle_rings_the_printed_label_and_leaves_the_square_empty(template):
    from samples.render import is_square_option, label_box, load_blank

    blank = load_blank(str(template.blank_path))
    ppm = template.blank_dpi / 25.4
    care = template.field("care_reasons")
    first = care.options[0]
    label = label_box(blank, to_px(first.box, ppm), ppm)
    assert label is not None
    lx, ly, lw, lh = label
    bx, by, bw, bh = to_px(first.box, ppm)
    # the label (就労) starts just right of its square and stops before the next option's square
    assert bx + bw < lx < bx + bw + 3 * ppm
    assert lx + lw < to_px(care.options[1].box, ppm)[0]
    assert 2 * ppm < lh < 5 * ppm

    rng = np.random.default_rng(11)
    fills, _ = profile.make_page_values(template, rng)
    r = render_page(
        template,
        fills,
        Hand(rng, "train", "seto", Style()),
        rng,
        stamp=False,
        ink_colour=(20, 20, 30),
        p_correction=0.0,
        extra_rng=np.random.default_rng(3),
        p_label_circle=1.0,
    )
    pen = r.pen > 60
    circled = [k for k, v in r.marks.items() if v == "circle_label"]
    assert circled
    for key in circled:
        name, _, value = key.partition(":")
        f = template.field(name)
        box = next(o.box for o in f.options if o.value == value) if value else f.box
        x, y, w, h = (int(v) for v in to_px(box, ppm))
        assert is_square_option(blank, (x, y, w, h))
        assert pen[y + 3 : y + h - 3, x + 3 : x + w - 3].sum() == 0, key  # nothing in the square
        lx, ly, lw, lh = (int(v) for v in label_box(blank, (x, y, w, h), ppm))
        ring = pen[ly - int(3 * ppm) : ly + lh + int(3 * ppm), lx - int(2 * ppm) : lx + lw + int(3 * ppm)]
        assert ring.sum() > 50, key


def test_struck_marks_strike_a_wrong_option_and_leave_the_rest_of_the_page_alone(template):
    def render(p: float):
        rng = np.random.default_rng(11)
        fills, _ = profile.make_page_values(template, rng)
        hand = Hand(rng, "train", "seto", Style())
        r = render_page(
            template,
            fills,
            hand,
            rng,
            stamp=False,
            ink_colour=(20, 20, 30),
            p_correction=0.0,
            extra_rng=np.random.default_rng(3),
            struck_rng=np.random.default_rng(5),
            p_struck_mark=p,
        )
        return fills, r

    fills, plain = render(0.0)
    _, struck = render(1.0)
    ppm = template.blank_dpi / 25.4
    choices = [f for f in template.fields if f.options and fills[f.name].draw.get("marks") is not None]
    assert choices
    changed = np.zeros(plain.pen.shape, bool)
    for f in choices:
        hit = [k for k, v in struck.marks.items() if k.startswith(f"{f.name}:") and v == "struck"]
        if len(f.options) > len(fills[f.name].draw["marks"]):
            assert len(hit) == 1 and f.name in struck.corrected
            value = hit[0].split(":", 1)[1]
            assert value not in fills[f.name].draw["marks"]
        x, y, w, h = (int(v) for v in to_px(f.box, ppm))
        changed[y - 60 : y + h + 60, x - 60 : x + w + 60] = True
    diff = np.abs(struck.pen.astype(int) - plain.pen.astype(int)) > 60
    assert diff.any() and not (diff & ~changed).any()  # only inside the choice fields


def test_dark_fax_pages_and_stained_colour_pages_are_made_from_their_own_stream():
    from samples.scan import sample_params, scan_page, widen_params

    dark = stained = 0
    for i in range(200):
        rng = np.random.default_rng(i)
        fax = widen_params(sample_params(rng, "hard", fax=True), np.random.default_rng([i, 1]))
        dark += fax.dark_gradient is not None
        colour = widen_params(sample_params(rng, "mild", fax=False), np.random.default_rng([i, 1]))
        stained += colour.stain is not None
        assert colour.dark_gradient is None and fax.stain is None
    assert 4 <= dark <= 35 and 1 <= stained <= 25

    page = np.full((297 * 2, 210 * 2, 3), 255, np.uint8)  # a white page at 2 px/mm
    p = sample_params(np.random.default_rng(0), "hard", fax=True)
    p.rotation_deg, p.perspective, p.punch, p.upside_down, p.speckle = 0.0, 0.0, False, False, 0.0
    p.dark_gradient, p.threshold, p.dpi = (0.5, 0.8), 160, 50  # 50 dpi: the test stays quick
    bw = np.array(
        scan_page(page, 2.0, (210, 297), [(20, 20, 170, 250)], p, np.random.default_rng(1)).image.convert("L")
    )
    h = bw.shape[0]
    assert bw[int(h * 0.85) :].mean() < 20 and bw[: int(h * 0.3)].mean() > 230  # lower part black

    p = sample_params(np.random.default_rng(2), "mild", fax=False)
    p.grey, p.rotation_deg, p.perspective, p.punch, p.clean_bg = False, 0.0, 0.0, False, False
    p.stain, p.dpi = (7, 0.5, (60, 200, 220)), 50
    rgb = np.array(scan_page(page, 2.0, (210, 297), [(20, 20, 170, 250)], p, np.random.default_rng(1)).image)
    spread = rgb.max(axis=2).astype(int) - rgb.min(axis=2)
    assert (spread > 40).mean() > 0.03  # coloured blotches


def test_heavy_jpeg_only_on_200_dpi_colour_and_grey_pages_and_it_marks_the_image():
    from samples.scan import harden, sample_params, scan_page, widen_params

    heavy = 0
    for i in range(200):
        rng = np.random.default_rng(i)
        p = harden(
            widen_params(sample_params(rng, "mild", fax=False), np.random.default_rng([i, 1])),
            np.random.default_rng([i, 3]),
        )
        heavy += p.jpeg_baked is not None
        assert p.jpeg_baked is None or p.dpi == 200
        fax = harden(sample_params(rng, "hard", fax=True), np.random.default_rng([i, 3]))
        assert fax.jpeg_baked is None
    assert 10 <= heavy <= 60

    page = np.full((297 * 2, 210 * 2, 3), 255, np.uint8)
    page[200:210, 100:300] = (20, 20, 60)  # a stroke: JPEG rings round it
    p = sample_params(np.random.default_rng(2), "mild", fax=False)
    p.grey, p.rotation_deg, p.perspective, p.punch, p.clean_bg, p.dpi = False, 0.0, 0.0, False, False, 50
    p.noise = 0.0
    plain = np.array(
        scan_page(page, 2.0, (210, 297), [(20, 20, 170, 250)], p, np.random.default_rng(1)).image
    )
    p.jpeg_baked = 25
    baked = np.array(
        scan_page(page, 2.0, (210, 297), [(20, 20, 170, 250)], p, np.random.default_rng(1)).image
    )
    assert baked.shape == plain.shape and np.abs(baked.astype(int) - plain).max() > 10


def test_colour_that_is_not_ink_goes_on_colour_pages_only_and_drops_out_of_the_page_grey():
    from pipeline.imaging.prepare import to_gray
    from samples.scan import colourise, sample_params, scan_page

    counts = {"paper_colour": 0, "tint": 0, "pattern": 0, "highlight": 0}
    for i in range(300):
        p = colourise(
            sample_params(np.random.default_rng(i), "mild", fax=False), np.random.default_rng([i, 7])
        )
        for key in counts:
            counts[key] += getattr(p, key) is not None
        if p.grey:
            assert all(getattr(p, key) is None for key in counts)
    assert all(2 <= n <= 45 for n in counts.values()), counts
    fax = colourise(sample_params(np.random.default_rng(0), "hard", fax=True), np.random.default_rng(1), 1.0)
    assert fax.paper_colour is fax.tint is fax.pattern is fax.highlight is None

    # Every effect at once on a white page with one black bar: the bar is the only ink left.
    page = np.full((297 * 2, 210 * 2, 3), 255, np.uint8)  # 2 px/mm
    page[200:210, 60:360] = 20
    p = sample_params(np.random.default_rng(3), "mild", fax=False)
    p.grey, p.rotation_deg, p.perspective, p.punch, p.clean_bg, p.upside_down = (
        False,
        0.0,
        0.0,
        False,
        False,
        False,
    )
    p.scale, p.shift_mm, p.light, p.dpi, p.contrast = 1.0, (0.0, 0.0), 0.0, 50, None
    p = colourise(p, np.random.default_rng(4), 1.0)
    p.tint = (5, 1.0, "cyan")
    p.pattern = None  # fine lines blur away at 50 dpi
    rgb = np.array(scan_page(page, 2.0, (210, 297), [(20, 90, 170, 12)], p, np.random.default_rng(1)).image)
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    assert (bgr[..., 2] < 120).mean() > 0.1  # the red channel holds the cyan blotches
    dark = to_gray(bgr) < 150
    assert 0.003 < dark.mean() < 0.03  # the bar (about 1% of the page), nothing else


def test_most_buildings_are_written_after_a_gap_and_the_value_has_none():
    rng = np.random.default_rng(5)
    spaced = wide = buildings = 0
    for place in profile.places()[:400]:
        address = profile.make_address(rng, place)
        value, written = profile.address_written(place, address, None)
        if value == address:
            continue
        buildings += 1
        assert "\u3000" not in value  # the pipeline closes the gap (close_building_gap)
        spaced += "\u3000" in written
        wide += "\u3000\u3000" in written
    assert buildings >= 40
    assert spaced >= 0.55 * buildings and 0 < wide < spaced


def test_the_written_class_is_the_one_the_dates_give(template):
    # 入所時 N 歳児クラス (a class_age rule's `written` field): applicants write the class the child's
    # birth date and start date give, so a page breaks the rule only when it means to.
    seen = set()
    for seed in range(40):
        fills, broken = profile.make_page_values(template, np.random.default_rng([seed, 5]))
        birth, start = (fills[n].value for n in ("child_birth_date", "start_date"))
        klass = fills["child_class"].value
        if birth and start and klass is not None:
            d = [profile.dt.date.fromisoformat(v) for v in (birth, start)]
            if "class_age" not in broken:
                assert klass == profile.class_age(*d)
                seen.add(klass)
                values = {n: f.value for n, f in fills.items()}
    assert len(seen) >= 3  # not one number written everywhere
    assert profile.check_rules(template, values) == []
    values["child_class"] = (values["child_class"] + 1) % 6
    assert "class_age" in profile.check_rules(template, values)


def test_early_writers_start_a_line_dates_number_before_its_box_from_their_own_stream():
    # The fifth form writes its birth dates on an underline (＿年＿月＿日): free paper before each part.
    hibari = load_template(REPO / "bench" / "forms" / "hibari_allowance")
    ppm = hibari.blank_dpi / 25.4

    def render(p: float):
        return render_filled(hibari, 5, lead_rng=np.random.default_rng(3), p_early_start=p)[1]

    plain, early = render(0.0), render(1.0)
    moved = [k for k, v in early.marks.items() if v == "early"]
    assert moved and not any(v == "early" for v in plain.marks.values())
    name, part = moved[0].split(":")
    spec = next(f for f in hibari.fields if f.name == name)
    x, y, w, h = (int(v) for v in to_px(getattr(spec.parts, part), ppm))
    before = slice(max(0, x - int(2.5 * ppm)), x)
    assert (early.pen[y : y + h, before] > 60).sum() > (plain.pen[y : y + h, before] > 60).sum()
    # everything else on the page is drawn as before
    assert {k: v for k, v in early.marks.items() if v != "early"} == plain.marks


def _strike_rows(tight: float, seed: int) -> tuple[int, float]:
    """Rows of ink in the middle column of a 二重線 drawn with `P_TIGHT_STRIKE` = `tight`, and the
    hand's next draw after it."""
    from samples import handwriting
    from samples.handwriting import Ink

    saved = handwriting.P_TIGHT_STRIKE
    handwriting.P_TIGHT_STRIKE = tight
    try:
        hand = Hand(np.random.default_rng(seed), "train", "seto", Style())
        ink = Ink(120, 200)
        hand.strike(ink, (40.0, 30.0, 160.0, 90.0))
    finally:
        handwriting.P_TIGHT_STRIKE = saved
    column = ink.a[:, 100] > 60
    runs = int(column[0]) + int(np.count_nonzero(column[1:] & ~column[:-1]))
    return runs, float(hand.rng.random())


def test_some_double_strikes_are_drawn_tight_from_the_same_draws():
    """A tight 二重線 (dev set scan 4) is one bar where the two lines touch; whether a strike is
    tight comes from the draws it made anyway, so the hand's stream goes on as before."""
    for seed in range(6):
        wide, after_wide = _strike_rows(0.0, seed)
        tight, after_tight = _strike_rows(1.0, seed)
        assert (wide, tight) == (2, 1)
        assert after_wide == after_tight


def test_black_and_white_scans_are_bilevel_from_their_own_stream(tmp_path):
    # A scanner's black-and-white mode on a colour or grey page: a 1-bit image whose threshold
    # follows the page's paper, the same writing and geometry as the page drawn in grey.
    from samples.generate import Options, file_plan, make_file

    opts = Options(seed=5150)
    fmt, _, _, _ = file_plan(opts, 1)
    made = {}
    for name, p_bilevel in (("grey", 0.0), ("bw", 1.0)):
        (tmp_path / name).mkdir()
        entry = make_file(
            opts, 1, tmp_path / name, plan=(fmt, 1, "mild", False), force=[{"p_bilevel": p_bilevel}]
        )
        gt = json.loads((tmp_path / name / entry["gt"]).read_text(encoding="utf-8"))["pages"][0]
        with Image.open(tmp_path / name / entry["file"]) as im:
            made[name] = (im.mode, im.size, np.asarray(im.convert("L")), gt)
    assert made["grey"][0] in ("RGB", "L") and made["bw"][0] == "1" and made["grey"][1] == made["bw"][1]
    ink = 1.0 - made["bw"][2].astype(np.float32).mean() / 255
    assert 0.02 < ink < 0.3, ink  # writing and print kept, the paper white
    grey, bw = made["grey"][3], made["bw"][3]
    assert bw["bilevel"] is True and "bilevel" not in grey
    assert bw["values"] == grey["values"] and bw["transform"] == grey["transform"]


def test_fax_files_in_standard_mode_say_so_and_their_truth_maps_to_the_stored_pixels(tmp_path):
    from samples.generate import FAX_MODE_ODDS, FAX_MODES, Options, make_file

    opts = Options(seed=5150)
    index = next(
        i
        for i in range(1, 100)
        if np.random.default_rng([opts.seed, i, 10**6 + 1]).choice(list(FAX_MODES), p=FAX_MODE_ODDS)
        == "standard"
    )
    entry = make_file(opts, index, tmp_path, plan=("tiff", 1, "hard", True))
    gt = json.loads((tmp_path / entry["gt"]).read_text(encoding="utf-8"))["pages"][0]
    assert gt["fax_mode"] == "standard" and gt["dpi"] == 200
    with Image.open(tmp_path / entry["file"]) as im:
        assert im.mode == "1" and tuple(round(v) for v in im.info["dpi"]) == (204, 98)
        width, height = im.size
    assert abs(width / height - (210 * 204) / (297 * 98)) < 0.01  # A4 at 204×98 dpi
    t = np.array(gt["transform"])
    across, down = np.hypot(t[0, 0], t[1, 0]), np.hypot(t[0, 1], t[1, 1])  # px per mm, each way
    assert abs(across / down - 204 / 98) < 0.05
    corner = t @ np.array([210.0, 297.0, 1.0])
    assert (
        abs(corner[0] / corner[2] - width) < 0.08 * width
        and abs(corner[1] / corner[2] - height) < 0.08 * height
    )


def test_fax_resolution_keeps_a_thin_stroke_in_half_the_rows():
    from samples.generate import fax_resolution

    page = Image.new("1", (400, 600), 1)
    px = np.asarray(page.convert("L")).copy()
    px[100:102, 50:350] = 0  # a stroke two rows tall (a thin pen's at 200 dpi)
    page = Image.fromarray(px).convert("1")
    stored, (sx, sy) = fax_resolution(page, "standard")
    assert stored.mode == "1" and stored.size == (408, 294)
    assert (sx, sy) == (408 / 400, 294 / 600)
    rows = np.flatnonzero((np.asarray(stored.convert("L")) == 0).any(axis=1))
    assert len(rows) >= 1 and abs(rows.mean() - 101 * sy) < 1.5  # kept, one row where there were two
    same, scale = fax_resolution(page, "square")
    assert same is page and scale == (1.0, 1.0)
