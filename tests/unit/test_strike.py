"""Corrections (訂正): strike lines found in synthetic crops, ordinary writing left alone, and the
struck writing removed while the new value (beside or above) stays."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.fields import ink as inkmod
from pipeline.fields.read import _drop_struck, _struck_first

SETO = "/usr/share/fonts/truetype/seto/setofont.ttf"
SIZE = 32  # about a character's height at the working 150 dpi


def line_of(
    struck: str,
    new: str = "",
    where: str = "beside",
    lines: tuple[float, ...] = (0.42, 0.58),
    tilt: float = 0.0,
) -> np.ndarray:
    """A grey crop: `struck` written and struck with `lines` (fractions of the character height;
    one line or two), `tilt` pixels of rise over the strike, and `new` beside it or above it."""
    font = ImageFont.truetype(SETO, SIZE)
    pad = 10
    ws, wn = int(font.getlength(struck)), int(font.getlength(new)) if new else 0
    above = where == "above" and new
    w = pad * 2 + (max(ws, wn) if above else ws + (SIZE + wn if new else 0))
    h = pad * 2 + SIZE + (SIZE + pad if above else 0)
    img = Image.new("L", (w, h), 245)
    d = ImageDraw.Draw(img)
    y = pad + (SIZE + pad if above else 0)
    d.text((pad, y), struck, font=font, fill=25)
    for f in lines:
        yy = y + SIZE * f
        d.line([(pad - 3, yy + tilt / 2), (pad + ws + 3, yy - tilt / 2)], fill=25, width=2)
    if new:
        d.text((pad, pad) if above else (pad + ws + SIZE, y), new, font=font, fill=25)
    return np.array(img)


def plain(text: str) -> np.ndarray:
    return line_of(text, lines=())


@pytest.mark.parametrize(
    "text",
    [
        "一二三",
        "宗一郎",
        "三浦一二三",
        "ユーキ",
        "コーヒー",
        "王目日田",
        "二十三",
        "七五三",
        "1-2-3",
        "090-1234-5678",
    ],
)
def test_ordinary_writing_has_no_strike(text: str) -> None:
    """Level strokes of one character (一 ー 二 三, the bars of 王 目 七) are no strike."""
    assert inkmod.find_strikes(inkmod.binarize(plain(text))) == []


@pytest.mark.parametrize(
    "text,lines,tilt",
    [
        ("サトウ", (0.42, 0.58), 0.0),  # the customary two lines
        ("大鶴", (0.5,), 0.0),  # one line
        ("東", (0.45, 0.6), 0.0),  # one character
        ("清水化学株", (0.5,), 6.0),  # a line drawn rising
        ("090-2294", (0.45, 0.55), -4.0),
    ],
)
def test_a_strike_through_writing_is_found(text: str, lines: tuple[float, ...], tilt: float) -> None:
    crop = line_of(text, lines=lines, tilt=tilt)
    found = inkmod.find_strikes(inkmod.binarize(crop))
    assert len(found) == 1
    s = found[0]
    width = inkmod.bbox(inkmod.binarize(crop))[2]
    assert s.x1 - s.x0 >= 0.8 * width


def test_an_underline_or_a_long_dash_is_no_strike() -> None:
    """A long line with nothing crossing it (under the writing, or a dash between words)."""
    crop = plain("山田")
    crop[52:54, 8:90] = 25  # an underline below the writing
    assert inkmod.find_strikes(inkmod.binarize(crop)) == []
    dash = np.full((50, 200), 245, np.uint8)
    dash[24:26, 20:180] = 25
    assert inkmod.find_strikes(inkmod.binarize(dash)) == []


def test_massed_level_strokes_of_tight_small_writing_are_no_strike() -> None:
    """Small kanji written tight blur into massed ink at 150 dpi: a long straight run found
    inside it is not a lone line, so not a strike."""
    m = np.zeros((30, 200), bool)
    m[8:22, 20:180] = True
    m[8:22:3, 20:180:4] = False  # the gaps between strokes, specks of paper
    m[12:14, 10:190] = True  # a level run longer than the rest
    m[4:26, 30:33] = m[4:26, 100:103] = m[4:26, 170:173] = True
    assert inkmod.find_strikes(m) == []


def test_level_strokes_of_neighbours_joined_are_no_strike() -> None:
    """Handwriting joins the level strokes of two neighbouring characters (大村, 玲里) into one
    run longer than a character is tall, crossed by their uprights: one such run is no strike."""
    m = np.zeros((50, 120), bool)
    m[10:44, 20:23] = m[10:44, 45:48] = m[10:44, 70:73] = True  # uprights
    m[24:26, 12:62] = True  # 1.5 line heights, one line
    assert inkmod.find_strikes(m) == []


def test_level_strokes_along_the_foot_of_the_writing_are_no_strike() -> None:
    """A long run along the writing's foot, crossed by strokes that hang down a little (the bases
    of 北海道空 joined up): a strike would have the writing on both sides of it."""
    m = np.zeros((50, 200), bool)
    for x in range(20, 170, 24):
        m[8:44, x : x + 3] = True  # uprights, reaching just past the foot line
        m[20:22, x - 6 : x + 10] = True
    m[38:40, 14:176] = True  # the run, 4 line heights long, low in the line
    assert inkmod.find_strikes(m) == []
    m[38:40] = False
    m[24:26, 14:176] = True  # the same line through the middle is a strike
    assert len(inkmod.find_strikes(m)) == 1


def test_two_lines_merged_into_a_bar_through_a_furigana_row_are_a_strike() -> None:
    """Through 2.5 mm kana (15 px at 150 dpi) the customary two lines merge into one bar 8 px
    thick, more than half the row, that swallows nearly all of the struck kana: a few strokes
    show above it and one below. The new reading follows it."""
    m = np.zeros((22, 300), bool)
    m[9:17, 12:118] = True  # the bar
    for x in (22, 34, 52, 70, 88, 104):
        m[5:9, x : x + 3] = True  # kana strokes above it
    m[17:20, 40:43] = True  # one below
    for x in range(140, 290, 30):  # the new kana, 13 px tall
        m[5:18, x : x + 3] = True
        m[8:10, x - 4 : x + 8] = True
    found = inkmod.find_strikes(m, 2)
    assert len(found) == 1
    assert found[0].x0 <= 14 and 110 <= found[0].x1 <= 125


def _furigana_row(run: int) -> np.ndarray:
    """A 15 px kana row (2.5 mm at 150 dpi) with one level run `run` px long through its middle,
    crossed by a kana's strokes every 12 px, and more kana after it."""
    m = np.zeros((22, 300), bool)
    m[11:13, 10 : 10 + run] = True
    for x in range(14, 10 + run - 4, 12):
        m[4:19, x : x + 2] = True
    for x in range(150, 280, 18):
        m[4:19, x : x + 2] = True
        m[7:9, x - 3 : x + 6] = True
    return m


