"""Sensitivity maps |dy_c/dx| of a digits network: what they show, and what they do not.

Run from the project root:  python -m lessons.sensitivity_analysis [--out DIR] [--quick]
"""

# %% [markdown]
# # Sensitivity analysis
#
# A trained classifier maps an image $x$ (64 pixels in $[0, 1]$) to ten
# outputs $y_0(x), \dots, y_9(x)$. Ask one of them, $y_c$, a local question:
# *if I nudge pixel $j$ a little, how much does $y_c$ move?* The answer is the
# partial derivative, and the first-order Taylor expansion says how to use it:
#
#     y_c(x + Δ) ≈ y_c(x) + Σ_j (∂y_c/∂x_j) Δ_j           (small Δ)
#
# The **sensitivity map** of $x$ for class $c$ is $S_j = |∂y_c/∂x_j|$, drawn
# as an 8×8 image next to the digit. handnet computes the whole gradient at
# once: it is backpropagation started from output unit $c$ instead of from the
# cost and carried one layer further, down to the input
# (`hn.explain.input_gradient`; `hn.explain.sensitivity` is its absolute value).
#
# We train the digits network of the README, take one correctly classified
# test digit of each class, draw its map, and then put numbers on three things
# the map does *not* tell you: which pixels are present, how saturated the
# output is, and what a large change does.

# %%
import numpy as np

import handnet as hn
from lessons._common import new_figure, start

IMAGE_SHAPE = (8, 8)


def train_digits_network(epochs=500, seed=0):
    """The README's network: MLP([64, 25, 10]) trained full-batch with lr 2 on 80% of the digits.

    Returns (net, X_test (359, 64), y_test (359,), held-out accuracy).
    """
    X, y = hn.datasets.load_digits()
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(X, y, test_size=0.2, seed=seed)
    net = hn.MLP([64, 25, 10], seed=seed)
    hn.train(net, X_train, y_train, epochs=epochs, lr=2.0, progress=False)
    return net, X_test, y_test, hn.accuracy(y_test, net.predict(X_test))


def one_digit_per_class(net, X, y):
    """Row indices (K,): the first row of each class c = 0..K-1 that the network classifies correctly."""
    correct = net.predict(X) == y
    return np.array([np.flatnonzero(correct & (y == c))[0] for c in range(net.layer_sizes[-1])])


# %% [markdown]
# ## The map, and a check of the derivative
#
# Before drawing anything, check the derivative. A central difference perturbs
# one pixel at a time, $g_j ≈ [y_c(x + h e_j) - y_c(x - h e_j)] / 2h$. All
# 64 perturbed copies of every image can be stacked into one array of shape
# (N, 64, 64) and sent through the network in a single forward pass, so no
# Python loop is needed. With $h = 10^{-5}$ the truncation error ($∝ h^2$) and
# the rounding error ($∝ ε/h$) are both near $10^{-10}$, so we expect agreement
# to about $10^{-7}$ of the largest entry or better.

# %%
def input_gradients(net, X, target=None):
    """g[i, j] = dy_t/dx_j for each row (t = the predicted class when target is None).  (N, D)."""
    return hn.explain.input_gradient(net, X, target)


def sensitivity_maps(net, X, target=None):
    """S[i, j] = |dy_t/dx_j|, the sensitivity map of each row.  X (N, D) -> (N, D), >= 0."""
    return hn.explain.sensitivity(net, X, target)


def central_difference_gradient(net, X, target, h=1e-5):
    """n[i, j] = (y_t(x_i + h e_j) - y_t(x_i - h e_j)) / 2h, all (i, j) in one forward pass each way.

    X (N, D), target (N,) ints  ->  (N, D). The perturbed inputs form an array (N, D, D).
    """
    N, D = X.shape
    step = h * np.eye(D)                                      # (D, D): row j is h e_j
    plus = (X[:, None, :] + step).reshape(N * D, D)
    minus = (X[:, None, :] - step).reshape(N * D, D)
    K = net.layer_sizes[-1]
    diff = (net.predict_proba(plus) - net.predict_proba(minus)).reshape(N, D, K)
    picked = np.take_along_axis(diff, np.asarray(target)[:, None, None], axis=2)[:, :, 0]
    return picked / (2 * h)


