"""Var X = E[(X - EX)^2] = E[X^2] - (EX)^2: a proof, and why the second form fails in floating point.

Run from the project root:  python -m lessons.variance_identity  [--quick] [--out DIR]
"""

# %% [markdown]
# # Two formulas for the variance
#
# The variance of a random variable $X$ with mean $\mu = E[X]$ is the mean squared distance
# from the mean, and it has a famous shortcut:
#
#     Var X = E[(X - mu)^2] = E[X^2] - (E X)^2
#
# **Proof.** Expand the square and use that $E$ is linear and $\mu$ is a constant:
#
#     E[(X - mu)^2] = E[X^2 - 2 mu X + mu^2] = E[X^2] - 2 mu E[X] + mu^2 = E[X^2] - 2 mu^2 + mu^2
#                   = E[X^2] - mu^2.
#
# The same lines hold for a data set $x_1, \dots, x_n$ with $E$ read as "the average over the
# data" ($\frac{1}{n} \sum$, what `np.var` computes by default, `ddof=0`); the sample variance
# with $n - 1$ only multiplies both sides by $n / (n - 1)$.
#
# In exact arithmetic the two forms are the same number. In floating point they are not, and the
# shortcut, popular because it needs only one pass over the data (accumulate $\sum x$ and $\sum x^2$),
# can be wildly wrong, even negative, when the mean is large compared with the spread.
# This lesson measures that, explains it, and shows the one-line fix.

# %%
import math

import numpy as np
import pandas as pd

from lessons._common import new_figure, start

if __name__ == "__main__":
    run = start("variance_identity")  # in a notebook: quick mode from HANDNET_LESSON_QUICK=1


# %% [markdown]
# ## The two forms, written as they read
#
# Both functions compute in the data's own dtype: NumPy's `mean` of a float32 array adds in
# float32 (pairwise summation), so float32 data show what a float32 program would get.

# %%
def variance_two_pass(x):
    """Var = mean((x - mean(x))^2): first pass for the mean, second for the squared deviations.

    x: (n,) float array; the arithmetic stays in x's dtype; returns a scalar of that dtype."""
    x = np.asarray(x)
    deviations = x - x.mean()
    return np.mean(deviations * deviations)


def variance_shortcut(x):
    """Var = mean(x^2) - mean(x)^2 (the one-pass 'textbook' form); x: (n,), in x's dtype."""
    x = np.asarray(x)
    mean = x.mean()
    return np.mean(x * x) - mean * mean


def reference_variance(x):
    """The variance of the stored values, accurate to about one float64 rounding.

    d = x - x[0] is exact in float64 (for float32 data and for float64 data within a factor 2 of
    x[0]); then mean and sum of squared deviations use math.fsum (exactly rounded sums)."""
    d = np.asarray(x, dtype=np.float64).ravel()
    d = d - d[0]
    mean = math.fsum(d) / d.size
    return math.fsum((d - mean) ** 2) / d.size


def relative_error(value, reference):
    """|value - reference| / |reference| in float64."""
    return abs(float(value) - reference) / abs(reference)


if __name__ == "__main__":
    n = 20_000 if run.quick else 200_000
    z = np.random.default_rng(0).standard_normal(n)
    for mean in (1.0, 1e4):
        x = (mean + z).astype(np.float32)
        run.say(f"""float32 data, n = {n}, sd 1, mean {mean:g}: the shortcut gives {variance_shortcut(x):.6g},
            the two-pass form {variance_two_pass(x):.6g}; the variance of the stored values is
            {reference_variance(x):.6g}.""")


# %% [markdown]
# ## Why the shortcut breaks: cancellation
#
# Take data with mean $\mu$ and standard deviation $\sigma$, with $\mu \gg \sigma$. Then
# $E[X^2] = \mu^2 + \sigma^2$ is a huge number, and the answer $\sigma^2$ is a tiny difference
# between two huge numbers. Each huge number is stored with a relative error of about the unit
# roundoff $u$ ($u = 2^{-53} \approx 1.1 \times 10^{-16}$ in float64, $2^{-24} \approx 6 \times 10^{-8}$
# in float32), that is an *absolute* error of about $u (\mu^2 + \sigma^2)$. The subtraction
# keeps that absolute error and returns something of size $\sigma^2$, so
#
#     relative error of E[X^2] - (E X)^2  ~  u (mu^2 + sigma^2) / sigma^2  =  u (1 + (mu / sigma)^2)
#
# The factor $(\mu/\sigma)^2$ is the condition number of the subtraction. Once $u (\mu/\sigma)^2$
# reaches 1, every digit is noise and the "variance" may come out negative: in float32 that
# happens near $\mu/\sigma \approx 4000$, in float64 near $10^8$.
#
# The two-pass form subtracts first: the deviations $x_i - \bar x$ are small numbers computed almost
# exactly, and squaring and averaging them costs only a relative $u$ or so. Its only weak spot is
# the computed mean, which is off by about $\delta \approx u \mu$; that adds $\delta^2$ to the result,
# a relative error of about $(u \mu / \sigma)^2$, the *square* of a small number.

