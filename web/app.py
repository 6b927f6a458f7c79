"""The review web application: factory, middleware and error pages.

    app = create_app(settings)      # uvicorn web.app:app, or `shinsei serve`

It opens the same store as the pipeline (`Settings.database_url`, SQLite under data_dir by default)
with 個人番号 encryption installed, and renders `errors/error.html` for 403/404/409 and the like.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.settings import Settings, get_settings
from pipeline.store import RecordNotFound, open_store
from pipeline.store.review_tables import ReviewIncomplete
from pipeline.store.reviewing import ClaimLost, ReviewDesk
from web.routers import audit, auth, documents, fields, queue
from web.security import LoginLimiter, NotLoggedIn
from web.templates import render

log = logging.getLogger("shinsei.web")
STATIC_DIR = Path(__file__).resolve().parent / "static"

ERROR_TITLES = {
    400: "入力が正しくありません",
    401: "ログインが必要です",
    403: "権限がありません",
    404: "見つかりません",
    409: "他の職員が作業中です",
    422: "入力が正しくありません",
    429: "しばらくお待ちください",
}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.headers.get(
        "content-type", ""
    ).startswith("application/json")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"ok": False, "error": message}, status_code=status)
    title = ERROR_TITLES.get(status, "エラー")
    return render(
        request, "errors/error.html", {"status": status, "title": title, "message": message}, status
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="shinsei review", docs_url=None, redoc_url=None, openapi_url=None)
    store = open_store(settings)
    app.state.settings = settings
    app.state.store = store
    app.state.review = ReviewDesk(store)
    app.state.limiter = LoginLimiter(settings.login_max_failures)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for r in (auth.router, queue.router, documents.router, fields.router, audit.router):
        app.include_router(r)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, _exc: NotLoggedIn) -> Response:
        if request.method == "GET" and not _wants_json(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return _error(request, 401, "ログインしてください。")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else ""
        if exc.status_code == 404 and not message or message == "Not Found":
            message = "お探しのページまたは書類はありません。"
        return _error(request, exc.status_code, message)

    @app.exception_handler(RecordNotFound)
    async def not_found(request: Request, _exc: RecordNotFound) -> Response:
        return _error(request, 404, "お探しの書類または項目はありません。")

    @app.exception_handler(ClaimLost)
    async def claim_lost(request: Request, exc: ClaimLost) -> Response:
        who = f"（{exc.holder}）" if exc.holder else ""
        return _error(
            request, 409, f"この書類は開いていないか、他の職員{who}が作業中です。一覧から開き直してください。"
        )

    @app.exception_handler(ReviewIncomplete)
    async def incomplete(request: Request, exc: ReviewIncomplete) -> Response:
        return _error(
            request, 409, f"確認の済んでいない項目が {len(exc.fields)} 件あります。受理できません。"
        )

    _ = HTTPException  # re-exported for routers' convenience
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn web.app:app_from_env --factory`."""
    return create_app(get_settings())
