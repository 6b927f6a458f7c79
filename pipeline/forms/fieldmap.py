"""A form's field list from whoever drew it (a field map), turned into a template.

Forms often come with a list of their fields: a name, a label, a kind and a box in millimetres
from the page's top-left, with each digit cell, each option's square and printed word, a date's
printed eras and where its year, month and day are written. Development set A's
`form_A-plain.json` is one. Its kinds are not ours, and two of its names are ours with another
meaning (its `date` is a wareki date in parts, its `checkbox` a group of tick boxes), so writing
the template by hand from it is where a city loses whole kinds of fields without a word
(docs/templates.md, "From a form generator's field list"). `template_from_fieldmap` does the
translation; `shinsei template import` writes the result as a template folder.

Pure: a parsed JSON object in, the template as a plain dict (YAML-ready, validated by
`pipeline.forms.template` when written) and notes on what was left out or assumed out. Rules
between fields are not in a field map; the template's defaults assume the usual ones
(docs/templates.md, "What is assumed where a template says nothing").

The field map's shape (each box `{"x", "y", "w", "h"}` in mm):

    {form_id, title, page_size_mm: {w, h}, registration_marks: [{box_mm}],
     fields: [{name, label, kind, box_mm, required,
               cells: [box], n_digits,                       # digit_boxes
               options: [{value, box_mm | null, label_mm}], multiple,   # checkbox, circle_choice
               era_options: [{value, box_mm | null, label_mm}],          # date
               parts: {year, month, day: box}}]}                         # date
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from pipeline.errors import TemplateError

# Kinds of the field map that are the city's own boxes (受付印, 市記入欄): nothing is read there.
OFFICE_KINDS = ("office", "office_stamp")
# The field map's kind → ours, where the translation does not depend on the field.
SAME_KIND = {"text_kanji": "text_ja", "text_kana": "kana", "phone": "phone", "number": "number"}
SAME_KIND |= {"signature": "signature", "text": "text_ja", "kana": "kana", "free_text": "free_text"}
POSTAL_WORDS = ("郵便", "〒")
MY_NUMBER_WORDS = ("個人番号", "マイナンバー")
MM_DECIMALS = 2  # decimals kept of a millimetre
# A `number` whose label names an identifier (口座番号, 記号番号) is a string of digits of any length;
# our `number` is a quantity of up to three digits (hours, a class, a count).
ID_WORDS = ("番号",)


@dataclass
class Imported:
    """A template as a YAML-ready dict, with what the translation left out or chose."""

    template: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _mm(v: float) -> float:
    r = round(float(v), MM_DECIMALS)
    return int(r) if r == int(r) else r


def box(b: Any, where: str) -> list[float]:
    """`{"x", "y", "w", "h"}` (or a 4-list) in mm → `[x, y, w, h]`."""
    if isinstance(b, dict) and all(k in b for k in "xywh"):
        vals = [b["x"], b["y"], b["w"], b["h"]]
    elif isinstance(b, list | tuple) and len(b) == 4:
        vals = list(b)
    else:
        raise TemplateError(f"{where}: a box must be {{x, y, w, h}} in mm, not {b!r}")
    try:
        return [_mm(v) for v in vals]
    except (TypeError, ValueError) as e:
        raise TemplateError(f"{where}: a box must hold numbers, not {b!r}") from e


def field_name(name: str) -> str:
    """A field map's name as ours must be: lower case letters, digits and _, starting with a
    letter (`Guardian-Name` → `guardian_name`)."""
    out = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
    if not out or not out[0].isalpha():
        out = f"f_{out}" if out else "field"
    return out


def form_id_of(text: str) -> str | None:
    """A form id ours may use, from the field map's own (None when it has no letters to start
    with, as dev set A's `A` has only one: the caller is asked for one)."""
    out = field_name(text) if text else ""
    return out if len(out) >= 2 and out != "field" else None