# %%
def predicted_shortcut_error(mean, sd, dtype):
    """u (1 + (mean/sd)^2), u the unit roundoff of dtype: the expected size of the shortcut's
    relative error. mean: scalar or array."""
    u = np.finfo(dtype).eps / 2
    return u * (1 + (np.asarray(mean, dtype=np.float64) / sd) ** 2)


if __name__ == "__main__":
    spacing = float(np.spacing(np.float32(1e4) ** 2))
    run.say(f"""Why, in one number: at mean 1e4, E[X^2] is about 1e8, and neighbouring float32 numbers
        near 1e8 are {spacing:g} apart. Each of E[X^2] and (EX)^2 is rounded to that grid before they are
        subtracted, so an answer near 1 cannot come out right: the variance is smaller than the
        spacing of the numbers it is computed from. In float64 the spacing near 1e16 (mean 1e8) is
        {float(np.spacing(1e16)):g}, the same situation. The prediction u (1 + (mean/sd)^2) is
        {predicted_shortcut_error(1e4, 1.0, np.float32):.1f} for float32 at mean 1e4 and
        {predicted_shortcut_error(1e8, 1.0, np.float64):.1f} for float64 at mean 1e8.""")


# %% [markdown]
# ## The fix: shift the data first
#
# The variance does not change when every value is shifted by the same constant $K$:
# $\mathrm{Var}(X - K) = \mathrm{Var}\,X$. Pick $K$ near the mean, any data value will do (here
# the first one), and apply even the one-pass formula to $x - K$: its mean is now of the order of
# $\sigma$, the condition number $1 + ((\mu - K)/\sigma)^2$ is small, and the cancellation is gone.
# (In float arithmetic $x_i - K$ is exact when $x_i$ and $K$ are within a factor 2 of each other.)
#
# Streaming code, which sees each value once, uses Welford's update (B. P. Welford, 1962):
# keep the running mean $m_k$ and $M_k = \sum_{i \le k} (x_i - m_k)^2$, and for each new value
# $m_k = m_{k-1} + (x_k - m_{k-1})/k$, $M_k = M_{k-1} + (x_k - m_{k-1})(x_k - m_k)$. It is a loop over
# samples, so in NumPy we prefer the shift; Chan, Golub and LeVeque (1983) give the formula
# that merges two such partial results, which is how parallel and pairwise versions work.

# %%
def variance_shifted(x, shift=None):
    """Var = mean((x - K)^2) - mean(x - K)^2 with K = shift (default: the first value), in x's dtype.

    Var(X - K) = Var(X) exactly; with K near the mean the subtraction no longer cancels."""
    x = np.asarray(x)
    K = x.flat[0] if shift is None else x.dtype.type(shift)
    return variance_shortcut(x - K)


if __name__ == "__main__":
    x = (1e4 + z).astype(np.float32)
    run.say(f"""The same float32 data at mean 1e4, shifted by its first value: the one-pass form now gives
        {variance_shifted(x):.6g} against {reference_variance(x):.6g} (relative error
        {relative_error(variance_shifted(x), reference_variance(x)):.1e}).""")


# %% [markdown]
# ## The experiment
#
# The same $n$ standard normal draws $z_i$ (so $\sigma \approx 1$) shifted to means from 1 to $10^8$,
# stored in float64 and in float32, and four ways of computing the variance of the stored values:
# the shortcut, the two-pass definition, the shifted shortcut and `np.var`. Each is compared
# with `reference_variance`. float32 stops at $10^6$: beyond that its spacing near $\mu$ (1 at $10^7$)
# is as large as $\sigma$ and the stored data no longer carry the spread we want to measure.

# %%
#: The methods compared, by column name.
METHODS = {"shortcut E[X^2]-(EX)^2": variance_shortcut,
           "two-pass E[(X-EX)^2]": variance_two_pass,
           "shifted shortcut": variance_shifted,
           "np.var": np.var}


