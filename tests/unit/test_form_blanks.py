"""The committed blanks of the bench forms are what their recipes draw (bench/forms/*/make_blank.py).

The blanks are the templates' reference images, so a change to a recipe or to the shared
drawing helpers that moved a single printed pixel would silently shift every field box.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

FORMS = Path(__file__).resolve().parents[2] / "bench" / "forms"
RECIPES = sorted(FORMS.glob("*/make_blank.py"))


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.parent.name for r in RECIPES])
def test_recipe_draws_the_committed_blank(recipe: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"make_blank_{recipe.parent.name}", recipe)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = np.asarray(module.draw_blank())
    committed = np.asarray(Image.open(recipe.parent / "blank.png").convert("L"))
    assert drawn.shape == committed.shape
    assert np.array_equal(drawn, committed)


def test_every_bench_form_has_a_recipe() -> None:
    assert len(RECIPES) >= 3
