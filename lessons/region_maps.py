"""Region maps: what the weights of the 20x20 digits network look at, and what that picture leaves out.

Run from the project root:  python -m lessons.region_maps  [--quick] [--out DIR]
"""

# %% [markdown]
# # Projecting a class back onto the pixels
#
# The network of `lessons.crafting_by_hand` (the blog notebook's recipe: 400-14-10 sigmoid,
# N(0, 1) weights, 200 steps on 2,500 MNIST digits resampled to 20 x 20) has two weight
# matrices, $W_1$ (400 x 14) and $W_2$ (14 x 10).
# Which pixels does it connect to the class "3"? Start from the output unit of that class,
# the unit vector $e_3$, and walk backwards through the weights, multiplying along every
# path from a pixel to the unit and adding the paths up:
#
# $$r_c = e_c\, W_2^\top W_1^\top \qquad (\text{a row of } 400 \text{ numbers, one per pixel}),$$
#
# or for all ten classes at once, $R = I_{10} W_2^\top W_1^\top = (W_1 W_2)^\top$, shape (10, 400).
# Reshaped to 20 x 20, row $c$ is the **region map** of class $c$: red where the weights push
# class $c$ up, blue where they push it down (`hn.explain.region_maps`). This is the notebook's
# "Experiment 1": it sets the output vector to the one-hot class, multiplies it back through
# theta_2 and theta_1 and drops the bias entry after each product, then draws the 400 numbers
# twice, as a heatmap centred on 0 and in grey.
#
# It is the backward recursion of backprop with two things taken out, and a third never put
# in:
#
# * every derivative $f'(z)$ of an activation is set to 1,
# * the biases do not appear,
# * and there is no input: the map is the same for every digit.
#
# This lesson draws the maps, compares them with two explanations that *do* depend on the
# input (the mean input gradient and the mean occlusion map of each class), and then measures
# each of the three omissions.

# %%
import numpy as np
import pandas as pd

import handnet as hn
from lessons import crafting_by_hand as recipe
from lessons._common import start
from lessons._region_maps_plots import IMAGE, plot_agreement, plot_class_by_method, plot_experiment_1, plot_region_maps

if __name__ == "__main__":
    run = start("region_maps")  # in a notebook: quick mode from HANDNET_LESSON_QUICK=1


# %% [markdown]
# ## The network
#
# The notebook's recipe, trained as `lessons.crafting_by_hand` trains it (200 full-batch steps;
# 40 in quick mode), and its accuracy on the held-out digits. The class averages below use the
# first 50 held-out digits of each class.

# %%
LAYERS = recipe.DIMENSIONS          # [400, 14, 10]
STEPS = recipe.STEPS                # the notebook's 200 steps: about 86% held-out accuracy
QUICK_STEPS = 40                    # quick mode: about 75%
PER_CLASS = 50          # held-out digits per class whose gradients and occlusion maps are averaged
OCCLUSION_WINDOW = (2, 2)
BIAS_SHIFT = 1.0        # added to every hidden bias in the bias experiment


def digits_split(seed=recipe.SEED):
    """The notebook's data (crafting_by_hand.load_data): X_train, X_test, y_train, y_test."""
    return recipe.load_data(seed)


def train_digits(X_train, y_train, steps=STEPS, seed=recipe.SEED):
    """The notebook's recipe: N(0, 1) weights, alpha 2, l2 = lambda m (its gradient), ``steps`` full-batch
    steps with hn.train. Returns (trained net, its initial copy)."""
    net = recipe.network(LAYERS, recipe.normal_parameters(LAYERS, np.random.default_rng(seed)))
    initial = net.copy()
    hn.train(net, X_train, y_train, epochs=steps, lr=recipe.ALPHA, l2=recipe.LAMBDA_T * len(X_train),
             progress=False)
    return net, initial


def per_class(X, y, n=PER_CLASS):
    """The first n rows of each class: (X (10 n, D), y (10 n,))."""
    rows = np.concatenate([np.flatnonzero(y == c)[:n] for c in range(10)])
    return X[rows], y[rows]


