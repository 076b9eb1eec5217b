"""Numerical stability: saturated units give exact activations, finite costs, finite gradients
and no numpy warnings (pytest runs with filterwarnings = error, so any RuntimeWarning fails).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import handnet as hn
from conftest import ops_rtol
from handnet.activations import log_sigmoid, logsumexp, sigmoid, softmax, softplus

HIDDEN = ("sigmoid", "tanh", "relu", "identity")
OUTPUT_COSTS = (("sigmoid", "cross_entropy"), ("sigmoid", "quadratic"),
                ("softmax", "softmax_cross_entropy"), ("softmax", "quadratic"),
                ("identity", "quadratic"))
COMBOS = [(h, o, c) for h in HIDDEN for o, c in OUTPUT_COSTS]


@pytest.fixture(autouse=True)
def strict_numpy():
    """numpy's default error state (warn on overflow/invalid/divide), every warning an error.

    Underflow stays ignored: exp(-1e4) = 0 is the right answer, not a problem.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
            yield


def saturated_problem(hidden, output, cost, weight=1e3, x=1e4, rows=6, seed=0):
    """A [3, 5, 4, K] network with weights and biases of magnitude ``weight`` (random signs)
    and inputs of magnitude ``x``: every unit sits far out on its tails."""
    rng = np.random.default_rng(seed)
    K = 3 if output == "softmax" else 2
    net = hn.MLP([3, 5, 4, K], hidden=hidden, output=output, cost=cost)
    net.params = weight * rng.choice([-1.0, 1.0], size=net.n_params)
    X = x * rng.choice([-1.0, 1.0], size=(rows, 3))
    if output == "identity":
        Y = rng.normal(size=(rows, K))
    else:
        Y = rng.integers(0, K, size=rows)
    return net, X, Y


@pytest.mark.parametrize("hidden, output, cost", COMBOS)
@pytest.mark.parametrize("weight, x", [(1e3, 1e4), (1.0, 1e4), (1e4, 1.0), (1e4, 1e4)],
                         ids=["W1e3-x1e4", "W1-x1e4", "W1e4-x1", "W1e4-x1e4"])
def test_saturated_network_gives_finite_cost_and_gradient(hidden, output, cost, weight, x):
    net, X, Y = saturated_problem(hidden, output, cost, weight, x)
    for l2 in (0.0, 1.0):
        J = hn.cost(net, X, Y, l2=l2)
        assert np.isfinite(J) and J >= 0
        J2, g = hn.cost_and_gradient(net, X, Y, l2=l2)
        assert J2 == J
        assert g.shape == (net.n_params,) and np.all(np.isfinite(g))
        for dW, db in hn.gradient(net, X, Y, l2=l2):
            assert np.all(np.isfinite(dW)) and np.all(np.isfinite(db))
    out = net.predict_proba(X)
    assert np.all(np.isfinite(out))
    if output == "sigmoid":
        assert np.all((out >= 0) & (out <= 1))
    if output == "softmax":
        # K divisions and a sum of K numbers in [0, 1], each rounding at most u
        K = out.shape[1]
        assert np.all((out >= 0) & (out <= 1)) and np.allclose(out.sum(axis=1), 1.0, rtol=0, atol=ops_rtol(2 * K))
    assert np.all(np.isfinite(net.predict(X)))


@pytest.mark.parametrize("hidden, output, cost", COMBOS)
def test_saturated_soft_targets(hidden, output, cost):
    """Soft targets (probabilities, not one-hot) exercise the general cross-entropy formulas."""
    net, X, _ = saturated_problem(hidden, output, cost)
    rng = np.random.default_rng(3)
    Y = rng.dirichlet(np.ones(net.layer_sizes[-1]), size=X.shape[0])
    J, g = hn.cost_and_gradient(net, X, Y)
    assert np.isfinite(J) and np.all(np.isfinite(g))


@pytest.mark.parametrize("hidden, output, cost", COMBOS)
def test_one_training_step_on_a_saturated_network_is_finite(hidden, output, cost):
    """A tiny learning rate keeps the step finite; no warning from the training loop either."""
    net, X, Y = saturated_problem(hidden, output, cost, weight=10.0, x=1e4)
    history = hn.train(net, X, Y, epochs=1, lr=1e-12, progress=False)
    assert np.all(np.isfinite(history["cost"]))
    assert np.all(np.isfinite(net.params))


