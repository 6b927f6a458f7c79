"""RPA target: keys records into a legacy web screen (legacy-sim, or a vendor system with the same
flow) with Playwright driving Debian's headless Chromium.

For each record: make sure the session is logged in (log in again when the system timed it out),
open the entry screen, set each input's value directly (`fill` / `select_option`: no IME typing),
go on screen by screen, and on a validation error stop and hand the system's own message back
(`TargetRejected`: the document goes to review with it). On the confirmation page press 登録 and
read the 受付番号; from that click on, any failure means the record may be stored, so it is
`DeliveryUncertain` and the relay reconciles it by searching the 外部参照番号 (our idempotency key)
instead of keying it again. Every delivery keeps a Playwright trace (`traces/<key>_<time>.zip`,
open with `playwright show-trace`) as evidence of what was keyed.

Options: `url`, `user`, `password`, `timeout_ms` (20000), `trace` (true), `trace_dir` (default
`<data_dir>/deliveries/<profile>/traces`), `chromium` ("/usr/bin/chromium").
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline.adapters.base import Adapter, Receipt, Rendered, TargetRejected
from pipeline.adapters.profile import TargetProfile
from pipeline.errors import DeliveryUncertain, TemplateError, TransientError
from pipeline.settings import Settings

log = logging.getLogger("shinsei.delivery.rpa")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_DOWN = (
    "ERR_CONNECTION_REFUSED",
    "ERR_CONNECTION_RESET",
    "ERR_EMPTY_RESPONSE",
    "ERR_CONNECTION_CLOSED",
    "Timeout",
)


class RpaWebAdapter(Adapter):
    kind = "rpa_web"

    def __init__(self, profile: TargetProfile, settings: Settings) -> None:
        super().__init__(profile, settings)
        self.base = str(profile.option("url", "http://127.0.0.1:8800")).rstrip("/")
        self.timeout_ms = int(profile.option("timeout_ms", 20000))
        self._pw: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None
        screens = sorted({c.screen for c in profile.columns})
        self.screens = {s: [c.column for c in profile.columns if c.screen == s] for s in screens}

    # --- browser ---

    @property
    def trace_dir(self) -> Path:
        d = Path(self.profile.option("trace_dir") or Path("deliveries") / self.profile.name / "traces")
        return d if d.is_absolute() else Path(self.settings.data_dir) / d

    def page(self) -> Any:
        if self._page is None:
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(
                executable_path=str(self.profile.option("chromium", "/usr/bin/chromium")),
                args=CHROMIUM_ARGS,
                headless=True,
            )
            self._context = self._browser.new_context(locale="ja-JP")
            self._context.set_default_timeout(self.timeout_ms)
            self._page = self._context.new_page()
        return self._page

    def close(self) -> None:
        for obj, how in ((self._context, "close"), (self._browser, "close"), (self._pw, "stop")):
            if obj is not None:
                try:
                    getattr(obj, how)()
                except Exception:  # the browser may already be gone; nothing to keep
                    log.debug("closing %s failed", type(obj).__name__, exc_info=True)
        self._pw = self._browser = self._context = self._page = None

    def _goto(self, path: str) -> Any:
        """Open `path`, logging in first when the system sends us to its login page."""
        page = self.page()
        for _ in range(2):
            with _unreachable():
                page.goto(self.base + path)
            if "/login" not in page.url:
                return page
            self._login(page)
        raise TransientError(f"{self.name}: still on the login page after logging in")

    def _login(self, page: Any) -> None:
        with _unreachable():
            if "/login" not in page.url:
                page.goto(self.base + "/login")
            page.fill("#user", str(self.profile.option("user", "operator")))
            page.fill("#password", str(self.profile.option("password", "")))
            page.click("#login_button")
            page.wait_for_load_state()
        if "/login" in page.url:
            raise TemplateError(
                f"{self.name}: the legacy system refused the login: {_errors(page) or page.url}"
            )

    # --- contract ---

    def deliver(self, rendered: Rendered) -> Receipt:
        page = self.page()
        trace = self._trace_start(rendered.key)
        try:
            return self._key_in(page, rendered, trace)
        finally:
            self._trace_stop(trace)

    def _key_in(self, page: Any, rendered: Rendered, trace: Path | None) -> Receipt:
        values = rendered.values()
        for restart in range(3):  # a session that times out mid-entry: log in and start again
            self._goto("/entry/1")
            expired = False
            for screen, names in self.screens.items():
                if not page.url.endswith(f"/entry/{screen}"):
                    raise TransientError(f"{self.name}: expected entry screen {screen}, at {page.url}")
                self._fill(page, names, values)
                with _unreachable():
                    page.click("#next")
                    page.wait_for_load_state()
                if "/login" in page.url:
                    expired = True
                    break
                errs = _errors(page)
                if errs:
                    raise TargetRejected(f"送信先 {self.name} の入力エラー: " + " ".join(errs))
            if expired:
                log.info("%s: session expired during entry (restart %d)", self.name, restart + 1)
                continue
            if not page.url.endswith("/entry/confirm"):
                raise TransientError(f"{self.name}: expected the confirmation page, at {page.url}")
            # From the click on, the record may be stored even if we never see the answer.
            try:
                page.click("#register")
                page.wait_for_selector("#uketsuke_no")
                number = page.text_content("#uketsuke_no").strip()
            except Exception as exc:
                raise DeliveryUncertain(
                    f"{self.name}: submitted, no 受付番号 seen ({type(exc).__name__})"
                ) from exc
            if not number:
                raise DeliveryUncertain(f"{self.name}: submitted, empty 受付番号")
            detail = {"受付番号": number}
            if trace is not None:
                detail["trace"] = trace.name
            return Receipt(number, detail)
        raise TransientError(f"{self.name}: the session kept expiring during entry")

    def _fill(self, page: Any, names: list[str], values: dict[str, str]) -> None:
        tags = page.evaluate(
            "ns => ns.map(n => (document.getElementsByName(n)[0] || {}).tagName || null)", names
        )
        missing = [n for n, t in zip(names, tags, strict=True) if t is None]
        if missing:
            raise TemplateError(
                f"{self.name}: the entry screen has no input {', '.join(missing)} (check the profile)"
            )
        for name, tag in zip(names, tags, strict=True):
            sel = f'[name="{name}"]'
            if tag == "SELECT":
                page.select_option(sel, value=values[name])
            else:
                page.fill(sel, values[name])

    def find(self, key: str) -> Receipt | None:
        page = self._goto(f"/search?ext_ref={quote(key)}")
        numbers = [t.strip() for t in page.locator("tr.hit td.no").all_text_contents()]
        if not numbers:
            return None
        if len(numbers) > 1:
            log.error("%s: %d records carry the key %s: %s", self.name, len(numbers), key, ", ".join(numbers))
        return Receipt(
            numbers[0],
            {"受付番号": numbers[0], "duplicates": numbers[1:]}
            if len(numbers) > 1
            else {"受付番号": numbers[0]},
        )

    def read_back(self, receipt: Receipt) -> dict[str, str] | None:
        page = self._goto(f"/detail/{quote(receipt.ref)}")
        if page.locator("#detail").count() == 0:
            return None
        cells = page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('td[id^=f_]')].map(td => [td.id.slice(2), td.textContent]))"
        )
        return {str(k): str(v) for k, v in cells.items()}

    # --- evidence ---

    def _trace_start(self, key: str) -> Path | None:
        if not self.profile.option("trace", True):
            return None
        self.page()
        self.trace_dir.mkdir(parents=True, exist_ok=True)
        path = (
            self.trace_dir / f"{key}_{time.strftime('%Y%m%dT%H%M%S')}_{time.monotonic_ns() % 10**6:06d}.zip"
        )
        self._context.tracing.start(screenshots=True, snapshots=True, title=key)
        return path

    def _trace_stop(self, path: Path | None) -> None:
        if path is None or self._context is None:
            return
        try:
            self._context.tracing.stop(path=str(path))
        except Exception:  # a dead browser leaves no trace to save; the delivery outcome stands
            log.warning("%s: could not save the trace %s", self.name, path.name, exc_info=True)


def _errors(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".error").all_text_contents() if t.strip()]


class _unreachable:
    """Playwright errors that mean the system did not answer (down, refused, timed out) → TransientError."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        from playwright.sync_api import Error as PlaywrightError

        if isinstance(exc, PlaywrightError):
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if any(m in str(exc) for m in _DOWN):
                raise TransientError(f"legacy system unreachable: {text}") from exc
        return False
