"""The figures of lessons.stable_softmax: the naive and stable logs of the sigmoid (and the digits
the naive log(1 - sigma) loses), and log-sum-exp swept over a shift. Plotting plumbing only
(matplotlib Figures, no pyplot); the lesson computes the curves drawn here.
"""

from __future__ import annotations

import numpy as np

from lessons._common import new_figure


def plot_log_sigmoid(wide, narrow):
    """Two panels from log_sigmoid_curves on a wide and a narrow grid; returns the Figure."""
    fig = new_figure((11.0, 4.2))
    ax, ax2 = fig.subplots(1, 2)
    styles = {"stable log sigma": ("C0", "-", 3.0), "naive log sigma": ("C1", "--", 1.5),
              "stable log(1-sigma)": ("C2", "-", 3.0), "naive log(1-sigma)": ("C3", "--", 1.5)}
    for name, (color, ls, lw) in styles.items():
        values = wide[name].to_numpy()
        finite = np.isfinite(values)
        ax.plot(wide.index[finite], values[finite], color=color, ls=ls, lw=lw, label=name)
        if not finite.all():
            broken = wide.index[~finite]
            edge = broken[np.argmin(np.abs(broken))]
            ax.axvline(edge, color=color, ls=":", lw=1)
            ax.annotate(f"{name} = -inf\nfrom grid point z = {edge:.1f}", (edge, -500), color=color,
                        fontsize=8, ha="center", bbox={"fc": "white", "ec": "none", "alpha": 0.8})
    ax.set_xlabel("z")
    ax.set_ylabel("log-probability")
    ax.set_title("Naive logs of the sigmoid break; the softplus forms do not")
    ax.legend(fontsize=8, loc="lower left")

    rel = np.abs(narrow["naive log(1-sigma)"] - narrow["stable log(1-sigma)"]) / np.abs(
        narrow["stable log(1-sigma)"])
    keep = np.isfinite(rel.to_numpy()) & (rel.to_numpy() > 0)
    ax2.semilogy(narrow.index[keep], rel.to_numpy()[keep], ".", ms=3, color="C3",
                 label="|naive - stable| / |stable|")
    zz = narrow.index.to_numpy()[narrow.index.to_numpy() > 0.5]
    ax2.semilogy(zz, 2.0 ** -53 * np.exp(zz) / zz, color="k", lw=1,
                 label="2^-53 e^z / z  (one rounding of sigma, seen by the log)")
    ax2.axvline(53 * np.log(2), color="k", ls=":", lw=1)
    ax2.annotate("sigma(z) = 1.0 exactly\nfrom z = 53 ln 2 on", (53 * np.log(2) - 0.5, 1e-13),
                 fontsize=8, ha="right", bbox={"fc": "white", "ec": "none", "alpha": 0.8})
    ax2.set_xlabel("z")
    ax2.set_title("Digits lost by log(1 - sigma(z)) before it becomes -inf")
    ax2.legend(fontsize=8)
    return fig


def plot_logsumexp(sweep):
    """Naive and stable LSE against the shift c; the naive range is shaded.  Returns the Figure."""
    fig = new_figure((7.0, 4.0))
    ax = fig.subplots()
    naive = sweep["naive"].to_numpy()
    finite = np.isfinite(naive)
    lo, hi = sweep.index[finite].min(), sweep.index[finite].max()
    ax.plot(sweep.index, sweep["stable"], lw=3, color="C0", label="stable: m + log sum exp(z - m)")
    ax.plot(sweep.index[finite], naive[finite], "--", color="C1", label="naive: log sum exp(z)")
    ax.axvspan(lo, hi, color="C1", alpha=0.1,
               label="where the naive one is finite")
    ax.set_xlabel("shift c   (z = c + (0, 1, 2))")
    ax.set_ylabel("log-sum-exp")
    ax.set_title(f"Log-sum-exp: the naive form is finite only for {lo:.0f} <= c <= {hi:.0f}")
    ax.legend(fontsize=8)
    return fig
