"""Fixed-width target: one record per line, every column exactly `width` bytes in the target
encoding (a full-width character is 2 bytes in cp932, 3 in UTF-8). Shorter values are padded
(`align` left pads on the right, right pads on the left, with `fill`; a 2-byte fill such as a
full-width space that does not fit the last odd byte is finished with one ASCII space). A value
longer than its width is an error raised by `render` before anything is written: never truncated.

One file per batch, atomic, with a manifest (`files.write_batch`); the receipt is `file:line`.
Options: `dir` (as for CSV), `record_separator` ("\r\n"; "" for records back to back), `suffix`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.adapters import files
from pipeline.adapters.base import Difference, Receipt, Rendered
from pipeline.adapters.profile import ColumnSpec, TargetProfile, byte_len


def pad(text: str, spec: ColumnSpec, encoding: str) -> bytes:
    width = spec.width or 0
    data = text.encode(encoding)
    if len(data) > width:  # render() refuses these first; this guards direct callers
        raise ValueError(f"{spec.column}: {len(data)} bytes do not fit {width}")
    fill = spec.fill.encode(encoding)
    room = width - len(data)
    filler = fill * (room // len(fill)) + b" " * (room % len(fill))
    return data + filler if spec.align == "left" else filler + data


def line_width(profile: TargetProfile) -> int:
    return sum(c.width or 0 for c in profile.columns)


def record_bytes(profile: TargetProfile, values: Sequence[str]) -> bytes:
    return b"".join(pad(v, c, profile.encoding) for c, v in zip(profile.columns, values, strict=True))


class FixedWidthAdapter(files.BatchFileAdapter):
    kind = "fixed_width"
    _cache: tuple[tuple[Path, int, int], bytes] | None = None

    @property
    def separator(self) -> bytes:
        return str(self.profile.option("record_separator", "\r\n")).encode("ascii")

    def batch_bytes(self, records: Sequence[Rendered]) -> tuple[bytes, int, dict[str, Any]]:
        lines = [record_bytes(self.profile, [f.as_sent for f in r.fields]) for r in records]
        sep = self.separator
        extra = {"encoding": self.profile.encoding, "record_bytes": line_width(self.profile)}
        return sep.join(lines) + sep, 1, extra

    def _slices(self, receipt: Receipt) -> dict[str, bytes] | None:
        name, line = files.parse_ref(receipt.ref)
        path = self.out_dir / name
        if not path.is_file():
            return None
        sep = self.separator
        stat = path.stat()
        stamp = (path, stat.st_mtime_ns, stat.st_size)
        if self._cache is None or self._cache[0] != stamp:  # read once per batch file, not per record
            self._cache = (stamp, path.read_bytes())
        raw = self._cache[1]
        if sep:
            lines = raw.split(sep)
            rec = lines[line - 1] if 0 < line <= len(lines) else None
        else:
            w = line_width(self.profile)
            rec = raw[(line - 1) * w : line * w] or None
        if rec is None or len(rec) != line_width(self.profile):
            return None
        out, pos = {}, 0
        for c in self.profile.columns:
            out[c.column] = rec[pos : pos + (c.width or 0)]
            pos += c.width or 0
        return out

    def read_back(self, receipt: Receipt) -> dict[str, str] | None:
        """Each column decoded and its padding stripped."""
        slices = self._slices(receipt)
        if slices is None:
            return None
        out = {}
        for c in self.profile.columns:
            text = slices[c.column].decode(self.profile.encoding)
            strip = c.fill + " "
            out[c.column] = text.rstrip(strip) if c.align == "left" else text.lstrip(strip)
        return out

    def verify(self, rendered: Rendered, receipt: Receipt) -> list[Difference]:
        """Byte for byte per column: the padded value sent against the bytes in the file (padding
        is compared too, so a zero-filled "05" is not mistaken for "5")."""
        slices = self._slices(receipt)
        if slices is None:
            return [Difference("*", "record", None)]
        diffs = []
        for c, f in zip(self.profile.columns, rendered.fields, strict=True):
            want = pad(f.as_sent, c, self.profile.encoding)
            got = slices[c.column]
            if want != got:
                shown = "*" if f.secret else got.decode(self.profile.encoding, errors="replace")
                diffs.append(Difference(c.column, "*" if f.secret else f.as_sent, shown))
        return diffs


__all__ = ["FixedWidthAdapter", "byte_len", "pad", "record_bytes"]
