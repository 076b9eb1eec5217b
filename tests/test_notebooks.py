"""The lessons and the exercises run as Jupyter notebooks, executed the way people use them: converted
(jupytext) or assigned (handnet assign --notebook), then run top to bottom by nbclient in a real
IPython kernel. Needs the notebooks extra (pip install -e ".[notebooks]"); skipped without it."""

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("jupytext", reason='the notebooks extra is not installed: pip install -e ".[notebooks]"')
pytest.importorskip("nbclient", reason='the notebooks extra is not installed: pip install -e ".[notebooks]"')
pytest.importorskip("ipykernel", reason='the notebooks extra is not installed: pip install -e ".[notebooks]"')

import nbformat  # noqa: E402  (after the skips: nbformat comes with jupytext)
from nbclient import NotebookClient  # noqa: E402

import lessons  # noqa: E402
from handnet.cli import main  # noqa: E402
from handnet.cli.lessons import lesson_notebook  # noqa: E402
from handnet.exercises import EXERCISES, get_exercise  # noqa: E402
from handnet.exercises.grading import grade as grading  # noqa: E402
from handnet.exercises.grading import runner  # noqa: E402
from handnet.exercises.grading.notebooks import ANSWER_TAG  # noqa: E402
from handnet.exercises.grading.report import results_from_json  # noqa: E402
from lessons._common import CLAIM_TAG, QUICK_ENV  # noqa: E402
from planted_bugs import BUGS, student_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = ROOT / "lessons"
#: Seconds one cell may take (a lesson's training in quick mode, a self-check's checks), generous for
#: a loaded machine: this is not a speed claim, only a bound on a hung kernel.
CELL_TIMEOUT = 600
#: The output of a story is spread over its cells when at least MIN_PRINTING_CELLS code cells print,
#: at least MIN_SHARE_OF_STEPS of the story's steps (the code cells right after a prose cell) print, and
#: the last code cell (the summary) prints at most MAX_SHARE_OF_LAST of all lines. A story that prints
#: in its last cell (the old `raise SystemExit(main())`) fails all three; a step that prints one long
#: table (sqrt_estimation's error table) is still a step, so no limit is put on any other single cell.
MIN_PRINTING_CELLS = 3
MIN_SHARE_OF_STEPS = 1 / 3
MAX_SHARE_OF_LAST = 0.5
#: The planted bug whose hint the self-check must show.
PLANTED = "sigmoid_overflow_nan"


def execute(notebook, folder, env=None):
    """Run ``notebook`` top to bottom in a fresh python3 kernel whose folder is ``folder``; the notebook
    (its outputs filled in). A cell that raises fails the test with nbclient's CellExecutionError."""
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    client.execute(env={**os.environ, **(env or {})})
    return notebook


def printed_lines(cell):
    """The lines a code cell printed (its stream outputs)."""
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    return text.splitlines()


def code_cells(notebook):
    return [c for c in notebook.cells if c.cell_type == "code"]


# ----------------------------------------------------------------------------
# lessons
# ----------------------------------------------------------------------------

def _lesson_params():
    out = []
    for name in lessons.LESSONS:
        missing = [m for m in lessons.REQUIRES.get(name, ()) if importlib.util.find_spec(m) is None]
        marks = [pytest.mark.skip(reason=f"needs {', '.join(missing)} (the interop extra)")] if missing else []
        out.append(pytest.param(name, marks=marks))
    return out


