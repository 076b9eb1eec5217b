"""Exercise 4, backprop_deep: its registry entry. The task is the docstring of reference.py (the
reference solution, with its solution markers); the grading checks are in checks.py."""

from functools import partial

from ..exercise import Check, Exercise
from . import checks

EXERCISE = Exercise(
    name="backprop_deep",
    module=__name__ + ".reference",
    functions=("cost_and_gradient",),
    checks=(
        Check("cost (lambda = 0)", 2.0, partial(checks.check_deep_cost, regularised=False)),
        Check("cost (lambda > 0)", 2.0, partial(checks.check_deep_cost, regularised=True)),
        Check("gradient (lambda = 0)", 10.0, partial(checks.check_deep_gradient, regularised=False)),
        Check("gradient (lambda > 0)", 6.0, partial(checks.check_deep_gradient, regularised=True)),
    ),
)