def _option(o: dict[str, Any], where: str, square: bool) -> dict[str, Any]:
    if not isinstance(o, dict) or o.get("value") in (None, ""):
        raise TemplateError(f"{where}: an option needs its value")
    out: dict[str, Any] = {"value": str(o["value"])}
    if square and o.get("box_mm"):
        out["box"] = box(o["box_mm"], f"{where}.box_mm")
    if o.get("label_mm"):
        out["label"] = box(o["label_mm"], f"{where}.label_mm")
    if len(out) == 1:
        raise TemplateError(f"{where}: option {o['value']!r} has neither box_mm nor label_mm")
    return out


def _digit_kind(f: dict[str, Any], count: int) -> str:
    label, name = str(f.get("label", "")), str(f.get("name", "")).lower()
    if count == 7 and (any(w in label for w in POSTAL_WORDS) or "postal" in name or "zip" in name):
        return "postal_code"
    if count == 12 and (any(w in label for w in MY_NUMBER_WORDS) or re.search(r"my_?number", name)):
        return "my_number"
    return "digits"


def _field(f: dict[str, Any], where: str, notes: list[str]) -> dict[str, Any] | None:
    kind = str(f.get("kind", ""))
    name = field_name(str(f.get("name", "")))
    if kind in OFFICE_KINDS:
        notes.append(f"{name}: {kind} (the office's own box) is not read; left out")
        return None
    where = f"{where} ({name})"  # every problem below names the field
    if "box_mm" not in f:
        raise TemplateError(f"{where}: no box_mm")
    out: dict[str, Any] = {"name": name, "label": str(f.get("label") or name), "kind": kind}
    out["box"] = box(f["box_mm"], f"{where}.box_mm")
    if f.get("required"):
        out["required"] = True
    if kind == "number" and any(w in out["label"] for w in ID_WORDS):
        out["kind"] = "digits"  # an account or a card number: digits to keep, not a quantity
    elif kind in SAME_KIND:
        out["kind"] = SAME_KIND[kind]
    elif kind == "digit_boxes":
        cells = [box(c, f"{where}.cells[{i}]") for i, c in enumerate(f.get("cells") or [])]
        count = int(f.get("n_digits") or len(cells) or 0)
        if count <= 0:
            raise TemplateError(f"{where}: digit_boxes without n_digits or cells")
        if cells and len(cells) != count:
            raise TemplateError(f"{where}: {len(cells)} cells for n_digits {count}")
        out["kind"] = _digit_kind(f, count)
        out["cells"] = {"count": count, **({"boxes": cells} if cells else {})}
    elif kind in ("checkbox", "circle_choice"):
        opts = f.get("options") or []
        if not opts:
            if kind == "circle_choice":
                raise TemplateError(f"{where}: circle_choice without options")
            out["kind"] = "checkbox"  # one box, ticked or not: ours means the same
        else:
            out["kind"] = "multi_choice" if f.get("multiple") else "choice"
            # A word printed to be circled has no square: a square given for one is kept.
            out["options"] = [_option(o, f"{where}.options[{i}]", True) for i, o in enumerate(opts)]
    elif kind in ("date", "date_wareki", "date_seireki"):
        eras = f.get("era_options") or []
        parts = f.get("parts") or {}
        if kind == "date_seireki":
            out["kind"] = "date"
        else:
            # A date on a Japanese form is written 和暦 (平成15年2月6日) unless the form prints 西暦.
            out["kind"] = "date_wareki"
            if not eras:
                notes.append(
                    f"{name}: a date with no era in the list: read as 和暦, its era written or printed"
                    " (found on the blank); make it `date` if the form asks for 西暦"
                )
            if len(eras) == 1 and not eras[0].get("box_mm"):
                out["era"] = str(eras[0]["value"])  # printed alone: the era of every date written
            elif eras:
                out["era_options"] = [
                    _option(o, f"{where}.era_options[{i}]", True) for i, o in enumerate(eras)
                ]
                out["infer_when_unmarked"] = True
            missing = [p for p in ("year", "month", "day") if p not in parts]
            if parts and eras and not missing:  # else looked for on the blank, with the era
                out["parts"] = {p: box(parts[p], f"{where}.parts.{p}") for p in ("year", "month", "day")}
            elif parts and missing:
                notes.append(f"{name}: parts without {', '.join(missing)}: left to be found on the blank")
    else:
        # Left out, loudly, rather than the whole form refused: the rest of the list is good.
        notes.append(
            f"LEFT OUT {name}: kind {kind!r} is none a field list uses (text_kanji, text_kana, phone,"
            " number, date, digit_boxes, checkbox, circle_choice, signature, office, office_stamp);"
            " write this field by hand"
        )
        return None
    if f.get("unit") and out["kind"] == "number":
        notes.append(f"{name}: the unit printed after it ({f['unit']}) is print, dropped before reading")
    return out


