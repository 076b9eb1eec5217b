"""Fancy indexing: one element from every row, coordinate pairs, and scatter-adds that count right.

Run from the project root:  python -m lessons.fancy_indexing  [--quick] [--out DIR]
"""

# %% [markdown]
# # Fancy indexing
#
# A classifier gives a matrix of probabilities P, one row per example and one
# column per class, and the cost needs, from every row i, the probability of
# the true class y_i: a *different* column in every row. Looping over the rows
# is the thing not to do. NumPy's integer-array ("fancy") indexing picks all of
# them in one call.
#
# This lesson builds that gather three ways and checks they agree, shows the
# classic mistake `P[:, y]`, gathers arbitrary (row, column) coordinate pairs,
# turns the gather around into a scatter (where `+=` silently drops repeated
# indices and `np.add.at` does not), and finds where handnet's cross-entropy
# picks the probability of the true class.

# %%
import inspect
import timeit

import numpy as np
import pandas as pd

import handnet as hn
from handnet import _validate as hn_validate
from handnet import activations as hn_act
from handnet import costs as hn_costs
from lessons._common import new_figure, start

if __name__ == "__main__":
    run = start("fancy_indexing")  # in a notebook: quick mode from HANDNET_LESSON_QUICK=1


# %% [markdown]
# ## The matrix to index
#
# P: the softmax outputs of a small network trained for a few epochs on the shipped 8 x 8
# digits, one row per digit and one column per class, and y the labels.

# %%
def digit_probabilities(epochs=5, seed=0):
    """A softmax network [64, 25, 10] trained briefly on the shipped digits
    (minibatches of 32, lr 0.5, momentum 0.9).

    Returns (net, X (1797, 64), y (1797,) ints, P (1797, 10) = net.predict_proba(X)).
    """
    X, y = hn.datasets.load_digits()
    net = hn.MLP([64, 25, 10], output="softmax", seed=seed)
    hn.train(net, X, y, epochs=epochs, lr=0.5, batch_size=32, momentum=0.9, seed=seed,
             progress=False)
    return net, X, y, net.predict_proba(X)


if __name__ == "__main__":
    epochs = 5
    net, X, y, P = digit_probabilities(epochs)
    n, K = P.shape
    run.say(f"""
        P: the softmax outputs of a [64, 25, 10] network trained for {epochs} epochs (minibatches)
        on the {n} shipped digits, shape {P.shape}; y: the labels, shape {y.shape}.
        Row 0 has label {y[0]} and P[0, {y[0]}] = {P[0, y[0]]:.4f}.
        """)


# %% [markdown]
# ## 1. One element from every row
#
# Two integer arrays used as indices are *paired up*: `P[rows, cols]` is the
# array whose entry i is `P[rows[i], cols[i]]`. With rows = 0, 1, ..., n-1 and
# cols = y this is exactly "from row i take column y_i":
#
#     p_true = P[np.arange(n), y]                        (n,)
#
# The same gather two more ways:
#
# * `np.take_along_axis(P, y[:, None], axis=1)[:, 0]`: the index array has the
#   shape of the result along `axis` (here one column per row) and the other
#   axes line up with P;
# * through the flat memory: entry (i, j) of a C-ordered (n, K) matrix is element
#   i*K + j of `P.ravel()`, and `np.ravel_multi_index((rows, cols), P.shape)`
#   computes those flat positions.
#
# The mistake: `P[:, y]` is *not* the gather. A slice and an index array are not
# paired; it takes every row and, for each of them, all n columns listed in y:
# an (n, n) matrix whose diagonal is the answer. It is n times too much work and
# memory, and with a few thousand rows it is easy to miss.

# %%
def gather_fancy(P, idx):
    """P[i, idx[i]] for every row i, by paired integer indices.  (n, K), (n,) -> (n,)."""
    return P[np.arange(P.shape[0]), idx]


def gather_take_along_axis(P, idx):
    """np.take_along_axis with one column index per row.  (n, K), (n,) -> (n,)."""
    return np.take_along_axis(P, idx[:, None], axis=1)[:, 0]


