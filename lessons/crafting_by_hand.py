"""Crafting a neural network by hand: the whole pipeline on the shipped digits, checked against handnet.

Run from the project root:

    python -m lessons.crafting_by_hand            # the full lesson (a few seconds)
    python -m lessons.crafting_by_hand --quick    # fewer epochs and timing rounds
    python -m lessons.crafting_by_hand --out DIR  # figures and the CSV log go to DIR

The lesson follows the blog notebook "Crafting Neural Networks by hand"
(Beyond Similarity), which trained a 400-14-10 sigmoid network on Andrew Ng's
ex4 digits with plain gradient descent. Here the data are the UCI 8x8 digits
shipped with handnet and the network is 64-25-10; every step is written out
as a short NumPy function and then compared with handnet's own.
"""

# %% [markdown]
# # Crafting a neural network by hand
#
# A network is a few lines of linear algebra. In this lesson we write every one
# of them ourselves: prepare the data, propagate forward, measure the cost,
# propagate the error backward, step downhill, and look at what came out. Then
# we check each hand-made piece against handnet, which does the same thing,
# and time the way many beginners' notebooks write it against the way it
# should be written.
#
# Layout, used everywhere below (layers counted from 1 in the equations):
#
#     a_0 = X                      (m, n_0)   one example per row
#     z_l = a_{l-1} @ W_l + b_l    (m, n_l)   W_l: (n_{l-1}, n_l),  b_l: (n_l,)
#     a_l = sigma(z_l)             (m, n_l)   sigma(z) = 1 / (1 + e^{-z})

# %%
from __future__ import annotations

import time
from datetime import datetime, timezone

import numpy as np

import handnet as hn
from lessons._common import start

# %% [markdown]
# ## Hyperparameters: named once, at the top
#
# Every number that shapes the run gets a name here, so a run can be
# described (and logged) by these constants alone. The learning rate 2.0 is
# large by textbook standards, but the cross-entropy gradient of a sigmoid
# output is (h - y)/m, an average, so full-batch steps of this size are
# stable. L2 = 1.0 is the lambda of the course's cost,
# J += lambda/(2m) * sum of all squared weights.

# %%
HIDDEN = 25                 # hidden units: a 64-25-10 network
LEARNING_RATE = 2.0         # step size of gradient descent
L2 = 1.0                    # lambda of the L2 penalty (biases excluded)
EPOCHS = 300                # full-batch gradient-descent steps
QUICK_EPOCHS = 60           # ... in quick mode
SEED = 0                    # the split and the initial weights
VALIDATION_FRACTION = 0.2   # share of the digits held out for validation
TIMING_REPEATS = 7          # rounds of the naive-versus-handnet timing
QUICK_TIMING_REPEATS = 2
QUICK_TIMING_ROWS = 300     # quick mode times the step on the first 300 training digits only
N_CLASSES = 10
IMAGE_SHAPE = (8, 8)


def hyperparameters(quick=False):
    """The constants of this run as a dict (what the CSV log records)."""
    return {"hidden": HIDDEN, "learning_rate": LEARNING_RATE, "l2": L2,
            "epochs": QUICK_EPOCHS if quick else EPOCHS, "seed": SEED,
            "validation_fraction": VALIDATION_FRACTION}


# %% [markdown]
# ## The data: split first, then normalise, then encode
#
# The shipped digits are 1,797 images of 8x8 pixels, flattened to 64 numbers
# in [0, 1]. We hold out a seeded, stratified 20% for validation *before*
# anything is learned from the data: the min-max scaler
#
#     x_j -> (x_j - min_j) / (max_j - min_j)
#
# is fitted on the training part only, so the validation digits stay unseen.
# (A pixel that is always 0 in training has max_j = min_j and maps to 0.)
#
# The network has 10 sigmoid outputs, one per digit, so the label y = 3
# becomes the target row e_3 = (0, 0, 0, 1, 0, 0, 0, 0, 0, 0): one-hot encoding.

# %%
def split_and_normalise(seed=SEED, fraction=VALIDATION_FRACTION):
    """(X_train, X_val, y_train, y_val): a seeded stratified split, min-max scaled on the training part.

    X_* (m, 64) float64, y_* (m,) ints 0..9.
    """
    X, y = hn.datasets.load_digits()
    X_train, X_val, y_train, y_val = hn.datasets.train_test_split(X, y, test_size=fraction, seed=seed)
    scaler = hn.datasets.MinMaxScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_val), y_train, y_val


