"""Exercise 5, numerical_gradient: its registry entry. The task is the docstring of reference.py (the
reference solution, with its solution markers); the grading checks are in checks.py."""

from ..exercise import Check, Exercise
from . import checks

EXERCISE = Exercise(
    name="numerical_gradient",
    module=__name__ + ".reference",
    functions=("numerical_gradient", "relative_error"),
    checks=(
        Check("central differences", 4.0, checks.check_central_differences),
        Check("the step h", 2.0, checks.check_step),
        Check("theta unchanged", 2.0, checks.check_theta_unchanged),
        Check("relative_error", 2.0, checks.check_relative_error),
    ),
)
