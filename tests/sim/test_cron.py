"""Cron schedules (sim/cron.py) against github.com/robfig/cron/v3, the parser upstream uses.

tests/data/robfig_cron/next.json was written by the Go program beside it with the real
library: for ~60 schedules (descriptors, steps, names, both day fields, February 29th and
31st, schedules in time zones over their daylight-saving changes, and invalid ones) its
parse error or the next three activations after 14 start times.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sim.cron import CronError, Every, parse_go_duration, parse_standard

ROWS = json.loads((Path(__file__).parents[1] / "data" / "robfig_cron" / "next.json").read_text())


def _unix(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize("spec", sorted({r["spec"] for r in ROWS}))
def test_every_schedule_answers_as_robfig_cron_does(spec: str) -> None:
    """Same parse error text, or the same next three activations from every start time."""
    rows = [r for r in ROWS if r["spec"] == spec]
    if "error" in rows[0]:
        with pytest.raises(CronError) as err:
            parse_standard(spec)
        assert str(err.value) == rows[0]["error"]
        return
    schedule = parse_standard(spec)
    for row in rows:
        got, t = [], row["from"]
        for _ in range(3):
            t = schedule.next(t)
            got.append(-1 if t is None else t)
            if t is None:
                break
        assert got == row["next"], (spec, row["from"])


def test_fixture_covers_what_matters() -> None:
    """The Go fixture has invalid schedules, a daylight-saving gap and a never-matching date."""
    specs = {r["spec"] for r in ROWS}
    assert {"0 0 30 2 *", "TZ=America/New_York 30 2 * * *", "* * * * 7", "@every 90s"} <= specs
    assert sum("error" in r for r in ROWS) >= 15
    assert len(ROWS) > 500


def test_worked_examples() -> None:
    """Hand-checked: 02:30 New York on 2026-03-08 does not exist (clocks jump 02:00 -> 03:00),
    so that day has no run: the hour search steps from 01:00 EST to 03:00 EDT. The next run is
    02:30 EDT on the 9th. In autumn 01:15 exists twice, and runs twice (EDT, then EST)."""
    nightly = parse_standard("TZ=America/New_York 30 2 * * *")
    assert nightly.next(_unix("2026-03-08T05:00:00")) == _unix("2026-03-09T06:30:00")  # 02:30 EDT
    autumn = parse_standard("TZ=America/New_York 15 1 * * *")
    first = autumn.next(_unix("2026-11-01T04:00:00"))  # midnight EDT
    assert first == _unix("2026-11-01T05:15:00")  # 01:15 EDT
    assert autumn.next(first) == _unix("2026-11-01T06:15:00")  # 01:15 EST, an hour later
    assert autumn.next(autumn.next(first)) == _unix("2026-11-02T06:15:00")
    assert parse_standard("0 0 29 2 *").next(_unix("2026-03-01T00:00:00")) == _unix("2028-02-29T00:00:00")
    assert parse_standard("0 0 30 2 *").next(0) is None  # no 30 February within five years: zero time
    weekday_or_13th = parse_standard("0 12 13 * 5")  # both day fields restricted: either matches
    assert weekday_or_13th.next(_unix("2026-02-10T00:00:00")) == _unix("2026-02-13T12:00:00")  # Friday 13th
    assert weekday_or_13th.next(_unix("2026-02-13T12:00:00")) == _unix("2026-02-20T12:00:00")  # next Friday


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("1h30m", 5400), ("1.5h", 5400), ("500ms", 0.5),
                                               ("2.5m", 150), ("-2m", -120), ("0", 0), ("1h0m0.5s", 3600.5)])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "message"), [("5", 'missing unit in duration "5"'),
                                               ("5x", 'unknown unit "x" in duration "5x"'),
                                               ("", 'invalid duration ""'), (".s", 'invalid duration ".s"')])
def test_go_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_go_duration(text)


def test_every_is_whole_seconds_from_the_truncated_start() -> None:
    """@every 500ms runs every second (at least 1 s); @every 2.5m every 150 s from the whole second."""
    assert parse_standard("@every 500ms") == Every(1)
    assert parse_standard("@every 2.5m").next(100.7) == 250
