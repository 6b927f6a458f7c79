"""Field verification across documents (/fields) in real headless Chromium, keyboard only.

The two real sample documents' flagged fields that can be judged from their crop are listed one
printed field after another; the clerk confirms with Enter, corrects one by typing, keys each
個人番号 blind (its first keying); a second clerk keys the 個人番号 in /second, and each document
whose last field is settled, with its cross-field rules passing, is accepted without ever being
opened. Fields that a cross-field rule names with another field stay for the document page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from pipeline.store import open_store
from pipeline.store.review_tables import ReviewEventRow
from pipeline.store.reviewing import GROUP_KINDS, ReviewDesk
from pipeline.store.tables import DocumentRow, FieldRow, PageRow
from tests.e2e.conftest import login, serve
from tests.review_support import my_numbers

pytestmark = pytest.mark.model  # the store is filled once by the real pipeline


@pytest.fixture(scope="module")
def fields_server(e2e_golden, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    yield from serve(e2e_golden, tmp_path_factory.mktemp("e2e-fields"))


def _flagged(settings: Any) -> dict[tuple[int, int, str], tuple[FieldRow, bool]]:
    """Every flagged field: (row, whether an issue names another field too)."""
    store = open_store(settings)
    try:
        with store.session() as s:
            rows = s.execute(
                select(FieldRow, PageRow.document_id, PageRow.index)
                .join(PageRow, FieldRow.page_id == PageRow.id)
                .where(FieldRow.accepted.is_(False))
            ).all()
            return {
                (d, p, f.name): (f, any(set(i.get("fields") or ()) - {f.name} for i in f.issues or []))
                for f, d, p in rows
            }
    finally:
        store.close()


def test_field_verification_settles_fields_across_documents(fields_server, browser) -> None:
    url, settings = fields_server
    flagged = _flagged(settings)
    want = {k for k, (f, cross) in flagged.items() if f.kind not in GROUP_KINDS and not cross}
    doubles = {k for k in want if flagged[k][0].double_entry}
    assert len(doubles) == 2 and len(want) >= 6  # a 個人番号 on each sample and several OCR fields
    assert len({k[0] for k in want}) == 2  # fields of both documents on one page

    page = login(browser, url, "clerk1")
    assert "項目ごとに確認" in page.locator("#fields-link").inner_text()
    page.goto(url + "/fields")
    cells = page.locator("section.cell")
    shown = [
        (int(c.get_attribute("data-doc")), int(c.get_attribute("data-page")), c.get_attribute("data-name"))
        for c in cells.all()
    ]
    assert set(shown) == want
    # the same printed field of one document after another, in the form's order
    positions = [flagged[k][0].position for k in shown]
    assert positions == sorted(positions)
    html = page.content()
    for number in my_numbers():
        assert number not in html  # keyed blind: neither the value nor its characters are sent
    assert "確信度" in html or "規則" in html or "訂正" in html  # the reason, in words
    page.wait_for_function(
        "[...document.querySelectorAll('section.cell img')].every(i => i.naturalWidth > 0)"
    )

    truth_mn = dict(zip(sorted({k[0] for k in doubles}), my_numbers(), strict=True))
    corrected: tuple[int, int, str] | None = None
    for k, key in enumerate(shown):
        cell = cells.nth(k)
        assert page.evaluate("document.activeElement.closest('section.cell')?.dataset.name") == key[2]
        f = flagged[key][0]
        if key in doubles:
            assert cell.get_attribute("data-double") == "1"
            page.keyboard.type(truth_mn[key[0]])
        elif corrected is None and f.kind == "text_ja":
            corrected = key
            page.keyboard.type("訂正テスト")
        last = k == len(shown) - 1
        if last:  # the page is settled: the next page of fields (none left) loads
            with page.expect_navigation():
                page.keyboard.press("Enter")
        else:
            page.keyboard.press("Enter")
            page.wait_for_function("el => /settled|waiting/.test(el.className)", arg=cell.element_handle())
    assert corrected is not None
    assert page.locator("#empty").count() == 1

    after = _flagged(settings)
    for key in want - doubles:
        f = after[key][0]
        assert f.corrected_at is not None and f.corrected_by == "clerk1"
        assert f.value == flagged[key][0].value  # the machine's value is kept beside the correction
    assert after[corrected][0].corrected_value == "訂正テスト"
    for key in doubles:
        assert after[key][0].corrected_at is None  # one person keyed it: it waits for a second

    store = open_store(settings)
    try:
        with store.session() as s:
            notes = {
                (e.document_id, e.page_index, e.field_name): (e.action, e.note)
                for e in s.scalars(select(ReviewEventRow).where(ReviewEventRow.field_name.is_not(None)))
            }
        second = ReviewDesk(store).second_entries("clerk2")
    finally:
        store.close()
    assert notes[corrected] == ("correct", "queue")
    assert any(v == ("confirm", "field queue") for v in notes.values())
    assert {(t.document_id, t.page_index, t.name) for t in second} == doubles

    # the second clerk keys the 個人番号 blind; a document with nothing left and no failing
    # cross-field rule is accepted without being opened
    page2 = login(browser, url, "clerk2")
    page2.goto(url + "/fields")
    assert page2.locator("#empty").count() == 1  # nothing left for field verification
    page2.goto(url + "/second")
    cells2 = page2.locator("section.cell")
    for k in range(cells2.count()):
        d = int(cells2.nth(k).get_attribute("data-doc"))
        cells2.nth(k).locator("input").focus()
        page2.keyboard.type(truth_mn[d])
        page2.keyboard.press("Enter")
        page2.wait_for_function("el => /settled/.test(el.className)", arg=cells2.nth(k).element_handle())
    left_for_page = {k[0] for k, (f, cross) in flagged.items() if cross or f.kind in GROUP_KINDS}
    assert {k[0] for k in want} - left_for_page  # at least one document can end here
    store = open_store(settings)
    try:
        with store.session() as s:
            status = dict(s.execute(select(DocumentRow.id, DocumentRow.status)).all())
    finally:
        store.close()
    for doc_id in {k[0] for k in want}:
        if doc_id not in left_for_page:
            assert status[doc_id] == "accepted"
        else:
            assert status[doc_id] != "accepted"  # a field still waits for the document page
