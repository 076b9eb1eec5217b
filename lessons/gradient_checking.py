"""Gradient checking: central differences, the best step h, and a checker that catches planted bugs.

Run from the project root:  python -m lessons.gradient_checking [--quick] [--out DIR]
(the full run takes a few seconds; --quick sweeps h more coarsely)
"""

# %% [markdown]
# # Gradient checking
#
# Backprop is a few lines of code, and every one of them can be wrong without
# any error message: the network still trains, only worse. The cure is to
# compare the analytic gradient with a numerical one that knows nothing about
# backprop. This lesson builds that comparison, studies the one number it
# depends on (the step h), and then lets it loose on four bugs planted in an
# otherwise correct cost/gradient pair.

# %%
from __future__ import annotations

import lessons  # noqa: F401  first, so that NumPy's BLAS gets one thread (see lessons/__init__.py)
import numpy as np
import pandas as pd

import handnet as hn
from handnet import gradcheck
from lessons._common import start
from lessons._gradient_checking_plots import plot_bug_errors, plot_error_against_step

EPS = np.finfo(np.float64).eps          # 2.2e-16: the spacing of float64 numbers near 1
SEED = 0
THRESHOLD = gradcheck.DEFAULT_THRESHOLD  # 1e-6: the largest relative error that passes
H = gradcheck.DEFAULT_H                  # 1e-5: the step handnet uses

if __name__ == "__main__":
    run = start("gradient_checking")   # in a notebook: quick mode from HANDNET_LESSON_QUICK=1


# %% [markdown]
# ## Central against forward differences
#
# The derivative is a limit, J'(t) = lim_{h->0} [J(t + h) - J(t)] / h, so
# a small h should give a good approximation. The *central* difference is much
# better than the one-sided one, because its Taylor expansions cancel the
# h^2 terms:
#
#     J(t +- h) = J(t) +- h J'(t) + h^2/2 J''(t) +- h^3/6 J'''(t) + ...
#     [J(t + h) - J(t - h)] / (2h) = J'(t) + h^2/6 J'''(t) + ...        error O(h^2)
#     [J(t + h) - J(t)] / h        = J'(t) + h/2  J''(t)   + ...        error O(h)
#
# To compare an analytic value a with a numerical value n we use the
# relative error |a - n| / max(|a|, |n|): it is scale-free (a gradient entry
# of 1e-4 and one of 10 are judged alike) and at most 2 (when the signs differ).

# %%
def central_difference(f, t, h=H):
    """[f(t + h) - f(t - h)] / (2h): error h^2/6 f'''(t) + rounding.   f: float -> float."""
    return (f(t + h) - f(t - h)) / (2.0 * h)


def forward_difference(f, t, h=H):
    """[f(t + h) - f(t)] / h: error h/2 f''(t) + rounding (shown for comparison only)."""
    return (f(t + h) - f(t)) / h


def relative_error(a, n):
    """|a - n| / max(|a|, |n|), element-wise (0 where both are 0).   Any shape -> same."""
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    scale = np.maximum(np.abs(a), np.abs(n))
    return np.divide(np.abs(a - n), scale, out=np.zeros(np.broadcast(a, n).shape), where=scale > 0)


def warm_up_example(h=H):
    """d/dt e^t at t = 1 (exactly e) by both differences: {"central": err, "forward": err} (relative)."""
    exact = np.e
    return {"central": float(relative_error(exact, central_difference(np.exp, 1.0, h))),
            "forward": float(relative_error(exact, forward_difference(np.exp, 1.0, h)))}


