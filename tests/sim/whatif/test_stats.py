"""Student-t quantiles and per-configuration mean, std and confidence intervals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.whatif.stats import aggregate, bound, t_cdf, t_quantile

# two-sided 95% critical values from any t table
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 9: 2.262, 19: 2.093, 29: 2.045, 120: 1.980}


@pytest.mark.parametrize(("df", "expected"), list(T975.items()), ids=[f"df{d}" for d in T975])
def test_t_quantile_matches_the_table(df: int, expected: float) -> None:
    """t(0.975, df) agrees with published tables to three decimals."""
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize("df", [1, 2, 7, 30], ids=["df1", "df2", "df7", "df30"])
def test_t_cdf_is_symmetric_and_inverts_the_quantile(df: int) -> None:
    """CDF(-t) = 1 - CDF(t), and CDF(quantile(p)) = p."""
    assert t_cdf(-1.3, df) == pytest.approx(1 - t_cdf(1.3, df))
    for p in (0.05, 0.5, 0.9, 0.995):
        assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-9)


def _runs(values: np.ndarray) -> pd.DataFrame:
    """A runs frame: one configuration per row of ``values``, one replication per column."""
    groups, n = values.shape
    return pd.DataFrame({"point": np.repeat(np.arange(groups), n), "x": np.repeat(np.arange(groups), n),
                         "latency": values.ravel()})


def test_interval_covers_the_true_mean_95_percent_of_the_time() -> None:
    """Over 2,000 normal samples of 5, the 95% interval holds the true mean about 95% of the time."""
    rng = np.random.default_rng(7)
    table = aggregate(_runs(rng.normal(10.0, 2.0, size=(2000, 5))), ["x"], ["latency"])
    covered = ((table["latency_ci_lo"] <= 10.0) & (table["latency_ci_hi"] >= 10.0)).mean()
    assert 0.935 <= covered <= 0.965


@pytest.mark.parametrize("n", [4, 16, 64], ids=["n4", "n16", "n64"])
def test_interval_width_shrinks_as_one_over_root_n(n: int) -> None:
    """The mean half-width is t(0.975, n-1)·σ·c4(n)/√n: quadrupling n about halves it."""
    rng = np.random.default_rng(n)
    sigma = 3.0
    table = aggregate(_runs(rng.normal(0.0, sigma, size=(3000, n))), ["x"], ["latency"])
    half = ((table["latency_ci_hi"] - table["latency_ci_lo"]) / 2).mean()
    c4 = math.sqrt(2 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))  # E[s] = c4·σ
    assert half == pytest.approx(t_quantile(0.975, n - 1) * sigma * c4 / math.sqrt(n), rel=0.03)


def test_aggregate_columns_and_edge_cases() -> None:
    """Equal runs give a zero-width interval; one run gives no interval; a NaN run gives NaN."""
    runs = pd.DataFrame({"point": [0, 0, 1, 2, 2], "x": [1, 1, 2, 3, 3],
                         "pending": [0.0, 0.0, 4.0, 1.0, np.nan]})
    table = aggregate(runs, ["x"], ["pending"]).set_index("x")
    assert list(table.columns) == ["point", "replications", "pending_mean", "pending_std", "pending_ci_lo",
                                   "pending_ci_hi"]
    assert table.loc[1, ["pending_mean", "pending_ci_lo", "pending_ci_hi"]].tolist() == [0.0, 0.0, 0.0]
    assert table.loc[2, "replications"] == 1
    assert math.isnan(table.loc[2, "pending_ci_hi"])
    assert math.isnan(table.loc[3, "pending_mean"])


@pytest.mark.parametrize(("upper", "expected"), [(True, 12.132), (False, 7.868)], ids=["upper", "lower"])
def test_one_sided_bound(upper: bool, expected: float) -> None:
    """The 95% one-sided bound is mean ± t(0.95, n-1)·s/√n, with t(0.95, 4) = 2.132."""
    assert bound(10.0, math.sqrt(5), 5, 0.95, upper) == pytest.approx(expected, abs=5e-4)
