"""The contained child that answers calls of ONE student's functions; it never decides anything.

Started by ``session.StudentProcess`` from a fresh temporary folder that holds a
private copy of the student's file, and of this file, ``wire.py`` and
``guards.py`` in a folder of their own (``.handnet-worker/``)::

    python -I -B .handnet-worker/worker.py --file sigmoid.py --memory BYTES --cpu SECONDS [--forbid DIR]...

It imports numpy and the standard library only, never handnet: the grading
process sends "call ``sigmoid`` with these arguments" and gets back plain data
or the description of an exception (``wire``). Every comparison, hint and
score is computed over there, so nothing the student's code prints, patches or
forges here can change a verdict: it can only return wrong values.

Before the student's file is loaded the worker sets its resource limits and
installs the guards (``guards``), and moves the protocol to private
descriptors: stdin becomes /dev/null (input() gets EOF, not a hang) and
whatever the student prints goes to stderr.

EXC, the description of an exception: ``{"type", "message", "todo", "exit",
"where", "syntax", "locals"}``; ``"locals"`` holds the real numbers among the
local variables of the called function when it raised ({name: number}, at most
``MAX_LOCALS``), so that a cost check can grade the J a function computed
before its backward pass crashed.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import traceback

import numpy as np

if __name__ == "__main__":           # the child: wire and guards are the copies next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import guards as _guards
    import wire as _wire
    del sys.path[0]
else:                                # imported by the grading side (tests, documentation)
    from . import guards as _guards
    from . import wire as _wire

__all__ = ["main", "describe_exception"]

#: The most local variables an exception's description carries (see describe_exception).
MAX_LOCALS = 64


# ----------------------------------------------------------------------------
# Exceptions, described for someone who knows only their own file
# ----------------------------------------------------------------------------

def _same_file(a, b):
    """Whether the paths ``a`` and ``b`` name the same file (either may be relative to the cwd)."""
    def norm(path):
        return os.path.normcase(os.path.abspath(path))

    return a is not None and b is not None and norm(a) == norm(b)


def _number_locals(exc, student_path):
    """{name: number} of the real-number locals of the outermost frame of the student's file in the
    traceback of ``exc`` (the function the grader called), at most MAX_LOCALS of them."""
    tb = exc.__traceback__
    while tb is not None and not _same_file(tb.tb_frame.f_code.co_filename, student_path):
        tb = tb.tb_next
    if tb is None:
        return {}
    out = {}
    for name, value in list(tb.tb_frame.f_locals.items()):
        if len(out) >= MAX_LOCALS:
            break
        if type(value) in (int, float) or (isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0
                                           and value.dtype.kind in "iuf"):
            out[str(name)] = float(value)
    return out


def describe_exception(exc, student_path):
    """EXC (see the module docstring): type, message and the line of the student's file it came from."""
    out = {"type": type(exc).__name__, "message": _wire.shorten(_safe_str(exc)),
           "todo": isinstance(exc, NotImplementedError), "exit": None, "where": None, "syntax": None,
           "locals": {}}
    if isinstance(exc, SystemExit):
        out["exit"] = _wire.safe_repr(exc.code)
    if isinstance(exc, SyntaxError) and _same_file(exc.filename, student_path):
        out["syntax"] = {"message": _wire.shorten(exc.msg), "line": exc.lineno, "offset": exc.offset,
                         "source": (exc.text or "").rstrip("\r\n")[:500]}
        return out
    try:
        frames = traceback.extract_tb(exc.__traceback__)
    except BaseException:  # noqa: BLE001
        frames = []
    own = [f for f in frames if _same_file(f.filename, student_path)]
    if own:
        frame = own[-1]
        out["where"] = {"line": frame.lineno, "function": frame.name, "source": (frame.line or "")[:500]}
        try:
            out["locals"] = _number_locals(exc, student_path)
        except BaseException:  # noqa: BLE001 - a student's frame may hold anything
            out["locals"] = {}
    return out


def _safe_str(exc):
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001
        return "<no message>"


# ----------------------------------------------------------------------------
# The child's life: load the file, answer calls
# ----------------------------------------------------------------------------

