"""Derivatives of a fitted sine: f, f' and f'' of a tanh and a ReLU network against sin, cos and -sin.

Run from the project root:  python -m lessons.sine_derivatives [--out DIR] [--quick]
"""

# %% [markdown]
# # A network's derivatives are a second opinion on the fit
#
# Fit $\sin$ on $[-2π, 2π]$ and the fitted function $f$ should look like
# $\sin$. But a fit is a *function*, and a function has derivatives: if $f$
# really is $\sin$, then $f' = \cos$ and $f'' = -\sin$. handnet computes both
# exactly for any network: `hn.explain.input_gradient` is backpropagation
# carried to the input, and `hn.explain.input_hessian_diag` adds the curvature
# every activation contributes (see `handnet/explain/second_order.py`).
#
# We fit two networks to the same 200 points, one smooth (tanh hidden units)
# and one piecewise linear (ReLU), and compare all three curves with the truth.
# The values fit well in both cases. The derivatives tell them apart, and then
# a third fit shows that matching values does not mean matching slopes.
#
# **Input scaling and the chain rule.** The networks are fed $u = x / (2π)$,
# which maps the data onto $[-1, 1]$ (on raw $x$ the same training stalls; see
# `hn.datasets.make_sine`). The network is a function $g(u)$, and the fitted
# function of $x$ is $f(x) = g(x / 2π)$. So
#
#     f'(x)  = g'(u) / (2π)          f''(x) = g''(u) / (2π)^2
#
# handnet differentiates with respect to what the network is given, $u$;
# forgetting the factor would make $f'$ about 6.3 times too large and $f''$
# about 39 times too large.

# %%
import lessons  # noqa: F401  first, so that NumPy's BLAS gets one thread (see lessons/__init__.py)
import numpy as np
import pandas as pd

import handnet as hn
from lessons._common import new_figure, start

#: The input scale: the networks see u = x / SCALE.
SCALE = 2 * np.pi

#: What the tanh fit must reach: max |f - sin|, max |f' - cos|, max |f'' + sin| and the smallest
#: correlation of f'' with -sin. Quick mode trains half as long, so its tolerances are looser.
TOLERANCES = {"full": {"epochs": 8000, "f": 0.03, "f1": 0.1, "f2": 0.4, "corr": 0.95},
              "quick": {"epochs": 4000, "f": 0.15, "f1": 0.3, "f2": 0.6, "corr": 0.9}}

#: Training of the ReLU fit and of the 10-point tanh fit (both modes: they take a fraction of a second).
RELU_EPOCHS, SPARSE_EPOCHS = 1500, 3000

#: The keys of errors_against_sine, in order.
ERROR_NAMES = ("max |f - sin|", "max |f' - cos|", "max |f'' + sin|", "corr(f'', -sin)")

if __name__ == "__main__":
    run = start("sine_derivatives")   # in a notebook: quick mode from HANDNET_LESSON_QUICK=1
    tol = TOLERANCES["quick" if run.quick else "full"]
    X, y = hn.datasets.make_sine()
    grid = np.linspace(-2 * np.pi, 2 * np.pi, 2001)


# %% [markdown]
# ## The smooth fit and its exact derivatives
#
# A tanh network, MLP([1, 32, 1]), fitted to the 200 points by full-batch gradient descent
# with momentum; then $f$, $f'$ and $f''$ at the same points by `derivatives` (the chain rule
# above), each compared with the truth.

# %%
def fit_tanh(X, y, epochs=8000, hidden=32, seed=0):
    """MLP([1, hidden, 1], tanh, identity) fitted to sin on u = x / 2pi, full batch, lr 0.1,
    momentum 0.95.  X, y (N, 1) -> the trained net.

    Measured on the default grid: 8000 epochs reach max |f - sin| = 0.008 (seed 0; at most
    0.031 over seeds 0..5); 4000 epochs leave visible wiggles (0.04 to 0.08), momentum 0.9
    gives 0.06, and the same recipe on raw x instead of u stays at an error of 0.8."""
    net = hn.MLP([1, hidden, 1], hidden="tanh", output="identity", seed=seed)
    hn.train(net, X / SCALE, y, epochs=epochs, lr=0.1, momentum=0.95, progress=False)
    return net


def derivatives(net, X):
    """f(x), f'(x), f''(x) of f(x) = g(x / SCALE), g the network, by the chain rule.

    f' = g'(u) / SCALE and f'' = g''(u) / SCALE^2, with g' from input_gradient and g'' from
    input_hessian_diag (both exact).  X (N, 1) -> three arrays (N,).
    """
    u = X / SCALE
    f = net.predict_proba(u)[:, 0]
    f1 = hn.explain.input_gradient(net, u, 0)[:, 0] / SCALE
    f2 = hn.explain.input_hessian_diag(net, u, 0)[:, 0] / SCALE ** 2
    return f, f1, f2