def variance_sweep(means, dtype, n, seed=0):
    """For each mean: data mean + z (z ~ N(0, 1), n draws, seed fixed) stored as dtype, every method's
    value and relative error against reference_variance. Returns a DataFrame indexed by mean."""
    z = np.random.default_rng(seed).standard_normal(n)
    rows = []
    for mean in means:
        x = (mean + z).astype(dtype)
        reference = reference_variance(x)
        row = {"mean": mean, "reference": reference}
        for label, method in METHODS.items():
            value = method(x)
            row[label] = float(value)
            row[f"{label} rel err"] = relative_error(value, reference)
        rows.append(row)
    return pd.DataFrame(rows).set_index("mean")


if __name__ == "__main__":
    sweeps = {"float64": variance_sweep(10.0 ** np.arange(0, 8.01, 0.25), np.float64, n),
              "float32": variance_sweep(10.0 ** np.arange(0, 6.01, 0.25), np.float32, n)}
    shown = [1.0, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8]
    for name, frame in sweeps.items():
        view = frame.loc[[m for m in shown if m in frame.index]]
        table = pd.DataFrame({"shortcut value": view["shortcut E[X^2]-(EX)^2"].map("{:.6g}".format)})
        for label in METHODS:
            table[label] = view[f"{label} rel err"].map("{:.1e}".format)
        table["predicted u(1+mean^2)"] = [f"{v:.1e}" for v in predicted_shortcut_error(view.index, 1.0, name)]
        run.table(table, title=f"{name}, n = {n} values with sd 1: the shortcut's value and each method's "
                               f"relative error (true variance ~ {view['reference'].iloc[0]:.4f}):")


# %% [markdown]
# ## What the sweep shows
#
# First the shortcut: its error should follow the prediction $u (1 + \mu^2/\sigma^2)$ and reach
# 100% (and negative variances) where that prediction reaches 1. Then the two-pass form and
# `np.var`, which should stay near the rounding of one float64 (or float32) operation, and the
# shifted shortcut.

# %%
if __name__ == "__main__":
    f64, f32 = sweeps["float64"], sweeps["float32"]
    short, two, shifted = "shortcut E[X^2]-(EX)^2", "two-pass E[(X-EX)^2]", "shifted shortcut"
    eps32 = np.finfo(np.float32).eps
    negatives32 = f32.index[f32[short] < 0]
    negatives64 = f64.index[f64[short] < 0]
    run.say(f"""The shortcut's error follows the prediction u (1 + mean^2): in float64 it is
        {f64.loc[1e4, short + ' rel err']:.0e} at mean 1e4 and {f64.loc[1e8, short + ' rel err']:.1f} at 1e8
        (value {f64.loc[1e8, short]:g}); in float32 already {f32.loc[1e3, short + ' rel err']:.0%} at mean 1000
        and {f32.loc[1e4, short + ' rel err']:.1f} at 1e4 (value {f32.loc[1e4, short]:g}). It returned a negative
        variance for {len(negatives32)} of {len(f32)} means in float32 (the first at {negatives32.min() if len(negatives32) else float('nan'):g})
        and {len(negatives64)} of {len(f64)} in float64.""")
    x6 = (1e6 + z).astype(np.float32)
    var64_err = relative_error(np.var(x6, dtype=np.float64), reference_variance(x6))
    run.say(f"""The two-pass form stays accurate: at most {f64[two + ' rel err'].max():.1e} in float64 up to
        mean 1e8, and in float32 {f32.loc[:1e5, two + ' rel err'].max():.1e} up to 1e5, degrading only as
        (u mean)^2 to {f32.loc[1e6, two + ' rel err']:.1e} at 1e6 (the computed float32 mean is itself off by about
        u * mean). np.var computes exactly this two-pass formula (largest difference from ours:
        {max((f32['np.var'] - f32[two]).abs().max(), (f64['np.var'] - f64[two]).abs().max()):.1e}); np.var(x, dtype=np.float64)
        accumulates float32 data in float64 and brings the error at mean 1e6 down to {var64_err:.1e}. Shifting by the first value fixes even the one-pass form:
        in float32 its error is at most {f32[shifted + ' rel err'].max():.1e} at every mean, in float64
        {f64[shifted + ' rel err'].max():.1e}.""")


# %% [markdown]
# ## Checking it
#
# The lesson's claims, as checks: the shortcut's error grows like $\mu^2$ (slope 2 on log-log
# axes), is the predicted size, and destroys float32; the two-pass form, `np.var` and the shift
# do not.

# %%
def loglog_slope(x, y):
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])



