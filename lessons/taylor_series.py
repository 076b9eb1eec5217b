"""Taylor series: coefficients f^(i)(b)/i!, partial sums, error against distance, and piecewise evaluation.

Run from the project root:  python -m lessons.taylor_series  [--quick] [--out DIR]
"""

# %% [markdown]
# # Taylor series
#
# Near a point $b$ a smooth function looks like a polynomial in $h = x - b$:
#
#     f(x) = a_0 + a_1 (x - b) + a_2 (x - b)^2 + ...      with   a_i = f^(i)(b) / i!
#
# Differentiate the right-hand side $i$ times and set $x = b$: every term but the
# $i$-th vanishes, and that one leaves $i! \, a_i$. So $a_i = f^{(i)}(b) / i!$ is the
# only choice that makes the polynomial agree with $f$ in value *and* in every
# derivative at $b$. About $b = 0$ the series is called a Maclaurin series.
#
# This lesson computes the coefficients for three functions from their
# derivatives, watches the partial sums $S_n = \sum_{i<n} a_i h^i$ close in on the
# function, measures how the error grows with the distance from the centre, and
# ends with the trick maths libraries use: never stray far from a centre, by
# keeping several centres and picking the nearest one.

# %%
import math

import numpy as np
import pandas as pd

from lessons._common import start
from lessons._taylor_series_plots import (PARTIAL_SUM_PANELS, centre_label, plot_error_vs_distance,
                                          plot_partial_sums, plot_piecewise)

if __name__ == "__main__":
    run = start("taylor_series")  # in a notebook: quick mode from HANDNET_LESSON_QUICK=1

#: The three functions of the lesson and NumPy's own versions (the reference).
FUNCTIONS = {"exp": np.exp, "cos": np.cos, "ln": np.log}

#: cos(i*pi/2) and sin(i*pi/2) for i mod 4: exactly 1, 0, -1, 0 and 0, 1, 0, -1.
_COS_QUARTER = np.array([1.0, 0.0, -1.0, 0.0])
_SIN_QUARTER = np.array([0.0, 1.0, 0.0, -1.0])


# %% [markdown]
# ## The coefficients, from the derivatives
#
# * $e^x$: every derivative is $e^x$, so $a_i = e^b / i!$. About 0: $1, 1, 1/2, 1/6, ...$
# * $\cos x$: each derivative turns the angle a quarter turn, $\cos^{(i)}(x) = \cos(x + i\pi/2)$,
#   so $a_i = \cos(b + i\pi/2) / i!$. About 0: $1, 0, -1/2, 0, 1/24$; about $\pi$ the signs
#   flip: $-1, 0, 1/2, 0, -1/24$. (We evaluate $\cos(b + i\pi/2) = \cos b \cos(i\pi/2) - \sin b \sin(i\pi/2)$
#   with the exact values $0, \pm 1$ of the quarter turns, so about 0 the zeros are exact zeros.)
# * $\ln x$ (centre $b > 0$): $a_0 = \ln b$ and, for $i \ge 1$, $f^{(i)}(b) = (-1)^{i+1} (i-1)! / b^i$.
#   Mind the $i!$: dividing by it leaves $a_i = (-1)^{i+1} / (i \, b^i)$, so about 1 the
#   coefficients are $0, 1, -1/2, 1/3, -1/4, ...$ -- not $1, -1, 2, -6$, which are the derivatives.

# %%
def inverse_factorials(n):
    """1/i! for i = 0..n-1 as a float64 array of shape (n,), each value correctly rounded.

    Python integers hold i! exactly, so 1/i! is rounded once; past i = 177 it underflows to 0.
    The loop runs over the n terms of a series, never over data.
    """
    out = np.zeros(n)
    factorial = 1
    for i in range(n):
        factorial *= max(i, 1)
        out[i] = 1 / factorial
        if out[i] == 0.0:
            break
    return out


def _check_center(center):
    if isinstance(center, (bool, np.bool_)) or not isinstance(center, (int, float, np.integer, np.floating)):
        raise ValueError(f"center: expected a real number, got {type(center).__name__} {center!r}")
    try:
        value = float(center)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"center: expected a finite number, got {center!r}")
    return value


