"""Charts of the morning report: matplotlib (Agg backend) PNGs with Japanese labels in IPAGothic.

The font is the file Debian's fonts-ipafont-gothic installs (scripts/setup.sh), found by path or
through fontconfig and registered with matplotlib by file, so a fresh machine draws 受付 and not
tofu boxes. Without it the report fails with `FontMissing`, which says what to install, instead of
drawing boxes silently.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a server; before pyplot is imported anywhere

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from pipeline.errors import ShinseiError  # noqa: E402
from pipeline.report import fmt  # noqa: E402
from pipeline.report.queries import PERIOD_ALL  # noqa: E402
from pipeline.report.sections import AGE_BUCKETS, TOTAL, Section  # noqa: E402

FONT_FAMILY = "IPAGothic"
FONT_PATHS = (
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)
DPI = 110
COLOURS = ["#1f5fa8", "#e07b00", "#2e8b57", "#a83232", "#7b52ab", "#5a5a5a"]


class FontMissing(ShinseiError):
    reason = "font_missing"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    png: bytes
    texts: tuple[str, ...]  # every string drawn (the glyph check in the tests reads them)


@lru_cache(maxsize=1)
def japanese_font() -> Path:
    """Path of IPAGothic, registered with matplotlib and made the default family."""
    path = next((p for p in FONT_PATHS if p.is_file()), None)
    if path is None and shutil.which("fc-match"):
        out = subprocess.run(
            ["fc-match", "--format=%{file}\n%{family}", f"{FONT_FAMILY}:lang=ja"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.splitlines()
        # fc-match always answers something; take it only if it really is IPAGothic
        if len(out) == 2 and FONT_FAMILY in out[1] and Path(out[0]).is_file():
            path = Path(out[0])
    if path is None:
        raise FontMissing(
            "日本語フォント IPAGothic が見つかりません。`sudo apt-get install -y fonts-ipafont-gothic` "
            "（scripts/setup.sh が入れます）で入れてから、もう一度実行してください。"
        )
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = [name]
    matplotlib.rcParams["axes.unicode_minus"] = False  # IPAGothic has no U+2212
    return path


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _texts(fig: Figure) -> tuple[str, ...]:
    found = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return tuple(t for t in found if t.strip())


def _chart(key: str, title: str, fig: Figure) -> Chart:
    fig.canvas.draw()  # lay out first so the tick labels exist when we collect the texts
    texts = _texts(fig)
    return Chart(key, title, _png(fig), texts)


def intake_chart(sec: Section) -> Chart | None:
    daily = sec.table("daily").df
    if daily.empty:
        return None
    wide = daily.pivot_table(index="日付", columns="様式", values="書類数", aggfunc="sum", fill_value=0)
    share = daily.groupby("日付")[["自動処理書類数", "書類数"]].sum()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = range(len(wide))
    bottom = pd.Series(0, index=wide.index)
    for i, form in enumerate(wide.columns):
        ax.bar(x, wide[form], bottom=bottom, label=form, color=COLOURS[i % len(COLOURS)])
        bottom += wide[form]
    ax.set_xticks(list(x), [fmt.short_date(d) for d in wide.index])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("書類数（件）")
    ax.set_title("受付書類数と自動処理率（日別）")
    ax2 = ax.twinx()
    rate = (share["自動処理書類数"] / share["書類数"].where(share["書類数"] > 0)) * 100
    ax2.plot(list(x), rate.to_numpy(), color="#222222", marker="o", label="自動処理率")
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("自動処理率（%）")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    # below the plot: inside it, the legend hid the bars of the first days
    ax.legend(
        h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False
    )
    return _chart("intake", "受付書類数と自動処理率", fig)


def corrections_chart(sec: Section) -> Chart | None:
    top = sec.table("top_fields").df
    if top.empty:
        return None
    agg = top.groupby("項目")[PERIOD_ALL].sum().sort_values().tail(10)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(agg) + 1.2))
    ax.barh(agg.index, agg.to_numpy(), color=COLOURS[1])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 items
    ax.set_xlabel("訂正した項目数（8日間）")
    ax.set_title("審査で訂正の多い項目")
    return _chart("corrections", "審査で訂正の多い項目", fig)


def backlog_chart(sec: Section) -> Chart | None:
    t = sec.table("by_age").df
    t = t[t["様式"] != TOTAL]
    if t.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.2))
    bottom = pd.Series(0, index=AGE_BUCKETS, dtype="int64")
    for i, (_, row) in enumerate(t.iterrows()):
        values = row[AGE_BUCKETS].astype("int64")
        ax.bar(
            AGE_BUCKETS, values.to_numpy(), bottom=bottom.to_numpy(), label=row["様式"], color=COLOURS[i % 6]
        )
        bottom += values.to_numpy()
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("書類数（件）")
    ax.set_title("審査待ちの経過日数")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8, frameon=False)
    return _chart("backlog", "審査待ちの経過日数", fig)


def workers_chart(sec: Section) -> Chart | None:
    t = sec.table("hourly").df
    if int(t["ページ数"].sum()) == 0:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.0))
    ax.bar(range(24), t["ページ数"].to_numpy(), color=COLOURS[2])
    ax.set_xticks(range(0, 24, 2), [f"{h}時" for h in range(0, 24, 2)])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("ページ数")
    ax.set_title("時間帯別の読み取りページ数（当日）")
    return _chart("workers", "時間帯別の読み取りページ数", fig)


CHARTS = {
    "intake": intake_chart,
    "corrections": corrections_chart,
    "backlog": backlog_chart,
    "workers": workers_chart,
}


def charts_for(sec: Section) -> list[Chart]:
    """The charts of one section (none while it has nothing to draw)."""
    fn = CHARTS.get(sec.key)
    if fn is None or sec.missing:
        return []
    japanese_font()
    chart = fn(sec)
    return [chart] if chart is not None else []
