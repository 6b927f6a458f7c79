"""The legacy-sim web application (stdlib `http.server`, one thread per request, SQLite)."""

from __future__ import annotations

import html
import logging
import random
import re
import secrets
import sqlite3
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("legacy_sim")
CHARSET = "Shift_JIS"
CODEC = "cp932"  # what browsers actually send for a Shift_JIS page (WHATWG shift_jis = Windows-31J)

ERAS = {
    "1": ("明治", 1868),
    "2": ("大正", 1912),
    "3": ("昭和", 1926),
    "4": ("平成", 1989),
    "5": ("令和", 2019),
}
SEX = {"1": "男", "2": "女"}
RELATION = {"01": "父", "02": "母", "99": "その他"}
CARE_NEED = {"1": "標準時間", "2": "短時間"}
REASONS = {"01", "02", "03", "04", "05", "06", "99"}

# (name, label, step); the order of the detail screen.
FIELDS: list[tuple[str, str, int]] = [
    ("ext_ref", "外部参照番号", 1),
    ("child_name", "児童氏名", 1),
    ("child_kana", "児童氏名（カナ）", 1),
    ("sex", "性別", 1),
    ("birth_era", "生年月日（元号）", 1),
    ("birth_yy", "生年月日（年）", 1),
    ("birth_mm", "生年月日（月）", 1),
    ("birth_dd", "生年月日（日）", 1),
    ("guardian_name", "保護者氏名", 1),
    ("relation", "続柄", 1),
    ("zip", "郵便番号", 1),
    ("address", "住所", 1),
    ("tel", "電話番号", 1),
    ("start_era", "利用開始希望日（元号）", 2),
    ("start_yy", "利用開始希望日（年）", 2),
    ("start_mm", "利用開始希望日（月）", 2),
    ("start_dd", "利用開始希望日（日）", 2),
    ("care_need", "保育必要量", 2),
    ("facility_1", "第1希望施設", 2),
    ("reasons", "事由コード", 2),
]
NAMES = [f for f, _, _ in FIELDS]
LABELS = {f: label for f, label, _ in FIELDS}
KATAKANA = re.compile(r"^[ァ-ヶー　 ]+$")
TEL = re.compile(r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$")


@dataclass
class SimConfig:
    db: Path
    user: str = "operator"
    password: str = "legacy"
    session_timeout_s: float = 600.0
    slow_rate: float = 0.0
    slow_s: float = 2.0
    submit_delay_s: float = 0.0
    seed: int | None = None


@dataclass
class Session:
    last_seen: float
    draft: dict[str, str] = field(default_factory=dict)


class Sim:
    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.rng = random.Random(cfg.seed)
        cfg.db.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as c:
            cols = ", ".join(f"{n} TEXT" for n in NAMES)
            c.execute(
                f"CREATE TABLE IF NOT EXISTS applications (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                f"uketsuke_no TEXT UNIQUE, {cols}, created_at TEXT)"
            )
            c.execute("CREATE INDEX IF NOT EXISTS ix_ext_ref ON applications(ext_ref)")

    def connect(self) -> sqlite3.Connection:
        c = sqlite3.connect(self.cfg.db, timeout=30, isolation_level=None)
        c.execute("PRAGMA journal_mode=WAL")
        return c

    def insert(self, values: dict[str, str]) -> str:
        with self.lock, self.connect() as c:
            c.execute("BEGIN IMMEDIATE")
            n = (c.execute("SELECT COALESCE(MAX(id), 0) FROM applications").fetchone()[0] or 0) + 1
            no = f"{date.today().year % 100:02d}-{n:06d}"
            cols = ", ".join(NAMES)
            marks = ", ".join("?" for _ in NAMES)
            c.execute(
                f"INSERT INTO applications (uketsuke_no, {cols}, created_at) VALUES (?, {marks}, datetime('now'))",
                [no, *[values.get(k, "") for k in NAMES]],
            )
            c.execute("COMMIT")
            return no

    def search(self, ext_ref: str, no: str) -> list[dict[str, str]]:
        q, args = "SELECT uketsuke_no, ext_ref, child_name, created_at FROM applications WHERE 1=1", []
        if ext_ref:
            q, args = q + " AND ext_ref = ?", [*args, ext_ref]
        if no:
            q, args = q + " AND uketsuke_no = ?", [*args, no]
        with self.connect() as c:
            rows = c.execute(q + " ORDER BY id LIMIT 100", args).fetchall()
        return [
            dict(zip(("uketsuke_no", "ext_ref", "child_name", "created_at"), r, strict=True)) for r in rows
        ]

    def detail(self, no: str) -> dict[str, str] | None:
        with self.connect() as c:
            row = c.execute(
                f"SELECT uketsuke_no, {', '.join(NAMES)} FROM applications WHERE uketsuke_no = ?", [no]
            ).fetchone()
        return None if row is None else dict(zip(["uketsuke_no", *NAMES], row, strict=True))