def one_hot(y, K=N_CLASSES):
    """Y[i, k] = 1 if y_i == k else 0: row y_i of the K x K identity.   y (m,) -> Y (m, K)."""
    return np.eye(K)[y]


# %% [markdown]
# ## Forward propagation
#
# One matrix product per layer, for all m examples at once: no loop over
# examples. The sigmoid 1/(1 + e^{-z}) overflows e^{-z} for z < -709, so we
# only ever exponentiate -|z|: with e = exp(-|z|) <= 1,
#
#     sigma(z) = 1 / (1 + e)  for z >= 0,      sigma(z) = e / (1 + e)  for z < 0
#
# (multiply the top and bottom of 1/(1 + e^{-z}) by e^{z} to get the second).
# The tempting (1 + tanh(z/2))/2 does not overflow either, but for very
# negative z it subtracts two numbers close to 1 and loses most of its digits:
# at z = -30 only the first three are right.

# %%
def sigmoid(z):
    """sigma(z) = 1 / (1 + e^{-z}) = [1 or e] / (1 + e), e = exp(-|z|).   Any shape -> same shape."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def forward(X, weights, biases):
    """zs, acts: z_l = a_{l-1} @ W_l + b_l and a_l = sigma(z_l) for l = 1..L.

    X (m, n_0) -> zs = [z_1 .. z_L], acts = [a_0 = X, a_1, .., a_L], each (m, n_l).
    """
    zs, acts = [], [X]
    for W, b in zip(weights, biases):
        zs.append(acts[-1] @ W + b)
        acts.append(sigmoid(zs[-1]))
    return zs, acts


def predict(X, weights, biases):
    """The predicted digit: argmax_k a_L[i, k].   (m, n_0) -> (m,) ints."""
    return np.argmax(forward(X, weights, biases)[1][-1], axis=1)


# %% [markdown]
# ## The cost, with L2 regularisation
#
# The course's cross-entropy for sigmoid outputs h = sigma(z_L), plus the L2
# penalty on the weights (never on the biases: a bias shifts a unit, it does
# not make the network more wiggly, and penalising it gains nothing):
#
#     J = (1/m) sum_ik [ -y_ik log h_ik - (1 - y_ik) log(1 - h_ik) ]
#         + lambda/(2m) sum_l sum(W_l^2)
#
# Written with softplus(z) = log(1 + e^z), the data term is
# (1/m) sum_ik [softplus(z_ik) - y_ik z_ik]: the same number, but it never
# takes log(0) when a unit saturates.

# %%
def softplus(z):
    """log(1 + e^z), computed as logaddexp(0, z) (no overflow).   Any shape -> same."""
    return np.logaddexp(0.0, z)


def cross_entropy(z_L, Y):
    """(1/m) sum_ik [softplus(z_ik) - y_ik z_ik] = (1/m) sum_ik [-y log h - (1-y) log(1-h)].

    z_L, Y (m, K) -> a float.
    """
    return float(np.sum(softplus(z_L) - Y * z_L)) / z_L.shape[0]


def l2_penalty(weights, lam, m):
    """lambda/(2m) sum_l sum(W_l^2): weights only, the biases are left out.   -> a float."""
    return lam / (2.0 * m) * sum(float(np.sum(W * W)) for W in weights)


def cost(X, Y, weights, biases, lam=L2):
    """J = cross_entropy(z_L, Y) + l2_penalty.   X (m, n_0), Y (m, K) -> a float."""
    zs, _ = forward(X, weights, biases)
    return cross_entropy(zs[-1], Y) + l2_penalty(weights, lam, X.shape[0])


# %% [markdown]
# ## Backpropagation
#
# The derivative of J with respect to each pre-activation, delta_l = dJ/dz_l,
# is carried from the output back to the first layer. For a sigmoid output
# with the cross-entropy, the sigmoid's derivative cancels against the log's
# and the output delta is simply (h - y)/m. Each step back multiplies by the
# transposed weights and by sigma'(z) = a (1 - a):
#
#     delta_L = (a_L - Y) / m                               (m, n_L)
#     delta_l = (delta_{l+1} @ W_{l+1}.T) * a_l * (1 - a_l)  (m, n_l)
#     dJ/dW_l = a_{l-1}.T @ delta_l + (lambda/m) W_l         (n_{l-1}, n_l)
#     dJ/db_l = sum over rows of delta_l                     (n_l,)
#
# One forward pass gives both the cost and everything the backward pass needs.

# %%
def output_delta(a_L, Y):
    """delta_L = dJ/dz_L = (a_L - Y) / m for sigmoid outputs and the cross-entropy.   (m, K)."""
    return (a_L - Y) / Y.shape[0]


def hidden_delta(delta_next, W_next, a):
    """delta_l = (delta_{l+1} @ W_{l+1}.T) * a_l (1 - a_l).

    delta_next (m, n_{l+1}), W_next (n_l, n_{l+1}), a (m, n_l) -> (m, n_l).
    """
    return (delta_next @ W_next.T) * a * (1.0 - a)


def backprop(acts, Y, weights, lam=L2):
    """[(dJ/dW_l, dJ/db_l) for l = 1..L] from a forward pass acts = [a_0, .., a_L] (forward(...)[1])."""
    m = Y.shape[0]
    delta = output_delta(acts[-1], Y)
    grads = []
    for l in range(len(weights) - 1, -1, -1):          # Python index l holds the math's layer l+1
        grads.append((acts[l].T @ delta + (lam / m) * weights[l], delta.sum(axis=0)))
        if l > 0:
            delta = hidden_delta(delta, weights[l], acts[l])
    return grads[::-1]


def cost_and_gradient(X, Y, weights, biases, lam=L2):
    """(J, [(dJ/dW_l, dJ/db_l) for l = 1..L]) from one forward and one backward pass."""
    zs, acts = forward(X, weights, biases)
    J = cross_entropy(zs[-1], Y) + l2_penalty(weights, lam, X.shape[0])
    return J, backprop(acts, Y, weights, lam)


# %% [markdown]
# ## Initial weights
#
# The notebook drew every weight from N(0, 1). With 64 inputs, a hidden
# pre-activation z = x @ w then has a standard deviation of |x|, several units
# for a digit, and many sigmoids start saturated, where sigma' = a (1 - a) is
# nearly 0 and learning crawls. Glorot's uniform initialisation (handnet's
# default), W ~ U(-r, r) with r = sqrt(6 / (n_in + n_out)), keeps the
# pre-activations in the sigmoid's responsive range. We count how many hidden
# pre-activations start beyond |z| > 4, where sigma' < 0.018, less than a
# tenth of its largest value 1/4.

# %%
def saturated_fraction(X, W, b, limit=4.0):
    """The share of hidden pre-activations z = X @ W + b with |z| > limit.   X (m, n_0), W (n_0, n_1)."""
    return float(np.mean(np.abs(X @ W + b) > limit))


# %% [markdown]
# ## Is the hand-made gradient right?
#
# Two independent checks. handnet computes the same cost and gradient with its
# own code (a stabler sigmoid, a different order of operations), so the two
# should agree to rounding, about 1e-15 relative. And a central difference
#
#     dJ/dtheta_i ~ [J(theta + h e_i) - J(theta - h e_i)] / (2h),  h = 1e-5,
#
# which knows nothing about backprop, should agree to about 1e-9 (its own
# error; lesson `gradient_checking` looks at that error closely).

# %%
def flat(pairs):
    """[(W_1, b_1), (W_2, b_2), ...] -> one vector (P,), ordered like handnet's net.params."""
    return np.concatenate([np.concatenate([W.ravel(), b.ravel()]) for W, b in pairs])


