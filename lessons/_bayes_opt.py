"""Bayesian optimisation by hand: a Gaussian-process surrogate and expected improvement in NumPy.

Used by lessons.hyperparameter_search (section 8), which explains it; kept in its own module so
that lesson stays readable. Every function is one equation:

    k(u, v)      = exp(-|u - v|^2 / (2 l^2))                       rbf_kernel
    K            = k(U, U) + s^2 I = L L^T                          (Cholesky)
    mean(u*)     = k*^T K^-1 y,  var(u*) = 1 - k*^T K^-1 k*         gp_posterior
    log p(y | l) = -y^T K^-1 y / 2 - sum log L_ii - n log(2 pi) / 2 log_marginal_likelihood
    EI(u*)       = (f+ - m - xi) Phi(z) + sd phi(z),  z = (f+ - m - xi) / sd   expected_improvement
    Phi(z)       = (1 + erf(z / sqrt 2)) / 2                        normal_cdf, via erf_array

Scores are minimised. The search works in the unit cube of the lesson's search spaces
(lessons.hyperparameter_search.to_unit / from_unit), so one length scale serves every dimension.
"""

from __future__ import annotations

import math

import numpy as np

#: Nodes at which math.erf is evaluated once; erf_array expands around the nearest one.
_ERF_STEP = 0.25
_ERF_NODES = np.arange(-6.0, 6.0 + _ERF_STEP / 2, _ERF_STEP)
_ERF_AT_NODES = np.array([math.erf(c) for c in _ERF_NODES])        # 49 scalar calls, once
_ERF_TERMS = 24


def erf_array(x):
    """erf(x) for an array, exact to rounding, from math.erf at fixed nodes and a Taylor series.

    math.erf takes one Python float; calling it per element would be a Python loop. Instead,
    with c the nearest node (spacing 1/4, so |h| = |x - c| <= 1/8) and H_n the Hermite
    polynomials (H_0 = 1, H_1 = 2c, H_{n+1} = 2c H_n - 2n H_{n-1}), which give the derivatives
    d^n/dc^n exp(-c^2) = (-1)^n H_n(c) exp(-c^2):

        erf(c + h) = erf(c) + (2/sqrt(pi)) exp(-c^2) sum_{n>=0} (-1)^n H_n(c) h^(n+1) / (n+1)!

    24 terms leave a remainder far below float64 rounding for |c| <= 6; beyond |x| = 6,
    erf(x) = +-1 to double precision (1 - erf(6) = 2e-17). Shapes: any -> same shape.
    """
    x = np.asarray(x, dtype=np.float64)
    inside = np.clip(x, _ERF_NODES[0], _ERF_NODES[-1])
    k = np.rint((inside - _ERF_NODES[0]) / _ERF_STEP).astype(np.intp)
    c = _ERF_NODES[k]
    h = inside - c
    h_prev, h_now = np.zeros_like(c), np.ones_like(c)               # H_{-1} (unused), H_0
    term = h.copy()                                                 # h^(n+1)/(n+1)! at n = 0
    total = h_now * term
    for n in range(1, _ERF_TERMS):
        h_prev, h_now = h_now, 2.0 * c * h_now - 2.0 * (n - 1) * h_prev
        term = term * h / (n + 1)
        total = total + (-1) ** n * h_now * term
    return _ERF_AT_NODES[k] + 2.0 / math.sqrt(math.pi) * np.exp(-c * c) * total


def normal_cdf(z):
    """Phi(z) = (1 + erf(z / sqrt 2)) / 2, elementwise."""
    return 0.5 * (1.0 + erf_array(np.asarray(z, dtype=np.float64) / math.sqrt(2.0)))


def normal_pdf(z):
    """phi(z) = exp(-z^2 / 2) / sqrt(2 pi), elementwise."""
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def rbf_kernel(A, B, length_scale):
    """k(a, b) = exp(-|a - b|^2 / (2 l^2)) for every pair of rows; A (n, d), B (m, d) -> (n, m)."""
    sq = np.sum(A * A, axis=1)[:, None] + np.sum(B * B, axis=1)[None, :] - 2.0 * A @ B.T
    return np.exp(-np.maximum(sq, 0.0) / (2.0 * length_scale ** 2))


def cholesky_solve(L, b):
    """K^-1 b from the Cholesky factor L of K = L L^T: solve L w = b, then L^T v = w."""
    return np.linalg.solve(L.T, np.linalg.solve(L, b))


def gp_factor(U, length_scale, noise):
    """The Cholesky factor L of K = k(U, U) + noise I; U (n, d) -> (n, n) lower triangular."""
    return np.linalg.cholesky(rbf_kernel(U, U, length_scale) + noise * np.eye(len(U)))


def gp_posterior(U, y, U_star, length_scale, noise):
    """Posterior mean and variance of a zero-mean, unit-variance GP at U_star (m, d), given y (n,) at U (n, d).

    mean = k*^T K^-1 y, var = k(u*, u*) - k*^T K^-1 k* = 1 - |L^-1 k*|^2 (clipped at 0).
    -> (mean (m,), var (m,)).
    """
    L = gp_factor(U, length_scale, noise)
    k_star = rbf_kernel(U, U_star, length_scale)                    # (n, m)
    mean = k_star.T @ cholesky_solve(L, y)
    v = np.linalg.solve(L, k_star)
    return mean, np.maximum(1.0 - np.sum(v * v, axis=0), 0.0)


def log_marginal_likelihood(U, y, length_scale, noise):
    """log p(y | U, l) = -y^T K^-1 y / 2 - sum_i log L_ii - (n/2) log(2 pi)."""
    L = gp_factor(U, length_scale, noise)
    return float(-0.5 * y @ cholesky_solve(L, y) - np.sum(np.log(np.diag(L)))
                 - 0.5 * len(y) * math.log(2.0 * math.pi))


def expected_improvement(mean, var, best, xi=0.01):
    """E[max(best - xi - f, 0)] for f ~ N(mean, var), elementwise (minimisation).

    EI = (best - mean - xi) Phi(z) + sd phi(z), z = (best - mean - xi) / sd; where sd = 0,
    EI = max(best - mean - xi, 0).
    """
    mean, var = np.asarray(mean, dtype=np.float64), np.asarray(var, dtype=np.float64)
    sd = np.sqrt(var)
    gain = best - mean - xi
    z = np.divide(gain, sd, out=np.zeros_like(gain), where=sd > 0)
    ei = gain * normal_cdf(z) + sd * normal_pdf(z)
    return np.where(sd > 0, np.maximum(ei, 0.0), np.maximum(gain, 0.0))


#: Length scales (unit-cube units) tried when fitting the surrogate: the one with the largest
#: marginal likelihood is used.
LENGTH_SCALES = np.geomspace(0.05, 2.0, 12)


def fit_length_scale(U, y, noise, length_scales=LENGTH_SCALES):
    """The length scale of the grid with the largest log marginal likelihood of y (n,) at U (n, d)."""
    return float(max(length_scales, key=lambda l: log_marginal_likelihood(U, y, l, noise)))


def standardise(scores, floor=1e-12):
    """GP targets from scores (n,): y = log10(max(score, floor)), then centred and scaled to unit sd.

    Scores that span many decades (|x_T| from 1e-30 to 1e3) are modelled on the log scale;
    -> (y (n,), best y).
    """
    logs = np.log10(np.maximum(np.asarray(scores, dtype=np.float64), floor))
    sd = logs.std()
    y = (logs - logs.mean()) / (sd if sd > 0 else 1.0)
    return y, float(y.min())
