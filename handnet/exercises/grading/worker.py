"""The contained child that answers calls of ONE student's functions; it never decides anything.

Started by ``session.StudentProcess`` from a fresh temporary folder that holds a
private copy of the student's file and of this file::

    python -I -B worker.py --file sigmoid.py --memory BYTES --cpu SECONDS [--forbid DIR]...

It imports numpy and the standard library only, never handnet: the grading
process sends "call ``sigmoid`` with these arguments" and gets back plain data
or the description of an exception. Every comparison, hint and score is
computed over there, so nothing the student's code prints, patches or forges
here can change a verdict: it can only return wrong values.

Before the student's file is loaded the worker

* sets its resource limits (address space, CPU seconds, file size, open files,
  processes), so a child whose grader died still ends by itself;
* moves the protocol to private descriptors: stdin becomes /dev/null (input()
  gets EOF, not a hang) and whatever the student prints goes to stderr;
* installs an audit hook (``sys.addaudithook``; it cannot be removed) that
  refuses, and records, importing handnet, opening anything under a forbidden
  folder (the installed package, the submissions, the grades), writing outside
  the working folder, starting programs, loading C libraries and sending
  signals. Every answer carries the list of refusals, and the grading process
  fails the check with the sentence that says why.

Protocol, both ways: an 8-byte big-endian length, then that many bytes of UTF-8 JSON.

    child, once the file is loaded:  {"hello": {NAME: "function" | description, ...}} | {"error": EXC}
    grader -> child:                 {"call": NAME, "args": [V...], "kwargs": {NAME: V}}
    child -> grader:                 {"value": V, "args": [V | null...], "calls": N} | {"error": EXC}
    every child message also has     "refused": [sentences]

Values V: JSON null, booleans, numbers (NaN and Infinity included), strings and
lists; ``{"__tuple__": [V...]}``; ``{"__array__": base64 of .npy bytes}`` (real or
boolean dtypes only, read back with ``allow_pickle=False``); ``{"__opaque__":
[type name, text]}`` for anything else the student returns; and, from the
grader only, ``{"__function__": NAME, "args": [V...]}``: one of ``FUNCTIONS``
(the functions a numerical-gradient exercise differentiates), built here.
``"args"`` of an answer gives the arrays passed to the call as they are after it
(a student's function may change its arguments; the grading side copies that
back). EXC: ``{"type", "message", "todo", "exit", "where", "syntax", "locals"}``;
``"locals"`` holds the real numbers among the local variables of the called
function when it raised ({name: number}, at most ``MAX_LOCALS``), so that a
cost check can grade the J a function computed before its backward pass crashed.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import select
import struct
import sys
import threading
import traceback

import numpy as np

__all__ = ["encode", "decode", "Opaque", "ProtocolError", "FUNCTIONS", "Quadratic", "SumSin",
           "read_message", "write_message", "frame", "MAX_MESSAGE_BYTES", "MAX_TEXT"]

#: The largest message either side accepts (a student's huge return value is a FAIL, not a crash).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Strings (exception messages, descriptions) longer than this are cut in the middle.
MAX_TEXT = 4000
#: Deeper nesting than this is sent as an opaque description.
MAX_DEPTH = 32
#: The most local variables an exception's description carries (see describe_exception).
MAX_LOCALS = 64
_HEADER = struct.Struct(">Q")
_REAL_KINDS = "biuf"


class ProtocolError(ValueError):
    """A message that is not in the protocol's format (too large, not JSON, an unknown tag...)."""


class Opaque:
    """A value of a type the protocol does not carry (a dict, an object...): its type name and repr."""

    def __init__(self, type_name, text):
        self.type_name, self.text = str(type_name), str(text)

    def description(self):
        return f"{self.type_name} {self.text}" if self.type_name else self.text

    def __repr__(self):
        return self.text


# ----------------------------------------------------------------------------
# The functions a student's numerical gradient is given (built here from plain data)
# ----------------------------------------------------------------------------

class Quadratic:
    """f(theta) = 1/2 t.A t + c.t with t = theta flattened; ``calls`` counts the evaluations."""

    name = "quadratic"

    def __init__(self, A, c):
        self.A, self.c = np.asarray(A, dtype=np.float64), np.asarray(c, dtype=np.float64)
        self.calls = 0

    def __call__(self, theta):
        self.calls += 1
        t = np.asarray(theta, dtype=np.float64).ravel()
        return 0.5 * float(t @ self.A @ t) + float(self.c @ t)

    def args(self):
        return [self.A, self.c]


