"""The grading checks of the input gradient exercise: dy_k/dX against central differences."""

from __future__ import annotations

import numpy as np

from ...activations import sigmoid_function
from ..compare import GRADIENT_FLOOR, GRADIENT_RTOL, as_array, compare_arrays, numerical_gradients, student_function
from ..problems import explain_problem


def _input_gradient_variant(problem, k, hidden_prime=True):
    """dy_k/dX with the hidden layers' sigma' left out (a known mistake)."""
    acts = [problem.X]
    for W, b in zip(problem.weights, problem.biases):
        acts.append(sigmoid_function(acts[-1] @ W + b))
    y = acts[-1]
    delta = np.zeros_like(y)
    delta[:, k] = y[:, k] * (1.0 - y[:, k])
    for l in range(len(problem.weights) - 1, 0, -1):
        delta = delta @ problem.weights[l].T
        if hidden_prime:
            delta = delta * acts[l] * (1.0 - acts[l])
    return delta @ problem.weights[0].T


def _check_input_gradient(student, problems):
    """dy_k/dX for every output unit k of every problem, against central differences."""
    fn = student_function(student, "input_gradient")
    for problem in problems:
        _check_units(fn, problem)
    return (f"dy_k/dX agrees with central differences for every output unit k on "
            f"{', '.join(p.description for p in problems)}")


def _check_units(fn, problem):
    """input_gradient(..., k) of the student against central differences of y_k, k = 0..K-1."""
    net = problem.net()
    K = problem.K
    for k in range(K):
        what = f"input_gradient(..., k={k}) on {problem.description}"
        weights, biases, X, _ = problem.student_args()
        got = as_array(what, fn(weights, biases, X, k), problem.X.shape)

        def y_k(arrays, k=k):
            return float(np.sum(net.predict_proba(arrays[0])[:, k]))     # rows are independent

        numerical = numerical_gradients(y_k, [problem.X])[0]

        def variants(k=k):
            from ... import explain

            out = [("that is the derivative of z_L (before the output sigmoid), not of y = a_L: "
                    "delta_L = e_k * sigma'(z_L).",
                    explain.input_gradient(net, problem.X, k, wrt="preactivation"))]
            out += [(f"that is the gradient of output {j}, not of output {k}: units are numbered 0..K-1, "
                     f"and delta_L is zero except in column k.", explain.input_gradient(net, problem.X, j))
                    for j in range(K) if j != k]
            out.append(("that is the gradient of the sum of all outputs: start delta_L from unit k only "
                        "(zero in every other column).",
                        sum(explain.input_gradient(net, problem.X, j) for j in range(K))))
            if len(problem.weights) > 1:
                out.append(("the hidden deltas lack sigma'(z_l): delta_l = (delta_{l+1} @ W_{l+1}.T) * "
                            "sigma'(z_l).", _input_gradient_variant(problem, k, hidden_prime=False)))
            return out

        compare_arrays(f"dy_{k}/dX", got, numerical, rtol=GRADIENT_RTOL, floor=GRADIENT_FLOOR, what=what,
                       labels=("analytic", "numerical"), variants=variants,
                       advice={"sign": "dy/dx = delta_1 @ W_1.T with delta_L = +e_k sigma'(z_L)."})


def check_input_gradient_one_hidden(student, seed):
    return _check_input_gradient(student, [explain_problem(seed, (3, 5, 3), 1)])


def check_input_gradient_deep(student, seed):
    """Public: the 3-5-4-3 network; seeded: random networks with 2 and with 3 hidden layers."""
    if seed is None:
        return _check_input_gradient(student, [explain_problem(None, (3, 5, 4, 3), 2)])
    return _check_input_gradient(student, [explain_problem(seed, None, n_hidden) for n_hidden in (2, 3)])

