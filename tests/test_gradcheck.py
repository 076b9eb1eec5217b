"""The gradient checker itself: it must catch and name a single wrong entry."""

import numpy as np
import pytest

import handnet as hn
from handnet.gradcheck import check, numerical_gradient, relative_error, rounding_floor
from conftest import random_problem


@pytest.fixture
def problem():
    return random_problem([6, 5, 4], "sigmoid", "sigmoid", "cross_entropy", n_rows=8, seed=11)


def test_correct_backprop_passes(problem):
    net, X, Y = problem
    report = hn.check_gradient(net, X, Y, l2=1.0, directional=True)
    assert report.passed and bool(report)
    assert report.max_rel_error < 1e-7
    assert list(report.table["param"]) == ["W0", "b0", "W1", "b1"]
    assert report.table["checked"].sum() == net.n_params
    assert report.failures.empty
    text = str(report)
    assert "PASSED" in text and "W0" in text and "random direction" in text


@pytest.mark.parametrize("flat_index,name", [(0, "W0[0, 0]"), (13, "W0[2, 3]"), (31, "b0[1]"),
                                             (37, "W1[0, 2]"), (57, "b1[2]")])
def test_a_single_wrong_entry_is_caught_and_named(problem, flat_index, name):
    net, X, Y = problem
    g = hn.cost_and_gradient(net, X, Y, l2=0.5)[1]
    bad = g.copy()
    bad[flat_index] = 2 * g[flat_index] + 1e-3          # wrong by a clear margin
    report = hn.check_gradient(net, X, Y, l2=0.5, gradient=bad)
    assert not report.passed
    assert len(report.failures) == 1
    assert report.worst["entry"] == name
    assert report.failures.loc[0, "entry"] == name
    np.testing.assert_allclose(report.worst["analytic"], bad[flat_index])
    np.testing.assert_allclose(report.worst["numerical"], g[flat_index], rtol=1e-6, atol=1e-10)
    assert name in str(report) and "FAILED" in str(report)
    failing = report.table.set_index("param")["passed"]
    assert failing.sum() == len(failing) - 1


def test_a_gradient_given_as_layers_or_a_function(problem):
    net, X, Y = problem
    layers = hn.gradient(net, X, Y)
    layers[1] = (layers[1][0] * -1, layers[1][1])        # sign flip in the second layer's W
    report = hn.check_gradient(net, X, Y, gradient=layers)
    assert not report.passed
    assert set(report.failures["param"]) == {"W1"}
    report = hn.check_gradient(net, X, Y, gradient=lambda n, X_, Y_, l2: hn.gradient(n, X_, Y_, l2=l2))
    assert report.passed


def test_subset_checks_a_few_entries_of_every_array_and_directional_sees_the_rest(problem):
    net, X, Y = problem
    g = hn.cost_and_gradient(net, X, Y)[1]
    report = hn.check_gradient(net, X, Y, subset=3, seed=1)
    assert list(report.table["checked"]) == [3, 3, 3, 3]
    checked = set(report.entries["flat_index"])
    unchecked = next(i for i in range(30) if i not in checked)     # an entry of W0 the subset skipped
    bad = g.copy()
    bad[unchecked] += 0.05
    missed = hn.check_gradient(net, X, Y, subset=3, seed=1, gradient=bad)
    assert missed.max_rel_error < 1e-6                             # the subset did not look there...
    caught = hn.check_gradient(net, X, Y, subset=3, seed=1, gradient=bad, directional=True)
    assert not caught.passed                                       # ...but the random direction did
    assert caught.directional["rel_error"] > 1e-3


def test_checker_does_not_modify_the_network(problem):
    net, X, Y = problem
    before = net.params.copy()
    hn.check_gradient(net, X, Y, l2=1.0, directional=True)
    np.testing.assert_array_equal(net.params, before)


def test_numerical_gradient_of_any_function_and_theta_is_restored():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    theta = np.array([0.5, -1.5])
    f = lambda t: 0.5 * t @ A @ t + np.sin(t[0])        # a student's own cost
    g = numerical_gradient(f, theta)
    np.testing.assert_allclose(g, A @ theta + [np.cos(0.5), 0.0], rtol=1e-9)
    np.testing.assert_array_equal(theta, [0.5, -1.5])
    report = check(f, lambda t: A @ t + [np.cos(t[0]), 0.0], theta)
    assert report.passed and report.table.loc[0, "param"] == "theta"


def test_error_against_step_size_has_the_truncation_rounding_valley():
    f = lambda t: float(np.exp(t[0]))
    theta = np.array([1.0])
    errors = {h: abs(numerical_gradient(f, theta, h=h)[0] - np.e) / np.e for h in (1e-1, 1e-5, 1e-12)}
    assert errors[1e-5] < 1e-9                       # the documented sweet spot
    assert errors[1e-1] > 1e-4                       # truncation: ~h^2/6
    assert errors[1e-12] > 1e-6                      # rounding: ~eps/h


def test_relative_error_and_floor():
    np.testing.assert_allclose(relative_error([1.0, -1.0, 0.0], [1.0, 1.0, 0.0]), [0.0, 2.0, 0.0])
    floor = rounding_floor(2.0, 1e-5, 1e-6)
    assert floor == pytest.approx(8 * np.finfo(float).eps * 2 / 1e-5 / 1e-6)
    # an entry far below the rounding noise is compared on the absolute scale
    assert relative_error(1e-12, 2e-12, floor) < 1e-6


def test_relu_kinks_are_reported(problem):
    net = hn.MLP([3, 4, 2], hidden="relu", output="sigmoid")
    X = np.zeros((2, 3))                              # every hidden unit sits exactly on its kink
    report = hn.check_gradient(net, X, [0, 1])
    assert any("kink" in note for note in report.notes)
    assert "kink" in str(report)


def test_a_mixed_stack_passes_and_only_its_relu_layers_count_for_kinks():
    net, X, Y = random_problem([5, 4, 4, 3, 3], ["sigmoid", "relu", "tanh"], "softmax", "softmax_cross_entropy",
                               n_rows=6, seed=4)
    report = hn.check_gradient(net, X, Y, l2=0.5, directional=True)
    assert report.passed and report.max_rel_error < 1e-7 and report.notes == []
    # every unit of the sigmoid and tanh layers sits at z = 0; only the ReLU layer's 4 units can be kinks
    kinked = hn.MLP([3, 4, 4, 4, 2], hidden=["tanh", "relu", "sigmoid"])
    report = hn.check_gradient(kinked, np.zeros((2, 3)), [0, 1])
    assert len(report.notes) == 1 and report.notes[0].startswith("8 ReLU pre-activations")
