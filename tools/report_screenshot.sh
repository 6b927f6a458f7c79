#!/usr/bin/env bash
# Recipe for docs/img/report.png: seed a store with bench/report_speed.py (3,000 documents over 30
# days, review and delivery tables included), write its morning report, and photograph the top of
# the HTML page with headless Chromium (Debian's `chromium`; scripts/setup.sh with
# SHINSEI_WITH_BROWSER=1 installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python bench/report_speed.py --n 3000 --days 30 --shared --keep "$work" >/dev/null
mkdir -p docs/img
/usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --window-size=1100,1900 \
  --screenshot="$PWD/docs/img/report.png" "file://$work/report-sqlite/report.html" 2>/dev/null
echo "docs/img/report.png"
