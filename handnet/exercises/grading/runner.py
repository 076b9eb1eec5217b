"""Run grading checks on a student's file: each check in the grading process, the student's code in a child.

    result = run_check("sigmoid.py", "sigmoid", "sigmoid(0) = 0.5")   # one CheckResult
    results = run_file("sigmoid.py")            # every check of the exercise named in the header

The student's file is never imported in the grading process. For each check
a fresh contained child (``session.StudentProcess``, ``sandbox``) loads a
private copy of the file and answers calls with plain data; the check itself
runs here and decides. Mapping:

    the check returns                      PASS   full points, the check's message
    NotImplementedError (the stub)         TODO   0 points
    WrongAnswer                            FAIL   0 points, the check's message
    the student's code raises              FAIL   'ExcType: message' and the line of their file
    the check's own code raises            FAIL   the error, "after your code returned": usually a
                                                  wrong type or shape of what the function returned
    the file does not compile              FAIL   every check, with the line of the syntax error
    the child's guards refused something   FAIL   the sentence saying what and why
    no answer within ``timeout`` seconds   FAIL   'timed out after Ns (an infinite loop?)'
    the child dies (os._exit, a crash)     FAIL   with its exit status or signal
    the file is not a regular file         FAIL   'sigmoid.py is a FIFO (named pipe), not a regular file'
    a notebook without a readable answer   FAIL   'sigmoid.ipynb is not a notebook: not valid JSON (...)'

A notebook (``.ipynb``) is graded on its answer cell (``notebooks.read_submission``), read as
JSON data here and run in the child as ``NAME.py``, the file its save cell writes.

Whatever the outcome, the child's whole tree is ended before the result is
returned. On a FAIL the tail of what the student's code printed follows the
message. Checks of one file, or of many files (``run_checks``), run in
parallel, ``jobs`` at a time (default: the number of CPUs).
``CheckResult.seconds`` is the wall time of the check, child start-up included.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from ..._system import usable_cpus
from ..._validate import as_positive, as_positive_int, as_seed, is_integer
from ..exercise import WrongAnswer
from ..registry import get_exercise, load_registry
from .files import NotRegularFile
from .markers import exercise_name_of
from .notebooks import python_name, read_submission
from .session import (DEFAULT_MEMORY, ChildGone, LoadFailed, Refused, StudentError, StudentProcess, end_all,
                      format_student_exception)

__all__ = ["CheckResult", "run_check", "run_file", "run_checks", "exercise_for_file", "DEFAULT_TIMEOUT",
           "default_jobs", "progress_bar", "compile_error", "DEFAULT_MEMORY"]

#: Seconds a check may take, the child's start-up included.
DEFAULT_TIMEOUT = 30.0
#: Lines of the student's output shown under a failure.
OUTPUT_TAIL_LINES = 20


@dataclass
class CheckResult:
    """The outcome of one check on one file: status PASS, FAIL or TODO; score out of max_score;
    output is what the student is shown; seconds the wall time of the check, its child's start included."""

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
    return usable_cpus()


def _check_timeout(timeout):
    return as_positive(timeout, "timeout")


def _check_jobs(jobs):
    return default_jobs() if jobs is None else as_positive_int(jobs, "jobs")


def _check_seed(seed):
    if seed is not None and not is_integer(seed):
        raise TypeError(f"seed: expected None (the public run) or a non-negative integer, got {seed!r}")
    return as_seed(seed)


def _check_memory(memory):
    return as_positive_int(memory, "memory")


