"""Data for handnet: the shipped 8x8 digits, one-hot targets, splits and scaling.

Everything here is plain NumPy. Shapes follow one convention throughout:

* ``X`` is ``(N, D)``: one sample per row, one feature per column.
* ``y`` is ``(N,)``: one integer class label per sample.
* ``Y = one_hot(y)`` is ``(N, K)``: row ``n`` is all zeros except a 1 in
  column ``y[n]``.

The digits data (1797 images of 8x8 pixels, labels 0..9) is the UCI
"Optical Recognition of Handwritten Digits" test set; ``datasets/README.md``
in the repository gives its provenance, licence (CC BY 4.0) and layout.

Two more data sets are generated on the spot from a seed, so their answers
are known exactly: ``make_delivery_times`` (a table of named fields whose
target depends on chosen fields only) and ``make_sine`` (``sin`` on a grid,
for the derivative lessons).
"""

from __future__ import annotations

import gzip
import numbers
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import _validate as V

__all__ = [
    "DIGITS_SHA256",
    "DIGITS_SHAPE",
    "load_digits",
    "MNIST_SHA256",
    "MNIST_SIZES",
    "load_mnist",
    "area_resampling_matrix",
    "resample_images",
    "one_hot",
    "train_test_split",
    "MinMaxScaler",
    "minmax_normalise",
    "FieldData",
    "field_slices",
    "make_delivery_times",
    "DELIVERY_FIELDS",
    "make_sine",
]

#: sha256 of the shipped ``digits.csv.gz`` (checked by the tests, not on every load).
DIGITS_SHA256 = "ad8bdbd5ae0e92f68033108f331b6fae4be0990d250e01d6b959a6bb81e7832c"

#: ``(N, D)`` of the digits design matrix: 1797 images of 8 x 8 = 64 pixels.
DIGITS_SHAPE = (1797, 64)

_DIGITS_FILE = "digits.csv.gz"
_PIXEL_MAX = 16  # each pixel counts the "on" bits in a 4x4 block: 0..16


# --------------------------------------------------------------------------- #
# Loading the digits
# --------------------------------------------------------------------------- #


def _data_dir():
    """The folder of shipped data files, as an ``importlib.resources`` Traversable.

    Installed (``pip install .`` or ``pip install -e .``), the top-level
    ``datasets/`` folder is the package ``handnet._data``. Run straight from
    a source checkout without installing, that package does not exist, so we
    fall back to ``<repo>/datasets/`` next to the ``handnet/`` folder.
    """
    try:
        return resources.files("handnet._data")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "datasets"


def _digits_file():
    """The shipped ``digits.csv.gz`` (supports ``.open("rb")`` and ``.read_bytes()``)."""
    return _data_dir() / _DIGITS_FILE


