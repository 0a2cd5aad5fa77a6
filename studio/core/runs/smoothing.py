"""Curve smoothing for loss plots: the debiased exponential moving average TensorBoard uses.

Debiasing divides by (1 - w^n) so the first points are not dragged towards zero.
"""

from __future__ import annotations

import numpy as np


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Smoothed copy of `values` (weight 0 = raw, 0.99 = very smooth); non-finite points are skipped."""
    values = np.asarray(values, dtype=np.float64)
    if weight <= 0 or len(values) == 0:
        return values.copy()
    out = np.empty_like(values)
    last, count = 0.0, 0
    for i, v in enumerate(values):
        if np.isfinite(v):
            last = last * weight + (1 - weight) * v
            count += 1
        out[i] = last / (1 - weight ** count) if count else np.nan
    return out
