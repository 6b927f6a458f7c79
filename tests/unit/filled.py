"""A filled page from the generator for its unit tests: one application's values written on a
template's blank by the "seto" writer, no 受付印, no main-stream corrections."""

from __future__ import annotations

from typing import Any

import numpy as np

from samples import profile
from samples.handwriting import Hand, Style
from samples.render import Rendered, render_page


def render_filled(
    template: Any, seed: int = 11, violation: str | None = None, **kw: Any
) -> tuple[dict[str, profile.Fill], Rendered]:
    """The values and the rendered page of seed `seed`; `kw` go to `render_page` (the extra
    streams and their probabilities). `violation` as `profile.make_page_values` takes it ("" for a
    clean page)."""
    rng = np.random.default_rng(seed)
    fills, _ = profile.make_page_values(template, rng, violation)
    hand = Hand(rng, "train", "seto", Style())
    kw.setdefault("extra_rng", np.random.default_rng(3))
    r = render_page(template, fills, hand, rng, stamp=False, ink_colour=(20, 20, 30), p_correction=0.0, **kw)
    return fills, r
