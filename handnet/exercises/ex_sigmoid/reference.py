# handnet exercise: sigmoid
"""Exercise 1: The sigmoid and its gradient.

Write the logistic sigmoid and its derivative, element-wise for a number or an
array of any shape (the result has the shape of `z`):

    sigma(z)  = 1 / (1 + exp(-z))
    sigma'(z) = d sigma / dz = sigma(z) (1 - sigma(z))

- `sigmoid(z)` must be right far out too (checked at `z = +-710, +-1000`: values near 0
  and 1, no `nan`): `exp(-z)` is `inf` for `z < -709` (numpy warns "overflow encountered
  in exp"), and a formula that then computes `inf / inf` gives `nan`. Exponentiate only
  `-|z|`: for `z >= 0` use `1 / (1 + exp(-z))`, for `z < 0` the same number written as
  `exp(z) / (1 + exp(z))`.
- `sigmoid_gradient(z)`: `sigmoid_gradient(0)` is exactly `0.25`, the largest value it takes.

Write the bodies marked ``raise NotImplementedError``; only numpy is needed.
"""

import numpy as np


def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), element-wise, with no overflow for large |z|.

    z: a number or an array of any shape (float64). Returns the same shape.

    exp(-z) overflows for z < -709 (numpy warns "overflow encountered in exp").
    Only ever exponentiate -|z| <= 0:

        z >= 0:  sigma(z) = 1 / (1 + exp(-z))
        z <  0:  sigma(z) = exp(z) / (1 + exp(z))

    Both lines are the same number; the second one multiplies the first by
    exp(z) / exp(z). With e = exp(-|z|) they are 1 / (1 + e) and e / (1 + e).
    """
    # BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))                      # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0, e) / (1.0 + e)
    # END SOLUTION


def sigmoid_gradient(z):
    """sigma'(z) = d sigma / dz = sigma(z) (1 - sigma(z)), element-wise.

    z: a number or an array of any shape (float64). Returns the same shape.
    sigmoid_gradient(0) is exactly 0.25.
    """
    # BEGIN SOLUTION
    s = sigmoid(z)
    return s * (1.0 - s)
    # END SOLUTION