def gather_flat(P, idx):
    """P.ravel()[i*K + idx[i]] via np.ravel_multi_index.  (n, K), (n,) -> (n,)."""
    flat = np.ravel_multi_index((np.arange(P.shape[0]), idx), P.shape)
    return P.ravel()[flat]


def gather_loop(P, idx):
    """The Python loop the other three replace (do not write this).  (n, K), (n,) -> (n,)."""
    return np.array([P[i, idx[i]] for i in range(P.shape[0])])


def time_gathers(P, idx, number_fast, number_loop, repeat=3):
    """Median seconds per call of gather_fancy and of gather_loop, timed side by side.

    Returns {'fancy': s, 'loop': s}.
    """
    fast = timeit.repeat(lambda: gather_fancy(P, idx), number=number_fast, repeat=repeat)
    slow = timeit.repeat(lambda: gather_loop(P, idx), number=number_loop, repeat=repeat)
    return {"fancy": float(np.median(fast)) / number_fast,
            "loop": float(np.median(slow)) / number_loop}


if __name__ == "__main__":
    ways = {"P[np.arange(n), y]": gather_fancy(P, y),
            "np.take_along_axis": gather_take_along_axis(P, y),
            "np.ravel_multi_index": gather_flat(P, y),
            "Python loop": gather_loop(P, y)}
    run.say(f"The mean probability of the true class is {ways['P[np.arange(n), y]'].mean():.4f}.")
    same = all(np.array_equal(v, ways["P[np.arange(n), y]"]) for v in ways.values())
    run.expect("the gather built three ways (and by a loop) gives identical arrays", same,
               ", ".join(f"{k} {v.shape}" for k, v in ways.items()))
    wrong = P[:, y]
    run.say(f"""
        The mistake P[:, y] has shape {wrong.shape} ({wrong.nbytes / 1e6:.1f} MB instead of
        {ways['Python loop'].nbytes / 1e3:.1f} kB); its diagonal is the gather.
        """)
    run.expect("P[:, y] is (n, n) and its diagonal is P[np.arange(n), y]",
               wrong.shape == (n, n) and np.array_equal(np.diag(wrong), gather_fancy(P, y)))

    number_fast, number_loop = (20, 1) if run.quick else (200, 5)
    t = time_gathers(P, y, number_fast, number_loop)
    run.say(f"""
        Timed once, side by side, for the {n} rows: the fancy index takes {t['fancy'] * 1e6:.1f} us,
        the Python loop {t['loop'] * 1e6:.0f} us, {t['loop'] / t['fancy']:.0f} times longer
        (median of 3 repeats; the exact ratio depends on the machine and its load).
        """)


# %% [markdown]
# ## 2. Gathering with coordinate pairs
#
# Often the positions come as an (p, 2) array of (row, column) pairs, for
# instance from `np.argwhere(P > 0.5)`, the coordinates of every confident
# prediction. Three equivalent gathers:
#
# * split the columns: `P[coords[:, 0], coords[:, 1]]`;
# * a tuple of index arrays, one per axis: `P[tuple(coords.T)]`; this is the
#   form that works for any number of dimensions;
# * flat positions: `P.ravel()[np.ravel_multi_index(coords.T, P.shape)]`.
#
# The trap here is `P[coords]`: a single (p, 2) integer array indexes the first
# axis only, so it returns rows, shape (p, 2, K), not p numbers.

# %%
def gather_pairs_columns(P, coords):
    """P[coords[:, 0], coords[:, 1]].  (n, K), (p, 2) -> (p,)."""
    return P[coords[:, 0], coords[:, 1]]


def gather_pairs_tuple(P, coords):
    """P[tuple(coords.T)]: one index array per axis.  (n, K), (p, 2) -> (p,)."""
    return P[tuple(coords.T)]


def gather_pairs_flat(P, coords):
    """P.ravel()[np.ravel_multi_index(coords.T, P.shape)].  (n, K), (p, 2) -> (p,)."""
    return P.ravel()[np.ravel_multi_index(coords.T, P.shape)]


