"""Conditional template rules (required_if, blank_unless, equals_count), absolute date ranges and
per-template identification settings: how a template declares them, how `template check` rejects
a wrong one, and what the pipeline makes of a page's values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.errors import TemplateError
from pipeline.fields import dates
from pipeline.forms.template import CrossRule, parse_template
from pipeline.settings import Settings
from pipeline.validate import validate_cross

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings()

# A small form written the way a city's IT person would: a reason list, employment details that
# depend on it, a sibling question, and a count of the children listed.
FORM = """\
form_id: small_form
version: "1"
title: 小さな申込書
page: {width_mm: 210, height_mm: 297}
fields:
- name: care_reasons
  label: 保育を必要とする事由
  kind: multi_choice
  box: [10, 10, 100, 10]
  options:
  - {value: 就労, box: [12, 12, 4, 4]}
  - {value: 求職活動, box: [40, 12, 4, 4]}
  - {value: その他, box: [70, 12, 4, 4]}
- {name: other_text, label: その他（内容）, kind: text_ja, box: [10, 25, 60, 8]}
- {name: employer, label: 勤務先, kind: text_ja, box: [10, 35, 60, 8]}
- {name: hours, label: 週の就労時間, kind: number, box: [80, 35, 20, 8]}
- name: siblings
  label: 兄弟姉妹
  kind: choice
  box: [10, 45, 40, 8]
  options:
  - {value: 有, box: [12, 47, 4, 4]}
  - {value: 無, box: [30, 47, 4, 4]}
