"""Run a student's file against an exercise's checks, each check in its own subprocess.

    result = run_check("sigmoid.py", "sigmoid", "sigmoid(0) = 0.5")   # one CheckResult
    results = run_file("sigmoid.py")            # every check of the exercise named in the header

The student's file is never imported in the calling process. Each check
starts ``python handnet/exercises/_worker.py`` (see that module for the
protocol), which loads the student's file by path, runs the check and writes
one JSON result line after a random sentinel that the student's code never
sees, so nothing the student prints can pass for a result. Mapping:

    the check returns                      PASS   full points, the check's message
    NotImplementedError (the stub)         TODO   0 points
    WrongAnswer                            FAIL   0 points, the check's message
    any other exception                    FAIL   'ExcType: message' and the line of the student's
                                                  file it came from
    the file does not compile              FAIL   every check, with the line of the syntax error
    no result within ``timeout`` seconds   FAIL   'timed out after Ns (an infinite loop?)'; the whole
                                                  process group is killed
    the process dies (os._exit, segfault)  FAIL   with its exit status or signal

On a FAIL the tail of what the student's code printed (stdout and stderr
together) follows the message. Checks of one file, or of many files
(``run_checks``), run in parallel, ``jobs`` at a time (default: the number of
CPUs). ``CheckResult.seconds`` is the wall time of the check's subprocess,
start-up included (about 0.2-0.3 s; see the README).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from .markers import exercise_name_of

__all__ = ["CheckResult", "run_check", "run_file", "run_checks", "exercise_for_file", "DEFAULT_TIMEOUT",
           "default_jobs", "progress_bar", "compile_error"]

#: Seconds a check may take, subprocess start-up included.
DEFAULT_TIMEOUT = 30.0
#: Bytes of the student's output kept (the tail); the result line always fits after it.
OUTPUT_TAIL_BYTES = 64 * 1024
#: Lines of the student's output shown under a failure.
OUTPUT_TAIL_LINES = 20
#: Seconds to wait for the output pipe to close once the check's process has ended.
PIPE_GRACE = 2.0

_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
_LIVE = set()                      # running worker processes, killed on Ctrl-C
_LIVE_LOCK = threading.Lock()


@dataclass
class CheckResult:
    """The outcome of one check on one file: status PASS, FAIL or TODO; score out of max_score;
    output is what the student is shown; seconds the wall time of the check's subprocess."""

    exercise: str
    check: str
    status: str
    score: float
    max_score: float
    output: str
    seconds: float

    @property
    def passed(self):
        return self.status == "PASS"

    def to_dict(self):
        return asdict(self)


