"""Costs on tiny examples worked out by hand, and their conventions."""

import numpy as np
import pytest

import handnet as hn
from conftest import ops_rtol


def two_input_net(output="sigmoid", cost=None):
    net = hn.MLP([2, 1], output=output, cost=cost)
    net.weights[0] = [[0.5], [-0.25]]
    net.biases[0] = [0.0]
    return net


def test_cross_entropy_by_hand():
    # z = 1*0.5 + 2*(-0.25) + 0 = 0, h = 0.5, y = 1: J = -log(0.5) = ln 2
    # z is exactly 0 (the weights are powers of 2), so both sides are log(2) after a few roundings
    net = two_input_net()
    assert hn.cost(net, [[1.0, 2.0]], [1]) == pytest.approx(np.log(2), rel=ops_rtol(4))
    # and y = 0 gives -log(1 - 0.5), the same
    assert hn.cost(net, [[1.0, 2.0]], [0]) == pytest.approx(np.log(2), rel=ops_rtol(4))


def test_l2_penalty_by_hand_excludes_biases():
    # lambda/(2m) * sum W^2 = 2/(2*1) * (0.25 + 0.0625) = 0.3125, whatever the bias
    net = two_input_net()
    net.biases[0] = [7.0]
    X = [[1.0, 2.0]]
    # Each cost is softplus(z) - y z with z = 7: a difference of terms of size 7 + 7 = 14, off by
    # a few u of 14; the difference of the two costs carries that into the penalty's digits.
    terms = 14.0
    assert hn.cost(net, X, [1], l2=2.0) - hn.cost(net, X, [1]) == pytest.approx(
        0.3125, rel=ops_rtol(8) * terms / 0.3125)
    # with m = 2 rows the penalty halves
    X2 = [[1.0, 2.0], [0.0, 0.0]]
    assert hn.cost(net, X2, [1, 0], l2=2.0) - hn.cost(net, X2, [1, 0]) == pytest.approx(
        0.15625, rel=ops_rtol(8) * terms / 0.15625)


def test_quadratic_by_hand():
    # (1/(2m)) (h - y)^2 = 0.5 * (0.5 - 1)^2 = 0.125
    net = two_input_net(cost="quadratic")
    assert hn.cost(net, [[1.0, 2.0]], [1]) == pytest.approx(0.125, rel=ops_rtol(6))    # sigmoid, square
    reg = hn.MLP([1, 1], output="identity")
    reg.weights[0], reg.biases[0] = [[2.0]], [1.0]
    # predictions 3 and 5 for x = 1, 2; targets 2 and 7: (1/4)(1 + 4) = 1.25
    assert hn.cost(reg, [[1.0], [2.0]], [2.0, 7.0]) == pytest.approx(1.25, rel=ops_rtol(6))  # small ints: exact


def test_softmax_cross_entropy_by_hand():
    net = hn.MLP([1, 2], output="softmax")
    net.weights[0] = [[0.0, 0.0]]
    net.biases[0] = [0.0, np.log(3.0)]                # softmax = [1/4, 3/4]
    # logsumexp of (0, log 3) and a subtraction: a few roundings of numbers near log 4 = 1.39,
    # relative to log(4/3) = 0.29 for the second
    assert hn.cost(net, [[5.0]], [0]) == pytest.approx(np.log(4), rel=ops_rtol(6))
    assert hn.cost(net, [[5.0]], [1]) == pytest.approx(np.log(4 / 3), rel=ops_rtol(6) * np.log(4) / np.log(4 / 3))


def test_course_cost_formula_sums_over_every_output_unit():
    # Two sigmoid outputs, both at h = 0.5: J = 2 ln 2 per example (the sum over k)
    net = hn.MLP([1, 2])
    net.weights[0], net.biases[0] = [[0.0, 0.0]], [0.0, 0.0]
    assert hn.cost(net, [[1.0], [2.0]], [0, 1]) == pytest.approx(2 * np.log(2), rel=ops_rtol(6))


def test_saturated_units_give_finite_costs():
    net = two_input_net()
    # z = 1e4 * 0.5 = 5000, h rounds to exactly 1.0; a naive log(1 - h) would be -inf
    J = hn.cost(net, [[1e4, 0.0]], [0])
    assert np.isfinite(J) and J == pytest.approx(5000.0, rel=1e-12)
    net_sm = hn.MLP([1, 3], output="softmax")
    net_sm.weights[0] = [[1e4, 0.0, -1e4]]
    assert hn.cost(net_sm, [[1.0]], [2]) == pytest.approx(2e4, rel=1e-12)


def test_default_cost_follows_the_output_and_can_be_overridden():
    assert hn.MLP([2, 3]).cost == "cross_entropy"
    assert hn.MLP([2, 3], output="softmax").cost == "softmax_cross_entropy"
    assert hn.MLP([2, 3], output="identity").cost == "quadratic"
    net = hn.MLP([2, 1], cost="quadratic")
    X, y = [[1.0, 2.0]], [1]
    assert hn.cost(net, X, y) == hn.cost(net, X, y, cost="quadratic")
    assert hn.cost(net, X, y, cost="cross_entropy") != hn.cost(net, X, y)


def test_one_based_course_labels():
    # Labels 1..10 with 10 meaning the digit 0: column k stands for label k + 1.
    Y = hn.one_hot(np.array([10, 1, 5]), 10, base=1)
    assert Y[0, 9] == 1 and Y[1, 0] == 1 and Y[2, 4] == 1 and Y.sum() == 3
    net = hn.MLP([3, 10])
    X = np.ones((3, 3))
    assert hn.cost(net, X, Y) == hn.cost(net, X, np.array([10, 1, 5]) - 1)
