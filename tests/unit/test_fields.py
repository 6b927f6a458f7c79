"""Field reading parts on real rendered images: ink, strikes, marks, lexicon, dates, digits."""

from __future__ import annotations

import datetime as dt
import itertools

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from stdnum.jp import in_ as mynumber

from pipeline.fields import dates
from pipeline.fields import ink as inkmod
from pipeline.fields.marks import read_marks
from pipeline.fields.passes import _fix_check_digit
from pipeline.ocr import coverage, digits
from pipeline.ocr.ctc import _log_likelihoods, char_frames
from pipeline.ocr.lexicon import match_lexicon
from pipeline.ocr.zoo import get_spec
from pipeline.result import Char, Reading
from tests.conftest import ROOT

SPEC = get_spec("ppocrv6_small")  # the geometry (input height, timestep width) the test lines assume

SETO = "/usr/share/fonts/truetype/seto/setofont.ttf"


def render(
    text: str, size: int = 40, pad: int = 12, strike: bool = False, above: str | None = None
) -> np.ndarray:
    font = ImageFont.truetype(SETO, size)
    w = int(font.getlength(text)) + 2 * pad
    h = size + 2 * pad + (size + pad if above else 0)
    img = Image.new("L", (w + (int(font.getlength(above)) if above else 0), h), 250)
    d = ImageDraw.Draw(img)
    y = pad + (size + pad if above else 0)
    d.text((pad, y), text, font=font, fill=20)
    if strike:
        for dy in (0.4, 0.6):
            d.line([(pad - 4, y + size * dy), (w - pad + 4, y + size * dy)], fill=20, width=3)
    if above:
        d.text((pad, pad), above, font=font, fill=20)
    return np.array(img)


def test_ink_threshold_follows_the_paper_and_ignores_noise() -> None:
    crop = np.full((60, 200), 240, np.uint8)
    crop += np.random.default_rng(0).integers(0, 10, crop.shape, dtype=np.uint8)
    assert inkmod.binarize(crop).sum() == 0
    crop[20:40, 50:52] = 170  # a faint pencil stroke on clean paper still counts
    assert inkmod.binarize(crop).sum() == 40


def test_strike_through_is_found_and_plain_writing_is_not() -> None:
    plain = inkmod.binarize(render("三浦翔"))
    assert inkmod.find_strikes(plain) == []
    struck = inkmod.binarize(render("サトウナナ", strike=True))
    found = inkmod.find_strikes(struck)
    assert len(found) == 1 and found[0].x1 - found[0].x0 > 150


def test_rules_near_the_edge_are_removed_but_a_stroke_in_the_middle_stays() -> None:
    m = np.zeros((60, 300), bool)
    m[1:3, :] = True  # left-over box edge
    m[30:32, 20:280] = True  # the applicant's long stroke
    out = inkmod.remove_rules(m, 100)
    assert not out[1:3].any()
    assert out[30:32, 20:280].all()


def test_a_downstroke_touching_the_box_foot_is_writing_not_a_rule() -> None:
    # Big writing in a 37 px tall, 896 px wide box: 平's downstroke runs 27 px to the crop's
    # foot, 60 px from its left end. It is shorter than a rule (33 px) and far from the side.
    m = np.zeros((37, 896), bool)
    m[10:37, 60:63] = True  # the downstroke, touching the foot
    m[0:37, 1:3] = True  # a left-over side rule, the crop's whole height
    m[35:37, 100:800] = True  # a left-over foot rule
    out = inkmod.remove_rules(m, 33)
    assert out[10:35, 60:63].all()
    assert not out[:, 1:3].any()
    assert not out[35:37, 100:800].any()


def test_a_strike_low_in_the_box_is_writing_not_a_rule() -> None:
    # The new value written above the struck one in the same 46 px box: the struck line sits in
    # the box's lower fifth, and its 二重線 (merged into one bar) runs through the struck digits,
    # which stand above and below it. A left-over foot rule under writing with one descender is
    # still a rule.
    m = np.zeros((46, 190), bool)
    for x in range(10, 180, 20):
        m[2:18, x : x + 10] = True  # the new value's digits
        m[28:44, x : x + 10] = True  # the struck value's digits, crossed by the strike
    m[35:40, 5:185] = True  # the strike
    out = inkmod.remove_rules(m, 40)
    assert out[35:40, 5:185].all()
    rule = np.zeros((46, 190), bool)
    rule[10:30, 20:23] = True
    rule[10:45, 60:63] = True  # a descender across the foot rule
    rule[40:42, 2:188] = True
    out = inkmod.remove_rules(rule, 40)
    assert not out[40:42, 80:188].any()


def test_lines_of_writing_are_split() -> None:
    two = inkmod.binarize(render("みどり", above="山田"))
    assert len(inkmod.split_lines(two, 2)) == 2
    assert len(inkmod.split_lines(inkmod.binarize(render("ダイ")), 1)) == 1


