"""The grading side of one contained child: start it, call the student's functions, end it.

    with StudentProcess(source, "sigmoid.py", timeout=30) as process:
        student = process.student()          # attributes are the student's top-level names
        student.sigmoid(np.zeros(3))         # a call in the child; plain data comes back

A check runs here, in the grading process, with ``student`` standing in for
the student's module: calling one of its functions sends the arguments to the
child (``worker.py``) and returns the decoded answer. What the child can send
back is plain data (numbers, real arrays, lists, tuples, strings, None, or the
description of something else), so it can make its own answer wrong and
nothing more. A ``functions.GraderFunction`` passed to a call (the ``f`` of a
numerical gradient) stays here: the child asks for each f(theta) while the call
runs, and this side checks theta, computes and counts the value (``wire``).
Mapping of what happens there:

    the function returns                 its value; arrays passed in are updated as the function left them
    it raises NotImplementedError        NotImplementedError here (TODO)
    it raises anything else              StudentError: type, message, their file and line
    the guards refused something         Refused (a BaseException: hints cannot swallow it)
    no answer before the deadline,       ChildGone (a BaseException), with the reason
    the child died, a malformed answer,
    f asked for past its limit
"""

from __future__ import annotations

import os
import secrets
import select
import shutil
import sys
import threading
import time

import numpy as np

from . import sandbox
from .functions import GraderFunction, TooManyEvaluations
from .wire import Opaque, ProtocolError, decode, encode, frame, read_message

__all__ = ["StudentProcess", "Student", "StudentError", "Refused", "ChildGone", "LoadFailed",
           "DEFAULT_MEMORY", "format_student_exception", "OUTPUT_TAIL_BYTES"]

#: The child's address space limit: 2 GiB.
DEFAULT_MEMORY = 2 * 1024 ** 3
#: Largest file the child may write, and how many files it may have open.
FILE_SIZE_LIMIT = 64 * 1024 ** 2
OPEN_FILES_LIMIT = 256
#: Processes and threads the child's user may have. The kernel counts them per user over the whole
#: machine (every check's child runs as the same user), so this is generous: it only stops fork bombs.
PROCESS_LIMIT = 1024
#: Bytes of the student's output kept (the tail).
OUTPUT_TAIL_BYTES = 64 * 1024
#: Seconds to wait for the output pipe to close once the tree is ended.
PIPE_GRACE = 2.0

#: The files the child runs, copied into its folder (never imported from handnet there).
_CHILD_FILES = [os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
                for name in ("worker.py", "wire.py", "guards.py")]
_GRADER_TOKEN = f"{os.getpid()}:{secrets.token_hex(6)}"
_LIVE = set()
_LIVE_LOCK = threading.Lock()


def grader_token():
    """The prefix of every check token this grading process hands out."""
    return f"{os.getpid()}:{_GRADER_TOKEN.split(':', 1)[1]}"


class StudentError(Exception):
    """The student's code raised an exception in the child; ``description`` is the worker's EXC."""

    def __init__(self, description, filename):
        self.description, self.filename = description, filename
        super().__init__(format_student_exception(description, filename))


class LoadFailed(Exception):
    """The student's file could not be loaded (an exception while importing it)."""


class Refused(BaseException):
    """The child's guards refused something the student's code tried; str() says what."""


class ChildGone(BaseException):
    """No usable answer: the deadline passed, the child died, or it sent something unreadable."""

    def __init__(self, message, timed_out=False):
        self.timed_out = timed_out
        super().__init__(message)


def format_student_exception(exc, filename):
    """'ExcType: message' and where it happened in the student's file (from the worker's EXC)."""
    kind, message = str(exc.get("type", "Exception")), str(exc.get("message", ""))
    syntax = exc.get("syntax")
    if isinstance(syntax, dict):
        source, pointer = str(syntax.get("source") or ""), ""
        offset = syntax.get("offset")
        if source and isinstance(offset, int) and offset > 0:
            stripped = source.lstrip()
            pointer = "\n      " + " " * max(offset - 1 - (len(source) - len(stripped)), 0) + "^"
            source = stripped
        return (f"{kind}: {syntax.get('message')}\n  at {filename}:{syntax.get('line')}"
                + (f":\n      {source}{pointer}" if source else ""))
    head = f"{kind}: {message}" if message else kind
    where = exc.get("where")
    if isinstance(where, dict):
        source = str(where.get("source") or "")
        return (head + f"\n  at {filename}:{where.get('line')}, in {where.get('function')}()"
                + (f":\n      {source}" if source else ""))
    return head + "\n  raised before any line of your file ran: check the function's name and parameters"


def _exit_sentence(exc, filename, loading):
    """The FAIL sentence for a SystemExit raised by the student's code."""
    code = exc.get("exit")
    where = exc.get("where")
    place = (f"\n  at {filename}:{where.get('line')}, in {where.get('function')}()"
             if isinstance(where, dict) else "")
    if loading:
        return (f"your file called sys.exit({code}) while being imported (exit code {code}); keep "
                "module-level code to imports and definitions" + place)
    return (f"your code called sys.exit({code}) (exit code {code}); a function should return its answer "
            "or raise an exception" + place)


