"""The sections of the morning report, one function each: store reads (`queries`) in, `Section`s out.

A `Section` holds DataFrames with Japanese column headers (the HTML, CSV and XLSX show the same
tables) plus notes in words. Where the data's source does not exist yet (the review page's
review_events, the delivery outbox's deliveries, documents.qa_sample / deadline), the section
carries `missing` (a sentence saying so) and no table, rather than a table of zeros.

Periods: 当日 is the report's day; 前7日 the seven days before it; counts by day are by local date
(settings.timezone) of arrival (documents), of the correction (fields), of the event (review,
delivery).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from pipeline.errors import ShinseiError
from pipeline.report import queries as q
from pipeline.report.queries import PERIOD_ALL, PERIOD_BEFORE, PERIOD_DAY, Schema, Window
from pipeline.report.stats import wilson_interval

log = logging.getLogger("shinsei.report")

NO_FORM = "（様式不明）"
TOTAL = "合計"
TOP_FIELDS = 10
CONFIDENCE = 0.95

# Column kinds for display (pipeline.report.fmt.cell); a column not listed is shown as text.
C_DOCS = "count:件"
C_PAGES = "count:ページ"
C_FIELDS = "count:項目"
C_CHARS = "count:字"
C_TIMES = "count:回"
C_KEYS = "count:打鍵"

QUARANTINE_REASONS = {
    "empty_file": "空のファイル",
    "too_large": "ファイルが大きすぎる",
    "unsupported_type": "対応していない形式",
    "too_many_pages": "ページ数が多すぎる",
    "encrypted_pdf": "暗号化されたPDF",
    "corrupt_file": "壊れたファイル",
    "image_too_large": "画像が大きすぎる",
    "processing_failed": "処理が完了しない（作業停止など）",
    "unreadable_file": "読み込めないファイル",
}
DELIVERY_STATES = {
    "pending": "送信待ち",
    "sending": "送信中",
    "delivered": "送信済",
    "verified": "照合済",
    "failed": "失敗",
    "unknown": "結果不明（要照合）",
}
BACKLOG_STATES = {"review": "審査待ち", "to_review": "審査待ち", "in_review": "審査中", "postponed": "保留"}
AGE_BUCKETS = ["当日", "1日", "2〜3日", "4〜7日", "8〜14日", "15日以上"]
DUE_BUCKETS = ["期限切れ", "当日期限", "1〜2日", "3〜7日", "8日以上", "期限なし"]

MISSING_REVIEW = "審査画面の記録はまだありません（review_events 表がありません）。"
MISSING_DELIVERY = "連携（送信）の記録はまだありません（deliveries 表がありません）。"


@dataclass
class Table:
    key: str  # ASCII, part of the CSV file and XLSX sheet names
    caption: str
    df: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: str | None = None  # the data's source does not exist yet: say so, show no table

    def table(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(f"section {self.key} has no table {key!r}; it has {[t.key for t in self.tables]}")


@dataclass(frozen=True)
class Labels:
    """Japanese names of forms and fields, from the templates (ids where a template is absent)."""

    forms: dict[str, str] = field(default_factory=dict)
    fields: dict[tuple[str, str], str] = field(default_factory=dict)

    def form(self, form_id: object) -> str:
        if form_id is None or (isinstance(form_id, float) and np.isnan(form_id)) or form_id == "":
            return NO_FORM
        return self.forms.get(str(form_id), str(form_id))

    def field(self, form_id: object, name: str) -> str:
        return self.fields.get((str(form_id), name), name)

    @classmethod
    def from_templates(cls, templates_dir: Path) -> Labels:
        from pipeline.forms.template import load_all_templates

        try:
            templates = load_all_templates(Path(templates_dir))
        except ShinseiError as exc:  # a report without names beats no report
            log.warning("report: form names unavailable (%s); ids are shown", exc)
            return cls()
        return cls(
            {t.form_id: t.title for t in templates},
            {(t.form_id, f.name): f.label for t in templates for f in t.fields},
        )


@dataclass(frozen=True)
class Inputs:
    conn: Connection
    window: Window
    schema: Schema
    labels: Labels


# --------------------------------------------------------------------------- helpers


def _forms(df: pd.DataFrame, labels: Labels) -> pd.Series:
    return df["form_id"].map(labels.form) if len(df) else pd.Series([], dtype=object)


def _by_period(df: pd.DataFrame, keys: list[str], values: list[str], w: Window) -> pd.DataFrame:
    """Sum `values` per `keys` and period (当日 / 前7日), both periods present for every key."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, "期間", *values])
    df = df.assign(期間=df["日付"].map(w.period))
    out = df.groupby([*keys, "期間"], dropna=False)[values].sum().reset_index()
    idx = pd.MultiIndex.from_product(
        [*(sorted(out[k].unique()) for k in keys), [PERIOD_DAY, PERIOD_BEFORE]], names=[*keys, "期間"]
    )
    out = out.set_index([*keys, "期間"]).reindex(idx, fill_value=0).reset_index()
    return out


