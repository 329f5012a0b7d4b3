"""Drift statistics in pure Python (standard library only; runs in Lambda without numpy).

Streaming histograms
--------------------
``NumericHistogram`` and ``CategoricalHistogram`` accumulate one value at a
time with ``add(value)``: memory is one counter per bin, whatever the number of
records.

Binning convention (numeric)
----------------------------
A baseline with ``k`` bins has ``k + 1`` edges ``e0 .. ek``; ``e0`` and ``ek``
are ``None`` in the baseline JSON and stand for -inf and +inf. Bin ``i``
(0-based) covers the half-open interval ``[e_i, e_{i+1})``: a value equal to an
interior edge falls in the bin to the *right* of that edge. Every finite value
(and -inf) lands in exactly one bin; +inf lands in the last bin.

PSI
---
``PSI = sum_i (c_i - b_i) * ln(c_i / b_i)`` over the bins, ``c_i`` the
current proportion and ``b_i`` the baseline proportion. An empty bin (a
proportion of exactly 0, on either side) is replaced by ``PSI_EPSILON`` (1e-4)
so the logarithm stays finite; non-zero proportions are used as they are.
Every term is >= 0 (both factors have the same sign), so PSI >= 0, and a
distribution compared with itself gives exactly 0. Reading: < 0.1 no
significant change, 0.1 - 0.2 moderate, >= 0.2 significant.

Categorical features
--------------------
The bins are the baseline's categories; current values never seen in the
baseline are pooled into one ``OTHER_CATEGORY`` ("__other__") bucket (which the
baseline may also carry). The ``__other__`` bucket takes part only when the
baseline has it or a current value fell into it. PSI is computed over those
bins as above. The chi-square goodness-of-fit statistic compares the current
counts with the counts expected from the baseline,
``expected_i = n * q_i``, where ``q`` is the baseline proportions with zeros
replaced by ``PSI_EPSILON`` and renormalized to sum to 1 (so an unseen
category gives a large but finite statistic); degrees of freedom = bins - 1 and
the p-value is the chi-square survival function, computed from the regularized
upper incomplete gamma function ``Q(df / 2, x / 2)``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PSI_EPSILON = 1e-4
"""Replaces a proportion of exactly 0 (on both sides) in PSI and chi-square."""

OTHER_CATEGORY = "__other__"
"""The bucket that pools categories the baseline has never seen."""

_GAMMA_EPS = 2.220446049250313e-16  # float64 machine epsilon
_GAMMA_TINY = 1e-300
_GAMMA_MAX_ITER = 100_000


class EmptyHistogramError(ValueError):
    """PSI / chi-square of a histogram that has no observations is undefined."""


# --------------------------------------------------------------------------- histograms


class NumericHistogram:
    """Counts of numeric values in the baseline's bins: ``[e_i, e_{i+1})``, outer edges infinite."""

    __slots__ = ("_interior", "counts", "total")

    def __init__(self, bin_edges: Sequence[float | None]) -> None:
        if len(bin_edges) < 2:
            raise ValueError(f"bin_edges needs at least 2 edges (1 bin), got {len(bin_edges)}")
        # The outer edges are -inf/+inf whatever they hold: only interior edges decide a bin.
        self._interior = [float(e) for e in bin_edges[1:-1]]
        if any(b <= a for a, b in zip(self._interior, self._interior[1:])):
            raise ValueError(f"interior bin edges must be strictly increasing, got {self._interior}")
        self.counts = [0] * (len(bin_edges) - 1)
        self.total = 0

    def add(self, value: float) -> None:
        """Count one value (a float that is not NaN)."""
        self.counts[bisect.bisect_right(self._interior, value)] += 1
        self.total += 1

    def bin_index(self, value: float) -> int:
        return bisect.bisect_right(self._interior, value)

    def proportions(self) -> list[float]:
        if self.total == 0:
            raise EmptyHistogramError("the histogram has no observations")
        return [c / self.total for c in self.counts]


