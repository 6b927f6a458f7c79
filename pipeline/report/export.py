"""The report's tables as CSV files (one per table; UTF-8 with BOM and CRLF, which Excel on a
Japanese Windows opens without garbling) and one XLSX workbook (openpyxl): a 概要 sheet listing
every section, its tables' sheets and its notes, then one sheet per table.

Cells hold plain numbers (no 件, no commas): the files are for adding up, the HTML is for reading.
Every file is written to a `.part` name first and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.report.sections import Section, Table

XLSX_NAME = "report.xlsx"


def table_name(sec: Section, t: Table) -> str:
    """`intake_summary`: the CSV file stem and the XLSX sheet name (<= 31 characters)."""
    return f"{sec.key}_{t.key}"[:31]


def write_csvs(sections: list[Section], folder: Path) -> list[Path]:
    paths = []
    for sec in sections:
        for t in sec.tables:
            path = folder / f"{table_name(sec, t)}.csv"
            tmp = path.with_name(path.name + ".part")
            t.df.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
            tmp.replace(path)
            paths.append(path)
    return paths


def overview(sections: list[Section]) -> pd.DataFrame:
    rows = []
    for sec in sections:
        sheets = [table_name(sec, t) for t in sec.tables]
        rows.append(
            {
                "項目": sec.title,
                "シート": "、".join(sheets) if sheets else "",
                "説明": " ".join(([sec.missing] if sec.missing else []) + sec.notes),
            }
        )
    return pd.DataFrame(rows, columns=["項目", "シート", "説明"])


def write_xlsx(sections: list[Section], path: Path, *, title: str) -> Path:
    tmp = path.with_name(path.name + ".part")
    with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        head = pd.DataFrame({"項目": [title]})
        head.to_excel(xw, sheet_name="概要", index=False)
        overview(sections).to_excel(xw, sheet_name="概要", index=False, startrow=2)
        for sec in sections:
            for t in sec.tables:
                t.df.to_excel(xw, sheet_name=table_name(sec, t), index=False)
        for ws in xw.book.worksheets:
            for col in ws.columns:
                width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
                ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width * 2))
    tmp.replace(path)
    return path
