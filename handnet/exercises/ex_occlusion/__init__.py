"""Exercise 7, occlusion: its registry entry. The task is the docstring of reference.py (the
reference solution, with its solution markers); the grading checks are in checks.py."""

from ..exercise import Check, Exercise
from . import checks

EXERCISE = Exercise(
    name="occlusion",
    module=__name__ + ".reference",
    functions=("window_starts", "occlusion"),
    checks=(
        Check("window positions", 3.0, checks.check_window_starts),
        Check("windows of one feature", 3.0, checks.check_occlusion_single),
        Check("windows, stride and baseline", 4.0, checks.check_occlusion_windows),
    ),
)
