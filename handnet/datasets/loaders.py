"""Loaders for the data shipped in ``datasets/``: the 8x8 UCI digits and 5,000 MNIST digits.

``datasets/README.md`` gives each file's provenance, licence, layout and
checksum. Installed (``pip install .`` or ``-e .``) the folder is the package
``handnet._data``; run from a source checkout without installing, it is found
next to the ``handnet/`` folder.
"""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import numpy as np

from .. import _validate as V

__all__ = ["DIGITS_SHA256", "DIGITS_SHAPE", "load_digits", "MNIST_SHA256", "MNIST_SIZES", "load_mnist",
           "area_resampling_matrix", "resample_images"]

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
        return Path(__file__).resolve().parents[2] / "datasets"


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
