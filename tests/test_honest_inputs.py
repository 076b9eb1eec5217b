"""Issue 11: every answer is right or a clear refusal.

Each case is the exact input from the issue; each test asserts the kind of
error and that the message names the argument. The gradient checker gets NaN,
inf and overflow planted into each of its inputs and must fail or refuse every
time, while a single wrong entry of a real network is still caught and named.
"""

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from handnet import _system
from handnet import _validate as V
from handnet.cli import main
from handnet.gradcheck import check, directional_derivative, numerical_gradient, relative_error
from conftest import random_problem

E = hn.explain


@pytest.fixture
def problem():
    return random_problem([4, 3, 2], "sigmoid", "sigmoid", "cross_entropy", n_rows=5, seed=3)


# ----------------------------------------------------------------------------
# The gradient checker never passes what it cannot verify
# ----------------------------------------------------------------------------

def test_the_issues_log_example_fails_and_says_why():
    # theta = 1e-6 and h = 1e-5: log(theta - h) is nan. It used to pass (rel. error 0).
    report = check(lambda t: float(np.sum(np.log(t))), np.array([123.0]), np.array([1e-6]))
    assert not report.passed and not bool(report)
    assert report.max_rel_error == np.inf
    assert report.failures.loc[0, "reason"] == "f(theta - h e_i) is not a finite number"
    assert "FAILED" in str(report) and "f(theta - h e_i) is not a finite number" in str(report)


def test_relative_error_of_nan_or_inf_is_inf_never_zero():
    rel = relative_error([1.0, np.nan, 1.0, np.inf, 0.0], [np.nan, 1.0, np.inf, np.inf, 0.0])
    np.testing.assert_array_equal(rel, [np.inf, np.inf, np.inf, np.inf, 0.0])
    assert relative_error(np.nan, np.nan) == np.inf
    assert relative_error(1e308, -1e308) == np.inf        # a - n overflows: a failure, without a warning


def quadratic(t):
    return float(t @ t)


@pytest.mark.parametrize("h, match", [
    (1e308, r"^h: 1e\+308 is so large that theta \+- h leaves the range"),
    (1e-30, r"^h: 1e-30 is lost in rounding at index 0: theta \+ h == theta"),
])
def test_a_step_that_overflows_or_vanishes_is_refused_with_advice(h, match):
    theta = np.array([1.0, 2.0])
    for call in (lambda: check(quadratic, 2 * theta, theta, h=h),
                 lambda: numerical_gradient(quadratic, theta, h=h)):
        with pytest.raises(ValueError, match=match) as info:
            call()
        assert "choose h near 1e-5" in str(info.value)


def test_check_gradient_refuses_h_1e308(problem):
    net, X, Y = problem
    with pytest.raises(ValueError, match=r"^h: 1e\+308 is so large"):
        hn.check_gradient(net, X, Y, h=1e308)


def test_handnet_gradcheck_h_1e308_is_refused_not_passed(capsys):
    assert main(["gradcheck", "--h", "1e308"]) == 2
    out, err = capsys.readouterr()
    assert "PASSED" not in out and err.startswith("handnet: error: h: 1e+308 is so large")


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(f="x", theta=np.ones(2)), TypeError, r"^f: expected a function of theta"),
    (dict(f=lambda t: 1.0, theta="abc"), TypeError, r"^theta: expected a numeric array, got str 'abc'$"),
    (dict(f=lambda t: t, theta=np.ones(2)), TypeError,
     r"^f: expected f\(theta\) to return one real number \(the cost\), got array of shape \(2,\)"),
    (dict(f=lambda t: "1", theta=np.ones(2)), TypeError, r"^f: expected f\(theta\) to return one real number"),
    (dict(f=lambda t: 1.0, theta=np.ones(3), indices=[5]), ValueError,
     r"^indices: 5 is out of range; theta has 3 entries \(positions 0\.\.2\)$"),
    (dict(f=lambda t: 1.0, theta=np.ones(3), indices=[-1]), ValueError, r"^indices: -1 is out of range"),
    (dict(f=lambda t: 1.0, theta=np.ones(3), indices=[0.5]), TypeError, r"^indices: expected flat integer"),
    (dict(f=lambda t: 1.0, theta=np.array([np.nan])), ValueError,
     r"^theta: expected finite numbers, got nan at index 0$"),
    (dict(f=lambda t: float(np.sum(np.log(t))), theta=np.array([1e-6])), ValueError,
     r"^f: returned nan at theta - h e_i for index 0 \(theta\[0\] = 1e-06, h = 1e-05\)"),
])
def test_numerical_gradient_validates_its_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        numerical_gradient(**kwargs)


