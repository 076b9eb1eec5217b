"""The figures of lessons.region_maps: ten 20 x 20 maps per method, drawn side by side.

Plot styling only (no computation the lesson teaches), kept here so the lesson reads as its story.
Every function returns a pyplot-free matplotlib Figure.
"""

from __future__ import annotations

import numpy as np

import handnet as hn
from lessons._common import new_figure

#: The digits of lessons.crafting_by_hand: 20 x 20 pixels, row-major.
IMAGE = (20, 20)


def scale_per_method(maps):
    """Divide each (K, D) map set by its largest |value| over all classes: {name: (scaled, scale)}."""
    return {name: (M / np.max(np.abs(M)), float(np.max(np.abs(M)))) for name, M in maps.items()}


def plot_region_maps(R):
    """The region maps (K, D) as 20 x 20 images, one colour scale (hn.explain.plot_class_maps)."""
    return hn.explain.plot_class_maps(R, IMAGE, title="Region maps e_c W_2.T W_1.T of the trained "
                                                       "400-14-10 network")


def plot_experiment_1(R):
    """Row 1: each map centred on 0 (blue - white - red, symmetric about 0); row 2: the same map in grey
    from its minimum (black) to its maximum (white). Each map on its own scale."""
    K = len(R)
    fig = new_figure((1.6 * K, 3.9))
    axes = fig.subplots(2, K)
    for c in range(K):
        image = R[c].reshape(IMAGE)
        top = np.max(np.abs(image))
        axes[0, c].imshow(image, cmap="RdBu_r", vmin=-top, vmax=top)
        axes[1, c].imshow(image, cmap="gray")
        axes[0, c].set_title(f"digit {c}", fontsize=10)
        for ax in axes[:, c]:
            ax.axis("off")
    fig.suptitle("Experiment 1: e_c run back through W_2 and W_1 (biases dropped); centred on 0, and grey")
    return fig


def plot_class_by_method(mean_images, maps):
    """A grid: columns = classes, rows = the mean image then each method in ``maps`` ({name: (K, D)}).

    The mean images are grey from 0 to 1; each method is divided by its largest |value| over
    the classes and drawn from -1 (blue) to +1 (red).
    """
    K = mean_images.shape[0]
    scaled = scale_per_method(maps)
    fig = new_figure((1.25 * K + 1.5, 1.35 * (len(maps) + 1) + 0.6))
    axes = fig.subplots(len(maps) + 1, K, squeeze=False)
    rows = [("mean image", mean_images, "gray_r", 0.0, 1.0)] + \
           [(f"{name}\n(max {s:.2g})", M, "RdBu_r", -1.0, 1.0) for name, (M, s) in scaled.items()]
    for r, (label, M, cmap, lo, hi) in enumerate(rows):
        for c in range(K):
            ax = axes[r, c]
            image = ax.imshow(M[c].reshape(IMAGE), cmap=cmap, vmin=lo, vmax=hi)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"class {c}", fontsize=10)
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
        if r == 0:
            grey = image
    fig.colorbar(image, ax=axes[1:, :].ravel().tolist(), shrink=0.8, label="share of the method's max")
    fig.colorbar(grey, ax=axes[0, :].ravel().tolist(), shrink=0.8, label="ink")
    fig.suptitle("Per class: mean test image, region map, mean input gradient, mean occlusion (2 x 2)")
    return fig


def plot_agreement(table):
    """Grouped bars: the correlations of agreement_table per class."""
    import seaborn as sns

    long = table.reset_index().melt(id_vars="class", var_name="pair", value_name="correlation")
    fig = new_figure((9.0, 4.0))
    ax = fig.subplots()
    sns.barplot(long, x="class", y="correlation", hue="pair", ax=ax, palette="viridis", errorbar=None)
    ax.set_ylim(min(0.0, float(long["correlation"].min()) - 0.05), 1.18)
    ax.axhline(1.0, color="0.6", linewidth=0.8)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper center", ncols=3, fontsize=8)
    ax.set_title(f"Pearson correlation over the {IMAGE[0] * IMAGE[1]} pixels, per class")
    return fig
