"""QA sampling: a fixed share of auto-accepted documents goes to the review queue marked QA, and
every field of it must be confirmed before it is accepted; outcomes are stored for the error rate."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.result import Route
from pipeline.store import open_store
from pipeline.store.review_tables import ReviewIncomplete, qa_selected
from pipeline.store.reviewing import ReviewDesk
from tests.review_support import settings_for

pytestmark = pytest.mark.model  # the store is filled once by the real pipeline


def test_share_drawn_is_close_to_the_rate() -> None:
    shas = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(20000)]
    drawn = sum(qa_selected(s, 0.02) for s in shas)
    assert 300 <= drawn <= 500  # 2% of 20000 = 400
    assert not any(qa_selected(s, 0.0) for s in shas[:100])
    assert all(qa_selected(s, 1.0) for s in shas[:100])


def test_auto_accepted_document_sampled_into_review(golden: tuple[Path, Path], tmp_path: Path) -> None:
    src = open_store(settings_for(golden[0], golden[1]))
    doc = src.get_document(src.list_documents(status="review")[0].id)
    src.close()
    # the same reading, as if every field had been sure: the pipeline's route is accepted
    pages = tuple(
        replace(p, route=Route.accepted, fields=tuple(replace(f, accepted=True) for f in p.fields))
        for p in doc.pages
    )
    accepted = replace(doc, route=Route.accepted, pages=pages)

    settings = settings_for(tmp_path / "data", tmp_path / "keys" / "k.key", qa_sample_rate=1.0)
    store = open_store(settings)
    doc_id = store.save_document_result(accepted, stored_path=None, kind="png", size_bytes=1, page_count=1)
    row = store.get_document_row(doc_id)
    assert (row.status, row.qa_sample) == ("review", True)
    review = ReviewDesk(store)
    [item] = review.queue(user="clerk1", reason="qa")
    assert item.id == doc_id and item.to_settle == sum(len(p.fields) for p in pages)
    with pytest.raises(ReviewIncomplete):
        store.set_status(doc_id, "accepted", "clerk1")
    assert review.claim(doc_id, "clerk1", 60).ok
    fields = [(p.index, f) for p in pages for f in p.fields]
    for n, (page, f) in enumerate(fields):
        wrong = n == 0 and f.kind != "my_number"
        action = "qa_correct" if wrong else "qa_confirm"
        value = "修正値" if wrong else f.value
        review.settle_field(
            doc_id, page, f.name, user="clerk1", action=action, value=value, ms_spent=800, keystrokes=1
        )
    review.accept(doc_id, "clerk1")
    assert store.get_document_row(doc_id).status == "accepted"
    checked, wrong = review.qa_outcomes()
    assert (checked, wrong) == (len(fields), 1)

    plain = open_store(settings_for(tmp_path / "data2", tmp_path / "keys" / "k.key"))  # rate 0: no QA
    other = plain.save_document_result(accepted, stored_path=None, kind="png", size_bytes=1, page_count=1)
    assert plain.get_document_row(other).status == "accepted"
    store.close()
    plain.close()
