"""Grade a folder of submissions, one subfolder per student, on a seed chosen at grading time.

    submissions/
      alice/sigmoid.py  alice/cost.py
      bob/sigmoid.py
    grades = grade("submissions", seed=7, out_dir="handnet-output/grades")

Every ``*.py`` file in a student's folder (subfolders included) whose header
line names an exercise is graded: all of that exercise's checks, each against
its own contained child (see ``runner``), ``jobs`` at a time over the class.
A notebook (``*.ipynb``, e.g. from ``handnet assign NAME --notebook``) counts
as a file too: its answer cell is graded (``notebooks.read_submission``: read
as JSON, never run here); a notebook that cannot be read is a FAIL saying why.

* A student with no file for an exercise that someone else submitted gets a
  FAIL row with 0 points and the output "no file submitted" for each of its
  checks, so every student has the same rows and the same maximum.
* Two files for the same exercise in one folder: the first in sorted path
  order is graded, the others are listed in ``notes``; a ``.py`` comes before
  any notebook (the .py is what the notebook's save cell writes, the file the
  teacher asked for; a student who handed in both gets a note saying which
  was graded); files without a header
  or naming an unknown exercise are listed in ``notes`` and not graded; so are
  files right inside the submissions folder.
* Only regular files are read: a FIFO, device, socket or symbolic link named
  like an exercise (``sigmoid.py``) fails that exercise's checks with a
  sentence saying what it is, and never blocks the run.
* ``exercises=[...]`` (``--exercises a,b``) fixes the exercises graded: every
  student gets their rows, whoever submitted what, and a file for any other
  exercise is a note. Without it, the exercises graded are those someone
  submitted, so one student's stray file would change everyone's maximum.

Notes. Every note (a file not graded and why, a second file, a file changed
while grading, ...) is printed by ``handnet grade`` and also written: to
grades.csv as a row with the status NOTE (0 of 0 points, the sentence in the
``note`` column; a note that is about no one student has an empty student) and
to that student's JSON (a 'note: ...' line of its ``output``, and
``extra_data.notes``).

Trust. Before any student's code runs, every graded file is copied into a
private snapshot folder and hashed; each check gets a fresh copy from there,
so one student's code cannot change what another is graded on. At the end the
originals are hashed again and any change is listed in ``notes``. The
children may not open the submissions, the output folder or the installed
package (``sandbox``: hidden by an empty mount, and refused by the worker's
audit hook). Each (student, exercise) is also compared with the reference
solution (``copies``): a near-copy is flagged in ``flag``, not graded down.

Resume. Each student's ``STUDENT.json`` is written (atomically) as soon as
that student's checks are done, with the seed and the SHA-256 of each graded
file in its ``extra_data``; run again with the same seed, every exercise whose
file is unchanged is taken from there instead of run again, so a run that was
killed loses nothing. Ctrl-C raises ``GradingInterrupted`` saying how many
students are saved and how to resume.

Written to ``out_dir``: ``grades.csv`` (CSV_COLUMNS) and ``STUDENT.json`` per
student, shaped like Gradescope's results.json (``results_json_name``: a name
too long for a file is cut and hashed; ``extra_data.student`` holds the real
one). A cell of grades.csv that starts with = + - @ gets a leading apostrophe
(``spreadsheet_safe``), so a spreadsheet shows it as text, never runs it as a
formula (a folder named ``=HYPERLINK(...)``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field

from ..._validate import as_seed, is_integer
from .files import NotRegularFile, read_regular, sha256
from .markers import exercise_name_of
from .notebooks import is_notebook, read_submission

__all__ = ["grade", "Grades", "GradingInterrupted", "find_submissions", "format_summary", "CSV_COLUMNS",
           "NO_FILE", "NOTE", "results_json_name", "spreadsheet_safe"]

CSV_COLUMNS = ["student", "exercise", "check", "status", "score", "max_score", "flag", "note"]
NO_FILE = "no file submitted"
#: The status of a grades.csv row that carries a note instead of a check's result (0 of 0 points).
NOTE = "NOTE"
CSV_NAME = "grades.csv"
#: The key of handnet's own data in a student's results.json ``extra_data``.
STATE_KEY = "handnet_grade"


#: The longest STUDENT.json file name, in bytes (file systems allow 255): a longer student's name is
#: cut and followed by a hash of the whole name; the real name is inside the JSON.
MAX_JSON_NAME = 120
#: First characters that make a spreadsheet read a cell as a formula (=HYPERLINK(...) in a folder name).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def results_json_name(student):
    """The file name of ``student``'s results: ``STUDENT.json``, or, for a name too long for a file
    system (or a hidden one), its first bytes and a hash of the whole name."""
    raw = student.encode("utf-8", "surrogateescape")
    if len(raw) + len(".json") <= MAX_JSON_NAME and not student.startswith("."):
        return f"{student}.json"
    head = raw[:80].decode("utf-8", "ignore").lstrip(".")
    return f"{head}-{sha256(raw)[:16]}.json"


def spreadsheet_safe(cell):
    """``cell`` as a spreadsheet shows it as text: a string starting with = + - @ (a formula to a
    spreadsheet) gets a leading apostrophe; anything else is unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class GradingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``grade``: str() says how many students are saved and how to resume."""


@dataclass
class Grades:
    """What ``grade`` found: ``rows`` (a DataFrame with CSV_COLUMNS: the checks' rows and the NOTE
    rows, as in grades.csv), per-student ``results`` (lists of CheckResult), ``files``
    {(student, exercise): path}, ``notes`` (every note's sentence), the paths written, ``flags``
    {(student, exercise): sentence} for near-copies of the reference, ``containment`` (the
    sentence saying what the submissions ran under), ``resumed`` (students taken from a previous
    run) and ``student_notes`` {student: [sentence]} (the notes about each student's files)."""

    rows: object
    results: dict
    files: dict
    notes: list = field(default_factory=list)
    paths: list = field(default_factory=list)
    flags: dict = field(default_factory=dict)
    containment: str = ""
    resumed: list = field(default_factory=list)
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


def _is_submission(name):
    return name.endswith(".py") or is_notebook(name)


def find_submissions(submissions_dir, registry=None):
    """({student: {exercise: path}}, notes): what ``grade`` would grade, without running anything.

    A path that is not a regular file but is named like an exercise (``sigmoid.py`` as a FIFO)
    is listed under that exercise, so its checks fail with a sentence saying what it is.
    """
    found, notes = _find(submissions_dir, registry)
    return found, [text for _, _, text in notes]


def _find(submissions_dir, registry=None):
    """find_submissions, with each note as (student or None, exercise or '', sentence)."""
    from ..registry import load_registry

    exercises = load_registry(registry)
    root = os.fspath(submissions_dir)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root}: no such folder (expected one subfolder per student)")
    notes, found = [], {}
    loose = sorted(e.name for e in os.scandir(root) if _is_submission(e.name) and not e.is_dir())
    if loose:
        notes.append((None, "", f"not graded, not in a student's subfolder: {', '.join(loose)}"))
    students = sorted(e.name for e in os.scandir(root)
                      if e.is_dir(follow_symlinks=False) and not _is_hidden(e.name))
    for student in students:
        found[student] = {}
        top = os.path.join(root, student)
        files = []
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
            files += [os.path.join(folder, n) for n in names if _is_submission(n) and not _is_hidden(n)]
        for path in sorted(files, key=lambda p: (is_notebook(p), p)):       # a .py before any notebook
            shown = os.path.relpath(path, root)
            try:
                name = exercise_name_of(path)
            except NotRegularFile as exc:
                stem = os.path.splitext(os.path.basename(path))[0]
                notes.append((student, "", f"{shown}: {exc}"))
                if stem in exercises and stem not in found[student]:
                    found[student][stem] = path
                continue
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


def _snapshot(found, folder):
    """Copy every graded file into ``folder`` (private) before any code runs.

    Returns ({(student, exercise): snapshot path}, {(student, exercise): sha256},
    {(student, exercise): sentence for a file that could not be read}).
    """
    copies, hashes, unreadable = {}, {}, {}
    for student, files in found.items():
        for exercise, path in files.items():
            try:
                data = read_regular(path)
            except (NotRegularFile, OSError) as exc:
                unreadable[(student, exercise)] = str(exc) if isinstance(exc, NotRegularFile) else \
                    f"{os.path.basename(path)} cannot be read ({exc.strerror or exc})"
                continue
            target_dir = os.path.join(folder, f"{len(copies):05d}")
            os.makedirs(target_dir)
            target = os.path.join(target_dir, os.path.basename(path))
            with open(target, "wb") as fh:
                fh.write(data)
            copies[(student, exercise)] = target
            hashes[(student, exercise)] = sha256(data)
    return copies, hashes, unreadable


def _changed_originals(found, hashes, root):
    """Notes (student, exercise, sentence) for originals that changed (or vanished) while grading."""
    notes = []
    for (student, exercise), before in hashes.items():
        path = found[student][exercise]
        try:
            after = sha256(read_regular(path))
        except (NotRegularFile, OSError) as exc:
            after = f"unreadable ({exc})"
        if after != before:
            notes.append((student, exercise,
                          f"{os.path.relpath(path, root)} changed while grading (SHA-256 {before[:12]}... "
                          f"before, {after[:12]}{'...' if len(after) == 64 else ''} after); it was graded from "
                          "the copy taken before any code ran"))
    return notes


def _saved_state(path, seed):
    """{exercise: (sha256, [CheckResult])} from a previous run's STUDENT.json on the same seed, or {}."""
    from .report import results_from_json

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        state = data["extra_data"][STATE_KEY]
        if state["seed"] != seed:
            return {}
        results = results_from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    saved = {}
    for exercise, digest in state.get("files", {}).items():
        if isinstance(digest, str):
            saved[exercise] = (digest, [r for r in results if r.exercise == exercise])
    return saved


def _free(path, notes):
    """Make ``path`` writable as a file: something else there (a folder) is moved aside, with a note."""
    if os.path.lexists(path) and (os.path.isdir(path) or os.path.islink(path)):
        aside, n = f"{path}.not-a-file", 2
        while os.path.lexists(aside):
            aside, n = f"{path}.not-a-file{n}", n + 1
        os.rename(path, aside)
        notes.append((None, "", f"{os.path.basename(path)} was not a file (a folder or a link); moved aside to "
                                f"{os.path.basename(aside)}"))
    return path


def _reference_sources(exercises, names):
    """{exercise: the reference's source} for the near-copy flag (exercises without one are left out)."""
    out = {}
    for name in names:
        try:
            out[name] = read_regular(exercises[name].reference_path()).decode("utf-8", errors="replace")
        except (ValueError, OSError):
            continue
    return out


def grade(submissions_dir, seed, out_dir=None, timeout=None, jobs=None, registry=None, progress=None,
          memory=None, resume=True, exercises=None, forbid=()):
    """Grade every student's files on the hidden variant ``seed``; returns a Grades.

    exercises the names of the exercises to grade (default: those someone submitted).
    out_dir   where grades.csv and STUDENT.json go (None: write nothing, resume nothing).
    timeout   seconds per check (default runner.DEFAULT_TIMEOUT); jobs: checks at once.
    memory    each child's address space limit in bytes (default 2 GiB).
    resume    take unchanged files' results from a previous run's STUDENT.json on the same seed.
    forbid    more folders the children may not open (hidden in the namespace modes), besides the
              submissions, the output folder and the installed package (Gradescope: its source/).
    progress  a tqdm bar over the checks: True, False, or None (only on a terminal).

    Raises GradingInterrupted on Ctrl-C (the students finished so far are saved).
    """
    import pandas as pd

    from ..registry import load_registry
    from . import runner, sandbox
    from .copies import near_copy
    from .report import write_results_json

    if not is_integer(seed) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer (the hidden variant), got {seed!r}")
    seed = as_seed(seed)
    timeout = runner.DEFAULT_TIMEOUT if timeout is None else timeout
    memory = runner.DEFAULT_MEMORY if memory is None else memory
    registered = load_registry(registry)
    root = os.path.abspath(os.fspath(submissions_dir))
    found, notes = _find(root, registry)
    submitted = _graded_exercises(exercises, registered, found)
    for student, files in found.items():
        for name in [name for name in files if name not in submitted]:
            notes.append((student, name, f"{os.path.relpath(files.pop(name), root)}: the exercise {name!r} is "
                                         f"not graded in this run (the exercises graded: {', '.join(submitted)})"))
    exercises = registered
    if out_dir is not None:
        out_dir = os.path.abspath(os.fspath(out_dir))
        if os.path.exists(out_dir) and not os.path.isdir(out_dir):
            raise ValueError(f"--out: {out_dir!r} exists and is not a folder")
        os.makedirs(out_dir, exist_ok=True)
    box = sandbox.containment()
    sandbox.sweep_stale()
    references = _reference_sources(exercises, submitted)

    snapshot = tempfile.mkdtemp(prefix="snapshot-", dir=sandbox.run_folder())
    try:
        copies, hashes, unreadable = _snapshot(found, snapshot)
        flags = {}
        for key, path in copies.items():
            if key[1] in references:
                try:
                    source = read_submission(path).decode("utf-8", errors="replace")
                except (NotRegularFile, OSError):           # a notebook without an answer: FAILs below
                    continue
                flag = near_copy(source, references[key[1]])
                if flag:
                    flags[key] = flag

        fixed, tasks, owner, resumed = {}, [], [], []
        for student, files in found.items():
            saved = _saved_state(os.path.join(out_dir, results_json_name(student)), seed) \
                if resume and out_dir else {}
            reused = False
            for name in submitted:
                checks = exercises[name].checks
                key = (student, name)

                def fill(message, key=key, checks=checks, name=name):
                    for check in checks:
                        fixed[key + (check.name,)] = runner.CheckResult(name, check.name, "FAIL", 0.0,
                                                                        float(check.points), message, 0.0)

                if name not in files:
                    fill(NO_FILE)
                elif key in unreadable:
                    fill(unreadable[key])
                elif name in saved and saved[name][0] == hashes[key] and \
                        [r.check for r in saved[name][1]] == [c.name for c in checks]:
                    for result in saved[name][1]:
                        fixed[key + (result.check,)] = result
                    reused = True
                else:
                    broken = runner.compile_error(copies[key], os.path.basename(files[name]))
                    if broken is not None:
                        fill(broken)
                        continue
                    for check in checks:
                        tasks.append((copies[key], name, check.name, seed))
                        owner.append(key + (check.name,))
            if reused:
                resumed.append(student)

        def results_of(student):
            return [fixed.get((student, name, check.name)) or done[(student, name, check.name)]
                    for name in submitted for check in exercises[name].checks]

        def save(student):
            if out_dir is None:
                return
            extra = {STATE_KEY: {"seed": seed, "files": {name: hashes.get((student, name))
                                                         for name in found[student]}},
                     "containment": box.sentence, "student": student,
                     "flags": {name: flags[(student, name)] for name in submitted if (student, name) in flags}}
            path = write_results_json(results_of(student), _free(os.path.join(out_dir, results_json_name(student)),
                                                                 notes),
                                      title=f"{student}, seed {seed}", extra=extra,
                                      notes=[text for who, _, text in notes if who == student])
            if path not in written:
                written.append(path)

        done, written = {}, []
        left = {student: 0 for student in found}
        for key in owner:
            left[key[0]] += 1
        for student in found:
            if left[student] == 0:
                save(student)

        def on_done(i, result):
            done[owner[i]] = result
            student = owner[i][0]
            left[student] -= 1
            if left[student] == 0:
                save(student)

        forbid = [root, snapshot] + ([out_dir] if out_dir else []) + [os.path.abspath(os.fspath(f)) for f in forbid]
        try:
            runner.run_checks(tasks, seed=seed, timeout=timeout, jobs=jobs, registry=registry, progress=progress,
                              desc="grading", memory=memory, forbid=forbid, on_done=on_done)
        except KeyboardInterrupt:
            finished = sum(1 for n in left.values() if n == 0)
            where = f" in {out_dir}" if out_dir else ""
            raise GradingInterrupted(
                f"interrupted: {finished} of {len(found)} students are graded and saved{where}; run the same "
                "command again to grade the others (saved students whose files are unchanged are not run "
                "again)") from None
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    changed = _changed_originals(found, hashes, root)
    notes += changed
    for student in dict.fromkeys(who for who, _, _ in changed):
        save(student)                                   # its JSON gets the note too

    csv_path = _free(os.path.join(out_dir, CSV_NAME), notes) if out_dir is not None else None
    results, rows = {}, []
    for student in found:
        results[student] = results_of(student)
        for result in results[student]:
            rows.append((student, result.exercise, result.check, result.status, result.score, result.max_score,
                         flags.get((student, result.exercise), ""), ""))
        rows += [(student, name, "", NOTE, 0.0, 0.0, "", text) for who, name, text in notes if who == student]
    rows[:0] = [("", name, "", NOTE, 0.0, 0.0, "", text) for who, name, text in notes if who is None]
    table = pd.DataFrame(rows, columns=CSV_COLUMNS)
    grades = Grades(table, results, {(s, e): p for s, files in found.items() for e, p in files.items()},
                    [text for _, _, text in notes], flags=flags, containment=box.sentence, resumed=resumed,
                    student_notes={s: [text for who, _, text in notes if who == s] for s in found})
    if out_dir is not None:
        from ..._atomic import atomic_write

        cells = table.assign(**{c: table[c].map(spreadsheet_safe) for c in ("student", "exercise", "check", "flag",
                                                                            "note")})
        data = cells.to_csv(index=False).encode("utf-8", "surrogateescape")
        grades.paths = [atomic_write(csv_path, lambda fh: fh.write(data))] + written
    return grades


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