if __name__ == "__main__":
    warm = warm_up_example()
    n_mine = central_difference(np.exp, 1.0)
    run.say(f"""
        d/dt e^t at t = 1 is e. With h = {H:g} the forward difference is off by {warm['forward']:.1e}
        (relative), the central difference by {warm['central']:.1e}: the O(h) against the O(h^2) error.""")
    run.expect("central difference beats the forward one by orders of magnitude",
               warm["central"] < 1e-3 * warm["forward"],
               f"{warm['central']:.1e} versus {warm['forward']:.1e}")
    run.expect("our relative error equals handnet.gradcheck.relative_error",
               float(relative_error(np.e, n_mine)) == float(gradcheck.relative_error(np.e, n_mine)),
               f"{float(relative_error(np.e, n_mine)):.3e}")


# %% [markdown]
# ## How small should h be?
#
# Not as small as possible. Two errors pull in opposite directions:
#
# * truncation, the h^2/6 J''' term above, which shrinks as h shrinks;
# * rounding: J is only known to about eps |J| (eps = 2.2e-16 in float64), and
#   the difference of two nearly equal numbers keeps that absolute error while
#   the division by 2h magnifies it, to about eps |J| / h.
#
# On log-log axes the sum is a V: slope +2 on the right (truncation), slope -1
# on the left (rounding). Setting the derivative of h^2 |J'''|/6 + eps |J|/h to
# zero gives the bottom,
#
#     h* = (3 eps |J| / |J'''|)^(1/3)  ~  (3 eps)^(1/3) = 8.7e-6   when |J| ~ |J'''|,
#
# where both errors are about eps^(2/3) ~ 1e-10 (the docstring of
# `handnet/gradcheck.py` gives the same argument). We measure the V on a real
# handnet cost, a 64-25-10 network on 100 digits with L2: for its largest
# gradient entry, and for the median of its 16 largest (the rounding side of a
# single entry is noisy; the median shows the trend).

# %%
def theory_best_h(truncation=1.0, rounding=1.0):
    """h* = (3 R eps / T)^(1/3), the minimum of T h^2/6 + R eps/h; T = R = 1 gives (3 eps)^(1/3).

    In absolute terms T = |J'''| and R = c |J| (c: J's rounding noise in units of eps |J|); for
    relative errors both are divided by |dJ/dtheta_i|, which leaves h* unchanged.
    """
    return (3.0 * rounding * EPS / truncation) ** (1.0 / 3.0)


def real_cost_problem(n_rows=100, l2=1.0, seed=SEED):
    """(J, theta, g, layout): a [64, 25, 10] network's cost J(theta) on n_rows digits and its gradient.

    J is hn.cost as a function of the flat parameter vector (P,); g (P,) is hn.cost_and_gradient's.
    """
    X, y = hn.datasets.load_digits()
    X, y = X[:n_rows], y[:n_rows]
    net = hn.MLP([64, 25, 10], seed=seed)
    work = net.copy()

    def J(theta):
        work.params[...] = theta
        return hn.cost(work, X, y, l2=l2)

    g = hn.cost_and_gradient(net, X, y, l2=l2)[1]
    return J, net.params.copy(), g, net.layout()


def entry_name(layout, i):
    """The name of flat index i in a layout [(name, offset, shape)], like 'W1[24, 3]'."""
    for name, offset, shape in reversed(layout):
        if i >= offset:
            return f"{name}[{', '.join(str(int(k)) for k in np.unravel_index(i - offset, shape))}]"
    raise IndexError(i)


def error_against_step(J, theta, g, indices, hs):
    """Relative errors of the central differences of the entries ``indices`` for each step h.

    rel[s, k] = |n_k(h_s) - g_k| / |g_k|.   hs (S,), indices (k,) -> (S, k).
    """
    return np.array([np.abs(gradcheck.numerical_gradient(J, theta, h=h, indices=indices) - g[indices])
                     for h in hs]) / np.abs(g[indices])


def loglog_slope(hs, errors):
    """The slope of the least-squares line through (log10 h, log10 error)."""
    return float(np.polyfit(np.log10(hs), np.log10(errors), 1)[0])