def errors_against_sine(X, f, f1, f2):
    """max |f - sin|, max |f' - cos|, max |f'' + sin| over the points, and corr(f'', -sin).  -> dict."""
    x = X[:, 0]
    corr = float(np.corrcoef(f2, -np.sin(x))[0, 1]) if np.std(f2) > 0 else 0.0
    values = (np.max(np.abs(f - np.sin(x))), np.max(np.abs(f1 - np.cos(x))),
              np.max(np.abs(f2 + np.sin(x))), corr)
    return {name: float(v) for name, v in zip(ERROR_NAMES, values)}


if __name__ == "__main__":
    smooth = fit_tanh(X, y, epochs=tol["epochs"])
    f, f1, f2 = derivatives(smooth, X)
    err = errors_against_sine(X, f, f1, f2)
    run.table(pd.DataFrame(err, index=["tanh net"]).round(4),
              title=f"MLP([1, 32, 1], tanh) fitted to 200 points of sin for {tol['epochs']} epochs, "
                    "on those points:")


# %% [markdown]
# ## Checking the chain rule numerically
#
# Independently of handnet's derivative code, differentiate $f(x) = g(x/2π)$
# by central differences *in x*: $f'(x) ≈ [f(x+h) - f(x-h)] / 2h$, and
# $f''$ as the central difference of the analytic $f'$. If the factors
# $1/(2π)$ and $1/(2π)^2$ are right, the two agree to about $10^{-8}$.

# %%
def central_differences(net, X, h=1e-5):
    """f'(x) ~ (f(x + h) - f(x - h)) / 2h from values, and f''(x) ~ (f'(x + h) - f'(x - h)) / 2h
    from the analytic first derivative; both in x.  X (N, 1) -> two arrays (N,)."""
    def value(Z):
        return net.predict_proba(Z / SCALE)[:, 0]

    def slope(Z):
        return hn.explain.input_gradient(net, Z / SCALE, 0)[:, 0] / SCALE

    return (value(X + h) - value(X - h)) / (2 * h), (slope(X + h) - slope(X - h)) / (2 * h)


def scaled_difference(a, b):
    """max |a - b| / max |b|."""
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


if __name__ == "__main__":
    fd1, fd2 = central_differences(smooth, X)
    d1, d2 = scaled_difference(f1, fd1), scaled_difference(f2, fd2)
    e_f, e_f1, e_f2, corr = (err[k] for k in ERROR_NAMES)
    x = X[:, 0]
    curvature_error = np.abs(f2 + np.sin(x))
    away = np.abs(x) < 1.5 * np.pi
    run.say(f"""
        Chain rule check (central differences in x, h = 1e-5): f' agrees to {d1:.1e} and f''
        to {d2:.1e} of their largest values. Without the factor 1/(2pi) the slope would be off by
        up to {np.max(np.abs(SCALE * f1 - np.cos(x))):.1f}. The slope follows cos to {e_f1:.3f}; the
        curvature follows -sin more loosely (max error {e_f2:.2f}, correlation {corr:.3f}): each
        derivative amplifies the small wiggles a fit leaves. The worst f'' error is at
        x = {x[np.argmax(curvature_error)]:.2f}; away from the ends (|x| < 1.5 pi), where the data
        lie on both sides, it is {curvature_error[away].max():.2f}.""")
    run.expect("f' and f'' (chain rule 1/2pi) match central differences in x", max(d1, d2) < 1e-6,
               f"{max(d1, d2):.1e} < 1e-6")
    run.expect("tanh fit: values within tolerance of sin", e_f < tol["f"], f"{e_f:.4f} < {tol['f']}")
    run.expect("tanh fit: f' within tolerance of cos", e_f1 < tol["f1"], f"{e_f1:.3f} < {tol['f1']}")
    run.expect("tanh fit: f'' roughly follows -sin", e_f2 < tol["f2"] and corr > tol["corr"],
               f"max error {e_f2:.2f} < {tol['f2']}, correlation {corr:.3f} > {tol['corr']}")


