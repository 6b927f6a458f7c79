"""Hints a template leaves out are inferred from its labels and boxes, listed, and never override
what the template says (pipeline/forms/defaults.py)."""

from __future__ import annotations

import pytest

from pipeline.forms.template import TemplateError
from tests.unit.synthetic import form

FIELDS = """
- {name: kana, label: 保護者フリガナ, kind: kana, box: [20, 20, 90, 6]}
- {name: guardian, label: 保護者氏名, kind: text_ja, box: [20, 26.5, 90, 11]}
- {name: birth, label: 生年月日, kind: date_wareki, box: [20, 40, 80, 8], era: 令和}
- {name: applied, label: 申込日, kind: date_wareki, box: [120, 10, 70, 8], era: 令和}
- {name: zip, label: 郵便番号, kind: postal_code, box: [20, 50, 40, 7]}
- {name: home, label: 住所, kind: text_ja, box: [20, 58, 170, 10]}
- {name: employer, label: 勤務先名称, kind: text_ja, box: [20, 70, 170, 10]}
"""


def test_plain_hints_are_inferred_and_listed() -> None:
    tpl = form(210, 297, FIELDS)
    assert tpl.field("kana").reading_of == "guardian"  # the name box right under the row
    assert tpl.field("home").charset == "address"  # 住所
    assert tpl.field("employer").charset is None  # a company's name is no address
    assert tpl.field("birth").date_range == ("-120y", "+0d")
    assert tpl.field("applied").date_range == ("-3y", "+1y")  # the day the form was filled in
    assert [(r.rule, r.fields) for r in tpl.rules] == [
        ("postal_matches_address", ["zip", "home"]),
        ("dates_in_order", ["birth", "applied"]),  # born before the form was filled in
        ("required_if", ["kana"]),  # the row over a written name is not left blank unseen
    ]
    assert tpl.inferred == (
        "kana: reading_of guardian",
        "birth: date_range ['-120y', '+0d']",
        "applied: date_range ['-3y', '+1y']",
        "home: charset address",
        "zip, home: rule postal_matches_address",
        "birth, applied: rule dates_in_order",
        "kana: rule required_if guardian",
    )


def test_what_the_template_says_wins() -> None:
    said = (
        FIELDS.replace("kind: kana,", "kind: kana, reading_of: employer,")
        .replace("label: 住所, kind: text_ja,", "label: 住所, kind: text_ja, charset: free,")
        .replace(
            "label: 生年月日, kind: date_wareki,",
            "label: 生年月日, kind: date_wareki, date_range: [-80y, -13y],",
        )
    )
    tpl = form(
        210, 297, said + "- {name: office, label: 事業所所在地, kind: text_ja, box: [20, 82, 170, 10]}\n"
    )
    assert tpl.field("kana").reading_of == "employer"
    assert tpl.field("home").charset == "free"
    assert tpl.field("birth").date_range == ("-80y", "-13y")
    # the one address the template leaves unsaid is inferred; the 〒 rule needs the one address
    assert tpl.field("office").charset == "address"
    assert [r.rule for r in tpl.rules] == ["postal_matches_address", "dates_in_order"]
    assert "kana: reading_of guardian" not in tpl.inferred
    ordered = said + "rules:\n- {rule: dates_in_order, fields: [birth, applied], params: {strict: true}}\n"
    # a template that orders its dates itself is left to it
    assert [r.params for r in form(210, 297, ordered).rules if r.rule == "dates_in_order"] == [
        {"strict": True}
    ]


def test_a_kana_row_between_two_names_spells_neither() -> None:
    two = """
- {name: kana, label: フリガナ, kind: kana, box: [20, 20, 90, 6]}
- {name: left_name, label: 氏名, kind: text_ja, box: [20, 26.5, 60, 11]}
- {name: right_name, label: 氏名, kind: text_ja, box: [60, 26.6, 60, 11]}
"""
    assert form(210, 297, two).field("kana").reading_of is None
    far = """
- {name: kana, label: フリガナ, kind: kana, box: [20, 20, 90, 6]}
- {name: person_name, label: 氏名, kind: text_ja, box: [20, 40, 90, 11]}
"""
    assert form(210, 297, far).field("kana").reading_of is None  # 14 mm lower: another row
    company = """
- {name: employer_kana, label: フリガナ, kind: kana, box: [20, 20, 90, 6]}
- {name: employer_name, label: 勤務先名称, kind: text_ja, box: [20, 26.5, 90, 11]}
"""
    assert form(210, 297, company).field("employer_kana").reading_of is None  # no person's name


def test_a_template_that_says_everything_has_nothing_inferred() -> None:
    full = """
- {name: kana, label: フリガナ, kind: kana, box: [20, 20, 90, 6], reading_of: guardian, required: true}
- {name: guardian, label: 氏名, kind: text_ja, box: [20, 26.5, 90, 11]}
"""
    assert form(210, 297, full).inferred == ()