@settings(max_examples=60, deadline=None)
@given(combo=st.sampled_from(COMBOS),
       seed=st.integers(0, 2 ** 32 - 1),
       weight=st.sampled_from([1e-3, 1.0, 50.0, 1e3, 1e4]),
       x=st.sampled_from([0.0, 1.0, 710.0, 745.0, 1e4]))
def test_extreme_values_property(combo, seed, weight, x):
    hidden, output, cost = combo
    rng = np.random.default_rng(seed)
    K = 3 if output == "softmax" else 2
    net = hn.MLP([3, 4, K], hidden=hidden, output=output, cost=cost)
    net.params = weight * rng.uniform(-1, 1, size=net.n_params)
    X = x * rng.uniform(-1, 1, size=(5, 3))
    Y = rng.normal(size=(5, K)) if output == "identity" else rng.integers(0, K, size=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J, g = hn.cost_and_gradient(net, X, Y, l2=0.5)
    assert np.isfinite(J) and np.all(np.isfinite(g))


# ----------------------------------------------------------------------------
# The sigmoid and its relatives at the extremes
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("z", [1e4, 745.0, 746.0, 710.0, 709.0, 100.0, 37.0])
def test_sigmoid_is_exactly_one_far_right(z):
    assert sigmoid.f(np.array([z]))[0] == 1.0
    assert sigmoid(np.float64(z)) == 1.0


@pytest.mark.parametrize("z", [-1e4, -746.0, -1e300, -np.finfo(float).max])
def test_sigmoid_is_exactly_zero_far_left(z):
    assert sigmoid.f(np.array([z]))[0] == 0.0


@pytest.mark.parametrize("z", [-745.0, -710.0, -709.0, -100.0, -37.0])
def test_sigmoid_far_left_is_the_correctly_rounded_tiny_value(z):
    """sigma(z) = e^z / (1 + e^z) rounds to e^z here: for -745 that is the smallest subnormal
    5e-324, for -710 the subnormal 4.47e-309. Exactly what float64 can say, and no warning."""
    s = sigmoid.f(np.array([z]))[0]
    assert s == math.exp(z)
    assert 0.0 <= s < 1e-15


def test_sigmoid_far_out_vectorised_and_derivatives():
    z = np.array([[-1e4, -745.0, -710.0, 0.0, 710.0, 745.0, 1e4]])
    a = sigmoid.f(z)
    assert a[0, 0] == 0.0 and a[0, 3] == 0.5 and np.all(a[0, 4:] == 1.0)
    assert np.all(np.isfinite(sigmoid.df(z))) and np.all(np.isfinite(sigmoid.d2f(z)))
    assert sigmoid.df(z)[0, 0] == 0.0 and sigmoid.df(z)[0, -1] == 0.0
    assert sigmoid.df(z)[0, 3] == 0.25


def test_softplus_and_log_sigmoid_at_the_extremes():
    z = np.array([-1e4, -745.0, 0.0, 745.0, 1e4])
    sp = softplus(z)
    assert np.all(np.isfinite(sp))
    assert sp[0] == 0.0 and sp[-1] == 1e4 and sp[3] == 745.0
    assert sp[2] == math.log(2)
    ls = log_sigmoid(z)
    assert ls[0] == -1e4 and ls[-1] == 0.0 and np.all(np.isfinite(ls))


# ----------------------------------------------------------------------------
# Costs of saturated, confidently wrong units
# ----------------------------------------------------------------------------

def one_unit_net(w, b=0.0, output="sigmoid", n_out=1):
    net = hn.MLP([1, n_out], output=output)
    net.weights[0] = np.full((1, n_out), w)
    net.biases[0] = np.full(n_out, b)
    return net


@pytest.mark.parametrize("z", [1e4, 745.0, 710.0, 40.0])
def test_cross_entropy_of_a_confidently_wrong_unit(z):
    """z = +-|z| with the opposite target costs softplus(|z|) = |z| (+ e^-|z|): large, finite, exact."""
    net = one_unit_net(z)
    X = np.array([[1.0], [1.0], [-1.0], [-1.0]])        # z = +|z|, +|z|, -|z|, -|z|
    Y = np.array([0.0, 1.0, 0.0, 0.0])                  # only row 0 is wrong (confidently)
    m = 4
    J = hn.cost(net, X, Y)
    expected = (z + math.log1p(math.exp(-z))) / m + 3 * math.log1p(math.exp(-z)) / m
    assert np.isfinite(J)
    assert J == pytest.approx(expected, rel=ops_rtol(8))         # a handful of roundings, no cancellation
    assert J == pytest.approx(z / m, rel=1e-12 if z > 100 else 1e-6)
    # all wrong: |z| per row
    J_all = hn.cost(net, X, 1 - np.array([1.0, 1.0, 0.0, 0.0]))
    assert J_all == pytest.approx(z, rel=1e-12 if z > 100 else 1e-6)
    # the gradient is bounded: dJ/dz = (h - y)/m, each |h - y| <= 1
    (dW, db), = hn.gradient(net, X, Y)
    assert np.all(np.isfinite(dW)) and np.all(np.isfinite(db))
    if z >= 710:
        assert dW[0, 0] == 0.25 and db[0] == 0.25      # (1 - 0) * 1 / 4 from row 0 only


def test_cross_entropy_several_wrong_units_add_up():
    """Two confidently wrong sigmoid units out of three, m = 2 rows: 2 * |z| / m per row that has them."""
    net = one_unit_net(1e4, n_out=3)
    X = np.array([[1.0], [1.0]])                        # every z = 1e4, so h = 1
    Y = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])    # row 0: two wrong units; row 1: none
    assert hn.cost(net, X, Y) == pytest.approx(2 * 1e4 / 2, rel=ops_rtol(4))   # exact numbers, few ops


