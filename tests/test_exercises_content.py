"""The exercises' content: reference solutions, their checks, the hints, and planted bugs.

For every exercise: the reference passes every check (public inputs and seeded
variants, in-process); the untouched stub is TODO everywhere; every planted bug
in tests/planted_bugs.py (a reference with one mistake, written on demand as a full
student file) fails the intended checks with the intended hint, and leaves the
others passing; every bug still applies to its current reference. A few run
through the subprocess runner too (an infinite loop, a crash, a hint).
"""

import ast
import importlib.util
import itertools
import os
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import handnet as hn
from handnet.exercises import EXERCISES, WrongAnswer, get_exercise
from handnet.exercises import compare as C
from handnet.exercises.problems import debug_problem, debug_weights, layer_from_theta, problem_for
from handnet.exercises.grading.markers import exercise_name_of, make_stub
from planted_bugs import BUGS, reference_text, student_text, write_bug

SEEDS = (None, 0, 1, 7)
ALL_CHECKS = [(name, check.name) for name, ex in EXERCISES.items() for check in ex.checks]


def load(path, name=None):
    """Import a student's file by path (the way the worker does), under a unique name."""
    name = name or "student_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outcome(exercise, check_name, module, seed=None):
    """('PASS' | 'FAIL' | 'TODO', message), exactly as the runner maps them."""
    check = get_exercise(exercise).check_named(check_name)
    try:
        return "PASS", check.run(module, seed)
    except WrongAnswer as exc:
        return "FAIL", str(exc)
    except NotImplementedError as exc:
        return "TODO", str(exc)


@pytest.fixture(scope="module")
def references():
    return {name: load(ex.reference_path(), f"reference_{name}") for name, ex in EXERCISES.items()}


# ----------------------------------------------------------------------------
# The registry and the reference modules
# ----------------------------------------------------------------------------

def test_the_registry_holds_the_seven_exercises_in_teaching_order():
    assert list(EXERCISES) == ["sigmoid", "cost", "backprop_one_hidden", "backprop_deep",
                               "numerical_gradient", "input_gradient", "occlusion"]
    assert sum(ex.max_score for ex in EXERCISES.values()) == 110.0
    for name, ex in EXERCISES.items():
        assert ex.name == name and ex.title and ex.checks
        names = [c.name for c in ex.checks]
        assert len(set(names)) == len(names)
        assert all(c.points > 0 for c in ex.checks)
        for function in ex.functions:                    # the statement names what to write
            assert f"`{function}(" in ex.statement or f"`{function}`" in ex.statement, (name, function)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_each_reference_is_a_self_contained_module_with_its_header_and_markers(name):
    ex = EXERCISES[name]
    path = ex.reference_path()
    assert Path(path).parts[-2:] == (f"ex_{name}", "reference.py")     # its own folder, not the machinery's
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    assert text.splitlines()[0] == f"# handnet exercise: {name}"
    assert exercise_name_of(path) == name
    tree = ast.parse(text)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"numpy", "math"}, imported
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    lines = text.splitlines()
    for function in ex.functions:
        node = functions[function]
        assert ast.get_docstring(node), function
        body = lines[node.lineno - 1:node.end_lineno]
        assert sum(line.strip() == "# BEGIN SOLUTION" for line in body) >= 1, function
    stub = make_stub(text)
    assert "BEGIN SOLUTION" not in stub and stub.splitlines()[0] == lines[0]
    for function in ex.functions:
        assert f'raise NotImplementedError("{function}: write this part")' in stub


def test_the_course_debug_set_up_in_handnets_layout():
    Theta = debug_weights(5, 3)                                  # (fan_out, 1 + fan_in), column-major
    assert Theta.shape == (5, 4)
    assert Theta[0, 0] == np.sin(1) / 10 and Theta[1, 0] == np.sin(2) / 10 and Theta[0, 1] == np.sin(6) / 10
    W, b = layer_from_theta(Theta)
    np.testing.assert_array_equal(W, Theta[:, 1:].T)
    np.testing.assert_array_equal(b, Theta[:, 0])
    p = debug_problem()
    assert p.layer_sizes == [3, 5, 3] and p.X.shape == (5, 3) and p.lam == 0.0
    np.testing.assert_array_equal(p.y, [1, 2, 0, 1, 2])         # the course's 1 + mod(1..5, 3), minus 1
    np.testing.assert_array_equal(p.X, debug_weights(5, 2))
    assert problem_for(None, regularised=True).lam == 3.0


