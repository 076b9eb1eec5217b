"""Backpropagation: the one backward recursion, with explicit deltas.

    delta_L = dJ/dz_L                                      (from the cost, costs.output_delta)
    dJ/da_l = delta_{l+1} @ W_{l+1}.T                      activation_error
    delta_l = dJ/da_l * f_l'(z_l)                          hidden_delta, l = L-1 .. 1
    dJ/dW_l = a_{l-1}.T @ delta_l  (+ (lambda/m) W_l)      weight_gradient
    dJ/db_l = sum over rows of delta_l                     bias_gradient
    dJ/dx   = delta_1 @ W_1.T                              input_delta  (the input is layer 0)

``backpropagate`` runs the recursion from *any* starting delta. Started from
the cost it gives the weight gradients; started from an output unit
(delta_L = e_k * f_L'(z_L)) and carried one step further it gives the input
gradient dy_k/dx, and started from every unit at once (deltas with a leading
axis K) it gives the Jacobian. The recursion is written once, here.
"""

from __future__ import annotations

import numpy as np

from . import _validate as V
from ._linalg import rows_matmul
from .costs import cost_terms, output_delta, prepare, resolve_cost

__all__ = [
    "rows_matmul",
    "activation_error",
    "hidden_delta",
    "input_delta",
    "weight_gradient",
    "bias_gradient",
    "backpropagate",
    "gradient",
    "cost_and_gradient",
    "flat_gradient",
]


def activation_error(delta_next, W_next, out=None):
    """dJ/da_l = delta_{l+1} @ W_{l+1}.T: the error carried back through one weight matrix.

    delta_next (..., N, n_{l+1}); W_next (n_l, n_{l+1})  ->  (..., N, n_l).
    """
    return rows_matmul(delta_next, W_next.T, out=out)


def hidden_delta(delta_next, W_next, z, a, activation, out=None, work=None):
    """delta_l = (delta_{l+1} @ W_{l+1}.T) * f'(z_l).

    delta_next (..., N, n_{l+1}); W_next (n_l, n_{l+1}); z, a (N, n_l)  ->  (..., N, n_l).
    ``out`` receives delta_l; ``work`` (N, n_l, may be z when z is no longer needed) f'(z_l).
    """
    e = activation_error(delta_next, W_next, out=out)
    return activation.vjp(z, a, e, out=e, work=work)     # times f'(z_l) in place


def input_delta(delta_1, W_1, out=None):
    """dJ/dx = delta_1 @ W_1.T: the input is layer 0, a_0 = x, with no activation.

    (..., N, n_1) @ (n_1, n_0).T -> (..., N, n_0).
    """
    return activation_error(delta_1, W_1, out=out)


def weight_gradient(a_prev, delta, out=None, transposed=False):
    """dJ/dW_l = a_{l-1}.T @ delta_l.   (N, n_in).T @ (N, n_out) -> (n_in, n_out).

    transposed: compute the same matrix as (delta_l.T @ a_{l-1}).T, the product OpenBLAS
    runs faster on many rows of Fortran-order arrays (the training workspace picks it).
    """
    if transposed:
        return np.matmul(delta.T, a_prev, out=None if out is None else out.T).T
    return np.matmul(a_prev.T, delta, out=out)


def bias_gradient(delta, out=None, ones=None):
    """dJ/db_l = sum_i delta_l[i, :] = 1^T delta_l.   (N, n_out) -> (n_out,).

    Written as the product with a vector of ones (N,) (``ones``, made if None): one BLAS
    matrix-vector product, several times faster than np.sum(axis=0) over short rows.
    """
    return np.matmul(np.ones(delta.shape[-2]) if ones is None else ones, delta, out=out)


