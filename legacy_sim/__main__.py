"""`python -m legacy_sim --port 8800 --db legacy.sqlite3 [--session-timeout 600] [--slow-rate 0.05]`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from legacy_sim.app import SimConfig, serve


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="legacy-sim", description="a legacy back-office screen for RPA")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8800)
    p.add_argument("--db", type=Path, default=Path("legacy-sim.sqlite3"), help="its own SQLite file")
    p.add_argument("--user", default="operator")
    p.add_argument("--password", default="legacy")
    p.add_argument("--session-timeout", type=float, default=600.0, help="seconds of inactivity")
    p.add_argument("--slow-rate", type=float, default=0.0, help="share of responses that are slow (0..1)")
    p.add_argument("--slow-s", type=float, default=2.0, help="how slow a slow response is")
    p.add_argument("--submit-delay", type=float, default=0.0, help="seconds between storing and answering")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("-q", "--quiet", action="store_true")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if a.quiet else logging.INFO, format="legacy-sim %(message)s")
    cfg = SimConfig(
        db=a.db,
        user=a.user,
        password=a.password,
        session_timeout_s=a.session_timeout,
        slow_rate=a.slow_rate,
        slow_s=a.slow_s,
        submit_delay_s=a.submit_delay,
        seed=a.seed,
    )
    serve(a.host, a.port, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
