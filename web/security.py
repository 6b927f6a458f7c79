"""Logins, roles and CSRF for the review page.

Passwords are argon2id hashes (argon2-cffi). A login is a random token in an HttpOnly, SameSite=Lax
cookie (Secure when `Settings.cookie_secure`); the database keeps only its SHA-256. Every POST
carries the login's CSRF token (form field `csrf_token` or header `X-CSRF-Token`) and is refused
with 403 when it is missing or wrong. `require_role(...)` is the FastAPI dependency each route
declares. Failed logins are limited per name and per client address.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request

from pipeline.store.reviewing import LoginSession

SESSION_COOKIE = "shinsei_session"
LOGIN_CSRF_COOKIE = "shinsei_login_csrf"
CSRF_HEADER = "x-csrf-token"
RATE_WINDOW_S = 300.0

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


class NotLoggedIn(Exception):
    """No valid login: GET pages redirect to the login page, other requests get 401."""


class LoginLimiter:
    """At most `max_failures` failed logins per key (name, address) in a sliding window."""

    def __init__(self, max_failures: int, window_s: float = RATE_WINDOW_S) -> None:
        self.max_failures, self.window_s = max_failures, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                q = self._failures.get(k)
                while q and q[0] < now - self.window_s:
                    q.popleft()
                if q and len(q) >= self.max_failures:
                    return True
        return False

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._failures.setdefault(k, deque()).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)


def current_login(request: Request) -> LoginSession:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotLoggedIn()
    login = request.app.state.review.session_of(token)
    if login is None:
        raise NotLoggedIn()
    request.state.login = login
    return login


async def csrf_protect(request: Request, login: LoginSession = Depends(current_login)) -> LoginSession:
    """Every state-changing request must carry this login's CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, login.csrf_token):
        raise HTTPException(
            status_code=403, detail="CSRFトークンがないか、正しくありません。画面を読み込み直してください。"
        )
    return login


def require_role(*roles: str, write: bool = False) -> Callable[..., LoginSession]:
    """A dependency: the login, when its role is one of `roles` (else 403). `write=True` also
    checks the CSRF token."""
    base = csrf_protect if write else current_login

    def dep(login: LoginSession = Depends(base)) -> LoginSession:
        if login.user.role not in roles:
            raise HTTPException(status_code=403, detail="この操作を行う権限がありません。")
        return login

    return dep


ANY_ROLE = ("reviewer", "supervisor", "admin")
REVEAL_ROLES = ("supervisor", "admin")