def default_jobs():
    """How many checks run at once by default: the CPUs this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:                        # not Linux
        return os.cpu_count() or 1


def _check_timeout(timeout):
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0 \
            or timeout != timeout or timeout == float("inf"):
        raise ValueError(f"timeout: expected a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _check_jobs(jobs):
    if jobs is None:
        return default_jobs()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected a positive integer (checks run at once), got {jobs!r}")
    return jobs


def _check_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected None (the public run) or a non-negative integer, got {seed!r}")
    return seed


def _student_file(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected the path of a student's .py file, got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    return os.path.abspath(path)


def _registry(registry):
    from ..registry import load_registry

    return load_registry(registry)


def exercise_for_file(path, registry=None):
    """The Exercise a student's file is for, from its header line; ValueError when it has none or
    names an exercise that does not exist."""
    name = exercise_name_of(_student_file(path))
    if name is None:
        raise ValueError(f"{os.fspath(path)}: no '# handnet exercise: NAME' line at the top; a file "
                         "written by 'handnet assign' starts with one, put it back as the first line")
    exercises = _registry(registry)
    if name not in exercises:
        known = ", ".join(exercises) or "(none)"
        raise ValueError(f"{os.fspath(path)}: its header names the exercise {name!r}, which does not exist; "
                         f"expected one of {known}")
    return exercises[name]


def run_check(path, exercise, check, seed=None, timeout=DEFAULT_TIMEOUT, registry=None):
    """Run the check named ``check`` of the exercise named ``exercise`` on the file ``path``.

    seed     None: the public run (fixed inputs); an int: a hidden variant.
    timeout  seconds before the check's process group is killed (FAIL).
    registry a .py file defining EXERCISES to use instead of handnet's catalog (tests).

    Returns a CheckResult; raises only for bad arguments (a missing file, an
    unknown exercise or check), never for anything the student's code does.
    """
    path = _student_file(path)
    timeout = _check_timeout(timeout)
    seed = _check_seed(seed)
    exercises = _registry(registry)
    if exercise not in exercises:
        known = ", ".join(exercises) or "(none)"
        raise ValueError(f"exercise: no exercise named {exercise!r}; expected one of {known}")
    points = float(exercises[exercise].check_named(check).points)
    return _run_in_subprocess(path, exercise, check, points, seed, timeout, registry)


def _worker_command(path, exercise, check, seed, registry):
    command = [sys.executable, "-u"]                 # unbuffered: prints before a crash are kept
    if sys.version_info >= (3, 11):
        command.append("-P")                         # the worker's folder is not put on sys.path
    command += [_WORKER, "--file", path, "--exercise", exercise, "--check", check]
    if seed is not None:
        command += ["--seed", str(seed)]
    if registry is not None:
        command += ["--registry", os.path.abspath(os.fspath(registry))]
    return command


def _worker_env():
    env = dict(os.environ)
    # Checks run side by side: one BLAS thread each (unless the user chose otherwise).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONIOENCODING"] = "utf-8:backslashreplace"
    return env


class _Tail:
    """Reads a pipe to its end in a thread, keeping only the last ``limit`` bytes."""

    def __init__(self, stream, limit=OUTPUT_TAIL_BYTES):
        self.data = bytearray()
        self.dropped = 0
        self._limit = limit
        self._stream = stream
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


def _kill_group(proc):
    """SIGKILL the worker's process group (the worker and anything it started)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:                                         # pragma: no cover - not POSIX
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _run_in_subprocess(path, exercise, check, points, seed, timeout, registry):
    sentinel = f"@@handnet-result-{secrets.token_hex(16)}@@"
    start = time.perf_counter()
    proc = subprocess.Popen(
        _worker_command(path, exercise, check, seed, registry), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=os.path.dirname(path), env=_worker_env(),
        start_new_session=True)
    with _LIVE_LOCK:
        _LIVE.add(proc)
    timed_out = False
    try:
        tail = _Tail(proc.stdout)
        try:
            proc.stdin.write(sentinel.encode("ascii") + b"\n")
            proc.stdin.close()
        except OSError:                                # the worker died at once
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            proc.wait()
        tail.thread.join(PIPE_GRACE)
        if tail.thread.is_alive():                     # something the student started holds the pipe
            _kill_group(proc)
            tail.thread.join(PIPE_GRACE)
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)
        if proc.poll() is None:
            _kill_group(proc)
            proc.wait()
        proc.stdout.close()
    seconds = time.perf_counter() - start
    status, message, printed = _interpret(bytes(tail.data), tail.dropped, sentinel, proc.returncode,
                                          timed_out, timeout)
    output = message
    if status == "FAIL" and printed:
        output += "\n\n" + printed
    score = points if status == "PASS" else 0.0
    return CheckResult(exercise, check, status, score, points, output, seconds)


def _interpret(data, dropped, sentinel, returncode, timed_out, timeout):
    """(status, message, what the student's code printed, ready to show) from the worker's output."""
    text = data.decode("utf-8", errors="replace")
    at = text.rfind(sentinel)
    result = None
    if at >= 0 and not timed_out:
        line = text[at + len(sentinel):].split("\n", 1)[0]
        try:
            result = json.loads(line)
        except ValueError:
            result = None
        text = text[:at]
        if text.endswith("\n"):                         # the newline the worker writes before it
            text = text[:-1]
    printed = _printed_tail(text, dropped)
    if timed_out:
        return "FAIL", f"timed out after {timeout:g}s (an infinite loop?)", printed
    if result is None:
        return "FAIL", _death_message(returncode), printed
    status, message = result.get("status"), str(result.get("message", ""))
    if status == "ERROR":
        return "FAIL", f"internal error, not in your code (tell your teacher): {message}", printed
    if status not in ("PASS", "FAIL", "TODO"):
        return "FAIL", f"internal error: the worker reported the status {status!r}", printed
    return status, message, printed


def _death_message(returncode):
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return (f"the check's process was killed by {name} before it reported a result "
                "(a crash in compiled code, or out of memory?)")
    return (f"the check's process ended with exit status {returncode} before it reported a result "
            "(does your code call os._exit()?)")