def test_marks_have_a_clear_and_an_uncertain_band() -> None:
    empty, ticked, faint = np.zeros((40, 40), bool), np.zeros((40, 40), bool), np.zeros((40, 40), bool)
    ticked[10:30, 18:22] = True
    faint[20, 10:25] = True
    r = read_marks([empty, ticked])
    assert r.marked == (False, True) and r.confidence == 1.0
    assert read_marks([faint]).confidence < 0.5


def test_ctc_likelihood_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    p = rng.random((5, 4))
    p /= p.sum(1, keepdims=True)
    lp = np.log(p)

    def collapse(path):
        out, prev = [], None
        for c in path:
            if c != prev and c != 0:
                out.append(c)
            prev = c
        return out

    for seq in ([1], [1, 2], [2, 2], [3, 1, 2]):
        brute = sum(
            np.exp(sum(lp[t, c] for t, c in enumerate(path)))
            for path in itertools.product(range(4), repeat=5)
            if collapse(path) == seq
        )
        assert _log_likelihoods(lp, [seq])[0] == pytest.approx(np.log(brute))


def test_a_reading_one_kana_from_a_single_entry_is_taken_for_review() -> None:
    labels = ("", *"ひまわりこどもとく園")
    rows = []
    for ch in "ひまわりことも園":  # the model is sure of と: the dakuten was lost
        row = np.full(len(labels), 1e-5)
        row[labels.index(ch)] = 0.999
        rows += [row, np.eye(len(labels))[0] * 0.999 + 1e-5]
    probs = np.array(rows, np.float32)
    free = Reading("ひまわりことも園", tuple(Char(c, 0.999) for c in "ひまわりことも園"))
    words = ("ひまわりこども園", "つくし保育園", "ひまわり保育園")
    m = match_lexicon(probs, labels, words, free)
    assert m.in_list and m.reading.text == "ひまわりこども園"
    assert max(c.prob for c in m.reading.chars) < 0.01  # the writing alone does not say so
    # Two entries equally close: no guess.
    m2 = match_lexicon(probs, labels, ("ひまわりこども園", "ひまわりことり園"), free)
    assert not m2.in_list and m2.reading.text == "ひまわりことも園"


def test_date_ranges_and_era_years() -> None:
    today = dt.date(2026, 11, 26)
    assert dates.shift(today, "-7y") == dt.date(2019, 11, 26)
    assert dates.shift(dt.date(2024, 3, 31), "-1m") == dt.date(2024, 2, 29)
    lo, hi = dates.resolve(("-7y", "+1y"), today)
    assert dates.year_words(["令和"], lo, hi) == ("1", "元", "2", "3", "4", "5", "6", "7", "8", "9")
    assert "31" in dates.year_words(["平成"], lo, hi) and "30" not in dates.year_words(["平成"], lo, hi)
    assert dates.range_issue("d", "生年月日", ("-7y", "+1y"), "2066-06-02", today).code == "date_out_of_range"
    assert dates.range_issue("d", "生年月日", ("-7y", "+1y"), "2024-06-02", today) is None
    pat = dates.wareki_pattern(*dates.resolve(("-80y", "-13y"), today))
    assert pat.startswith("(平成|昭和)")
    with pytest.raises(ValueError):
        dates.shift(today, "7 years ago")


def test_digit_classifier_reads_unseen_mnist_digits() -> None:
    arr = np.load(ROOT / "samples" / "assets" / "mnist_digits_0-399.npz")["digits"]
    imgs = [digits.normalise(arr[d, i] > 100) for d in range(10) for i in range(300, 340)]
    pred = digits.classify(imgs).argmax(1)
    assert (pred == np.repeat(np.arange(10), 40)).mean() > 0.97  # the recipe prints 0.990 on 300-399


def _line_and_probs(written: str, read: dict[int, dict[str, float]]) -> tuple[np.ndarray, np.ndarray, tuple]:
    """MNIST digits `written` side by side (40 px apart, 36 px high) and a CTC matrix that peaks
    on each digit's centre: sure of the written digit, unless `read[i]` gives other odds."""
    arr = np.load(ROOT / "samples" / "assets" / "mnist_digits_0-399.npz")["digits"]
    line = np.hstack([np.pad(arr[int(d), 350] > 100, ((4, 4), (6, 6))) for d in written])
    labels = ("", *"0123456789")
    t_len = line.shape[1] // 6  # the recogniser's stride: 8 px at height 48 = 6 px at 36
    probs = np.full((t_len, 11), 1e-4)
    probs[:, 0] = 1.0
    for i, d in enumerate(written):
        t = int((20 + 40 * i) / 6)
        probs[t] = 1e-4
        for ch, p in read.get(i, {d: 0.99}).items():
            probs[t, 1 + int(ch)] = p
    return line, (probs / probs.sum(1, keepdims=True)).astype(np.float32), labels


