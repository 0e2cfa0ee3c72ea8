"""The run's periodic samples: the percentile they take is numpy's, to the last bit."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.engine import percentile

values = st.one_of(
    arrays(np.float64, st.integers(1, 300), elements=st.floats(0, 10, allow_nan=False)),
    arrays(np.float64, st.integers(1, 40), elements=st.sampled_from([0.0, 0.001, 0.002, 0.5, 1e-9])),  # ties
    arrays(np.float64, st.integers(1, 20), elements=st.floats(allow_infinity=False)),  # NaN too
)


@settings(max_examples=300, deadline=None)
@given(values, st.sampled_from([99, 50, 90, 99.9, 0, 1, 100, 37.5]))
def test_percentile_is_numpys(data: np.ndarray, q: float) -> None:
    expected = float(np.percentile(data, q))
    got = percentile(data.copy(), q)
    assert (math.isnan(expected) and math.isnan(got)) or (got == expected and
                                                          math.copysign(1, got) == math.copysign(1, expected))
