"""Configuration: environment variables with the `SHINSEI_` prefix, or lines in a `.env` file.

Built once by `get_settings()` and passed explicitly; nothing else reads `os.environ`.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHINSEI_", env_file=".env", extra="forbid")

    data_dir: Path = Field(default=Path("data"), description="scans, crops, quarantine and the SQLite file")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default sqlite in data_dir")
    templates_dir: Path = Field(default=REPO_ROOT / "templates_forms")

    # Input limits: a file over any of these is quarantined, not processed.
    max_file_bytes: int = 200 * 1024 * 1024
    max_pages: int = 50
    max_pixels: int = 60_000_000  # per page; A3 at 600 dpi is ~70M, A4 at 600 dpi ~35M
    pdf_dpi: int = 300

    # Working resolution after alignment: OCR crops are cut from the page warped to this dpi.
    work_dpi: int = 150
    ocr_threads: int = 2

    # Routing: field confidence thresholds (min per-character probability), by kind, then default.
    confidence_default: float = 0.90
    confidence_by_kind: dict[str, float] = Field(default_factory=dict)
    qa_sample_rate: float = Field(
        default=0.02, ge=0, le=1, description="share of auto-accepted documents sent to review as QA"
    )

    # The day date ranges are measured from; None means today (set it to re-read old batches).
    reference_date: date | None = None

    # Cross-field business rules (city-configurable).
    min_age_days_at_start: int = 57
    max_class_age: int = 5

    # Broker (issue: scale-out); None means embedded in-process mode.
    broker_url: str | None = None
    result_backend: str | None = None

    # Queue and workers (docs/deploy.md). A document task is one scanned file.
    worker_concurrency: int = Field(default=2, ge=1, description="OCR processes per `shinsei worker`")
    task_soft_time_limit_s: int = Field(default=240, ge=1, description="a document task is asked to stop")
    task_time_limit_s: int = Field(default=300, ge=1, description="... and its process is killed")
    task_max_retries: int = Field(default=3, ge=0, description="retries after a transient error")
    task_max_attempts: int = Field(
        default=5, ge=1, description="starts of one document before it is parked as failed"
    )
    requeue_after_s: int = Field(
        default=1800, ge=1, description="a `processing` document nobody started for this long is queued again"
    )
    # Claims that expire with their holder (docs/deploy.md "Leases and the visibility timeout").
    claim_lease_s: float = Field(
        default=45, gt=0, description="a claim lapses this long after its last heartbeat"
    )
    claim_heartbeat_s: float = Field(
        default=10, gt=0, description="the running document's holder renews it this often"
    )
    worker_host: str = Field(
        default="",
        description="host name in a claim's holder (host:pid); empty: this machine's hostname. Set it "
        "where containers share a hostname, so a dead holder's pid is only checked on its own host",
    )
    requeue_every_s: float = Field(
        default=30, gt=0, description="each worker looks for stuck documents this often"
    )
    requeue_unstarted_s: float = Field(
        default=60, gt=0, description="never started this long and no message in the broker: queued again"
    )
    worker_max_memory_kb: int = Field(
        default=800_000,
        description="KiB; a worker process past this after a task is replaced (~1.5× its peak)",
    )

    # Hot folder (`shinsei watch`).
    hotfolder_stable_s: float = Field(default=5.0, ge=0, description="size and mtime unchanged this long")
    hotfolder_done_marker: bool = Field(default=False, description="take `X` only once `X.done` exists")
    hotfolder_recursive: bool = False
    hotfolder_polling: bool = Field(default=False, description="poll instead of inotify (network shares)")

    # Nightly batch.
    nightly_at: str = Field(default="02:00", pattern=r"^\d{1,2}:\d{2}$", description="local time, HH:MM")
    timezone: str = "Asia/Tokyo"
    export_dir: Path | None = Field(default=None, description="default: data_dir/exports")
    export_include_my_number: bool = False
    retention_days: int | None = Field(
        default=None, ge=1, description="purge scans and crops of settled documents older than this"
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, v: Path) -> Path:
        # Resolved once, against the folder the command was started in: a relative path would
        # name another folder (and a new, empty database) from every other working directory.
        return Path(v).expanduser().resolve()

    # Review web page (web/, `shinsei serve`).
    my_number_key_file: Path | None = Field(
        default=None,
        description="Fernet key file for 個人番号 at rest, outside data_dir; default ~/.config/shinsei/my_number.key",
    )
    review_lease_s: int = Field(default=900, ge=30, description="an opened document is held this long")
    session_hours: float = Field(default=10.0, gt=0, description="a login lasts this long")
    cookie_secure: bool = Field(default=False, description="set behind TLS: cookies only over HTTPS")
    login_max_failures: int = Field(
        default=5, ge=1, description="failed logins per name and address in 5 min"
    )

    # Delivery to legacy systems (docs/adapters.md). Targets are profile names; none by default, so
    # accepting a document writes no outbox rows until a city configures its targets.
    delivery_targets: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="profiles to deliver accepted records to (comma-separated)"
    )
    delivery_profiles_dir: Path | None = Field(default=None, description="own profiles, before the bundled")
    delivery_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description='per-profile option overrides (JSON: {"nursery_sql": {"url": …}})'
    )
    delivery_lease_s: int = Field(default=300, ge=1, description="a `sending` row older than this is unknown")
    delivery_retry_attempts: int = Field(default=4, ge=1, description="tries in a row for a transient error")
    delivery_retry_wait_max_s: float = Field(default=30.0, ge=0, description="longest wait between tries")
    delivery_retry_after_s: int = Field(default=60, ge=0, description="after the tries: wait this long")

    @field_validator("delivery_targets", mode="before")
    @classmethod
    def _split_targets(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            if v.startswith("["):
                return json.loads(v)
            return [t.strip() for t in v.split(",") if t.strip()]
        return v

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shinsei.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
