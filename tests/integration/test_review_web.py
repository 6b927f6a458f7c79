"""HTTP-level tests of the review page against the real app, a real SQLite store filled by the real
pipeline (two bundled samples), real argon2 logins and real Fernet encryption."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from stdnum.jp import in_

from pipeline.store.review_tables import ReviewIncomplete
from pipeline.store.tables import DocumentRow, FieldRow, PageRow
from tests.review_support import PASSWORD, csrf_of, my_numbers

pytestmark = pytest.mark.model  # the store is filled once by the real pipeline


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def _docs(app) -> list[int]:
    with app.state.store.session() as s:
        return list(
            s.scalars(select(DocumentRow.id).where(DocumentRow.status == "review").order_by(DocumentRow.id))
        )


def _open(client: TestClient, doc_id: int) -> str:
    r = client.get(f"/documents/{doc_id}")
    assert r.status_code == 200, r.text[:300]
    return r.text


def _fields(html: str) -> list[tuple[str, str, bool]]:
    return [
        (p, n, d == "1")
        for p, n, d in re.findall(r'data-page="(\d+)" data-name="([a-z0-9_]+)" data-double="(\d)"', html)
    ]


def _post(client: TestClient, doc_id: int, page: str, name: str, value: str | None, csrf: str | None):
    headers = {"Accept": "application/json"} | ({"X-CSRF-Token": csrf} if csrf is not None else {})
    return client.post(
        f"/documents/{doc_id}/fields/{page}/{name}",
        json={"value": value, "ms": 900, "keys": 1},
        headers=headers,
    )


def test_no_session_goes_to_login(app) -> None:
    c = TestClient(app)
    for path in ("/", "/documents/1", "/audit", "/documents/1/crop/0/child_name"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    r = c.post("/documents/1/accept", follow_redirects=False)
    assert r.status_code == 401
    assert "ログイン" in c.get("/login").text


def test_login_cookie_flags_wrong_password_and_rate_limit(app) -> None:
    c = TestClient(app)
    token = csrf_of(c.get("/login").text)
    r = c.post(
        "/login", data={"name": "clerk1", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" not in cookie
    bad = TestClient(app)
    for _ in range(5):
        t = csrf_of(bad.get("/login").text)
        assert (
            bad.post("/login", data={"name": "clerk2", "password": "wrong", "csrf_token": t}).status_code
            == 401
        )
    t = csrf_of(bad.get("/login").text)
    r = bad.post(
        "/login", data={"name": "clerk2", "password": PASSWORD, "csrf_token": t}, follow_redirects=False
    )
    assert r.status_code == 429  # the right password is refused too while the limit holds
    # a login post without its CSRF token is refused
    assert TestClient(app).post("/login", data={"name": "clerk1", "password": PASSWORD}).status_code == 403


def test_wrong_role_is_403(clients) -> None:
    assert clients["clerk1"].get("/audit").status_code == 403
    assert clients["clerk1"].get("/stats").status_code == 403
    assert clients["boss"].get("/audit").status_code == 200


def test_csrf_missing_or_wrong_is_403(app, clients) -> None:
    doc = _docs(app)[0]
    c = clients["clerk1"]
    html = _open(c, doc)
    page, name, _ = next(f for f in _fields(html) if not f[2])
    assert _post(c, doc, page, name, None, None).status_code == 403
    assert _post(c, doc, page, name, None, "wrong-token").status_code == 403
    assert c.post(f"/documents/{doc}/postpone", data={"csrf_token": "nope"}).status_code == 403
    assert c.post("/logout", data={}).status_code == 403
    assert _post(c, doc, page, name, None, csrf_of(html)).json()["ok"] is True


def test_claimed_by_another_user_and_unknown_ids(app, clients) -> None:
    doc = _docs(app)[0]
    html = _open(clients["clerk1"], doc)
    r = clients["clerk2"].get(f"/documents/{doc}")
    assert r.status_code == 409 and "clerk1" in r.text
    page, name, _ = _fields(html)[-1]
    other = csrf_of(clients["clerk2"].get("/").text)
    assert _post(clients["clerk2"], doc, page, name, None, other).status_code == 409
    assert clients["clerk1"].get("/documents/99999").status_code == 404
    assert "見つかりません" in clients["clerk1"].get("/documents/99999").text
    assert _post(clients["clerk1"], doc, "0", "no_such_field", None, csrf_of(html)).status_code == 404


def test_accept_refused_until_every_flag_is_settled(app, clients) -> None:
    doc = _docs(app)[0]
    c = clients["clerk1"]
    html = _open(c, doc)
    csrf = csrf_of(html)
    r = c.post(f"/documents/{doc}/accept", data={"csrf_token": csrf})
    assert r.status_code == 409
    with pytest.raises(ReviewIncomplete):  # the Python API refuses as well
        app.state.store.set_status(doc, "accepted", "someone")
    with app.state.store.session() as s:
        assert s.get(DocumentRow, doc).status == "in_review"


def _settle_all(app, c: TestClient, c2: TestClient, doc: int, numbers: dict[str, str]) -> None:
    html = _open(c, doc)
    csrf = csrf_of(html)
    for page, name, double in _fields(html):
        value = numbers[name] if double else None
        assert _post(c, doc, page, name, value, csrf).json()["ok"], name
    assert (
        c.post(f"/documents/{doc}/release", data={"csrf_token": csrf}, follow_redirects=False).status_code
        == 303
    )
    html2 = _open(c2, doc)
    for page, name, double in _fields(html2):
        if double:
            assert _post(c2, doc, page, name, numbers[name], csrf_of(html2)).json()["settled"] is True


def test_double_entry_two_users_then_accept(app, clients) -> None:
    doc = _docs(app)[0]
    number = my_numbers()[0]
    c1, c2 = clients["clerk1"], clients["clerk2"]
    html = _open(c1, doc)
    csrf = csrf_of(html)
    dbl = [f for f in _fields(html) if f[2]]
    assert dbl, "the sample's 個人番号 is a double-entry field"
    page, name, _ = dbl[0]
    assert _post(c1, doc, page, name, None, csrf).status_code == 422  # cannot just confirm
    first = _post(c1, doc, page, name, number, csrf).json()
    assert first["ok"] and not first["settled"] and first["waiting"]
    assert _post(c1, doc, page, name, number, csrf).status_code == 409  # same user never both
    _settle_all_single(c1, doc, html, csrf)
    c1.post(f"/documents/{doc}/release", data={"csrf_token": csrf})
    html2 = _open(c2, doc)
    second = _post(c2, doc, page, name, number, csrf_of(html2)).json()
    assert second["settled"] is True and second["left"] == 0
    r = c2.post(f"/documents/{doc}/accept", data={"csrf_token": csrf_of(html2)}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    with app.state.store.session() as s:
        assert s.get(DocumentRow, doc).status == "accepted"
    actions = [e.action for e in app.state.review.events(doc)]
    assert actions.count("double_entry") == 2 and actions[-1] == "accept_document"


def _settle_all_single(c: TestClient, doc: int, html: str, csrf: str) -> None:
    for page, name, double in _fields(html):
        if not double:
            assert _post(c, doc, page, name, None, csrf).json()["ok"], name


def test_double_entry_mismatch_goes_to_supervisor(app, clients) -> None:
    doc = _docs(app)[1]
    number = my_numbers()[1]
    body = number[:5] + str((int(number[5]) + 1) % 10) + number[6:11]
    wrong = body + in_.calc_check_digit(body)  # a valid 個人番号, but not the one written
    c1, c2, boss = clients["clerk1"], clients["clerk2"], clients["boss"]
    html = _open(c1, doc)
    page, name, _ = next(f for f in _fields(html) if f[2])
    _post(c1, doc, page, name, wrong, csrf_of(html))
    c1.post(f"/documents/{doc}/release", data={"csrf_token": csrf_of(html)})
    html2 = _open(c2, doc)
    r = _post(c2, doc, page, name, number, csrf_of(html2)).json()
    assert r["mismatch"] and not r["settled"]
    assert (
        _post(c2, doc, page, name, number, csrf_of(html2)).status_code == 403
    )  # a reviewer cannot settle it
    c2.post(f"/documents/{doc}/release", data={"csrf_token": csrf_of(html2)})
    html3 = _open(boss, doc)
    assert number not in html3 and wrong not in html3  # masked until revealed
    resolved = _post(boss, doc, page, name, number, csrf_of(html3)).json()
    assert resolved["settled"]
    assert [e.action for e in app.state.review.events(doc, int(page), name)] == [
        "double_entry",
        "double_mismatch",
        "supervisor_resolve",
    ]


def test_my_number_never_in_html_logs_or_database(app, app_settings, clients, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    numbers = my_numbers()
    docs = _docs(app)
    seen: list[str] = []
    for who, c in clients.items():
        seen.append(c.get("/").text)
        if who == "boss":
            seen += [c.get("/audit").text, c.get("/stats").text]
    html = _open(clients["clerk1"], docs[0])
    seen.append(html)
    page, name, _ = next(f for f in _fields(html) if f[2])
    _post(clients["clerk1"], docs[0], page, name, numbers[0], csrf_of(html))
    seen.append(_open(clients["clerk1"], docs[0]))
    clients["clerk1"].post(f"/documents/{docs[0]}/release", data={"csrf_token": csrf_of(html)})
    boss_html = _open(clients["boss"], docs[0])
    seen.append(boss_html)
    seen.append(clients["boss"].get(f"/audit?document={docs[0]}").text)
    for text in seen:
        for n in numbers:
            assert n not in text
    assert all(n not in caplog.text for n in numbers)
    # a supervisor reveals it: shown, and the reveal is in the audit log
    r = clients["boss"].post(
        f"/documents/{docs[0]}/reveal/{page}/{name}", data={"csrf_token": csrf_of(boss_html)}
    )
    assert r.status_code == 200 and numbers[0] in _text(r.text)
    assert [a.action for a in app.state.review.audit(my_number_only=True, actor="boss")][
        0
    ] == "reveal_my_number"
    assert (
        clients["clerk1"]
        .post(f"/documents/{docs[0]}/reveal/{page}/{name}", data={"csrf_token": csrf_of(html)})
        .status_code
        == 403
    )
    assert app.state.store.verify_audit_chain()
    # the database file (and its WAL) hold no 個人番号 in clear; the crops are encrypted files
    app.state.store.close()
    data_dir = Path(app_settings.data_dir)
    for f in data_dir.glob("shinsei.sqlite3*"):
        blob = f.read_bytes()
        for n in numbers:
            assert n.encode() not in blob, f.name
    with app.state.store.session() as s:
        crops = list(s.scalars(select(FieldRow.crop_path).where(FieldRow.kind == "my_number")))
    assert crops and all(c.endswith(".enc") for c in crops)
    assert not list(data_dir.glob("crops/**/*my_number.png"))


def test_whole_page_image_covers_the_my_number_box(app, app_settings, clients) -> None:
    """F4's whole page: the 個人番号 box is covered with flat grey (it is read from its own crop
    only); another field's box on the same page still shows handwriting."""
    import cv2
    import numpy as np

    from web.review import template_for

    doc = _docs(app)[0]
    c = clients["clerk1"]
    r = c.get(f"/documents/{doc}/pages/0.jpg?field=child_name")
    assert r.status_code == 200
    image = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    with app.state.store.session() as s:
        boxes = dict(
            s.execute(
                select(FieldRow.name, FieldRow.box_px)
                .join(PageRow, FieldRow.page_id == PageRow.id)
                .where(PageRow.document_id == doc, PageRow.index == 0)
            ).all()
        )
    tpl = template_for(app_settings, "nursery_enrolment", None)
    k = image.shape[1] / (tpl.page.width_mm * app_settings.work_dpi / 25.4)

    def region(name: str) -> np.ndarray:
        x, y, w, h = (int(v * k) for v in boxes[name])
        return image[y + 2 : y + h - 2, x + 2 : x + w - 2]

    assert region("child_my_number").std() < 4  # flat: nothing of the handwriting is left
    assert region("guardian_name").std() > 20  # handwriting and the printed box show elsewhere


