"""Calibrate parcel net areas to the study's figures (bounded weighted least squares).

Minimises  sum_p w_p (a_p - n_p)^2 + sum_k mu_k (c_k . a - b_k)^2  subject to
lo_p <= a_p <= hi_p, where a_p is the effective net area (ha) of parcel p, n_p its
nominal area, c_k the 0/1 selector of figure k and b_k its target. Required figures get a
large weight, optional ones a smaller one; inconsistent published figures (rounding) end
up with small, evenly spread residuals. Solved with numpy by an active-set iteration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tools.demo_data.figures import Figure, Selector, top_district_limits
from tools.demo_data.model import Parcel, Site
from tools.demo_data.plan import MAX_PARCEL_HA, MIN_PARCEL_HA, MIN_SITE_NET_HA

WEIGHT_REQUIRED = 1e4
WEIGHT_OPTIONAL = 3e2
WEIGHT_BOUND = 3e3


@dataclass(frozen=True, slots=True)
class Target:
    """One linear target: 0/1 coefficients over parcels, value (ha), weight."""

    coefficients: np.ndarray
    value: float
    weight: float


def _bounded_lsq(a_mat: np.ndarray, rhs: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 start: np.ndarray) -> np.ndarray:
    """Minimise x'Ax/2 - rhs'x within [lo, hi] (A symmetric positive definite).

    Classic primal active-set method: step towards the minimiser of the free variables,
    stop at the first bound that blocks, release one bound at a time when its multiplier
    has the wrong sign.
    """
    x = np.clip(start, lo, hi)
    fixed = (x <= lo) | (x >= hi)
    for _ in range(20 * len(rhs) + 100):
        free = ~fixed
        y = x.copy()
        if free.any():
            sub = a_mat[np.ix_(free, free)]
            y[free] = np.linalg.solve(sub, rhs[free] - a_mat[np.ix_(free, fixed)] @ x[fixed])
        step = y - x
        with np.errstate(divide="ignore", invalid="ignore"):
            limit = np.where(step < 0, (lo - x) / step, np.where(step > 0, (hi - x) / step, 1.0))
        limit = np.where(free, limit, 1.0)
        alpha = float(min(1.0, limit.min()))
        x = np.clip(x + alpha * step, lo, hi)
        if alpha < 1.0:
            blocking = free & (limit <= alpha + 1e-12)
            fixed |= blocking
            x[blocking & (step < 0)] = lo[blocking & (step < 0)]
            x[blocking & (step > 0)] = hi[blocking & (step > 0)]
            continue
        grad = a_mat @ x - rhs
        wrong = np.where(fixed & (x <= lo) & (grad < -1e-9), -grad, 0.0)
        wrong = np.maximum(wrong, np.where(fixed & (x >= hi) & (grad > 1e-9), grad, 0.0))
        if wrong.max() <= 0.0:
            return _refine(a_mat, rhs, x, ~fixed)
        fixed[int(np.argmax(wrong))] = False
    raise RuntimeError("area calibration did not converge")


def _refine(a_mat: np.ndarray, rhs: np.ndarray, x: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Iterative refinement of the free variables with extended-precision residuals.

    LAPACK results depend on the BLAS build and thread count in the last ~1e-6 ha (the
    system is ill-conditioned on purpose: required figures weigh 1e4). Residuals computed
    in ``longdouble`` (numpy's own loops, no BLAS) pull every run to the same solution
    within ~1e-9 ha, so the output rounded to 1e-4 ha almost never differs between
    machines.
    """
    if not free.any():
        return x
    sub = a_mat[np.ix_(free, free)]
    sub_l = sub.astype(np.longdouble)
    b_l = rhs[free].astype(np.longdouble) - a_mat[np.ix_(free, ~free)].astype(np.longdouble) @ (
        x[~free].astype(np.longdouble))
    y = x[free].astype(np.longdouble)
    for _ in range(6):
        residual = b_l - sub_l @ y
        y = y + np.linalg.solve(sub, residual.astype(float)).astype(np.longdouble)
    out = x.copy()
    out[free] = y.astype(float)
    return out


def _coefficients(parcels: Sequence[Parcel], selector: Selector) -> np.ndarray:
    return np.array([1.0 if selector(p) else 0.0 for p in parcels])


def fit_areas(sites: Sequence[Site], parcels: Sequence[Parcel], figures: Sequence[Figure]
              ) -> np.ndarray:
    """Calibrated effective net area (ha) per parcel, in parcel order."""
    nominal = np.array([p.nominal_ha for p in parcels])
    named = np.array([sites[p.site].named is not None for p in parcels])
    lo = np.where(named, 0.75 * nominal, np.maximum(MIN_PARCEL_HA, 0.45 * nominal))
    hi = np.where(named, 1.25 * nominal, np.minimum(MAX_PARCEL_HA, 1.8 * nominal))
    weights = 1.0 / np.maximum(nominal, 1.0)

    targets: list[Target] = []
    for f in figures:
        targets.append(Target(_coefficients(parcels, f.selector), f.target,
                              WEIGHT_REQUIRED if f.required else WEIGHT_OPTIONAL))
    for s in sites:
        if s.named is not None:
            coef = np.zeros(len(parcels))
            coef[s.parcels] = 1.0
            targets.append(Target(coef, s.named.net_ha, WEIGHT_REQUIRED))

    limits = [(_coefficients(parcels, sel), limit) for _, sel, limit in top_district_limits()]
    site_coefs = []
    for s in sites:
        coef = np.zeros(len(parcels))
        coef[s.parcels] = 1.0
        site_coefs.append(coef)

    extra: list[Target] = []
    x = nominal.copy()
    for _ in range(12):
        all_targets = targets + extra
        c_mat = np.array([t.coefficients for t in all_targets])
        mu = np.array([t.weight for t in all_targets])
        b = np.array([t.value for t in all_targets])
        # Entries of C'MC are sums of exactly representable integers, hence exact in any
        # summation order; the right-hand side is summed in longdouble by numpy itself.
        a_mat = np.diag(weights) + c_mat.T @ (mu[:, None] * c_mat)
        rhs = (weights * nominal + (c_mat.T.astype(np.longdouble)
                                    @ (mu * b).astype(np.longdouble))).astype(float)
        x = _bounded_lsq(a_mat, rhs, lo, hi, x)
        added = False
        for coef in site_coefs:
            if coef @ x < MIN_SITE_NET_HA:
                extra.append(Target(coef, MIN_SITE_NET_HA + 0.05, WEIGHT_BOUND))
                added = True
        for coef, limit in limits:
            if coef @ x > limit:
                extra.append(Target(coef, limit - 0.5, WEIGHT_BOUND))
                added = True
        if not added:
            break
    # Round to 1e-4 ha (1 m²): with the refinement above, runs with other BLAS builds or
    # thread counts then agree bit for bit except in rare ties at a rounding boundary.
    return np.round(x, 4)
