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
    shape (P,) (or (len(indices),)). theta is restored exactly afterwards.

    This is a loop over parameters by nature: each entry needs its own two
    evaluations of f (every evaluation is itself vectorised over samples).
    """
    theta = np.asarray(theta, dtype=np.float64)
    h = V.as_positive(h, "h")
    work = theta.copy()
    indices = np.arange(theta.size) if indices is None else np.asarray(indices)
    flat = work.reshape(-1)
    out = np.empty(len(indices))
    for j, i in enumerate(indices):
        original = flat[i]
        flat[i] = original + h
        f_plus = f(work)
        flat[i] = original - h
        f_minus = f(work)
        flat[i] = original
        out[j] = (f_plus - f_minus) / (2.0 * h)
    return out


def directional_derivative(f, theta, v, h=DEFAULT_H):
    """D_v f(theta) ~ [f(theta + h v) - f(theta - h v)] / (2h): two evaluations of f.

    Compared with g . v, it checks every entry of g at once along a random v.
    """
    theta = np.asarray(theta, dtype=np.float64)
    return (f(theta + h * v) - f(theta - h * v)) / (2.0 * h)


def relative_error(analytic, numerical, floor=0.0):
    """|a - n| / max(|a|, |n|, floor), element-wise; 0 where both are 0 and floor is 0."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
    diff = np.abs(a - n)
    return np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)


def rounding_floor(f_value, h, threshold):
    """floor = rounding_noise / threshold, rounding_noise = 8 eps max(1, |J|) / h.

    Below the floor an entry is compared on an absolute scale: relative error
    = |a - n| / floor, so ``rel <= threshold`` means ``|a - n| <= rounding_noise``.
    """
    return 8.0 * EPS * max(1.0, abs(float(f_value))) / h / threshold