def step_sweep(quick=False, n_entries=16):
    """The study of h on the n_entries largest entries of a real gradient; a dict of arrays and numbers.

    hs (S,), rel (S, k) per entry, median (S,) over the entries, names; fitted on the median curve:
    slope_truncation (h >= 1e-3), slope_rounding (h <= 1e-8), T and R in rel = T h^2/6 and
    rel = R eps/h, best_h (the measured minimum), h_theory = (3 eps)^(1/3), h_fitted = (3 R eps/T)^(1/3).
    """
    J, theta, g, layout = real_cost_problem()
    idx = np.argsort(-np.abs(g), kind="stable")[:n_entries]
    hs = np.logspace(-1, -12, 23 if quick else 45)
    rel = np.maximum(error_against_step(J, theta, g, idx, hs), 1e-300)   # never log(0)
    median = np.median(rel, axis=1)
    right, left = hs >= 1e-3, hs <= 1e-8
    T = float(np.median(6.0 * median[right] / hs[right] ** 2))
    R = float(np.median(median[left] * hs[left] / EPS))
    best = int(np.argmin(median))
    return {"hs": hs, "rel": rel, "median": median, "names": [entry_name(layout, int(i)) for i in idx],
            "J": J(theta), "g_first": float(g[idx[0]]), "best_h": float(hs[best]),
            "best_rel": float(median[best]), "first_best_rel": float(rel[:, 0].min()),
            "slope_truncation": loglog_slope(hs[right], median[right]),
            "slope_rounding": loglog_slope(hs[left], median[left]),
            "T": T, "R": R, "h_theory": theory_best_h(), "h_fitted": theory_best_h(T, R)}


if __name__ == "__main__":
    sweep = step_sweep(run.quick)
    k = sweep["rel"].shape[1]
    T_small = sweep["T"] < sweep["R"]
    at_default = float(np.interp(np.log10(H), np.log10(sweep["hs"][::-1]), sweep["median"][::-1]))
    run.say(f"""
        The {k} largest entries of the gradient of a 64-25-10 network's cost on 100 digits (J = {sweep['J']:.4f},
        lambda = 1; the largest is {sweep['names'][0]} = {sweep['g_first']:.6f}), by central differences with
        {len(sweep['hs'])} steps h from 1e-1 to 1e-12. On the median relative error over the {k} entries:
          truncation side (h >= 1e-3): slope {sweep['slope_truncation']:.3f} (theory 2),  T = {sweep['T']:.3g}
          rounding side   (h <= 1e-8): slope {sweep['slope_rounding']:.3f} (theory -1), R = {sweep['R']:.3g}
          best measured h: {sweep['best_h']:.1e}, median relative error {sweep['best_rel']:.1e}
          ({sweep['names'][0]} alone reaches {sweep['first_best_rel']:.1e} at its own luckiest h).
        The rough theory (3 eps)^(1/3) = {sweep['h_theory']:.1e} assumes T = R. With the fitted T and R,
        (3 R eps / T)^(1/3) = {sweep['h_fitted']:.1e}: here T is {'smaller' if T_small else 'larger'} than R, so
        the best h is {'larger' if T_small else 'smaller'} than the rough theory's. handnet's h = 1e-5 sits in the
        flat bottom of the V either way: the median relative error there is {at_default:.1e}.""")
    run.expect("truncation error falls like h^2", abs(sweep["slope_truncation"] - 2.0) < 0.1,
               f"slope {sweep['slope_truncation']:.3f}")
    run.expect("rounding error grows like 1/h", abs(sweep["slope_rounding"] + 1.0) < 0.3,
               f"slope {sweep['slope_rounding']:.3f}")
    ratio = sweep["best_h"] / sweep["h_fitted"]
    run.expect("the best h is where the fitted asymptotes cross (within a factor of 4)", 0.25 < ratio < 4,
               f"measured {sweep['best_h']:.1e}, predicted {sweep['h_fitted']:.1e}")
    run.expect("at its best h the central difference is good to ~1e-10", sweep["best_rel"] < 1e-9,
               f"median relative error {sweep['best_rel']:.1e}")


