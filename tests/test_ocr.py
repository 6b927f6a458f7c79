"""OCR stage: decoding on synthetic probability matrices, charsets, the model zoo, and the real
PP-OCRv6-small model on crops rendered with handwriting-style and printed fonts."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.ocr import (
    PATTERNS,
    Constraint,
    ModelFileError,
    OnnxRecognizer,
    Recognizer,
    charsets,
    class_mask,
    decode,
    digits_pattern,
    greedy,
    pattern,
    zoo,
)
from pipeline.ocr.decode import matches
from pipeline.result import Reading

# --------------------------------------------------------------------------- helpers

# Tiny label set for decoder unit tests: index 0 is the CTC blank, like the real model.
LABELS = ("", "0", "1", "2", "3", "-", "年", "a", " ")
IDX = {c: i for i, c in enumerate(LABELS) if i}


def frames(*rows: dict[str, float], labels: tuple[str, ...] = LABELS) -> np.ndarray:
    """(T, C) matrix; each row maps label -> prob, the rest of the mass goes to the blank."""
    m = np.zeros((len(rows), len(labels)), dtype=np.float32)
    for t, row in enumerate(rows):
        for ch, p in row.items():
            m[t, labels.index(ch) if ch else 0] = p
        m[t, 0] += max(0.0, 1.0 - m[t].sum())
    return m


def full_mask(labels: tuple[str, ...] = LABELS) -> np.ndarray:
    return np.ones(len(labels), dtype=bool)


def to_regex(pat: str) -> re.Pattern[str]:
    return re.compile(pat.replace("D", "[0-9]"))


# --------------------------------------------------------------------------- greedy


def test_greedy_collapses_repeats_and_drops_blanks() -> None:
    probs = frames({"1": 0.9}, {"1": 0.8}, {}, {"1": 0.7}, {"2": 0.6}, {"2": 0.95}, {})
    r = greedy(probs, full_mask(), LABELS)
    assert r.text == "112"
    # Per-char prob is the max over the run that emitted it.
    assert [round(c.prob, 4) for c in r.chars] == [0.9, 0.7, 0.95]


def test_greedy_renormalises_over_the_mask() -> None:
    probs = frames({"a": 0.5, "1": 0.3, "2": 0.1})  # blank gets 0.1
    mask = full_mask()
    mask[IDX["a"]] = False
    r = greedy(probs, mask, LABELS)
    assert r.text == "1"
    assert r.chars[0].prob == pytest.approx(0.3 / 0.5)


def test_greedy_all_blank_and_empty_matrix() -> None:
    assert greedy(frames({}, {}, {}), full_mask(), LABELS) == Reading("")
    assert greedy(np.zeros((0, len(LABELS)), np.float32), full_mask(), LABELS).text == ""
    assert Reading("").confidence == 1.0


# --------------------------------------------------------------------------- pattern Viterbi


def test_pattern_chooses_best_allowed_path_where_greedy_breaks_shape() -> None:
    # Greedy reads "12a3" (an 'a' where the hyphen is) — pattern D{2}-D forces the hyphen,
    # which is the next-best class at that timestep.
    probs = frames({"1": 0.9}, {"2": 0.9}, {"a": 0.6, "-": 0.3}, {"3": 0.9})
    assert greedy(probs, full_mask(), LABELS).text == "12a3"
    r = pattern(probs, full_mask(), LABELS, "D{2}-D")
    assert r.text == "12-3"
    assert r.chars[2].prob == pytest.approx(0.3)


def test_pattern_digit_count_drops_the_weakest_extra_digit() -> None:
    probs = frames({"1": 0.9}, {"2": 0.4, "a": 0.35}, {"3": 0.9}, {"0": 0.95})
    mask = full_mask()
    mask[IDX["a"]] = False
    assert greedy(probs, mask, LABELS).text == "1230"
    assert pattern(probs, mask, LABELS, digits_pattern(3)).text == "130"


def test_pattern_repeated_digit_needs_a_blank_between() -> None:
    # Four frames of "1": "11" is only possible with a blank frame in between, which the
    # Viterbi must insert at the frame where the blank is least unlikely.
    probs = frames({"1": 0.9}, {"1": 0.6}, {"1": 0.9}, {"1": 0.9})
    r = pattern(probs, full_mask(), LABELS, "D{2}")
    assert r.text == "11"


def test_pattern_alternatives_and_groups() -> None:
    labels = ("", "令", "和", "平", "成", "元", "年", "1", "2")
    probs = frames({"平": 0.3, "令": 0.6}, {"成": 0.5, "和": 0.4}, {"元": 0.8}, {"年": 0.9}, labels=labels)
    r = pattern(probs, full_mask(labels), labels, "(令和|平成)(元|D{1,2})年")
    # Greedy would say 令成元年, which is no era; 令和 (0.6*0.4) beats 平成 (0.3*0.5).
    assert greedy(probs, full_mask(labels), labels).text == "令成元年"
    assert r.text == "令和元年"


def test_pattern_matching_of_whole_strings() -> None:
    phone = "0D-D{4}-D{4}|0(7|8|9)0-D{4}-D{4}"
    assert matches(phone, "070-5600-9114") and matches(phone, "03-1234-5678")
    assert not matches(phone, "010-5600-9114") and not matches(phone, "070-5600-91145")
    assert matches("(令和|平成)(元|D{1,2})年", "平成元年") and not matches("D{3}-D{4}", "123-45a7")


def test_pattern_too_few_timesteps_falls_back_to_greedy() -> None:
    probs = frames({"1": 0.9}, {"2": 0.9})
    assert pattern(probs, full_mask(), LABELS, "D{3}-D{4}").text == "12"


def test_pattern_keeps_a_blank_crop_blank() -> None:
    probs = frames(*[{"1": 0.01}] * 20)
    assert pattern(probs, full_mask(), LABELS, "D{3}-D{4}").text == ""


def _brute_force_best(probs: np.ndarray, regex: re.Pattern[str]) -> float:
    best = -math.inf
    T, C = probs.shape
    logp = np.log(np.maximum(probs.astype(np.float64), 1e-30))
    for path in itertools.product(range(C), repeat=T):
        text, prev = [], 0
        for c in path:
            if c != prev and c != 0:
                text.append(LABELS[c])
            prev = c
        if regex.fullmatch("".join(text)):
            best = max(best, float(sum(logp[t, c] for t, c in enumerate(path))))
    return best


def _best_alignment(probs: np.ndarray, text: str) -> float:
    """Max log-score over CTC alignments of exactly `text` (standard CTC Viterbi)."""
    ext = [0]
    for ch in text:
        ext += [IDX[ch], 0]
    logp = np.log(np.maximum(probs.astype(np.float64), 1e-30))
    S = len(ext)
    a = np.full(S, -math.inf)
    a[0] = logp[0, ext[0]]
    if S > 1:
        a[1] = logp[0, ext[1]]
    for t in range(1, len(probs)):
        b = np.full(S, -math.inf)
        for s in range(S):
            cands = [a[s]]
            if s >= 1:
                cands.append(a[s - 1])
            if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2]:
                cands.append(a[s - 2])
            b[s] = max(cands) + logp[t, ext[s]]
        a = b
    return max(a[-1], a[-2]) if S > 1 else a[-1]


@pytest.mark.parametrize("seed", range(6))
def test_pattern_is_exact_viterbi_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = LABELS[:6]  # blank, 0-3, '-': 6 classes, 6 frames = 46,656 paths
    probs = rng.dirichlet(np.full(len(labels), 0.4), size=6).astype(np.float32)
    probs[:, 0] += 0.3  # realistic: blank is common
    probs /= probs.sum(axis=1, keepdims=True)
    pat = "D{1,2}-D|D{2}"
    r = pattern(probs, np.ones(len(labels), bool), labels, pat)
    if not r.text:  # masked greedy was empty: nothing to constrain
        return
    assert to_regex(pat).fullmatch(r.text)
    assert _best_alignment(probs, r.text) == pytest.approx(_brute_force_best(probs, to_regex(pat)), abs=1e-6)


@pytest.mark.parametrize("bad", ["", "D{3", "D{4,2}", "(令和|平成", "a)", "D{0}", "{3}", "1||2"])
def test_bad_patterns_are_rejected_when_the_constraint_is_built(bad: str) -> None:
    with pytest.raises(ValueError):
        Constraint("digits", bad)


def test_constraint_rejects_unknown_charset() -> None:
    with pytest.raises(ValueError, match="valid names"):
        Constraint("emoji")


# --------------------------------------------------------------------------- charsets


@pytest.fixture(scope="module")
def rec() -> OnnxRecognizer:
    return OnnxRecognizer(threads=2)


@pytest.fixture(scope="module")
def model_labels(rec: OnnxRecognizer) -> tuple[str, ...]:
    return rec.labels


@pytest.mark.slow
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
    assert len(allowed["free"]) == 18709
    assert not (allowed["name"] - allowed["free"])


@pytest.mark.slow
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


@pytest.mark.slow
def test_compact_decoding_equals_merge_then_mask_on_the_full_matrix(
    rec: OnnxRecognizer, model_labels: tuple[str, ...]
) -> None:
    font = next(iter(AVAILABLE_FONTS.values()))
    texts = ["０４２２ー４５ー１１５１", "令和6年4月1日", "ヤマダ一タロウ", "東京都三鷹市１２番"]
    probs = rec.probs([degrade(render(t, font), 7) for t in texts])
    for p in probs:
        for name in charsets.CHARSET_NAMES:
            full = greedy(
                charsets.merge_probs(p, name, model_labels), class_mask(name, model_labels), model_labels
            )
            got = decode(p, model_labels, Constraint(name))
            assert got.text == full.text, name
            assert [c.prob for c in got.chars] == pytest.approx([c.prob for c in full.chars], rel=1e-5)
        for name, pat in [("phone", PATTERNS["phone"]), ("wareki", PATTERNS["wareki"])]:
            full = pattern(
                charsets.merge_probs(p, name, model_labels), class_mask(name, model_labels), model_labels, pat
            )
            assert decode(p, model_labels, Constraint(name, pat)).text == full.text


# --------------------------------------------------------------------------- zoo


def test_unknown_model_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="ppocrv6_small"):
        zoo.get_spec("ppocrv9_huge")
    with pytest.raises(ValueError, match="ppocrv6_small"):
        OnnxRecognizer("nope")


def test_hash_mismatch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = dataclasses.replace(zoo.MODELS["ppocrv6_small"], name="tampered", sha256="0" * 64)
    monkeypatch.setitem(zoo.MODELS, "tampered", spec)
    with pytest.raises(ModelFileError, match="sha256"):
        zoo.model_path("tampered")
    with pytest.raises(ModelFileError):
        OnnxRecognizer("tampered").probs([np.full((48, 100), 255, np.uint8)])


def test_model_file_is_found_in_the_installed_wheel() -> None:
    path = zoo.model_path("ppocrv6_small")
    assert path.name == "PP-OCRv6_rec_small.onnx" and "rapidocr" in path.parts


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


@pytest.mark.slow
@pytest.mark.parametrize("font", list(FONTS))
@pytest.mark.parametrize("kind", [c[0] for c in CASES])
def test_reads_rendered_fields(font: str, kind: str, font_readings: dict) -> None:
    assert font in AVAILABLE_FONTS, f"font {font} not installed: run scripts/setup.sh"
    expected, _free, got = font_readings[(font, kind)]
    assert got.text == expected
    assert all(0.0 < c.prob <= 1.0 for c in got.chars)
    assert 0.0 < got.confidence <= 1.0


@pytest.mark.slow
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


@pytest.mark.slow
def test_gray_and_bgr_crops_are_the_same(rec: OnnxRecognizer) -> None:
    gray = render("181-8555", next(iter(AVAILABLE_FONTS.values())))
    bgr = np.repeat(gray[:, :, None], 3, axis=2)
    a, b = rec.probs([gray, bgr])
    assert np.allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_batching_does_not_change_readings(rec: OnnxRecognizer) -> None:
    font = next(iter(AVAILABLE_FONTS.values()))
    crops = [render(text, font) for _, text, _ in CASES]
    together = rec.read(crops)
    alone = [rec.read([c])[0] for c in crops]
    assert [r.text for r in together] == [r.text for r in alone]


@pytest.mark.slow
def test_blank_crop_reads_empty(rec: OnnxRecognizer) -> None:
    white = np.full((60, 400), 255, np.uint8)
    constraints = [Constraint(), Constraint("digits"), Constraint("postal", PATTERNS["postal"])]
    constraints.append(Constraint("wareki", PATTERNS["wareki"]))
    for r in rec.read([white] * len(constraints), constraints):
        assert r.text == "" and r.chars == () and r.confidence == 1.0


@pytest.mark.slow
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
    for r, c in zip(rec.read(crops, constraints), constraints, strict=True):
        assert c.pattern is not None
        assert r.text == "" or to_regex(c.pattern).fullmatch(r.text), (c, r.text)
        assert all(0.0 < ch.prob <= 1.0 for ch in r.chars)


@pytest.mark.slow
def test_onnx_recognizer_satisfies_the_protocol(rec: OnnxRecognizer) -> None:
    assert isinstance(rec, Recognizer)


@pytest.mark.slow
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
