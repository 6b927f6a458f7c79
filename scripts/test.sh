#!/usr/bin/env bash
# Set up, start the services the tests talk to (Redis, PostgreSQL, MariaDB) if they are not answering,
# then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
.venv/bin/python -m pytest "$@"
