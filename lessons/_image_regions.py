"""Regions of a 28x28 digit image, in plain NumPy: used by lessons.sensitivity_analysis to test
the sensitivity post's readings (where a map concentrates) with numbers.

Pure geometry, no network: the hole a stroke encloses, the quadrants of the digit box, the
principal axis of a map's strongest pixels. The lesson explains each choice; kept here so the
lesson stays readable.
"""

from __future__ import annotations

import numpy as np

#: MNIST's canvas: 28 x 28 pixels, row-major; the digit is scaled into the central 20 x 20 box.
IMAGE_SHAPE = (28, 28)

#: The four 10x10 quadrants of the central 20x20 box of a 28x28 MNIST canvas: (rows, columns).
QUADRANTS = {"top-left": (slice(4, 14), slice(4, 14)), "top-right": (slice(4, 14), slice(14, 24)),
             "bottom-left": (slice(14, 24), slice(4, 14)), "bottom-right": (slice(14, 24), slice(14, 24))}

#: Reading 4: the fraction of pixels kept, the diagonal tolerance (degrees) and the elongation.
TOP_FRACTION, DIAGONAL_TOLERANCE, MIN_ELONGATION = 0.05, 22.5, 2.0


def enclosed_blank(X, shape=IMAGE_SHAPE):
    """The blank pixels (x = 0) not connected to the border through blank pixels.  X (N, D) -> (N, D) bool.

    The outside starts as the blank border pixels and grows by one 4-neighbour step per
    iteration, all images at once, until it stops changing; what is blank and not outside
    is enclosed by ink.
    """
    blank = (X == 0).reshape(-1, *shape)
    border = np.zeros(shape, dtype=bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    outside = blank & border
    while True:
        grown = outside.copy()
        grown[:, 1:, :] |= outside[:, :-1, :]
        grown[:, :-1, :] |= outside[:, 1:, :]
        grown[:, :, 1:] |= outside[:, :, :-1]
        grown[:, :, :-1] |= outside[:, :, 1:]
        grown &= blank
        if np.array_equal(grown, outside):
            return (blank & ~outside).reshape(len(X), -1)
        outside = grown


def region_share(S, region):
    """Share of each map's total in the region: sum_{j in region} S_j / sum_j S_j.  S, region (N, D) -> (N,)."""
    return np.sum(S * region, axis=1) / np.sum(S, axis=1)


def quadrant_shares(M, shape=IMAGE_SHAPE):
    """Share of the map's total (over the whole canvas) in each quadrant of the digit box.  M (D,) >= 0 -> dict."""
    image = M.reshape(shape)
    return {name: float(image[rows, cols].sum() / image.sum()) for name, (rows, cols) in QUADRANTS.items()}


def principal_axis(M, shape=IMAGE_SHAPE, top_fraction=TOP_FRACTION):
    """Orientation and elongation of the strongest pixels of a map M (D,) >= 0.

    Keep the top_fraction of pixels by value; with weights w = M there, the weighted covariance
    of their (x = column, y = -row) positions has eigenvalues l1 >= l2. Returns (angle of the
    main axis in degrees in [0, 180), measured anticlockwise from horizontal; sqrt(l1 / l2),
    inf for a perfect line).
    """
    k = max(2, int(round(top_fraction * M.size)))
    keep = np.argsort(M, kind="stable")[-k:]
    rows, cols = np.unravel_index(keep, shape)
    points = np.stack([cols, -rows], axis=1).astype(np.float64)
    w = M[keep] / M[keep].sum()
    centred = points - w @ points
    cov = (centred * w[:, None]).T @ centred
    values, vectors = np.linalg.eigh(cov)                      # ascending
    main = vectors[:, 1]
    angle = float(np.degrees(np.arctan2(main[1], main[0])) % 180.0)
    # a perfect line has l2 = 0 up to rounding (|l2| <= 1e-12 l1): infinitely elongated
    return angle, float(np.sqrt(values[1] / values[0])) if values[0] > 1e-12 * values[1] else float("inf")


def is_diagonal(angle, elongation):
    """Reading 4's test: angle within DIAGONAL_TOLERANCE of 45 or 135 degrees, elongation >= MIN_ELONGATION."""
    off = min(abs(angle - 45.0), abs(angle - 135.0))
    return bool(off <= DIAGONAL_TOLERANCE and elongation >= MIN_ELONGATION)
