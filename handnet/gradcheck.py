"""Numerical gradient checking by central differences.

    g_i ~ [ J(theta + h e_i) - J(theta - h e_i) ] / (2h)              numerical_gradient
    D_v ~ [ J(theta + h v)   - J(theta - h v)   ] / (2h)  vs  g . v   directional_derivative
    rel_i = |a_i - n_i| / max(|a_i|, |n_i|, floor)                    relative_error

Choosing h. The central difference has two errors pulling opposite ways:
truncation, about h^2 |J'''| / 6, which shrinks with h; and rounding, about
eps |J| / h (eps = 2.2e-16 in float64), which grows as h shrinks. Their sum is
smallest near h = (3 eps)^(1/3) ~ 1e-5, where both are ~1e-10 for a cost of
order 1; anywhere in 1e-5..1e-4 keeps the error near 1e-10..1e-9. (In float32,
eps = 1.2e-7 and the best h is ~5e-3 with errors ~1e-5: that is why handnet
works in float64.)

The floor. An entry whose true value is below the rounding error
eps |J| / h cannot be resolved by any central difference, so its relative
error means nothing. Such entries are measured against
floor = rounding_noise / threshold, i.e. compared on an absolute scale of
about the rounding noise (~1e-10). Anything wrong by more than that is still
caught.

Kinks. ReLU is not differentiable at 0; if a perturbation moves a unit
across its kink, the numerical gradient is wrong, not backprop. Use a few
samples, or check a smooth activation.
"""

from __future__ import annotations

import numpy as np

from . import _validate as V
from .backprop import _cost_and_gradient
from .gradreport import GradientReport
from .costs import prepare, regularised_cost, resolve_cost

__all__ = [
    "numerical_gradient",
    "directional_derivative",
    "relative_error",
    "rounding_floor",
    "check",
    "check_gradient",
    "GradientReport",
    "DEFAULT_H",
    "DEFAULT_THRESHOLD",
]

DEFAULT_H = 1e-5
DEFAULT_THRESHOLD = 1e-6
EPS = np.finfo(np.float64).eps


def numerical_gradient(f, theta, h=DEFAULT_H, indices=None):
    """g_i = [f(theta + h e_i) - f(theta - h e_i)] / (2h) for every i (or for ``indices``).

    f: a function of a flat parameter vector (P,) returning a number (for
    example a student's own cost function); theta: (P,). Returns an array of
    shape (P,) (or (len(indices),)). theta is never modified: f sees a copy.

    Refused with a ValueError/TypeError naming the argument: an f that is not a
    function or returns anything but one real number, a theta that is not
    finite numbers, indices outside 0..P-1, a step h lost in rounding
    (theta + h == theta) or leaving the range of the data, and an f that
    returns nan or inf at theta +- h e_i, or values whose difference overflows
    (the central difference is no number).

    This is a loop over parameters by nature: each entry needs its own two
    evaluations of f (every evaluation is itself vectorised over samples).
    """
    f = _as_function(f)
    theta = V.as_real_array(theta, "theta")
    h = V.as_positive(h, "h")
    indices = _as_indices(indices, theta.size)
    f_plus, f_minus = central_values(f, theta, h, indices)
    bad = ~(np.isfinite(f_plus) & np.isfinite(f_minus))
    if np.any(bad):
        j = int(np.argmax(bad))
        sign, value = ("+", f_plus[j]) if not np.isfinite(f_plus[j]) else ("-", f_minus[j])
        raise ValueError(f"f: returned {value} at theta {sign} h e_i for index {int(indices[j])} "
                         f"(theta[{int(indices[j])}] = {theta.reshape(-1)[indices[j]]:g}, h = {h:g}); "
                         "the central difference there is not a number. Is theta +- h outside the "
                         "domain of f (a log of a negative number)? Choose a smaller h or another theta.")
    g = central_difference(f_plus, f_minus, h)
    if not np.all(np.isfinite(g)):
        j = int(np.argmax(~np.isfinite(g)))
        raise ValueError(f"f: its values {f_plus[j]:g} at theta + h e_i and {f_minus[j]:g} at theta - h e_i "
                         f"for index {int(indices[j])} differ by more than float64 can hold "
                         "(the central difference overflows)")
    return g


