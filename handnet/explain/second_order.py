"""Second derivatives of an output with respect to the input.

A network bends only in its activations: every z_l = a_{l-1} @ W_l + b_l is
linear. So the curvature of y = y_t(x) is a sum over the activation layers of
(curvature of f_l) x (how the input moves z_l)^2, each weighted by how much
y cares about that layer's output. For element-wise activations:

    d2y/dx_j dx_j' = sum_l sum_k  c_l[k] * J_l[k, j] * J_l[k, j']          (1)

    J_l = dz_l/dx       (n_l, D)  the input's first-order effect on layer l, pushed
                                  forward through the layers (J_1 = W_1.T);
    c_l = dy/da_l * f_l''(z_l)    (n_l,)  the second-order term of layer l, weighted
                                  by the adjoint dy/da_l = delta_{l+1} @ W_{l+1}.T
                                  from the backward recursion.

The output layer of a softmax network is not element-wise: its term is the
quadratic form J_L.T Q J_L with Q[k, m] = d2 a_L[t] / dz_k dz_m (N, K, K).
Written as matrices, the Hessian is a sum of "sandwiches" J.T C J, one per
layer, with C = diag(c_l) or Q; its diagonal is sum_k C[k] J[k, j]^2.

Both J_l and the adjoints come from handnet.backprop.backpropagate, the same
recursion that gives the weight gradients: J_l is the Jacobian of z_l (the
recursion started from every unit of layer l), dz_L[t]/dx the input gradient
of the logit. Nothing here writes a derivative a second time.

ReLU and identity layers have f'' = 0 wherever it exists, so they add
nothing: a ReLU network's input Hessian is exactly zero (almost everywhere;
at a kink it does not exist and handnet returns 0 there too).
"""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from ..backprop import activation_error, backpropagate
from .._system import blas_threads_for_rows
from .gradients import check_wrt, resolve_targets, row_chunks, unit_delta

__all__ = [
    "input_hessian_diag",
    "input_hessian",
    "layer_jacobian",
    "curvature_terms",
    "sandwich_diagonal",
    "sandwich",
]


def layer_jacobian(net, zs, acts, layer):
    """J_l = dz_l/dx (N, n_l, D) for weight layer ``layer`` (0-based), from backprop.

    The recursion is started from every unit k of layer l (delta_l = e_k, a
    leading axis of n_l starting deltas) and carried to the input. For the
    first layer it is simply W_1.T, shared by all rows: returned as (n_1, D).
    """
    if layer == 0:
        return net.weights[0].T
    n = net.layer_sizes[layer + 1]
    zs_c = [z[:, None, :] for z in zs]                     # broadcast over the n_l seeds
    acts_c = [a[:, None, :] for a in acts]
    seeds = np.broadcast_to(np.eye(n), (zs[0].shape[0], n, n)).copy()
    return backpropagate(net, zs_c, acts_c, seeds, to_input=True, layer=layer)[1]


def curvature_terms(net, X, t, wrt):
    """The pairs (J, C) of equation (1), one per curved layer, for rows X (N, D).

    Hidden layer l:   J = dz_l/dx (N, n_l, D) (or (n_1, D) for l = 1),  C = c_l (N, n_l)
    Output, element-wise f_L:   J = dz_L[t]/dx (N, 1, D),  C = f_L''(z_L[t]) (N, 1)
    Output, softmax:            J = dz_L/dx (N, K, D),     C = Q (N, K, K)
    With wrt="preactivation" y is z_L[t], which has no output curvature.
    """
    N, K = X.shape[0], net.layer_sizes[-1]
    L = net.n_layers
    rows = np.arange(N)
    zs, acts = net.forward_pass(X, check=False)
    E = V.one_hot_matrix(t, K)
    deltas, dlogit = backpropagate(net, zs, acts, unit_delta(net, zs[-1], acts[-1], E, wrt))
    terms = []
    for l in range(L - 1):
        f = net.activation(l)
        if f.piecewise_linear:
            continue
        c = activation_error(deltas[l + 1], net.weights[l + 1])       # dy/da_l
        c *= f.d2f(zs[l], acts[l + 1])
        terms.append((layer_jacobian(net, zs, acts, l), c))
    f_L = net.output
    if wrt == "output" and not f_L.piecewise_linear:
        if f_L.elementwise:
            _, g = backpropagate(net, zs, acts, E, to_input=True)        # dz_L[t]/dx (N, D)
            terms.append((g[:, None, :], f_L.d2f(zs[-1], acts[-1])[rows, t][:, None]))
        else:
            Q = f_L.d2f(zs[-1], acts[-1])[rows, t]                          # (N, K, K)
            terms.append((layer_jacobian(net, zs, acts, L - 1), Q))
    return terms


