"""The figures of lessons.saving_loading: a loaded network's weights and the size of each file member.

Plotting plumbing kept out of the lesson so that its story (what is in the file, why not pickle,
the atomic write, the checks on load) stays short; the lesson explains what each figure shows.
"""

from __future__ import annotations

import numpy as np

from lessons._common import new_figure


def plot_loaded_weights(net):
    """Left: each hidden unit's incoming weights W_1[:, j] as an 8×8 image; right: W_2 as a heatmap."""
    import seaborn as sns

    W1, W2 = net.weights[0], net.weights[1]
    n_hidden = W1.shape[1]
    cols = int(np.ceil(np.sqrt(n_hidden)))
    rows = int(np.ceil(n_hidden / cols))
    fig = new_figure((11, 5))
    left, right = fig.subfigures(1, 2, width_ratios=[1.1, 1])
    axes = left.subplots(rows, cols)
    lim = np.max(np.abs(W1))
    for j, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if j < n_hidden:
            ax.imshow(W1[:, j].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(f"unit {j}", fontsize=7)
    left.suptitle("W_1 (stored as W0): weights into each hidden unit, as 8×8 images", fontsize=10)
    ax = right.subplots()
    sns.heatmap(W2, ax=ax, cmap="RdBu_r", center=0, cbar_kws={"label": "weight"})
    ax.set(xlabel="digit (output unit)", ylabel="hidden unit", title="W_2 (stored as W1)")
    return fig


def plot_array_sizes(table):
    """Bar chart of the bytes each member takes in the file."""
    fig = new_figure((6, 3.5))
    ax = fig.subplots()
    column = "bytes in the zip (with .npy header)"
    ax.bar(table.index, table[column], color=["tab:blue" if n != "meta" else "tab:orange" for n in table.index])
    for x, v in enumerate(table[column]):
        ax.annotate(f"{v:,}", (x, v), ha="center", va="bottom", fontsize=8)
    ax.set(ylabel="bytes", title="members of model.npz")
    return fig
