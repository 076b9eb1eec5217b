"""The shapes every exercise shares: an Exercise is a reference module plus its grading checks.

    Exercise(name="sigmoid", module="handnet.exercises.ex_sigmoid.reference",
             functions=("sigmoid", "sigmoid_gradient"),
             checks=(Check("sigmoid_gradient", 4.0, run_fn), ...))

The words, one per idea:

* a **check** is one scored part of an exercise's grade (``Check``: a name,
  points and a function ``run(student, seed) -> str``);
* a **comparison** (``handnet.exercises.compare``) is how a check sets the
  student's answer against the expected one and explains the difference;
* **self-check** is what ``handnet check FILE`` does for a student: run every
  check of their file;
* the **gradient checker** is ``handnet.gradcheck`` (``hn.check_gradient``), a
  library feature that has nothing to do with grading.

A check's ``run(student, seed)``:

* returns a short message when the student's code passes;
* raises ``WrongAnswer(message)`` when the answer is wrong; the message names
  the worst entry and, where the pattern is recognisable, a hint;
* a ``NotImplementedError`` from the student's code means the part is not done
  yet (status TODO); any other exception is reported as a failure with its line.

``student`` answers calls of the student's functions by name
(``student.sigmoid(z)``); when grading it is a proxy to a contained child
process (see ``handnet.exercises.grading``), so the check itself always runs in
the grading process. ``seed=None`` is the public run with fixed, deterministic
inputs (the course's sin-based debug weights); an integer seed picks hidden
variants (other shapes and values) at grading time.

The exercise's title and statement are its reference module's docstring (first
line "Exercise N: Title.", then the task), so they are written once and the
student's copy carries them too.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Check", "WrongAnswer", "Exercise", "STATUSES"]

#: The statuses a check can end with.
STATUSES = ("PASS", "FAIL", "TODO")

#: "Exercise 3: backpropagation with one hidden layer." -> "Backpropagation with one hidden layer"
_TITLE = re.compile(r"^\s*(?:Exercise\s+\d+\s*:\s*)?(.*?)\.?\s*$")


class WrongAnswer(AssertionError):
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
    module: str
    functions: tuple
    checks: tuple

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

        try:
            spec = importlib.util.find_spec(self.module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin is None:
            raise ValueError(f"module: cannot find the reference module {self.module!r}")
        return spec.origin

    def _docstring(self):
        """The reference module's docstring, read (never imported); '' when there is none."""
        try:
            with open(self.reference_path(), encoding="utf-8") as fh:
                return ast.get_docstring(ast.parse(fh.read())) or ""
        except (OSError, ValueError, SyntaxError):
            return ""

    @property
    def title(self):
        """The first line of the reference's docstring without its 'Exercise N:' (the name if none)."""
        first = self._docstring().strip().split("\n", 1)[0]
        title = _TITLE.match(first).group(1) if first else ""
        return title[:1].upper() + title[1:] if title else self.name

    @property
    def statement(self):
        """The task: the reference's docstring after its first line."""
        parts = self._docstring().strip().split("\n", 1)
        return parts[1].strip() if len(parts) == 2 else ""
