"""First derivatives of an output with respect to the input: why did the network say that?

The input is layer 0, so the backward recursion of backprop, started from an
output unit instead of from the cost and carried one layer further, gives the
derivative of that output with respect to every input feature:

    delta_L = dy_t/dz_L = e_t @ (da_L/dz_L)     = e_t * f_L'(z_L) for element-wise f_L
    delta_l = (delta_{l+1} @ W_{l+1}.T) * f_l'(z_l)                l = L-1 .. 1
    dy_t/dx = delta_1 @ W_1.T                                        (N, D)

This module only chooses the starting delta (``unit_delta``); the recursion
itself is ``handnet.backprop.backpropagate``, the same function that gives
the weight gradients. Started from every output unit at once (a leading axis
of K starting deltas) the same call gives the whole Jacobian (N, K, D).

Maps built on the input gradient:

    sensitivity        |dy_t/dx_j|                 how strongly y_t reacts to x_j
    gradient x input   dy_t/dx_j * x_j             first-order share of x_j in y_t
                       |dy_t/dx_j| * x_j           (absolute=True) the unsigned variant
"""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from .._system import blas_threads_for_rows, matmul_work, usable_cpus
from ..backprop import backpropagate

__all__ = [
    "WRT",
    "CHUNK_ELEMENTS",
    "resolve_targets",
    "unit_delta",
    "input_gradient",
    "sensitivity",
    "gradient_x_input",
    "jacobian",
    "row_chunks",
    "for_each_chunk",
]

#: What is differentiated: the output activation a_L ("output") or the pre-activation z_L.
WRT = ("output", "preactivation")

#: Working arrays are kept to about this many float64 numbers (32 MB) by
#: processing the rows in chunks. The returned arrays themselves are full size.
CHUNK_ELEMENTS = 1 << 22


# ----------------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------------

def check_wrt(wrt):
    return V.as_choice(wrt, WRT, "wrt")


def resolve_targets(net, X, target, output=None):
    """The output unit to explain for every row, as an int vector (N,).

    target  an int t (the same unit for every row), a sequence of N ints (one
            per row), or None: the predicted class argmax_k y_k (unit 0 when the
            network has a single output).
    output  the network's outputs a_L (N, K) for X, if already computed.
    """
    K = V.as_net(net, "net, X, target").layer_sizes[-1]
    N = X.shape[0]
    if target is None:
        if K == 1:
            return np.zeros(N, dtype=np.int64)
        if net.output.name == "identity":
            raise ValueError(f"target: None means the predicted class, but this network has {K} "
                             "real-valued (identity) outputs and no class; pass the output unit "
                             f"to explain, an int in 0..{K - 1}")
        output = net.forward_pass(X, check=False)[1][-1] if output is None else output
        return np.argmax(output, axis=1).astype(np.int64)
    if V.is_integer(target):
        if not 0 <= target < K:
            raise ValueError(f"target: expected an output unit in 0..{K - 1} (the network has "
                             f"{K} outputs), got {target}")
        return np.full(N, int(target), dtype=np.int64)
    if isinstance(target, (bool, np.bool_)) or np.ndim(target) != 1:
        raise TypeError(f"target: expected an int, {N} ints (one per row of X) or None, "
                        f"got {V._describe(target)}")
    arr = V.as_real_array(target, "target", ndim=1)
    if arr.shape[0] != N:
        raise ValueError(f"target: expected {N} output units (one per row of X), got {arr.shape[0]}")
    frac = arr != np.round(arr)
    bad = frac | (arr < 0) | (arr >= K)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(f"target: expected output units in 0..{K - 1} (the network has {K} "
                         f"outputs), got {arr[i]:g} at index {i}")
    return arr.astype(np.int64)