@pytest.mark.parametrize("name", _lesson_params())
def test_lesson_runs_as_a_notebook(name):
    """Converted by `handnet lessons NAME --notebook`'s jupytext, run in a kernel whose folder is lessons/
    (where jupytext would put it), quick mode from the kernel's environment: no error, no FAIL, a figure
    inline, and the story's output under its cells, not all in one."""
    notebook = lesson_notebook(name)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    output = LESSONS_DIR / "lesson-output"
    existed = output.exists()
    try:
        execute(notebook, LESSONS_DIR, env={QUICK_ENV: "1"})
    finally:                                    # the figures the lesson saved under lessons/
        shutil.rmtree(output / name, ignore_errors=True)
        if not existed and output.exists() and not any(output.iterdir()):
            output.rmdir()
    cells = code_cells(notebook)
    lines = [printed_lines(c) for c in cells]
    everything = [line for cell in lines for line in cell]
    assert any("[quick mode]" in line for line in everything), "quick mode did not reach the kernel"
    fails = [line for line in everything if line.lstrip().startswith("FAIL") and CLAIM_TAG not in line]
    assert not fails, f"{name}: FAIL lines in the notebook:\n" + "\n".join(fails)
    assert "PASS" in "\n".join(everything), f"{name}: no PASS line: nothing was verified"
    images = [o for c in cells for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{name}: no figure shown inline (no image/png output)"
    printing = [n for n in map(len, lines) if n]
    assert len(printing) >= MIN_PRINTING_CELLS, \
        f"{name}: only {len(printing)} code cells print; the story should print under its steps"
    steps = [after for before, after in zip(notebook.cells, notebook.cells[1:])
             if before.cell_type == "markdown" and after.cell_type == "code"]
    printing_steps = sum(1 for cell in steps if printed_lines(cell))
    assert printing_steps >= MIN_SHARE_OF_STEPS * len(steps), \
        f"{name}: {printing_steps} of the {len(steps)} code cells after a prose cell print"
    assert len(lines[-1]) <= MAX_SHARE_OF_LAST * len(everything), \
        f"{name}: the last cell prints {len(lines[-1])} of the {len(everything)} lines: the story is not spread"


# ----------------------------------------------------------------------------
# exercises
# ----------------------------------------------------------------------------

def assign_notebook(name, folder):
    """`handnet assign NAME -o folder --notebook`; the notebook it wrote, read back."""
    assert main(["assign", name, "-o", str(folder), "--notebook"]) == 0
    path = Path(folder) / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    return notebook


def answer_cell(notebook):
    (cell,) = [c for c in notebook.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    return cell


def reference_source(name):
    return Path(get_exercise(name).reference_path()).read_text(encoding="utf-8")


def self_check_output(notebook):
    (cell,) = [c for c in notebook.cells if "handnet-self-check" in c.metadata.get("tags", [])]
    return "\n".join(printed_lines(cell))


def saved_results(folder, name):
    """The verdicts the self-check's `handnet check NAME.py` wrote (NAME.results.json): {check: status}."""
    with open(Path(folder) / f"{name}.results.json", encoding="utf-8") as fh:
        return {r.check: r.status for r in results_from_json(json.load(fh))}


@pytest.mark.parametrize("name", list(EXERCISES))
def test_exercise_notebook_untouched_and_with_the_reference(name, tmp_path):
    """The assigned notebook runs end to end: untouched, the self-check shows every check TODO; with the
    reference in its answer cell, every check PASS; the save cell writes NAME.py, the answer cell's code."""
    exercise = get_exercise(name)
    n = len(exercise.checks)
    notebook = assign_notebook(name, tmp_path / "untouched")
    stub = answer_cell(notebook).source
    assert stub.splitlines()[0] == f"# handnet exercise: {name}" and "NotImplementedError" in stub
    execute(notebook, tmp_path / "untouched")
    assert f"(0 PASS, 0 FAIL, {n} TODO)" in self_check_output(notebook)
    assert set(saved_results(tmp_path / "untouched", name).values()) == {"TODO"}

    answer_cell(notebook).source = reference_source(name)
    folder = tmp_path / "reference"
    folder.mkdir()
    execute(notebook, folder)
    shown = self_check_output(notebook)
    assert f"({n} PASS, 0 FAIL, 0 TODO)" in shown, shown
    assert saved_results(folder, name) == {c.name: "PASS" for c in exercise.checks}
    assert (folder / f"{name}.py").read_text(encoding="utf-8").rstrip("\n") == reference_source(name).rstrip("\n")


def test_planted_bug_shows_its_hint_in_the_notebook(tmp_path):
    """A wrong answer cell: the self-check shows the same FAIL explanation `handnet check` gives the .py."""
    bug = BUGS[PLANTED]
    notebook = assign_notebook(bug.exercise, tmp_path / "nb")
    answer_cell(notebook).source = student_text(PLANTED)
    execute(notebook, tmp_path / "nb")
    shown = self_check_output(notebook)
    (tmp_path / "py").mkdir()
    path = tmp_path / "py" / f"{bug.exercise}.py"
    path.write_text(student_text(PLANTED), encoding="utf-8")
    failed = [r for r in runner.run_file(path) if r.status == "FAIL"]
    assert failed, "the planted bug must fail a check"
    for result in failed:
        assert result.output.splitlines()[0] in shown, (result.output, shown)
    assert saved_results(tmp_path / "nb", bug.exercise) == {r.check: r.status for r in runner.run_file(path)}


def test_check_reads_the_answer_cell_of_a_saved_notebook(tmp_path, capsys):
    """`handnet check NB.ipynb` (the notebook as saved, outputs and all) gives the verdicts of NAME.py."""
    notebook = assign_notebook("sigmoid", tmp_path / "nb")
    answer_cell(notebook).source = student_text("sigmoid_gradient_returns_none")
    execute(notebook, tmp_path / "nb")
    nbformat.write(notebook, tmp_path / "nb" / "saved.ipynb")
    capsys.readouterr()
    status = main(["check", str(tmp_path / "nb" / "saved.ipynb")])
    out = capsys.readouterr().out
    assert status == 1 and "FAIL" in out
    assert saved_results(tmp_path / "nb", "saved") == saved_results(tmp_path / "nb", "sigmoid")


@pytest.mark.parametrize("content, why", [
    (b"not json", "not valid JSON"),
    (b'{"cells": 3}', "list of 'cells'"),
    (b'{"cells": [{"cell_type": "code", "source": 7, "metadata": {}}]}', "not text"),
    (json.dumps({"cells": [{"cell_type": "code", "source": "print(1)", "metadata": {}}]}).encode(), "no answer cell"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
])
def test_a_bad_notebook_is_one_line_not_a_traceback(tmp_path, capsys, content, why):
    path = tmp_path / "sigmoid.ipynb"
    path.write_bytes(content)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def _notebook_with(name, source, folder):
    """A saved student notebook of ``name`` whose answer cell is ``source`` (as Jupyter saves it)."""
    notebook = assign_notebook(name, folder)
    answer_cell(notebook).source = source
    nbformat.write(notebook, Path(folder) / f"{name}.ipynb")


def test_grade_reads_notebooks_like_py_files(tmp_path):
    """`handnet grade` on a class with notebooks: the same verdicts as the same code handed in as .py, for
    every exercise; a .py beside a notebook is graded and the notebook noted; a broken notebook FAILs."""
    subs = tmp_path / "subs"
    for name in EXERCISES:
        _notebook_with(name, reference_source(name), subs / "nb_reference")
        (subs / "py_reference").mkdir(parents=True, exist_ok=True)
        (subs / "py_reference" / f"{name}.py").write_text(reference_source(name), encoding="utf-8")
    _notebook_with("sigmoid", student_text(PLANTED), subs / "nb_bug")
    (subs / "py_bug").mkdir()
    (subs / "py_bug" / "sigmoid.py").write_text(student_text(PLANTED), encoding="utf-8")
    _notebook_with("sigmoid", reference_source("sigmoid"), subs / "both")          # graded: the .py below
    (subs / "both" / "sigmoid.py").write_text(student_text(PLANTED), encoding="utf-8")
    (subs / "broken").mkdir()
    (subs / "broken" / "sigmoid.ipynb").write_text("{ not json", encoding="utf-8")
    grades = grading.grade(subs, seed=5, out_dir=tmp_path / "grades", progress=False)
    rows = grades.checks()

    def verdicts(student):
        mine = rows[rows["student"] == student]
        return dict(zip(zip(mine["exercise"], mine["check"]), mine["status"]))

    reference = verdicts("py_reference")
    assert set(reference.values()) == {"PASS"} and len(reference) == sum(len(e.checks) for e in EXERCISES.values())
    assert verdicts("nb_reference") == reference
    bug = {k: v for k, v in verdicts("py_bug").items() if k[0] == "sigmoid"}
    assert "FAIL" in bug.values()
    assert {k: v for k, v in verdicts("nb_bug").items() if k[0] == "sigmoid"} == bug
    assert {k: v for k, v in verdicts("both").items() if k[0] == "sigmoid"} == bug
    assert any("sigmoid.ipynb" in note and "graded" in note and "sigmoid.py" in note
               for note in grades.student_notes["both"])
    broken = rows[(rows["student"] == "broken") & (rows["exercise"] == "sigmoid")]
    assert set(broken["status"]) == {"FAIL"}
    assert any("not valid JSON" in r.output for r in grades.results["broken"] if r.exercise == "sigmoid")
