"""EventBridge Scheduler's recurring schedule expressions, cron() and rate(), as its "Schedule
types" page documents them, and the intervals between their occurrences.

Where the page is silent, Quartz's reading (whose syntax the page's follows) is accepted for
``*/5``, ``a-b/n``, ``nL`` in day-of-week and a day name before ``#``; a reversed range, ``L`` or
``W`` in a list, lower-case names and several spaces are refused, each naming the rule, as the
page writes it, so that no doubtful spelling reaches CreateSchedule unnoticed.

Intervals are counted on the wall clock of the schedule's time zone: across a daylight saving
change a daily schedule stays daily.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise

__all__ = [
    "interval_text",
    "longest_interval",
    "most_occurrences_within",
    "schedule_expression_errors",
    "shortest_interval",
]

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
# The days of a month a day field takes, given the weekday of its 1st (Monday 0) and its length.
_Days = Callable[[int, int], list[int]]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    step: bool = True  # the / wildcard

    def takes(self) -> str:
        names = f" or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"{self.low}-{self.high}{names}"


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS, step=False),
    _Field("year", 1970, 2199),
)
_MINUTES, _HOURS, _DOM, _MONTH, _DOW, _YEAR = _FIELDS


class _Refused(ValueError):
    """A rule of the grammar the expression breaks (the message names it)."""


def _value(field: _Field, token: str) -> int:
    if re.fullmatch(r"[0-9]+", token) and field.low <= int(token) <= field.high:
        return int(token)
    if token in field.names:
        return field.low + field.names.index(token)
    raise _Refused(f"{field.name} takes {field.takes()}, not {token!r}")


def _values(field: _Field, text: str) -> frozenset[int]:
    """A field of values, ranges and increments (`,` `-` `*` `/`)."""
    found: set[int] = set()
    items = text.split(",")
    for item in items:
        base, slash, step = item.partition("/")
        if slash and not field.step:
            raise _Refused(f"{field.name} takes no / (increments)")
        if base == "*":
            if len(items) > 1:
                raise _Refused(f"{field.name}: * stands alone, not in a list")
            low, high = field.low, field.high
        elif "-" in base:
            start, _, end = base.partition("-")
            low, high = _value(field, start), _value(field, end)
            if low > high:
                raise _Refused(f"{field.name}: the range {base!r} ends before it starts")
        else:
            low = _value(field, base)
            high = field.high if slash else low
        increment = 1
        if slash:
            if not re.fullmatch(r"[0-9]+", step) or not 1 <= int(step) <= field.high - field.low:
                raise _Refused(f"{field.name}: the increment of {item!r} must be 1-{field.high - field.low}")
            increment = int(step)
        found.update(range(low, high + 1, increment))
    return frozenset(found)


def _nearest_weekday(day: int, first: int, length: int) -> list[int]:
    """The `W` day: the weekday nearest `day`, within its month (none when the month is shorter);
    `first` is the weekday of the month's 1st (Monday 0)."""
    if day > length:
        return []
    weekday = (first + day - 1) % 7
    if weekday == 5:  # Saturday: the Friday before, or the Monday after the 1st
        return [day - 1 if day > 1 else day + 2]
    if weekday == 6:  # Sunday: the Monday after, or the Friday before the month's last day
        return [day + 1 if day < length else day - 2]
    return [day]


def _on_weekday(weekday: int, first: int, length: int) -> list[int]:
    """The days of a month on EventBridge's day of the week `weekday` (1 SUN to 7 SAT)."""
    return [n for n in range(1, length + 1) if (first + n) % 7 + 1 == weekday]


def _day_of_month(text: str) -> _Days:
    """The days of a month the day-of-month field takes (not ?)."""
    if text == "L":
        return lambda first, length: [length]
    if text.endswith("W"):
        target = _value(_DOM, text[:-1])
        return lambda first, length: _nearest_weekday(target, first, length)
    if re.search(r"[?LW]", text):
        raise _Refused("day-of-month: ?, L and nW stand alone, not in a list or range")
    days = sorted(_values(_DOM, text))
    return lambda first, length: [n for n in days if n <= length]


def _day_of_week(text: str) -> _Days:
    """The days of a month the day-of-week field takes (not ?)."""
    if text == "L":
        text = "7"  # the last day of the week
    if "#" in text:
        day, _, nth = text.partition("#")
        if "," in text or not re.fullmatch(r"[1-5]", nth):
            raise _Refused(f"day-of-week: {text!r}: # takes one day and its instance 1-5 in the month (3#2)")
        weekday = _value(_DOW, day)
        return lambda first, length: _on_weekday(weekday, first, length)[int(nth) - 1 : int(nth)]
    if re.fullmatch(r"[1-7]L", text):
        weekday = int(text[0])
        return lambda first, length: _on_weekday(weekday, first, length)[-1:]
    if re.search(r"[?L#]", text):
        raise _Refused("day-of-week: ?, L and nL stand alone, not in a list or range")
    days = _values(_DOW, text)
    return lambda first, length: [n for n in range(1, length + 1) if (first + n) % 7 + 1 in days]


