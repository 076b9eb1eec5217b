"""The classroom commands: handnet exercises, assign, validate, check, grade (run in-process via main)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from handnet import cli
from handnet.exercises import EXERCISES
from conftest import assert_one_line_error, run_cli
from handnet.exercises.grading.assign import student_copy

SIGMOID = EXERCISES["sigmoid"]
SIGMOID_CHECKS = [c.name for c in SIGMOID.checks]




COMMANDS = ["exercises", "assign", "validate", "check", "grade", "gradescope"]


def test_every_option_of_the_classroom_commands_has_help_text():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.choices and "train" in a.choices).choices
    assert set(COMMANDS) <= set(subparsers)
    for name in COMMANDS:
        for action in subparsers[name]._actions:
            assert action.help, f"handnet {name}: {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(capsys, command):
    status, out, _ = run_cli(capsys, command, "--help")
    assert status == 0
    assert "examples:" in out and f"handnet {command}" in out
    status, out, _ = run_cli(capsys, "--help")
    assert f"  {command} " in out


# --------------------------------------------------------------------------- #
# exercises, assign
# --------------------------------------------------------------------------- #

def test_exercises_lists_names_and_points(capsys):
    status, out, err = run_cli(capsys, "exercises")
    assert status == 0 and err == ""
    lines = out.split("\n")
    assert lines[0].split() == ["exercise", "title", "checks", "points"]
    names = [line.split()[0] for line in lines[2:2 + len(EXERCISES)]]
    assert names == list(EXERCISES)
    sigmoid_row = lines[2 + list(EXERCISES).index("sigmoid")].split()
    assert sigmoid_row[-2:] == [str(len(SIGMOID.checks)), f"{SIGMOID.max_score:g}"]
    assert f"{len(EXERCISES)} exercises, {sum(e.max_score for e in EXERCISES.values()):g} points" in out


def test_exercises_name_shows_the_task_and_the_checks(capsys):
    status, out, _ = run_cli(capsys, "exercises", "sigmoid")
    assert status == 0
    assert out.startswith(f"sigmoid: {SIGMOID.title}")
    # the header gives the exercise's worth, and does not read like a score ("10.0/10.0 points")
    assert out.split("\n")[0] == f"sigmoid: {SIGMOID.title}  (worth {SIGMOID.max_score:g} points, 3 checks)"
    assert "/" not in out.split("\n")[0]
    assert SIGMOID.statement.strip().split("\n")[0] in out
    for check in SIGMOID.checks:
        assert re.search(rf"^  {re.escape(check.name)} +{check.points:g}$", out, re.M), check.name


def test_an_unknown_exercise_is_a_one_line_error(capsys):
    assert_one_line_error(*run_cli(capsys, "exercises", "sigmod"), "no exercise named 'sigmod'",
                          "did you mean 'sigmoid'?")
    assert_one_line_error(*run_cli(capsys, "assign", "nope", "-o", "x"), "no exercise named 'nope'")
    assert_one_line_error(*run_cli(capsys, "validate", "nope"), "no exercise named 'nope'")


def test_assign_writes_the_copy_and_refuses_to_overwrite_work(capsys, tmp_path):
    out_dir = tmp_path / "hw1"
    status, out, err = run_cli(capsys, "assign", "sigmoid", "-o", out_dir)
    assert status == 0, err
    assert f"{out_dir / 'sigmoid.py'}" in out and f"{out_dir / 'README.md'}" in out
    assert "handnet check sigmoid.py" in out
    stub = (out_dir / "sigmoid.py").read_text(encoding="utf-8")
    assert stub == student_copy(SIGMOID)
    (out_dir / "sigmoid.py").write_text(stub.replace("raise NotImplementedError", "return 0  #"), encoding="utf-8")
    saved = (out_dir / "sigmoid.py").read_text(encoding="utf-8")
    assert_one_line_error(*run_cli(capsys, "assign", "sigmoid", "-o", out_dir), "sigmoid.py already exists",
                          "--force")
    assert (out_dir / "sigmoid.py").read_text(encoding="utf-8") == saved       # untouched
    status, out, _ = run_cli(capsys, "assign", "sigmoid", "-o", out_dir, "--force")
    assert status == 0 and "sigmoid.py.bak" in out
    assert (out_dir / "sigmoid.py.bak").read_text(encoding="utf-8") == saved
    assert (out_dir / "sigmoid.py").read_text(encoding="utf-8") == stub
    (tmp_path / "afile").write_text("x")
    assert_one_line_error(*run_cli(capsys, "assign", "sigmoid", "-o", tmp_path / "afile"), "not a folder")


# --------------------------------------------------------------------------- #
# check
# --------------------------------------------------------------------------- #

def test_check_an_untouched_copy_scores_0_all_todo_and_exits_1(capsys, tmp_path):
    path = tmp_path / "sigmoid.py"
    path.write_text(student_copy(SIGMOID), encoding="utf-8")
    status, out, err = run_cli(capsys, "check", path, "--jobs", "2")
    assert status == 1, err
    lines = out.split("\n")
    assert lines[1].split() == ["exercise", "check", "status", "points", "time"]
    for name, check in zip(SIGMOID_CHECKS, SIGMOID.checks):
        assert any(line.split()[:1] == ["sigmoid"] and " TODO " in line and f"0.0/{check.points:.1f}" in line
                   and name in line for line in lines)
    assert f"0.0/{SIGMOID.max_score:.1f} points (0 PASS, 0 FAIL, {len(SIGMOID_CHECKS)} TODO)" in out
    report = tmp_path / "sigmoid.results.json"
    assert f"wrote {report}" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    assert set(data) >= {"score", "max_score", "tests"}
    assert data["score"] == 0 and data["max_score"] == SIGMOID.max_score
    assert [t["name"] for t in data["tests"]] == [f"sigmoid: {name}" for name in SIGMOID_CHECKS]
    for test in data["tests"]:
        assert set(test) >= {"name", "status", "score", "max_score", "output"}
        assert test["status"] == "failed" and test["score"] == 0 and test["output"].startswith("TODO: ")


def test_check_a_correct_copy_passes_and_exits_0(capsys, tmp_path):
    path = tmp_path / "mine.py"
    shutil.copy(SIGMOID.reference_path(), path)
    status, out, err = run_cli(capsys, "check", path, "--seed", "3")
    assert status == 0, out + err
    assert "hidden variant seed 3" in out
    data = json.loads((tmp_path / "mine.results.json").read_text(encoding="utf-8"))
    assert data["score"] == data["max_score"] == SIGMOID.max_score
    assert data["output"].startswith("mine.py, seed 3: ")
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in data["tests"])


def test_check_usage_errors_are_one_line_with_status_2(capsys, tmp_path):
    assert_one_line_error(*run_cli(capsys, "check", tmp_path / "missing.py"), "missing.py: no such file")
    headless = tmp_path / "headless.py"
    headless.write_text("def sigmoid(z):\n    return z\n")
    assert_one_line_error(*run_cli(capsys, "check", headless), "no '# handnet exercise: NAME' line")
    unknown = tmp_path / "unknown.py"
    unknown.write_text("# handnet exercise: nope\n")
    assert_one_line_error(*run_cli(capsys, "check", unknown), "names the exercise 'nope', which does not exist")
    good = tmp_path / "sigmoid.py"
    good.write_text(student_copy(SIGMOID))
    assert_one_line_error(*run_cli(capsys, "check", good, "--timeout", "0"), "--timeout")
    assert_one_line_error(*run_cli(capsys, "check", good, "--jobs", "0"), "--jobs")
    assert_one_line_error(*run_cli(capsys, "check", good, "--seed", "-1"), "--seed")
    assert not (tmp_path / "sigmoid.results.json").exists()           # nothing ran


def test_check_a_file_with_a_syntax_error_fails_every_check(capsys, tmp_path):
    path = tmp_path / "sigmoid.py"
    path.write_text(student_copy(SIGMOID) + "\ndef broken(:\n    pass\n", encoding="utf-8")
    status, out, _ = run_cli(capsys, "check", path)
    assert status == 1
    assert f"0 PASS, {len(SIGMOID_CHECKS)} FAIL, 0 TODO" in out
    assert out.count("SyntaxError") == len(SIGMOID_CHECKS)


# --------------------------------------------------------------------------- #
# validate, grade
# --------------------------------------------------------------------------- #

def test_validate_one_exercise_passes(capsys):
    status, out, err = run_cli(capsys, "validate", "sigmoid", "--seed", "4")
    assert status == 0, out + err
    rows = [line.split() for line in out.split("\n")[2:6]]
    assert [(r[0], r[1], " ".join(r[2:-6])) for r in rows] == [
        ("sigmoid", "reference", "public"), ("sigmoid", "reference", "seed 4"),
        ("sigmoid", "stub", "public"), ("sigmoid", "stub", "seed 4")]
    assert all(r[-1] == "ok" for r in rows)
    n = str(len(SIGMOID_CHECKS))
    assert [r[-6:-3] for r in rows] == [[n, "0", "0"]] * 2 + [["0", "0", n]] * 2          # PASS FAIL TODO
    assert "'sigmoid' is valid" in out and "seed 4" in out


def test_validate_exits_1_when_a_reference_has_no_solution_blocks(capsys, tmp_path, monkeypatch):
    """(A reference whose checks fail is in test_exercises_framework; this one needs no subprocess.)"""
    import handnet.exercises.exercise as base

    text = Path(SIGMOID.reference_path()).read_text(encoding="utf-8")
    bare = tmp_path / "sigmoid.py"
    bare.write_text("".join(line for line in text.splitlines(keepends=True) if "SOLUTION" not in line),
                    encoding="utf-8")
    monkeypatch.setattr(base.Exercise, "reference_path", lambda self: str(bare))
    status, out, _ = run_cli(capsys, "validate", "sigmoid")
    assert status == 1
    assert "WRONG" in out and "1 of 1 exercises are not valid" in out
    assert "no student copy" in out and "would be the solution" in out


def test_grade_writes_the_csv_and_prints_a_summary(capsys, tmp_path):
    root = tmp_path / "submissions"
    (root / "ann").mkdir(parents=True)
    (root / "ben").mkdir()
    shutil.copy(SIGMOID.reference_path(), root / "ann" / "sigmoid.py")
    out_dir = tmp_path / "grades"
    status, out, err = run_cli(capsys, "grade", root, "--seed", "11", "--out", out_dir, "--no-progress")
    assert status == 0, err
    assert out.startswith(f"grading 2 students, 1 files in {root} on seed 11")
    table = pd.read_csv(out_dir / "grades.csv")
    assert list(table.columns) == ["student", "exercise", "check", "status", "score", "max_score", "flag",
                                   "note"]
    assert list(table["status"]) == ["PASS"] * len(SIGMOID_CHECKS) + ["FAIL"] * len(SIGMOID_CHECKS)
    summary = {line.split()[0]: line.split() for line in out.split("\n") if line.split()[:1] in (["ann"], ["ben"])}
    full = f"{SIGMOID.max_score:.1f}"
    assert summary["ann"][1:3] == [f"{full}/{full}"] * 2
    assert summary["ben"][1:3] == [f"0.0/{full}"] * 2
    assert sorted(p.name for p in out_dir.iterdir()) == ["ann.json", "ben.json", "grades.csv"]


def test_grade_needs_a_seed_and_a_folder(capsys, tmp_path):
    status, _, err = run_cli(capsys, "grade", tmp_path)
    assert status == 2 and "--seed" in err
    assert_one_line_error(*run_cli(capsys, "grade", tmp_path / "missing", "--seed", "1"), "no such folder")
