"""Backprop's gradients against central differences: every activation x cost x L2, random
architectures (hypothesis), the course's debug network, and the input gradient."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import handnet as hn
from handnet.backprop import backpropagate
from handnet.costs import output_delta
from conftest import (HIDDEN, OUTPUT_COSTS, assert_gradients_close, assert_within, away_from_kinks,
                      backward_bounds, central_difference, random_problem)


def numerical_parameter_gradient(net, X, Y, l2, h=1e-5):
    work = net.copy()

    def J(theta):
        work.params = theta
        return hn.cost(work, X, Y, l2=l2)

    return central_difference(J, net.params.copy(), h=h)


@pytest.mark.parametrize("l2", [0.0, 0.7])
@pytest.mark.parametrize("output,cost", OUTPUT_COSTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_activation_cost_and_l2_combination(hidden, output, cost, l2):
    net, X, Y = random_problem([4, 5, 3, 3], hidden, output, cost, n_rows=6, seed=3)
    assert away_from_kinks(net, X)
    analytic = hn.cost_and_gradient(net, X, Y, l2=l2)[1]
    assert_gradients_close(analytic, numerical_parameter_gradient(net, X, Y, l2))


@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
       hidden=st.sampled_from(HIDDEN),
       output_cost=st.sampled_from(OUTPUT_COSTS),
       l2=st.sampled_from([0.0, 0.3, 2.0]),
       n_rows=st.integers(1, 5),
       seed=st.integers(0, 2**16))
def test_random_architectures(sizes, hidden, output_cost, l2, n_rows, seed):
    output, cost = output_cost
    if output == "softmax":
        assume(sizes[-1] >= 2)
    net, X, Y = random_problem(sizes, hidden, output, cost, n_rows, seed)
    assume(away_from_kinks(net, X))
    analytic = hn.cost_and_gradient(net, X, Y, l2=l2)[1]
    assert_gradients_close(analytic, numerical_parameter_gradient(net, X, Y, l2))


def test_gradient_has_the_parameters_shapes():
    net = hn.MLP([7, 5, 4, 3])
    X = np.random.default_rng(0).normal(size=(4, 7))
    grads = hn.gradient(net, X, [0, 1, 2, 0], l2=1.0)
    assert [(dW.shape, db.shape) for dW, db in grads] == [((7, 5), (5,)), ((5, 4), (4,)), ((4, 3), (3,))]
    flat = np.concatenate([np.concatenate([dW.ravel(), db]) for dW, db in grads])
    np.testing.assert_array_equal(flat, hn.cost_and_gradient(net, X, [0, 1, 2, 0], l2=1.0)[1])


def test_labels_and_one_hot_targets_give_the_same_cost_and_gradient():
    net, X, _ = random_problem([3, 4, 4], "tanh", "sigmoid", "cross_entropy", 5, 0)
    y = np.array([0, 3, 1, 1, 2])
    J1, g1 = hn.cost_and_gradient(net, X, y, l2=0.5)
    J2, g2 = hn.cost_and_gradient(net, X, hn.one_hot(y, 4), l2=0.5)
    assert J1 == J2
    np.testing.assert_array_equal(g1, g2)


def _debug_weights(fan_out, fan_in):
    """The course's debugInitializeWeights: sin(1..n)/10 filled column-major into (fan_out, 1 + fan_in)."""
    n = fan_out * (1 + fan_in)
    return (np.sin(np.arange(1, n + 1)) / 10).reshape((fan_out, 1 + fan_in), order="F")


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_the_courses_debug_network_passes_its_1e9_check(lam):
    # checkNNGradients: a 3-5-3 network, m = 5, sin-based weights and inputs, y = 1 + mod(1:m, 3),
    # EPSILON = 1e-4, pass when norm(num - grad) / norm(num + grad) < 1e-9.
    Theta1, Theta2 = _debug_weights(5, 3), _debug_weights(3, 5)
    X = _debug_weights(5, 2)                        # m x input_layer_size, built the same way
    y = 1 + np.arange(1, 6) % 3                     # labels 1..3
    net = hn.MLP([3, 5, 3])
    net.weights[0], net.biases[0] = Theta1[:, 1:].T, Theta1[:, 0]
    net.weights[1], net.biases[1] = Theta2[:, 1:].T, Theta2[:, 0]
    Y = hn.one_hot(y, 3, base=1)
    grad = hn.cost_and_gradient(net, X, Y, l2=lam)[1]
    num = numerical_parameter_gradient(net, X, Y, lam, h=1e-4)
    diff = np.linalg.norm(num - grad) / np.linalg.norm(num + grad)
    assert diff < 1e-9
    report = hn.check_gradient(net, X, Y, l2=lam, h=1e-4)
    assert report.passed
    assert report.norm_rel_diff < 1e-9
    np.testing.assert_allclose(report.norm_rel_diff, diff, rtol=1e-6)


@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
       hidden=st.sampled_from(HIDDEN),
       output_cost=st.sampled_from(OUTPUT_COSTS),
       seed=st.integers(0, 2**16))
def test_input_gradient_of_the_cost_from_the_same_recursion(sizes, hidden, output_cost, seed):
    """Carried one step further, the recursion gives dJ/dX (the input is layer 0)."""
    output, cost = output_cost
    if output == "softmax":
        assume(sizes[-1] >= 2)
    net, X, Y = random_problem(sizes, hidden, output, cost, 3, seed)
    assume(away_from_kinks(net, X))
    Yt = hn.costs.prepare(net, X, Y, 0.0)[1]
    zs, acts = net.forward_pass(X)
    _, dX = backpropagate(net, zs, acts, output_delta(cost, net.output, zs[-1], acts[-1], Yt), to_input=True)
    numerical = central_difference(lambda Xp: hn.cost(net, Xp, Y), X)
    assert_gradients_close(dX, numerical)


def test_recursion_carries_a_leading_axis_of_many_starting_deltas():
    """Deltas stacked on a leading axis go back together, exactly as one at a time."""
    net, X, _ = random_problem([4, 6, 5, 3], "sigmoid", "softmax", "softmax_cross_entropy", 7, 1)
    zs, acts = net.forward_pass(X)
    starts = np.random.default_rng(2).normal(size=(3, 7, 3))
    batched_deltas, batched_dx = backpropagate(net, zs, acts, starts, to_input=True)
    # one product per layer for all three against one each: apart by rounding alone
    delta_bounds, dx_bound = backward_bounds(net, X, starts)
    for k in range(3):
        deltas, dx = backpropagate(net, zs, acts, starts[k], to_input=True)
        assert_within(batched_dx[k], dx, dx_bound[k])
        for a, b, bound in zip(batched_deltas, deltas, delta_bounds):
            assert_within(a[k], b, bound[k])


def test_output_delta_of_an_output_unit_gives_its_input_gradient():
    """Start the recursion at output unit k (delta_L = e_k * f'(z_L)) and get dy_k/dx."""
    net, X, _ = random_problem([5, 4, 3], "tanh", "sigmoid", "quadratic", 2, 7)
    zs, acts = net.forward_pass(X)
    for k in range(3):
        e = np.zeros_like(acts[-1])
        e[:, k] = 1.0
        _, dx = backpropagate(net, zs, acts, net.output.vjp(zs[-1], acts[-1], e), to_input=True)
        numerical = central_difference(lambda Xp: net.predict_proba(Xp)[:, k].sum(), X)
        assert_gradients_close(dx, numerical)