def compare_with_handnet(net, X, Y, lam=L2):
    """Largest differences between the hand-made cost/gradient and hn.cost/hn.gradient.

    Returns {"J": J, "cost_rel": |J - J_hn| / |J_hn|, "grad_rel": max|g - g_hn| / max|g_hn|}.
    """
    J, grads = cost_and_gradient(X, Y, list(net.weights), list(net.biases), lam)
    J_hn = hn.cost(net, X, Y, l2=lam)
    g_hn = flat(hn.gradient(net, X, Y, l2=lam))
    return {"J": J, "cost_rel": abs(J - J_hn) / abs(J_hn),
            "grad_rel": float(np.max(np.abs(flat(grads) - g_hn)) / np.max(np.abs(g_hn)))}


def compare_with_central_differences(net, X, Y, lam=L2, n_entries=12, seed=SEED):
    """Relative errors |a - n| / max(|a|, |n|) of the hand-made gradient at random entries.

    a: our backprop; n: hn.numerical_gradient of *our* cost written as a function of
    the flat parameter vector. Returns (indices, a, n, relative errors).
    """
    rng = np.random.default_rng(seed)
    theta = net.params.copy()
    idx = np.sort(rng.choice(theta.size, size=n_entries, replace=False))

    def J(vector):
        weights, biases = net.unflatten(vector)
        return cost(X, Y, weights, biases, lam)

    weights, biases = net.unflatten(theta)
    a = flat(cost_and_gradient(X, Y, weights, biases, lam)[1])[idx]
    n = hn.numerical_gradient(J, theta, h=1e-5, indices=idx)
    return idx, a, n, np.abs(a - n) / np.maximum(np.abs(a), np.abs(n))