def test_check_gradient_refuses_directional_yes(problem):
    net, X, Y = problem
    with pytest.raises(TypeError, match=r"^directional: expected True or False, got str 'yes'$"):
        hn.check_gradient(net, X, Y, directional="yes")
    with pytest.raises(TypeError, match=r"^directional: expected True or False"):
        check(quadratic, np.ones(2), np.ones(2), directional="yes")


def planted_analytic(g, value):
    bad = g.copy()
    bad[4] = value
    return bad


@pytest.mark.parametrize("value, reason", [
    (np.nan, "the analytic value is not a finite number"),
    (np.inf, "the analytic value is not a finite number"),
    (-np.inf, "the analytic value is not a finite number"),
])
def test_planted_nan_and_inf_in_the_analytic_gradient_fail_and_are_named(problem, value, reason):
    net, X, Y = problem
    g = hn.cost_and_gradient(net, X, Y)[1]
    for gradient in (planted_analytic(g, value),
                     [(dW.copy(), db.copy()) for dW, db in zip(*net.unflatten(planted_analytic(g, value)))]):
        report = hn.check_gradient(net, X, Y, gradient=gradient, directional=True)
        assert not report.passed
        assert list(report.failures["entry"]) == ["W0[1, 1]"]
        assert report.failures.loc[0, "reason"] == reason
        assert report.directional["rel_error"] == np.inf
        assert "W0[1, 1]" in str(report) and reason in str(report)


def test_an_analytic_gradient_that_overflows_the_comparison_fails():
    report = check(quadratic, np.array([1e308, 2.0]), np.array([1.0, 1.0]))
    assert not report.passed and report.failures.loc[0, "entry"] == "theta[0]"


@pytest.mark.parametrize("f, reason", [
    (lambda t: np.inf if t[1] > 1 else float(t @ t), "f(theta + h e_i) is not a finite number"),
    (lambda t: np.nan if t[1] < 1 else float(t @ t), "f(theta - h e_i) is not a finite number"),
    # finite values whose difference overflows: 1.7e308 - (-1.7e308)
    (lambda t: 1.7e308 * np.sign(t[1] - 1) if t[1] != 1 else float(t @ t), "the central difference overflows"),
])
def test_planted_nan_inf_and_overflow_in_the_cost_fail_and_are_named(f, reason):
    report = check(f, np.array([2.0, 2.0]), np.array([1.0, 1.0]))
    assert not report.passed
    assert list(report.failures["entry"]) == ["theta[1]"]
    assert report.failures.loc[0, "reason"] == reason
    assert report.norm_rel_diff == np.inf
    with pytest.raises(ValueError, match=r"^f: (returned (inf|nan) at theta [+-] h e_i|its values .*) for index 1"):
        numerical_gradient(f, np.array([1.0, 1.0]))


def test_planted_nan_in_the_directional_derivative_fails():
    f = lambda t: float(t @ t) if np.all(t == np.round(t)) else np.nan     # finite only on the axes
    assert directional_derivative(f, np.ones(2), np.array([0.6, 0.8])) == np.inf
    report = check(f, lambda t: 2 * t, np.ones(2), h=1.0, directional=True)
    assert report.failures.empty and not report.passed             # every entry fine, the direction not
    assert report.directional["rel_error"] == np.inf


def test_a_cost_that_is_not_finite_at_theta_is_refused():
    with pytest.raises(ValueError, match=r"^f: returned nan at theta itself"):
        check(lambda t: np.nan, np.ones(2), np.ones(2))


def test_a_single_wrong_entry_of_a_real_network_is_still_caught_and_named():
    net, X, Y = random_problem([6, 5, 4], "tanh", "softmax", "softmax_cross_entropy", n_rows=8, seed=5)
    g = hn.cost_and_gradient(net, X, Y)[1]
    assert hn.check_gradient(net, X, Y, gradient=g).passed
    g[33] *= 1.001                                              # b0[3]: 0.1% off
    report = hn.check_gradient(net, X, Y, gradient=g)
    assert not report.passed and list(report.failures["entry"]) == ["b0[3]"]
    assert report.failures.loc[0, "reason"] == ""


