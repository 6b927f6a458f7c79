"""`shinsei template import`: a form's field list (another generator's JSON, boxes in mm) becomes a
template that reads the form as well as one written by hand.

The fixture is the change-of-address form of bench/forms written as such a list, in the kinds
development set A's list uses (`date` with its printed era and parts, `checkbox` groups with
`multiple`, `digit_boxes`, a `text_kanji` address, an `office_stamp`). Pages are filled by the
sample generator from the hand-written template and read with the imported one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.common import is_filled, same
from pipeline.run import Engine, process_file
from pipeline.settings import Settings
from samples.generate import Options, generate
from tests.conftest import ROOT

FORM = "change_of_address"
HAND = ROOT / "bench" / "forms" / FORM
FIELD_MAP = ROOT / "tests" / "fixtures" / "fieldmaps" / f"{FORM}.json"


def shinsei(*args: str, templates: Path, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHINSEI_TEMPLATES_DIR": str(templates), "SHINSEI_DATA_DIR": str(data)}
    return subprocess.run(
        [str(Path(sys.executable).parent / "shinsei"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imported")
    shutil.copytree(ROOT / "templates_forms" / "nursery_enrolment", root / "nursery_enrolment")
    res = shinsei(
        "template",
        "import",
        str(FIELD_MAP),
        "--blank",
        str(HAND / "blank.png"),
        templates=root,
        data=root / "d",
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return root


def test_the_field_list_becomes_a_template_that_passes_the_check(imported: Path, tmp_path: Path) -> None:
    tpl = yaml.safe_load((imported / FORM / "template.yaml").read_text(encoding="utf-8"))
    kinds = {f["name"]: f["kind"] for f in tpl["fields"]}
    assert kinds == {
        "submit_date": "date_wareki",
        "name_kana": "kana",
        "name": "text_ja",
        "birth_date": "date_wareki",
        "postal_code": "postal_code",
        "address": "text_ja",
        "phone_mobile": "phone",
        "move_reasons": "multi_choice",
        "whole_household": "checkbox",
    }
    assert (imported / FORM / "blank.png").is_file() and tpl["blank_dpi"] == 300
    res = shinsei(
        "template", "check", FORM, "--out", str(tmp_path / "c.png"), templates=imported, data=tmp_path
    )
    assert res.returncode == 0, res.stdout + res.stderr
    # what the list does not say is assumed, and said: the furigana's name, the address's rule
    assert "name_kana: reading_of name" in res.stdout
    assert "postal_code, address: rule postal_matches_address" in res.stdout


def test_an_existing_template_is_not_replaced_without_force(imported: Path) -> None:
    args = ("template", "import", str(FIELD_MAP), "--blank", str(HAND / "blank.png"))
    res = shinsei(*args, templates=imported, data=imported / "d")
    assert res.returncode == 2 and "give --force" in res.stderr
    res = shinsei(*args, "--force", templates=imported, data=imported / "d")
    assert res.returncode == 0, res.stderr


def test_a_list_without_a_usable_id_or_with_a_bad_box_is_refused(tmp_path: Path) -> None:
    data = json.loads(FIELD_MAP.read_text(encoding="utf-8"))
    one_letter = tmp_path / "a.json"
    one_letter.write_text(json.dumps({**data, "form_id": "A"}), encoding="utf-8")
    res = shinsei(
        "template",
        "import",
        str(one_letter),
        "--blank",
        str(HAND / "blank.png"),
        templates=tmp_path,
        data=tmp_path,
    )
    assert res.returncode == 2 and "give --form-id" in res.stderr
    odd = tmp_path / "b.json"
    data["fields"][1]["box_mm"] = {"x": 46, "y": 40}
    odd.write_text(json.dumps(data), encoding="utf-8")
    res = shinsei(
        "template", "import", str(odd), "--blank", str(HAND / "blank.png"), templates=tmp_path, data=tmp_path
    )
    assert res.returncode == 4 and "fields[1] (submit_date).box_mm: a box must be" in res.stderr
    assert not (tmp_path / FORM).exists()  # nothing half-written is left behind


@pytest.mark.model
def test_pages_read_as_well_as_with_the_hand_written_template(
    imported: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    hand = tmp_path_factory.mktemp("hand")
    shutil.copytree(HAND, hand / FORM, ignore=shutil.ignore_patterns("*.py"))
    shutil.copytree(ROOT / "templates_forms" / "nursery_enrolment", hand / "nursery_enrolment")
    out = tmp_path_factory.mktemp("filled")
    manifest = generate(
        Options(seed=2027, form=FORM, profile="mild", fonts="holdout", templates=hand), 3, out
    )
    scores = {}
    for name, folder in (("hand", hand), ("imported", imported)):
        engine = Engine.load(Settings(templates_dir=folder, data_dir=Path("/nonexistent-not-used")))
        filled = right = accepted = accepted_wrong = 0
        for e in manifest["files"]:
            gt = json.loads((out / e["file"]).with_suffix(".json").read_text())
            [page] = process_file(out / e["file"], engine).result.pages
            assert page.form_id == FORM, (name, e["file"], page.issues)
            values = gt["pages"][0]["values"]
            for f in page.fields:
                if is_filled(values[f.name]):
                    ok = same(f.value, values[f.name])
                    filled, right = filled + 1, right + ok
                    accepted, accepted_wrong = accepted + f.accepted, accepted_wrong + (f.accepted and not ok)
        scores[name] = (filled, right, accepted, accepted_wrong)
    (filled, right, accepted, wrong), (_, hand_right, hand_accepted, hand_wrong) = (
        scores["imported"],
        scores["hand"],
    )
    assert filled >= 20
    # as well as by hand, a field either way (the hand-written one gives date ranges and max lengths)
    assert right >= hand_right - 1 and right / filled >= 0.8, scores
    assert accepted >= hand_accepted - 2 and wrong <= hand_wrong + 1, scores
