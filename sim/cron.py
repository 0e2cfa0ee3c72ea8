"""Cron schedules as the CronJob controller reads them: models github.com/robfig/cron/v3
(``ParseStandard`` and ``SpecSchedule.Next``), the library kube-controller-manager and the
API server's validation use.

A schedule is five fields - minute, hour, day of month, month, day of week - or a
descriptor (``@yearly``/``@annually``, ``@monthly``, ``@weekly``, ``@daily``/``@midnight``,
``@hourly``, ``@every <Go duration>``). A field is a comma list of ``*`` (or ``?``), ``a``,
``a-b``, each optionally ``/step``; ``a/step`` means ``a-max/step``; months and weekdays
also take names (``jan``, ``sun``). Weekdays run 0-6 from Sunday (7 is refused, as
upstream refuses it). When both day fields are restricted a day matches either of them;
when one is ``*`` (or ``?``), both must match - so ``*/2`` in a day field, which clears the
star, turns that into "either".

Times are Unix seconds (floats). ``Schedule.next(t)`` is the first matching whole second
strictly after ``t``, searched in the schedule's time zone wall clock (daylight-saving
transitions as Go's ``time`` package handles them) for at most five years; None if there is
none (upstream's zero time, e.g. ``0 0 30 2 *``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CronError", "Every", "Schedule", "SpecSchedule", "load_location", "parse_go_duration",
           "parse_standard"]

STAR = 1 << 63
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                            "oct", "nov", "dec"))}
_DOWS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}


class CronError(ValueError):
    """A schedule upstream's parser refuses; the message is upstream's."""


@dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int] | None = None


MINUTES, HOURS, DOM, MONTHS, DOW = (_Bounds(0, 59), _Bounds(0, 23), _Bounds(1, 31), _Bounds(1, 12, _MONTHS),
                                    _Bounds(0, 6, _DOWS))


def _bits(low: int, high: int, step: int) -> int:
    return sum(1 << i for i in range(low, high + 1, step))


def _all(b: _Bounds) -> int:
    return _bits(b.low, b.high, 1) | STAR


def _go_atoi(expr: str) -> int:
    """strconv.Atoi as the parser uses it (an optional sign, then decimal digits)."""
    if not re.fullmatch(r"[+-]?[0-9]+", expr):
        raise CronError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax')
    num = int(expr)
    if num < 0:
        raise CronError(f"negative number ({num}) not allowed: {expr}")
    return num


def _int_or_name(expr: str, names: dict[str, int] | None) -> int:
    if names is not None and expr.lower() in names:
        return names[expr.lower()]
    return _go_atoi(expr)


def _range(expr: str, b: _Bounds) -> int:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    extra = 0
    if low_high[0] in ("*", "?"):
        start, end, extra = b.low, b.high, STAR
    else:
        start = _int_or_name(low_high[0], b.names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], b.names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _go_atoi(range_and_step[1])
        if len(low_high) == 1:  # "N/step" means "N-max/step"
            end = b.high
        if step > 1:
            extra = 0
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < b.low:
        raise CronError(f"beginning of range ({start}) below minimum ({b.low}): {expr}")
    if end > b.high:
        raise CronError(f"end of range ({end}) above maximum ({b.high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return _bits(start, end, step) | extra


def _field(text: str, b: _Bounds) -> int:
    bits = 0
    for expr in (part for part in text.split(",") if part):
        bits |= _range(expr, b)
    return bits


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_NUMBER = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
_GO_UNIT = re.compile(r"[^0-9.]*")


def parse_go_duration(text: str) -> float:
    """Go's ``time.ParseDuration`` in seconds ("1h30m", "90s", "1.5h", "-2m"); ValueError with
    Go's message if invalid."""
    invalid = ValueError(f'time: invalid duration "{text}"')
    body = text[1:] if text[:1] in ("+", "-") else text
    if body == "0":
        return 0.0
    if not body:
        raise invalid
    pos, total = 0, 0.0
    while pos < len(body):
        if not (body[pos] == "." or body[pos].isdigit()):
            raise invalid
        number = _GO_NUMBER.match(body, pos)
        assert number is not None
        whole, fraction = number.group(1), number.group(2)
        if not whole and not fraction:
            raise invalid
        pos = number.end()
        unit = _GO_UNIT.match(body, pos)
        assert unit is not None
        name = unit.group(0)
        if not name:
            raise ValueError(f'time: missing unit in duration "{text}"')
        if name not in _GO_UNITS:
            raise ValueError(f'time: unknown unit "{name}" in duration "{text}"')
        total += float(f"{whole or 0}.{fraction or 0}") * _GO_UNITS[name]
        pos = unit.end()
    return -total if text.startswith("-") else total


@lru_cache(maxsize=64)
def load_location(name: str) -> ZoneInfo | None:
    """time.LoadLocation: "" and "UTC" are UTC; None if the zone is unknown ("Local" included:
    kube-controller-manager's own zone, UTC in its usual container image, is what "" means)."""
    if name in ("", "UTC"):
        return ZoneInfo("UTC")
    if name == "Local" or name.startswith("/") or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _go_date(naive: datetime, loc: ZoneInfo) -> datetime:
    """A wall time in ``loc`` as Go's ``time.Date`` resolves it: the offset in effect at the
    wall time read as UTC, corrected once if the resulting instant has another offset. In a
    spring-forward gap this lands an hour *earlier* than Python's fold=0 (02:30 -> 01:30)."""
    local = naive.replace(tzinfo=UTC).timestamp()
    offset = _offset(local, loc)
    utc = local - offset
    corrected = _offset(utc, loc)
    if corrected != offset:
        utc = local - corrected
    return datetime.fromtimestamp(utc, loc)


