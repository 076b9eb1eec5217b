"""A training step written the way many beginners' notebooks write it.

This is the *comparison* for bench_train_step.py, deliberately not handnet's
style. It is correct (the benchmark checks its gradient against handnet's)
but does what such notebooks typically do:

- the sigmoid is a scalar Python function wrapped in ``np.vectorize``, so it
  runs one Python call per matrix entry;
- a column of ones is concatenated in front of the activations before every
  layer (``np.concatenate`` / ``np.hstack``), copying the whole matrix;
- the thetas hold the bias as their first row, shape (n_in + 1, n_out), and
  the backward pass strips it with ``np.delete`` (another copy);
- the sigmoid gradient recomputes the sigmoid twice: g(z) * (1 - g(z));
- the cost takes log(h) and log(1 - h) directly.

Only for two-layer networks [n_0, n_1, n_2] with sigmoid units and the
cross-entropy cost (the ex4 setting).
"""

import numpy as np


def sigmoid_scalar(z):
    return 1 / (1 + np.exp(-z))


sigmoid = np.vectorize(sigmoid_scalar)


def sigmoid_gradient(z):
    return sigmoid(z) * (1 - sigmoid(z))


def add_ones(a):
    m = a.shape[0]
    return np.concatenate([np.ones((m, 1)), a], axis=1)


def nn_cost_function(theta1, theta2, X, y, lam):
    """J and (grad1, grad2); theta1 (n_0+1, n_1), theta2 (n_1+1, n_2), y one-hot (m, n_2)."""
    m = X.shape[0]

    # forward
    a1 = add_ones(X)
    z2 = a1 @ theta1
    a2 = np.hstack([np.ones((m, 1)), sigmoid(z2)])
    z3 = a2 @ theta2
    h = sigmoid(z3)

    # cost
    J = np.sum(-y * np.log(h) - (1 - y) * np.log(1 - h)) / m
    J += lam / (2 * m) * (np.sum(theta1[1:, :] ** 2) + np.sum(theta2[1:, :] ** 2))

    # backward
    delta3 = h - y
    delta2 = (delta3 @ np.delete(theta2, 0, axis=0).T) * sigmoid_gradient(z2)
    Delta1 = a1.T @ delta2
    Delta2 = a2.T @ delta3

    grad1 = Delta1 / m
    grad2 = Delta2 / m
    grad1[1:, :] = grad1[1:, :] + lam / m * theta1[1:, :]
    grad2[1:, :] = grad2[1:, :] + lam / m * theta2[1:, :]
    return J, grad1, grad2


def train_step(theta1, theta2, X, y, lam, alpha):
    """One full-batch gradient-descent step; returns the new thetas and the cost."""
    J, grad1, grad2 = nn_cost_function(theta1, theta2, X, y, lam)
    theta1 = theta1 - alpha * grad1
    theta2 = theta2 - alpha * grad2
    return theta1, theta2, J


def thetas_from_handnet(net):
    """handnet's (W_l, b_l) as notebook thetas [b_l; W_l] of shape (n_in + 1, n_out)."""
    return [np.vstack([b[None, :], W]) for W, b in zip(net.weights, net.biases)]
