"""The loss curves' smoothing: TensorBoard's debiased moving average."""

from __future__ import annotations

import numpy as np

from studio.core.runs.smoothing import ema


def test_a_constant_stays_constant_from_the_first_point():
    assert np.allclose(ema(np.full(5, 3.0), 0.9), 3.0)  # debiased: not dragged towards zero


def test_weight_zero_is_the_raw_curve_and_gaps_are_skipped():
    raw = np.array([1.0, np.nan, 3.0])
    assert np.array_equal(ema(raw, 0.0), raw, equal_nan=True)
    smooth = ema(np.array([np.nan, 2.0, np.inf, 4.0]), 0.5)
    assert np.isnan(smooth[0]) and smooth[1] == 2.0 and smooth[2] == 2.0
    assert np.isclose(smooth[3], (0.5 * 0.5 * 2.0 + 0.5 * 4.0) / (1 - 0.25))