if __name__ == "__main__":
    coords = np.argwhere(P > 0.5)
    pairs = {"P[coords[:, 0], coords[:, 1]]": gather_pairs_columns(P, coords),
             "P[tuple(coords.T)]": gather_pairs_tuple(P, coords),
             "P.ravel()[np.ravel_multi_index(coords.T, P.shape)]": gather_pairs_flat(P, coords)}
    mask = P[P > 0.5]
    run.say(f"""
        np.argwhere(P > 0.5) gives coords of shape {coords.shape}: the (row, class) pairs of the
        {len(coords)} confident predictions; the first three are {coords[:3].tolist()}.
        P[coords] would have shape {P[coords].shape}: whole rows, not {len(coords)} numbers.
        """)
    run.expect("the three coordinate-pair gathers agree with each other and with P[P > 0.5]",
               len(mask) > 0 and all(np.array_equal(v, mask) for v in pairs.values()),
               f"{len(mask)} values")


# %% [markdown]
# ## 3. Scatter: the gather turned around, and the repeated-index pitfall
#
# Writing through an index array is a scatter: `E[np.arange(n), y] = 1` builds
# the one-hot matrix of the labels (handnet does exactly this, see below).
# Assignment is safe there because every (row, column) pair appears once.
#
# *Accumulating* through an index array is different. `counts[idx] += 1` looks
# like "add 1 at every position in idx", but numpy evaluates it as
# `counts[idx] = counts[idx] + 1`: it reads all the old values, adds, then writes
# them back. A position listed ten times is read ten times as the same old value
# and written ten times with the same new value: it goes up by 1, not by 10.
# `np.add.at(counts, idx, 1)` is unbuffered: every occurrence adds. For counts
# and weighted sums over one axis, `np.bincount(idx, weights=w, minlength=K)`
# gives the same result and is faster.
#
# We count how many digits the network predicts as each class, `pred = argmax(P, axis=1)`,
# with all three, and draw the three counts side by side.

# %%
def scatter_add_plus_equals(idx, values, size):
    """out[idx] += values (buffered: a repeated index keeps only one addition).  -> (size,)."""
    out = np.zeros(size)
    out[idx] += values
    return out


def scatter_add_at(idx, values, size):
    """np.add.at(out, idx, values): every occurrence adds.  -> (size,)."""
    out = np.zeros(size)
    np.add.at(out, idx, values)
    return out


def scatter_add_bincount(idx, values, size):
    """np.bincount(idx, weights=values, minlength=size): the sum per position.  -> (size,)."""
    return np.bincount(idx, weights=np.broadcast_to(values, idx.shape), minlength=size)


def plot_scatter_counts(counts):
    """Grouped bars of the per-class counts from the three scatter-adds.  Returns the Figure."""
    fig = new_figure((8.0, 4.0))
    ax = fig.subplots()
    k = np.arange(len(counts))
    width = 0.8 / counts.shape[1]
    for c, name in enumerate(counts.columns):
        x = k + (c - (counts.shape[1] - 1) / 2) * width
        bars = ax.bar(x, counts[name], width, label=name)
        ax.bar_label(bars, labels=[f"{v:.0f}" for v in counts[name]], fontsize=6, padding=1)
    ax.set_ylim(0, counts.to_numpy().max() * 1.35)
    ax.set_xticks(k)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("number of digits")
    ax.set_title("Counting predictions: counts[pred] += 1 counts each class once")
    ax.legend(fontsize=8, loc="upper center", ncol=counts.shape[1])
    return fig


