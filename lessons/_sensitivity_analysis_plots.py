"""The figures of lessons.sensitivity_analysis: digits with their maps, the difference maps with
the digit box's quadrants, saturation and fading. Plotting plumbing only (matplotlib Figures, no
pyplot); the lesson computes every number it draws and explains what each panel shows.
"""

from __future__ import annotations

import numpy as np

from lessons._common import new_figure
from lessons._image_regions import IMAGE_SHAPE, principal_axis


def plot_digit_rows(images, rows, labels, title, image_shape=IMAGE_SHAPE):
    """A column per digit: the input on top, then one row per map, each panel on its own scale.

    images (N, D); rows [(maps (N, D), row label), ...]; image_shape (H, W) with H W = D. Non-negative maps are drawn from
    white (0) to dark red; signed maps from blue (< 0) through white (0) to red (> 0).
    The largest |value| of each panel is written under it.
    """
    N = len(images)
    fig = new_figure((1.25 * N + 0.6, 1.45 * (len(rows) + 1) + 0.4))
    axes = fig.subplots(len(rows) + 1, N, squeeze=False)
    for k in range(N):
        axes[0, k].imshow(images[k].reshape(image_shape), cmap="gray_r", vmin=0, vmax=1)
        axes[0, k].set_title(f"digit {labels[k]}", fontsize=9)
        for r, (maps, _) in enumerate(rows, start=1):
            top = float(np.max(np.abs(maps[k]))) or 1.0
            signed = bool(np.any(maps < 0))
            axes[r, k].imshow(maps[k].reshape(image_shape), cmap="RdBu_r" if signed else "Reds",
                              vmin=-top if signed else 0.0, vmax=top)
            axes[r, k].set_xlabel(f"max {top:.2g}", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("input", fontsize=9)
    for r, (_, label) in enumerate(rows, start=1):
        axes[r, 0].set_ylabel(label, fontsize=9)
    fig.suptitle(title)
    return fig


def plot_difference_maps(maps, single_maps):
    """The four class-mean difference maps (top) and the same on the displayed digits (bottom),
    each on a symmetric scale (red: more ink raises the first class), with the digit box's
    quadrants and, for the five's maps, the principal axis of the strongest positive pixels.

    maps, single_maps: {(a, b): d(y_a - y_b)/dx, shape (784,)}: class means and the displayed digits'."""
    fig = new_figure((11.0, 6.2))
    axes = fig.subplots(2, 4)
    for k, ((a, b), M) in enumerate(maps.items()):
        single = single_maps[(a, b)]
        for r, (values, label) in enumerate(((M, "mean over test digits"), (single, "displayed digit"))):
            ax = axes[r, k]
            top = float(np.max(np.abs(values))) or 1.0
            ax.imshow(values.reshape(IMAGE_SHAPE), cmap="RdBu_r", vmin=-top, vmax=top)
            ax.add_patch(_box(4, 4, 20, 20))
            ax.plot([13.5, 13.5], [3.5, 23.5], color="0.4", lw=0.6)
            ax.plot([3.5, 23.5], [13.5, 13.5], color="0.4", lw=0.6)
            if b == 5:
                angle, _ = principal_axis(np.maximum(values, 0.0))
                t = np.radians(angle)
                ax.plot(13.5 + 8 * np.array([-1, 1]) * np.cos(t), 13.5 - 8 * np.array([-1, 1]) * np.sin(t),
                        color="k", lw=1.5, ls="--")
            ax.set_title(f"∂(y{a} − y{b})/∂x\n{label}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Difference maps: where the network moves between two classes (red: more ink raises "
                 "the first)")
    return fig


def _box(col, row, width, height):
    from matplotlib.patches import Rectangle

    return Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor="0.3", lw=0.8)


def plot_saturation(table):
    """Max |dy/dx| and max |dz/dx| of every row against its confidence y_t (log scale)."""
    fig = new_figure((7.0, 4.2))
    ax = fig.subplots()
    conf = table["confidence y_t"]
    ax.scatter(conf, table["max |dy_t/dx|"], s=12, alpha=0.7, label="max |∂y_t/∂x|  (output)")
    ax.scatter(conf, table["max |dz_t/dx|"], s=12, alpha=0.7, marker="s", label="max |∂z_t/∂x|  (logit)")
    ax.set_yscale("log")
    ax.set_xlabel("confidence y_t of the predicted class")
    ax.set_ylabel("largest entry of the map")
    ax.set_title("Saturation: confident outputs have faint sensitivity maps")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def plot_fading(actual, predicted, s_values, labels):
    """Actual vs first-order change of y_t as each digit fades, one colour per digit."""
    fig = new_figure((7.0, 4.2))
    ax = fig.subplots()
    colours = [f"C{k % 10}" for k in range(actual.shape[1])]
    for k, c in enumerate(colours):
        ax.plot(s_values, actual[:, k], color=c, label=f"digit {labels[k]}")
        ax.plot(s_values, predicted[:, k], color=c, linestyle="--")
    ax.set_xlabel("s  (image faded to (1 - s) x)")
    ax.set_ylabel("change of y_t")
    ax.set_title("Solid: actual change; dashed: first-order prediction from the gradient")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return fig
