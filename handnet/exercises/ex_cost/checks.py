"""The grading checks of the cost exercise: the output, the cost with lambda = 0 and with lambda > 0."""

from __future__ import annotations

from ..compare import as_array, as_number, compare_arrays, student_function
from ..network_checks import compare_cost, network_cost
from ..problems import problem_for


def _cost_problems(seed, regularised):
    """Public: the course's 3-5-3 network; seeded: random networks with one and with two hidden
    layers (every seed both, so a cost written for one hidden layer only fails on every seed)."""
    if seed is None:
        return [problem_for(None, regularised)]
    return [problem_for(seed, regularised, n_hidden=n_hidden) for n_hidden in (1, 2)]


def _cost_call(student, name, problem, with_lam):
    fn = student_function(student, name)
    weights, biases, X, y = problem.student_args()
    return fn(weights, biases, X, y, problem.lam) if with_lam else fn(weights, biases, X, y)


def check_feedforward(student, seed):
    """feedforward(weights, biases, X) against the network's output a_L."""
    fn = student_function(student, "feedforward")
    problems = _cost_problems(seed, False)
    for problem in problems:
        weights, biases, X, _ = problem.student_args()
        net = problem.net()
        shape = (problem.m, problem.K)
        what = f"feedforward on {problem.description}"
        h = as_array(what, fn(weights, biases, X), shape)
        zs, _ = net.forward_pass(problem.X)
        compare_arrays("h", h, net.predict_proba(problem.X), what=what,
                       variants=[("the output layer needs the sigmoid too: h = a_L = sigma(z_L), you returned "
                                  "z_L.", zs[-1])])
    return f"h = a_L is right on {', '.join(p.description for p in problems)}"


def check_cost_unregularised(student, seed):
    """cost_unregularised against handnet's cost with lambda = 0."""
    problems = _cost_problems(seed, False)

    def read(value, problem):
        return as_number(f"cost_unregularised on {problem.description}", value)

    return compare_cost(problems, lambda p: _cost_call(student, "cost_unregularised", p, False), read)


def check_cost_regularised(student, seed):
    """cost(..., lam) against handnet's cost with lambda > 0 (the course's 3 in the public run)."""
    problems = _cost_problems(seed, True)

    def read(value, problem):
        return as_number(f"cost on {problem.where()}", value)

    def unregularised_hint():
        try:
            for problem in problems:
                mine = float(_cost_call(student, "cost_unregularised", problem, False))
                if abs(mine - network_cost(problem.net(), problem.X, problem.y)) > 1e-9 * abs(mine):
                    return ["your cost_unregularised is wrong too (see its check), and cost adds the "
                            "penalty to it."]
        except Exception:                     # noqa: BLE001 - not written yet, or unusable
            return []
        return []

    return compare_cost(problems, lambda p: _cost_call(student, "cost", p, True), read,
                             first_hints=unregularised_hint)

