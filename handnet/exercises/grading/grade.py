"""Grade a folder of submissions, one subfolder per student, on a seed chosen at grading time.

    submissions/
      alice/sigmoid.py  alice/cost.py
      bob/sigmoid.py
    grades = grade("submissions", seed=7, out_dir="handnet-output/grades")

Every ``*.py`` file in a student's folder (subfolders included) whose header
line names an exercise is graded: all of that exercise's checks, each in its
own subprocess, ``jobs`` at a time over the whole class. Rules:

* a student who has no file for an exercise that someone else submitted gets a
  FAIL row with 0 points and the output "no file submitted" for each of its
  checks, so every student has the same rows and the same maximum;
* two files for the same exercise in one folder: the first in sorted path
  order is graded and the others are listed in ``notes``;
* files without a header, or naming an unknown exercise, are listed in
  ``notes`` and not graded; files right inside the submissions folder (not in
  a student's subfolder) too;
* ``exercises=[...]`` (``--exercises a,b``) fixes the exercises graded: every
  student gets their rows, whoever submitted what, and a file for any other
  exercise is a note. Without it, the exercises graded are those someone
  submitted, so one student's stray file would change everyone's maximum.

Every note is printed, and also written: to grades.csv as a row with the status
NOTE (0 of 0 points, the text in the ``note`` column; a note about a file right
inside the submissions folder has an empty student) and to that student's JSON
(its ``output`` and ``extra_data.notes``).

The seed is a hidden variant: the checks draw other shapes and values from
it, and a gradient check needs no answer key, so nobody can hard-code the
public answers. Written to ``out_dir`` (atomically): ``grades.csv`` with the
columns student, exercise, check, status, score, max_score, note, and ``STUDENT.json``
per student, shaped like Gradescope's results.json.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .markers import exercise_name_of

__all__ = ["grade", "Grades", "find_submissions", "format_summary", "CSV_COLUMNS", "NO_FILE", "NOTE"]

CSV_COLUMNS = ["student", "exercise", "check", "status", "score", "max_score", "note"]
NO_FILE = "no file submitted"
#: The status of a grades.csv row that carries a note instead of a check's result (0 of 0 points).
NOTE = "NOTE"
CSV_NAME = "grades.csv"


@dataclass
class Grades:
    """What ``grade`` found: ``rows`` (a DataFrame with CSV_COLUMNS: the checks' rows and the
    NOTE rows, as in grades.csv), per-student ``results`` (lists of CheckResult), ``files``
    {(student, exercise): path}, ``notes`` (every note's text), ``student_notes`` {student:
    [text]} (those about a student's files) and the paths written."""

    rows: object
    results: dict
    files: dict
    notes: list = field(default_factory=list)
    paths: list = field(default_factory=list)
    student_notes: dict = field(default_factory=dict)

    def checks(self):
        """``rows`` without the NOTE rows: one row per student and check."""
        return self.rows[self.rows["status"] != NOTE]

    def totals(self):
        """A DataFrame per student: score, max_score and the number of PASS, FAIL and TODO checks."""
        import pandas as pd

        rows = self.checks()
        table = rows.groupby("student", sort=False).agg(score=("score", "sum"), max_score=("max_score", "sum"))
        counts = pd.crosstab(rows["student"], rows["status"]).reindex(
            columns=["PASS", "FAIL", "TODO"], fill_value=0)
        return table.join(counts).reset_index()


def _is_hidden(name):
    return name.startswith(".") or name == "__pycache__"


def find_submissions(submissions_dir, registry=None):
    """({student: {exercise: path}}, notes): what ``grade`` would grade, without running anything."""
    found, notes = _find(submissions_dir, registry)
    return found, [text for _, _, text in notes]


def _find(submissions_dir, registry=None):
    """find_submissions, with each note as (student or None, exercise or '', text)."""
    from ..registry import load_registry

    exercises = load_registry(registry)
    root = os.fspath(submissions_dir)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root}: no such folder (expected one subfolder per student)")
    notes, found = [], {}
    loose = sorted(e.name for e in os.scandir(root) if e.is_file() and e.name.endswith(".py"))
    if loose:
        notes.append((None, "", f"not graded, not in a student's subfolder: {', '.join(loose)}"))
    students = sorted(e.name for e in os.scandir(root) if e.is_dir() and not _is_hidden(e.name))
    for student in students:
        found[student] = {}
        top = os.path.join(root, student)
        files = []
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
            files += [os.path.join(folder, n) for n in names if n.endswith(".py") and not _is_hidden(n)]
        for path in sorted(files):
            shown = os.path.relpath(path, root)
            try:
                name = exercise_name_of(path)
            except OSError as exc:
                notes.append((student, "", f"{shown}: cannot be read ({exc.strerror or exc})"))
                continue
            if name is None:
                notes.append((student, "", f"{shown}: no '# handnet exercise: NAME' header, not graded"))
            elif name not in exercises:
                notes.append((student, "", f"{shown}: names the unknown exercise {name!r}, not graded"))
            elif name in found[student]:
                notes.append((student, name, f"{shown}: a second file for {name!r}; graded "
                                             f"{os.path.relpath(found[student][name], root)} instead"))
            else:
                found[student][name] = path
    return found, notes


