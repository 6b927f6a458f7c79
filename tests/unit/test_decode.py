"""OCR stage without the model: decoding on synthetic probability matrices, charsets, the model
zoo (names, hashes, where the file is), and the `Recognizer` protocol with the `FakeRecognizer`."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re

import numpy as np
import pytest

from pipeline.ocr import (
    PATTERNS,
    Constraint,
    ModelFileError,
    OnnxRecognizer,
    Recognizer,
    digits_pattern,
    greedy,
    pattern,
    zoo,
)
from pipeline.ocr.decode import matches
from pipeline.ocr.fake import FakeRecognizer
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


# --------------------------------------------------------------------------- protocol


def test_the_fake_recognizer_satisfies_the_protocol_and_spells_its_script() -> None:
    fake = FakeRecognizer(["0422-45-1151", ""])
    assert isinstance(fake, Recognizer)
    crop = np.full((48, 200), 255, np.uint8)
    read = fake.read([crop, crop], Constraint("phone", PATTERNS["phone"]))
    assert [r.text for r in read] == ["0422-45-1151", ""]
    assert all(c.prob > 0.9 for c in read[0].chars)


def test_the_protocol_requires_spec() -> None:
    # The reader maps timesteps to pixels with `recognizer.spec`: an object without it is no
    # Recognizer, even with labels, probs and read.
    class NoSpec:
        labels = ("",)

        def probs(self, crops):
            return []

        def read(self, crops, constraints=None):
            return []

    assert not isinstance(NoSpec(), Recognizer)


# --------------------------------------------------------------------------- script prior

JA = ("", "の", "び", "U", "O", "2", "保", "（", " ")


def test_script_prior_reads_kana_where_a_latin_letter_sits_between_kana() -> None:
    from pipeline.ocr.decode import SCRIPT_PRIOR, script_prior

    # の U O び: U beat び 0.6 to 0.3, O beat の 0.5 to 0.4; between kana neither is believed.
    probs = frames(
        {"の": 0.9}, {}, {"U": 0.6, "び": 0.3}, {}, {"O": 0.5, "の": 0.4}, {}, {"び": 0.9}, labels=JA
    )
    free = greedy(probs, full_mask(JA), JA)
    assert free.text == "のUOび"
    r = script_prior(probs, JA, free)
    assert r.text == "のびのび"
    # The changed characters are unsure (the writing alone preferred the letter): review.
    assert r.chars[1].prob == pytest.approx(0.3 / (0.3 + 0.6 * SCRIPT_PRIOR + 0.1))
    assert r.chars[0] == free.chars[0]


def test_script_prior_keeps_a_clearly_written_digit_but_makes_it_unsure() -> None:
    from pipeline.ocr.decode import script_prior

    probs = frames({"の": 0.9}, {}, {"2": 0.99, "び": 0.005}, {}, {"保": 0.9}, labels=JA)
    free = greedy(probs, full_mask(JA), JA)
    r = script_prior(probs, JA, free)
    assert r.text == "の2保"
    assert 0.5 < r.chars[1].prob < 0.98


def test_script_prior_leaves_text_without_japanese_context_alone() -> None:
    from pipeline.ocr.decode import script_prior

    # Letters and digits on their own, or next to a space, are not weighed.
    for rows in (
        [{"U": 0.6, "び": 0.3}, {}, {"O": 0.9}],
        [{"U": 0.6, "び": 0.3}, {}, {" ": 0.9}, {}, {"の": 0.9}],
    ):
        probs = frames(*rows, labels=JA)
        free = greedy(probs, full_mask(JA), JA)
        assert script_prior(probs, JA, free) == free


def test_name_charset_decoding_applies_the_script_prior() -> None:
    from pipeline.ocr.decode import decode

    labels = ("", "の", "び", "U", "ア", " ")
    probs = frames({"の": 0.9}, {}, {"U": 0.6, "び": 0.3}, labels=labels)
    assert decode(probs, labels, Constraint("name")).text == "のび"
    assert decode(probs, labels, Constraint("free")).text == "のび"
    assert decode(probs, labels, Constraint("address")).text == "のU"


def test_script_prior_reads_kana_over_a_letter_the_recogniser_favoured_twenty_to_one() -> None:
    from pipeline.ocr.decode import script_prior

    # O twenty times as likely as の (0.69 to 0.031, a handwritten の with a closed loop): a
    # Latin letter between kana is rarer still, so の is read, and with little confidence.
    probs = frames({"の": 0.9}, {}, {"び": 0.9}, {}, {"O": 0.69, "の": 0.031}, {}, {"び": 0.9}, labels=JA)
    r = script_prior(probs, JA, greedy(probs, full_mask(JA), JA))
    assert r.text == "のびのび"
    assert r.chars[2].prob < 0.5


def test_script_prior_leaves_brackets_written_in_pairs_alone() -> None:
    from pipeline.ocr.decode import script_prior

    labels = ("", "翔", "（", "保", "）", "の", "(", ")")
    # 翔（保）: a pair around Japanese is written on purpose, and keeps its confidence.
    probs = frames({"翔": 0.9}, {}, {"（": 0.9, "の": 0.05}, {}, {"保": 0.9}, {}, {"）": 0.9}, labels=labels)
    free = greedy(probs, full_mask(labels), labels)
    assert script_prior(probs, labels, free) == free
    # の() の: an empty pair between kana is a misread kana.
    probs = frames({"の": 0.9}, {}, {"(": 0.6, "の": 0.3}, {}, {")": 0.9}, {}, {"の": 0.9}, labels=labels)
    r = script_prior(probs, labels, greedy(probs, full_mask(labels), labels))
    assert r.text.startswith("のの")


def test_script_prior_is_stricter_with_a_lone_letter_than_with_a_short_run() -> None:
    from pipeline.ocr.decode import script_prior

    labels = ("", "三", "菱", "U", "F", "J", "の", "び", "O")
    # 三菱UFJ: a run of letters, each 25 times likelier than any kana, is weighed at 1/20 and kept.
    probs = frames(
        {"三": 0.9},
        {},
        {"菱": 0.9},
        {},
        {"U": 0.9, "の": 0.036},
        {},
        {"F": 0.9},
        {},
        {"J": 0.9},
        labels=labels,
    )
    assert script_prior(probs, labels, greedy(probs, full_mask(labels), labels)).text == "三菱UFJ"
    # のUOび: U gives way to び; O, lone now, is weighed at 1/50 and gives way to の.
    probs = frames(
        {"の": 0.9}, {}, {"U": 0.6, "び": 0.3}, {}, {"O": 0.69, "の": 0.031}, {}, {"び": 0.9}, labels=labels
    )
    assert script_prior(probs, labels, greedy(probs, full_mask(labels), labels)).text == "のびのび"