def _check_n_terms(n_terms):
    if isinstance(n_terms, (bool, np.bool_)) or not isinstance(n_terms, (int, np.integer)):
        raise ValueError(f"n_terms: expected an integer >= 1, got {type(n_terms).__name__} {n_terms!r}")
    if n_terms < 1:
        raise ValueError(f"n_terms: expected an integer >= 1, got {n_terms}")
    return int(n_terms)


def taylor_coefficients(name, center, n_terms):
    """Coefficients a_0..a_{n-1} of f(x) ~ sum_i a_i (x - center)^i, with a_i = f^(i)(center) / i!.

    name: "exp" (a_i = e^b / i!), "cos" (a_i = cos(b + i pi/2) / i!) or "ln"
    (a_0 = ln b, a_i = (-1)^(i+1) / (i b^i) for i >= 1; needs b > 0).
    center: the real number b; n_terms: an integer >= 1.  Returns float64 of shape (n_terms,).
    A bad argument raises ValueError naming it.
    """
    if not isinstance(name, str) or name not in FUNCTIONS:
        raise ValueError(f"name: expected one of {sorted(FUNCTIONS)}, got {name!r}")
    b = _check_center(center)
    n = _check_n_terms(n_terms)
    i = np.arange(n)
    if name == "exp":
        scale = math.exp(b) if b < 709.78 else math.inf
        if not math.isfinite(scale):
            raise ValueError(f"center: e^center overflows float64 for center = {b!r}")
        return scale * inverse_factorials(n)
    if name == "cos":
        turned = math.cos(b) * _COS_QUARTER[i % 4] - math.sin(b) * _SIN_QUARTER[i % 4]
        return turned * inverse_factorials(n)
    if b <= 0:
        raise ValueError(f"center: ln needs center > 0, got {b!r}")
    coefficients = np.empty(n)
    coefficients[0] = math.log(b)
    k = i[1:].astype(np.float64)
    with np.errstate(over="ignore", divide="ignore"):
        coefficients[1:] = np.where(k % 2 == 1, 1.0, -1.0) / (k * np.power(b, k))
    return coefficients


if __name__ == "__main__":
    known = {("exp", 0.0): [1, 1, 1 / 2, 1 / 6, 1 / 24],
             ("cos", 0.0): [1, 0, -1 / 2, 0, 1 / 24],
             ("cos", np.pi): [-1, 0, 1 / 2, 0, -1 / 24],
             ("ln", 1.0): [0, 1, -1 / 2, 1 / 3, -1 / 4]}
    rows = {f"{name} about {centre_label(b)}": taylor_coefficients(name, b, 5) for name, b in known}
    run.table(pd.DataFrame(rows, index=[f"a_{i}" for i in range(5)]).T.round(6) + 0.0,
              title="First five coefficients a_i = f^(i)(b)/i!:")
    worst = max(np.max(np.abs(taylor_coefficients(name, b, 5) - np.array(v))) for (name, b), v in known.items())
    run.expect("coefficients match 1/i!; 1, 0, -1/2, 0, 1/24; -1, 0, 1/2, 0, -1/24; 0, 1, -1/2, 1/3, -1/4",
               worst < 1e-15, f"largest difference {worst:.1e}")


# %% [markdown]
# ## Partial sums
#
# $S_n(x) = \sum_{i<n} a_i (x - b)^i$. To draw all of $S_1, S_2, \dots$ at once we stack
# the terms $a_i h^i$ in an array and take a cumulative sum over $i$. To evaluate a single
# polynomial, Horner's rule $((a_{n-1} h + a_{n-2}) h + \dots) h + a_0$ uses $n - 1$
# multiplications and no powers; it is what library code does.
#
# Two partial sums to watch: $e = e^1 = \sum 1/i!$, which converges fast, and $\ln 2$ from the series
# about 1, the slowest convergent case: $x = 2$ is the edge of the interval where it converges.
# The figure draws $S_n$ for four series: each hugs $f$ near its centre and peels away further out.

# %%
def partial_sums(coefficients, center, x):
    """All partial sums S_k(x) = sum_{i<=k} a_i (x - center)^i for k = 0..n-1.

    coefficients: (n,); x: any shape S.  Returns shape (n, *S); row k holds S_{k+1} in the
    lesson's notation (k + 1 terms).
    """
    a = np.asarray(coefficients, dtype=np.float64)
    h = np.asarray(x, dtype=np.float64) - center
    powers = h[None, ...] ** np.arange(a.size).reshape((-1,) + (1,) * h.ndim)
    return np.cumsum(a.reshape((-1,) + (1,) * h.ndim) * powers, axis=0)