def _student_file(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected the path of a student's .py file or notebook, got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.lexists(path):
        raise FileNotFoundError(f"{path}: no such file")
    return os.path.abspath(path)


def exercise_for_file(path, registry=None):
    """The Exercise a student's file is for, from its header line; ValueError when it has none, names
    an exercise that does not exist, or is not a regular file."""
    name = exercise_name_of(_student_file(path))
    if name is None:
        raise ValueError(f"{os.fspath(path)}: no '# handnet exercise: NAME' line at the top; a file "
                         "written by 'handnet assign' starts with one, put it back as the first line")
    try:
        return get_exercise(name, registry)
    except ValueError:
        known = ", ".join(load_registry(registry)) or "(none)"
        raise ValueError(f"{os.fspath(path)}: its header names the exercise {name!r}, which does not exist; "
                         f"expected one of {known}") from None


def run_check(path, exercise, check, seed=None, timeout=DEFAULT_TIMEOUT, registry=None, memory=DEFAULT_MEMORY,
              forbid=(), filename=None):
    """Run the check named ``check`` of the exercise named ``exercise`` on the file ``path``.

    seed      None: the public run (fixed inputs); an int: a hidden variant.
    timeout   seconds for the whole check, the child's start-up included (FAIL when over).
    memory    the child's address space limit in bytes (default 2 GiB).
    forbid    folders the child may not open besides the installed package (grade: the
              submissions and the grades).
    filename  the name the student knows the file by (default: its base name).
    registry  a .py file defining EXERCISES to use instead of handnet's (tests).

    Returns a CheckResult; raises only for bad arguments (a missing file, an unknown exercise
    or check), never for anything the student's code does.
    """
    path = _student_file(path)
    timeout = _check_timeout(timeout)
    seed = _check_seed(seed)
    memory = _check_memory(memory)
    the_check = get_exercise(exercise, registry).check_named(check)
    return _run(path, exercise, the_check, seed, timeout, memory, tuple(forbid),
                filename or os.path.basename(path))


def _result(exercise, check, status, message, printed, seconds):
    output = message + ("\n\n" + printed if status == "FAIL" and printed else "")
    points = float(check.points)
    return CheckResult(exercise, check.name, status, points if status == "PASS" else 0.0, points, output, seconds)


def _run(path, exercise, check, seed, timeout, memory, forbid, filename):
    """The check, run here against a proxy of the student's module in a fresh contained child."""
    start = time.perf_counter()
    try:
        source = read_submission(path)
    except (NotRegularFile, OSError) as exc:
        return _result(exercise, check, "FAIL", str(exc), "", time.perf_counter() - start)
    process = StudentProcess(source, python_name(filename), timeout, memory=memory, forbid=forbid)
    try:
        status, message = _outcome(process, check, seed)
    finally:
        process.close()
    text, dropped = process.printed()
    return _result(exercise, check, status, message, _printed_tail(text, dropped), time.perf_counter() - start)


def _outcome(process, check, seed):
    """(status, message) of one check against the child behind ``process``."""
    try:
        message = check.run(process.student(), seed)
    except LoadFailed as exc:
        return "FAIL", str(exc)
    except NotImplementedError as exc:
        return "TODO", f"not written yet: {str(exc) or 'NotImplementedError'}"
    except WrongAnswer as exc:
        return "FAIL", str(exc) or "the check failed"
    except Refused as exc:
        return "FAIL", "\n".join(f"refused: {sentence}" for sentence in str(exc).split("\n"))
    except ChildGone as exc:
        return "FAIL", str(exc)
    except StudentError as exc:
        return "FAIL", str(exc)
    except Exception as exc:  # noqa: BLE001 - the check choked on what the student's code returned
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" ({os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
        return "FAIL", (f"{type(exc).__name__}: {exc}\n  raised in the check's code{where}, after your code "
                        "returned: check the type and shape of what your function returns")
    return "PASS", message if isinstance(message, str) and message else "passed"


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
               progress=False, desc="checks", memory=DEFAULT_MEMORY, forbid=(), on_done=None):
    """Run many checks, ``jobs`` at a time; the CheckResults in the tasks' order.

    tasks      (path, exercise, check) tuples, or (path, exercise, check, seed) to
               give a task its own seed instead of ``seed``.
    on_result  called with each CheckResult as it finishes (in the calling
               thread).
    progress   a tqdm bar labelled ``desc`` on stderr: True, False, or None (only
               when stderr is a terminal); see ``progress_bar``.

    on_done    called with (task index, CheckResult) as each finishes (in the calling thread).
    memory, forbid  as in ``run_check``, for every task.

    On Ctrl-C (or any error) every running check's child, and everything it
    started, is killed before the exception propagates.
    """
    timeout = _check_timeout(timeout)
    memory = _check_memory(memory)
    forbid = tuple(forbid)
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
        return _run_pool(tasks, timeout, jobs, registry, on_result, memory, forbid, on_done)
    finally:
        if bar is not None:
            bar.close()


def _run_pool(tasks, timeout, jobs, registry, on_result, memory, forbid, on_done=None):
    """run_checks' work: the tasks (each with its seed) on a pool of ``jobs`` threads."""
    from concurrent.futures import as_completed

    results = [None] * len(tasks)
    pool = ThreadPoolExecutor(max_workers=min(jobs, len(tasks)), thread_name_prefix="handnet-check")
    try:
        futures = {pool.submit(run_check, path, exercise, check, task_seed, timeout, registry, memory, forbid): i
                   for i, (path, exercise, check, task_seed) in enumerate(tasks)}
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if on_done is not None:
                on_done(futures[future], result)
            if on_result is not None:
                on_result(result)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        end_all()
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


def compile_error(path, filename=None):
    """The FAIL message for a file that does not compile (it is compiled here, never run), or is not
    a regular file; None when it compiles. ``filename``: the name shown (default: the base name)."""
    filename = python_name(filename or os.path.basename(os.fspath(path)))
    try:
        source = read_submission(path)
    except (NotRegularFile, OSError) as exc:
        return str(exc)
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        syntax = {"message": exc.msg, "line": exc.lineno, "offset": exc.offset,
                  "source": (exc.text or "").rstrip("\r\n")}
        return "your file could not be imported:\n" + format_student_exception(
            {"type": type(exc).__name__, "syntax": syntax}, filename)
    except ValueError as exc:                           # e.g. a NUL byte
        return f"your file could not be imported: {exc}"
    return None


def run_file(path, seed=None, timeout=DEFAULT_TIMEOUT, jobs=None, registry=None, on_result=None,
             memory=DEFAULT_MEMORY):
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
    return run_checks(tasks, seed=seed, timeout=timeout, jobs=jobs, registry=registry, on_result=on_result,
                      memory=memory)