def test_store_without_key_cannot_read_numbers(app, app_settings) -> None:
    from pipeline.store import open_store

    bare = open_store(app_settings.resolved_database_url())  # no Settings: no key installed
    with bare.session() as s:
        values = list(s.scalars(select(FieldRow.value).join(PageRow).where(FieldRow.kind == "my_number")))
    assert values and all(str(v).startswith("enc:v1:") for v in values)
    bare.close()


def test_correction_renormalises_and_keeps_machine_value(app, clients) -> None:
    c = clients["clerk1"]
    # A furigana held for review, else a phone: which of the samples' fields the reader is sure
    # of follows the calibration, so the test looks rather than assuming one. Typed half-width
    # (kana) or full-width (digits), the correction is stored and shown normalised.
    typed = {"_kana": ("ﾆｼﾑﾗﾖｳｺ", "ニシムラヨウコ"), "phone": ("０９０－１２３４－５６７８", "090-1234-5678")}
    held = [(d, h, f) for d in _docs(app) for h in [_open(c, d)] for f in _fields(h)]
    doc, html, field, (value, shown) = next(
        (d, h, f, typed[key]) for key in typed for d, h, f in held if key in f[1] and not f[2]
    )
    csrf = csrf_of(html)
    r = _post(c, doc, field[0], field[1], value, csrf).json()
    assert r["settled"] and r["shown"] == shown
    with app.state.store.session() as s:
        f = s.scalar(
            select(FieldRow).join(PageRow).where(PageRow.document_id == doc, FieldRow.name == field[1])
        )
        assert f.corrected_value == shown and f.corrected_by == "clerk1" and f.value is not None
    ev = app.state.review.events(doc, int(field[0]), field[1])[-1]
    assert (ev.action, ev.keystrokes, ev.ms_spent) in {("correct", 1, 900), ("confirm", 1, 900)}
    date_field = next((f for f in _fields(html) if "date" in f[1]), None)
    if date_field:
        bad = _post(c, doc, date_field[0], date_field[1], "令和99年99月99日", csrf)
        assert bad.status_code == 422 and not bad.json()["ok"]


