"""Evidence groups (pipeline/fields/evidence.py) and the group fit of tools/fit_calibration.py."""

from __future__ import annotations

import random
from pathlib import Path

from pipeline.fields import calibration, evidence
from pipeline.forms.template import load_template
from tools.fit_calibration import OPEN_FACILITY_SETS, SETS, choose, fit, kind_cut, regroup, stored_cut

ROOT = Path(__file__).resolve().parents[2]
TPL = load_template(ROOT / "templates_forms" / "nursery_enrolment")


def facts(**over: tuple[str, object, set[str]]) -> dict[str, tuple[str, object, set[str]]]:
    """Every field of the bundled form blank, but those given."""
    out: dict[str, tuple[str, object, set[str]]] = {f.name: ("", None, set()) for f in TPL.fields}
    out.update(over)
    return out


def test_furigana_and_name_agree_when_the_kana_is_a_reading_of_the_name() -> None:
    g = evidence.groups(
        TPL,
        facts(child_name=("鈴木彩", "鈴木彩", set()), child_name_kana=("スズキアヤ", "スズキアヤ", set())),
    )
    assert g["child_name"] == "text_ja/name/agree/s"
    assert g["child_name_kana"] == "kana/furigana/agree/m"
    g = evidence.groups(
        TPL,
        facts(child_name=("鈴木彩", "鈴木彩", set()), child_name_kana=("タナカアヤ", "タナカアヤ", set())),
    )
    assert g["child_name"] == "text_ja/name/differ/s"
    assert g["child_name_kana"] == "kana/furigana/differ/m"


def test_a_facility_read_open_is_grouped_by_whether_its_name_is_of_the_common_make() -> None:
    # The bundled form lists its facilities (role list); a city's form that lists none reads them
    # open, and a name spelt wholly from common words, the address's places and an ending is
    # evidence of its own (facility/named); one that is not is fitted with the other free text.
    open_tpl = TPL.model_copy(
        update={"fields": [f.model_copy(update={"vocabulary": None}) for f in TPL.fields]}
    )
    page = facts(
        address=("東京都青梅市裏宿町12-3", "東京都青梅市裏宿町12-3", set()),
        facility_1=("裏宿町第一こども園", "裏宿町第一こども園", set()),
        facility_2=("市立心じ了乳児保育園", "市立心じ了乳児保育園", set()),
        facility_3=("ひかり保育園", "ひかり保育園", {"digits_uncertain"}),
    )
    assert evidence.groups(TPL, page)["facility_1"] == "text_ja/list/m"
    g = evidence.groups(open_tpl, page)
    assert g["facility_1"] == "text_ja/facility/named/m"
    # Not of the make: read as any free text, with the text's map and cut.
    assert g["facility_2"] == "text_ja/text/l"
    assert g["facility_3"] == "text_ja/facility/doubt/m"
    assert evidence.facility_make("市立心じ了乳児保育園", None) == "open"


def test_furigana_the_name_pass_changed_is_no_evidence_of_itself() -> None:
    g = evidence.groups(
        TPL,
        facts(
            child_name=("鈴木彩", "鈴木彩", set()),
            child_name_kana=("スズキアヤ", "スズキアヤ", {"kana_from_name"}),
        ),
    )
    assert g["child_name_kana"] == "kana/furigana/helped/m"


def test_furigana_short_of_the_name_s_reading_is_a_doubt_of_its_own() -> None:
    # kana_short (a known reading with kana lost) caps the field like the other doubts, so the
    # calibration fits its own map rather than the furigana's agreeing one.
    g = evidence.groups(
        TPL,
        facts(
            child_name=("鈴木彩", "鈴木彩", set()), child_name_kana=("スズキア", "スズキア", {"kana_short"})
        ),
    )
    assert g["child_name_kana"] == "kana/furigana/doubt/s"


