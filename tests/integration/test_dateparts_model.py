"""A template written without a date's `parts` gets them from its blank, with the real recogniser
reading the printed 年, 月 and 日: on our forms' blanks (boxes, pairs of digit cells with eras
above, a plain table row) the parts found cover the hand-written ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.forms.template import load_template
from pipeline.run import Engine, complete_template
from pipeline.settings import Settings

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]
FORMS = [
    ROOT / "bench" / "forms" / "child_allowance",  # [□]年[□]月[□]日, eras stacked to the left
    ROOT / "bench" / "forms" / "hibari_allowance",  # digit cells in a table row, eras above
    ROOT / "bench" / "forms" / "childcare_status",  # boxes after the label 提出日 with its own 日
    ROOT / "templates_forms" / "nursery_enrolment",  # the demo's form
]


def _without_parts(folder: Path, tmp: Path, eras: bool = True) -> Path:
    """A copy of the template in `folder` with no date `parts` (and, unless `eras`, no eras)."""
    doc = yaml.safe_load((folder / "template.yaml").read_text(encoding="utf-8"))
    for f in doc["fields"]:
        f.pop("parts", None)
        if not eras:
            for key in ("era", "era_options", "infer_when_unmarked"):
                f.pop(key, None)
    out = tmp / folder.name
    out.mkdir()
    (out / "template.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    (out / "blank.png").symlink_to(folder / "blank.png")
    return out


def _cover(found: tuple[float, ...], given: tuple[float, ...]) -> float:
    """Share of the `given` box that `found` covers."""
    fx, fy, fw, fh = found
    gx, gy, gw, gh = given
    w = max(0.0, min(fx + fw, gx + gw) - max(fx, gx))
    h = max(0.0, min(fy + fh, gy + gh) - max(fy, gy))
    return w * h / (gw * gh)


@pytest.mark.parametrize("folder", FORMS, ids=lambda p: p.name)
def test_parts_left_out_are_found_where_the_template_writer_put_them(
    engine: Engine, folder: Path, tmp_path: Path
) -> None:
    given = load_template(folder)
    bare = load_template(_without_parts(folder, tmp_path))
    found = complete_template(bare, engine.recognizer)
    dated = [f for f in given.fields if f.parts is not None]
    assert dated
    for f in dated:
        parts = found.field(f.name).parts
        assert parts is not None, f.name
        for which in ("year", "month", "day"):
            mine, theirs = getattr(parts, which), getattr(f.parts, which)
            assert _cover(mine, theirs) >= 0.85, (f.name, which, mine, theirs)
            assert mine[2] <= theirs[2] + 3.5 and mine[3] <= theirs[3] + 3.5, (f.name, which, mine, theirs)
    assert sum(line.endswith("(found on the blank)") for line in found.inferred) == len(dated)
    # Dates with nothing printed to find (written in full) keep no parts.
    for f in bare.fields:
        if f.kind == "date_wareki" and given.field(f.name).parts is None:
            assert found.field(f.name).parts is None


@pytest.mark.parametrize("folder", FORMS, ids=lambda p: p.name)
def test_eras_left_out_too_are_read_off_the_blank(engine: Engine, folder: Path, tmp_path: Path) -> None:
    given = load_template(folder)
    found = complete_template(load_template(_without_parts(folder, tmp_path, eras=False)), engine.recognizer)
    for f in given.fields:
        if f.parts is None:
            continue
        mine = found.field(f.name)
        if f.era:
            # One printed era, inside the box (令和 ＿年) or before it (令和 printed left of the
            # box, as the allowance forms' 請求年月日): found where it is in the box, else the date
            # is left a written string, with no era to read its year in.
            assert (mine.era, mine.parts is None) in ((f.era, False), (None, True)), f.name
            assert not mine.era_options
        else:
            assert mine.parts is not None, f.name
            assert {o.value for o in mine.era_options or []} == {o.value for o in f.era_options or []}, f.name
            assert all(o.label is not None for o in mine.era_options or [])
            assert mine.infer_when_unmarked


def test_the_engine_reads_with_the_parts_it_found(tmp_path: Path) -> None:
    templates = tmp_path / "forms"
    templates.mkdir()
    _without_parts(ROOT / "templates_forms" / "nursery_enrolment", templates)
    engine = Engine.load(Settings(data_dir=tmp_path / "data", templates_dir=templates))
    (tpl,) = [t.template for t in engine.templates]
    assert tpl.field("child_birth_date").parts is not None
    assert any(line.startswith("child_birth_date: parts") for line in tpl.inferred)
