"""The one Jinja2 environment of the review page (autoescape on for every template) and its filters."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
JST = ZoneInfo("Asia/Tokyo")

STATUS_LABELS = {
    "review": "確認待ち",
    "in_review": "確認中",
    "postponed": "保留",
    "rejected": "差戻し",
    "accepted": "受理",
    "exported": "出力済",
}

env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _filter(name: str):  # noqa: ANN202 - decorator factory
    def register(fn: Any) -> Any:
        if name in env.filters:
            raise RuntimeError(f"template filter {name!r} registered twice")
        env.filters[name] = fn
        return fn

    return register


@_filter("jst")
def jst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(JST).strftime(fmt) if value else ""


@_filter("ymd")
def ymd(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


@_filter("status_ja")
def status_ja(value: str) -> str:
    return STATUS_LABELS.get(value, value)


templates = Jinja2Templates(env=env)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """A page with the base context (the login, its CSRF token) added."""
    login = getattr(request.state, "login", None)
    base = {"login": login, "csrf_token": login.csrf_token if login else ""}
    return templates.TemplateResponse(
        request=request, name=name, context=base | (context or {}), status_code=status
    )