def test_joined_level_strokes_of_small_kana_are_no_strike() -> None:
    """The bars of ササキ written close in a furigana row join into a run 2.5 row heights long,
    crossed from above and below: in writing that small a single line must be longer."""
    assert inkmod.find_strikes(_furigana_row(38), 2) == []
    assert len(inkmod.find_strikes(_furigana_row(60), 2)) == 1


def test_the_small_writing_rule_is_in_millimetres() -> None:
    """The same furigana row scanned at 300 dpi is 30 px tall, still a 2.5 mm row: its joined
    bars are no strike there either."""
    row = np.kron(_furigana_row(38), np.ones((2, 2), bool))
    assert inkmod.find_strikes(row, 2, dpi=300) == []
    assert len(inkmod.find_strikes(np.kron(_furigana_row(60), np.ones((2, 2), bool)), 2, dpi=300)) == 1


def _kept(crop: np.ndarray, digits: bool = False) -> np.ndarray:
    mask = inkmod.binarize(crop)
    strikes = inkmod.find_strikes(mask, 3, digits)
    assert strikes
    _, kept = _drop_struck(crop, mask, mask, strikes, digits)
    return kept


def test_struck_text_is_dropped_and_the_new_text_beside_it_kept() -> None:
    crop = line_of("村上", "村上寛")
    kept = _kept(crop)
    new_start = 10 + int(ImageFont.truetype(SETO, SIZE).getlength("村上")) + SIZE
    assert not kept[:, : new_start - 8].any()  # nothing of the struck name or its lines
    assert kept[:, new_start:].sum() >= 0.9 * inkmod.binarize(crop)[:, new_start:].sum()