def central_values(f, theta, h, indices):
    """f(theta + h e_i) and f(theta - h e_i) for each i in ``indices``: two arrays, possibly not
    finite (the callers decide). The step is checked first (check_step); f sees a copy of theta."""
    check_step(theta.reshape(-1)[indices], h, indices)
    work = theta.copy()
    flat = work.reshape(-1)
    f_plus, f_minus = np.empty(len(indices)), np.empty(len(indices))
    for j, i in enumerate(indices):
        original = flat[i]
        flat[i] = original + h
        f_plus[j] = _value(f, work)
        flat[i] = original - h
        f_minus[j] = _value(f, work)
        flat[i] = original
    return f_plus, f_minus


def central_difference(f_plus, f_minus, h):
    """[f(theta + h e_i) - f(theta - h e_i)] / (2h); inf where that overflows or f was not finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        g = (f_plus - f_minus) / (2.0 * h)
    g[~np.isfinite(g)] = np.inf
    return g


def check_step(values, h, indices):
    """Refuse a step h that cannot give a central difference at these entries of theta:

    - theta + h == theta (or theta - h == theta): h is below the spacing of float64 numbers
      there, so the difference would be 0/2h or a pure rounding artefact;
    - |theta +- h| > MAX_ABS: the step leaves the range handnet computes in (and overflows).
    """
    plus, minus = values + h, values - h
    lost = (plus == values) | (minus == values)
    advice = ("choose h near 1e-5 x max(1, |theta|): the truncation error grows like h^2 and the "
              "rounding error like eps/h, and their sum is smallest near (3 eps)^(1/3) ~ 1e-5")
    if np.any(lost):
        j = int(np.argmax(lost))
        raise ValueError(f"h: {h:g} is lost in rounding at index {int(indices[j])}: theta + h == theta "
                         f"for theta = {values[j]:g} (float64 numbers there are {np.spacing(values[j]):.1e} "
                         f"apart); {advice}")
    out = np.maximum(np.abs(plus), np.abs(minus)) > V.MAX_ABS
    if np.any(out):
        j = int(np.argmax(out))
        raise ValueError(f"h: {h:g} is so large that theta +- h leaves the range of float64 data "
                         f"(|value| <= {V.MAX_ABS:.0e}) at index {int(indices[j])} (theta = {values[j]:g}); "
                         f"{advice}")


def _as_function(f):
    if not callable(f):
        raise TypeError(f"f: expected a function of theta returning a number (a cost), "
                        f"got {V._describe(f)}")
    return f


def _value(f, theta):
    """f(theta) as a float, possibly nan or inf (numpy's warnings about it are silenced: the
    callers report a non-finite value by name instead). Anything but one real number is refused."""
    with np.errstate(all="ignore"):
        v = f(theta)
    if np.ndim(v) != 0 or np.asarray(v).dtype.kind not in "iuf":     # bools, strings, None, arrays
        raise TypeError(f"f: expected f(theta) to return one real number (the cost), got {V._describe(v)}"
                        + ("; sum it, or return float(...)" if np.ndim(v) else ""))
    return float(v)


def _as_indices(indices, size):
    """None -> every index 0..size-1; else a 1-D array of ints in 0..size-1."""
    if indices is None:
        return np.arange(size)
    arr = np.asarray(indices) if not isinstance(indices, (str, bytes)) else np.asarray([indices])
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(f"indices: expected flat integer positions into theta, got {V._describe(indices)}")
    bad = (arr < 0) | (arr >= size)
    if np.any(bad):
        raise ValueError(f"indices: {int(arr[np.argmax(bad)])} is out of range; theta has {size} entries "
                         f"(positions 0..{size - 1})")
    return arr.astype(np.int64)


def directional_derivative(f, theta, v, h=DEFAULT_H):
    """D_v f(theta) ~ [f(theta + h v) - f(theta - h v)] / (2h): two evaluations of f.

    Compared with g . v, it checks every entry of g at once along a random v.
    inf if f is not finite at theta +- h v.
    """
    f = _as_function(f)
    theta = V.as_real_array(theta, "theta")
    v = V.as_real_array(v, "v")
    if v.shape != theta.shape:
        raise ValueError(f"v: expected a direction of the shape of theta, {theta.shape}, got {v.shape}")
    h = V.as_positive(h, "h")
    return float(central_difference(np.array([_value(f, theta + h * v)]),
                                    np.array([_value(f, theta - h * v)]), h)[0])


def relative_error(analytic, numerical, floor=0.0):
    """|a - n| / max(|a|, |n|, floor), element-wise; 0 where both are 0 and floor is 0.

    inf where either value is nan or inf: an entry that cannot be compared fails,
    it never passes.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    finite = np.isfinite(a) & np.isfinite(n)
    a, n = np.where(finite, a, 0.0), np.where(finite, n, 0.0)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
    with np.errstate(over="ignore"):      # a - n of two huge finite values: inf, which fails
        diff = np.abs(a - n)
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    return np.where(finite, rel, np.inf)


