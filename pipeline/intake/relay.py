"""The relay: sends the outbox's pending deliveries through their adapters, verifies each by
reading it back, and reconciles deliveries whose outcome is unknown. It runs in-process
(`shinsei outbox run`, embedded mode) or as the Celery `deliver` task on the `delivery` queue.

One round for a target (`run_once`):
  1. sending rows whose sender is gone (lease over) become unknown;
  2. unknown rows are reconciled: the target is searched by idempotency key; found → delivered,
     not found → pending (never re-sent blindly); delivered rows not yet verified are verified;
  3. a batch of due pending rows is claimed (sending), each rendered for the target (外字, widths,
     code tables; a refusal sends the document back to review and writes nothing), and a row that
     was tried before is first looked up in the target, so a record is never keyed twice;
  4. the rest are sent; transient failures are retried with exponential backoff (tenacity), and
     after the last try the row waits `delivery_retry_after_s` as pending;
  5. each receipt is stored, then the record is read back and compared field by field: equal →
     verified, different → failed with the differences (an alert, not a silent success).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from pipeline.adapters.base import Adapter, DeliveryRejected, Receipt, Rendered, UnencodableError
from pipeline.adapters.profile import render
from pipeline.adapters.registry import open_adapter
from pipeline.errors import DeliveryUncertain, TransientError
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.outbox import Delivery, Outbox

log = logging.getLogger("shinsei.delivery")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class RelayStats:
    claimed: int = 0
    delivered: int = 0
    verified: int = 0
    rejected: int = 0
    failed: int = 0
    retry_later: int = 0
    unknown: int = 0
    reconciled_found: int = 0
    reconciled_missing: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: RelayStats) -> None:
        for k, v in vars(other).items():
            if isinstance(v, int):
                setattr(self, k, getattr(self, k) + v)
        self.errors += other.errors

    def export(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "errors"} | {"errors": self.errors[-10:]}


class Relay:
    def __init__(self, store: Store, settings: Settings, *, actor: str = "delivery") -> None:
        self.store = store
        self.settings = settings
        self.outbox = Outbox(store)
        self.actor = actor
        self.worker = worker_id()
        self._adapters: dict[str, Adapter] = {}

    def adapter(self, target: str) -> Adapter:
        if target not in self._adapters:
            self._adapters[target] = open_adapter(target, self.settings)
        return self._adapters[target]

    def close(self) -> None:
        for a in self._adapters.values():
            a.close()
        self._adapters.clear()

    def _retrying(self) -> Retrying:
        return Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self.settings.delivery_retry_attempts),
            wait=wait_exponential(multiplier=0.5, max=self.settings.delivery_retry_wait_max_s),
            reraise=True,
        )

    # --- rounds ---

    def targets(self) -> list[str]:
        names = list(self.settings.delivery_targets)
        for t in self.outbox.targets_with(("pending", "sending", "unknown", "delivered")):
            if t not in names:
                names.append(t)
        return names

    def drain(self, targets: Sequence[str] | None = None, *, max_rounds: int = 1_000_000) -> RelayStats:
        """Rounds until no target has a due pending row (rows waiting for a retry stay)."""
        total = RelayStats()
        for _ in range(max_rounds):
            round_ = RelayStats()
            for t in targets or self.targets():
                round_.add(self.run_once(t))
            total.add(round_)
            if round_.claimed == 0:
                break
        return total

    def run_once(self, target: str) -> RelayStats:
        stats = self.reconcile(target, stale_after_s=self.settings.delivery_lease_s)
        adapter = self.adapter(target)
        rows = self.outbox.claim(target, adapter.profile.batch_size, self.worker)
        stats.claimed = len(rows)
        if not rows:
            return stats
        records = self.outbox.records(rows)
        to_send: list[tuple[Delivery, Rendered]] = []
        for d in rows:
            rec = records.get(d.id)
            if rec is None:
                self.outbox.failed(d.id, "the document or page is gone from the store")
                stats.failed += 1
                continue
            try:
                rendered = render(rec, adapter.profile)
            except DeliveryRejected as exc:
                items = [u.export() for u in exc.items] if isinstance(exc, UnencodableError) else None
                self.outbox.rejected(d.id, exc.message, items, self.actor, exc.reason)
                stats.rejected += 1
                log.warning("delivery %s to %s refused: %s", d.key, target, exc.reason)
                continue
            if d.attempts > 0:  # tried before: it may be there already; look before sending again
                try:
                    found = self._retrying()(adapter.find, d.key)
                except TransientError as exc:
                    self.outbox.retry_later(d.id, str(exc), self.settings.delivery_retry_after_s)
                    stats.retry_later += 1
                    continue
                if found is not None:
                    self._delivered(adapter, [(d, rendered, found)], stats)
                    continue
            to_send.append((d, rendered))
        if getattr(adapter, "batched", False):  # one file for the whole claim
            try:
                outcomes = list(self._retrying()(adapter.deliver_batch, [r for _, r in to_send]))
            except Exception as exc:
                outcomes = [exc] * len(to_send)
            self._outcomes(adapter, list(zip(to_send, outcomes, strict=True)), stats)
        else:  # one by one, each receipt stored as soon as it is read: a crash strands one record
            for d, rendered in to_send:
                try:
                    out: Receipt | BaseException = self._retrying()(adapter.deliver, rendered)
                except Exception as exc:  # one record's failure is that record's outcome only
                    out = exc
                self._outcomes(adapter, [((d, rendered), out)], stats)
        return stats

    def _outcomes(
        self,
        adapter: Adapter,
        items: Sequence[tuple[tuple[Delivery, Rendered], Receipt | BaseException]],
        stats: RelayStats,
    ) -> None:
        done: list[tuple[Delivery, Rendered, Receipt]] = []
        for (d, rendered), out in items:
            if isinstance(out, Receipt):
                done.append((d, rendered, out))
            else:
                self._failure(d, out, stats)
        self._delivered(adapter, done, stats)

    def _failure(self, d: Delivery, exc: BaseException, stats: RelayStats) -> None:
        msg = str(exc) or type(exc).__name__
        if isinstance(exc, DeliveryRejected):
            self.outbox.rejected(d.id, msg, None, self.actor, exc.reason)
            stats.rejected += 1
        elif isinstance(exc, TransientError):
            self.outbox.retry_later(d.id, msg, self.settings.delivery_retry_after_s)
            stats.retry_later += 1
        elif isinstance(exc, DeliveryUncertain):
            self.outbox.unknown(d.id, msg)
            stats.unknown += 1
        else:
            self.outbox.failed(d.id, f"{type(exc).__name__}: {msg}")
            stats.failed += 1
        stats.errors.append(f"{d.key}: {type(exc).__name__}: {msg}")
        log.warning("delivery %s to %s: %s: %s", d.key, d.target, type(exc).__name__, msg)

    def _delivered(
        self, adapter: Adapter, done: Sequence[tuple[Delivery, Rendered, Receipt]], stats: RelayStats
    ) -> None:
        if not done:
            return
        self.outbox.delivered(
            [
                (d.id, rc.export(), r.stored(), [u.export() for u in r.unencodable] or None)
                for d, r, rc in done
            ],
            self.actor,
        )
        stats.delivered += len(done)
        self._verify(adapter, [(d.id, r, rc) for d, r, rc in done], stats)

    def _verify(
        self, adapter: Adapter, items: Sequence[tuple[int, Rendered, Receipt]], stats: RelayStats
    ) -> None:
        ok: list[int] = []
        for did, rendered, receipt in items:
            try:
                diffs = self._retrying()(adapter.verify, rendered, receipt)
            except TransientError as exc:  # stays delivered; the next reconcile verifies it
                stats.errors.append(f"{rendered.key}: verify later: {exc}")
                continue
            if diffs:
                # Column names only: values would put personal data in every `outbox list`.
                cols = ", ".join(x.column for x in diffs)
                self.outbox.failed(did, f"read-back differs from what was sent in: {cols}")
                stats.failed += 1
                log.error(
                    "delivery %s to %s: read-back differs (%d columns)",
                    rendered.key,
                    adapter.name,
                    len(diffs),
                )
            else:
                ok.append(did)
        if ok:
            self.outbox.verified(ok)
            stats.verified += len(ok)

    # --- reconcile ---

    def reconcile(self, target: str | None = None, *, stale_after_s: float | None = None) -> RelayStats:
        """Settle unknown deliveries by reading the target (found → delivered and verified; not
        found → pending), and verify delivered ones not verified yet. `stale_after_s`: first turn
        sending rows older than this into unknown (default: the configured lease)."""
        stats = RelayStats()
        lease = self.settings.delivery_lease_s if stale_after_s is None else stale_after_s
        self.outbox.sweep_stale(lease, target)
        for state in ("unknown", "delivered"):
            rows = self.outbox.list(state=state, target=target, limit=100_000)
            if not rows:
                continue
            records = self.outbox.records(rows)
            for d in rows:
                adapter = self.adapter(d.target)
                rec = records.get(d.id)
                try:
                    rendered = render(rec, adapter.profile) if rec is not None else None
                    if state == "unknown":
                        found = self._retrying()(adapter.reconcile, d.key)
                        if found is None:
                            self.outbox.not_found(d.id)
                            stats.reconciled_missing += 1
                            continue
                        self.outbox.found(d.id, found.export(), self.actor)
                        stats.reconciled_found += 1
                        receipt = found
                    else:
                        receipt = Receipt(str((d.receipt or {}).get("ref", "")), d.receipt or {})
                    if rendered is not None:
                        self._verify(adapter, [(d.id, rendered, receipt)], stats)
                except (TransientError, DeliveryRejected) as exc:
                    stats.errors.append(f"{d.key}: {exc}")
        return stats

    # --- dry run ---

    def preview(self, target: str, limit: int = 50) -> list[tuple[Delivery, list[tuple[str, str]] | str]]:
        """What the next batch would send to `target`, column by column, without sending or
        claiming anything; a record that would be refused shows the reason instead."""
        adapter = self.adapter(target)
        rows = self.outbox.list(state="pending", target=target, limit=limit)
        records = self.outbox.records(rows)
        out: list[tuple[Delivery, list[tuple[str, str]] | str]] = []
        for d in rows:
            rec = records.get(d.id)
            if rec is None:
                out.append((d, "document missing"))
                continue
            try:
                out.append((d, adapter.preview(render(rec, adapter.profile))))
            except DeliveryRejected as exc:
                out.append((d, f"refused: {exc.message}"))
        return out


def run_forever(relay: Relay, targets: Sequence[str] | None, interval_s: float = 2.0) -> None:
    """`shinsei outbox run --watch`: drain, sleep, repeat (a crash loses at most the rows in flight,
    which the next start reconciles)."""
    while True:
        stats = relay.drain(targets)
        if stats.claimed:
            log.info("delivery round: %s", stats.export())
        time.sleep(interval_s)
