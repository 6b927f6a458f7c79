#!/usr/bin/env bash
# Set up, then run shinsei on the bundled sample scans with embedded defaults (SQLite, in-process,
# no Redis). Results go to ./data/demo; run `.venv/bin/shinsei status` afterwards to look around.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SHINSEI_DATA_DIR=${SHINSEI_DATA_DIR:-data/demo}
.venv/bin/shinsei run samples/demo
.venv/bin/shinsei status