# %% [markdown]
# ## The V in one picture
#
# Relative error against h for the median entry (black) and each of the others (grey), with
# the two fitted asymptotes dashed, the rough theory's h dotted and the best measured h starred.

# %%
if __name__ == "__main__":
    run.figure(plot_error_against_step(sweep), "error_vs_step.png")


# %% [markdown]
# ## handnet's checker
#
# `hn.check_gradient(net, X, Y, l2)` does this for every parameter (with
# h = 1e-5) and reports per parameter array: the largest and mean relative
# error, the worst entry with both values, and pass/fail against 1e-6. (An
# entry smaller than the rounding noise itself, ~1e-10, cannot be resolved by
# any finite difference; the checker compares such entries on an absolute
# scale instead.)

# %%
def small_network_check(l2=1.0, seed=SEED):
    """hn.check_gradient of a [64, 6, 10] network on 20 digits: the GradientReport."""
    X, y = hn.datasets.load_digits()
    net = hn.MLP([64, 6, 10], seed=seed)
    return hn.check_gradient(net, X[:20], y[:20], l2=l2)


if __name__ == "__main__":
    report = small_network_check()
    run.table(report, title="hn.check_gradient(MLP([64, 6, 10]), 20 digits, l2=1):")
    run.expect("handnet's backprop passes its own checker", report.passed,
               f"max relative error {report.max_rel_error:.1e} over {len(report.entries)} entries")


# %% [markdown]
# ## Four planted bugs
#
# Now a hand-written cost and gradient for a small 5-5-3 sigmoid network,
# with the parameters in one flat vector (handnet's layout: W_1, b_1, W_2, b_2,
# which the checker's reports call W0, b0, W1, b1 because Python counts from 0).
# It is correct unless we ask for one of four bugs, each a mistake people
# really make:
#
# 1. **sign flip**: the output delta written as (y - h)/m instead of (h - y)/m.
# 2. **missing 1/m**: the data gradient summed over the examples but not
#    averaged, while the cost is averaged.
# 3. **bias regularised in the cost only**: the L2 term of the cost includes
#    the biases, lambda/(2m) (sum W^2 + sum b^2), but the gradient leaves them
#    out. The published "Crafting Neural Networks by hand" notebook does
#    exactly this (its cost sums theta^2 over every row, bias row included;
#    its gradient skips the bias row). Either convention is fine; mixing them
#    is a bug.
# 4. **transposed weight gradient**: dW_1 returned as (X.T @ delta_1).T. We
#    plant it in the *square* first layer (5 x 5): there the wrong matrix has
#    the right shape and only its values can give it away. In the 5 x 3 second
#    layer the transpose has shape (3, 5), and the packing of the gradient
#    refuses it by its shape alone, before any checking.
#
# Each version is handed to handnet's checker machinery
# (`handnet.gradcheck.check(f, grad, theta, layout)`), which needs nothing but
# a function of the flat vector and a gradient.

# %%
SIZES = [5, 5, 3]
N_ROWS = 8
LAMBDA = 1.0
BUGS = ("sign flip", "missing 1/m", "bias regularised in the cost only", "transposed weight gradient")


def small_problem(seed=SEED):
    """(theta, X, Y, layout): random parameters N(0, 0.8^2) (biases too), 8 random rows, one-hot targets."""
    rng = np.random.default_rng(seed)
    net = hn.MLP(SIZES, seed=seed)
    theta = rng.normal(scale=0.8, size=net.n_params)
    X = rng.normal(size=(N_ROWS, SIZES[0]))
    Y = hn.one_hot(rng.integers(0, SIZES[-1], size=N_ROWS), SIZES[-1])
    return theta, X, Y, net.layout()


