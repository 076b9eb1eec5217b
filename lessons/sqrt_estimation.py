"""Square roots in your head: sqrt(x) ~ b + (x - b^2)/(2b), why it works, and how wrong it is.

Run from the project root:  python -m lessons.sqrt_estimation  [--quick] [--out DIR]
"""

# %% [markdown]
# # Estimating square roots in your head
#
# To estimate $\sqrt{x}$, take the largest square $b^2 \le x$ and add the excess over it
# divided by twice $b$:
#
#     sqrt(x) ~ b + (x - b^2) / (2b)
#
# * $\sqrt{10}$: $b = 3$, excess $10 - 9 = 1$, so $3 + 1/6 = 3.1667$ (true value 3.1623);
# * $\sqrt{18}$: $b = 4$, excess $18 - 16 = 2$, so $4 + 2/8 = 4.25$ (true value 4.2426).
#
# This lesson shows where the rule comes from (twice over: a line between neighbouring squares
# and the tangent line), proves how large its error is, and measures it on the numbers 2 to 100.

# %%
import math

import numpy as np
import pandas as pd

from lessons._common import new_figure, start
from lessons._sqrt_estimation_checks import as_scalar_or_array

if __name__ == "__main__":
    run = start("sqrt_estimation")  # in a notebook: quick mode from HANDNET_LESSON_QUICK=1

#: Above this, arrays take b from the floating-point square root alone (see floor_sqrt).
_INT64_SAFE = 2 ** 62


# %% [markdown]
# ## Step one: the largest square below $x$
#
# Everything starts from the whole number $b = \lfloor \sqrt{x} \rfloor$, and it has to be
# right: `int(np.sqrt(x))` is not always. For $x = n^2 - 1$ with $n > 2^{26}$ the exact root
# $n - 1/(2n) - \dots$ is closer to $n$ than the spacing of float64 numbers, so `np.sqrt` rounds it
# up to $n$ and the floor is one too big. So we compute $b$ with integers:
#
# * one number: Python's `math.isqrt(floor(x))`, exact for integers of any size
#   (a whole $b$ has $b^2 \le x$ exactly when $b^2 \le \lfloor x \rfloor$);
# * an array: a first guess from `np.sqrt`, which is off by at most one, then corrected with exact
#   int64 arithmetic: one down if $b^2 > n$, one up if $(b+1)^2 \le n$, where $n = \lfloor x \rfloor$.
#
# We also keep the excess $t = x - b^2$, with $0 \le t < 2b + 1$, computed exactly.

# %%
def split_at_square(x):
    """x = b^2 + t with b = floor(sqrt(x)) a whole number and 0 <= t < 2b + 1.

    One number: b is a Python int (exact for any size, via math.isqrt), t an int or float.
    Array (any shape): b and t are float64 arrays of x's shape; b is exact for x < 2^62
    (int64 correction of the np.sqrt guess). Above 2^62 b comes from np.sqrt alone and may be one
    too big, which moves the estimates below by less than one rounding (a relative 1/(2 b^2) < 2^-63).
    Negative, NaN, infinite or non-numeric x raises ValueError naming x.
    """
    kind, value = as_scalar_or_array(x)
    if kind == "int":
        b = math.isqrt(value)
        return b, value - b * b
    if kind == "float":
        n = math.floor(value)
        b = math.isqrt(n)
        return b, (n - b * b) + (value - n)          # value - n is exact
    arr = value
    small = arr < _INT64_SAFE
    if arr.dtype.kind == "f":
        n = np.floor(np.where(small, arr, 0.0)).astype(np.int64)
        frac = np.where(small, arr - np.floor(arr), 0.0)   # exact
    else:
        n = np.where(small, arr, 0).astype(np.int64)
        frac = np.zeros(arr.shape)
    b = np.floor(np.sqrt(n.astype(np.float64))).astype(np.int64)
    b -= b * b > n                                   # the guess was one too big
    b += (b + 1) * (b + 1) <= n                      # ... or one too small
    t = (n - b * b).astype(np.float64) + frac
    if not np.all(small):                            # huge values: float64 is all there is
        big = arr.astype(np.float64)
        b_big = np.floor(np.sqrt(big))
        b = np.where(small, b, b_big)
        t = np.where(small, t, big - b_big * b_big)
    return b.astype(np.float64), t


