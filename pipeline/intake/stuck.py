"""Why a document is still `processing`, and when the queue will move it on: one `Diagnosis` per
`InFlight` document, in words a clerk can act on (Japanese, with the English beside it), for
`shinsei status` and `shinsei doctor`.

The states follow the re-queue rules of `jobs.requeue_stuck` (run by every worker on start and
every `requeue_every_s`):

    running        a claim whose lease still holds: its process is alive and beating
    holder_gone    a claim whose lease ran out, or whose process (on this machine) is gone: queued
                   again at the next sweep
    queued         never started, queued less than `requeue_unstarted_s` ago
    waiting        never started for longer, and the broker still holds its message (a backlog)
    lost           never started for longer, and the broker holds no message for it (a Redis
                   restart, a crash between recording and queueing): queued again at the next sweep
    failed         a failed task is recorded: left to `shinsei failed retry` (or the nightly batch)

`held` (whether the broker holds its message) is asked by the caller, which may reach the broker;
None when unknown (then an unstarted document past `requeue_unstarted_s` is `waiting_or_lost`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.intake.jobs import holder_gone, this_host
from pipeline.settings import Settings
from pipeline.store import InFlight


@dataclass(frozen=True)
class Diagnosis:
    state: str
    age_s: float  # since it was (last) queued, or since its claim when it is running
    requeue_in_s: float | None  # at most this long before a sweep queues it again; None: not planned
    ja: str
    en: str


def _s(x: float) -> str:
    return f"{max(0, round(x))}"


def diagnose(d: InFlight, now: datetime, settings: Settings, held: bool | None = None) -> Diagnosis:
    every, lease = settings.requeue_every_s, settings.claim_lease_s
    if d.failed_task:
        age = (now - d.submitted_at).total_seconds() if d.submitted_at else 0.0
        return Diagnosis(
            "failed",
            age,
            None,
            "処理が失敗として記録されています。`shinsei failed list` で原因を確かめ、"
            "直してから `shinsei failed retry` で再実行してください（一時的なエラーは夜間バッチでも再試行されます）。",
            "a failed task is recorded: see `shinsei failed list`, then `shinsei failed retry` "
            "(transient failures are also retried by the nightly batch).",
        )
    if d.claimed_by is not None:
        age = (now - d.claimed_at).total_seconds() if d.claimed_at else 0.0
        left = (d.lease_until - now).total_seconds() if d.lease_until else 0.0
        if left > 0 and not holder_gone(d.claimed_by, this_host(settings)):
            return Diagnosis(
                "running",
                age,
                left + every,
                f"作業プロセス {d.claimed_by} が処理中です（開始から{_s(age)}秒）。"
                f"応答が{_s(lease)}秒途絶えると、自動で別の作業プロセスに回されます。",
                f"being processed by {d.claimed_by} for {_s(age)} s; should it stop answering for "
                f"{_s(lease)} s, it is queued again automatically.",
            )
        return Diagnosis(
            "holder_gone",
            age,
            every,
            f"処理していた作業プロセス {d.claimed_by} が{_s(max(0.0, -left))}秒前から応答しません（停止したとみられます）。"
            f"{_s(every)}秒以内に自動で再投入されます。それを過ぎても変わらない場合は、"
            "作業プロセス（`shinsei worker`）が1つも動いていない可能性があります。",
            f"its process {d.claimed_by} stopped answering {_s(max(0.0, -left))} s ago (it died); it is queued "
            f"again within {_s(every)} s. If it is not, no worker is running (`shinsei worker`).",
        )
    age = (now - d.submitted_at).total_seconds() if d.submitted_at else float("inf")
    unstarted = settings.requeue_unstarted_s
    if age < unstarted:
        return Diagnosis(
            "queued",
            age,
            unstarted - age + every,
            f"順番待ちです（{_s(age)}秒前に投入）。",
            f"queued {_s(age)} s ago, waiting for a worker.",
        )
    if held:
        return Diagnosis(
            "waiting",
            age,
            None,
            f"順番待ちです（{_s(age)}秒前に投入、キューにメッセージがあります）。"
            "長く続く場合は作業プロセスが足りないか、動いていません。",
            f"queued {_s(age)} s ago and its message is in the queue: a backlog; if it lasts, "
            "workers are too few or none is running.",
        )
    if held is None:
        return Diagnosis(
            "waiting_or_lost",
            age,
            every,
            f"{_s(age)}秒前に投入され、まだ始まっていません。キューにメッセージがなければ"
            f"{_s(every)}秒以内に自動で再投入されます（`shinsei doctor` で確かめられます）。",
            f"queued {_s(age)} s ago and not started; if the broker lost its message it is queued "
            f"again within {_s(every)} s (`shinsei doctor` checks the broker).",
        )
    return Diagnosis(
        "lost",
        age,
        every,
        f"{_s(age)}秒前に投入されましたが、キューにメッセージがありません（Redis の再起動などで失われました）。"
        f"{_s(every)}秒以内に自動で再投入されます。",
        f"queued {_s(age)} s ago but the broker holds no message for it (lost in a Redis restart or "
        f"a crash); it is queued again within {_s(every)} s.",
    )