if __name__ == "__main__":
    pred = np.argmax(P, axis=1)
    counts = pd.DataFrame({"counts[pred] += 1": scatter_add_plus_equals(pred, 1.0, K),
                           "np.add.at(counts, pred, 1)": scatter_add_at(pred, 1.0, K),
                           "np.bincount(pred)": scatter_add_bincount(pred, 1.0, K)},
                          index=pd.RangeIndex(K, name="class"))
    run.table(counts.astype(int).T, title="How many digits are predicted as each class:")
    p_true = gather_fancy(P, y)
    sums_at, sums_bin = scatter_add_at(y, p_true, K), scatter_add_bincount(y, p_true, K)
    run.expect("np.add.at counts every occurrence (= bincount, total n); += counts each class once",
               np.array_equal(counts.iloc[:, 1], counts.iloc[:, 2]) and counts.iloc[:, 1].sum() == n
               and counts.iloc[:, 0].max() == 1,
               f"totals {counts.iloc[:, 1].sum():.0f} and {counts.iloc[:, 0].sum():.0f}")
    run.expect("weighted scatter: np.add.at and np.bincount(weights=) give the same per-class sums",
               np.allclose(sums_at, sums_bin, rtol=1e-12, atol=0),
               f"max difference {np.max(np.abs(sums_at - sums_bin)):.1e}")
    run.figure(plot_scatter_counts(counts), "scatter_counts.png")


# %% [markdown]
# ## 4. Where handnet's cross-entropy picks the probability of the true class
#
# For one-hot targets the softmax cross-entropy of row i is
#
#     C_i = -sum_k y_ik log p_ik = -log p_{i, y_i} = LSE(z_i) - z_{i, y_i}
#
# (log p_ik = z_ik - LSE(z_i), see the stable_softmax lesson). With integer
# labels that is a gather: `-log_softmax(Z)[np.arange(n), y]`.
#
# handnet does not gather. It takes two steps, in two files:
#
# 1. When `hn.cost` receives integer labels (n,), `as_targets` in `handnet/_validate.py`
#    turns them into a one-hot matrix with a scatter: `E[np.arange(N), labels] = 1.0`
#    in `one_hot_matrix`.
# 2. `softmax_cross_entropy` in `handnet/costs.py` computes
#    `sum(y) * logsumexp(z) - sum(y * z)`.
#
# With a one-hot row, `sum_k y_ik z_ik` multiplies K - 1 entries by 0 and one by 1: it
# *is* z_{i, y_i}, the gather written as a multiply-and-sum (K times the arithmetic, but one
# formula for one-hot and soft targets alike).
#
# The sigmoid cross-entropy is the same story: sum_k [softplus(z_ik) - y_ik z_ik], whose
# only label-dependent part is -z_{i, y_i}.
#
# The code cell prints those lines of handnet's source, then computes each cost both ways
# and compares them with `hn.cost`.

# %%
def softmax_ce_onehot(Z, y):
    """(1/n) sum_i [LSE(z_i) - sum_k Y_ik z_ik], Y = one_hot(y): handnet's formula.  -> float."""
    Y = np.eye(Z.shape[1])[y]
    return float(np.mean(hn_act.logsumexp(Z, axis=1) - np.sum(Y * Z, axis=1)))


def softmax_ce_gather(Z, y):
    """(1/n) sum_i [LSE(z_i) - z_{i, y_i}]: the same cost with a gather.  -> float."""
    return float(np.mean(hn_act.logsumexp(Z, axis=1) - gather_fancy(Z, y)))


def softmax_ce_from_probabilities(P, y):
    """-(1/n) sum_i log P[i, y_i] (fine while no true-class probability underflows).  -> float."""
    return float(-np.mean(np.log(gather_fancy(P, y))))


def sigmoid_ce_gather(Z, y):
    """(1/n) sum_i [sum_k softplus(z_ik) - z_{i, y_i}]: the course's cross-entropy.  -> float."""
    return float(np.mean(np.sum(hn_act.softplus(Z), axis=1) - gather_fancy(Z, y)))


def output_preactivation(net, X):
    """z_L (n, K), the output layer's pre-activation of a forward pass."""
    zs, _ = net.forward_pass(X)
    return zs[-1]


def source_lines(function, needle):
    """The lines of ``function``'s source that contain ``needle``: [(file:line, text)]."""
    lines, first = inspect.getsourcelines(function)
    path = inspect.getsourcefile(function)
    short = path[path.rfind("handnet"):] if "handnet" in path else path
    return [(f"{short}:{first + k}", text.strip())
            for k, text in enumerate(lines) if needle in text]