def _date_error(values: dict[str, str], prefix: str, label: str) -> str | None:
    era, yy, mm, dd = (values.get(f"{prefix}_{p}", "") for p in ("era", "yy", "mm", "dd"))
    if not (era and yy and mm and dd):
        return f"{label}を入力してください。"
    if era not in ERAS or not (yy.isdigit() and mm.isdigit() and dd.isdigit()):
        return f"{label}の形式が正しくありません。"
    try:
        date(ERAS[era][1] + int(yy) - 1, int(mm), int(dd))
    except ValueError:
        return f"{label}は存在しない日付です。"
    return None


def validate(step: int, v: dict[str, str]) -> list[str]:
    """Server-side checks, messages as the old system words them."""
    errors = []
    for name in (n for n, _, s in FIELDS if s == step):
        if "&#" in v.get(name, ""):
            errors.append(f"{LABELS[name]}に使用できない文字が含まれています。")
    if step == 1:
        for name in ("ext_ref", "child_name", "child_kana", "guardian_name", "address"):
            if not v.get(name, "").strip():
                errors.append(f"{LABELS[name]}を入力してください。")
        if v.get("child_name") and len(v["child_name"]) > 20:
            errors.append("児童氏名は20文字以内で入力してください。")
        if v.get("child_kana") and not KATAKANA.match(v["child_kana"]):
            errors.append("児童氏名（カナ）は全角カタカナで入力してください。")
        if v.get("sex") not in SEX:
            errors.append("性別を選択してください。")
        if v.get("relation") not in RELATION:
            errors.append("続柄を選択してください。")
        if not re.fullmatch(r"\d{7}", v.get("zip", "")):
            errors.append("郵便番号は7桁の数字で入力してください。")
        if v.get("tel") and not TEL.match(v["tel"]):
            errors.append("電話番号の形式が正しくありません。")
        if e := _date_error(v, "birth", "生年月日"):
            errors.append(e)
    else:
        if e := _date_error(v, "start", "利用開始希望日"):
            errors.append(e)
        if v.get("care_need") not in CARE_NEED:
            errors.append("保育必要量を選択してください。")
        if not v.get("facility_1", "").strip():
            errors.append("第1希望施設を入力してください。")
        codes = [c for c in v.get("reasons", "").split(",") if c]
        if not codes or any(c not in REASONS for c in codes):
            errors.append("事由コードが正しくありません（例: 01,99）。")
    return errors


# --- HTML (deliberately old-fashioned: tables, fixed widths, no JavaScript needed) ---

STYLE = "body{font-family:'MS UI Gothic',sans-serif;font-size:12px;background:#d4d0c8} .error{color:#c00;font-weight:bold} th{background:#336;color:#fff;text-align:left}"


def page(title: str, body: str, msg: str = "") -> str:
    note = f'<div class="message">{html.escape(msg)}</div>' if msg else ""
    return (
        f'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<html><head>'
        f'<meta http-equiv="Content-Type" content="text/html; charset={CHARSET}">'
        f"<title>{html.escape(title)} - 子育て支援業務システム</title><style>{STYLE}</style></head>"
        f'<body><table width="760"><tr><th>子育て支援業務システム　{html.escape(title)}</th></tr></table>{note}{body}</body></html>'
    )


def errors_html(errors: list[str]) -> str:
    return "".join(f'<div class="error">{html.escape(e)}</div>' for e in errors)


def _input(name: str, value: str, size: int = 30) -> str:
    return f'<input type="text" name="{name}" id="{name}" value="{html.escape(value)}" size="{size}">'


def _select(name: str, options: dict[str, str], value: str) -> str:
    opts = "".join(
        f'<option value="{k}"{" selected" if k == value else ""}>{k}:{html.escape(v)}</option>'
        for k, v in options.items()
    )
    return f'<select name="{name}" id="{name}"><option value="">--</option>{opts}</select>'


def _date_inputs(prefix: str, v: dict[str, str]) -> str:
    eras = {k: n for k, (n, _) in ERAS.items()}
    return (
        _select(f"{prefix}_era", eras, v.get(f"{prefix}_era", ""))
        + _input(f"{prefix}_yy", v.get(f"{prefix}_yy", ""), 2)
        + "年"
        + _input(f"{prefix}_mm", v.get(f"{prefix}_mm", ""), 2)
        + "月"
        + _input(f"{prefix}_dd", v.get(f"{prefix}_dd", ""), 2)
        + "日"
    )


