"""handnet lessons: the list (read, never run), running one, the notebooks, and the errors."""

import builtins
import importlib.util
import json
import sys

import pytest

import lessons
from conftest import assert_one_line_error, run_cli
from handnet.cli import lessons as cli_lessons
from lessons._common import lesson_docstring


def test_the_list_is_every_lesson_in_order_with_its_first_docstring_line(capsys, monkeypatch):
    ran = []
    real_import = builtins.__import__

    def watching(name, *args, **kwargs):          # listing must not import (run) any lesson
        if name.startswith("lessons.") and name != "lessons._common":
            ran.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", watching)
    status, out, _ = run_cli(capsys, "lessons")
    assert status == 0 and not ran, ran
    lines = out.splitlines()
    rows = [line for line in lines if line[:3].strip().isdigit()]
    assert [row.split()[1] for row in rows] == list(lessons.LESSONS)
    for number, (name, row) in enumerate(zip(lessons.LESSONS, rows), 1):
        assert row.split()[0] == str(number)
        assert lesson_docstring(name).strip().splitlines()[0][:40] in row
    for name, modules in lessons.REQUIRES.items():
        row = rows[lessons.LESSONS.index(name)]
        assert all(module in row for module in modules)


def test_help_explains_the_three_uses(capsys):
    status, out, _ = run_cli(capsys, "lessons", "--help")
    assert status == 0
    for text in ("--notebook", "--quick", "--out", "python -m lessons.NAME", 'pip install "handnet[notebooks]"',
                 "examples:"):
        assert text in out, text


def test_an_unknown_lesson_is_one_line_listing_the_lessons(capsys):
    status, out, err = run_cli(capsys, "lessons", "no_such_lesson")
    assert_one_line_error(status, out, err, "no_such_lesson", *lessons.LESSONS)


def test_without_jupytext_notebook_says_what_to_install(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "jupytext", None)          # import jupytext -> ImportError
    status, out, err = run_cli(capsys, "lessons", "variance_identity", "--notebook", "-o", tmp_path)
    assert_one_line_error(status, out, err, 'pip install "handnet[notebooks]"')
    assert not list(tmp_path.iterdir())


def test_running_a_lesson_is_python_m_lessons(capsys, tmp_path):
    """Like `python -m lessons.NAME --quick --out DIR`: its exit status, its figures in DIR."""
    status, _, _ = run_cli(capsys, "lessons", "variance_identity", "--quick", "--out", tmp_path / "figs")
    assert status == 0
    assert list((tmp_path / "figs").glob("*.png"))


def test_notebook_of_one_lesson_and_of_all(capsys, tmp_path):
    pytest.importorskip("jupytext", reason='the notebooks extra is not installed: pip install -e ".[notebooks]"')
    import nbformat

    status, out, _ = run_cli(capsys, "lessons", "variance_identity", "--notebook", "-o", tmp_path / "one")
    assert status == 0
    path = tmp_path / "one" / "variance_identity.ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    first = notebook.cells[0]
    title = lesson_docstring("variance_identity").strip().splitlines()[0]
    assert first.cell_type == "markdown" and first.source.splitlines()[0] == f"# {title}"
    assert notebook.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3", "language": "python"}
    assert "jupytext" not in notebook.metadata
    source = "".join(c.source for c in notebook.cells if c.cell_type == "code")
    spec = importlib.util.find_spec("lessons.variance_identity")
    assert "run = start(" in source and "run.end()" in source and spec is not None

    status, out, _ = run_cli(capsys, "lessons", "--notebook", "-o", tmp_path / "all")
    assert status == 0
    written = sorted(p.stem for p in (tmp_path / "all").glob("*.ipynb"))
    assert written == sorted(lessons.LESSONS)
    for p in (tmp_path / "all").glob("*.ipynb"):
        assert json.loads(p.read_text(encoding="utf-8"))["nbformat"] == 4


def test_quick_and_out_without_a_name_are_errors(capsys):
    status, out, err = run_cli(capsys, "lessons", "--quick")
    assert_one_line_error(status, out, err, "NAME")


def test_needs_names_the_extra():
    for name, modules in lessons.REQUIRES.items():
        needs = cli_lessons._needs(name)
        assert all(m in needs for m in modules)