def test_seeded_variants_are_deterministic_and_share_the_network_across_lambda():
    a, b, other = problem_for(5), problem_for(5), problem_for(6)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.X.shape != other.X.shape or not np.array_equal(a.X, other.X)
    reg = problem_for(5, regularised=True)
    assert reg.lam > 0 and a.lam == 0
    np.testing.assert_array_equal(a.weights[0], reg.weights[0])
    deep = problem_for(5, n_hidden=3)
    assert len(deep.weights) == 4 and 2 <= deep.layer_sizes[0] <= 6 and 2 <= deep.K <= 5


# ----------------------------------------------------------------------------
# (a) the references pass, (b) the stubs are TODO
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("exercise,check", ALL_CHECKS)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_passes(references, exercise, check, seed):
    status, message = outcome(exercise, check, references[exercise], seed)
    assert status == "PASS", message
    assert message and isinstance(message, str)


@settings(max_examples=6)
@given(seed=st.integers(0, 2**31 - 1), exercise=st.sampled_from(["backprop_one_hidden", "backprop_deep",
                                                                 "input_gradient", "occlusion", "cost"]))
def test_the_reference_passes_on_random_architectures(references, seed, exercise):
    for check in EXERCISES[exercise].checks:
        status, message = outcome(exercise, check.name, references[exercise], seed)
        assert status == "PASS", (seed, message)


def test_the_reference_gradients_pass_with_a_wide_margin(references):
    """The max relative error the reference reaches is far below the tolerance (1e-6)."""
    worst = 0.0
    for exercise, seed, regularised in itertools.product(("backprop_one_hidden", "backprop_deep"),
                                                         SEEDS, ("= 0", "> 0")):
        message = outcome(exercise, f"gradient (lambda {regularised})", references[exercise], seed)[1]
        for part in message.split("max rel. error ")[1:]:
            worst = max(worst, float(part.split(",")[0]))
    assert 0 < worst < C.GRADIENT_RTOL / 100


@pytest.fixture(scope="module")
def stubs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stubs")
    out = {}
    for name, ex in EXERCISES.items():
        with open(ex.reference_path(), encoding="utf-8") as fh:
            path = folder / f"{name}.py"
            path.write_text(make_stub(fh.read()), encoding="utf-8")
        out[name] = load(str(path), f"stub_{name}")
    return out


@pytest.mark.parametrize("exercise,check", ALL_CHECKS)
@pytest.mark.parametrize("seed", (None, 3))
def test_the_untouched_stub_is_todo(stubs, exercise, check, seed):
    status, message = outcome(exercise, check, stubs[exercise], seed)
    assert status == "TODO", message
    assert "write this part" in message


# ----------------------------------------------------------------------------
# (c) planted bugs: each a full student file with one mistake (tests/planted_bugs.py)
# ----------------------------------------------------------------------------

