"""Errors that cross stage boundaries.

Every error carries a stable `reason` code (shown to clerks next to a translated message) and
an `exit_code` for the CLI. Messages never contain a 個人番号 or other field values.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    bad_args = 2
    input_file = 3
    template = 4
    transient = 5
    business_rule = 6
    delivery_uncertain = 7
    internal = 15


class ShinseiError(Exception):
    exit_code: ExitCode = ExitCode.internal
    reason: str = "internal_error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        return self.message


class InputFileError(ShinseiError):
    """The file cannot be processed: it is quarantined with `reason`."""

    exit_code = ExitCode.input_file
    reason = "unreadable_file"


class TemplateError(ShinseiError):
    """A form template is invalid. `problems` lists every problem as `file:line:col key: msg`."""

    exit_code = ExitCode.template
    reason = "template_invalid"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        full = message if not self.problems else message + "\n" + "\n".join("  " + p for p in self.problems)
        super().__init__(full)


class TransientError(ShinseiError):
    """A temporary failure (database locked, broker down); retrying later may succeed."""

    exit_code = ExitCode.transient
    reason = "transient"


class BusinessRuleError(ShinseiError):
    exit_code = ExitCode.business_rule
    reason = "business_rule"


class DeliveryUncertain(ShinseiError):
    """A delivery to a legacy system may or may not have arrived (a timeout after sending): the
    record must not be sent again until someone checks. Reserved for the delivery adapters (the
    outbox work); nothing raises it yet."""

    exit_code = ExitCode.delivery_uncertain
    reason = "delivery_uncertain"