def _load_student_module(path):
    import importlib.util

    stem = "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    name = f"_handnet_submission_{stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError(f"cannot load {os.path.basename(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module              # dataclasses and pickling look modules up here
    spec.loader.exec_module(module)
    return module


def _names(module):
    out = {}
    for name, value in list(vars(module).items()):
        if name.startswith("__"):
            continue
        if callable(value):
            out[name] = "function"
        elif isinstance(value, np.ndarray):
            out[name] = {"__opaque__": ["", f"an array of shape {value.shape} (dtype {value.dtype})"]}
        else:
            out[name] = {"__opaque__": [type(value).__name__, _wire.safe_repr(value)]}
    return out


def _answer(module, message, path):
    name = message.get("call")
    args, kwargs = message.get("args", []), message.get("kwargs", {})
    if not isinstance(name, str) or not isinstance(args, list) or not isinstance(kwargs, dict):
        return {"error": {"type": "ProtocolError", "message": "a malformed call", "todo": False, "exit": None,
                          "where": None, "syntax": None}}
    functions = [a for a in args if isinstance(a, (_wire.Quadratic, _wire.SumSin))]
    try:
        fn = getattr(module, name)
        value = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - whatever the student's code raises, SystemExit too
        return {"error": describe_exception(exc, path)}
    return {"value": _wire.encode(value),
            "args": [_wire.encode(a) if isinstance(a, np.ndarray) else None for a in args],
            "calls": sum(f.calls for f in functions)}


def _parse(argv):
    parser = argparse.ArgumentParser(prog="handnet-exercise-worker", description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", required=True)
    parser.add_argument("--memory", type=int, default=None)
    parser.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--file-size", type=int, default=None)
    parser.add_argument("--open-files", type=int, default=None)
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--forbid", action="append", default=[])
    return parser.parse_args(argv)


def main(argv=None):
    """Load the student's file, then answer calls until the grading side closes the request pipe."""
    import faulthandler

    args = _parse(argv)
    requests, answers = os.dup(0), os.dup(1)      # private, and not inherited by anything started
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)                           # input() gets EOF, not a hang
    os.close(devnull)
    os.dup2(2, 1)                                 # what the student prints goes to stderr
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace", line_buffering=True)
        except (AttributeError, ValueError):
            pass
    faulthandler.enable()                         # a segfault prints the Python stack to stderr
    stop = threading.Event()                      # started first: threads count as processes below
    threading.Thread(target=_guards.watch_grader, args=(requests, stop), daemon=True).start()
    _guards.set_limits(args.memory, args.cpu, args.file_size, args.open_files, args.processes)
    path = os.path.abspath(args.file)
    guards = _guards.Guards(os.path.dirname(path), args.forbid)
    _guards.disarm()
    sys.dont_write_bytecode = True
    sys.addaudithook(guards)                      # for the rest of this process: it has no off switch
    try:
        module = _load_student_module(path)
        hello = {"hello": _names(module)}
    except BaseException as exc:  # noqa: BLE001
        hello = {"error": describe_exception(exc, path)}
        module = None
    _wire.write_message(answers, {**hello, "refused": list(guards.refused)})
    while module is not None:
        try:
            data = _wire.read_message(requests)
        except (_wire.ProtocolError, OSError):
            break
        if data is None:
            break
        try:
            message = _wire.decode(data)
        except _wire.ProtocolError:
            break
        answer = _answer(module, message, path)
        try:
            _wire.write_message(answers, {**answer, "refused": list(guards.refused)})
        except (TypeError, ValueError) as exc:        # e.g. json itself replaced by the student's code
            failure = {"type": type(exc).__name__, "message": _wire.shorten(exc), "todo": False, "exit": None,
                       "where": None, "syntax": None}
            _wire.write_message(answers, {"error": failure, "refused": list(guards.refused)})
    stop.set()


if __name__ == "__main__":
    status = 0
    try:
        main()
    except BaseException:  # noqa: BLE001 - the worker's own failure: said on stderr, exit status 70
        traceback.print_exc()
        status = 70
    finally:
        # Not sys.exit: the student's atexit handlers and non-daemon threads must not run on
        # (or keep the process alive) once the grading side is done.
        os._exit(status)