def _share(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


# --------------------------------------------------------------------------- sections


def intake(inp: Inputs) -> Section:
    """Documents and pages in, straight-through share, fields auto-accepted; per form."""
    w, labels = inp.window, inp.labels
    sec = Section("intake", "受付と自動処理（様式別）")
    docs = q.intake(inp.conn, w)
    fields = q.field_totals(inp.conn, w)
    df = docs.merge(fields, on=["form_id", "日付"], how="outer").fillna(
        {"documents": 0, "pages": 0, "straight_through": 0, "fields": 0, "auto_accepted": 0}
    )
    df["様式"] = _forms(df, labels)
    values = ["documents", "pages", "straight_through", "fields", "auto_accepted"]
    names = {
        "documents": "書類数",
        "pages": "ページ数",
        "straight_through": "自動処理書類数",
        "fields": "項目数",
        "auto_accepted": "自動確定項目数",
    }
    kinds = {
        "書類数": C_DOCS,
        "ページ数": C_PAGES,
        "自動処理書類数": C_DOCS,
        "自動処理率": "percent",
        "項目数": C_FIELDS,
        "自動確定項目数": C_FIELDS,
        "自動確定率": "percent",
    }

    def finish(t: pd.DataFrame) -> pd.DataFrame:
        t = t.rename(columns=names)
        for c in names.values():
            t[c] = t[c].astype("int64")
        t.insert(
            t.columns.get_loc("自動処理書類数") + 1, "自動処理率", _share(t["自動処理書類数"], t["書類数"])
        )
        t["自動確定率"] = _share(t["自動確定項目数"], t["項目数"])
        return t

    summary = _by_period(df, ["様式"], values, w)
    if not summary.empty:
        total = summary.groupby("期間", sort=False)[values].sum().reset_index()
        total.insert(0, "様式", TOTAL)
        summary = pd.concat([summary, total], ignore_index=True)
    else:
        summary = pd.DataFrame(
            {"様式": [TOTAL, TOTAL], "期間": [PERIOD_DAY, PERIOD_BEFORE], **{v: [0, 0] for v in values}}
        )
    sec.tables.append(Table("summary", "様式別：当日と前7日", finish(summary), kinds))

    if df.empty:
        daily = pd.DataFrame({"日付": [], "様式": [], **{v: [] for v in values}})
    else:
        grid = pd.DataFrame({"日付": w.days}).merge(
            pd.DataFrame({"様式": sorted(df["様式"].unique())}), how="cross"
        )
        daily = grid.merge(
            df.groupby(["様式", "日付"])[values].sum().reset_index(), on=["様式", "日付"], how="left"
        ).fillna(dict.fromkeys(values, 0))
    sec.tables.append(
        Table("daily", "日別", finish(daily[["日付", "様式", *values]]), {"日付": "date", **kinds})
    )
    day_docs = int(
        summary.loc[(summary["様式"] == TOTAL) & (summary["期間"] == PERIOD_DAY), "documents"].sum()
    )
    if day_docs == 0:
        sec.notes.append("この日に受け付けた書類はありません。")
    sec.notes.append(
        "自動処理率は、すべての項目を機械が確定して審査を通らなかった書類の割合です"
        "（抜き取り検査に回った書類も含みます）。"
    )
    return sec


def corrections(inp: Inputs) -> Section:
    """Fields corrected in review, per form and field, top 10 per form over the 8 days."""
    w, labels = inp.window, inp.labels
    sec = Section("corrections", f"審査での訂正（項目別・上位{TOP_FIELDS}）")
    df = q.corrections(inp.conn, w)
    cols = ["様式", "項目", "項目名", PERIOD_DAY, PERIOD_BEFORE, PERIOD_ALL]
    kinds = {PERIOD_DAY: C_FIELDS, PERIOD_BEFORE: C_FIELDS, PERIOD_ALL: C_FIELDS}
    if df.empty:
        sec.tables.append(Table("top_fields", "訂正の多い項目", pd.DataFrame(columns=cols), kinds))
        sec.notes.append("この8日間に審査で訂正された項目はありません。")
        return sec
    df["期間"] = df["日付"].map(w.period)
    wide = df.groupby(["form_id", "name", "期間"]).size().unstack("期間", fill_value=0).reset_index()
    for p in (PERIOD_DAY, PERIOD_BEFORE):
        if p not in wide:
            wide[p] = 0
    wide[PERIOD_ALL] = wide[PERIOD_DAY] + wide[PERIOD_BEFORE]
    wide["様式"] = wide["form_id"].map(labels.form)
    wide["項目"] = [labels.field(f, n) for f, n in zip(wide["form_id"], wide["name"], strict=True)]
    wide["項目名"] = wide["name"]
    wide = wide.sort_values(["様式", PERIOD_ALL, "項目名"], ascending=[True, False, True])
    top = wide.groupby("様式", sort=False).head(TOP_FIELDS)[cols].reset_index(drop=True)
    for p in (PERIOD_DAY, PERIOD_BEFORE, PERIOD_ALL):
        top[p] = top[p].astype("int64")
    sec.tables.append(Table("top_fields", "訂正の多い項目", top, kinds))
    sec.notes.append(
        "訂正は審査者が値を変えた項目の数です（同じ値での確認は含みません）。日付は訂正した日です。"
    )
    return sec


def qa(inp: Inputs) -> Section:
    """Error rate of auto-accepted fields in the QA sample, with a Wilson interval."""
    w, labels, schema = inp.window, inp.labels, inp.schema
    sec = Section("qa", "抜き取り検査：自動確定項目の誤り率")
    if not schema.has("review_events", "qa", "auto_accepted", "action", "created_at"):
        sec.missing = MISSING_REVIEW + "抜き取り検査の結果は審査画面で記録されます。"
        return sec
    res = q.qa_results(inp.conn, w)
    has_sample = schema.has("documents", "qa_sample")
    sampled = (
        q.qa_sampled(inp.conn, w) if has_sample else pd.DataFrame(columns=["form_id", "日付", "sampled"])
    )
    arrived = q.intake(inp.conn, w)
    res = res.merge(sampled, on=["form_id", "日付"], how="outer").fillna(
        {"checked": 0, "wrong": 0, "sampled": 0}
    )
    res["様式"] = _forms(res, labels)
    rows = []
    for form, g in res.groupby("様式"):
        for period, part in ((PERIOD_DAY, g[g["日付"] == w.day]), (PERIOD_ALL, g)):
            n, x = int(part["checked"].sum()), int(part["wrong"].sum())
            lo, hi = wilson_interval(x, n, CONFIDENCE)
            rows.append(
                {
                    "様式": form,
                    "期間": period,
                    "抽出書類数": int(part["sampled"].sum()),
                    "検査項目数": n,
                    "誤り項目数": x,
                    "誤り率": x / n if n else np.nan,
                    "95%信頼区間下限": lo,
                    "95%信頼区間上限": hi,
                }
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "様式",
            "期間",
            "抽出書類数",
            "検査項目数",
            "誤り項目数",
            "誤り率",
            "95%信頼区間下限",
            "95%信頼区間上限",
        ],
    )
    if not has_sample:
        table = table.drop(columns="抽出書類数")
    kinds = {
        "抽出書類数": C_DOCS,
        "検査項目数": C_FIELDS,
        "誤り項目数": C_FIELDS,
        "誤り率": "percent",
        "95%信頼区間下限": "percent",
        "95%信頼区間上限": "percent",
    }
    sec.tables.append(Table("error_rate", "抜き取り検査の結果（8日間）", table, kinds))
    checked = set(table.loc[(table["期間"] == PERIOD_ALL) & (table["検査項目数"] > 0), "様式"])
    for form in sorted(set(_forms(arrived, labels)) | set(table["様式"])):
        if form not in checked and form != NO_FORM:
            sec.notes.append(f"「{form}」はまだ抜き取り検査の結果がありません。")
    sec.notes.append(
        "誤り率は、機械が確定した項目を抜き取り検査で確かめ、訂正が必要だった割合です。"
        "信頼区間は Wilson の方法（95%）。"
    )
    if not has_sample:
        sec.notes.append("抽出書類数は documents.qa_sample 列がまだないため表示していません。")
    return sec


