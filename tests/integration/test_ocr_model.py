"""OCR stage with the real PP-OCRv6-small model: class masks over its labels, and readings of crops
rendered with handwriting-style and printed fonts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.jp.text import VARIANT_FOLD
from pipeline.ocr import (
    PATTERNS,
    Constraint,
    OnnxRecognizer,
    Recognizer,
    charsets,
    class_mask,
    decode,
    digits_pattern,
    greedy,
    pattern,
)
from pipeline.ocr.decode import SCRIPT_PRIOR_CHARSETS, script_prior
from pipeline.result import Reading
from tests.unit.test_decode import to_regex

pytestmark = pytest.mark.model  # every test here loads the OCR model


@pytest.fixture(scope="module")
def rec() -> OnnxRecognizer:
    return OnnxRecognizer(threads=2)


@pytest.fixture(scope="module")
def model_labels(rec: OnnxRecognizer) -> tuple[str, ...]:
    return rec.labels


def test_class_masks(model_labels: tuple[str, ...]) -> None:
    L = model_labels
    assert len(L) == 18710 and L[0] == "" and L[-1] == " "
    for name in charsets.CHARSET_NAMES:
        m = class_mask(name, L)
        assert m.shape == (18710,) and m[0], name
        assert class_mask(name, L) is m  # cached
    allowed = {n: {L[i] for i in np.flatnonzero(class_mask(n, L))} - {""} for n in charsets.CHARSET_NAMES}
    assert allowed["digits"] == set("0123456789") == allowed["number"]
    assert allowed["phone"] == set("0123456789-") == allowed["postal"]
    assert {"ヤ", "ヴ", "ー", "ァ", "ヶ"} <= allowed["kana"] and " " not in allowed["kana"]
    assert "や" not in allowed["kana"] and "や" in allowed["hiragana"]
    assert allowed["wareki"] == set("0123456789令和平成昭和大正元年月日")
    assert allowed["date"] == set("0123456789/年月日")
    assert {"髙", "東", "鷹", "雀", "ヤ", "や", "1", "A"} <= allowed["name"]
    assert {"鷹", "番", "丁", "ー", "・"} <= allowed["address"] and "１" not in allowed["address"]
    assert not any(0xFF61 <= ord(c) <= 0xFF9F for c in allowed["address"] if len(c) == 1)
    # every class but the old/variant kanji, whose probability goes to the common form (穗 → 穂)
    folded = {c for c in VARIANT_FOLD if c in L}
    assert len(folded) > 100 and "穗" in folded
    assert len(allowed["free"]) == 18709 - len(folded) and not (folded & allowed["free"])
    assert not (allowed["name"] - allowed["free"])


def test_lookalike_merges(model_labels: tuple[str, ...]) -> None:
    L = model_labels
    i = {c: k for k, c in enumerate(L) if k}
    probs = np.zeros((3, len(L)), dtype=np.float32)
    probs[0, i["５"]] = 0.6  # full-width five
    probs[0, i["3"]] = 0.4
    probs[1, 0] = 1.0
    probs[2, i["ー"]] = 0.5  # long-vowel mark where a hyphen belongs
    probs[2, i["一"]] = 0.3  # kanji one, same shape
    probs[2, i["1"]] = 0.2
    r = decode(probs, L, Constraint("phone"))
    assert r.text == "5-"
    assert r.chars[1].prob == pytest.approx(0.8)
    assert decode(probs, L, Constraint("kana")).text == "ー"
    assert decode(probs, L, Constraint("free")).text == "５ー"
    assert probs[0, i["5"]] == 0  # the input matrix is not modified


def test_compact_decoding_equals_merge_then_mask_on_the_full_matrix(
    rec: OnnxRecognizer, model_labels: tuple[str, ...]
) -> None:
    font = next(iter(AVAILABLE_FONTS.values()))
    texts = ["０４２２ー４５ー１１５１", "令和6年4月1日", "ヤマダ一タロウ", "東京都三鷹市１２番"]
    probs = rec.probs([degrade(render(t, font), 7) for t in texts])
    for p in probs:
        for name in charsets.CHARSET_NAMES:
            merged, mask = charsets.merge_probs(p, name, model_labels), class_mask(name, model_labels)
            full = greedy(merged, mask, model_labels)
            if name in SCRIPT_PRIOR_CHARSETS:  # foreign characters between kana weighed down, as decode does
                full = script_prior(merged, model_labels, full, mask)
            got = decode(p, model_labels, Constraint(name))
            assert got.text == full.text, name
            # float32 sums of the ~150 merged variant classes come out in another order, and the
            # script prior's share divides by a sum over thousands of such columns: 5e-4
            assert [c.prob for c in got.chars] == pytest.approx([c.prob for c in full.chars], rel=5e-4)
        for name, pat in [("phone", PATTERNS["phone"]), ("wareki", PATTERNS["wareki"])]:
            full = pattern(
                charsets.merge_probs(p, name, model_labels), class_mask(name, model_labels), model_labels, pat
            )
            assert decode(p, model_labels, Constraint(name, pat)).text == full.text


# --------------------------------------------------------------------------- real model

FONTS = {
    "seto": "/usr/share/fonts/truetype/seto/setofont.ttf",
    "kiloji": "/usr/share/fonts/truetype/kiloji/kiloji.ttf",
    "yoz": "/usr/share/fonts/truetype/yozvox-yozfont/YOzRS_.ttf",
    "ipag": "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
}
AVAILABLE_FONTS = {k: v for k, v in FONTS.items() if Path(v).is_file()}

# Furigana written without a gap reads as one run; the kana charset has no space class.
CASES: list[tuple[str, str, Constraint]] = [
    ("digits", "0422451151", Constraint("digits", digits_pattern(10))),
    ("phone", "0422-45-1151", Constraint("phone", PATTERNS["phone"])),
    ("postal", "181-8555", Constraint("postal", PATTERNS["postal"])),
    ("kana", "ヤマダタロウ", Constraint("kana")),
    ("wareki", "令和6年4月1日", Constraint("wareki", PATTERNS["wareki"])),
    ("name", "山田太郎", Constraint("name")),
    ("address", "東京都三鷹市下連雀九丁目11番1号", Constraint("address")),
]


def render(text: str, font_path: str, size: int = 40, pad: tuple[int, int] = (12, 8)) -> np.ndarray:
    """Black text on white, grayscale uint8, with some padding: a clean field crop."""
    font = ImageFont.truetype(font_path, size)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 2 * pad[0], bottom - top + 2 * pad[1]), 255)
    ImageDraw.Draw(img).text((pad[0] - left, pad[1] - top), text, font=font, fill=0)
    return np.asarray(img)


def degrade(img: np.ndarray, seed: int) -> np.ndarray:
    """Gaussian noise, speckles and a couple of stray strokes."""
    rng = np.random.default_rng(seed)
    out = img.astype(np.float32) + rng.normal(0, 45, img.shape)
    speck = rng.random(img.shape) < 0.02
    out[speck] = 0
    h, w = img.shape
    for _ in range(2):
        y = int(rng.integers(0, h))
        x0 = int(rng.integers(0, w // 2))
        out[max(0, y - 1) : y + 1, x0 : x0 + int(rng.integers(10, w // 3))] = 30
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def font_readings(rec: OnnxRecognizer) -> dict[tuple[str, str], tuple[str, Reading, Reading]]:
    """All font × case crops read in one call (free and constrained)."""
    keys = [(f, kind) for f in AVAILABLE_FONTS for kind, _, _ in CASES]
    by_kind = {kind: (text, c) for kind, text, c in CASES}
    crops = [render(by_kind[k][0], AVAILABLE_FONTS[f]) for f, k in keys]
    free = rec.read(crops)
    constrained = rec.read(crops, [by_kind[k][1] for _, k in keys])
    return {key: (by_kind[key[1]][0], a, b) for key, a, b in zip(keys, free, constrained, strict=True)}


@pytest.mark.parametrize("font", list(FONTS))
@pytest.mark.parametrize("kind", [c[0] for c in CASES])
def test_reads_rendered_fields(font: str, kind: str, font_readings: dict) -> None:
    assert font in AVAILABLE_FONTS, f"font {font} not installed: run scripts/setup.sh"
    expected, _free, got = font_readings[(font, kind)]
    assert got.text == expected
    assert all(0.0 < c.prob <= 1.0 for c in got.chars)
    assert 0.0 < got.confidence <= 1.0


def test_probs_shapes_and_trimming(rec: OnnxRecognizer) -> None:
    font = next(iter(AVAILABLE_FONTS.values()))
    narrow, wide = render("12", font), render("東京都三鷹市下連雀九丁目11番1号", font)
    p_narrow, p_wide = rec.probs([narrow, wide])
    assert p_narrow.shape[1] == p_wide.shape[1] == len(rec.labels) == 18710
    assert p_narrow.dtype == np.float32
    assert np.allclose(p_narrow.sum(axis=1), 1.0, atol=1e-3)
    # The narrow crop is not padded out to the address's width in the result.
    assert p_narrow.shape[0] < 40 < p_wide.shape[0]
    assert rec.probs([]) == [] and rec.read([]) == []


def test_gray_and_bgr_crops_are_the_same(rec: OnnxRecognizer) -> None:
    gray = render("181-8555", next(iter(AVAILABLE_FONTS.values())))
    bgr = np.repeat(gray[:, :, None], 3, axis=2)
    a, b = rec.probs([gray, bgr])
    assert np.allclose(a, b, atol=1e-5)


def test_batching_does_not_change_readings(rec: OnnxRecognizer) -> None:
    font = next(iter(AVAILABLE_FONTS.values()))
    crops = [render(text, font) for _, text, _ in CASES]
    together = rec.read(crops)
    alone = [rec.read([c])[0] for c in crops]
    assert [r.text for r in together] == [r.text for r in alone]


def test_blank_crop_reads_empty(rec: OnnxRecognizer) -> None:
    white = np.full((60, 400), 255, np.uint8)
    constraints = [Constraint(), Constraint("digits"), Constraint("postal", PATTERNS["postal"])]
    constraints.append(Constraint("wareki", PATTERNS["wareki"]))
    for r in rec.read([white] * len(constraints), constraints):
        assert r.text == "" and r.chars == () and r.confidence == 1.0


def test_pattern_output_always_has_the_shape_on_noisy_crops(rec: OnnxRecognizer) -> None:
    font = next(iter(AVAILABLE_FONTS.values()))
    jobs = [
        ("0422-45-1151", Constraint("phone", PATTERNS["phone"])),
        ("181-8555", Constraint("postal", PATTERNS["postal"])),
        ("令和6年4月1日", Constraint("wareki", PATTERNS["wareki"])),
        ("0422451151", Constraint("digits", digits_pattern(10))),
        ("東京都三鷹市", Constraint("postal", PATTERNS["postal"])),  # wrong field entirely
    ]
    crops, constraints = [], []
    for seed in range(3):
        for text, c in jobs:
            crops.append(degrade(render(text, font), seed))
            constraints.append(c)
    readings = rec.read(crops, constraints)
    for r, c in zip(readings, constraints, strict=True):
        assert c.pattern is not None
        assert r.text == "" or to_regex(c.pattern).fullmatch(r.text), (c, r.text)
        assert all(0.0 < ch.prob <= 1.0 for ch in r.chars)
    # Empty is allowed (a crop that fits no reading of its grammar), but a recogniser that reads
    # nothing must fail: the crops whose text fits their field's grammar are mostly read.
    fitting = [r for r, (text, _) in zip(readings, jobs * 3, strict=True) if not text.startswith("東京")]
    assert sum(bool(r.text) for r in fitting) >= len(fitting) // 2, [r.text for r in fitting]


def test_onnx_recognizer_satisfies_the_protocol(rec: OnnxRecognizer) -> None:
    assert isinstance(rec, Recognizer)


def test_bad_crops_are_refused(rec: OnnxRecognizer) -> None:
    with pytest.raises(ValueError):
        rec.probs([np.zeros((0, 10), np.uint8)])
    with pytest.raises(ValueError):
        rec.probs([np.zeros((10, 10), np.float32)])


def test_a_wrong_timestep_width_in_the_model_spec_is_caught(rec: OnnxRecognizer) -> None:
    # Digit segmentation maps timesteps back to crop pixels with it: a wrong figure must not
    # silently cut digits in the wrong place.
    font = next(iter(AVAILABLE_FONTS.values()))
    wrong = OnnxRecognizer(threads=1)
    wrong.spec = dataclasses.replace(rec.spec, timestep_px=4)
    with pytest.raises(ValueError, match="timestep_px"):
        wrong.probs([render("12", font)])