def test_postal_code_and_address_agree_on_the_town_or_differ() -> None:
    addr = "新潟県魚沼市長松269番地19"
    g = evidence.groups(TPL, facts(postal_code=("946-0053", "946-0053", set()), address=(addr, addr, set())))
    assert g["postal_code"] == "postal_code/postal/agree"
    assert g["address"] == "text_ja/address/agree/l"
    other = "新潟県魚沼市本町1番地"  # the same city, another town than the code's
    g = evidence.groups(
        TPL, facts(postal_code=("946-0053", "946-0053", set()), address=(other, other, set()))
    )
    assert g["address"] == "text_ja/address/differ/l"
    g = evidence.groups(TPL, facts(address=(addr, addr, set())))
    assert g["address"] == "text_ja/address/alone/l"


def test_a_pass_s_doubt_and_the_page_s_dates_make_their_own_groups() -> None:
    g = evidence.groups(TPL, facts(phone_home=("03-1234-5678", "03-1234-5678", {"digits_uncertain"})))
    assert g["phone_home"] == "phone/doubt"
    assert g["phone_mobile"] == "phone"
    alone = evidence.groups(TPL, facts(start_date=("令和8年4月1日", "2026-04-01", set())))
    assert alone["start_date"] == "date_wareki/alone"
    three = {
        "child_birth_date": ("令和6年5月1日", "2024-05-01", set()),
        "application_date": ("令和7年11月1日", "2025-11-01", set()),
        "start_date": ("令和8年4月1日", "2026-04-01", set()),
    }
    assert evidence.groups(TPL, facts(**three))["start_date"] == "date_wareki/checked"
    # A date repaired to keep the rules was made to pass them: it checks no other date.
    repaired = {**three, "child_birth_date": ("令和6年5月1日", "2024-05-01", {"date_repaired"})}
    assert evidence.groups(TPL, facts(**repaired))["start_date"] == "date_wareki/alone"
    assert evidence.groups(TPL, facts(facility_1=("みどり保育園", "みどり保育園", set())))["facility_1"] == (
        "text_ja/list/m"
    )


def test_the_digit_classifier_s_backing_is_the_last_part_for_digit_kinds_only() -> None:
    phone = ("03-1234-5678", "03-1234-5678", set())
    assert evidence.groups(TPL, facts(phone_home=(*phone, 0.95)))["phone_home"] == "phone/digits-sure"
    assert evidence.groups(TPL, facts(phone_home=(*phone, 0.3)))["phone_home"] == "phone/digits-unsure"
    assert evidence.groups(TPL, facts(phone_home=(*phone, None)))["phone_home"] == "phone"
    three = {
        "child_birth_date": ("令和6年5月1日", "2024-05-01", set(), 0.99),
        "application_date": ("令和7年11月1日", "2025-11-01", set(), 0.2),
        "start_date": ("令和8年4月1日", "2026-04-01", set(), 0.9),
    }
    g = evidence.groups(TPL, facts(**three))
    assert g["start_date"] == "date_wareki/checked/digits-sure"
    assert g["application_date"] == "date_wareki/checked/digits-unsure"
    # A name is not a digit kind, whatever the figure says; 個人番号 is keyed by two people anyway.
    name = ("鈴木彩", "鈴木彩", set(), 1.0)
    assert evidence.groups(TPL, facts(child_name=name))["child_name"] == "text_ja/name/alone/s"
    mine = evidence.groups(TPL, facts(child_my_number=("123456789018", "123456789018", set(), 1.0)))
    assert not mine["child_my_number"].endswith("digits-sure")


def test_path_runs_from_the_group_to_its_kind() -> None:
    assert calibration.path("text_ja/address/agree/l") == [
        "text_ja/address/agree/l",
        "text_ja/address/agree",
        "text_ja/address",
        "text_ja",
    ]
    assert evidence.length_bucket("鈴木 彩") == "s" and evidence.length_bucket("あ" * 10) == "l"