def taylor_polynomial(coefficients, center, x):
    """P(x) = sum_i a_i (x - center)^i by Horner's rule; x: any shape, returns that shape."""
    h = np.asarray(x, dtype=np.float64) - center
    value = np.zeros_like(h)
    for a in np.asarray(coefficients, dtype=np.float64)[::-1]:   # one pass per term, not per x
        value = value * h + a
    return value


if __name__ == "__main__":
    e_sums = partial_sums(taylor_coefficients("exp", 0.0, 20), 0.0, 1.0)
    ln_sums = partial_sums(taylor_coefficients("ln", 1.0, 1000), 1.0, 2.0)
    e_table = pd.DataFrame({"S_n(1)": e_sums, "error": np.abs(e_sums - math.e)},
                           index=pd.RangeIndex(1, 21, name="n terms"))
    run.table(e_table.iloc[[0, 1, 2, 3, 5, 7, 9, 11, 13, 15, 17, 19]], title="Partial sums of e^1 = sum 1/i!:")
    n_rounding = int(e_table.index[np.argmax(e_table["error"].to_numpy() <= 2 * np.finfo(float).eps)])
    run.say(f"""
        Eight terms give e = {e_sums[7]:.8f} (error {abs(e_sums[7] - math.e):.1e}); {n_rounding} terms reach
        float64 rounding (error {abs(e_sums[n_rounding - 1] - math.e):.1e}). The ln series about 1 is much
        slower at x = 2, the edge of where it converges: 10 terms give ln 2 = {ln_sums[9]:.6f}, 1000 terms
        {ln_sums[999]:.6f} (error {abs(ln_sums[999] - math.log(2)):.1e}, about 1/(2n)).""")
    shown_terms = (1, 2, 3, 5, 9)
    sum_panels = []
    for name, b, (lo, hi), ylim in PARTIAL_SUM_PANELS:
        x = np.linspace(lo, hi, 600)
        sums = partial_sums(taylor_coefficients(name, b, max(shown_terms)), b, x)
        sum_panels.append((name, b, x, FUNCTIONS[name](x), sums[np.array(shown_terms) - 1], ylim))
    run.figure(plot_partial_sums(sum_panels, shown_terms), "partial_sums.png")


# %% [markdown]
# ## How big is the error?
#
# Taylor's theorem with Lagrange's remainder: if $P_n$ keeps $n$ terms, then for some $\xi$
# between $b$ and $x$
#
#     f(x) - P_n(x) = f^(n)(xi) / n! * (x - b)^n
#
# so $|f - P_n| \le \max |f^{(n)}| \, |x - b|^n / n!$ over that interval. For $e^x$ the maximum is
# $e^{\max(b, x)}$; for $\cos$ it is at most 1; for $\ln$, $|f^{(n)}(\xi)| = (n-1)!/\xi^n$ is largest at
# the smaller end, giving $|x - b|^n / (n \min(b, x)^n)$. Two lessons hide in this bound.
# Near the centre the error falls like $|x - b|^n$: on log-log axes a line of slope $n$.
# And for $\ln$ about 1 the bound only shrinks with $n$ while $|x - 1| < 1$: the series of
# $\ln x$ about 1 converges for $0 < x \le 2$ and diverges beyond, however many terms you add.
#
# First the bound at work on the partial sums of $e^1$ above: it is $e/n!$ for $n$ terms.

# %%
def lagrange_bound(name, center, x, n_terms):
    """Upper bound on |f(x) - P_n(x)| for the n_terms-term Taylor polynomial about center.

    max |f^(n)| over [center, x] * |x - center|^n / n!   (elementwise, x: any shape).
    exp: e^max(b, x) |h|^n / n!;  cos: |h|^n / n!;  ln: |h|^n / (n min(b, x)^n).
    """
    n = _check_n_terms(n_terms)
    x = np.asarray(x, dtype=np.float64)
    h = np.abs(x - center)
    with np.errstate(over="ignore"):
        if name == "exp":
            return np.exp(np.maximum(center, x)) * h ** n * inverse_factorials(n + 1)[n]
        if name == "cos":
            return h ** n * inverse_factorials(n + 1)[n]
        if name == "ln":
            return (h / np.minimum(center, x)) ** n / n
    raise ValueError(f"name: expected one of {sorted(FUNCTIONS)}, got {name!r}")


