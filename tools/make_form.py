"""Recipe for the nursery-enrolment form: writes template.yaml, blank.png (300 dpi) and blank.pdf.

This is how a city office would print its 保育施設等利用申込書: a ruled table with printed labels,
digit boxes for 郵便番号 and 個人番号, eras to circle, and tick boxes. The pipeline never runs this;
it reads the files it writes. Run `python tools/make_form.py` after
changing the layout, then `shinsei template check nursery_enrolment`.

Needs the IPA Gothic font from Debian (fonts-ipafont-gothic).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parents[1] / "templates_forms" / "nursery_enrolment"  # where it writes
DPI = 300
PX = DPI / 25.4
FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
W_MM, H_MM = 210.0, 297.0
X0, X1 = 12.0, 198.0
LABEL_W = 30.0

# The city's nursery facilities as listed in its 入園案内; 希望施設 must be one of them.
FACILITIES = [
    "みどり中央保育園", "さくら保育所", "ひまわりこども園", "たんぽぽ保育園", "すみれ保育園",
    "あおぞら保育園", "わかば保育所", "ひかりこども園", "こばと保育園", "つくし保育園",
    "どんぐり保育園", "なかよし保育園", "青葉保育園", "若草保育所", "みどり東保育園",
    "みどり西保育所", "南町保育園", "北口こども園", "駅前保育園", "本町保育所",
    "緑ヶ丘保育園", "みどり第二保育園", "ゆりかご保育園", "ほしのこ保育園", "もみじ認定こども園",
    "あさひ保育園", "にじいろ保育園", "ことり乳児保育園", "みどり市立中央こども園", "けやき保育園",
]  # fmt: skip

fields: list[dict] = []
texts: list[tuple[float, float, str, float, str]] = []  # x, y, text, size_mm, anchor
rects: list[tuple[float, float, float, float, float]] = []  # x, y, w, h, line width mm
checkboxes: list[tuple[float, float, float]] = []  # x, y, size


def text(x, y, s, size=3.6, anchor="lm"):
    texts.append((x, y, s, size, anchor))


def rect(x, y, w, h, lw=0.3):
    rects.append((x, y, w, h, lw))


def label_cell(x, y, w, h, s, size=3.4):
    rect(x, y, w, h)
    text(x + w / 2, y + h / 2, s, size, "mm")


def box(x, y, w, h):
    return [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]


def add(**f):
    fields.append(f)


def tick_options(values, x, y, step, size=4.5):
    """Printed □ + label; the option box is the square where the tick lands."""
    opts = []
    for i, v in enumerate(values):
        ox = x + i * step if isinstance(step, (int, float)) else step[i]
        checkboxes.append((ox, y, size))
        text(ox + size + 1.2, y + size / 2, v, 3.4)
        opts.append({"value": v, "box": box(ox - 0.8, y - 0.8, size + 1.6, size + 1.6)})
    return opts


def circle_options(values, centers, y, w, h):
    """Printed label; the option box is the area around it where a ○ lands."""
    opts = []
    for v, cx in zip(values, centers, strict=True):
        text(cx, y + h / 2, v, 3.8, "mm")
        opts.append({"value": v, "box": box(cx - w / 2, y, w, h)})
    return opts


def date_parts(x, y, h, era_text=None):
    """`[  ]年[  ]月[  ]日` boxes starting at x; returns (parts dict, right edge)."""
    parts = {}
    if era_text:
        text(x + 1, y + h / 2, era_text, 3.6)
        x += 11
    for key, unit in (("year", "年"), ("month", "月"), ("day", "日")):
        parts[key] = box(x, y + 1, 13, h - 2)
        rect(x, y + 1, 13, h - 2, 0.2)
        text(x + 14, y + h / 2, unit, 3.6)
        x += 19
    return parts, x


# ---- header -------------------------------------------------------------------------------
text(W_MM / 2, 15, "保育施設等利用申込書", 7.0, "mm")
text(W_MM / 2, 22.5, "（兼 教育・保育給付認定申請書）", 3.8, "mm")
text(X0, 30, "（宛先）　みどり市長", 3.6)
text(100, 30, "申請日", 3.6)
parts, _ = date_parts(112, 25, 10, era_text="令和")
add(
    name="application_date",
    label="申請日",
    kind="date_wareki",
    box=box(112, 25, 70, 10),
    era="令和",
    parts=parts,
    date_range=["-2y", "+1y"],
    required=True,
)

# ---- 1 child ------------------------------------------------------------------------------
y = 37
rect(X0, y, X1 - X0, 6, 0.4)
text(X0 + 2, y + 3, "１　利用を希望する児童", 3.8)
y = 43
label_cell(X0, y, LABEL_W, 9, "フリガナ")
rect(X0 + LABEL_W, y, 98, 9)
add(
    name="child_name_kana",
    label="児童 フリガナ",
    kind="kana",
    box=box(X0 + LABEL_W + 1, y + 0.8, 96, 7.4),
    required=True,
    max_length=20,
    reading_of="child_name",
)
label_cell(140, y, 18, 21, "性別")
rect(158, y, X1 - 158, 21)
add(
    name="child_sex",
    label="児童 性別",
    kind="choice",
    box=box(159, y + 1, 38, 19),
    required=True,
    options=circle_options(["男", "女"], [168, 188], y + 5.5, 13, 10),
)
text(178, y + 10.5, "・", 3.8, "mm")
y = 52
label_cell(X0, y, LABEL_W, 12, "氏名")
rect(X0 + LABEL_W, y, 98, 12)
add(
    name="child_name",
    label="児童 氏名",
    kind="text_ja",
    box=box(X0 + LABEL_W + 1, y + 1, 96, 10),
    required=True,
    max_length=20,
)
y = 64
label_cell(X0, y, LABEL_W, 12, "生年月日")
rect(X0 + LABEL_W, y, X1 - X0 - LABEL_W, 12)
era_opts = circle_options(["令和", "平成"], [50, 64], y + 1, 13, 10)
text(57, y + 6, "・", 3.8, "mm")
parts, _ = date_parts(74, y, 12)
add(
    name="child_birth_date",
    label="児童 生年月日",
    kind="date_wareki",
    box=box(X0 + LABEL_W + 1, y + 1, 100, 10),
    era_options=era_opts,
    infer_when_unmarked=True,
    parts=parts,
    date_range=["-7y", "+1y"],
    required=True,
)
# 入所時 [ ] 歳児クラス: the class the applicant expects, checked against the dates (class_age).
text(146, y + 6, "入所時", 3.4)
rect(157.5, y + 1.5, 11, 9, 0.2)
text(170, y + 6, "歳児クラス", 3.4)
add(name="child_class", label="入所時 歳児クラス", kind="number", box=box(158, y + 2, 10, 8), min=0, max=5)
y = 76
label_cell(X0, y, LABEL_W, 12, "個人番号")
rect(X0 + LABEL_W, y, X1 - X0 - LABEL_W, 12)
cx = X0 + LABEL_W + 2
rect(cx, y + 1.5, 96, 9, 0.3)
for i in range(1, 12):
    rects.append((cx + i * 8, y + 1.5, 0, 9, 0.15))
add(
    name="child_my_number",
    label="児童 個人番号",
    kind="my_number",
    box=box(cx, y + 1.5, 96, 9),
    cells={"count": 12},
    review="double",
    required=True,
)
text(cx + 100, y + 6, "※12桁", 3.0)

# ---- 2 guardian ---------------------------------------------------------------------------
y = 90
rect(X0, y, X1 - X0, 6, 0.4)
text(X0 + 2, y + 3, "２　保護者（申請者）", 3.8)
y = 96
label_cell(X0, y, LABEL_W, 9, "フリガナ")
rect(X0 + LABEL_W, y, 98, 9)
add(
    name="guardian_name_kana",
    label="保護者 フリガナ",
    kind="kana",
    box=box(X0 + LABEL_W + 1, y + 0.8, 96, 7.4),
    required=True,
    max_length=20,
    reading_of="guardian_name",
)
label_cell(140, y, 18, 21, "続柄")
rect(158, y, X1 - 158, 21)
add(
    name="guardian_relation",
    label="児童との続柄",
    kind="choice",
    box=box(159, y + 1, 38, 19),
    required=True,
    options=circle_options(["父", "母", "その他"], [165, 177, 190], y + 5.5, 11, 10),
)
y = 105
label_cell(X0, y, LABEL_W, 12, "氏名")
rect(X0 + LABEL_W, y, 98, 12)
add(
    name="guardian_name",
    label="保護者 氏名",
    kind="text_ja",
    box=box(X0 + LABEL_W + 1, y + 1, 96, 10),
    required=True,
    max_length=20,
)
y = 117
label_cell(X0, y, LABEL_W, 12, "生年月日")
rect(X0 + LABEL_W, y, 70, 12)
add(
    name="guardian_birth_date",
    label="保護者 生年月日",
    kind="date_wareki",
    box=box(X0 + LABEL_W + 1, y + 1, 68, 10),
    date_range=["-80y", "-13y"],
    required=True,
)
label_cell(112, y, 34, 12, "週の就労時間")
rect(146, y, X1 - 146, 12)
add(name="work_hours_week", label="週の就労時間", kind="number", box=box(147, y + 1, 36, 10), min=0, max=80)
text(185, y + 6, "時間", 3.4)
y = 129
label_cell(X0, y, LABEL_W, 11, "郵便番号")
rect(X0 + LABEL_W, y, 56, 11)
text(X0 + LABEL_W + 2, y + 5.5, "〒", 3.6)
px0 = X0 + LABEL_W + 7
rect(px0, y + 1.5, 18, 8, 0.3)
for i in (1, 2):
    rects.append((px0 + i * 6, y + 1.5, 0, 8, 0.15))
text(px0 + 20.5, y + 5.5, "－", 3.4, "mm")
rect(px0 + 23, y + 1.5, 24, 8, 0.3)
for i in (1, 2, 3):
    rects.append((px0 + 23 + i * 6, y + 1.5, 0, 8, 0.15))
add(
    name="postal_code",
    label="郵便番号",
    kind="postal_code",
    box=box(px0, y + 1.5, 47, 8),
    cells={"count": 7, "groups": [3, 4], "separator": "-"},
    required=True,
)
label_cell(98, y, 24, 11, "電話（自宅）")
rect(122, y, X1 - 122, 11)
add(name="phone_home", label="電話（自宅）", kind="phone", box=box(123, y + 1, 74, 9))
y = 140
label_cell(X0, y, LABEL_W, 15, "住所")
rect(X0 + LABEL_W, y, X1 - X0 - LABEL_W, 15)
add(
    name="address",
    label="住所",
    kind="text_ja",
    box=box(X0 + LABEL_W + 1, y + 1, X1 - X0 - LABEL_W - 2, 13),
    required=True,
    max_length=60,
    charset="address",
)
y = 155
label_cell(X0, y, LABEL_W, 11, "携帯電話")
rect(X0 + LABEL_W, y, 60, 11)
add(name="phone_mobile", label="携帯電話", kind="phone", box=box(X0 + LABEL_W + 1, y + 1, 58, 9))
label_cell(102, y, 20, 11, "勤務先")
rect(122, y, X1 - 122, 11)
add(name="employer", label="勤務先", kind="text_ja", box=box(123, y + 1, 74, 9), max_length=30)

# ---- 3 wishes -----------------------------------------------------------------------------
y = 169
rect(X0, y, X1 - X0, 6, 0.4)
text(X0 + 2, y + 3, "３　利用の希望", 3.8)
y = 175
label_cell(X0, y, LABEL_W, 12, "利用開始希望日")
rect(X0 + LABEL_W, y, 75, 12)
parts, _ = date_parts(X0 + LABEL_W + 1, y, 12, era_text="令和")
add(
    name="start_date",
    label="利用開始希望日",
    kind="date_wareki",
    box=box(X0 + LABEL_W + 1, y + 1, 73, 10),
    era="令和",
    parts=parts,
    date_range=["-1y", "+2y"],
    required=True,
)
label_cell(117, y, 22, 12, "保育必要量")
rect(139, y, X1 - 139, 12)
add(
    name="care_need",
    label="保育必要量",
    kind="choice",
    box=box(140, y + 1, 57, 10),
    required=True,
    options=tick_options(["標準時間", "短時間"], 142, y + 3.75, 28),
)
y = 187
rect(X0, y, LABEL_W - 10, 30)
text(X0 + 10, y + 15, "希望施設", 3.4, "mm")
for i in range(3):
    yy = y + i * 10
    label_cell(X0 + LABEL_W - 10, yy, 16, 10, f"第{'１２３'[i]}希望", 3.2)
    rect(X0 + LABEL_W + 6, yy, X1 - X0 - LABEL_W - 6, 10)
    add(
        name=f"facility_{i + 1}",
        label=f"希望施設 第{i + 1}希望",
        kind="text_ja",
        box=box(X0 + LABEL_W + 7, yy + 1, X1 - X0 - LABEL_W - 8, 8),
        required=(i == 0),
        max_length=30,
        vocabulary="facilities",
    )
y = 217
label_cell(X0, y, LABEL_W, 20, "保育を必要と\nする事由", 3.2)
rect(X0 + LABEL_W, y, X1 - X0 - LABEL_W, 20)
opts = tick_options(["就労", "妊娠・出産", "疾病・障害", "介護・看護"], 46, y + 3, 38)
opts += tick_options(["求職活動", "就学", "その他"], 46, y + 12.5, 38)
add(
    name="care_reasons",
    label="保育を必要とする事由",
    kind="multi_choice",
    box=box(X0 + LABEL_W + 1, y + 1, 154, 18),
    options=opts,
    required=True,
)
y = 237
label_cell(X0, y, LABEL_W, 11, "兄弟姉妹の在園")
rect(X0 + LABEL_W, y, 60, 11)
add(
    name="siblings",
    label="兄弟姉妹の在園",
    kind="choice",
    box=box(X0 + LABEL_W + 1, y + 1, 58, 9),
    options=tick_options(["有", "無"], 48, y + 3.25, 20),
    required=True,
)
rect(102, y, X1 - 102, 11)
cb = tick_options(["市町村民税の課税状況の閲覧に同意します"], 105, y + 3.25, 0)
add(name="tax_consent", label="税情報閲覧への同意", kind="checkbox", box=cb[0]["box"], required=True)

# ---- signature + office use ---------------------------------------------------------------
y = 252
text(X0, y, "上記のとおり申し込みます。記載内容に相違ありません。", 3.4)
y = 257
label_cell(X0, y, LABEL_W, 16, "申請者署名")
rect(X0 + LABEL_W, y, 90, 16)
add(
    name="signature",
    label="申請者署名",
    kind="signature",
    box=box(X0 + LABEL_W + 1, y + 1, 88, 14),
    required=True,
)
rect(150, 252, X1 - 150, 34, 0.3)
text(174, 255.5, "受付印（市記入欄）", 3.0, "mm")
text(X0, 284, "みどり市 子ども育成課　保育係", 3.0)
text(X0, 289, "様式第1号（令和8年度版）", 2.8)

template = {
    "form_id": "nursery_enrolment",
    "version": "2026.1",
    "title": "保育施設等利用申込書（兼 教育・保育給付認定申請書）",
    "page": {"width_mm": W_MM, "height_mm": H_MM},
    "blank": "blank.png",
    "blank_dpi": DPI,
    "fields": fields,
    "vocabularies": {"facilities": FACILITIES},
    "rules": [
        {
            "rule": "class_age",
            "fields": ["child_birth_date", "start_date"],
            "params": {"min": 0, "max": 5, "written": "child_class"},
        },
        {"rule": "min_age_days", "fields": ["child_birth_date", "start_date"]},
        {"rule": "dates_in_order", "fields": ["child_birth_date", "application_date", "start_date"]},
        {
            "rule": "dates_in_order",
            "fields": ["guardian_birth_date", "child_birth_date"],
            "params": {"strict": True},
        },
        {"rule": "postal_matches_address", "fields": ["postal_code", "address"]},
        {"rule": "one_of_required", "fields": ["phone_home", "phone_mobile"]},
    ],
}


def render() -> Image.Image:
    img = Image.new("L", (round(W_MM * PX), round(H_MM * PX)), 255)
    d = ImageDraw.Draw(img)
    fonts: dict[float, ImageFont.FreeTypeFont] = {}
    for x, y, w, h, lw in rects:
        width = max(1, round(lw * PX))
        if w == 0:
            d.line([(x * PX, y * PX), (x * PX, (y + h) * PX)], fill=0, width=width)
        else:
            d.rectangle([x * PX, y * PX, (x + w) * PX, (y + h) * PX], outline=0, width=width)
    for x, y, s in checkboxes:
        d.rectangle([x * PX, y * PX, (x + s) * PX, (y + s) * PX], outline=0, width=max(1, round(0.25 * PX)))
    for x, y, s, size, anchor in texts:
        font = fonts.setdefault(size, ImageFont.truetype(FONT, round(size * PX)))
        if "\n" in s:
            d.multiline_text((x * PX, y * PX), s, font=font, fill=0, anchor=anchor, align="center", spacing=4)
        else:
            d.text((x * PX, y * PX), s, font=font, fill=0, anchor=anchor)
    return img


HEADER = """\
# 保育施設等利用申込書 (nursery enrolment application), みどり市 layout, version 2026.1.
# Written by tools/make_form.py (the recipe for blank.png / blank.pdf); edit the recipe, not this file,
# when the printed layout changes. Boxes are x, y, width, height in mm on the A4 blank.
# Kinds, options, cells and rules are documented in docs/templates.md.
"""

if __name__ == "__main__":
    img = render()
    img.save(HERE / "blank.png", dpi=(DPI, DPI), optimize=True)
    img.convert("RGB").save(HERE / "blank.pdf", "PDF", resolution=DPI)

    class _Flow(yaml.SafeDumper):
        pass

    def _list(dumper, data):
        flow = all(isinstance(v, (int, float)) for v in data)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)

    _Flow.add_representer(list, _list)
    body = yaml.dump(template, Dumper=_Flow, allow_unicode=True, sort_keys=False, width=120)
    (HERE / "template.yaml").write_text(HEADER + body, encoding="utf-8")
    print(f"wrote {len(fields)} fields to {HERE / 'template.yaml'}")
