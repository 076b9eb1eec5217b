"""The subprocess that runs ONE check on ONE student file; started by ``runner.run_check``.

    python .../handnet/exercises/_worker.py --file PATH --exercise NAME --check NAME [--seed N]
    (python -m handnet.exercises._worker ... works too, but starts slower; see below)

Protocol: the first line on stdin is a random sentinel (read, then stdin is
replaced by /dev/null, so the student's code can neither read it nor hang in
input()). Whatever the student's code prints goes to stdout/stderr as usual;
the last thing the worker writes is one line::

    <sentinel>{"status": "PASS" | "FAIL" | "TODO" | "ERROR", "message": "...", "seconds": ...}

on a private duplicate of the original stdout, so the student's code cannot
close or replace it. ERROR means the check itself could not run (an unknown
exercise, a broken registry): not the student's fault, reported as a FAIL.

Start-up cost. ``python -m handnet.exercises._worker`` would run
``handnet/__init__.py`` first, which imports pandas (about 0.35 s on the
project's machine) before a single line of this file runs. Started as a
script, the worker instead registers the ``handnet`` package it belongs to
(the caller's copy, found from this file's own path, never from the student's
folder) without running its ``__init__``: ``import handnet.exercises.registry``
then loads only what the checks import, and the first use of a top-level name
such as ``handnet.MLP`` runs the real ``__init__`` on demand.

The student's file is loaded from its path with ``spec_from_file_location``
under a unique module name; its folder is not put on sys.path, so it can
neither shadow handnet nor be replaced by the installed reference solution.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and __package__ in (None, ""):
    # Started as a script: sys.path[0] is this file's folder (without -P); drop it so that
    # the modules next to this file are only ever imported as handnet.exercises.<name>.
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import importlib.util  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402

__all__ = ["main", "describe_exception", "MAX_MESSAGE"]

#: A message longer than this (a student's huge exception text) is cut in the middle.
MAX_MESSAGE = 4000



class _LazyPackage(types.ModuleType):
    """The ``handnet`` package before its ``__init__`` has run.

    Submodules import as usual (``import handnet.costs``, ``from handnet import costs``);
    any other name (``handnet.MLP``, ``handnet.__version__``) first runs the real
    ``__init__`` in this module, then is looked up again.
    """

    def __getattr__(self, name):
        state = self.__dict__
        if name.isidentifier() and importlib.util.find_spec(f"{self.__name__}.{name}") is not None:
            return importlib.import_module(f"{self.__name__}.{name}")
        if state.get("_handnet_initialised"):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        state["_handnet_initialised"] = True
        self.__spec__.loader.exec_module(self)
        try:
            return state[name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None


def _register_light_handnet():
    """Put the handnet package this file belongs to into sys.modules, its __init__ not yet run."""
    if "handnet" in sys.modules:
        return
    package_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    spec = importlib.util.spec_from_file_location(
        "handnet", os.path.join(package_dir, "__init__.py"), submodule_search_locations=[package_dir])
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _LazyPackage
    sys.modules["handnet"] = module


def _shorten(text, limit=MAX_MESSAGE):
    text = str(text)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - limit} characters left out) ...\n{text[-half:]}"


def _same_file(a, b):
    """Whether the paths ``a`` and ``b`` name the same file (either may be relative to the cwd)."""
    def norm(path):
        return os.path.normcase(os.path.abspath(path))

    return a is not None and b is not None and norm(a) == norm(b)


def describe_exception(exc, student_path):
    """'ExcType: message' and where it happened, for someone who knows only their own file.

    The place is the last traceback frame inside ``student_path`` (the line of
    *their* code that led to the error) with that line's source; when no frame
    is in their file, the error came from the check's own code after their
    function returned, which usually means it returned the wrong type or shape.
    """
    name = os.path.basename(student_path)
    head = f"{type(exc).__name__}: {_shorten(exc)}" if str(exc) else type(exc).__name__
    if isinstance(exc, SyntaxError) and _same_file(exc.filename, student_path):
        source = (exc.text or "").rstrip("\r\n")
        pointer = ""
        if source and exc.offset:
            stripped = source.lstrip()
            col = max(exc.offset - 1 - (len(source) - len(stripped)), 0)
            pointer = "\n      " + " " * col + "^"
            source = stripped
        return (f"{type(exc).__name__}: {exc.msg}\n  at {name}:{exc.lineno}"
                + (f":\n      {source}{pointer}" if source else ""))
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if _same_file(f.filename, student_path)]
    if own:
        frame = own[-1]
        where = f"\n  at {name}:{frame.lineno}, in {frame.name}()"
        return head + where + (f":\n      {frame.line}" if frame.line else "")
    if frames:
        frame = frames[-1]
        return (head + f"\n  raised in the check's code ({os.path.basename(frame.filename)}:{frame.lineno}), "
                "after your code returned: check the type and shape of what your function returns")
    return head


def _where(exc, path):
    """Only the place part of ``describe_exception`` ('\n  at file.py:12 ...'), or ''."""
    described = describe_exception(exc, path).split("\n", 1)
    return "\n" + described[1] if len(described) == 2 else ""


def _load_student_module(path):
    """The student's file as a fresh module, from its path, under a unique name."""
    stem = "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    name = f"_handnet_submission_{stem}_{os.getpid()}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError(f"cannot load {path!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # dataclasses and pickling look modules up here
    sys.dont_write_bytecode = True      # no __pycache__ in the student's folder
    spec.loader.exec_module(module)
    return module


def _run(args):
    """(status, message): load the registry, the student's module, run the check."""
    path = os.path.abspath(args.file)
    try:
        from handnet.exercises.registry import load_registry

        exercise = load_registry(args.registry)[args.exercise]
        check = exercise.check_named(args.check)
        from handnet.exercises.exercise import WrongAnswer
    except BaseException as exc:  # noqa: BLE001 - reported, not the student's fault
        return "ERROR", f"the check could not be set up: {type(exc).__name__}: {exc}"

    try:
        module = _load_student_module(path)
    except SystemExit as exc:
        return "FAIL", (f"your file called sys.exit({exc.code!r}) while being imported (exit code "
                        f"{exc.code!r}); keep module-level code to imports and definitions"
                        + _where(exc, path))
    except BaseException as exc:  # noqa: BLE001
        return "FAIL", "your file could not be imported:\n" + describe_exception(exc, path)

    seed = None if args.seed is None else int(args.seed)
    try:
        message = check.run(module, seed)
    except NotImplementedError as exc:
        text = str(exc) or "NotImplementedError"
        return "TODO", f"not written yet: {_shorten(text)}"
    except WrongAnswer as exc:
        return "FAIL", _shorten(str(exc) or "the check failed")
    except SystemExit as exc:
        return "FAIL", (f"your code called sys.exit({exc.code!r}) (exit code {exc.code!r}); a function "
                        "should return its answer or raise an exception" + _where(exc, path))
    except BaseException as exc:  # noqa: BLE001 - a student's error, whatever it is
        return "FAIL", describe_exception(exc, path)
    return "PASS", _shorten(message if isinstance(message, str) and message else "passed")


def _parse(argv):
    import argparse

    parser = argparse.ArgumentParser(prog="handnet-exercise-worker", description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", required=True)
    parser.add_argument("--exercise", required=True)
    parser.add_argument("--check", required=True)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--registry", default=None)
    return parser.parse_args(argv)


def main(argv=None):
    """Run one check and write the result line; returns 0 (the status is in the result line)."""
    import faulthandler

    faulthandler.enable()                          # a segfault prints the Python stack to stderr
    args = _parse(argv)
    sentinel = sys.stdin.readline().strip()
    devnull = os.open(os.devnull, os.O_RDONLY)     # the student's input() gets EOF, not a hang
    os.dup2(devnull, 0)
    os.close(devnull)
    result_fd = os.dup(1)                          # the result goes here, whatever they do to stdout
    _register_light_handnet()

    start = time.perf_counter()
    status, message = _run(args)
    seconds = time.perf_counter() - start
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - closed or replaced by the student's code
            pass
    line = json.dumps({"status": status, "message": message, "seconds": seconds})
    data = memoryview(f"\n{sentinel}{line}\n".encode("utf-8", errors="replace"))
    while data:
        data = data[os.write(result_fd, data):]
    return 0


if __name__ == "__main__":
    main()
    # Not sys.exit: the student's atexit handlers and non-daemon threads must not run on
    # (or keep the process alive until the timeout) once the result is written.
    os._exit(0)
