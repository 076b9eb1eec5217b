"""Figures for lessons/gradient_checking.py: the V of the step sweep and the planted bugs' errors."""

from __future__ import annotations

import numpy as np

from lessons._common import new_figure

EPS = np.finfo(np.float64).eps


def plot_error_against_step(sweep, eps=EPS):
    """log-log: relative error against h, the h^2 and 1/h asymptotes, the best h and the theory's."""
    fig = new_figure((7.5, 5.0))
    ax = fig.subplots()
    hs, rel = sweep["hs"], sweep["rel"]
    for k in range(1, rel.shape[1]):
        ax.loglog(hs, rel[:, k], "-", lw=0.6, color="0.75", label="the other entries" if k == 1 else None)
    ax.loglog(hs, rel[:, 0], "o-", ms=3, lw=1, color="C0", label=f"{sweep['names'][0]} (the largest |dJ/dθ|)")
    ax.loglog(hs, sweep["median"], "-", lw=2.2, color="k", label=f"median of {rel.shape[1]} entries")
    ax.loglog(hs, sweep["T"] * hs**2 / 6, "--", color="C1", label="truncation T h^2/6 (slope 2)")
    ax.loglog(hs, sweep["R"] * eps / hs, "--", color="C2", label="rounding R eps/h (slope -1)")
    ax.axvline(sweep["h_theory"], color="0.4", ls=":", label=f"(3 eps)^(1/3) = {sweep['h_theory']:.1e}")
    ax.plot([sweep["best_h"]], [sweep["best_rel"]], "*", ms=15, color="C3", zorder=5,
            label=f"best measured h = {sweep['best_h']:.1e}")
    ax.set_ylim(rel.min() / 3, rel.max() * 3)
    ax.invert_xaxis()
    ax.set_xlabel("step h (smaller to the right)")
    ax.set_ylabel("relative error |n - a| / |a|")
    ax.set_title("Central differences of a real cost: truncation against rounding")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    return fig


def plot_bug_errors(reports, unpack, threshold):
    """One column per version, one row per layer drawn as [b; W]; cells: log10 of each entry's relative error.

    unpack: flat vector (P,) -> W1, b1, W2, b2 (the lesson's layout); threshold: the checker's, marked on the
    colour bar."""
    import textwrap

    import seaborn as sns

    names = list(reports)
    n_params = len(reports[names[0]].entries)
    fig = new_figure((2.3 * len(names) + 1.2, 5.6))
    axes = fig.subplots(2, len(names), squeeze=False,
                        gridspec_kw={"height_ratios": [W.shape[0] + 1 for W in unpack(np.zeros(n_params))[::2]]})
    mesh = None
    for c, name in enumerate(names):
        rel = np.asarray(reports[name].entries["rel_error"], dtype=float)
        W1, b1, W2, b2 = unpack(np.log10(np.maximum(rel, 1e-16)))
        for r, (W, b) in enumerate(((W1, b1), (W2, b2))):
            ax = axes[r, c]
            theta_l = np.vstack([b[None, :], W])                   # [b; W]: (n_in + 1, n_out)
            sns.heatmap(theta_l, ax=ax, vmin=-16, vmax=0.5, cmap="magma", cbar=False, square=True,
                        linewidths=0.5, linecolor="white",
                        xticklabels=list(range(W.shape[1])),
                        yticklabels=["b"] + [str(k) for k in range(W.shape[0])] if c == 0 else False)
            ax.axhline(1, color="white", lw=2.5)
            ax.tick_params(axis="both", labelrotation=0, labelsize=7, length=0)
            if c == 0:
                ax.set_ylabel(f"layer {r + 1}: [b; W]", fontsize=9)
            mesh = ax.collections[0]
        verdict = "passes" if reports[name].passed else "caught"
        axes[0, c].set_title("\n".join(textwrap.wrap(name, 18)) + f"\n({verdict})", fontsize=9)
    cbar = fig.colorbar(mesh, ax=axes.ravel().tolist(), shrink=0.8)
    cbar.set_label("log10 relative error")
    cbar.ax.axhline(np.log10(threshold), color="cyan", lw=2)
    fig.suptitle("Per-entry relative error of each version (the threshold 1e-6 in cyan on the colour bar)")
    return fig
