"""Real documents for the review page's tests: the real pipeline runs once per test session on two
bundled samples into a SQLite store; each test gets a copy of that data folder (same key file,
outside the data folders), so tests never share state and the OCR model runs only once."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "samples" / "demo"
SAMPLES = ("doc_0001.png", "doc_0002.jpg")
PASSWORD = "correct horse 1"


def truth(sample: str) -> dict:
    return json.loads((DEMO / (Path(sample).stem + ".json")).read_text())["pages"][0]["values"]


def my_numbers() -> list[str]:
    return [truth(s)["child_my_number"] for s in SAMPLES]


def settings_for(data_dir: Path, key_file: Path, database_url: str | None = None, **kw: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        my_number_key_file=key_file,
        database_url=database_url,
        **({"qa_sample_rate": 0.0} | kw),
    )


def build_golden(engine: object, base: Path) -> tuple[Path, Path]:
    """Run the pipeline on SAMPLES into base/golden; returns (data dir, key file)."""
    from pipeline.intake.receive import process_received, receive
    from pipeline.store import open_store

    data, key = base / "golden", base / "keys" / "my_number.key"
    settings = settings_for(data, key)
    store = open_store(settings)
    for name in SAMPLES:
        rec = receive(DEMO / name, data, store)
        process_received(rec, engine, store, data)  # type: ignore[arg-type]
    store.close()
    return data, key


def copy_data(golden: Path, dest: Path) -> Path:
    shutil.copytree(golden, dest)
    return dest


def csrf_of(html: str) -> str:
    m = re.search(r'data-csrf="([^"]+)"', html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    if m is None:
        raise AssertionError("no CSRF token in the page")
    return m.group(1)