def load_digits(return_counts: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Load the 8x8 handwritten digits.

    Each image is 8 x 8 pixels flattened row-major, so pixel ``(r, c)`` is
    column ``8*r + c`` of ``X`` and ``X[n].reshape(8, 8)`` is image ``n``.

    Parameters
    ----------
    return_counts : bool
        If False (default), pixels are scaled to ``[0, 1]`` by dividing the
        raw counts by 16. If True, ``X`` holds the raw counts ``0..16``.

    Returns
    -------
    X : ndarray of float64, shape (1797, 64)
        ``x = count / 16`` in ``[0, 1]``, or the raw ``count`` in ``0..16``.
    y : ndarray of int64, shape (1797,)
        The digit shown, ``0..9``.
    """
    with _digits_file().open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as text:
        table = np.loadtxt(text, delimiter=",", skiprows=1, dtype=np.int64)  # (1797, 65)

    n_samples, n_pixels = DIGITS_SHAPE
    if table.shape != (n_samples, n_pixels + 1):
        raise RuntimeError(
            f"{_DIGITS_FILE}: expected {n_samples} rows of {n_pixels} pixels + label, "
            f"got shape {table.shape}; the shipped file is damaged"
        )

    counts = table[:, :n_pixels].astype(np.float64)  # (N, 64), 0..16
    y = table[:, n_pixels]  # (N,), 0..9
    X = counts if return_counts else counts / _PIXEL_MAX
    return X, y


# --------------------------------------------------------------------------- #
# Loading the MNIST subset (28x28, or area-resampled to the course's 20x20)
# --------------------------------------------------------------------------- #

#: sha256 of the shipped ``mnist_5k.npz`` (checked by the tests, not on every load).
MNIST_SHA256 = "866eaa8832a2cb575a3eb5d2697d1a8d4794b4c8cd04dfeddb7ee3e9f40bb854"

#: The image sides ``load_mnist`` offers: MNIST's own 28 and the course's (ex4) 20.
MNIST_SIZES = (28, 20)

_MNIST_FILE = "mnist_5k.npz"
_MNIST_SIDE = 28
_BYTE_MAX = 255


def area_resampling_matrix(n_out: int, n_in: int) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix R that resamples a line of pixels by area averaging.

    Lay the ``n_in`` input pixels on ``[0, n_out)`` so that input pixel ``j``
    covers ``[j s, (j + 1) s)`` with ``s = n_out / n_in``, and output pixel
    ``i`` covers ``[i, i + 1)``. Then

        R[i, j] = |[i, i + 1) ∩ [j s, (j + 1) s)|          (overlap length)
                = max(0, min(i + 1, (j + 1) s) - max(i, j s))

    so each row sums to 1 (the output pixel is the area-weighted mean of the
    input pixels under it) and a constant line stays constant. For 28 -> 20,
    ``s = 20/28``: every output pixel averages 1.4 input pixels.
    """
    n_out = V.as_positive_int(n_out, "n_out")
    n_in = V.as_positive_int(n_in, "n_in")
    s = n_out / n_in
    i = np.arange(n_out)[:, None]                      # (n_out, 1)
    j = np.arange(n_in)[None, :]                       # (1, n_in)
    return np.clip(np.minimum(i + 1, (j + 1) * s) - np.maximum(i, j * s), 0.0, None)


def resample_images(images: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Every image ``I_n`` (N, h, h) turned into ``R I_n Rᵀ`` (N, r, r), all images in one product.

    ``R`` is ``(r, h)``: ``R I_n`` averages the rows of each image, ``(R I_n) Rᵀ``
    then its columns. Row-major pixels: ``I[n, a, b]`` is row ``a`` (top
    first), column ``b``. ``matmul`` broadcasts R over the N images.
    """
    return R @ images @ R.T


def load_mnist(size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Load 5,000 real MNIST digits (500 per digit), at 28x28 or the course's 20x20.

    Parameters
    ----------
    size : {28, 20}
        28: MNIST's own images, ``X = pixel / 255``.
        20: the same images resampled by area averaging,
        ``X_n = R (I_n / 255) Rᵀ`` with ``R = area_resampling_matrix(20, 28)``
        (rows sum to 1, so the values stay in [0, 1]).

    Returns
    -------
    X : ndarray of float64, shape (5000, size * size)
        Images flattened row-major: ``X[n].reshape(size, size)`` is image n,
        row 0 at the top. (The course's ex4 data is column-major; for such data
        use the plots' ``transpose=True``.)
    y : ndarray of int64, shape (5000,)
        The digit, 0..9; rows are ordered by digit, 500 each.
    """
    if not V.is_integer(size) or int(size) not in MNIST_SIZES:
        raise ValueError(f"size: expected one of {MNIST_SIZES} (the image side in pixels), got {size!r}")
    with (_data_dir() / _MNIST_FILE).open("rb") as f, np.load(f, allow_pickle=False) as data:
        pixels, labels = data["pixels"], data["labels"]            # (5000, 784) uint8, (5000,) uint8
    X = pixels.astype(np.float64) / _BYTE_MAX                      # (N, 784) in [0, 1]
    y = labels.astype(np.int64)
    if size != _MNIST_SIDE:
        images = X.reshape(-1, _MNIST_SIDE, _MNIST_SIDE)
        R = area_resampling_matrix(int(size), _MNIST_SIDE)         # (20, 28)
        X = resample_images(images, R).reshape(len(X), -1)        # (N, 400)
    return X, y


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


def _check_int(value, name: str, minimum: int | None = None) -> int:
    """``value`` as a Python int (bools refused), optionally at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return value


def _as_2d_float(X, name: str = "X") -> np.ndarray:
    """``X`` as a 2-D float64 array ``(N, D)`` of finite numbers, or an error naming ``name``."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a 2-D array of numbers, got something not convertible to float ({err})") from None
    if X.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (n_samples, n_features), got shape {X.shape}")
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"{name}: expected finite numbers, got {X[row, col].item()!r} at row {row}, column {col}")
    return X


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
    base = _check_int(base, "base")
    if num_classes is not None:
        num_classes = _check_int(num_classes, "num_classes", minimum=1)
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

    Y = np.zeros((len(k), num_classes), dtype=np.float64)
    Y[np.arange(len(k)), k] = 1.0
    return Y


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
    seed : int or None
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
    if y.ndim not in (1, 2):
        raise ValueError(f"y: expected a 1-D array of labels (or 2-D targets), got shape {y.shape}")
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
        X = _as_2d_float(X, "X")
        if len(X) == 0:
            raise ValueError("X: expected at least one row to fit on, got 0 rows")
        self.min_ = X.min(axis=0)
        self.max_ = X.max(axis=0)
        return self

    def transform(self, X) -> np.ndarray:
        """Return ``(X - min_) / (max_ - min_)`` ``(N, D)``, with 0 in constant columns."""
        if self.min_ is None or self.max_ is None:
            raise RuntimeError("MinMaxScaler: call fit(X) before transform(X)")
        X = _as_2d_float(X, "X")
        if X.shape[1] != len(self.min_):
            raise ValueError(f"X: expected {len(self.min_)} columns (as in fit), got {X.shape[1]}")
        span = self.max_ - self.min_  # (D,)
        return np.divide(
            X - self.min_, span, out=np.zeros_like(X), where=span > 0
        )  # constant columns keep the 0 from `out`

    def fit_transform(self, X) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``: every column of the result spans ``[0, 1]`` (or is 0)."""
        return self.fit(X).transform(X)


def minmax_normalise(X) -> np.ndarray:
    """Scale each column of ``X`` ``(N, D)`` to ``[0, 1]``: ``MinMaxScaler().fit_transform(X)``."""
    return MinMaxScaler().fit_transform(X)


# --------------------------------------------------------------------------- #
# Generated data with known answers
# --------------------------------------------------------------------------- #


class FieldData(NamedTuple):
    """A generated table of named fields, together with the answer it was built from.

    Attributes
    ----------
    X : ndarray of float64, shape (N, D)
        The design matrix; every column is in ``[0, 1]``.
    y : ndarray of float64, shape (N,)
        The target, one value per row of ``X``.
    fields : list of (str, int)
        ``(name, width)`` of each field in column order: field ``k`` covers
        the ``width_k`` columns that follow field ``k - 1``, and the widths
        add up to ``D``. ``field_slices(fields)`` turns them into slices.
    relevant : tuple of str
        The names of the fields ``y`` truly depends on (in column order);
        ``y`` does not depend on any other column of ``X`` at all.
    description : str
        One paragraph saying how ``X`` and ``y`` were generated.
    """

    X: np.ndarray
    y: np.ndarray
    fields: list
    relevant: tuple
    description: str


def field_slices(fields) -> list[tuple[str, slice]]:
    """Where each named field sits in the columns of ``X``.

    Fields are laid side by side: with widths ``w_0, w_1, ...`` field ``k``
    is the columns ``s_k <= j < s_k + w_k`` where ``s_k = w_0 + ... + w_{k-1}``,
    so ``X[:, sl]`` is that field's ``(N, w_k)`` block and the last slice
    stops at ``D = sum_k w_k``.

    Parameters
    ----------
    fields : sequence of (name, width)
        At least one pair. Names must be non-empty, distinct strings; widths
        positive integers.

    Returns
    -------
    list of (str, slice)
        ``[(name_k, slice(s_k, s_k + w_k)), ...]`` in the order given.

    Examples
    --------
    >>> field_slices([("Hour", 2), ("Distance", 1)])
    [('Hour', slice(0, 2, None)), ('Distance', slice(2, 3, None))]
    """
    if isinstance(fields, (str, bytes, dict)) or not isinstance(fields, (list, tuple)):
        raise TypeError(f"fields: expected a list of (name, width) pairs, got {V._describe(fields)}")
    if len(fields) == 0:
        raise ValueError("fields: expected at least one (name, width) pair, got an empty list")
    out = []
    first_seen = {}
    start = 0
    for k, pair in enumerate(fields):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"fields[{k}]: expected a (name, width) pair, got {V._describe(pair)}")
        name, width = pair
        if not isinstance(name, str):
            raise TypeError(f"fields[{k}]: expected the name to be a str, got {V._describe(name)}")
        if not name.strip():
            raise ValueError(f"fields[{k}]: expected a non-empty name, got {name!r}")
        if name in first_seen:
            raise ValueError(f"fields[{k}]: expected distinct names, got {name!r} again "
                             f"(first at fields[{first_seen[name]}])")
        first_seen[name] = k
        width = V.as_positive_int(width, f"fields[{k}] width ({name!r})")
        out.append((name, slice(start, start + width)))
        start += width
    return out


#: The fields of ``make_delivery_times`` in column order, as ``(name, width)``: 11 fields, D = 16.
#: How each raw value is drawn and scaled is in ``make_delivery_times.__doc__``.
DELIVERY_FIELDS = (
    ("Store Number", 4),        # store id 0..15 in binary
    ("Market", 1),              # 1..6
    ("Order Protocol", 1),      # how the order came in, 1..7
    ("Hour", 2),                # time of day on a circle: sin, cos
    ("Weekday", 2),             # day of the week on a circle: sin, cos
    ("Total Items", 1),         # 1..20
    ("Subtotal", 1),            # dollars
    ("Distance", 1),            # km
    ("Busy Dashers", 1),        # couriers out on a delivery
    ("Idle Dashers", 1),        # couriers waiting for an order
    ("Outstanding Orders", 1),  # orders not yet picked up
)

_DELIVERY_RELEVANT = {
    "positive": ("Distance",),
    "nonlinear": ("Hour", "Total Items", "Busy Dashers", "Idle Dashers"),
}
_RUSH_HOUR = 18.5  # the centre of the dinner rush, in hours (18:30)


def _delivery_columns(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw the raw order data independently per field and scale it: ``(n, 16)`` in ``[0, 1]``."""
    store = rng.integers(0, 16, n)                         # store id 0..15
    market = rng.integers(1, 7, n)                         # 1..6
    protocol = rng.integers(1, 8, n)                       # 1..7
    hour = 2 * np.pi * rng.uniform(0.0, 24.0, n) / 24      # time of day as an angle
    weekday = 2 * np.pi * rng.integers(0, 7, n) / 7        # day of the week as an angle
    items = rng.integers(1, 21, n)                         # 1..20
    subtotal = rng.uniform(5.0, 105.0, n)                  # dollars
    km = rng.uniform(0.0, 10.0, n)
    busy = rng.integers(0, 41, n)                          # 0..40
    idle = rng.integers(0, 41, n)                          # 0..40
    outstanding = rng.integers(0, 61, n)                   # 0..60

    bits = (store[:, None] >> np.array([3, 2, 1, 0])) & 1  # (n, 4), most significant bit first
    return np.column_stack([
        bits.astype(np.float64),
        (market - 1) / 5,
        (protocol - 1) / 6,
        (1 + np.sin(hour)) / 2, (1 + np.cos(hour)) / 2,
        (1 + np.sin(weekday)) / 2, (1 + np.cos(weekday)) / 2,
        (items - 1) / 19,
        (subtotal - 5) / 100,
        km / 10,
        busy / 40,
        idle / 40,
        outstanding / 60,
    ])


