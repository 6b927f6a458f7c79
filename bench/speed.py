"""Pages per minute and peak memory for one process on 300 dpi single-page input.

    python bench/speed.py [--n 40] [--seed 99] [--dir DIR]

Generates N pages as PNG and the same N as PDF, loads the engine once, then times the whole
pipeline per file (ingest, align, read, validate, route; no database). Prints a table. The
process keeps freed page-sized memory for reuse (`pipeline.memory.keep_freed_pages`), as
`shinsei` and the workers do.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import generate, page_options, work_dir  # noqa: E402
from pipeline.memory import keep_freed_pages  # noqa: E402
from pipeline.run import Engine, process_file  # noqa: E402
from pipeline.settings import Settings  # noqa: E402


def main() -> int:
    ap = page_options(__doc__, n=40, seed=99)
    args = ap.parse_args()
    work = work_dir(args, "speed")
    rows = []
    keep_freed_pages()
    t_load = time.monotonic()
    engine = Engine.load(Settings())
    t_load = time.monotonic() - t_load
    for fmt in ("png", "pdf"):
        files = generate(work / fmt, args.n, args.seed, profile="mild", fonts="train", formats=fmt)
        process_file(files[0], engine)  # warm-up
        t0 = time.monotonic()
        pages = 0
        for f in files:
            pages += len(process_file(f, engine).result.pages)
        dt = time.monotonic() - t0
        rows.append((fmt.upper(), pages, dt, pages / dt * 60))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nshinsei speed: one process, {Settings().ocr_threads} ONNX threads, 300 dpi A4 single pages\n")
    print(f"{'input':<6}{'pages':>7}{'seconds':>9}{'pages/min':>11}{'s/page':>8}")
    for fmt, pages, dt, ppm in rows:
        print(f"{fmt:<6}{pages:>7}{dt:>9.1f}{ppm:>11.1f}{dt / pages:>8.2f}")
    print(f"\nmodel + templates load {t_load:.2f} s; peak RSS {rss_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