def series_error(name, center, x, n_terms):
    """|f(x) - P_n(x)| against NumPy's own f, for each x (any shape)."""
    coefficients = taylor_coefficients(name, center, n_terms)
    return np.abs(FUNCTIONS[name](x) - taylor_polynomial(coefficients, center, x))


if __name__ == "__main__":
    e_table["Lagrange bound e/n!"] = [lagrange_bound("exp", 0.0, 1.0, n) for n in range(1, 21)]
    run.table(e_table.iloc[[0, 3, 7, 11, 15, 19]], title="Partial sums of e^1 beside their Lagrange bound:")
    within = bool(np.all(e_table["error"] <= e_table["Lagrange bound e/n!"] + 4 * np.spacing(math.e)))
    run.expect("e^1: every partial sum is within its Lagrange bound e/n!", within)


# %% [markdown]
# ### Error against distance: a line of slope $n$
#
# Now the error of $P_n$ for $n = 1, 2, 4, 8, 16$ terms at distances $d = |x - b|$ from $10^{-3}$ to 3,
# for $e^x$ and $\cos x$ about 0 and $\ln x$ about 1, beside the Lagrange bound. Fitting a line to
# $\log|\text{error}|$ against $\log d$ for $0.01 \le d \le 0.1$ measures the exponent $p$ in
# error $\approx C d^p$.

# %%
def error_vs_distance(name, center, distances, n_terms_list):
    """Errors and Lagrange bounds at x = center + d for each d and each number of terms.

    Returns (errors, bounds), each of shape (len(n_terms_list), len(distances)).
    """
    x = center + np.asarray(distances, dtype=np.float64)
    errors = np.array([series_error(name, center, x, n) for n in n_terms_list])
    bounds = np.array([lagrange_bound(name, center, x, n) for n in n_terms_list])
    return errors, bounds


def loglog_slope(distances, errors):
    """Least-squares slope of log|error| against log(distance): the p in error ~ C d^p."""
    return float(np.polyfit(np.log(distances), np.log(errors), 1)[0])


if __name__ == "__main__":
    distances = np.logspace(-3, np.log10(3.0), 200 if run.quick else 400)
    n_list = (1, 2, 4, 8, 16)
    panels = (("exp", 0.0), ("cos", 0.0), ("ln", 1.0))
    small = (distances >= 1e-2) & (distances <= 1e-1)
    slope_rows = []
    all_within = True
    for name, b in panels:
        d = distances[distances < 1] if name == "ln" else distances
        errors, bounds = error_vs_distance(name, b, d, n_list)
        all_within &= bool(np.all(errors <= bounds + 8 * np.finfo(float).eps * np.abs(FUNCTIONS[name](b + d))))
        slope_rows.append({"function": f"{name} about {b:g}",
                           **{f"n = {n}": loglog_slope(distances[small], series_error(name, b, b + distances[small], n))
                              for n in (1, 2, 3, 4)}})
    slopes = pd.DataFrame(slope_rows).set_index("function")
    run.table(slopes.round(2), title="Slope of log|error| against log(distance) for 0.01 <= d <= 0.1:")
    run.say("""
        For e^x and ln x the slope is the number of terms n: keep n terms and halving the distance
        divides the error by 2^n. For cos about 0 the odd coefficients are 0, so 1 and 2 terms leave
        the same error (slope 2), and 3 and 4 terms too (slope 4).""")
    expected_slopes = np.array([[1, 2, 3, 4], [2, 2, 4, 4], [1, 2, 3, 4]])
    slope_gap = float(np.max(np.abs(slopes.to_numpy() - expected_slopes)))
    run.expect("error ~ d^p near the centre: fitted slopes within 0.1 of p = n (exp, ln) and 2, 2, 4, 4 (cos)",
               slope_gap < 0.1, f"largest deviation {slope_gap:.3f}")
    run.expect("measured errors never exceed the Lagrange bound (exp, cos, ln inside |x - 1| < 1)", all_within)
    curves = [(name, b, *error_vs_distance(name, b, distances, n_list)) for name, b in panels]
    run.figure(plot_error_vs_distance(curves, distances, n_list), "error_vs_distance.png")


# %% [markdown]
# ### Beyond the radius of convergence
#
# The $\ln$ panel's bound grows with $n$ once $|x - 1| > 1$: there more terms make things worse.

