"""The RPA target for real: legacy-sim in its own process on a port of 8800-8849, keyed by
Playwright in Debian's headless Chromium. Records are the bundled samples' values saved as accepted
documents (no OCR model run). Faults are real: legacy-sim not running, a session that times out, and
the delivery process killed with SIGKILL after pressing 登録 and before the 受付番号 came back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from legacy_sim.process import SimProcess, free_port
from pipeline.intake.relay import Relay
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.store.outbox import Outbox
from tests.integration.delivery_data import accept, accept_samples, sample_values

pytestmark = [pytest.mark.services]

PORTS = (8800, 8849)
REPO = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, url: str, **kw) -> Settings:
    base = {
        "data_dir": tmp_path / "data",
        "delivery_targets": ["nursery_rpa"],
        "delivery_options": {"nursery_rpa": {"url": url, "timeout_ms": 10000}},
        "delivery_retry_wait_max_s": 0.2,
    }
    return Settings(**(base | kw))


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    s = SimProcess(tmp_path / "legacy.sqlite3", free_port(*PORTS)).start()
    yield s
    s.stop()


def test_samples_are_keyed_once_with_their_receipt_verified_and_traced(
    tmp_path: Path, sim: SimProcess
) -> None:
    settings = _settings(tmp_path, sim.url)
    store = open_store(settings)
    accept_samples(store)
    samples = sample_values()
    relay = Relay(store, settings)
    stats = relay.drain()
    assert stats.verified == len(samples), stats.errors
    rows = Outbox(store).list()
    stored = dict(sim.rows())  # 受付番号 → 外部参照番号
    assert len(stored) == len(samples)
    assert {d.receipt["ref"]: d.key for d in rows} == stored
    traces = settings.data_dir / "deliveries" / "nursery_rpa" / "traces"
    for d, (_, values) in zip(rows, samples, strict=True):
        assert (traces / d.receipt["trace"]).stat().st_size > 1000
        held = sim.detail(d.receipt["ref"])
        assert held["child_name"] == values["child_name"] and held["child_kana"] == values["child_name_kana"]
        assert held["sex"] == {"男": "1", "女": "2"}[values["child_sex"]]
    # A second run sends nothing; a record made pending again is found by its key, not re-keyed.
    assert relay.drain().claimed == 0
    Outbox(store).retry([rows[0].id], state="verified")
    again = relay.drain()
    assert again.verified == 1 and len(sim.rows()) == len(samples)
    relay.close()
    store.close()


def test_legacy_validation_error_and_unencodable_go_to_review(tmp_path: Path, sim: SimProcess) -> None:
    settings = _settings(tmp_path, sim.url)
    store = open_store(settings)
    bad_phone = accept(store, dict(sample_values()[0][1], phone_home="03-12"))
    gaiji = accept(store, dict(sample_values()[1][1], guardian_name="𠮷田一郎"))
    relay = Relay(store, settings)
    stats = relay.drain()
    relay.close()
    assert stats.rejected == 2 and sim.rows() == []
    row = store.get_document_row(bad_phone)
    assert row.status == "review" and row.reason == "target_rejected"
    assert "電話番号の形式が正しくありません" in row.message
    row = store.get_document_row(gaiji)
    assert row.status == "review" and "𠮷" in row.message and "guardian_name" in row.message
    store.close()


def test_session_timeout_logs_in_again(tmp_path: Path) -> None:
    # 3 s idle ends a session: long enough for one screen to be keyed on a slow shared machine
    # (at 1 s a loaded runner expired every screen, three restarts running), short enough to wait out.
    sim = SimProcess(tmp_path / "legacy.sqlite3", free_port(*PORTS), "--session-timeout", "3").start()
    try:
        settings = _settings(tmp_path, sim.url)
        store = open_store(settings)
        accept(store, sample_values()[0][1])
        relay = Relay(store, settings)
        assert relay.drain().verified == 1
        time.sleep(3.5)  # the session the browser holds has expired
        accept(store, sample_values()[1][1])
        assert relay.drain().verified == 1
        relay.close()
        assert len(sim.rows()) == 2
        store.close()
    finally:
        sim.stop()


def test_legacy_sim_down_deliveries_wait_and_succeed_later(tmp_path: Path) -> None:
    port = free_port(*PORTS)
    settings = _settings(
        tmp_path, f"http://127.0.0.1:{port}", delivery_retry_attempts=2, delivery_retry_after_s=0
    )
    store = open_store(settings)
    accept(store, sample_values()[0][1])
    relay = Relay(store, settings)
    stats = relay.drain(max_rounds=1)
    (d,) = Outbox(store).list()
    assert stats.retry_later == 1 and d.state == "pending" and "unreachable" in (d.last_error or "")
    sim = SimProcess(tmp_path / "legacy.sqlite3", port).start()
    try:
        assert relay.drain().verified == 1
        (d,) = Outbox(store).list()
        assert d.state == "verified" and [n for n, _ in sim.rows()] == [d.receipt["ref"]]
    finally:
        relay.close()
        sim.stop()
        store.close()


def _shinsei(settings: Settings, *args: str, **kw) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        SHINSEI_DATA_DIR=str(settings.data_dir),
        SHINSEI_DELIVERY_TARGETS=",".join(settings.delivery_targets),
        SHINSEI_DELIVERY_OPTIONS=json.dumps(settings.delivery_options),
        PYTHONPATH=str(REPO),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli.main", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


def test_delivery_killed_after_submit_before_receipt_is_reconciled_without_duplicate(tmp_path: Path) -> None:
    sim = SimProcess(tmp_path / "legacy.sqlite3", free_port(*PORTS), "--submit-delay", "30").start()
    try:
        settings = _settings(tmp_path, sim.url)
        store = open_store(settings)
        accept_samples(store)
        n = len(sample_values())
        # The delivery process, in its own process group (with its browser), like a worker.
        proc = _shinsei(settings, "outbox", "run", start_new_session=True)
        deadline = time.monotonic() + 60
        while not sim.rows():
            assert time.monotonic() < deadline and proc.poll() is None, (
                proc.stderr.read() if proc.poll() is not None else "timeout"
            )
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # stored by legacy-sim, 受付番号 not yet seen
        proc.wait()
        ((number, key),) = sim.rows()
        by_state = Counter(d.state for d in Outbox(store).list())
        assert by_state["sending"] >= 1 and by_state["verified"] == 0
        sim.stop()
        sim = SimProcess(sim.db, sim.port).start()  # the same system, answering promptly again
        rc = _shinsei(settings, "outbox", "reconcile", "--stale-after", "0").wait(120)
        assert rc == 0
        d = Outbox(store).by_key(key)
        assert d.state == "verified" and d.receipt["ref"] == number
        others = [x for x in Outbox(store).list() if x.key != key]
        assert {x.state for x in others} == {"pending"}  # in the claim, not yet keyed: safe to send
        p = _shinsei(settings, "outbox", "run")
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
        keys = Counter(k for _, k in sim.rows())
        assert len(keys) == n and set(keys.values()) == {1}  # every record once, none twice
        assert {x.state for x in Outbox(store).list()} == {"verified"}
        store.close()
    finally:
        sim.stop()
