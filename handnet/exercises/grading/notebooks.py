"""Exercises as Jupyter notebooks: the student's notebook, and reading a handed-in one as untrusted data.

    student_notebook(exercise, stub)   # the JSON text of NAME.ipynb (handnet assign NAME --notebook)
    read_submission("sigmoid.ipynb")   # the answer cell's source, as bytes: what check and grade run
    self_check("sigmoid")              # in the student's kernel: save the answer, run 'handnet check'
    save_answer("sigmoid")             # in the student's kernel: write sigmoid.py, the file handed in

The notebook has the task as markdown, then the **answer cell**: the same stub as ``NAME.py``
(TODO markers included), tagged ``handnet-answer`` in its cell metadata and starting with the
header ``# handnet exercise: NAME``, which is how every handnet file says which exercise it is.
Then a self-check cell and a save cell.

The self-check never judges in the student's kernel. It takes the answer cell's code from the
kernel's input history (the raw text of the last run of the cell whose first line is the header),
writes it to ``NAME.py`` next to the notebook and runs ``python -m handnet check NAME.py`` in a
subprocess, which runs every check in the isolated grader and prints its table and hints. The
history, not the ``.ipynb`` on disk: the file is only as new as the last save (Jupyter autosaves
every few minutes, nbclient and papermill never write it while running, Colab keeps it in Drive,
not next to the kernel), while the history holds exactly the code the student's functions came
from, in every front end. The price: an edited cell must be run again before checking, which the
cell's instructions say.

A handed-in ``.ipynb`` is read as data (``read_submission``): at most MAX_NOTEBOOK_BYTES, parsed as
JSON only, nothing in it executed or imported here; the answer is the source of the code cells
tagged ``handnet-answer`` (or, if none is tagged, those whose first lines hold the header), joined
in notebook order. Anything else (not JSON, not nbformat 4, no answer cell, a cell that is not a
list of strings) is a ``BadNotebook`` whose message is the sentence the report shows; it is a
``files.NotRegularFile``, so everywhere a file that cannot be graded FAILs, so does such a notebook.
"""

from __future__ import annotations

import json
import os
import sys

from .files import MAX_SUBMISSION_BYTES, NotRegularFile, read_regular
from .markers import HEADER_PREFIX, exercise_name_of

__all__ = ["ANSWER_TAG", "NOTEBOOK_SUFFIX", "MAX_NOTEBOOK_BYTES", "BadNotebook", "is_notebook", "answer_source",
           "read_submission", "python_name", "student_notebook", "self_check", "save_answer"]

NOTEBOOK_SUFFIX = ".ipynb"
#: The cell tag of the answer cell (JupyterLab: property inspector; VS Code and Colab keep it).
ANSWER_TAG = "handnet-answer"
#: A notebook larger than this is not read (outputs included; the student notebook is a few kB).
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024
#: The kernel every notebook handnet writes asks for.
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


class BadNotebook(NotRegularFile):
    """A handed-in notebook that cannot be graded (not JSON, no answer cell, ...); the message says why."""


def is_notebook(path):
    """True for a path ending in .ipynb (any case)."""
    return os.fspath(path).lower().endswith(NOTEBOOK_SUFFIX)


def python_name(filename):
    """The .py name a notebook's answer is known by: sigmoid.ipynb -> sigmoid.py (others unchanged)."""
    return os.path.splitext(filename)[0] + ".py" if is_notebook(filename) else filename


def _cell_text(cell, shown, number):
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise BadNotebook(f"{shown}: cell {number} has a source that is not text (expected a string or a list "
                      "of strings, as Jupyter writes it)")


