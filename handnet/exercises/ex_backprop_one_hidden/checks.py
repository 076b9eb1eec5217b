"""The grading checks of backprop with one hidden layer: the cost and the gradient, lambda = 0 and > 0."""

from __future__ import annotations

from ..compare import as_array, as_number, as_sequence, compare_gradient, describe, student_function
from ..exercise import WrongAnswer
from ..network_checks import (GRADIENT_ADVICE, check_placement, compare_cost, gradient_variants,
                              reference_cost_function)
from ..problems import problem_for


ONE_HIDDEN_NAMES = ("W1", "b1", "W2", "b2")


def _one_hidden_problems(seed, regularised):
    return [problem_for(seed, regularised, n_hidden=1)]


def _one_hidden_call(student, problem, params=None):
    """cost_and_gradient(W1, b1, W2, b2, X, y, lam) of the student, on copies."""
    fn = student_function(student, "cost_and_gradient")
    W1, b1, W2, b2 = ([p.copy() for p in params] if params is not None else
                      [problem.weights[0].copy(), problem.biases[0].copy(),
                       problem.weights[1].copy(), problem.biases[1].copy()])
    return fn(W1, b1, W2, b2, problem.X.copy(), problem.y.copy(), problem.lam)


def _read_pair(value, what, names):
    """(J, gradient) from a returned (J, (dW1, db1, dW2, db2)); WrongAnswer on a wrong structure."""
    J, grads = as_sequence(what, value, ("J", "(" + ", ".join("d" + n for n in names) + ")"))
    if isinstance(J, (tuple, list)) and not isinstance(grads, (tuple, list)):
        raise WrongAnswer(f"{what}: got {describe(value)} with the gradients first; return "
                          f"(J, ({', '.join('d' + n for n in names)})) in this order")
    return J, grads


def _one_hidden_gradient(value, problem):
    what = f"cost_and_gradient on {problem.where()}"
    _, grads = _read_pair(value, what, ONE_HIDDEN_NAMES)
    grads = as_sequence(f"{what}: the gradient", grads, tuple("d" + n for n in ONE_HIDDEN_NAMES))
    check_placement(what, ["d" + n for n in ONE_HIDDEN_NAMES], grads, _one_hidden_params(problem),
                    reference_cost_function(problem, _unpack))
    shapes = {n: p.shape for n, p in zip(ONE_HIDDEN_NAMES, _one_hidden_params(problem))}
    return [as_array(f"{what}: d{n}", g, shapes[n], {"d" + o: s for o, s in shapes.items() if o != n})
            for n, g in zip(ONE_HIDDEN_NAMES, grads)]


def _one_hidden_params(problem):
    return [problem.weights[0], problem.biases[0], problem.weights[1], problem.biases[1]]


def _unpack(arrays):
    """[W1, b1, W2, b2] -> ((W1, W2), (b1, b2))."""
    return (arrays[0], arrays[2]), (arrays[1], arrays[3])


def _one_hidden_cost(value, problem):
    J, _ = _read_pair(value, f"cost_and_gradient on {problem.where()}", ONE_HIDDEN_NAMES)
    return as_number(f"cost_and_gradient on {problem.where()}: J", J)


def check_one_hidden_cost(student, seed, regularised):
    return compare_cost(_one_hidden_problems(seed, regularised),
                             lambda p: _one_hidden_call(student, p), _one_hidden_cost)


def check_one_hidden_gradient(student, seed, regularised):
    messages = []
    for problem in _one_hidden_problems(seed, regularised):
        grads = _one_hidden_gradient(_one_hidden_call(student, problem), problem)
        params = _one_hidden_params(problem)

        def own_cost(arrays, problem=problem):
            return _one_hidden_cost(_one_hidden_call(student, problem, arrays), problem)

        messages.append(compare_gradient(
            [(n, n[0], g) for n, g in zip(ONE_HIDDEN_NAMES, grads)], params,
            reference_cost_function(problem, _unpack), own_cost,
            problem.where(), problem.m, problem.lam,
            variants=lambda p=problem: gradient_variants(p, lambda dWs, dbs: [dWs[0], dbs[0], dWs[1], dbs[1]]),
            advice=GRADIENT_ADVICE))
    return "; ".join(messages)

