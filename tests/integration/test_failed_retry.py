"""`shinsei failed retry` in embedded mode with the real pipeline (loads the OCR model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.errors import TransientError
from pipeline.intake import jobs
from pipeline.store import open_store

pytestmark = pytest.mark.model


def test_failed_retry_runs_the_document_in_process_without_a_broker(cli_env, capsys, tmp_path) -> None:
    """`shinsei failed list` / `retry ID` in embedded mode: the retried document is processed here
    with the real pipeline (a blank application form → review)."""
    from PIL import Image

    store = open_store(cli_env)
    form = tmp_path / "form.png"
    Image.open(Path(cli_env.templates_dir) / "nursery_enrolment" / "blank.png").save(form)
    sha = jobs.submit(form, cli_env, store).sha256
    jobs.record_failure(store, sha, TransientError("database temporarily unavailable"), token=None)
    assert main(["failed", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(t["document_sha256"], t["retryable"]) for t in listed] == [(sha, True)]
    assert main(["failed", "retry", str(listed[0]["id"])]) == 0
    assert store.document_states([sha])[sha].status == "review"
    assert store.list_failed_tasks() == []
    assert main(["failed", "retry"]) == 2  # neither an id nor --all
    assert main(["failed", "retry", "999"]) == 2
    store.close()
