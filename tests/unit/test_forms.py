"""Template loading errors, identification and alignment on real images of the blank form."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.errors import TemplateError
from pipeline.forms.align import prepare_template, refine
from pipeline.forms.identify import identify
from pipeline.forms.overlay import draw_fields
from pipeline.forms.template import find_template, load_template, parse_template
from tests.unit.synthetic import form

ROOT = Path(__file__).resolve().parents[2]
FORM = ROOT / "templates_forms" / "nursery_enrolment"
GOTHIC = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"


@pytest.fixture(scope="module")
def tpl():
    return load_template(FORM)


@pytest.fixture(scope="module")
def feats(tpl):
    return prepare_template(tpl, 200)


@pytest.fixture(scope="module")
def blank() -> np.ndarray:
    return cv2.imread(str(FORM / "blank.png"), cv2.IMREAD_GRAYSCALE)


def test_bundled_template_loads_with_25_fields_of_every_needed_kind(tpl) -> None:
    assert len(tpl.fields) == 26
    kinds = {f.kind for f in tpl.fields}
    assert {
        "text_ja",
        "kana",
        "date_wareki",
        "postal_code",
        "phone",
        "my_number",
        "choice",
        "multi_choice",
        "checkbox",
        "signature",
        "number",
    } <= kinds
    assert tpl.field("postal_code").cells.groups == [3, 4]


def test_template_errors_name_file_line_and_key_with_suggestions() -> None:
    src = (FORM / "template.yaml").read_text(encoding="utf-8")
    bad = src.replace("kind: kana", "kind: katakana", 1).replace("required: true", "requried: true", 1)
    with pytest.raises(TemplateError) as exc:
        parse_template(bad, "nursery/template.yaml")
    text = str(exc.value)
    assert "2 problem(s)" in text
    line = next(i for i, t in enumerate(src.splitlines(), 1) if "required: true" in t)
    assert f"nursery/template.yaml:{line}:3 fields[0].requried" in text and "did you mean 'required'?" in text
    assert "fields[1].kind" in text and "did you mean 'kana'?" in text


def test_template_geometry_and_rule_references_are_checked() -> None:
    src = (FORM / "template.yaml").read_text(encoding="utf-8")
    bad = src.replace("- child_birth_date\n  - start_date", "- child_birthdate\n  - start_date", 1)
    with pytest.raises(TemplateError, match="did you mean 'child_birth_date'"):
        parse_template(bad)
    with pytest.raises(TemplateError, match="not valid YAML"):
        parse_template("form_id: [unclosed")
    with pytest.raises(TemplateError, match="reading of unknown field 'child_nam'"):
        parse_template(src.replace("reading_of: child_name", "reading_of: child_nam", 1))
    with pytest.raises(TemplateError, match="`reading_of` is for kind kana only"):
        parse_template(src.replace("  max_length: 60\n", "  max_length: 60\n  reading_of: child_name\n", 1))


def test_problems_between_fields_are_listed_with_a_broken_field_s_own() -> None:
    # A misspelt kind used to hide the misspelt reading_of and the rule's unknown option until it
    # was fixed: pydantic checks between fields only once every field is valid.
    bad = """form_id: f
