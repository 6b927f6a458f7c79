"""Engine, sessions, schema upgrades and error mapping for the store.

`open_store(settings_or_url)` is the entry point: it makes the engine (SQLite: WAL, 30 s busy timeout,
foreign keys; PostgreSQL: pre-ping), runs `alembic upgrade head`, and returns a `Store`.
Database errors that may pass on retry (locked SQLite file, refused connection, serialisation
failure) are raised as `pipeline.errors.TransientError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.errors import TransientError
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.store.repo import Store

STORE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = STORE_DIR / "alembic.ini"
MIGRATIONS_DIR = STORE_DIR / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30

# PostgreSQL advisory locks (two-int4 key space: namespace, key).
PG_LOCK_NAMESPACE = 0x5348_4E53  # "SHNS"
PG_LOCK_MIGRATION = 1
PG_LOCK_AUDIT = 2
PG_LOCK_NIGHTLY = 3  # held (session lock) while a nightly batch runs

_TRANSIENT_MESSAGES = (
    "database is locked",
    "database table is locked",
    "connection refused",
    "could not connect",
    "server closed the connection",
    "connection reset",
    "connection timed out",
    "timeout expired",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
    "too many clients",
)
# serialization_failure, deadlock_detected, lock_not_available, admin/crash shutdown, cannot_connect_now,
# too_many_connections
_TRANSIENT_PGCODES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"})


def is_transient(exc: BaseException) -> bool:
    """True when `exc` is a database error that retrying later may cure."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or getattr(exc.orig, "pgcode", None) in _TRANSIENT_PGCODES:
        return True
    text_ = str(exc.orig if exc.orig is not None else exc).lower()
    return any(m in text_ for m in _TRANSIENT_MESSAGES)


@contextlib.contextmanager
def transient_errors() -> Iterator[None]:
    """Re-raise retryable database errors as TransientError (message: the driver's first line only,
    never the SQL parameters, which may hold field values)."""
    try:
        yield
    except DBAPIError as exc:
        if is_transient(exc):
            first = str(exc.orig if exc.orig is not None else type(exc).__name__).strip().splitlines()
            raise TransientError(f"database temporarily unavailable: {first[0] if first else ''}") from exc
        raise


def resolve_url(settings_or_url: Settings | str | URL) -> URL:
    if isinstance(settings_or_url, Settings):
        return make_url(settings_or_url.resolved_database_url())
    return make_url(settings_or_url)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
    finally:
        cur.close()


def make_engine(settings_or_url: Settings | str | URL) -> Engine:
    url = resolve_url(settings_or_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(**attributes: Any) -> Config:
    """Alembic Config for the store's migrations, independent of the working directory."""
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.attributes["programmatic"] = True  # env.py leaves the application's logging alone
    cfg.attributes.update(attributes)
    return cfg


def _lock_for_write(conn: Connection, pg_key: int | None = None) -> None:
    """Start a transaction that holds the write lock: SQLite BEGIN IMMEDIATE (waits up to the busy
    timeout); PostgreSQL an advisory transaction lock when `pg_key` is given."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql" and pg_key is not None:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": PG_LOCK_NAMESPACE, "key": pg_key}
        )


def upgrade_engine(engine: Engine) -> None:
    """`alembic upgrade head` on `engine`, serialised against other processes doing the same."""
    with transient_errors(), engine.connect() as conn:
        _lock_for_write(conn, PG_LOCK_MIGRATION)
        command.upgrade(alembic_config(connection=conn), "head")
        conn.commit()


def upgrade_database(url: str | URL) -> None:
    """Bring the schema at `url` to the newest revision (creates every table on an empty database)."""
    engine = make_engine(url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


class Database:
    """An engine and its sessions. `session()` for reads, `transaction()` for writes (committed on
    success, rolled back on error). Objects loaded stay usable after the session closes
    (expire_on_commit=False) but relationships not loaded then cannot be loaded later."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with transient_errors(), self.sessions() as s:
            yield s

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction. On SQLite it starts with BEGIN IMMEDIATE, so writers queue up (for
        up to the busy timeout) instead of failing half-way on a stale snapshot."""
        with transient_errors(), self.sessions() as s, s.begin():
            _lock_for_write(s.connection())
            yield s

    def close(self) -> None:
        self.engine.dispose()


def open_store(settings_or_url: Settings | str | URL, *, upgrade: bool = True) -> Store:
    """Open (and by default migrate) the store named by settings (`resolved_database_url()`) or a URL."""
    from pipeline.store.repo import Store

    engine = make_engine(settings_or_url)
    try:
        if upgrade:
            upgrade_engine(engine)
    except BaseException:
        engine.dispose()
        raise
    store = Store(engine)
    if isinstance(settings_or_url, Settings) and settings_or_url.delivery_targets:
        from pipeline.store.outbox import configured_targets

        try:
            store.delivery_targets = configured_targets(settings_or_url)
        except BaseException:
            engine.dispose()
            raise
    return store
