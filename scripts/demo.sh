#!/usr/bin/env bash
# Set up, then run shinsei on the bundled sample scans with embedded defaults (SQLite, in-process,
# no Redis). Results go to ./data/demo; it ends by saying how to look around.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SHINSEI_DATA_DIR=${SHINSEI_DATA_DIR:-$PWD/data/demo}
.venv/bin/shinsei run samples/demo
.venv/bin/shinsei status
cat <<EOF

To look around, in this folder ($PWD):
  source .venv/bin/activate          # puts \`shinsei\` and the project's Python first on PATH
  export SHINSEI_DATA_DIR=$SHINSEI_DATA_DIR
  shinsei status
  shinsei show doc_0001.png
EOF
