"""The review queue: counts, filters (form, reason, age, deadline), by deadline then oldest first; `/next`
opens the next document the user may take; `/stats` shows productivity and the QA error rate."""

from __future__ import annotations

import math
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.jp.calendar import add_business_days, business_days_left
from pipeline.store.reviewing import LoginSession
from web.review import deadline_rules, form_titles
from web.security import ANY_ROLE, REVEAL_ROLES, require_role
from web.templates import JST, render

router = APIRouter(tags=["queue"])

REASONS = {
    "": "すべて",
    "fields": "要確認項目",
    "qa": "抜き取り検査（QA）",
    "mismatch": "2人入力の不一致",
    "postponed": "保留",
}


@router.get("/")
def queue_page(
    request: Request,
    form: str = "",
    reason: str = "",
    age: int = 0,
    due: int = -1,
    login: LoginSession = Depends(require_role(*ANY_ROLE)),
) -> Response:
    review = request.app.state.review
    review.fill_deadlines(deadline_rules(request.app.state.settings))
    today = datetime.now(JST).date()
    items = review.queue(
        user=login.user.name,
        form_id=form or None,
        reason=reason or None,
        older_than_days=age or None,
        due_by=add_business_days(today, due) if due >= 0 else None,
    )
    days = {i.id: business_days_left(i.deadline, today) for i in items if i.deadline}
    return render(
        request,
        "queue.html",
        {
            "items": items,
            "counts": review.queue_counts(),
            "forms": review.forms_in_queue(),
            "titles": form_titles(request.app.state.settings),
            "reasons": REASONS,
            "f": {"form": form, "reason": reason, "age": age, "due": due},
            "days_left": days,
            "today": today,
        },
    )


@router.get("/next")
def next_document(
    request: Request, after: int | None = None, login: LoginSession = Depends(require_role(*ANY_ROLE))
) -> Response:
    request.app.state.review.fill_deadlines(deadline_rules(request.app.state.settings))
    nxt = request.app.state.review.next_in_queue(
        login.user.name, after, include_mismatch=login.user.role in REVEAL_ROLES
    )
    return RedirectResponse(f"/documents/{nxt}" if nxt else "/?done=1", status_code=303)


@router.get("/stats")
def stats(request: Request, login: LoginSession = Depends(require_role("supervisor", "admin"))) -> Response:
    review = request.app.state.review
    checked, wrong = review.qa_outcomes()
    rate = wrong / checked if checked else None
    ci = _wilson(wrong, checked) if checked else None
    return render(request, "stats.html", {"rows": review.productivity(), "qa": (checked, wrong, rate, ci)})


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of k errors in n QA-checked fields."""
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)