def test_ctc_alignment_finds_each_character() -> None:
    _, probs, labels = _line_and_probs("0422", {})
    assert char_frames(probs, labels, "0422") == [3, 10, 16, 23]
    assert char_frames(probs, labels, "") is None


def test_digit_second_opinion_overrules_a_close_misread() -> None:
    # The line recogniser leans to 7 for the second digit; the classifier is sure it is a 4.
    line, probs, labels = _line_and_probs("0422", {1: {"7": 0.6, "4": 0.39}})
    reading = Reading("0722", tuple(Char(c, 0.6 if i == 1 else 0.99) for i, c in enumerate("0722")))
    op = digits.opinion(probs, labels, reading, line, SPEC)
    assert op is not None and op.top() == [0, 4, 2, 2]
    assert digits.contradicts("0722", op) and not digits.contradicts("0422", op)
    fused = digits.fuse(probs, labels, reading, op)
    assert fused is not None and fused.text == "0422"
    # Undisputed digits keep the recogniser's probability; the disputed one gets the vote's.
    assert [c.prob for c in fused.chars][::2] == [0.99, 0.99] and fused.chars[1].prob > 0.6
    # A validity rule (a check digit, say) outweighs both readers.
    kept = digits.fuse(probs, labels, reading, op, valid=lambda s: s == "0722")
    assert kept is not None and kept.text == "0722"
    # The readers agree: nothing to fuse.
    agreed = Reading("0422", tuple(Char(c, 0.99) for c in "0422"))
    assert digits.fuse(probs, labels, agreed, digits.opinion(probs, labels, agreed, line, SPEC)) is None


def test_digit_second_opinion_needs_ink_for_every_digit() -> None:
    line, probs, labels = _line_and_probs("0422", {})
    line[:, 40:80] = False  # the second digit was never written
    reading = Reading("0422", tuple(Char(c, 0.99) for c in "0422"))
    assert digits.opinion(probs, labels, reading, line, SPEC) is None


def test_ink_the_reading_skipped_is_measured() -> None:
    line, probs, labels = _line_and_probs("2467", {})
    assert coverage.unread_ink(probs, labels, "2467", line, SPEC) <= coverage.UNREAD_MAX
    # The recogniser saw nothing at the 4 (all blank there) and read "267" at full confidence.
    t4 = int((20 + 40 * 1) / 6)
    probs[t4] = 0.0
    probs[t4, 0] = 1.0
    assert coverage.unread_ink(probs, labels, "267", line, SPEC) > coverage.UNREAD_MAX
    # Ink read as nothing at all is all unread; no ink is nothing unread.
    assert coverage.unread_ink(probs, labels, "", line, SPEC) > 2
    assert coverage.unread_ink(probs, labels, "", np.zeros_like(line), SPEC) == 0.0


def test_a_digit_skipped_right_beside_another_is_noticed() -> None:
    # "13" written tight, read as "3": the 1's ink is within reach of the 3's centre, so only the
    # classifier can tell that the 3's share of the ink is two digits.
    arr = np.load(ROOT / "samples" / "assets" / "mnist_digits_0-399.npz")["digits"]
    one, three = (np.pad(arr[d, 360] > 100, ((4, 4), (1, 1))) for d in (1, 3))
    line = np.hstack([one[:, 6:-6], three])
    assert digits.crowded("3", [line.shape[1] / 2], line)
    assert not digits.crowded("13", [4.0, line.shape[1] - 15.0], line)
    assert not digits.crowded("3", [three.shape[1] / 2], three)


def test_a_neighbour_s_stroke_the_cell_border_runs_through_is_no_skipped_digit() -> None:
    # 11 read right, the second 1 placed a little right of where it stands (a narrow character's
    # frame): the border between the two cells runs through it. Counted in the first cell too, it
    # made the first 1's share two digits, and right dates and addresses went to review.
    arr = np.load(ROOT / "samples" / "assets" / "mnist_digits_0-399.npz")["digits"]
    one = (np.pad(arr[1, 360] > 100, ((4, 4), (1, 1))))[:, 13:16]
    gap = np.zeros((one.shape[0], 5), bool)
    ones = np.hstack([gap[:, :3], one, gap, one, gap[:, :3]])
    assert not digits.crowded("11", [4.5, 22.0], ones)
    # A 1 skipped beside a 3, after a 2 read with ink of its own, is still noticed.
    two, three = (np.pad(arr[d, 360] > 100, ((4, 4), (1, 1))) for d in (2, 3))
    one_wide = np.pad(arr[1, 360] > 100, ((4, 4), (1, 1)))[:, 6:-6]
    line = np.hstack([two, one_wide, three])
    assert digits.crowded("23", [two.shape[1] / 2, line.shape[1] - three.shape[1] / 2], line)


