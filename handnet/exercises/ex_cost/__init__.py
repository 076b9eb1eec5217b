"""Exercise 2, cost: its registry entry. The task is the docstring of reference.py (the
reference solution, with its solution markers); the grading checks are in checks.py."""

from ..exercise import Check, Exercise
from . import checks

EXERCISE = Exercise(
    name="cost",
    module=__name__ + ".reference",
    functions=("feedforward", "cost_unregularised", "cost"),
    checks=(
        Check("feedforward", 5.0, checks.check_feedforward),
        Check("cost (lambda = 0)", 9.0, checks.check_cost_unregularised),
        Check("cost (lambda > 0)", 6.0, checks.check_cost_regularised),
    ),
)