def floor_sqrt(x):
    """b = floor(sqrt(x)), the largest whole number with b^2 <= x (int for one number, float64 array
    for an array; see split_at_square)."""
    return split_at_square(x)[0]


if __name__ == "__main__":
    # The array path on the neighbours of squares m^2, whose floor roots we know by construction.
    rng = np.random.default_rng(0)
    roots = np.concatenate([np.arange(1, 2000), rng.integers(2 ** 26, 2 ** 31 - 1, size=2000)])
    n = np.concatenate([roots ** 2 - 1, roots ** 2, roots ** 2 + 1])
    exact = np.concatenate([roots - 1, roots, roots])
    naive = np.floor(np.sqrt(n.astype(np.float64)))
    ours = floor_sqrt(n)
    wrong = naive != exact
    below_big_square = ((exact + 1) ** 2 == n + 1) & (exact + 1 > 2 ** 26)
    run.say(f"""floor(np.sqrt(n)) is wrong for {int(np.sum(wrong))} of {n.size} test integers
        ({'all' if np.all(below_big_square[wrong]) else 'not all'} of them of the form m^2 - 1 with m > 2^26, where
        np.sqrt rounds up to m); the int64 correction gets {int(np.sum(ours == exact))} of {n.size} right.""")
    run.expect("floor_sqrt of m^2 - 1, m^2, m^2 + 1 is m - 1, m, m for every test m (up to 2^31)",
               np.array_equal(ours, exact))


# %% [markdown]
# ## The rule, and what it does below 1
#
# With $x = b^2 + t$ the estimate is $b + t/(2b)$. For $0 \le x < 1$ we have $b = 0$ and the rule
# would divide by zero; there we use the line between the neighbouring squares $0 = 0^2$ and
# $1 = 1^2$ (the next section's chord), which is simply $x$ itself: exact at 0 and at 1, and
# never further than $1/4$ from $\sqrt{x}$. Perfect squares come out exact: $t = 0$.
# First the two examples from the top, then squares up to $1000^2$ and a few numbers below 1.

# %%
def estimate_sqrt(x):
    """Mental square root: b + (x - b^2) / (2b) with b^2 the largest square <= x.

    estimate_sqrt(10) == 3 + 1/6 (3.1667) and estimate_sqrt(18) == 4.25; perfect squares are exact.
    For 0 <= x < 1 (b = 0) it returns x, the line between the squares 0 and 1.
    x: a real number >= 0 (returns float) or an array of any shape (returns float64, same shape).
    Negative, NaN, infinite or non-numeric input raises ValueError naming x.
    """
    b, t = split_at_square(x)
    if np.ndim(b) == 0:
        return float(t) if b == 0 else float(b + t / (2 * b))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, t, b + t / (2 * b))


if __name__ == "__main__":
    e10, e18 = estimate_sqrt(10), estimate_sqrt(18)
    run.say(f"""sqrt(10) ~ 3 + 1/6 = {e10:.4f} (true {math.sqrt(10):.4f}); sqrt(18) ~ 4 + 2/8 =
        {e18:.4f} (true {math.sqrt(18):.4f}).""")
    run.expect("estimate_sqrt(10) == 3 + 1/6 and estimate_sqrt(18) == 4.25", e10 == 3 + 1 / 6 and e18 == 4.25,
               f"{e10!r}, {e18!r}")
    below_one = np.array([0.0, 0.25, 0.5, 0.99])
    squares = np.arange(0, 1001) ** 2
    run.expect("perfect squares are exact; 0 <= x < 1 returns x (the chord between 0 and 1)",
               np.array_equal(estimate_sqrt(squares), np.arange(0, 1001.0))
               and np.array_equal(estimate_sqrt(below_one), below_one))