#: bug -> {check: hint expected in the FAIL message}; every check not listed must PASS.
PLANTED = {
    # the values count, not numpy's warning: the naive sigmoid is right (0 at z = -1000)
    "sigmoid_naive_warns": {},
    "sigmoid_overflow_nan": {"sigmoid without overflow": "hint: exp(-z) overflows to inf for z < -709"},
    "sigmoid_gradient_returns_none": {"sigmoid_gradient": "got None, expected a number"},
    "cost_labels_off_by_one": {
        "cost (lambda = 0)": "the targets look shifted by one class: labels are 0..K-1 here",
        "cost (lambda > 0)": "the targets look shifted by one class"},
    "cost_missing_1_over_m": {
        "cost (lambda = 0)": "your values are m = 5 times the expected ones: missing 1/m",
        "cost (lambda > 0)": "your cost_unregularised is wrong too"},
    "cost_lambda_not_halved": {"cost (lambda > 0)": "lambda vs lambda/2"},
    "cost_bias_regularised": {"cost (lambda > 0)": "you regularised the biases too"},
    "one_hidden_sign_flip": {
        "gradient (lambda = 0)": "sign flipped: every entry is -1 times the expected one",
        "gradient (lambda > 0)": "sign flipped: the data part of your gradient is -1 times"},
    "one_hidden_missing_1_over_m": {
        "gradient (lambda = 0)": "your values are m = 5 times the expected ones: missing 1/m",
        "gradient (lambda > 0)": "missing 1/m on the data part"},
    "one_hidden_bias_regularised": {
        "gradient (lambda > 0)": "you regularised the bias: your bias gradient differs by exactly (lambda/m) b"},
    "one_hidden_quadratic_cost": {
        "cost (lambda = 0)": "that is the quadratic cost",
        "cost (lambda > 0)": "that is the quadratic cost",
        "gradient (lambda = 0)": "your gradient matches your own cost, so your cost is wrong, not backprop",
        "gradient (lambda > 0)": "your gradient matches your own cost, so your cost is wrong, not backprop"},
    "one_hidden_sigmoid_for_gradient": {
        "gradient (lambda = 0)": "hint: you used sigmoid(z_l) where sigmoid_gradient(z_l) belongs",
        "gradient (lambda > 0)": "hint: you used sigmoid(z_l) where sigmoid_gradient(z_l) belongs"},
    "one_hidden_wrong_order": {
        "gradient (lambda = 0)": "hint: the right arrays in the wrong places: what you return as dW1 is dW2; "
                                 "what you return as db1 is db2;",
        "gradient (lambda > 0)": "Return them in the order dW1, db1, dW2, db2."},
    "deep_reversed_lists": {
        "gradient (lambda = 0)": "hint: the right arrays in the wrong places: what you return as dWs[0] is "
                                 "dWs[1]",
        "gradient (lambda > 0)": "what you return as dbs[1] is dbs[0]"},
    "numerical_gradient_divides_by_h": {
        "central differences": "hint: you divided by h: the central difference",
        "the step h": "hint: you divided by h: the central difference"},
    "input_gradient_unit_0": {
        "one hidden layer": "hint: that is the gradient of output 0, not of output 1",
        "any depth": "hint: that is the gradient of output 0, not of output 1"},
    "occlusion_unit_0": {
        "windows of one feature": "hint: that is the occlusion of output 0, not of output 1",
        "windows, stride and baseline": "hint: that is the occlusion of output 0, not of output 2"},
    "one_hidden_sigma_prime_of_a": {
        "gradient (lambda = 0)": "sigma' is taken of a_l instead of z_l",
        "gradient (lambda > 0)": "sigma' is taken of a_l instead of z_l"},
    "deep_transposed": {
        "gradient (lambda = 0)": "hint: dWs[0], dWs[1] are transposed: in handnet's layout dW = a_prev.T @ delta",
        "gradient (lambda > 0)": "are transposed"},
    "deep_sign_flip": {
        "gradient (lambda = 0)": "sign flipped: every entry is -1 times the expected one",
        "gradient (lambda > 0)": "sign flipped: the data part"},
    "deep_wrong_order": {check: "with J last; return (J, dWs, dbs) in this order"
                         for check in ("cost (lambda = 0)", "cost (lambda > 0)", "gradient (lambda = 0)",
                                       "gradient (lambda > 0)")},
    "numerical_gradient_forward_difference": {
        "central differences": "that is a one-sided difference [f(theta + h e_i) - f(theta)] / h",
        "the step h": "one-sided difference"},
    "numerical_gradient_mutates_theta": {
        "central differences": "numerical_gradient changed theta",
        # right values only because sum(sin) is separable: the points say what happened
        "the step h": "each perturbation stays in theta, so f is evaluated away from theta +- h e_i",
        "theta unchanged": "numerical_gradient changed theta: theta[0, 0]"},
    "numerical_gradient_fixed_step": {"the step h": "your result does not depend on h"},
    "input_gradient_preactivation": {
        "one hidden layer": "that is the derivative of z_L (before the output sigmoid)",
        "any depth": "that is the derivative of z_L"},
    "occlusion_sum": {"windows, stride and baseline": "you summed the drops"},
    "occlusion_no_edge_window": {
        "window positions": "window_starts(8, 3, 2): got [0, 2, 4], expected [0, 2, 4, 6]\n"
                            "hint: the last window, cut off at the edge, is missing",
        "windows, stride and baseline": "the last window, cut off at the edge, is missing"},
}


#: bug -> the checks it fails on every hidden variant, though the public run passes them all.
SEEDED_ONLY = {"cost_one_hidden_layer_only": {"feedforward", "cost (lambda = 0)", "cost (lambda > 0)"}}


