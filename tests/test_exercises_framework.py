"""The exercise framework: markers -> student copy, the isolated runner, reports, grading.

The runner tests start subprocesses; they run the real sigmoid exercise and a
toy registry written here (its checks are under this file's control), most of
them in one parallel batch so the whole file stays quick.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from handnet.exercises import EXERCISES
from handnet.exercises.grading import grade, report, runner, sandbox, session
from handnet.exercises.grading.assign import student_copy, validate, write_assignment
from conftest import assert_one_line_error, run_cli
from handnet.exercises.grading.markers import MarkerError, exercise_name_of, find_solution_blocks, make_stub

# --------------------------------------------------------------------------- #
# markers
# --------------------------------------------------------------------------- #

REFERENCE = '''\
# handnet exercise: demo
"""A demo exercise."""

import numpy as np


def given(x):
    """A helper the student is given."""
    return 2 * x  # not a marker: BEGIN nothing


def double(z):
    """2 z, element-wise.

    A docstring may mention # BEGIN SOLUTION without being a marker.
    """
    # a comment above the block stays
    # BEGIN SOLUTION
    z = np.asarray(z)
    return given(z)
    # END SOLUTION


def both(z):
    """Two blocks, one inside a loop."""
    out = []
    for value in z:
        # BEGIN SOLUTION
        out.append(value)
        # END SOLUTION
    # BEGIN SOLUTION
    return out
    # END SOLUTION
'''

EXPECTED_STUB = '''\
# handnet exercise: demo
"""A demo exercise."""

import numpy as np


def given(x):
    """A helper the student is given."""
    return 2 * x  # not a marker: BEGIN nothing


def double(z):
    """2 z, element-wise.

    A docstring may mention # BEGIN SOLUTION without being a marker.
    """
    # a comment above the block stays
    raise NotImplementedError("double: write this part")


def both(z):
    """Two blocks, one inside a loop."""
    out = []
    for value in z:
        raise NotImplementedError("both: write this part")
    raise NotImplementedError("both: write this part")
'''


def test_make_stub_replaces_each_block_and_keeps_everything_else():
    assert make_stub(REFERENCE) == EXPECTED_STUB
    blocks = find_solution_blocks(REFERENCE)
    assert [(b.begin, b.end, b.indent, b.function) for b in blocks] == [
        (18, 21, "    ", "double"), (28, 30, "        ", "both"), (31, 33, "    ", "both")]


def test_make_stub_keeps_crlf_line_endings_and_tabs():
    text = REFERENCE.replace("    ", "\t").replace("\n", "\r\n")
    stub = make_stub(text)
    assert stub == EXPECTED_STUB.replace("    ", "\t").replace("\n", "\r\n")
    assert "\n" not in stub.replace("\r\n", "")                 # no bare newline was introduced
    compile(stub, "<stub>", "exec")


def test_text_without_markers_is_unchanged():
    text = "def f(x):\n    return x\n"
    assert find_solution_blocks(text) == []
    assert make_stub(text) == text


def test_nested_function_blocks_name_the_innermost_function():
    text = ("def outer():\n    '''o'''\n    def inner():\n        '''i'''\n        # BEGIN SOLUTION\n"
            "        return 1\n        # END SOLUTION\n    return inner\n")
    assert 'raise NotImplementedError("inner: write this part")' in make_stub(text)


@pytest.mark.parametrize("text, line, words", [
    ("def f():\n    # BEGIN SOLUTION\n    x = 1\n    # BEGIN SOLUTION\n    y = 2\n    # END SOLUTION\n"
     "    # END SOLUTION\n", 4, "nested"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", 3, "without a '# BEGIN SOLUTION'"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", 1, "not inside a function"),
    ("class A:\n    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n", 2, "not inside a function"),
    ("def f():\n    pass\n# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", 3, "not inside a function"),
    ("def f():\n    if True:\n        # BEGIN SOLUTION\n        y = 1\n    # END SOLUTION\n", 5,
     "indented differently"),
    ("def f():\n    for i in range(3):\n        y = 1\n    # BEGIN SOLUTION\n        z = 1\n"
     "    # END SOLUTION\n", 4, "cuts the statement"),
    ("def f():\n    x = 1  # BEGIN SOLUTION\n", 2, "a line of its own"),
    ("def f():\n    # BEGIN SOLUTION\n    '''doc'''\n    return 1\n    # END SOLUTION\n", 2, "docstring"),
    ("def f(:\n    # BEGIN SOLUTION\n    pass\n    # END SOLUTION\n", 1, "not valid Python"),
])
def test_bad_markers_are_a_marker_error_naming_the_line(text, line, words):
    with pytest.raises(MarkerError) as info:
        make_stub(text)
    assert isinstance(info.value, ValueError)
    assert info.value.line == line
    assert str(info.value).startswith(f"line {line}: ")
    assert words in str(info.value)


def test_exercise_name_of_reads_the_header_without_importing(tmp_path):
    assert exercise_name_of(text="# handnet exercise: sigmoid\nimport numpy\n") == "sigmoid"
    assert exercise_name_of(text="#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n# handnet exercise: cost\n") == "cost"
    assert exercise_name_of(text="import os\n") is None
    assert exercise_name_of(text="x = 1\n\n\n\n\n\n# handnet exercise: late\n") is None     # too far down
    path = tmp_path / "mine.py"
    path.write_bytes(b"\xef\xbb\xbf# handnet exercise: backprop\r\nraise SystemExit('never run')\r\n")
    assert exercise_name_of(path) == exercise_name_of(str(path)) == "backprop"
    with pytest.raises(OSError):
        exercise_name_of(str(tmp_path / "missing.py"))
    hashed = tmp_path / "#1"                         # a folder named like a comment is still a path
    hashed.mkdir()
    (hashed / "sigmoid.py").write_text("# handnet exercise: sigmoid\n")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert exercise_name_of("#1/sigmoid.py") == "sigmoid"
    finally:
        os.chdir(old)
    with pytest.raises(TypeError, match="exactly one"):
        exercise_name_of("a.py", text="# handnet exercise: sigmoid\n")


def _functions(tree):
    return {n.name: ast.get_docstring(n) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


@pytest.mark.parametrize("name", list(EXERCISES))
def test_every_registered_reference_gives_a_faithful_stub(name):
    exercise = EXERCISES[name]
    reference = Path(exercise.reference_path()).read_text(encoding="utf-8")
    stub = student_copy(exercise)
    compile(stub, f"{name}.py", "exec")
    assert exercise_name_of(text=stub) == name
    ref_tree, stub_tree = ast.parse(reference), ast.parse(stub)
    assert _functions(stub_tree) == _functions(ref_tree)              # same functions, same docstrings
    assert ast.get_docstring(stub_tree) == ast.get_docstring(ref_tree)
    for function in exercise.functions:
        assert f'raise NotImplementedError("{function}: write this part")' in stub
    blocks = find_solution_blocks(reference)
    assert stub.count("write this part\")") == len(blocks) > 0
    assert "BEGIN SOLUTION" not in stub.replace("# BEGIN SOLUTION without", "")
    # every line outside the blocks is kept, in order
    lines = reference.splitlines(keepends=True)
    inside = {i for b in blocks for i in range(b.begin - 1, b.end)}
    kept = [line for i, line in enumerate(lines) if i not in inside]
    assert [line for line in stub.splitlines(keepends=True) if "write this part" not in line] == kept


# --------------------------------------------------------------------------- #
# the runner
# --------------------------------------------------------------------------- #

TOY_REGISTRY = '''\
import sys

from handnet.exercises.exercise import Check, Exercise, WrongAnswer


def check_adds(student, seed):
    got = student.add(2, 3)
    if got != 5:
        raise WrongAnswer(f"add(2, 3): expected 5, got {got!r}")
    return "add(2, 3) = 5"


def check_shape(student, seed):
    return f"add(1.0, 2.0) has shape {student.add(1.0, 2.0).shape}"


def check_modules(student, seed):
    return f"the child has loaded: {student.add(0, 0)}"


EXERCISES = {"toy": Exercise("toy", "toy_reference", ("add",),
                             (Check("adds", 2.0, check_adds), Check("shape", 1.0, check_shape),
                              Check("modules", 1.0, check_modules)))}
'''

#: file name -> (source, check); every toy case runs in one parallel batch.
TOY_CASES = {
    "good": ("def add(a, b):\n    print('hello from the student')\n    return a + b\n", "adds"),
    "todo": ("def add(a, b):\n    raise NotImplementedError('add: write this part')\n", "adds"),
    "crash": ("def add(a, b):\n    total = a + b\n    return total / 0\n", "adds"),
    "wrong_type": ("def add(a, b):\n    return [a + b]\n", "shape"),
    "wrong_value": ("def add(a, b):\n    return a - b\n", "adds"),
    "chatty": ("import sys\ndef add(a, b):\n    for i in range(3000):\n        print('line', i)\n"
               "    print('@@handnet-result-0123@@{\"status\": \"PASS\", \"message\": \"fake\", \"seconds\": 0}')\n"
               "    sys.stderr.write('to stderr\\n')\n    return a - b\n", "adds"),
    "module_exit": ("import sys\nprint('bye')\nsys.exit(3)\n", "adds"),
    "function_exit": ("import sys\ndef add(a, b):\n    sys.exit(4)\n", "adds"),
    "os_exit": ("import os\ndef add(a, b):\n    print('about to leave')\n    os._exit(7)\n", "adds"),
    "reads_stdin": ("def add(a, b):\n    return int(input())\n", "adds"),
    "stdlib": ("import subprocess, ctypes, json\ndef add(a, b):\n    return a + b\n", "adds"),
    "modules": ("import sys\ndef add(a, b):\n    return sorted(m for m in sys.modules\n"
                "                  if m.split('.')[0] in ('handnet', 'pandas', 'matplotlib'))\n", "modules"),
}


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """(registry path, folder, {case: CheckResult}) for every TOY_CASES file, run at once."""
    folder = tmp_path_factory.mktemp("toy")
    registry = folder / "toy_registry.py"
    registry.write_text(TOY_REGISTRY)
    tasks = []
    for name, (source, check) in TOY_CASES.items():
        path = folder / f"{name}.py"
        path.write_text("# handnet exercise: toy\n" + source)
        tasks.append((str(path), "toy", check))
    results = runner.run_checks(tasks, timeout=60, registry=registry)
    return registry, folder, dict(zip(TOY_CASES, results))


def test_toy_pass_todo_and_wrong_value(toy):
    _, _, results = toy
    good, todo, wrong = results["good"], results["todo"], results["wrong_value"]
    assert (good.status, good.score, good.max_score, good.output) == ("PASS", 2.0, 2.0, "add(2, 3) = 5")
    assert good.exercise == "toy" and good.check == "adds" and good.seconds > 0
    assert (todo.status, todo.score) == ("TODO", 0.0)
    assert "add: write this part" in todo.output
    assert (wrong.status, wrong.score, wrong.max_score) == ("FAIL", 0.0, 2.0)
    assert wrong.output == "add(2, 3): expected 5, got -1"


def test_an_exception_names_the_line_of_the_students_file(toy):
    crash = toy[2]["crash"]
    assert crash.status == "FAIL" and crash.score == 0.0
    assert crash.output.startswith("ZeroDivisionError: division by zero")
    assert "crash.py:4, in add()" in crash.output                  # line 1 is the header
    assert "return total / 0" in crash.output


def test_a_wrong_return_type_is_blamed_on_what_the_function_returned(toy):
    result = toy[2]["wrong_type"]
    assert result.status == "FAIL"
    assert result.output.startswith("AttributeError: 'list' object has no attribute 'shape'")
    assert "after your code returned" in result.output and "type and shape" in result.output


def test_printing_a_lot_or_faking_a_result_line_changes_nothing(toy):
    result = toy[2]["chatty"]
    assert result.status == "FAIL" and result.score == 0.0
    assert result.output.startswith("add(2, 3): expected 5, got -1")
    assert "your code printed (the last 20 lines):" in result.output
    assert "  | to stderr" in result.output and "  | line 2999" in result.output
    assert "  | line 100\n" not in result.output                      # only the tail is kept
    assert '"message": "fake"' in result.output                       # shown as printed text, not taken


def test_sys_exit_and_os_exit_are_failures_with_the_exit_code(toy):
    results = toy[2]
    module_exit, function_exit, os_exit = results["module_exit"], results["function_exit"], results["os_exit"]
    assert module_exit.status == function_exit.status == os_exit.status == "FAIL"
    assert "sys.exit(3) while being imported" in module_exit.output
    assert "module_exit.py:4, in <module>()" in module_exit.output and "| bye" in module_exit.output
    assert "SystemExit" not in module_exit.output                     # said in words instead
    assert "sys.exit(4)" in function_exit.output and "function_exit.py:4, in add()" in function_exit.output
    assert "exit status 7" in os_exit.output and "| about to leave" in os_exit.output


def test_the_students_code_cannot_hang_on_input(toy):
    result = toy[2]["reads_stdin"]
    assert result.status == "FAIL"
    assert result.output.startswith("EOFError")


def test_importing_the_standard_library_is_fine(toy):
    """subprocess and ctypes may be imported (using them to start programs or call C is refused)."""
    assert toy[2]["stdlib"].status == "PASS", toy[2]["stdlib"].output


def test_the_child_never_loads_handnet_or_pandas(toy):
    """The child answers calls with numpy alone: handnet (and its pandas) stay in the grading process."""
    result = toy[2]["modules"]
    assert (result.status, result.output) == ("PASS", "the child has loaded: []")


def test_a_syntax_error_fails_every_check_with_its_line(toy):
    registry, folder, _ = toy
    path = folder / "syntax.py"
    path.write_text("# handnet exercise: toy\ndef add(a, b):\n    retrun a + b\n")
    results = runner.run_file(path, registry=registry)
    assert [r.check for r in results] == ["adds", "shape", "modules"]
    for r in results:
        assert r.status == "FAIL" and r.score == 0.0
        assert "SyntaxError" in r.output and "syntax.py:3" in r.output and "retrun a + b" in r.output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_infinite_loop_times_out_and_its_whole_tree_is_killed(toy):
    registry, folder, _ = toy
    path = folder / "loop.py"
    path.write_text("# handnet exercise: toy\nimport os, time\n"
                    "def add(a, b):\n"
                    "    if os.fork() == 0:\n        os.setsid()\n        time.sleep(600)\n"
                    "    while True:\n        pass\n")
    result = runner.run_check(path, "toy", "adds", timeout=3, registry=registry)
    assert (result.status, result.score) == ("FAIL", 0.0)
    assert result.output.startswith("timed out after 3s (an infinite loop?)")
    assert sandbox.processes_of(session.grader_token()) == []       # the child and its setsid fork


def test_the_students_folder_cannot_shadow_handnet_or_numpy(tmp_path):
    """A folder with its own handnet/ and numpy.py: the checks still use the real ones."""
    (tmp_path / "handnet").mkdir()
    (tmp_path / "handnet" / "__init__.py").write_text("raise ImportError('the fake handnet')\n")
    (tmp_path / "numpy.py").write_text("raise ImportError('the fake numpy')\n")
    path = tmp_path / "sigmoid.py"
    shutil.copy(EXERCISES["sigmoid"].reference_path(), path)
    result = runner.run_check(path, "sigmoid", "sigmoid_gradient")
    assert result.status == "PASS", result.output
    assert not list(tmp_path.rglob("__pycache__"))                  # nothing written next to the file


@pytest.fixture(scope="module")
def sigmoid_runs(tmp_path_factory):
    """run_file on the sigmoid reference and on its stub (public run): (reference, stub) results."""
    folder = tmp_path_factory.mktemp("sigmoid")
    stub = folder / "sigmoid.py"
    stub.write_text(student_copy(EXERCISES["sigmoid"]))
    return runner.run_file(EXERCISES["sigmoid"].reference_path()), runner.run_file(stub)


def test_the_sigmoid_reference_passes_and_its_stub_is_todo(sigmoid_runs):
    reference, stub = sigmoid_runs
    names = [c.name for c in EXERCISES["sigmoid"].checks]
    assert [r.check for r in reference] == [r.check for r in stub] == names       # registry order
    assert all(r.status == "PASS" and r.score == r.max_score > 0 for r in reference), reference
    assert all(r.status == "TODO" and r.score == 0 for r in stub), stub


def test_bad_arguments_raise_before_anything_runs(toy, tmp_path):
    registry, folder, _ = toy
    good = folder / "good.py"
    with pytest.raises(FileNotFoundError, match="no such file"):
        runner.run_check(tmp_path / "missing.py", "toy", "adds", registry=registry)
    with pytest.raises(ValueError, match="no exercise named 'nope'"):
        runner.run_check(good, "nope", "adds", registry=registry)
    with pytest.raises(ValueError, match="has no check 'nope'"):
        runner.run_check(good, "toy", "nope", registry=registry)
    with pytest.raises(ValueError, match="timeout"):
        runner.run_check(good, "toy", "adds", timeout=0, registry=registry)
    with pytest.raises(ValueError, match="jobs"):
        runner.run_file(good, jobs=0, registry=registry)
    headless = tmp_path / "headless.py"
    headless.write_text("def add(a, b):\n    return a + b\n")
    with pytest.raises(ValueError, match="no '# handnet exercise: NAME' line"):
        runner.run_file(headless, registry=registry)
    unknown = tmp_path / "unknown.py"
    unknown.write_text("# handnet exercise: nope\n")
    with pytest.raises(ValueError, match="names the exercise 'nope', which does not exist"):
        runner.run_file(unknown, registry=registry)


# --------------------------------------------------------------------------- #
# reports
# --------------------------------------------------------------------------- #

def _result(check, status, score, max_score, output="", seconds=0.5):
    return runner.CheckResult("demo", check, status, score, max_score, output, seconds)


RESULTS = [_result("one", "PASS", 2.0, 2.0, "fine"),
           _result("two", "FAIL", 0.0, 1.5, "W1[2, 0]: analytic 1.0e-02, numerical 2.0e-02\nhint: a factor 2"),
           _result("three", "TODO", 0.0, 0.25, "not written yet: f: write this part")]


def test_points_are_printed_with_one_decimal_unless_they_need_two():
    assert report.format_points(2.0, 2.0) == "2.0/2.0"
    assert report.format_points(0.0, 1.5) == "0.0/1.5"
    assert report.format_points(1.25, 2.5) == "1.25/2.50"


def test_the_table_lists_every_check_and_the_failures_follow_it():
    text = report.format_results(RESULTS)
    lines = text.split("\n")
    assert lines[0].split() == ["exercise", "check", "status", "points", "time"]
    assert lines[2].split() == ["demo", "one", "PASS", "2.0/2.0", "0.5s"]
    assert lines[3].split() == ["demo", "two", "FAIL", "0.0/1.5", "0.5s"]
    assert lines[4].split() == ["demo", "three", "TODO", "0.00/0.25", "0.5s"]
    assert lines[6].split() == ["total", "2.00/3.75", "1.5s"]
    assert lines[7] == "2.00/3.75 points (1 PASS, 1 FAIL, 1 TODO)"
    assert "FAIL  demo: two\n    W1[2, 0]: analytic 1.0e-02, numerical 2.0e-02\n    hint: a factor 2" in text
    assert "TODO  demo: not written yet: f: write this part (three)" in text
    assert "fine" not in text                                          # a PASS says nothing more


def test_results_json_has_gradescopes_shape(tmp_path):
    data = report.results_json(RESULTS, title="demo.py, public run")
    assert data["score"] == 2.0 and data["max_score"] == 3.75
    assert data["output"] == "demo.py, public run: 2.00/3.75 points (1 PASS, 1 FAIL, 1 TODO)"
    assert [t["name"] for t in data["tests"]] == ["demo: one", "demo: two", "demo: three"]
    assert [t["status"] for t in data["tests"]] == ["passed", "failed", "failed"]
    assert [t["score"] for t in data["tests"]] == [2.0, 0.0, 0.0]
    assert [t["max_score"] for t in data["tests"]] == [2.0, 1.5, 0.25]
    assert [t["extra_data"]["result"] for t in data["tests"]] == ["PASS", "FAIL", "TODO"]
    assert data["tests"][2]["output"] == "TODO: not written yet: f: write this part"
    path = report.results_path_for(tmp_path / "demo.py")
    assert path == str(tmp_path / "demo.results.json")
    assert report.write_results_json(RESULTS, path, title="demo.py, public run") == path
    assert json.loads(Path(path).read_text(encoding="utf-8")) == data
    assert [p.name for p in tmp_path.iterdir()] == ["demo.results.json"]     # no temporary file left


# --------------------------------------------------------------------------- #
# assign, validate, grade
# --------------------------------------------------------------------------- #

def test_write_assignment_writes_the_stub_and_a_readme_and_never_loses_work(tmp_path):
    out = tmp_path / "hw1"
    written, backups = write_assignment("sigmoid", out)
    assert sorted(Path(p).name for p in written) == ["README.md", "sigmoid.py"] and backups == []
    stub = (out / "sigmoid.py").read_text(encoding="utf-8")
    assert stub == student_copy(EXERCISES["sigmoid"])
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "handnet check sigmoid.py" in readme
    for check in EXERCISES["sigmoid"].checks:
        assert f"| {check.name} | {check.points:g} |" in readme
    assert "`sigmoid(z)`" in readme and "`sigmoid_gradient(z)`" in readme
    write_assignment("sigmoid", out)                              # identical files: fine
    (out / "sigmoid.py").write_text(stub + "\n# my work\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="sigmoid.py already exists"):
        write_assignment("sigmoid", out)
    assert (out / "sigmoid.py").read_text(encoding="utf-8").endswith("# my work\n")
    written, backups = write_assignment("sigmoid", out, force=True)
    assert [Path(b).name for b in backups] == ["sigmoid.py.bak"]
    assert Path(backups[0]).read_text(encoding="utf-8").endswith("# my work\n")
    assert (out / "sigmoid.py").read_text(encoding="utf-8") == stub
    with pytest.raises(ValueError, match="no exercise named 'nope'"):
        write_assignment("nope", out)


def test_validate_flags_a_broken_reference(tmp_path, monkeypatch):
    """A reference with a bug in it: its checks FAIL, so validate says what is wrong."""
    import handnet.exercises.exercise as base

    text = Path(EXERCISES["sigmoid"].reference_path()).read_text(encoding="utf-8")
    bad = tmp_path / "sigmoid_bad.py"
    bad.write_text(text.replace("return s * (1.0 - s)", "return s * (1.0 + s)"), encoding="utf-8")
    assert bad.read_text(encoding="utf-8") != text
    monkeypatch.setattr(base.Exercise, "reference_path", lambda self: str(bad))
    (validation,) = validate(["sigmoid"], seeds=())
    assert not validation.ok
    assert [(copy, seed, ok) for copy, seed, _, _, ok in validation.rows] == [
        ("reference", None, False), ("stub", None, True)]
    assert len(validation.problems) == 1
    assert validation.problems[0].startswith("reference, the public run: 'sigmoid_gradient' is FAIL, expected PASS")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Four students: a copy of the reference, the untouched stub, a bug, no file at all."""
    root = tmp_path_factory.mktemp("submissions")
    reference = Path(EXERCISES["sigmoid"].reference_path()).read_text(encoding="utf-8")
    for student in ("alice", "bob", "carol", "dave"):
        (root / student).mkdir()
    (root / "alice" / "sigmoid.py").write_text(reference, encoding="utf-8")
    (root / "bob" / "sigmoid.py").write_text(student_copy(EXERCISES["sigmoid"]), encoding="utf-8")
    buggy = reference.replace("return s * (1.0 - s)", "return s * (1.0 + s)")
    assert buggy != reference
    (root / "carol" / "work").mkdir()
    (root / "carol" / "work" / "my_sigmoid.py").write_text(buggy, encoding="utf-8")
    (root / "dave" / "notes.py").write_text("print('no header')\n", encoding="utf-8")
    (root / "stray.py").write_text("# handnet exercise: sigmoid\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("grades")
    return grade.grade(root, seed=5, out_dir=out, progress=False), out


def test_grade_writes_one_csv_row_per_student_and_check(graded):
    grades, out = graded
    table = pd.read_csv(out / "grades.csv", keep_default_na=False)
    assert list(table.columns) == ["student", "exercise", "check", "status", "score", "max_score", "flag",
                                   "note"]
    table = table[table["status"] != grade.NOTE]
    checks = [c.name for c in EXERCISES["sigmoid"].checks]
    points = [float(c.points) for c in EXERCISES["sigmoid"].checks]
    assert list(table["student"]) == [s for s in ("alice", "bob", "carol", "dave") for _ in checks]
    assert list(table["check"]) == checks * 4 and set(table["exercise"]) == {"sigmoid"}
    assert list(table["max_score"]) == points * 4
    status = {s: list(g["status"]) for s, g in table.groupby("student")}
    assert status["alice"] == ["PASS"] * len(checks)
    assert status["bob"] == ["TODO"] * len(checks)
    assert status["dave"] == ["FAIL"] * len(checks)
    carol = table[table["student"] == "carol"].set_index("check")
    assert carol.loc["sigmoid_gradient", "status"] == "FAIL" and carol.loc["sigmoid values", "status"] == "PASS"
    totals = grades.totals().set_index("student")
    assert totals.loc["alice", "score"] == totals.loc["alice", "max_score"] == sum(points)
    assert totals.loc["bob", "score"] == totals.loc["dave", "score"] == 0
    assert totals.loc["carol", "score"] == table[table["student"] == "carol"]["score"].sum()
    assert 0 < totals.loc["carol", "score"] < sum(points)
    assert all(r.output == grade.NO_FILE for r in grades.results["dave"])
    assert any("dave/notes.py: no '# handnet exercise: NAME' header" in n for n in grades.notes)
    assert any("stray.py" in n and "not in a student's subfolder" in n for n in grades.notes)
    flags = table.groupby("student")["flag"].first().fillna("")
    assert flags["alice"].startswith("near-copy of the reference solution: 100% of its")    # a flag, not a grade
    assert flags["bob"] == flags["dave"] == ""


def test_grade_writes_a_results_json_per_student(graded):
    grades, out = graded
    assert sorted(p.name for p in out.iterdir()) == ["alice.json", "bob.json", "carol.json", "dave.json",
                                                    "grades.csv"]
    for student in ("alice", "bob", "carol", "dave"):
        data = json.loads((out / f"{student}.json").read_text(encoding="utf-8"))
        assert data["score"] == sum(t["score"] for t in data["tests"])
        assert data["max_score"] == EXERCISES["sigmoid"].max_score
        assert data["output"].startswith(f"{student}, seed 5: ")
    summary = grade.format_summary(grades)
    assert summary.split("\n")[0].split() == ["student", "sigmoid", "total", "PASS", "FAIL", "TODO"]
    full = report.format_points(EXERCISES["sigmoid"].max_score, EXERCISES["sigmoid"].max_score)
    assert summary.split("\n")[2].split()[:3] == ["alice", full, full]


def test_grade_refuses_a_missing_folder_and_a_bad_seed(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        grade.grade(tmp_path / "missing", seed=1)
    with pytest.raises(ValueError, match="seed"):
        grade.grade(tmp_path, seed=None)


def test_a_check_result_dict_has_the_contract_fields():
    assert list(RESULTS[0].to_dict()) == ["exercise", "check", "status", "score", "max_score", "output",
                                          "seconds"]


def test_grade_reads_the_snapshot_and_reports_an_original_changed_while_grading(tmp_path):
    """The check (trusted code) changes the original mid-run: the grade is from the copy, and a note says so."""
    root = tmp_path / "submissions"
    (root / "amy").mkdir(parents=True)
    original = root / "amy" / "adder.py"
    original.write_text("# handnet exercise: toy\ndef add(a, b):\n    return a + b\n")
    registry = tmp_path / "tamper_registry.py"
    registry.write_text(TOY_REGISTRY.replace(
        'def check_adds(student, seed):\n',
        f'def check_adds(student, seed):\n    with open({str(original)!r}, "a") as fh:\n'
        '        fh.write("# changed\\n")\n'))
    grades = grade.grade(root, seed=1, registry=registry, progress=False)
    adds = next(r for r in grades.results["amy"] if r.check == "adds")
    assert adds.status == "PASS", adds.output
    assert any(n.startswith("amy/adder.py changed while grading") and "graded from the copy" in n
               for n in grades.notes), grades.notes


def test_check_refuses_a_fifo_without_blocking(capsys, tmp_path):
    fifo = tmp_path / "sigmoid.py"
    os.mkfifo(fifo)
    assert_one_line_error(*run_cli(capsys, "check", fifo), "is a FIFO (named pipe), not a regular file")