# %% [markdown]
# ## Why it works: a line between neighbouring squares
#
# Between $b^2$ and $(b+1)^2$ the square root climbs by exactly 1 while $x$ climbs by
# $(b+1)^2 - b^2 = 2b + 1$. The straight line through $(b^2, b)$ and $((b+1)^2, b+1)$, the *chord*, has
# slope $1/(2b+1)$:
#
#     chord:    sqrt(x) ~ b + (x - b^2) / (2b + 1)
#
# Dividing by $2b + 1$ is awkward in your head; dividing by $2b$ is easy, and that is the rule.
# The simplification is not arbitrary: $1/(2b)$ is the slope of $\sqrt{x}$ *at* $b^2$, because
# $d\sqrt{x}/dx = 1/(2\sqrt{x})$. So the mental rule is the tangent line at $b^2$, i.e. the
# first-order Taylor polynomial of $\sqrt{x}$ about $b^2$:
#
#     sqrt(x) ~ sqrt(b^2) + (x - b^2) / (2 sqrt(b^2)) = b + (x - b^2) / (2b)
#
# and it is also one step of Newton's method for $y^2 - x = 0$ started at $y_0 = b$:
# $y_1 = y_0 - (y_0^2 - x)/(2 y_0) = (y_0 + x / y_0) / 2$ (Heron's rule), which is the same number.
# We check that on the whole numbers 2 to 100.

# %%
def chord_estimate(x):
    """The line between neighbouring squares: b + (x - b^2) / (2b + 1); any shape, float64."""
    b, t = split_at_square(x)
    return float(b + t / (2 * b + 1)) if np.ndim(b) == 0 else b + t / (2 * b + 1)


def tangent_line(x, center):
    """First-order Taylor polynomial of sqrt at c: sqrt(c) + (x - c) / (2 sqrt(c)); x, c broadcast."""
    root = np.sqrt(np.asarray(center, dtype=np.float64))
    return root + (np.asarray(x, dtype=np.float64) - center) / (2 * root)


def newton_step(x, guess):
    """One Newton step for y^2 - x = 0 from y0 = guess: (y0 + x / y0) / 2 (Heron's form); broadcast."""
    guess = np.asarray(guess, dtype=np.float64)
    return (guess + np.asarray(x, dtype=np.float64) / guess) / 2


if __name__ == "__main__":
    whole = np.arange(2, 101)  # the whole numbers 2..100
    b_numbers = floor_sqrt(whole)
    via_newton = newton_step(whole, b_numbers)
    via_taylor = tangent_line(whole, b_numbers ** 2)
    rule = estimate_sqrt(whole)
    ulps = max(np.max(np.abs(via_newton - rule) / np.spacing(rule)), np.max(np.abs(via_taylor - rule) / np.spacing(rule)))
    run.say(f"""One Newton step (y0 + x/y0)/2 from y0 = b and the first-order Taylor polynomial of
        sqrt at b^2 give the rule's numbers on 2..100 to within {ulps:.0f} ulp: three derivations, one
        formula.""")
    run.expect("one Newton step from b and the Taylor polynomial at b^2 equal the rule to rounding (<= 2 ulp)",
               ulps <= 2, f"{ulps:.0f} ulp")


# %% [markdown]
# ## How wrong is it? Exactly:
#
# Write $\sqrt{x} = b + s$ with $0 \le s < 1$, so $t = x - b^2 = 2bs + s^2$. Then
#
#     tangent:  b + t/(2b)      - sqrt(x) = s^2 / (2b)            >= 0
#     chord:    b + t/(2b + 1)  - sqrt(x) = -s (1 - s) / (2b + 1)   <= 0
#
# The tangent of a concave function lies above it, so the mental rule always *over*estimates;
# its error grows like $s^2$ and is worst just below the next square ($s \to 1$), where it
# approaches $1/(2b)$. The chord lies below the curve, is exact at both squares and is worst
# in the middle ($s = 1/2$) with $1/(4(2b+1))$, about four times smaller than the tangent's worst.
# Relative to $\sqrt{x} \ge b$ the tangent's error is below $1/(2b^2)$: 12.5% at $b = 2$, 0.5% at $b = 10$.
#
# First the measurements: both estimates for every whole number from 2 to 100, and for each block
# $b^2 .. (b+1)^2 - 1$ its worst number.

# %%
def tangent_error_formula(x):
    """estimate_sqrt(x) - sqrt(x) = s^2 / (2b), with s = sqrt(x) - b (b >= 1); float64, x's shape."""
    b, _ = split_at_square(x)
    s = np.sqrt(np.asarray(x, dtype=np.float64)) - b
    return s * s / (2 * b)


def chord_error_formula(x):
    """chord_estimate(x) - sqrt(x) = -s (1 - s) / (2b + 1), with s = sqrt(x) - b; x's shape."""
    b, _ = split_at_square(x)
    s = np.sqrt(np.asarray(x, dtype=np.float64)) - b
    return -s * (1 - s) / (2 * b + 1)


