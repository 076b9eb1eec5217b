"""Costs: their values and their derivative with respect to the output.

For m examples, targets y (m, K), output pre-activations z (m, K) and output
activations h = f(z):

cross_entropy (sigmoid outputs; Andrew Ng's ex4 definition)
    J = (1/m) sum_i sum_k [ -y_ik log h_ik - (1 - y_ik) log(1 - h_ik) ]
      = (1/m) sum_i sum_k [ softplus(z_ik) - y_ik z_ik ]        (the stable form)
    dJ/dz = (h - y) / m

softmax_cross_entropy (softmax outputs)
    J = (1/m) sum_i [ -sum_k y_ik log h_ik ]
      = (1/m) sum_i [ (sum_k y_ik) logsumexp(z_i) - sum_k y_ik z_ik ]
    dJ/dz = (h * sum_k y_k - y) / m       (= (h - y)/m for one-hot rows)

quadratic (any output; the squared error)
    J = (1/(2m)) sum_i sum_k (h_ik - y_ik)^2
    dJ/dh = (h - y) / m,   dJ/dz = dJ/dh * f'(z)  (a vector-Jacobian product for softmax)

L2 regularisation, biases excluded, the same convention in cost and gradient:
    J += (lambda / (2m)) sum_l sum(W_l^2),     dJ/dW_l += (lambda/m) W_l

Written from the pre-activation z, the cross-entropies never take log(0): a
saturated unit (z = +-1e4) gives a finite cost and no warning.
"""

from __future__ import annotations

import numpy as np

from . import _validate as V
from .activations import logsumexp, softplus

__all__ = [
    "COSTS",
    "cost",
    "cross_entropy",
    "softmax_cross_entropy",
    "quadratic",
    "l2_penalty",
    "regularised_cost",
    "cost_terms",
    "output_delta",
    "check_cost_pairing",
    "DEFAULT_COST",
    "default_cost_for",
]

COSTS = ("cross_entropy", "softmax_cross_entropy", "quadratic")

#: Which output activations each cost accepts.
_PAIRINGS = {
    "cross_entropy": ("sigmoid",),
    "softmax_cross_entropy": ("softmax",),
    "quadratic": ("sigmoid", "softmax", "identity"),
}


#: The cost each output activation pairs with when none is asked for (the one home of this table).
DEFAULT_COST = {"sigmoid": "cross_entropy", "softmax": "softmax_cross_entropy", "identity": "quadratic"}


def default_cost_for(output):
    """sigmoid -> cross_entropy, softmax -> softmax_cross_entropy, identity -> quadratic."""
    return DEFAULT_COST[output]


def check_cost_pairing(cost_name, output_name, argument="cost"):
    """Return the cost name if it can be used with this output activation, else raise ValueError."""
    if not isinstance(cost_name, str):
        raise TypeError(f"{argument}: expected a cost name, one of {COSTS}, got {cost_name!r}")
    if cost_name not in COSTS:
        raise ValueError(f"{argument}: unknown cost {cost_name!r}; expected one of {COSTS}")
    if output_name not in _PAIRINGS[cost_name]:
        suggestion = default_cost_for(output_name)
        raise ValueError(f"{argument}: {cost_name!r} does not fit the {output_name} output layer "
                         f"(it needs {' or '.join(_PAIRINGS[cost_name])}); use cost={suggestion!r}")
    return cost_name


# ----------------------------------------------------------------------------
# The equations (sums over all entries; the caller divides by m)
# ----------------------------------------------------------------------------

def cross_entropy(z, y):
    """sum_ik [ softplus(z_ik) - y_ik z_ik ] = sum_ik [-y log h - (1-y) log(1-h)], h = sigma(z).

    z, y: (m, K) -> scalar.
    """
    s = softplus(z)
    s -= y * z
    return float(np.sum(s))


def softmax_cross_entropy(z, y):
    """sum_i [ (sum_k y_ik) logsumexp(z_i) - sum_k y_ik z_ik ] = -sum_ik y_ik log softmax(z_i)_k.

    z, y: (m, K) -> scalar.
    """
    return float(np.sum(np.sum(y, axis=1) * logsumexp(z, axis=1)) - np.sum(y * z))