def _delivery_minutes(X: np.ndarray, control: str) -> np.ndarray:
    """The noise-free delivery time in minutes, ``(N,)``, read off the scaled columns of ``X`` ``(N, 16)``.

    positive:   10 + 40 x_dist                                 (= 10 + 4 min per km)
    nonlinear:  15 + 20 x_busy / (x_idle + 0.5)                (= 20 B / (I + 20))
                   + 15 exp(4 (cos(t - t_rush) - 1))           (dinner rush, t_rush = 2 pi 18.5 / 24)
                   + 15 (1 - exp(-3 x_items))                  (more items, longer, but it saturates)
    with sin t = 2 x_hour_sin - 1 and cos t = 2 x_hour_cos - 1. Only the
    columns of the control's relevant fields are read.
    """
    col = dict(field_slices(DELIVERY_FIELDS))
    if control == "positive":
        return 10.0 + 40.0 * X[:, col["Distance"]][:, 0]
    busy = X[:, col["Busy Dashers"]][:, 0]
    idle = X[:, col["Idle Dashers"]][:, 0]
    items = X[:, col["Total Items"]][:, 0]
    sin_t = 2 * X[:, col["Hour"]][:, 0] - 1
    cos_t = 2 * X[:, col["Hour"]][:, 1] - 1
    rush = 2 * np.pi * _RUSH_HOUR / 24
    cos_to_rush = cos_t * np.cos(rush) + sin_t * np.sin(rush)  # cos(t - t_rush)
    return (15.0
            + 20.0 * busy / (idle + 0.5)
            + 15.0 * np.exp(4.0 * (cos_to_rush - 1.0))
            + 15.0 * (1.0 - np.exp(-3.0 * items)))