version: '1'
title: t
page: {width_mm: 210, height_mm: 297}
fields:
- {name: kana, label: フリガナ, kind: kana, box: [10, 10, 50, 6], reading_of: nmae}
- {name: name, label: 氏名, kind: txet_ja, box: [10, 17, 50, 8]}
- {name: reasons, label: 事由, kind: multi_choice, box: [10, 40, 100, 8], options: [{value: 就労, box: [11, 41, 4, 4]}]}
- {name: employer, label: 勤務先, kind: text_ja, box: [10, 60, 100, 8]}
rules:
- {rule: required_if, fields: [employer], params: {field: reasons, is: 就職}}
- {rule: required_if, fields: [name], params: {field: reasons, is: 就労}}
"""
    with pytest.raises(TemplateError) as exc:
        parse_template(bad, "f/template.yaml")
    text = str(exc.value)
    assert "3 problem(s)" in text
    assert "f/template.yaml:7:" in text and "fields[1].kind" in text and "did you mean 'text_ja'?" in text
    assert "f/template.yaml:6:" in text and "reading of unknown field 'nmae'" in text
    assert "f/template.yaml:11:" in text and "names '就職', not an option of 'reasons'" in text
    # The rule naming the broken field is not reported: that field exists, it is only misspelt.
    assert "rules[1]" not in text


def test_unknown_form_id_lists_known_ones() -> None:
    with pytest.raises(TemplateError, match="nursery_enrolment"):
        find_template(ROOT / "templates_forms", "nursery_enrolmnt")


def test_a_broken_form_beside_it_does_not_stop_a_template_being_found(tmp_path: Path) -> None:
    (tmp_path / "nursery_enrolment").symlink_to(ROOT / "templates_forms" / "nursery_enrolment")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "template.yaml").write_text("form_id: [unclosed", encoding="utf-8")
    assert find_template(tmp_path, "nursery_enrolment").form_id == "nursery_enrolment"
    with pytest.raises(TemplateError, match="could not be loaded: broken"):
        find_template(tmp_path, "nursery_enrolmnt")


def test_overlay_draws_boxes_on_the_blank(tpl, blank) -> None:
    img = draw_fields(tpl, blank)
    assert img.shape[:2] == blank.shape
    red = (img[:, :, 2] > 180) & (img[:, :, 0] < 80)
    assert red.sum() > 10_000  # every field box is drawn in red


def _scan(
    blank: np.ndarray, angle: float, scale: float = 1.0, noise: float = 6.0, seed: int = 0
) -> np.ndarray:
    h, w = blank.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += (25, -40)
    out = cv2.warpAffine(blank, m, (w, h), borderValue=255).astype(np.float32)
    out += np.random.default_rng(seed).normal(0, noise, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("angle", [0.0, 6.5, -7.0, 180.0, 176.0, 90.0])
def test_alignment_recovers_rotation_and_lands_on_the_print(feats, blank, angle) -> None:
    page = _scan(blank, angle, 0.98)
    if angle == 90.0:  # a landscape scan of the portrait form
        page = np.ascontiguousarray(np.rot90(_scan(blank, 0, 0.98)))
    ident = identify(page, [feats])
    assert ident.matched
    turn = (ident.best.rotation_deg + 180) % 360 - 180
    expected = ((-angle if angle != 90.0 else -90.0) + 180) % 360 - 180
    assert abs(turn - expected) < 1.0 or abs(abs(turn - expected) - 360) < 1.0
    _, aligned = refine(page, ident.best, feats)
    # Printed pixels of the blank should be dark on the aligned page too, within a pixel (fields
    # are registered locally afterwards).
    printed = feats.blank_work < 100
    assert np.mean(aligned[printed] < 160) > 0.95


def test_a_page_of_another_document_is_not_identified(feats) -> None:
    img = Image.new("L", (2480, 3508), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(GOTHIC, 60)
    d.text((200, 200), "お知らせ", font=font, fill=0)
    for i in range(30):
        d.text(
            (200, 400 + i * 90),
            "令和8年度の住民税の申告について、期限までに手続きをお願いします。",
            font=font,
            fill=0,
        )
    ident = identify(np.array(img), [feats])
    assert not ident.matched
    assert ident.candidates[0][0] == "nursery_enrolment"


def test_a_white_page_is_not_identified(feats) -> None:
    assert not identify(np.full((3508, 2480), 250, np.uint8), [feats]).matched


def test_a_group_of_options_called_checkbox_is_refused_with_the_kinds_that_take_them() -> None:
    # A generator's field list may call a group of tick boxes `checkbox`; our checkbox is one box,
    # and read as one, none of the group's values could come out.
    group = """
- name: relation
  label: 続柄
  kind: checkbox
  box: [10, 10, 60, 8]
  options:
  - {value: 父, box: [12, 12, 3.6, 3.6]}
  - {value: 母, box: [30, 12, 3.6, 3.6]}
"""
    with pytest.raises(TemplateError, match="`options` are for kind choice .* a checkbox is one box"):
        form(210, 297, group)
    assert form(210, 297, group.replace("kind: checkbox", "kind: choice")).field("relation").options
    assert form(210, 297, "- {name: ok, label: 同意, kind: checkbox, box: [10, 10, 4, 4]}").field("ok")