def _pivot(df: pd.DataFrame, col: str, buckets: list[str], labels: Labels) -> pd.DataFrame:
    out = pd.DataFrame({"様式": _forms(df, labels), "bucket": df[col].map(lambda i: buckets[int(i)])})
    out["documents"] = df["documents"].astype("int64").to_numpy()
    wide = out.pivot_table(index="様式", columns="bucket", values="documents", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=buckets, fill_value=0).astype("int64")
    wide.loc[TOTAL] = wide.sum()
    wide["計"] = wide.sum(axis=1)
    wide.columns.name = None
    return wide.reset_index()


def backlog(inp: Inputs) -> Section:
    """What waits for a person now, by age and by days to the deadline."""
    w, labels, schema = inp.window, inp.labels, inp.schema
    sec = Section("backlog", "審査待ち（経過日数・期限まで）")
    df = q.backlog(inp.conn, w, schema)
    age_kinds = {c: C_DOCS for c in [*AGE_BUCKETS, "計"]}
    if df.empty:
        sec.tables.append(
            Table("by_age", "経過日数別", _pivot(df.assign(age=[]), "age", AGE_BUCKETS, labels), age_kinds)
        )
        sec.notes.append("審査を待っている書類はありません。")
    else:
        sec.tables.append(
            Table("by_age", "経過日数別（受付日から）", _pivot(df, "age", AGE_BUCKETS, labels), age_kinds)
        )
        states = df.assign(状態=df["status"].map(lambda s: BACKLOG_STATES.get(s, s)), 様式=_forms(df, labels))
        by_state = states.pivot_table(
            index="様式", columns="状態", values="documents", aggfunc="sum", fill_value=0
        )
        by_state.columns.name = None
        by_state = by_state.astype("int64").reset_index()
        sec.tables.append(
            Table("by_state", "状態別", by_state, {c: C_DOCS for c in by_state.columns if c != "様式"})
        )
    if schema.has("documents", "deadline"):
        if not df.empty:
            due = _pivot(df, "due", DUE_BUCKETS, labels)
            sec.tables.append(
                Table("by_deadline", "期限までの日数別", due, {c: C_DOCS for c in [*DUE_BUCKETS, "計"]})
            )
            late = int(due.loc[due["様式"] == TOTAL, "期限切れ"].iloc[0])
            if late:
                sec.notes.append(f"期限を過ぎた書類が{late:,}件あります。")
    else:
        sec.notes.append("期限（documents.deadline）の記録はまだないため、期限までの日数は表示していません。")
    sec.notes.append(f"審査待ちは報告作成時の状態で、経過日数は{w.day.month}月{w.day.day}日までの日数です。")
    return sec