if __name__ == "__main__":
    where = (source_lines(hn_validate.one_hot_matrix, "np.arange")
             + source_lines(hn_costs.softmax_cross_entropy, "return")
             + source_lines(hn_costs.cross_entropy, "y * z"))
    run.say("Where handnet does it (file:line, then the line of source):")
    run.say("\n".join(f"- {loc:32s} {text}" for loc, text in where))
    Z = output_preactivation(net, X)
    costs = pd.Series({"handnet: one-hot multiply-and-sum": softmax_ce_onehot(Z, y),
                       "gather: LSE(z_i) - Z[i, y_i]": softmax_ce_gather(Z, y),
                       "gather: -log P[i, y_i]": softmax_ce_from_probabilities(P, y),
                       "hn.cost(net, X, y)": hn.cost(net, X, y)}, name="softmax cross-entropy")
    run.table(costs.map("{:.15f}".format).to_frame(), title="The same cost four ways:")
    spread = float(costs.max() - costs.min())
    run.expect("the one-hot formula, the gathers and hn.cost give the same softmax cost",
               spread < 1e-12, f"spread {spread:.1e}")
    sig = hn.MLP([64, 25, 10], seed=0)
    J_sig, J_sig_gather = hn.cost(sig, X, y), sigmoid_ce_gather(output_preactivation(sig, X), y)
    run.say(f"""
        The course's sigmoid cross-entropy of an untrained [64, 25, 10] sigmoid network:
        hn.cost = {J_sig:.12f}; sum softplus(z) minus the gathered z[i, y_i]: {J_sig_gather:.12f}.
        """)
    run.expect("the sigmoid cross-entropy from a gather equals hn.cost",
               abs(J_sig - J_sig_gather) < 1e-12, f"difference {abs(J_sig - J_sig_gather):.1e}")


# %% [markdown]
# ## The gather, drawn
#
# A few rows of P as a heatmap, the true-class cell of each row outlined (what
# the gather picks), beside the gathered values. We show the rows where the
# network is least sure of the truth, selected with another index array:
# `P[np.argsort(p_true)[:12]]`.

# %%
def plot_gather(P, y, rows):
    """Heatmap of P[rows] with (i, y_i) outlined, and the bars of P[i, y_i].  Returns the Figure.

    rows: (r,) row numbers to show (selecting them is itself a fancy index).
    """
    from matplotlib.patches import Rectangle

    sub, lab = P[rows], y[rows]
    picked = gather_fancy(sub, lab)
    n_rows = len(rows)
    fig = new_figure((10.0, 5.0))
    ax, ax2 = fig.subplots(1, 2, width_ratios=[3, 1.3])
    im = ax.imshow(sub, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i, j in enumerate(lab):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="C3", lw=2.5))
        ax.text(j, i, f"{sub[i, j]:.2f}", ha="center", va="center", fontsize=7,
                color="white" if sub[i, j] > 0.6 else "black")
    ax.set_xticks(range(P.shape[1]))
    ax.set_yticks(range(n_rows), [f"row {r}, y = {t}" for r, t in zip(rows, lab)], fontsize=8)
    ax.set_xlabel("class k")
    ax.set_title("P[rows] (softmax outputs); outlined: P[i, y_i], what P[np.arange(n), y] picks",
                 fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8, label="probability")
    ax2.barh(range(n_rows), picked, color="C3")
    ax2.set_ylim(n_rows - 0.5, -0.5)
    ax2.set_yticks([])
    ax2.set_xlim(0, 1)
    ax2.set_xlabel("gathered P[i, y_i]")
    ax2.set_title("one number per row")
    return fig


if __name__ == "__main__":
    hardest = np.argsort(p_true, kind="stable")[:12]
    run.say(f"""
        The figure shows the 12 rows with the smallest P[i, y_i], selected with another index
        array: P[np.argsort(p_true)[:12]]. Rows {hardest[:4].tolist()} ... have true-class
        probabilities {np.round(p_true[hardest[:4]], 3).tolist()} ...
        """)
    run.figure(plot_gather(P, y, hardest), "gather_heatmap.png")


# %%
if __name__ == "__main__":
    run.end()