def rounding_floor(f_value, h, threshold):
    """floor = rounding_noise / threshold, rounding_noise = 8 eps max(1, |J|) / h.

    Below the floor an entry is compared on an absolute scale: relative error
    = |a - n| / floor, so ``rel <= threshold`` means ``|a - n| <= rounding_noise``.
    """
    return 8.0 * EPS * max(1.0, abs(float(f_value))) / h / threshold


def _entry_names(layout, flat_indices):
    """Map flat indices to (param name, index tuple, 'W1[2, 0]')."""
    starts = np.array([start for _, start, _ in layout])
    which = np.searchsorted(starts, flat_indices, side="right") - 1
    params, idx, names = [], [], []
    for k, i in zip(which, flat_indices):
        name, start, shape = layout[k]
        index = tuple(int(v) for v in np.unravel_index(int(i) - start, shape))
        params.append(name)
        idx.append(index)
        names.append(f"{name}[{', '.join(map(str, index))}]")
    return params, idx, names


def _choose_indices(layout, subset, rng):
    """Every index, or at most ``subset`` random entries of each parameter array."""
    chosen = []
    for _, start, shape in layout:
        size = int(np.prod(shape))
        if subset is None or subset >= size:
            chosen.append(np.arange(start, start + size))
        else:
            chosen.append(np.sort(rng.choice(size, size=subset, replace=False)) + start)
    return np.concatenate(chosen)


def check(f, grad, theta, layout=None, h=DEFAULT_H, threshold=DEFAULT_THRESHOLD, subset=None,
          directional=False, seed=0, notes=()):
    """Compare an analytic gradient with central differences of f; return a GradientReport.

    f          function of a flat vector (P,) -> number (the cost)
    grad       the analytic gradient at theta: an array (P,) or a function theta -> (P,)
    theta      the point (P,)
    layout     [(name, offset, shape)] naming the parameter arrays (net.layout());
               default: one array called 'theta'
    h          the step of the central differences
    threshold  the largest relative error that passes
    subset     check at most this many random entries of each parameter array
    directional  also check g . v against a two-evaluation directional derivative
               along a random unit vector v
    seed       seed for the subset and the direction

    Nothing unverifiable passes: an entry whose analytic value is nan or inf, or
    where f is not finite at theta +- h e_i, fails with relative error inf and a
    reason in the report (column ``reason``). f must be finite at theta itself,
    and a step h lost in rounding or leaving the data's range is refused up front.
    """
    f = _as_function(f)
    theta = V.as_real_array(theta, "theta", ndim=1)
    h = V.as_positive(h, "h")
    threshold = V.as_positive(threshold, "threshold")
    subset = V.as_positive_int(subset, "subset", allow_none=True)
    directional = V.as_bool(directional, "directional")
    layout = layout if layout is not None else [("theta", 0, theta.shape)]
    rng = np.random.default_rng(V.as_seed(seed))
    indices = _choose_indices(layout, subset, rng)
    check_step(theta[indices], h, indices)

    g = grad(theta.copy()) if callable(grad) else grad
    g = V.as_real_array(g, "gradient", finite=False).reshape(-1)
    if g.shape != theta.shape:
        raise ValueError(f"gradient: expected {theta.size} entries (one per parameter), got {g.size}")
    f0 = _value(f, theta.copy())
    if not np.isfinite(f0):
        raise ValueError(f"f: returned {f0} at theta itself; the gradient of a cost that is not a "
                         "finite number cannot be checked")
    floor = rounding_floor(f0, h, threshold)
    f_plus, f_minus = central_values(f, theta, h, indices)
    numerical = central_difference(f_plus, f_minus, h)
    analytic = g[indices]
    params, idx, names = _entry_names(layout, indices)
    import pandas as pd

    entries = pd.DataFrame({
        "param": params, "index": idx, "entry": names, "flat_index": indices,
        "analytic": analytic, "numerical": numerical,
        "abs_error": absolute_error(analytic, numerical),
        "rel_error": relative_error(analytic, numerical, floor),
        "reason": unverifiable_reasons(analytic, f_plus, f_minus, numerical),
    })
    direction = None
    if directional:
        v = rng.standard_normal(theta.size)
        v /= np.linalg.norm(v)
        dn = directional_derivative(f, theta, v, h)
        with np.errstate(over="ignore", invalid="ignore"):
            da = float(g @ v)
        direction = {"analytic": da, "numerical": dn,
                     "rel_error": float(relative_error(da, dn, floor))}
    return GradientReport(entries, layout, threshold, h, floor, direction, n_params=theta.size, notes=notes)


