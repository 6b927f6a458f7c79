"""CSV and fixed-width targets for real: accepted documents (the bundled samples' values) go
through the outbox and the relay into files on disk, which are then decoded byte by byte."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.adapters.files import MANIFEST_SUFFIX
from pipeline.adapters.profile import load_profile
from pipeline.intake.relay import Relay
from pipeline.settings import Settings
from pipeline.store import Store, open_store
from pipeline.store.outbox import Outbox
from tests.integration.delivery_data import FORM, accept, accept_samples, kinds, sample_values


def _store(tmp_path: Path, targets: list[str], **kw) -> tuple[Store, Settings]:
    settings = Settings(data_dir=tmp_path, delivery_targets=targets, delivery_retry_wait_max_s=0.1, **kw)
    return open_store(settings), settings


@pytest.fixture
def csv_store(tmp_path: Path) -> Iterator[tuple[Store, Settings]]:
    store, settings = _store(tmp_path, ["nursery_csv", "nursery_fixed"])
    yield store, settings
    store.close()


def _files(d: Path, suffix: str) -> list[Path]:
    return sorted(p for p in d.glob(f"*{suffix}") if not p.name.startswith("."))


def test_samples_round_trip_through_cp932_csv_and_fixed_width(csv_store) -> None:
    store, settings = csv_store
    ids = accept_samples(store)
    samples = sample_values()
    relay = Relay(store, settings)
    stats = relay.drain()
    relay.close()
    assert stats.verified == 2 * len(samples) and stats.failed == stats.rejected == 0, stats.errors
    rows = Outbox(store).list(limit=1000)
    assert {d.state for d in rows} == {"verified"} and len(rows) == 2 * len(ids)

    # CSV: cp932 bytes, CRLF, a header, one line per sample, manifest count and sha256 right.
    (csv_file,) = _files(tmp := settings.data_dir / "deliveries" / "nursery_csv", ".csv")
    raw = csv_file.read_bytes()
    manifest = json.loads((tmp / (csv_file.name + MANIFEST_SUFFIX)).read_text(encoding="utf-8"))
    assert manifest["records"] == len(samples) and manifest["sha256"] == hashlib.sha256(raw).hexdigest()
    assert raw.count(b"\r\n") == len(samples) + 1 and b"\n" not in raw.replace(b"\r\n", b"")
    text = raw.decode("cp932")
    table = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(table) == len(samples)
    for (_, values), row in zip(samples, table, strict=True):
        assert row["児童氏名"] == values["child_name"]
        assert row["性別"] == {"男": "1", "女": "2"}[values["child_sex"]]
        assert row["児童生年月日"] == values["child_birth_date"].replace("-", "")
        assert row["児童個人番号"].endswith(values["child_my_number"][-4:]) and row[
            "児童個人番号"
        ].startswith("*")
    receipts = {d.receipt["ref"] for d in rows if d.target == "nursery_csv"}
    assert receipts == {f"{csv_file.name}:{n}" for n in range(2, len(samples) + 2)}

    # Fixed width: every record exactly the profile's byte width in cp932; names 2 bytes a character.
    profile = load_profile("nursery_fixed")
    width = sum(c.width for c in profile.columns)
    (dat,) = _files(settings.data_dir / "deliveries" / "nursery_fixed", ".dat")
    lines = dat.read_bytes().split(b"\r\n")[:-1]
    assert len(lines) == len(samples) and {len(x) for x in lines} == {width}
    offsets, pos = {}, 0
    for c in profile.columns:
        offsets[c.column] = (pos, pos + c.width)
        pos += c.width
    for (_, values), line in zip(samples, lines, strict=True):
        a, b = offsets["児童氏名"]
        name = line[a:b].decode("cp932")
        assert name.rstrip("　") == values["child_name"]
        assert len(values["child_name"].encode("cp932")) == 2 * len(values["child_name"])
        a, b = offsets["児童生年月日"]
        y, m, d = (int(x) for x in values["child_birth_date"].split("-"))
        era = "5" if (y, m, d) >= (2019, 5, 1) else "4"
        yy = y - 2018 if era == "5" else y - 1988
        assert line[a:b].decode("cp932") == f"{era}{yy:02d}{m:02d}{d:02d}"
        a, b = offsets["週就労時間"]
        hours = values["work_hours_week"]
        assert line[a:b] == (f"{int(hours):03d}" if hours is not None else "000").encode()


def test_unencodable_character_sends_the_document_to_review_and_writes_nothing(csv_store) -> None:
    store, settings = csv_store
    values = dict(sample_values()[0][1], child_name="𠮷田花子")
    doc = accept(store, values)
    stats = Relay(store, settings).drain()
    assert stats.rejected == 2 and stats.delivered == 0
    for d in Outbox(store).list():
        assert d.state == "failed"
        assert d.unencodable == [
            {"field": "child_name", "column": "児童氏名", "char": "𠮷", "codepoint": "U+20BB7"}
        ]
    row = store.get_document_row(doc)
    assert row.status == "review" and row.reason == "unencodable_character"
    assert "𠮷" in row.message and "child_name" in row.message
    assert not (settings.data_dir / "deliveries").exists() or not any(
        (settings.data_dir / "deliveries").rglob("*.*")
    )
    # The reviewer replaces the character and accepts again: the same rows go out, once.
    store.correct_field(doc, 0, "child_name", "吉田花子", "reviewer1")
    # A person's accept (the review page's path) makes the same rows pending again in its transaction.
    assert store.set_status(doc, "accepted", "reviewer1")
    assert {d.state for d in Outbox(store).list()} == {"pending"}
    stats = Relay(store, settings).drain()
    assert stats.verified == 2
    (csv_file,) = _files(settings.data_dir / "deliveries" / "nursery_csv", ".csv")
    assert "吉田花子" in csv_file.read_bytes().decode("cp932")


def test_substitute_policy_sends_geta_and_keeps_as_written(tmp_path: Path) -> None:
    store, settings = _store(tmp_path, ["nursery_csv"], delivery_options={})
    own = tmp_path / "profiles"
    own.mkdir()
    src = (Path(__file__).resolve().parents[2] / "pipeline/adapters/profiles/nursery_csv.yaml").read_text(
        encoding="utf-8"
    )
    (own / "nursery_csv.yaml").write_text(src.replace("gaiji: review", "gaiji: substitute"), encoding="utf-8")
    settings = settings.model_copy(update={"delivery_profiles_dir": own})
    store.close()
    store = open_store(settings)
    accept(store, dict(sample_values()[0][1], child_name="𠮷田花子", employer="株式会社〜"))
    stats = Relay(store, settings).drain()
    assert stats.verified == 1, stats.errors
    (d,) = Outbox(store).list()
    name = next(f for f in d.sent if f["column"] == "児童氏名")
    assert name == {
        "column": "児童氏名",
        "source": "child_name",
        "as_written": "𠮷田花子",
        "as_sent": "〓田花子",
        "flags": ["substituted"],
    }
    employer = next(f for f in d.sent if f["column"] == "勤務先")
    assert employer["as_sent"] == "株式会社～" and employer["flags"] == ["folded"]  # 〜 U+301C is ～ in cp932
    assert d.unencodable[0]["char"] == "𠮷"
    (csv_file,) = _files(settings.data_dir / "deliveries" / "nursery_csv", ".csv")
    assert "〓田花子" in csv_file.read_bytes().decode("cp932")
    store.close()


def test_strict_shift_jis_refuses_what_cp932_holds(tmp_path: Path) -> None:
    own = tmp_path / "profiles"
    own.mkdir()
    src = (Path(__file__).resolve().parents[2] / "pipeline/adapters/profiles/nursery_csv.yaml").read_text(
        encoding="utf-8"
    )
    (own / "sjis_csv.yaml").write_text(
        src.replace("name: nursery_csv", "name: sjis_csv").replace("encoding: cp932", "encoding: shift_jis"),
        encoding="utf-8",
    )
    store, settings = _store(tmp_path, ["nursery_csv", "sjis_csv"], delivery_profiles_dir=own)
    doc = accept(store, dict(sample_values()[0][1], child_name="髙橋一郎", phone_mobile="090～1234～5678"))
    stats = Relay(store, settings).drain()
    by_target = {d.target: d for d in Outbox(store).list()}
    assert by_target["nursery_csv"].state == "verified"  # はしご高 and ～ are in cp932 (IBM/NEC rows)
    assert by_target["sjis_csv"].state == "failed" and stats.rejected == 1
    chars = {u["char"] for u in by_target["sjis_csv"].unencodable}
    assert chars == {"髙", "～"}
    assert "髙" in store.get_document_row(doc).message
    store.close()


def test_truncation_is_an_error_never_silent(tmp_path: Path) -> None:
    store, settings = _store(tmp_path, ["nursery_fixed"])
    doc = accept(store, dict(sample_values()[0][1], facility_1="あ" * 31))  # 62 bytes into 60
    stats = Relay(store, settings).drain()
    assert stats.rejected == 1
    (d,) = Outbox(store).list()
    assert d.state == "failed" and "facility_1" in d.last_error and "62" in d.last_error
    assert store.get_document_row(doc).status == "review"
    assert (
        not list((settings.data_dir / "deliveries").rglob("*.dat"))
        if (settings.data_dir / "deliveries").exists()
        else True
    )
    store.close()


def test_export_profile_is_the_readme_export(tmp_path: Path) -> None:
    store, settings = _store(tmp_path, ["export_utf8"])
    ids = accept_samples(store)
    assert Relay(store, settings).drain().verified == len(ids)
    (f,) = _files(settings.data_dir / "deliveries" / "export_utf8", ".csv")
    raw = f.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][:5] == ["document_id", "sha256", "page", "form_id", "application_date"]
    first = dict(zip(rows[0], rows[1], strict=True))
    values = sample_values()[0][1]
    assert first["document_id"] == str(ids[0]) and first["page"] == "1"
    assert first["care_reasons"] == "・".join(values["care_reasons"])
    assert first["child_my_number"] == "********" + values["child_my_number"][-4:]
    assert first["tax_consent"] == str(values["tax_consent"])
    store.close()


def test_crash_after_the_file_before_the_receipt_is_reconciled_not_resent(tmp_path: Path) -> None:
    """The relay wrote the batch file and died before recording the receipts: the rows stay
    `sending`; reconcile finds every key in the file's manifest, and nothing is written twice."""
    store, settings = _store(tmp_path, ["nursery_csv"])
    accept_samples(store)
    relay = Relay(store, settings)
    outbox = relay.outbox
    adapter = relay.adapter("nursery_csv")
    rows = outbox.claim("nursery_csv", 100, "dead-worker")
    records = outbox.records(rows)
    from pipeline.adapters.profile import render

    adapter.deliver_batch([render(records[d.id], adapter.profile) for d in rows[:3]])  # then "killed"
    assert {d.state for d in outbox.list()} == {"sending"}
    stats = relay.reconcile(stale_after_s=0)
    assert stats.reconciled_found == 3 and stats.reconciled_missing == len(rows) - 3 and stats.verified == 3
    stats = relay.drain()
    assert stats.verified == len(rows) - 3
    out_dir = settings.data_dir / "deliveries" / "nursery_csv"
    lines = [ln for f in _files(out_dir, ".csv") for ln in f.read_bytes().decode("cp932").splitlines()[1:]]
    keys = [ln.split(",")[0] for ln in lines]
    assert sorted(keys) == sorted(d.key for d in rows)  # each record in exactly one file, once
    store.close()