def relative_error(analytic, numerical):
    """max_j |a_ij - n_ij| / max_j |a_ij| for each row: the error on the scale of that row.  -> (N,)."""
    return np.max(np.abs(analytic - numerical), axis=1) / np.max(np.abs(analytic), axis=1)


def plot_digit_rows(images, rows, labels, title):
    """A column per digit: the input on top, then one row per map, each panel on its own scale.

    images (N, 64); rows [(maps (N, 64), row label), ...]. Non-negative maps are drawn from
    white (0) to dark red; signed maps from blue (< 0) through white (0) to red (> 0).
    The largest |value| of each panel is written under it.
    """
    N = len(images)
    fig = new_figure((1.25 * N + 0.6, 1.45 * (len(rows) + 1) + 0.4))
    axes = fig.subplots(len(rows) + 1, N, squeeze=False)
    for k in range(N):
        axes[0, k].imshow(images[k].reshape(IMAGE_SHAPE), cmap="gray_r", vmin=0, vmax=1)
        axes[0, k].set_title(f"digit {labels[k]}", fontsize=9)
        for r, (maps, _) in enumerate(rows, start=1):
            top = float(np.max(np.abs(maps[k]))) or 1.0
            signed = bool(np.any(maps < 0))
            axes[r, k].imshow(maps[k].reshape(IMAGE_SHAPE), cmap="RdBu_r" if signed else "Reds",
                              vmin=-top if signed else 0.0, vmax=top)
            axes[r, k].set_xlabel(f"max {top:.2g}", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("input", fontsize=9)
    for r, (_, label) in enumerate(rows, start=1):
        axes[r, 0].set_ylabel(label, fontsize=9)
    fig.suptitle(title)
    return fig


# %% [markdown]
# ## What the map shows
#
# Exactly one thing: for this image and this output, which pixels would move
# $y_c$ most if nudged a little, to first order. A few pixels carry much of
# the map (we measure the share of the ten largest); the figure shows where
# they sit relative to the strokes, on the ink and off it. The absolute value
# drops the direction: the signed gradient (the figure's third row) says
# whether more ink there raises $y_c$ (red) or lowers it (blue).

# %%
def top_pixel_share(S, k=10):
    """Share of each map's total carried by its k largest entries.  S (N, D) -> (N,)."""
    top = -np.sort(-S, axis=1)[:, :k]
    return top.sum(axis=1) / S.sum(axis=1)


# %% [markdown]
# ## What the map does not show (1): which pixels are present
#
# $S_j$ is the same whether pixel $j$ is black ink or blank paper. A blank
# pixel ($x_j = 0$) can have a large sensitivity: adding ink there *would*
# change $y_c$. But it contributes nothing to the present answer. The first
# order estimate of what erasing pixel $j$ ($x_j → 0$, so $Δ_j = -x_j$) does
# to $y_c$ is $-(∂y_c/∂x_j)\, x_j$: that is **gradient × input**, and it is
# exactly zero on blank pixels. The two maps answer different questions
# ("what would change the answer?" vs "what made the answer?"), and we measure
# how much of each sensitivity map sits on blank paper.

# %%
def blank_pixel_share(S, X):
    """Share of each map's total sensitivity that lies on blank pixels:
    sum_{j: x_j = 0} S_j / sum_j S_j.   S, X (N, D) -> (N,)."""
    blank = X == 0
    return np.sum(S * blank, axis=1) / np.sum(S, axis=1)


def gradient_times_input(net, X, target=None):
    """G[i, j] = dy_t/dx_j * x_j, the first-order share of pixel j in y_t.  (N, D)."""
    return hn.explain.gradient_x_input(net, X, target)


# %% [markdown]
# ## What the map does not show (2): saturation
#
# The output units are sigmoids, $y_c = σ(z_c)$, and $σ'(z) = σ(z)(1 - σ(z))$.
# By the chain rule
#
#     ∂y_c/∂x = y_c (1 - y_c) ∂z_c/∂x
#
# so when the network is confident ($y_c → 1$) the factor $y_c(1-y_c)$
# crushes every entry of the map, however strongly the logit $z_c$ depends on
# the pixels. A faint map means "this output is saturated", not "the network
# uses no pixel". Comparing maps between digits therefore compares
# confidences as much as anything else; the logit's gradient
# (`wrt="preactivation"`) does not have this factor.

# %%
def saturation_table(net, X):
    """Per row (t = predicted class): y_t, y_t (1 - y_t), max_j |dy_t/dx_j| and max_j |dz_t/dx_j|.

    Also returns the largest relative deviation from the chain rule dy_t/dx = y_t (1 - y_t) dz_t/dx.
    X (N, D) -> (DataFrame with N rows, float).
    """
    import pandas as pd

    P = net.predict_proba(X)
    t = np.argmax(P, axis=1)
    y_t = P[np.arange(len(X)), t]
    g_out = hn.explain.input_gradient(net, X, t)
    g_logit = hn.explain.input_gradient(net, X, t, wrt="preactivation")
    predicted = (y_t * (1 - y_t))[:, None] * g_logit
    chain_rule_error = float(np.max(np.abs(g_out - predicted)) / np.max(np.abs(g_out)))
    table = pd.DataFrame({"confidence y_t": y_t, "y_t (1 - y_t)": y_t * (1 - y_t),
                          "max |dy_t/dx|": np.max(np.abs(g_out), axis=1),
                          "max |dz_t/dx|": np.max(np.abs(g_logit), axis=1)})
    return table, chain_rule_error


def quartile_comparison(table):
    """Median max-sensitivities of the least and the most confident quarter of the rows.

    Returns a DataFrame (rows: "least confident 25%", "most confident 25%") and the two ratios
    least / most for dy/dx and for dz/dx.
    """
    import pandas as pd

    conf = table["confidence y_t"].to_numpy()
    low, high = np.quantile(conf, [0.25, 0.75])
    groups = {"least confident 25%": conf <= low, "most confident 25%": conf >= high}
    rows = {name: {"rows": float(mask.sum()), "median confidence": float(np.median(conf[mask])),
                   "median max |dy_t/dx|": float(np.median(table["max |dy_t/dx|"][mask])),
                   "median max |dz_t/dx|": float(np.median(table["max |dz_t/dx|"][mask]))}
            for name, mask in groups.items()}
    frame = pd.DataFrame(rows).T
    lo, hi = frame.loc["least confident 25%"], frame.loc["most confident 25%"]
    return (frame, float(lo["median max |dy_t/dx|"] / hi["median max |dy_t/dx|"]),
            float(lo["median max |dz_t/dx|"] / hi["median max |dz_t/dx|"]))


# %% [markdown]
# ## What the map does not show (3): large changes
#
# The map is a derivative: it describes an infinitesimal neighbourhood of $x$.
# Fade the whole digit towards blank paper, $x(s) = (1 - s)\,x$. Its first-order
# prediction is
#
#     y_c(x(s)) - y_c(x) ≈ -s Σ_j (∂y_c/∂x_j) x_j = -s × (sum of gradient × input)
#
# which is a straight line in $s$. The true curve bends: the sigmoids
# saturate and the hidden units switch. We compare the two for small and for
# large $s$.

# %%
def fading_prediction(net, X, s_values, target=None):
    """Actual and first-order change of y_t when each image is faded to (1 - s) x.

    X (N, D), s_values (S,)  ->  actual (S, N), predicted (S, N) with
    actual = y_t((1 - s) x) - y_t(x) and predicted = -s sum_j (dy_t/dx_j) x_j.
    """
    s = np.asarray(s_values, dtype=np.float64)
    P = net.predict_proba(X)
    t = np.argmax(P, axis=1) if target is None else np.asarray(target)
    rows = np.arange(len(X))
    y0 = P[rows, t]
    N, D = X.shape
    faded = ((1 - s)[:, None, None] * X[None]).reshape(-1, D)            # (S * N, D)
    y_s = net.predict_proba(faded).reshape(len(s), N, -1)[:, rows, t]      # (S, N)
    linear_term = np.sum(hn.explain.input_gradient(net, X, t) * X, axis=1)  # (N,)
    return y_s - y0, -s[:, None] * linear_term[None, :]


def fading_table(actual, predicted, s_values):
    """Median over rows of |actual - predicted| / |actual| for each s.  -> DataFrame (S rows)."""
    import pandas as pd

    rel = np.abs(actual - predicted) / np.abs(actual)
    return pd.DataFrame({"s": s_values, "median actual change": np.median(actual, axis=1),
                         "median first-order change": np.median(predicted, axis=1),
                         "median relative error": np.median(rel, axis=1)}).set_index("s")


def plot_saturation(table):
    """Max |dy/dx| and max |dz/dx| of every row against its confidence y_t (log scale)."""
    fig = new_figure((7.0, 4.2))
    ax = fig.subplots()
    conf = table["confidence y_t"]
    ax.scatter(conf, table["max |dy_t/dx|"], s=12, alpha=0.7, label="max |∂y_t/∂x|  (output)")
    ax.scatter(conf, table["max |dz_t/dx|"], s=12, alpha=0.7, marker="s", label="max |∂z_t/∂x|  (logit)")
    ax.set_yscale("log")
    ax.set_xlabel("confidence y_t of the predicted class")
    ax.set_ylabel("largest entry of the map")
    ax.set_title("Saturation: confident outputs have faint sensitivity maps")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def plot_fading(actual, predicted, s_values, labels):
    """Actual vs first-order change of y_t as each digit fades, one colour per digit."""
    fig = new_figure((7.0, 4.2))
    ax = fig.subplots()
    colours = [f"C{k % 10}" for k in range(actual.shape[1])]
    for k, c in enumerate(colours):
        ax.plot(s_values, actual[:, k], color=c, label=f"digit {labels[k]}")
        ax.plot(s_values, predicted[:, k], color=c, linestyle="--")
    ax.set_xlabel("s  (image faded to (1 - s) x)")
    ax.set_ylabel("change of y_t")
    ax.set_title("Solid: actual change; dashed: first-order prediction from the gradient")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return fig


# %%
def main(argv=None):
    run = start("sensitivity_analysis", __doc__, argv)
    epochs = 150 if run.quick else 500
    net, X_test, y_test, acc = train_digits_network(epochs=epochs)
    run.say(f"""
        MLP([64, 25, 10]) trained for {epochs} full-batch epochs (lr 2) on 1438 digits:
        held-out accuracy {acc:.1%} on {len(y_test)} test digits.""")

    idx = one_digit_per_class(net, X_test, y_test)
    x, labels = X_test[idx], y_test[idx]
    g = input_gradients(net, x, labels)
    S = sensitivity_maps(net, x, labels)
    numerical = central_difference_gradient(net, x, labels)
    rel = relative_error(g, numerical)
    run.say(f"""
        One correctly classified test digit per class (test rows {idx.tolist()}). The analytic
        gradients dy_c/dx against central differences (h = 1e-5, 2 x 640 stacked forward rows):
        largest relative error {rel.max():.1e} (per digit, on the scale of its largest entry).""")
    run.expect("analytic dy_c/dx matches central differences", rel.max() < 1e-6,
               f"max relative error {rel.max():.1e} < 1e-6")
    G = gradient_times_input(net, x, labels)
    run.figure(plot_digit_rows(x, [(S, "|∂y_c/∂x|"), (g, "∂y_c/∂x"), (G, "∂y_c/∂x · x")], labels,
                               "One test digit per class: sensitivity, signed gradient and gradient × "
                               "input\n(each panel on its own scale; red raises y_c, blue lowers it)"),
               "sensitivity_maps.png")

    top10 = top_pixel_share(S)
    run.say(f"""
        What a map shows: the local, first-order reaction of y_c to each pixel. The ten most
        sensitive of the 64 pixels carry {top10.min():.0%} to {top10.max():.0%} of each map's total
        (16% if the map were flat).""")
    share = blank_pixel_share(S, x)
    blank = x == 0
    run.say(f"""
        What the maps do not show (1): presence. {blank.mean():.0%} of these digits' pixels are
        blank (x = 0). Their share of each sensitivity map is {share.min():.0%} to {share.max():.0%}
        (mean {share.mean():.0%}): the network would react to ink there. Gradient x input is exactly 0
        on every blank pixel (largest |value| there: {np.max(np.abs(G[blank])):.1g}), because erasing
        a pixel that holds no ink changes nothing.""")
    run.expect("a sizeable part of every sensitivity map lies on blank pixels", share.min() > 0.1,
               f"smallest share {share.min():.0%} > 10%")
    run.expect("gradient x input is exactly zero on blank pixels", np.all(G[blank] == 0),
               f"{int(blank.sum())} blank pixels")

    table, chain_err = saturation_table(net, X_test)
    per_digit = table.iloc[idx].copy()
    per_digit.index = [f"digit {c}" for c in labels]
    run.table(per_digit.round(4), title="What the maps do not show (2): saturation. The digits "
                                        "above, with the size of their maps:")
    frame, ratio_out, ratio_logit = quartile_comparison(table)
    run.table(frame.round(4), title=f"All {len(table)} test digits, split by confidence:")
    run.say(f"""
        The chain rule dy_t/dx = y_t (1 - y_t) dz_t/dx holds to {chain_err:.1e} (relative). The
        least confident quarter of the test digits has maps {ratio_out:.0f} times larger (median of
        the largest entry) than the most confident quarter; for the logit z_t the factor is only
        {ratio_logit:.1f}. Most of the difference between faint and strong maps is the factor
        y_t (1 - y_t), i.e. confidence, not a difference in which pixels matter.""")
    run.expect("dy/dx = y(1 - y) dz/dx for the sigmoid output", chain_err < 1e-12, f"{chain_err:.1e}")
    run.expect("confident digits have much fainter maps than unsure ones", ratio_out > 5,
               f"{ratio_out:.0f}x > 5x")
    run.expect("the logit's gradient shrinks far less with confidence", ratio_logit < ratio_out / 3,
               f"{ratio_logit:.1f}x < {ratio_out:.0f}x / 3")
    run.figure(plot_saturation(table), "saturation.png")

    s_values = np.array([0.01, 0.1, 0.3, 0.5, 1.0])
    actual, predicted = fading_prediction(net, x, s_values, labels)
    fade = fading_table(actual, predicted, s_values)
    run.table(fade.round(4), title="What the maps do not show (3): large changes. Each of the ten "
                                   "digits faded to (1 - s) x:")
    small, large = fade["median relative error"].iloc[0], fade["median relative error"].iloc[-1]
    run.say(f"""
        For s = {s_values[0]:g} the gradient predicts the change to within {small:.0%} (median);
        erasing the digit completely (s = 1) drops y_t by {-np.median(actual[-1]):.2f} while the
        first-order prediction is {-np.median(predicted[-1]):.3f}: a relative error of {large:.0%}.
        A sensitivity map is a statement about an infinitesimal neighbourhood of x, not about
        removing or adding whole strokes.""")
    run.expect("first order is accurate for a small change (s = 0.01)", small < 0.1, f"{small:.1%} < 10%")
    run.expect("first order fails for a large change (s = 1)", large > 0.5, f"{large:.0%} > 50%")
    s_grid = np.linspace(0, 1, 41)
    curve_actual, curve_predicted = fading_prediction(net, x, s_grid, labels)
    run.figure(plot_fading(curve_actual, curve_predicted, s_grid, labels), "fading.png")
    return run.finish()


if __name__ == "__main__":
    raise SystemExit(main())
