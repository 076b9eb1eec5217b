"""The grading checks of backprop for any depth: the cost and the gradient, lambda = 0 and > 0."""

from __future__ import annotations

import numpy as np

from ..compare import as_array, as_number, as_sequence, compare_gradient, describe, student_function
from ..exercise import WrongAnswer
from ..network_checks import (GRADIENT_ADVICE, check_placement, compare_cost, gradient_variants,
                              reference_cost_function)
from ..problems import problem_for


def _deep_problems(seed, regularised):
    """Public: the debug 3-5-3 and 3-5-4-3 networks; seeded: random networks with 1, 2 and 3 hidden
    layers (every seed all three depths: only the sizes and values change with the seed)."""
    if seed is None:
        return [problem_for(None, regularised, layer_sizes=sizes) for sizes in ((3, 5, 3), (3, 5, 4, 3))]
    return [problem_for(seed, regularised, n_hidden=n_hidden) for n_hidden in (1, 2, 3)]


def _deep_call(student, problem, weights=None, biases=None):
    fn = student_function(student, "cost_and_gradient")
    w, b, X, y = problem.student_args()
    if weights is not None:
        w, b = [W.copy() for W in weights], [v.copy() for v in biases]
    return fn(w, b, X, y, problem.lam)


def _read_deep(value, problem):
    """(J, dWs, dbs) from the student's return value; WrongAnswer on a wrong structure."""
    what = f"cost_and_gradient on {problem.where()}"
    items = as_sequence(what, value, ("J", "dWs", "dbs"))
    if isinstance(items[0], (tuple, list)) and not isinstance(items[-1], (tuple, list, np.ndarray)):
        raise WrongAnswer(f"{what}: got {describe(value)} with J last; return (J, dWs, dbs) in this order")
    return items


def _deep_gradient(value, problem):
    what = f"cost_and_gradient on {problem.where()}"
    _, dWs, dbs = _read_deep(value, problem)
    L = len(problem.weights)
    dWs = as_sequence(f"{what}: dWs", dWs, tuple(f"dWs[{l}]" for l in range(L)))
    dbs = as_sequence(f"{what}: dbs", dbs, tuple(f"dbs[{l}]" for l in range(L)))
    check_placement(what, [f"dWs[{l}]" for l in range(L)] + [f"dbs[{l}]" for l in range(L)],
                    list(dWs) + list(dbs), list(problem.weights) + list(problem.biases),
                    reference_cost_function(problem, lambda arrays: (arrays[:L], arrays[L:])))
    shapes = {f"dWs[{l}]": W.shape for l, W in enumerate(problem.weights)}
    shapes.update({f"dbs[{l}]": b.shape for l, b in enumerate(problem.biases)})
    return [as_array(f"{what}: {name}", g, shapes[name], {o: s for o, s in shapes.items() if o != name})
            for name, g in zip(shapes, list(dWs) + list(dbs))]


def _deep_cost(value, problem):
    J = _read_deep(value, problem)[0]
    return as_number(f"cost_and_gradient on {problem.where()}: J", J)


def check_deep_cost(student, seed, regularised):
    return compare_cost(_deep_problems(seed, regularised), lambda p: _deep_call(student, p), _deep_cost)


def check_deep_gradient(student, seed, regularised):
    messages = []
    for problem in _deep_problems(seed, regularised):
        L = len(problem.weights)
        grads = _deep_gradient(_deep_call(student, problem), problem)
        names = [f"dWs[{l}]" for l in range(L)] + [f"dbs[{l}]" for l in range(L)]

        def split(arrays, L=L):
            return arrays[:L], arrays[L:]

        def own_cost(arrays, problem=problem, split=split):
            return _deep_cost(_deep_call(student, problem, *split(arrays)), problem)

        messages.append(compare_gradient(
            [(n, "W" if n.startswith("dW") else "b", g) for n, g in zip(names, grads)],
            list(problem.weights) + list(problem.biases), reference_cost_function(problem, split), own_cost,
            problem.where(), problem.m, problem.lam,
            variants=lambda p=problem: gradient_variants(p, lambda dWs, dbs: list(dWs) + list(dbs)),
            advice=GRADIENT_ADVICE))
    return "; ".join(messages)