# %%
if __name__ == "__main__":
    at_2_5 = [series_error("ln", 1.0, 2.5, n) for n in (4, 8, 16, 32)]
    run.say(f"""
        Beyond the radius of convergence more terms make it worse: ln 2.5 from the series about 1
        has error {at_2_5[0]:.2f} with 4 terms, {at_2_5[1]:.2f} with 8, {at_2_5[2]:.1f} with 16
        and {at_2_5[3]:.0f} with 32 (the terms 1.5^i / i grow without bound).""")
    run.expect("ln about 1 diverges at x = 2.5: error grows with 4, 8, 16, 32 terms",
               all(a < b for a, b in zip(at_2_5, at_2_5[1:])))


# %% [markdown]
# ## Many centres: how a maths library evaluates a function
#
# A single series is only good near its centre. So a library keeps many centres and,
# for each $x$, uses the one nearby. Two classic cases (the constants below are the ones in
# fdlibm, Sun's freely distributable libm, on which many C libraries are based):
#
# * $e^x$: write $x = k \ln 2 + r$ with $k$ the nearest integer to $x / \ln 2$, so $|r| \le \ln 2 / 2 \approx 0.35$.
#   Then $e^x = 2^k e^r$; multiplying by $2^k$ is exact (`np.ldexp` only changes the exponent),
#   and $e^r$ needs a short series because $|r|$ is small. Equivalently: the centres are the
#   points $k \ln 2$, and about each of them the series is $2^k \sum r^i / i!$.
# * $\cos x$: centres at the multiples $k\pi/2$, with $|r| \le \pi/4$. The coefficients about
#   $k\pi/2$ are $\cos((k + i)\pi/2)/i!$: they cycle through $1, 0, -1, 0$, so there are only
#   four distinct polynomials ($\cos r$, $-\sin r$, $-\cos r$, $\sin r$), chosen by $k \bmod 4$.
#
# The reduction $r = x - k c$ must itself be accurate: $c$ ($\ln 2$ or $\pi/2$) is split into
# a part `HI` with few significant bits, so that $k \cdot$ `HI` is exact, and a tiny correction
# `LO` (Cody and Waite's method). Real libraries add a minimax polynomial instead of the raw
# Taylor one and a careful reduction for huge $|x|$; the idea is the same.

# %%
#: ln 2 = LN2_HI + LN2_LO, LN2_HI with 32 significant bits (fdlibm e_exp.c, "ln2HI").
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
#: pi/2 = PIO2_HI + PIO2_LO, PIO2_HI with 31 significant bits (fdlibm e_rem_pio2.c, "pio2_1").
PIO2_HI = 1.57079632673412561417e+00
PIO2_LO = 6.07710050650619224932e-11


def reduce_argument(x, hi, lo):
    """x = k (hi + lo) + r with k = round(x / (hi + lo)); returns (k as int64, r), both x's shape.

    r = (x - k hi) - k lo: k hi is exact while |k| < 2^20, so r is accurate to a few ulp.
    """
    x = np.asarray(x, dtype=np.float64)
    k = np.rint(x / (hi + lo))
    return k.astype(np.int64), (x - k * hi) - k * lo


def exp_range_reduced(x, n_terms):
    """e^x = 2^k * P(r), x = k ln2 + r, |r| <= ln2/2, P the n_terms-term series of e^r about 0."""
    k, r = reduce_argument(x, LN2_HI, LN2_LO)
    return np.ldexp(taylor_polynomial(taylor_coefficients("exp", 0.0, n_terms), 0.0, r), k)


def cos_quarter_turn_coefficients(n_terms):
    """Coefficients about the centres k pi/2 for k mod 4 = 0..3: shape (4, n_terms),
    row q: cos((q + i) pi/2) / i!, exactly 0 or +-1/i!."""
    i = np.arange(_check_n_terms(n_terms))
    return _COS_QUARTER[(np.arange(4)[:, None] + i[None, :]) % 4] * inverse_factorials(i.size)


def cos_range_reduced(x, n_terms):
    """cos x = P_q(r), x = k pi/2 + r, |r| <= pi/4, q = k mod 4; P_q the series about k pi/2."""
    k, r = reduce_argument(x, PIO2_HI, PIO2_LO)
    table = cos_quarter_turn_coefficients(n_terms)
    all_four = np.stack([taylor_polynomial(row, 0.0, r) for row in table])   # (4, *x.shape)
    return np.take_along_axis(all_four, (k % 4)[None, ...], axis=0)[0]


