"""A form's field list (boxes in mm, another generator's kinds) translated into our template."""

from __future__ import annotations

import pytest

from pipeline.errors import TemplateError
from pipeline.forms.fieldmap import Imported, field_name, form_id_of, template_from_fieldmap, to_yaml
from pipeline.forms.template import parse_template

B = {"x": 10, "y": 20, "w": 30, "h": 8}


def one(field: dict) -> dict:
    data = {"page_size_mm": {"w": 210, "h": 297}, "fields": [field]}
    return template_from_fieldmap(data, form_id="f", blank="blank.png", blank_dpi=300).template["fields"][0]


def test_text_kinds_become_ours() -> None:
    assert one({"name": "n", "label": "氏名", "kind": "text_kanji", "box_mm": B})["kind"] == "text_ja"
    assert one({"name": "k", "label": "フリガナ", "kind": "text_kana", "box_mm": B})["kind"] == "kana"
    got = one({"name": "p", "label": "電話", "kind": "phone", "box_mm": B, "required": True})
    assert got == {"name": "p", "label": "電話", "kind": "phone", "box": [10, 20, 30, 8], "required": True}


def test_a_group_of_tick_boxes_is_a_choice_and_a_lone_checkbox_stays_one_box() -> None:
    opts = [
        {
            "value": "父",
            "box_mm": {"x": 1, "y": 2, "w": 3.6, "h": 3.6},
            "label_mm": {"x": 5, "y": 2, "w": 3, "h": 3},
        },
        {"value": "母", "box_mm": {"x": 11, "y": 2, "w": 3.6, "h": 3.6}, "label_mm": None},
    ]
    single = one(
        {"name": "r", "label": "続柄", "kind": "checkbox", "multiple": False, "options": opts, "box_mm": B}
    )
    assert single["kind"] == "choice"
    assert single["options"] == [
        {"value": "父", "box": [1, 2, 3.6, 3.6], "label": [5, 2, 3, 3]},
        {"value": "母", "box": [11, 2, 3.6, 3.6]},
    ]
    multi = one(
        {"name": "r", "label": "事由", "kind": "checkbox", "multiple": True, "options": opts, "box_mm": B}
    )
    assert multi["kind"] == "multi_choice"
    assert one({"name": "c", "label": "同意", "kind": "checkbox", "box_mm": B})["kind"] == "checkbox"


def test_words_to_circle_are_options_by_their_label() -> None:
    opts = [{"value": "男", "box_mm": None, "label_mm": {"x": 1, "y": 2, "w": 4, "h": 4}}]
    got = one({"name": "s", "label": "性別", "kind": "circle_choice", "options": opts, "box_mm": B})
    assert got["kind"] == "choice" and got["options"] == [{"value": "男", "label": [1, 2, 4, 4]}]


def test_a_date_with_printed_eras_is_a_wareki_date_in_parts() -> None:
    parts = {p: {"x": x, "y": 20, "w": 8, "h": 7} for p, x in (("year", 40), ("month", 50), ("day", 60))}
    eras = [
        {"value": "昭和", "box_mm": None, "label_mm": {"x": 12, "y": 22, "w": 6.7, "h": 3.35}},
        {"value": "平成", "box_mm": None, "label_mm": {"x": 22, "y": 22, "w": 6.7, "h": 3.35}},
    ]
    got = one(
        {"name": "b", "label": "生年月日", "kind": "date", "era_options": eras, "parts": parts, "box_mm": B}
    )
    assert got["kind"] == "date_wareki" and got["infer_when_unmarked"] is True
    assert [o["value"] for o in got["era_options"]] == ["昭和", "平成"]
    assert got["parts"]["month"] == [50, 20, 8, 7]
    # one era printed, nothing to circle: the era of every date written there
    lone = one(
        {"name": "d", "label": "申込日", "kind": "date", "era_options": eras[:1], "parts": parts, "box_mm": B}
    )
    assert lone["era"] == "昭和" and "era_options" not in lone
    # nothing said: 和暦 written in full, or parts and eras the blank shows (found when loaded)
    bare = one({"name": "d", "label": "生年月日", "kind": "date", "box_mm": B})
    assert bare == {"name": "d", "label": "生年月日", "kind": "date_wareki", "box": [10, 20, 30, 8]}