def row_chunks(n_rows, per_row, chunk_size=None, parts=1):
    """Slices of at most ``chunk_size`` rows; by default as many rows as keep
    a working array of ``per_row`` numbers per row under CHUNK_ELEMENTS, and
    at least ``parts`` slices when there are that many rows (one per worker)."""
    if chunk_size is None:
        chunk_size = max(1, min(CHUNK_ELEMENTS // max(1, per_row), -(-n_rows // parts)))
    else:
        chunk_size = V.as_positive_int(chunk_size, "chunk_size")
    return [slice(s, min(s + chunk_size, n_rows)) for s in range(0, n_rows, chunk_size)]


def for_each_chunk(work, chunks, workers=None):
    """Call work(rows) for every slice of rows, on up to ``workers`` threads.

    NumPy releases the GIL inside its element-wise loops (exp, divide, ...),
    which run on one core; two chunks on two threads run them on two cores.
    work must write only its own rows of the result. workers: None = every
    core this process may use; 1 = in this thread, one chunk after another.
    """
    workers = usable_cpus() if workers is None else V.as_positive_int(workers, "workers")
    if workers == 1 or len(chunks) == 1:
        for rows in chunks:
            work(rows)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        for done in [pool.submit(work, rows) for rows in chunks]:
            done.result()                        # re-raises an exception from a worker


# ----------------------------------------------------------------------------
# The starting delta
# ----------------------------------------------------------------------------

def unit_delta(net, z_L, a_L, E, wrt="output"):
    """delta_L = dy/dz_L for the output units selected by E.

        wrt="output":         delta_L = E @ (da_L/dz_L)   (vector-Jacobian product;
                                        = E * f_L'(z_L) for an element-wise f_L)
        wrt="preactivation":  delta_L = E                 (y is z_L itself)

    z_L, a_L (N, K) or (N, 1, K); E (N, K) one-hot rows, or (N, K, K) / (1, K, K)
    for every unit at once  ->  the broadcast shape.
    """
    delta = E if wrt == "preactivation" else net.output.vjp(z_L, a_L, E)
    shape = np.broadcast_shapes(E.shape, z_L.shape)
    return delta if delta.shape == shape else np.array(np.broadcast_to(delta, shape))


# ----------------------------------------------------------------------------
# Input gradient and the maps built on it
# ----------------------------------------------------------------------------

def input_gradient(net, X, target=None, *, wrt="output"):
    """dy_t/dx for every row: the backward recursion carried to the input.

        delta_L = e_t @ (da_L/dz_L);  delta_l = (delta_{l+1} @ W_{l+1}.T) * f_l'(z_l);
        dy_t/dx = delta_1 @ W_1.T

    X (N, D); target int, (N,) ints or None (the predicted class)  ->  (N, D).
    wrt="preactivation" differentiates z_L[t] (the logit) instead of a_L[t].
    """
    V.as_net(net, "net, X, target")
    return _input_gradient(net, V.as_inputs(X, net.layer_sizes[0]), target, check_wrt(wrt))


def _input_gradient(net, X, target, wrt):
    """input_gradient for an X (N, D) that is already checked."""
    with blas_threads_for_rows(net, X.shape[0], 2):             # one pass forward, one back
        zs, acts = net.forward_pass(X, check=False)
        t = resolve_targets(net, X, target, output=acts[-1])
        E = V.one_hot_matrix(t, net.layer_sizes[-1])
        delta_L = unit_delta(net, zs[-1], acts[-1], E, wrt)
        _, dx = backpropagate(net, zs, acts, delta_L, to_input=True)
    return dx


def sensitivity(net, X, target=None, *, wrt="output"):
    """Sensitivity analysis: S_ij = |dy_t/dx_ij|.   X (N, D) -> (N, D), >= 0."""
    return np.abs(input_gradient(net, X, target, wrt=wrt))


def gradient_x_input(net, X, target=None, *, absolute=False, wrt="output"):
    """Gradient x input: G_ij = dy_t/dx_ij * x_ij  (absolute=True: |dy_t/dx_ij| * x_ij).

    For a network with no hidden layer and an identity output, y = x @ w + b,
    this is exactly w_j x_j: the share of feature j in the output.
    X (N, D) -> (N, D).
    """
    V.as_net(net, "net, X, target")
    X = V.as_inputs(X, net.layer_sizes[0])
    g = _input_gradient(net, X, target, check_wrt(wrt))
    if absolute:
        np.abs(g, out=g)
    g *= X
    return g


# ----------------------------------------------------------------------------
# The Jacobian
# ----------------------------------------------------------------------------

def jacobian(net, X, *, wrt="output", chunk_size=None):
    """J[i, k, j] = dy_k/dx_j for every row i, output k and input j.   X (N, D) -> (N, K, D).

    The backward recursion started from all K output units at once: the
    starting delta has shape (N, K, K) (row k of da_L/dz_L for each unit k) and
    every later delta (N, K, n_l). Rows are processed in chunks (``chunk_size``
    rows, by default as many as keep the deltas near CHUNK_ELEMENTS numbers),
    so memory beyond the (N, K, D) result stays bounded.
    wrt="preactivation" gives dz_L/dx (the logits' Jacobian) instead.
    """
    V.as_net(net, "net, X")
    check_wrt(wrt)
    X = V.as_inputs(X, net.layer_sizes[0])
    N, K, D = X.shape[0], net.layer_sizes[-1], net.layer_sizes[0]
    with blas_threads_for_rows(net, N, 1 + K):                # one pass forward, K back
        zs, acts = net.forward_pass(X, check=False)
        eye = np.eye(K)[None]                                    # (1, K, K): unit k's one-hot
        out = np.empty((N, K, D))
        per_row = K * (D + 2 * max(net.layer_sizes[1:]))
        for rows in row_chunks(N, per_row, chunk_size):
            zs_c = [z[rows, None, :] for z in zs]                # (n, 1, n_l): broadcast over k
            acts_c = [a[rows, None, :] for a in acts]
            delta_L = unit_delta(net, zs_c[-1], acts_c[-1], eye, wrt)      # (n, K, K)
            backpropagate(net, zs_c, acts_c, delta_L, to_input=True, out=out[rows])
    return out
