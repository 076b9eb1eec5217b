"""Occlusion: cover part of the input and watch the output drop.

For a window position p (a set of features), the occluded input x^(p) is x
with the window set to the baseline b. The drop of the target output is

    d_p = y_t(x) - y_t(x^(p))                                        (1)

and a feature's attribution is the mean of d_p over the windows covering it:

    A_j = sum_p M[p, j] d_p / sum_p M[p, j]        M[p, j] = 1 if window p covers j   (2)

Windows slide along each axis of the input (1-D over the features, or 2-D
over an image of shape image_shape) with starts 0, s, 2s, ...: there are
ceil((size - w) / s) + 1 of them per axis and the last is cut off at the
edge, so every feature is covered when s <= w. These are exactly the
positions and the averaging of Captum's ``Occlusion``, so the numbers can be
compared with it. (A stride larger than the window leaves features that no
window covers: handnet gives them 0, Captum refuses such a stride.)

Speed. x^(p) differs from x only inside the window, so its first
pre-activation is

    z_1(x^(p)) = z_1(x) - (x - b)[window] @ W_1[window, :]              (3)

a product of the window's few features with their rows of W_1, instead of a
full (D x n_1) product per window. Only the layers above the first run
forward for each window. All windows of a chunk of rows are one batch;
chunks keep memory bounded and run on one thread per CPU core.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from ..network import output_from_preactivation
from .._system import usable_cpus
from .gradients import for_each_chunk, resolve_targets, row_chunks

__all__ = ["occlusion", "window_grid", "window_counts", "normalize_max", "NORMALIZE"]

NORMALIZE = (None, "max")


# ----------------------------------------------------------------------------
# Window positions
# ----------------------------------------------------------------------------

def window_counts(shape, window, stride):
    """Window positions along each axis: ceil((size - w) / s) + 1.   -> tuple of ints."""
    return tuple(-(-(n - w) // s) + 1 for n, w, s in zip(shape, window, stride))


def window_grid(shape, window, stride):
    """Every window position as flat feature indices.

    shape, window, stride   tuples of the same length (1 for features, 2 for images)
    Returns (index, M):
      index (P, W) int   the features of window p, row-major flat indices; the
                         part of a window cut off at the edge is padded with D
                         (a feature that does not exist: callers append a zero)
      M     (P, D)       M[p, j] = 1 if window p covers feature j, else 0
    P = prod of window_counts, W = prod(window), D = prod(shape).
    """
    d = len(shape)
    D = int(np.prod(shape))
    counts = window_counts(shape, window, stride)
    flat = np.zeros(counts + tuple(window), dtype=np.int64)
    valid = np.ones(counts + tuple(window), dtype=bool)
    step = 1
    for a in range(d - 1, -1, -1):                      # row-major: last axis varies fastest
        coord = np.arange(counts[a])[:, None] * stride[a] + np.arange(window[a])[None, :]
        view = [1] * (2 * d)
        view[a], view[d + a] = counts[a], window[a]
        flat += coord.reshape(view) * step
        valid &= (coord < shape[a]).reshape(view)
        step *= shape[a]
    P, W = int(np.prod(counts)), int(np.prod(window))
    index = np.where(valid, flat, D).reshape(P, W)
    M = np.zeros((P, D + 1))
    M[np.arange(P)[:, None], index] = 1.0
    return index, M[:, :D]


# ----------------------------------------------------------------------------
# Occlusion
# ----------------------------------------------------------------------------

def occlusion(net, X, target, window, stride=1, baseline=0.0, image_shape=None, normalize=None,
              *, chunk_size=None, workers=None):
    """Occlusion attributions (N, D): equation (2) with the drops (1), Captum's numbers.

    X            (N, D) inputs
    target       the output unit: an int, (N,) ints, or None (the predicted class)
    window       window size: an int (1-D, or a square on an image) or a tuple
                 with one size per axis of image_shape
    stride       step between window starts: an int or a tuple like window
    baseline     what a covered feature is set to: a scalar, an array shaped like
                 one row of X (D,), or one baseline per row (N, D)
    image_shape  None (the D features form one axis) or e.g. (8, 8); must multiply to D
    normalize    None, or "max": divide each row by its largest |value| (a zero row stays 0)
    chunk_size   rows per batch (default: sized to keep working arrays near 32 MB)
    workers      threads that process batches at once (default: one per CPU core;
                 NumPy's element-wise loops use one core each). 1 = no threads.
    """
    D = V.as_net(net, "net, X, target, window").layer_sizes[0]
    X = V.as_inputs(X, D)
    N = X.shape[0]
    shape = (D,) if image_shape is None else V.as_image_shape(image_shape, D)
    window = V.as_window(window, shape)
    stride = V.as_axis_sizes(stride, "stride", shape)
    V.as_choice(normalize, NORMALIZE, "normalize")
    base = _check_baseline(baseline, N, D)

    zs, acts = net.forward_pass(X, check=False)
    t = resolve_targets(net, X, target, output=acts[-1])
    y_t = acts[-1][np.arange(N), t]
    index, M = window_grid(shape, window, stride)
    P, W = index.shape
    covered = M.sum(axis=0)
    W1 = np.vstack([net.weights[0], np.zeros((1, net.layer_sizes[1]))])   # row D: the padding
    W1_windows = W1[index]                                                # (P, W, n_1)

    A = np.empty((N, D))
    per_row = P * (W + 3 * max(net.layer_sizes[1:]))
    workers = usable_cpus() if workers is None else V.as_positive_int(workers, "workers")

    def occlude_rows(rows):
        n = rows.stop - rows.start
        shift = np.zeros((n, D + 1))
        np.subtract(X[rows], base if base.shape[0] == 1 else base[rows], out=shift[:, :D])
        z1 = first_preactivation_occluded(zs[0][rows], shift[:, index], W1_windows)   # (P, n, n_1)
        y_occluded = output_from_preactivation(net, z1, 0, unit=t[rows])              # (P, n)
        drops = y_t[rows] - y_occluded                                              # (P, n)
        A[rows] = mean_over_windows(drops, M, covered)

    for_each_chunk(occlude_rows, row_chunks(N, per_row, chunk_size, parts=workers), workers)
    return normalize_max(A) if normalize == "max" else A


def first_preactivation_occluded(z1, shift_windows, W1_windows):
    """Equation (3) for every window p at once:  z_1 - (x - b)[window_p] @ W_1[window_p, :].

    z1 (n, n_1); shift_windows (n, P, W) = (x - b) at each window's features;
    W1_windows (P, W, n_1)  ->  (P, n, n_1): one small product per window position.
    """
    change = np.einsum("ipq,pqk->pik", shift_windows, W1_windows, optimize=True)   # (P, n, n_1)
    np.subtract(z1[None], change, out=change)
    return change


def mean_over_windows(drops, M, covered):
    """Equation (2): A_j = sum_p M[p, j] d_p / (number of windows covering j).

    drops (P, n); M (P, D); covered (D,)  ->  (n, D). Uncovered features get 0.
    """
    A = drops.T @ M
    np.divide(A, covered, out=A, where=covered > 0)
    return A


def normalize_max(A, name="A"):
    """Each row divided by its largest absolute value:  A_ij / max_j |A_ij|.  (N, D) -> (N, D).

    Rows that are all zero stay zero (no division by zero). ``name`` is the
    argument named in error messages.
    """
    A = V.as_real_array(A, name)
    if A.ndim != 2:
        raise ValueError(f"{name}: expected attributions of shape (N, D), got shape {A.shape}")
    scale = np.max(np.abs(A), axis=1, keepdims=True)
    return np.divide(A, scale, out=np.zeros_like(A), where=scale > 0)


# ----------------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------------

def _check_baseline(baseline, N, D):
    """The baseline as (1, D) or (N, D)."""
    b = V.as_real_array(baseline, "baseline")
    if b.ndim == 0:
        return np.full((1, D), float(b))
    if b.shape == (D,) or b.shape == (1, D):
        return b.reshape(1, D)
    if b.shape == (N, D):
        return b
    raise ValueError(f"baseline: expected a number, an array of shape ({D},) like one row of X, "
                     f"or ({N}, {D}), got shape {b.shape}")