@pytest.mark.parametrize(("digit", "variant"), [(7, "plain"), (5, "joined"), (5, "detached")])
def test_a_digit_written_wide_is_no_skipped_character(digit: int, variant: str) -> None:
    # A 7 or a 5 whose top bar runs far right of where the recogniser placed it (令和7年5月 read
    # right and held as unread_ink): one stroke group the classifier reads, whole, as that digit.
    from samples import stroke_digits

    style = stroke_digits.DigitStyle(variants={digit: variant}, width=1.6, jitter=0.0)
    drawn = stroke_digits.draw(digit, style, 30.0, 3.0, np.random.default_rng(1)) > 100
    ink = np.pad(drawn, 3)
    centre = 3 + 0.3 * drawn.shape[1]
    assert coverage._widest_unread(str(digit), [centre], ink) > coverage.UNREAD_MAX
    assert not coverage.skipped(str(digit), [centre], ink)
    # Read as another digit, the wide ink is still unread ink.
    assert coverage.skipped("1", [centre], ink)


def test_a_wide_four_is_still_unread_ink() -> None:
    # A 4 has no top bar to run: ink that wide beside it is more than the 4 (a strike through it
    # merged with its bar), even where the classifier takes the whole for a 4.
    from samples import stroke_digits

    style = stroke_digits.DigitStyle(variants={4: "closed"}, width=1.6, jitter=0.0)
    drawn = stroke_digits.draw(4, style, 30.0, 3.0, np.random.default_rng(1)) > 100
    ink = np.pad(drawn, 3)
    centre = 3 + 0.3 * drawn.shape[1]
    assert coverage._widest_unread("4", [centre], ink) > coverage.UNREAD_MAX
    assert coverage.skipped("4", [centre], ink)


def test_a_digit_left_unread_beside_one_read_is_still_skipped() -> None:
    from samples import stroke_digits

    one, seven = (
        stroke_digits.draw(
            d,
            stroke_digits.DigitStyle(variants={d: "plain"}, jitter=0.0),
            30.0,
            3.0,
            np.random.default_rng(2),
        )
        > 100
        for d in (1, 7)
    )
    line = np.zeros((max(one.shape[0], seven.shape[0]) + 6, one.shape[1] + seven.shape[1] + 20), bool)
    line[3 : 3 + one.shape[0], 3 : 3 + one.shape[1]] = one
    x = 3 + one.shape[1] + 12
    line[3 : 3 + seven.shape[0], x : x + seven.shape[1]] = seven
    assert coverage.skipped("7", [x + seven.shape[1] / 2], line)


def test_a_skipped_digit_is_put_back_for_the_reviewer() -> None:
    line, probs, labels = _line_and_probs("2467", {})
    t4 = int((20 + 40 * 1) / 6)
    probs[t4] = 0.0
    probs[t4, 0] = 1.0  # the recogniser saw nothing at the 4
    read = Reading("267", tuple(Char(c, 0.99) for c in "267"))
    restored = coverage.restore_digits(read, coverage.placed(probs, labels, read.text, line, SPEC), line)
    assert restored is not None and restored.text == "2467"
    # The put-back digit is a proposal: at most RESTORED_PROB, the digits read keep theirs.
    assert [c.prob for c in restored.chars] == [0.99, coverage.RESTORED_PROB, 0.99, 0.99]
    # The field's grammar has the last word.
    assert (
        coverage.restore_digits(
            read, coverage.placed(probs, labels, "267", line, SPEC), line, valid=lambda t: len(t) == 3
        )
        is None
    )
    # Nothing skipped: nothing to put back.
    _, full, _ = _line_and_probs("2467", {})
    whole = Reading("2467", tuple(Char(c, 0.99) for c in "2467"))
    assert coverage.restore_digits(whole, coverage.placed(full, labels, "2467", line, SPEC), line) is None