def entry_name(net, i):
    """The name of flat parameter i in handnet's layout, like 'W0[3, 7]' or 'b1[2]'."""
    for name, offset, shape in reversed(net.layout()):
        if i >= offset:
            index = np.unravel_index(i - offset, shape)
            return f"{name}[{', '.join(str(int(k)) for k in index)}]"
    raise IndexError(i)


# %% [markdown]
# ## Gradient descent, by hand
#
# Each epoch is one full-batch step, theta <- theta - lr * dJ/dtheta. The
# forward pass that gives the gradient also gives the cost and the training
# accuracy of the parameters *before* the step, so recording them is free; the
# validation digits get one extra forward pass. Row e of the history describes
# the parameters after e steps (the same convention as hn.train, so the two can
# be compared row by row).

# %%
def gradient_descent_step(weights, biases, grads, lr):
    """W_l <- W_l - lr dJ/dW_l,  b_l <- b_l - lr dJ/db_l (new arrays; the inputs are untouched)."""
    return ([W - lr * dW for W, (dW, _) in zip(weights, grads)],
            [b - lr * db for b, (_, db) in zip(biases, grads)])


def evaluate(X, y, weights, biases, lam=L2):
    """(J_data, penalty, accuracy) of the parameters on (X, y) from one forward pass.

    J_data = cross_entropy(z_L, Y); penalty = lambda/(2m) sum W^2 with m = len(X); J = J_data + penalty.
    """
    zs, acts = forward(X, weights, biases)
    data = cross_entropy(zs[-1], one_hot(y))
    return data, l2_penalty(weights, lam, X.shape[0]), float(np.mean(np.argmax(acts[-1], axis=1) == y))


def train_by_hand(X, y, weights, biases, epochs, lr=LEARNING_RATE, lam=L2, validation=None):
    """Full-batch gradient descent; returns (weights, biases, history DataFrame).

    History columns, as hn.train's: epoch, loss (the cross-entropy alone), accuracy; with
    validation=(X_val, y_val) also val_loss (the cross-entropy alone: the penalty is about the
    weights, not the data) and val_accuracy; then penalty (lambda/(2m) sum W^2) and cost
    (J = loss + penalty, the quantity descended).
    """
    import pandas as pd

    Y = one_hot(y)
    rows = []

    def record(epoch, data, penalty, acc):
        row = {"epoch": epoch, "loss": data, "accuracy": acc}
        if validation is not None:
            row["val_loss"], _, row["val_accuracy"] = evaluate(*validation, weights, biases, 0.0)
        row["penalty"], row["cost"] = penalty, data + penalty
        rows.append(row)

    for epoch in range(epochs):
        zs, acts = forward(X, weights, biases)               # one pass gives J, accuracy and gradient
        record(epoch, cross_entropy(zs[-1], Y), l2_penalty(weights, lam, X.shape[0]),
               float(np.mean(np.argmax(acts[-1], axis=1) == y)))
        grads = backprop(acts, Y, weights, lam)
        weights, biases = gradient_descent_step(weights, biases, grads, lr)
    record(epochs, *evaluate(X, y, weights, biases, lam))
    history = pd.DataFrame(rows)
    history.attrs.update(lr=lr, l2=lam, batch_size=None, cost="cross_entropy")
    return weights, biases, history


def train_with_handnet(net, X, y, epochs, lr=LEARNING_RATE, lam=L2, validation=None):
    """The same run with hn.train (trains ``net`` in place); returns its history."""
    return hn.train(net, X, y, epochs=epochs, lr=lr, l2=lam, validation=validation, progress=False)


# %% [markdown]
# ## What the trained weights look at: region maps
#
# Carry the class vector e_c back through the weight matrices, ignoring the
# sigmoids and the biases:
#
#     map_c = e_c @ W_2.T @ W_1.T        (64,), shown as an 8x8 image
#
# Red pixels push class c up along every path through the network, blue ones
# push it down. It describes the weights, not any particular digit (the
# sigmoids are ignored), but it often shows the shape of the digit a class
# has learned to expect.