def test_struck_text_is_dropped_and_the_new_text_above_it_kept() -> None:
    crop = line_of("東", "東裕輔", where="above")
    kept = _kept(crop)
    struck_row = 10 + SIZE + 10
    assert not kept[struck_row:].any()
    assert kept[:struck_row].sum() >= 0.9 * inkmod.binarize(crop)[:struck_row].sum()


def test_a_struck_digit_with_the_new_one_above_it_in_its_cell() -> None:
    """A date part or a cell: the wrong digit struck low, the right one written above it."""
    font = ImageFont.truetype(SETO, 22)
    img = Image.new("L", (44, 60), 245)
    d = ImageDraw.Draw(img)
    d.text((12, 32), "8", font=font, fill=25)
    d.line([(6, 42), (34, 41)], fill=25, width=2)  # two lines (二重線)
    d.line([(6, 47), (34, 46)], fill=25, width=2)
    d.text((12, 4), "7", font=font, fill=25)
    crop = np.array(img)
    mask = inkmod.binarize(crop)
    kept = _kept(crop, digits=True)
    assert not kept[34:].any()
    assert kept[:30].sum() >= 0.9 * mask[:30].sum()


def test_a_plain_digit_is_not_struck_even_in_a_digit_crop() -> None:
    for digit in "4578":
        mask = inkmod.binarize(line_of(digit, lines=()))
        assert inkmod.find_strikes(mask, 3, digits=True) == [], digit


def test_a_strike_counts_only_where_a_correction_is_written() -> None:
    """The struck value is written first and the new one follows (beside or above); a long run
    in the middle of the writing, with writing on both sides, is no correction."""
    beside = inkmod.binarize(line_of("村上", "村上寛"))
    above = inkmod.binarize(line_of("東", "東裕輔", where="above"))
    for m in (beside, above):
        assert all(_struck_first(m, s) for s in inkmod.find_strikes(m, 3))
    middle = inkmod.binarize(line_of("村上", "村上寛"))[:, ::-1].copy()  # struck part now last
    found = inkmod.find_strikes(middle, 3)
    assert found and not any(_struck_first(middle, s) for s in found)
    alone = inkmod.binarize(line_of("村上"))  # struck, and nothing written after it
    assert not any(_struck_first(alone, s) for s in inkmod.find_strikes(alone, 3))


def test_a_strike_broken_over_its_first_character_starts_at_the_first() -> None:
    """A hand's line wobbles over the first struck characters; the short straight pieces that
    continue it to the left are its start, so the struck value is still what comes first."""
    crop = line_of("ナガムラ", "ナカムラ", lines=())
    y = 10 + int(SIZE * 0.5)
    crop[y : y + 2, 7:30] = 25  # the start, a pixel lower ...
    crop[y - 1 : y + 1, 32:140] = 25  # ... than the rest, and broken off it
    m = inkmod.binarize(crop)
    found = inkmod.find_strikes(m)
    assert found and min(s.x0 for s in found) <= 10
    assert all(_struck_first(m, s) for s in found)


def _struck_small_beside_large(struck: str, new: str) -> np.ndarray:
    """`struck` written small (26 px) and struck with two 3 px lines 1 px apart, and `new`
    written larger (36 px) beside it: the line of writing is as tall as the new name."""
    small, large = ImageFont.truetype(SETO, 26), ImageFont.truetype(SETO, 36)
    ws, wn = int(small.getlength(struck)), int(large.getlength(new))
    img = Image.new("L", (20 + ws + 40 + wn, 56), 245)
    d = ImageDraw.Draw(img)
    d.text((10, 18), struck, font=small, fill=25)
    for yy in (29, 33):
        d.line([(7, yy), (13 + ws, yy)], fill=25, width=3)
    d.text((10 + ws + 40, 8), new, font=large, fill=25)
    return np.array(img)


