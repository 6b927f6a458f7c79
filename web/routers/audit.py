"""Supervisors search the hash-chained audit log (who viewed, revealed, edited, accepted, exported)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pipeline.store.reviewing import LoginSession
from web.security import require_role
from web.templates import render

router = APIRouter(tags=["audit"])


@router.get("/audit")
def audit_page(
    request: Request,
    actor: str = "",
    action: str = "",
    document: str = "",
    my_number: int = 0,
    login: LoginSession = Depends(require_role("supervisor", "admin")),
) -> Response:
    store = request.app.state.store
    doc_id = int(document) if document.strip().isdigit() else None
    rows = request.app.state.review.audit(
        actor=actor or None, action=action or None, document_id=doc_id, my_number_only=bool(my_number)
    )
    store.audit(
        login.user.name, "audit_search", detail={"actor": actor, "action": action, "document": document}
    )
    return render(
        request,
        "audit.html",
        {
            "rows": rows,
            "chain_ok": store.verify_audit_chain(),
            "f": {"actor": actor, "action": action, "document": document, "my_number": my_number},
        },
    )
