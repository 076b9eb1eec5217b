# handnet exercise: occlusion
"""Exercise 7: Occlusion.

Write occlusion for a sigmoid network (`sigmoid` and `predict(weights, biases, X) -> (N, K)` are given).

1. `window_starts(D, window, stride)`: the first feature of every window position,
   `[0, s, 2s, ...]`, with `P = ceil((D - window) / stride) + 1` positions. The last window may
   stick out past feature `D - 1`; it is then cut off at the edge (for `D = 8, window = 3,
   stride = 2`: `[0, 2, 4, 6]`, the last covering features 6 and 7 only).
2. `occlusion(weights, biases, X, k, window, stride=1, baseline=0.0)`: for every window
   position `p`, set the covered features of every row to `baseline` and record the drop
   `d_p = y_k(x) - y_k(x covered)`; a feature's attribution is the **mean** of `d_p` over the
   windows that cover it. Returns `A` of shape `(N, D)`.

These are the positions and the averaging of Captum's `Occlusion` (and of
`handnet.explain.occlusion`, which the checks compare with).

Write the bodies marked ``raise NotImplementedError``; sigmoid and predict are given.
"""

import numpy as np


def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), element-wise, without overflow (given)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def predict(weights, biases, X):
    """The network's outputs y = a_L (N, K) for X (N, D); a_l = sigma(a_{l-1} @ W_l + b_l) (given)."""
    a = np.asarray(X, dtype=np.float64)
    for W, b in zip(weights, biases):
        a = sigmoid(a @ W + b)
    return a


def window_starts(D, window, stride):
    """The first feature of every window position: [0, s, 2s, ...], P = ceil((D - window) / s) + 1 of them.

    D: the number of features; window: its width (1 <= window <= D); stride: s >= 1.
    Returns a list of P ints. For D = 8, window = 3, stride = 2: [0, 2, 4, 6]
    (the window at 6 covers features 6 and 7 only: it is cut off at the edge).
    """
    # BEGIN SOLUTION
    P = -(-(D - window) // stride) + 1          # ceil((D - window) / stride) + 1, in integers
    return [p * stride for p in range(P)]
    # END SOLUTION


def occlusion(weights, biases, X, k, window, stride=1, baseline=0.0):
    """Occlusion attributions A (N, D) of output unit k.

    weights, biases: the network (as in predict); X (N, D); k: output unit in 0..K-1;
    window, stride: ints as in window_starts; baseline: the number a covered feature is set to.
    A[i, j] = mean over the windows covering feature j of  y_k(x_i) - y_k(x_i with the window covered).
    """
    # BEGIN SOLUTION
    N, D = X.shape
    starts = np.array(window_starts(D, window, stride))
    P = len(starts)
    j = np.arange(D)
    covers = (j >= starts[:, None]) & (j < starts[:, None] + window)   # (P, D): window p covers feature j
    X_covered = np.where(covers[:, None, :], baseline, X)              # (P, N, D): all windows at once
    y = predict(weights, biases, X)[:, k]                               # (N,)
    y_covered = predict(weights, biases, X_covered.reshape(P * N, D))[:, k].reshape(P, N)
    total = (y - y_covered).T @ covers                                  # (N, D): the drops summed
    count = covers.sum(axis=0)                                          # (D,): windows covering j
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    # END SOLUTION