def test_whose_birth_date_sets_its_range() -> None:
    dates = """
- {name: child_birth, label: 児童生年月日, kind: date_wareki, box: [20, 10, 80, 8], era: 令和}
- {name: claimant_birth, label: 請求者 生年月日, kind: date_wareki, box: [20, 20, 80, 8], era: 平成}
- {name: start, label: 利用開始希望日, kind: date_wareki, box: [20, 30, 80, 8], era: 令和}
"""
    tpl = form(210, 297, dates)
    assert tpl.field("child_birth").date_range == ("-19y", "+0d")
    # an adult on a form that asks a child's birth is the child's claimant or guardian: under 80
    assert tpl.field("claimant_birth").date_range == ("-80y", "-13y")
    alone = form(210, 297, dates.replace("児童生年月日", "届出日").replace("child_birth", "sent"))
    assert alone.field("claimant_birth").date_range == ("-100y", "-13y")
    # the day asked for (利用開始希望日): a year or two on at most, not the filing day's range
    assert tpl.field("start").date_range == ("-3y", "+2y")
    for other in ("転居日", "就労開始日", "入所日"):  # a move, or a start years back
        assert form(210, 297, dates.replace("利用開始希望日", other)).field("start").date_range == (
            "-100y",
            "+10y",
        )


def test_the_order_of_a_nursery_forms_dates_and_its_class_are_inferred() -> None:
    nursery = """
- {name: filed, label: 申込日, kind: date_wareki, box: [120, 10, 80, 8], era: 令和}
- {name: guardian_birth, label: 保護者生年月日, kind: date_wareki, box: [20, 20, 80, 8], era: 平成}
- {name: child_birth, label: 児童生年月日, kind: date_wareki, box: [20, 30, 80, 8], era: 令和}
- {name: klass, label: 入所時 歳児クラス, kind: number, box: [110, 30, 9, 7]}
- {name: wanted, label: 利用希望日, kind: date_wareki, box: [20, 40, 80, 8], era: 令和}
"""
    tpl = form(210, 297, nursery)
    ordered = [r.fields for r in tpl.rules if r.rule == "dates_in_order"]
    assert ["guardian_birth", "filed"] in ordered and ["child_birth", "filed"] in ordered
    assert ["filed", "wanted"] in ordered  # asked for on or after the filing
    assert ["guardian_birth", "child_birth"] in ordered  # a guardian before the child
    (klass,) = [r for r in tpl.rules if r.rule == "class_age"]
    assert klass.fields == ["child_birth", "wanted"] and klass.params == {"written": "klass"}
    assert (tpl.field("klass").min, tpl.field("klass").max) == (0, 5)
    assert "child_birth, wanted: rule class_age" in tpl.inferred
    # what the template says itself is left alone: its own order, its own class range
    said = nursery.replace("kind: number,", "kind: number, min: 1, max: 2,") + (
        "rules:\n- {rule: dates_in_order, fields: [child_birth, filed]}\n"
    )
    tpl = form(210, 297, said)
    assert [r.fields for r in tpl.rules if r.rule == "dates_in_order"] == [["child_birth", "filed"]]
    assert (tpl.field("klass").min, tpl.field("klass").max) == (1, 2)
    # hours worked: no more than the week (or the day) has; a number the label says nothing of
    hours = """
- {name: week, label: 週の就労時間, kind: number, box: [20, 10, 16, 7]}
- {name: day, label: 1日の勤務時間, kind: number, box: [40, 10, 16, 7]}
- {name: kids, label: 子の人数, kind: number, box: [60, 10, 16, 7]}
- {name: said, label: 週の就労時間, kind: number, box: [80, 10, 16, 7], max: 60}
"""
    tpl = form(210, 297, hours)
    assert (tpl.field("week").min, tpl.field("week").max) == (0, 168)
    assert (tpl.field("day").min, tpl.field("day").max) == (0, 24)
    assert (tpl.field("kids").min, tpl.field("kids").max) == (None, None)
    assert (tpl.field("said").min, tpl.field("said").max) == (None, 60)
    # two children and one class: whose class it is is not plain
    two = (
        nursery
        + "- {name: sibling_birth, label: 児童生年月日, kind: date_wareki, box: [20, 50, 80, 8], era: 令和}\n"
    )
    assert not [r for r in form(210, 297, two).rules if r.rule == "class_age"]


def test_a_my_number_is_keyed_twice_unless_the_template_says_otherwise() -> None:
    box = "box: [20, 10, 80, 8], cells: {count: 12}"
    tpl = form(210, 297, f"- {{name: mn, label: 個人番号, kind: my_number, {box}}}\n")
    assert tpl.field("mn").review == "double"
    assert tpl.inferred == ("mn: review double",)
    said = form(210, 297, f"- {{name: mn, label: 個人番号, kind: my_number, review: auto, {box}}}\n")
    assert said.field("mn").review == "auto" and said.inferred == ()