def test_a_digit_crowded_into_its_neighbours_share_is_put_back() -> None:
    arr = np.load(ROOT / "samples" / "assets" / "mnist_digits_0-399.npz")["digits"]
    one, three = (np.pad(arr[d, 360] > 100, ((4, 4), (1, 1))) for d in (1, 3))
    line = np.hstack([one[:, 6:-6], three])
    labels = ("", *"0123456789")
    probs = np.full((line.shape[1] // 6, 11), 1e-4)
    probs[:, 0] = 1.0
    probs[len(probs) // 2] = [1e-4] * 3 + [0.99] + [1e-4] * 7  # "3", at the middle of the line
    probs = (probs / probs.sum(1, keepdims=True)).astype(np.float32)
    read = Reading("3", (Char("3", 0.97),))
    restored = coverage.restore_digits(read, coverage.placed(probs, labels, read.text, line, SPEC), line)
    assert restored is not None and restored.text == "13"
    assert restored.chars[1].prob == 0.97 and restored.chars[0].prob <= coverage.RESTORED_PROB
    # Two 1s in one 1's share are as often one 1 written in two strokes: only a grammar that
    # checks the result (a date's day, say) lets them through.
    ones = np.hstack([one[:, 6:-6], one[:, 4:]])
    probs1 = probs[: ones.shape[1] // 6].copy()
    probs1[:] = [1.0] + [1e-4] * 10
    probs1[len(probs1) // 2] = [1e-4, 1e-4, 0.99] + [1e-4] * 8
    read1 = Reading("1", (Char("1", 0.97),))
    assert coverage.restore_digits(read1, coverage.placed(probs1, labels, "1", ones, SPEC), ones) is None
    both = coverage.restore_digits(
        read1, coverage.placed(probs1, labels, "1", ones, SPEC), ones, valid=lambda t: True
    )
    assert both is not None and both.text == "11"


def test_one_digit_written_in_two_strokes_is_not_two_digits() -> None:
    # "248" with a 4 whose stem stands apart from its slant and bar: the 4's share of the ink is
    # two groups side by side, the left one a 4 to the classifier, the stem a 1. Together they
    # are one digit wide and surely a 4, so no 1 is put back (1488 became 14188).
    arr = np.load(ROOT / "samples" / "assets" / "mnist_digits_0-399.npz")["digits"]
    four = arr[4, 350] > 100
    rows = np.flatnonzero(four.any(axis=1))
    stem = np.zeros_like(four)
    cols = np.flatnonzero(four.any(axis=0))
    right = cols[-1] - 4
    stem[rows[0] : rows[-1] + 1, right : right + 3] = True
    body = four.copy()
    body[:, right - 2 :] = False
    split4 = body | stem
    assert len(digits.side_by_side(np.pad(split4, ((4, 4), (6, 6))), 10)) == 2
    line = np.hstack([np.pad(m, ((4, 4), (6, 6))) for m in (arr[2, 350] > 100, split4, arr[8, 350] > 100)])
    centres = [20.0, 60.0, 100.0]
    cells = digits.cells_at(line, centres)
    groups = digits.side_by_side(cells[1], 10)
    assert coverage._one_digit_in_two_strokes(groups, "4", coverage._typical_width([cells[0], cells[2]]))
    assert not coverage._one_digit_in_two_strokes(groups, "4", None)
    # Two digits side by side are wider than one: a 1 crowded against a 3 is still put back.
    one, three = (np.pad(arr[d, 360] > 100, ((4, 4), (1, 1))) for d in (1, 3))
    thirteen = np.hstack([one[:, 6:-6], three])
    wide = digits.side_by_side(thirteen, 10)
    assert len(wide) == 2
    assert not coverage._one_digit_in_two_strokes(wide, "3", coverage._width(three))


def test_a_date_box_read_by_the_digit_classifier_alone() -> None:
    arr = np.load(ROOT / "samples" / "assets" / "mnist_digits_0-399.npz")["digits"]
    box = np.hstack([np.pad(arr[d, 360] > 100, ((6, 6), (4, 4))) for d in (1, 9)])
    r = digits.read_alone(box)
    assert r is not None and r.text == "19" and len(r.chars) == 2
    three = np.hstack([np.pad(arr[d, 360] > 100, ((6, 6), (4, 4))) for d in (1, 9, 3)])
    assert digits.read_alone(three) is None  # not a date number
    assert digits.read_alone(np.zeros((30, 30), bool)) is None


def test_check_digit_repair_picks_the_likeliest_valid_number() -> None:
    good = "123456789018"
    good = good[:11] + mynumber.calc_check_digit(good[:11])
    labels = ("", *"0123456789")
    bad = good[:4] + ("7" if good[4] != "7" else "1") + good[5:]
    # Frames: each digit certain, except position 4 where the true digit is a close second.
    frames = []
    for i, ch in enumerate(bad):
        row = np.full(11, 1e-4)
        row[1 + int(ch)] = 0.6 if i == 4 else 0.99
        if i == 4:
            row[1 + int(good[4])] = 0.39
        frames += [row / row.sum(), np.eye(11)[0] * 0.99 + 0.001]
    probs = np.array(frames, np.float32)
    reading = Reading(bad, tuple(Char(c, 0.99) for c in bad))
    fixed = _fix_check_digit(probs, labels, reading, None)
    assert fixed is not None and fixed.text == good
    assert (
        digits.rank(probs, labels, [good, bad], None)[0][0] == bad
    )  # before the check, the misread was likelier


def test_a_sure_misread_the_digit_classifier_doubts_stays_in_review() -> None:
    from pipeline.fields.passes import digit_doubt, new_flags
    from pipeline.fields.plan import DATE_PART, Job

    # The recogniser is sure of 7 where a 4 is written (a date part: no fusing, only a doubt).
    line, probs, labels = _line_and_probs("0422", {1: {"7": 0.99}})
    sure = Reading("0722", tuple(Char(c, 0.99) for c in "0722"))
    job = Job("child_birth", "day", line.astype(np.uint8) * 255, DATE_PART, ink=line, kind="date_wareki")
    flags = new_flags()
    digit_doubt(job, probs, labels, sure, None, SPEC, flags)
    assert flags["digits_uncertain"] == {"child_birth"}
    # Both readers agree: nothing to doubt; and a kind whose digits are not at stake is left alone.
    right = Reading("0422", tuple(Char(c, 0.99) for c in "0422"))
    _, probs_right, _ = _line_and_probs("0422", {})
    flags = new_flags()
    digit_doubt(job, probs_right, labels, right, None, SPEC, flags)
    name = Job("guardian_name", "text", job.crop, DATE_PART, ink=line, kind="text_ja")
    digit_doubt(name, probs, labels, sure, None, SPEC, flags)
    assert not flags["digits_uncertain"]


def test_digit_agreement_is_the_least_backing_the_classifier_gives_a_digit_as_read() -> None:
    from pipeline.fields.passes import digit_agreement
    from pipeline.fields.plan import DATE_PART, Job

    line, probs, labels = _line_and_probs("0422", {1: {"7": 0.99}})
    job = Job("child_birth", "day", line.astype(np.uint8) * 255, DATE_PART, ink=line, kind="date_wareki")
    misread = Reading("0722", tuple(Char(c, 0.99) for c in "0722"))
    right = Reading("0422", tuple(Char(c, 0.99) for c in "0422"))
    _, probs_right, _ = _line_and_probs("0422", {})
    low = digit_agreement(job, probs, labels, misread, None, SPEC)
    high = digit_agreement(job, probs_right, labels, right, None, SPEC)
    assert low is not None and high is not None
    assert low < 0.5 < high  # the written 4 is no 7 to the classifier
    # Not a digit kind, or no digit read: no figure.
    name = Job("guardian_name", "text", job.crop, DATE_PART, ink=line, kind="text_ja")
    assert digit_agreement(name, probs_right, labels, right, None, SPEC) is None
    assert digit_agreement(job, probs_right, labels, Reading("", ()), None, SPEC) is None


def test_faint_parts_of_a_stroke_join_its_sure_ink_and_faint_specks_stay_out() -> None:
    crop = np.full((30, 60), 200, np.uint8)
    crop[10:20, 10:13] = 110  # sure ink of a faint scan: where the pen pressed
    crop[10:13, 13:40] = 170  # the rest of the stroke, only 30 levels under the paper
    crop[25:28, 50:53] = 170  # a faint speck touching no sure ink
    sure = inkmod.binarize(crop, 200.0)
    assert not sure[11, 30]
    grown = inkmod.with_faint_strokes(sure, crop, 200.0)
    assert grown[11, 30] and grown[15, 11] and not grown[26, 51]
    assert not inkmod.with_faint_strokes(np.zeros_like(sure), crop, 200.0).any()
    crop[10:20, 10:13] = 20  # black ink on a crisp scan: 30 levels under the paper is noise there
    assert not inkmod.with_faint_strokes(inkmod.binarize(crop, 200.0), crop, 200.0)[11, 30]


def test_broken_share_tells_writing_in_dashes_from_whole_strokes_and_from_specks():
    whole = np.zeros((40, 120), bool)
    whole[10:30, 10:13] = True  # a stroke
    whole[18:21, 20:60] = True  # another
    whole[5, 70] = True  # one dakuten-sized dot beside them is no breakage
    assert inkmod.broken_share(whole, 4) < inkmod.BROKEN_SHARE
    # The same strokes under a fax's threshold: a few pieces left whole, the rest dashes and dots.
    broken = np.zeros_like(whole)
    broken[10:16, 10:13] = True
    for x in range(20, 60, 4):
        broken[19, x : x + 2] = True
    for y in range(18, 30, 3):
        broken[y, 11] = True
    assert inkmod.broken_share(broken, 4) >= inkmod.BROKEN_SHARE
    # An empty box with scanner specks only: noise, not broken writing.
    specks = np.zeros_like(whole)
    specks[3, 5] = specks[20, 90] = specks[33, 44] = True
    assert inkmod.broken_share(specks, 4) == 0.0
    assert inkmod.broken_share(np.zeros_like(whole), 4) == 0.0


def test_a_page_with_writing_broken_in_several_fields_holds_its_empty_text_fields():
    from pipeline.fields.plan import RawField
    from pipeline.fields.read import BROKEN_PAGE_FIELDS
    from pipeline.forms.template import FieldSpec
    from pipeline.result import Issue

    def field(name: str, raw, broken: bool) -> RawField:
        spec = FieldSpec(name=name, label=name, kind="text_ja", box=(0.0, 0.0, 1.0, 1.0))
        return RawField(spec, raw=raw, issues=[Issue("broken_ink", "")] if broken else [])

    few = [field(f"b{i}", "山", True) for i in range(BROKEN_PAGE_FIELDS - 1)]
    assert _held_on_faded_page(few + [field("empty", None, False), field("read", "川", False)]) == []
    many = [field(f"b{i}", "山", True) for i in range(BROKEN_PAGE_FIELDS)]
    assert _held_on_faded_page(
        many + [field("empty", None, False), field("blank", "", False), field("read", "川", False)]
    ) == [
        "empty",
        "blank",
    ]


def test_a_page_with_several_required_fields_read_empty_holds_its_empty_fields():
    from pipeline.fields.plan import RawField
    from pipeline.fields.read import EMPTY_REQUIRED_PAGE_FIELDS
    from pipeline.forms.template import FieldSpec

    def field(name: str, raw, required: bool) -> RawField:
        spec = FieldSpec(name=name, label=name, kind="text_ja", box=(0.0, 0.0, 1.0, 1.0), required=required)
        return RawField(spec, raw=raw)

    # One or two required boxes left blank: a writer's omission, the optional blanks stand.
    few = [field(f"r{i}", None, True) for i in range(EMPTY_REQUIRED_PAGE_FIELDS - 1)]
    assert _held_on_faded_page(few + [field("optional", None, False), field("read", "川", True)]) == []
    # Three or more: the pen has likely vanished from the scan; every empty field is held.
    many = [field(f"r{i}", None, True) for i in range(EMPTY_REQUIRED_PAGE_FIELDS)]
    got = _held_on_faded_page(many + [field("optional", "", False), field("read", "川", True)])
    assert got == [f"r{i}" for i in range(EMPTY_REQUIRED_PAGE_FIELDS)] + ["optional"]


def test_mend_strokes_bridges_a_broken_stroke_and_leaves_whole_strokes_whole():
    gray = np.full((20, 60), 255, np.uint8)
    for x in range(5, 55, 3):  # a dashed bar: two pixels of ink, one of paper
        gray[9:11, x : x + 2] = 40
    mended = inkmod.mend_strokes(gray)
    n, _ = cv2.connectedComponents((mended < 128).astype(np.uint8))
    assert n - 1 == 1  # one stroke again
    assert (mended[:5] == 255).all() and (mended[15:] == 255).all()  # no thicker than a pixel more


def test_strokes_mostly_in_the_box_are_followed_out_of_it_and_others_stay_out() -> None:
    m = np.zeros((40, 60), bool)
    inner = np.zeros_like(m)
    inner[8:32, 8:52] = True
    m[4:30, 20:23] = True  # a digit whose top runs above the box: mostly inside
    m[1:3, 0:60] = True  # the box's border, left over from dropout: outside
    m[20:38, 45:60] = True  # a neighbour's stroke reaching in: mostly outside
    kept = inkmod.mostly_inside(m, inner, 0.5)
    assert kept[4:30, 20:23].all()
    assert not kept[1, :].any() and not kept[37, 50]


def test_a_thin_stroke_the_height_of_writing_is_writing_however_little_ink() -> None:
    m = np.zeros((34, 46), bool)
    m[10:17, 20:23] = True  # a faint 1 broken by the scan: two short pieces
    m[21:25, 18:21] = True
    assert inkmod.written_stroke(m, 34)
    speck = np.zeros_like(m)
    speck[5:8, 5:8] = True
    assert not inkmod.written_stroke(speck, 34)


def test_long_straight_lines_are_dropped_and_a_digit_touching_one_stays() -> None:
    m = np.zeros((40, 80), bool)
    m[5:7, :] = True  # a box border
    m[7:30, 30:33] = True  # a 1 written down from it
    out = inkmod.drop_lines(m, 30)
    assert not out[5, :20].any() and out[10:30, 30:33].all()


def test_the_classifier_doubts_a_digit_it_backs_too_little_wherever_the_rest_goes() -> None:
    from pipeline.fields.passes import DOUBT_BACKING, doubts

    def opinion(row_of_second: dict[int, float]) -> digits.Opinion:
        rows = np.full((3, 10), 0.01)
        rows[0, 0] = rows[2, 8] = 0.91
        for d, p in row_of_second.items():
            rows[1, d] = p
        return digits.Opinion("048", (0, 1, 2), np.log(rows))

    read = Reading("048", tuple(Char(c, 0.99) for c in "048"))
    # The recogniser read 4. The classifier sure of a 9, leaning to it (0.45 against 0.24, too
    # little for `contradicts`), or torn between the two (0.28 / 0.27): doubted.
    leaning = opinion({9: 0.45, 4: 0.24})
    assert not digits.contradicts("048", leaning, sure=0.6, min_prob=0.15)
    for row in ({9: 0.9, 4: 0.02}, {9: 0.45, 4: 0.24}, {9: 0.28, 4: 0.27}):
        assert doubts(read, opinion(row)), row
    # Backing the 4 with DOUBT_BACKING or more, even while leaning elsewhere, or agreeing: no.
    assert not doubts(read, opinion({9: 0.5, 4: DOUBT_BACKING + 0.01}))
    assert not doubts(read, opinion({4: 0.5, 9: 0.2}))
    other = Reading("0480", tuple(Char(c, 0.99) for c in "0480"))
    assert not doubts(other, leaning)  # another shape: no opinion on it


def test_a_faded_page_holds_its_option_groups_read_unmarked_too():
    from pipeline.fields.plan import RawField
    from pipeline.fields.read import EMPTY_REQUIRED_PAGE_FIELDS
    from pipeline.forms.template import FieldSpec

    def field(name: str, kind: str, raw, required: bool = False) -> RawField:
        opts = [{"value": v, "box": (0.0, 0.0, 1.0, 1.0)} for v in ("男", "女")] if "choice" in kind else None
        spec = FieldSpec(
            name=name, label=name, kind=kind, box=(0.0, 0.0, 1.0, 1.0), required=required, options=opts
        )
        return RawField(spec, raw=raw)

    def options() -> list[RawField]:
        return [
            field("living", "choice", None),
            field("reasons", "multi_choice", []),
            field("consent", "checkbox", False),
            field("sex", "choice", "女"),
            field("ticked", "checkbox", True),
        ]

    faded = [field(f"r{i}", "text_ja", None, True) for i in range(EMPTY_REQUIRED_PAGE_FIELDS)]
    assert _held_on_faded_page(faded + options())[EMPTY_REQUIRED_PAGE_FIELDS:] == [
        "living",
        "reasons",
        "consent",
    ]
    # On a page whose writing is there, an unmarked group is the writer's blank and stands.
    assert _held_on_faded_page([field("name", "text_ja", "山田", True), *options()]) == []


def _held_on_faded_page(raws) -> list[str]:
    """Names of the fields `hold_empty_on_faded_page` holds (reason faded_page)."""
    from pipeline.fields.read import hold_empty_on_faded_page

    return [
        rf.spec.name
        for rf in hold_empty_on_faded_page(raws)
        if any(i.code == "faded_page" for i in rf.issues)
    ]


def _postal_probs(read: str, doubt: dict[int, str]) -> tuple[np.ndarray, tuple[str, ...], Reading]:
    """A recogniser's frames for `read` (a code with its hyphen), each character sure except at
    the positions in `doubt`, where the digit given there is a close second."""
    labels = ("", *"0123456789", "-")
    frames = []
    for i, ch in enumerate(read):
        row = np.full(len(labels), 1e-4)
        row[labels.index(ch)] = 0.6 if i in doubt else 0.99
        if i in doubt:
            row[labels.index(doubt[i])] = 0.39
        frames += [row / row.sum(), np.eye(len(labels))[0] * 0.99 + 0.001]
    return np.array(frames, np.float32), labels, Reading(read, tuple(Char(c, 0.99) for c in read))


def test_a_postal_code_is_mended_to_the_code_of_the_address_town() -> None:
    """Dev set scan 24: 989-2452 (岩沼市武隈) read 489-2451. No one-digit change names 武隈; two
    do (a looped 9 and a 2 both misread), and 岩沼市's other towns' codes one digit away (土ケ崎's
    989-2451) are passed over for it."""
    from pipeline.fields.passes import _fix_postal

    address = "宮城県岩沼市武隈1028"
    probs, labels, reading = _postal_probs("489-2451", {0: "9", 7: "2"})
    fixed = _fix_postal(probs, labels, reading, address, None)
    assert fixed is not None and fixed.text == "989-2452"
    # Both digits read surely: not two misread digits; only a one-digit change within the city.
    probs, labels, reading = _postal_probs("489-2451", {0: "9"})
    fixed = _fix_postal(probs, labels, reading, address, None)
    assert fixed is not None and fixed.text == "989-2451"
    # Read as 岩沼市's 土ケ崎 code: one digit from 武隈's, so mended, the town being the address's.
    probs, labels, reading = _postal_probs("989-2451", {7: "2"})
    fixed = _fix_postal(probs, labels, reading, address, None)
    assert fixed is not None and fixed.text == "989-2452"
    # ... but a code of the address's own town is left alone, and one of another town of the
    # city that no single digit brings to the address's town too (the writer's, perhaps).
    assert _fix_postal(*_postal_probs("989-2452", {})[:3], address, None) is None
    assert _fix_postal(*_postal_probs("989-2401", {})[:3], "宮城県名取市下増田1", None) is None
    assert _fix_postal(*_postal_probs("989-2457", {})[:3], "宮城県岩沼市末広1", None) is None


def test_a_right_postal_code_beside_a_misread_prefecture_is_left_alone() -> None:
    """Dev set scan 28: 235-0004 (横浜市磯子区下町) beside an address whose prefecture was misread
    (神奈1川県): no code fits that city as written, and 235-0016's town 磯子 is only in the ward's
    name, not after it: no town is named, nothing is changed."""
    from pipeline.fields.passes import _fix_postal
    from pipeline.jp.address import postal_town_matches

    address = "神奈1川県横浜市磯子区下町1333"
    assert postal_town_matches("2350016", address) is True  # the loose warning's reading
    assert postal_town_matches("2350016", address, strict=True) is False
    probs, labels, reading = _postal_probs("235-0004", {6: "1", 7: "6"})  # 235-0016 cheap
    assert _fix_postal(probs, labels, reading, address, None) is None
