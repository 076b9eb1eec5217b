# handnet exercise: backprop_deep
"""Exercise 4: Backpropagation for any depth.

Write `cost_and_gradient(weights, biases, X, y, lam)` for a sigmoid network of any depth:
`weights = [W_1, ..., W_L]` with `W_l` of shape `(n_{l-1}, n_l)`, `biases = [b_1, ..., b_L]`
with `b_l` of shape `(n_l,)` (Python index `l - 1`). It returns `(J, dWs, dbs)`: the cost
and two lists of `L` arrays shaped like `weights` and `biases`. `sigmoid` and
`sigmoid_gradient` are given.

    a_0 = X;  z_l = a_{l-1} @ W_l + b_l,  a_l = sigma(z_l);  h = a_L
    J = (1/m) sum_ik [ -Y log h - (1 - Y) log(1 - h) ] + (lambda/(2m)) sum_l sum(W_l^2)
    delta_L = h - Y;   delta_l = (delta_{l+1} @ W_{l+1}.T) * sigma'(z_l),  l = L-1 .. 1
    dJ/dW_l = a_{l-1}.T @ delta_l / m + (lambda/m) W_l;   dJ/db_l = sum of the rows of delta_l / m

**Labels `y` are integers `0..K-1`**; `Y[i, y[i]] = 1`. The biases are not regularised.
Checked on the course's debug networks 3-5-3 and 3-5-4-3 (m = 5; lambda = 0, then 3) and,
when grading, on random networks with 1 to 3 hidden layers.

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


def cost_and_gradient(weights, biases, X, y, lam):
    """The cost J and its gradient for any number of layers.

    weights: list of L arrays W_l (n_{l-1}, n_l); biases: list of L arrays b_l (n_l,);
    X (m, n_0); y (m,) labels 0..K-1; lam >= 0.
    Returns (J, dWs, dbs): J a number; dWs and dbs lists of L arrays shaped like weights and biases.
    """
    # BEGIN SOLUTION
    m = X.shape[0]
    L = len(weights)
    zs, acts = [], [X]
    for W, b in zip(weights, biases):
        zs.append(acts[-1] @ W + b)
        acts.append(sigmoid(zs[-1]))
    h = acts[-1]
    Y = np.zeros_like(h)
    Y[np.arange(m), y] = 1.0

    J = np.sum(-Y * np.log(h) - (1.0 - Y) * np.log(1.0 - h)) / m
    J += lam / (2.0 * m) * sum(np.sum(W ** 2) for W in weights)

    dWs, dbs = [None] * L, [None] * L
    delta = h - Y
    for l in range(L - 1, -1, -1):           # Python index l holds the math's layer l + 1
        dWs[l] = acts[l].T @ delta / m + lam / m * weights[l]
        dbs[l] = delta.sum(axis=0) / m
        if l > 0:
            delta = (delta @ weights[l].T) * sigmoid_gradient(zs[l - 1])
    return float(J), dWs, dbs
    # END SOLUTION