def test_every_planted_bug_is_listed():
    assert set(BUGS) == set(PLANTED) | set(SEEDED_ONLY) | {"numerical_gradient_infinite_loop", "deep_crash"}


def verdict(exercise, check_name, module, seed):
    """'PASS', 'TODO' or 'FAIL' (any exception of the student's code too, as the runner maps it)."""
    try:
        return outcome(exercise, check_name, module, seed)[0]
    except Exception:                         # noqa: BLE001 - a crash in the student's code: FAIL
        return "FAIL"


@pytest.mark.parametrize("name", sorted(set(PLANTED) | set(SEEDED_ONLY)))
def test_every_seed_fails_a_bug_on_the_same_checks(name, tmp_path):
    """Hidden variants change the numbers, never the cases covered: a bug scores the same on every
    seed (an occlusion solution without the cut-off last window used to score 3 to 7 of 10)."""
    path = str(write_bug(name, tmp_path))
    exercise = exercise_name_of(path)
    module = load(path)
    expected = SEEDED_ONLY.get(name, set(PLANTED.get(name, {})))
    for seed in range(8):
        failed = {c.name for c in EXERCISES[exercise].checks if verdict(exercise, c.name, module, seed) != "PASS"}
        assert failed == expected, (seed, failed)


def test_dividing_by_h_instead_of_2h_mentions_no_m(tmp_path):
    path = str(write_bug("numerical_gradient_divides_by_h", tmp_path))
    for check in ("central differences", "the step h"):
        message = outcome("numerical_gradient", check, load(path))[1]
        assert "hint: you divided by h" in message and "2h" in message
        assert not any(word in message for word in ("1/m", "2m", "m =")), message
    # and a factor 2 where there is no m says nothing of 1/m either
    assert C.factor_hint(2.0) == "your values are twice the expected ones: a factor 2 too many or too few"
    assert "1/(2m) vs 1/m" in C.factor_hint(2.0, m=5)


@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_planted_bug_still_applies_to_its_current_reference(name, tmp_path):
    """A reference change that invalidates a bug's edits fails here, naming the bug and the edit."""
    bug = BUGS[name]
    reference = reference_text(bug.exercise)
    assert "BEGIN SOLUTION" not in reference and "END SOLUTION" not in reference
    text = student_text(name)                # AssertionError unless every edit's old text occurs once
    lines = text.splitlines(keepends=True)
    assert lines[0] == reference.splitlines(keepends=True)[0]
    assert lines[1] == f"# planted bug: {bug.description}\n"
    assert lines[0] + "".join(lines[2:]) != reference        # the edits change the code, not just the comment
    assert exercise_name_of(str(write_bug(name, tmp_path))) == bug.exercise


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_planted_bug_is_caught_with_its_hint(name, tmp_path):
    path = str(write_bug(name, tmp_path))
    exercise = exercise_name_of(path)
    module = load(path)
    expected = PLANTED[name]
    for check in EXERCISES[exercise].checks:
        status, message = outcome(exercise, check.name, module)
        if check.name in expected:
            assert status == "FAIL", (check.name, message)
            assert expected[check.name] in message, (check.name, message)
        else:
            assert status == "PASS", (check.name, message)


@pytest.mark.parametrize("name,check", [
    ("one_hidden_sign_flip", "gradient (lambda = 0)"),
    ("one_hidden_bias_regularised", "gradient (lambda > 0)"),
    ("cost_labels_off_by_one", "cost (lambda = 0)"),
    ("deep_sign_flip", "gradient (lambda = 0)"),
])
@pytest.mark.parametrize("seed", (0, 1, 2))
def test_hidden_variants_catch_the_bugs_too(name, check, seed, tmp_path):
    path = str(write_bug(name, tmp_path))
    status, message = outcome(exercise_name_of(path), check, load(path), seed)
    assert status == "FAIL"
    assert PLANTED[name][check].split(":")[0] in message