def template_from_fieldmap(
    data: dict[str, Any], *, form_id: str, blank: str, blank_dpi: int, version: str | None = None
) -> Imported:
    """The template for the form `data` (a parsed field map) describes, with its blank named
    `blank` (beside the template) at `blank_dpi`."""
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
        raise TemplateError("a field map is a JSON object with a list of `fields`")
    size = data.get("page_size_mm") or {"w": 210, "h": 297}
    try:
        page = {"width_mm": _mm(size["w"]), "height_mm": _mm(size["h"])}
    except (KeyError, TypeError, ValueError) as e:
        raise TemplateError(f"page_size_mm must be {{w, h}} in mm, not {size!r}") from e
    notes: list[str] = []
    fields, seen = [], set()
    for i, f in enumerate(data["fields"]):
        if not isinstance(f, dict):
            raise TemplateError(f"fields[{i}]: a field is an object, not {type(f).__name__}")
        spec = _field(f, f"fields[{i}]", notes)
        if spec is None:
            continue
        if spec["name"] in seen:
            raise TemplateError(f"fields[{i}]: a second field named {spec['name']!r}")
        seen.add(spec["name"])
        fields.append(spec)
    if not fields:
        raise TemplateError("the field map has no field to read")
    tpl: dict[str, Any] = {
        "form_id": form_id,
        "version": str(version or data.get("variant") or data.get("version") or "1"),
        "title": str(data.get("title") or form_id),
        "page": page,
        "blank": blank,
        "blank_dpi": int(blank_dpi),
    }
    marks = [m.get("box_mm") for m in data.get("registration_marks") or [] if isinstance(m, dict)]
    if len(marks) >= 3 and all(marks):
        tpl["identify"] = {"registration_marks": [box(m, "registration_marks") for m in marks]}
    elif marks:
        notes.append(
            f"{len(marks)} registration mark(s): alignment needs 3; the page is aligned by its print"
        )
    tpl["fields"] = fields
    return Imported(tpl, notes)


class _Dumper(yaml.SafeDumper):
    """Boxes and options on one line each, as a person writes a template; fields as blocks."""


def _flat(v: Any) -> bool:
    return not isinstance(v, dict | list) or (
        isinstance(v, list) and all(not isinstance(x, dict | list) for x in v)
    )


def _represent_dict(d: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = "kind" not in data and "fields" not in data and all(_flat(v) for v in data.values())
    return d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(d: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return d.represent_sequence(
        "tag:yaml.org,2002:seq",
        data,
        flow_style=all(_flat(x) for x in data) and not any(isinstance(x, list) for x in data),
    )


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def to_yaml(imported: Imported, header: str) -> str:
    """The template as YAML, with `header` (and the notes) as comments at the top."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [f"# - {n}" for n in imported.notes]
    body = yaml.dump(imported.template, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)
    return "\n".join(lines) + "\n" + body
