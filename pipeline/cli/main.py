"""`shinsei` entry point: parse, build Settings, call the command, map errors to exit codes once."""

from __future__ import annotations

import argparse
import logging
import sys

from pipeline.cli import (
    batch_cmd,
    doctor_cmd,
    failed_cmd,
    read_cmd,
    records_cmd,
    run_cmd,
    template_cmd,
    watch_cmd,
    worker_cmd,
)
from pipeline.errors import ShinseiError
from pipeline.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shinsei", description="Scanned applications in, validated records out.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    sub = p.add_subparsers(dest="command", required=True)
    for mod in (run_cmd, read_cmd, template_cmd, records_cmd, worker_cmd, watch_cmd, failed_cmd, batch_cmd):
        mod.register(sub)
    doctor_cmd.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args, get_settings()))
    except ShinseiError as exc:
        if args.verbose:
            raise
        print(f"shinsei: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("shinsei: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