def test_a_failure_names_the_worst_entry_in_the_course_format(tmp_path):
    path = str(write_bug("one_hidden_bias_regularised", tmp_path))
    message = outcome("backprop_one_hidden", "gradient (lambda > 0)", load(path))[1]
    line = message.splitlines()[1].strip()
    # b2 = Theta2[:, 0] and the extra term is (lambda/m) b2 = 3/5 sin(k)/10; the worst is b2[1]
    extra = 3.0 / 5.0 * debug_weights(3, 5)[1, 0]
    name, rest = line.split(": ", 1)
    assert name == "b2[1]"
    analytic = float(rest.split("analytic ")[1].split(",")[0])
    numerical = float(rest.split("numerical ")[1].split(",")[0])
    assert analytic - numerical == pytest.approx(extra, abs=1e-4)     # printed to 4 digits
    assert rest.endswith(f"rel. error {abs(analytic - numerical) / max(abs(analytic), abs(numerical)):.1e}")


# ----------------------------------------------------------------------------
# Through the subprocess runner: the infinite loop, a crash, a hint
# ----------------------------------------------------------------------------

def test_an_infinite_loop_is_a_fail_through_the_runner_and_the_others_still_run(tmp_path):
    from handnet.exercises.grading.runner import run_check

    path = str(write_bug("numerical_gradient_infinite_loop", tmp_path))
    looping = run_check(path, "numerical_gradient", "central differences", timeout=60.0)  # the cap of 1000 values stops it, not the clock
    assert looping.status == "FAIL" and looping.score == 0 and looping.max_score == 4.0
    # it calls f forever: the grading side, which answers every f(theta), stops it at the limit
    assert "your code asked for more than 1000 values of f in one call (theta has 6 entries)" in looping.output
    fine = run_check(path, "numerical_gradient", "relative_error", timeout=60.0)
    assert fine.status == "PASS", fine.output


def test_a_crash_and_a_hint_through_the_runner(tmp_path):
    from handnet.exercises.grading.runner import run_file

    crash = run_file(str(write_bug("deep_crash", tmp_path)), timeout=60.0, jobs=2)
    # the crash is in the backward pass, after J: the cost checks grade J alone and pass
    assert [r.status for r in crash] == ["PASS", "PASS", "FAIL", "FAIL"], [r.output for r in crash]
    line = student_text("deep_crash").splitlines().index("    delta = h - Y.T") + 1
    assert (f"(read from your variable J: your function computed it, then raised ValueError at line {line}; "
            "the gradient checks say more)") in crash[0].output
    assert "ValueError" in crash[2].output and "delta = h - Y.T" in crash[2].output
    results = {r.check: r for r in run_file(str(write_bug("one_hidden_bias_regularised", tmp_path)),
                                            timeout=60.0, jobs=2)}
    assert results["gradient (lambda > 0)"].status == "FAIL"
    assert "you regularised the bias" in results["gradient (lambda > 0)"].output
    assert results["gradient (lambda = 0)"].status == "PASS"
    assert sum(r.score for r in results.values()) == 20.0


# ----------------------------------------------------------------------------
# Wrong return types are a FAIL with a sentence, never an error of the checks
# ----------------------------------------------------------------------------

WRONG_RETURNS = [None, [], [1.0, 2.0], (1.0,), "text", {"a": 1}, np.zeros(0), 3.0, np.nan,
                 (None, None), (None, None, None), (1.0, [None] * 4), (1.0, [], []),
                 (1.0, [np.zeros((3, 5))] * 2, [np.zeros(5)] * 2), np.zeros((5, 3, 2)), True]


@pytest.mark.parametrize("exercise,check", ALL_CHECKS)
def test_a_wrong_return_type_is_a_fail_with_a_message(exercise, check):
    for value in WRONG_RETURNS:
        student = types.SimpleNamespace(**{f: (lambda *a, _v=value, **k: _v)
                                           for f in EXERCISES[exercise].functions})
        status, message = outcome(exercise, check, student)
        assert status == "FAIL", (value, message)
        assert message and "Traceback" not in message


