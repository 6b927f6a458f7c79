"""Configuration: environment variables with the `SHINSEI_` prefix, or a `shinsei.toml`/`.env`.

Built once by `get_settings()` and passed explicitly; nothing else reads `os.environ`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    qa_sample_rate: float = 0.0

    # Cross-field business rules (city-configurable).
    min_age_days_at_start: int = 57
    max_class_age: int = 5

    # Broker (issue: scale-out); None means embedded in-process mode.
    broker_url: str | None = None
    result_backend: str | None = None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shinsei.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