def piecewise_error_table(n_terms_list, n_points):
    """Max error against NumPy for exp on [-50, 50] and cos on [-20, 20], per number of terms.

    exp: max relative error, range-reduced and with one series about 0; cos: max absolute error.
    Returns a DataFrame indexed by n_terms.
    """
    x_exp = np.linspace(-50.0, 50.0, n_points)
    x_cos = np.linspace(-20.0, 20.0, n_points)
    rows = []
    for n in n_terms_list:
        reduced = exp_range_reduced(x_exp, n)
        single = taylor_polynomial(taylor_coefficients("exp", 0.0, n), 0.0, x_exp)
        rows.append({
            "n_terms": n,
            "exp, reduced (max rel err)": np.max(np.abs(reduced / np.exp(x_exp) - 1)),
            "exp, one series about 0 (max rel err)": np.max(np.abs(single / np.exp(x_exp) - 1)),
            "cos, centres k*pi/2 (max abs err)": np.max(np.abs(cos_range_reduced(x_cos, n) - np.cos(x_cos))),
        })
    return pd.DataFrame(rows).set_index("n_terms")


if __name__ == "__main__":
    n_grid = 20_001 if run.quick else 200_001
    exact_quarters = cos_quarter_turn_coefficients(8)
    from_closed_form = np.stack([taylor_coefficients("cos", q * np.pi / 2, 8) for q in range(4)])
    gap = float(np.max(np.abs(exact_quarters - from_closed_form)))
    run.expect("coefficients about q*pi/2 cycle through the exact 0, +-1/i! (closed form agrees to rounding)",
               gap < 1e-15, f"largest difference {gap:.1e}")
    table = piecewise_error_table(range(2, 20, 2), n_grid)
    run.table(table.map(lambda v: f"{v:.1e}"),
              title=f"Max error against NumPy ({n_grid} points; exp on [-50, 50], cos on [-20, 20]):")
    eps = np.finfo(float).eps
    best_exp = table["exp, reduced (max rel err)"].min()
    best_cos = table["cos, centres k*pi/2 (max abs err)"].min()
    exp_terms = int(table.index[np.argmax(table["exp, reduced (max rel err)"].to_numpy() < 4 * eps)])
    cos_terms = int(table.index[np.argmax(table["cos, centres k*pi/2 (max abs err)"].to_numpy() < 4 * eps)])
    run.say(f"""
        With |r| <= ln2/2 = {math.log(2) / 2:.3f}, {exp_terms} terms bring e^x on all of [-50, 50]
        within a relative {best_exp:.1e} ({best_exp / eps:.1f} machine epsilon) of np.exp, itself
        correct to about one rounding, so that is as close as we can measure. One series about 0,
        even with 18 terms, has relative error {table['exp, one series about 0 (max rel err)'].iloc[-1]:.0e}:
        at x = -50 it adds huge terms of both signs to get a tiny number. For cos, |r| <= pi/4
        needs {cos_terms} terms to agree with np.cos to {best_cos:.1e}. This is how maths libraries
        evaluate functions: many centres, a short polynomial about the nearest one.""")
    run.expect("range-reduced exp matches np.exp to a few ulp on [-50, 50]", best_exp < 4 * eps,
               f"{best_exp:.1e} relative")
    run.expect("cos from centres k*pi/2 matches np.cos to a few ulp on [-20, 20]", best_cos < 4 * eps,
               f"{best_cos:.1e} absolute")


# %% [markdown]
# ### Where the error sits
#
# With 8 terms, the error of each piece plotted against $x$: every piece repeats the same curve,
# smallest at its centre and largest at its edges, where $|r|$ is largest.

# %%
if __name__ == "__main__":
    x_exp, x_cos = np.linspace(-4.0, 4.0, 4001), np.linspace(-2 * np.pi, 2 * np.pi, 4001)
    run.figure(plot_piecewise(x_exp, exp_range_reduced(x_exp, 8) / np.exp(x_exp) - 1,
                              x_cos, cos_range_reduced(x_cos, 8) - np.cos(x_cos), 8), "piecewise_error.png")


# %%
if __name__ == "__main__":
    run.end()
