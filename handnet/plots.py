"""Figures for people: the training history and the confusion matrix, saved as PNG.

    fig = plot_history(history, "loss.png")           # cost (and accuracy) against epoch
    fig = plot_confusion_matrix(cm, "confusion.png")  # heatmap of hn.confusion_matrix(...)

Every function returns a ``matplotlib.figure.Figure`` and, when ``path`` is
given, also writes it as a PNG (atomically, like hn.save: a crash never
leaves half an image).

Two rules keep this module friendly:

* ``import handnet`` stays light: matplotlib and seaborn are imported inside
  the functions that draw, never at module level.
* No pyplot. Figures are built as ``Figure(...)`` objects and drawn with
  ``fig.subplots()``: no global "current figure", no GUI backend, nothing
  left open in memory after the figure object goes away. In a notebook,
  a returned Figure displays itself when it is the last value of a cell.

Adding a figure: build it with ``_new_figure``, draw on its axes, and end
with ``return _finish(fig, path)``. Heatmaps (such as attribution maps of
the 8x8 inputs) can reuse ``_heatmap``.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["plot_history", "plot_confusion_matrix", "save_figure", "DPI"]

#: Resolution of saved PNGs, in dots per inch.
DPI = 120


# ----------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------

def _new_figure(figsize):
    """A pyplot-free Figure with constrained layout (labels never overlap)."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def save_figure(fig, path, dpi=DPI):
    """Write ``fig`` to ``path`` as a PNG, atomically; return the path.

    The image goes to a temporary file next to ``path`` that is renamed over
    it only once complete. Missing folders are created.
    """
    from matplotlib.figure import Figure

    from .io import atomic_write

    if not isinstance(fig, Figure):
        raise TypeError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path, got {type(path).__name__}")
    return atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi))


def _finish(fig, path):
    """Save the figure when a path is given; return the figure."""
    if path is not None:
        save_figure(fig, path)
    return fig


def _heatmap(ax, data, annot=None, cmap="Blues", vmin=None, vmax=None, cbar_label=None, fontsize=9):
    """Draw a 2-D DataFrame/array on ``ax`` with seaborn: square cells, optional text per cell.

    annot: None, or an array of strings of data's shape (written as they are).
    """
    import seaborn as sns

    cbar_kws = {"label": cbar_label, "shrink": 0.8} if cbar_label else {"shrink": 0.8}
    sns.heatmap(data, ax=ax, annot=annot if annot is not None else False, fmt="",
                annot_kws={"fontsize": fontsize}, cmap=cmap, vmin=vmin, vmax=vmax,
                square=True, linewidths=0.5, linecolor="white", cbar_kws=cbar_kws)
    return ax


# ----------------------------------------------------------------------------
# The training history
# ----------------------------------------------------------------------------

def _as_history(history):
    import pandas as pd

    if isinstance(history, dict):
        history = pd.DataFrame(history)
    if not isinstance(history, pd.DataFrame):
        raise TypeError(f"history: expected the DataFrame returned by hn.train, got {type(history).__name__}")
    if "epoch" not in history.columns or not {"loss", "cost"} & set(history.columns):
        raise ValueError(f"history: expected columns 'epoch' and 'loss' (or 'cost'), as returned by hn.train; "
                         f"got columns {list(history.columns)}")
    if len(history) == 0:
        raise ValueError("history: expected at least one row, got an empty table")
    return history


def _has(history, column):
    return column in history.columns and history[column].notna().any()


def _history_subtitle(attrs):
    """'lr = 2, lambda = 0, full batch, momentum 0' from hn.train's history.attrs (what is known)."""
    parts = []
    if "lr" in attrs:
        parts.append(f"lr = {attrs['lr']:g}")
    if "l2" in attrs:
        parts.append(f"\u03bb = {attrs['l2']:g}")
    if "batch_size" in attrs:
        parts.append("full batch" if attrs["batch_size"] is None else f"batch size {attrs['batch_size']}")
    if attrs.get("momentum"):
        parts.append(f"momentum {attrs['momentum']:g}")
    return ", ".join(parts)


def _plain_log_formatter(**kwargs):
    """Log-axis tick labels as plain numbers (0.3, not 3 x 10^-1), labelling the ticks
    matplotlib would label (a few minor ones on short ranges, none when crowded)."""
    from matplotlib.ticker import LogFormatter

    class PlainLogFormatter(LogFormatter):
        def __call__(self, x, pos=None):
            return f"{x:g}" if super().__call__(x, pos) else ""

    return PlainLogFormatter(**kwargs)