def backpropagate(net, zs, acts, delta_out, to_input=False, out=None, layer=None, into=None, work=None):
    """Carry delta_L back through the layers.

    zs, acts    the forward pass (MLP.forward_pass): z_1..z_L and a_0..a_L, each (N, n_l)
    delta_out   delta_L = dJ/dz_L, shape (..., N, n_L); leading axes are carried along
                (zs and acts broadcast against them: for a Jacobian pass delta_out of
                shape (N, K, n_L) with zs/acts reshaped to (N, 1, n_l))
    to_input    also carry it one step further, to the input (layer 0)
    out         optional array (..., N, n_0) that receives dx
    layer       the weight layer (0-based, like net.weights) whose delta delta_out is;
                default the output layer. Starting lower differentiates a quantity
                of a hidden layer's pre-activation (the input Hessian needs dz_l/dx).
    into, work  optional lists of arrays, one per layer (N, n_l): ``into[l]`` receives
                delta_l, ``work[l]`` f_l'(z_l) on the way (a training workspace passes zs
                itself, which the step no longer needs)

    Returns (deltas, dx): deltas = [delta_1, ..., delta_L], each (..., N, n_l)
    (None above the starting layer); dx = delta_1 @ W_1.T of shape (..., N, n_0)
    if to_input else None.
    """
    V.as_net(net, "net, zs, acts, delta_out")
    L = net.n_layers
    top = L - 1 if layer is None else layer
    weights = net.weights
    deltas = [None] * L
    deltas[top] = delta_out
    for l in range(top - 1, -1, -1):     # Python layer l holds the math's layer l+1
        deltas[l] = hidden_delta(deltas[l + 1], weights[l + 1], zs[l], acts[l + 1], net.activation(l),
                                 out=None if into is None else into[l], work=None if work is None else work[l])
    dx = input_delta(deltas[0], weights[0], out=out) if to_input else None
    return deltas, dx


def _parameter_gradients(net, acts, deltas, l2, m, out, ws=None):
    """Write dJ/dW_l, dJ/db_l for every layer into the flat vector ``out`` (P,).

    ws: a training workspace (its gradient form, vector of ones and penalty scratch), or None.
    """
    grad_W, grad_b = net.unflatten(out)
    weights = net.weights
    for l in range(net.n_layers):
        weight_gradient(acts[l], deltas[l], out=grad_W[l], transposed=ws is not None and ws.transposed)
        bias_gradient(deltas[l], out=grad_b[l], ones=None if ws is None else ws.ones)
        if l2:
            grad_W[l] += np.multiply(weights[l], l2 / m, out=None if ws is None else ws.penalty[l])
    return out


def _cost_and_gradient(net, X, Y, l2, cost_name, out=None):
    """The fast path: inputs already validated.  One forward pass, one backward pass.

    Returns (J, gradient (P,), output activations (m, K)).
    """
    (data, penalty), out, output = _cost_terms_and_gradient(net, X, Y, l2, cost_name, out)
    return data + penalty, out, output


def _cost_terms_and_gradient(net, X, Y, l2, cost_name, out=None, ws=None):
    """As _cost_and_gradient, with J's two terms apart: ((J_data, penalty), gradient, output).

    ws: a training workspace (handnet._workspace.Workspace for X's rows) whose arrays receive
    every z_l, a_l and delta_l, so a step allocates nothing; None for fresh arrays.
    """
    m = X.shape[0]
    zs, acts = net.forward_pass(X, check=False, out=None if ws is None else (ws.zs, ws.acts),
                                work=None if ws is None else ws.deltas)
    terms = cost_terms(net, zs, acts, Y, l2, cost_name)
    # from here on the step needs no z_l: the workspace lends them as scratch for f'(z_l)
    work = None if ws is None else zs
    delta_L = output_delta(cost_name, net.output, zs[-1], acts[-1], Y,
                           out=None if ws is None else ws.deltas[-1], work=None if ws is None else zs[-1])
    deltas, _ = backpropagate(net, zs, acts, delta_L, into=None if ws is None else ws.deltas, work=work)
    out = np.empty(net.n_params) if out is None else out
    _parameter_gradients(net, acts, deltas, l2, m, out, ws)
    return terms, out, acts[-1]


def cost_and_gradient(net, X, Y, l2=0.0, cost=None):
    """(J, g): the cost and its gradient as one flat vector (P,), from one pass.

    The flat vector is ordered like net.params; ``net.unflatten(g)`` gives the
    per-layer (dW_l, db_l) views.
    """
    cost_name = resolve_cost(net, cost)
    X, Y, l2 = prepare(net, X, Y, l2)
    J, g, _ = _cost_and_gradient(net, X, Y, l2, cost_name)
    return J, g


def flat_gradient(net, X, Y, l2=0.0, cost=None):
    """dJ/dtheta as one flat vector (P,), ordered like net.params."""
    return cost_and_gradient(net, X, Y, l2=l2, cost=cost)[1]


def gradient(net, X, Y, l2=0.0, cost=None):
    """[(dJ/dW_0, dJ/db_0), (dJ/dW_1, dJ/db_1), ...] with the parameters' shapes.

    X (m, n_0); Y targets (m, K) or labels (m,); l2 = lambda >= 0.
    """
    g = flat_gradient(net, X, Y, l2=l2, cost=cost)
    grad_W, grad_b = net.unflatten(g)
    return list(zip(grad_W, grad_b))