# ----------------------------------------------------------------------------
# The net argument
# ----------------------------------------------------------------------------

def net_calls(net, X, y):
    """Every public entry point that takes a network, called with ``net`` in its place."""
    zs, acts = hn.MLP([4, 3, 2]).forward_pass(X)
    return {
        "cost": lambda: hn.cost(net, X, y),
        "gradient": lambda: hn.gradient(net, X, y),
        "cost_and_gradient": lambda: hn.cost_and_gradient(net, X, y),
        "backpropagate": lambda: hn.backpropagate(net, zs, acts, acts[-1]),
        "check_gradient": lambda: hn.check_gradient(net, X, y),
        "train": lambda: hn.train(net, X, y, epochs=1, progress=False),
        "save": lambda: hn.save(net, "never-written.npz"),
        "input_gradient": lambda: E.input_gradient(net, X),
        "sensitivity": lambda: E.sensitivity(net, X),
        "gradient_x_input": lambda: E.gradient_x_input(net, X),
        "jacobian": lambda: E.jacobian(net, X),
        "input_hessian_diag": lambda: E.input_hessian_diag(net, X),
        "input_hessian": lambda: E.input_hessian(net, X[0]),
        "region_maps": lambda: E.region_maps(net),
        "region_map": lambda: E.region_map(net, 0),
        "occlusion": lambda: E.occlusion(net, X, 0, 2),
        "resolve_targets": lambda: E.resolve_targets(net, X, None),
    }


@pytest.mark.parametrize("entry", list(net_calls(None, np.zeros((1, 4)), [0])))
@pytest.mark.parametrize("bad", [None, "net", np.zeros((5, 4))], ids=["None", "str", "ndarray"])
def test_every_entry_point_checks_net(entry, bad, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = np.random.default_rng(0).random((5, 4)), np.array([0, 1, 0, 1, 1])
    with pytest.raises(TypeError, match=rf"^net: expected a handnet MLP, got {type(bad).__name__} \("):
        net_calls(bad, X, y)[entry]()
    assert not list(tmp_path.iterdir())


def test_the_issues_net_examples_name_the_argument_order():
    net, X, y = hn.MLP([4, 3, 2]), np.zeros((5, 4)), np.array([0, 1, 0, 1, 1])
    cases = [(lambda: hn.cost(None, X, y), "NoneType (arguments in the order net, X, Y)"),
             (lambda: hn.train(X, net, y), "ndarray (arguments in the order net, X, Y)"),
             (lambda: hn.gradient("net", X, y), "str (arguments in the order net, X, Y)"),
             (lambda: hn.check_gradient(X, net, y), "ndarray (arguments in the order net, X, Y)"),
             (lambda: E.input_gradient(None, X), "NoneType (arguments in the order net, X, target)"),
             (lambda: E.region_maps("net"), "str (the one argument is net)")]
    for call, tail in cases:
        with pytest.raises(TypeError) as info:
            call()
        assert str(info.value) == f"net: expected a handnet MLP, got {tail}"


# ----------------------------------------------------------------------------
# Overflow: refused by name, never a warning or a silent inf
# ----------------------------------------------------------------------------

def overflow_calls(net, X, y):
    return {
        "predict": lambda: net.predict(X),
        "predict_proba": lambda: net.predict_proba(X),
        "forward": lambda: net.forward(X),
        "cost": lambda: hn.cost(net, X, y),
        "gradient": lambda: hn.gradient(net, X, y),
        "check_gradient": lambda: hn.check_gradient(net, X, y),
        "train": lambda: hn.train(net, X, y, epochs=1, progress=False),
        "input_gradient": lambda: E.input_gradient(net, X, 0),
        "sensitivity": lambda: E.sensitivity(net, X, 0),
        "gradient_x_input": lambda: E.gradient_x_input(net, X, 0),
        "jacobian": lambda: E.jacobian(net, X),
        "input_hessian_diag": lambda: E.input_hessian_diag(net, X, 0),
        "occlusion": lambda: E.occlusion(net, X, 0, 2),
    }


@pytest.mark.parametrize("entry", list(overflow_calls(None, None, None)))
def test_inputs_of_1e308_are_refused_by_name(entry):
    net = hn.MLP([4, 3, 2])
    X, y = np.full((2, 4), 1e308), np.array([0, 1])
    with pytest.raises(ValueError, match=r"^X: expected numbers of magnitude at most 1e\+100, got 1e\+308 "
                                         r"at index \(0, 0\); handnet computes in float64"):
        overflow_calls(net, X, y)[entry]()


@pytest.mark.parametrize("entry", list(overflow_calls(None, None, None)))
@pytest.mark.parametrize("hidden, output", [("sigmoid", "sigmoid"), ("relu", "identity"), ("tanh", "softmax")])
def test_inputs_at_the_limit_compute_without_overflow(entry, hidden, output):
    """At |x| = MAX_ABS everything is finite, with no warning (the suite turns warnings into errors)."""
    net = random_problem([4, 3, 2], hidden, output, "quadratic", 2, seed=1)[0]
    X = np.array([[V.MAX_ABS, -V.MAX_ABS, 1.0, 0.0], [0.5, V.MAX_ABS, -V.MAX_ABS, 2.0]])
    y = np.array([[0.2, 0.8], [1.0, 0.0]])
    if entry == "check_gradient":
        return                          # its steps h are lost next to 1e100 times a weight
    if entry == "train" and output == "identity":
        # lr 2 on inputs of 1e100 sends the weights to 1e100 and the cost to inf: a clear error
        with pytest.raises(hn.training.TrainingDiverged, match="training diverged: the cost became inf"):
            overflow_calls(net, X, y)[entry]()
        return
    out = overflow_calls(net, X, y)[entry]()
    values = out if not isinstance(out, (list, pd.DataFrame)) else None
    if values is not None:
        assert np.all(np.isfinite(values))


def test_other_arguments_of_1e308_are_refused_by_name():
    net = hn.MLP([4, 3, 1], output="identity")
    X = np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"^Y: expected numbers of magnitude at most"):
        hn.cost(net, X, [1e308, 0.0])
    with pytest.raises(ValueError, match=r"^baseline: expected numbers of magnitude at most"):
        E.occlusion(net, X, 0, 2, baseline=1e308)
    with pytest.raises(ValueError, match=r"^x: expected numbers of magnitude at most"):
        E.input_hessian(net, np.full(4, 1e308))
    with pytest.raises(ValueError, match=r"^params: expected numbers of magnitude at most"):
        net.params = np.full(net.n_params, 1e308)


