"""The pipeline's logic without the OCR model: the real stages (ingest, identify, align, dropout,
marks, normalise, validate, route) around a `FakeRecognizer`, and the correction passes on the
matrices it spells."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.common import same
from pipeline.fields import passes
from pipeline.fields.plan import CONSTRAINTS, Job, RawField
from pipeline.forms.align import prepare_template
from pipeline.forms.template import FieldSpec, load_all_templates
from pipeline.jp import mynumber
from pipeline.ocr.decode import decode
from pipeline.ocr.fake import FakeRecognizer
from pipeline.result import Route
from pipeline.run import Engine, process_file
from pipeline.settings import Settings
from tests.conftest import DEMO

MARK_KINDS = ("choice", "multi_choice", "checkbox", "signature")


@pytest.fixture(scope="module")
def settings_() -> Settings:
    return Settings(data_dir=Path("/nonexistent-not-used"))


@pytest.fixture(scope="module")
def fake_engine(settings_: Settings) -> Engine:
    feats = [
        prepare_template(t, settings_.work_dpi) for t in load_all_templates(Path(settings_.templates_dir))
    ]
    return Engine(settings_, feats, FakeRecognizer(lambda crop: ""))


def test_a_demo_page_is_read_around_a_recogniser_that_reads_nothing(fake_engine: Engine) -> None:
    path = DEMO / "doc_0001.png"
    gt = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["pages"][0]
    doc = process_file(path, fake_engine).result
    (page,) = doc.pages
    assert page.form_id == "nursery_enrolment" and page.route == Route.review
    assert fake_engine.recognizer.crops_seen > 0  # text fields were cut and sent to the recogniser
    fields = {f.name: f for f in page.fields}
    # Marks are read from ink, not by the recogniser: exactly right even with a blind recogniser.
    marks = [f for f in page.fields if f.kind in MARK_KINDS]
    assert marks and all(same(f.value, gt["values"][f.name]) for f in marks), [
        (f.name, f.value, gt["values"][f.name]) for f in marks if not same(f.value, gt["values"][f.name])
    ]
    # The recogniser read nothing. What a text field still holds came from the digit classifier
    # (ink left unread: skipped digits put back), and is flagged and not accepted.
    text = [f for f in page.fields if f.kind not in MARK_KINDS]
    guessed = [f for f in text if f.raw]
    assert all(not f.accepted for f in guessed)
    assert all({"unread_ink", "digit_reader_only"} & {i.code for i in f.issues} for f in guessed)
    assert len(guessed) < len(text) / 2
    required = [f for f in text if any(i.code == "required" for i in f.issues)]
    assert required and not any(f.accepted for f in required)
    assert fields["child_name"].value is None


def _job(kind: str, text_constraint: str | None = None) -> Job:
    return Job("f", "text", np.zeros((48, 200), np.uint8), CONSTRAINTS[kind], ink=None, kind=kind)


def test_check_digit_pass_repairs_one_misread_digit_and_says_so() -> None:
    fake = FakeRecognizer([])
    good = "123456789018"
    assert mynumber.is_valid(good)
    bad = good[:5] + "0" + good[6:]  # one digit misread
    assert not mynumber.is_valid(bad)
    probs = fake.matrix(bad, 400)
    job = _job("my_number")
    reading = decode(probs, fake.labels, job.constraint)
    assert reading.text == bad
    flags = passes.new_flags()
    fixed = passes.check_digit(job, probs, fake.labels, reading, None, flags)
    assert mynumber.is_valid(fixed.text) and sum(a != b for a, b in zip(fixed.text, bad, strict=True)) == 1
    assert flags["check_digit_corrected"] == {"f"}
    # A valid number is left alone and nothing is flagged.
    flags = passes.new_flags()
    probs = fake.matrix(good, 400)
    ok = decode(probs, fake.labels, job.constraint)
    assert passes.check_digit(job, probs, fake.labels, ok, None, flags) is ok
    assert flags["check_digit_corrected"] == set()


def test_only_a_my_number_field_gets_the_check_digit_pass() -> None:
    assert passes.check_digit in passes.KIND_PASSES["my_number"]
    assert all(passes.check_digit not in v for k, v in passes.KIND_PASSES.items() if k != "my_number")


def test_apply_flags_turns_notes_into_issues_and_caps_confidence() -> None:
    spec = FieldSpec(name="phone", label="電話番号", kind="phone", box=(0.0, 0.0, 10.0, 10.0))
    rf = RawField(spec, raw="0422-45-1151", confidence=0.99)
    flags = passes.new_flags()
    flags["digits_uncertain"].add("phone")
    flags["not_in_list"].add("phone")
    out = passes.apply_flags(rf, flags)
    assert [i.code for i in out.issues] == ["not_in_list", "digits_uncertain"]
    assert out.confidence == passes.DISAGREE_CONFIDENCE
    assert "電話番号" in out.issues[0].message
    # not_in_list says nothing about an empty field
    empty = passes.apply_flags(
        RawField(spec, raw="", confidence=1.0), {**passes.new_flags(), "not_in_list": {"phone"}}
    )
    assert empty.issues == [] and empty.confidence == 1.0


def test_a_furigana_short_of_its_names_reading_is_held() -> None:
    kana = FieldSpec(name="kana", label="フリガナ", kind="kana", box=(0.0, 0.0, 10.0, 5.0), reading_of="name")
    rf = RawField(kana, raw="ヤマダウコ", confidence=0.99)
    out = passes.apply_flags(rf, {**passes.new_flags(), "kana_short": {"kana"}})
    assert [i.code for i in out.issues] == ["kana_short"]
    assert out.confidence == passes.DISAGREE_CONFIDENCE


def test_the_fake_refuses_text_it_has_no_label_for() -> None:
    with pytest.raises(ValueError, match="no label"):
        FakeRecognizer(["Ω"]).probs([np.zeros((48, 100), np.uint8)])


def _peaks(probs: np.ndarray) -> list[int]:
    return [t for t in range(probs.shape[0]) if probs[t, 0] < 0.5]


def test_phone_of_impossible_length_is_repaired_by_the_digit_the_writing_half_showed() -> None:
    # 099-771-2048 written, the second 9 read as 0 (0907712048: a mobile one digit short).
    fake = FakeRecognizer([])
    probs = fake.matrix("0907712048", 400)
    t = _peaks(probs)[2]
    nine, zero = fake.labels.index("9"), fake.labels.index("0")
    probs[t, zero], probs[t, nine] = 0.55, 0.4
    job = _job("phone")
    reading = decode(probs, fake.labels, job.constraint)
    assert reading.text == "0907712048"
    flags = passes.new_flags()
    fixed = passes.phone_number(job, probs, fake.labels, reading, None, flags)
    assert fixed.text == "0997712048"
    assert flags["phone_repaired"] == {"f"}
    assert min(c.prob for c in fixed.chars) <= passes.DISAGREE_CONFIDENCE


def test_phone_repair_leaves_a_valid_number_and_an_unsupported_guess_alone() -> None:
    fake = FakeRecognizer([])
    job = _job("phone")
    # Valid; a mobile one digit short but read surely (no digit stands out); the right length with
    # an area code the table lacks (071), which may be written as meant.
    for text in ("0997712048", "0907712048", "0717049026"):
        probs = fake.matrix(text, 400)
        reading = decode(probs, fake.labels, job.constraint)
        flags = passes.new_flags()
        assert passes.phone_number(job, probs, fake.labels, reading, None, flags) is reading
        assert flags["phone_repaired"] == set()
    assert passes.phone_number in passes.KIND_PASSES["phone"]