def error_table(numbers):
    """One row per number x: b, sqrt(x), both estimates and their errors (absolute and relative)."""
    x = np.asarray(numbers, dtype=np.float64)
    root = np.sqrt(x)
    tangent = estimate_sqrt(x)
    chord = chord_estimate(x)
    return pd.DataFrame({
        "x": np.asarray(numbers), "b": floor_sqrt(x).astype(np.int64), "sqrt(x)": root,
        "b + t/(2b)": tangent, "tangent error": tangent - root, "tangent rel error": (tangent - root) / root,
        "b + t/(2b+1)": chord, "chord error": chord - root, "chord rel error": (chord - root) / root,
    }).set_index("x")


def worst_per_square(table):
    """For each b: the number with the largest relative tangent error, and the worst of each method."""
    groups = table.groupby("b")
    return pd.DataFrame({
        "numbers": groups.apply(lambda g: f"{g.index.min():g}..{g.index.max():g}", include_groups=False),
        "worst x (tangent)": groups["tangent rel error"].idxmax(),
        "tangent max rel err": groups["tangent rel error"].max(),
        "chord max |rel err|": groups["chord rel error"].apply(lambda c: c.abs().max()),
    })


if __name__ == "__main__":
    table = error_table(whole)
    per_b = worst_per_square(table)
    shown = table.loc[[2, 3, 4, 8, 9, 10, 15, 18, 24, 50, 63, 80, 99, 100]]
    run.table(shown.round(5), title="Some rows of the error table (all of 2..100 are computed):")
    run.table(per_b.assign(**{"tangent max rel err": per_b["tangent max rel err"].map("{:.2%}".format),
                              "chord max |rel err|": per_b["chord max |rel err|"].map("{:.2%}".format)}),
              title="Worst relative error for each b (numbers b^2 .. (b+1)^2 - 1):")
    worst_x = table["tangent rel error"].idxmax()
    worst_above_10 = table.loc[10:, "tangent rel error"].idxmax()
    run.say(f"""Over 2..100 the mental rule's largest relative error is
        {table['tangent rel error'].max():.1%} at x = {worst_x:g} (2 instead of {math.sqrt(worst_x):.3f}); from 10 on it is
        {table.loc[10:, 'tangent rel error'].max():.1%} (x = {worst_above_10:g}), and the mean over 2..100 is
        {table['tangent rel error'].mean():.2%}. In every block the worst number is the one just below
        the next square, (b+1)^2 - 1.""")
    expected_worst = (per_b.index.to_numpy() + 1) ** 2 - 1
    last_block_complete = per_b.index.to_numpy() < floor_sqrt(whole.max() + 1)
    run.expect("the worst number of each block b^2..(b+1)^2-1 is (b+1)^2 - 1, just below the next square",
               np.array_equal(per_b["worst x (tangent)"].to_numpy()[last_block_complete],
                              expected_worst[last_block_complete]))
    run.expect("the tangent rule never underestimates, the chord never overestimates (2..100)",
               (table["tangent error"] >= 0).all() and (table["chord error"] <= 0).all())


# %% [markdown]
# ### The formulas, checked between the whole numbers
#
# On a fine grid of $[1, 10000]$ the measured errors must equal $s^2/(2b)$ and $-s(1-s)/(2b+1)$ up to
# rounding, and the rule's relative error must stay below $1/(2b^2)$.

# %%
if __name__ == "__main__":
    x = np.linspace(1.0, 10_000.0, 100_000 if run.quick else 1_000_000)
    gap_t = np.max(np.abs((estimate_sqrt(x) - np.sqrt(x)) - tangent_error_formula(x)))
    gap_c = np.max(np.abs((chord_estimate(x) - np.sqrt(x)) - chord_error_formula(x)))
    run.expect("errors equal s^2/(2b) and -s(1-s)/(2b+1) on [1, 10000] (to rounding)",
               max(gap_t, gap_c) < 1e-12, f"largest gaps {gap_t:.1e}, {gap_c:.1e}")
    b = floor_sqrt(x)
    rel_tangent = (estimate_sqrt(x) - np.sqrt(x)) / np.sqrt(x)
    run.expect("relative error of the rule is below 1/(2b^2) everywhere on [1, 10000]",
               np.all(rel_tangent < 1 / (2 * b * b)), f"largest ratio {np.max(rel_tangent * 2 * b * b):.4f}")


