"""Sensitivity maps |dy_c/dx| of a network on real 28x28 digits: what they show, and what they do not.

Run from the project root:  python -m lessons.sensitivity_analysis [--out DIR] [--quick]
"""

# %% [markdown]
# # Sensitivity analysis
#
# A trained classifier maps an image $x$ (here 28×28 = 784 pixels in $[0, 1]$,
# real MNIST digits) to ten outputs $y_0(x), \dots, y_9(x)$. Ask one of them,
# $y_c$, a local question: *if I nudge pixel $j$ a little, how much does $y_c$
# move?* The answer is the partial derivative, and the first-order Taylor
# expansion says how to use it:
#
#     y_c(x + Δ) ≈ y_c(x) + Σ_j (∂y_c/∂x_j) Δ_j           (small Δ)
#
# The **sensitivity map** of $x$ for class $c$ is $S_j = |∂y_c/∂x_j|$, drawn
# as a 28×28 image next to the digit. handnet computes the whole gradient at
# once: it is backpropagation started from output unit $c$ instead of from the
# cost and carried one layer further, down to the input
# (`hn.explain.input_gradient`; `hn.explain.sensitivity` is its absolute value).
#
# The network is the one of the sensitivity-analysis post this lesson follows: two
# fully connected layers with a softmax output, here 784-64-10 (sigmoid hidden
# units) trained on 4,000 of the 5,000 shipped MNIST digits. We draw one map per
# class, test the post's four readings of such maps *with numbers*, and then
# measure three things a map does *not* tell you: which pixels are present, how
# saturated the output is, and what a large change does.

# %%
import lessons  # noqa: F401  first, so that NumPy's BLAS gets one thread (see lessons/__init__.py)
import numpy as np

import handnet as hn
from lessons._common import start
from lessons._image_regions import (DIAGONAL_TOLERANCE, IMAGE_SHAPE, MIN_ELONGATION, QUADRANTS,  # noqa: F401
                                    TOP_FRACTION, enclosed_blank, is_diagonal, principal_axis,
                                    quadrant_shares, region_share)
from lessons._sensitivity_analysis_readings import (class_rows, difference_maps, hole_enrichment,  # noqa: F401
                                                    normalised, post_readings)
from lessons._sensitivity_analysis_plots import (plot_difference_maps, plot_digit_rows, plot_fading,
                                                 plot_saturation)

if __name__ == "__main__":
    run = start("sensitivity_analysis")


# %% [markdown]
# ## The network
#
# 784 inputs, 64 sigmoid hidden units, a softmax over the ten classes, trained by
# minibatch gradient descent with momentum on 80% of the digits; the other 1,000
# are the test digits whose maps we draw and measure.

# %%
def train_mnist_network(epochs=20, seed=0):
    """MLP([784, 64, 10], softmax output) trained on 80% of the shipped MNIST digits.

    Minibatches of 50, lr 0.5, momentum 0.9, `epochs` passes. Returns
    (net, X_test (1000, 784), y_test (1000,), held-out accuracy).
    """
    X, y = hn.datasets.load_mnist(size=28)
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(X, y, test_size=0.2, seed=seed)
    net = hn.MLP([784, 64, 10], output="softmax", seed=seed)
    hn.train(net, X_train, y_train, epochs=epochs, lr=0.5, batch_size=50, momentum=0.9, seed=seed,
             progress=False)
    return net, X_test, y_test, hn.accuracy(y_test, net.predict(X_test))


def one_digit_per_class(net, X, y):
    """Row indices (K,): the first row of each class c = 0..K-1 that the network classifies correctly."""
    correct = net.predict(X) == y
    return np.array([np.flatnonzero(correct & (y == c))[0] for c in range(net.layer_sizes[-1])])


if __name__ == "__main__":
    epochs = 4 if run.quick else 20
    net, X_test, y_test, acc = train_mnist_network(epochs=epochs)
    run.say(f"""MLP([784, 64, 10]) with a softmax output, trained for {epochs} epochs (minibatches of 50,
        lr 0.5, momentum 0.9) on 4000 MNIST digits: held-out accuracy {acc:.1%} on {len(y_test)}
        test digits.""")


