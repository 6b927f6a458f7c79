"""A page whose printed words the scan lost, but whose ruled lines survive, is identified and
aligned on those lines from the weak feature fit; another form's page is not."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.forms import rulelines
from pipeline.forms.align import Alignment, prepare_template
from pipeline.forms.identify import identify
from pipeline.forms.template import load_template

ROOT = Path(__file__).resolve().parents[2]
NURSERY = ROOT / "templates_forms" / "nursery_enrolment"
# A threshold no feature match reaches stands in for a page whose print was too faint to match.
STRICT = "identify:\n  min_inliers: 100000\n"


def _form(tmp_path: Path, name: str, src: Path, extra: str = "") -> Path:
    out = tmp_path / name
    out.mkdir()
    (out / "blank.png").write_bytes((src / "blank.png").read_bytes())
    text = (src / "template.yaml").read_text(encoding="utf-8")
    (out / "template.yaml").write_text(text + extra, encoding="utf-8")
    return out


def _scan(blank: np.ndarray, angle: float = 1.2, scale: float = 0.97) -> tuple[np.ndarray, np.ndarray]:
    h, w = blank.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += (20, -30)
    out = cv2.warpAffine(blank, m, (w, h), borderValue=255).astype(np.float32)
    out += np.random.default_rng(0).normal(0, 6, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8), m


def test_a_page_with_its_rules_is_identified_on_them_when_features_fall_short(tmp_path) -> None:
    feats = prepare_template(load_template(_form(tmp_path, "strict", NURSERY, STRICT)), 150)
    blank = cv2.imread(str(NURSERY / "blank.png"), cv2.IMREAD_GRAYSCALE)
    page, m = _scan(blank)
    ident = identify(page, [feats])
    assert ident.matched and ident.how == "ruled_lines"
    # a page point lands where the blank has it (300 dpi blank, 150 dpi work), to a pixel or so
    for x_mm, y_mm in ((30.0, 40.0), (180.0, 260.0)):
        src = np.array([x_mm * 300 / 25.4, y_mm * 300 / 25.4, 1.0])
        on_page = m @ src
        got = cv2.perspectiveTransform(np.float32([[on_page]]), ident.best.homography)[0, 0]
        assert np.allclose(got, [x_mm * 150 / 25.4, y_mm * 150 / 25.4], atol=1.5)
    # read as usual, and the page goes to a person, who is told which form was assumed
    from pipeline.ocr.fake import FakeRecognizer
    from pipeline.result import Route
    from pipeline.run import Engine, process_page
    from pipeline.settings import Settings

    result = process_page(page, 0, Engine(Settings(), [feats], FakeRecognizer(lambda crop: "")))
    assert result.form_id == "nursery_enrolment" and result.route == Route.review
    notes = [i for i in result.issues if i.code == "aligned_on_rules"]
    assert len(notes) == 1 and notes[0].severity == "error" and feats.template.title in notes[0].message


def test_a_fit_a_few_pixels_off_is_brought_onto_the_rules() -> None:
    feats = prepare_template(load_template(NURSERY), 150)
    blank = cv2.resize(feats.blank_work, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)  # the "scan"
    exact = np.diag([0.5, 0.5, 1.0])
    off = np.array([[1, 0, 4], [0, 1, -3], [0, 0, 1]], float) @ exact
    start = Alignment("nursery_enrolment", off, 30, 30, 0.01, 0.0, 1.0)
    dpi = feats.work_dpi
    blank_rules = rulelines.rule_mask(feats.blank_work, dpi)
    before = rulelines.agreement(
        blank_rules, rulelines.rule_mask(rulelines.warp(blank, start, feats), dpi), dpi
    )
    moved = rulelines.align_on_rules(blank, feats, start)
    assert moved is not None
    after = rulelines.agreement(
        blank_rules, rulelines.rule_mask(rulelines.warp(blank, moved, feats), dpi), dpi
    )
    assert after[0] > 0.95 and after[1] > 0.95 and after[0] > before[0]
    assert np.allclose(moved.homography @ [1000, 1500, 1], exact @ [1000, 1500, 1], atol=1.0)


def test_another_forms_page_is_not_taken_for_the_form_on_its_rules(tmp_path) -> None:
    feats = prepare_template(load_template(_form(tmp_path, "strict", NURSERY, STRICT)), 150)
    other = ROOT / "bench" / "forms" / "child_allowance"
    page, _ = _scan(cv2.imread(str(other / "blank.png"), cv2.IMREAD_GRAYSCALE))
    assert not identify(page, [feats]).matched
    # nor from the best start there is: the two blanks laid one on the other
    other_feats = prepare_template(load_template(other), 150)
    start = Alignment("nursery_enrolment", np.eye(3), 30, 30, 0.01, 0.0, 1.0)
    assert rulelines.align_on_rules(other_feats.blank_work, feats, start) is None