# %%
def region_maps_by_hand(weights):
    """maps = I_K @ W_L.T @ ... @ W_1.T: one row per class.   -> (K, n_0)."""
    maps = np.eye(weights[-1].shape[1])
    for W in reversed(weights):
        maps = maps @ W.T
    return maps


# %% [markdown]
# ## A log of every run
#
# Tuning is an experiment; keep a lab book. Each run appends one row to
# `hyperparameters.csv` in the output folder: when it ran, the constants it
# used and what it achieved. The file is read with pandas if it exists, the
# new row appended, and the whole table written atomically (to a temporary
# file that is renamed over the old one), so an interrupted run never leaves
# half a file.

# %%
LOG_NAME = "hyperparameters.csv"


def append_run_log(path, row):
    """Append ``row`` (a dict) to the CSV at ``path`` (created if missing); return the whole table."""
    import os

    import pandas as pd

    from handnet.io import atomic_write

    old = pd.read_csv(path) if os.path.exists(path) else None
    new = pd.DataFrame([row])
    table = new if old is None or old.empty else pd.concat([old, new], ignore_index=True)
    atomic_write(path, lambda fh: fh.write(table.to_csv(index=False).encode("utf-8")))
    return table


# %% [markdown]
# ## Why not `np.vectorize`? Timing the notebook style
#
# Many beginners' notebooks (the one this lesson follows among them) write a
# scalar sigmoid and wrap it in `np.vectorize`, keep the bias as row 0 of a
# "theta" of shape (n_in + 1, n_out), and glue a column of ones in front of the
# activations before every layer. All of it is correct. But `np.vectorize` is
# a Python loop in disguise: one Python call per matrix entry. We time one
# training step (forward, backprop, update) written that way against the same
# step done the handnet way, on the same data and weights, after checking that
# both give the same numbers.

# %%
# ---- the naive notebook style, deliberately (for the timing only) ----------------------
def naive_sigmoid_scalar(z):
    return 1 / (1 + np.exp(-z))


naive_sigmoid = np.vectorize(naive_sigmoid_scalar)          # one Python call per entry


def naive_step(theta1, theta2, X, Y, lam, lr):
    """One notebook-style step; theta_l = [b_l; W_l] of shape (n_in + 1, n_out)."""
    m = X.shape[0]
    a1 = np.hstack([np.ones((m, 1)), X])                    # bias column glued on
    z2 = a1 @ theta1
    a2 = np.hstack([np.ones((m, 1)), naive_sigmoid(z2)])    # and again
    h = naive_sigmoid(a2 @ theta2)
    J = np.sum(-Y * np.log(h) - (1 - Y) * np.log(1 - h)) / m
    J += lam / (2 * m) * (np.sum(theta1[1:] ** 2) + np.sum(theta2[1:] ** 2))
    d3 = h - Y
    d2 = (d3 @ theta2[1:].T) * naive_sigmoid(z2) * (1 - naive_sigmoid(z2))
    g1, g2 = a1.T @ d2 / m, a2.T @ d3 / m
    g1[1:] += lam / m * theta1[1:]
    g2[1:] += lam / m * theta2[1:]
    return theta1 - lr * g1, theta2 - lr * g2, J
# ---- end of the naive style ------------------------------------------------------------


def thetas_from_net(net):
    """handnet's (W_l, b_l) stacked as notebook thetas [b_l; W_l] of shape (n_in + 1, n_out)."""
    return [np.vstack([b[None, :], W]) for W, b in zip(net.weights, net.biases)]


def handnet_step(net, X, Y, lam, lr):
    """The same step the handnet way: (theta - lr * dJ/dtheta, J) from hn.cost_and_gradient."""
    J, g = hn.cost_and_gradient(net, X, Y, l2=lam)
    return net.params - lr * g, J


