"""The `delivery` queue for real: a private redis-server, a fresh PostgreSQL store and a real
`celery -A workers worker` process; `shinsei.deliver.all` is sent with `celery call` and the
worker's relay moves the outbox rows into the target."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.queue_rig import BIN, ROOT, Rig, wait_for
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.store.outbox import Outbox
from tests.integration.delivery_data import accept_samples, sample_values

pytestmark = [pytest.mark.services]


def test_delivery_task_on_the_delivery_queue(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "rig", extra_env={"SHINSEI_DELIVERY_TARGETS": "nursery_csv"})
    try:
        store = open_store(
            Settings(data_dir=rig.data_dir, database_url=rig.db_url, delivery_targets=["nursery_csv"])
        )
        accept_samples(store)
        n = len(sample_values())
        assert len(Outbox(store).list(state="pending")) == n
        worker = rig.worker("dlv", 1)
        worker.wait_ready()
        cmd = [str(BIN / "celery"), "-A", "workers", "call", "shinsei.deliver.all", "--queue", "delivery"]
        subprocess.run(cmd, cwd=ROOT, env=rig.env, check=True, capture_output=True, timeout=60)
        wait_for(
            lambda: len(Outbox(store).list(state="verified")) == n, 60, "deliveries verified by the worker"
        )
        (csv_file,) = (rig.data_dir / "deliveries" / "nursery_csv").glob("nursery_csv_*.csv")
        assert csv_file.read_bytes().decode("cp932").count("\r\n") == n + 1
        assert "shinsei.deliver.all" in worker.log()
        store.close()
    finally:
        rig.close()
