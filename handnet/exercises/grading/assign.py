"""The teacher's side: write a student's copy of an exercise, and validate the exercises.

    write_assignment("sigmoid", "hw1")   # hw1/sigmoid.py (the stub) and hw1/README.md
    write_assignment("sigmoid", "hw1", notebook=True)   # hw1/sigmoid.ipynb (notebooks.student_notebook)
    validate(["sigmoid"])                # references pass every check, stubs are TODO everywhere

``write_assignment`` never overwrites a file that differs from what it would
write unless ``force=True``; even then the old file is first renamed to
``NAME.bak`` (``NAME.bak2``, ... if that exists), so nothing anyone saved is lost.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
import textwrap
from dataclasses import dataclass, field

from ..registry import get_exercise
from .markers import exercise_name_of, find_solution_blocks, make_stub

__all__ = ["write_assignment", "student_copy", "assignment_readme", "validate", "Validation",
           "DEFAULT_VALIDATE_SEEDS", "function_summaries"]

#: The hidden variants ``validate`` tries besides the public run.
DEFAULT_VALIDATE_SEEDS = (1, 2)


def _read(path):
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8")


def student_copy(exercise):
    """The stub module of ``exercise`` (an Exercise): its reference with every solution replaced.

    ValueError when the reference has no solution block (the stub would be the
    solution) or its header does not name the exercise; MarkerError for bad markers.
    """
    path = exercise.reference_path()
    text = _read(path)
    header = exercise_name_of(text=text)
    if header != exercise.name:
        raise ValueError(f"{path}: the first line must be '# handnet exercise: {exercise.name}', "
                         f"found {'no header' if header is None else repr(header)}")
    if not find_solution_blocks(text):
        raise ValueError(f"{path}: no '# BEGIN SOLUTION' / '# END SOLUTION' block; the student's copy "
                         "would be the solution")
    return make_stub(text)


def function_summaries(source):
    """[(name, signature, first docstring line)] of the module's top-level functions that raise
    NotImplementedError in ``source`` (the stub): what the student writes."""
    tree = ast.parse(source)
    out = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        todo = any(isinstance(n, ast.Raise) and n.exc is not None and "NotImplementedError" in ast.unparse(n.exc)
                   for n in ast.walk(node))
        if not todo:
            continue
        doc = (ast.get_docstring(node) or "").strip().split("\n")[0]
        out.append((node.name, f"{node.name}({ast.unparse(node.args)})", doc))
    return out


def _paragraph(text):
    """``text`` wrapped at 88 columns, never inside a `code span`."""
    glued = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", "\0"), " ".join(text.split()))
    wrapped = textwrap.fill(glued, width=88, break_on_hyphens=False, break_long_words=False)
    return wrapped.replace("\0", " ")


def assignment_readme(exercise, stub):
    """The README.md of the student's folder: the task, what to write, the points, the self-check."""
    file = f"{exercise.name}.py"
    lines = [f"# {exercise.title}", "",
             f"Exercise `{exercise.name}`: write the missing parts of `{file}`.", ""]
    if exercise.statement.strip():
        lines += ["## The task", "", exercise.statement.strip(), ""]
    lines += ["## What to write", "",
              f"In `{file}`, replace each `raise NotImplementedError(...)` line with your code:", ""]
    for name, signature, doc in function_summaries(stub):
        lines.append(f"- `{signature}`" + (f": {doc}" if doc else ""))
    lines += ["", _paragraph(
        "Everything else in the file (the signatures, the docstrings, the helper functions you are "
        f"given) stays as it is, and so does the first line, `# handnet exercise: {exercise.name}`: "
        "it tells the checker which exercise the file is. Only numpy is needed."), "",
        "## Points", "", "| check | points |", "|---|---:|"]
    for check in exercise.checks:
        lines.append(f"| {check.name} | {check.points:g} |")
    lines += [f"| **total** | **{exercise.max_score:g}** |", "",
              "## Check your work", "", "```bash", f"handnet check {file}", "```", "",
              _paragraph(
                  "runs every check, your code in its own process for each (a crash or an endless loop only "
                  "fails that check), prints a table with PASS, FAIL or TODO and the points, explains every failure, "
                  f"and writes `{exercise.name}.results.json` next to your file. TODO means the part is "
                  "not written yet. The exit status is 0 only when everything passes."), "",
              _paragraph(
                  f"`handnet check {file} --seed 3` runs the checks on other shapes and values, the way "
                  "your work is graded: the grader picks its own seed, so make it right, not just right on "
                  "the public inputs."), ""]
    return "\n".join(lines)


def _backup_name(path):
    candidate, n = path + ".bak", 2
    while os.path.exists(candidate):
        candidate, n = f"{path}.bak{n}", n + 1
    return candidate