# %% [markdown]
# ## The map, and a check of the derivative
#
# Before drawing anything, check the derivative. A central difference perturbs
# one pixel at a time, $g_j ≈ [y_c(x + h e_j) - y_c(x - h e_j)] / 2h$. All
# 784 perturbed copies of every image can be stacked into one array of shape
# (N, 784, 784) and sent through the network in a single forward pass, so no
# Python loop is needed. With $h = 10^{-5}$ the truncation error ($∝ h^2$) and
# the rounding error ($∝ ε/h$) are both near $10^{-10}$, so we expect agreement
# to about $10^{-7}$ of the largest entry or better.

# %%
def input_gradients(net, X, target=None, wrt="output"):
    """g[i, j] = dy_t/dx_j for each row (t = the predicted class when target is None).  (N, D).

    wrt="preactivation" gives dz_t/dx, the gradient of the logit.
    """
    return hn.explain.input_gradient(net, X, target, wrt=wrt)


def sensitivity_maps(net, X, target=None):
    """S[i, j] = |dy_t/dx_j|, the sensitivity map of each row.  X (N, D) -> (N, D), >= 0."""
    return hn.explain.sensitivity(net, X, target)


def central_difference_gradient(net, X, target, h=1e-5, wrt="output"):
    """n[i, j] = (y_t(x_i + h e_j) - y_t(x_i - h e_j)) / 2h, all (i, j) in one forward pass each way.

    X (N, D), target (N,) ints  ->  (N, D). The perturbed inputs form an array (N, D, D).
    wrt="preactivation" differences the logits z_t instead of the outputs y_t.
    """
    N, D = X.shape
    step = h * np.eye(D)                                      # (D, D): row j is h e_j
    plus = (X[:, None, :] + step).reshape(N * D, D)
    minus = (X[:, None, :] - step).reshape(N * D, D)
    K = net.layer_sizes[-1]
    value = net.predict_proba if wrt == "output" else (lambda V: net.forward_pass(V)[0][-1])
    diff = (value(plus) - value(minus)).reshape(N, D, K)
    picked = np.take_along_axis(diff, np.asarray(target)[:, None, None], axis=2)[:, :, 0]
    return picked / (2 * h)


def relative_error(analytic, numerical, floor=0.0):
    """max_j |a_ij - n_ij| / max(max_j |a_ij|, floor) for each row: the error on the scale of that row.

    floor: the smallest scale a finite difference can resolve (its rounding error is about
    eps |y| / h, 2e-11 for h = 1e-5 and |y| <= 1); rows whose gradient is below it are
    compared on that absolute scale instead.  -> (N,).
    """
    scale = np.maximum(np.max(np.abs(analytic), axis=1), floor)
    return np.max(np.abs(analytic - numerical), axis=1) / scale


if __name__ == "__main__":
    idx = one_digit_per_class(net, X_test, y_test)
    x, labels = X_test[idx], y_test[idx]
    g = input_gradients(net, x, labels)
    S = sensitivity_maps(net, x, labels)
    rel_logit = relative_error(input_gradients(net, x, labels, wrt="preactivation"),
                               central_difference_gradient(net, x, labels, wrt="preactivation"))
    # 1e-6 of this floor is 1e-10: five times the rounding error eps / h = 2e-11 of a central
    # difference of probabilities, the finest absolute error such a check can resolve
    floor = 1e-4
    rel = relative_error(g, central_difference_gradient(net, x, labels), floor=floor)
    run.say(f"""One correctly classified test digit per class (test rows {idx.tolist()}). The analytic
        gradients against central differences (h = 1e-5, 2 x {x.size} stacked forward rows), per
        digit on the scale of its largest entry: {rel_logit.max():.1e} for the logits dz_c/dx and
        {rel.max():.1e} for the outputs dy_c/dx. The most confident of these digits has
        1 - y_c = {1 - net.predict_proba(x).max():.0e}, so some output gradients are tiny, where a
        finite difference of probabilities (rounding error about eps/h = 2e-11) resolves only a few
        digits: errors are taken on the scale max(|dy/dx|, {floor:g}).""")
    run.expect("analytic dz_c/dx (the logits) matches central differences", rel_logit.max() < 1e-6,
               f"max relative error {rel_logit.max():.1e} < 1e-6")
    run.expect("analytic dy_c/dx matches central differences", rel.max() < 1e-6,
               f"max error {rel.max():.1e} < 1e-6 on the scale max(|dy/dx|, {floor:g})")


