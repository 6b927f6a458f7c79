"""Fixtures for the review page in real headless Chromium (Debian `chromium` through Playwright,
never a downloaded browser): a real app on a copy of a store the real pipeline filled once per
session, served by uvicorn on a free port in 8700-8749, and a logged-in page per clerk."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.review_support import PASSWORD, build_golden, copy_data, settings_for

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PORTS = range(8700, 8750)  # this project's share of ports on the shared machine
USERS = (("clerk1", "reviewer"), ("clerk2", "reviewer"), ("boss", "supervisor"))


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8700-8749")


@pytest.fixture(scope="session")
def e2e_golden(engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install -y chromium", pytrace=False)
    return build_golden(engine, tmp_path_factory.mktemp("e2e-golden"))


def serve(
    golden: tuple[Path, Path], base: Path, prepare: Callable[[Any], None] | None = None
) -> Iterator[tuple[str, Any]]:
    """Serve a fresh copy of the golden store; `prepare(store)` may change it first."""
    from web.app import create_app
    from web.security import hash_password

    settings = settings_for(copy_data(golden[0], base / "data"), golden[1])
    app = create_app(settings)
    if prepare is not None:
        prepare(app.state.store)
    for name, role in USERS:
        app.state.review.add_user(name, role, hash_password(PASSWORD))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", settings
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        app.state.store.close()


@pytest.fixture(scope="module")
def server(e2e_golden, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    yield from serve(e2e_golden, tmp_path_factory.mktemp("e2e"))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def login(browser: Any, url: str, name: str) -> Any:
    """A new browser context logged in as `name` by keyboard; returns the page (on the queue)."""
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP").new_page()
    page.goto(url + "/")
    # Chromium applies `autofocus` at a rendering update, which can come after the load event:
    # wait for it rather than type into nothing (the clerk's name box must get the focus itself)
    page.wait_for_function("document.activeElement && document.activeElement.name === 'name'")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/")
    # the same for the queue's 次の書類を開く: a test that presses Enter at once must not press
    # it into a page whose autofocus has not been applied yet (seen in CI on a busy machine)
    page.wait_for_function(
        "() => { const a = document.querySelector('[autofocus]');"
        " return !a || document.activeElement === a; }"
    )
    return page