def test_softmax_cross_entropy_of_a_confidently_wrong_row():
    net = hn.MLP([1, 2], output="softmax")
    net.weights[0] = np.array([[1e4, 0.0]])
    net.biases[0] = np.zeros(2)
    X = np.array([[1.0], [1.0]])                        # z = [1e4, 0] in both rows
    J = hn.cost(net, X, [1, 0])                         # row 0 wrong by 1e4, row 1 right
    assert np.isfinite(J) and J == pytest.approx(1e4 / 2, rel=ops_rtol(4))
    g = hn.cost_and_gradient(net, X, [1, 0])[1]
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("output, n_out", [("sigmoid", 1), ("softmax", 2)])
def test_quadratic_of_a_confidently_wrong_unit(output, n_out):
    net = hn.MLP([1, n_out], output=output, cost="quadratic")
    net.weights[0] = np.array([[1e4] + [0.0] * (n_out - 1)])
    X = np.array([[1.0]])
    Y = np.zeros((1, n_out)) if output == "sigmoid" else np.array([[0.0, 1.0]])
    J, g = hn.cost_and_gradient(net, X, Y)
    assert J == pytest.approx(0.5 * n_out, rel=ops_rtol(4))   # each wrong unit costs (1 - 0)^2 / 2
    assert np.all(np.isfinite(g))
    assert np.all(g == 0.0)                             # saturated: f'(z) = 0 exactly


# ----------------------------------------------------------------------------
# Softmax
# ----------------------------------------------------------------------------

def test_softmax_of_large_logits_is_finite():
    assert np.array_equal(softmax.f(np.array([[1000.0, 0.0]])), [[1.0, 0.0]])
    assert np.array_equal(softmax.f(np.array([[-1000.0, 0.0]])), [[0.0, 1.0]])
    assert np.array_equal(softmax.f(np.array([[1e4, 1e4]])), [[0.5, 0.5]])
    assert np.array_equal(softmax.f(np.array([[-1e4, -1e4, -1e4, -1e4]])), [[0.25] * 4])
    assert np.array_equal(softmax.f(np.array([[1e300, 0.0, -1e300]])), [[1.0, 0.0, 0.0]])
    assert logsumexp(np.array([[1000.0, 0.0]]), axis=1)[0] == 1000.0
    assert logsumexp(np.array([[-1000.0, -1000.0]]), axis=1)[0] == pytest.approx(-1000 + math.log(2), rel=ops_rtol(3))


def test_softmax_derivatives_of_large_logits_are_finite():
    z = np.array([[1000.0, 0.0, -1000.0]])
    a = softmax.f(z)
    assert np.all(np.isfinite(softmax.df(z, a))) and np.all(np.isfinite(softmax.d2f(z, a)))
    assert np.all(np.isfinite(softmax.vjp(z, a, np.ones_like(z))))


def test_softmax_network_with_huge_logits():
    net = hn.MLP([2, 3], output="softmax")
    net.weights[0] = np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 1e4]])
    X = np.array([[1e4, 0.0], [0.0, 1e4], [-1e4, -1e4]])
    out = net.predict_proba(X)
    assert np.all(np.isfinite(out)) and np.all(out.sum(axis=1) == 1.0)
    assert net.predict(X).tolist() == [0, 2, 1]
    J, g = hn.cost_and_gradient(net, X, [1, 0, 2])
    assert np.isfinite(J) and np.all(np.isfinite(g))
