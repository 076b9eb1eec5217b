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

A call may lend the student's code a function of the grader (``f`` of a
numerical gradient): the student's code gets a stand-in that holds neither the
definition nor a count. Each call ``f(theta)`` writes ``{"evaluate": K, "theta":
theta}`` on the answer descriptor and blocks reading the reply from the request
descriptor: ``{"value": float}``, returned to the student's code, or ``{"error":
{"type", "message"}}``, raised there as a ValueError or TypeError (a theta of the
wrong shape, not real, not finite). The grading side computes every value and
counts them; once the call returns, the stand-in refuses to be called again.

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


class _Channel:
    """The two private descriptors, and the guards whose refusals go with every message."""

    def __init__(self, requests, answers, guards):
        self.requests, self.answers, self.guards = requests, answers, guards

    def send(self, message):
        _wire.write_message(self.answers, {**message, "refused": list(self.guards.refused)})

    def receive(self):
        """The grading side's next message (a dict), or None when it sent nothing readable."""
        try:
            data = _wire.read_message(self.requests)
            return None if data is None else _wire.decode(data)
        except (_wire.ProtocolError, OSError):
            return None


#: The exceptions an evaluation refused by the grading side raises in the student's code.
_REFUSALS = {"ValueError": ValueError, "TypeError": TypeError}


class _GradersFunction:
    """The grader's function f as the student's code holds it: no definition, no count, no
    attributes; every call asks the grading side for f(theta) and waits for its reply."""

    __slots__ = ("_index", "_channel", "_live")

    def __init__(self, index, channel):
        self._index, self._channel, self._live = index, channel, True

    def __call__(self, theta):
        if not self._live:
            raise RuntimeError("this f belongs to an earlier call: it can be called only while the call "
                               "it was given to runs")
        try:
            theta = np.asarray(theta)
        except Exception:  # noqa: BLE001 - sent as it is: the grading side says what is wrong with it
            pass
        self._channel.send({"evaluate": self._index, "theta": _wire.encode(theta)})
        reply = self._channel.receive()
        if not isinstance(reply, dict):
            raise RuntimeError("the grading side did not answer the evaluation of f")
        if isinstance(reply.get("error"), dict):
            error = reply["error"]
            raise _REFUSALS.get(error.get("type"), RuntimeError)(_wire.shorten(error.get("message", "")))
        value = reply.get("value")
        if type(value) is not float:
            raise RuntimeError("the grading side sent no value for f")
        return value

    def __repr__(self):
        return "<function f of the grader>"


def _lend(value, channel, lent):
    """``value``, or the stand-in of the grader's function it names (kept in ``lent``)."""
    if isinstance(value, _wire.LentFunction):
        lent.append(_GradersFunction(value.index, channel))
        return lent[-1]
    return value


def _answer(module, message, path, channel):
    name = message.get("call")
    args, kwargs = message.get("args", []), message.get("kwargs", {})
    if not isinstance(name, str) or not isinstance(args, list) or not isinstance(kwargs, dict):
        return {"error": {"type": "ProtocolError", "message": "a malformed call", "todo": False, "exit": None,
                          "where": None, "syntax": None}}
    lent = []
    args = [_lend(a, channel, lent) for a in args]
    kwargs = {k: _lend(v, channel, lent) for k, v in kwargs.items()}
    try:
        fn = getattr(module, name)
        value = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - whatever the student's code raises, SystemExit too
        return {"error": describe_exception(exc, path)}
    finally:
        for function in lent:
            function._live = False
    return {"value": _wire.encode(value),
            "args": [_wire.encode(a) if isinstance(a, np.ndarray) else None for a in args]}


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
    channel = _Channel(requests, answers, guards)
    channel.send(hello)
    while module is not None:
        message = channel.receive()
        if message is None:
            break
        answer = _answer(module, message, path, channel)
        try:
            channel.send(answer)
        except (TypeError, ValueError) as exc:        # e.g. json itself replaced by the student's code
            failure = {"type": type(exc).__name__, "message": _wire.shorten(exc), "todo": False, "exit": None,
                       "where": None, "syntax": None}
            channel.send({"error": failure})
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