if __name__ == "__main__":
    steps = QUICK_STEPS if run.quick else STEPS
    X_train, X_held, y_train, y_held = digits_split()
    net, initial = train_digits(X_train, y_train, steps)
    acc = hn.accuracy(y_held, net.predict(X_held))
    X_test, y_test = per_class(X_held, y_held)
    run.say(f"""
        The network: the notebook's recipe (lessons.crafting_by_hand), {LAYERS}, sigmoid layers,
        {steps} full-batch steps on {len(X_train)} digits of 20 x 20 pixels. Held-out accuracy:
        {100 * acc:.1f}% of {len(X_held)}. The class averages below use the first {PER_CLASS}
        held-out digits of each class.""")
    target = 0.8 if not run.quick else 0.5
    run.expect(f"the digits network is accurate (held-out accuracy > {target:.0%})", acc > target,
               f"{100 * acc:.1f}%")


# %% [markdown]
# ## The projection, by hand and by handnet
#
# Carrying $E$ back through layer $l$ is backprop's step $E \mapsto E\, W_l^\top$ without the
# factor $f'$. With $E = I$ the whole walk is one product of the weight matrices, transposed.
# We compute it that way and check it against `hn.explain.region_maps`.
#
# Two figures: `experiment1.png`, the notebook's two pictures of each digit's map, centred
# diverging and grey, each map on its own scale as the notebook draws them; and
# `region_maps.png`, the ten region maps on one colour scale (`hn.explain.plot_class_maps`).

# %%
def weight_product(net):
    """R = (W_1 W_2 ... W_L).T: the region maps as one matrix product.   -> (K, D)."""
    P = net.weights[0]
    for W in net.weights[1:]:
        P = P @ W
    return P.T


def experiment_1(net, digit):
    """The notebook's Experiment 1 in handnet's layout: k = e_digit, then k <- k W_l.T for l = L..1 (the
    notebook's theta_l = [b_l; W_l], so dropping the bias entry after each product leaves W_l). -> (D,)."""
    k = np.eye(net.layer_sizes[-1])[digit]
    for W in reversed(list(net.weights)):
        k = k @ W.T
    return k


if __name__ == "__main__":
    R = hn.explain.region_maps(net)
    by_hand = np.max(np.abs(weight_product(net) - R))
    notebook = np.array([experiment_1(net, c) for c in range(10)])
    by_notebook = np.max(np.abs(notebook - R))
    run.say(f"The region maps R = (W_1 W_2).T have shape {R.shape}; by hand, by the notebook's "
            f"Experiment 1 and by handnet they differ by at most {max(by_hand, by_notebook):.1e}.")
    run.expect("region maps = (W_1 W_2).T, the product of the weights", by_hand < 1e-12, f"{by_hand:.1e}")
    run.expect("the notebook's Experiment 1 gives hn.explain.region_maps for every digit",
               by_notebook < 1e-12, f"{by_notebook:.1e}")
    run.figure(plot_experiment_1(notebook), "experiment1.png")
    run.figure(plot_region_maps(R), "region_maps.png")


# %% [markdown]
# ## Three explanations per class
#
# For each class $c$ we average over the test digits of that class ($n_c$ of them,
# $S_c$ their set):
#
# * the **mean input gradient** $\bar g_c = \frac{1}{n_c}\sum_{i \in S_c} \partial y_c(x_i)/\partial x$,
#   the exact derivative of the class's own output (`hn.explain.input_gradient` with the
#   true class as target);
# * the **mean occlusion map** $\bar o_c$: each 2 x 2 patch of the image set to 0 (blank
#   paper) in turn, the drop of $y_c$ recorded, a pixel's value the mean over the patches
#   covering it (`hn.explain.occlusion`, window (2, 2), image shape (20, 20));
# * the **mean image** $\bar x_c$, for reference.
#
# Averages per class are one matrix product: with the one-hot matrix $Y$ (N, 10),
# $\bar A = \mathrm{diag}(1/n)\, Y^\top A$.
#
# `class_by_method.png` shows them: a column per class, a row per method (mean image, region
# map, mean input gradient, mean occlusion), each method divided by its largest |value| over
# the ten classes, so that within a method the classes share one colour scale.

