"""Calibrate per-kind confidence thresholds on generated pages (training fonts, its own seed).

    python bench/calibrate.py [--n 80] [--seed 5] [--target 0.005]

For each field kind, the lowest threshold whose error rate among fields at or above it (and
without blocking issues) stays at or under `target` is printed, with the share it would accept.
Copy the result into `pipeline/route.py: DEFAULT_THRESHOLDS` (or set SHINSEI_CONFIDENCE_BY_KIND).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import generate, load_gt, page_options, same, work_dir  # noqa: E402
from pipeline.route import blocking  # noqa: E402
from pipeline.run import Engine, process_file  # noqa: E402
from pipeline.settings import Settings  # noqa: E402


def main() -> int:
    ap = page_options(__doc__, n=80, seed=5)
    ap.add_argument("--target", type=float, default=0.005)
    args = ap.parse_args()
    work = work_dir(args, "cal")
    files = generate(work, args.n, args.seed, profile="mixed", fonts="train")
    engine = Engine.load(Settings(reference_date=dt.date(2026, 11, 26)))
    samples: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for file in files:
        gt = load_gt(file)
        doc = process_file(file, engine).result
        for page, gpage in zip(doc.pages, gt["pages"], strict=False):
            for f in page.fields:
                if blocking(f.issues):
                    continue
                samples[f.kind].append((f.confidence, same(f.value, gpage["values"][f.name])))
    print(
        f"\nthresholds for error among accepted <= {args.target:.1%} ({len(files)} pages, seed {args.seed})\n"
    )
    print(f"{'kind':<14}{'n':>6}{'threshold':>11}{'accepts':>9}{'err':>8}")
    best: dict[str, float] = {}
    for kind, rows in sorted(samples.items()):
        rows.sort(key=lambda r: -r[0])
        chosen, acc, err = 1.01, 0, 0.0
        wrong = 0
        for i, (conf, ok) in enumerate(rows, 1):
            wrong += not ok
            # Only cut where the confidence changes, so ties are accepted or refused together.
            if (i == len(rows) or rows[i][0] < conf) and wrong / i <= args.target:
                chosen, acc, err = conf, i, wrong / i
        best[kind] = round(min(chosen, 1.0), 3)
        print(f"{kind:<14}{len(rows):>6}{best[kind]:>11.3f}{acc / len(rows):>9.1%}{err:>8.2%}")
    print("\n" + json.dumps(best, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