def _rows(group: str, n: int, p_right: float, rng: random.Random) -> list[dict[str, object]]:
    return [
        {
            "kind": group.split("/")[0],
            "group": group,
            "raw": rng.random(),
            "empty": False,
            "blocking": False,
            "right": rng.random() < p_right,
        }
        for _ in range(n)
    ]


def test_fit_makes_a_map_for_a_group_with_enough_fields_only() -> None:
    rng = random.Random(5)
    rows = _rows("kana/furigana/agree/m", 400, 0.995, rng) + _rows("kana/furigana/differ/m", 60, 0.6, rng)
    maps = fit(rows, min_bin=40, min_group=120)
    assert {"kana", "kana/furigana", "kana/furigana/agree", "kana/furigana/agree/m"} <= set(maps)
    assert "kana/furigana/differ" not in maps and "kana/furigana/differ/m" not in maps  # 60 < 120
    assert max(maps["kana/furigana/agree/m"]["y"]) > max(maps["kana"]["y"]) - 1e-9
    assert all(n >= 40 for m in maps.values() for n in m["n"])


def test_a_group_leans_on_its_parent_and_deeper_levels_do_not_creep_up_to_one() -> None:
    rng = random.Random(7)
    rows = _rows("text_ja/name/agree/s", 300, 1.0, rng) + _rows("text_ja/text/m", 300, 0.9, rng)
    maps = fit(rows, min_bin=40, min_group=120, prior=20)
    top = [
        max(maps[n]["y"]) for n in ("text_ja", "text_ja/name", "text_ja/name/agree", "text_ja/name/agree/s")
    ]
    # All right, yet 300 fields cannot show more than 300 of them do: (300 + 0.5) / (300 + 1).
    assert top == sorted(top) and top[-1] <= 300.5 / 301
    # A group that reads worse than its parent shows it.
    assert max(maps["text_ja/text/m"]["y"]) < max(maps["text_ja"]["y"])


def test_a_group_right_all_along_is_not_marked_down_under_its_first_knot() -> None:
    # 200 postal codes that name the address's town, raw 0.4-1.0, every one right: one block at
    # the mean raw 0.7. Its lowest 40 (raw about 0.46) were as right, so a reading at 0.5 keeps
    # the block's figure instead of 0.5 / 0.7 of it.
    rows = [
        {
            "kind": "postal_code",
            "group": "postal_code/postal/agree",
            "raw": 0.4 + 0.003 * i,
            "empty": False,
            "blocking": False,
            "right": True,
        }
        for i in range(200)
    ]
    maps = fit(rows, min_bin=40, min_group=120)
    curve = calibration.from_dict({"kinds": maps}).curves["postal_code"]
    assert maps["postal_code"]["n"] == [40, 200]
    assert curve(0.5) > 0.98 and curve(0.2) < 0.5  # under what the fit saw it still claims little
    # The same group with its lowest 40 half wrong: the first knot says so.
    for r in rows[:40:2]:
        r["right"] = False
    worse = calibration.from_dict({"kinds": fit(rows, min_bin=40, min_group=120)}).curves["postal_code"]
    assert worse(0.5) < 0.6 < curve(0.5)


def test_the_stored_cut_still_accepts_the_fields_it_was_chosen_at() -> None:
    # 40 fields at a map's top knot 0.86926, all right, under 300 surer ones with one wrong: the
    # cut is chosen at 0.86926, and 4 digits would have stored 0.8693, over all 40 of them.
    probs = [(0.99, i != 0) for i in range(300)] + [(0.86926, True)] * 40
    cut, share, _ = choose(probs, 0.005, 0.85, 40)
    assert cut == 0.86926 and share == 1.0
    stored = stored_cut(cut)
    assert stored <= cut and sum(p >= stored for p, _ in probs) == 340
    assert round(cut, 4) > cut  # the old rounding
    assert stored_cut(None) == 1.0


