"""Exercise 1, sigmoid: its registry entry. The task is the docstring of reference.py (the
reference solution, with its solution markers); the grading checks are in checks.py."""

from ..exercise import Check, Exercise
from . import checks

EXERCISE = Exercise(
    name="sigmoid",
    module=__name__ + ".reference",
    functions=("sigmoid", "sigmoid_gradient"),
    checks=(
        Check("sigmoid values", 4.0, checks.check_sigmoid_values),
        Check("sigmoid without overflow", 2.0, checks.check_sigmoid_stable),
        Check("sigmoid_gradient", 4.0, checks.check_sigmoid_gradient),
    ),
)