def test_a_float128_input_is_refused_without_a_warning():
    net = hn.MLP([4, 3, 2])
    X = np.array(["1e400"] * 8, dtype=np.longdouble).reshape(2, 4)
    if not np.isfinite(X[0, 0]):
        pytest.skip("this platform's long double is float64")
    with pytest.raises(ValueError, match=r"^X: expected numbers of magnitude at most 1e\+100, got 1e\+400 "):
        net.predict(X)
    np.testing.assert_array_equal(net.predict(np.full((2, 4), 0.5, dtype=np.longdouble)),
                                  net.predict(np.full((2, 4), 0.5)))


# ----------------------------------------------------------------------------
# pandas nullable dtypes
# ----------------------------------------------------------------------------

def test_pandas_nullable_dtypes_holding_numbers_are_accepted():
    net = hn.MLP([3, 4, 2])
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((6, 3)), columns=list("abc"))
    y = pd.Series([0, 1, 1, 0, 1, 0])
    expected = hn.cost(net, frame.to_numpy(), y.to_numpy())
    converted = frame.convert_dtypes()
    assert all(isinstance(d, pd.Float64Dtype) for d in converted.dtypes)
    assert hn.cost(net, converted, y.astype("Int64")) == expected
    ints = pd.DataFrame({"a": [1, 0, 2], "b": [0, 1, 1], "c": [3, 1, 0]}, dtype="Int64")
    np.testing.assert_array_equal(net.predict(ints), net.predict(ints.to_numpy(dtype=float)))
    mixed = pd.DataFrame({"a": pd.array([1, 2], dtype="Int64"), "b": [0.5, 0.25],
                          "c": pd.array([0.1, 0.2], dtype="Float64")})
    np.testing.assert_array_equal(net.predict_proba(mixed), net.predict_proba(mixed.to_numpy(dtype=float)))
    assert hn.accuracy(pd.Series([0, 1], dtype="Int64"), pd.Series([0, 0], dtype="Int64")) == 0.5


