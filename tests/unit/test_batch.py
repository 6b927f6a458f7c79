"""The nightly batch on a real SQLite store and real files: each step, exactly-once export across
days, retention, the lock, and the `shinsei batch` / `shinsei failed` commands (embedded mode)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from pipeline.cli.main import main
from pipeline.errors import TransientError
from pipeline.intake import jobs
from pipeline.intake import nightly as batch
from pipeline.result import DocumentResult, FieldResult, PageResult, Route
from pipeline.settings import Settings
from pipeline.store import Store, open_store
from pipeline.store.tables import AuditLog, DocumentRow

DAY = date(2026, 11, 24)
JST = timedelta(hours=9)
MY_NUMBER = "123456789018"


def local(d: date, hour: int) -> datetime:
    """`hour` o'clock on day `d` in Asia/Tokyo, as UTC."""
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC) - JST


def set_times(store: Store, sha: str, **values: datetime) -> None:
    with store.transaction() as s:
        s.execute(update(DocumentRow).where(DocumentRow.sha256 == sha).values(**values))


def submitted(store: Store, settings: Settings, n: int, tmp_path: Path) -> str:
    f = tmp_path / f"scan{n}.pdf"
    f.write_bytes(b"%PDF-1.4\n" + n.to_bytes(4, "big") * 32 + b"\n%%EOF\n")
    return jobs.submit(f, settings, store).sha256


def finished(store: Store, sha: str, route: Route = Route.accepted, name: str = "山田 太郎") -> None:
    fields = (
        FieldResult(
            "child_name", "text_ja", name, name, 0.99, accepted=True, crop_path=f"crops/{sha[:2]}/{sha}/x.png"
        ),
        FieldResult("child_my_number", "my_number", MY_NUMBER, MY_NUMBER, 0.99, accepted=True),
    )
    page = PageResult(0, "nursery_enrolment", "2026.1", route, fields=fields)
    store.save_document_result(
        DocumentResult(sha, "scan.pdf", route, (page,)),
        stored_path=None,
        kind="pdf",
        size_bytes=1,
        page_count=1,
    )