def _delivery_description(control: str, n: int, noise: float) -> str:
    layout = ", ".join(f"{name} ({width})" for name, width in DELIVERY_FIELDS)
    if control == "positive":
        answer = ("the delivery time depends on Distance alone: y = 10 + 4 * km + noise * e "
                  "minutes, with km in [0, 10)")
    else:
        answer = ("the delivery time depends on four fields, nonlinearly: y = 15 + 20 * B / (I + 20) "
                  "+ 15 * exp(4 * (cos(2 pi (h - 18.5) / 24) - 1)) + 15 * (1 - exp(-3 * (k - 1) / 19)) "
                  "+ noise * e minutes, where B and I are the busy and idle dashers, h the hour of the "
                  "order and k the total items")
    return (f"Synthetic food-delivery orders (control={control!r}, {n} rows, noise={noise:g} minutes), "
            f"generated by handnet.datasets.make_delivery_times, not collected from anyone. Each field "
            f"is drawn independently and uniformly over its range and scaled into [0, 1] by a fixed "
            f"rule; the fields and their widths are: {layout}. Here {answer}, and e ~ N(0, 1). Every "
            f"other field is pure noise that y does not depend on.")


def make_delivery_times(n=2000, control="positive", seed=0, noise=2.0) -> FieldData:
    """A generated delivery-time table whose answer is known: which fields the target depends on.

    Each row is a made-up food-delivery order described by 11 named fields
    (``DELIVERY_FIELDS``) that fill ``D = 16`` columns; three fields span
    several columns (a 4-bit store number, and the hour and weekday as a
    point on a circle). Every field is drawn independently, uniformly over
    its range, with ``np.random.default_rng(seed)``, and scaled into
    ``[0, 1]`` by a fixed rule that does not look at the data:

    ::

        field               width  raw value, drawn uniformly    column(s) of X
        Store Number          4    store s in 0..15             the 4 bits of s, most significant first
        Market                1    m in 1..6                    (m - 1) / 5
        Order Protocol        1    p in 1..7                    (p - 1) / 6
        Hour                  2    h in [0, 24) hours           (1 + sin t) / 2, (1 + cos t) / 2;  t = 2 pi h / 24
        Weekday               2    d in 0..6 (Monday = 0)       (1 + sin u) / 2, (1 + cos u) / 2;  u = 2 pi d / 7
        Total Items           1    k in 1..20                   (k - 1) / 19
        Subtotal              1    v in [5, 105) dollars        (v - 5) / 100
        Distance              1    km in [0, 10)                km / 10
        Busy Dashers          1    B in 0..40 (delivering)      B / 40
        Idle Dashers          1    I in 0..40 (waiting)         I / 40
        Outstanding Orders    1    O in 0..60                   O / 60

    The target is the delivery time in minutes, with ``e ~ N(0, 1)`` per row:

    * ``control="positive"``: ``y = 10 + 4 km + noise * e``. Only Distance
      matters, so a sound attribution method must rank it first; the ten other
      fields are independent noise.
    * ``control="nonlinear"``: four fields matter, none of them linearly::

          y = 15 + 20 B / (I + 20)                          busy vs idle dashers
                 + 15 exp(4 (cos(2 pi (h - 18.5) / 24) - 1))  a dinner-rush bump at 18:30
                 + 15 (1 - exp(-3 (k - 1) / 19))             items, saturating
                 + noise * e

      The other seven fields are independent noise.

    ``y`` is not clipped. The same ``seed`` gives the same ``X`` for both
    controls (the noise ``e`` is drawn after ``X``), so the two targets
    can be compared on identical orders.

    Parameters
    ----------
    n : int >= 1
        ``N``, the number of rows.
    control : {"positive", "nonlinear"}
        Which target to build (see above).
    seed : int >= 0, None or numpy Generator
        Seed of ``np.random.default_rng``; the same seed gives the same data.
    noise : float >= 0
        Standard deviation of the Gaussian noise added to ``y``, in minutes.
        At the default 2.0 a network can still explain over 90% of the
        variance of ``y`` on held-out rows (``noise=0`` gives the exact formula).

    Returns
    -------
    FieldData
        ``X`` ``(N, 16)`` float64 in ``[0, 1]``; ``y`` ``(N,)`` float64
        minutes; ``fields`` (a fresh list of ``DELIVERY_FIELDS``);
        ``relevant`` (``("Distance",)`` or ``("Hour", "Total Items",
        "Busy Dashers", "Idle Dashers")``); ``description``.

    Training it
    -----------
    A network with one hidden layer of 16 tanh units learns either control
    to R^2 > 0.9 on held-out rows (seed 0: 0.96 for "positive", 0.95 for
    "nonlinear"; the noise alone caps it near 0.97 and 0.96) in 1000
    full-batch epochs, about a second each on this project's 2-core
    machine. ``tests/test_synthetic_data.py`` runs exactly this::

        import handnet as hn
        data = hn.datasets.make_delivery_times(2000, control="nonlinear", seed=0)
        X_train, X_test, y_train, y_test = hn.datasets.train_test_split(
            data.X, data.y, test_size=0.25, seed=0, stratify=False)
        mean, std = y_train.mean(), y_train.std()           # standardise y with the training rows
        net = hn.MLP([16, 16, 1], hidden="tanh", output="identity", seed=0)
        hn.train(net, X_train, (y_train - mean) / std, epochs=1000, lr=0.2, momentum=0.9,
                 progress=False)
        pred = mean + std * net.forward(X_test)[-1][:, 0]    # back to minutes, (500,)
        r2 = 1 - ((y_test - pred) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum()

    ``X`` needs no scaling (it is already in ``[0, 1]``). Standardising
    ``y`` matters: fed in hours (``y / 60``) instead, the same recipe
    reaches only R^2 = 0.81 on the nonlinear control. lr = 0.5 diverges.
    """
    n = V.as_positive_int(n, "n")
    if not isinstance(control, str):
        raise TypeError(f"control: expected 'positive' or 'nonlinear', got {V._describe(control)}")
    if control not in _DELIVERY_RELEVANT:
        raise ValueError(f"control: expected 'positive' or 'nonlinear', got {control!r}")
    seed = V.as_seed(seed, "seed")
    noise = V.as_nonnegative(noise, "noise")

    rng = np.random.default_rng(seed)
    X = _delivery_columns(rng, n)                       # (N, 16), every column in [0, 1]
    e = rng.standard_normal(n)                          # (N,)
    y = _delivery_minutes(X, control) + noise * e       # (N,) minutes
    return FieldData(X=X, y=y, fields=list(DELIVERY_FIELDS), relevant=_DELIVERY_RELEVANT[control],
                     description=_delivery_description(control, n, noise))


