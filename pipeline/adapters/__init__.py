"""Delivery of accepted records into the city's legacy systems.

A target is a YAML profile (`profiles/`, `profile.py`) naming one adapter (`registry.py`): a cp932 or
UTF-8 CSV file (`csv_target.py`), a fixed-width file (`fixed_width.py`), a database table (`sql.py`) or
an old web screen keyed by a browser (`rpa_web.py`). The outbox (`pipeline/store/outbox.py`) holds one
row per record and target; the relay (`pipeline/relay.py`) sends them through these adapters.
"""
