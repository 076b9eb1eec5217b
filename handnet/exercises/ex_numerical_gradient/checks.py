"""The grading checks of the numerical gradient exercise: central differences, h, theta, relative_error."""

from __future__ import annotations

import numpy as np

from ..compare import as_array, compare_arrays, entry_name, student_function
from ..exercise import WrongAnswer
from ..grading.functions import GraderFunction
from ..problems import debug_weights


def _quadratic(seed):
    """theta, f(theta) = 1/2 t.A t + c.t (t = theta flattened; A symmetric), its exact gradient, A.

    f is a ``GraderFunction``: the student's code calls it, this process computes and counts its values.

    Central differences are exact for a quadratic (up to rounding, ~1e-12 here with f of order 1),
    while a one-sided difference is off by (h/2) A_ii, about 5e-5: the two are 4 orders apart.
    """
    if seed is None:
        theta = debug_weights(2, 2) * 10.0                    # (2, 3), sin-based
        M = debug_weights(6, 5) * 5.0
        c = np.sin(np.arange(1, 7) + 0.5)
    else:
        rng = np.random.default_rng(seed)
        shape = (int(rng.integers(1, 4)), int(rng.integers(2, 5)))
        theta = rng.normal(size=shape)
        M = rng.normal(scale=0.5 / np.sqrt(theta.size), size=(theta.size, theta.size))
        c = rng.normal(size=theta.size)
    A = M @ M.T + np.eye(theta.size)
    theta = np.ascontiguousarray(theta)
    exact = (A @ theta.ravel() + c).reshape(theta.shape)
    return theta, GraderFunction("f", lambda t: _quadratic_value(A, c, t), theta.shape), exact, A


def _quadratic_value(A, c, theta):
    """f(theta) = 1/2 t.A t + c.t, t = theta flattened."""
    t = theta.ravel()
    return 0.5 * float(t @ A @ t) + float(c @ t)


def _sum_sin(shape):
    """f(theta) = sum(sin(theta)) for theta of ``shape``, a ``GraderFunction``."""
    return GraderFunction("f", lambda t: float(np.sum(np.sin(t))), shape)


def _evaluated_enough(f, theta, what):
    """WrongAnswer unless the student's code asked for f at least twice per entry of theta (the
    count is this process's own: nothing the student's code does can change it)."""
    need = 2 * theta.size
    if f.evaluations < need:
        raise WrongAnswer(f"{what}: your numerical_gradient evaluated f {f.evaluations} times for a theta of "
                          f"{theta.size} entries; central differences need 2 evaluations per entry ({need})"
                          "\nhint: the values must come from f(theta + h e_i) and f(theta - h e_i), not from "
                          "a formula for the gradient.")


def step_variants(expected):
    """The central difference divided by the wrong multiple of h, as [(hint, array)] variants."""
    return [("you divided by h: the central difference [f(theta + h e_i) - f(theta - h e_i)] is divided "
             "by 2h (the two points are 2h apart).", 2.0 * expected),
            ("you divided by 4h (2h twice?): the central difference [f(theta + h e_i) - f(theta - h e_i)] "
             "is divided by 2h once.", 0.5 * expected)]


def check_central_differences(student, seed):
    """numerical_gradient of a quadratic (where central differences are exact) with the default h."""
    fn = student_function(student, "numerical_gradient")
    theta, f, exact, A = _quadratic(seed)

    what = f"numerical_gradient(f, theta) of a quadratic f, theta of shape {theta.shape}, default h"
    given = theta.copy()
    got = as_array(what, fn(f, given), theta.shape)
    changed = _theta_change(theta, given)
    h = 1e-4
    one_sided = (h / 2) * np.diag(A).reshape(theta.shape)
    compare_arrays("g", got, exact, rtol=1e-7, floor=0.1, what=what, labels=("yours", "exact"),
                   variants=[("that is a one-sided difference [f(theta + h e_i) - f(theta)] / h, whose error is "
                              "about h/2 times the second derivative; use the central difference "
                              "[f(theta + h e_i) - f(theta - h e_i)] / (2h).", exact + one_sided),
                             ("that is a one-sided difference [f(theta) - f(theta - h e_i)] / h; use the central "
                              "difference [f(theta + h e_i) - f(theta - h e_i)] / (2h).", exact - one_sided),
                             *step_variants(exact)],
                   advice={"factor": "The central difference divides by 2h.",
                           "sign": "It is f(theta + h e_i) - f(theta - h e_i), in this order."},
                   first_hints=lambda: [f"{changed}: each perturbation stays in theta, so the later entries "
                                        "are differentiated at the wrong point."] if changed else [])
    _evaluated_enough(f, theta, what)
    return (f"exact on a quadratic with theta of shape {theta.shape} ({f.evaluations} evaluations of f "
            f"for {theta.size} entries, counted by the grader)")