# %% [markdown]
# ## A ReLU network: straight pieces
#
# A ReLU unit $\max(0, w u + b)$ is a straight line with one kink, at
# $u^* = -b/w$. A one-hidden-layer ReLU network with an identity output is a sum
# of such units, $g(u) = Σ_k v_k \max(0, w_k u + b_k) + c$: a broken line whose
# corners are the kinks. Consequences, exactly:
#
# * $g'' = 0$ everywhere except at the kinks (where it does not exist). handnet
#   returns exact zeros for the curvature of piecewise-linear layers.
# * $g'$ is constant between kinks and jumps at each one. Crossing the kink of
#   unit $k$ from left to right, the unit switches on (if $w_k > 0$) or off (if
#   $w_k < 0$); either way the slope of $g$ changes by $v_k |w_k|$, so $f'$
#   jumps by $v_k |w_k| / (2π)$ at $x^* = 2π u^*$.
#
# Training detail: handnet starts biases at 0, which would put *every* kink at
# $u = 0$ and leave the network a "V" that gradient descent unbends only slowly
# (in our runs it stayed at a max error near 1.1). We set $w_k = ±1$ and place the kinks evenly
# over $[-1, 1]$ before training, the usual remedy.

# %%
def spread_kinks(net, low=-1.0, high=1.0, seed=0):
    """First layer of a [1, H, ...] ReLU net: w_k = +-1 (random signs), kinks u*_k = -b_k / w_k
    evenly spaced over [low, high]. Changes net in place and returns it."""
    H = net.layer_sizes[1]
    w = np.random.default_rng(seed).choice([-1.0, 1.0], size=H)
    net.weights[0] = w[None, :]
    net.biases[0] = -w * np.linspace(low, high, H)
    return net


def fit_relu(X, y, epochs=RELU_EPOCHS, hidden=64, seed=0):
    """MLP([1, hidden, 1], relu, identity) with spread kinks, trained on u = x / 2pi
    (full batch, lr 0.1, momentum 0.95).  -> the trained net."""
    net = spread_kinks(hn.MLP([1, hidden, 1], hidden="relu", output="identity", seed=seed), seed=seed)
    hn.train(net, X / SCALE, y, epochs=epochs, lr=0.1, momentum=0.95, progress=False)
    return net


def relu_kinks(net):
    """Kink positions x*_k = -SCALE b_k / w_k (in x) and the jumps of f' there, v_k |w_k| / SCALE.

    For a [1, H, 1] ReLU net; units with w_k = 0 have no kink and are left out.  -> (x*, jump), (H',).
    """
    w, b, v = net.weights[0][0], net.biases[0], net.weights[1][:, 0]
    has = w != 0
    return -SCALE * b[has] / w[has], v[has] * np.abs(w[has]) / SCALE


def slope_jumps_on_grid(net, grid):
    """The change of f' across each cell of a fine grid, and the change the kink formula predicts.

    grid (G,) increasing  ->  observed (G-1,) = f'(grid[i+1]) - f'(grid[i]),
    predicted (G-1,) = sum of v_k |w_k| / SCALE over the kinks in (grid[i], grid[i+1]).
    """
    _, f1, _ = derivatives(net, grid[:, None])
    kinks, jumps = relu_kinks(net)
    inside = (kinks > grid[0]) & (kinks < grid[-1])
    cell = np.searchsorted(grid, kinks[inside]) - 1
    predicted = np.bincount(cell, weights=jumps[inside], minlength=len(grid) - 1)
    return np.diff(f1), predicted


def cells_with_kinks(grid, kinks):
    """How many cells (grid[i], grid[i+1]) of the grid (G,) hold at least one of the kinks."""
    inside = kinks[(kinks > grid[0]) & (kinks < grid[-1])]
    return int(np.unique(np.searchsorted(grid, inside)).size)


