"""The whole pipeline on the committed demo scans (real images, real OCR, no mocks)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from bench.common import is_filled, same
from pipeline.result import DocumentResult, Route
from pipeline.route import threshold_for
from pipeline.run import process_file, process_page
from tests.conftest import DEMO

DEMO_FILES = sorted(p for p in DEMO.iterdir() if p.suffix in {".png", ".jpg", ".pdf", ".tiff"})


@pytest.fixture(scope="module")
def results(engine):
    return {p.name: process_file(p, engine).result for p in DEMO_FILES}


def _gt(name: str) -> dict:
    return json.loads((DEMO / name).with_suffix(".json").read_text(encoding="utf-8"))


@pytest.mark.model
def test_every_demo_page_is_identified_and_turned_upright(results) -> None:
    for name, doc in results.items():
        gt = _gt(name)
        assert len(doc.pages) == len(gt["pages"]), name
        for page, gpage in zip(doc.pages, gt["pages"], strict=True):
            assert page.form_id == "nursery_enrolment", name
            assert page.orientation == (180 if gpage["upside_down"] else 0), name
            assert abs(page.skew_deg) < 10


@pytest.mark.model
def test_field_values_match_ground_truth_and_accepted_fields_are_right(results) -> None:
    filled = right = accepted = accepted_wrong = 0
    for name, doc in results.items():
        for page, gpage in zip(doc.pages, _gt(name)["pages"], strict=True):
            fields = {f.name: f for f in page.fields}
            for field, want in gpage["values"].items():
                f = fields[field]
                ok = same(f.value, want)
                if is_filled(want):
                    filled += 1
                    right += ok
                accepted += f.accepted
                accepted_wrong += f.accepted and not ok
    assert right / filled >= 0.88, f"{right}/{filled} filled fields right"
    assert accepted / (len(DEMO_FILES) * 25) >= 0.6
    assert accepted_wrong <= 2, f"{accepted_wrong} wrong fields were auto-accepted"


@pytest.mark.model
def test_black_and_white_pages_are_marked_so(results) -> None:
    # A fax's pages are calibrated as such (their readings are surer than right); others not.
    for name, doc in results.items():
        gt = _gt(name)
        for page, gpage in zip(doc.pages, gt["pages"], strict=True):
            assert page.bilevel == bool(gpage.get("fax") or gpage.get("bilevel")), name
            # The clerk is told why such a page's fields need a surer reading.
            assert ("bilevel_scan" in {i.code for i in page.issues}) == page.bilevel, name
            assert doc.from_dict(doc.export()).pages[page.index].bilevel == page.bilevel


@pytest.mark.model
def test_marks_are_read_exactly(results) -> None:
    for name, doc in results.items():
        for page, gpage in zip(doc.pages, _gt(name)["pages"], strict=True):
            for f in page.fields:
                if f.kind in ("choice", "multi_choice", "checkbox", "signature"):
                    assert same(f.value, gpage["values"][f.name]), (name, f.name, f.value)


@pytest.mark.model
def test_review_items_carry_reasons_for_every_unaccepted_field(results, engine) -> None:
    # A person must be able to see why a field waits for them: an error issue, a confidence under
    # the field's threshold, or a template that always sends it to review (`always`, or `double`:
    # two clerks key it whatever the machine read). (Not route_page again.)
    specs = {(t.template.form_id, f.name): f for t in engine.templates for f in t.template.fields}
    unaccepted = 0
    for doc in results.values():
        for page in doc.pages:
            for f in page.fields:
                assert 0.0 <= f.confidence <= 1.0
                assert all(0.0 <= c.prob <= 1.0 for c in f.chars)
                if f.accepted:
                    continue
                unaccepted += 1
                spec = specs[(page.form_id, f.name)]
                reasons = [i for i in f.issues if i.severity == "error"]
                low = f.confidence < threshold_for(spec, engine.settings, f.evidence, page.bilevel)
                assert reasons or low or spec.review in ("always", "double"), (
                    doc.source_name,
                    f.name,
                    f.issues,
                )
    assert unaccepted > 0  # the demo set has fields for review: the loop above checked something


@pytest.mark.model
def test_result_tree_round_trips_through_json(results) -> None:
    for doc in results.values():
        again = DocumentResult.from_dict(json.loads(json.dumps(doc.export(), ensure_ascii=False)))
        assert again.export() == doc.export()


@pytest.mark.model
@pytest.mark.parametrize(
    ("name", "route", "reason"),
    [
        ("empty.pdf", Route.quarantined, "empty_file"),
        ("notes.jpg", Route.quarantined, "unsupported_type"),
        ("broken.pdf", Route.quarantined, "corrupt_file"),
    ],
)
def test_bad_demo_files_are_quarantined_with_a_reason(engine, name, route, reason) -> None:
    doc = process_file(DEMO / "bad" / name, engine).result
    assert doc.route == route and doc.reason == reason
    assert doc.message and "。" in doc.message  # a sentence a clerk can read


@pytest.mark.model
def test_another_document_and_a_blank_page_go_to_review_as_unknown(engine) -> None:
    doc = process_file(DEMO / "bad" / "other_document.png", engine).result
    assert doc.route == Route.unknown_form
    assert doc.pages[0].issues[0].code == "unknown_form"
    blank = np.full((3508, 2480, 3), 245, np.uint8)
    page = process_page(blank, 0, engine)
    assert page.route == Route.unknown_form and page.issues[0].code == "blank_page"


@pytest.mark.model
def test_a_page_scanned_sideways_is_read(engine) -> None:
    img = cv2.imread(str(DEMO / "doc_0001.png"))
    page = process_page(np.ascontiguousarray(np.rot90(img)), 0, engine)
    assert page.form_id == "nursery_enrolment" and page.orientation in (90, 270)
    gt = _gt("doc_0001.png")["pages"][0]["values"]
    right = sum(same(f.value, gt[f.name]) for f in page.fields)
    assert right >= 20


@pytest.mark.model
def test_a_grey_dim_scan_reads_like_a_white_one(engine) -> None:
    # Recycled paper or a scanner's dim grey mode: paper at ~195 instead of ~240, ink lifted too.
    # Empty tick boxes must stay empty (their paper is not ink) and the text must still be read.
    img = cv2.imread(str(DEMO / "doc_0001.png"))
    k = 175 / float(np.median(img))
    dim = np.clip(img.astype(np.float32) * k + 20, 0, 255).astype(np.uint8)
    gt = _gt("doc_0001.png")["pages"][0]["values"]
    white = {f.name: f for f in process_page(img, 0, engine).fields}
    grey = {f.name: f for f in process_page(dim, 0, engine).fields}
    for name, f in grey.items():
        if f.kind in ("choice", "multi_choice", "checkbox", "signature"):
            assert same(f.value, gt[name]), (name, f.value)
    right_white = sum(same(f.value, gt[n]) for n, f in white.items())
    right_grey = sum(same(f.value, gt[n]) for n, f in grey.items())
    assert right_grey >= right_white - 1, (right_grey, right_white)


@pytest.mark.model
def test_a_fax_in_standard_mode_is_identified_and_read(engine, tmp_path) -> None:
    # A fax server's TIFF: bilevel, G4, 204 dpi across and 98 down, so the stored page is half as
    # tall as the paper. Unsquared, no form's features matched it (every page unknown_form).
    img = cv2.imread(str(DEMO / "doc_0001.png"), cv2.IMREAD_GRAYSCALE)
    h, w = img.shape  # 300 dpi
    fax = cv2.resize(img, (round(w * 204 / 300), round(h * 98 / 300)), interpolation=cv2.INTER_AREA)
    path = tmp_path / "fax.tif"
    Image.fromarray(np.where(fax > 0.6 * np.median(fax), 255, 0).astype(np.uint8)).convert("1").save(
        path, compression="group4", dpi=(204, 98)
    )
    gt = _gt("doc_0001.png")["pages"][0]["values"]
    [page] = process_file(path, engine).result.pages
    assert page.form_id == "nursery_enrolment" and page.bilevel
    right = sum(same(f.value, gt[f.name]) for f in page.fields)
    assert right >= 20, right
