"""The f of numerical_gradient stays in the grading process: the student's code only asks for its values.

The red team's attacker read f.A and f.c (the definition of the quadratic, rebuilt in the
child from data), returned the exact gradient without one evaluation and set f.calls to
the count an honest student would have made. Now the child lends the student's code an
opaque stand-in; every f(theta) is a request to the grading side, which checks theta,
computes and counts the value. These students are graded by `handnet grade` (a
subprocess, as a teacher would run it) next to an honest one:

* the attacker gets 0 on every check it cheats, the honest student full marks;
* a student who asks for f a million times fails with a sentence, not a hang;
* f given a theta of the wrong shape, with a NaN, or not an array raises a clear
  ValueError / TypeError in the student's code (which may catch it and carry on).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from handnet.exercises import EXERCISES
from handnet.exercises.grading.functions import MAX_EVALUATIONS, GraderFunction, TooManyEvaluations
from handnet.exercises.grading.wire import LentFunction, decode, encode, frame
from planted_bugs import reference_text

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process containment is Linux's")

EXERCISE = EXERCISES["numerical_gradient"]
CHEATED = ("central differences", "the step h", "theta unchanged")

HEAD = "# handnet exercise: numerical_gradient\nimport numpy as np\n"

REFERENCE = reference_text("numerical_gradient")
#: The reference's first line of code in numerical_gradient, where ``central(before)`` inserts ``before``.
FIRST_LINE = "    work = np.array(theta, dtype=np.float64)"


def central(before=""):
    """The reference (an honest student), with ``before`` (indented code) run first in numerical_gradient."""
    assert REFERENCE.count(FIRST_LINE) == 1, "the reference changed: update FIRST_LINE"
    return REFERENCE.replace(FIRST_LINE, before + "\n" + FIRST_LINE) if before else REFERENCE


RELATIVE_ERROR = REFERENCE[REFERENCE.index("\n\ndef relative_error"):]


STUDENTS = {
    "honest": central(),
    # the red team's attack: the definition of f, and a forged count
    "attacker": HEAD + '''
def numerical_gradient(f, theta, h=1e-4):
    theta = np.asarray(theta, dtype=float)
    try:
        f.calls = 2 * theta.size                       # the count an honest student would have made
    except Exception:
        pass
    if hasattr(f, "A"):
        return (f.A @ theta.ravel() + f.c).reshape(theta.shape)
    return np.cos(theta) * np.sin(h) / h               # f = sum(sin(theta)): the central difference, by formula
''' + RELATIVE_ERROR,
    # the count without the work: 2 evaluations per entry, at points that tell nothing
    "dummy_points": HEAD + '''
def numerical_gradient(f, theta, h=1e-4):
    theta = np.asarray(theta, dtype=float)
    for _ in range(2 * theta.size):
        f(np.zeros_like(theta))
    return np.cos(theta) * np.sin(h) / h               # f = sum(sin(theta)): the central difference, by formula
''' + RELATIVE_ERROR,
    "million_calls": central("    for _ in range(10 ** 6):\n        f(theta)"),
    "wrong_shape": central("    f(np.append(theta.ravel(), 0.0))"),
    "nan_theta": central("    f(np.full(theta.shape, np.nan))"),
    "catches_the_error": central("    for bad in (np.full(theta.shape, np.inf), 'theta', theta[..., :1].copy()):\n"
                                 "        try:\n            f(bad)\n        except (ValueError, TypeError):\n"
                                 "            pass"),
    "keeps_f": central("    f = numerical_gradient.__dict__.setdefault('kept', f)     # the first call's f"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{student: {check: (status, output)}} and the totals of one `handnet grade` over STUDENTS."""
    root = tmp_path_factory.mktemp("lent")
    submissions, out = root / "submissions", root / "grades"
    for student, source in STUDENTS.items():
        (submissions / student).mkdir(parents=True)
        (submissions / student / "numerical_gradient.py").write_text(source)
    result = subprocess.run([sys.executable, "-m", "handnet", "grade", str(submissions), "--seed", "3",
                             "--out", str(out), "--jobs", "2", "--no-progress", "--timeout", "60"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    checks = {}
    for student in STUDENTS:
        data = json.loads((out / f"{student}.json").read_text(encoding="utf-8"))
        checks[student] = {t["name"].split(": ", 1)[1]: (t["status"], t["output"]) for t in data["tests"]}
    totals = pd.read_csv(out / "grades.csv").groupby("student")["score"].sum().to_dict()
    return checks, totals


def test_the_honest_student_keeps_full_marks_and_the_count_is_the_graders(graded):
    checks, totals = graded
    assert totals["honest"] == EXERCISE.max_score, checks["honest"]
    status, output = checks["honest"]["central differences"]
    n = int(re.search(r"evaluations of f for (\d+) entries, counted by the grader", output).group(1))
    assert f"({2 * n} evaluations of f for {n} entries" in output


def test_the_attacker_gets_nothing_on_the_checks_it_cheats(graded):
    checks, totals = graded
    attacker = checks["attacker"]
    assert {name: attacker[name][0] for name in CHEATED} == dict.fromkeys(CHEATED, "failed"), attacker
    assert attacker["relative_error"][0] == "passed"                 # written honestly
    assert totals["attacker"] == EXERCISE.max_score - sum(c.points for c in EXERCISE.checks if c.name in CHEATED)
    for name in ("the step h", "theta unchanged"):                   # right values without one evaluation
        assert "your numerical_gradient evaluated f 0 times" in attacker[name][1], attacker[name][1]
    assert "not from a formula for the gradient" in attacker["the step h"][1]


def test_evaluations_at_dummy_points_get_nothing_on_the_checks_they_cheat(graded):
    """Only the count was checked: 2n calls of f at zeros and a formula passed "the step h" (and
    "theta unchanged"). The grader records where f was evaluated and asks for theta +- h e_i."""
    checks, totals = graded
    cheat = checks["dummy_points"]
    assert {name: cheat[name][0] for name in CHEATED} == dict.fromkeys(CHEATED, "failed"), cheat
    assert totals["dummy_points"] == totals["attacker"]
    for name in ("the step h", "theta unchanged"):               # the right count, the right values
        output = cheat[name][1]
        assert "your numerical_gradient never evaluated f at theta + h e_i" in output, output
        assert ("hint: central differences evaluate f at theta + h e_i and theta - h e_i; your code evaluated "
                "f at a point 6 of whose 6 entries differ from theta's") in output, output
    assert "12 of the 12 points of central differences were never evaluated" in cheat["the step h"][1]


def test_a_grader_function_records_where_it_was_evaluated():
    f = sum_sin((2, 3))
    theta = np.arange(6.0).reshape(2, 3)
    f(theta)
    theta[0, 0] = 7.0                                   # the caller's array changes, the record does not
    f(theta)
    with pytest.raises(ValueError):
        f(np.zeros(2))                                  # refused: not evaluated, not recorded
    assert f.points.shape == (2, 2, 3)
    assert f.points[0, 0, 0] == 0.0 and f.points[1, 0, 0] == 7.0


def test_a_million_calls_of_f_is_a_fail_with_a_sentence(graded):
    checks, _ = graded
    for name in CHEATED:
        status, output = checks["million_calls"][name]
        assert status == "failed"
        assert (f"numerical_gradient(): your code asked for more than {MAX_EVALUATIONS} values of f in one "
                "call") in output, output
        assert "timed out" not in output


def test_a_bad_theta_is_a_clear_error_in_the_students_code(graded):
    checks, _ = graded
    for name in CHEATED:
        status, output = checks["wrong_shape"][name]
        assert status == "failed"
        assert re.search(r"ValueError: f takes an array shaped like theta \([\d, ]+\), got an array of shape "
                         r"\(\d+,\)", output), output
        line = STUDENTS["wrong_shape"].splitlines().index("    f(np.append(theta.ravel(), 0.0))") + 1
        assert f"at numerical_gradient.py:{line}, in numerical_gradient()" in output
        status, output = checks["nan_theta"][name]
        assert status == "failed"
        assert re.search(r"ValueError: f takes finite numbers: theta\[[\d, ]+\] is nan", output), output


def test_the_error_can_be_caught_and_the_call_goes_on(graded):
    checks, totals = graded
    assert totals["catches_the_error"] == EXERCISE.max_score, checks["catches_the_error"]


def test_f_cannot_be_kept_for_a_later_call(graded):
    checks, _ = graded
    assert checks["keeps_f"]["central differences"][0] == "passed"     # one call: its own f
    status, output = checks["keeps_f"]["the step h"]          # the second call (h = 0.01) uses the first f
    assert status == "failed"
    assert "RuntimeError: this f belongs to an earlier call" in output, output


# ----------------------------------------------------------------------------
# The pieces, in this process
# ----------------------------------------------------------------------------

def sum_sin(shape, **kwargs):
    return GraderFunction("f", lambda t: float(np.sum(np.sin(t))), shape, **kwargs)


def test_a_grader_function_computes_and_counts():
    f = sum_sin((2, 3))
    theta = np.arange(6.0).reshape(2, 3)
    assert f(theta) == float(np.sum(np.sin(theta)))
    assert f(theta.astype(np.int64)) == f(theta)                  # integers are real numbers
    assert f.evaluations == 3 and f.requests == 3
    assert f.answer(theta) == {"value": float(np.sum(np.sin(theta)))}
    assert type(f.answer(theta)["value"]) is float


@pytest.mark.parametrize("theta,kind,message", [
    (np.zeros(6), "ValueError", "f takes an array shaped like theta (2, 3), got an array of shape (6,)"),
    (np.array([[0.0, np.nan, 1.0], [np.inf, 0.0, 0.0]]), "ValueError",
     "f takes finite numbers: theta[0, 1] is nan (2 of 6 entries are not finite)"),
    (np.zeros((2, 3), dtype=bool), "TypeError", "f takes an array of real numbers, got an array of dtype bool"),
    ([[0.0] * 3] * 2, "TypeError", "f takes a numpy array shaped like theta (2, 3), got list"),
    ("theta", "TypeError", "f takes a numpy array shaped like theta (2, 3), got str"),
])
def test_a_bad_theta_is_refused_with_a_sentence_and_not_evaluated(theta, kind, message):
    f = sum_sin((2, 3))
    assert f.answer(theta) == {"error": {"type": kind, "message": message}}
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        f(theta)
    assert f.evaluations == 0 and f.requests == 2


def test_past_its_limit_a_grader_function_stops_the_call():
    f = sum_sin((3,), max_evaluations=5)
    for _ in range(5):
        f.answer(np.zeros(3))
    with pytest.raises(TooManyEvaluations, match="more than 5 values of f in one call"):
        f.answer(np.zeros(3))                         # not an error reply the student's code could catch
    assert f.evaluations == 5


def test_a_lent_function_crosses_the_wire_as_an_index_only():
    message = decode(frame({"call": "numerical_gradient", "args": [{"__function__": 0}, encode(np.ones(2))],
                            "kwargs": {}})[8:])
    f, theta = message["args"]
    assert isinstance(f, LentFunction) and f.index == 0
    assert np.array_equal(theta, np.ones(2))
    for malformed in ({"__function__": "quadratic", "args": [[1.0]]}, {"__function__": 1.5},
                      {"__function__": True}):
        assert decode(frame({"v": malformed})[8:])["v"] == malformed          # data, never a function
    assert encode(sum_sin((2,)))["__opaque__"][0] == "GraderFunction"      # never sent as data
