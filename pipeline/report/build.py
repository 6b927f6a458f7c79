"""Make the morning report for a day and write it to DATA_DIR/reports/<day>/.

    make_report(engine, day, tz, labels)   -> Report (sections of DataFrames, charts, headline)
    write_report(report, folder)           -> ReportFiles (report.html, report.xlsx, one CSV per table)
    run_report(settings, store, day)       -> ReportFiles; what `shinsei report` and the nightly batch call

All reads happen in one connection (one snapshot on PostgreSQL's REPEATABLE READ is not needed:
the report is a morning read of settled days). Writing the report is audit-logged; the report
holds counts only, never a field value or a 個人番号.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from pipeline.report import charts as ch
from pipeline.report import export, fmt
from pipeline.report.queries import PERIOD_DAY, Window, probe
from pipeline.report.render import Headline, render_html
from pipeline.report.sections import TOTAL, Inputs, Labels, Section, build_sections
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.tables import utcnow

HTML_NAME = "report.html"


@dataclass
class Report:
    day: dt.date
    generated_at: dt.datetime  # local time
    sections: list[Section]
    charts: dict[str, list[ch.Chart]]
    headline: list[Headline]
    seconds: dict[str, float] = field(default_factory=dict)  # query / chart time, for the bench

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"no section {key!r}; the sections are {[s.key for s in self.sections]}")


@dataclass(frozen=True)
class ReportFiles:
    folder: Path
    html: Path
    xlsx: Path
    csvs: tuple[Path, ...]


def report_folder(settings: Settings, day: dt.date) -> Path:
    return Path(settings.data_dir) / "reports" / day.isoformat()


def _headline(sections: list[Section]) -> list[Headline]:
    by = {s.key: s for s in sections}
    out: list[Headline] = []
    summary = by["intake"].table("summary").df
    day = summary[(summary["様式"] == TOTAL) & (summary["期間"] == PERIOD_DAY)].iloc[0]
    out.append(Headline("当日の受付", fmt.count(day["書類数"])))
    out.append(Headline("自動処理率", fmt.percent(day["自動処理率"])))
    backlog = by["backlog"]
    waiting = backlog.table("by_age").df
    total = waiting.loc[waiting["様式"] == TOTAL, "計"]
    out.append(Headline("審査待ち", fmt.count(int(total.iloc[0]) if len(total) else 0)))
    if any(t.key == "by_deadline" for t in backlog.tables):
        due = backlog.table("by_deadline").df
        late = int(due.loc[due["様式"] == TOTAL, "期限切れ"].iloc[0])
        out.append(Headline("期限切れ", fmt.count(late), alert=late > 0))
    deliveries = by["deliveries"]
    if not deliveries.missing and deliveries.tables:
        t = deliveries.table("by_state").df
        stuck = int(t.loc[t["状態コード"].isin(["failed", "unknown"]), "計"].sum())
        out.append(Headline("連携の失敗・不明", fmt.count(stuck), alert=stuck > 0))
    return out


def make_report(
    engine: Engine,
    day: dt.date,
    tz: str,
    labels: Labels | None = None,
    *,
    now: dt.datetime | None = None,
) -> Report:
    """Read the store and build every section and chart for `day` (local date in `tz`)."""
    zone = ZoneInfo(tz)
    t0 = time.perf_counter()
    with engine.connect() as conn:
        inp = Inputs(conn, Window(day, zone), probe(conn), labels or Labels())
        sections = build_sections(inp)
    t1 = time.perf_counter()
    charts = {s.key: ch.charts_for(s) for s in sections}
    t2 = time.perf_counter()
    return Report(
        day,
        (now or utcnow()).astimezone(zone),
        sections,
        charts,
        _headline(sections),
        {"queries": t1 - t0, "charts": t2 - t1},
    )


def write_report(report: Report, folder: Path) -> ReportFiles:
    """report.html, report.xlsx and one CSV per table into `folder` (created; files replaced)."""
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    csvs = export.write_csvs(report.sections, folder)
    xlsx = export.write_xlsx(
        report.sections, folder / export.XLSX_NAME, title=f"業務日報 {fmt.date_ja(report.day)}"
    )
    html = render_html(
        day=report.day,
        generated_at=report.generated_at,
        sections=report.sections,
        charts=report.charts,
        headline=report.headline,
        files=[export.XLSX_NAME, "*.csv"],
    )
    path = folder / HTML_NAME
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    report.seconds["files"] = time.perf_counter() - t0
    return ReportFiles(folder, path, xlsx, tuple(csvs))


def run_report(
    settings: Settings,
    store: Store,
    day: dt.date,
    *,
    actor: str = "batch",
    folder: Path | None = None,
) -> tuple[Report, ReportFiles]:
    """Make and write the report for `day`, and record it in the audit log."""
    report = make_report(store.engine, day, settings.timezone, Labels.from_templates(settings.templates_dir))
    files = write_report(report, folder or report_folder(settings, day))
    store.audit(
        actor,
        "report",
        detail={"day": day.isoformat(), "folder": str(files.folder), "files": 2 + len(files.csvs)},
    )
    return report, files
