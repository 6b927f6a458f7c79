"""`shinsei doctor`: why documents are still `processing`, in words (Japanese, then English), and
whether anything will move them on: is a worker answering, is the broker reachable, and for each
document its holder, its age and when the re-queue sweep takes it (pipeline/intake/stuck.py).

With a broker, the broker itself is asked which documents still have a message (the same question
the workers' sweep asks, workers/sweep.py), so a backlog and a lost message are told apart.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pipeline.cli.common import safe_url
from pipeline.intake.stuck import diagnose
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.store.tables import utcnow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="explain documents stuck in `processing` (日本語/English)")
    p.add_argument("--limit", type=int, default=200, help="at most this many documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=doctor)


def _broker_view(settings: Settings, shas: list[str]) -> tuple[set[str] | None, int | None, str | None]:
    """(documents whose message the broker holds, workers answering a ping, a problem) — None where
    unknown. Imports Celery only here, with a broker configured."""
    if not settings.broker_url:
        return None, None, None
    try:
        from workers.app import app
        from workers.sweep import messages_held

        held = messages_held(app, shas, settings.requeue_unstarted_s) if shas else set()
        replies = app.control.ping(timeout=1.5) or []
        return held, len(replies), None
    except Exception as exc:
        return None, None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def doctor(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    in_flight = store.in_flight(limit=args.limit)
    unstarted = [d.sha256 for d in in_flight if d.claimed_by is None]
    held, workers, problem = _broker_view(settings, unstarted)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for d in in_flight:
        dx = diagnose(d, now, settings, None if held is None or d.claimed_by else d.sha256 in held)
        rows.append(
            {
                "id": d.id,
                "sha256": d.sha256,
                "file": d.source_name,
                "state": dx.state,
                "holder": d.claimed_by,
                "age_s": round(dx.age_s, 1),
                "requeue_in_s": None if dx.requeue_in_s is None else round(dx.requeue_in_s, 1),
                "starts": d.task_attempts,
                "ja": dx.ja,
                "en": dx.en,
            }
        )
    if args.json:
        print(
            json.dumps({"workers": workers, "broker_problem": problem, "documents": rows}, ensure_ascii=False)
        )
        return 0
    if settings.broker_url:
        if problem:
            print(f"ブローカー（Redis {safe_url(settings.broker_url)}）に接続できません: {problem}")
            print("  the broker cannot be reached; documents wait until it is back (nothing is lost).")
        elif workers == 0:
            print("作業プロセスが1つも応答しません。`shinsei worker` を起動してください。")
            print("  no worker answers: start one (`shinsei worker`); until then nothing is processed.")
        else:
            print(f"作業プロセス {workers} 個が応答しています。 / {workers} worker(s) answering.")
    else:
        print("ブローカーなし（組み込みモード）: `shinsei run` / `watch` が自分で処理します。")
        print("  no broker (embedded mode): `shinsei run` and `watch` process files themselves.")
    if not rows:
        print("処理中の書類はありません。 / no document is in `processing`.")
        return 0
    print(f"処理中の書類 {len(rows)} 件 / {len(rows)} document(s) in `processing`:")
    for r in rows:
        print(f"\n  #{r['id']} {r['file']}  [{r['state']}]  sha256 {r['sha256'][:12]}…  starts {r['starts']}")
        print(f"    {r['ja']}")
        print(f"    {r['en']}")
    return 0