def answer_source(data, shown="the notebook"):
    """The answer cell's source (str) from a notebook's bytes; BadNotebook (naming ``shown``) otherwise."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadNotebook(f"{shown} is not a notebook: it is not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise BadNotebook(f"{shown} is not a notebook: not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise BadNotebook(f"{shown} is not a notebook: expected a JSON object with a list of 'cells' "
                          "(nbformat 4, what Jupyter, VS Code and Colab save)")
    code = []
    for number, cell in enumerate(notebook["cells"], 1):
        if not isinstance(cell, dict):
            raise BadNotebook(f"{shown}: cell {number} is not a JSON object")
        if cell.get("cell_type") == "code":
            metadata = cell.get("metadata")
            tags = metadata.get("tags") if isinstance(metadata, dict) else None
            tagged = isinstance(tags, list) and ANSWER_TAG in tags
            code.append((tagged, _cell_text(cell, shown, number)))
    answers = [text for tagged, text in code if tagged] or \
        [text for _, text in code if exercise_name_of(text=text) is not None]
    if not answers:
        raise BadNotebook(f"{shown} has no answer cell: a code cell tagged '{ANSWER_TAG}' or starting with "
                          f"'{HEADER_PREFIX} NAME' (the notebook 'handnet assign NAME --notebook' writes has one)")
    source = "\n\n".join(text.rstrip("\n") for text in answers) + "\n"
    if len(source.encode("utf-8")) > MAX_SUBMISSION_BYTES:
        raise BadNotebook(f"{shown}: its answer has more than the {MAX_SUBMISSION_BYTES} bytes an exercise "
                          "file may have")
    return source


def read_submission(path):
    """The bytes graded for a handed-in file: a notebook's answer source (UTF-8), any other file as it is.

    Only regular files are read (``files.read_regular``); NotRegularFile or BadNotebook (a
    ValueError saying why) otherwise, OSError when it cannot be read."""
    if not is_notebook(path):
        return read_regular(path)
    data = read_regular(path, limit=MAX_NOTEBOOK_BYTES)
    return answer_source(data, os.path.basename(os.fspath(path))).encode("utf-8")


# ----------------------------------------------------------------------------
# the student's notebook
# ----------------------------------------------------------------------------

def _cell(kind, cell_id, text, tags=()):
    cell = {"cell_type": kind, "id": cell_id, "metadata": {"tags": list(tags)} if tags else {},
            "source": text.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def student_notebook(exercise, stub):
    """The JSON text of the student's notebook of ``exercise`` whose answer cell is ``stub`` (NAME.py)."""
    from .assign import function_summaries

    name, file = exercise.name, f"{exercise.name}.py"
    intro = [f"# {exercise.title}", "", f"Exercise `{name}`: write the missing parts of the answer cell below.", ""]
    if exercise.statement.strip():
        intro += ["## The task", "", exercise.statement.strip(), ""]
    intro += ["## What to write", ""]
    intro += [f"- `{signature}`" + (f": {doc}" if doc else "") for _, signature, doc in function_summaries(stub)]
    intro += ["", "## Points", "", "| check | points |", "|---|---:|"]
    intro += [f"| {check.name} | {check.points:g} |" for check in exercise.checks]
    intro += [f"| **total** | **{exercise.max_score:g}** |"]
    answer = (
        "## Your answer\n\n"
        "The next cell is the **answer cell** (tagged `handnet-answer`). Replace each "
        "`raise NotImplementedError(...)` line with your code; keep everything else, and keep its first "
        f"line, `{HEADER_PREFIX} {name}`: it tells the checker which exercise this is. Only numpy is needed. "
        "Run the cell (Shift+Enter) after every change.")
    check = (
        "## Check your work\n\n"
        f"The next cell saves the answer cell, as you last ran it, to `{file}` next to this notebook and runs "
        f"`handnet check {file}`: every check calls your functions in a separate, contained process (a crash or "
        "an endless loop only fails that check; your functions are never judged in this notebook), then it "
        "prints a table with PASS, FAIL or TODO and the points, and explains every failure. TODO means the part "
        "is not written yet. `self_check(..., seed=3)` runs the checks on other shapes and values, the way your "
        "work is graded.")
    save = (
        "## Hand in\n\n"
        f"The next cell writes the answer cell, as you last ran it, to `{file}`: the file you hand in (or hand "
        f"in this notebook: `handnet check` and `handnet grade` read its answer cell; save it first).")
    cells = [_cell("markdown", "task", "\n".join(intro)),
             _cell("markdown", "answer-intro", answer),
             _cell("code", "answer", stub, tags=(ANSWER_TAG,)),
             _cell("markdown", "check-intro", check),
             _cell("code", "self-check", f'from handnet.exercises.grading.notebooks import self_check\n\n'
                                         f'self_check("{name}")', tags=("handnet-self-check",)),
             _cell("markdown", "save-intro", save),
             _cell("code", "save", f'from handnet.exercises.grading.notebooks import save_answer\n\n'
                                   f'save_answer("{name}")', tags=("handnet-save",))]
    notebook = {"cells": cells,
                "metadata": {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"},
                             "handnet": {"exercise": name}},
                "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------
# in the student's kernel
# ----------------------------------------------------------------------------

def _last_run_answer(name):
    """The raw source of the last cell run in this IPython kernel whose header names ``name``, or None."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        raise RuntimeError("self_check and save_answer run in a Jupyter notebook (they read the answer cell "
                           f"you last ran); outside one, run 'handnet check {name}.py'")
    for source in reversed(shell.history_manager.input_hist_raw):
        if exercise_name_of(text=source) == name:
            return source
    return None


def _save(name, path=None):
    """Write the answer cell of ``name``, as last run in this kernel, to ``path`` (default NAME.py in the
    kernel's folder, next to the notebook); the absolute path, or None (with a message) when never run."""
    from ..._atomic import atomic_write

    source = _last_run_answer(name)
    if source is None:
        print(f"run the answer cell first (the cell starting with '{HEADER_PREFIX} {name}'), then this one")
        return None
    data = (source.rstrip("\n") + "\n").encode("utf-8")
    return atomic_write(os.path.abspath(path or f"{name}.py"), lambda fh: fh.write(data))


def save_answer(name, path=None):
    """The save cell: write the answer cell of exercise ``name``, as last run in this kernel, to
    ``path`` (default NAME.py next to the notebook), the file handed in, and say so."""
    path = _save(name, path)
    if path is not None:
        print(f"saved the answer cell (as last run) to {path}: hand in this file")


def self_check(name, seed=None, timeout=None):
    """Save the answer cell (``save_answer``) and run ``handnet check`` on it in a subprocess: the
    isolated grader runs every check and prints the table and hints, shown under the cell."""
    import subprocess

    path = _save(name)
    if path is None:
        return
    command = [sys.executable, "-m", "handnet", "check", path]
    command += [] if seed is None else ["--seed", str(int(seed))]
    command += [] if timeout is None else ["--timeout", str(float(timeout))]
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    print(done.stdout.rstrip("\n"))
    if done.stderr.strip():
        print(done.stderr.rstrip("\n"))
