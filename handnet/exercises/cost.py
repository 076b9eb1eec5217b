# handnet exercise: cost
"""Exercise 2: the cost of a sigmoid network, first without and then with L2 regularisation.

Layout (handnet's, the same in every exercise): rows are samples.

    a_0 = X                                   (m, D)
    z_l = a_{l-1} @ W_l + b_l                 W_l (n_{l-1}, n_l), b_l (n_l,)
    a_l = sigma(z_l)                          (m, n_l); the output h = a_L is (m, K)

Labels y are integers 0..K-1 (the course uses 1..K). Y is their one-hot matrix,
Y[i, k] = 1 if y[i] == k else 0, of shape (m, K).

    J(W, b)     = (1/m) sum_i sum_k [ -Y_ik log h_ik - (1 - Y_ik) log(1 - h_ik) ]
    J_reg(W, b) = J(W, b) + (lambda / (2m)) sum_l sum(W_l^2)        biases excluded

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
