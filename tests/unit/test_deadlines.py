"""Review deadlines: business days on the Japanese calendar (jpholiday), the template's optional
`deadline` rule, and the review queue ordered by deadline, then oldest first."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from pipeline.forms.template import DeadlineRule, Template
from pipeline.jp.calendar import add_business_days, business_days_left, jst_date
from pipeline.result import DocumentResult, FieldResult, PageResult, Route
from pipeline.store import Store
from pipeline.store.reviewing import ReviewDesk
from pipeline.store.tables import DocumentRow


def test_golden_week_is_skipped() -> None:
    # 2026-04-28 Tue; 4/29 昭和の日; 5/2-3 weekend; 5/4-5/6 みどりの日, こどもの日, 振替休日
    assert add_business_days(date(2026, 4, 28), 3) == date(2026, 5, 7)
    assert business_days_left(date(2026, 5, 7), date(2026, 4, 28)) == 3
    assert business_days_left(date(2026, 4, 28), date(2026, 5, 7)) == -3
    assert business_days_left(date(2026, 5, 7), date(2026, 5, 7)) == 0
    # 23:30 UTC on 4/27 is already 4/28 in Japan
    assert jst_date(datetime(2026, 4, 27, 23, 30, tzinfo=UTC)) == date(2026, 4, 28)


def test_template_deadline_rule() -> None:
    rule = DeadlineRule.model_validate({"business_days": 10, "from": "received"})
    assert (rule.business_days, rule.from_) == (10, "received")
    with pytest.raises(ValidationError):
        DeadlineRule.model_validate({"business_days": 10, "from": "birthday"})
    with pytest.raises(ValidationError):
        DeadlineRule.model_validate({"business_days": 0})
    assert "deadline" in Template.model_fields


def _doc(store: Store, n: int, form_id: str, received: datetime) -> int:
    f = FieldResult("child_name", "text_ja", "x", "x", 0.5, accepted=False)
    page = PageResult(0, form_id, "1", Route.review, fields=(f,))
    doc_id = store.save_document_result(
        DocumentResult(f"{n:064x}", f"{n}.png", Route.review, (page,)),
        stored_path=None,
        kind="png",
        size_bytes=1,
        page_count=1,
    )
    with store.transaction() as s:
        s.execute(update(DocumentRow).where(DocumentRow.id == doc_id).values(created_at=received))
    return doc_id


def test_queue_by_deadline_then_oldest_first(store: Store) -> None:
    desk = ReviewDesk(store)
    old_plain = _doc(store, 1, "plain", datetime(2026, 4, 1, 1, tzinfo=UTC))
    late = _doc(store, 2, "claim", datetime(2026, 4, 20, 1, tzinfo=UTC))
    soon = _doc(store, 3, "claim", datetime(2026, 4, 28, 1, tzinfo=UTC))
    new_plain = _doc(store, 4, "plain", datetime(2026, 4, 30, 1, tzinfo=UTC))
    assert desk.fill_deadlines({"claim": 3, "urgent": 1}) == 2
    assert desk.fill_deadlines({"claim": 3}) == 0  # set once
    items = desk.queue(user="clerk1")
    assert [i.id for i in items] == [late, soon, old_plain, new_plain]
    assert [i.deadline for i in items[:2]] == [date(2026, 4, 23), date(2026, 5, 7)]
    assert items[2].deadline is None
    assert [i.id for i in desk.queue(user="clerk1", due_by=date(2026, 4, 30))] == [late]
