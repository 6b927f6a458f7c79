"""Adapters: where accepted records leave shinsei for another system.

A target is a YAML profile (`pipeline/targets.py` reads and checks it; `profile.py` renders a record
for it) naming one adapter (`registry.py`): a cp932 or UTF-8 CSV file (`csv_target.py`, also the
one CSV writer behind `shinsei export` and the nightly export, through `export.py`), a fixed-width
file (`fixed_width.py`), a database table (`sql.py`) or an old web screen keyed by a browser
(`rpa_web.py`). The outbox (`pipeline/store/outbox.py`) holds one row per record and target; the
relay (`pipeline/intake/relay.py`) sends them through these adapters.
"""