def test_an_account_number_is_keyed_twice_and_its_holder_is_the_claimant() -> None:
    claim = """
- {name: claimant_name, label: 請求者 氏名, kind: text_ja, box: [20, 20, 90, 10]}
- {name: spouse_name, label: 配偶者 氏名, kind: text_ja, box: [20, 40, 90, 10]}
- {name: account_number, label: 口座番号, kind: digits, box: [120, 60, 40, 7], cells: {count: 7}}
- {name: holder_kana, label: 口座名義（カタカナ）, kind: kana, box: [120, 80, 80, 10]}
"""
    tpl = form(297, 210, claim)
    assert tpl.field("account_number").review == "double"
    assert tpl.field("holder_kana").reading_of == "claimant_name"
    two = claim.replace("配偶者 氏名", "申請者 氏名")  # two claimants: not plain whose account
    assert form(297, 210, two).field("holder_kana").reading_of is None


def test_an_uncircled_era_is_inferred_unless_the_template_says_not() -> None:
    eras = "era_options: [{value: 昭和, label: [40, 11, 6, 3]}, {value: 平成, label: [48, 11, 6, 3]}]"
    dated = f"- {{name: born, label: 生年月日, kind: date_wareki, box: [20, 10, 80, 8], {eras}}}\n"
    tpl = form(210, 297, dated)
    assert tpl.field("born").infer_when_unmarked is True
    assert "born: infer_when_unmarked true" in tpl.inferred  # as a template writes it
    said = dated.replace("kind: date_wareki,", "kind: date_wareki, infer_when_unmarked: false,")
    assert form(210, 297, said).field("born").infer_when_unmarked is False
    printed = "- {name: born, label: 生年月日, kind: date_wareki, box: [20, 10, 80, 8], era: 令和}\n"
    assert form(210, 297, printed).field("born").infer_when_unmarked is False  # nothing to circle


def test_a_furigana_row_left_blank_beside_a_written_name_goes_to_review() -> None:
    rows = """
- {name: kana, label: フリガナ, kind: kana, box: [20, 20, 90, 6]}
- {name: person, label: 氏名, kind: text_ja, box: [20, 26.5, 90, 11]}
- {name: claimant, label: 請求者 氏名, kind: text_ja, box: [20, 60, 90, 11], required: true}
- {name: holder, label: 口座名義（カタカナ）, kind: kana, box: [120, 80, 80, 10]}
"""
    tpl = form(297, 210, rows)
    (rule,) = [r for r in tpl.rules if r.rule == "required_if"]
    assert rule.fields == ["kana"] and rule.params == {"field": "person"}
    assert "kana: rule required_if person" in tpl.inferred
    # the account holder's row (blank when no account is asked for) is left alone, and so is a row
    # the template makes required or names in a conditional rule of its own
    assert tpl.field("holder").reading_of == "claimant"
    required = rows.replace("kind: kana, box: [20, 20", "kind: kana, required: true, box: [20, 20")
    assert not [r for r in form(297, 210, required).rules if r.rule == "required_if"]
    own = rows + "rules:\n- {rule: blank_unless, fields: [kana], params: {field: person}}\n"
    assert [r.rule for r in form(297, 210, own).rules if r.fields == ["kana"]] == ["blank_unless"]


def test_a_furigana_row_labelled_in_hiragana_is_given_in_hiragana() -> None:
    """ふりがな and よみがな ask the applicant for hiragana, and the value is given so (an outside
    measurement holds it as written); フリガナ asks for katakana, and a template may say either."""
    rows = """
- {name: kana, label: ふりがな, kind: kana, box: [20, 20, 90, 6]}
- {name: guardian, label: 保護者氏名, kind: text_ja, box: [20, 26.5, 90, 11]}
- {name: yomi, label: 児童よみがな, kind: kana, box: [20, 40, 90, 6]}
- {name: katakana, label: 口座名義カナ, kind: kana, box: [20, 60, 90, 6]}
- {name: said, label: ふりがな, kind: kana, script: katakana, box: [20, 80, 90, 6]}
"""
    tpl = form(210, 297, rows)
    assert [tpl.field(n).script for n in ("kana", "yomi", "katakana", "said")] == [
        "hiragana",
        "hiragana",
        None,
        "katakana",
    ]
    assert "kana: script hiragana" in tpl.inferred and not any(
        i.startswith("said: script") for i in tpl.inferred
    )


def test_a_script_is_for_kana_only() -> None:
    with pytest.raises(TemplateError, match="`script` is for kind kana only"):
        form(210, 297, "- {name: n, label: 氏名, kind: text_ja, script: hiragana, box: [20, 20, 90, 8]}\n")
