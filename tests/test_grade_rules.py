"""handnet grade's rules: every note is written (grades.csv and the student's JSON), --exercises fixes
the set graded, a syntax error is reported with its line however the folder is given."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import assert_one_line_error, run_cli
from handnet.exercises import EXERCISES
from handnet.exercises.grading import grade
from handnet.exercises.grading.assign import student_copy
from planted_bugs import reference_text

SIGMOID = reference_text("sigmoid")
COST_STUB = student_copy(EXERCISES["cost"])


def write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def read_csv(out):
    return pd.read_csv(out / "grades.csv", keep_default_na=False)


@pytest.fixture(scope="module")
def noted(tmp_path_factory):
    root = write(tmp_path_factory.mktemp("submissions"), {
        "ann/sigmoid.py": SIGMOID,
        "ann/old/sigmoid_v0.py": SIGMOID,                   # a second file for sigmoid
        "ann/scratch.py": "x = 1\n",                        # no header
        "ann/mystery.py": "# handnet exercise: nope\n",     # an unknown exercise
        "bo/sigmoid.py": SIGMOID,
        "loose.py": SIGMOID,                                # not in a student's folder
    })
    out = tmp_path_factory.mktemp("grades")
    return grade.grade(root, seed=3, out_dir=out, progress=False, jobs=2), out


def test_every_note_is_a_row_of_grades_csv(noted):
    grades, out = noted
    table = read_csv(out)
    notes = table[table["status"] == grade.NOTE]
    assert (notes["score"] == 0).all() and (notes["max_score"] == 0).all() and (notes["check"] == "").all()
    assert sorted(notes["note"]) == sorted(grades.notes) and len(grades.notes) == 4
    by_student = {s: list(g["note"]) for s, g in notes.groupby("student")}
    assert set(by_student) == {"", "ann"}
    assert by_student[""] == ["not graded, not in a student's subfolder: loose.py"]
    assert "ann/sigmoid.py: a second file for 'sigmoid'; graded ann/old/sigmoid_v0.py instead" in by_student["ann"]
    assert any("ann/scratch.py: no '# handnet exercise: NAME' header" in n for n in by_student["ann"])
    assert any("ann/mystery.py: names the unknown exercise 'nope'" in n for n in by_student["ann"])
    second = notes[notes["note"].str.contains("a second file")]
    assert list(second["exercise"]) == ["sigmoid"]
    # the note rows change no total
    assert grades.totals().set_index("student").loc["ann", "max_score"] == EXERCISES["sigmoid"].max_score
    assert grade.format_summary(grades).split("\n")[0].split() == ["student", "sigmoid", "total", "PASS",
                                                                   "FAIL", "TODO"]


def test_a_students_notes_are_in_their_json_and_nobody_elses(noted):
    grades, out = noted
    ann = json.loads((out / "ann.json").read_text(encoding="utf-8"))
    assert ann["extra_data"]["notes"] == grades.student_notes["ann"]
    assert ann["output"].split("\n")[1:] == [f"note: {n}" for n in grades.student_notes["ann"]]
    bo = json.loads((out / "bo.json").read_text(encoding="utf-8"))
    assert "notes" not in bo["extra_data"] and "\n" not in bo["output"]
    assert bo["score"] == ann["score"] == EXERCISES["sigmoid"].max_score


@pytest.fixture(scope="module")
def stray(tmp_path_factory):
    """cy hands in a cost file nobody was asked for; dee only sigmoid."""
    return write(tmp_path_factory.mktemp("stray"), {
        "cy/sigmoid.py": SIGMOID, "cy/cost.py": COST_STUB, "dee/sigmoid.py": SIGMOID})


def test_without_exercises_one_stray_file_changes_everyones_maximum(stray):
    totals = grade.grade(stray, seed=1, progress=False, jobs=2).totals().set_index("student")
    both = EXERCISES["sigmoid"].max_score + EXERCISES["cost"].max_score
    assert list(totals["max_score"]) == [both, both]


def test_exercises_fixes_the_set_graded_and_notes_the_other_files(stray, tmp_path):
    grades = grade.grade(stray, seed=1, progress=False, jobs=2, exercises=["sigmoid"], out_dir=tmp_path)
    totals = grades.totals().set_index("student")
    assert list(totals["max_score"]) == [EXERCISES["sigmoid"].max_score] * 2
    assert list(totals["score"]) == [EXERCISES["sigmoid"].max_score] * 2
    assert grades.student_notes["cy"] == ["cy/cost.py: the exercise 'cost' is not graded in this run "
                                          "(the exercises graded: sigmoid)"]
    assert set(read_csv(tmp_path)["exercise"]) == {"sigmoid", "cost"}     # cost: only in cy's note row


def test_exercises_nobody_submitted_are_graded_for_everyone(stray):
    grades = grade.grade(stray, seed=1, progress=False, jobs=2, exercises=["sigmoid", "cost", "occlusion"])
    rows = grades.checks()
    occlusion = rows[rows["exercise"] == "occlusion"]
    assert len(occlusion) == 2 * len(EXERCISES["occlusion"].checks)
    assert (occlusion["status"] == "FAIL").all()
    assert all(r.output == grade.NO_FILE for r in grades.results["dee"] if r.exercise in ("cost", "occlusion"))
    assert list(dict.fromkeys(rows["exercise"])) == ["sigmoid", "cost", "occlusion"]


@pytest.mark.parametrize("exercises,fragment", [
    (["sigmoid", "nope"], "exercises: no exercise named 'nope'"),
    ([], "exercises: expected a list of exercise names"),
    ("sigmoid", "exercises: expected a list of exercise names"),
])
def test_bad_exercises_are_named(stray, exercises, fragment):
    with pytest.raises(ValueError, match=fragment):
        grade.grade(stray, seed=1, progress=False, exercises=exercises)


@pytest.mark.parametrize("relative", [False, True])
def test_a_syntax_error_is_reported_with_its_line_also_for_a_relative_folder(tmp_path, monkeypatch, relative):
    broken = SIGMOID.replace("return s * (1.0 - s)", "return s * (1.0 - s))")
    line = broken.splitlines().index("    return s * (1.0 - s))") + 1
    write(tmp_path, {"subs/eve/sigmoid.py": broken})
    monkeypatch.chdir(tmp_path)
    grades = grade.grade("subs" if relative else tmp_path / "subs", seed=1, progress=False)
    for result in grades.results["eve"]:
        assert result.status == "FAIL"
        assert f"SyntaxError: unmatched ')'\n  at sigmoid.py:{line}:" in result.output, result.output
        assert "the check's code" not in result.output


def test_the_command_takes_exercises_as_a_comma_separated_list(capsys, stray, tmp_path):
    status, out, _ = run_cli(capsys, "grade", stray, "--seed", 1, "--exercises", "sigmoid,", "--out", tmp_path,
                             "--no-progress", "--jobs", 2)
    assert status == 0
    assert "note: cy/cost.py: the exercise 'cost' is not graded in this run" in out
    table = read_csv(tmp_path)
    assert set(table[table["status"] != grade.NOTE]["exercise"]) == {"sigmoid"}
    assert_one_line_error(*run_cli(capsys, "grade", stray, "--seed", 1, "--exercises", "sigmoid,cots"),
                          "no exercise named 'cots'", "did you mean 'cost'?")
