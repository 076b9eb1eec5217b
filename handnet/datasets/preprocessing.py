"""Preparing data for a network: one-hot targets, a stratified train/test split, min-max scaling.

Shapes follow one convention throughout:

* ``X`` is ``(N, D)``: one sample per row, one feature per column.
* ``y`` is ``(N,)``: one integer class label per sample.
* ``Y = one_hot(y)`` is ``(N, K)``: row ``n`` is all zeros except a 1 in
  column ``y[n]``.

Arguments are checked with ``handnet._validate``: a bad one is a
ValueError/TypeError naming it.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _validate as V

__all__ = ["one_hot", "train_test_split", "MinMaxScaler", "minmax_normalise", "minmax_scale"]

# --------------------------------------------------------------------------- #
# Checking arguments
# --------------------------------------------------------------------------- #


def _first_index(mask: np.ndarray) -> int:
    """Position of the first True in a 1-D boolean mask."""
    return int(np.flatnonzero(mask)[0])


def _as_integer_labels(y, name: str = "y") -> np.ndarray:
    """``y`` as a 1-D int64 array, or a ValueError saying what is wrong and where.

    Accepts an integer dtype, or a float dtype whose values are all whole
    numbers (as labels loaded from a ``.mat`` or ``.csv`` file often are).
    """
    y = np.asarray(y)
    if y.ndim != 1:
        hint = " (for a column vector use y.ravel())" if y.ndim == 2 and y.shape[1] == 1 else ""
        raise ValueError(f"{name}: expected a 1-D array of class labels, got shape {y.shape}{hint}")

    if y.dtype.kind in "iu":
        return y.astype(np.int64, copy=False)
    if y.dtype.kind != "f":
        raise ValueError(f"{name}: expected integer class labels, got an array of dtype {y.dtype}")

    not_whole = ~np.isfinite(y) | (y != np.round(y))
    if not_whole.any():
        i = _first_index(not_whole)
        raise ValueError(f"{name}: expected integer class labels, got {y[i].item()!r} at index {i}")
    too_big = np.abs(y) > np.iinfo(np.int64).max // 2
    if too_big.any():
        i = _first_index(too_big)
        raise ValueError(f"{name}: expected integer class labels of a sensible size, got {y[i].item()!r} at index {i}")
    return y.astype(np.int64)


# --------------------------------------------------------------------------- #
# One-hot targets
# --------------------------------------------------------------------------- #


def one_hot(y, num_classes: int | None = None, base: int = 0) -> np.ndarray:
    """One-hot encode integer class labels.

    With ``k = y - base``, row ``n`` of the result is the unit vector
    ``e_{k[n]}``: ``Y[n, j] = 1 if j == k[n] else 0``.

    Parameters
    ----------
    y : array-like of int, shape (N,)
        Class labels ``base .. base + num_classes - 1``. An integer dtype, or
        floats with whole-number values (e.g. ``3.0``).
    num_classes : int, optional
        ``K``, the number of columns. Default: ``max(y) + 1 - base``.
    base : int
        The label of column 0. Use ``base=0`` for labels ``0..K-1`` (the
        shipped digits). Use ``base=1`` for 1-based labels such as Andrew
        Ng's ex4 course data, whose labels are ``1..10`` with ``10`` standing
        for the digit 0: column ``j`` then stands for label ``j + 1``, so
        column 9 is label 10, and the digit shown is ``label % 10``.

    Returns
    -------
    Y : ndarray of float64, shape (N, K)
        ``Y.argmax(axis=1) + base == y``.

    Raises
    ------
    ValueError
        If ``y`` is not 1-D, holds a non-integer value (``2.5``, ``nan``), or
        a label below ``base`` or at least ``base + num_classes``. The message
        names the first bad value and its index.

    Examples
    --------
    >>> one_hot([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    >>> one_hot([10, 1], base=1)[:, [0, 9]]  # ex4: label 10 (digit 0) -> column 9
    array([[0., 1.],
           [1., 0.]])
    """
    y = _as_integer_labels(y, "y")
    base = V.as_int(base, "base")
    if num_classes is not None:
        num_classes = V.as_int(num_classes, "num_classes", minimum=1)
    k = y - base  # column index of each sample, (N,)

    below = k < 0
    if below.any():
        i = _first_index(below)
        expected = f"in {base}..{base + num_classes - 1}" if num_classes is not None else f">= {base} (base={base})"
        raise ValueError(f"y: expected integer class labels {expected}, got {y[i]} at index {i}")

    if num_classes is None:
        if len(k) == 0:
            raise ValueError("y: got no labels, so the number of classes is unknown; pass num_classes")
        num_classes = int(k.max()) + 1

    above = k >= num_classes
    if above.any():
        i = _first_index(above)
        raise ValueError(
            f"y: expected integer class labels in {base}..{base + num_classes - 1} "
            f"(num_classes={num_classes}, base={base}), got {y[i]} at index {i}"
        )

    return V.one_hot_matrix(k, num_classes)


# --------------------------------------------------------------------------- #
# Train / test split
# --------------------------------------------------------------------------- #


def _n_test(test_size, n: int) -> int:
    """Number of test samples out of ``n`` for a fraction or a count."""
    if isinstance(test_size, (bool, np.bool_)) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size: expected a float in (0, 1) or an int count, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"test_size: expected a count in 1..{n - 1} for {n} samples, got {n_test}")
        return n_test
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size: expected a fraction in (0, 1), got {test_size!r}")
    n_test = int(np.floor(test_size * n + 0.5))  # round half up
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"test_size: {test_size!r} of {n} samples gives {n_test} test samples; expected 1..{n - 1}"
        )
    return n_test


def _is_class_labels(y: np.ndarray) -> bool:
    """True if ``y`` is 1-D and every value is a whole number (integer labels)."""
    if y.ndim != 1:
        return False
    if y.dtype.kind in "iub":
        return True
    if y.dtype.kind == "f":
        return bool(np.all(np.isfinite(y) & (y == np.round(y))))
    return False


def _test_counts_per_class(class_sizes: np.ndarray, n_test: int) -> np.ndarray:
    """Split ``n_test`` over classes in proportion to their sizes.

    Class ``c`` deserves ``q_c = n_c * n_test / N`` test samples. Each class
    gets ``floor(q_c)`` or ``ceil(q_c)`` (rounding per class), and the ones
    with the largest fractional parts are rounded up, so the counts add up to
    exactly ``n_test`` (largest-remainder apportionment).
    """
    share = class_sizes * n_test / class_sizes.sum()  # q_c, (K,)
    counts = np.floor(share).astype(np.int64)
    short = n_test - int(counts.sum())  # 0 <= short < K
    round_up = np.argsort(-(share - counts), kind="stable")[:short]
    counts[round_up] += 1
    return counts


def train_test_split(X, y, test_size=0.2, seed=0, stratify: bool = True):
    """Split ``(X, y)`` into a shuffled training part and a test part.

    Each sample draws a random key ``u_n ~ U(0, 1)`` from
    ``np.random.default_rng(seed)``. Without stratification the ``n_test``
    samples with the smallest keys form the test set. With stratification,
    class ``c`` (``n_c`` samples) sends its ``t_c`` smallest-key samples to
    the test set, where ``t_c`` is ``n_c * n_test / N`` rounded up or down
    and the ``t_c`` add up to ``n_test``; so every class keeps its
    proportion to within one sample. Both parts come back in random order.

    Parameters
    ----------
    X : array-like, shape (N, D)
    y : array-like, shape (N,) or (N, K)
        Targets, one row per sample.
    test_size : float in (0, 1) or int
        Fraction of the samples (rounded to the nearest count) or the exact
        number of samples in the test set. Both parts must be non-empty.
    seed : int >= 0, None or numpy Generator
        Seed for ``np.random.default_rng``; the same seed gives the same split.
    stratify : bool
        Stratify by class. Applies when ``y`` holds integer class labels
        (1-D, whole numbers); for other targets (continuous values, 2-D
        one-hot rows) the split is a plain shuffle.

    Returns
    -------
    X_train : ndarray, shape (N - n_test, D)
    X_test : ndarray, shape (n_test, D)
    y_train : ndarray, shape (N - n_test,) or (N - n_test, K)
    y_test : ndarray, shape (n_test,) or (n_test, K)
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (n_samples, n_features), got shape {X.shape}")
    V.as_real_array(X, "X", limit=None)      # numbers, all finite (X itself keeps its dtype)
    if y.ndim not in (1, 2):
        raise ValueError(f"y: expected a 1-D array of labels (or 2-D targets), got shape {y.shape}")
    if y.dtype.kind in "fc":
        V.as_real_array(y, "y", limit=None)  # a NaN target is refused, not split
    seed = V.as_seed(seed, "seed")
    if len(X) != len(y):
        raise ValueError(f"y: expected one target per row of X ({len(X)}), got {len(y)}")
    if not isinstance(stratify, (bool, np.bool_)):
        raise TypeError(f"stratify: expected True or False, got {stratify!r}")
    n = len(X)
    if n < 2:
        raise ValueError(f"X: expected at least 2 samples to split, got {n}")
    n_test = _n_test(test_size, n)

    rng = np.random.default_rng(seed)
    key = rng.random(n)  # u_n, (N,)

    if stratify and _is_class_labels(y):
        _, cls, class_sizes = np.unique(y, return_inverse=True, return_counts=True)
        t = _test_counts_per_class(class_sizes, n_test)  # t_c, (K,)
        order = np.lexsort((key, cls))  # by class, then by key within class
        first = np.cumsum(class_sizes) - class_sizes  # where each class starts in `order`
        rank = np.arange(n) - first[cls[order]]  # 0, 1, 2, ... within each class
        is_test = rank < t[cls[order]]
        test_idx, train_idx = order[is_test], order[~is_test]
        # shuffle each part (sorting by the random key is a random permutation)
        test_idx = test_idx[np.argsort(key[test_idx], kind="stable")]
        train_idx = train_idx[np.argsort(key[train_idx], kind="stable")]
    else:
        order = np.argsort(key, kind="stable")  # a random permutation of 0..N-1
        test_idx, train_idx = order[:n_test], order[n_test:]

    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


# --------------------------------------------------------------------------- #
# Min-max scaling
# --------------------------------------------------------------------------- #


def _as_matrix(X) -> np.ndarray:
    """``X`` as a finite float64 ``(N, D)`` matrix, or an error naming ``X``. Any magnitude: scaling is
    what brings data near the float64 limit back into range (minmax_scale does it without overflow)."""
    X = V.as_real_array(X, "X", limit=None)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (n_samples, n_features), got shape {X.shape}")
    return X


def minmax_scale(X: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``Z[n, j] = (X[n, j] - lo_j) / (hi_j - lo_j)``, 0 where ``hi_j == lo_j``.  (N, D) -> (N, D).

    A column whose range ``hi_j - lo_j`` exceeds the largest float64 (data
    near ±1e308) is computed as ``(X/2 - lo/2) / (hi/2 - lo/2)``: the same
    quotient, without overflow (halving a float64 is exact above 2**-1021).
    A result that still does not fit in float64 (new data far outside a tiny
    fitted range) is refused, naming ``X``.
    """
    with np.errstate(over="ignore"):
        halve = ~np.isfinite(hi - lo)                 # (D,) columns whose range overflows
    c = np.where(halve, 0.5, 1.0)                     # (D,)
    span = hi * c - lo * c                            # (D,), finite
    with np.errstate(over="ignore", invalid="ignore"):
        Z = np.divide(X * c - lo * c, span, out=np.zeros_like(X), where=span > 0)
    if not np.all(np.isfinite(Z)):
        row, col = np.argwhere(~np.isfinite(Z))[0]
        raise ValueError(f"X: the value {X[row, col]:g} at row {row}, column {col} scales to "
                         f"{Z[row, col]} with the fitted range [{lo[col]:g}, {hi[col]:g}]; "
                         f"expected values whose scaled result fits in float64")
    return Z


class MinMaxScaler:
    """Rescale each feature to ``[0, 1]`` using the training data's range.

    ``fit`` learns, per column ``j``, ``min_j`` and ``max_j``; ``transform``
    then maps ``x_j -> (x_j - min_j) / (max_j - min_j)``. A constant column
    (``max_j == min_j``) maps to 0 rather than dividing by zero. New data
    outside the fitted range lands outside ``[0, 1]``; that is expected.

    Attributes
    ----------
    min_ : ndarray of float64, shape (D,)
    max_ : ndarray of float64, shape (D,)
    """

    def __init__(self) -> None:
        self.min_: np.ndarray | None = None
        self.max_: np.ndarray | None = None

    def fit(self, X) -> "MinMaxScaler":
        """Learn the per-column minimum and maximum of ``X`` ``(N, D)``, N >= 1."""
        X = _as_matrix(X)
        if len(X) == 0:
            raise ValueError("X: expected at least one row to fit on, got 0 rows")
        self.min_ = X.min(axis=0)
        self.max_ = X.max(axis=0)
        return self

    def transform(self, X) -> np.ndarray:
        """Return ``(X - min_) / (max_ - min_)`` ``(N, D)``, with 0 in constant columns."""
        if self.min_ is None or self.max_ is None:
            raise RuntimeError("MinMaxScaler: call fit(X) before transform(X)")
        X = _as_matrix(X)
        if X.shape[1] != len(self.min_):
            raise ValueError(f"X: expected {len(self.min_)} columns (as in fit), got {X.shape[1]}")
        return minmax_scale(X, self.min_, self.max_)

    def fit_transform(self, X) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``: every column of the result spans ``[0, 1]`` (or is 0)."""
        return self.fit(X).transform(X)


def minmax_normalise(X) -> np.ndarray:
    """Scale each column of ``X`` ``(N, D)`` to ``[0, 1]``: ``MinMaxScaler().fit_transform(X)``."""
    return MinMaxScaler().fit_transform(X)
