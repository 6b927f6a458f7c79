"""Login and logout. A login form carries a CSRF token of its own (double-submit cookie), since
there is no session yet; failures are rate-limited per name and per client address."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.store.reviewing import LoginSession
from web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    csrf_protect,
    hash_password,
    needs_rehash,
    verify_password,
)
from web.templates import render

router = APIRouter(tags=["auth"])


def _safe_next(value: str | None) -> str:
    # Only a path on this site: never an absolute URL (open redirect).
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


def _login_page(request: Request, next_: str, error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", {"next": next_, "error": error, "login_csrf": token}, status)
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/login",
    )
    return resp


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - query name
    return _login_page(request, _safe_next(next))


@router.post("/login")
def login(
    request: Request,
    name: str = Form(...),
    password: str = Form(...),
    csrf_token: str = Form(""),
    next: str = Form("/"),  # noqa: A002
) -> Response:
    app = request.app
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not cookie or not secrets.compare_digest(csrf_token, cookie):
        return _login_page(
            request, _safe_next(next), "画面を読み込み直してから、もう一度ログインしてください。", 403
        )
    client = request.client.host if request.client else "?"
    keys = (f"name:{name}", f"addr:{client}")
    if app.state.limiter.blocked(*keys):
        app.state.store.audit(name[:128], "login_blocked", detail={"client": client})
        return _login_page(
            request, _safe_next(next), "ログインの失敗が続いたため、5分ほど待ってからお試しください。", 429
        )
    found = app.state.review.user_with_hash(name)
    if found is None or not verify_password(found[1], password):
        app.state.limiter.failed(*keys)
        app.state.store.audit(name[:128], "login_failed", detail={"client": client})
        return _login_page(request, _safe_next(next), "職員名またはパスワードが違います。", 401)
    user, stored = found
    app.state.limiter.succeeded(*keys)
    if needs_rehash(stored):
        app.state.review.set_password_hash(user.id, hash_password(password))
    token, _csrf = app.state.review.create_session(user, app.state.settings.session_hours)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=app.state.settings.cookie_secure,
        max_age=int(app.state.settings.session_hours * 3600),
        path="/",
    )
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(request: Request, login: LoginSession = Depends(csrf_protect)) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    request.app.state.review.end_session(token)
    request.app.state.store.audit(login.user.name, "logout")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
