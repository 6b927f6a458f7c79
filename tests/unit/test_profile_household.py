"""The generator's household for forms that list several children, a spouse and a bank account
(bench/forms/child_allowance): rows filled one per child, eldest first, with consistent births,
続柄 and accounts, and forms without such fields left exactly as they were."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from pipeline.forms.template import load_template
from samples import profile

ROOT = Path(__file__).resolve().parents[2]
ALLOWANCE = ROOT / "bench/forms/child_allowance"
ACCOUNT = ("bank_name", "bank_type", "branch_name", "branch_type", "account_type", "account_number")


@pytest.fixture(scope="module")
def pages() -> list[tuple[dict, list[str]]]:
    tpl = load_template(ALLOWANCE)
    out = []
    for seed in range(40):
        fills, invalid = profile.make_page_values(tpl, np.random.default_rng([seed, 1, 0]), "")
        out.append(({k: v.value for k, v in fills.items()}, invalid))
    return out


def test_clean_pages_break_no_rule(pages) -> None:
    assert [inv for _, inv in pages if inv] == []


def test_child_rows_are_filled_in_order_and_whole(pages) -> None:
    counts = set()
    for v, _ in pages:
        rows = [n for n in (1, 2, 3) if v[f"child_{n}_name"]]
        assert rows == list(range(1, len(rows) + 1))  # no gap
        counts.add(len(rows))
        births = [dt.date.fromisoformat(v[f"child_{n}_birth_date"]) for n in rows]
        assert births == sorted(births)  # eldest first
        parent = dt.date.fromisoformat(v["claimant_birth_date"])
        assert births[0] - parent > dt.timedelta(days=17 * 365)
        for n in rows:
            assert v[f"child_{n}_name"].startswith(v["claimant_name"][:1])
            assert v[f"child_{n}_relation"][1] in "男女" and v[f"child_{n}_living"] in ("同居", "別居")
    assert counts == {1, 2, 3}


def test_relations_count_each_sex_in_birth_order(pages) -> None:
    for v, _ in pages:
        rel = [v[f"child_{n}_relation"] for n in (1, 2, 3) if v[f"child_{n}_name"]]
        for sex in "男女":
            mine = [r for r in rel if r.endswith(sex)]
            assert mine == [o + sex for o in profile.CHILD_ORDINALS[: len(mine)]]


def test_the_account_is_blank_exactly_when_public_account_is_ticked(pages) -> None:
    ticked = 0
    for v, _ in pages:
        if v["public_account"]:
            ticked += 1
            assert all(v[k] in (None, "") for k in ACCOUNT)
        else:
            assert all(v[k] not in (None, "") for k in ACCOUNT)
            assert v["account_holder_kana"] == v["claimant_name_kana"]
            assert (v["branch_type"] == "本店") == (v["branch_name"] == profile.HEAD_OFFICE)
            assert (v["bank_name"], v["bank_type"]) in profile.BANKS
    assert 0 < ticked < len(pages)


def test_pension_follows_occupation(pages) -> None:
    for v, _ in pages:
        assert (v["occupation"], v["pension"]) in profile.OCCUPATIONS


def test_forms_without_rows_or_spouse_are_left_alone() -> None:
    tpl = load_template(ROOT / "templates_forms/nursery_enrolment")
    ctx = profile.make_context(np.random.default_rng(3), None, ["みどり保育園"])
    assert profile._household_blanks(tpl, ctx, {"remarks"}) == {"remarks"}
    assert "household" not in ctx.extra  # no household drawn, so no stream touched
    assert profile._row_of("child_name") is None and profile._row_of("child_2_name") == 2