def test_digit_boxes_by_what_they_hold() -> None:
    cells = [{"x": 10 + 6 * i, "y": 20, "w": 5.6, "h": 7} for i in range(7)]
    postal = one(
        {
            "name": "zip",
            "label": "郵便番号",
            "kind": "digit_boxes",
            "n_digits": 7,
            "cells": cells,
            "box_mm": B,
        }
    )
    assert (
        postal["kind"] == "postal_code"
        and postal["cells"]["count"] == 7
        and len(postal["cells"]["boxes"]) == 7
    )
    my = one({"name": "c", "label": "個人番号（児童）", "kind": "digit_boxes", "n_digits": 12, "box_mm": B})
    assert my["kind"] == "my_number" and my["cells"] == {"count": 12}
    acct = one({"name": "a", "label": "口座番号", "kind": "digit_boxes", "n_digits": 7, "box_mm": B})
    assert acct["kind"] == "digits"
    # an account number written on a line: digits to keep, not a quantity of up to three
    assert one({"name": "a", "label": "口座番号", "kind": "number", "box_mm": B})["kind"] == "digits"
    assert one({"name": "h", "label": "週の就労時間", "kind": "number", "box_mm": B})["kind"] == "number"
    # a year and month only: no parts (our dates have a day), to be found on the blank
    ym = {"year": {"x": 40, "y": 20, "w": 8, "h": 7}, "month": {"x": 50, "y": 20, "w": 8, "h": 7}}
    eras = [{"value": "令和", "box_mm": None, "label_mm": None}]
    data = {
        "fields": [
            {"name": "d", "label": "開始年月", "kind": "date", "era_options": eras, "parts": ym, "box_mm": B}
        ]
    }
    out = template_from_fieldmap(data, form_id="f", blank="blank.png", blank_dpi=300)
    assert "parts" not in out.template["fields"][0]
    assert out.notes == ["d: parts without day: left to be found on the blank"]
    with pytest.raises(TemplateError, match="6 cells for n_digits 7"):
        one(
            {
                "name": "z",
                "label": "郵便番号",
                "kind": "digit_boxes",
                "n_digits": 7,
                "cells": cells[:6],
                "box_mm": B,
            }
        )


def beside_a_name(field: dict) -> Imported:
    """`field` first in a list whose second field is a plain name box."""
    data = {"fields": [field, {"name": "n", "label": "氏名", "kind": "text_kanji", "box_mm": B}]}
    return template_from_fieldmap(data, form_id="f", blank="blank.png", blank_dpi=300)


def test_office_boxes_are_left_out_with_a_note() -> None:
    out = beside_a_name({"name": "stamp", "label": "受付印", "kind": "office_stamp", "box_mm": B})
    assert [f["name"] for f in out.template["fields"]] == ["n"]
    assert out.notes == ["stamp: office_stamp (the office's own box) is not read; left out"]


def test_a_kind_it_does_not_know_is_left_out_loudly_and_a_bad_box_refused() -> None:
    out = beside_a_name({"name": "x", "label": "X", "kind": "barcode", "box_mm": B})
    assert [f["name"] for f in out.template["fields"]] == ["n"]
    assert (
        out.notes[0].startswith("LEFT OUT x: kind 'barcode'") and "write this field by hand" in out.notes[0]
    )
    with pytest.raises(TemplateError, match="a box must be"):
        one({"name": "x", "label": "X", "kind": "phone", "box_mm": {"x": 1, "y": 2}})
    with pytest.raises(TemplateError, match="a second field named 'n'"):
        template_from_fieldmap(
            {"fields": [{"name": "n", "label": "a", "kind": "phone", "box_mm": B}] * 2},
            form_id="f",
            blank="blank.png",
            blank_dpi=300,
        )


def test_names_and_ids_are_made_ones_we_accept() -> None:
    assert field_name("Guardian-Name") == "guardian_name"
    assert field_name("1st child") == "f_1st_child"
    assert form_id_of("A") is None  # dev set A's own id: one letter names nothing
    assert form_id_of("Form-B") == "form_b"


def test_the_yaml_written_is_a_valid_template_with_the_registration_marks() -> None:
    data = {
        "title": "申込書",
        "variant": "A-marks",
        "registration_marks": [
            {"shape": "square", "box_mm": {"x": x, "y": y, "w": 4, "h": 4}}
            for x, y in ((6, 6), (200, 6), (6, 287))
        ],
        "fields": [
            {"name": "n", "label": "氏名", "kind": "text_kanji", "box_mm": B, "required": True},
            {"name": "h", "label": "週の就労時間", "kind": "number", "unit": "時間", "box_mm": B},
        ],
    }
    out = template_from_fieldmap(data, form_id="sakura", blank="blank.png", blank_dpi=200)
    text = to_yaml(out, "written by a test")
    assert text.startswith("# written by a test\n# - h: the unit printed after it (時間)")
    assert "box: [10, 20, 30, 8]" in text  # a box on one line, as a person writes it
    tpl = parse_template(text)
    assert tpl.form_id == "sakura" and tpl.version == "A-marks" and tpl.blank_dpi == 200
    assert tpl.identify.registration_marks == [(6, 6, 4, 4), (200, 6, 4, 4), (6, 287, 4, 4)]
    assert [f.kind for f in tpl.fields] == ["text_ja", "number"]


def test_too_few_registration_marks_are_left_to_alignment_by_print() -> None:
    data = {
        "registration_marks": [{"box_mm": {"x": 6, "y": 6, "w": 4, "h": 4}}],
        "fields": [{"name": "n", "label": "氏名", "kind": "text_kanji", "box_mm": B}],
    }
    out = template_from_fieldmap(data, form_id="f", blank="blank.png", blank_dpi=300)
    assert "identify" not in out.template
    assert out.notes == ["1 registration mark(s): alignment needs 3; the page is aligned by its print"]
