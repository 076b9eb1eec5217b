"""The registry: every exercise by name, in teaching order, and the one place exercises are looked up.

    EXERCISES["sigmoid"]              the Exercise (ex_sigmoid/__init__.py holds its entry)
    get_exercise("sigmoid")           the same, or a ValueError naming the known ones
    load_registry("my_registry.py")   EXERCISES of a teacher's own registry file (trusted code)
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import sys
import threading

from .ex_backprop_deep import EXERCISE as _backprop_deep
from .ex_backprop_one_hidden import EXERCISE as _backprop_one_hidden
from .ex_cost import EXERCISE as _cost
from .ex_input_gradient import EXERCISE as _input_gradient
from .ex_numerical_gradient import EXERCISE as _numerical_gradient
from .ex_occlusion import EXERCISE as _occlusion
from .ex_sigmoid import EXERCISE as _sigmoid

__all__ = ["EXERCISES", "get_exercise", "load_registry"]

EXERCISES = {exercise.name: exercise for exercise in (
    _sigmoid, _cost, _backprop_one_hidden, _backprop_deep, _numerical_gradient, _input_gradient, _occlusion)}

_REGISTRIES = {}                       # registry file -> its EXERCISES
_REGISTRY_LOCK = threading.Lock()


def load_registry(registry=None):
    """The exercises by name: handnet's ``EXERCISES``, or ``EXERCISES`` of the module file ``registry``.

    ``registry`` (a path to a .py file) is for tests and for teachers trying
    out new exercises outside the package; the file is trusted code, run in
    the grading process (never in a student's).
    """
    if registry is None:
        return EXERCISES
    path = os.path.abspath(os.fspath(registry))
    with _REGISTRY_LOCK:                       # the runner's threads may ask at the same time
        if path not in _REGISTRIES:
            name = f"_handnet_registry_{len(_REGISTRIES)}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None:
                raise ValueError(f"registry: cannot load {registry!r} as a Python module")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
            if not isinstance(getattr(module, "EXERCISES", None), dict):
                raise ValueError(f"registry: {registry!r} defines no EXERCISES dict")
            _REGISTRIES[path] = module.EXERCISES
        return _REGISTRIES[path]


def get_exercise(name, registry=None):
    """The Exercise called ``name``; ValueError naming the known exercises (and the closest) otherwise."""
    exercises = load_registry(registry)
    if isinstance(name, str) and name in exercises:
        return exercises[name]
    close = difflib.get_close_matches(name, list(exercises), n=1) if isinstance(name, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"exercise: no exercise named {name!r}{hint}; expected one of "
                     f"{', '.join(exercises) or '(none)'} (see 'handnet exercises')")