def test_postpone_and_reject(app, clients) -> None:
    a, b = _docs(app)[:2]
    c = clients["clerk1"]
    csrf = csrf_of(_open(c, a))
    assert (
        c.post(f"/documents/{a}/postpone", data={"csrf_token": csrf}, follow_redirects=False).status_code
        == 303
    )
    csrf = csrf_of(_open(c, b))
    assert c.post(f"/documents/{b}/reject", data={"csrf_token": csrf, "reason": ""}).status_code == 422
    c.post(f"/documents/{b}/reject", data={"csrf_token": csrf, "reason": "記入漏れ"}, follow_redirects=False)
    with app.state.store.session() as s:
        assert (s.get(DocumentRow, a).status, s.get(DocumentRow, b).status) == ("postponed", "rejected")
    assert "保留" in c.get("/?reason=postponed").text


def test_field_queues_need_login_csrf_and_a_free_document(app, clients) -> None:
    anon = TestClient(app)
    for path in ("/second", "/groups", "/fields"):
        r = anon.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    doc = _docs(app)[0]
    c1, c2 = clients["clerk1"], clients["clerk2"]
    html = _open(c1, doc)
    page, name, _ = next(f for f in _fields(html) if f[2])  # the 個人番号
    number = dict(zip(("child_my_number",), my_numbers(), strict=False))[name]
    assert _post(c1, doc, page, name, number, csrf_of(html)).json()["waiting"] is True
    csrf2 = csrf_of(c2.get("/").text)
    url = f"/tasks/{doc}/{page}/{name}"
    # clerk1 still holds the document: the second keying waits until it is handed on
    r = c2.post(url, json={"value": number}, headers={"X-CSRF-Token": csrf2, "Accept": "application/json"})
    assert r.status_code == 409
    c1.post(f"/documents/{doc}/release", data={"csrf_token": csrf_of(html)})
    listing = c2.get("/second").text
    assert f'data-doc="{doc}"' in listing and number not in listing and number[-4:] not in _text(listing)
    assert c1.get("/second").text.count(f'data-doc="{doc}"') == 0  # never the first keyer's task
    assert c2.post(url, json={"value": number}, headers={"Accept": "application/json"}).status_code == 403
    assert (
        c2.post(
            url, json={"value": number}, headers={"X-CSRF-Token": "x", "Accept": "application/json"}
        ).status_code
        == 403
    )
    csrf1 = csrf_of(c1.get("/").text)
    r = c1.post(url, json={"value": number}, headers={"X-CSRF-Token": csrf1, "Accept": "application/json"})
    assert r.status_code == 409  # the same clerk twice, through the queue too
    r = c2.post(url, json={"value": number}, headers={"X-CSRF-Token": csrf2, "Accept": "application/json"})
    assert r.json()["outcome"] == "matched"
    assert (
        c2.post("/tasks/99999/0/x", json={"value": "1"}, headers={"X-CSRF-Token": csrf2}).status_code == 404
    )


