"""The registry: every exercise, in teaching order (filled in by the exercise modules)."""

from __future__ import annotations

EXERCISES = {}


def get_exercise(name):
    """The Exercise called ``name``; ValueError naming the known exercises otherwise."""
    try:
        return EXERCISES[name]
    except (KeyError, TypeError):
        known = ", ".join(EXERCISES) or "(none yet)"
        raise ValueError(f"exercise: no exercise named {name!r}; expected one of {known}") from None