def entry_form(step: int, v: dict[str, str], errors: list[str]) -> str:
    rows = []
    if step == 1:
        rows = [
            ("外部参照番号", _input("ext_ref", v.get("ext_ref", ""), 24)),
            ("児童氏名", _input("child_name", v.get("child_name", ""))),
            ("児童氏名（カナ）", _input("child_kana", v.get("child_kana", ""))),
            ("性別", _select("sex", SEX, v.get("sex", ""))),
            ("生年月日", _date_inputs("birth", v)),
            ("保護者氏名", _input("guardian_name", v.get("guardian_name", ""))),
            ("続柄", _select("relation", RELATION, v.get("relation", ""))),
            ("郵便番号", _input("zip", v.get("zip", ""), 8)),
            ("住所", _input("address", v.get("address", ""), 60)),
            ("電話番号", _input("tel", v.get("tel", ""), 15)),
        ]
    else:
        rows = [
            ("利用開始希望日", _date_inputs("start", v)),
            ("保育必要量", _select("care_need", CARE_NEED, v.get("care_need", ""))),
            ("第1希望施設", _input("facility_1", v.get("facility_1", ""), 40)),
            ("事由コード", _input("reasons", v.get("reasons", ""), 20) + "（カンマ区切り）"),
        ]
    table = "".join(f"<tr><td>{label}</td><td>{ctl}</td></tr>" for label, ctl in rows)
    title = "新規受付（1/2 申込者）" if step == 1 else "新規受付（2/2 申込内容）"
    return page(
        title,
        errors_html(errors)
        + f'<form method="post" action="/entry/{step}" accept-charset="{CHARSET}"><table>{table}</table>'
        + '<input type="submit" id="next" value="次へ"></form>',
    )


def confirm_page(v: dict[str, str]) -> str:
    rows = "".join(f"<tr><td>{LABELS[n]}</td><td>{html.escape(v.get(n, ''))}</td></tr>" for n in NAMES)
    return page(
        "新規受付（確認）",
        f'<table border="1">{rows}</table><form method="post" action="/entry/confirm" accept-charset="{CHARSET}">'
        '<input type="submit" id="register" value="登録"></form><a href="/entry/1">戻る</a>',
    )