def test_field_verification_leaves_out_held_qa_keyed_and_cross_field(app, clients) -> None:
    """/fields lists only what a crop settles: not a document another clerk holds, not a QA sample,
    not a 個人番号 already keyed once, not a field a cross-field rule names with another field."""
    from sqlalchemy import update

    c1, c2 = clients["clerk1"], clients["clerk2"]
    first, second = _docs(app)[:2]

    def listed(client: TestClient) -> set[tuple[int, str]]:
        html = client.get("/fields").text
        return {
            (int(d), n)
            for d, n in re.findall(r'data-doc="(\d+)" data-page="\d+" data-name="([a-z0-9_]+)"', html)
        }

    everything = listed(c1)
    assert {d for d, _ in everything} == {first, second}
    with app.state.store.session() as s:
        flagged = s.execute(
            select(PageRow.document_id, FieldRow.name, FieldRow.issues, FieldRow.kind)
            .join(PageRow, FieldRow.page_id == PageRow.id)
            .where(FieldRow.accepted.is_(False))
        ).all()
    cross = {(d, n) for d, n, issues, _k in flagged if any(set(i.get("fields") or ()) - {n} for i in issues)}
    assert not (cross & everything)
    assert {
        (d, n) for d, n, _i, k in flagged if k not in ("checkbox", "choice", "signature")
    } - cross == everything
    # a page holds at most `limit` fields; documents are taken `window` at a time, in queue order
    review = app.state.review
    assert len(review.field_tasks("clerk1", limit=3)) == 3
    one_at_a_time = [t.document_id for t in review.field_tasks("clerk1", window=1)]
    n_first = len({n for d, n in everything if d == first})
    assert one_at_a_time == [first] * n_first + [second] * (len(everything) - n_first)
    # clerk2 holds the first document: clerk1 no longer sees its fields, clerk2 still does
    _open(c2, first)
    assert {d for d, _ in listed(c1)} == {second}
    assert {d for d, _ in listed(c2)} == {first, second}
    c2.post(f"/documents/{first}/release", data={"csrf_token": csrf_of(c2.get("/").text)})
    # a 個人番号 keyed once leaves /fields for /second
    csrf1 = csrf_of(c1.get("/").text)
    number = my_numbers()[0]
    r = c1.post(
        f"/tasks/{first}/0/child_my_number",
        json={"value": number, "via": "field"},
        headers={"X-CSRF-Token": csrf1, "Accept": "application/json"},
    )
    assert r.json()["outcome"] == "first"
    assert (first, "child_my_number") not in listed(c1) and (first, "child_my_number") not in listed(c2)
    # a QA sample is checked whole on its document page
    with app.state.store.transaction() as s:
        s.execute(update(DocumentRow).where(DocumentRow.id == second).values(qa_sample=True))
    assert {d for d, _ in listed(c1)} <= {first}