if __name__ == "__main__":
    relu = fit_relu(X, y)
    rerr = errors_against_sine(X, *derivatives(relu, X))
    r_f, r_f1 = rerr[ERROR_NAMES[0]], rerr[ERROR_NAMES[1]]
    on_grid = derivatives(relu, grid[:, None])
    g1, g2 = on_grid[1], on_grid[2]
    kinks, jumps = relu_kinks(relu)
    inside = (kinks > grid[0]) & (kinks < grid[-1])
    observed, predicted = slope_jumps_on_grid(relu, grid)
    n_jumps = int(np.count_nonzero(observed))
    n_cells = cells_with_kinks(grid, kinks)
    jump_err = float(np.max(np.abs(observed - predicted)))
    run.table(pd.DataFrame(rerr, index=["ReLU net"]).round(4),
              title=f"MLP([1, 64, 1], relu) with spread kinks, {RELU_EPOCHS} epochs, on the same points:")
    biggest = np.argsort(-np.abs(jumps[inside]))[:5]
    run.table(pd.DataFrame({"kink x*": kinks[inside][biggest], "jump of f'": jumps[inside][biggest]})
              .round(4), title="Its five largest slope jumps (v |w| / 2pi):")
    run.say(f"""
        On a grid of {len(grid)} points over [-2pi, 2pi], f'' is exactly 0 at every point (largest
        |f''|: {np.max(np.abs(g2)):g}). {int(inside.sum())} of the {len(kinks)} kinks lie inside the
        interval, in {n_cells} cells of the grid; f' changes from one grid point to the next in
        {n_jumps} cells and is exactly constant elsewhere, so it takes {n_jumps + 1} values there. Each
        change equals the sum of v|w|/2pi over the kinks in its cell to {jump_err:.1e}. The values are
        within {r_f:.3f} of sin, the slopes only within {r_f1:.3f} of cos: {r_f1 / r_f:.0f} times worse.""")
    run.expect("ReLU fit: values close to sin", r_f < 0.05, f"{r_f:.4f} < 0.05")
    run.expect("ReLU net: f'' is exactly zero", bool(np.all(g2 == 0)), f"{len(grid)} points")
    run.expect("ReLU net: f' changes exactly in the grid cells that hold a kink", n_jumps == n_cells,
               f"{n_jumps} of {len(grid) - 1} cells")
    run.expect("ReLU net: each jump of f' is v|w|/2pi", jump_err < 1e-9, f"{jump_err:.1e}")


# %% [markdown]
# ## Both fits and their derivatives, drawn
#
# Top to bottom: $f$, $f'$, $f''$ of both networks on a fine grid against $\sin$, $\cos$ and
# $-\sin$: the tanh curves follow the truth, the ReLU net's slope is a staircase and its
# curvature a flat zero. Then the staircase alone, with the jump at each kink.

# %%
def plot_derivatives(grid, curves, X_data):
    """Three rows: f, f' and f'' of each fitted net against sin, cos and -sin.

    curves {name: (f, f1, f2)} on ``grid`` (G,); the training inputs are marked on the top row.
    """
    fig = new_figure((8.0, 8.0))
    axes = fig.subplots(3, 1, sharex=True)
    truth = [np.sin(grid), np.cos(grid), -np.sin(grid)]
    names = ["f(x)  vs  sin x", "f'(x)  vs  cos x", "f''(x)  vs  -sin x"]
    for r, ax in enumerate(axes):
        ax.plot(grid, truth[r], color="black", linestyle="--", linewidth=1.5, label="exact")
        for i, (name, values) in enumerate(curves.items()):
            ax.plot(grid, values[r], color=f"C{i}", linewidth=1.2, label=name)
        ax.set_ylabel(names[r])
        ax.grid(True, alpha=0.3)
    axes[0].plot(X_data[:, 0], np.sin(X_data[:, 0]), "k.", markersize=2, label="training points")
    axes[0].legend(fontsize=8, ncol=2)
    axes[2].set_xlabel("x")
    fig.suptitle("Two fits of sin and their exact derivatives (handnet, chain rule 1/(2π))")
    return fig


