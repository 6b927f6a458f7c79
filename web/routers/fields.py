"""Field queues: work fields without opening their documents.

`/fields` is field verification across documents: the flagged fields that can be judged from their
crop alone, the same printed field of one document after another (every 電話番号, then every 住所),
each with the machine's value, its uncertain characters marked and the reason in words; Enter
confirms, typing replaces, Tab moves on. A 個人番号 is keyed blind there, as its first keying.
`/second` lists the 個人番号 (and other `review: double` fields) keyed once by another clerk; this
clerk keys them one after another, blind, from the crops. `/groups` shows flagged fields of
closed-list kinds (tick boxes, circled options, signatures) that the machine read as the same
value in one grid; the clerk types the right value into the odd crop and one Enter confirms the
rest. Both settle fields through the store's rules (two people for a double field), and a
document whose last open field is settled here, with its cross-field rules passing, is accepted.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from pipeline.store.review import DoubleEntryRefused, needs_two
from pipeline.store.reviewing import FieldTask, LoginSession, ReviewDesk
from web.review import (
    HINTS,
    MY_NUMBER,
    applied_threshold,
    check_value,
    document_cross_errors,
    reason_words,
    show,
    template_for,
)
from web.routers.documents import FieldPost
from web.security import ANY_ROLE, require_role
from web.templates import render

router = APIRouter(tags=["field queues"])


def _review(request: Request) -> ReviewDesk:
    return request.app.state.review


def _label(request: Request, t: FieldTask) -> str:
    settings = request.app.state.settings
    tpl = template_for(settings, t.form_id, None)
    spec = next((s for s in tpl.fields if s.name == t.name), None) if tpl else None
    return spec.label if spec else t.name


def _cells(request: Request, tasks: list[FieldTask]) -> list[dict[str, Any]]:
    return [
        {
            "doc": t.document_id,
            "page": t.page_index,
            "name": t.name,
            "label": _label(request, t),
            "source": t.source_name,
            "shown": "" if t.kind == MY_NUMBER else show(t.value),
            "hint": HINTS.get(t.kind, ""),
            "first_by": t.first_by,
        }
        for t in tasks
    ]


def _verify_cells(request: Request, tasks: list[FieldTask]) -> list[dict[str, Any]]:
    settings = request.app.state.settings
    out = []
    for t, cell in zip(tasks, _cells(request, tasks), strict=True):
        tpl = template_for(settings, t.form_id, None)
        spec = next((s for s in tpl.fields if s.name == t.name), None) if tpl else None
        limit = applied_threshold(t, spec, settings)
        blind = t.kind == MY_NUMBER or (spec is not None and spec.review == "double")
        cell |= {
            "blind": blind,
            "chars": [(c, p < limit) for c, p in t.chars],
            "reasons": reason_words(t, spec, settings),
        }
        if blind:
            cell["shown"] = ""
        out.append(cell)
    return out


@router.get("/fields")
def fields_page(request: Request, login: LoginSession = Depends(require_role(*ANY_ROLE))) -> Response:
    tasks = _review(request).field_tasks(login.user.name)
    if tasks:
        request.app.state.store.audit(
            login.user.name,
            "view_field_queue",
            detail={"via": "web", "documents": sorted({t.document_id for t in tasks}), "fields": len(tasks)},
            my_number_accessed=any(t.kind == MY_NUMBER for t in tasks),  # their crops are shown
        )
    return render(request, "fields.html", {"cells": _verify_cells(request, tasks)})


@router.get("/second")
def second_page(request: Request, login: LoginSession = Depends(require_role(*ANY_ROLE))) -> Response:
    tasks = _review(request).second_entries(login.user.name)
    request.app.state.store.audit(
        login.user.name,
        "view_second_entry",
        detail={"via": "web", "documents": sorted({t.document_id for t in tasks}), "fields": len(tasks)},
        my_number_accessed=any(t.kind == MY_NUMBER for t in tasks),  # their crops are shown
    )
    return render(request, "second.html", {"cells": _cells(request, tasks)})


@router.get("/groups")
def groups_page(request: Request, login: LoginSession = Depends(require_role(*ANY_ROLE))) -> Response:
    groups = _review(request).groups(login.user.name)
    group = groups[0] if groups else []
    if group:
        request.app.state.store.audit(
            login.user.name,
            "view_group",
            detail={"via": "web", "field": group[0].name, "documents": [t.document_id for t in group]},
        )
    return render(
        request,
        "groups.html",
        {
            "cells": _cells(request, group),
            "label": _label(request, group[0]) if group else "",
            "value": show(group[0].value) if group else "",
            "more": max(0, len(groups) - 1),
        },
    )


def _settle_one(
    request: Request,
    login: LoginSession,
    doc_id: int,
    page: int,
    name: str,
    value: str | None,
    body: FieldPost,
) -> dict[str, Any]:
    review, settings = _review(request), request.app.state.settings
    doc = review.load(doc_id)
    f = next((x for p in doc.pages if p.index == page for x in p.fields if x.name == name), None)
    if f is None:
        raise HTTPException(404, "この項目はありません。")
    common = {
        "user": login.user.name,
        "ms_spent": body.ms,
        "keystrokes": body.keys,
        "claimed": False,
    }
    if f.corrected_at is not None and value is None:
        return {"ok": True, "outcome": "already", "accepted": False}  # settled meanwhile
    if value is None:
        if needs_two(f):
            raise HTTPException(422, "この項目は画像を見て入力してください（確定だけはできません）。")
        action = "qa_confirm" if doc.qa_sample else "confirm"
        note = "field queue" if body.via == "field" else "group"
        review.settle_field(doc_id, page, name, action=action, value=f.value, note=note, **common)
        outcome = "confirmed"
    else:
        checked = check_value(doc, page, name, value, settings)
        if checked.field_issues:
            return {"ok": False, "error": " / ".join(checked.field_issues)}
        action = "correct" if checked.value != f.value else "confirm"
        if doc.qa_sample:
            action = "qa_" + action
        try:
            keying = review.settle_field(
                doc_id, page, name, action=action, value=checked.value, note="queue", **common
            )
        except DoubleEntryRefused as exc:
            raise HTTPException(403 if "監督者" in exc.message else 409, exc.message) from exc
        outcome = keying.outcome if keying else "corrected"
    accepted = False
    if not review.unsettled(doc_id) and not document_cross_errors(review.load(doc_id), settings):
        accepted = review.accept_settled(doc_id, login.user.name, "field queue: last field settled")
    return {"ok": True, "outcome": outcome, "accepted": accepted}


@router.post("/tasks/{doc_id}/{page}/{name}")
def settle_task(
    request: Request,
    doc_id: int,
    page: int,
    name: str,
    body: FieldPost,
    login: LoginSession = Depends(require_role(*ANY_ROLE, write=True)),
) -> Response:
    """One field from a field queue: a second keying, or a grid cell corrected in place."""
    answer = _settle_one(request, login, doc_id, page, name, body.value, body)
    messages = {
        "first": "1人目の入力を記録しました",
        "matched": "2人の入力が一致しました",
        "mismatch": "1人目の入力と一致しません。監督者の確認に回します。",
        "resolved": "監督者として確定しました",
        "corrected": "修正しました",
        "confirmed": "確定しました",
        "already": "ほかの職員が確定済みです",
    }
    if answer["ok"]:
        answer["message"] = messages[answer["outcome"]] + (
            "（書類を受理しました）" if answer["accepted"] else ""
        )
    return JSONResponse(answer, status_code=200 if answer["ok"] else 422)


class GroupPost(BaseModel):
    cells: list[tuple[int, int, str]] = Field(min_length=1, max_length=500)
    ms: int | None = Field(default=None, ge=0, le=3_600_000)
    keys: int | None = Field(default=None, ge=0, le=100_000)


@router.post("/groups/confirm")
def confirm_group(
    request: Request, body: GroupPost, login: LoginSession = Depends(require_role(*ANY_ROLE, write=True))
) -> Response:
    """One keypress: every cell of the grid not corrected is confirmed as the machine read it."""
    per = FieldPost(ms=(body.ms // len(body.cells)) if body.ms else None, keys=None)
    done = [_settle_one(request, login, d, p, n, None, per) for d, p, n in body.cells]
    return JSONResponse(
        {
            "ok": True,
            "confirmed": len(done),
            "accepted": sum(1 for a in done if a["accepted"]),
            "message": f"{len(done)} 項目を確定しました",
        }
    )
