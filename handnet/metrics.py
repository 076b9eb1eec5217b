"""Classification metrics: accuracy and the confusion matrix.

    accuracy = (1/m) sum_i 1[predicted_i == true_i]
    C[t, p]  = number of examples of true class t predicted as class p
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from . import _validate as V
from ._system import check_allocation
from .network import classes_from_output

__all__ = ["accuracy", "confusion_matrix", "accuracy_from_output", "labels_from_targets"]


def labels_from_targets(Y):
    """Class labels (m,) from targets: argmax of one-hot rows (m, K > 1), Y >= 0.5 for (m, 1),
    or the labels themselves for (m,)."""
    Y = np.asarray(Y)
    if Y.ndim == 2:
        return np.argmax(Y, axis=1) if Y.shape[1] > 1 else (Y[:, 0] >= 0.5).astype(np.int64)
    return Y.astype(np.int64)


def accuracy_from_output(out, Y):
    """Fraction of rows whose predicted class (from output activations (m, K)) matches Y (m, K)."""
    return float(np.mean(classes_from_output(out) == labels_from_targets(Y)))


def _as_label_vector(y, name):
    arr = V.as_real_array(y, name)
    if arr.ndim == 2:
        if arr.shape[1] == 0:
            raise ValueError(f"{name}: expected labels (m,) or one-hot rows (m, K) with K >= 1, "
                             f"got shape {arr.shape}")
        arr = labels_from_targets(arr).astype(np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected labels (m,) or one-hot rows (m, K), got shape {arr.shape}")
    return V.as_labels(arr, None, name)


def _as_label_pair(y_true, y_pred):
    """Both label vectors, checked to be non-empty and of equal length."""
    t = _as_label_vector(y_true, "y_true")
    p = _as_label_vector(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_pred: expected {t.shape[0]} labels like y_true, got {p.shape[0]}")
    if t.size == 0:
        raise ValueError("y_true: expected at least one label, got none")
    return t, p


def accuracy(y_true, y_pred):
    """(1/m) sum_i 1[y_pred_i == y_true_i]; labels (m,) or one-hot rows (m, K)."""
    t, p = _as_label_pair(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, labels=None):
    """C[t, p] = #{i : y_true_i = t and y_pred_i = p} as a DataFrame (rows: true, columns: predicted).

    ``labels``: the class names for rows/columns (default 0..K-1, K = largest label + 1).
    Built with one np.bincount over t*K + p, no loop over samples.
    """
    t, p = _as_label_pair(y_true, y_pred)
    K = int(max(t.max(initial=0), p.max(initial=0))) + 1
    check_allocation(8 * K * K, "y_true" if t.max(initial=0) + 1 == K else "y_pred",
                     f"the largest label, {K - 1}, asks for a {K} x {K} confusion matrix (labels are "
                     "class numbers 0..K-1); it")
    if labels is not None:
        if isinstance(labels, (str, bytes)) or not isinstance(labels, Iterable):
            raise TypeError(f"labels: expected a list of class names, got {type(labels).__name__} "
                            f"{labels!r}"[:160])
        labels = list(labels)
        if pd.Index(labels).has_duplicates:
            raise ValueError(f"labels: expected distinct class names, got {labels}"[:200])
        if len(labels) < K:
            raise ValueError(f"labels: expected at least {K} names (the largest label is {K - 1}), "
                             f"got {len(labels)}")
        K = len(labels)
    counts = np.bincount(t * K + p, minlength=K * K).reshape(K, K)
    names = labels if labels is not None else list(range(K))
    return pd.DataFrame(counts, index=pd.Index(names, name="true"), columns=pd.Index(names, name="predicted"))