@lru_cache(maxsize=256)
def _cron_parts(
    body: str, years: Callable[[list[int]], list[int]] = lambda given: given
) -> tuple[list[int], list[int]]:
    """(days, times) of a cron() body: its days as ordinals, in the years `years` keeps of those
    it allows, and its times of day in minutes, both sorted; raises _Refused."""
    fields = body.split(" ")
    if "" in fields:
        raise _Refused("separate cron()'s fields by single spaces")
    if len(fields) != 6:
        raise _Refused(f"cron() takes six fields, not {len(fields)}: minutes hours day-of-month month day-of-week year")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise _Refused("exactly one of day-of-month and day-of-week must be ? (cron(0 5 * * ? *), cron(0 5 ? * MON *))")
    times = sorted(h * 60 + m for h in _values(_HOURS, hours) for m in _values(_MINUTES, minutes))
    days_of = _day_of_week(dow) if dom == "?" else _day_of_month(dom)
    days = [
        date(y, m, n).toordinal()
        for y in years(sorted(_values(_YEAR, year)))
        for m in sorted(_values(_MONTH, month))
        for n in days_of(*calendar.monthrange(y, m))
    ]
    return days, times


def _intervals(expression: str) -> tuple[timedelta, timedelta]:
    """(shortest, longest) interval between two occurrences; raises _Refused."""
    rate = re.fullmatch(r"rate\((.*)\)", expression)
    if rate:
        return (_rate(rate.group(1)),) * 2
    if expression.startswith("at("):
        raise _Refused("at() is a one-time schedule; a recurring rule takes cron(...) or rate(...)")
    cron = re.fullmatch(r"cron\((.*)\)", expression)
    if not cron:
        raise _Refused("must be cron(minutes hours day-of-month month day-of-week year) or rate(value unit)")
    days, times = _cron_parts(cron.group(1))
    if not days:
        raise _Refused("never occurs: no day of 1970-2199 has it")
    if len(days) * len(times) < 2:
        raise _Refused("occurs only once; a recurring rule needs occurrences that repeat")
    gaps = [b - a for a, b in pairwise(times)]
    gaps += [(b - a) * 1440 - times[-1] + times[0] for a, b in pairwise(days)]
    return timedelta(minutes=min(gaps)), timedelta(minutes=max(gaps))


# Beyond this many occurrences laid out, the shortest interval bounds the count instead.
_MAX_LAID_OUT = 400_000
# A year field of every year is laid out over the span and this many years more: the calendar
# repeats within every leap-year phase, so each window the span can take is seen.
_SAMPLE_YEARS = 4


def most_occurrences_within(expression: str, span_seconds: int) -> int:
    """The most occurrences of a valid cron() or rate() expression that fall within any span of
    `span_seconds` ending at one of them: the recovery points a `delete_after` of that span keeps
    at steady state (a point expires once the span after it has passed). Counted on the
    calendar, so a rule on the 1st of each month keeps 12 for a year although its shortest
    interval is 28 days. Raises ValueError naming the rule an invalid expression breaks."""
    shortest = _intervals(expression)[0]
    by_interval = max(1, -(-span_seconds // int(shortest.total_seconds())))
    cron = re.fullmatch(r"cron\((.*)\)", expression)
    if cron is None:
        return by_interval  # rate(): evenly spaced, so exact
    span_years = span_seconds // (365 * 86400) + 1 + _SAMPLE_YEARS

    def sampled(given: list[int]) -> list[int]:
        return given if len(given) <= span_years else given[:span_years]

    days, times = _cron_parts(cron.group(1), sampled)
    if len(days) * len(times) > _MAX_LAID_OUT:
        return by_interval  # an upper bound: no two occurrences are closer than the shortest interval
    points = [day * 86400 + minute * 60 for day in days for minute in times]
    most, earliest = 1, 0
    for index, point in enumerate(points):
        while points[earliest] <= point - span_seconds:
            earliest += 1
        # A span reaching before the first year laid out counts fewer, never more: the most is
        # still found among the spans wholly laid out.
        most = max(most, index - earliest + 1)
    return most


def _rate(body: str) -> timedelta:
    parts = body.split(" ")
    if len(parts) != 2:
        raise _Refused("rate() takes a value and a unit separated by one space: rate(5 minutes)")
    value, unit = parts
    if not re.fullmatch(r"[1-9][0-9]*", value):
        raise _Refused(f"rate(): the value must be a positive whole number, not {value!r}")
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _RATE_UNITS:
        raise _Refused(f"rate(): the unit is minute(s), hour(s) or day(s), not {unit!r}")
    wanted = singular if value == "1" else f"{singular}s"
    if unit != wanted:
        raise _Refused(f"rate(): the unit is singular for 1 and plural otherwise: rate({value} {wanted})")
    return timedelta(seconds=int(value) * _RATE_UNITS[singular])


def schedule_expression_errors(field: str, expression: str) -> list[str]:
    """Every error of a recurring schedule expression (the first rule it breaks), naming `field`."""
    try:
        _intervals(expression)
    except _Refused as refused:
        return [f"{field}: {expression[:80]!r}: {refused}"]
    return []


def shortest_interval(expression: str) -> timedelta:
    """The shortest time between two occurrences of a valid cron() or rate() expression, on the
    wall clock of its time zone. Raises ValueError naming the rule an invalid one breaks."""
    return _intervals(expression)[0]


def longest_interval(expression: str) -> timedelta:
    """The longest time between two occurrences (for cron(0 5 ? * MON-FRI *), three days).
    Raises ValueError naming the rule an invalid one breaks."""
    return _intervals(expression)[1]


def interval_text(interval: timedelta) -> str:
    """An interval in the largest whole unit: "7 days", "1 hour", "90 minutes"."""
    minutes = int(interval.total_seconds()) // 60
    for unit, size in (("day", 1440), ("hour", 60), ("minute", 1)):
        if minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    raise AssertionError("unreachable")  # pragma: no cover