def compare_naive_and_handnet(net, X, Y, lam=L2, lr=LEARNING_RATE, repeats=TIMING_REPEATS):
    """Check that both steps agree, then time them interleaved; returns a dict of results.

    max_param_diff, cost_diff: the largest |difference| of the new parameters and the costs;
    naive_s, handnet_s: the median seconds per step; speedup: the median of the paired ratios.
    """
    theta1, theta2 = thetas_from_net(net)
    new1, new2, J_naive = naive_step(theta1, theta2, X, Y, lam, lr)
    new_params, J_hn = handnet_step(net, X, Y, lam, lr)
    W, b = net.unflatten(new_params)
    max_param_diff = max(float(np.max(np.abs(new1[1:] - W[0]))), float(np.max(np.abs(new1[0] - b[0]))),
                         float(np.max(np.abs(new2[1:] - W[1]))), float(np.max(np.abs(new2[0] - b[1]))))
    naive_times, handnet_times = [], []
    for r in range(repeats):                 # interleaved, alternating which one goes first
        order = ("naive", "handnet") if r % 2 == 0 else ("handnet", "naive")
        for who in order:
            t0 = time.perf_counter()
            if who == "naive":
                naive_step(theta1, theta2, X, Y, lam, lr)
                naive_times.append(time.perf_counter() - t0)
            else:
                handnet_step(net, X, Y, lam, lr)
                handnet_times.append(time.perf_counter() - t0)
    ratios = np.array(naive_times) / np.array(handnet_times)
    return {"max_param_diff": max_param_diff, "cost_diff": abs(J_naive - J_hn),
            "naive_s": float(np.median(naive_times)), "handnet_s": float(np.median(handnet_times)),
            "speedup": float(np.median(ratios)), "repeats": repeats}


# %% [markdown]
# ## Figures

# %%
def plot_loss_curve(history):
    """The cross-entropy (solid: training and validation; without the L2 term) and J (dashed),
    and the accuracy, against the epoch: handnet.plots.plot_history on the hand-made history."""
    from handnet.plots import plot_history

    fig = plot_history(history)
    fig.suptitle(f"Training by hand: the cross-entropy, and J with the L2 term\n"
                 f"lr = {history.attrs['lr']:g}, \u03bb = {history.attrs['l2']:g}, full batch")
    return fig


def plot_confusion(y_val, predicted):
    """A seaborn heatmap of the validation confusion matrix (rows true, columns predicted)."""
    from handnet.plots import plot_confusion_matrix

    return plot_confusion_matrix(hn.confusion_matrix(y_val, predicted, labels=range(N_CLASSES)))


def plot_region_maps(maps):
    """One 8x8 region map per digit, on one shared diverging colour scale."""
    from handnet.explain.plots import plot_class_maps

    return plot_class_maps(maps, IMAGE_SHAPE, titles=[f"digit {k}" for k in range(len(maps))],
                           title="Region maps e_c W_2^T W_1^T of the hand-trained network")


# %% [markdown]
# ## The whole run
#
# `main` calls the functions above in order and prints what they computed.

