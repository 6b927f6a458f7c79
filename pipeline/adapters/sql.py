"""SQL target: one row per record in a configured table on PostgreSQL, MariaDB/MySQL (PyMySQL) or
SQLite, upserted on the idempotency key, so sending a record twice leaves one row. The receipt is
the row id.

Options: `url` (SQLAlchemy URL, required: `postgresql+psycopg2://…`, `mysql+pymysql://…`,
`sqlite:///…`), `table` (required), `key_column` ("idempotency_key"), `id_column` ("id"),
`create_table` (false: the city's table normally exists; true makes it, with every column TEXT).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    inspect,
    make_url,
    select,
)
from sqlalchemy.exc import DBAPIError, OperationalError

from pipeline.adapters.base import Adapter, Receipt, Rendered
from pipeline.adapters.profile import TargetProfile
from pipeline.errors import TemplateError, TransientError
from pipeline.settings import Settings
from pipeline.store.db import is_transient

_DOWN = ("can't connect", "lost connection", "gone away", "connection refused", "could not connect")


class SqlAdapter(Adapter):
    kind = "sql"

    def __init__(self, profile: TargetProfile, settings: Settings) -> None:
        super().__init__(profile, settings)
        url, table = profile.option("url"), profile.option("table")
        if not url or not table:
            raise TemplateError(f"target {profile.name}: a sql profile needs options url and table")
        u = make_url(str(url))
        if u.get_backend_name() == "sqlite" and u.database and not Path(u.database).is_absolute():
            path = Path(settings.data_dir) / u.database  # a relative file lives in the data folder
            path.parent.mkdir(parents=True, exist_ok=True)
            u = u.set(database=str(path.resolve()))
        if u.get_backend_name() in ("mysql", "mariadb") and "charset" not in u.query:
            u = u.update_query_dict({"charset": "utf8mb4"})  # 4-byte kanji such as 𠮷 need utf8mb4
        self.key_column = str(profile.option("key_column", "idempotency_key"))
        self.id_column = str(profile.option("id_column", "id"))
        self._url = u
        self._engine: Engine | None = None
        meta = MetaData()
        cols: list[Column[Any]] = [
            Column(self.id_column, Integer, primary_key=True, autoincrement=True),
            Column(self.key_column, String(128), nullable=False, unique=True),
        ]
        cols += [
            Column(c.column, Text)
            for c in profile.columns
            if c.column not in (self.key_column, self.id_column)
        ]
        self.table = Table(str(table), meta, *cols)
        self._checked = False

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self._url, pool_pre_ping=True)
        return self._engine

    def _ready(self) -> None:
        if self._checked:
            return
        with _mapped():
            if self.profile.option("create_table", False):
                self.table.metadata.create_all(self.engine, checkfirst=True)
            elif not inspect(self.engine).has_table(self.table.name):
                raise TemplateError(
                    f"target {self.name}: table {self.table.name!r} does not exist at the target"
                )
        self._checked = True

    def _values(self, rendered: Rendered) -> dict[str, Any]:
        vals: dict[str, Any] = {self.key_column: rendered.key}
        for f in rendered.fields:
            if f.column not in (self.key_column, self.id_column):
                vals[f.column] = f.as_sent
        return vals

    def deliver(self, rendered: Rendered) -> Receipt:
        self._ready()
        vals = self._values(rendered)
        update = {k: v for k, v in vals.items() if k != self.key_column}
        dialect = self.engine.dialect.name
        t = self.table
        with _mapped(), self.engine.begin() as conn:
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                stmt = pg_insert(t).values(**vals)
                stmt = stmt.on_conflict_do_update(index_elements=[t.c[self.key_column]], set_=update)
            elif dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                stmt = sqlite_insert(t).values(**vals)
                stmt = stmt.on_conflict_do_update(index_elements=[t.c[self.key_column]], set_=update)
            elif dialect in ("mysql", "mariadb"):
                from sqlalchemy.dialects.mysql import insert as my_insert

                stmt = my_insert(t).values(**vals).on_duplicate_key_update(**update)
            else:
                raise TemplateError(f"target {self.name}: unsupported database {dialect!r}")
            conn.execute(stmt)
            row_id = conn.scalar(select(t.c[self.id_column]).where(t.c[self.key_column] == rendered.key))
        return Receipt(str(row_id), {"table": t.name, "id": int(row_id)})

    def read_back(self, receipt: Receipt) -> dict[str, str] | None:
        self._ready()
        t = self.table
        with _mapped(), self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c[self.id_column] == int(receipt.ref))).mappings().first()
        if row is None:
            return None
        return {
            c.column: ("" if row.get(c.column) is None else str(row.get(c.column)))
            for c in self.profile.columns
        }

    def find(self, key: str) -> Receipt | None:
        self._ready()
        t = self.table
        with _mapped(), self.engine.connect() as conn:
            row_id = conn.scalar(select(t.c[self.id_column]).where(t.c[self.key_column] == key))
        return None if row_id is None else Receipt(str(row_id), {"table": t.name, "id": int(row_id)})

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class _mapped:
    """Database unreachable → TransientError (the message: the driver's first line, no values)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> bool:
        if isinstance(exc, DBAPIError):
            first = (str(exc.orig) if exc.orig is not None else type(exc).__name__).strip().splitlines()
            line = first[0] if first else ""
            down = isinstance(exc, OperationalError) and any(m in line.lower() for m in _DOWN)
            if down or is_transient(exc):
                raise TransientError(f"target database unavailable: {line}") from exc
        return False
