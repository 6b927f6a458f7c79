"""Group verification and QA sampling in real headless Chromium, keyboard only.

Group grid: the tick boxes, circled options and signatures of the two real sample documents are
flagged; /groups shows the crops the machine read as the same value together; the clerk moves to
one crop with the arrow keys, types the right value there (corrected in place), and one Enter
confirms the rest, grid after grid. QA sampling: an auto-accepted reading saved with a QA rate of 1
enters the queue marked QA with every field to check; the clerk confirms them by keyboard,
corrects one, accepts; the supervisor's statistics page shows the measured error rate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, update

from pipeline.result import Route
from pipeline.store import open_store
from pipeline.store.review_tables import ReviewEventRow
from pipeline.store.tables import DocumentRow, FieldRow, PageRow
from tests.e2e.conftest import login, serve
from web.review import template_for

pytestmark = pytest.mark.model  # the store is filled once by the real pipeline

GROUP_KINDS = ("checkbox", "choice", "signature")


def _flag_marks(store: Any) -> None:
    with store.transaction() as s:
        s.execute(update(FieldRow).where(FieldRow.kind.in_(GROUP_KINDS)).values(accepted=False))


@pytest.fixture(scope="module")
def grid_server(e2e_golden, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    yield from serve(e2e_golden, tmp_path_factory.mktemp("e2e-grid"), _flag_marks)


def _marks(settings: Any) -> dict[tuple[int, int, str], FieldRow]:
    store = open_store(settings)
    try:
        with store.session() as s:
            rows = s.execute(
                select(FieldRow, PageRow.document_id, PageRow.index)
                .join(PageRow, FieldRow.page_id == PageRow.id)
                .where(FieldRow.kind.in_(GROUP_KINDS))
            ).all()
            return {(d, p, f.name): f for f, d, p in rows}
    finally:
        store.close()


def test_group_grid_fix_the_odd_one_and_confirm_the_rest(grid_server, browser) -> None:
    url, settings = grid_server
    before = _marks(settings)
    assert len(before) >= 10 and all(not f.accepted for f in before.values())
    page = login(browser, url, "clerk1")
    assert "まとめて確認" in page.locator("#groups-link").inner_text()
    page.goto(url + "/groups")
    cells = page.locator("section.cell")
    assert cells.count() >= 2  # the largest group first: two documents read the same value
    page.wait_for_function(
        "[...document.querySelectorAll('section.cell img')].every(i => i.naturalWidth > 0)"
    )
    first = [
        (int(c.get_attribute("data-doc")), int(c.get_attribute("data-page")), c.get_attribute("data-name"))
        for c in cells.all()
    ]
    assert len({k[2] for k in first}) == 1 and len({before[k].value.__repr__() for k in first}) == 1
    # the odd one: the second crop gets another option of the field, typed in place
    name = first[1][2]
    spec = next(f for f in template_for(settings, "nursery_enrolment", None).fields if f.name == name)
    machine = before[first[1]].value
    if spec.kind == "choice":
        other = next(o.value for o in spec.options if o.value != machine)
    else:
        other = "0" if machine else "1"
    assert page.evaluate("document.activeElement.closest('section.cell') !== null")
    page.keyboard.press("ArrowRight")
    page.keyboard.type(other)
    page.keyboard.press("Enter")
    page.wait_for_function("el => el.classList.contains('corrected')", arg=cells.nth(1).element_handle())
    # one Enter on an empty crop confirms the rest of the grid, then the next grid loads
    page.locator("section.cell:not(.corrected) input").first.focus()
    for _ in range(30):
        if page.locator("#empty").count():
            break
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert page.locator("#empty").count() == 1
    after = _marks(settings)
    assert all(f.corrected_at is not None for f in after.values())
    odd = after[first[1]]
    assert odd.corrected_by == "clerk1" and odd.corrected_value == (
        other if spec.kind == "choice" else other == "1"
    )
    assert odd.value == machine  # the machine's value is kept beside the correction
    for key in first[:1] + first[2:]:
        assert after[key].corrected_value == after[key].value
    store = open_store(settings)
    try:
        with store.session() as s:
            notes = {
                (e.document_id, e.page_index, e.field_name): (e.action, e.note)
                for e in s.scalars(select(ReviewEventRow).where(ReviewEventRow.field_name.is_not(None)))
            }
    finally:
        store.close()
    assert notes[first[1]] == ("correct", "queue") and notes[first[0]] == ("confirm", "group")


def _add_qa_document(store: Any) -> None:
    """The first sample's reading as if every field had been sure: an auto-accepted document,
    drawn for QA (rate 1) when it is saved, as the pipeline would save it."""
    with store.session() as s:
        first = s.scalar(select(DocumentRow.id).order_by(DocumentRow.id))
    doc = store.get_document(first)
    pages = tuple(
        replace(p, route=Route.accepted, fields=tuple(replace(f, accepted=True) for f in p.fields))
        for p in doc.pages
    )
    accepted = replace(doc, sha256="f" * 64, source_name="qa_copy.png", route=Route.accepted, pages=pages)
    store.qa_sample_rate = 1.0
    store.save_document_result(accepted, stored_path=None, kind="png", size_bytes=1, page_count=1)
    store.qa_sample_rate = 0.0


@pytest.fixture(scope="module")
def qa_server(e2e_golden, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    yield from serve(e2e_golden, tmp_path_factory.mktemp("e2e-qa"), _add_qa_document)


def test_qa_sample_checked_by_keyboard_and_error_rate_measured(qa_server, browser) -> None:
    url, settings = qa_server
    page = login(browser, url, "clerk1")
    page.goto(url + "/?reason=qa")
    rows = page.locator("table.queue tbody tr.qa")
    assert rows.count() == 1 and "QA" in rows.inner_text()
    qa_id = int(rows.locator("a").first.inner_text())
    page.goto(f"{url}/documents/{qa_id}")
    assert "抜き取り検査" in page.locator(".dochead").inner_text()
    fields = page.locator("section.field")
    n = fields.count()
    assert n >= 20  # every field of an auto-accepted document is checked, not only flagged ones
    for _ in range(n + 5):
        active = page.locator("section.field.active")
        if active.count() == 0 or "settled" in (active.get_attribute("class") or ""):
            break
        if active.get_attribute("data-name") == "employer":
            page.keyboard.type("有限会社みどり商事")  # the one wrong reading the QA check finds
        before = page.locator("section.field.settled").count()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "n => document.querySelectorAll('section.field.settled').length > n", arg=before
        )
    assert page.locator("section.field.settled").count() == n
    assert page.evaluate("document.activeElement.id") == "accept-btn"
    here = page.url
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: u != here)

    store = open_store(settings)
    try:
        row = store.get_document_row(qa_id)
        assert (row.status, row.qa_sample) == ("accepted", True)
        with store.session() as s:
            actions = [
                e.action
                for e in s.scalars(
                    select(ReviewEventRow).where(
                        ReviewEventRow.document_id == qa_id, ReviewEventRow.field_name.is_not(None)
                    )
                )
            ]
    finally:
        store.close()
    assert len(actions) == n and actions.count("qa_correct") == 1 and actions.count("qa_confirm") == n - 1

    boss = login(browser, url, "boss")
    boss.goto(url + "/stats")
    text = boss.locator("main").inner_text()
    assert f"検査した項目 {n} ・ 誤り 1" in text and "95%信頼区間" in text