def _graded_exercises(chosen, registered, found):
    """The names of the exercises graded: ``chosen`` (checked against the registry), or every
    exercise someone submitted, in the registry's order."""
    if chosen is None:
        return [name for name in registered if any(name in files for files in found.values())]
    if isinstance(chosen, str) or not chosen:
        raise ValueError(f"exercises: expected a list of exercise names, got {chosen!r}")
    unknown = [name for name in chosen if name not in registered]
    if unknown:
        raise ValueError(f"exercises: no exercise named {', '.join(map(repr, unknown))}; expected some of "
                         f"{', '.join(registered)}")
    return list(dict.fromkeys(chosen))


def grade(submissions_dir, seed, out_dir=None, timeout=None, jobs=None, registry=None, progress=None,
          exercises=None):
    """Grade every student's files on the hidden variant ``seed``; returns a Grades.

    exercises the names of the exercises to grade (default: those someone submitted).
    out_dir   where grades.csv and STUDENT.json go (None: write nothing).
    timeout   seconds per check (default runner.DEFAULT_TIMEOUT); jobs: checks at once.
    progress  a tqdm bar over the checks: True, False, or None (only on a terminal).
    """
    import pandas as pd

    from . import runner
    from ..registry import load_registry
    from .report import write_results_json

    if seed is None or isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer (the hidden variant), got {seed!r}")
    timeout = runner.DEFAULT_TIMEOUT if timeout is None else timeout
    registered = load_registry(registry)
    found, notes = _find(submissions_dir, registry)
    submitted = _graded_exercises(exercises, registered, found)
    root = os.fspath(submissions_dir)
    for student, files in found.items():
        for name in [name for name in files if name not in submitted]:
            notes.append((student, name, f"{os.path.relpath(files.pop(name), root)}: the exercise {name!r} "
                                         f"is not graded in this run (the exercises graded: "
                                         f"{', '.join(submitted)})"))
    exercises = registered

    tasks, syntax = [], {}
    for student, files in found.items():
        for name, path in files.items():
            broken = runner.compile_error(path)
            if broken is not None:
                syntax[(student, name)] = broken
                continue
            tasks += [(path, name, check.name) for check in exercises[name].checks]
    done = runner.run_checks(tasks, seed=seed, timeout=timeout, jobs=jobs, registry=registry,
                             progress=progress, desc="grading")
    by_task = {}
    for (path, name, check), result in zip(tasks, done):
        by_task[(path, name, check)] = result

    results, rows = {}, []
    for student, files in found.items():
        results[student] = []
        for name in submitted:
            exercise = exercises[name]
            for check in exercise.checks:
                points = float(check.points)
                if name not in files:
                    result = runner.CheckResult(name, check.name, "FAIL", 0.0, points, NO_FILE, 0.0)
                elif (student, name) in syntax:
                    result = runner.CheckResult(name, check.name, "FAIL", 0.0, points,
                                                syntax[(student, name)], 0.0)
                else:
                    result = by_task[(files[name], name, check.name)]
                results[student].append(result)
                rows.append((student, name, check.name, result.status, result.score, result.max_score, ""))
        rows += [(student, name, "", NOTE, 0.0, 0.0, text) for who, name, text in notes if who == student]
    rows[:0] = [("", name, "", NOTE, 0.0, 0.0, text) for who, name, text in notes if who is None]
    table = pd.DataFrame(rows, columns=CSV_COLUMNS)
    grades = Grades(table, results, {(s, e): p for s, files in found.items() for e, p in files.items()},
                    [text for _, _, text in notes],
                    student_notes={s: [text for who, _, text in notes if who == s] for s in found})
    if out_dir is not None:
        grades.paths = _write(grades, out_dir, seed, write_results_json)
    return grades


def _write(grades, out_dir, seed, write_results_json):
    from ...io import atomic_write

    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"--out: {out_dir!r} exists and is not a folder")
    data = grades.rows.to_csv(index=False).encode("utf-8")
    paths = [atomic_write(os.path.join(out_dir, CSV_NAME), lambda fh: fh.write(data))]
    for student, results in grades.results.items():
        if not results:
            continue
        paths.append(write_results_json(results, os.path.join(out_dir, f"{student}.json"),
                                        title=f"{student}, seed {seed}", notes=grades.student_notes[student]))
    return paths


def format_summary(grades):
    """The per-student table: each exercise's points, the total, and the PASS/FAIL/TODO counts."""
    from .report import format_points

    rows = grades.checks()
    if rows.empty:
        return "no submissions graded"
    per = rows.groupby(["student", "exercise"], sort=False)[["score", "max_score"]].sum()
    exercises = list(dict.fromkeys(rows["exercise"]))
    header = ["student", *exercises, "total", "PASS", "FAIL", "TODO"]
    body = []
    for row in grades.totals().itertuples(index=False):
        cells = [row.student]
        for name in exercises:
            score, max_score = per.loc[(row.student, name)]
            cells.append(format_points(score, max_score))
        cells += [format_points(row.score, row.max_score), str(row.PASS), str(row.FAIL), str(row.TODO)]
        body.append(cells)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, body)])