def make_sine(n=200, low=-2 * np.pi, high=2 * np.pi, noise=0.0, seed=0):
    """``sin`` sampled on an even grid: the data of the derivative lessons.

    ``x_i = low + i (high - low) / (n - 1)`` for ``i = 0 .. n-1`` (``np.linspace``),
    and ``y_i = sin(x_i) + noise * e_i`` with ``e_i ~ N(0, 1)`` drawn from
    ``np.random.default_rng(seed)``. A network ``f`` fitted to it can be
    compared, point by point, with the known answers ``f ~ sin``,
    ``f' ~ cos`` and ``f'' ~ -sin``.

    Parameters
    ----------
    n : int >= 2
        Number of grid points, both ends included.
    low, high : float, low < high
        The ends of the grid (default two full periods, ``[-2 pi, 2 pi]``).
    noise : float >= 0
        Standard deviation of the Gaussian noise on ``y``; 0 (default) gives
        ``y = sin(X)`` exactly.
    seed : int >= 0, None or numpy Generator
        Seed of the noise; the same seed gives the same ``y``.

    Returns
    -------
    X : ndarray of float64, shape (n, 1)
        The grid, increasing.
    y : ndarray of float64, shape (n, 1)
        ``sin(X) + noise * e``.

    Training it
    -----------
    Feed the network ``u = x / (2 pi)``, which maps the default grid onto
    ``[-1, 1]`` (on raw ``x`` the same recipe stays at an error of 0.8).
    The fitted function is then ``f(x) = g(x / (2 pi))`` with ``g`` the
    network, so by the chain rule ``f'(x) = g'(u) / (2 pi)`` and
    ``f''(x) = g''(u) / (2 pi)^2``. This recipe
    reaches ``max |f - sin| < 0.05`` on the default grid (0.008 with seed 0,
    at most 0.031 over seeds 0..5) in 8000 full-batch epochs, which took
    1 to 4 seconds on this project's busy 2-core machine.
    ``tests/test_synthetic_data.py`` runs exactly this::

        import numpy as np
        import handnet as hn
        X, y = hn.datasets.make_sine()                        # (200, 1), (200, 1)
        net = hn.MLP([1, 32, 1], hidden="tanh", output="identity", seed=0)
        hn.train(net, X / (2 * np.pi), y, epochs=8000, lr=0.1, momentum=0.95, progress=False)
        f = net.forward(X / (2 * np.pi))[-1]                  # (200, 1)
        np.abs(f - np.sin(X)).max()                           # < 0.05

    Fewer epochs or less momentum leave visible wiggles (4000 epochs give
    0.04 to 0.08 over seeds 0..3; momentum 0.9 gives 0.06).
    """
    n = V.as_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n: expected an integer >= 2 (a grid needs both ends), got {n}")
    low = V.as_number(low, "low")
    high = V.as_number(high, "high")
    if not low < high:
        raise ValueError(f"high: expected a number greater than low ({low!r}), got {high!r}")
    noise = V.as_nonnegative(noise, "noise")
    seed = V.as_seed(seed, "seed")

    rng = np.random.default_rng(seed)
    X = np.linspace(low, high, n)[:, None]              # (n, 1)
    y = np.sin(X) + noise * rng.standard_normal((n, 1))  # (n, 1)
    return X, y
