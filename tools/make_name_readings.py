"""Recipe for `lexicons/name_readings.json.gz`: readings of Japanese family and given names.

    apt-get download mecab-ipadic && dpkg -x mecab-ipadic_*.deb /tmp/ipadic
    python -m tools.make_name_readings /tmp/ipadic/usr/share/mecab/dic/ipadic

Takes the 人名 entries (姓 and 名) of IPAdic's `Noun.name.csv` (EUC-JP; the IPA dictionary
licence allows redistribution with its notice, kept in the output) and writes, per written form,
its katakana readings, likeliest first (IPAdic's word cost). The フリガナ reader looks names up in
this table; a table of a few MB in memory is much lighter than running MeCab.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "pipeline" / "fields" / "lexicons" / "name_readings.json.gz"
NOTICE = (
    "Readings of person names from IPAdic 2.7.0 (Noun.name.csv, Debian package mecab-ipadic). "
    "Copyright 2000-2007 Nara Institute of Science and Technology; IPA dictionary licence: "
    "redistribution and use permitted with this notice."
)


def main(src: Path) -> None:
    tables: dict[str, dict[str, list[tuple[int, str]]]] = {"姓": defaultdict(list), "名": defaultdict(list)}
    with open(src / "Noun.name.csv", encoding="euc_jp", newline="") as f:
        for row in csv.reader(f):
            surface, cost, sub, reading = row[0], int(row[3]), row[7], row[11]
            if sub in tables and reading and reading != "*":
                tables[sub][surface].append((cost, reading))
    out = {
        "notice": NOTICE,
        "family": {k: [r for _, r in sorted(set(v))] for k, v in sorted(tables["姓"].items())},
        "given": {k: [r for _, r in sorted(set(v))] for k, v in sorted(tables["名"].items())},
    }
    for part in ("family", "given"):  # one reading once, in cost order
        out[part] = {k: list(dict.fromkeys(v)) for k, v in out[part].items()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0) as g:
        g.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode())
    print(f"wrote {OUT}: {len(out['family'])} family names, {len(out['given'])} given names")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