def test_template_deadline_orders_the_queue_and_shows_days_left(golden, tmp_path: Path) -> None:
    import shutil
    from datetime import datetime

    from pipeline.jp.calendar import JST, add_business_days, business_days_left, jst_date
    from tests.integration.conftest import login
    from tests.review_support import copy_data, settings_for
    from web.app import create_app
    from web.security import hash_password

    templates = tmp_path / "templates"
    shutil.copytree(Path(__file__).resolve().parents[2] / "templates_forms", templates)
    yaml = templates / "nursery_enrolment" / "template.yaml"
    yaml.write_text(
        yaml.read_text(encoding="utf-8") + "\ndeadline: {business_days: 10, from: received}\n",
        encoding="utf-8",
    )
    settings = settings_for(copy_data(golden[0], tmp_path / "data"), golden[1]).model_copy(
        update={"templates_dir": templates}
    )
    application = create_app(settings)
    try:
        application.state.review.add_user("clerk1", "reviewer", hash_password(PASSWORD))
        html = login(application, "clerk1").get("/").text
        docs = _docs(application)
        rows = [application.state.store.get_document_row(d) for d in docs]
        assert all(r.deadline == add_business_days(jst_date(r.created_at), 10) for r in rows)
        today = datetime.now(JST).date()
        left = business_days_left(rows[0].deadline, today)
        assert f"残り {left} 営業日" in _text(html)
    finally:
        application.state.store.close()