@pytest.mark.parametrize("struck,new", [("宮吾", "宮本大吾"), ("近洋", "近藤洋平")])
def test_two_lines_drawn_close_through_two_kanji_are_a_strike(struck: str, new: str) -> None:
    """A 二重線 drawn tight (the lines touch at 150 dpi) through a short name written smaller
    than the new one beside it is found as one run, under two line heights long: as deep as two
    pen lines, it is the pair, and the new name is kept."""
    mask = inkmod.binarize(_struck_small_beside_large(struck, new))
    found = inkmod.find_strikes(mask, 2)
    assert len(found) == 1
    x, _, w, _ = inkmod.bbox(inkmod.binarize(_struck_small_beside_large(struck, "")))
    assert found[0].x0 <= x + 4 and found[0].x1 < x + w + 16  # the new name is not struck


def _digit_struck_tight(digit: str) -> np.ndarray:
    """A date part's one digit struck with a 二重線 drawn tight (the two lines touch at 150 dpi)
    hardly wider than the digit: one run, as deep as two pen lines, about one line height long."""
    font = ImageFont.truetype(SETO, 30)
    img = Image.new("L", (40, 44), 245)
    d = ImageDraw.Draw(img)
    d.text((10, 4), digit, font=font, fill=25)
    for yy in (19, 21):  # 3 px lines 2 px apart: one run 5 px deep
        d.line([(7, yy), (31, yy)], fill=25, width=3)
    return np.array(img)


@pytest.mark.parametrize("digit", ["8", "9", "0"])
def test_one_digit_struck_with_two_touching_lines_is_struck(digit: str) -> None:
    """Shorter than the 1.5 line heights such a run needs through words: in a digit crop it is a
    strike as long as any strike there (dev set scan 4's struck 令和8, with 7 written above)."""
    mask = inkmod.binarize(_digit_struck_tight(digit))
    found = inkmod.find_strikes(mask, 3, digits=True)
    assert len(found) == 1
    assert found[0].x1 - found[0].x0 < inkmod.STRIKE_LONE_DOUBLE * found[0].height
    assert inkmod.find_strikes(mask, 3, digits=False) == []  # words still need the longer run


@pytest.mark.parametrize("digit", ["4", "5", "7", "2"])
def test_a_digit_written_with_a_broad_pen_is_not_struck(digit: str) -> None:
    """A digit's own bar (4, 5, 7, 2's foot) is one pen deep however broad the pen: not the two
    lines of a strike."""
    font = ImageFont.truetype(SETO, 30)
    img = Image.new("L", (40, 44), 245)
    ImageDraw.Draw(img).text((10, 4), digit, font=font, fill=25, stroke_width=1, stroke_fill=25)
    mask = inkmod.binarize(np.array(img))
    assert inkmod.find_strikes(mask, 3, digits=True) == []


def _broad_digit_struck(digit: str) -> np.ndarray:
    """One digit written with a broad pen (its strokes 3-4 px deep) and struck with a bar no
    deeper than them, running past it on both sides: a broad pen's 二重線, the two lines merged."""
    font = ImageFont.truetype(SETO, 30)
    img = Image.new("L", (44, 44), 245)
    d = ImageDraw.Draw(img)
    d.text((12, 4), digit, font=font, fill=25, stroke_width=2, stroke_fill=25)
    d.line([(4, 21), (40, 21)], fill=25, width=5)
    return np.array(img)


def test_a_broad_pens_bar_ending_just_past_two_digits_is_a_strike_when_looked_for_loosely() -> None:
    # 79 struck, the bar ending just past the 9 (our generator's pages, dev set A's scan 40).
    font = ImageFont.truetype(SETO, 30)
    img = Image.new("L", (60, 44), 245)
    d = ImageDraw.Draw(img)
    d.text((10, 4), "79", font=font, fill=25, stroke_width=2, stroke_fill=25)
    d.line([(8, 22), (46, 22)], fill=25, width=5)
    mask = inkmod.binarize(np.array(img))
    assert inkmod.find_strikes(mask, 3, digits=True) == []
    assert len(inkmod.find_strikes(mask, 3, digits=True, loose=True)) == 1