def _printed_tail(text, dropped):
    """The last lines the student's code printed, with a heading; '' when it printed nothing."""
    if not text.strip():
        return ""
    lines = text.rstrip("\n").split("\n")
    shown = lines[-OUTPUT_TAIL_LINES:]
    left_out = len(lines) - len(shown)
    if left_out or dropped:
        heading = f"your code printed (the last {len(shown)} lines):"
    else:
        heading = "your code printed:"
    return heading + "\n" + "\n".join("  | " + line[:500] for line in shown)


def run_checks(tasks, seed=None, timeout=DEFAULT_TIMEOUT, jobs=None, registry=None, on_result=None,
               progress=False, desc="checks"):
    """Run many checks, ``jobs`` at a time; the CheckResults in the tasks' order.

    tasks      (path, exercise, check) tuples, or (path, exercise, check, seed) to
               give a task its own seed instead of ``seed``.
    on_result  called with each CheckResult as it finishes (in the calling
               thread).
    progress   a tqdm bar labelled ``desc`` on stderr: True, False, or None (only
               when stderr is a terminal); see ``progress_bar``.

    On Ctrl-C (or any error) every running check's process group is killed
    before the exception propagates.
    """
    timeout = _check_timeout(timeout)
    jobs = _check_jobs(jobs)
    seed = _check_seed(seed)
    tasks = [tuple(task) for task in tasks]
    for task in tasks:
        if len(task) not in (3, 4):
            raise ValueError(f"tasks: expected (path, exercise, check) or (path, exercise, check, seed), "
                             f"got {task!r}")
        if len(task) == 4:
            _check_seed(task[3])
    tasks = [task if len(task) == 4 else task + (seed,) for task in tasks]
    if not tasks:
        return []
    bar = progress_bar(len(tasks), progress, desc)
    if bar is not None:
        report = on_result

        def on_result(result):
            bar.update(1)
            if report is not None:
                report(result)
    try:
        return _run_pool(tasks, timeout, jobs, registry, on_result)
    finally:
        if bar is not None:
            bar.close()


def _run_pool(tasks, timeout, jobs, registry, on_result):
    """run_checks' work: the tasks (each with its seed) on a pool of ``jobs`` threads."""
    from concurrent.futures import as_completed

    results = [None] * len(tasks)
    pool = ThreadPoolExecutor(max_workers=min(jobs, len(tasks)), thread_name_prefix="handnet-check")
    try:
        futures = {pool.submit(run_check, path, exercise, check, task_seed, timeout, registry): i
                   for i, (path, exercise, check, task_seed) in enumerate(tasks)}
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if on_result is not None:
                on_result(result)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        with _LIVE_LOCK:
            live = list(_LIVE)
        for proc in live:
            _kill_group(proc)
        raise
    pool.shutdown(wait=True)
    return results


def progress_bar(total, progress=None, desc="checks"):
    """A tqdm bar over ``total`` checks on stderr, or None. progress: True, False, or None (only
    when stderr is a terminal)."""
    if progress is False or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="check", desc=desc, disable=None if progress is None else False,
                file=sys.stderr, leave=False)


def compile_error(path):
    """The FAIL message for a file that does not compile (it is compiled here, never run); None
    when it compiles."""
    from .worker import describe_exception

    try:
        with open(path, "rb") as fh:
            source = fh.read()
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return "your file could not be imported:\n" + describe_exception(exc, path)
    except ValueError as exc:                           # e.g. a NUL byte
        return f"your file could not be imported: {exc}"
    return None


def run_file(path, seed=None, timeout=DEFAULT_TIMEOUT, jobs=None, registry=None, on_result=None):
    """Every check of the exercise named in the file's header, in the registry's order.

    A file that does not compile gets a FAIL for every check (with the line of
    the error) without starting a process. ValueError when the file has no
    header or names an unknown exercise; FileNotFoundError when it is missing.
    """
    exercise = exercise_for_file(path, registry)
    path = os.path.abspath(os.fspath(path))
    timeout = _check_timeout(timeout)
    _check_jobs(jobs)
    _check_seed(seed)
    broken = compile_error(path)
    if broken is not None:
        return [CheckResult(exercise.name, check.name, "FAIL", 0.0, float(check.points), broken, 0.0)
                for check in exercise.checks]
    tasks = [(path, exercise.name, check.name) for check in exercise.checks]
    return run_checks(tasks, seed=seed, timeout=timeout, jobs=jobs, registry=registry, on_result=on_result)