# %%
def class_means(A, y, K=10):
    """Mean of the rows of A (N, D) per class: (Y.T @ A) / n_c, Y = one_hot(y).   -> (K, D)."""
    Y = hn.one_hot(y, K)
    return (Y.T @ A) / Y.sum(axis=0)[:, None]


def mean_input_gradients(net, X, y):
    """Per class c, the mean over its digits of dy_c/dx (target = the true class).   -> (K, D)."""
    return class_means(hn.explain.input_gradient(net, X, y), y, net.layer_sizes[-1])


def mean_occlusion_maps(net, X, y, window=OCCLUSION_WINDOW):
    """Per class c, the mean over its digits of the occlusion map of y_c (baseline 0).   -> (K, D)."""
    O = hn.explain.occlusion(net, X, y, window, image_shape=IMAGE)
    return class_means(O, y, net.layer_sizes[-1])


if __name__ == "__main__":
    G = mean_input_gradients(net, X_test, y_test)
    O = mean_occlusion_maps(net, X_test, y_test)
    mean_images = class_means(X_test, y_test)
    run.say(f"""Over the {len(X_test)} test digits ({PER_CLASS} per class): mean input gradients G
        {G.shape}, mean occlusion maps O {O.shape} and mean images {mean_images.shape}, one row per
        class.""")
    run.figure(plot_class_by_method(mean_images, {"region map": R, "mean input gradient": G,
                                                  "mean occlusion": O}), "class_by_method.png")


# %% [markdown]
# ## How far do they agree?
#
# The three maps have different units (the region map is a product of weights, the gradient
# an output change per unit of ink, occlusion an output change), so we compare their
# *patterns*: the Pearson correlation over the 400 pixels,
#
# $$\rho(a, b) = \frac{\sum_j (a_j - \bar a)(b_j - \bar b)}
#                     {\sqrt{\sum_j (a_j - \bar a)^2 \sum_j (b_j - \bar b)^2}},$$
#
# one number per class and pair of methods (`agreement.png` draws them).

# %%
def row_correlation(A, B):
    """Pearson correlation of each row of A with the same row of B.   (M, D), (M, D) -> (M,)."""
    a = A - A.mean(axis=1, keepdims=True)
    b = B - B.mean(axis=1, keepdims=True)
    return np.sum(a * b, axis=1) / np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1))


def agreement_table(R, G, O):
    """Per class: the correlations region~gradient, region~occlusion, gradient~occlusion."""
    return pd.DataFrame({"region ~ gradient": row_correlation(R, G),
                         "region ~ occlusion": row_correlation(R, O),
                         "gradient ~ occlusion": row_correlation(G, O)},
                        index=pd.Index(range(len(R)), name="class"))


if __name__ == "__main__":
    table = agreement_table(R, G, O)
    run.table(table.round(3), title=f"Correlation over the {R.shape[1]} pixels, per class:")
    means = table.mean()
    rg, ro, go = means["region ~ gradient"], means["region ~ occlusion"], means["gradient ~ occlusion"]
    run.say(f"""
        Averaged over the classes: region map ~ mean input gradient {rg:.3f}, region map ~ mean
        occlusion {ro:.3f}, mean input gradient ~ mean occlusion {go:.3f}. The region map is a
        fair summary of the average *slope*, not of what covering the ink does.""")
    run.expect("the region map follows the mean input gradient (mean correlation > 0.8)",
               means["region ~ gradient"] > 0.8, f"{means['region ~ gradient']:.3f}")
    run.figure(plot_agreement(table), "agreement.png")


