"""Fit a cost model to measured times, so a timing demo can state the model it fits.

    model = fit_cost_model(seconds, {"per call": np.ones(n), "per multiply-add": macs})
    model.coefficients      # {"per call": 2.7e-06, "per multiply-add": 5.6e-10}
    model.predicted         # the model's seconds at the measured points

A model is a sum of terms, each a known count (calls, multiply-adds, N log N, ...) times an
unknown cost per unit. Timings spread over orders of magnitude, so the fit minimises the
*relative* error, and every cost per unit is at least 0 (a term that would need a negative cost
gets 0: it explains nothing the others do not).
"""
from dataclasses import dataclass
from itertools import combinations

import numpy as np


@dataclass(frozen=True)
class CostModel:
    """coefficients: term name -> seconds per unit; predicted: seconds at the measured points;
    worst: the largest relative error |predicted - measured| / measured."""
    coefficients: dict
    predicted: np.ndarray
    worst: float


def fit_cost_model(seconds, terms):
    """Fit seconds[i] ~ sum over terms of coefficient * count[i], coefficients >= 0.

    Inputs:
    - seconds: the measured times, a sequence of n positive numbers
    - terms: dict name -> sequence of n non-negative counts (one entry per measurement)

    Returns a CostModel. Raises ValueError for lengths that disagree, a time that is not
    positive, or fewer measurements than terms.
    """
    seconds = np.asarray(seconds, dtype=np.float64)
    names = list(terms)
    counts = np.array([np.asarray(terms[name], dtype=np.float64) for name in names])
    if seconds.ndim != 1 or counts.ndim != 2 or counts.shape[1] != seconds.size:
        raise ValueError(f"every term needs one count per measurement ({seconds.size}), got "
                         + ", ".join(f"{n}: {len(terms[n])}" for n in names))
    if not names or seconds.size < len(names):
        raise ValueError(f"need at least as many measurements as terms, got {seconds.size} "
                         f"measurements for {len(names)} terms")
    if np.any(seconds <= 0) or np.any(counts < 0):
        raise ValueError("times must be positive and counts non-negative")
    scaled = counts.T / seconds[:, None]             # relative residuals: (model - t) / t
    # non-negative least squares by enumeration: the best of the subsets of terms whose
    # unconstrained fit has no negative cost (a handful of terms: at most 2**len(terms) fits)
    best = None
    for size in range(1, len(names) + 1):
        for subset in combinations(range(len(names)), size):
            solution = np.linalg.lstsq(scaled[:, subset], np.ones(seconds.size), rcond=None)[0]
            if np.any(solution < 0):
                continue
            coefficients = np.zeros(len(names))
            coefficients[list(subset)] = solution
            error = np.sum((scaled @ coefficients - 1) ** 2)
            if best is None or error < best[0]:
                best = (error, coefficients)
    coefficients = best[1]
    predicted = coefficients @ counts
    return CostModel(dict(zip(names, coefficients.tolist())), predicted,
                     float(np.max(np.abs(predicted - seconds) / seconds)))