def review_time(inp: Inputs) -> Section:
    """Review time and keystrokes per document (by form) and per reviewer."""
    w, labels, schema = inp.window, inp.labels, inp.schema
    sec = Section("review_time", "審査にかかった時間と打鍵数")
    if not schema.has("review_events", "actor", "ms_spent", "keystrokes", "created_at"):
        sec.missing = MISSING_REVIEW
        return sec
    df = q.review_work(inp.conn, w)
    if df.empty:
        sec.notes.append("この8日間に審査の記録はありません。")
        return sec
    df["期間"] = df["日付"].map(w.period)
    df["様式"] = _forms(df, labels)
    per_doc_rows = []
    per_doc = df.groupby(["期間", "様式", "document_id"])[["ms", "keystrokes"]].sum().reset_index()
    for (period, form), g in per_doc.groupby(["期間", "様式"]):
        secs = g["ms"] / 1000.0
        per_doc_rows.append(
            {
                "様式": form,
                "期間": period,
                "審査書類数": len(g),
                "合計時間": float(secs.sum()),
                "平均時間／件": float(secs.mean()),
                "中央値／件": float(secs.median()),
                "打鍵数計": int(g["keystrokes"].sum()),
                "平均打鍵数／件": float(g["keystrokes"].mean()),
            }
        )
    docs = pd.DataFrame(per_doc_rows).sort_values(["様式", "期間"], key=_period_key).reset_index(drop=True)
    sec.tables.append(
        Table(
            "per_document",
            "書類あたり（様式別）",
            docs,
            {
                "審査書類数": C_DOCS,
                "合計時間": "seconds",
                "平均時間／件": "seconds",
                "中央値／件": "seconds",
                "打鍵数計": C_KEYS,
                "平均打鍵数／件": "rate",
            },
        )
    )
    rows = []
    for (actor, period), g in df.groupby(["actor", "期間"]):
        n_docs = g["document_id"].nunique()
        secs = g["ms"].sum() / 1000.0
        keys = int(g["keystrokes"].sum())
        rows.append(
            {
                "審査者": actor,
                "期間": period,
                "書類数": n_docs,
                "操作数": int(g["events"].sum()),
                "訂正数": int(g["corrected"].sum()),
                "合計時間": float(secs),
                "平均時間／件": float(secs / n_docs),
                "打鍵数": keys,
                "打鍵数／件": keys / n_docs,
            }
        )
    people = pd.DataFrame(rows).sort_values(["審査者", "期間"], key=_period_key).reset_index(drop=True)
    sec.tables.append(
        Table(
            "per_reviewer",
            "審査者別",
            people,
            {
                "書類数": C_DOCS,
                "操作数": C_TIMES,
                "訂正数": C_FIELDS,
                "合計時間": "seconds",
                "平均時間／件": "seconds",
                "打鍵数": C_KEYS,
                "打鍵数／件": "rate",
            },
        )
    )
    return sec