def write_assignment(name, out_dir, force=False, registry=None, notebook=False):
    """Write the student's copy of exercise ``name`` into ``out_dir``: ``NAME.py`` and ``README.md``,
    or with ``notebook=True`` the notebook ``NAME.ipynb`` (task, answer cell, self-check, save cell).

    A file already there with other content (a student's work, a teacher's
    edits) is not touched: FileExistsError naming it, unless ``force=True``, in
    which case it is first renamed to ``FILE.bak`` (then ``.bak2``, ...). Files
    identical to what would be written are left as they are. Returns
    ``(written paths, backups)``.
    """
    from ..._atomic import atomic_write

    exercise = get_exercise(name, registry)
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"-o: {out_dir!r} exists and is not a folder")
    stub = student_copy(exercise)
    if notebook:
        from .notebooks import student_notebook

        files = {os.path.join(out_dir, f"{exercise.name}.ipynb"): student_notebook(exercise, stub).encode("utf-8")}
    else:
        files = {os.path.join(out_dir, f"{exercise.name}.py"): stub.encode("utf-8"),
                 os.path.join(out_dir, "README.md"): assignment_readme(exercise, stub).encode("utf-8")}
    changed = []
    for path, data in files.items():
        if os.path.exists(path):
            with open(path, "rb") as fh:
                if fh.read() != data:
                    changed.append(path)
    if changed and not force:
        listed = " and ".join(changed)
        one = len(changed) == 1
        raise FileExistsError(f"{listed} already exist{'s' if one else ''} with other content (a student's "
                              "work?); nothing was written. Use another folder, or --force to replace "
                              f"{'it' if one else 'them'} (the old file{' is' if one else 's are'} kept as .bak)")
    backups = []
    for path in changed:
        backup = _backup_name(path)
        os.replace(path, backup)
        backups.append(backup)
    written = [atomic_write(path, lambda fh, data=data: fh.write(data)) for path, data in files.items()]
    return written, backups


# ----------------------------------------------------------------------------
# validate
# ----------------------------------------------------------------------------

@dataclass
class Validation:
    """The outcome of validating one exercise: ``rows`` (one per copy and seed) and ``problems``."""

    exercise: str
    rows: list = field(default_factory=list)        # (copy, seed, {status: count}, n_checks, ok)
    problems: list = field(default_factory=list)    # sentences saying what is wrong

    @property
    def ok(self):
        return not self.problems


def _structure_problems(reference, stub):
    """The stub defines the reference's functions with the same docstrings (checked with ast)."""
    problems = []
    ref_tree, stub_tree = ast.parse(reference), ast.parse(stub)

    def functions(tree):
        return {n.name: ast.get_docstring(n) for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}

    ref_fns, stub_fns = functions(ref_tree), functions(stub_tree)
    if set(ref_fns) != set(stub_fns):
        problems.append(f"the stub defines {sorted(stub_fns)}, the reference {sorted(ref_fns)}")
    for name in sorted(set(ref_fns) & set(stub_fns)):
        if ref_fns[name] != stub_fns[name]:
            problems.append(f"the docstring of {name}() differs between the reference and the stub")
    if ast.get_docstring(ref_tree) != ast.get_docstring(stub_tree):
        problems.append("the module docstring differs between the reference and the stub")
    return problems


def validate(names=None, seeds=DEFAULT_VALIDATE_SEEDS, timeout=None, jobs=None, registry=None,
             progress=False, memory=None):
    """Run every check of each exercise on its reference (expect PASS) and on a fresh stub (expect TODO),
    for the public run and each seed in ``seeds``; a list of Validation, one per exercise.

    ``names``: exercise names (default: all). The stub is written to a
    temporary folder as ``NAME.py``; it must also keep the reference's
    functions and docstrings. Checks run in parallel (``jobs``); ``progress``:
    a tqdm bar (True, False, or None: only on a terminal).
    """
    from . import runner
    from ..registry import load_registry

    exercises = load_registry(registry)
    if names is None or len(names) == 0:
        names = list(exercises)
    for name in names:
        get_exercise(name, registry)
    runs = [None] + [s for s in seeds if s is not None]
    timeout = runner.DEFAULT_TIMEOUT if timeout is None else timeout
    validations = {name: Validation(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="handnet-validate-") as tmp:
        tasks, where = [], []                      # where: (exercise, copy, seed) per task
        for name in names:
            exercise = exercises[name]
            try:
                reference_path = exercise.reference_path()
                reference = _read(reference_path)
                stub = student_copy(exercise)
            except (ValueError, OSError) as exc:
                validations[name].problems.append(f"no student copy: {exc}")
                continue
            validations[name].problems += _structure_problems(reference, stub)
            stub_dir = os.path.join(tmp, name)
            os.makedirs(stub_dir)
            stub_path = os.path.join(stub_dir, f"{name}.py")
            with open(stub_path, "w", encoding="utf-8", newline="") as fh:
                fh.write(stub)
            for copy, path in (("reference", reference_path), ("stub", stub_path)):
                for seed in runs:
                    for check in exercise.checks:
                        tasks.append((path, name, check.name, seed))
                        where.append((name, copy, seed))
        results = runner.run_checks(tasks, timeout=timeout, jobs=jobs, registry=registry,
                                    progress=progress, desc="validating",
                                    memory=runner.DEFAULT_MEMORY if memory is None else memory)
    grouped = {}
    for (name, copy, seed), result in zip(where, results):
        grouped.setdefault((name, copy, seed), []).append(result)
    for (name, copy, seed), group in grouped.items():
        expected = "PASS" if copy == "reference" else "TODO"
        counts = {s: sum(r.status == s for r in group) for s in ("PASS", "FAIL", "TODO")}
        ok = counts[expected] == len(group)
        validations[name].rows.append((copy, seed, counts, len(group), ok))
        run = "the public run" if seed is None else f"seed {seed}"
        for r in group:
            if r.status != expected:
                first = r.output.strip().split("\n")[0][:200]
                validations[name].problems.append(
                    f"{copy}, {run}: '{r.check}' is {r.status}, expected {expected}: {first}")
    return [validations[name] for name in names]

