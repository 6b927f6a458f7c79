"""Fixtures for the review page's HTTP tests: a real app on a copy of a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.review_support import PASSWORD, build_golden, copy_data, csrf_of, settings_for


@pytest.fixture(scope="session")
def golden(engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_golden(engine, tmp_path_factory.mktemp("review"))


@pytest.fixture
def app_settings(golden: tuple[Path, Path], tmp_path: Path):
    data = copy_data(golden[0], tmp_path / "data")
    return settings_for(data, golden[1])


@pytest.fixture
def app(app_settings):
    from pipeline.store.reviewing import ReviewDesk
    from web.app import create_app
    from web.security import hash_password

    application = create_app(app_settings)
    review: ReviewDesk = application.state.review
    for name, role in (("clerk1", "reviewer"), ("clerk2", "reviewer"), ("boss", "supervisor")):
        review.add_user(name, role, hash_password(PASSWORD))
    yield application
    application.state.store.close()


def login(app, name: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    if r.status_code != 303:
        raise AssertionError(f"login as {name} failed: {r.status_code}")
    return client


@pytest.fixture
def clients(app) -> Iterator[dict[str, TestClient]]:
    yield {n: login(app, n) for n in ("clerk1", "clerk2", "boss")}
