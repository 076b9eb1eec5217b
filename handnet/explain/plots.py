"""Figures for explanations: attribution maps as images, per-class grids, rows and fields.

    fig = plot_map(hn.explain.sensitivity(net, X[:1])[0], (8, 8), image=X[0])
    fig = plot_class_maps(hn.explain.region_maps(net), (8, 8), path="regions.png")
    fig = plot_attribution_rows(A, fields=[("age", 1), ("income", 3)])
    fig = plot_field_bars(hn.explain.field_summary(A, fields))

The same rules as handnet.plots: every function returns a
``matplotlib.figure.Figure`` and, when ``path`` is given, writes it as a PNG
atomically; matplotlib and seaborn are imported inside the functions (so
``import handnet.explain`` stays light) and pyplot is never used.

Colours. Signed maps (some values < 0) use a diverging colormap centred at 0:
red pushes the explained output up, blue pushes it down, white does nothing.
Non-negative maps (sensitivities, |gradient x input|) use a sequential
colormap from white (no effect) to dark red. Inputs are drawn in grey, ink
dark on white.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import _describe, as_bool, as_image_shape, as_real_array, is_integer
from ..plots import _finish, _heatmap, _new_figure

__all__ = ["plot_map", "plot_class_maps", "plot_attribution_rows", "plot_field_bars"]

#: Colormaps: signed values (centred at 0), non-negative values, input images.
DIVERGING_CMAP = "RdBu_r"
SEQUENTIAL_CMAP = "Reds"
IMAGE_CMAP = "gray_r"
POSITIVE_COLOR = "#b2182b"       # the two ends of RdBu_r, for bars
NEGATIVE_COLOR = "#2166ac"


# ----------------------------------------------------------------------------
# Checking arguments
# ----------------------------------------------------------------------------

def _as_vector(values, name):
    arr = as_real_array(values, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a 1-D array of D values (one map), got shape {arr.shape}")
    return arr


def _as_matrix(values, name, what):
    arr = as_real_array(values, name)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array of shape {what}, got shape {arr.shape}")
    return arr


def _as_image_shape(image_shape, D, name="image_shape"):
    """(h, w) with h * w == D; None -> square when D is a perfect square, else one row (1, D)."""
    if image_shape is None:
        side = math.isqrt(D)
        return (side, side) if side * side == D else (1, D)
    return as_image_shape(image_shape, D, name, ndim=2)


def _as_title(title, name="title"):
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{name}: expected a string or None, got {_describe(title)}")
    return title


def _as_titles(titles, K, default):
    if titles is None:
        return [default.format(k) for k in range(K)]
    if isinstance(titles, str) or not hasattr(titles, "__len__"):
        raise TypeError(f"titles: expected a list of {K} strings, got {_describe(titles)}")
    titles = list(titles)
    if len(titles) != K:
        raise ValueError(f"titles: expected {K} titles (one per map), got {len(titles)}")
    bad = [t for t in titles if not isinstance(t, str)]
    if bad:
        raise TypeError(f"titles: expected strings, got {_describe(bad[0])}")
    return titles


def _as_fields(fields, D):
    """[(name, width), ...] with positive integer widths summing to D -> (names, starts, widths)."""
    if isinstance(fields, (str, bytes)) or not hasattr(fields, "__iter__"):
        raise TypeError(f"fields: expected a list of (name, width) pairs, got {_describe(fields)}")
    names, widths = [], []
    for i, item in enumerate(fields):
        if isinstance(item, (str, bytes)) or not hasattr(item, "__len__") or len(item) != 2:
            raise TypeError(f"fields: expected (name, width) pairs, got {item!r} at index {i}")
        name, width = item
        if not is_integer(width) or width < 1:
            raise ValueError(f"fields: expected a positive integer width, got {width!r} for field {name!r}")
        names.append(str(name))
        widths.append(int(width))
    if not names:
        raise ValueError("fields: expected at least one (name, width) pair, got none")
    if sum(widths) != D:
        raise ValueError(f"fields: the widths sum to {sum(widths)}, but A has {D} columns")
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(int)
    return names, starts, np.array(widths)


# ----------------------------------------------------------------------------
# Drawing helpers
# ----------------------------------------------------------------------------

def _to_image(vector, shape, transpose):
    """Reshape (D,) to ``shape`` as displayed; transpose=True: the values run down the columns."""
    return vector.reshape(shape, order="F" if transpose else "C")


def _colour_scale(values):
    """(cmap, vmin, vmax): diverging and symmetric about 0 when any value < 0, else sequential."""
    top = float(np.max(np.abs(values))) if values.size else 0.0
    top = top if top > 0 else 1.0                  # an all-zero map: a valid, white scale
    if np.any(values < 0):
        return DIVERGING_CMAP, -top, top
    return SEQUENTIAL_CMAP, 0.0, top


def _frame(ax):
    """A thin grey frame around a heatmap: white cells at the edge stay visibly inside the image."""
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_linewidth(0.5)
        spine.set_color("0.6")


def _panel(ax, data, cmap, vmin, vmax, ticks=False):
    """A square heatmap panel without its own colour bar; returns its QuadMesh."""
    import seaborn as sns

    h, w = data.shape
    lines = 0.5 if max(h, w) <= 16 else 0.0         # cell borders only where cells are big
    sns.heatmap(data, ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, cbar=False, square=True,
                linewidths=lines, linecolor="white", xticklabels=ticks, yticklabels=ticks)
    if not ticks:
        ax.set_xticks([])
        ax.set_yticks([])
    _frame(ax)
    return ax.collections[0]


def _image_panel(ax, image, ticks=False):
    lo = min(0.0, float(image.min()))
    hi = max(float(image.max()), lo + 1e-12)
    return _panel(ax, image, IMAGE_CMAP, lo, hi, ticks=ticks)


def _map_grid(maps, shape, transpose, titles, scale, *, images=None, image_titles=None, title=None,
              cbar_label=None, path=None):
    """Maps (K, D) in a grid of panels on one colour scale ``scale`` = (cmap, vmin, vmax), one colour bar.

    With ``images`` (K, D), each map has its input drawn on its left (titled by
    ``image_titles``). Used by plot_class_maps and by ``handnet explain``.
    """
    K = maps.shape[0]
    cmap, vmin, vmax = scale
    per_cell = 1 if images is None else 2
    nrows = math.ceil(K / (5 if images is None else 4))
    ncols = math.ceil(K / nrows)                                  # balanced rows: 5 -> 3 + 2
    h, w = shape
    aspect = h / w
    panel_w = 1.9 * min(max(1.0 / aspect, 1.0), 2.0)             # wide images get wider panels
    panel_h = max(min(panel_w * aspect, 3.8), 0.4)
    gap = 0.25 if images is not None and ncols > 1 else 0.0       # groups each input with its map
    n_grid = ncols * per_cell + (ncols - 1) * (gap > 0)
    ratios = ([1.0] * per_cell + [gap]) * (ncols - 1) + [1.0] * per_cell if gap else [1.0] * n_grid
    title_h = 0.3 * (title.count("\n") + 1) + 0.15 if title else 0.1
    fig = _new_figure((min(ncols * (per_cell * panel_w + gap * panel_w) + 1.2, 18.0),
                       min(max(nrows * (panel_h + 0.45) + title_h, 2.4), 24.0)))
    grid = fig.subplots(nrows, n_grid, squeeze=False, gridspec_kw={"width_ratios": ratios})
    keep = [j for j in range(n_grid) if not gap or j % (per_cell + 1) != per_cell]
    for j in sorted(set(range(n_grid)) - set(keep)):                # the spacer columns
        for ax in grid[:, j]:
            ax.set_axis_off()
    axes = grid[:, keep]
    mesh = None
    for k in range(nrows * ncols):
        r, c = divmod(k, ncols)
        cell = axes[r, c * per_cell:(c + 1) * per_cell]
        if k >= K:
            for ax in cell:
                ax.set_axis_off()
            continue
        if images is not None:
            _image_panel(cell[0], _to_image(images[k], shape, transpose))
            if image_titles is not None:
                cell[0].set_title(image_titles[k], fontsize=9)
        mesh = _panel(cell[-1], _to_image(maps[k], shape, transpose), cmap, vmin, vmax)
        cell[-1].set_title(titles[k], fontsize=9)
    cbar = fig.colorbar(mesh, ax=grid.ravel().tolist(), shrink=0.9 if nrows > 1 else 1.0,
                        aspect=12 * nrows, pad=0.02)
    cbar.ax.tick_params(labelsize=8)
    if cbar_label:
        cbar.set_label(cbar_label)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# One map
# ----------------------------------------------------------------------------

def plot_map(values, image_shape=None, *, image=None, transpose=False, title=None, path=None):
    """One attribution map (D,) drawn as an image; returns the Figure (and saves a PNG at ``path``).

    image_shape  (height, width) with height * width = D, e.g. (8, 8) for the
                 shipped digits; None: square when D is a perfect square, else one row.
    image        the input (D,) the map explains, drawn in grey in a panel on the left.
    transpose    True when the values are stored column by column (column-major, like
                 the course's 20x20 digits, which Octave flattens with X(:)).
    title        the figure's title.

    Signed maps use a diverging colormap centred at 0 (red up, blue down);
    non-negative maps a sequential one from white (0).
    """
    values = _as_vector(values, "values")
    D = values.size
    shape = _as_image_shape(image_shape, D)
    transpose = as_bool(transpose, "transpose")
    title = _as_title(title)
    if image is not None:
        image = _as_vector(image, "image")
        if image.size != D:
            raise ValueError(f"image: expected {D} values (the map's size), got {image.size}")
    h, w = shape
    ticks = max(h, w) <= 16 and min(h, w) > 1
    if h >= w:                                        # square or tall: at most 6 in high
        panel_h = min(3.6 * h / w, 6.0)
        panel_w = panel_h * w / h
    else:                                             # wide: at most 7.5 in wide
        panel_w = min(3.6 * w / h, 7.5)
        panel_h = panel_w * h / w
    n_panels = 2 if image is not None else 1
    fig = _new_figure((max(n_panels * panel_w + 1.0, 3.0),
                       max(panel_h, 2.2) + (0.5 if title else 0.2)))
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    if image is not None:
        _image_panel(axes[0], _to_image(image, shape, transpose), ticks=ticks)
        axes[0].set_title("input")
    ax = axes[-1]
    cmap, vmin, vmax = _colour_scale(values)
    _heatmap(ax, _to_image(values, shape, transpose), cmap=cmap, vmin=vmin, vmax=vmax)
    if max(h, w) > 16:                                # borders would hide small cells
        ax.collections[0].set_linewidth(0.0)
    if not ticks:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title("attribution" if image is not None else "")
    _frame(ax)
    for a in axes:
        a.tick_params(axis="y", labelrotation=0)
        a.tick_params(labelsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# One map per class
# ----------------------------------------------------------------------------

def plot_class_maps(maps, image_shape, *, transpose=False, titles=None, title=None, path=None):
    """One panel per class of ``maps`` (K, D), titled "class k", on a shared symmetric colour scale.

    E.g. ``plot_class_maps(hn.explain.region_maps(net), (8, 8))``. The colour
    scale runs from -m (blue) to +m (red), m = max |maps|, with one colour bar
    for every panel so the classes can be compared. titles: K strings to use
    instead of "class k"; title: the figure's title.
    """
    maps = _as_matrix(maps, "maps", "(K, D), one map per class")
    K, D = maps.shape
    shape = _as_image_shape(image_shape, D)
    transpose = as_bool(transpose, "transpose")
    titles = _as_titles(titles, K, "class {}")
    title = _as_title(title)
    top = float(np.max(np.abs(maps)))
    top = top if top > 0 else 1.0
    # Symmetric even when every value is >= 0: 0 is white in every panel, as in the signed maps.
    return _map_grid(maps, shape, transpose, titles, (DIVERGING_CMAP, -top, top), title=title, path=path)


# ----------------------------------------------------------------------------
# Many rows, and fields
# ----------------------------------------------------------------------------

def plot_attribution_rows(A, *, fields=None, path=None, title=None):
    """Many rows' attributions (N, D) as one heatmap: a row per explained input, a column per feature.

    A        an array (N, D), or a DataFrame (its index labels the rows).
    fields   optional [(name, width), ...] with widths summing to D (e.g. one-hot
             encoded columns): vertical lines separate the fields and their names
             label the x axis at the fields' centres.
    """
    import pandas as pd
    import seaborn as sns

    row_labels = A.index if isinstance(A, pd.DataFrame) else None
    values = _as_matrix(A.to_numpy() if isinstance(A, pd.DataFrame) else A, "A", "(N, D), one row per input")
    N, D = values.shape
    title = _as_title(title)
    parsed = _as_fields(fields, D) if fields is not None else None
    cmap, vmin, vmax = _colour_scale(values)

    width = min(max(6.0, 0.16 * D + 2.0), 16.0)
    height = min(max(3.0, 0.22 * N + 1.6), 12.0)
    fig = _new_figure((width, height))
    ax = fig.subplots()
    lines = 0.5 if N <= 30 and D <= 40 else 0.0
    sns.heatmap(values, ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, linewidths=lines, linecolor="white",
                yticklabels=list(row_labels) if row_labels is not None and N <= 40 else "auto",
                cbar_kws={"label": "attribution", "shrink": 0.9})
    ax.set_ylabel("row")
    ax.tick_params(axis="y", labelrotation=0)
    if parsed is None:
        ax.set_xlabel("feature")
    else:
        names, starts, widths = parsed
        for boundary in starts[1:]:
            ax.axvline(boundary, color="black", linewidth=1.0)
        ax.set_xticks(starts + widths / 2)
        # Rotate the names when one is wider than its field (about 0.075 in per character at size 9).
        inches_per_column = 0.8 * width / D
        crowded = any(0.075 * len(n) > w * inches_per_column for n, w in zip(names, widths))
        if crowded:
            ax.set_xticklabels(names, rotation=45, ha="right", rotation_mode="anchor", fontsize=9)
        else:
            ax.set_xticklabels(names, rotation=0, fontsize=9)
        ax.set_xlabel("field")
    _frame(ax)
    ax.set_title(title if title else f"Attributions of {N} row{'s' if N != 1 else ''}")
    return _finish(fig, path)


def plot_field_bars(summary, *, column="sum", path=None, title=None):
    """A horizontal bar per field of ``summary`` (hn.explain.field_summary), most important on top.

    column   which column to draw: "sum" (default), "mean", "max", ... Fields are
             ordered by the size |value| (by rank, smallest first, for column="rank").
             Positive bars are red, negative ones blue, as in the maps.
    """
    import pandas as pd

    if not isinstance(summary, pd.DataFrame):
        raise TypeError(f"summary: expected the DataFrame returned by hn.explain.field_summary, "
                        f"got {type(summary).__name__}")
    if not isinstance(column, str):
        raise TypeError(f"column: expected a column name (a string), got {_describe(column)}")
    if column not in summary.columns:
        raise ValueError(f"column: expected one of {list(map(str, summary.columns))}, got {column!r}")
    if len(summary) == 0:
        raise ValueError("summary: expected at least one field, got an empty table")
    title = _as_title(title)
    values = as_real_array(summary[column].to_numpy(), f"summary[{column!r}]", ndim=1)
    names = [str(n) for n in summary.index]

    order = np.argsort(values, kind="stable") if column == "rank" else \
        np.argsort(-np.abs(values), kind="stable")
    values, names = values[order], [names[i] for i in order]
    n = len(values)
    longest = max(len(name) for name in names)
    fig = _new_figure((min(6.0 + 0.07 * longest, 12.0), min(max(2.2, 0.32 * n + 1.3), 20.0)))
    ax = fig.subplots()
    colors = [NEGATIVE_COLOR if v < 0 else POSITIVE_COLOR for v in values]
    bars = ax.barh(np.arange(n), values, color=colors, height=0.7)
    ax.set_yticks(np.arange(n), names)
    ax.invert_yaxis()                                 # the first (most important) field on top
    if n <= 40:
        ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], padding=3, fontsize=8)
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    ax.margins(x=0.15)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_xlabel(column)
    ax.set_ylabel("field")
    ax.set_title(title if title else f"Attribution per field ({column})")
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# Rows next to their inputs (handnet explain)
# ----------------------------------------------------------------------------

def _plot_row_maps(maps, images, image_shape, *, titles, image_titles, scale="row", transpose=False,
                   title=None, cbar_label=None, path=None):
    """A grid of maps (N, D), each next to its input image (N, D).

    scale="row": each map divided by its own largest |value| (so a row whose
    output is saturated, with tiny derivatives, still shows its pattern) and
    that value added to its title; scale="shared": one colour scale for all.
    Diverging (centred at 0) when any value is < 0, else sequential from 0.
    Used by ``handnet explain`` for sensitivity, gradxinput and occlusion.
    """
    maps = _as_matrix(maps, "maps", "(N, D), one map per row")
    images = _as_matrix(images, "images", f"{maps.shape}, one input per map")
    if images.shape != maps.shape:
        raise ValueError(f"images: expected shape {maps.shape} (one input per map), got {images.shape}")
    if scale not in ("row", "shared"):
        raise ValueError(f"scale: expected 'row' or 'shared', got {scale!r}")
    shape = _as_image_shape(image_shape, maps.shape[1])
    N = maps.shape[0]
    titles = _as_titles(titles, N, "row {}")
    image_titles = _as_titles(image_titles, N, "input {}")
    if scale == "row":
        top = np.max(np.abs(maps), axis=1)
        maps = np.divide(maps, top[:, None], out=np.zeros_like(maps), where=top[:, None] > 0)
        titles = [f"{t} (max {m:.2g})" for t, m in zip(titles, top)]
    return _map_grid(maps, shape, as_bool(transpose, "transpose"), titles, _colour_scale(maps),
                     images=images, image_titles=image_titles, title=_as_title(title),
                     cbar_label=cbar_label, path=path)