class Handler(BaseHTTPRequestHandler):
    sim: Sim  # set on the subclass made by `make_server`
    server_version = "LegacyApp/1.0"

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug(fmt, *args)

    # --- plumbing ---

    def _slow(self) -> None:
        cfg = self.sim.cfg
        if cfg.slow_rate > 0 and self.sim.rng.random() < cfg.slow_rate:
            time.sleep(cfg.slow_s)

    def _send(self, body: str, status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = body.encode(CODEC, errors="xmlcharrefreplace")
        self.send_response(status)
        self.send_header("Content-Type", f"text/html; charset={CHARSET}")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, to: str, cookie: str | None = None) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", to)
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _form(self) -> dict[str, str]:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("ascii", errors="replace")
        parsed = parse_qs(raw, keep_blank_values=True, encoding=CODEC, errors="replace")
        return {k: unicodedata.normalize("NFC", v[0]) for k, v in parsed.items()}

    def _session(self) -> tuple[str, Session] | None:
        cookie = SimpleCookie(self.headers.get("Cookie") or "")
        sid = cookie["SID"].value if "SID" in cookie else None
        now = time.monotonic()
        with self.sim.lock:
            s = self.sim.sessions.get(sid or "")
            if s is None:
                return None
            if now - s.last_seen > self.sim.cfg.session_timeout_s:
                del self.sim.sessions[sid or ""]
                return None
            s.last_seen = now
            return sid or "", s

    def _login_page(self, msg: str = "", errors: list[str] | None = None) -> None:
        body = errors_html(errors or []) + (
            f'<form method="post" action="/login" accept-charset="{CHARSET}" id="login"><table>'
            '<tr><td>利用者ID</td><td><input type="text" name="user" id="user"></td></tr>'
            '<tr><td>パスワード</td><td><input type="password" name="password" id="password"></td></tr>'
            '</table><input type="submit" id="login_button" value="ログイン"></form>'
        )
        self._send(page("ログイン", body, msg))

    # --- routes ---

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._slow()
        url = urlsplit(self.path)
        if url.path in ("/", "/login"):
            expired = "expired" in url.query
            return self._login_page(
                "セッションの有効期限が切れました。再度ログインしてください。" if expired else ""
            )
        if url.path == "/health":
            return self._send("ok")
        sess = self._session()
        if sess is None:
            return self._redirect("/login?expired=1")
        _, s = sess
        if url.path == "/menu":
            return self._send(
                page(
                    "メニュー",
                    '<ul><li><a href="/entry/1" id="new">新規受付</a></li><li><a href="/search" id="search">受付検索</a></li></ul>',
                )
            )
        if url.path == "/entry/1":
            s.draft = {}
            return self._send(entry_form(1, {}, []))
        if url.path == "/entry/2":
            return self._send(
                entry_form(2, s.draft, [])
                if s.draft
                else page("エラー", errors_html(["手順が正しくありません。最初からやり直してください。"]))
            )
        if url.path == "/entry/confirm":
            return self._send(confirm_page(s.draft))
        if url.path == "/search":
            q = {k: v[0] for k, v in parse_qs(url.query, encoding=CODEC).items()}
            return self._send(self._search_page(q.get("ext_ref", ""), q.get("uketsuke_no", "")))
        if url.path.startswith("/detail/"):
            rec = self.sim.detail(url.path.rsplit("/", 1)[1])
            if rec is None:
                return self._send(page("詳細", errors_html(["該当する受付がありません。"])), 404)
            rows = "".join(
                f'<tr><td>{html.escape(LABELS.get(k, "受付番号"))}</td><td id="f_{k}">{html.escape(v or "")}</td></tr>'
                for k, v in rec.items()
            )
            return self._send(page("受付詳細", f'<table border="1" id="detail">{rows}</table>'))
        self._send(page("エラー", errors_html(["ページが見つかりません。"])), 404)

    def do_POST(self) -> None:  # noqa: N802
        self._slow()
        url = urlsplit(self.path)
        form = self._form()
        if url.path == "/login":
            if form.get("user") == self.sim.cfg.user and form.get("password") == self.sim.cfg.password:
                sid = secrets.token_hex(16)
                with self.sim.lock:
                    self.sim.sessions[sid] = Session(time.monotonic())
                return self._redirect("/menu", f"SID={sid}; Path=/; HttpOnly")
            return self._login_page(errors=["利用者IDまたはパスワードが違います。"])
        sess = self._session()
        if sess is None:
            return self._redirect("/login?expired=1")
        _, s = sess
        if url.path in ("/entry/1", "/entry/2"):
            step = int(url.path[-1])
            if step == 2 and not s.draft:
                return self._send(
                    page("エラー", errors_html(["手順が正しくありません。最初からやり直してください。"]))
                )
            errors = validate(step, form)
            if errors:
                return self._send(entry_form(step, form, errors))
            s.draft.update({k: form.get(k, "") for k, _, st in FIELDS if st == step})
            return self._redirect("/entry/2" if step == 1 else "/entry/confirm")
        if url.path == "/entry/confirm":
            if not s.draft or validate(1, s.draft) or validate(2, s.draft):
                return self._send(
                    page("エラー", errors_html(["入力内容が不足しています。最初からやり直してください。"]))
                )
            no = self.sim.insert(s.draft)
            s.draft = {}
            log.info("registered %s", no)
            if self.sim.cfg.submit_delay_s:
                time.sleep(self.sim.cfg.submit_delay_s)  # stored, not yet answered: the RPA's worst moment
            return self._send(
                page(
                    "登録完了",
                    f'<p>受付が完了しました。受付番号：<span id="uketsuke_no">{no}</span></p><a href="/menu">メニューへ</a>',
                )
            )
        self._send(page("エラー", errors_html(["ページが見つかりません。"])), 404)

    def _search_page(self, ext_ref: str, no: str) -> str:
        form = (
            f'<form method="get" action="/search" accept-charset="{CHARSET}" id="search_form">'
            f"外部参照番号 {_input('ext_ref', ext_ref, 24)} 受付番号 {_input('uketsuke_no', no, 12)}"
            '<input type="submit" id="search_button" value="検索"></form>'
        )
        if not (ext_ref or no):
            return page("受付検索", form)
        hits = self.sim.search(ext_ref, no)
        rows = "".join(
            f'<tr class="hit"><td class="no"><a href="/detail/{h["uketsuke_no"]}">{h["uketsuke_no"]}</a></td>'
            f'<td class="ref">{html.escape(h["ext_ref"] or "")}</td><td>{html.escape(h["child_name"] or "")}</td><td>{h["created_at"]}</td></tr>'
            for h in hits
        )
        result = f'<p id="count">{len(hits)}件</p><table border="1" id="results"><tr><th>受付番号</th><th>外部参照番号</th><th>児童氏名</th><th>登録日時</th></tr>{rows}</table>'
        return page("受付検索", form + result)


def make_server(host: str, port: int, cfg: SimConfig) -> ThreadingHTTPServer:
    sim = Sim(cfg)
    handler = type("BoundHandler", (Handler,), {"sim": sim})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve(host: str, port: int, cfg: SimConfig) -> None:
    server = make_server(host, port, cfg)
    log.info("listening on http://%s:%d (db %s)", host, port, cfg.db)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
