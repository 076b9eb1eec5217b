"""Classroom exercises: reference solutions with markers, student copies, an offline autograder.

    handnet exercises                 list the exercises and their points
    handnet assign NAME -o DIR        write the student copy of one exercise
    handnet validate [NAME]           the references pass every check, the stubs fail every one
    handnet check FILE                a student's self-check (each check in its own subprocess)
    handnet grade DIR --seed N        grade a folder of submissions, one subfolder per student

``EXERCISES`` maps each exercise's name to its ``Exercise`` (see ``base``), in
teaching order.
"""

from .base import Check, CheckFailed, Exercise
from .catalog import EXERCISES, get_exercise

__all__ = ["Check", "CheckFailed", "Exercise", "EXERCISES", "get_exercise"]