# %% [markdown]
# ## What the projection ignores, measured
#
# ### 1. The nonlinearities
#
# The exact input gradient is backprop's recursion started from
# the output unit,
#
# $$\delta_2 = e_c \odot f_2'(z_2),\qquad \delta_1 = (\delta_2 W_2^\top) \odot f_1'(z_1),\qquad
#   \partial y_c/\partial x = \delta_1 W_1^\top,$$
#
# so each path through hidden unit $k$ is weighted by how steep that unit is *at this input*.
# Set every $f'$ to 1 and it becomes $e_c W_2^\top W_1^\top$, the region map. So for a
# network whose activations are all the identity ($f' \equiv 1$) the region map *is* the
# input gradient, at every input, exactly. For the sigmoid network it is not: a sigmoid's
# slope is at most 1/4 and differs from unit to unit and from digit to digit.

# %%
def identity_network_gap(X, seed=0):
    """max |Jacobian - region maps| for an MLP(LAYERS) with identity activations, over the rows of X.

    f' = 1 everywhere, so dy_c/dx = e_c W_2.T W_1.T at every x: the gap is rounding only.
    """
    net = hn.MLP(LAYERS, hidden="identity", output="identity", seed=seed)
    rng = np.random.default_rng(seed)
    for l in range(net.n_layers):                     # biases too, to show they do not matter
        net.biases[l] = rng.standard_normal(net.layer_sizes[l + 1])
    J = hn.explain.jacobian(net, X)                   # (N, K, D)
    return float(np.max(np.abs(J - hn.explain.region_maps(net)[None])))


def gradient_vs_projection(net, X, y):
    """For each digit, the correlation of its input gradient dy_c/dx (c = its class) with the
    region map of c, and the ratio of their sizes ||g|| / ||r_c||.   -> (corr (N,), ratio (N,))."""
    G = hn.explain.input_gradient(net, X, y)
    R = hn.explain.region_maps(net)[y]                # (N, D): each digit's class map
    return row_correlation(G, R), np.linalg.norm(G, axis=1) / np.linalg.norm(R, axis=1)


if __name__ == "__main__":
    gap = identity_network_gap(X_test)
    run.say(f"""
        What the projection ignores. 1. The nonlinearities (every f' set to 1). A network of the
        same shape with identity activations (f' = 1 everywhere; random weights and biases) has
        an input Jacobian at every test digit that differs from its region maps by at most
        {gap:.1e}: there, the projection *is* the gradient.""")
    run.expect("identity activations: the input Jacobian equals the region maps at every test digit",
               gap < 1e-12, f"max |difference| {gap:.1e} over {len(X_test)} digits x 10 classes x "
                            f"{R.shape[1]} pixels")
    corr, ratio = gradient_vs_projection(net, X_test, y_test)
    c_lo, c_mid, c_hi = np.min(corr), np.median(corr), np.max(corr)
    r_lo, r_mid, r_hi = np.min(ratio), np.median(ratio), np.max(ratio)
    run.say(f"""
        For the sigmoid network they differ. One digit's gradient correlates with its class's
        region map at {c_lo:.2f} to {c_hi:.2f} (median {c_mid:.2f}), below the {rg:.2f} of the
        class averages: averaging over many digits smooths out which units each one switches
        on. And its size is {r_mid:.1e} times the map's (median; from {r_lo:.1e} to
        {r_hi:.1e}): every sigmoid's slope is at most 1/4, a confident output's nearly 0. The
        size of a region map means nothing; only its pattern does.""")
    run.expect("sigmoid activations: the gradients are not the projection (median correlation < 0.99)",
               np.median(corr) < 0.99, f"median {np.median(corr):.3f}")


# %% [markdown]
# ### 2. The biases
#
# They They shift each $z_l$, and so where each unit sits on its sigmoid, and so
# every $f'(z)$ and every gradient; the region map does not contain them at all. We add 1 to
# every hidden bias and see what moves.

# %%
def bias_shift_effect(net, X, y, shift=BIAS_SHIFT):
    """Add ``shift`` to every hidden bias: (max |change of the region maps|,
    ||change of the input gradients|| / ||input gradients||) over the rows of X."""
    moved = net.copy()
    for l in range(net.n_layers - 1):
        moved.biases[l] = net.biases[l] + shift
    dR = np.max(np.abs(hn.explain.region_maps(moved) - hn.explain.region_maps(net)))
    G = hn.explain.input_gradient(net, X, y)
    dG = np.linalg.norm(hn.explain.input_gradient(moved, X, y) - G) / np.linalg.norm(G)
    return float(dR), float(dG)