class GradientReport:
    """The result of a gradient check.

    Attributes
    ----------
    passed          True if every checked entry (and the directional check) is within threshold
    max_rel_error   the largest relative error over all checked entries
    table           pandas DataFrame, one row per parameter array (W0, b0, W1, ...):
                    shape, entries checked, max/mean relative error, the worst
                    entry with its index and both values, the course's
                    norm(n - a) / norm(n + a), pass/fail
    entries         pandas DataFrame, one row per checked entry
    failures        the rows of ``entries`` above the threshold, worst first
    norm_rel_diff   norm(n - a) / norm(n + a) over all checked entries: the course's single
                    number (checkNNGradients expects < 1e-9 with h = 1e-4)
    worst           the worst entry as a dict (param, index, analytic, numerical, rel_error)
    directional     dict with the directional check, or None
    """

    def __init__(self, entries, layout, threshold, h, floor, directional=None, n_params=None, notes=()):
        self.notes = list(notes)
        self.entries = entries
        self.threshold = threshold
        self.h = h
        self.floor = floor
        self.directional = directional
        self.n_params = n_params if n_params is not None else len(entries)
        rows = []
        for name, _, shape in layout:
            e = entries[entries["param"] == name]
            if len(e) == 0:
                continue
            w = e["rel_error"].idxmax()
            diff = np.linalg.norm(e["numerical"] - e["analytic"])
            total = np.linalg.norm(e["numerical"] + e["analytic"])
            rows.append({
                "param": name,
                "shape": shape,
                "checked": len(e),
                "max_rel_error": float(e["rel_error"].max()),
                "mean_rel_error": float(e["rel_error"].mean()),
                "worst_index": e.at[w, "index"],
                "analytic": float(e.at[w, "analytic"]),
                "numerical": float(e.at[w, "numerical"]),
                "norm_rel_diff": float(diff / total) if total > 0 else 0.0,
                "passed": bool(e["rel_error"].max() <= threshold),
            })
        import pandas as pd  # here, not at the top: the exercise checks import this module without pandas

        self.table = pd.DataFrame(rows)
        self.max_rel_error = float(entries["rel_error"].max()) if len(entries) else 0.0
        total = np.linalg.norm(entries["numerical"] + entries["analytic"])
        self.norm_rel_diff = (float(np.linalg.norm(entries["numerical"] - entries["analytic"]) / total)
                              if total > 0 else 0.0)
        self.failures = (entries[entries["rel_error"] > threshold]
                         .sort_values("rel_error", ascending=False).reset_index(drop=True))
        w = entries["rel_error"].idxmax() if len(entries) else None
        self.worst = None if w is None else {
            "param": entries.at[w, "param"], "index": entries.at[w, "index"],
            "entry": entries.at[w, "entry"], "analytic": float(entries.at[w, "analytic"]),
            "numerical": float(entries.at[w, "numerical"]), "rel_error": float(entries.at[w, "rel_error"]),
        }
        dir_ok = directional is None or directional["rel_error"] <= threshold
        self.passed = bool(self.max_rel_error <= threshold and dir_ok)

    def __bool__(self):
        return self.passed

    @staticmethod
    def describe_entry(row):
        """'W1[2, 0]: analytic 1.234e-02, numerical 2.468e-02, rel. error 3.3e-01'."""
        return (f"{row['entry']}: analytic {row['analytic']:.3e}, numerical {row['numerical']:.3e}, "
                f"rel. error {row['rel_error']:.1e}")

    def __str__(self):
        verdict = "PASSED" if self.passed else "FAILED"
        checked = len(self.entries)
        lines = [f"Gradient check {verdict}: max relative error {self.max_rel_error:.2e} "
                 f"(threshold {self.threshold:.0e}, h = {self.h:g}, {checked} of {self.n_params} entries; "
                 f"norm(n - a)/norm(n + a) = {self.norm_rel_diff:.1e})"]
        if len(self.table):
            t = self.table.copy()
            t["shape"] = t["shape"].map(str)
            t["worst_index"] = t["worst_index"].map(lambda i: str(list(i)) if isinstance(i, tuple) else str(i))
            for col in ("max_rel_error", "mean_rel_error", "norm_rel_diff"):
                t[col] = t[col].map(lambda v: f"{v:.2e}")
            for col in ("analytic", "numerical"):
                t[col] = t[col].map(lambda v: f"{v: .6e}")
            t["passed"] = t["passed"].map({True: "yes", False: "NO"})
            lines.append(t.to_string(index=False))
        if self.directional is not None:
            d = self.directional
            lines.append(f"random direction: analytic g.v {d['analytic']:.6e}, numerical {d['numerical']:.6e}, "
                         f"rel. error {d['rel_error']:.1e} ({'ok' if d['rel_error'] <= self.threshold else 'WRONG'})")
        lines += [f"note: {note}" for note in self.notes]
        if len(self.failures):
            lines.append(f"{len(self.failures)} entries above the threshold; the worst:")
            for _, row in self.failures.head(5).iterrows():
                lines.append("  " + self.describe_entry(row))
        return "\n".join(lines)

    def __repr__(self):
        return f"<GradientReport {'passed' if self.passed else 'FAILED'} max_rel_error={self.max_rel_error:.2e}>"


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
    """
    theta = V.as_real_array(theta, "theta", ndim=1)
    h = V.as_positive(h, "h")
    threshold = V.as_positive(threshold, "threshold")
    subset = V.as_positive_int(subset, "subset", allow_none=True)
    g = grad(theta.copy()) if callable(grad) else grad
    g = V.as_real_array(g, "gradient").reshape(-1)
    if g.shape != theta.shape:
        raise ValueError(f"gradient: expected {theta.size} entries (one per parameter), got {g.size}")
    layout = layout if layout is not None else [("theta", 0, theta.shape)]
    rng = np.random.default_rng(V.as_seed(seed))

    indices = _choose_indices(layout, subset, rng)
    f0 = float(f(theta.copy()))
    floor = rounding_floor(f0, h, threshold)
    numerical = numerical_gradient(f, theta, h=h, indices=indices)
    analytic = g[indices]
    params, idx, names = _entry_names(layout, indices)
    import pandas as pd

    entries = pd.DataFrame({
        "param": params, "index": idx, "entry": names, "flat_index": indices,
        "analytic": analytic, "numerical": numerical,
        "abs_error": np.abs(analytic - numerical),
        "rel_error": relative_error(analytic, numerical, floor),
    })
    direction = None
    if directional:
        v = rng.standard_normal(theta.size)
        v /= np.linalg.norm(v)
        dn = directional_derivative(f, theta, v, h)
        da = float(g @ v)
        direction = {"analytic": da, "numerical": float(dn),
                     "rel_error": float(relative_error(da, dn, floor))}
    return GradientReport(entries, layout, threshold, h, floor, direction, n_params=theta.size, notes=notes)


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
    kinked = [l for l in range(net.n_layers - 1) if not net.activation(l).smooth]
    if not kinked:
        return []
    zs, acts = net.forward_pass(X, check=False)
    near = sum(int(np.sum(np.abs(zs[l]) <= 2 * h * (1 + np.max(np.abs(acts[l]))))) for l in kinked)
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
        dW, db = (V.as_real_array(p, f"gradient[{l}]") for p in pair)
        if dW.shape != (n_in, n_out):
            raise ValueError(f"gradient[{l}]: expected dW of shape {(n_in, n_out)}, got {dW.shape}")
        if db.reshape(-1).shape != (n_out,):
            raise ValueError(f"gradient[{l}]: expected db of shape {(n_out,)}, got {db.shape}")
        parts += [dW.reshape(-1), db.reshape(-1)]
    return np.concatenate(parts)
