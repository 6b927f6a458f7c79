"""Draw a template's field boxes over its blank form, and find fields whose boxes overlap, so an
author can see a misplaced box."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.forms.template import Template

# What `template check` prints under its drawing, so the colours need no guessing.
LEGEND = "red: field box (name above it), green: option box or label, blue: date part or digit cell, magenta: registration mark"
_COLOURS = {  # BGR, by what the box is for
    "box": (0, 0, 230),
    "option": (0, 150, 0),
    "part": (200, 90, 0),
    "mark": (200, 0, 200),
}


def mm_to_px(box: tuple[float, float, float, float], dpi: float) -> tuple[int, int, int, int]:
    s = dpi / 25.4
    x, y, w, h = box
    return round(x * s), round(y * s), round(w * s), round(h * s)


def draw_fields(tpl: Template, blank_gray: np.ndarray, dpi: float | None = None) -> np.ndarray:
    """Return a BGR image of the blank with every field box, option box and cell divider drawn."""
    dpi = dpi or tpl.blank_dpi
    img = cv2.cvtColor(blank_gray, cv2.COLOR_GRAY2BGR)
    img = (img.astype(np.float32) * 0.55 + 255 * 0.45).astype(np.uint8)  # fade the print
    thick = max(1, round(dpi / 150))
    for f in tpl.fields:
        for what, b in f.all_boxes():
            x, y, w, h = mm_to_px(b, dpi)
            key = "box" if what == "box" else ("option" if what.startswith(("option", "label")) else "part")
            cv2.rectangle(img, (x, y), (x + w, y + h), _COLOURS[key], thick)
        if f.cells and not f.cells.boxes:  # listed cells are drawn as boxes above
            x, y, w, h = mm_to_px(f.box, dpi)
            for i in range(1, f.cells.count):
                cx = x + round(i * w / f.cells.count)
                cv2.line(img, (cx, y), (cx, y + h), _COLOURS["part"], 1)
        x, y, _w, _h = mm_to_px(f.box, dpi)
        cv2.putText(
            img, f.name, (x + 2, max(12, y - 3)), cv2.FONT_HERSHEY_SIMPLEX, dpi / 600, (0, 0, 160), thick
        )
    for b in tpl.identify.registration_marks or []:  # drawn a little larger, to show round the square
        x, y, w, h = mm_to_px(b, dpi)
        cv2.rectangle(
            img,
            (x - 2 * thick, y - 2 * thick),
            (x + w + 2 * thick, y + h + 2 * thick),
            _COLOURS["mark"],
            thick,
        )
    return img


OVERLAP_MM = 0.5  # boxes that share less than this in either direction only touch


def overlapping_fields(tpl: Template) -> list[tuple[str, str, float, float]]:
    """Pairs of fields whose boxes overlap by more than OVERLAP_MM both ways, with the overlap's
    width and height in mm. A text field's whole box is read, so another field's writing inside
    it is read into it too (a date box reaching over the class written beside it); a form that
    prints one field inside another (その他（内容） inside its group of reasons) overlaps on purpose."""
    out = []
    for i, a in enumerate(tpl.fields):
        ax, ay, aw, ah = a.box
        for b in tpl.fields[i + 1 :]:
            bx, by, bw, bh = b.box
            w = min(ax + aw, bx + bw) - max(ax, bx)
            h = min(ay + ah, by + bh) - max(ay, by)
            if w > OVERLAP_MM and h > OVERLAP_MM:
                out.append((a.name, b.name, round(w, 1), round(h, 1)))
    return out