def plot_history(history, path=None):
    """The learning curves of hn.train's history; returns the Figure (and saves a PNG at ``path``).

    Left: the data loss against the epoch (``loss``, and ``val_loss`` when the
    history has it: the same quantity on both sets, so the curves compare),
    with the regularised J (``cost`` = loss + penalty) dashed when there is a
    penalty; on a log scale when it falls by more than a factor of 20. A table
    with ``cost`` but no ``loss`` (older histories) is drawn as J. Right, when
    the history has accuracies: training (and validation) accuracy in percent.
    """
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    history = _as_history(history)
    with_accuracy = _has(history, "accuracy") or _has(history, "val_accuracy")
    fig = _new_figure((11, 4.2) if with_accuracy else (6.5, 4.2))
    axes = fig.subplots(1, 2 if with_accuracy else 1, squeeze=False)[0]
    epoch = history["epoch"].to_numpy()
    style = {"marker": "o", "markersize": 3} if len(history) <= 40 else {}

    ax = axes[0]
    loss = "loss" if "loss" in history.columns else "cost"
    curves = [(loss, "training", "C0", "-"), ("val_" + loss, "validation", "C1", "-")]
    if loss == "loss" and _has(history, "penalty") and (history["penalty"] > 0).any():
        curves.append(("cost", "training J = loss + L2 penalty", "C0", "--"))
    curves = [curve for curve in curves if _has(history, curve[0])]
    for column, label, color, line in curves:
        ax.plot(epoch, history[column].to_numpy(), label=label, color=color, linestyle=line, **style)
    cost_name = history.attrs.get("cost")
    what = "data loss" if loss == "loss" else "cost J"
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{what} ({cost_name.replace('_', ' ')})" if cost_name else what)
    values = history[[column for column, *_ in curves]].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    title = "Loss" if loss == "loss" else "Cost"
    if values.size and values.min() > 0 and 20 < values.max() / values.min() and values.max() < 1e100:
        # Losses typically fall by orders of magnitude: on a log scale the late epochs (and the
        # gap between training and validation) stay visible.
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_plain_log_formatter())
        ax.yaxis.set_minor_formatter(_plain_log_formatter(labelOnlyBase=False))
        title += " (log scale)"
    ax.set_title(title)
    ax.legend()

    if with_accuracy:
        ax = axes[1]
        for column, label, color in (("accuracy", "training", "C0"), ("val_accuracy", "validation", "C1")):
            if _has(history, column):
                ax.plot(epoch, history[column].to_numpy(), label=label, color=color, **style)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy")
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        ax.set_title("Accuracy")
        ax.legend(loc="lower right")

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.set_xlim(epoch.min(), max(epoch.max(), epoch.min() + 1))

    title = "Training history"
    if history.attrs.get("interrupted"):
        title += f" (interrupted after epoch {int(epoch.max())})"
    subtitle = _history_subtitle(history.attrs)
    fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""))
    return _finish(fig, path)


# ----------------------------------------------------------------------------
# The confusion matrix
# ----------------------------------------------------------------------------

def _as_confusion(cm):
    import pandas as pd

    if isinstance(cm, pd.DataFrame):
        values = cm.to_numpy()
        index, columns = cm.index, cm.columns
    else:
        values = np.asarray(cm)
        index = columns = None
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"cm: expected a 2-D confusion matrix (rows: true, columns: predicted), "
                         f"got shape {values.shape}")
    if values.dtype == object or values.dtype.kind not in "biuf":
        raise TypeError(f"cm: expected numbers, got dtype {values.dtype}")
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("cm: expected finite counts >= 0")
    if index is None:
        index = pd.RangeIndex(values.shape[0])
        columns = pd.RangeIndex(values.shape[1])
    return values, index, columns


def plot_confusion_matrix(cm, path=None, normalize=False):
    """A heatmap of a confusion matrix (hn.confusion_matrix); returns the Figure (saves at ``path``).

    Rows are the true classes, columns the predicted ones; each cell is
    annotated with its count (empty cells are left blank so the mistakes
    stand out). normalize=True colours and annotates each row as the fraction
    of that true class (its recall on the diagonal), in percent.
    """
    import pandas as pd

    counts, index, columns = _as_confusion(cm)
    n_rows, n_cols = counts.shape
    total = counts.sum()
    row_sums = counts.sum(axis=1, keepdims=True)
    if normalize:
        values = np.divide(counts, row_sums, out=np.zeros_like(counts), where=row_sums > 0)
        text = np.where(counts > 0, np.char.mod("%.0f%%", 100 * values), "")
        vmax, cbar_label = 1.0, "share of the true class"
    else:
        values = counts
        whole = np.all(counts == np.round(counts))
        text = np.where(counts > 0, np.char.mod("%d" if whole else "%.3g",
                                                 counts.astype(np.int64) if whole else counts), "")
        vmax, cbar_label = (counts.max() if counts.max() > 0 else 1.0), "count"
    K = max(n_rows, n_cols)
    annot = text if K <= 25 else None
    fontsize = 10 if K <= 12 else 8 if K <= 18 else 6

    side = min(max(4.5, 0.5 * K + 2.5), 16)
    fig = _new_figure((side + 1.2, side))
    ax = fig.subplots()
    data = pd.DataFrame(values, index=index, columns=columns)
    _heatmap(ax, data, annot=annot, vmin=0.0, vmax=vmax, cbar_label=cbar_label, fontsize=fontsize)
    if normalize:
        from matplotlib.ticker import PercentFormatter

        ax.collections[0].colorbar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.tick_params(axis="y", labelrotation=0)
    ax.tick_params(axis="x", labelrotation=0 if K <= 20 else 90)
    if n_rows == n_cols and total > 0:
        correct = np.trace(counts)
        title = f"Confusion matrix: {100 * correct / total:.1f}% correct ({correct:g} of {total:g})"
    else:
        title = "Confusion matrix"
    if normalize:
        title += "\nrows normalised: each true class sums to 100%"
    ax.set_title(title)
    return _finish(fig, path)
