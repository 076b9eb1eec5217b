"""Classroom exercises: reference solutions with markers, student copies, an offline grader.

    handnet exercises                 list the exercises and their points
    handnet assign NAME -o DIR        write the student's copy of one exercise
    handnet validate [NAME]           the references pass every check, the stubs fail every one
    handnet check FILE                a student's self-check: every check of their file
    handnet grade DIR --seed N        grade a folder of submissions, one subfolder per student

Layout: one folder per exercise, ``ex_NAME/`` (``reference.py``: the reference
solution, whose docstring is the task; ``checks.py``: its grading checks;
``__init__.py``: its registry entry); ``registry.py`` lists them in teaching
order; ``exercise.py`` (Exercise, Check, WrongAnswer), ``compare.py`` (the
comparisons checks are made of), ``problems.py`` (the inputs) and
``network_checks.py`` (what the network exercises share) are the toolkit for
writing checks; ``grading/`` is the machinery that runs them on students' files.
"""

from .exercise import Check, Exercise, WrongAnswer
from .registry import EXERCISES, get_exercise, load_registry

__all__ = ["Check", "Exercise", "WrongAnswer", "EXERCISES", "get_exercise", "load_registry"]
