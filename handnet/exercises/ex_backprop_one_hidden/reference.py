# handnet exercise: backprop_one_hidden
"""Exercise 3: Backpropagation with one hidden layer.

Write `cost_and_gradient(W1, b1, W2, b2, X, y, lam)` for a network with one hidden layer
(the course's ex4 `nnCostFunction`, in handnet's layout: rows are samples,
`W1 (D, n_1)`, `b1 (n_1,)`, `W2 (n_1, K)`, `b2 (K,)`). It returns
`(J, (dW1, db1, dW2, db2))`, each gradient with the shape of its parameter.
`sigmoid` and `sigmoid_gradient` are given.

    z1 = X @ W1 + b1,  a1 = sigma(z1);   z2 = a1 @ W2 + b2,  h = sigma(z2)
    J  = (1/m) sum_ik [ -Y log h - (1 - Y) log(1 - h) ] + (lambda/(2m)) (sum(W1^2) + sum(W2^2))
    errors: d2 = h - Y;   d1 = (d2 @ W2.T) * sigma'(z1)
    dW2 = a1.T @ d2 / m + (lambda/m) W2;   db2 = sum of the rows of d2 / m
    dW1 = X.T  @ d1 / m + (lambda/m) W1;   db1 = sum of the rows of d1 / m

**Labels `y` are integers `0..K-1`**; `Y` is their one-hot matrix (`Y[i, y[i]] = 1`).
The biases are not regularised. The gradient is checked against central differences
of the correct cost, first with lambda = 0, then with lambda > 0 (the course's 3-5-3
debug network, m = 5, lambda = 3; other shapes when grading).

Write the body marked ``raise NotImplementedError``; sigmoid and sigmoid_gradient are given.
"""

import numpy as np


def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), element-wise, without overflow (given)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_gradient(z):
    """sigma'(z) = sigma(z) (1 - sigma(z)), element-wise (given)."""
    s = sigmoid(z)
    return s * (1.0 - s)


def cost_and_gradient(W1, b1, W2, b2, X, y, lam):
    """The cost J and its gradient, from one forward and one backward pass.

    W1 (D, n_1), b1 (n_1,), W2 (n_1, K), b2 (K,); X (m, D); y (m,) labels 0..K-1; lam >= 0.
    Returns (J, (dW1, db1, dW2, db2)): J a number, each gradient the shape of its parameter.
    """
    # BEGIN SOLUTION
    m = X.shape[0]
    z1 = X @ W1 + b1
    a1 = sigmoid(z1)
    h = sigmoid(a1 @ W2 + b2)
    Y = np.zeros_like(h)
    Y[np.arange(m), y] = 1.0

    J = np.sum(-Y * np.log(h) - (1.0 - Y) * np.log(1.0 - h)) / m
    J += lam / (2.0 * m) * (np.sum(W1 ** 2) + np.sum(W2 ** 2))

    d2 = h - Y
    d1 = (d2 @ W2.T) * sigmoid_gradient(z1)
    dW2 = a1.T @ d2 / m + lam / m * W2
    db2 = d2.sum(axis=0) / m
    dW1 = X.T @ d1 / m + lam / m * W1
    db1 = d1.sum(axis=0) / m
    return float(J), (dW1, db1, dW2, db2)
    # END SOLUTION
