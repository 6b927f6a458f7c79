"""SQL target against the real databases on this machine: PostgreSQL, MariaDB (PyMySQL) and SQLite.
Each test makes its own uniquely named database and drops it. Also the outbox's claim on
PostgreSQL: two relays claiming at once never take the same row (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipeline.adapters.profile import render
from pipeline.intake.relay import Relay
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.store.outbox import Outbox
from tests.integration.delivery_data import accept, accept_samples, maria_database, pg_database, sample_values

pytestmark = [pytest.mark.services]


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from pg_database()


@pytest.fixture
def maria_url() -> Iterator[str]:
    yield from maria_database()


def _round_trip(tmp_path: Path, target_url: str) -> None:
    settings = Settings(
        data_dir=tmp_path,
        delivery_targets=["nursery_sql"],
        delivery_options={"nursery_sql": {"url": target_url}},
        delivery_retry_wait_max_s=0.1,
    )
    store = open_store(settings)
    try:
        accept_samples(store)
        samples = sample_values()
        relay = Relay(store, settings)
        stats = relay.drain()
        assert stats.verified == len(samples), stats.errors
        rows = Outbox(store).list()
        engine = create_engine(relay.adapter("nursery_sql").engine.url)
        with engine.connect() as c:
            table = list(c.execute(text("SELECT * FROM nursery_applications ORDER BY id")).mappings())
        assert len(table) == len(samples)
        by_key = {r["idempotency_key"]: r for r in table}
        for d, (_, values) in zip(rows, samples, strict=True):
            r = by_key[d.key]
            assert str(r["id"]) == d.receipt["ref"]
            assert (
                r["child_name"] == values["child_name"]
                and r["child_birth_date"] == values["child_birth_date"]
            )
            assert r["care_reasons"] == ",".join(
                {
                    "就労": "01",
                    "妊娠・出産": "02",
                    "疾病・障害": "03",
                    "介護・看護": "04",
                    "求職活動": "05",
                    "就学": "06",
                    "その他": "99",
                }[x]
                for x in values["care_reasons"]
            )
        # Sending a record again upserts on the key: same row id, no second row.
        adapter = relay.adapter("nursery_sql")
        first = rows[0]
        rec = relay.outbox.records([first])[first.id]
        again = adapter.deliver(render(rec, adapter.profile))
        assert again.ref == first.receipt["ref"]
        with engine.connect() as c:
            assert c.scalar(text("SELECT count(*) FROM nursery_applications")) == len(samples)
        # A 4-byte character goes through UTF-8 targets (utf8mb4 on MariaDB) and reads back equal.
        accept(store, dict(samples[0][1], child_name="𠮷野家花子"))
        assert relay.drain().verified == 1
        with engine.connect() as c:
            assert (
                c.scalar(text("SELECT count(*) FROM nursery_applications WHERE child_name = '𠮷野家花子'"))
                == 1
            )
        # Someone changes the row behind shinsei's back: verification reports it.
        with engine.begin() as c:
            c.execute(
                text("UPDATE nursery_applications SET child_name = 'X' WHERE id = :i"),
                {"i": int(first.receipt["ref"])},
            )
        diffs = adapter.verify(render(rec, adapter.profile), adapter.find(first.key))
        assert [d.column for d in diffs] == ["child_name"]
        engine.dispose()
        relay.close()
    finally:
        store.close()


def test_sql_target_postgresql(tmp_path: Path, pg_url: str) -> None:
    _round_trip(tmp_path, pg_url)


def test_sql_target_mariadb(tmp_path: Path, maria_url: str) -> None:
    _round_trip(tmp_path, maria_url)


def test_sql_target_sqlite(tmp_path: Path) -> None:
    _round_trip(tmp_path, f"sqlite:///{tmp_path / 'city.sqlite3'}")


def test_sql_target_down_waits_and_delivers_later(tmp_path: Path) -> None:
    """A database that refuses connections: the row goes back to pending with a due time, and is
    delivered once the database answers."""
    settings = Settings(
        data_dir=tmp_path,
        delivery_targets=["nursery_sql"],
        delivery_options={"nursery_sql": {"url": "postgresql+psycopg2://postgres@127.0.0.1:1/none"}},
        delivery_retry_attempts=2,
        delivery_retry_wait_max_s=0.05,
        delivery_retry_after_s=0,
    )
    store = open_store(settings)
    accept(store, sample_values()[0][1])
    stats = Relay(store, settings).drain(max_rounds=1)
    (d,) = Outbox(store).list()
    assert (
        stats.retry_later == 1 and d.state == "pending" and d.attempts == 1 and "unavailable" in d.last_error
    )
    good = settings.model_copy(
        update={"delivery_options": {"nursery_sql": {"url": f"sqlite:///{tmp_path / 'c.db'}"}}}
    )
    assert Relay(store, good).drain().verified == 1
    store.close()


def test_postgres_outbox_claims_never_overlap(tmp_path: Path, pg_url: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=pg_url, delivery_targets=["nursery_csv"])
    store = open_store(settings)
    for _ in range(6):
        for _, v in sample_values():
            accept(store, v)
    total = len(Outbox(store).list(limit=1000))
    got: list[list[int]] = [[], [], [], []]
    barrier = threading.Barrier(4)

    def grab(i: int) -> None:
        ob = Outbox(open_store(pg_url))
        barrier.wait()
        while rows := ob.claim("nursery_csv", 3, f"w{i}"):
            got[i] += [r.id for r in rows]
        ob.db.close()

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [x for g in got for x in g]
    assert len(claimed) == total and len(set(claimed)) == total
    assert sum(1 for g in got if g) >= 2  # the claims really ran side by side
    store.close()


def test_a_target_that_silently_changes_a_value_is_caught_by_read_back(tmp_path: Path) -> None:
    """A target database with a trigger that cuts 住所 to 10 characters, as some old schemas
    do: the delivery has a receipt but is not `verified`; it fails and names the column."""
    city = tmp_path / "city.sqlite3"
    settings = Settings(
        data_dir=tmp_path,
        delivery_targets=["nursery_sql"],
        delivery_options={"nursery_sql": {"url": f"sqlite:///{city}"}},
    )
    store = open_store(settings)
    accept(store, sample_values()[0][1])
    assert Relay(store, settings).drain().verified == 1  # makes the table
    engine = create_engine(f"sqlite:///{city}")
    with engine.begin() as c:
        c.execute(
            text(
                "CREATE TRIGGER cut AFTER INSERT ON nursery_applications BEGIN "
                "UPDATE nursery_applications SET address = substr(address, 1, 10) WHERE id = NEW.id; END"
            )
        )
    engine.dispose()
    doc = accept(store, sample_values()[1][1])
    stats = Relay(store, settings).drain()
    assert stats.delivered == 1 and stats.verified == 0 and stats.failed == 1
    (d,) = [x for x in Outbox(store).list() if x.document_id == doc]
    assert d.state == "failed" and d.receipt["ref"] and d.last_error.endswith("in: address")
    assert sample_values()[1][1]["address"] not in d.last_error  # no personal data in the message
    store.close()
