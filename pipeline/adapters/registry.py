"""Adapters by name: a profile's `adapter:` picks the class. `open_adapter(name, settings)` loads
the profile (`pipeline.targets.target_profile`: with `settings.delivery_options[name]` over its options) and builds the adapter."""

from __future__ import annotations

from pipeline.adapters.base import Adapter
from pipeline.settings import Settings
from pipeline.targets import target_profile


def adapter_class(kind: str) -> type[Adapter]:
    # Imported on demand: the RPA adapter pulls in Playwright, the SQL one database drivers.
    if kind == "csv":
        from pipeline.adapters.csv_target import CsvAdapter

        return CsvAdapter
    if kind == "fixed_width":
        from pipeline.adapters.fixed_width import FixedWidthAdapter

        return FixedWidthAdapter
    if kind == "sql":
        from pipeline.adapters.sql import SqlAdapter

        return SqlAdapter
    if kind == "rpa_web":
        from pipeline.adapters.rpa_web import RpaWebAdapter

        return RpaWebAdapter
    raise ValueError(f"no adapter {kind!r} (known: csv, fixed_width, sql, rpa_web)")


def open_adapter(name: str, settings: Settings) -> Adapter:
    profile = target_profile(name, settings)
    return adapter_class(profile.adapter)(profile, settings)
