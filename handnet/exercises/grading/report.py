"""What a student (or teacher) sees: the results table, and a results.json like Gradescope's.

    print(format_results(results))                 # the table, then what each failure said
    write_results_json(results, results_path_for("sigmoid.py"))   # sigmoid.results.json

results.json follows the shape of Gradescope's autograder output (the
``score``, ``max_score`` and ``tests`` fields; see Gradescope's documentation
of "Autograder Specifications"), so it can be uploaded or read by the same
scripts::

    {"score": 6.0, "max_score": 10.0, "execution_time": 2.1,
     "output": "sigmoid.py, public run: 6.0/10.0 points (2 PASS, 0 FAIL, 1 TODO)",
     "tests": [{"name": "sigmoid: sigmoid values", "status": "passed", "score": 4.0,
                "max_score": 4.0, "output": "PASS: sigmoid(z) is right on ...",
                "extra_data": {"exercise": "sigmoid", "check": "sigmoid values",
                               "result": "PASS", "seconds": 0.6}}, ...]}

Gradescope knows only "passed" and "failed", so TODO is "failed" there; the
handnet status (PASS/FAIL/TODO) starts the test's ``output`` and is in
``extra_data.result``.
"""

from __future__ import annotations

import json
import os

__all__ = ["format_results", "format_table", "format_details", "summary_line", "results_json",
           "write_results_json", "results_path_for", "format_points", "totals", "results_from_json"]

#: The suffix of the report written next to a student's file: sigmoid.py -> sigmoid.results.json.
RESULTS_SUFFIX = ".results.json"


def format_points(score, max_score):
    """'2.0/2.0', '0.5/1.0', '1.25/2.50': one decimal unless the points need two."""
    digits = 1 if all(abs(round(x, 1) - x) < 1e-9 for x in (score, max_score)) else 2
    return f"{score:.{digits}f}/{max_score:.{digits}f}"


def totals(results):
    """(score, max_score, {status: count}) over ``results``."""
    score = round(sum(r.score for r in results), 9)
    max_score = round(sum(r.max_score for r in results), 9)
    counts = {status: sum(r.status == status for r in results) for status in ("PASS", "FAIL", "TODO")}
    return score, max_score, counts


def summary_line(results):
    """'6.0/10.0 points (2 PASS, 0 FAIL, 1 TODO)'."""
    score, max_score, counts = totals(results)
    return (f"{format_points(score, max_score)} points "
            f"({counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['TODO']} TODO)")


def format_table(results):
    """One row per check: exercise, check, status, points, time; then the total."""
    header = ("exercise", "check", "status", "points", "time")
    rows = [(r.exercise, r.check, r.status, format_points(r.score, r.max_score), f"{r.seconds:.1f}s")
            for r in results]
    score, max_score, _ = totals(results)
    total = ("total", "", "", format_points(score, max_score), f"{sum(r.seconds for r in results):.1f}s")
    widths = [max(len(row[i]) for row in [header, *rows, total]) for i in range(len(header))]
    right = {3, 4}                                       # numbers line up on the right

    def line(row):
        cells = [cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *map(line, rows), rule, line(total)])


def format_details(results):
    """What each FAIL said (indented, below a heading), and one line per TODO message; '' if all
    passed."""
    parts = []
    for r in results:
        if r.status == "FAIL":
            body = "\n".join("    " + line if line else "" for line in r.output.split("\n"))
            parts.append(f"FAIL  {r.exercise}: {r.check}\n{body}")
    todo = {}                                 # the same message from several checks is said once
    for r in results:
        if r.status == "TODO":
            todo.setdefault((r.exercise, r.output), []).append(r.check)
    if todo:
        parts.append("\n".join(
            f"TODO  {exercise}: {output}" + (f" ({len(checks)} checks)" if len(checks) > 1 else f" ({checks[0]})")
            for (exercise, output), checks in todo.items()))
    return "\n\n".join(parts)


def format_results(results):
    """The table, the summary line, then the details of what did not pass."""
    text = format_table(results) + "\n" + summary_line(results)
    details = format_details(results)
    return text + ("\n\n" + details if details else "")


def results_json(results, title=None, extra=None, notes=()):
    """A dict shaped like Gradescope's results.json for ``results`` (a list of CheckResult).

    ``title`` (e.g. 'sigmoid.py, public run') starts the top-level output line; ``notes``
    (sentences for the student and the teacher: a file not graded...) follow it, one
    'note: ...' line each, and are listed in ``extra_data.notes``; ``extra`` (a JSON-ready
    dict) is the rest of the top-level ``extra_data``.
    """
    score, max_score, _ = totals(results)
    tests = []
    for r in results:
        tests.append({
            "name": f"{r.exercise}: {r.check}",
            "status": "passed" if r.status == "PASS" else "failed",
            "score": float(r.score),
            "max_score": float(r.max_score),
            "output": f"{r.status}: {r.output}",
            "extra_data": {"exercise": r.exercise, "check": r.check, "result": r.status,
                           "seconds": round(float(r.seconds), 3)},
        })
    summary = summary_line(results)
    data = {
        "score": score,
        "max_score": max_score,
        "execution_time": round(sum(float(r.seconds) for r in results), 3),
        "output": (f"{title}: {summary}" if title else summary) + "".join(f"\nnote: {n}" for n in notes),
        "tests": tests,
    }
    if extra is not None or notes:
        data["extra_data"] = {**(extra or {}), **({"notes": list(notes)} if notes else {})}
    return data


def results_from_json(data):
    """The CheckResults a ``results_json`` dict holds (what ``handnet grade`` reads back to resume)."""
    from .runner import CheckResult

    out = []
    for test in data["tests"]:
        info = test["extra_data"]
        status = info["result"]
        output = test["output"]
        prefix = f"{status}: "
        out.append(CheckResult(info["exercise"], info["check"], status, float(test["score"]),
                               float(test["max_score"]), output[len(prefix):] if output.startswith(prefix)
                               else output, float(info.get("seconds", 0.0))))
    return out


def results_path_for(student_file):
    """Where the report of ``student_file`` goes: next to it, sigmoid.py -> sigmoid.results.json."""
    folder, name = os.path.split(os.fspath(student_file))
    stem = os.path.splitext(name)[0]
    return os.path.join(folder, stem + RESULTS_SUFFIX)


def write_results_json(results, path, title=None, extra=None, notes=()):
    """Write ``results_json(results, title, extra, notes)`` to ``path`` atomically (UTF-8, indented); the path."""
    from ..._atomic import atomic_write

    data = (json.dumps(results_json(results, title, extra, notes), indent=2, ensure_ascii=False, allow_nan=False)
            + "\n").encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data))
