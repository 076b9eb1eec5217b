"""The data of lessons.occlusion_and_saliency: the delivery-time controls, split and standardised.

hn.datasets.make_delivery_times generates the orders; here they are split (a quarter held out)
and every column standardised with the training rows, z = (x - mean) / std, as the lesson
explains. Kept here so that the lesson reads as its story.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

import handnet as hn

N_ROWS = 2000            # generated orders per control; a quarter is held out


class ControlData(NamedTuple):
    """One control, split and standardised.

    X_train (n_train, D), X_test (n_test, D): standardised features z = (x - x_mean) / x_std;
    y_train, y_test: minutes; fields [(name, width)]; relevant: the fields y depends on;
    x_mean, x_std (D,): from the training rows.
    """
    control: str
    fields: list
    relevant: tuple
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    x_mean: np.ndarray
    x_std: np.ndarray


def field_layout(fields):
    """Where each field sits: a DataFrame with start, width and the columns j it spans."""
    rows = [(name, sl.start, sl.stop - sl.start,
             f"{sl.start}..{sl.stop - 1}" if sl.stop - sl.start > 1 else f"{sl.start}")
            for name, sl in hn.datasets.field_slices(fields)]
    return pd.DataFrame(rows, columns=["field", "start", "width", "columns"]).set_index("field")


def standardise(X, mean, std):
    """z = (x - mean) / std, column by column.   X (N, D), mean (D,), std (D,) -> (N, D)."""
    return (X - mean) / std


def load_control(control, n=N_ROWS, seed=0):
    """Generate a control, split it (a quarter held out) and standardise X with the training rows."""
    data = hn.datasets.make_delivery_times(n, control=control, seed=seed)
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(
        data.X, data.y, test_size=0.25, seed=seed, stratify=False)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return ControlData(control, data.fields, data.relevant, standardise(X_train, mean, std),
                       standardise(X_test, mean, std), y_train, y_test, mean, std)
