"""The report as one self-contained HTML page (Jinja2, autoescaped; charts inlined as base64 PNG).

Numbers are formatted here, for people (1,234件, 12.3%, 1分35秒); the tables themselves keep plain
numbers for the CSV and XLSX files.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from pipeline.report import fmt
from pipeline.report.charts import Chart
from pipeline.report.sections import Section, Table

TEMPLATES = Path(__file__).resolve().parent / "templates"
LONG_TABLE = 15  # rows; a longer table is folded (<details>) so the page stays readable


@dataclass(frozen=True)
class Headline:
    label: str
    value: str
    alert: bool = False


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date_ja"] = fmt.date_ja
    return env


def table_rows(t: Table) -> tuple[list[str], list[list[tuple[str, bool]]]]:
    """Header and rows of formatted cells; each cell says whether it is a number (right-aligned)."""
    header = [str(c) for c in t.df.columns]
    kinds = [t.kinds.get(c, "text") for c in t.df.columns]
    rows = [
        [(fmt.cell(v, k), k != "text") for v, k in zip(values, kinds, strict=True)]
        for values in t.df.itertuples(index=False, name=None)
    ]
    return header, rows


def render_html(
    *,
    day: dt.date,
    generated_at: dt.datetime,
    sections: list[Section],
    charts: dict[str, list[Chart]],
    headline: list[Headline],
    files: list[str] | None = None,
) -> str:
    """The report page. `generated_at` is shown in local time as given."""
    blocks: list[dict[str, Any]] = []
    for sec in sections:
        blocks.append(
            {
                "key": sec.key,
                "title": sec.title,
                "missing": sec.missing,
                "notes": sec.notes,
                "tables": [{"caption": t.caption, "rows": table_rows(t)} for t in sec.tables],
                "charts": [
                    {
                        "title": c.title,
                        "src": "data:image/png;base64," + base64.b64encode(c.png).decode("ascii"),
                    }
                    for c in charts.get(sec.key, [])
                ],
            }
        )
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            day=day,
            day_ja=fmt.date_ja(day, weekday=True),
            first_day_ja=fmt.date_ja(day - dt.timedelta(days=7)),
            generated=f"{fmt.date_ja(generated_at.date())} {generated_at:%H:%M}",
            sections=blocks,
            headline=headline,
            files=files or [],
            long_table=LONG_TABLE,
        )
    )
