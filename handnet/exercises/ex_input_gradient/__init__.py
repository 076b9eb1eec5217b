"""Exercise 6, input_gradient: its registry entry. The task is the docstring of reference.py (the
reference solution, with its solution markers); the grading checks are in checks.py."""

from ..exercise import Check, Exercise
from . import checks

EXERCISE = Exercise(
    name="input_gradient",
    module=__name__ + ".reference",
    functions=("input_gradient",),
    checks=(
        Check("one hidden layer", 5.0, checks.check_input_gradient_one_hidden),
        Check("any depth", 5.0, checks.check_input_gradient_deep),
    ),
)
