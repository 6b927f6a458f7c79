"""`shinsei` entry point: parse, build Settings, call the command, map errors to exit codes once."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from pipeline.cli import (
    batch_cmd,
    doctor_cmd,
    failed_cmd,
    outbox_cmd,
    read_cmd,
    records_cmd,
    report_cmd,
    run_cmd,
    template_cmd,
    watch_cmd,
    web_cmd,
    worker_cmd,
)
from pipeline.errors import ShinseiError
from pipeline.memory import keep_freed_pages
from pipeline.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shinsei", description="Scanned applications in, validated records out.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    sub = p.add_subparsers(dest="command", required=True)
    for mod in (
        run_cmd,
        read_cmd,
        template_cmd,
        records_cmd,
        worker_cmd,
        watch_cmd,
        failed_cmd,
        batch_cmd,
        report_cmd,
        web_cmd,
        outbox_cmd,
    ):
        mod.register(sub)
    doctor_cmd.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    keep_freed_pages()  # page-sized arrays reused, not faulted in afresh (pipeline/memory.py)
    present = list(logging.getLogger().handlers)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Pillow logs every TIFF tag at DEBUG (hundreds of lines a page): -v is for shinsei's own steps.
    logging.getLogger("PIL").setLevel(logging.WARNING)
    if not args.verbose:  # a traceback in a log record (the per-file guard's) only with -v
        for handler in set(logging.getLogger().handlers) - set(present):  # ours, not a host's
            handler.setFormatter(_FirstLine(handler.formatter))
    try:
        code = int(args.func(args, get_settings()))
        sys.stdout.flush()  # inside the try: a closed pipe shows here, not as a warning at exit
        return code
    except BrokenPipeError:
        # `shinsei status | head`: the reader left; stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except ShinseiError as exc:
        if args.verbose:
            raise
        print(f"shinsei: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("shinsei: interrupted", file=sys.stderr)
        return 130


class _FirstLine(logging.Formatter):
    """Shows a record's first line only (and no exception text); `-v` shows the rest."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        first, _, rest = text.partition("\n")
        return first + ("  (details with -v)" if rest else "")


if __name__ == "__main__":
    sys.exit(main())