class _Tail:
    """Reads a pipe to its end in a thread, keeping only the last ``limit`` bytes."""

    def __init__(self, stream, limit=OUTPUT_TAIL_BYTES):
        self.data, self.dropped, self._limit, self._stream = bytearray(), 0, limit, stream
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        fd = self._stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.data += chunk
            extra = len(self.data) - self._limit
            if extra > 0:
                del self.data[:extra]
                self.dropped += extra


class StudentProcess:
    """One contained child holding a private copy of a student's file.

    source    the file's bytes (read by the grading side from a snapshot, never from a path
              the student's code could change while it runs)
    filename  its name as the student knows it (messages say 'sigmoid.py:12')
    timeout   seconds for everything: start-up and every call
    memory    the child's address space limit in bytes
    forbid    folders the child may not open (the submissions, the grades); the installed
              handnet package is always forbidden
    """

    def __init__(self, source, filename, timeout, memory=DEFAULT_MEMORY, forbid=()):
        import handnet

        self.filename = filename
        self.timeout = float(timeout)
        self.deadline = time.monotonic() + self.timeout
        self.box = sandbox.containment()
        sandbox.become_subreaper()
        self.token = f"{grader_token()}:{secrets.token_hex(4)}"
        self.workdir = sandbox.make_workdir(self.box)
        self.proc = None
        try:
            student_path = os.path.join(self.workdir, filename)
            with open(student_path, "wb") as fh:
                fh.write(source)
            own = os.path.join(self.workdir, ".handnet-worker")
            os.mkdir(own)
            os.chmod(own, 0o755)
            for source_file in _CHILD_FILES:
                shutil.copyfile(source_file, os.path.join(own, os.path.basename(source_file)))
                os.chmod(os.path.join(own, os.path.basename(source_file)), 0o644)
            os.chmod(student_path, 0o644)
            worker_path = os.path.join(own, "worker.py")
            package = os.path.dirname(os.path.abspath(handnet.__file__))
            cpu = int(self.timeout) + 2
            command = [sys.executable, "-I", "-B", worker_path,
                       "--file", student_path, "--memory", str(int(memory)), "--cpu", str(cpu),
                       "--file-size", str(FILE_SIZE_LIMIT), "--open-files", str(OPEN_FILES_LIMIT),
                       "--processes", str(PROCESS_LIMIT), "--forbid", package]
            inside = os.path.realpath(self.workdir) + os.sep       # a folder holding our own can't be hidden
            forbid = [os.path.realpath(os.fspath(f)) for f in forbid]
            forbid = [f for f in forbid if not inside.startswith(f.rstrip(os.sep) + os.sep)]
            for folder in forbid:
                command += ["--forbid", folder]
            command += ["--forbid", os.path.dirname(os.path.realpath(self.workdir))]   # the other checks
            self.proc = sandbox.start_worker(command, self.workdir, self.box, self.token,
                                             hide=[package, *forbid])
        except BaseException:
            self.close()
            raise
        with _LIVE_LOCK:
            _LIVE.add(self)
        self.output = _Tail(self.proc.stderr)
        self._requests = self.proc.stdin.fileno()
        self._answers = self.proc.stdout.fileno()
        os.set_blocking(self._requests, False)
        self._names = None
        self._stopped = None             # why the child may not be called again (it is left waiting)

    # -- talking to the child ------------------------------------------------

    def _remaining(self):
        return self.deadline - time.monotonic()

    def _timed_out(self):
        return ChildGone(f"timed out after {self.timeout:g}s (an infinite loop?)", timed_out=True)

    def _wait_readable(self):
        remaining = self._remaining()
        if remaining <= 0:
            raise self._timed_out()
        ready, _, _ = select.select([self._answers], [], [], remaining)
        if not ready:
            raise self._timed_out()

    def _send(self, message):
        view = memoryview(frame(message))
        while view:
            remaining = self._remaining()
            if remaining <= 0:
                raise self._timed_out()
            _, ready, _ = select.select([], [self._requests], [], remaining)
            if not ready:
                raise self._timed_out()
            try:
                view = view[os.write(self._requests, view):]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                raise self._gone() from None

    def _gone(self):
        """ChildGone for a child that stopped answering: its exit status or signal."""
        try:
            code = self.proc.wait(timeout=1.0)
        except Exception:  # noqa: BLE001 - still running: it closed its pipe
            code = None
        if code is not None and code < 0:
            import signal

            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            extra = " (it went over its CPU time)" if name == "SIGXCPU" else ""
            return ChildGone(f"the process running your code was killed by {name}{extra} before it answered "
                             "(a crash in compiled code, or out of memory?)")
        if code is None:
            return ChildGone("the process running your code stopped answering (it closed its output)")
        return ChildGone(f"the process running your code ended with exit status {code} before it answered "
                         "(does your code call os._exit()?)")

    def _receive(self):
        try:
            data = read_message(self._answers, self._wait_readable)
        except ProtocolError as exc:
            raise ChildGone(f"the answer from your code could not be read: {exc}") from None
        except OSError:
            data = None
        if data is None:
            raise self._gone()
        try:
            message = decode(data)
        except ProtocolError as exc:
            raise ChildGone(f"the answer from your code could not be read: {exc}") from None
        refused = message.get("refused")
        if refused:
            sentences = [str(s) for s in refused] if isinstance(refused, list) else [str(refused)]
            raise Refused("\n".join(sentences))
        return message

    def names(self):
        """The student's top-level names: {name: "function" | Opaque}; LoadFailed if the file did not load."""
        if self._names is None:
            hello = self._receive()
            if "error" in hello:
                exc = hello["error"] if isinstance(hello["error"], dict) else {}
                if exc.get("exit") is not None:
                    raise LoadFailed(_exit_sentence(exc, self.filename, loading=True))
                raise LoadFailed("your file could not be imported:\n" + format_student_exception(exc, self.filename))
            names = hello.get("hello")
            if not isinstance(names, dict):
                raise ChildGone("the answer from your code could not be read: no list of names")
            self._names = names
        return self._names

    def call(self, name, args, kwargs):
        """Call the student's ``name`` in the child; the decoded answer (a dict).

        A ``GraderFunction`` among the arguments is lent, not sent: the child asks for its values
        while the call runs, and they are computed and counted here (``_evaluate``)."""
        self.names()
        if self._stopped:
            raise ChildGone(self._stopped)
        lent = []

        def lend(value):
            if isinstance(value, GraderFunction):
                lent.append(value)
                return {"__function__": len(lent) - 1}
            return encode(value)

        self._send({"call": name, "args": [lend(a) for a in args], "kwargs": {k: lend(v) for k, v in kwargs.items()}})
        while True:
            message = self._receive()
            if "evaluate" not in message:
                return message
            self._send(self._evaluate(name, lent, message))

    def _evaluate(self, name, lent, message):
        """The reply to the child's {"evaluate": K, "theta": V}: the grader's function K computes it.
        ChildGone when K names no function of this call, or when the function's limit is passed."""
        index = message.get("evaluate")
        if type(index) is not int or not 0 <= index < len(lent) or "theta" not in message:
            raise ChildGone("the answer from your code could not be read: an evaluation of a function it "
                            "was not given")
        try:
            return lent[index].answer(message["theta"])
        except TooManyEvaluations as exc:
            self._stopped = f"{name}(): {exc}"
            raise ChildGone(self._stopped) from None

    def student(self):
        """The proxy the checks call: ``Student`` over this process."""
        return Student(self, self.names())

    # -- ending ------------------------------------------------------------------

    def printed(self):
        """(what the student's code printed, as text; bytes dropped from its start)."""
        return bytes(self.output.data).decode("utf-8", errors="replace"), self.output.dropped

    def close(self):
        """End the child's whole tree, collect its output and remove its folder."""
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            sandbox.end_tree(self.proc, self.token)
            tail = getattr(self, "output", None)
            if tail is not None:
                tail.thread.join(PIPE_GRACE)
            try:
                self.proc.stderr.close()
            except OSError:
                pass
            with _LIVE_LOCK:
                _LIVE.discard(self)
        if getattr(self, "workdir", None):
            sandbox.remove_workdir(self.workdir)
            self.workdir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def end_all():
    """End every running child of this grading process (Ctrl-C, or an error in the grader)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for process in live:
        try:
            os.killpg(process.proc.pid, 9)
        except (ProcessLookupError, PermissionError, OSError):
            pass
    sandbox.sweep(grader_token() + ":")


class _RemoteFunction:
    """One of the student's functions, called in the child."""

    def __init__(self, process, name):
        self._process, self.__name__ = process, name

    def __call__(self, *args, **kwargs):
        answer = self._process.call(self.__name__, args, kwargs)
        if "error" in answer:
            exc = answer["error"] if isinstance(answer["error"], dict) else {}
            if exc.get("todo"):
                raise NotImplementedError(str(exc.get("message", "")))
            if exc.get("exit") is not None:
                raise StudentError({**exc, "type": "SystemExit"}, self._process.filename) from None
            raise StudentError(exc, self._process.filename)
        after = answer.get("args")
        if isinstance(after, list):
            for given, now in zip(args, after):        # the student's function may change its arguments
                if isinstance(given, np.ndarray) and isinstance(now, np.ndarray) and now.shape == given.shape \
                        and given.flags.writeable:
                    given[...] = now
        return answer.get("value")

    def __repr__(self):
        return f"<function {self.__name__} of the student's file>"


class Student:
    """The student's module as a check sees it: ``student.NAME`` is a function called in the child
    (or the description of a non-function); a missing name is an AttributeError."""

    def __init__(self, process, names):
        self._process, self._names = process, dict(names)

    def __getattr__(self, name):
        if name.startswith("__") or name not in self._names:
            raise AttributeError(f"the student's file has no {name!r}")
        kind = self._names[name]
        if kind == "function":
            return _RemoteFunction(self._process, name)
        return kind if isinstance(kind, Opaque) else Opaque("object", str(kind))
