"""Figures of the taylor_series lesson: plot styling only.

The lesson computes every curve (partial sums, errors, Lagrange bounds, range-reduced values)
with the functions it teaches and hands the arrays to these functions, which only draw them.
"""

import math

import numpy as np

from lessons._common import new_figure

#: (name, centre, x range, y limits) of the partial-sum panels.
PARTIAL_SUM_PANELS = (("exp", 0.0, (-3.0, 3.0), (-2.0, 21.0)),
                      ("cos", 0.0, (-2 * np.pi, 2 * np.pi), (-2.5, 2.5)),
                      ("cos", np.pi, (-np.pi, 3 * np.pi), (-2.5, 2.5)),
                      ("ln", 1.0, (0.02, 3.0), (-4.0, 2.0)))


def palette(k):
    """k colours from dark to light along matplotlib's viridis map."""
    from matplotlib import colormaps

    return colormaps["viridis"](np.linspace(0.1, 0.85, k))


def terms_label(n):
    """'1 term', '2 terms', ..."""
    return "1 term" if n == 1 else f"{n} terms"


def centre_label(b):
    """'pi' for pi, else the number."""
    return "pi" if b == np.pi else f"{b:g}"


def plot_partial_sums(panels, n_terms_list):
    """Four panels: f and its partial sums S_n for each n in n_terms_list.

    panels: one (name, centre b, x, f(x), sums, ylim) per panel, sums of shape
    (len(n_terms_list), len(x)) with row j = S_n for n = n_terms_list[j]."""
    fig = new_figure((11, 7.5))
    axes = fig.subplots(2, 2).ravel()
    colors = palette(len(n_terms_list))
    for ax, (name, b, x, fx, sums, ylim) in zip(axes, panels):
        ax.plot(x, fx, color="black", lw=2.5, label=f"{name} x")
        for color, n, row in zip(colors, n_terms_list, sums):
            ax.plot(x, row, color=color, lw=1.3, label=terms_label(n))
        ax.axvline(b, color="grey", ls=":", lw=1)
        if name == "ln":
            ax.axvline(2.0, color="firebrick", ls="--", lw=1)
            ax.text(2.05, ylim[0] + 0.3, "x = 2: the series\nstops converging", color="firebrick", fontsize=8)
        ax.set_ylim(*ylim)
        ax.set_title(f"{name} x about {centre_label(b)}")
        ax.set_xlabel("x")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Partial sums S_n(x) = sum_{i<n} a_i (x - b)^i close in on f near the centre b")
    return fig


def plot_error_vs_distance(panels, distances, n_terms_list):
    """Log-log panels of |f - P_n| (solid) and the Lagrange bound (dotted) against |x - b|.

    panels: one (name, centre, errors, bounds) per panel, errors and bounds of shape
    (len(n_terms_list), len(distances))."""
    fig = new_figure((12, 4.2))
    axes = fig.subplots(1, len(panels), sharey=True)
    colors = palette(len(n_terms_list))
    for ax, (name, b, errors, bounds) in zip(axes, panels):
        for color, n, err, bound in zip(colors, n_terms_list, errors, bounds):
            ax.loglog(distances, np.where(err > 0, err, np.nan), color=color, label=terms_label(n))
            ax.loglog(distances, bound, color=color, ls=":", lw=1)
        if name == "ln":
            ax.axvline(1.0, color="firebrick", ls="--", lw=1)
        ax.axhline(np.finfo(float).eps, color="grey", lw=0.8)
        ax.set_ylim(1e-18, 1e3)
        ax.set_xlabel(f"distance x - b from the centre b = {b:g}")
        ax.set_title(f"{name} x about {b:g}")
    axes[0].set_ylabel("|f(x) - P_n(x)|  (dotted: Lagrange bound)")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Near the centre the error falls like |x - b|^n: a line of slope n; grey line: machine epsilon")
    return fig


def plot_piecewise(x_exp, exp_rel_error, x_cos, cos_error, n_terms):
    """Error of the range-reduced exp (relative) and cos (absolute) against x, with the edges
    of the pieces (x = (k + 1/2) ln 2, resp. (k + 1/2) pi/2) drawn in grey."""
    fig = new_figure((11, 3.8))
    ax_exp, ax_cos = fig.subplots(1, 2)
    ax_exp.plot(x_exp, exp_rel_error, lw=0.8)
    for edge in (np.arange(-6, 6) + 0.5) * math.log(2):
        ax_exp.axvline(edge, color="grey", lw=0.4)
    ax_exp.set_title(f"e^x = 2^k P(r), {n_terms} terms: relative error against np.exp")
    ax_cos.plot(x_cos, cos_error, lw=0.8, color="C1")
    for edge in (np.arange(-4, 4) + 0.5) * np.pi / 2:
        ax_cos.axvline(edge, color="grey", lw=0.4)
    ax_cos.set_title(f"cos x from centres k pi/2, {n_terms} terms: error against np.cos")
    for ax in (ax_exp, ax_cos):
        ax.set_xlabel("x  (grey: edges of the pieces)")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    fig.suptitle("Each piece repeats the same error curve: smallest at its centre, largest at its edges")
    return fig
