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
forward for each window, and an element-wise output layer only for the
explained unit t. All windows of a batch of rows are computed at once, in
working arrays small enough to stay in a core's cache and reused by every
batch (activations in place); the rows are shared out to one thread per
core, NumPy's element-wise loops running on each without the GIL, while
BLAS is held to one thread so that its spinning threads do not take the
cores from handnet's.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as V
from .._system import blas_threads_for, limit_blas_threads, matmul_work, threads_set_by_user, usable_cpus
from .gradients import for_each_chunk, resolve_targets, row_chunks

__all__ = ["occlusion", "window_grid", "window_counts", "normalize_max", "NORMALIZE"]

NORMALIZE = (None, "max")

#: A batch of rows is sized so each working array holds about this many numbers
#: (512 KB): the sigmoid's two arrays fit a 1 MB L2 cache between their seven
#: passes. (On the 1797 digits, batches of 26, 53 and 107 rows measured within
#: 10% of each other; 214 rows (2^18 numbers) 2.7x slower, one 17 MB batch 4-7x.)
CACHE_ELEMENTS = 1 << 16

#: A thread is started only for at least this many batches of rows.
MIN_BATCHES_PER_WORKER = 2


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
    chunk_size   rows per batch (default: sized so a batch's working arrays stay in
                 a core's cache, about CACHE_ELEMENTS numbers each)
    workers      threads that process rows at once (default: one per CPU core when
                 there are enough rows to share; NumPy's element-wise loops use one
                 core each). 1 = no threads.
    """
    D = V.as_net(net, "net, X, target, window").layer_sizes[0]
    X = V.as_inputs(X, D)
    N = X.shape[0]
    shape = (D,) if image_shape is None else V.as_image_shape(image_shape, D)
    window = V.as_window(window, shape)
    stride = V.as_axis_sizes(stride, "stride", shape)
    V.as_choice(normalize, NORMALIZE, "normalize")
    base = _check_baseline(baseline, N, D)
    index, M = window_grid(shape, window, stride)
    P, W = index.shape
    per_row = P * max(W, *net.layer_sizes[1:])
    rows_per_batch = (max(1, CACHE_ELEMENTS // per_row) if chunk_size is None
                      else V.as_positive_int(chunk_size, "chunk_size"))
    workers = occlusion_workers(N, rows_per_batch, workers)

    # handnet's own threads share the cores, so OpenBLAS's may not spin against them;
    # on one thread BLAS gets the threads that pay for the size (the user's setting wins)
    blas = (None if threads_set_by_user() else 1) if workers > 1 else blas_threads_for(
        matmul_work(net, N, P))
    with limit_blas_threads(blas):
        zs, acts = net.forward_pass(X, check=False)
        t = resolve_targets(net, X, target, output=acts[-1])
        y_t = acts[-1][np.arange(N), t]
        W1 = np.vstack([net.weights[0], np.zeros((1, net.layer_sizes[1]))])   # row D: the padding
        W1_windows = W1[index]                                                # (P, W, n_1)
        covered = M.sum(axis=0)
        A = np.empty((N, D))

        def occlude_rows(rows):
            """A[rows], batch after batch through one workspace (a bounded loop over
            batches of rows; each batch is vectorised over its rows, windows and units)."""
            work = OcclusionWorkspace(net, P, W, min(rows_per_batch, rows.stop - rows.start))
            for batch in row_chunks(rows.stop - rows.start, per_row, rows_per_batch):
                r = slice(rows.start + batch.start, rows.start + batch.stop)
                shift = work.shift(X[r], base if base.shape[0] == 1 else base[r])   # (D + 1, n)
                z1 = first_preactivation_occluded(zs[0][r], shift, index, W1_windows, work)
                drops = y_t[r] - occluded_outputs(net, z1, t[r], work)             # (P, n)
                A[r] = mean_over_windows(drops, M, covered)

        for_each_chunk(occlude_rows, row_chunks(N, 1, -(-N // workers)), workers)
    return normalize_max(A) if normalize == "max" else A


def occlusion_workers(n_rows, rows_per_batch, workers=None):
    """Threads for occlusion: as asked, or one per core but never more than the
    batches of rows to share (a thread for less than MIN_BATCHES_PER_WORKER batches
    costs more to start than it saves)."""
    if workers is not None:
        return V.as_positive_int(workers, "workers")
    batches = -(-n_rows // rows_per_batch)
    return max(1, min(usable_cpus(), batches // MIN_BATCHES_PER_WORKER))


class OcclusionWorkspace:
    """The working arrays of one thread, allocated once and reused by every batch of rows
    (a fresh array per batch costs page faults that can exceed the arithmetic).

    Each is a flat buffer sized for the largest batch; ``view`` returns its first
    prod(shape) numbers as a C-contiguous array of that shape.
    """

    def __init__(self, net, P, W, rows):
        D, sizes = net.layer_sizes[0], net.layer_sizes[1:]
        self.buffers = {"shift": np.zeros((D + 1) * rows), "windows": np.empty(P * W * rows),
                        "work": np.empty(P * rows * max(sizes))}    # the activations' scratch
        self.buffers.update({l: np.empty(P * rows * n) for l, n in enumerate(sizes)})

    def view(self, name, shape):
        return self.buffers[name][: math.prod(shape)].reshape(shape)

    def shift(self, X, base):
        """(x - b) for each row of X as columns, with a zero row D for the padding:  (D + 1, n)."""
        n, D = X.shape
        out = self.view("shift", (D + 1, n))
        np.subtract(X.T, base.T, out=out[:D])
        out[D] = 0.0
        return out


def first_preactivation_occluded(z1, shift, index, W1_windows, work):
    """Equation (3) for every window p at once:  z_1 - (x - b)[window_p] @ W_1[window_p, :].

    z1 (n, n_1); shift (D + 1, n) = (x - b) as columns, 0 in row D; index (P, W);
    W1_windows (P, W, n_1)  ->  (P, n, n_1) in the workspace: one (n, W) @ (W, n_1)
    product per window position.
    """
    P, Wn = index.shape
    n = z1.shape[0]
    windows = np.take(shift, index, axis=0, out=work.view("windows", (P, Wn, n)))   # (P, W, n)
    z = np.matmul(windows.transpose(0, 2, 1), W1_windows, out=work.view(0, (P, n, z1.shape[1])))
    np.subtract(z1, z, out=z)
    return z


def occluded_outputs(net, z1, t, work):
    """y_t(x^(p)) for every window p: the layers above the first, forward from equation (3).

        a_1 = f_1(z_1);  a_l = f_l(a_{l-1} @ W_l + b_l);  y_t = f_L(a_{L-1} . W_L[:, t] + b_L[t])

    z1 (P, n, n_1), overwritten; t (n,) ints  ->  (P, n). An element-wise output
    evaluates only the unit t of each row; softmax needs every z_L.
    """
    P, n = z1.shape[:2]
    rows, last = np.arange(n), net.n_layers - 1
    one_unit = net.output.elementwise
    if one_unit and last == 0:                                   # no hidden layer: z1 is z_L
        return net.output.f(z1[:, rows, t])
    a = net.activation(0).f(z1, out=z1, work=work.view("work", z1.shape))
    for l in range(1, last if one_unit else last + 1):
        z = np.matmul(a, net.weights[l], out=work.view(l, (P, n, net.layer_sizes[l + 1])))
        z += net.biases[l]
        a = net.activation(l).f(z, out=z, work=work.view("work", z.shape))
    if not one_unit:
        return a[:, rows, t]
    z_t = np.einsum("pim,im->pi", a, net.weights[last][:, t].T)    # a_{L-1} . W_L[:, t]
    z_t += net.biases[last][t]
    return net.output.f(z_t, out=z_t, work=work.view("work", z_t.shape))


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
