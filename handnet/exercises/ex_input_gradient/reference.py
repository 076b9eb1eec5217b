# handnet exercise: input_gradient
"""Exercise 6: The input gradient dy_k/dx.

Write `input_gradient(weights, biases, X, k)`: the derivative of output unit `k` of a sigmoid
network with respect to its input, for every row of `X` (shape `(N, D)`, the same as `X`).
The input is just layer 0: backprop's recursion, started from output `k` instead of from the
cost and carried one layer further.

    a_0 = X;  z_l = a_{l-1} @ W_l + b_l,  a_l = sigma(z_l);  y = a_L                (N, K)
    delta_L = e_k * sigma'(z_L)        column k is a_L[:, k] (1 - a_L[:, k]), the others 0
    delta_l = (delta_{l+1} @ W_{l+1}.T) * sigma'(z_l),   l = L-1 .. 1
    dy_k/dX = delta_1 @ W_1.T                                                       (N, D)

`W_l` has shape `(n_{l-1}, n_l)`, `b_l` shape `(n_l,)`; units are numbered `0..K-1`;
`sigmoid` is given. Checked against central differences on sin-based networks 3-5-3 and
3-5-4-3 for every unit, and on random networks when grading.

Write the body marked ``raise NotImplementedError``; sigmoid is given.
"""

import numpy as np


def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), element-wise, without overflow (given)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def input_gradient(weights, biases, X, k):
    """dy_k/dx for every row of X: an array (N, D), row i the gradient of output k at x_i.

    weights: list of W_l (n_{l-1}, n_l); biases: list of b_l (n_l,); X (N, D);
    k: the output unit, an int in 0..K-1. Sigmoid activations on every layer.
    """
    # BEGIN SOLUTION
    acts = [X]
    for W, b in zip(weights, biases):
        acts.append(sigmoid(acts[-1] @ W + b))
    y = acts[-1]
    delta = np.zeros_like(y)
    delta[:, k] = y[:, k] * (1.0 - y[:, k])
    for l in range(len(weights) - 1, 0, -1):   # Python index l holds the math's layer l + 1
        a = acts[l]
        delta = (delta @ weights[l].T) * a * (1.0 - a)
    return delta @ weights[0].T
    # END SOLUTION
