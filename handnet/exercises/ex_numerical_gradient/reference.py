# handnet exercise: numerical_gradient
"""Exercise 5: The numerical gradient and the relative error.

Write the numerical gradient that checks backpropagation, and the relative error it is read with.

1. `numerical_gradient(f, theta, h=1e-4)`: `f` takes an array shaped like `theta` and returns a
   number; return the array `g` (same shape as `theta`) of central differences

       g_i = [ f(theta + h e_i) - f(theta - h e_i) ] / (2h)        (e_i: 1 at entry i, 0 elsewhere)

   Use the argument `h`. Leave `theta` unchanged (perturb a copy, or put every entry back).
   Every value must come from calling `f`: the grader counts the evaluations (2 per entry).
   A one-sided difference `[f(theta + h e_i) - f(theta)] / h` is wrong by about `h/2 f''`;
   the central one only by about `h^2/6 f'''`.
2. `relative_error(analytic, numerical)`: element-wise `|a - n| / max(|a|, |n|)`, and `0` where
   both are `0`.

Write the bodies marked ``raise NotImplementedError``; only numpy is needed.
"""

import numpy as np


def numerical_gradient(f, theta, h=1e-4):
    """g = central differences of f at theta, an array shaped like theta.

    f: a function of one array shaped like theta, returning a number (a cost).
    theta: float array of any shape; h: the step.
    g[i] = [f(theta + h e_i) - f(theta - h e_i)] / (2h) for every entry i.
    theta itself must be unchanged afterwards: perturb a copy, or put every entry back.
    """
    # BEGIN SOLUTION
    work = np.array(theta, dtype=np.float64)     # a copy: the caller's theta is never touched
    grad = np.zeros_like(work)
    flat, g = work.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + h
        f_plus = f(work)
        flat[i] = original - h
        f_minus = f(work)
        flat[i] = original
        g[i] = (f_plus - f_minus) / (2.0 * h)
    return grad
    # END SOLUTION


def relative_error(analytic, numerical):
    """rel = |a - n| / max(|a|, |n|), element-wise, and 0 where a and n are both 0.

    analytic, numerical: arrays of the same shape. Returns an array of that shape.
    """
    # BEGIN SOLUTION
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    scale = np.maximum(np.abs(a), np.abs(n))
    return np.divide(np.abs(a - n), scale, out=np.zeros_like(scale), where=scale > 0)
    # END SOLUTION
