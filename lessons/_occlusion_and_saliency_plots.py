"""The figures of lessons.occlusion_and_saliency: attribution heatmaps, field bars, the window
comparison, and the training strip and animation.

Plot styling and file writing only (no computation the lesson teaches), kept here so that the
lesson reads as its story. Every plot returns a pyplot-free matplotlib Figure.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

import handnet as hn
from lessons._common import new_figure

#: Test rows drawn in the heatmaps and the animation frames.
HEATMAP_ROWS = 50


def plot_rows(A, fields, control):
    """Heatmap of the first HEATMAP_ROWS rows of A (N, D) with the fields marked."""
    return hn.explain.plot_attribution_rows(
        A[:HEATMAP_ROWS], fields=fields,
        title=f"{control} control: combined attribution of {min(HEATMAP_ROWS, len(A))} test orders")


def plot_fields(summary, control, relevant):
    """Bar per field of a field_summary table (column "sum")."""
    return hn.explain.plot_field_bars(
        summary,
        title=f"{control} control: combined attribution per field\ntrue fields: {', '.join(relevant)}")


def occlusion_windows(tables):
    """The window widths w of the "occlusion w=..." entries of ``tables``, in increasing order."""
    return sorted(int(name.split("=")[1]) for name in tables if name.startswith("occlusion w="))


def window_shares(tables):
    """Field sums of occlusion with each window, divided by that window's largest field sum.

    tables: field_tables of one control (one field_summary per method, among them "occlusion w=1",
    "occlusion w=2", ...). Returns a DataFrame: a row per field (in the order of w = 1), a column
    "w = 1", "w = 2", ... per window.
    """
    windows = occlusion_windows(tables)
    order = tables["occlusion w=1"].index
    return pd.DataFrame({f"w = {w}": tables[f"occlusion w={w}"]["sum"].reindex(order)
                         / tables[f"occlusion w={w}"]["sum"].max() for w in windows})


def plot_windows(tables_by_control, relevant_by_control):
    """Per control, the field sums of occlusion with each window, each scaled to its largest."""
    import seaborn as sns

    fig = new_figure((12.0, 5.0))
    axes = fig.subplots(1, len(tables_by_control), sharey=False)
    for ax, (control, tables) in zip(np.atleast_1d(axes), tables_by_control.items()):
        shares = window_shares(tables)
        order = list(shares.index)
        frame = shares.reset_index().melt(id_vars="field", var_name="window",
                                          value_name="share of the largest field")
        sns.barplot(frame, y="field", x="share of the largest field", hue="window", ax=ax,
                    palette="viridis", orient="h", errorbar=None)
        labels = [f"{n} *" if n in relevant_by_control[control] else n for n in order]
        ax.set_yticks(range(len(order)), labels)
        ax.set_title(f"{control} control (* = true field)")
        ax.set_ylabel("")
        ax.grid(True, axis="x", alpha=0.3)
        handles, names = ax.get_legend_handles_labels()
        ax.get_legend().remove()
    widths = occlusion_windows(next(iter(tables_by_control.values())))
    fig.legend(handles, names, loc="outside lower center", ncols=len(widths), title="occlusion window")
    fig.suptitle(f"Occlusion per field with windows of {', '.join(map(str, widths[:-1]))} and {widths[-1]} "
                 f"columns, fields in the order of w = 1")
    return fig


def draw_frame(ax, A, fields, title, labels=True):
    """One heatmap panel of a combined map A (rows, D) on the fixed scale [-1, 1], fields marked."""
    ax.clear()
    ax.imshow(A, cmap="RdBu_r", vmin=-1.0, vmax=1.0, aspect="auto", interpolation="nearest")
    bounds = np.cumsum([w for _, w in fields])[:-1] - 0.5
    for b in bounds:
        ax.axvline(b, color="0.3", lw=0.5)
    centres = np.cumsum([0] + [w for _, w in fields])[:-1] + (np.array([w for _, w in fields]) - 1) / 2
    ax.set_xticks(centres, [n for n, _ in fields] if labels else [], rotation=90, fontsize=6)
    ax.set_yticks([])
    ax.set_title(title, fontsize=8)


def plot_training_strip(snapshots, ranking, fields, epochs, field="Distance"):
    """The combined map of the first test rows at each of ``epochs``, side by side (one scale)."""
    fig = new_figure((2.0 * len(epochs) + 0.6, 4.2))
    axes = fig.subplots(1, len(epochs))
    for k, (ax, e) in enumerate(zip(np.atleast_1d(axes), epochs)):
        draw_frame(ax, snapshots[e], fields, f"epoch {e}\n{field} #{ranking.at[e, f'{field} rank']}",
                   labels=k == 0)
    fig.suptitle(f"Positive control: combined attribution of {HEATMAP_ROWS} test orders while "
                 f"training (red/blue: +-1)")
    return fig


def save_training_animation(snapshots, ranking, fields, path, fps=4, field="Distance"):
    """An animated GIF of the heatmaps in ``snapshots`` (epoch order), written atomically.

    matplotlib's PillowWriter grabs one frame per epoch; the GIF goes to a temporary file in the
    same folder (ending in .gif, which Pillow needs to choose the format) and is renamed over
    ``path`` once complete. Returns the path.
    """
    from matplotlib.animation import PillowWriter
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    fig = Figure(figsize=(4.8, 4.6))           # a fixed layout: each frame only swaps the image data
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.06, 0.3, 0.9, 0.62))
    epochs = sorted(snapshots)
    draw_frame(ax, snapshots[epochs[0]], fields, "")
    image = ax.images[0]
    writer = PillowWriter(fps=fps)
    try:
        with writer.saving(fig, str(tmp), dpi=80):
            for e in epochs:
                image.set_data(snapshots[e])
                ax.set_title(f"epoch {e}: {field} ranked #{ranking.at[e, f'{field} rank']} "
                             f"(first: {ranking.at[e, 'first']})", fontsize=8)
                writer.grab_frame()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