# %%
def main(argv=None):
    import pandas as pd

    run = start("crafting_by_hand", __doc__, argv)
    hp = hyperparameters(run.quick)
    epochs = hp["epochs"]

    # -- data --
    X_train, X_val, y_train, y_val = split_and_normalise()
    Y_train = one_hot(y_train)
    run.say(f"""
        Data: {len(X_train) + len(X_val)} digits of {X_train.shape[1]} pixels, split with seed {SEED} into
        {len(X_train)} for training and {len(X_val)} for validation (stratified: every digit keeps its share).
        After min-max scaling fitted on the training part, the training pixels span
        [{X_train.min():.0f}, {X_train.max():.0f}]; the validation pixels span
        [{X_val.min():.3g}, {X_val.max():.3g}]:
        {int(np.sum(X_val > 1))} validation pixel values exceed 1, where a digit is inked more than any
        training digit in that pixel. That is expected: the scaler must not look at the validation part.
        Hyperparameters: {hp}.""")
    run.expect("one-hot by hand equals hn.one_hot", np.array_equal(Y_train, hn.one_hot(y_train, N_CLASSES)),
               f"{Y_train.shape}, each row sums to 1")

    # -- the initial network, and the hand-made pieces against handnet --
    net = hn.MLP([X_train.shape[1], HIDDEN, N_CLASSES], seed=SEED)
    weights0 = [W.copy() for W in net.weights]
    biases0 = [b.copy() for b in net.biases]
    diffs = compare_with_handnet(net, X_train, Y_train)
    run.say(f"""
        Initial network {net.layer_sizes} ({net.n_params} parameters, Glorot-uniform weights, zero biases).
        Its cost with lambda = {L2:g} is J = {cost(X_train, Y_train, weights0, biases0):.6f}; a network that
        knows nothing would say 0.5 for every output, J = 10 log 2 = {10 * np.log(2):.4f}.
        Hand-made versus handnet: cost differs by {diffs['cost_rel']:.1e} (relative), the gradient by
        {diffs['grad_rel']:.1e} (relative to its largest entry).""")
    normal = hn.MLP(net.layer_sizes, seed=SEED, init="normal")
    sat_glorot = saturated_fraction(X_train, weights0[0], biases0[0])
    sat_normal = saturated_fraction(X_train, normal.weights[0], normal.biases[0])
    run.say(f"""
        Hidden pre-activations beyond |z| > 4 at the start: {100 * sat_glorot:.1f}% with Glorot's initialisation,
        {100 * sat_normal:.1f}% with the notebook's N(0, 1) weights.""")
    run.expect("Glorot starts with fewer saturated sigmoids than N(0, 1)", sat_glorot < sat_normal,
               f"{100 * sat_glorot:.1f}% versus {100 * sat_normal:.1f}%")
    run.expect("hand-made cost equals hn.cost", diffs["cost_rel"] < 1e-12,
               f"relative difference {diffs['cost_rel']:.1e}")
    run.expect("hand-made backprop equals hn.gradient", diffs["grad_rel"] < 1e-12,
               f"max difference / max |g| = {diffs['grad_rel']:.1e}")
    idx, a, n, rel = compare_with_central_differences(net, X_train, Y_train)
    names = [entry_name(net, i) for i in idx]
    run.table(pd.DataFrame({"entry": names, "backprop": a, "central difference": n, "rel. error": rel})
              .to_string(index=False, float_format=lambda v: f"{v: .3e}"),
              title=f"Backprop by hand against central differences (h = 1e-5), {len(idx)} random entries:")
    within = np.abs(a - n) <= 1e-7 * np.maximum(np.abs(a), np.abs(n)) + 1e-9
    large = np.maximum(np.abs(a), np.abs(n)) > 1e-2
    run.say(f"""
        The entries larger than 1e-2 agree to {np.max(rel[large]):.0e} relative or better. The small ones
        look worse ({np.max(rel):.1e} at worst) only because the central difference itself carries a
        rounding noise of about eps * J / h = {np.finfo(float).eps * diffs['J'] / 1e-5:.1e} in absolute
        terms, whatever the entry's size.""")
    run.expect("hand-made backprop agrees with central differences", bool(np.all(within)),
               f"|a - n| <= 1e-7 max(|a|, |n|) + 1e-9 for all {len(idx)} entries; "
               f"largest |a - n| = {np.max(np.abs(a - n)):.1e}")

    # -- training by hand, then the same with hn.train --
    t0 = time.perf_counter()
    weights, biases, history = train_by_hand(X_train, y_train, weights0, biases0, epochs,
                                             validation=(X_val, y_val))
    seconds = time.perf_counter() - t0
    hn_history = train_with_handnet(net, X_train, y_train, epochs, validation=(X_val, y_val))
    cost_gap = max(float(np.max(np.abs(history[c].to_numpy() - hn_history[c].to_numpy())))
                   for c in ("loss", "val_loss", "penalty", "cost"))
    param_gap = float(np.max(np.abs(flat(list(zip(weights, biases))) - net.params)))
    predicted = predict(X_val, weights, biases)
    val_acc = float(np.mean(predicted == y_val))
    last = history.iloc[-1]
    run.say(f"""
        Gradient descent by hand: {epochs} full-batch steps of lr = {LEARNING_RATE:g} in {seconds:.2f} s.
        The cost J fell from {history['cost'].iloc[0]:.4f} to {last['cost']:.4f}; training accuracy
        {100 * last['accuracy']:.1f}%, validation accuracy {100 * val_acc:.1f}%
        ({int(np.sum(predicted == y_val))} of {len(y_val)} validation digits).
        hn.train from the same initial weights: every epoch's loss, val_loss, penalty and cost within
        {cost_gap:.1e} of ours, final parameters within {param_gap:.1e}; its validation accuracy is
        {100 * hn_history['val_accuracy'].iloc[-1]:.1f}%.""")
    first = history.iloc[0]
    best = history.loc[history["val_loss"].idxmin()]
    m_train, m_val = len(X_train), len(X_val)
    # What the validation curve would be with the penalty over m_val added (handnet's old val_cost):
    with_penalty = history["val_loss"] + history["penalty"] * m_train / m_val
    run.say(f"""
        The cross-entropy alone fell from {first['loss']:.4f} to {last['loss']:.4f} on the training digits
        and from {first['val_loss']:.4f} to {last['val_loss']:.4f} on the validation digits (lowest,
        {best['val_loss']:.4f}, at epoch {int(best['epoch'])}); the loss curve shows these, and J dashed.
        Why the validation curve has no L2 term: the penalty measures the weights, not the data. Adding
        lambda/(2 m_val) sum W^2 to it (as handnet once did) weighs the penalty m/m_val =
        {m_train / m_val:.1f} times as much as the training cost does, and the weights grow as they learn:
        that term goes from {with_penalty.iloc[0] - first['val_loss']:.4f} to
        {with_penalty.iloc[-1] - last['val_loss']:.4f}. """ + (
        f"That sum is lowest at epoch {int(with_penalty.idxmin())} and ends at {with_penalty.iloc[-1]:.4f}: a "
        "rise that is the penalty, not overfitting."
        if with_penalty.idxmin() < len(history) - 1 else
        f"Here even that sum is still falling at the end ({with_penalty.iloc[-1]:.4f})."))
    target = 0.80 if run.quick else 0.90
    run.expect(f"validation accuracy above {target:.0%}", val_acc > target, f"{100 * val_acc:.1f}%")
    run.expect("the cost decreased at every step", bool(np.all(np.diff(history["cost"].to_numpy()) < 0)),
               f"{epochs} steps")
    run.expect("hn.train retraces the hand-made run", cost_gap < 1e-9 and param_gap < 1e-9,
               f"cost gap {cost_gap:.1e}, parameter gap {param_gap:.1e}")
    run.expect("hn.predict agrees with the hand-made predictions",
               np.array_equal(net.predict(X_val), predicted), f"{len(y_val)} validation digits")

    cm = hn.confusion_matrix(y_val, predicted, labels=range(N_CLASSES))
    off = cm.to_numpy() - np.diag(np.diag(cm.to_numpy()))
    t, p = np.unravel_index(np.argmax(off), off.shape)
    run.say(f"The most frequent confusion on the validation digits: a true {t} read as {p} "
            f"({off[t, p]} time{'s' if off[t, p] != 1 else ''}); {int(off.sum())} mistakes in all.")
    run.figure(plot_loss_curve(history), "loss_curve.png")
    run.figure(plot_confusion(y_val, predicted), "confusion_matrix.png")

    maps = region_maps_by_hand(weights)
    maps_hn = hn.explain.region_maps(net)
    run.expect("region maps by hand equal hn.explain.region_maps",
               np.allclose(maps, maps_hn, rtol=1e-9, atol=1e-9),
               f"max difference {np.max(np.abs(maps - maps_hn)):.1e}")
    run.figure(plot_region_maps(maps), "region_maps.png")

    # -- the naive notebook step against handnet's --
    repeats = QUICK_TIMING_REPEATS if run.quick else TIMING_REPEATS
    start_net = hn.MLP(net.layer_sizes, seed=SEED)
    rows = QUICK_TIMING_ROWS if run.quick else len(X_train)
    timing = compare_naive_and_handnet(start_net, X_train[:rows], Y_train[:rows], repeats=repeats)
    run.say(f"""
        One training step on {rows} x {start_net.layer_sizes}, median of {repeats} interleaved rounds:
        naive notebook style {1e3 * timing['naive_s']:.1f} ms, handnet {1e3 * timing['handnet_s']:.2f} ms,
        a speed-up of {timing['speedup']:.0f}x (median of the paired ratios; the machine is shared, so
        expect this to vary by a factor of about 2 between runs). The same arithmetic: new parameters
        within {timing['max_param_diff']:.1e}, costs within {timing['cost_diff']:.1e}. The naive step makes
        {rows * (HIDDEN + N_CLASSES + 2 * HIDDEN):,} Python calls of the scalar sigmoid (the hidden layer's
        sigmoid is computed three times: once forward and twice more for sigma' = sigma (1 - sigma)).""")
    run.expect("the naive step computes the same step as handnet",
               timing["max_param_diff"] < 1e-12 and timing["cost_diff"] < 1e-12,
               f"parameters {timing['max_param_diff']:.1e}, cost {timing['cost_diff']:.1e}")

    # -- the run log --
    log_path = run.path(LOG_NAME)
    row = {"timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "mode": "quick" if run.quick else "full", **hp,
           "final_cost": round(float(last["cost"]), 6), "val_accuracy": round(val_acc, 6),
           "seconds": round(seconds, 3)}
    table = append_run_log(log_path, row)
    print(f"wrote {log_path}")
    run.table(table, title=f"{LOG_NAME}: one row per run ({len(table)} so far)")
    return run.finish()


if __name__ == "__main__":
    raise SystemExit(main())
