"""The shapes every exercise shares: an Exercise is a reference module plus its checks.

    Exercise(name="sigmoid", title="...", module="handnet.exercises.sigmoid",
             functions=("sigmoid", "sigmoid_gradient"),
             checks=(Check("sigmoid_gradient(0) = 0.25", 1.0, run_fn), ...),
             statement="...markdown with the equations...")

A check is a function ``run(student_module, seed) -> str``:

* it returns a short message when the student's code passes;
* it raises ``CheckFailed(message)`` when the answer is wrong; the message names
  the worst entry and, where the pattern is recognisable, a hint;
* a ``NotImplementedError`` from the student's code means the part is not done
  yet (status TODO); any other exception is reported as a failure with its line.

``seed=None`` is the public run with fixed, deterministic inputs (the course's
sin-based debug weights); an integer seed picks hidden variants (other shapes
and values) at grading time. Checks run in a subprocess (see ``runner``), never
in the grader's own process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Check", "CheckFailed", "Exercise", "STATUSES"]

#: The statuses a check can end with.
STATUSES = ("PASS", "FAIL", "TODO")


class CheckFailed(AssertionError):
    """Raised by a check when the student's answer is wrong; str(exc) is shown to the student."""


@dataclass(frozen=True)
class Check:
    """One scored check: its name (unique within its exercise), its points and the function that runs it."""

    name: str
    points: float
    run: Callable = field(repr=False)


@dataclass(frozen=True)
class Exercise:
    """One exercise: the reference module (with solution markers), the functions to write, the checks."""

    name: str
    title: str
    module: str
    functions: tuple
    checks: tuple
    statement: str = field(repr=False, default="")

    @property
    def max_score(self):
        """The exercise's total points: the sum over its checks."""
        return float(sum(check.points for check in self.checks))

    def check_named(self, name):
        """The check called ``name``; ValueError naming the known checks otherwise."""
        for check in self.checks:
            if check.name == name:
                return check
        known = ", ".join(repr(c.name) for c in self.checks)
        raise ValueError(f"check: exercise {self.name!r} has no check {name!r}; expected one of {known}")

    def reference_path(self):
        """The file of the reference module (the teacher's copy with the solutions)."""
        import importlib.util

        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            raise ValueError(f"module: cannot find the reference module {self.module!r}")
        return spec.origin
