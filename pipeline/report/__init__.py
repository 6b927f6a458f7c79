"""The morning report for supervisors (issue 14): what came in per form, what went straight
through, what waits for whom and by when, how often the machine was wrong, how fast reviewers and
workers were, what was quarantined and what failed to reach the legacy system.

    queries   plain SQL aggregates of the store into pandas DataFrames
    sections  one function per report section -> Section (DataFrames with Japanese headers, notes)
    charts    matplotlib (Agg) PNGs in IPAGothic
    render    one self-contained HTML page (Jinja2)
    export    the same tables as CSV and XLSX
    build     make_report / write_report / run_report: DATA_DIR/reports/<day>/
    fmt       1,234件, 12.3%, 2026年11月28日（令和8年11月28日）
"""

from pipeline.report.build import Report, ReportFiles, make_report, report_folder, run_report, write_report

__all__ = ["Report", "ReportFiles", "make_report", "report_folder", "run_report", "write_report"]