def unpack(theta):
    """theta (P,) -> W1 (5, 5), b1 (5,), W2 (5, 3), b2 (3,): views in handnet's order."""
    n0, n1, n2 = SIZES
    sizes = [n0 * n1, n1, n1 * n2, n2]
    W1, b1, W2, b2 = np.split(theta, np.cumsum(sizes)[:-1])
    return W1.reshape(n0, n1), b1, W2.reshape(n1, n2), b2


def pack(dW1, db1, dW2, db2):
    """The gradient as one flat vector, refusing any array of the wrong shape (ValueError)."""
    n0, n1, n2 = SIZES
    for name, array, shape in (("dW1", dW1, (n0, n1)), ("db1", db1, (n1,)),
                               ("dW2", dW2, (n1, n2)), ("db2", db2, (n2,))):
        if array.shape != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {array.shape}")
    return np.concatenate([dW1.ravel(), db1, dW2.ravel(), db2])


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^{-z}) = [1 or e] / (1 + e) for z >= 0 or z < 0, e = exp(-|z|) (no overflow)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def cost(theta, X, Y, lam=LAMBDA, bug=None):
    """J = (1/m) sum [softplus(z_2) - Y z_2] + lambda/(2m) sum W^2   (+ sum b^2 with the bias bug)."""
    W1, b1, W2, b2 = unpack(theta)
    m = X.shape[0]
    z2 = sigmoid(X @ W1 + b1) @ W2 + b2
    J = np.sum(np.logaddexp(0.0, z2) - Y * z2) / m + lam / (2 * m) * (np.sum(W1**2) + np.sum(W2**2))
    if bug == "bias regularised in the cost only":
        J += lam / (2 * m) * (np.sum(b1**2) + np.sum(b2**2))          # BUG 3: biases penalised here ...
    return float(J)


def gradient(theta, X, Y, lam=LAMBDA, bug=None, transpose_layer=1):
    """dJ/dtheta (P,) by backprop, with one of BUGS planted if ``bug`` names it.

    delta_2 = (h - Y)/m;  delta_1 = (delta_2 @ W2.T) * a1 (1 - a1);
    dW_l = a_{l-1}.T @ delta_l + (lambda/m) W_l;  db_l = sum over rows of delta_l.
    transpose_layer: which layer's dW the transpose bug hits (1: square 5x5, 2: 5x3).
    """
    W1, b1, W2, b2 = unpack(theta)
    m = X.shape[0]
    a1 = sigmoid(X @ W1 + b1)
    h = sigmoid(a1 @ W2 + b2)
    delta2 = (h - Y) / m
    if bug == "sign flip":
        delta2 = (Y - h) / m                                          # BUG 1
    if bug == "missing 1/m":
        delta2 = h - Y                                                # BUG 2
    delta1 = (delta2 @ W2.T) * a1 * (1.0 - a1)
    dW1 = X.T @ delta1 + lam / m * W1
    dW2 = a1.T @ delta2 + lam / m * W2
    # (BUG 3 is what is *missing* here: no lam/m * b term, although the buggy cost has one.)
    if bug == "transposed weight gradient":
        if transpose_layer == 1:
            dW1 = dW1.T                                               # BUG 4
        else:
            dW2 = dW2.T
    return pack(dW1, delta1.sum(axis=0), dW2, delta2.sum(axis=0))


def check_version(bug=None, seed=SEED):
    """handnet.gradcheck.check of the (cost, gradient) pair with ``bug`` planted: a GradientReport."""
    theta, X, Y, layout = small_problem(seed)
    return gradcheck.check(lambda t: cost(t, X, Y, bug=bug), gradient(theta, X, Y, bug=bug), theta,
                           layout=layout, h=H, threshold=THRESHOLD)


def planted_bug_reports(seed=SEED):
    """{"correct": report, "sign flip": report, ...}: the checker's verdict on each version."""
    return {name: check_version(None if name == "correct" else name, seed) for name in ("correct",) + BUGS}