def _offset(unix: float, loc: ZoneInfo) -> float:
    delta = datetime.fromtimestamp(unix, loc).utcoffset()
    return delta.total_seconds() if delta is not None else 0.0


class Schedule:
    """A parsed schedule: ``next(t)`` is its first activation after Unix time ``t``."""

    def next(self, t: float) -> float | None:
        raise NotImplementedError


@dataclass(frozen=True)
class Every(Schedule):
    """``@every <duration>``: a constant delay, whole seconds (at least 1), from ``t`` truncated
    to its second."""

    delay: int

    def next(self, t: float) -> float | None:
        return math.floor(t) + self.delay


@dataclass(frozen=True)
class SpecSchedule(Schedule):
    """Bit sets per field (bit 63 marks a ``*``), evaluated in ``zone`` (seconds always 0)."""

    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    zone: str = "UTC"

    def _day_matches(self, wall: datetime) -> bool:
        dom_match = bool(1 << wall.day & self.dom)
        dow_match = bool(1 << (wall.isoweekday() % 7) & self.dow)
        if self.dom & STAR or self.dow & STAR:
            return dom_match and dow_match
        return dom_match or dow_match

    def next(self, t: float) -> float | None:
        loc = load_location(self.zone)
        assert loc is not None  # checked when parsed
        ts = math.floor(t) + 1  # the upcoming whole second
        wall = datetime.fromtimestamp(ts, loc)
        added = False
        year_limit = wall.year + 5

        def date_in(y: int, mo: int, d: int, h: int = 0) -> datetime:
            """time.Date(y, mo, d, h, 0, 0, 0, loc), normalising overflow as Go does."""
            day = date(y + (mo - 1) // 12, (mo - 1) % 12 + 1, 1) + timedelta(days=d - 1)
            return _go_date(datetime(day.year, day.month, day.day, h), loc)

        def add(dt: datetime, seconds: int) -> datetime:  # Time.Add: an absolute duration
            return datetime.fromtimestamp(dt.timestamp() + seconds, loc)

        while True:  # WRAP
            if wall.year > year_limit:
                return None
            wrapped = False
            while not (1 << wall.month & self.month):
                if not added:
                    added = True
                    wall = date_in(wall.year, wall.month, 1)
                wall = date_in(wall.year, wall.month + 1, 1)
                if wall.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self._day_matches(wall):
                if not added:
                    added = True
                    wall = date_in(wall.year, wall.month, wall.day)
                wall = date_in(wall.year, wall.month, wall.day + 1, wall.hour)
                if wall.hour != 0:  # a daylight-saving shift moved midnight
                    wall = add(wall, 3600 * (24 - wall.hour) if wall.hour > 12 else -3600 * wall.hour)
                if wall.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << wall.hour & self.hour):
                if not added:
                    added = True
                    wall = date_in(wall.year, wall.month, wall.day, wall.hour)
                wall = add(wall, 3600)
                if wall.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << wall.minute & self.minute):
                if not added:
                    added = True
                    wall = datetime.fromtimestamp(wall.timestamp() // 60 * 60, loc)
                wall = add(wall, 60)
                if wall.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while wall.second != 0:  # the seconds field of a standard schedule is 0
                if not added:
                    added = True
                wall = add(wall, 1)
                if wall.second == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            return wall.timestamp()


_DESCRIPTORS = {
    "@yearly": (1, 1, 1 << 1, 1 << 1, _all(DOW)),
    "@annually": (1, 1, 1 << 1, 1 << 1, _all(DOW)),
    "@monthly": (1, 1, 1 << 1, _all(MONTHS), _all(DOW)),
    "@weekly": (1, 1, _all(DOM), _all(MONTHS), 1 << 0),
    "@daily": (1, 1, _all(DOM), _all(MONTHS), _all(DOW)),
    "@midnight": (1, 1, _all(DOM), _all(MONTHS), _all(DOW)),
    "@hourly": (1, _all(HOURS), _all(DOM), _all(MONTHS), _all(DOW)),
}


def parse_standard(spec: str, zone: str = "UTC") -> Schedule:
    """cron.ParseStandard (with an optional ``TZ=``/``CRON_TZ=`` prefix, which the controller
    adds for ``spec.timeZone``); raises ``CronError`` with upstream's message."""
    if not spec:
        raise CronError("empty spec string")
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        if space < 0:
            raise CronError("invalid schedule format: runtime error: slice bounds out of range")
        zone = spec[spec.index("=") + 1:space]
        if load_location(zone) is None:
            raise CronError(f"provided bad location {zone}: unknown time zone {zone}")
        spec = spec[space:].strip()
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return SpecSchedule(*_DESCRIPTORS[spec], zone=zone)
        if spec.startswith("@every "):
            try:
                seconds = parse_go_duration(spec[len("@every "):])
            except ValueError as exc:
                raise CronError(f"failed to parse duration {spec}: {exc}") from None
            return Every(max(1, int(seconds)))
        raise CronError(f"unrecognized descriptor: {spec}")
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    minute, hour, dom, month, dow = (_field(f, b) for f, b in zip(fields, (MINUTES, HOURS, DOM, MONTHS, DOW),
                                                                  strict=True))
    return SpecSchedule(minute, hour, dom, month, dow, zone)
