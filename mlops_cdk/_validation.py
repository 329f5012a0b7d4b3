"""Shared prop validation: one wording for every error, so users learn one shape.

Every message names the owner and the prop, repeats the bad value and says what
is allowed: ``SecureBucket 'abort_incomplete_upload_days': invalid value 0;
allowed: an integer >= 1``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from aws_cdk import Token

EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")


def invalid(owner: str, prop: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{owner} '{prop}': invalid value {value!r}; allowed: {allowed}")


def is_token(value: Any) -> bool:
    """Unresolved CDK values are checked by CloudFormation at deploy time, not here."""
    if isinstance(value, str):
        return Token.is_unresolved(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # NaN and infinities are never tokens, and handing them to jsii kills its node process.
        return math.isfinite(value) and Token.is_unresolved(value)
    return False


def require_int(owner: str, prop: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if is_token(value):
        return value
    ok = isinstance(value, int) and not isinstance(value, bool)
    ok = ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        raise invalid(owner, prop, value, _range("an integer", minimum, maximum))
    return value


def require_number(
    owner: str, prop: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    if is_token(value):
        return value
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if exclusive_minimum else value >= minimum
    ok = ok and (maximum is None or value <= maximum)
    if not ok:
        low = "(" if exclusive_minimum else "["
        allowed = f"a number in {low}{minimum}, {maximum}]" if minimum is not None and maximum is not None else _range(
            "a number", minimum, maximum
        )
        raise invalid(owner, prop, value, allowed)
    return float(value)


def require_choice(owner: str, prop: str, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise invalid(owner, prop, value, " | ".join(choices))
    return value


def require_pattern(owner: str, prop: str, value: Any, pattern: re.Pattern[str], allowed: str) -> str:
    if is_token(value):
        return value
    if not isinstance(value, str) or not pattern.match(value):
        raise invalid(owner, prop, value, allowed)
    return value


def require_emails(owner: str, prop: str, values: Any) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise invalid(owner, prop, values, "a list of e-mail addresses")
    values = tuple(values)
    for email in values:
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise invalid(owner, prop, email, "e-mail addresses like name@example.com")
    return values


def _range(kind: str, minimum: Any, maximum: Any) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} in [{minimum}, {maximum}]"
    if minimum is not None:
        return f"{kind} >= {minimum}"
    if maximum is not None:
        return f"{kind} <= {maximum}"
    return kind