def _period_key(s: pd.Series) -> pd.Series:
    order = {PERIOD_DAY: 0, PERIOD_BEFORE: 1, PERIOD_ALL: 2}
    return s.map(lambda v: order.get(v, v)) if s.name == "期間" else s


def workers(inp: Inputs) -> Section:
    """Pages the workers finished per hour of the day, and per worker process."""
    w = inp.window
    sec = Section("workers", "読み取り処理の速さ（ページ／時）")
    df = q.finished(inp.conn, w)
    day = df[df["日付"] == w.day]
    hourly = (
        day.groupby("hour")
        .agg(書類数=("pages", "size"), ページ数=("pages", "sum"))
        .reindex(range(24), fill_value=0)
    )
    hourly = hourly.astype("int64").reset_index().rename(columns={"hour": "時台"})
    hourly["時台"] = [f"{h}時" for h in hourly["時台"]]
    sec.tables.append(
        Table("hourly", "当日の時間帯別（処理を終えた時刻）", hourly, {"書類数": C_DOCS, "ページ数": C_PAGES})
    )
    if day.empty:
        sec.notes.append("この日に読み取りを終えた書類はありません。")
    df = df.assign(
        作業プロセス=df["worker"].fillna("（同期処理）"),
        期間=df["日付"].map(w.period),
        seconds=(df["at"] - df["started"]).dt.total_seconds(),
    )
    if df.empty:
        return sec
    rows = []
    for (worker, period), g in df.groupby(["作業プロセス", "期間"]):
        secs = g["seconds"].dropna()
        pages_timed = g.loc[g["seconds"].notna(), "pages"].sum()
        rows.append(
            {
                "作業プロセス": worker,
                "期間": period,
                "書類数": len(g),
                "ページ数": int(g["pages"].sum()),
                "処理時間": float(secs.sum()) if len(secs) else np.nan,
                "ページ／時": float(pages_timed / (secs.sum() / 3600)) if secs.sum() > 0 else np.nan,
            }
        )
    per = pd.DataFrame(rows).sort_values(["作業プロセス", "期間"], key=_period_key).reset_index(drop=True)
    sec.tables.append(
        Table(
            "per_worker",
            "作業プロセス別",
            per,
            {"書類数": C_DOCS, "ページ数": C_PAGES, "処理時間": "seconds", "ページ／時": "rate"},
        )
    )
    sec.notes.append(
        "ページ／時は、作業プロセスが書類を取り出してから結果を保存するまでの時間で数えます"
        "（同期処理では開始時刻の記録がないため「－」）。"
    )
    return sec


def quarantine(inp: Inputs) -> Section:
    w = inp.window
    sec = Section("quarantine", "隔離したファイル（理由別）")
    df = q.quarantined(inp.conn, w)
    cols = ["理由", "理由コード", PERIOD_DAY, PERIOD_BEFORE]
    kinds = {PERIOD_DAY: C_DOCS, PERIOD_BEFORE: C_DOCS}
    if df.empty:
        sec.tables.append(Table("by_reason", "理由別", pd.DataFrame(columns=cols), kinds))
        sec.notes.append("この8日間に隔離したファイルはありません。")
        return sec
    t = _by_period(df.rename(columns={"reason": "理由コード"}), ["理由コード"], ["documents"], w)
    t = t.pivot_table(index="理由コード", columns="期間", values="documents", aggfunc="sum", fill_value=0)
    t = t.reindex(columns=[PERIOD_DAY, PERIOD_BEFORE], fill_value=0).astype("int64").reset_index()
    t.columns.name = None
    t.insert(0, "理由", t["理由コード"].map(lambda r: QUARANTINE_REASONS.get(r, r or "（理由なし）")))
    t = t.sort_values([PERIOD_DAY, PERIOD_BEFORE], ascending=False).reset_index(drop=True)
    sec.tables.append(Table("by_reason", "理由別", t[cols], kinds))
    return sec


