"""Fixtures shared by every test directory.

tests/unit         no services and no OCR model (tests/unit/conftest.py refuses to load it)
tests/integration  the real OCR model (marker `model`) and/or PostgreSQL, Redis, Celery workers
                   (marker `services`); also the sample generator's tests, which render pages
                   with real fonts for a minute and so do not fit the unit suite's time
tests/e2e          the browser tests of the review page (see tests/e2e/README.md)

Select with markers: `pytest -m "not model and not services"`, `pytest tests/unit`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from bench.queue_rig import create_pg_database, drop_pg_database
from pipeline.settings import Settings, get_settings
from pipeline.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo"


@pytest.fixture(scope="session")
def engine():
    """The real engine (templates + ONNX model), loaded once per test session."""
    from pipeline.run import Engine

    return Engine.load(Settings(data_dir=Path("/nonexistent-not-used")))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fresh data directory (SQLite store, originals, crops) under tmp_path, and
    the 個人番号 key file beside it (never in the user's home)."""
    return Settings(data_dir=tmp_path / "data", my_number_key_file=tmp_path / "keys" / "my_number.key")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """An embedded SQLite store in the test's data directory."""
    s = open_store(settings)
    yield s
    s.close()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Environment for calling `pipeline.cli.main.main` in embedded mode (no broker, SQLite)."""
    for k in ("SHINSEI_BROKER_URL", "SHINSEI_DATABASE_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("SHINSEI_DATA_DIR", str(tmp_path / "cli-data"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def new_pg_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of its own (127.0.0.1:5432, user postgres), dropped at the end.
    Never skipped: a missing server fails the test."""
    try:
        name, url = create_pg_database(prefix)
    except psycopg2.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not answering at 127.0.0.1:5432 as user postgres ({exc}). "
            "Start the server (scripts/services.sh; CI does); these tests do not skip it.",
            pytrace=False,
        )
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """One PostgreSQL database for the whole session."""
    yield from new_pg_database("shinsei_test")


@pytest.fixture(scope="module")
def module_pg_url() -> Iterator[str]:
    """A PostgreSQL database for one test module, for tests that seed fixed ids."""
    yield from new_pg_database("shinsei_module")
