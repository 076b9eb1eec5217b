"""Functions the grading side lends to a student's code, and evaluates itself when asked.

A numerical-gradient exercise gives the student a function ``f`` to differentiate. Its
definition never reaches the student's child: the child hands the student's code an
opaque stand-in (``worker``), and each call ``f(theta)`` there comes up the wire as
``{"evaluate": K, "theta": array}`` and is answered here, where the ``GraderFunction``
checks theta, counts the evaluation, records where it was made and computes the value::

    f = GraderFunction("f", lambda t: float(np.sum(np.sin(t))), shape=(3, 2))
    student.numerical_gradient(f, theta)      # the child asks, this process answers
    f.evaluations                             # counted here: nothing in the child can change it
    f.points                                  # and where: an array (evaluations, 3, 2)

Called directly (a module imported in-process, as the tests do) it behaves the same:
the same checks of theta, the same count and the same limit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GraderFunction", "TooManyEvaluations", "MAX_EVALUATIONS"]

#: How many times a student's code may ask for f over the function's life (a check makes one per call).
MAX_EVALUATIONS = 1000


class TooManyEvaluations(BaseException):
    """The student's code asked for more than ``max_evaluations`` values of f: the call is stopped.
    A BaseException, so that neither the student's code nor a hint can swallow it."""


def _entry(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


class GraderFunction:
    """f(theta) = ``formula(theta)`` for arrays of exactly ``shape``; counts its evaluations.

    name          what the student's code calls it in messages ('f')
    formula       a function of a float64 array of ``shape``, returning a number
    shape         the shape theta must have
    evaluations   how many values of f were computed (requests refused for a bad theta excluded)
    points        the thetas they were computed at, in order: an array (evaluations, *shape); at most
                  ``max_evaluations`` of them, so its memory is bounded like the work
    """

    def __init__(self, name, formula, shape, max_evaluations=MAX_EVALUATIONS):
        self.name, self.formula, self.shape = str(name), formula, tuple(int(n) for n in shape)
        self.max_evaluations = int(max_evaluations)
        self.evaluations = 0
        self.requests = 0
        self._points = []

    @property
    def points(self):
        """The thetas f was evaluated at, in order, as a float64 array (evaluations, *shape)."""
        return np.array(self._points, dtype=np.float64).reshape((len(self._points), *self.shape))

    def theta(self, theta):
        """``theta`` as a float64 array of ``shape``; a ValueError or TypeError that says what is wrong."""
        if not isinstance(theta, np.ndarray):
            raise TypeError(f"{self.name} takes a numpy array shaped like theta {self.shape}, got "
                            f"{type(theta).__name__}")
        if theta.dtype.kind not in "iuf" or theta.dtype.fields:
            raise TypeError(f"{self.name} takes an array of real numbers, got an array of dtype {theta.dtype}")
        if theta.shape != self.shape:
            raise ValueError(f"{self.name} takes an array shaped like theta {self.shape}, got an array of "
                             f"shape {theta.shape}")
        theta = theta.astype(np.float64)
        bad = ~np.isfinite(theta)
        if np.any(bad):
            index = tuple(np.argwhere(bad)[0])
            raise ValueError(f"{self.name} takes finite numbers: theta{_entry(index)} is {theta[index]} "
                             f"({int(bad.sum())} of {theta.size} entries are not finite)")
        return theta

    def __call__(self, theta):
        """f(theta) as a Python float, counted and its theta recorded; TooManyEvaluations past the limit."""
        self.requests += 1
        if self.requests > self.max_evaluations:
            raise TooManyEvaluations(
                f"your code asked for more than {self.max_evaluations} values of {self.name} in one call "
                f"(theta has {int(np.prod(self.shape))} entries): it was stopped. Is a loop over the entries "
                "not ending?")
        t = self.theta(theta)                 # a copy: the caller's array can change, the record cannot
        t.setflags(write=False)
        with np.errstate(all="ignore"):
            value = float(self.formula(t))
        self._points.append(t)
        self.evaluations += 1
        return value

    def answer(self, theta):
        """The reply to the child's request for f(theta): {"value": float} or {"error": {"type", "message"}}."""
        try:
            return {"value": self(theta)}
        except (ValueError, TypeError) as exc:
            return {"error": {"type": type(exc).__name__, "message": str(exc)}}

    def __repr__(self):
        return f"<the grader's function {self.name} of an array of shape {self.shape}>"