def absolute_error(analytic, numerical):
    """|a - n| element-wise; inf where either is not finite (or the difference overflows)."""
    with np.errstate(over="ignore", invalid="ignore"):
        err = np.abs(analytic - numerical)
    err[~np.isfinite(err)] = np.inf
    return err


def unverifiable_reasons(analytic, f_plus, f_minus, numerical):
    """Why an entry cannot be compared ('' where it can): which value is not a finite number."""
    reasons = np.full(len(analytic), "", dtype=object)
    for bad, why in ((~np.isfinite(numerical), "the central difference overflows"),
                     (~np.isfinite(f_minus), "f(theta - h e_i) is not a finite number"),
                     (~np.isfinite(f_plus), "f(theta + h e_i) is not a finite number"),
                     (~np.isfinite(analytic), "the analytic value is not a finite number")):
        reasons[bad] = why
    return reasons


def check_gradient(net, X, Y, l2=0.0, cost=None, h=DEFAULT_H, threshold=DEFAULT_THRESHOLD,
                   subset=None, directional=False, seed=0, gradient=None):
    """Check backprop's gradient of J(net; X, Y) against central differences.

    Returns a GradientReport (.passed, .max_rel_error, .table, print(report)).
    ``gradient`` replaces handnet's backprop by another analytic gradient to
    check: a flat vector (P,), a list [(dW_l, db_l), ...], or a function
    (net, X, Y, l2) -> either. The network is not modified.
    """
    cost_name = resolve_cost(net, cost)
    X, Y, l2 = prepare(net, X, Y, l2)
    h = V.as_positive(h, "h")
    threshold = V.as_positive(threshold, "threshold")
    subset = V.as_positive_int(subset, "subset", allow_none=True)
    directional = V.as_bool(directional, "directional")
    work = net.copy()

    def J(theta):
        work.params[...] = theta          # write into the views, no re-validation per call
        zs, acts = work.forward_pass(X, check=False)
        return regularised_cost(work, zs, acts, Y, l2, cost_name)

    if gradient is None:
        g = _cost_and_gradient(work, X, Y, l2, cost_name)[1]
    else:
        g = gradient(net.copy(), X, Y, l2) if callable(gradient) else gradient
        if isinstance(g, (list, tuple)):
            g = _flatten_layers(g, net)
    return check(J, g, net.params.copy(), layout=net.layout(), h=h, threshold=threshold,
                 subset=subset, directional=directional, seed=seed, notes=_kink_notes(net, X, h))


def _kink_notes(net, X, h):
    """Warn when ReLU units sit within reach of their kink at z = 0.

    A step of h in one parameter moves z by at most about h * (1 + max|a_prev|);
    a unit closer than that to 0 may cross the kink, where f' jumps and the
    central difference is wrong (backprop is not).
    """
    if net.hidden.smooth or net.n_layers < 2:
        return []
    zs, acts = net.forward_pass(X, check=False)
    near = sum(int(np.sum(np.abs(z) <= 2 * h * (1 + np.max(np.abs(a))))) for z, a in zip(zs[:-1], acts[:-1]))
    if near == 0:
        return []
    return [f"{near} ReLU pre-activations lie within reach of the kink at z = 0 (for example a unit whose "
            "inputs are all 0 and whose bias is 0); central differences across a kink are wrong there, "
            "so mismatches in the layers after them need not be bugs. Use random biases or other samples."]


def _flatten_layers(pairs, net):
    """[(dW_l, db_l), ...] -> flat (P,), checking every shape."""
    if len(pairs) != net.n_layers:
        raise ValueError(f"gradient: expected {net.n_layers} (dW, db) pairs, got {len(pairs)}")
    parts = []
    for l, (pair, (n_in, n_out)) in enumerate(zip(pairs, net.shapes)):
        dW, db = (V.as_real_array(p, f"gradient[{l}]", finite=False) for p in pair)
        if dW.shape != (n_in, n_out):
            raise ValueError(f"gradient[{l}]: expected dW of shape {(n_in, n_out)}, got {dW.shape}")
        if db.reshape(-1).shape != (n_out,):
            raise ValueError(f"gradient[{l}]: expected db of shape {(n_out,)}, got {db.shape}")
        parts += [dW.reshape(-1), db.reshape(-1)]
    return np.concatenate(parts)