# %% [markdown]
# ## What the map shows
#
# Exactly one thing: for this image and this output, which pixels would move
# $y_c$ most if nudged a little, to first order. A few pixels carry much of
# the map (we measure the share of the 40 largest, 5% of the pixels); the figure
# shows where they sit relative to the strokes, on the ink and off it. The
# absolute value drops the direction: the signed gradient (the figure's third
# row) says whether more ink there raises $y_c$ (red) or lowers it (blue). The
# fourth row, gradient × input, answers a different question; it is explained
# below, with what the map does not show.

# %%
def top_pixel_share(S, k=10):
    """Share of each map's total carried by its k largest entries.  S (N, D) -> (N,)."""
    top = -np.sort(-S, axis=1)[:, :k]
    return top.sum(axis=1) / S.sum(axis=1)


def gradient_times_input(net, X, target=None):
    """G[i, j] = dy_t/dx_j * x_j, the first-order share of pixel j in y_t.  (N, D)."""
    return hn.explain.gradient_x_input(net, X, target)


if __name__ == "__main__":
    G = gradient_times_input(net, x, labels)
    run.figure(plot_digit_rows(x, [(S, "|∂y_c/∂x|"), (g, "∂y_c/∂x"), (G, "∂y_c/∂x · x")], labels,
                               "One test digit per class: sensitivity, signed gradient and gradient × "
                               "input\n(each panel on its own scale; red raises y_c, blue lowers it)"),
               "sensitivity_maps.png")
    top = top_pixel_share(S, k=40)
    run.say(f"""What a map shows: the local, first-order reaction of y_c to each pixel. The 40 most
        sensitive of the 784 pixels carry {top.min():.0%} to {top.max():.0%} of each map's total
        (5% if the map were flat).""")


# %% [markdown]
# ## The post's four readings, tested with numbers
#
# The post reads its MNIST maps in four sentences: the empty space in the middle
# matters for classifying a zero; a four and a nine would be confused were it not
# for a little bit in the top-left corner; a seven becomes a nine if the top-left
# loop is completed; a five becomes a six or an eight with a little diagonal line.
# Each is turned here into a measurement with a threshold fixed *before* looking
# at the maps, from the post's words alone, and judged on the mean map over all
# correctly classified test digits of the class, each digit's map first divided by
# its total so that every digit weighs the same (one image is one draw; the single
# displayed digit is printed too, as a second opinion that does not decide).
#
# 1. **The zero's empty middle.** For each zero, the *middle* is the set of blank
#    pixels ($x_j = 0$) that cannot be reached from the image border through blank
#    pixels (4-neighbour steps): the hole enclosed by the stroke, found by growing
#    the outside from the border one step at a time over all images at once. The
#    reading holds if the hole's share of $|∂y_0/∂x|$ is larger than its share of
#    the pixels (sensitivity per pixel above the image's average), in the median
#    over the zeros that have a hole.
# 2. **Four against nine, top-left corner.** The difference map
#    $∂(y_4 - y_9)/∂x$ says which pixels move the network between the two classes.
#    MNIST digits are scaled into a 20×20 box centred in the 28×28 canvas; split
#    that box into four 10×10 quadrants. The reading holds if the top-left quadrant
#    carries more of the mean $|∂(y_4 - y_9)/∂x|$ over the test fours than each
#    of the other three.
# 3. **Seven to nine, the top-left loop.** The same test for $∂(y_7 - y_9)/∂x$ over
#    the test sevens: the part of a nine's loop a seven lacks is its top-left.
# 4. **Five to six or eight, a little diagonal line.** Where adding ink turns a five
#    into class $b$ is the positive part of the mean $∂(y_b - y_5)/∂x$ over the test
#    fives. Take its strongest 5% of pixels (39 of 784), weighted by value, and
#    the principal axis of their positions: the reading holds for $b$ if that axis
#    is diagonal (within 22.5° of 45° or of 135°) and the spread along it is at
#    least twice the spread across it (a line, not a blob); it must hold for
#    both $b = 6$ and $b = 8$.
#
# A difference map is two rows of one Jacobian, ∂(y_a - y_b)/∂x = J[a] - J[b]
# (`hn.explain.jacobian`). The bookkeeping that applies the four tests to every
# digit of a class is `post_readings` in `lessons/_sensitivity_analysis_readings.py`.
#
# A reading that fails prints FAIL: it is a finding about the post's sentence on
# this network, not a failure of the lesson. Where the winning quadrant leads by a
# percent or so, another training run (try `--quick`, 4 epochs instead of 20) can
# flip the verdict: read the margins, not only the word.