def test_nothing_is_queued_when_no_target_is_configured(tmp_path: Path) -> None:
    store, _ = _store(tmp_path, [])
    accept_samples(store)
    assert Outbox(store).list() == []
    store.close()


def test_rerun_of_an_accepted_document_does_not_queue_it_twice(tmp_path: Path) -> None:
    store, settings = _store(tmp_path, ["nursery_csv"])
    sha = "c" * 64
    accept(store, sample_values()[0][1], sha=sha)
    accept(store, sample_values()[0][1], sha=sha)  # the same file processed again
    assert len(Outbox(store).list()) == 1
    assert Relay(store, settings).drain().verified == 1
    accept(store, sample_values()[0][1], sha=sha)
    assert [d.state for d in Outbox(store).list()] == ["verified"]
    store.close()


def test_an_unknown_target_stops_at_start_up(tmp_path: Path) -> None:
    from pipeline.errors import TemplateError

    with pytest.raises(TemplateError, match="did you mean 'nursery_csv'"):
        open_store(Settings(data_dir=tmp_path, delivery_targets=["nursery_cvs"]))


def test_the_export_goes_through_the_one_writer_byte_for_byte(tmp_path: Path, monkeypatch) -> None:
    """`shinsei export --csv` writes through csv_target.write_csv (export.py). The expected bytes are
    spelled out here: BOM, CRLF, the header of the template's field names, 個人番号 masked unless
    asked, lists joined with ・, None empty, True/False, 𠮷 kept (UTF-8 holds it)."""
    from pipeline.cli.main import main
    from pipeline.settings import get_settings

    monkeypatch.setenv("SHINSEI_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        store = open_store(Settings())
        values = dict(
            sample_values()[0][1],
            child_name="𠮷田花子",
            child_my_number="123456789018",
            care_reasons=["就労", "妊娠"],
            siblings=None,
            tax_consent=True,
            signature=False,
        )
        doc = accept(store, values)
        sha = store.get_document_row(doc).sha256
        names = list(kinds())

        def expected(reveal: bool) -> bytes:
            def cell(n: str) -> str:
                v = values.get(n)
                if n == "child_my_number" and not reveal:
                    return "********9018"
                if isinstance(v, list):
                    return "・".join(v)
                return "" if v is None else str(v)

            lines = [
                ",".join(["document_id", "sha256", "page", "form_id", *names]),
                ",".join([str(doc), sha, "1", FORM, *(_quoted(cell(n)) for n in names)]),
            ]
            return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")

        out = tmp_path / "out.csv"
        for reveal in (False, True):
            args = ["export", "--csv", str(out)] + (["--include-my-number"] if reveal else [])
            assert main(args) == 0  # a second export replaces the file
            assert out.read_bytes() == expected(reveal)
            manifest = json.loads((tmp_path / ("out.csv" + MANIFEST_SUFFIX)).read_text(encoding="utf-8"))
            assert (
                manifest["records"] == 1
                and manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
            )
        rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
        assert rows[1][4 + names.index("child_name")] == "𠮷田花子"
        store.close()
    finally:
        get_settings.cache_clear()


def _quoted(text: str) -> str:
    """csv's minimal quoting, for the expected bytes above."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text


def test_a_person_accepting_writes_the_outbox_rows_in_the_same_transaction(csv_store) -> None:
    """DocumentStore.set_status(doc, "accepted") (the review page's accept) writes one pending row
    per target; when writing them fails, the status change is rolled back with them."""
    from sqlalchemy import text

    from pipeline.store.outbox import idempotency_key
    from pipeline.store.tables import DocumentRow

    store, settings = csv_store
    doc = accept(store, dict(sample_values()[0][1]))
    sha = store.get_document_row(doc).sha256
    with store.transaction() as s:  # as if the pipeline had sent it to review: no rows yet
        s.execute(text("DELETE FROM deliveries"))
        s.get(DocumentRow, doc).status = "review"
    with store.transaction() as s:
        s.execute(
            text(
                "CREATE TRIGGER no_outbox BEFORE INSERT ON deliveries "
                "BEGIN SELECT RAISE(ABORT, 'outbox refused'); END"
            )
        )
    with pytest.raises(Exception, match="outbox refused"):
        store.set_status(doc, "accepted", "reviewer1")
    assert store.get_document_row(doc).status == "review" and Outbox(store).list() == []
    with store.transaction() as s:
        s.execute(text("DROP TRIGGER no_outbox"))
    assert store.set_status(doc, "accepted", "reviewer1")
    rows = Outbox(store).list()
    assert sorted(d.target for d in rows) == sorted(settings.delivery_targets)
    assert {d.state for d in rows} == {"pending"}
    assert {d.key for d in rows} == {idempotency_key(sha, 0, t) for t in settings.delivery_targets}
    assert Relay(store, settings).drain().verified == len(settings.delivery_targets)


def test_a_clerk_accepting_on_the_review_page_writes_the_outbox_rows(csv_store) -> None:
    """The review page accepts through ReviewDesk (the document page and the field queues); its
    accept writes one pending row per target in the same transaction, like set_status."""
    from sqlalchemy import text

    from pipeline.store.reviewing import ReviewDesk
    from pipeline.store.tables import DocumentRow

    store, settings = csv_store
    desk = ReviewDesk(store)
    docs = [accept(store, dict(values)) for _, values in sample_values()[:2]]
    with store.transaction() as s:  # as if the pipeline had sent both to review: no rows yet
        s.execute(text("DELETE FROM deliveries"))
        for doc in docs:
            s.get(DocumentRow, doc).status = "review"
    desk.claim(docs[0], "clerk1", 600)
    desk.accept(docs[0], "clerk1")
    assert desk.accept_settled(docs[1], "clerk1", "field queue")
    rows = Outbox(store).list()
    assert sorted((d.document_id, d.target) for d in rows) == sorted(
        (doc, t) for doc in docs for t in settings.delivery_targets
    )
    assert {d.state for d in rows} == {"pending"}


def test_the_morning_report_reads_the_real_outbox(csv_store) -> None:
    """The report's delivery sections (pipeline/report) on the `deliveries` table the outbox
    writes: verified rows, a refused 外字 row with its character and field, per target and state."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from pipeline.report import make_report

    store, settings = csv_store
    accept_samples(store)
    accept(store, dict(sample_values()[0][1], child_name="𠮷田花子"))
    stats = Relay(store, settings).drain()
    n = len(sample_values())
    assert stats.verified == 2 * n and stats.rejected == 2
    day = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    report = make_report(store.engine, day, settings.timezone)
    sec = report.section("deliveries")
    assert sec.missing is None
    t = sec.table("by_state").df
    got = {(r["送信先"], r["状態コード"]): (r["当日"], r["計"]) for _, r in t.iterrows()}
    assert got == {
        ("nursery_csv", "verified"): (n, n),
        ("nursery_csv", "failed"): (1, 1),
        ("nursery_fixed", "verified"): (n, n),
        ("nursery_fixed", "failed"): (1, 1),
    }
    assert any("失敗または結果不明の連携が2件" in note for note in sec.notes)
    chars = report.section("unencodable").table("chars").df
    assert chars[["送信先", "項目", "文字", "符号位置", "件数"]].values.tolist() == [
        ["nursery_csv", "child_name", "𠮷", "U+20BB7", 1],
        ["nursery_fixed", "child_name", "𠮷", "U+20BB7", 1],
    ]