def transposed_non_square_is_refused(seed=SEED):
    """The transpose bug in the 5x3 layer: (True, message) if pack() refuses it by shape."""
    theta, X, Y, _ = small_problem(seed)
    try:
        gradient(theta, X, Y, bug="transposed weight gradient", transpose_layer=2)
    except ValueError as error:
        return True, str(error)
    return False, ""


def bug_summary(reports):
    """One row per version: verdict, entries above the threshold, the worst entry and its numbers."""
    rows = []
    for name, r in reports.items():
        w = r.worst
        rows.append({"version": name, "caught": not r.passed, "failing entries": len(r.failures),
                     "checked": len(r.entries), "worst entry": w["entry"], "analytic": w["analytic"],
                     "numerical": w["numerical"], "rel. error": w["rel_error"]})
    return pd.DataFrame(rows).set_index("version")


if __name__ == "__main__":
    reports = planted_bug_reports()
    summary = bug_summary(reports)
    run.table(summary.to_string(float_format=lambda v: f"{v: .3e}"),
              title=f"The checker against the planted bugs ({SIZES} network, {N_ROWS} rows, lambda = {LAMBDA:g}):")
    theta, X, Y, _ = small_problem()
    net = hn.MLP(SIZES)
    net.params = theta
    J_hn, g_hn = hn.cost_and_gradient(net, X, Y, l2=LAMBDA)
    same = abs(cost(theta, X, Y) - J_hn) + np.max(np.abs(gradient(theta, X, Y) - g_hn))
    run.expect("the correct hand-written pair equals hn.cost_and_gradient", same < 1e-12, f"difference {same:.1e}")
    run.expect("the correct version passes", reports["correct"].passed,
               f"max relative error {reports['correct'].max_rel_error:.1e}")
    for name in BUGS:
        r = reports[name]
        run.expect(f"bug caught: {name}", not r.passed,
                   f"worst {r.worst['entry']}: analytic {r.worst['analytic']:.4f}, numerical "
                   f"{r.worst['numerical']:.4f}, rel. error {r.worst['rel_error']:.2f}; "
                   f"{len(r.failures)} of {len(r.entries)} entries fail")


# %% [markdown]
# ## Where each bug shows, and why
#
# The per-entry relative errors of each version, each layer drawn as the notebook's
# theta = [b; W] (the bias on top): a sign flip lights up everything, the missing 1/m too,
# the bias bug only the bias rows, and the transpose everything *but* the diagonal, which
# a transpose leaves alone. In the non-square second layer a transpose never gets that far.

# %%
if __name__ == "__main__":
    bias_fail = set(reports["bias regularised in the cost only"].failures["param"])
    run.expect("the bias bug shows up in the biases only", bias_fail <= {"b0", "b1"} and bool(bias_fail),
               f"failing arrays {sorted(bias_fail)}")
    t_fail = reports["transposed weight gradient"].failures
    n = SIZES[1]
    off_diagonal = {f"W0[{j}, {k}]" for j in range(n) for k in range(n) if j != k}
    run.expect("the transpose is caught off the diagonal only", set(t_fail["entry"]) <= off_diagonal,
               f"{len(t_fail)} failing entries, all among the {len(off_diagonal)} off-diagonal entries of W0")
    refused, message = transposed_non_square_is_refused()
    run.expect("a transposed non-square dW is caught by its shape alone", refused, message)
    run.say(f"""
        Why each is caught: the sign flip reverses the data part of every entry (relative error near 2);
        the missing 1/m multiplies it by m = {N_ROWS}; the bias bug's cost has an extra slope lambda b / m in
        every bias that its gradient lacks; the transpose swaps W[j, k] and W[k, j]. Note the sign flip
        would still *train* the network uphill without a single error message: only the checker says so.""")
    run.figure(plot_bug_errors(reports, unpack, THRESHOLD), "planted_bug_errors.png")


# %%
if __name__ == "__main__":
    run.end()
