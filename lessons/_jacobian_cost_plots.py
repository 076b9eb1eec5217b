"""The figures of lessons.jacobian_cost: the timing sweep on log-log axes and the rows of one
digit's Jacobian. Plotting plumbing only (matplotlib Figures, no pyplot); the lesson computes
every number drawn here.
"""

from __future__ import annotations

import numpy as np

from lessons._common import new_figure


def plot_ratios(table, K):
    """Both times and their ratio against D on log-log axes, with the model 2D/(K+1)."""
    fig = new_figure((10.0, 4.0))
    left, right = fig.subplots(1, 2)
    D = table.index.to_numpy()
    left.loglog(D, table["finite differences (ms)"], "o-", label="finite differences")
    left.loglog(D, table["analytic (ms)"], "s-", label="analytic (handnet)")
    left.set_xlabel("input features D")
    left.set_ylabel("time per Jacobian of all rows (ms)")
    left.set_title("Time (median of interleaved rounds)")
    left.legend()
    right.loglog(D, table["ratio (fastest)"], "o-", label="measured (fastest runs)")
    right.loglog(D, table["ratio (median)"], "x:", label="measured (median of rounds)")
    right.loglog(D, table["model 2D/(K+1)"], "k--", label=f"model 2D/(K+1), K = {K}")
    right.set_xlabel("input features D")
    right.set_ylabel("finite differences / analytic")
    right.set_title("Finite differences / analytic")
    right.legend()
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xticks(D, [str(d) for d in D])
        ax.minorticks_off()
    return fig


def plot_jacobian_rows(x, J, label):
    """The digit x (64,) and the K rows of its Jacobian J (K, 64) as 8 x 8 images, one shared scale."""
    K = J.shape[0]
    ncols = (K + 2) // 2
    fig = new_figure((1.6 * ncols + 1.0, 3.9))
    axes = fig.subplots(2, ncols)
    panels = axes.ravel()
    panels[0].imshow(x.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    panels[0].set_title(f"input (a {label})", fontsize=9)
    top = float(np.max(np.abs(J)))
    for k in range(K):
        mesh = panels[k + 1].imshow(J[k].reshape(8, 8), cmap="RdBu_r", vmin=-top, vmax=top)
        panels[k + 1].set_title(f"∂y_{k}/∂x", fontsize=9)
    for ax in panels:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in panels[K + 1:]:
        ax.set_axis_off()
    fig.colorbar(mesh, ax=axes.ravel().tolist(), shrink=0.8)
    fig.suptitle("Rows of the Jacobian of one test digit, one colour scale (red raises y_k, blue lowers it)",
                 fontsize=10)
    return fig
