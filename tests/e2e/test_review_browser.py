"""The review page in real headless Chromium (Debian `chromium`, Playwright), keyboard only:
log in, settle a real document's flagged fields, hand the 個人番号 to a second clerk who keys it
blind in the second-keying queue (which accepts the document once its last field is settled),
and find the record in `shinsei export`; reject a document with a reason."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pipeline.store import open_store
from pipeline.store.tables import DocumentRow, FieldRow, PageRow, StatusHistory
from tests.e2e.conftest import login, serve
from tests.review_support import my_numbers

SHOTS = os.environ.get("SHINSEI_SCREENSHOT_DIR")

pytestmark = pytest.mark.model  # the store is filled once by the real pipeline


def _settle_open_fields(page, number: str | None) -> int:
    """Press Enter on each open field (typing the 個人番号 where asked); returns keystrokes."""
    keys = 0
    for _ in range(40):
        active = page.locator("section.field.active")
        if active.count() == 0 or "settled" in (active.get_attribute("class") or ""):
            break
        if "waiting" in (active.get_attribute("class") or ""):
            break
        if active.get_attribute("data-double") == "1":
            if number is None:
                break
            page.keyboard.type(number)
            keys += len(number)
        before = page.locator("section.field.settled, section.field.waiting").count()
        page.keyboard.press("Enter")
        keys += 1
        page.wait_for_function(
            "n => document.querySelectorAll('section.field.settled, section.field.waiting').length > n",
            arg=before,
        )
    return keys


def test_keyboard_only_review_double_entry_accept_and_export(server, browser, tmp_path: Path) -> None:
    url, settings = server
    number = my_numbers()[0]
    c1 = login(browser, url, "clerk1")
    c1.keyboard.press("Enter")  # 次の書類を開く has focus
    c1.wait_for_url(f"{url}/documents/*")
    doc_url = c1.url
    assert c1.locator("section.field").count() >= 2
    assert number not in c1.content()
    if SHOTS:
        # the README picture: the 個人番号 crop is masked, even a synthetic one is never shown whole
        mask = [c1.locator("section.field[data-double='1'] .crop img")]
        c1.screenshot(path=str(Path(SHOTS) / "review-document.png"), mask=mask)
    c1.keyboard.press("F4")  # whole page with the box highlighted
    c1.wait_for_selector("#pageview:not([hidden]) img")
    c1.wait_for_function("document.querySelector('#pageview img').naturalWidth > 0")
    c1.keyboard.press("Escape")
    _settle_open_fields(c1, number)
    # only the 個人番号 (keyed once, by clerk1) is left: Enter hands the document on
    assert c1.locator("section.field.waiting").count() == 1
    assert c1.evaluate("document.activeElement.id") == "release-btn"
    c1.keyboard.press("Enter")
    c1.wait_for_url(lambda u: u != doc_url)

    c2 = login(browser, url, "clerk2")
    c2.goto(url + "/second")  # the second-keying queue: crops only, no document opened
    assert number not in c2.content()  # blind: neither the reading nor the first entry is shown
    cell = c2.locator(f"section.cell[data-doc='{doc_url.rsplit('/', 1)[1]}']")
    assert cell.count() == 1 and c2.locator("section.cell").count() == 1
    assert c2.evaluate("document.activeElement.closest('section.cell') !== null")
    c2.keyboard.type(number)
    c2.keyboard.press("Enter")
    c2.wait_for_function("el => el.classList.contains('settled')", arg=cell.element_handle())
    assert "受理" in cell.inner_text()  # its last open field: the document is accepted
    doc_id = int(doc_url.rsplit("/", 1)[1])

    out = tmp_path / "export.csv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
    env |= {
        "SHINSEI_DATA_DIR": str(settings.data_dir),
        "SHINSEI_MY_NUMBER_KEY_FILE": str(settings.my_number_key_file),
    }
    subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", "export", "--csv", str(out)], env=env, check=True
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [int(r["document_id"]) for r in rows] == [doc_id]
    assert rows[0]["child_my_number"].endswith(number[-4:]) and number not in out.read_text(
        encoding="utf-8-sig"
    )


def test_reject_with_reason_by_keyboard(server, browser) -> None:
    url, _settings = server
    page = login(browser, url, "clerk1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/documents/*")
    doc_url = page.url
    page.keyboard.press("F9")
    page.keyboard.type("申請者の署名がない")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: u != doc_url)
    page.goto(url + "/")
    assert doc_url.rsplit("/", 1)[1] not in [a.inner_text() for a in page.locator("table.queue a").all()]


def _inconsistent_dates(store: Any) -> None:
    """The first document's 申込日 becomes a date before the child's birth, flagged for review: once
    the clerk confirms it as written, the paper itself breaks a cross-field rule."""
    with store.session() as s:
        f = s.scalars(
            select(FieldRow)
            .join(PageRow, FieldRow.page_id == PageRow.id)
            .where(PageRow.document_id == s.scalar(select(func.min(PageRow.document_id))))
            .where(FieldRow.name == "application_date")
        ).one()
        f.value, f.accepted = "2001-04-01", False
        s.commit()


@pytest.fixture(scope="module")
def inconsistent_server(e2e_golden, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    yield from serve(e2e_golden, tmp_path_factory.mktemp("e2e-cross"), _inconsistent_dates)


def test_confirmed_values_that_break_a_rule_offer_the_rejection(inconsistent_server, browser) -> None:
    """Every field confirmed and a cross-field rule still fails: the reject box opens with the rule as
    its reason, so one Enter sends the document back instead of handing it to a second clerk."""
    url, settings = inconsistent_server
    page = login(browser, url, "clerk1")
    page.goto(url + "/next")
    page.wait_for_url(f"{url}/documents/*")
    doc_id = int(page.url.rsplit("/", 1)[1])
    _settle_open_fields(page, my_numbers()[0])  # the first document is the first sample's
    page.wait_for_selector("#reject:not([hidden])")
    reason = page.locator("#reject-reason")
    assert page.evaluate("document.activeElement.id") == "reject-reason"
    assert reason.input_value().startswith("項目間の規則に合わない: ")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: f"/documents/{doc_id}" not in u)
    store = open_store(settings)
    try:
        with store.session() as s:
            assert s.get(DocumentRow, doc_id).status == "rejected"
            note = s.scalars(
                select(StatusHistory.note).where(
                    StatusHistory.document_id == doc_id, StatusHistory.to_status == "rejected"
                )
            ).one()
    finally:
        store.close()
    assert note.startswith("項目間の規則に合わない: ") and "2001-04-01" in note