def test_pandas_missing_values_are_refused_by_name():
    net = hn.MLP([3, 4, 2])
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4], "c": [5, 6]}, dtype="Int64")
    frame.iloc[1, 2] = pd.NA
    with pytest.raises(ValueError, match=r"^X: expected numbers, got a missing value \(pd\.NA\) at index "
                                         r"\(1, 2\); drop or fill"):
        net.predict(frame)
    with pytest.raises(ValueError, match=r"^Y: expected numbers, got a missing value \(pd\.NA\) at index 1"):
        hn.cost(net, np.zeros((2, 3)), pd.Series([0, None], dtype="Int64"))
    with pytest.raises(TypeError, match=r"^X: expected numbers, got a column of dtype string"):
        net.predict(pd.DataFrame({"a": ["x"], "b": [1], "c": [2]}).convert_dtypes())


# ----------------------------------------------------------------------------
# The rest of the issue's cases
# ----------------------------------------------------------------------------

def test_occlusion_normalize_array_is_a_clear_error():
    net = hn.MLP([4, 3, 2])
    with pytest.raises(ValueError, match=r"^normalize: expected one of \(None, 'max'\), got array of shape"):
        E.occlusion(net, np.ones((1, 4)), 0, 2, normalize=np.array([1, 2]))


def test_field_attributions_how_array_is_a_clear_error():
    with pytest.raises(ValueError, match=r"^how: expected one of \('sum', 'mean', 'max'\), got array"):
        E.field_attributions(np.ones((1, 4)), [("a", 4)], how=np.array(["sum"]))


def test_combine_of_two_rows_names_its_own_arguments():
    np.testing.assert_array_equal(E.combine(np.array([1.0, 2.0]), np.array([2.0, -1.0])), [0.75, 0.25])
    with pytest.raises(ValueError, match=r"^b: expected the shape of a, \(2,\), got \(3,\)$"):
        E.combine(np.array([1.0, 2.0]), np.array([2.0, -1.0, 3.0]))
    with pytest.raises(ValueError, match=r"^a: expected attributions of shape \(N, D\) or \(D,\)"):
        E.combine(np.ones((1, 1, 2)), np.ones((1, 1, 2)))


def test_confusion_matrix_of_a_huge_label_is_refused_before_allocating():
    with pytest.raises(ValueError, match=r"^y_pred: the largest label, 1000000000, asks for a 1000000001 x "
                                         r"1000000001 confusion matrix .* needs 6\.9 EiB, more than"):
        hn.confusion_matrix([0], [10**9])
    with pytest.raises(ValueError, match=r"^y_true: expected integer class labels >= 0 .* got 1e\+30"):
        hn.accuracy([1e30], [0])


def test_one_home_for_the_usable_cpu_count():
    assert _system.usable_cpus() >= 1
    from handnet.exercises.grading.runner import default_jobs
    assert default_jobs() == _system.usable_cpus()


# ----------------------------------------------------------------------------
# The command line and memory
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("argv, option", [
    (["train", "--layers", "64", "1000000000", "10"], "--layers"),
    (["gradcheck", "--samples", "1000000000000"], "--samples"),
    (["gradcheck", "--layers", "5", "4", "3", "--samples", "1000000000000"], "--samples"),
])
def test_the_cli_refuses_sizes_beyond_memory_before_allocating(argv, option, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"handnet: error: {option}: ") and "more than this machine lets" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_cli_turns_a_memory_error_into_one_line(capsys, monkeypatch):
    import handnet.cli.gradcheck as command

    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.28 TiB")

    monkeypatch.setattr(command, "gradcheck_data", no_memory)
    assert main(["gradcheck", "--layers", "5", "4", "3"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("handnet: error: out of memory: Unable to allocate 7.28 TiB; try smaller "
                           "--layers, --samples or --batch-size")


def test_memory_limit_is_the_smaller_of_ram_and_the_address_space_limit(monkeypatch):
    import resource

    ram = _system.memory_limit()
    assert ram is not None and ram > 0
    monkeypatch.setattr(resource, "getrlimit", lambda which: (1 << 20, resource.RLIM_INFINITY))
    assert _system.memory_limit() == 1 << 20
    with pytest.raises(ValueError, match=r"^--samples: 2 rows needs 2\.0 MiB, more than this machine lets "
                                         r"the process use \(1\.0 MiB\)$"):
        _system.check_allocation(2 << 20, "--samples", "2 rows")
