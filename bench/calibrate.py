"""Per-kind thresholds on generated pages, printed and not written: a dry run of the recipe.

    python bench/calibrate.py [--n 300] [--seed 7301] [--dir /tmp/fitcal]

Runs `tools/fit_calibration.py` (same options) with its output sent to a temporary file, so the
committed `pipeline/fields/calibration.json` is left alone; see that recipe for what is fitted.
To change the product's maps and thresholds, run the recipe itself and commit its file.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import fit_calibration  # noqa: E402


def main() -> int:
    out = Path(tempfile.mkdtemp(prefix="shinsei-cal-")) / "calibration.json"
    sys.argv = [sys.argv[0], *sys.argv[1:], "--out", str(out)]
    return fit_calibration.main()


if __name__ == "__main__":
    raise SystemExit(main())