# %% [markdown]
# ## Chord or tangent?
#
# The error formulas predict the chord (divide by $2b + 1$) is the more accurate line: its worst
# error is about four times smaller. Measured on 2..100, worst case and on average:

# %%
if __name__ == "__main__":
    t_abs, c_abs = table["tangent rel error"].abs(), table["chord rel error"].abs()
    tangent_wins = int(np.sum(t_abs < c_abs))
    chord_better = c_abs.max() < t_abs.max() and c_abs.mean() < t_abs.mean()
    run.say(f"""Chord against tangent on 2..100: the chord's worst relative error is {c_abs.max():.2%}
        against {t_abs.max():.2%}, its mean {c_abs.mean():.2%} against {t_abs.mean():.2%}. So dividing by 2b+1
        is {'more' if chord_better else 'not more'} accurate: about {t_abs.max() / c_abs.max():.1f} times in the worst case
        and {t_abs.mean() / c_abs.mean():.1f} times on average (the error formulas give a worst-case ratio
        1/(2b) : 1/(4(2b+1)) that approaches 4 for large b, and 2 on average).
        The tangent still wins on {tangent_wins} of {len(table)} numbers: those just above a square, where its
        error grows like s^2 and the chord's like s. The simplification buys easy arithmetic, not accuracy.""")
    run.expect("the chord (slope 1/(2b+1)) has smaller worst and mean relative error than 1/(2b) on 2..100",
               chord_better)


# %% [markdown]
# ## Figure
#
# Both lines against $\sqrt{x}$ up to 30, and their relative errors on 1..100: the tangent's saw-tooth
# above zero, the chord's arches below it.

# %%
def plot_estimates(x_max=30.0, n_points=2000, numbers=None):
    """Top: sqrt(x), the tangent rule and the chord on [0, x_max]. Bottom: relative errors
    (continuous lines, and dots at the whole numbers ``numbers``)."""
    fig = new_figure((10, 7))
    top, bottom = fig.subplots(2, 1, sharex=False)
    x = np.linspace(0.0, x_max, n_points)
    top.plot(x, np.sqrt(x), color="black", lw=2.2, label="sqrt(x)")
    top.plot(x, estimate_sqrt(x), color="C3", lw=1.2, label="b + (x - b^2)/(2b)   (tangent at b^2)")
    top.plot(x, chord_estimate(x), color="C0", lw=1.2, ls="--", label="b + (x - b^2)/(2b+1)   (chord)")
    squares = np.arange(0, int(math.isqrt(int(x_max))) + 1)
    top.plot(squares ** 2, squares, "o", color="black", ms=4)
    top.set_xlabel("x")
    top.legend(fontsize=9)
    top.set_title("The tangent rule jumps back to exact at every square; the chord is exact there too")

    numbers = np.arange(2, 101) if numbers is None else np.asarray(numbers)
    xc = np.linspace(1.0, float(numbers.max()), 20 * n_points)
    rootc = np.sqrt(xc)
    bottom.plot(xc, 100 * (estimate_sqrt(xc) - rootc) / rootc, color="C3", lw=0.8)
    bottom.plot(xc, 100 * (chord_estimate(xc) - rootc) / rootc, color="C0", lw=0.8, ls="--")
    root = np.sqrt(numbers)
    bottom.plot(numbers, 100 * (estimate_sqrt(numbers) - root) / root, "o", color="C3", ms=3,
                label="tangent rule, whole numbers")
    bottom.plot(numbers, 100 * (chord_estimate(numbers) - root) / root, "o", color="C0", ms=3,
                label="chord, whole numbers")
    bottom.axhline(0, color="grey", lw=0.6)
    bottom.set_yscale("symlog", linthresh=0.1)
    bottom.set_xlabel("x")
    bottom.set_ylabel("relative error, %  (symlog)")
    bottom.legend(fontsize=9)
    bottom.set_title("Errors: the tangent overestimates, worst just below the next square; the chord underestimates")
    return fig


if __name__ == "__main__":
    run.figure(plot_estimates(numbers=whole, n_points=500 if run.quick else 2000), "sqrt_estimates.png")


# %%
if __name__ == "__main__":
    run.end()
