"""How often a schedule fires in an average month: ``rate()``, ``cron()`` and ``at()`` expressions.

A month is 730 hours (8760 / 12, what AWS's pricing pages use). Only the *number* of firings
matters for cost, so a cron expression is counted field by field rather than evaluated
against a calendar: firings per day (minutes x hours) x days per month x months per year / 12.
Days of the month 29-31 count for the share of months that have them; a day of the week
for 730 / 24 / 7 = 4.35 weeks; ``L``, ``W`` and ``#`` forms (last day, nearest weekday,
n-th weekday) for one day a month. The year field is ignored (a schedule limited to some
years is counted as running every month while it runs). Time zones do not change the count.

:func:`share_between` (how long a fleet stays scaled in between two schedules) does need a
calendar: it places both schedules on the days of 2027-2028.
"""

from __future__ import annotations

import datetime

from .._validation import invalid

HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7
_OWNER = "runs_per_month"
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEK_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # EventBridge: 1 = SUN ... 7 = SAT
_RATE_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}
# Share of months that have day 29, 30, 31 (February has a 29th one year in four).
_LONG_DAY_SHARE = {29: (11 + 0.25) / 12, 30: 11 / 12, 31: 7 / 12}


def runs_per_month(expression: str) -> float:
    """Firings of an EventBridge (Scheduler) or Model Monitor schedule expression in a 730-hour month."""
    text = expression.strip() if isinstance(expression, str) else ""
    if text.startswith("at(") and text.endswith(")"):
        return 0.0  # one time: nothing recurring
    if text.startswith("rate(") and text.endswith(")"):
        return _rate(expression, text[5:-1].split())
    if text.startswith("cron(") and text.endswith(")"):
        return _cron(expression, text[5:-1].split())
    raise invalid(_OWNER, "expression", expression, "rate(N unit), cron(six fields) or at(...)")


def _rate(expression: str, parts: list[str]) -> float:
    unit = parts[1].rstrip("s") if len(parts) == 2 else ""
    if unit not in _RATE_HOURS or not parts[0].isdigit() or int(parts[0]) < 1:
        raise invalid(_OWNER, "expression", expression, "rate(N minutes|hours|days) with N >= 1")
    return HOURS_PER_MONTH / (int(parts[0]) * _RATE_HOURS[unit])


def _cron(expression: str, fields: list[str]) -> float:
    if len(fields) != 6:
        raise invalid(_OWNER, "expression", expression, "cron(minutes hours day-of-month month day-of-week year)")
    minute, hour, day, month, week_day, _year = fields
    if (day == "?") == (week_day == "?"):
        raise invalid(_OWNER, "expression", expression, "'?' in exactly one of day-of-month and day-of-week")
    per_day = len(_values(expression, minute, 0, 59)[0]) * len(_values(expression, hour, 0, 23)[0])
    if week_day == "?":
        days, specials = _values(expression, day, 1, 31, special=("L", "W"))
        per_month = sum(_LONG_DAY_SHARE.get(d, 1.0) for d in days) + specials
    else:
        days, specials = _values(expression, week_day, 1, 7, names=_WEEK_DAYS, special=("L", "#"))
        per_month = len(days) * WEEKS_PER_MONTH + specials
    months = len(_values(expression, month, 1, 12, names=_MONTHS)[0])
    return per_day * per_month * months / 12


def share_between(start: str, end: str) -> float | None:
    """The share of time from a firing of ``start`` to the next firing of ``end`` (off hours between a scale-in
    and the next scale-out): measured over the 52 weeks from Monday 2028-01-03 on the calendar (whole weeks, so
    a weekly pattern comes out exact), after 2027 settled the state.

    ``None`` when a schedule uses a form this count does not place on a calendar (``L``, ``W``, ``#``).
    Both schedules share a time zone, so the share does not depend on it (daylight saving aside).
    """
    starts, ends = _firings(start), _firings(end)
    if starts is None or ends is None:
        return None
    events = sorted([(t, True) for t in starts] + [(t, False) for t in ends])
    year_start, year_end = _minute(datetime.date(2028, 1, 3)), _minute(datetime.date(2029, 1, 1))
    off, since, total = False, year_start, 0
    for time, begins in events:
        if year_start <= time < year_end and off:
            total += time - max(since, year_start)
        if time >= year_end:
            break
        off, since = (begins, time) if begins != off else (off, since)
    if off:
        total += year_end - max(since, year_start)
    return total / (year_end - year_start)


def _firings(expression: str) -> list[int] | None:
    """Minutes (since 2027-01-01) at which a cron expression fires in 2027-2028; ``None``: cannot place it."""
    fields = expression.strip()[5:-1].split() if expression.strip().startswith("cron(") else []
    if len(fields) != 6:
        raise invalid(_OWNER, "expression", expression, "cron(minutes hours day-of-month month day-of-week year)")
    minute, hour, day, month, week_day, _year = fields
    minutes, hours = _values(expression, minute, 0, 59)[0], _values(expression, hour, 0, 23)[0]
    months = _values(expression, month, 1, 12, names=_MONTHS)[0]
    days, specials = (_values(expression, week_day, 1, 7, names=_WEEK_DAYS, special=("L", "#")) if day == "?"
                      else _values(expression, day, 1, 31, special=("L", "W")))
    if specials:
        return None
    found: list[int] = []
    date = datetime.date(2027, 1, 1)
    while date.year < 2029:
        weekday = date.isoweekday() % 7 + 1  # EventBridge: 1 = Sunday
        if date.month in months and (weekday if day == "?" else date.day) in days:
            found += [_minute(date) + h * 60 + m for h in sorted(hours) for m in sorted(minutes)]
        date += datetime.timedelta(days=1)
    return found


def _minute(date: datetime.date) -> int:
    return (date - datetime.date(2027, 1, 1)).days * 1440


def _values(expression: str, field: str, low: int, high: int, names: tuple[str, ...] = (),
            special: tuple[str, ...] = ()) -> tuple[set[int], int]:
    """The values a cron field matches, and how many once-a-month forms (``L``, ``15W``, ``6#3``) it has."""
    values: set[int] = set()
    specials = 0
    for part in field.upper().split(","):
        if any(mark in part for mark in special) and part not in ("*", "?"):
            specials += 1
            continue
        base, _, step_text = part.partition("/")
        step = _number(expression, step_text, 1, high - low + 1) if step_text else 1
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(expression, first, low, high, names), _number(expression, last, low, high, names)
        else:
            start = _number(expression, base, low, high, names)
            end = high if step_text else start
        if start > end:
            raise invalid(_OWNER, "expression", expression, f"ranges from low to high ({field!r})")
        values.update(range(start, end + 1, step))
    return values, specials


def _number(expression: str, text: str, low: int, high: int, names: tuple[str, ...] = ()) -> int:
    if text in names:
        return names.index(text) + 1
    if not text.isdigit() or not low <= int(text) <= high:
        raise invalid(_OWNER, "expression", expression, f"cron field values in [{low}, {high}] ({text!r})")
    return int(text)


__all__ = ["DAYS_PER_MONTH", "HOURS_PER_MONTH", "WEEKS_PER_MONTH", "runs_per_month", "share_between"]
