"""One document: open (claim with a lease), show the flagged fields, settle each one, postpone,
reject with a reason, accept; crops and the whole page with the field's box; reveal a 個人番号.

Every view, reveal, edit, accept and reject is written to the hash-chained audit log. Field posts
are JSON (the page's script sends them with the CSRF header) and answer with what changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from pipeline import ingest
from pipeline.store.crypto import cipher_of
from pipeline.store.review import DoubleEntryRefused, needs_two
from pipeline.store.reviewing import LoginSession, ReviewDesk
from pipeline.store.tables import DocumentRow
from web.review import MY_NUMBER, check_value, document_cross_errors, field_views, show, template_for
from web.security import ANY_ROLE, REVEAL_ROLES, SESSION_COOKIE, require_role
from web.templates import render

router = APIRouter(prefix="/documents", tags=["documents"])


def _review(request: Request) -> ReviewDesk:
    return request.app.state.review


def _double_entries(
    review: ReviewDesk, doc_id: int, clear: bool
) -> dict[tuple[int, str], list[tuple[str, str, Any]]]:
    out: dict[tuple[int, str], list[tuple[str, str, Any]]] = {}
    for ev in review.events(doc_id):
        if ev.action not in ("double_entry", "double_mismatch", "supervisor_resolve"):
            continue
        tag = "double_entry_first" if ev.action == "double_entry" and ev.note == "first" else ev.action
        value = review.reveal(ev.kind, ev.final_value) if clear else None
        out.setdefault((ev.page_index or 0, ev.field_name or ""), []).append((ev.actor, tag, value))
    return out


@router.get("/{doc_id}")
def document_page(
    request: Request, doc_id: int, login: LoginSession = Depends(require_role(*ANY_ROLE))
) -> Response:
    review, settings = _review(request), request.app.state.settings
    claim = review.claim(doc_id, login.user.name, settings.review_lease_s)
    if not claim.ok:
        if claim.held_by:
            raise HTTPException(
                409, f"この書類は {claim.held_by} さんが確認中です（{claim.until:%H:%M} UTC まで）。"
            )
        raise HTTPException(409, f"この書類は確認待ちではありません（状態: {claim.status}）。")
    doc = review.load(doc_id)
    supervisor = login.user.role in REVEAL_ROLES
    views = field_views(
        doc, settings, login.revealed, _double_entries(review, doc_id, supervisor), supervisor=supervisor
    )
    request.app.state.store.audit(
        login.user.name, "view", document_id=doc_id, detail={"via": "web", "fields_shown": len(views)}
    )
    return render(
        request,
        "document.html",
        {
            "doc": doc,
            "fields": views,
            "supervisor": supervisor,
            "cross": document_cross_errors(doc, settings),
            "lease_until": claim.until,
            "title": _title(request, doc),
        },
    )


def _title(request: Request, doc: DocumentRow) -> str:
    page = next((p for p in doc.pages if p.form_id), None)
    tpl = template_for(request.app.state.settings, page.form_id, page.form_version) if page else None
    return tpl.title if tpl else "（様式不明）"


class FieldPost(BaseModel):
    value: str | None = Field(default=None, max_length=2000)  # None: confirm the machine's value
    ms: int | None = Field(default=None, ge=0, le=3_600_000)
    keys: int | None = Field(default=None, ge=0, le=100_000)
    via: Literal["second", "group", "field"] | None = None  # which field queue sent it


@router.post("/{doc_id}/fields/{page}/{name}")
def settle(
    request: Request,
    doc_id: int,
    page: int,
    name: str,
    body: FieldPost,
    login: LoginSession = Depends(require_role(*ANY_ROLE, write=True)),
) -> Response:
    review, settings = _review(request), request.app.state.settings
    user = login.user.name
    doc = review.load(doc_id)
    pg = next((p for p in doc.pages if p.index == page), None)
    f = next((x for x in pg.fields if x.name == name), None) if pg else None
    if pg is None or f is None:
        raise HTTPException(404, "この項目はありません。")
    double = needs_two(f)
    common = {"user": user, "ms_spent": body.ms, "keystrokes": body.keys, "lease_s": settings.review_lease_s}
    if body.value is None:
        if double:
            return JSONResponse(
                {"ok": False, "error": "この項目は画像を見て入力してください（確定だけはできません）。"}, 422
            )
        action = "qa_confirm" if doc.qa_sample else "confirm"
        review.settle_field(doc_id, page, name, action=action, value=f.value, **common)
        return _answer(request, doc_id, page, name, "確定しました")
    checked = check_value(doc, page, name, body.value, settings)
    if checked.field_issues:
        return JSONResponse({"ok": False, "error": " / ".join(checked.field_issues)}, 422)
    if double:
        return _double(request, review, doc_id, page, name, checked.value, login, common)
    action = (
        "qa_correct"
        if doc.qa_sample and checked.value != f.value
        else ("qa_confirm" if doc.qa_sample else "correct")
    )
    if not doc.qa_sample and checked.value == f.value:
        action = "confirm"
    review.settle_field(doc_id, page, name, action=action, value=checked.value, **common)
    return _answer(
        request, doc_id, page, name, "修正しました" if action.endswith("correct") else "確定しました"
    )


def _double(
    request: Request,
    review: ReviewDesk,
    doc_id: int,
    page: int,
    name: str,
    value: Any,
    login: LoginSession,
    common: dict[str, Any],
) -> Response:
    """Blind two-person keying. The store decides (`review.double_entry_step`): the first entry
    waits; a second by another user must match; a mismatch goes to a supervisor, who settles it."""
    try:
        keying = review.settle_field(doc_id, page, name, action="double_entry", value=value, **common)
    except DoubleEntryRefused as exc:
        raise HTTPException(403 if "監督者" in exc.message else 409, exc.message) from exc
    if keying is None:  # not a double-entry field after all (stored before the template said so)
        return _answer(request, doc_id, page, name, "確定しました")
    message, flags = {
        "first": ("1人目の入力を記録しました。別の職員の入力を待ちます。", {"waiting": True}),
        "matched": ("2人の入力が一致しました", {}),
        "mismatch": ("1人目の入力と一致しません。監督者の確認に回します。", {"mismatch": True}),
        "resolved": ("監督者として確定しました", {}),
    }[keying.outcome]
    return _answer(request, doc_id, page, name, message, **flags)


def _answer(request: Request, doc_id: int, page: int, name: str, message: str, **flags: bool) -> Response:
    review, settings = _review(request), request.app.state.settings
    doc = review.load(doc_id)
    f = next(x for p in doc.pages if p.index == page for x in p.fields if x.name == name)
    settled = f.corrected_at is not None
    shown = show(f.corrected_value) if settled and f.kind != MY_NUMBER else ("入力済" if settled else "")
    return JSONResponse(
        {
            "ok": True,
            "message": message,
            "settled": settled,
            "shown": shown,
            "cross": document_cross_errors(doc, settings),
            "left": len(review.unsettled(doc_id)),
            **flags,
        }
    )


@router.post("/{doc_id}/accept")
def accept(
    request: Request,
    doc_id: int,
    ms: int | None = Form(None),
    login: LoginSession = Depends(require_role(*ANY_ROLE, write=True)),
) -> Response:
    review = _review(request)
    cross = document_cross_errors(review.load(doc_id), request.app.state.settings)
    if cross:
        raise HTTPException(
            409, "項目間の規則に合わない値があります: " + " / ".join(cross) + "（差戻しにしてください）"
        )
    review.accept(doc_id, login.user.name, ms_spent=ms)  # refuses while a flagged field is unsettled
    return RedirectResponse(f"/next?after={doc_id}", status_code=303)


@router.post("/{doc_id}/postpone")
def postpone(
    request: Request,
    doc_id: int,
    note: str = Form(""),
    login: LoginSession = Depends(require_role(*ANY_ROLE, write=True)),
) -> Response:
    _review(request).postpone(doc_id, login.user.name, note[:500] or None)
    return RedirectResponse(f"/next?after={doc_id}", status_code=303)


@router.post("/{doc_id}/reject")
def reject(
    request: Request,
    doc_id: int,
    reason: str = Form(""),
    login: LoginSession = Depends(require_role(*ANY_ROLE, write=True)),
) -> Response:
    if not reason.strip():
        raise HTTPException(422, "差戻しの理由を入力してください。")
    _review(request).reject(doc_id, login.user.name, reason.strip()[:500])
    return RedirectResponse(f"/next?after={doc_id}", status_code=303)


@router.post("/{doc_id}/release")
def release(
    request: Request, doc_id: int, login: LoginSession = Depends(require_role(*ANY_ROLE, write=True))
) -> Response:
    _review(request).release(doc_id, login.user.name)
    return RedirectResponse(f"/next?after={doc_id}", status_code=303)


@router.post("/{doc_id}/reveal/{page}/{name}")
def reveal(
    request: Request,
    doc_id: int,
    page: int,
    name: str,
    login: LoginSession = Depends(require_role(*REVEAL_ROLES, write=True)),
) -> Response:
    doc = _review(request).load(doc_id)
    f = next((x for p in doc.pages if p.index == page for x in p.fields if x.name == name), None)
    if f is None or f.kind != MY_NUMBER:
        raise HTTPException(404, "この項目はありません。")
    _review(request).grant_reveal(
        request.cookies.get(SESSION_COOKIE, ""), login.user.name, doc_id, page, name
    )
    return RedirectResponse(f"/documents/{doc_id}#f-{page}-{name}", status_code=303)


@router.get("/{doc_id}/crop/{page}/{name}")
def crop(
    request: Request,
    doc_id: int,
    page: int,
    name: str,
    login: LoginSession = Depends(require_role(*ANY_ROLE)),
) -> Response:
    doc = _review(request).load(doc_id)
    f = next((x for p in doc.pages if p.index == page for x in p.fields if x.name == name), None)
    if f is None or not f.crop_path:
        raise HTTPException(404, "切り出し画像がありません。")
    data_dir = Path(request.app.state.settings.data_dir).resolve()
    path = (data_dir / f.crop_path).resolve()
    if data_dir not in path.parents or not path.exists():
        raise HTTPException(404, "切り出し画像がありません。")
    data = path.read_bytes()
    if path.suffix == ".enc":
        cipher = cipher_of(request.app.state.store.engine)
        if cipher is None:
            raise HTTPException(404, "暗号化された画像を開く鍵がありません。")
        data = cipher.decrypt_bytes(data)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/{doc_id}/pages/{page}.jpg")
def page_image(
    request: Request,
    doc_id: int,
    page: int,
    field: str = "",
    login: LoginSession = Depends(require_role(*ANY_ROLE)),
) -> Response:
    """The whole scanned page, upright, with this field's box drawn (its position on the aligned
    page scaled to the scan; a skewed scan puts it a little off, so it is drawn with a margin)."""
    settings = request.app.state.settings
    doc = _review(request).load(doc_id)
    pg = next((p for p in doc.pages if p.index == page), None)
    if pg is None or not doc.stored_path or not Path(doc.stored_path).exists():
        raise HTTPException(404, "ページの画像がありません。")
    limits = ingest.Limits.from_settings(settings)
    f = ingest.open_file(Path(doc.stored_path), limits)
    image = next((p.image for p in ingest.iter_pages(f, limits) if p.index == page), None)
    if image is None:
        raise HTTPException(404, "ページの画像がありません。")
    rot = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}.get(
        pg.orientation
    )
    if rot is not None:
        image = cv2.rotate(image, rot)
    tpl = template_for(settings, pg.form_id, pg.form_version)
    fr = next((x for x in pg.fields if x.name == field), None)
    if tpl is not None:
        # 個人番号 is read from its own crop only: on the whole page its box is covered (with a
        # margin of 3 mm, since a skewed scan puts the box a little off)
        k = image.shape[1] / (tpl.page.width_mm * settings.work_dpi / 25.4)
        pad = int(3 * settings.work_dpi / 25.4 * k)
        for mn in pg.fields:
            if mn.kind == MY_NUMBER and mn.box_px:
                x, y, w, h = (int(v * k) for v in mn.box_px)
                cv2.rectangle(image, (x - pad, y - pad), (x + w + pad, y + h + pad), (128, 128, 128), -1)
    if tpl is not None and fr is not None and fr.box_px:
        aligned_w = tpl.page.width_mm * settings.work_dpi / 25.4
        k = image.shape[1] / aligned_w
        x, y, w, h = (int(v * k) for v in fr.box_px)
        m = int(4 * k)
        overlay = image.copy()
        cv2.rectangle(overlay, (x - m, y - m), (x + w + m, y + h + m), (0, 200, 255), -1)
        image = cv2.addWeighted(overlay, 0.25, image, 0.75, 0)
        cv2.rectangle(image, (x - m, y - m), (x + w + m, y + h + m), (0, 0, 255), max(2, int(2 * k)))
    scale = min(1.0, 1400 / max(image.shape[:2]))
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise HTTPException(500, "画像を作れませんでした。")
    request.app.state.store.audit(
        login.user.name, "view_page", document_id=doc_id, detail={"page_index": page}
    )
    return Response(buf.tobytes(), media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
