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


def _point_tolerance(theta, h):
    """How far (per entry, shape of theta) an evaluation may be from theta +- h e_i and still be it.

    The student's theta_i +- h is rounded once (theta + h e_i, or flat[i] = original + h), or twice
    (flat[i] += h, then flat[i] -= 2h): at most 2u(|theta_i| + h) from the exact point, u = eps/2;
    an entry put back after its perturbation (+h, -2h, +h) is within 3u(|theta_j| + h) of theta_j.
    The point it is compared with, computed here, is rounded once more: u(|theta| + h). So 4u
    (= 2 eps) covers every way of forming the points; 2 eps more is margin for other orders of
    the same operations. Two different points of central differences differ by h or 2h in some
    entry, far above this (h >> eps |theta| for every theta and h the checks use)."""
    return 4.0 * np.finfo(np.float64).eps * (np.abs(theta) + h)


def _central_points(theta, h):
    """The points of central differences, flattened: an array (2, n, n) whose [0, i] is theta + h e_i
    and [1, i] is theta - h e_i (n = theta.size)."""
    t = theta.reshape(-1)
    step = h * np.eye(t.size)
    return np.stack([t + step, t - step])


def _missing_points(f, theta, h):
    """(missing, points, tol): missing[s, i] is True where f was never evaluated at theta + h e_i
    (s = 0) or theta - h e_i (s = 1), to ``_point_tolerance``; points are f's evaluations, flattened."""
    points = f.points.reshape(f.evaluations, theta.size)
    tol = _point_tolerance(theta, h).reshape(-1)
    near = np.abs(points[None, None, :, :] - _central_points(theta, h)[:, :, None, :]) <= tol
    return ~np.any(np.all(near, axis=3), axis=2), points, tol


def _describe_point(point, theta, tol):
    """A point of f's evaluations as seen from theta: 'theta - 0.1 e_[0] + 0.1 e_[1]', 'theta itself',
    or 'a point 6 of whose 6 entries differ from theta's (theta[0, 2] by -1.3 ...)'."""
    t = theta.reshape(-1)
    offset = np.where(np.abs(point - t) > tol, point - t, 0.0)
    moved = np.flatnonzero(offset)
    index = [np.unravel_index(k, theta.shape) for k in moved]
    if moved.size == 0:
        return "theta itself"
    if moved.size <= 3:
        return "theta " + " ".join(f"{'+' if offset[k] > 0 else '-'} {abs(offset[k]):.6g} e_{entry_name('', i)}"
                                   for k, i in zip(moved, index))
    most = int(np.argmax(np.abs(offset[moved])))
    return (f"a point {moved.size} of whose {t.size} entries differ from theta's "
            f"({entry_name('theta', index[most])} by {offset[moved[most]]:+.6g}, the most)")


def _evaluated_as_central_differences(f, theta, h, what, both=True, changed=None):
    """WrongAnswer unless the student's code evaluated f at theta + h e_i and theta - h e_i for every
    entry i (``both``), or at one of them at least (``both=False``: a check not about the difference).

    The count alone lets a student call f 2n times at points that tell nothing and return a formula;
    the points were recorded by this process (``GraderFunction.points``), as the count was.
    ``changed``: the sentence of ``_theta_change`` when the student's code changed theta, put first.
    """
    _evaluated_enough(f, theta, what)
    missing, points, tol = _missing_points(f, theta, h)
    unmet = missing if both else missing.all(axis=0)[None, :]
    if not np.any(unmet):
        return
    s, k = (int(v) for v in np.argwhere(unmet)[0])
    index = entry_name("", np.unravel_index(k, theta.shape))
    if both:
        target = _central_points(theta, h)[s, k]
        where = f"theta {'+-'[s]} h e_i for i = {index}"
        count = f"{int(unmet.sum())} of the {2 * theta.size} points of central differences were never evaluated"
    else:
        target = _central_points(theta, h)[0, k]
        where = f"theta + h e_i nor at theta - h e_i for i = {index}"
        count = f"{int(unmet.sum())} of the {theta.size} entries were never moved by h"
    nearest = points[int(np.argmin(np.sum(np.abs(points - target), axis=1)))]     # fewest, smallest moves
    first = (f"\nhint: {changed}: each perturbation stays in theta, so f is evaluated away from theta +- h e_i "
             "for the later entries.") if changed else ""
    raise WrongAnswer(f"{what}: your numerical_gradient never evaluated f at {where} (h = {h:g}); {count}{first}"
                      "\nhint: central differences evaluate f at theta + h e_i and theta - h e_i; your code "
                      f"evaluated f at {_describe_point(nearest, theta, tol)} instead.")


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
    _evaluated_as_central_differences(f, theta, h, what, changed=changed)
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
        given = theta.copy()
        got = as_array(what, fn(f, given, h), theta.shape)
        compare_arrays("g", got, expected, rtol=1e-7, floor=1e-3, what=what, labels=("yours", "expected"),
                       variants=[("your result does not depend on h as it should: use the argument h "
                                  "(not a fixed step) in both f(theta +- h e_i) and the division by 2h.",
                                  np.cos(theta) * np.sin(1e-4) / 1e-4),
                                 ("that is a one-sided difference [f(theta + h e_i) - f(theta)] / h; use the "
                                  "central difference [f(theta + h e_i) - f(theta - h e_i)] / (2h).",
                                  (np.sin(theta + h) - np.sin(theta)) / h),
                                 *step_variants(expected)],
                       advice={"factor": "The central difference divides by 2h."})
        _evaluated_as_central_differences(f, theta, h, what, changed=_theta_change(theta, given))
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
    # each entry moved by h one way at least: a one-sided difference keeps theta too, and fails elsewhere
    _evaluated_as_central_differences(f, theta, 1e-4, what, both=False)
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

