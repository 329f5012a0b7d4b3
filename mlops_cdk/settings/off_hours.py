"""Off-hours scaling of an autoscaled endpoint: a smaller fleet outside working hours, as plain data.

Two Application Auto Scaling scheduled actions on the variant's scalable target
(``AWS::ApplicationAutoScaling::ScalableTarget.ScheduledActions``): at ``scale_in``
the target's minimum *and* maximum go to ``capacity``, so target tracking cannot
scale back out overnight; at ``scale_out`` they return to the autoscaling minimum
and maximum. ``scale_in`` on weekday evenings and ``scale_out`` on weekday
mornings also covers the weekend (Friday evening to Monday morning).

Schedules are Application Auto Scaling cron expressions: ``cron(<minutes> <hours>
<day-of-month> <month> <day-of-week> <year>)``, six fields, ``?`` in exactly one of
the two day fields (the EventBridge cron syntax, which the Application Auto Scaling
user guide refers to), evaluated in ``time_zone`` (an IANA name such as
``Europe/Berlin``; Application Auto Scaling takes the IANA zones Joda-Time knows).
Only ``cron()``: ``rate()`` has no time of day and ``at()`` happens once, neither
describes working hours.

A classic (non inference-component) variant keeps at least one instance, so
``capacity`` is at least 1 and saves only what runs above it: a one-instance dev
endpoint saves nothing (serverless inference is the saving there).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from .._validation import invalid
from ._base import Settings

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (field, lowest, highest, names standing for 1.., the field's special items: the forms the EventBridge
# cron reference documents, "L" (last day), "3W" (weekday nearest the 3rd), "3#2" (second Tuesday))
_FIELDS = (
    ("minutes", 0, 59, (), ""),
    ("hours", 0, 23, (), ""),
    ("day-of-month", 1, 31, (), r"L|(?P<n>\d{1,2})W"),
    ("month", 1, 12, _MONTHS, ""),
    ("day-of-week", 1, 7, _DAYS, r"L|(?P<n>\d)#[1-5]"),
    ("year", 1970, 2199, (), ""),
)
_CRON_RE = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_ZONE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
CRON_ALLOWED = ("cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>): six fields separated by "
                "single spaces, '?' in exactly one day field, e.g. cron(0 19 ? * MON-FRI *)")


def cron_problem(expression: Any) -> str | None:
    """Why ``expression`` is not an Application Auto Scaling ``cron()`` expression, or None if it is."""
    match = _CRON_RE.match(expression) if isinstance(expression, str) else None
    fields = match.group("fields").split(" ") if match else []
    if len(fields) != 6 or not all(fields):
        return CRON_ALLOWED
    for text, (name, low, high, names, special) in zip(fields, _FIELDS):
        if text == "?" and name in ("day-of-month", "day-of-week"):
            continue
        for item in text.split(","):
            problem = _item_problem(item, low, high, names, special)
            if problem:
                return f"{CRON_ALLOWED}; {name} {item!r}: {problem}"
    if "#" in fields[4] and "," in fields[4]:
        return f"{CRON_ALLOWED}; day-of-week {fields[4]!r}: a '#' item stands alone (EventBridge cron reference)"
    if (fields[2] == "?") == (fields[4] == "?"):
        return f"{CRON_ALLOWED}; '?' must be in exactly one of day-of-month ({fields[2]!r}) and day-of-week " \
               f"({fields[4]!r})"
    return None


def _item_problem(item: str, low: int, high: int, names: tuple[str, ...], special: str) -> str | None:
    value = r"\d{1,4}" + "".join(f"|{n}" for n in names)
    plain = re.fullmatch(rf"(\*|(?P<a>{value})(-(?P<b>{value}))?)(/(?P<step>\d{{1,4}}))?", item)
    extra = re.fullmatch(special, item) if special and not plain else None
    if plain is None and extra is None:
        return f"values {low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "") + \
            ", ranges a-b, steps x/n, '*'" + (" or the field's L/W/# forms" if special else "")
    if plain is not None and plain.group("step") is not None and int(plain.group("step")) < 1:
        return "a step of at least 1"
    found = (plain.group("a"), plain.group("b")) if plain is not None else (extra.groupdict().get("n"),)
    for text in filter(None, found):
        number = names.index(text) + 1 if text in names else int(text) if text.isdigit() else None
        if number is None or not low <= number <= high:
            return f"values in {low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
    return None


@functools.lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    """The host's IANA time zones (empty where Python finds no tz database: only the name's shape is checked)."""
    try:
        return frozenset(zoneinfo.available_timezones())
    except (OSError, ValueError):  # pragma: no cover - depends on the host
        return frozenset()


@dataclasses.dataclass(frozen=True)
class OffHoursScaling(Settings):
    """Scale an autoscaled variant to ``capacity`` at ``scale_in``, back to its autoscaling range at ``scale_out``.

    Attributes:
        scale_in: when off hours begin (default weekdays 19:00).
        scale_out: when working hours begin (default weekdays 07:00).
        time_zone: the IANA zone of both schedules (default ``UTC``: set your own).
        capacity: instances outside working hours, minimum and maximum alike (default 1, at least 1,
            at most the autoscaling minimum: off hours never run more than working hours).
    """

    scale_in: str = "cron(0 19 ? * MON-FRI *)"
    scale_out: str = "cron(0 7 ? * MON-FRI *)"
    time_zone: str = "UTC"
    capacity: int = 1

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        for key in ("scale_in", "scale_out"):
            problem = cron_problem(values[key])
            if problem:
                raise invalid(owner, f"{path}{key}", values[key], problem)
        if values["scale_in"] == values["scale_out"]:
            raise invalid(owner, f"{path}scale_out", values["scale_out"], "a schedule other than scale_in's")
        zone, known = values["time_zone"], _known_zones()
        if not isinstance(zone, str) or not _ZONE_RE.match(zone) or (known and zone not in known):
            close = difflib.get_close_matches(zone, known, n=1) if isinstance(zone, str) else []
            raise invalid(owner, f"{path}time_zone", zone, "an IANA time zone name such as UTC, Europe/Berlin or "
                          "America/New_York" + (f" (did you mean {close[0]!r}?)" if close else ""))
        capacity = values["capacity"]
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise invalid(owner, f"{path}capacity", capacity,
                          "an integer >= 1 (an endpoint variant keeps at least one instance; scaling to zero "
                          "needs inference components)")


__all__ = ["CRON_ALLOWED", "OffHoursScaling", "cron_problem"]
