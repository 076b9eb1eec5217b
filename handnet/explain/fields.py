"""Attributions of structured inputs, gathered per named field.

A row of a table is often several named fields laid side by side, some
wider than one column (a one-hot market, an hour as sin and cos):

    fields = [("Store Number", 4), ("Market", 1), ("Hour", 2), ...]    widths sum to D

Field k covers the columns s_k <= j < s_k + w_k (hn.datasets.field_slices).
Its attribution in row i is an aggregate of A[i, j] over those columns:

    sum   sum_j A_ij          the field's total share (occlusion, gradient x input add up)
    mean  sum_j A_ij / w_k    per column, so wide fields are not favoured
    max   max_j A_ij          the strongest single column

``combine`` averages two methods after scaling each row to a largest |value|
of 1, so neither method dominates only because its numbers are larger.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from ..datasets import field_slices
from .occlusion import normalize_max

__all__ = ["AGGREGATES", "field_attributions", "field_summary", "combine"]

AGGREGATES = ("sum", "mean", "max")


def _field_blocks(A, fields, name="A"):
    A = V.as_real_array(A, name)
    if A.ndim == 1:
        A = A[None, :]
    if A.ndim != 2:
        raise ValueError(f"{name}: expected attributions of shape (N, D) or (D,), got shape {A.shape}")
    slices = field_slices(fields)
    D = slices[-1][1].stop
    if A.shape[1] != D:
        raise ValueError(f"fields: the widths add up to {D} columns but {name} has {A.shape[1]} "
                         f"(shape {A.shape})")
    names = [n for n, _ in slices]
    starts = np.array([s.start for _, s in slices])
    widths = np.array([s.stop - s.start for _, s in slices])
    return A, names, starts, widths


def _aggregate(A, starts, widths, how):
    """Per-row, per-field aggregate (N, F), one reduceat over the columns."""
    if how == "max":
        return np.maximum.reduceat(A, starts, axis=1)
    sums = np.add.reduceat(A, starts, axis=1)
    return sums / widths if how == "mean" else sums


def field_attributions(A, fields, how="sum"):
    """Each row's attribution per field:  F[i, k] = aggregate_{j in field k} A[i, j].

    A (N, D) attributions; fields [(name, width), ...]; how "sum", "mean" or "max".
    Returns a DataFrame with N rows and one column per field (in field order).
    """
    V.as_choice(how, AGGREGATES, "how")
    import pandas as pd  # imported when used, so `import handnet.explain` stays light

    A, names, starts, widths = _field_blocks(A, fields)
    return pd.DataFrame(_aggregate(A, starts, widths, how), columns=names)


def field_summary(A, fields):
    """How important each field is over all rows: the aggregates of |A|, averaged over rows.

    Returns a DataFrame indexed by field name with columns
      start, width      where the field sits
      sum, mean, max    mean over rows of sum_j |A_ij|, sum_j |A_ij| / w, max_j |A_ij|
      rank              1 for the largest "sum", 2 for the next, ...
    sorted by rank. A (N, D) or (D,).
    """
    import pandas as pd

    A, names, starts, widths = _field_blocks(A, fields)
    absA = np.abs(A)
    table = pd.DataFrame({"start": starts, "width": widths}, index=pd.Index(names, name="field"))
    for how in AGGREGATES:
        table[how] = _aggregate(absA, starts, widths, how).mean(axis=0)
    table["rank"] = table["sum"].rank(ascending=False, method="first").astype(int)
    return table.sort_values("rank")


def combine(a, b):
    """The average of two max-normalised attributions:  (a / max|a| + b / max|b|) / 2, row by row.

    Used for occlusion together with gradient x input: two different views of
    the same prediction, each scaled to [-1, 1] before they are averaged.
    a, b (N, D) of the same shape  ->  (N, D); or one row each, (D,) -> (D,).
    """
    a = V.as_real_array(a, "a")
    b = V.as_real_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"b: expected the shape of a, {a.shape}, got {b.shape}")
    if a.ndim not in (1, 2):
        raise ValueError(f"a: expected attributions of shape (N, D) or (D,), got shape {a.shape}")
    row = a.ndim == 1
    a = normalize_max(a[None, :] if row else a, "a")
    b = normalize_max(b[None, :] if row else b, "b")
    a += b
    a /= 2.0
    return a[0] if row else a