- {name: sibling_name, label: 兄弟姉妹の氏名, kind: text_ja, box: [60, 45, 60, 8]}
- {name: child_count, label: 子の人数, kind: number, box: [10, 60, 20, 8]}
- {name: child_1, label: 子1, kind: text_ja, box: [10, 70, 60, 8]}
- {name: child_2, label: 子2, kind: text_ja, box: [10, 80, 60, 8]}
- {name: start, label: 利用開始日, kind: date, box: [10, 90, 60, 8], date_range: [-1y, +1y]}
rules:
- {rule: required_if, fields: [employer, hours], params: {field: care_reasons, is: 就労}}
- {rule: blank_unless, fields: [employer, hours], params: {field: care_reasons, is: 就労}}
- {rule: blank_unless, fields: [other_text], params: {field: care_reasons, is: その他}}
- {rule: required_if, fields: [sibling_name], params: {field: siblings, is: 有}}
- {rule: blank_unless, fields: [sibling_name], params: {field: siblings, is: 有}}
- {rule: equals_count, fields: [child_count, child_1, child_2]}
"""


@pytest.fixture(scope="module")
def tpl():
    return parse_template(FORM)


def check(tpl, **values):
    labels = {f.name: f.label for f in tpl.fields}
    return validate_cross(list(tpl.rules), values, SETTINGS, labels=labels)


def codes(issues) -> list[str]:
    return sorted(i.code for i in issues)


# ---------------------------------------------------------------------------------------------
# The rules on values


def test_a_consistent_page_passes(tpl) -> None:
    ok = check(
        tpl,
        care_reasons=["就労"],
        employer="三鷹商事",
        hours=40,
        siblings="有",
        sibling_name="山田 太郎",
        child_count=2,
        child_1="山田 花子",
        child_2="山田 次郎",
    )
    assert ok == []
    # 求職活動 only: no employer, no hours, no other text, no sibling — all blank is right
    assert check(tpl, care_reasons=["求職活動"], siblings="無", child_count=None) == []


def test_required_if_names_the_rule_the_tick_and_the_blank_field(tpl) -> None:
    out = check(tpl, care_reasons=["就労", "その他"], employer="", hours=None, other_text="介護")
    assert codes(out) == ["required_if", "required_if"]
    by_field = {i.fields[0]: i for i in out}
    assert by_field["employer"].fields == ("employer", "care_reasons")
    assert (
        by_field["employer"].message == "「保育を必要とする事由」の「就労」に印があるのに「勤務先」が空欄です"
    )
    assert by_field["hours"].severity == "error"  # sends the fields to review


def test_blank_unless_flags_content_without_its_tick(tpl) -> None:
    out = check(tpl, care_reasons=["求職活動"], other_text="介護", employer="三鷹商事", siblings="無")
    assert codes(out) == ["blank_unless", "blank_unless"]
    other = next(i for i in out if i.fields[0] == "other_text")
    assert other.fields == ("other_text", "care_reasons")
    assert (
        other.message
        == "「その他（内容）」に記入がありますが、「保育を必要とする事由」の「その他」に印がありません"
    )
    sib = check(tpl, care_reasons=[], siblings="無", sibling_name="山田 太郎")
    assert [i.fields for i in sib] == [("sibling_name", "siblings")]
    # the sibling's name with 有 ticked is right; 有 with no name is a required_if
    assert check(tpl, siblings="有", sibling_name="山田 太郎") == []
    assert codes(check(tpl, siblings="有", sibling_name=None)) == ["required_if"]


def test_a_condition_without_is_means_filled_or_ticked() -> None:
    r = CrossRule(rule="required_if", fields=["seal"], params={"field": "agree"})
    out = validate_cross(
        [r], {"agree": True, "seal": False}, SETTINGS, labels={"agree": "同意", "seal": "押印"}
    )
    assert [i.message for i in out] == ["「同意」に印があるのに「押印」が空欄です"]
    assert validate_cross([r], {"agree": False, "seal": False}, SETTINGS) == []
    text = CrossRule(rule="blank_unless", fields=["room"], params={"field": "building"})
    out = validate_cross(
        [text], {"building": "", "room": "101"}, SETTINGS, labels={"building": "建物名", "room": "部屋番号"}
    )
    assert [i.message for i in out] == ["「部屋番号」に記入がありますが、「建物名」に記入がありません"]


def test_not_turns_the_condition_round() -> None:
    """公金受取口座 ticked: the account is left blank; not ticked: it must be written."""
    labels = {"public": "公金受取口座を利用する", "bank": "金融機関名", "kind": "預金種別"}
    need = CrossRule(rule="required_if", fields=["bank", "kind"], params={"field": "public", "not": True})
    out = validate_cross([need], {"public": False, "bank": "", "kind": "普通"}, SETTINGS, labels=labels)
    assert [i.message for i in out] == ["「公金受取口座を利用する」に印がないのに「金融機関名」が空欄です"]
    assert out[0].fields == ("bank", "public")
    assert validate_cross([need], {"public": True, "bank": "", "kind": None}, SETTINGS) == []
    only = CrossRule(rule="blank_unless", fields=["bank", "kind"], params={"field": "public", "not": True})
    out = validate_cross([only], {"public": True, "bank": "みずほ", "kind": None}, SETTINGS, labels=labels)
    assert [i.message for i in out] == [
        "「金融機関名」に記入がありますが、「公金受取口座を利用する」に印があります"
    ]
    assert validate_cross([only], {"public": False, "bank": "みずほ", "kind": "普通"}, SETTINGS) == []
    # with `is`: the option not marked
    other = CrossRule(
        rule="required_if", fields=["employer"], params={"field": "reasons", "is": "就労", "not": True}
    )
    assert codes(validate_cross([other], {"reasons": ["求職活動"], "employer": ""}, SETTINGS)) == [
        "required_if"
    ]
    assert validate_cross([other], {"reasons": ["就労"], "employer": ""}, SETTINGS) == []
    # `not: false` is the plain rule
    plain = CrossRule(rule="required_if", fields=["bank"], params={"field": "public", "not": False})
    assert codes(validate_cross([plain], {"public": True, "bank": ""}, SETTINGS)) == ["required_if"]


def test_template_check_wants_not_to_be_a_boolean(tpl) -> None:
    good = FORM.replace(
        "params: {field: siblings, is: 有}}\n- {rule: blank",
        "params: {field: siblings, is: 無, not: true}}\n- {rule: blank",
        1,
    )
    assert good != FORM
    parse_template(good)
    bad = FORM.replace(
        "params: {field: siblings, is: 有}}\n- {rule: blank",
        "params: {field: siblings, is: 無, not: maybe}}\n- {rule: blank",
        1,
    )
    with pytest.raises(TemplateError) as exc:
        parse_template(bad, "small/template.yaml")
    assert "params.not must be true or false" in str(exc.value)


def test_equals_count_counts_filled_rows_and_ticked_options(tpl) -> None:
    assert check(tpl, child_count=1, child_1="山田 花子", child_2="") == []
    out = check(tpl, child_count=3, child_1="山田 花子", child_2="山田 次郎")
    assert codes(out) == ["equals_count"]
    assert out[0].fields == ("child_count", "child_1", "child_2")
    assert out[0].message == "「子の人数」が3ですが、「子1」、「子2」の記入は2件です"
    assert check(tpl, child_count=None, child_1="山田 花子") == []  # a blank number is its own issue
    ticks = CrossRule(rule="equals_count", fields=["n", "reasons"], params={"options": ["a", "b"]})
    assert validate_cross([ticks], {"n": 2, "reasons": ["a", "b", "c"]}, SETTINGS) == []
    assert codes(validate_cross([ticks], {"n": 3, "reasons": ["a", "b", "c"]}, SETTINGS)) == ["equals_count"]


def test_a_rules_own_message_replaces_the_default() -> None:
    r = CrossRule(
        rule="required_if", fields=["e"], params={"field": "r", "is": "就労"}, message="勤務先を確認"
    )
    assert [i.message for i in validate_cross([r], {"r": ["就労"], "e": None}, SETTINGS)] == ["勤務先を確認"]


# ---------------------------------------------------------------------------------------------
# template check


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "params: {field: care_reasons, is: 就労}}\n- {rule: blank",
            "params: {field: care_reason, is: 就労}}\n- {rule: blank",
            "params.field names unknown field 'care_reason' (did you mean 'care_reasons'?)",
        ),
        ("is: その他", "is: その他の理由", "params.is names 'その他の理由', not an option of 'care_reasons'"),
        (
            "is: 有}}\n- {rule: blank",
            "is: あり}}\n- {rule: blank",
            "not an option of 'siblings' (options: 有, 無)",
        ),
        (
            "fields: [child_count, child_1",
            "fields: [child_1, child_2",
            "the first field 'child_1' is a text_ja, not a number",
        ),
        (
            "fields: [sibling_name], params: {field: siblings, is: 有}}\n- {rule: blank",
            "fields: [sibling_name], params: {feild: siblings}}\n- {rule: blank",
            "unknown params key 'feild' (did you mean 'field'?)",
        ),
        (
            "{rule: required_if, fields: [employer, hours], params: {field: care_reasons, is: 就労}}",
            "{rule: required_if, fields: [employer, hours], params: {field: hours}}",
            "'hours' is both the condition and one of the rule's fields",
        ),
        (
            "params: {field: siblings, is: 有}}\n- {rule: blank",
            "params: {field: sibling_name, is: 有}}\n- {rule: blank",
            "params.is is for a choice or multi_choice field; 'sibling_name' is a text_ja",
        ),
        ("rule: required_if, fields: [employer", "rule: requried_if, fields: [employer", "rules[0].rule"),
    ],
)
def test_template_check_rejects_a_wrong_conditional_rule(old: str, new: str, says: str) -> None:
    assert old in FORM
    with pytest.raises(TemplateError) as exc:
        parse_template(FORM.replace(old, new, 1), "small/template.yaml")
    assert says in str(exc.value), str(exc.value)


def test_dev_template_uses_the_conditional_rules() -> None:
    text = (ROOT / "bench" / "forms" / "sakura_nursery" / "template.yaml").read_text(encoding="utf-8")
    sakura = parse_template(text)  # its blank lives outside the repository
    conds = {(r.rule, r.params["field"], r.params["is"]) for r in sakura.rules if "field" in r.params}
    assert ("required_if", "care_reasons", "就労") in conds
    assert ("blank_unless", "care_reasons", "その他") in conds
    assert ("blank_unless", "sibling_enrolled", "有") in conds


# ---------------------------------------------------------------------------------------------
# absolute and mixed date ranges


@pytest.mark.parametrize(
    ("written", "bounds"),
    [
        ("date_range: [-1y, +1y]", ("-1y", "+1y")),
        ("date_range: [2020-04-01, 2030-03-31]", ("2020-04-01", "2030-03-31")),
        ("date_range: {min: 2020-04-01, max: 2030-03-31}", ("2020-04-01", "2030-03-31")),
        ("date_range: {min: '2020-04-01', max: +1y}", ("2020-04-01", "+1y")),
        ("date_range: [-7y, 2030-03-31]", ("-7y", "2030-03-31")),
    ],
)
def test_date_range_takes_offsets_dates_or_both(written: str, bounds: tuple[str, str]) -> None:
    t = parse_template(FORM.replace("date_range: [-1y, +1y]", written))
    assert t.field("start").date_range == bounds


def test_absolute_bounds_do_not_move_with_the_day() -> None:
    today = dt.date(2026, 11, 29)
    assert dates.resolve(("2020-04-01", "2030-03-31"), today) == (dt.date(2020, 4, 1), dt.date(2030, 3, 31))
    assert dates.resolve(("2020-04-01", "+1y"), today) == (dt.date(2020, 4, 1), dt.date(2027, 11, 29))
    r = ("2020-04-01", "2030-03-31")
    assert dates.range_issue("d", "利用開始日", r, "2030-04-01", today).code == "date_out_of_range"
    assert dates.range_issue("d", "利用開始日", r, "2020-03-31", today).code == "date_out_of_range"
    assert dates.range_issue("d", "利用開始日", r, "2030-03-31", today) is None
    # the wareki years offered for a boxed date come from the same bounds
    assert dates.year_words(["令和"], *dates.resolve(r, today)) == tuple(str(n) for n in range(2, 13))


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("date_range: [2030-03-31, 2020-04-01]", "min 2030-03-31 is after max 2020-04-01"),
        ("date_range: {min: 2020-04-01}", "needs exactly `min` and `max`"),
        ("date_range: [2020-04-01, next year]", "bound 'next year' should be an offset"),
        ("date_range: [-1y]", "needs two bounds"),
    ],
)
def test_a_wrong_date_range_is_a_clear_error(written: str, says: str) -> None:
    with pytest.raises(TemplateError) as exc:
        parse_template(FORM.replace("date_range: [-1y, +1y]", written))
    assert says in str(exc.value), str(exc.value)


# ---------------------------------------------------------------------------------------------
# per-template identification settings and registration marks

MARKS = [[5.0, 5.0, 6.0, 6.0], [199.0, 5.0, 6.0, 6.0], [5.0, 286.0, 6.0, 6.0], [199.0, 286.0, 6.0, 6.0]]


def _form_with_marks(tmp_path: Path, identify: str) -> Path:
    """The bundled nursery form with four solid corner squares printed on its blank."""
    import cv2

    src = ROOT / "templates_forms" / "nursery_enrolment"
    out = tmp_path / "marked"
    out.mkdir()
    blank = cv2.imread(str(src / "blank.png"), cv2.IMREAD_GRAYSCALE)
    px = 300 / 25.4
    for x, y, w, h in MARKS:
        cv2.rectangle(
            blank, (round(x * px), round(y * px)), (round((x + w) * px), round((y + h) * px)), 0, -1
        )
    cv2.imwrite(str(out / "blank.png"), blank)
    text = (src / "template.yaml").read_text(encoding="utf-8")
    (out / "template.yaml").write_text(text + identify, encoding="utf-8")
    return out


def _scan(blank, angle: float, scale: float, seed: int = 0):
    import cv2
    import numpy as np

    h, w = blank.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += (20, -30)
    out = cv2.warpAffine(blank, m, (w, h), borderValue=255).astype(np.float32)
    out += np.random.default_rng(seed).normal(0, 6, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8), m


def test_identify_settings_default_to_the_module_values() -> None:
    from pipeline.forms import identify as ident_mod
    from pipeline.forms.align import prepare_template
    from pipeline.forms.template import load_template

    feats = prepare_template(load_template(ROOT / "templates_forms" / "nursery_enrolment"), 100)
    t = ident_mod.thresholds(feats)
    assert (t.min_inliers, t.min_score, t.near_miss, t.second_try) == (
        ident_mod.MIN_INLIERS,
        ident_mod.MIN_SCORE,
        ident_mod.NEAR_MISS,
        True,
    )


def test_a_page_is_aligned_on_its_registration_marks_when_features_fall_short(tmp_path) -> None:
    import cv2
    import numpy as np

    from pipeline.forms.align import prepare_template
    from pipeline.forms.identify import identify
    from pipeline.forms.template import load_template

    # A threshold no feature match reaches stands in for a scan too poor to match on content.
    strict = "identify:\n  min_inliers: 100000\n  second_try: false\n"
    marked = load_template(_form_with_marks(tmp_path, strict + f"  registration_marks: {MARKS}\n"))
    feats = prepare_template(marked, 200)
    blank = cv2.imread(str(marked.blank_path), cv2.IMREAD_GRAYSCALE)
    page, m = _scan(blank, 1.5, 0.97)
    ident = identify(page, [feats])
    assert ident.matched and ident.how == "registration_marks"
    # the page's point under a printed mark's centre lands on that centre at work dpi
    x, y, w, h = MARKS[3]
    on_page = m @ np.array([(x + w / 2) * 300 / 25.4, (y + h / 2) * 300 / 25.4, 1.0])
    got = cv2.perspectiveTransform(np.float32([[on_page]]), ident.best.homography)[0, 0]
    assert np.allclose(got, [(x + w / 2) * 200 / 25.4, (y + h / 2) * 200 / 25.4], atol=2.0)
    assert abs(ident.best.rotation_deg - (-1.5)) < 0.3 or abs(ident.best.rotation_deg - 1.5) < 0.3
    # the page is then read as usual, with a note saying how it was placed
    from pipeline.ocr.fake import FakeRecognizer
    from pipeline.run import Engine, process_page

    engine = Engine(Settings(), [feats], FakeRecognizer(lambda crop: ""))
    result = process_page(page, 0, engine)
    assert result.form_id == "nursery_enrolment"
    assert [i.code for i in result.issues if i.code == "aligned_on_marks"] == ["aligned_on_marks"]

    # without marks the same thresholds leave the page unknown; unset, features identify it
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "blank.png").write_bytes((marked.folder / "blank.png").read_bytes())
    text = (ROOT / "templates_forms" / "nursery_enrolment" / "template.yaml").read_text(encoding="utf-8")
    (tmp_path / "plain" / "template.yaml").write_text(text + strict, encoding="utf-8")
    plain = prepare_template(load_template(tmp_path / "plain"), 200)
    assert not identify(page, [plain]).matched
    (tmp_path / "d").mkdir()
    default = prepare_template(load_template(_form_with_marks(tmp_path / "d", "")), 200)
    assert identify(page, [default]).how == "features"


def test_marks_alone_do_not_name_the_form(tmp_path) -> None:
    import cv2
    import numpy as np

    from pipeline.forms.align import prepare_template
    from pipeline.forms.identify import align_on_marks, find_marks
    from pipeline.forms.template import load_template

    marked = load_template(
        _form_with_marks(tmp_path, f"identify:\n  near_miss: 0\n  registration_marks: {MARKS}\n")
    )
    feats = prepare_template(marked, 200)
    # another sheet with the same corner squares and none of the form's print
    other = np.full((3508, 2480), 250, np.uint8)
    px = 300 / 25.4
    for x, y, w, h in MARKS:
        cv2.rectangle(
            other, (round(x * px), round(y * px)), (round((x + w) * px), round((y + h) * px)), 0, -1
        )
    assert find_marks(other, feats) is not None
    assert align_on_marks(other, feats) is None


def test_identify_settings_are_checked() -> None:
    src = (ROOT / "templates_forms" / "nursery_enrolment" / "template.yaml").read_text(encoding="utf-8")
    with pytest.raises(TemplateError, match="did you mean 'min_inliers'"):
        parse_template(src + "identify: {min_inlier: 40}\n")
    with pytest.raises(TemplateError, match="at least 3 squares"):
        parse_template(src + "identify: {registration_marks: [[5, 5, 6, 6]]}\n")
    with pytest.raises(TemplateError, match="not inside the page"):
        parse_template(
            src + "identify: {registration_marks: [[5, 5, 6, 6], [205, 5, 6, 6], [5, 290, 6, 6]]}\n"
        )


def test_the_review_page_names_each_conditional_rule() -> None:
    from pipeline.forms.template import CONDITIONAL_RULES
    from web.review import RULE_NAMES

    assert all(RULE_NAMES.get(r) for r in CONDITIONAL_RULES)  # shown as 規則「…」: message


def test_template_check_names_a_written_class_that_is_no_number_field() -> None:
    text = (ROOT / "bench" / "forms" / "sakura_nursery" / "template.yaml").read_text(encoding="utf-8")
    good = "params: {written: child_age_class}"
    assert good in text
    sakura = parse_template(text)
    assert any(r.rule == "class_age" and r.params.get("written") == "child_age_class" for r in sakura.rules)
    for bad, says in (
        ("params: {written: child_age_clas}", "(did you mean 'child_age_class'?)"),
        ("params: {written: child_name}", "'child_name' is not one"),
    ):
        with pytest.raises(TemplateError) as exc:
            parse_template(text.replace(good, bad), "sakura/template.yaml")
        assert "class_age: params.written must name a number field" in str(exc.value)
        assert says in str(exc.value), str(exc.value)