def deliveries(inp: Inputs) -> Section:
    w, schema = inp.window, inp.schema
    sec = Section("deliveries", "基幹システムへの連携（送信先・状態別）")
    if not schema.has("deliveries", "target", "state", "created_at"):
        sec.missing = MISSING_DELIVERY
        return sec
    df = q.deliveries(inp.conn, w)
    cols = ["送信先", "状態", "状態コード", PERIOD_DAY, PERIOD_BEFORE, "それ以前", "計"]
    kinds = {c: C_DOCS for c in cols[3:]}
    if df.empty:
        sec.tables.append(
            Table("by_state", "送信先・状態別（作成日で区分）", pd.DataFrame(columns=cols), kinds)
        )
        sec.notes.append("連携の記録はまだありません。")
        return sec
    t = df.pivot_table(
        index=["target", "state"], columns="age", values="deliveries", aggfunc="sum", fill_value=0
    )
    t = t.reindex(columns=[0, 1, 2], fill_value=0).astype("int64")
    t.columns = [PERIOD_DAY, PERIOD_BEFORE, "それ以前"]
    t["計"] = t.sum(axis=1)
    t = t.reset_index().rename(columns={"target": "送信先", "state": "状態コード"})
    t.insert(1, "状態", t["状態コード"].map(lambda s: DELIVERY_STATES.get(s, s)))
    order = {s: i for i, s in enumerate(DELIVERY_STATES)}
    t = t.sort_values(
        ["送信先", "状態コード"],
        key=lambda s: s.map(lambda v: order.get(v, 99)) if s.name == "状態コード" else s,
    )
    sec.tables.append(
        Table("by_state", "送信先・状態別（作成日で区分）", t[cols].reset_index(drop=True), kinds)
    )
    stuck = int(t.loc[t["状態コード"].isin(["failed", "unknown"]), "計"].sum())
    if stuck:
        sec.notes.append(
            f"失敗または結果不明の連携が{stuck:,}件あります（結果不明は照合してから再送します）。"
        )
    return sec


def unencodable(inp: Inputs) -> Section:
    w, schema, labels = inp.window, inp.schema, inp.labels
    sec = Section("unencodable", "送信先の文字コードで表せない文字")
    if not schema.has("deliveries", "target", "unencodable", "created_at"):
        sec.missing = MISSING_DELIVERY
        return sec
    df = q.unencodable(inp.conn, w)
    cols = ["送信先", "項目", "文字", "符号位置", "件数"]
    if df.empty:
        sec.tables.append(Table("chars", "文字別（8日間）", pd.DataFrame(columns=cols), {"件数": C_TIMES}))
        sec.notes.append("この8日間に送信先で表せなかった文字はありません。")
        return sec
    field_labels = {n: lab for (_f, n), lab in labels.fields.items()}
    t = df.groupby(["target", "field", "char"]).size().reset_index(name="件数")
    t = t.rename(columns={"target": "送信先", "char": "文字"})
    t["項目"] = t["field"].map(lambda n: field_labels.get(n, n))
    t["符号位置"] = t["文字"].map(lambda c: " ".join(f"U+{ord(ch):04X}" for ch in c))
    t = t.sort_values(["件数", "送信先", "文字"], ascending=[False, True, True])
    sec.tables.append(Table("chars", "文字別（8日間）", t[cols].reset_index(drop=True), {"件数": C_TIMES}))
    sec.notes.append("外字や旧字体など、送信先の文字コードにない文字です。審査で置き換えを確かめてください。")
    return sec


SECTIONS: tuple[Callable[[Inputs], Section], ...] = (
    intake,
    corrections,
    qa,
    backlog,
    review_time,
    workers,
    quarantine,
    deliveries,
    unencodable,
)


def build_sections(inp: Inputs) -> list[Section]:
    return [fn(inp) for fn in SECTIONS]
