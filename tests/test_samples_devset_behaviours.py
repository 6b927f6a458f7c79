"""Generator behaviours added after development set A (docs/devset-a-findings.md): an uncircled
printed era, and 200 dpi colour/grey scans with low contrast. Each is drawn from its own random
stream so pages without it are unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.forms.template import load_template
from samples import profile
from samples.handwriting import Hand, Style
from samples.render import render_page, to_px

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = REPO / "templates_forms" / "nursery_enrolment"


@pytest.fixture(scope="module")
def template():
    return load_template(TEMPLATE_DIR)


def _render(template, p_era_unmarked: float):
    rng = np.random.default_rng(11)
    fills, _ = profile.make_page_values(template, rng)
    hand = Hand(rng, "train", "seto", Style())
    r = render_page(
        template,
        fills,
        hand,
        rng,
        stamp=False,
        ink_colour=(20, 20, 30),
        p_correction=0.0,
        extra_rng=np.random.default_rng(3),
        p_era_unmarked=p_era_unmarked,
    )
    return fills, r


def test_uncircled_era_leaves_the_era_boxes_empty_and_is_recorded(template):
    eras = [f for f in template.fields if f.era_options]
    assert eras, "the nursery form has a date with era options"
    ppm = template.blank_dpi / 25.4
    fills, plain = _render(template, 0.0)
    _, bare = _render(template, 1.0)
    for f in eras:
        if not fills[f.name].draw:
            continue
        assert plain.marks.get(f"{f.name}:{fills[f.name].draw['era']}") == "circle"
        assert bare.marks[f"{f.name}:era"] == "unmarked"
        for opt in f.era_options:
            x, y, w, h = (int(v) for v in to_px(opt.box, ppm))
            assert (bare.pen[y : y + h, x : x + w] > 60).sum() == 0, opt.value
        # the year, month and day are still written
        x, y, w, h = (int(v) for v in to_px(f.parts.year, ppm))
        assert (bare.pen[y : y + h, x : x + w] > 60).sum() > 20