def export_rows(settings: Settings) -> dict[str, list[dict[str, str]]]:
    out = {}
    for f in sorted((Path(settings.data_dir) / "exports").glob("*/*.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            out[f"{f.parent.name}/{f.name}"] = list(csv.DictReader(fh))
    return out


def test_steps_are_named_in_order_and_registered_once() -> None:
    assert batch.step_names() == [
        "requeue_stuck",
        "retry_failed",
        "export_accepted",
        "purge_retention",
        "report",
    ]
    with pytest.raises(ValueError, match="registered twice"):
        batch.nightly_step("export_accepted")(lambda ctx: {})


def test_unknown_step_names_the_valid_ones(settings, store) -> None:
    with pytest.raises(ValueError, match="export_accepted"):
        batch.run_nightly(settings, store, lambda sha: None, day=DAY, only=["export"])


def test_export_is_exactly_once_across_reruns_and_days(settings, store, tmp_path) -> None:
    a, b, c = (submitted(store, settings, i, tmp_path) for i in range(3))
    for sha in (a, b, c):
        finished(store, sha)
    set_times(store, a, updated_at=local(DAY, 10))
    set_times(store, b, updated_at=local(DAY, 23))  # 23:00 JST: still that day
    set_times(store, c, updated_at=local(DAY + timedelta(days=1), 0) + timedelta(minutes=1))  # next day

    def nightly(day: date) -> dict:
        run = batch.run_nightly(settings, store, lambda sha: None, day=day, only=["export_accepted"])
        assert run.ok, run.export()
        return run.steps[0].detail

    first = nightly(DAY)
    assert first["newly_exported"] == 2 and first["records"] == 2
    rows = export_rows(settings)
    again = nightly(DAY)  # a re-run (crash after marking, or by hand) rewrites the same file
    assert again["newly_exported"] == 0 and again["records"] == 2 and export_rows(settings) == rows
    nightly(DAY + timedelta(days=1))
    rows = export_rows(settings)
    assert sorted(rows) == ["2026-11-24/nursery_enrolment.csv", "2026-11-25/nursery_enrolment.csv"]
    shas = [r["sha256"] for file_rows in rows.values() for r in file_rows]
    assert sorted(shas) == sorted([a, b, c])  # every record once, in exactly one day's file
    assert {r["sha256"] for r in rows["2026-11-25/nursery_enrolment.csv"]} == {c}
    assert {r["child_my_number"] for f in rows.values() for r in f} == {"********9018"}
    assert {r["child_name"] for f in rows.values() for r in f} == {"山田 太郎"}
    assert store.counts_by_status() == {"exported": 3}


def test_retry_failed_resubmits_only_retryable_failures(settings, store, tmp_path) -> None:
    flaky, broken = submitted(store, settings, 1, tmp_path), submitted(store, settings, 2, tmp_path)
    jobs.record_failure(store, flaky, TransientError("database temporarily unavailable"), token=None)
    jobs.record_failure(store, broken, ValueError("a bug"), token=None)
    assert store.document_states([flaky, broken])[broken].status == "quarantined"  # parked for a person
    assert store.document_states([flaky])[flaky].status == "processing"
    queued: list[str] = []
    run = batch.run_nightly(settings, store, queued.append, day=DAY, only=["requeue_stuck", "retry_failed"])
    assert run.ok and queued == [flaky]
    assert run.steps[0].detail == {"requeued": 0}  # a document with an open failed task is left to retry
    assert run.steps[1].detail == {"queued": 1}
    open_tasks = store.list_failed_tasks()
    assert [(t.document_sha256, t.retryable) for t in open_tasks] == [(broken, False)]


def test_requeue_stuck_finds_lost_messages_and_dead_claims(settings, store, tmp_path) -> None:
    lost, fresh, dead, running = (submitted(store, settings, i, tmp_path) for i in range(4))
    now = datetime.now(UTC)
    set_times(store, lost, submitted_at=now - timedelta(hours=2))
    for sha, age in ((dead, timedelta(hours=1)), (running, timedelta(seconds=5))):
        assert (
            store.begin_attempt(sha, f"task-{sha[:4]}", "host:1", lease_s=45, max_attempts=5).action == "run"
        )
        # the dead holder's last heartbeat was an hour ago; the running one's lease still holds
        set_times(store, sha, claimed_at=now - age, lease_until=now - age + timedelta(seconds=45))
    queued: list[str] = []
    run = batch.run_nightly(settings, store, queued.append, day=DAY, only=["requeue_stuck"])
    assert sorted(queued) == sorted([lost, dead]) and run.steps[0].detail == {"requeued": 2}
    # the dead claim is cleared, so the new message is not "busy"
    assert store.begin_attempt(dead, "new-task", "host:2", lease_s=360, max_attempts=5).action == "run"
    assert store.begin_attempt(running, "other", "host:3", lease_s=360, max_attempts=5).action == "busy"


def test_purge_deletes_old_scans_and_crops_but_keeps_the_record(settings, tmp_path) -> None:
    settings = settings.model_copy(update={"retention_days": 30})
    store = open_store(settings)
    data = Path(settings.data_dir)
    old, recent, in_review = (submitted(store, settings, i, tmp_path) for i in range(3))
    for sha in (old, recent):
        finished(store, sha)
        store.set_status(sha, "exported", "batch")
    finished(store, in_review, Route.review)
    for sha in (old, recent, in_review):
        crop = data / "crops" / sha[:2] / sha / "x.png"
        crop.parent.mkdir(parents=True, exist_ok=True)
        crop.write_bytes(b"png")
    now = datetime.now(UTC)
    set_times(store, old, updated_at=now - timedelta(days=31))
    set_times(store, in_review, updated_at=now - timedelta(days=90))  # a person still needs it
    run = batch.run_nightly(settings, store, lambda s: None, day=DAY, only=["purge_retention"])
    assert run.steps[0].detail == {"documents": 1, "files": 2}
    assert (
        not list((data / "originals" / old[:2]).glob(old + "*"))
        and not (data / "crops" / old[:2] / old).exists()
    )
    for sha in (recent, in_review):
        assert (
            list((data / "originals" / sha[:2]).glob(sha + "*")) and (data / "crops" / sha[:2] / sha).exists()
        )
    doc = store.get_document(old)
    assert doc is not None and doc.pages[0].fields[0].value == "山田 太郎"  # the record stays
    assert doc.pages[0].fields[0].crop_path is None and doc.extra["purged_at"]
    assert store.get_document_row(old).status == "exported" and len(store.status_history(old)) >= 2
    with store.session() as s:
        assert s.scalars(select(AuditLog.action).where(AuditLog.action == "purge")).all() == ["purge"]
    again = batch.run_nightly(settings, store, lambda s: None, day=DAY, only=["purge_retention"])
    assert again.steps[0].detail == {"documents": 0, "files": 0}
    store.close()


def test_purge_is_off_until_retention_is_set(settings, store) -> None:
    run = batch.run_nightly(settings, store, lambda s: None, day=DAY, only=["purge_retention"])
    assert run.steps[0].detail == {"skipped": "retention_days is not set"}


def test_a_second_batch_does_nothing_while_one_runs(settings, store) -> None:
    with store.nightly_lock(Path(settings.data_dir)) as got:
        assert got
        run = batch.run_nightly(settings, store, lambda s: None, day=DAY)
        assert run.skipped and not run.steps and not run.ok
    assert batch.run_nightly(settings, store, lambda s: None, day=DAY).ok


def test_a_failing_step_does_not_stop_the_others(settings, store, monkeypatch) -> None:
    def boom(ctx):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batch, "NIGHTLY_STEPS", [("boom", boom), *batch.NIGHTLY_STEPS])
    run = batch.run_nightly(settings, store, lambda s: None, day=DAY)
    assert [s.ok for s in run.steps] == [False, True, True, True, True, True]
    assert run.steps[0].error == "RuntimeError: disk full" and not run.ok
    with store.session() as s:
        detail = s.scalars(select(AuditLog.detail).where(AuditLog.action == "batch_nightly")).one()
    assert detail["steps"][0]["name"] == "boom"


def test_default_day_is_yesterday_in_tokyo() -> None:
    s = Settings()
    assert batch.default_day(s, datetime(2026, 11, 25, 16, 30, tzinfo=UTC)) == date(
        2026, 11, 25
    )  # 01:30 JST on 26th
    assert batch.default_day(s, datetime(2026, 11, 25, 14, 30, tzinfo=UTC)) == date(2026, 11, 24)


# --- the commands, embedded mode (no broker) ---


def test_batch_nightly_command(cli_env, capsys) -> None:
    assert main(["batch", "nightly", "--date", "2026-11-24", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["day"] == "2026-11-24" and [s["name"] for s in out["steps"]] == batch.step_names()
    with pytest.raises(SystemExit) as exc:
        main(["batch", "nightly", "--step", "nope"])
    assert exc.value.code == 2 and "export_accepted" in capsys.readouterr().err  # argparse lists the steps
