"""--vary axes, grids and samples."""

from __future__ import annotations

import numpy as np
import pytest

from sim.whatif.space import Axis, grid, parse_sample, parse_vary, sample
from sim.yamlio import SourceError


@pytest.mark.parametrize(("text", "values"), [
    ("a.b=1,2,4", (1, 2, 4)),
    ("a.b=1..4", (1, 2, 3, 4)),
    ("a.b=range(10, 50, 20)", (10, 30)),
    ("a.b=range(3)", (0, 1, 2)),
    ("a.b=2ms,5ms,0.5,true", ("2ms", "5ms", 0.5, True)),
    ("a.b=2ms..4ms", ("2ms", "3ms", "4ms")),
    ("a.b={dist: constant, value: 2ms},5ms", ({"dist": "constant", "value": "2ms"}, "5ms")),
], ids=["list", "int-range", "python-range", "range-stop", "yaml-scalars", "range-with-unit", "flow-mapping"])
def test_parse_vary_grid_values(text: str, values: tuple[object, ...]) -> None:
    """Each value syntax gives the grid values a user would expect."""
    axis = parse_vary(text)
    assert axis.path == "a.b"
    assert axis.grid_values() == values


@pytest.mark.parametrize(("text", "message"), [
    ("a.b", "must look like PATH=VALUES"),
    ("a.b=5..1", "ends before it starts"),
    ("a.b=1ms..2s", "same unit"),
    ("a.b=range(5, 1)", "is empty"),
], ids=["no-values", "reversed", "mixed-units", "empty-range"])
def test_parse_vary_rejects_bad_input(text: str, message: str) -> None:
    """Bad --vary text is one clear error."""
    with pytest.raises(SourceError, match=message):
        parse_vary(text)


def test_continuous_interval_needs_a_sample() -> None:
    """A float interval has no grid; the error says to sample it."""
    with pytest.raises(SourceError, match="--sample"):
        parse_vary("a=0.5..2").grid_values()


def test_grid_is_the_product_with_the_last_axis_fastest() -> None:
    """Two axes of 2 and 3 values give 6 points in row-major order."""
    points = grid([Axis("x", (1, 2)), Axis("y", ("a", "b", "c"))])
    assert [(p["x"], p["y"]) for p in points] == [(1, "a"), (1, "b"), (1, "c"), (2, "a"), (2, "b"), (2, "c")]


def test_latin_hypercube_uses_every_stratum_of_every_axis_once() -> None:
    """With N points, each axis's N equal strata hold exactly one point."""
    axes = [parse_vary("x=0.0..1.0"), parse_vary("y=10..19")]
    points = sample(axes, "lhs", 10, seed=3)
    x_strata = sorted(int(p["x"] * 10) for p in points)
    assert x_strata == list(range(10))
    assert sorted(p["y"] for p in points) == list(range(10, 20))


def test_samples_are_deterministic_and_seeded() -> None:
    """The same seed draws the same points; another seed draws others."""
    axes = [parse_vary("x=1ms..20ms"), parse_vary("n=1,2,4")]
    first, again = sample(axes, "random", 8, seed=1), sample(axes, "random", 8, seed=1)
    assert first == again
    assert first != sample(axes, "random", 8, seed=2)
    assert all(p["x"].endswith("ms") and 1 <= float(p["x"][:-2]) <= 20 and p["n"] in (1, 2, 4) for p in first)
    assert any(not float(p["x"][:-2]).is_integer() for p in first)  # a duration range is continuous


@pytest.mark.parametrize(("text", "expected"), [("lhs:20", ("lhs", 20)), ("random:3", ("random", 3))],
                         ids=["lhs", "random"])
def test_parse_sample(text: str, expected: tuple[str, int]) -> None:
    """--sample names a method and a count."""
    assert parse_sample(text) == expected


@pytest.mark.parametrize("text", ["lhs", "sobol:4", "lhs:0"], ids=["no-count", "unknown-method", "zero"])
def test_parse_sample_rejects_bad_input(text: str) -> None:
    """Anything but lhs:N or random:N with N >= 1 is an error."""
    with pytest.raises(SourceError, match="expected lhs:N or random:N"):
        parse_sample(text)


def test_interval_quantiles_cover_the_integer_range_evenly() -> None:
    """Integer intervals map [0, 1) onto every integer equally often."""
    axis = parse_vary("n=1..4")
    counts = np.bincount([axis.at(u) for u in np.linspace(0, 1, 400, endpoint=False)])
    assert counts[1:].tolist() == [100, 100, 100, 100]