if __name__ == "__main__":
    fit = (f64[short + " rel err"] > 1e-13) & (f64[short + " rel err"] < 1e-2)
    slope = loglog_slope(f64.index[fit], f64.loc[fit, short + " rel err"])
    run.expect("float64 shortcut error grows like mean^2 (log-log slope within 0.5 of 2)",
               abs(slope - 2) < 0.5, f"slope {slope:.2f} over {int(fit.sum())} means")
    # Compare with the prediction where it is meaningful: above float64's rounding floor and below 0.1
    # (past that the answer is pure noise, and its relative error saturates near 1 or beyond).
    ratios = []
    for name, frame in sweeps.items():
        predicted = predicted_shortcut_error(frame.index, 1.0, name)
        usable = (predicted >= 1e-12) & (predicted <= 0.1)
        ratios.append(frame[short + " rel err"].to_numpy()[usable] / predicted[usable])
    ratios = np.concatenate(ratios)
    typical = float(np.exp(np.mean(np.log(np.maximum(ratios, 1e-300)))))
    run.expect("shortcut error never exceeds 30 u(1 + mean^2) and is typically that size (geometric mean of "
               "the ratio within 1/10..10)", ratios.max() < 30 and 1 / 10 < typical < 10,
               f"{ratios.size} means, largest ratio {ratios.max():.1f}, geometric mean {typical:.2f}")
    run.expect("float32 shortcut blows up: relative error >= 50% for every mean >= 1e4, with negative variances",
               (f32.loc[1e4:, short + " rel err"] >= 0.5).all() and len(negatives32) > 0,
               f"{len(negatives32)} negative")
    run.expect("float64 two-pass and np.var stay within 1e-12 of the reference up to mean 1e8",
               f64[two + " rel err"].max() < 1e-12 and f64["np.var rel err"].max() < 1e-12)
    run.expect("float32 two-pass error is at least 100 times smaller than the shortcut's for means >= 100",
               (f32.loc[100:, two + " rel err"] * 100 < f32.loc[100:, short + " rel err"]).all())
    run.expect("shifting by a data value fixes float32: relative error < 10 eps32 at every mean",
               (f32[shifted + " rel err"] < 10 * eps32).all(), f"largest {f32[shifted + ' rel err'].max():.1e}")


# %% [markdown]
# ## Figure
#
# The whole sweep in one picture: relative error against the mean, per dtype and method, with the
# prediction dashed.

# %%
def plot_relative_errors(sweeps, floor=1e-17):
    """One log-log panel per dtype: relative error against the mean for each method, the
    prediction u (1 + mu^2) dashed, negative variances marked with a red x. sweeps: {dtype name: frame}."""
    fig = new_figure((12, 4.8))
    axes = fig.subplots(1, len(sweeps), sharey=True)
    styles = {"shortcut E[X^2]-(EX)^2": dict(color="C3", marker="o"),
              "two-pass E[(X-EX)^2]": dict(color="C0", marker="s"),
              "shifted shortcut": dict(color="C2", marker="^"),
              "np.var": dict(color="black", marker="+", ls="none", ms=9)}
    for ax, (name, frame) in zip(axes, sweeps.items()):
        means = frame.index.to_numpy()
        for label, style in styles.items():
            ax.plot(means, np.maximum(frame[f"{label} rel err"], floor), label=label,
                    **{"ls": "-", "ms": 4, "lw": 1.2, **style})
        negative = frame["shortcut E[X^2]-(EX)^2"] < 0
        ax.plot(means[negative], np.maximum(frame.loc[negative, "shortcut E[X^2]-(EX)^2 rel err"], floor),
                "x", color="red", ms=11, mew=2, label="shortcut < 0 (negative variance)")
        ax.plot(means, predicted_shortcut_error(means, 1.0, name), "--", color="grey", lw=1,
                label="u (1 + (mean/sd)^2)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(floor / 2, 1e7)
        ax.axhline(1.0, color="grey", lw=0.5)
        ax.set_xlabel("mean of the data (sd = 1)")
        ax.set_title(f"{name}")
    axes[0].set_ylabel(f"relative error  (exact zeros drawn at {floor:g})")
    axes[-1].legend(fontsize=8, loc="upper left")
    fig.suptitle("Variance of data with a large mean: the shortcut E[X^2] - (EX)^2 loses everything, "
                 "the two-pass and shifted forms do not")
    return fig


if __name__ == "__main__":
    run.figure(plot_relative_errors(sweeps), "relative_error_vs_mean.png")


# %%
if __name__ == "__main__":
    run.end()
