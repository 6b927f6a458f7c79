"""The review page in real headless Chromium (Debian `chromium`, Playwright), keyboard only:
log in, settle a real document's flagged fields, hand the 個人番号 to a second clerk who keys it
blind, accept with Enter, and find the record in `shinsei export`."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.review_support import PASSWORD, build_golden, copy_data, my_numbers, settings_for

pytestmark = pytest.mark.model  # the store is filled once by the real pipeline

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PORTS = range(8700, 8750)  # this project's share of ports on the shared machine
SHOTS = os.environ.get("SHINSEI_SCREENSHOT_DIR")


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8700-8749")


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install -y chromium", pytrace=False)
    from web.app import create_app
    from web.security import hash_password

    base = tmp_path_factory.mktemp("e2e")
    golden, key = build_golden(engine, base)
    settings = settings_for(copy_data(golden, base / "data"), key)
    app = create_app(settings)
    for name, role in (("clerk1", "reviewer"), ("clerk2", "reviewer")):
        app.state.review.add_user(name, role, hash_password(PASSWORD))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", settings
    srv.should_exit = True
    thread.join(timeout=10)
    app.state.store.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _login(browser, url: str, name: str):
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP").new_page()
    page.goto(url + "/")
    page.keyboard.type(name)  # the name box has focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/")
    return page


def _settle_open_fields(page, number: str | None) -> int:
    """Press Enter on each open field (typing the 個人番号 where asked); returns keystrokes."""
    keys = 0
    for _ in range(40):
        active = page.locator("section.field.active")
        if active.count() == 0 or "settled" in (active.get_attribute("class") or ""):
            break
        if "waiting" in (active.get_attribute("class") or ""):
            break
        if active.get_attribute("data-double") == "1":
            if number is None:
                break
            page.keyboard.type(number)
            keys += len(number)
        before = page.locator("section.field.settled, section.field.waiting").count()
        page.keyboard.press("Enter")
        keys += 1
        page.wait_for_function(
            "n => document.querySelectorAll('section.field.settled, section.field.waiting').length > n",
            arg=before,
        )
    return keys


def test_keyboard_only_review_double_entry_accept_and_export(server, browser, tmp_path: Path) -> None:
    url, settings = server
    number = my_numbers()[0]
    c1 = _login(browser, url, "clerk1")
    c1.keyboard.press("Enter")  # 次の書類を開く has focus
    c1.wait_for_url(f"{url}/documents/*")
    doc_url = c1.url
    assert c1.locator("section.field").count() >= 2
    assert number not in c1.content()
    if SHOTS:
        c1.screenshot(path=str(Path(SHOTS) / "review-document.png"))
    c1.keyboard.press("F4")  # whole page with the box highlighted
    c1.wait_for_selector("#pageview:not([hidden]) img")
    c1.wait_for_function("document.querySelector('#pageview img').naturalWidth > 0")
    c1.keyboard.press("Escape")
    _settle_open_fields(c1, number)
    # only the 個人番号 (keyed once, by clerk1) is left: Enter hands the document on
    assert c1.locator("section.field.waiting").count() == 1
    assert c1.evaluate("document.activeElement.id") == "release-btn"
    c1.keyboard.press("Enter")
    c1.wait_for_url(lambda u: u != doc_url)

    c2 = _login(browser, url, "clerk2")
    c2.goto(doc_url)
    assert number not in c2.content()  # blind: the first entry is not shown
    _settle_open_fields(c2, number)
    assert c2.evaluate("document.activeElement.id") == "accept-btn"
    c2.keyboard.press("Enter")
    c2.wait_for_url(lambda u: u != doc_url)
    doc_id = int(doc_url.rsplit("/", 1)[1])

    out = tmp_path / "export.csv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHINSEI_")}
    env |= {
        "SHINSEI_DATA_DIR": str(settings.data_dir),
        "SHINSEI_MY_NUMBER_KEY_FILE": str(settings.my_number_key_file),
    }
    subprocess.run(
        [sys.executable, "-m", "pipeline.cli.main", "export", "--csv", str(out)], env=env, check=True
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [int(r["document_id"]) for r in rows] == [doc_id]
    assert rows[0]["child_my_number"].endswith(number[-4:]) and number not in out.read_text(
        encoding="utf-8-sig"
    )


def test_reject_with_reason_by_keyboard(server, browser) -> None:
    url, _settings = server
    page = _login(browser, url, "clerk1")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/documents/*")
    doc_url = page.url
    page.keyboard.press("F9")
    page.keyboard.type("申請者の署名がない")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: u != doc_url)
    page.goto(url + "/")
    assert doc_url.rsplit("/", 1)[1] not in [a.inner_text() for a in page.locator("table.queue a").all()]