def check_step(student, seed):
    """numerical_gradient(f, theta, h) uses h: f = sum(sin(theta)) with h = 0.1 and 0.01."""
    fn = student_function(student, "numerical_gradient")
    if seed is None:
        theta = np.ascontiguousarray(debug_weights(3, 1) * 10.0)      # (3, 2), sin-based
    else:
        rng = np.random.default_rng(seed)
        theta = rng.normal(size=int(rng.integers(2, 7)))

    for h in (0.1, 0.01):
        f = _sum_sin(theta.shape)
        # [sin(t + h) - sin(t - h)] / (2h) = cos(t) sin(h) / h exactly
        expected = np.cos(theta) * np.sin(h) / h
        what = f"numerical_gradient(f, theta, h={h}) for f = sum(sin(theta)), theta of shape {theta.shape}"
        got = as_array(what, fn(f, theta.copy(), h), theta.shape)
        compare_arrays("g", got, expected, rtol=1e-7, floor=1e-3, what=what, labels=("yours", "expected"),
                       variants=[("your result does not depend on h as it should: use the argument h "
                                  "(not a fixed step) in both f(theta +- h e_i) and the division by 2h.",
                                  np.cos(theta) * np.sin(1e-4) / 1e-4),
                                 ("that is a one-sided difference [f(theta + h e_i) - f(theta)] / h; use the "
                                  "central difference [f(theta + h e_i) - f(theta - h e_i)] / (2h).",
                                  (np.sin(theta + h) - np.sin(theta)) / h),
                                 *step_variants(expected)],
                       advice={"factor": "The central difference divides by 2h."})
        _evaluated_enough(f, theta, what)
    return "the step h is used: right for h = 0.1 and h = 0.01 (error cos(theta) (sin(h)/h - 1) included)"


def _theta_change(before, after):
    """'numerical_gradient changed theta: theta[0, 1] is ... after the call, ... before' or None.

    Rounding is allowed (theta[i] += h; theta[i] -= 2h; theta[i] += h need not give theta[i] back
    to the last bit); a perturbation left in place is not.
    """
    changed = ~np.isclose(after, before, rtol=1e-12, atol=1e-15)
    if not np.any(changed):
        return None
    i = tuple(int(v) for v in np.argwhere(changed)[0])
    return (f"numerical_gradient changed theta: {entry_name('theta', i)} is {after[i]:.6g} after the call, "
            f"{before[i]:.6g} before ({int(changed.sum())} of {before.size} entries changed)")


def check_theta_unchanged(student, seed):
    """theta is the same after numerical_gradient as before (a perturbation left in place is a bug)."""
    fn = student_function(student, "numerical_gradient")
    theta, f, _, _ = _quadratic(seed)
    given = theta.copy()
    what = f"numerical_gradient(f, theta, 1e-4) for theta of shape {theta.shape}"
    as_array(what, fn(f, given, 1e-4), theta.shape)
    changed = _theta_change(theta, given)
    if changed:
        raise WrongAnswer(f"{changed}\nhint: put every entry back after its two evaluations of f "
                          "(theta[i] = original), or perturb a copy (np.array(theta)).")
    _evaluated_enough(f, theta, what)
    return "theta is unchanged after the call"


def check_relative_error(student, seed):
    """relative_error(a, n) = |a - n| / max(|a|, |n|), 0 where both are 0."""
    fn = student_function(student, "relative_error")
    if seed is None:
        a = np.array([[1.0, 0.0, -2.0], [1e-3, 0.0, 5.0]])
        n = np.array([[1.1, 0.0, 2.0], [0.0, 1e-8, 5.0]])
    else:
        rng = np.random.default_rng(seed)
        a = rng.normal(size=(2, 4))
        n = a * (1 + rng.normal(scale=0.1, size=a.shape))
        a[0, 0] = n[0, 0] = 0.0
        n[1, 1] = -a[1, 1]
    scale = np.maximum(np.abs(a), np.abs(n))
    expected = np.divide(np.abs(a - n), scale, out=np.zeros_like(scale), where=scale > 0)
    what = f"relative_error(a, n) for arrays of shape {a.shape} (some entries 0 in both)"
    got = as_array(what, fn(a.copy(), n.copy()), a.shape)
    if not np.all(np.isfinite(got)):
        i = tuple(int(v) for v in np.argwhere(~np.isfinite(got))[0])
        raise WrongAnswer(f"{what}: {entry_name('rel', i)} is {got[i]} where a = {a[i]:g} and n = {n[i]:g}"
                          "\nhint: where a and n are both 0 the relative error is 0, not 0/0 = nan "
                          "(np.divide(..., where=scale > 0) or np.where).")
    with np.errstate(divide="ignore", invalid="ignore"):
        by_n = np.abs(a - n) / np.abs(n)
        by_sum = np.abs(a - n) / (np.abs(a) + np.abs(n))
    compare_arrays("rel", got, expected, what=what,
                   variants=[("that divides by |n|: divide by max(|a|, |n|) so that the error is symmetric "
                              "and at most 1... when n is 0 too.", np.where(scale > 0, by_n, 0.0)),
                             ("that is |a - n| / (|a| + |n|); the relative error divides by max(|a|, |n|).",
                              np.where(scale > 0, by_sum, 0.0)),
                             ("that is |a - n| without the division by max(|a|, |n|).", np.abs(a - n))])
    return f"right on {a.size} entries, including a pair of zeros"