def sandwich_diagonal(J, C):
    """diag(J.T C J) per row:  sum_k C[k] J[k, j]^2, or sum_km J[k, j] C[k, m] J[m, j].

    J (N, n, D) or shared (n, D); C (N, n) (a diagonal) or (N, n, n)  ->  (N, D).
    """
    if C.ndim == 2:
        if J.ndim == 2:
            return C @ (J * J)
        return np.einsum("ik,ikj->ij", C, J * J)
    CJ = C @ J                                   # (N, n, D); J may be shared (n, D)
    CJ *= J
    return CJ.sum(axis=1)


def sandwich(J, C):
    """J.T C J per row, the layer's whole contribution to the Hessian.  -> (N, D, D).

    J (N, n, D) or shared (n, D); C (N, n) (a diagonal) or (N, n, n).
    """
    if J.ndim == 2:
        J = J[None]
    CJ = C[:, :, None] * J if C.ndim == 2 else C @ J
    return np.swapaxes(J, 1, 2) @ CJ


def _second_derivatives(net, X, target, wrt, chunk_size, combine, shape):
    check_wrt(wrt)
    X = V.as_inputs(X, net.layer_sizes[0])
    t = resolve_targets(net, X, target)
    N, D = X.shape
    out = np.zeros((N,) + shape)
    per_row = (D + 2) * max(net.layer_sizes[1:]) * 3 + int(np.prod(shape))
    # forward, two backward passes, the sandwiches, and one backward pass per unit of each
    # hidden layer above the first (J_1 = W_1.T costs nothing)
    with blas_threads_for_rows(net, N, 4 + sum(net.layer_sizes[2:-1])):
        for rows in row_chunks(N, per_row, chunk_size):
            for J, C in curvature_terms(net, X[rows], t[rows], wrt):
                out[rows] += combine(J, C)
    return out


def input_hessian_diag(net, X, target=None, *, wrt="output", chunk_size=None):
    """H[i, j] = d2 y_t / dx_j^2 for every row i and input j, analytically.   X (N, D) -> (N, D).

    The diagonal of equation (1): sum over curved layers of sum_k c_l[k] J_l[k, j]^2.
    target: int, (N,) ints or None (the predicted class). Exact zeros for a
    network whose layers are all ReLU/identity. Rows are processed in chunks
    of ``chunk_size`` (by default sized to keep working arrays near 32 MB).
    """
    D = V.as_net(net, "net, X, target").layer_sizes[0]
    return _second_derivatives(net, X, target, wrt, chunk_size, sandwich_diagonal, (D,))


def input_hessian(net, x, target=None, *, wrt="output"):
    """H[j, j'] = d2 y_t / dx_j dx_j' for ONE input x (D,) or (1, D)  ->  (D, D), symmetric.

    Equation (1) in full: the sum over curved layers of J_l.T diag(c_l) J_l
    (and J_L.T Q J_L for a softmax output). target: int or None.
    """
    D = V.as_net(net, "net, x, target").layer_sizes[0]
    x = V.as_real_array(x, "x")
    if x.ndim == 1 and x.shape[0] == D:
        x = x[None, :]
    if x.ndim != 2 or x.shape != (1, D):
        raise ValueError(f"x: expected one input of shape ({D},) or (1, {D}), got shape {x.shape}"
                         " (input_hessian_diag takes many rows)")
    return _second_derivatives(net, x, target, wrt, None, sandwich, (D, D))[0]