if __name__ == "__main__":
    dR, dG = bias_shift_effect(net, X_test, y_test)
    run.say(f"""
        2. The biases. Adding {BIAS_SHIFT:g} to every hidden bias changes the region maps by
        {dR:.1e} (they do not contain the biases) and the input gradients of the test digits by
        {100 * dG:.0f}% of their size.""")
    run.expect("a bias shift leaves the region maps exactly unchanged", dR == 0.0, f"max change {dR:.1e}")
    run.expect("the same shift moves the input gradients (by > 10%)", dG > 0.1, f"{100 * dG:.0f}%")


# %% [markdown]
# ### 3. The input
#
# The map is the same for every digit, including for pixels that are blank in
# every image. The weights leaving such a pixel never change in training: their gradient is
# $\partial J/\partial W_1[j, :] = \frac1m \sum_i x_{ij}\, \delta_{1,i} = 0$ when $x_{ij} = 0$
# for every $i$. Only the L2 penalty acts on them, $W \leftarrow W - \alpha\lambda W$ (the
# notebook's step), so after $s$ steps they are exactly their random initial values times
# $(1 - \alpha\lambda)^s$, and the region map projects them all the same. Occlusion, by
# contrast, only sees ink: covering a blank pixel with blank changes nothing. Multiplying the
# region map by the mean image (a crude "weights x input") should therefore move it towards
# occlusion.

# %%
def blank_pixels(X):
    """Pixels that are 0 in every row of X (N, D): a boolean mask (D,)."""
    return ~np.any(X != 0, axis=0)


def untrained_weight_change(net, initial, mask, decay=1.0):
    """max |W_1[j, :] - decay * W_1 at initialisation[j, :]| over the pixels j in ``mask``."""
    return float(np.max(np.abs(net.weights[0][mask] - decay * initial.weights[0][mask])))


if __name__ == "__main__":
    blank = blank_pixels(X_train)
    decay = (1 - recipe.ALPHA * recipe.LAMBDA_T) ** steps
    moved = untrained_weight_change(net, initial, blank, decay)
    rounding = 4 * steps * np.finfo(float).eps * float(np.max(np.abs(initial.weights[0][blank])))
    share = np.max(np.abs(R[:, blank])) / np.max(np.abs(R))
    run.say(f"""
        3. The input. {int(blank.sum())} of the {R.shape[1]} pixels are blank in all {len(X_train)}
        training digits (mostly the corners). Their rows of W_1 are their random initial values
        times (1 - alpha lambda)^{steps} = {decay:.4f}, to within {moved:.1e}: the data never
        touched them, only the penalty shrank them. The region maps give them up to
        {100 * share:.1f}% of the maps' largest value all the same.""")
    run.expect("weights from always-blank pixels are only shrunk by the penalty", moved <= rounding,
               f"max |W - (1 - alpha lambda)^{steps} W_0| = {moved:.1e}, rounding of {steps} products "
               f"up to {rounding:.1e}")
    weighted = row_correlation(R * mean_images, O)
    run.say(f"""
        Weighting each region map by its class's mean image (a crude weights x input) raises its
        mean correlation with the occlusion map from {ro:.3f} to {weighted.mean():.3f}: part of
        what the projection misses is simply where the ink is.""")
    run.expect("weighting by the mean image moves the region map towards occlusion",
               weighted.mean() > ro, f"{ro:.3f} -> {weighted.mean():.3f}")


# %% [markdown]
# ## In short

# %%
if __name__ == "__main__":
    run.say("""
        In short: the region map is cheap (one product of the weight matrices) and shows what the
        weights connect to each class, which here is close to the average input gradient. It is
        not an explanation of any one prediction: it cannot see which units a digit switches on,
        how the biases place them, or where the digit has ink.""")


# %%
if __name__ == "__main__":
    run.end()
