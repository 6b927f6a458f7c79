#!/usr/bin/env bash
# Set up shinsei on a fresh Debian/Ubuntu machine: system packages (when root), then a virtual
# environment in .venv with pinned Python packages. Safe to run again; it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the review page's browser tests, the RPA delivery target and its tests;
# mariadb-server: the SQL target's MariaDB tests.
# fonts-*: the sample generator's handwriting (kanji and kana; Latin digit fonts).
APT_PACKAGES=(poppler-utils fonts-ipafont-gothic fonts-seto fonts-kiloji fonts-yozvox-yozfont fonts-klee
    fonts-bwht fonts-dkg-handwriting fonts-femkeklaver fonts-humor-sans fonts-comic-neue fonts-rufscript
    fonts-kristi fonts-kaushanscript redis-server chromium mariadb-server)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "setup: installing system packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: these system packages are missing; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup: Python 3.11 or newer is needed ($PY is $($PY --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.shinsei-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  # setuptools warns on every editable install about same-named folders; ours is the project itself.
  PYTHONWARNINGS="ignore:Editable installation" .venv/bin/pip install -q -e ".[dev]"
  touch "$stamp"
fi