def plot_relu_slopes(grid, f1, kinks, jumps):
    """Top: the ReLU net's f' (a staircase) against cos; bottom: the jump of f' at each kink."""
    fig = new_figure((8.0, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(grid, np.cos(grid), "k--", label="cos x")
    top.plot(grid, f1, color="C1", label="f'(x), ReLU net")
    top.set_ylabel("slope")
    top.legend(fontsize=8)
    top.grid(True, alpha=0.3)
    inside = (kinks > grid[0]) & (kinks < grid[-1])
    bottom.stem(kinks[inside], jumps[inside], basefmt="k-")
    bottom.set_ylabel("jump of f' = v|w|/(2π)")
    bottom.set_xlabel("x  (kink positions -2π b/w)")
    bottom.grid(True, alpha=0.3)
    fig.suptitle("A ReLU network's slope is constant between kinks and jumps at each one")
    return fig


if __name__ == "__main__":
    run.figure(plot_derivatives(grid, {"tanh net": derivatives(smooth, grid[:, None]), "ReLU net": on_grid},
                                X), "derivatives.png")
    run.figure(plot_relu_slopes(grid, g1, kinks, jumps), "relu_slopes.png")


# %% [markdown]
# ## Fitting values does not guarantee slopes
#
# The ReLU fit shows it already: its values can be close to $\sin$ while its
# slope is a staircase around $\cos$. For a broken line through a smooth
# function with corners $Δ$ apart, the value error is about $\max|f''|\,Δ^2/8$
# but the slope error about $\max|f''|\,Δ/2$: the slope error is larger by a
# factor $4/Δ$, and shrinks only as fast as $Δ$ itself.

# %%
def interpolation_model(spacing, curvature=1.0):
    """(value error, slope error) of a broken line with corners ``spacing`` apart through a function
    with |f''| <= curvature: curvature * spacing^2 / 8 and curvature * spacing / 2."""
    return curvature * spacing ** 2 / 8, curvature * spacing / 2


if __name__ == "__main__":
    spacing = float(np.median(np.diff(np.sort(kinks[inside]))))
    v_model, s_model = interpolation_model(spacing)
    ratio = r_f1 / r_f
    run.say(f"""
        Fitting values does not guarantee slopes. The ReLU net's corners are a median {spacing:.2f}
        apart. A broken line with corners that far apart through sin would have value errors
        about {v_model:.4f} and slope errors about {s_model:.3f} (the 1/8 and 1/2 rule, |f''| <= 1):
        a ratio 4/spacing = {s_model / v_model:.0f}. The fitted net is not an interpolating broken
        line (its corners are uneven and it was fitted by least squares), but its errors,
        {r_f:.3f} and {r_f1:.3f}, show the same lopsidedness: a ratio of {ratio:.0f}.""")
    run.expect("ReLU fit: the slope error is several times the value error", ratio > 3, f"{ratio:.0f}x > 3x")


# %% [markdown]
# ### Ten points: through every one, at the wrong angle
#
# A smooth network is not immune either. Give the tanh network only 10 points
# of $\sin$: it can pass through all of them (value error ~0 *at the data*) and
# still cross them at the wrong angle, because nothing in the cost mentions
# slopes. Between the points its values wander as well.
#
# *Training on values and slopes together* (adding $Σ (f'(x_i) - \cos x_i)^2$
# to the cost) would fix the slopes at the data. handnet does not do it: its
# cost is a function of the outputs, and the gradient of a slope term with
# respect to the weights needs mixed second derivatives $∂^2 f / ∂θ\,∂x$,
# which handnet does not provide. The cheap substitute is what the 200-point
# fit above does: dense values pin down slopes, because $f'(x) ≈ [f(x+Δ) -
# f(x)]/Δ$ once the points are close.

# %%
def fit_sparse(n=10, epochs=None, seed=0):
    """The tanh recipe on n evenly spaced points of sin.  -> (net, X (n, 1), y (n, 1))."""
    X, y = hn.datasets.make_sine(n)
    return fit_tanh(X, y, epochs=SPARSE_EPOCHS if epochs is None else epochs, seed=seed), X, y


def plot_sparse_fit(grid, f, f1, X, y):
    """The 10-point tanh fit: values (top) and slopes (bottom), with the data points marked."""
    fig = new_figure((8.0, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(grid, np.sin(grid), "k--", label="sin x")
    top.plot(grid, f, color="C2", label="f(x), tanh net fitted to the points")
    top.plot(X[:, 0], y[:, 0], "ko", label=f"{len(X)} training points")
    bottom.plot(grid, np.cos(grid), "k--", label="cos x")
    bottom.plot(grid, f1, color="C2", label="f'(x)")
    bottom.plot(X[:, 0], np.cos(X[:, 0]), "ko", label="cos at the training points")
    top.set_ylabel("value")
    bottom.set_ylabel("slope")
    bottom.set_xlabel("x")
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Through every point, not always at the right angle: values do not pin down slopes")
    return fig


if __name__ == "__main__":
    sparse, Xs, ys = fit_sparse()
    s0, s1, _ = derivatives(sparse, Xs)
    value_at_data = float(np.max(np.abs(s0 - ys[:, 0])))
    slope_at_data = float(np.max(np.abs(s1 - np.cos(Xs[:, 0]))))
    sg, sg1, _ = derivatives(sparse, grid[:, None])
    run.say(f"""
        The tanh network fitted to only {len(Xs)} points of sin ({SPARSE_EPOCHS} epochs): at those points its
        values are off by at most {value_at_data:.1e}, its slopes by up to {slope_at_data:.2f} (cos is
        between -1 and 1). Between the points the values are off by up to
        {np.max(np.abs(sg - np.sin(grid))):.2f} and the slopes by {np.max(np.abs(sg1 - np.cos(grid))):.2f}.""")
    run.expect("10-point fit: values at the data almost exact", value_at_data < 0.01, f"{value_at_data:.1e}")
    run.expect("10-point fit: slopes at the same points far off", slope_at_data > 0.5, f"{slope_at_data:.2f}")
    run.figure(plot_sparse_fit(grid, sg, sg1, Xs, ys), "sparse_fit.png")


# %%
if __name__ == "__main__":
    run.end()
