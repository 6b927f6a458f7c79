"""The terminal view of a document's pages and fields, shared by `shinsei show` (a stored
document) and `shinsei read` (one file, nothing stored). It prints an export dict
(`export()` of either), already masked by the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _value(v: Any) -> str:
    return "・".join(v) if isinstance(v, list) else ("" if v is None else str(v))


def print_pages(
    data: dict[str, Any],
    *,
    threshold: Callable[[str | None, str], float] | None = None,
    explain: bool = False,
) -> None:
    """One block per page: form, orientation, skew, route and page issues, then one line per
    field (ok/REV, value, confidence, reasons). `threshold(form_id, field)` adds each field's
    threshold and raw reading; `explain` adds per-character probabilities and issue codes."""
    for p in data["pages"]:
        form = f"{p['form_id'] or '-'}" + (f" {p['form_version']}" if p.get("form_version") else "")
        score = f"  match {p['match_score']:.3f}" if explain and p.get("match_score") is not None else ""
        print(
            f"\npage {p['index'] + 1}: form {form}{score}  turned {p['orientation']}°"
            f"  skew {p['skew_deg']:+.1f}°  route {p['route']}"
        )
        for i in p["issues"]:
            print(f"  ! [{i['code']}] {i['message']}" if explain else f"  ! {i['message']}")
        for f in p["fields"]:
            mark = "ok " if f["accepted"] else "REV"
            line = f"  {mark} {f['name']:<20} {_value(f['value']):<28} conf {f['confidence']:.3f}"
            if threshold is not None:
                line += f" / {threshold(p['form_id'], f['name']):.2f}  raw {f['raw']!r}"
            if not explain:
                line += "  " + "; ".join(i["message"] for i in f["issues"])
            print(line.rstrip())
            if explain:
                if f["chars"]:
                    print("        chars " + " ".join(f"{c}:{prob:.2f}" for c, prob in f["chars"]))
                for i in f["issues"]:
                    print(f"        [{i['code']}/{i['severity']}] {i['message']}")