class SumSin:
    """f(theta) = sum(sin(theta)); ``calls`` counts the evaluations."""

    name = "sum_sin"

    def __init__(self):
        self.calls = 0

    def __call__(self, theta):
        self.calls += 1
        return float(np.sum(np.sin(np.asarray(theta, dtype=np.float64))))

    def args(self):
        return []


#: The functions the grading side may send by name.
FUNCTIONS = {cls.name: cls for cls in (Quadratic, SumSin)}


# ----------------------------------------------------------------------------
# Values <-> JSON
# ----------------------------------------------------------------------------

def _shorten(text, limit=MAX_TEXT):
    text = str(text)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - limit} characters left out) ...\n{text[-half:]}"


def _safe_repr(value):
    try:
        return _shorten(repr(value), 200)
    except BaseException:  # noqa: BLE001 - a student's __repr__ may do anything
        return "<no repr>"


def _array_text(arr):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(arr), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode(value, depth=0):
    """``value`` as JSON-ready plain data (see the module docstring); never raises."""
    if value is None or isinstance(value, (bool, str)):
        return _shorten(value, 10 * MAX_TEXT) if isinstance(value, str) else value
    if isinstance(value, (int, float)) and type(value) in (int, float):
        if isinstance(value, int) and abs(value) >= 2 ** 63:
            return {"__opaque__": ["int", _safe_repr(value)]}
        return value
    if isinstance(value, np.generic) and value.dtype.kind in _REAL_KINDS:
        return value.item() if value.dtype.kind != "u" or value < 2 ** 63 else float(value)
    if isinstance(value, (Quadratic, SumSin)):
        return {"__function__": value.name, "args": [encode(a, depth + 1) for a in value.args()]}
    if depth >= MAX_DEPTH:
        return {"__opaque__": [type(value).__name__, "(nested too deeply)"]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in _REAL_KINDS and not value.dtype.fields:
            return {"__array__": _array_text(np.asarray(value))}
        return {"__opaque__": ["", f"an array of shape {value.shape} (dtype {value.dtype})"]}
    if type(value) in (list, tuple):
        items = [encode(v, depth + 1) for v in value]
        return {"__tuple__": items} if type(value) is tuple else items
    if isinstance(value, (int, float)):                      # numpy-like or subclassed numbers
        try:
            return float(value)
        except BaseException:  # noqa: BLE001
            pass
    return {"__opaque__": [type(value).__name__, _safe_repr(value)]}


def _decode_tagged(obj):
    if len(obj) == 1 and "__tuple__" in obj and isinstance(obj["__tuple__"], list):
        return tuple(obj["__tuple__"])
    if len(obj) == 1 and "__array__" in obj and isinstance(obj["__array__"], str):
        try:
            arr = np.lib.format.read_array(io.BytesIO(base64.b64decode(obj["__array__"], validate=True)),
                                           allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - anything malformed
            raise ProtocolError(f"an array that cannot be read ({type(exc).__name__})") from None
        if arr.dtype.kind not in _REAL_KINDS or arr.dtype.fields:
            raise ProtocolError(f"an array of dtype {arr.dtype}")
        return arr
    if len(obj) == 1 and "__opaque__" in obj and isinstance(obj["__opaque__"], list) \
            and len(obj["__opaque__"]) == 2:
        return Opaque(*obj["__opaque__"])
    if set(obj) == {"__function__", "args"} and obj["__function__"] in FUNCTIONS:
        return FUNCTIONS[obj["__function__"]](*obj["args"])
    return obj


def decode(data):
    """The message (a dict) in ``data`` (bytes), values decoded; ProtocolError when it is not one."""
    try:
        message = json.loads(data.decode("utf-8"), object_hook=_decode_tagged)
    except ProtocolError:
        raise
    except (ValueError, RecursionError, TypeError) as exc:
        raise ProtocolError(f"not a protocol message ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolError("not a protocol message (not a JSON object)")
    return message


def frame(message):
    """One message (a dict of encoded values) as the bytes that go down the pipe."""
    data = json.dumps(message, allow_nan=True).encode("utf-8")
    return _HEADER.pack(len(data)) + data


def write_message(fd, message):
    """Write one message (a dict of encoded values) to the file descriptor ``fd``."""
    view = memoryview(frame(message))
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd, n, wait):
    chunks, left = [], n
    while left:
        if wait is not None:
            wait()
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(fd, wait=None):
    """The next message from ``fd`` as raw bytes, or None at end of file; ``wait()`` is called before
    each read (the grading side waits there with a deadline). ProtocolError for an oversized one."""
    header = _read_exactly(fd, _HEADER.size, wait)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"a message of {size} bytes (at most {MAX_MESSAGE_BYTES} are read)")
    data = _read_exactly(fd, size, wait)
    if data is None:
        return None
    return data


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
    out = {"type": type(exc).__name__, "message": _shorten(_safe_str(exc)),
           "todo": isinstance(exc, NotImplementedError), "exit": None, "where": None, "syntax": None,
           "locals": {}}
    if isinstance(exc, SystemExit):
        out["exit"] = _safe_repr(exc.code)
    if isinstance(exc, SyntaxError) and _same_file(exc.filename, student_path):
        out["syntax"] = {"message": _shorten(exc.msg), "line": exc.lineno, "offset": exc.offset,
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
# Containment inside the child
# ----------------------------------------------------------------------------

def set_limits(memory, cpu, file_size, open_files, processes):
    """Resource limits of this process (and what it starts): bytes, seconds, bytes, count, count."""
    import resource

    for name, value in (("RLIMIT_AS", memory), ("RLIMIT_CPU", cpu), ("RLIMIT_FSIZE", file_size),
                        ("RLIMIT_NOFILE", open_files), ("RLIMIT_NPROC", processes), ("RLIMIT_CORE", 0)):
        limit = getattr(resource, name, None)
        if limit is None or value is None:
            continue
        soft, hard = resource.getrlimit(limit)
        value = int(value)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        hard_value = value + 2 if name == "RLIMIT_CPU" and (hard == resource.RLIM_INFINITY or hard > value + 2) \
            else value
        try:
            resource.setrlimit(limit, (value, hard_value))
        except (ValueError, OSError):
            resource.setrlimit(limit, (value, value))


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
#: Audit events refused outright, and what they mean to a student.
_REFUSED = {
    "subprocess.Popen": "start a program", "os.system": "start a program", "os.exec": "start a program",
    "os.posix_spawn": "start a program", "os.spawn": "start a program", "os.startfile": "start a program",
    "pty.spawn": "start a program", "os.kill": "send a signal",
    "os.killpg": "send a signal", "signal.pthread_kill": "send a signal", "socket.connect": "open a connection",
    "socket.bind": "open a connection", "sys.remote_exec": "attach to another process",
}
#: Modules whose import is refused: they start programs without the audit events above.
_REFUSED_MODULES = {"_posixsubprocess": "start a program", "pty": "start a program", "_winapi": "start a program"}
#: Audit events that change files, and the positions of their path arguments.
_FILE_CHANGES = {"os.remove": (0,), "os.rename": (0, 1), "os.mkdir": (0,), "os.rmdir": (0,), "os.chmod": (0,),
                 "os.chown": (0,), "os.symlink": (0, 1), "os.link": (0, 1), "os.truncate": (0,),
                 "os.utime": (0,), "os.mkfifo": (0,), "os.mknod": (0,), "os.chflags": (0,),
                 "os.lchflags": (0,), "os.setxattr": (0,), "os.removexattr": (0,), "shutil.rmtree": (0,)}


class Guards:
    """The audit hook: refuses (and records) what an exercise file has no business doing."""

    def __init__(self, workdir, forbidden):
        self.workdir = os.path.realpath(workdir)
        self.forbidden = [os.path.realpath(d) for d in forbidden]
        self.names = {os.path.basename(d) for d in self.forbidden if os.path.basename(d) == "handnet"}
        self.refused = []
        self.active = False

    def _resolve(self, path):
        if isinstance(path, int):
            return None
        try:
            return os.path.realpath(os.fsdecode(path))
        except BaseException:  # noqa: BLE001
            return None

    def _under(self, path, folders):
        return any(path == d or path.startswith(d.rstrip(os.sep) + os.sep) for d in folders)

    def _forbidden(self, raw):
        """True for a path under a forbidden folder, or inside any folder named like the package (another
        copy of handnet's source holds the reference solutions too; a path relative to a descriptor of
        a parent folder is caught this way as well)."""
        path = self._resolve(raw)
        if path is None or self._under(path, [self.workdir]):
            return False
        if self._under(path, self.forbidden):
            return True
        try:
            text = os.fsdecode(raw).replace("\\", "/")
        except BaseException:  # noqa: BLE001
            return False
        folders = text.split("/")[:-1] + path.split(os.sep)[:-1]
        return bool(self.names.intersection(folders))

    def refuse(self, what):
        sentence = (f"your code tried to {what}; exercise files may use only numpy and the standard "
                    "library, and only their own working folder")
        if sentence not in self.refused:
            self.refused.append(sentence)
        raise PermissionError(f"refused by the grader: {sentence}")

    def __call__(self, event, args):
        if not self.active:
            return
        if event == "import":
            name = args[0] if args else ""
            if isinstance(name, str) and (name == "handnet" or name.startswith("handnet.")):
                self.refuse("import handnet")
            if name in _REFUSED_MODULES:
                self.refuse(_REFUSED_MODULES[name])
        elif event.startswith("ctypes."):            # C calls and raw memory: around every other guard
            self.refuse("use ctypes")
        elif event == "open":
            path = args[0] if args else None
            if path is None or isinstance(path, int):
                return
            if self._forbidden(path):
                self.refuse(f"open {os.fsdecode(path)!r}, which belongs to the grader (handnet's own files, the "
                            "submissions or the grades)")
            mode, flags = (args + (None, None))[1:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(flags, int) and flags & _WRITE_FLAGS)
            resolved = self._resolve(path)
            if writing and resolved is not None and not self._under(resolved, [self.workdir, os.devnull]):
                self.refuse(f"write {os.fsdecode(path)!r}, outside its working folder")
        elif event in _REFUSED:
            self.refuse(_REFUSED[event])
        elif event in _FILE_CHANGES:
            for i in _FILE_CHANGES[event]:
                path = args[i] if len(args) > i else None
                resolved = self._resolve(path) if path is not None else None
                if resolved is not None and not self._under(resolved, [self.workdir]):
                    self.refuse(f"change {os.fsdecode(path)!r}, outside its working folder")


def _watch_grader(fd, stop):
    """End this process when the grading side goes away (its end of the request pipe closes)."""
    exit_now = os._exit
    poller = select.poll()
    poller.register(fd, select.POLLHUP | select.POLLERR)
    while not stop.is_set():
        for _, events in poller.poll(1000):
            if events & (select.POLLHUP | select.POLLERR):
                exit_now(3)


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
            out[name] = {"__opaque__": [type(value).__name__, _safe_repr(value)]}
    return out


def _answer(module, message, path):
    name = message.get("call")
    args, kwargs = message.get("args", []), message.get("kwargs", {})
    if not isinstance(name, str) or not isinstance(args, list) or not isinstance(kwargs, dict):
        return {"error": {"type": "ProtocolError", "message": "a malformed call", "todo": False, "exit": None,
                          "where": None, "syntax": None}}
    functions = [a for a in args if isinstance(a, (Quadratic, SumSin))]
    try:
        fn = getattr(module, name)
        value = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - whatever the student's code raises, SystemExit too
        return {"error": describe_exception(exc, path)}
    return {"value": encode(value),
            "args": [encode(a) if isinstance(a, np.ndarray) else None for a in args],
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
    set_limits(args.memory, args.cpu, args.file_size, args.open_files, args.processes)
    path = os.path.abspath(args.file)
    guards = Guards(os.path.dirname(path), args.forbid)
    sys.addaudithook(guards)
    sys.dont_write_bytecode = True
    stop = threading.Event()
    threading.Thread(target=_watch_grader, args=(requests, stop), daemon=True).start()

    guards.active = True
    try:
        module = _load_student_module(path)
        hello = {"hello": _names(module)}
    except BaseException as exc:  # noqa: BLE001
        hello = {"error": describe_exception(exc, path)}
        module = None
    write_message(answers, {**hello, "refused": list(guards.refused)})
    while module is not None:
        try:
            data = read_message(requests)
        except (ProtocolError, OSError):
            break
        if data is None:
            break
        try:
            message = decode(data)
        except ProtocolError:
            break
        answer = _answer(module, message, path)
        try:
            write_message(answers, {**answer, "refused": list(guards.refused)})
        except (TypeError, ValueError) as exc:        # e.g. json itself replaced by the student's code
            write_message(answers, {"error": {"type": type(exc).__name__, "message": _shorten(exc), "todo": False,
                                              "exit": None, "where": None, "syntax": None},
                                    "refused": list(guards.refused)})
    stop.set()


if __name__ == "__main__":
    try:
        main()
    finally:
        # Not sys.exit: the student's atexit handlers and non-daemon threads must not run on
        # (or keep the process alive) once the grading side is done.
        os._exit(0)