# %%
if __name__ == "__main__":
    readings, diff = post_readings(net, X_test, y_test, idx)
    zero = readings["zero"]
    run.say(f"""Reading 1, the zero's empty middle: {zero['with a hole']} of the {zero['zeros']} correctly
        classified test zeros enclose a hole of blank pixels. In the median, the hole holds
        {zero['median share of pixels in hole']:.1%} of the pixels and
        {zero['median share of |dy0/dx| in hole']:.1%} of |dy_0/dx|: {zero['median ratio']:.2f} times
        its share of the area (displayed zero: {zero['shown ratio']:.2f}).""")
    run.claim("the empty middle matters for a zero: its hole's share of |dy0/dx| exceeds its share of pixels",
              zero["holds"], f"median ratio {zero['median ratio']:.2f} over {zero['with a hole']} zeros; "
                             f"displayed zero {'agrees' if zero['shown'] == zero['holds'] else 'disagrees'}")
    for key, (a, b), words in (("four-nine", (4, 9), "a four is told from a nine by the top-left corner"),
                               ("seven-nine", (7, 9), "a seven becomes a nine where the top-left loop closes")):
        r = readings[key]
        shares = ", ".join(f"{q} {r[f'share {q}']:.1%}" for q in QUADRANTS)
        same = " too" if r["largest without normalising"] == r["largest"] else ": the weighting decides"
        run.say(f"""Reading {2 if key == 'four-nine' else 3}: mean |d(y{a} - y{b})/dx| over {r['digits']} test
            {'fours' if a == 4 else 'sevens'}, by quadrant of the digit box (of the whole canvas's
            total): {shares}. The largest is the {r['largest']} quadrant, {r[f"share {r['largest']}"] -
            r['runner-up share']:.1%} of the total ahead of the next. Averaging the raw maps instead,
            where the least confident digits dominate, puts the largest share in the
            {r['largest without normalising']} quadrant{same}.""")
        run.claim(words + f": top-left carries the most of |d(y{a} - y{b})/dx|", r["holds"],
                  f"largest: {r['largest']}; displayed digit "
                  f"{'agrees' if r['shown'] == r['holds'] else 'disagrees'}")
    r = readings["five-six-eight"]
    run.say(f"""Reading 4: where more ink turns the {r['digits']} test fives towards a six, the strongest
        {TOP_FRACTION:.0%} of the mean map lie along an axis at {r['angle to 6 (deg)']:.0f} degrees
        with elongation {r['elongation to 6']:.1f}; towards an eight, {r['angle to 8 (deg)']:.0f}
        degrees and {r['elongation to 8']:.1f} (diagonal means within {DIAGONAL_TOLERANCE} degrees of
        45 or 135, a line means elongation >= {MIN_ELONGATION:g}).""")
    run.claim("a five becomes a six or an eight with a little diagonal line", r["holds"],
              f"6: {r['angle to 6 (deg)']:.0f} deg x {r['elongation to 6']:.1f}, "
              f"8: {r['angle to 8 (deg)']:.0f} deg x {r['elongation to 8']:.1f}; displayed five "
              f"{'agrees' if r['shown'] == r['holds'] else 'disagrees'}")
    # the same maps on the displayed digit of the class each map is taken on (a for a-9, 5 for b-5)
    singles = {(a, b): difference_maps(net, X_test[idx[a if b == 9 else b]][None], a, b)[0] for (a, b) in diff}
    run.figure(plot_difference_maps(diff, singles), "difference_maps.png")


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


