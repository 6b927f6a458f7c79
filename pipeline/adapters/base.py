"""The adapter contract, and the records that cross it.

A `DeliveryRecord` is one accepted application (one identified page of a document) with its final
values. `profile.render()` turns it into a `Rendered` record for one target: every column's value
"as written" (in shinsei) and "as sent" (what the target will hold, after code tables, date formats
and the target encoding). An `Adapter` sends `Rendered` records and hands back a `Receipt`.

The contract (RFC 2119 terms):

- `deliver(rendered)` SHALL either return a `Receipt` naming where the record now is in the target
  (file and line, row id, the legacy system's 受付番号), or raise. It SHALL raise `TargetRejected`
  when the target refused the record for a reason a person must fix (its message, in the target's
  words, goes to review), `TransientError` when trying again later may succeed and nothing was
  stored, and `DeliveryUncertain` when the record may or may not have been stored. It SHALL NOT
  write anything when rendering found an unencodable character under the `review` policy (render
  raises first).
- `deliver_batch(records)` MAY group records (one file per batch); it SHALL return one outcome per
  record, in order. The default calls `deliver` for each.
- `read_back(receipt)` SHALL return the record as the target holds it now (column → text), or None
  when the receipt points at nothing. `verify(rendered, receipt)` compares that field by field; a
  difference is reported, never ignored.
- `find(key)` SHALL search the target by the idempotency key and return the existing receipt, or
  None. `reconcile(row)` uses it for a delivery whose outcome is unknown; an adapter SHALL NOT send
  a record again without first calling `find` when a previous attempt may have reached the target.
- `close()` SHOULD release connections and browsers; adapters MAY be reused for many records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.errors import BusinessRuleError
from pipeline.result import DeliveryRecord

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.targets import TargetProfile

MY_NUMBER_KIND = "my_number"


@dataclass(frozen=True)
class Unencodable:
    """A character the target's encoding cannot hold, found in `field` (a shinsei field name)."""

    field: str
    column: str
    char: str

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"

    def export(self) -> dict[str, str]:
        return {"field": self.field, "column": self.column, "char": self.char, "codepoint": self.codepoint}


@dataclass(frozen=True)
class SentField:
    column: str  # the target's name for it (CSV header, table column, input name)
    source: str  # the shinsei field (or `key`, `document_id`, ...)
    as_written: str  # shinsei's value as text, before code tables and encoding
    as_sent: str  # what the target receives (and should hand back on read-back)
    flags: tuple[str, ...] = ()  # "substituted" (〓 for a character the target cannot hold), "folded"
    secret: bool = False  # a 個人番号: never logged or stored in clear by the outbox


@dataclass(frozen=True)
class Rendered:
    record: DeliveryRecord
    target: str
    fields: tuple[SentField, ...]
    unencodable: tuple[Unencodable, ...] = ()

    @property
    def key(self) -> str:
        return self.record.key

    def values(self) -> dict[str, str]:
        return {f.column: f.as_sent for f in self.fields}

    def stored(self) -> list[dict[str, Any]]:
        """As written and as sent per column, for the outbox row (個人番号 masked)."""
        out = []
        for f in self.fields:
            w, s = (_mask(f.as_written), _mask(f.as_sent)) if f.secret else (f.as_written, f.as_sent)
            item: dict[str, Any] = {"column": f.column, "source": f.source, "as_written": w, "as_sent": s}
            if f.flags:
                item["flags"] = list(f.flags)
            out.append(item)
        return out


def _mask(value: str) -> str:
    return "*" * max(0, len(value) - 4) + value[-4:] if len(value) > 4 else "*" * len(value)


@dataclass(frozen=True)
class Receipt:
    """Where a delivered record is: `ref` is the target's own reference (file:line, row id, 受付番号)."""

    ref: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def export(self) -> dict[str, Any]:
        return {"ref": self.ref, **dict(self.detail)}


@dataclass(frozen=True)
class Difference:
    column: str
    sent: str | None
    found: str | None

    def __str__(self) -> str:
        return f"{self.column}: sent {self.sent!r}, target holds {self.found!r}"


class DeliveryRejected(BusinessRuleError):
    """The record cannot go to this target as it stands; the document goes back to review with
    `message`. Nothing was written to the target."""

    reason = "delivery_rejected"


class UnencodableError(DeliveryRejected):
    reason = "unencodable_character"

    def __init__(self, target: str, items: Sequence[Unencodable]) -> None:
        self.items = tuple(items)
        names = "、".join(f"{u.field}の「{u.char}」({u.codepoint})" for u in self.items)
        super().__init__(f"送信先 {target} の文字コードで表せない文字があります: {names}")


class TruncationError(DeliveryRejected):
    reason = "value_too_long"


class TargetRejected(DeliveryRejected):
    """The target itself refused the record (its validation message, in its own words)."""

    reason = "target_rejected"


Outcome = Receipt | BaseException


class Adapter(ABC):
    """One target. Built from its profile; see the module docstring for the contract."""

    kind: str = ""

    def __init__(self, profile: TargetProfile, settings: Settings) -> None:
        self.profile = profile
        self.settings = settings

    @property
    def name(self) -> str:
        return self.profile.name

    @abstractmethod
    def deliver(self, rendered: Rendered) -> Receipt: ...

    def deliver_batch(self, records: Sequence[Rendered]) -> list[Outcome]:
        out: list[Outcome] = []
        for r in records:
            try:
                out.append(self.deliver(r))
            except Exception as exc:  # one record's failure must not hide the others' receipts
                out.append(exc)
        return out

    @abstractmethod
    def read_back(self, receipt: Receipt) -> dict[str, str] | None: ...

    @abstractmethod
    def find(self, key: str) -> Receipt | None: ...

    def verify(self, rendered: Rendered, receipt: Receipt) -> list[Difference]:
        """Compare the target's copy with what was sent; [] when they agree column by column."""
        found = self.read_back(receipt)
        if found is None:
            return [Difference("*", "record", None)]
        diffs = []
        for f in rendered.fields:
            got = found.get(f.column)
            if got != f.as_sent:
                shown = (_mask(f.as_sent), _mask(got or "")) if f.secret else (f.as_sent, got)
                diffs.append(Difference(f.column, *shown))
        return diffs

    def reconcile(self, key: str) -> Receipt | None:
        """For a delivery whose outcome is unknown: the receipt if the target has the record."""
        return self.find(key)

    def preview(self, rendered: Rendered) -> list[tuple[str, str]]:
        """What `deliver` would send, column by column (個人番号 masked), without sending it."""
        return [(f.column, _mask(f.as_sent) if f.secret else f.as_sent) for f in rendered.fields]

    def close(self) -> None:  # noqa: B027 - adapters without resources need nothing
        pass

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