class CategoricalHistogram:
    """Counts per baseline category; anything else goes to ``OTHER_CATEGORY``."""

    __slots__ = ("counts", "total", "unseen")

    def __init__(self, categories: Sequence[str]) -> None:
        self.counts: dict[str, int] = {str(c): 0 for c in categories}
        if OTHER_CATEGORY not in self.counts:
            self.counts[OTHER_CATEGORY] = 0
        self.total = 0
        self.unseen: dict[str, int] = {}  # distinct unseen values, capped (see add)

    def add(self, value: str) -> None:
        counts = self.counts
        if value in counts:
            counts[value] += 1
        else:
            counts[OTHER_CATEGORY] += 1
            # Keep a bounded sample of unseen values for the report: memory stays flat.
            if value in self.unseen:
                self.unseen[value] += 1
            elif len(self.unseen) < 100:
                self.unseen[value] = 1
        self.total += 1


# --------------------------------------------------------------------------- PSI


def psi(baseline: Sequence[float], current: Sequence[float], *, epsilon: float = PSI_EPSILON) -> float:
    """PSI between two proportion vectors of the same bins (zeros replaced by ``epsilon``)."""
    if len(baseline) != len(current):
        raise ValueError(f"baseline has {len(baseline)} bins, current has {len(current)}")
    total = 0.0
    for b, c in zip(baseline, current):
        if b == 0.0:
            b = epsilon
        if c == 0.0:
            c = epsilon
        total += (c - b) * math.log(c / b)
    return total


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one feature: PSI, and for categorical features the chi-square test."""

    feature: str
    type: str  # "numeric" | "categorical"
    count: int
    psi: float
    bins: list[dict]  # per bin: label, baseline proportion, current proportion, current count
    chi_square: float | None = None
    p_value: float | None = None
    degrees_of_freedom: int | None = None
    unseen_categories: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {"type": self.type, "count": self.count, "psi": self.psi}
        if self.type == "categorical":
            out.update(
                chi_square=self.chi_square,
                p_value=self.p_value,
                degrees_of_freedom=self.degrees_of_freedom,
                unseen_categories=dict(self.unseen_categories),
            )
        out["bins"] = self.bins
        return out


def numeric_drift(
    feature: str, bin_edges: Sequence[float | None], baseline_proportions: Sequence[float], hist: NumericHistogram
) -> FeatureDrift:
    """PSI of a numeric feature's current histogram against its baseline proportions."""
    current = hist.proportions()
    if len(current) != len(baseline_proportions):
        raise ValueError(f"feature {feature!r}: {len(baseline_proportions)} baseline bins vs {len(current)}")
    bins = [
        {
            "lower": bin_edges[i],
            "upper": bin_edges[i + 1],
            "baseline": baseline_proportions[i],
            "current": current[i],
            "count": hist.counts[i],
        }
        for i in range(len(current))
    ]
    return FeatureDrift(feature, "numeric", hist.total, psi(baseline_proportions, current), bins)


def categorical_drift(feature: str, categories: Mapping[str, float], hist: CategoricalHistogram) -> FeatureDrift:
    """PSI and chi-square of a categorical feature's current counts against the baseline proportions."""
    if hist.total == 0:
        raise EmptyHistogramError(f"feature {feature!r}: the histogram has no observations")
    names = [str(c) for c in categories]
    if OTHER_CATEGORY not in categories and hist.counts.get(OTHER_CATEGORY, 0) > 0:
        names.append(OTHER_CATEGORY)
    base = [float(categories.get(n, 0.0)) for n in names]
    observed = [hist.counts.get(n, 0) for n in names]
    current = [o / hist.total for o in observed]
    stat, df, p_value = chi_square_gof(observed, base)
    bins = [
        {"category": n, "baseline": b, "current": c, "count": o}
        for n, b, c, o in zip(names, base, current, observed)
    ]
    return FeatureDrift(
        feature, "categorical", hist.total, psi(base, current), bins,
        chi_square=stat, p_value=p_value, degrees_of_freedom=df, unseen_categories=dict(hist.unseen),
    )


