"""bench/devset.py's scoring: only presentation is forgiven (the development set's README). Built
from hand-written truth records: the development set itself is never read by the tests."""

from __future__ import annotations

from bench.devset import field_tags, is_filled, right


def t(kind: str, value, **extra) -> dict:
    return {"kind": kind, "value": value, "blank": value in (None, [], ""), **extra}


def test_presentation_is_forgiven() -> None:
    assert right("080-1234-5678", t("phone", "08012345678"))
    assert right("０８０１２３４５６７８", t("phone", "080-1234-5678"))
    assert right("188-0004", t("digit_boxes", "1880004"))
    assert right("シムラトモミズ", t("text_kana", "シムラ トモミズ"))
    assert right("ｼﾑﾗ ﾄﾓﾐｽﾞ", t("text_kana", "シムラ トモミズ"))
    assert right("志村智瑞", t("text_kanji", "志村　智瑞"))
    assert right(0, t("number", "0"))
    assert right("2025-11-06", t("date", "2025-11-06"))


def test_content_is_not_forgiven() -> None:
    assert not right("シムラトモミス", t("text_kana", "シムラ トモミズ"))  # a lost dakuten
    assert not right("清一(市立みどり保育園)", t("text_kanji", "清一（市立みどり保育園）"))
    assert not right("2026-04-18", t("date", "2025-04-18"))
    assert not right("東京都1-2-3", t("text_kanji", "大阪府1-2-3"))
    assert not right(None, t("number", "0"))
    assert not right(0, t("number", None))  # a blank field read as something is wrong


def test_prefecture_left_out_counts_either_way() -> None:
    truth = t(
        "text_kanji",
        "西東京市西原町五丁目23-21",
        prefecture_omitted=True,
        components={"prefecture": "東京都"},
    )
    assert right("西東京市西原町五丁目23-21", truth)
    assert right("東京都西東京市西原町五丁目23-21", truth)
    assert not right("京都府西東京市西原町五丁目23-21", truth)
    written = t("text_kanji", "東京都西東京市西原町五丁目23-21", components={"prefecture": "東京都"})
    assert not right("西東京市西原町五丁目23-21", written)  # written with it: must be read with it


def test_marks_and_signatures() -> None:
    assert right("父", t("checkbox", ["父"]))
    assert right(["就労", "就学"], t("checkbox", ["就学", "就労"]))
    assert not right(["就労"], t("checkbox", ["就学", "就労"]))
    assert right(None, t("checkbox", []))
    assert not right(None, t("checkbox", ["有"]))
    assert right(True, t("signature", "加藤 宗一郎"))
    assert not right(False, t("signature", "加藤 宗一郎"))
    assert right(False, t("signature", None))


def test_filled_and_tags() -> None:
    assert is_filled(t("number", "0"))
    assert not is_filled(t("checkbox", []))
    tags = field_tags(
        t("checkbox", ["父"], mark_style="circle", corrected=True, correction_seal=True, era_marked=False)
    )
    assert tags == ["mark circle", "corrected", "corrected+seal", "era not circled"]