@pytest.mark.parametrize("digit", ["4", "0", "8"])
def test_a_broad_pens_bar_through_a_digit_is_a_strike_only_when_looked_for_loosely(digit: str) -> None:
    """No deeper than the pen, the bar is no sure strike on its own; with the new value written
    over the box (the caller's evidence) it is looked for loosely, and then found."""
    mask = inkmod.binarize(_broad_digit_struck(digit))
    assert inkmod.find_strikes(mask, 3, digits=True) == []
    assert len(inkmod.find_strikes(mask, 3, digits=True, loose=True)) == 1
    assert inkmod.find_strikes(mask, 3, digits=False, loose=True) == []  # words: never loosely


@pytest.mark.parametrize("digit", ["4", "5", "7", "2", "44", "77", "45", "22", "57"])
def test_a_broad_pens_digit_is_not_struck_even_loosely(digit: str) -> None:
    font = ImageFont.truetype(SETO, 30)
    img = Image.new("L", (60, 44), 245)
    ImageDraw.Draw(img).text((10, 4), digit, font=font, fill=25, stroke_width=1, stroke_fill=25)
    assert inkmod.find_strikes(inkmod.binarize(np.array(img)), 3, digits=True, loose=True) == []


def test_a_blot_joining_two_digits_is_not_struck() -> None:
    """A run as deep as two pen lines that stops at the writing (a fax's filled-in loop of a 2
    running into the 1 beside it) does not stick out past what it crosses: no strike, however
    short runs through digits may be."""
    font = ImageFont.truetype(SETO, 30)
    img = Image.new("L", (56, 44), 245)
    d = ImageDraw.Draw(img)
    d.text((8, 4), "21", font=font, fill=25)
    d.rectangle([10, 18, 33, 22], fill=25)  # from the 2's left edge into the 1's stem
    assert inkmod.find_strikes(inkmod.binarize(np.array(img)), 3, digits=True) == []


def _squeezed_over(joined: bool = True) -> np.ndarray:
    """A box one line tall, its value struck with a broad pen's 二重線 (two 4 px lines touching,
    through 17 px writing) and the new value squeezed in over it; with `joined`, a stroke of the
    new line reaches down into the struck one, so no blank row parts them."""
    font = ImageFont.truetype(SETO, 17)
    img = Image.new("L", (400, 42), 245)
    d = ImageDraw.Draw(img)
    d.text((40, 1), "愛知県豊田市広久手町2丁目", font=font, fill=25, stroke_width=1)
    d.text((10, 20), "愛目県豊田市広久手町2丁目", font=font, fill=25, stroke_width=1)
    for y in (27, 31):
        d.line([(6, y), (245, y)], fill=25, width=4)
    if joined:
        d.line([(120, 16), (121, 22)], fill=25, width=2)
    return np.array(img)


def test_two_lines_of_writing_that_touch_are_parted_at_their_valley() -> None:
    """No blank row parts the new value from the struck one when a stroke joins them; the nearly
    bare row between them does, where asked (`valleys`)."""
    m = inkmod.binarize(_squeezed_over())
    assert len(inkmod.split_lines(m, 2)) == 1
    (a0, a1), (b0, b1) = inkmod.split_lines(m, 2, valleys=True)
    assert a0 < 5 and 16 <= a1 <= 22 and b0 == a1 and b1 > 35


@pytest.mark.parametrize("text", ["宗一郎", "三浦一二三", "コーヒー", "王目日田", "七五三", "090-1234-5678"])
def test_one_line_of_writing_has_no_valley(text: str) -> None:
    assert len(inkmod.split_lines(inkmod.binarize(plain(text)), 2, valleys=True)) == 1


def test_a_broad_pens_double_line_under_the_new_value_is_a_strike() -> None:
    """Two broad pen lines touching make a bar thicker than half the small struck line (12 px
    against 19): it is still two pen lines, not a blot, and the struck value under the new one
    is dropped."""
    crop = _squeezed_over()
    mask = inkmod.binarize(crop)
    found = inkmod.find_strikes(mask, 2)
    assert len(found) == 1
    s = found[0]
    assert s.y > 22 and s.x0 <= 12 and s.x1 >= 240
    _, kept = _drop_struck(crop, mask, mask, found, False)
    assert not kept[24:].any()
    assert kept[:18].sum() >= 0.9 * mask[:18].sum()