def test_a_kind_more_wrong_than_its_limit_at_the_common_cut_gets_a_higher_cut_of_its_own() -> None:
    # 100 fields at 0.95 all right, 100 at 0.90 of which 3 wrong: at the common cut 0.88 the kind
    # is 1.5% wrong, over a 1% limit; its own cut leaves out the 0.90 block.
    probs = [(0.95, True)] * 100 + [(0.90, i >= 3) for i in range(100)]
    assert kind_cut(probs, 0.88, 0.01, 40) == 0.95
    assert kind_cut(probs, 0.88, 0.02, 40) == 0.88  # within its limit: the common cut stands
    assert kind_cut([(0.5, False)] * 50, 0.88, 0.01, 40) == 0.88  # nothing accepted at the cut
    # One wrong among 83 is 1.2%, over the limit, but one field is no record: the common cut stands.
    few = [(0.99, i != 0) for i in range(83)]
    assert kind_cut(few, 0.88, 0.01, 40) == 0.88
    assert kind_cut([(0.99, i > 1) for i in range(83)], 0.88, 0.01, 40) == 1.0


def test_the_recipe_regroups_its_open_facility_set_with_the_form_read_open() -> None:
    # Rows of the calibration set whose form is read without its facility list are grouped with
    # that list dropped (facility/named), the same form's other rows with it (list).
    assert OPEN_FACILITY_SETS <= {s[0] for s in SETS}
    page = {
        name: [raw, value, [], None]
        for name, (raw, value, _) in facts(
            address=("東京都青梅市裏宿町12-3", "東京都青梅市裏宿町12-3", set()),
            facility_1=("市立ひかり保育園", "市立ひかり保育園", set()),
        ).items()
    }
    rows = [
        {"doc": doc, "page_no": 0, "page": page, "form": TPL.form_id, "name": "facility_1", "open": read_open}
        for doc, read_open in ((1, True), (2, False))
    ]
    regroup(rows)
    assert [r["group"] for r in rows] == ["text_ja/facility/named/m", "text_ja/list/m"]


def test_the_recipe_fits_black_and_white_pages_a_map_of_their_own_where_it_saw_enough() -> None:
    from pipeline.fields.calibration import from_dict
    from tools.fit_calibration import fit_bilevel

    cal = from_dict({"kinds": {"phone": {"x": [0.0, 1.0], "y": [0.0, 1.0]}}})
    rows = []
    for i in range(400):
        raw = 0.9 + 0.1 * (i % 10) / 10
        rows.append(
            {
                "kind": "phone",
                "raw": raw,
                "empty": False,
                "group": "phone",
                "blocking": False,
                "bilevel": True,
            }
            | {"right": i % 7 != 0}  # 86% right, however sure
        )
    rows += [
        {"kind": "phone", "raw": 0.95, "empty": False, "group": "phone", "blocking": False, "right": True}
    ] * 400  # grey pages: not fitted here
    maps = fit_bilevel(rows, cal, min_bin=40, min_group=120)
    bw = from_dict({"kinds": {"phone": {"x": [0.0, 1.0], "y": [0.0, 1.0]}}, "bilevel": maps})
    assert set(maps) == {"phone"}
    assert bw.probability("phone", 0.99, bilevel=True) < 0.92  # 86% right, not 99%
    assert abs(bw.probability("phone", 0.99) - 0.99) < 1e-9
    assert fit_bilevel(rows[:100], cal, min_bin=40, min_group=120) == {}  # too few: no map


def test_a_role_cut_that_accepts_a_handful_is_no_cut() -> None:
    # 142 addresses, 20 wrong among the sure ones: the only cut within 1% accepts 17 (none wrong),
    # which shows nothing about 1%, so the role is never accepted rather than accepted on that.
    probs = [(0.99, True)] * 17 + [(0.95, False)] * 20 + [(0.95, True)] * 105
    assert kind_cut(probs, 0.9, 0.01, 40) == 1.0
    many = [(0.99, True)] * 60 + [(0.95, False)] * 20 + [(0.95, True)] * 62
    assert kind_cut(many, 0.9, 0.01, 40) == 0.99
