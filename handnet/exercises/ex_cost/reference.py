# handnet exercise: cost
"""Exercise 2: The cost, unregularised and with L2.

Write the cost of a sigmoid network (the course's ex4 cost), in handnet's layout:
rows are samples, `z_l = a_{l-1} @ W_l + b_l` with `W_l` of shape `(n_{l-1}, n_l)` and
`b_l` of shape `(n_l,)`, and `a_l = sigma(z_l)` on every layer (`sigmoid` is given).

1. `feedforward(weights, biases, X)`: the output `h = a_L`, shape `(m, K)`, for `X` of shape `(m, D)`.
2. `cost_unregularised(weights, biases, X, y)`: with the one-hot targets `Y` (`Y[i, y[i]] = 1`),

       J = (1/m) sum_i sum_k [ -Y_ik log h_ik - (1 - Y_ik) log(1 - h_ik) ]

3. `cost(weights, biases, X, y, lam)`: the regularised cost, biases excluded,

       J_reg = J + (lambda / (2m)) sum_l sum(W_l^2)

**Labels `y` are integers `0..K-1`** (the course's are `1..K`): no `-1` when building `Y`.
The checks use the course's 3-5-3 debug network (sin-based weights, m = 5, lambda = 3),
and other shapes when grading.

Write the bodies marked ``raise NotImplementedError``; only numpy is needed.
"""

import numpy as np


def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), element-wise, without overflow (given)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def feedforward(weights, biases, X):
    """The output h = a_L of the network for every row of X.

    weights: list of W_l, each (n_{l-1}, n_l); biases: list of b_l, each (n_l,);
    X: (m, D).  Returns h of shape (m, K).

        a_0 = X,   a_l = sigma(a_{l-1} @ W_l + b_l)   for l = 1..L
    """
    # BEGIN SOLUTION
    a = X
    for W, b in zip(weights, biases):
        a = sigmoid(a @ W + b)
    return a
    # END SOLUTION


def cost_unregularised(weights, biases, X, y):
    """J = (1/m) sum_i sum_k [ -Y_ik log h_ik - (1 - Y_ik) log(1 - h_ik) ]  (a number).

    weights, biases, X as in feedforward; y: (m,) integer labels 0..K-1.
    Y (m, K) is the one-hot matrix of y: Y[i, y[i]] = 1, every other entry 0.
    """
    # BEGIN SOLUTION
    h = feedforward(weights, biases, X)
    m = X.shape[0]
    Y = np.zeros_like(h)
    Y[np.arange(m), y] = 1.0
    return float(np.sum(-Y * np.log(h) - (1.0 - Y) * np.log(1.0 - h)) / m)
    # END SOLUTION


def cost(weights, biases, X, y, lam):
    """J_reg = J + (lambda / (2m)) sum_l sum(W_l^2)  (a number); the biases are not regularised.

    weights, biases, X, y as in cost_unregularised; lam: lambda >= 0.
    """
    # BEGIN SOLUTION
    m = X.shape[0]
    penalty = lam / (2.0 * m) * sum(float(np.sum(W ** 2)) for W in weights)
    return cost_unregularised(weights, biases, X, y) + penalty
    # END SOLUTION
