"""Drawing a printed blank in millimetres: the helpers every `bench/forms/*/make_blank.py` uses.

A `Sheet` is a white 300 dpi page with a font cache; `text` and `rect` take millimetres from the
top-left, as the templates do, so a recipe reads like the form's measurements. Each form keeps its
own default text size and rule width (they differ as real forms do), given when the sheet is made.
The blanks these recipes write are committed; a change here must leave them byte-identical.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

PRINT_FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"  # Debian fonts-ipafont-gothic
DPI = 300
PX = DPI / 25.4


class Sheet:
    """One printed page being drawn; `img` is the result, `d` the PIL drawing for lines."""

    def __init__(self, w_mm: float, h_mm: float, text_size: float, rule_mm: float) -> None:
        self.img = Image.new("L", (round(w_mm * PX), round(h_mm * PX)), 255)
        self.d = ImageDraw.Draw(self.img)
        self.text_size = text_size
        self.rule_mm = rule_mm
        self._fonts: dict[float, ImageFont.FreeTypeFont] = {}

    def font(self, size: float) -> ImageFont.FreeTypeFont:
        return self._fonts.setdefault(size, ImageFont.truetype(PRINT_FONT, round(size * PX)))

    def text(self, x: float, y: float, s: str, size: float | None = None, anchor: str = "lm") -> None:
        self.d.text((x * PX, y * PX), s, font=self.font(size or self.text_size), fill=0, anchor=anchor)

    def text_box(self, x: float, y: float, s: str, size: float) -> tuple[float, float, float, float]:
        """The ink box (x, y, w, h in mm) of `s` drawn at (x, y) anchored left-middle."""
        x0, y0, x1, y1 = self.d.textbbox((x * PX, y * PX), s, font=self.font(size), anchor="lm")
        return x0 / PX, y0 / PX, (x1 - x0) / PX, (y1 - y0) / PX

    def rect(self, x: float, y: float, w: float, h: float, lw: float | None = None) -> None:
        width = max(1, round((lw or self.rule_mm) * PX))
        self.d.rectangle([x * PX, y * PX, (x + w) * PX, (y + h) * PX], outline=0, width=width)

    def head(self, x: float, y: float, w: float, h: float, s: str, size: float) -> None:
        """A label cell: ruled, its text centred (lines split on '\\n')."""
        self.rect(x, y, w, h)
        lines = s.split("\n")
        for i, line in enumerate(lines):
            self.text(x + w / 2, y + h / 2 + (i - (len(lines) - 1) / 2) * (size + 0.6), line, size, "mm")

    def cells(self, x: float, y: float, n: int, w: float, h: float, lw: float) -> None:
        """`n` boxes side by side, one per written character (digit cells)."""
        for i in range(n):
            self.rect(x + w * i, y, w, h, lw)
