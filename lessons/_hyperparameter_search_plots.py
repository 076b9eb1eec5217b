"""The figures of lessons.hyperparameter_search: score against learning rate, and best score so far.

Plotting plumbing kept out of the lesson; the lesson says what each figure shows (section 7 and
section 8).
"""

from __future__ import annotations

import numpy as np

from lessons._common import new_figure
from lessons._hyperparameter_search_journal import best_so_far


def plot_score_vs_lr(x2_random, x2_guided, digits, lr_bounds):
    """Two panels: x² score against lr (random vs guided, log-log) and the digits search's score against lr.

    lr_bounds: (lo, hi) of the digits search's learning-rate dimension (the second panel's x range)."""
    from matplotlib.ticker import NullFormatter

    fig = new_figure((11, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    for table, label, marker in ((x2_random, "random", "o"), (x2_guided, "guided", "^")):
        ax1.scatter(table["lr"], np.maximum(table["score"], 1e-300), label=label, marker=marker, alpha=0.7)
    ax1.axvline(0.5, color="green", ls=":", label="lr = 1/2 (one step)")
    ax1.axvline(1.0, color="red", ls="--", label="lr = 1 (divergence)")
    ax1.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="max |x_T|",
            title="gradient descent on x² (seed 0)")
    ax1.legend(fontsize=8)
    finite = digits[np.isfinite(digits["score"])]
    sc = ax2.scatter(finite["lr"], finite["score"], c=finite["hidden"], cmap="viridis")
    fig.colorbar(sc, ax=ax2, label="hidden units")
    lo, hi = lr_bounds
    ax2.set(xscale="log", xlim=(lo, hi), xlabel="learning rate", ylabel="validation cross-entropy",
            title="handnet on the digits (guided search)")
    ticks = [t for t in (0.1, 0.3, 1, 3, 10) if lo <= t <= hi]
    ax2.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax2.xaxis.set_minor_formatter(NullFormatter())
    return fig


def plot_best_so_far(scores, digits, n_startup):
    """Running minimum of the score against trial number: x² over several seeds (random vs guided;
    thin lines one seed, thick the median over seeds), and the digits search."""
    fig = new_figure((11, 4.0))
    ax1, ax2 = fig.subplots(1, 2)
    trials = np.arange(1, scores["random"].shape[1] + 1)
    for (label, s), color in zip(scores.items(), ("tab:blue", "tab:orange")):
        curves = np.maximum(np.minimum.accumulate(s, axis=1), 1e-300)      # (n_seeds, n_trials)
        for curve in curves:
            ax1.step(trials, curve, where="post", color=color, alpha=0.25, lw=0.8)
        ax1.step(trials, np.median(curves, axis=0), where="post", color=color, lw=2.5,
                 label=f"{label} (median of {len(curves)} seeds)")
    ax1.axvline(n_startup + 0.5, color="gray", ls=":", label="guidance starts")
    ax1.set(yscale="log", xlabel="trial", ylabel="best max |x_T| so far", title="gradient descent on x²")
    ax1.legend(fontsize=8)
    ax2.step(np.arange(1, len(digits) + 1), best_so_far(digits["score"]), where="post")
    ax2.set(xlabel="trial", ylabel="best validation cross-entropy so far", title="handnet on the digits")
    return fig


def plot_post_search(scores, n_startup):
    """Best score so far against trial, for each search on the post's space: thin lines are seeds,
    thick the median over seeds (log scale). scores: {search: (n_seeds, n_trials)}."""
    fig = new_figure((6.5, 4.2))
    ax = fig.subplots()
    n_trials = next(iter(scores.values())).shape[1]
    trials = np.arange(1, n_trials + 1)
    for (label, s), color in zip(scores.items(), ("tab:blue", "tab:orange", "tab:green")):
        curves = np.maximum(np.minimum.accumulate(s, axis=1), 1e-40)
        for curve in curves:
            ax.step(trials, curve, where="post", color=color, alpha=0.2, lw=0.8)
        ax.step(trials, np.median(curves, axis=0), where="post", color=color, lw=2.5,
                label=f"{label} (median of {len(curves)} seeds)")
    ax.axvline(n_startup + 0.5, color="gray", ls=":", label="guidance starts")
    ax.set(yscale="log", xlabel="trial", ylabel="best max |x_T| so far (floored at 1e-40)",
           title=f"the post's space: {n_startup} random + {n_trials - n_startup} guided trials")
    ax.legend(fontsize=8)
    return fig
