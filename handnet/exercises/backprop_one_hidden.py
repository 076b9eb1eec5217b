# handnet exercise: backprop_one_hidden
"""Exercise 3: backpropagation for a network with one hidden layer (the course's ex4 nnCostFunction).

Layout (handnet's): rows are samples, z = a @ W + b.

    X (m, D) -> hidden layer of n_1 sigmoid units -> K sigmoid outputs
    W1 (D, n_1), b1 (n_1,), W2 (n_1, K), b2 (K,); labels y (m,) are integers 0..K-1
    (the course uses 1..K); Y (m, K) is their one-hot matrix, Y[i, y[i]] = 1.

Forward:    z1 = X @ W1 + b1,   a1 = sigma(z1)           (m, n_1)
            z2 = a1 @ W2 + b2,  h = sigma(z2)            (m, K)
Cost:       J = (1/m) sum_ik [ -Y log h - (1 - Y) log(1 - h) ]
                + (lambda / (2m)) (sum(W1^2) + sum(W2^2))              biases excluded
Backward:   d2 = h - Y                                   (m, K)    output error
            d1 = (d2 @ W2.T) * sigma'(z1)                (m, n_1)  hidden error
            dJ/dW2 = (a1.T @ d2) / m + (lambda/m) W2     (n_1, K)
            dJ/db2 = sum over rows of d2 / m             (K,)
            dJ/dW1 = (X.T @ d1) / m + (lambda/m) W1      (D, n_1)
            dJ/db1 = sum over rows of d1 / m             (n_1,)

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