@pytest.mark.parametrize("value,expected", [
    (None, "got None, expected (J, (dW1, db1, dW2, db2)) (is a `return` missing?)"),
    ([1.0, 2.0, 3.0], "expected 2 items (J, (dW1, db1, dW2, db2)), got a list of 3 items"),
    (((np.zeros((3, 5)),), 1.0), "with the gradients first; return (J, (dW1, db1, dW2, db2)) in this order"),
    ((1.0, (np.zeros(5), np.zeros((3, 5)), np.zeros((5, 3)), np.zeros(3))),
     "dW1: expected shape (3, 5), got shape (5,) (that is the shape of db1: are the results returned in the "
     "right order?)"),
    ((1.0, (np.zeros((5, 3)), np.zeros(5), np.zeros((5, 3)), np.zeros(3))),
     "dW1: expected shape (3, 5), got shape (5, 3) (that is the shape of dW2: are the results returned in "
     "the right order? Or is this one transposed?)"),
    ((1.0, (np.zeros((4, 5)), np.zeros(5), np.zeros((5, 3)), np.zeros(3))),
     "one row too many: the bias belongs in b"),
    ((1.0, (np.zeros((3, 5)), np.zeros((5, 1)), np.zeros((5, 3)), np.zeros(3))),
     "a column or row instead of a vector"),
])
def test_return_structure_messages_of_the_one_hidden_exercise(value, expected):
    student = types.SimpleNamespace(cost_and_gradient=lambda *a: value)
    status, message = outcome("backprop_one_hidden", "gradient (lambda = 0)", student)
    assert status == "FAIL"
    assert expected in message


def test_a_missing_function_is_named():
    status, message = outcome("sigmoid", "sigmoid values", types.SimpleNamespace())
    assert status == "FAIL" and "your file has no function sigmoid()" in message


# ----------------------------------------------------------------------------
# diagnose and compare: each recognised pattern
# ----------------------------------------------------------------------------

def _parts(expected, analytic):
    return [C.Part(name, np.asarray(a, float), np.asarray(e, float), name[0])
            for (name, e), a in zip(expected.items(), analytic)]


EXPECTED = {"W1": np.arange(1.0, 10.0).reshape(3, 3) / 7, "b1": np.array([0.5, -0.25, 0.125]),
            "W2": np.array([[1.0, -2.0], [3.0, 0.5], [-1.5, 2.5]]), "b2": np.array([0.3, -0.7])}


@pytest.mark.parametrize("change,hint", [
    (lambda e: {k: 0 * v for k, v in e.items()}, "every entry is 0"),
    (lambda e: {k: -v for k, v in e.items()}, "sign flipped: every entry is -1 times the expected one"),
    (lambda e: {k: 5 * v for k, v in e.items()}, "your values are m = 5 times the expected ones: missing 1/m"),
    (lambda e: {k: v / 5 for k, v in e.items()}, "your values are 1/m = 1/5 of the expected ones"),
    (lambda e: {k: 2 * v for k, v in e.items()}, "twice the expected ones: lambda vs lambda/2"),
    (lambda e: {k: 0.5 * v for k, v in e.items()}, "half the expected ones: lambda vs lambda/2"),
    (lambda e: {k: 3.7 * v for k, v in e.items()}, "your values are 3.7 times the expected ones"),
    (lambda e: {**e, "b1": e["b1"] + 1, "b2": e["b2"] * 3}, "only the bias entries are wrong (b1, b2)"),
    (lambda e: {**e, "W2": e["W2"] + 1}, "only the weight entries are wrong (W2)"),
    (lambda e: {**e, "W1": e["W1"].T}, "W1 looks transposed"),
    (lambda e: {**e, "W2": -e["W2"]}, "W2 has the sign flipped"),
    (lambda e: {**e, "b2": np.array([np.nan, 0.0])}, "your answer contains nan (first at b2[0])"),
])
def test_diagnose_recognises_the_patterns(change, hint):
    analytic = list(change(EXPECTED).values())
    with pytest.raises(WrongAnswer) as info:
        C.compare_parts(_parts(EXPECTED, analytic), "gradient on a test problem", m=5, lam=1.0)
    message = str(info.value)
    assert hint in message, message
    assert message.splitlines()[0].startswith("gradient on a test problem: ")
    assert "analytic" in message.splitlines()[1] and "numerical" in message.splitlines()[1]


def test_a_bias_regularised_in_one_layer_only_is_named_by_its_variant():
    lam, m = 3.0, 5
    b = {"b1": np.array([1.0, 2.0, -1.0]), "b2": np.array([0.5, -0.5])}
    variant = [EXPECTED["W1"], EXPECTED["b1"] + lam / m * b["b1"], EXPECTED["W2"], EXPECTED["b2"] + lam / m * b["b2"]]
    analytic = [EXPECTED["W1"], EXPECTED["b1"], EXPECTED["W2"], variant[3]]        # only b2 regularised
    with pytest.raises(WrongAnswer) as info:
        C.compare_parts(_parts(EXPECTED, analytic), "gradient", variants=[("bias regularised.", variant)],
                        m=m, lam=lam)
    assert "hint: bias regularised (in b2; the other parts are right)." in str(info.value)