def quadratic(h, y):
    """(1/2) sum_ik (h_ik - y_ik)^2.   h, y: (m, K) -> scalar."""
    r = h - y
    return 0.5 * float(np.vdot(r, r))


def l2_penalty(weights, l2, m):
    """(lambda / (2m)) sum_l sum(W_l^2); biases are not included."""
    if l2 == 0:
        return 0.0
    return l2 / (2.0 * m) * float(sum(np.vdot(W, W) for W in weights))


def data_cost(cost_name, z, h, y, m=None):
    """The unregularised cost J_data = (1/m) * (the cost's sum); m = z's rows unless given
    (a chunk of a larger set divides by the whole set's m)."""
    m = z.shape[0] if m is None else m
    if cost_name == "cross_entropy":
        total = cross_entropy(z, y)
    elif cost_name == "softmax_cross_entropy":
        total = softmax_cross_entropy(z, y)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            total = quadratic(h, y)
    return total / m


def output_delta(cost_name, output, z, h, y, out=None, work=None):
    """delta_L = dJ/dz_L (m, K) for the unregularised cost.

    cross_entropy + sigmoid          (h - y) / m
    softmax_cross_entropy + softmax  (h * sum_k y_k - y) / m
    quadratic + f                    vjp_f((h - y) / m)  = (h - y)/m * f'(z) element-wise

    ``out`` (m, K) receives delta_L; ``work`` (m, K, may be z if no longer needed) f'(z).
    """
    m = z.shape[0]
    if cost_name == "softmax_cross_entropy":
        d = np.multiply(h, np.sum(y, axis=1, keepdims=True), out=out)
        d -= y
    else:
        d = np.subtract(h, y, out=out)
    d /= m
    if cost_name == "quadratic":
        return output.vjp(z, h, d, out=d, work=work)
    return d


# ----------------------------------------------------------------------------
# The public cost of a network
# ----------------------------------------------------------------------------

def resolve_cost(net, cost):
    """The cost name to use: ``cost`` if given (checked against the output layer), else net.cost."""
    V.as_net(net)
    if cost is None:
        return net.cost
    return check_cost_pairing(cost, net.output.name)


def prepare(net, X, Y, l2, names=("X", "Y")):
    """Validate (X, Y, l2) once at the API boundary: float64 X (m, n_0), targets (m, K), l2 >= 0.

    ``names`` are the argument names used in error messages.
    """
    X = V.as_inputs(X, net.layer_sizes[0], names[0])
    Y = V.as_targets(Y, net.layer_sizes[-1], X.shape[0], net.output.name, names[1])
    l2 = V.as_nonnegative(l2, "l2")
    return X, Y, l2


def cost_terms(net, zs, acts, Y, l2, cost_name):
    """(J_data, penalty) from a forward pass (zs, acts): the two terms of J, m = Y.shape[0].

    J_data = data_cost(z_L, a_L; Y);  penalty = (lambda / (2m)) sum_l sum(W_l^2).
    """
    return data_cost(cost_name, zs[-1], acts[-1], Y), l2_penalty(net.weights, l2, Y.shape[0])


def regularised_cost(net, zs, acts, Y, l2, cost_name):
    """J = J_data(z_L, a_L; Y) + (lambda / (2m)) sum_l sum(W_l^2), from a forward pass (zs, acts)."""
    data, penalty = cost_terms(net, zs, acts, Y, l2, cost_name)
    return data + penalty


def cost(net, X, Y, l2=0.0, cost=None):
    """J(net; X, Y) = data cost + (lambda/(2m)) sum W^2.

    X: (m, n_0); Y: (m, K) targets (one-hot, probabilities or real values) or
    (m,) integer labels 0..K-1; l2: lambda >= 0; cost: override net.cost.
    Returns a Python float.
    """
    cost_name = resolve_cost(net, cost)
    X, Y, l2 = prepare(net, X, Y, l2)
    zs, acts = net.forward_pass(X, check=False)
    return regularised_cost(net, zs, acts, Y, l2, cost_name)
