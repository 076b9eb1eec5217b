"""The training workspace: the arrays of a step, allocated once and reused by every step.

A training step on N rows needs, per layer l, the pre-activation z_l, the activation a_l and
the delta delta_l (each (N, n_l)), a vector of ones (N,) for the bias gradient and the
penalty's (lambda/m) W_l. ``Workspace`` owns them; the equations that fill them stay where
they were (network.forward_pass, costs.output_delta, backprop.backpropagate, each taking
``out=``), so this module is plumbing, not a second copy of the math. The arrays double as
scratch: delta_l holds the sigmoid's exp(-|z|) during the forward pass (it is not needed
until the backward pass), and z_l holds f'(z_l) during the backward pass (the cost has read
z_L by then, and no hidden z_l is read again).

Memory layout, measured with OpenBLAS on this 2-core AVX-512 machine (one thread; see
benchmarks/README.md): Fortran-order layer arrays make the three products per layer 5-35%
faster from a few hundred rows on (F_ORDER_FROM), and the weight gradient computed as
(delta^T a)^T gains a little more from about a thousand rows (TRANSPOSED_GRADIENT_FROM).
Below that, C order. Both are the same numbers up to the order of the products' sums.

``WorkspaceCache`` keeps one workspace per row count (the batch size, the last short batch,
the history chunk), made on first use.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Workspace", "WorkspaceCache", "F_ORDER_FROM", "TRANSPOSED_GRADIENT_FROM", "HISTORY_CHUNK"]

#: From this many rows on, the layer arrays are Fortran-order (column-major).
F_ORDER_FROM = 256
#: From this many rows on, dJ/dW_l is computed as (delta_l^T a_{l-1})^T.
TRANSPOSED_GRADIENT_FROM = 1024
#: The exact per-epoch history of minibatch training, and validation, run forward in chunks of
#: this many rows through one workspace, instead of allocating arrays for all of X.
HISTORY_CHUNK = 2048


class Workspace:
    """Every array of one training step on ``rows`` rows of ``net`` (see the module docstring).

    zs[l], acts[l + 1], deltas[l]   (rows, n_l) for weight layer l; acts[0] is the input
    ones (rows,), penalty[l] (n_{l-1}, n_l)
    inputs (rows, n_0), targets (rows, K)   the gathered minibatch, when ``gather``
    order, transposed                       the memory layout and gradient form: chosen
                                            from ``rows`` unless given ("C"/"F", bool)
    """

    def __init__(self, net, rows, gather=False, order=None, transposed=None):
        self.rows = rows
        self.order = ("F" if rows >= F_ORDER_FROM else "C") if order is None else order
        self.transposed = rows >= TRANSPOSED_GRADIENT_FROM if transposed is None else transposed
        sizes = net.layer_sizes

        def array(n):
            return np.empty((rows, n), order=self.order)

        self.zs = [array(n) for n in sizes[1:]]
        self.acts = [None] + [array(n) for n in sizes[1:]]
        self.deltas = [array(n) for n in sizes[1:]]
        self.ones = np.ones(rows)
        self.penalty = [np.empty(shape) for shape in net.shapes]
        self.inputs = array(sizes[0]) if gather else None
        self.targets = array(sizes[-1]) if gather else None

    def gather(self, X, Y, rows):
        """The rows ``rows`` of X and Y, copied into this workspace's inputs and targets.

        np.take with out= writes straight into the reused arrays; mode="clip" skips the
        bounds check's buffering (the rows come from a permutation, so they are in range).
        """
        np.take(X, rows, axis=0, out=self.inputs, mode="clip")
        np.take(Y, rows, axis=0, out=self.targets, mode="clip")
        return self.inputs, self.targets


class WorkspaceCache:
    """One Workspace per row count, made when first asked for: ``cache.get(rows)``."""

    def __init__(self, net, gather=False):
        self.net, self.gather, self._made = net, gather, {}

    def get(self, rows):
        if rows not in self._made:
            self._made[rows] = Workspace(self.net, rows, gather=self.gather)
        return self._made[rows]