def test_compare_returns_the_error_when_within_tolerance_and_handles_tiny_entries():
    e = np.array([1.0, 1e-12, 0.0])
    assert C.compare_arrays("g", e * (1 + 1e-12), e, rtol=1e-9) <= 1e-9
    # below the floor, entries are compared on an absolute scale
    assert C.compare_arrays("g", e + 1e-13, e, rtol=1e-9, floor=1e-3) <= 1e-9
    with pytest.raises(WrongAnswer, match=r"g\[1\]: yours 1\.000e-06, expected 1\.000e-12"):
        C.compare_arrays("g", e + np.array([0, 1e-6 - 1e-12, 0]), e, rtol=1e-9, floor=1e-3)


def test_a_number_gets_only_the_factors_that_mean_something():
    with pytest.raises(WrongAnswer) as info:
        C.compare_number("J", 1.37 * 2.0, 2.0, m=5)
    assert "hint" not in str(info.value)                 # 1.37 is no recognisable factor
    with pytest.raises(WrongAnswer, match="missing 1/m"):
        C.compare_number("J", 10.0, 2.0, m=5)


def test_the_gradient_check_tells_a_wrong_cost_from_wrong_backprop():
    """Own-cost consistency: f_student = 2 f, gradient = 2 grad f -> 'your cost is wrong'."""
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    theta = np.array([[0.3, -1.2]])

    def f(arrays):
        t = arrays[0].ravel()
        return 0.5 * t @ A @ t + np.sin(t).sum()

    exact = (A @ theta.ravel() + np.cos(theta.ravel())).reshape(1, 2)
    assert "all 2 entries agree" in C.compare_gradient([("t", None, exact)], [theta], f, f, "a test", 1, 0.0)
    with pytest.raises(WrongAnswer) as info:
        C.compare_gradient([("t", None, 3 * exact)], [theta], f, lambda a: 3 * f(a), "a test", 1, 0.0)
    assert "your gradient matches your own cost, so your cost is wrong, not backprop" in str(info.value)
    with pytest.raises(WrongAnswer) as info:                 # wrong gradient, right cost: no such hint
        C.compare_gradient([("t", None, 3 * exact)], [theta], f, f, "a test", 1, 0.0)
    assert "your own cost" not in str(info.value)
    assert "3 times the expected ones" in str(info.value)


def test_numerical_gradients_are_accurate_to_about_1e_11():
    problem = problem_for(3, regularised=True, n_hidden=2)
    net = problem.net()
    exact = hn.gradient(net, problem.X, problem.y, l2=problem.lam)

    def J(arrays):
        for l in range(len(problem.weights)):
            net.weights[l], net.biases[l] = arrays[2 * l], arrays[2 * l + 1]
        return hn.cost(net, problem.X, problem.y, l2=problem.lam)

    params = [p for pair in zip(problem.weights, problem.biases) for p in pair]
    numerical = C.numerical_gradients(J, params)
    for (dW, db), nW, nb in zip(exact, numerical[::2], numerical[1::2]):
        np.testing.assert_allclose(nW, dW, rtol=0, atol=1e-10)
        np.testing.assert_allclose(nb, db, rtol=0, atol=1e-10)
    for a, b in zip(params, [W for pair in zip(problem.weights, problem.biases) for W in pair]):
        np.testing.assert_array_equal(a, b)                 # the parameters are left as they were


def test_every_planted_bug_gives_its_hints_through_the_grading_path_too(tmp_path):
    """The same verdicts and hints when the checks call the bug's functions in a contained child
    (one batch over every bug): nothing the in-process tests above see is lost on the wire."""
    from handnet.exercises.grading.runner import run_checks

    tasks, expected = [], []
    for name in sorted(PLANTED):
        path = str(write_bug(name, tmp_path))
        exercise = exercise_name_of(path)
        for check in EXERCISES[exercise].checks:
            tasks.append((path, exercise, check.name))
            expected.append((name, check.name, PLANTED[name].get(check.name)))
    for (name, check, hint), result in zip(expected, run_checks(tasks, timeout=120)):
        if hint is None:
            assert result.status == "PASS", (name, check, result.output)
        else:
            assert result.status == "FAIL" and hint in result.output, (name, check, result.output)