if __name__ == "__main__":
    share = blank_pixel_share(S, x)
    blank = x == 0
    run.say(f"""What the maps do not show (1): presence. {blank.mean():.0%} of these digits' pixels are
        blank (x = 0). Their share of each sensitivity map is {share.min():.0%} to {share.max():.0%}
        (mean {share.mean():.0%}): the network would react to ink there. Gradient x input is exactly 0
        on every blank pixel (largest |value| there: {np.max(np.abs(G[blank])):.1g}), because erasing
        a pixel that holds no ink changes nothing.""")
    run.expect("a sizeable part of every sensitivity map lies on blank pixels", share.min() > 0.1,
               f"smallest share {share.min():.0%} > 10%")
    run.expect("gradient x input is exactly zero on blank pixels", np.all(G[blank] == 0),
               f"{int(blank.sum())} blank pixels")


# %% [markdown]
# ## What the map does not show (2): saturation
#
# The outputs are a softmax, $y_c = e^{z_c} / Σ_k e^{z_k}$, with
# $∂y_c/∂z_k = y_c(δ_{ck} - y_k)$. By the chain rule
#
#     ∂y_c/∂x = y_c (∂z_c/∂x - Σ_k y_k ∂z_k/∂x)
#             = y_c (1 - y_c) ∂z_c/∂x - y_c Σ_{k≠c} y_k ∂z_k/∂x
#
# so when the network is confident ($y_c → 1$, every other $y_k → 0$) both
# terms vanish and the map fades, however strongly the logit $z_c$ depends on
# the pixels. A faint map means "this output is saturated", not "the network
# uses no pixel". Comparing maps between digits therefore compares
# confidences as much as anything else; the logit's gradient
# (`wrt="preactivation"`) does not have this factor.