# --------------------------------------------------------------------------- chi-square


def chi_square_gof(
    observed: Sequence[int | float], baseline_proportions: Sequence[float], *, epsilon: float = PSI_EPSILON
) -> tuple[float, int, float]:
    """Chi-square goodness of fit of ``observed`` counts to ``baseline_proportions``.

    Returns ``(statistic, degrees_of_freedom, p_value)``. Expected counts are
    ``n * q_i`` with ``q`` the baseline proportions, zeros replaced by
    ``epsilon``, renormalized to 1. One bin: statistic 0, df 0, p-value 1.
    """
    if len(observed) != len(baseline_proportions):
        raise ValueError(f"{len(observed)} observed bins vs {len(baseline_proportions)} baseline bins")
    n = float(sum(observed))
    if n <= 0:
        raise EmptyHistogramError("no observations")
    q = [b if b != 0.0 else epsilon for b in baseline_proportions]
    q_sum = sum(q)
    stat = 0.0
    for o, qi in zip(observed, q):
        e = n * qi / q_sum
        stat += (o - e) ** 2 / e
    df = len(observed) - 1
    if df == 0:
        return 0.0, 0, 1.0
    return stat, df, chi2_sf(stat, df)


def chi2_sf(x: float, df: float) -> float:
    """Survival function of the chi-square distribution: ``P(X > x)`` = ``Q(df / 2, x / 2)``."""
    if df <= 0:
        raise ValueError(f"df must be > 0, got {df}")
    if x <= 0:
        return 1.0
    return gammaincc(df / 2.0, x / 2.0)


def gammaincc(a: float, x: float) -> float:
    """Regularized upper incomplete gamma function ``Q(a, x) = Gamma(a, x) / Gamma(a)``.

    Series expansion of ``P`` for ``x < a + 1`` (where ``Q`` >= ~0.3, so ``1 - P``
    keeps its precision), Lentz's continued fraction for ``Q`` otherwise
    (accurate deep into the tail). Matches ``scipy.special.gammaincc`` to ~1e-12.
    """
    if a <= 0:
        raise ValueError(f"a must be > 0, got {a}")
    if x < 0:
        raise ValueError(f"x must be >= 0, got {x}")
    if x == 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _gammainc_series(a, x))
    return _gammaincc_cf(a, x)


def gammainc(a: float, x: float) -> float:
    """Regularized lower incomplete gamma function ``P(a, x) = 1 - Q(a, x)``."""
    if a <= 0 or x < 0:
        raise ValueError(f"need a > 0 and x >= 0, got a={a}, x={x}")
    if x == 0:
        return 0.0
    if x < a + 1.0:
        return _gammainc_series(a, x)
    return 1.0 - _gammaincc_cf(a, x)


def _log_prefactor(a: float, x: float) -> float:
    return -x + a * math.log(x) - math.lgamma(a)


def _gammainc_series(a: float, x: float) -> float:
    ap = a
    term = total = 1.0 / a
    for _ in range(_GAMMA_MAX_ITER):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _GAMMA_EPS:
            return total * math.exp(_log_prefactor(a, x))
    raise ArithmeticError(f"incomplete gamma series did not converge for a={a}, x={x}")


def _gammaincc_cf(a: float, x: float) -> float:
    # Modified Lentz evaluation of the continued fraction for Gamma(a, x).
    b = x + 1.0 - a
    c = 1.0 / _GAMMA_TINY
    d = 1.0 / b
    h = d
    for i in range(1, _GAMMA_MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < _GAMMA_TINY:
            d = _GAMMA_TINY
        c = b + an / c
        if abs(c) < _GAMMA_TINY:
            c = _GAMMA_TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _GAMMA_EPS:
            return math.exp(_log_prefactor(a, x)) * h
    raise ArithmeticError(f"incomplete gamma continued fraction did not converge for a={a}, x={x}")
