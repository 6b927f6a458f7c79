"""Target profiles and rendering, without any service: dates (西暦/和暦 with era codes), code
tables, 外字 policies, cp932 folding, byte widths and padding, profile errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.adapters.base import DeliveryRecord, DeliveryRejected, TruncationError, UnencodableError
from pipeline.adapters.fixed_width import pad
from pipeline.adapters.profile import (
    ColumnSpec,
    TargetProfile,
    available_profiles,
    load_profile,
    render,
    wareki,
)
from pipeline.errors import TemplateError


def _record(**values) -> DeliveryRecord:
    return DeliveryRecord("SNKEY", 7, "ab" * 32, 0, "nursery_enrolment", values, {"mn": "my_number"})


def _profile(columns, **kw) -> TargetProfile:
    return TargetProfile.model_validate({"name": "t", "adapter": "csv", "columns": columns, **kw})


def test_every_bundled_profile_loads() -> None:
    names = available_profiles()
    assert {"nursery_csv", "nursery_fixed", "nursery_sql", "nursery_rpa", "export_utf8"} <= set(names)
    for n in names:
        assert load_profile(n).columns


@pytest.mark.parametrize(
    ("day", "era", "year"),
    [
        (date(2019, 4, 30), "平成", 31),
        (date(2019, 5, 1), "令和", 1),
        (date(1989, 1, 7), "昭和", 64),
        (date(1989, 1, 8), "平成", 1),
        (date(2026, 2, 5), "令和", 8),
    ],
)
def test_wareki_boundaries(day: date, era: str, year: int) -> None:
    assert wareki(day) == (era, year)


def test_date_styles_and_parts() -> None:
    cols = [
        {"column": "d", "source": "d", "format": "date"},
        {"column": "e", "source": "d", "format": "era_code"},
        {"column": "y", "source": "d", "format": "era_year"},
        {"column": "m", "source": "d", "format": "month"},
    ]
    rec = _record(d="2026-02-05")
    assert render(rec, _profile(cols)).values() == {"d": "20260205", "e": "5", "y": "08", "m": "02"}
    assert render(rec, _profile(cols, date_style="wareki")).values()["d"] == "5080205"
    custom = _profile(
        cols, date_style="wareki", era_codes={"令和": "R", "平成": "H", "昭和": "S", "大正": "T", "明治": "M"}
    )
    assert render(rec, custom).values()["d"] == "R080205"


def test_code_tables_join_and_unknown_value() -> None:
    cols = [{"column": "r", "source": "r", "format": "code", "code": "reason", "join": ","}]
    p = _profile(cols, code_tables={"reason": {"就労": "01", "その他": "99"}})
    assert render(_record(r=["就労", "その他"]), p).values() == {"r": "01,99"}
    with pytest.raises(DeliveryRejected, match="コード表 reason にない値"):
        render(_record(r=["就学"]), p)


def test_unknown_code_table_suggests_the_near_one() -> None:
    with pytest.raises(ValueError, match="did you mean 'reason'"):
        _profile(
            [{"column": "r", "source": "r", "format": "code", "code": "reasons"}], code_tables={"reason": {}}
        )


def test_unknown_profile_name_lists_and_suggests() -> None:
    with pytest.raises(TemplateError, match="did you mean 'nursery_csv'"):
        load_profile("nursery_cvs")


def test_bad_profile_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("adapter: csv\ncolumns:\n  - {column: a, sorce: b}\n", encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        load_profile("x", tmp_path)
    assert "columns.0" in str(err.value)


def test_review_policy_names_every_character_and_field() -> None:
    p = _profile([{"column": "氏名", "source": "name"}, {"column": "住所", "source": "addr"}])
    with pytest.raises(UnencodableError) as err:
        render(
            _record(name="𠮷野", addr="①丁目𩸽"), _profile(p.model_dump()["columns"], encoding="shift_jis")
        )
    chars = [(u.field, u.char) for u in err.value.items]
    assert chars == [("name", "𠮷"), ("addr", "①"), ("addr", "𩸽")]
    assert "U+20BB7" in err.value.message


def test_substitute_policy_and_folding() -> None:
    p = _profile([{"column": "a", "source": "a"}], gaiji="substitute")
    r = render(_record(a="𠮷〜−"), p)
    (f,) = r.fields
    assert (f.as_written, f.as_sent, f.flags) == ("𠮷〜−", "〓～－", ("substituted",))
    assert [u.char for u in r.unencodable] == ["𠮷"]
    r = render(_record(a="〜"), _profile([{"column": "a", "source": "a"}]))
    assert r.fields[0].as_sent == "～" and r.fields[0].flags == ("folded",)


def test_my_number_masked_unless_asked() -> None:
    p = _profile([{"column": "n", "source": "mn"}])
    assert render(_record(mn="123456789012"), p).values()["n"] == "********9012"
    assert render(_record(mn="123456789012"), p, include_my_number=True).values()["n"] == "123456789012"
    stored = render(_record(mn="123456789012"), p, include_my_number=True).stored()
    assert "123456789012" not in str(stored)  # the outbox never keeps it in clear


def test_byte_widths_padding_and_truncation() -> None:
    spec = ColumnSpec(column="n", source="n", width=7, fill="　")
    assert pad("山田", spec, "cp932") == "山田".encode("cp932") + "　".encode("cp932") + b" "  # 4+2+1 bytes
    assert pad("5", ColumnSpec(column="h", source="h", width=3, align="right", fill="0"), "cp932") == b"005"
    p = _profile([{"column": "n", "source": "n", "width": 6}], adapter="fixed_width")
    assert render(_record(n="山田太"), p).values()["n"] == "山田太"  # exactly 6 bytes fits
    with pytest.raises(TruncationError, match="8 バイト"):
        render(_record(n="山田太郎"), p)
    with pytest.raises(ValueError, match="width"):
        _profile([{"column": "n", "source": "n"}], adapter="fixed_width")