# %%
def saturation_table(net, X):
    """Per row (t = predicted class): y_t, 1 - y_t, max_j |dy_t/dx_j| and max_j |dz_t/dx_j|.

    Also returns the largest relative deviation from the softmax chain rule
    dy_t/dx = y_t (dz_t/dx - sum_k y_k dz_k/dx), with dz/dx the logits' Jacobian.
    X (N, D) -> (DataFrame with N rows, float).
    """
    import pandas as pd

    P = net.predict_proba(X)
    t = np.argmax(P, axis=1)
    rows = np.arange(len(X))
    y_t = P[rows, t]
    g_out = hn.explain.input_gradient(net, X, t)
    dz = hn.explain.jacobian(net, X, wrt="preactivation")                     # (N, K, D)
    g_logit = dz[rows, t]
    predicted = y_t[:, None] * (g_logit - np.einsum("nk,nkd->nd", P, dz))
    chain_rule_error = float(np.max(np.abs(g_out - predicted)) / np.max(np.abs(g_out)))
    table = pd.DataFrame({"confidence y_t": y_t, "1 - y_t": 1 - y_t,
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
    rows = {name: {"rows": int(mask.sum()), "median confidence": float(np.median(conf[mask])),
                   "median max |dy_t/dx|": float(np.median(table["max |dy_t/dx|"][mask])),
                   "median max |dz_t/dx|": float(np.median(table["max |dz_t/dx|"][mask]))}
            for name, mask in groups.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")     # one dtype per column: the counts stay int
    lo, hi = frame.loc["least confident 25%"], frame.loc["most confident 25%"]
    return (frame, float(lo["median max |dy_t/dx|"] / hi["median max |dy_t/dx|"]),
            float(lo["median max |dz_t/dx|"] / hi["median max |dz_t/dx|"]))


if __name__ == "__main__":
    table, chain_err = saturation_table(net, X_test)
    per_digit = table.iloc[idx].copy()
    per_digit.index = [f"digit {c}" for c in labels]
    run.table(per_digit.round(4), title="What the maps do not show (2): saturation. The digits "
                                        "above, with the size of their maps:")
    frame, ratio_out, ratio_logit = quartile_comparison(table)
    run.table(frame.round(4), title=f"All {len(table)} test digits, split by confidence:")
    run.say(f"""The softmax chain rule dy_t/dx = y_t (dz_t/dx - sum_k y_k dz_k/dx) holds to {chain_err:.1e}
        (relative). The least confident quarter of the test digits has maps {ratio_out:.0f} times
        larger (median of the largest entry) than the most confident quarter; for the logit z_t the
        factor is only {ratio_logit:.1f}. Most of the difference between faint and strong maps is
        saturation, i.e. confidence, not a difference in which pixels matter.""")
    run.expect("dy_t/dx = y_t (dz_t/dx - sum_k y_k dz_k/dx) for the softmax output", chain_err < 1e-12,
               f"{chain_err:.1e}")
    run.expect("confident digits have much fainter maps than unsure ones", ratio_out > 5,
               f"{ratio_out:.0f}x > 5x")
    run.expect("the logit's gradient shrinks far less with confidence", ratio_logit < ratio_out / 3,
               f"{ratio_logit:.1f}x < {ratio_out:.0f}x / 3")
    run.figure(plot_saturation(table), "saturation.png")


# %% [markdown]
# ## What the map does not show (3): large changes
#
# The map is a derivative: it describes an infinitesimal neighbourhood of $x$.
# Fade the whole digit towards blank paper, $x(s) = (1 - s)\,x$. Its first-order
# prediction is
#
#     y_c(x(s)) - y_c(x) ≈ -s Σ_j (∂y_c/∂x_j) x_j = -s × (sum of gradient × input)
#
# which is a straight line in $s$. The true curve bends: the softmax and the sigmoids
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


if __name__ == "__main__":
    s_values = np.array([0.01, 0.1, 0.3, 0.5, 1.0])
    actual, predicted = fading_prediction(net, x, s_values, labels)
    fade = fading_table(actual, predicted, s_values)
    run.table(fade.round(4), title="What the maps do not show (3): large changes. Each of the ten "
                                   "digits faded to (1 - s) x:")
    small, large = fade["median relative error"].iloc[0], fade["median relative error"].iloc[-1]
    run.say(f"""For s = {s_values[0]:g} the gradient predicts the change to within {small:.0%} (median);
        erasing the digit completely (s = 1) drops y_t by {-np.median(actual[-1]):.2f} while the
        first-order prediction is {-np.median(predicted[-1]):.3f}: a relative error of {large:.0%}.
        A sensitivity map is a statement about an infinitesimal neighbourhood of x, not about
        removing or adding whole strokes.""")
    run.expect("first order is accurate for a small change (s = 0.01)", small < 0.1, f"{small:.1%} < 10%")
    run.expect("first order fails for a large change (s = 1)", large > 0.5, f"{large:.0%} > 50%")
    s_grid = np.linspace(0, 1, 41)
    curve_actual, curve_predicted = fading_prediction(net, x, s_grid, labels)
    run.figure(plot_fading(curve_actual, curve_predicted, s_grid, labels), "fading.png")


# %%
if __name__ == "__main__":
    run.end()
