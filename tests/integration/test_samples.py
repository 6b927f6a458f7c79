"""The synthetic sample generator (samples/): determinism, ground-truth conventions, formats, geometry."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.forms.template import load_template
from samples import profile
from samples.handwriting import FONT_SETS, MNIST_FILE, MNIST_SPLIT, Hand, Style, font_paths
from samples.render import cell_boxes, is_square_option, load_blank, render_page, to_px

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = REPO / "templates_forms" / "nursery_enrolment"
DEMO = REPO / "samples" / "demo"


def needs_fonts(test):
    """The handwriting fonts come from Debian packages that scripts/setup.sh installs; without
    them the test fails with that hint instead of being skipped."""

    def wrapper(*args, **kwargs):
        try:
            font_paths("train")
        except FileNotFoundError as exc:
            raise AssertionError(f"handwriting fonts missing ({exc}): run scripts/setup.sh") from exc
        return test(*args, **kwargs)

    return functools.wraps(test)(wrapper)


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE_DIR)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, template):
    """Six files in every format (multi-page PDF/TIFF), mixed profiles."""
    from samples.generate import Options, generate

    out = tmp_path_factory.mktemp("synth")
    opts = Options(seed=123, formats=("png", "jpg", "pdf", "tiff"), profile="mixed", multipage=True)
    manifest = generate(opts, 6, out, jobs=1)
    return out, manifest


# ---------------------------------------------------------------------------------------------
# Determinism


@needs_fonts
def test_same_seed_same_bytes(tmp_path, template):
    from samples.generate import Options, make_file

    opts = Options(seed=7, formats=("png",), profile="mild")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    ea = make_file(opts, 2, a, template)
    eb = make_file(opts, 2, b, template)
    assert ea == eb
    assert (a / "doc_0002.json").read_bytes() == (b / "doc_0002.json").read_bytes()
    assert (a / ea["file"]).read_bytes() == (b / eb["file"]).read_bytes()
    # another seed gives another document
    c = tmp_path / "c"
    c.mkdir()
    make_file(Options(seed=8, formats=("png",), profile="mild"), 2, c, template)
    assert (c / "doc_0002.json").read_bytes() != (a / "doc_0002.json").read_bytes()


def test_values_are_deterministic_per_index(template):
    one = profile.make_page_values(template, np.random.default_rng([1, 5, 0]))
    two = profile.make_page_values(template, np.random.default_rng([1, 5, 0]))
    assert {k: v.value for k, v in one[0].items()} == {k: v.value for k, v in two[0].items()}


# ---------------------------------------------------------------------------------------------
# Ground truth conventions

KATAKANA = re.compile(r"^[\u30a0-\u30ff]+$")
PHONE = re.compile(r"^0\d{1,4}-\d{1,4}-\d{4}$")


def check_value(f, v, written) -> None:
    kind = f.kind
    if v is None or v == [] or v is False:
        assert not f.required or kind in ("checkbox",), f"required field {f.name} blank"
        if kind not in ("checkbox", "signature"):
            assert written is None
        return
    if kind in ("text_ja", "free_text"):
        assert isinstance(v, str) and len(v) <= (f.max_length or 999)
        if f.name == "address":
            # written as normalised, but for a gap before the building and perhaps no prefecture
            assert (
                v.endswith(written.replace("\u3000", "")) and len(v) - len(written.replace("\u3000", "")) <= 4
            )
        else:
            assert v == written
    elif kind == "kana":
        assert KATAKANA.match(v), v
        assert profile.normalise_kana(written) == v
    elif kind in ("digits", "my_number"):
        assert isinstance(v, str) and v.isascii() and v.isdigit()
        if f.cells:
            assert len(v) == f.cells.count
    elif kind == "number":
        assert isinstance(v, int) and not isinstance(v, bool) and str(v) == written
        assert (f.min is None or v >= f.min) and (f.max is None or v <= f.max)
    elif kind == "postal_code":
        assert re.match(r"^\d{3}-\d{4}$", v)
        assert written.replace("-", "") == v.replace("-", "")
    elif kind == "phone":
        import phonenumbers

        assert PHONE.match(v) and v == written
        assert phonenumbers.is_valid_number(phonenumbers.parse(v, "JP")), v
    elif kind in ("date_wareki", "date"):
        d = dt.date.fromisoformat(v)
        if kind == "date_wareki":
            era, y = profile.to_wareki(d)
            assert written.startswith(era), (written, v)
            assert written.endswith(f"{d.month}月{d.day}日") or written.endswith(
                f"{d.month:02d}月{d.day:02d}日"
            )
    elif kind == "choice":
        assert v in [o.value for o in f.options]
    elif kind == "multi_choice":
        order = [o.value for o in f.options]
        assert v == [o for o in order if o in v] and len(set(v)) == len(v)
    elif kind in ("checkbox", "signature"):
        assert v is True
    else:  # pragma: no cover
        raise AssertionError(kind)


@needs_fonts
def test_ground_truth_format(batch, template):
    out, manifest = batch
    assert [e["file"] for e in manifest["files"]] == sorted(e["file"] for e in manifest["files"])
    names = [f.name for f in template.fields]
    for entry in manifest["files"]:
        gt = json.loads((out / entry["gt"]).read_text(encoding="utf-8"))
        assert gt["file"] == entry["file"] and (out / gt["file"]).exists()
        assert gt["form_id"] == "nursery_enrolment" and gt["form_version"] == template.version
        assert [p["page"] for p in gt["pages"]] == list(range(entry["pages"]))
        for page in gt["pages"]:
            for key in (
                "rotation_deg",
                "upside_down",
                "profile",
                "font",
                "dpi",
                "values",
                "written",
                "corrected",
                "stamp",
            ):
                assert key in page
            assert page["profile"] in ("mild", "hard") and page["dpi"] in (200, 300)
            assert abs(page["rotation_deg"]) <= 7 and isinstance(page["upside_down"], bool)
            assert page["font"] in FONT_SETS["train"]
            # every template field has a value or a deliberate blank, in template order
            assert list(page["values"]) == names and list(page["written"]) == names
            assert set(page["corrected"]) <= set(names)
            for f in template.fields:
                check_value(f, page["values"][f.name], page["written"][f.name])
            invalid = page.get("invalid", [])
            assert profile.check_rules(template, page["values"]) == invalid


def test_values_mostly_valid_and_violations_labelled(template):
    from stdnum.jp import in_

    n, flagged = 300, 0
    for i in range(n):
        fills, invalid = profile.make_page_values(template, np.random.default_rng([42, i, 0]))
        v = {k: f.value for k, f in fills.items()}
        flagged += bool(invalid)
        if "child_my_number" not in invalid:
            assert in_.is_valid(v["child_my_number"])
        if "postal_matches_address" not in invalid:
            rec = profile.lookup_postal(v["postal_code"])
            assert v["address"].startswith(rec.prefecture + rec.city + rec.neighborhood)
            assert len(v["address"]) <= 34  # up to 28, plus a building for some
        if not invalid:
            b, s = dt.date.fromisoformat(v["child_birth_date"]), dt.date.fromisoformat(v["start_date"])
            assert 0 <= profile.class_age(b, s) <= 5 and (s - b).days >= 57
            assert s.day == 1 and s.year in (2026, 2027)
            assert b <= dt.date.fromisoformat(v["application_date"]) <= s
            g = dt.date.fromisoformat(v["guardian_birth_date"])
            assert dt.date(1980, 1, 1) <= g <= dt.date(2003, 12, 31) and g < b
            assert v["phone_home"] or v["phone_mobile"]
            # a template's required_if / blank_unless: employment details with 就労 only
            if {"required_if", "blank_unless"} <= {r.rule for r in template.rules}:
                work = "就労" in v["care_reasons"]
                assert bool(v["employer"]) == work and (v["work_hours_week"] is not None) == work
    assert 0.01 <= flagged / n <= 0.12
    # each deliberate violation is detected by the checks
    for violation in profile.applicable_violations(template):
        _, invalid = profile.make_page_values(template, np.random.default_rng([9, 9]), violation)
        assert invalid, violation
        assert (violation if violation != "my_number" else "child_my_number") in invalid


def test_name_lists_are_big_enough():
    assert len(profile.SURNAMES) >= 60
    given = profile.CHILD_BOY + profile.CHILD_GIRL + profile.ADULT_MALE + profile.ADULT_FEMALE
    assert len(given) >= 60
    for _, kana in profile.SURNAMES + given:
        assert KATAKANA.match(kana)
    facilities = profile.facility_names(load_template(TEMPLATE_DIR))
    assert len(facilities) >= 30 and len(set(facilities)) == len(facilities)


# ---------------------------------------------------------------------------------------------
# MNIST subset rule


def test_mnist_subset_is_0_to_399():
    with np.load(MNIST_FILE) as z:
        digits = z["digits"]
    assert digits.shape == (10, 400, 28, 28) and digits.dtype == np.uint8
    assert all(int(digits[d].reshape(400, -1).max(axis=1).min()) > 100 for d in range(10))  # no empty slots
    (a0, a1), (b0, b1) = MNIST_SPLIT["train"], MNIST_SPLIT["holdout"]
    assert 0 == a0 < a1 == b0 < b1 == 400
    assert not set(FONT_SETS["train"].values()) & set(FONT_SETS["holdout"].values())


# ---------------------------------------------------------------------------------------------
# Formats


@needs_fonts
def test_formats_written_and_readable(batch):
    import pypdf

    out, manifest = batch
    assert [e["format"] for e in manifest["files"]] == ["png", "jpg", "pdf", "tiff", "png", "jpg"]
    for e in manifest["files"]:
        path = out / e["file"]
        gt = json.loads((out / e["gt"]).read_text(encoding="utf-8"))
        if e["format"] == "pdf":
            assert len(pypdf.PdfReader(path).pages) == e["pages"]
            continue
        with Image.open(path) as im:
            im.load()
            assert getattr(im, "n_frames", 1) == e["pages"]
            dpi = gt["pages"][0]["dpi"]
            assert im.size == (round(210 / 25.4 * dpi), round(297 / 25.4 * dpi))
            if e["format"] == "tiff":
                assert im.info["compression"] == ("group4" if im.mode == "1" else "tiff_lzw")
            if gt["pages"][0]["fax"] and e["format"] in ("png", "tiff"):
                assert im.mode == "1"


@needs_fonts
def test_every_format_and_multipage(tmp_path, template):
    import pypdf

    from samples.generate import Options, make_file

    opts = Options(seed=3, profile="mild")
    for fmt, pages, prof, fax in (
        ("pdf", 2, "mild", False),
        ("tiff", 2, "hard", True),
        ("jpg", 1, "hard", False),
    ):
        e = make_file(opts, 1, tmp_path, template, plan=(fmt, pages, prof, fax), name=f"t_{fmt}")
        path = tmp_path / e["file"]
        if fmt == "pdf":
            assert len(pypdf.PdfReader(path).pages) == 2
        else:
            with Image.open(path) as im:
                assert getattr(im, "n_frames", 1) == pages
                if fmt == "tiff":
                    assert im.mode == "1" and im.info["compression"] == "group4" and im.info["dpi"][0] == 200


# ---------------------------------------------------------------------------------------------
# Geometry: ink lands in the boxes, cells match the printed dividers


def test_postal_and_my_number_cells(template):
    blank = load_blank(str(template.blank_path))
    ppm = template.blank_dpi / 25.4
    postal = cell_boxes(blank, template.field("postal_code"), ppm)
    assert len(postal) == 7
    xs_mm = [c[0] / ppm for c in postal]
    gaps = np.diff(xs_mm)
    assert gaps.argmax() == 2 and 10 < gaps[2] < 12  # 6 mm cell + 5 mm printed "－"
    assert np.allclose(np.delete(gaps, 2), 6, atol=0.3)
    mine = cell_boxes(blank, template.field("child_my_number"), ppm)
    assert len(mine) == 12 and np.allclose([c[2] / ppm for c in mine], 8, atol=0.4)
    # ticked squares vs circled labels
    assert is_square_option(blank, to_px(template.field("care_need").options[0].box, ppm))
    assert not is_square_option(blank, to_px(template.field("child_sex").options[0].box, ppm))


@needs_fonts
@pytest.mark.parametrize("font", sorted(FONT_SETS["train"]))
def test_ink_inside_boxes(template, font):
    ppm = template.blank_dpi / 25.4
    rng = np.random.default_rng([5, len(font)])
    fills, _ = profile.make_page_values(template, rng)
    hand = Hand(rng, "train", font, Style(rot_max=8.0))
    r = render_page(template, fills, hand, rng, stamp=True, ink_colour=(20, 20, 30), p_correction=0.2)
    pen = r.pen > 60
    inside = np.zeros_like(pen)
    m = 1.0 * ppm
    for f in template.fields:
        x, y, w, h = to_px(f.box, ppm)
        if fills[f.name].draw:
            assert pen[int(y) : int(y + h), int(x) : int(x + w)].sum() > 20, f.name
        else:
            assert pen[int(y) : int(y + h), int(x) : int(x + w)].sum() == 0, f.name
        inside[int(y - m) : int(y + h + m), int(x - m) : int(x + w + m)] = True
    assert (pen & ~inside).sum() == 0
    assert r.stamp is not None and r.stamp.any()
    assert r.rgb.shape == (*load_blank(str(template.blank_path)).shape, 3)


@needs_fonts
def test_transform_keeps_fields_on_the_page(batch, template):
    out, manifest = batch
    for e in manifest["files"]:
        gt = json.loads((out / e["gt"]).read_text(encoding="utf-8"))
        for page in gt["pages"]:
            hmat = np.array(page["transform"])
            size = np.array([210, 297]) / 25.4 * page["dpi"]
            for f in template.fields:
                x, y, w, h = f.box
                pts = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]], float) @ hmat.T
                pts = pts[:, :2] / pts[:, 2:]
                assert (pts >= 0).all() and (pts < size).all(), (e["file"], f.name)
            # upside-down pages put the form's top-left corner in the bottom-right half
            corner = hmat @ [0, 0, 1]
            assert (corner[1] / corner[2] > size[1] / 2) == page["upside_down"]


# ---------------------------------------------------------------------------------------------
# Committed demo set


def test_demo_set():
    manifest = json.loads((DEMO / "manifest.json").read_text(encoding="utf-8"))
    total_pages = 0
    for e in manifest["files"]:
        gt = json.loads((DEMO / e["gt"]).read_text(encoding="utf-8"))
        assert gt["file"] == e["file"] and (DEMO / e["file"]).exists()
        total_pages += len(gt["pages"])
    assert total_pages <= 15
    size = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert size < 8_000_000
    bad = DEMO / "bad"
    assert (bad / "empty.pdf").stat().st_size == 0
    assert not (bad / "notes.jpg").read_bytes().startswith(b"\xff\xd8")
    assert (bad / "broken.pdf").read_bytes().startswith(b"%PDF") and b"%%EOF" not in (
        bad / "broken.pdf"
    ).read_bytes()
    with Image.open(bad / "other_document.png") as im:
        assert im.size[1] > im.size[0]
