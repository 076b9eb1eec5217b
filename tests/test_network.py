"""The MLP: parameter views, initialisations, forward propagation, predictions."""

import numpy as np
import pytest

import handnet as hn
from conftest import assert_within, forward_bound, ops_rtol, product_bound


def test_weights_and_biases_are_views_of_one_flat_vector():
    net = hn.MLP([4, 3, 2])
    assert net.n_params == 4 * 3 + 3 + 3 * 2 + 2 == net.params.size
    assert [W.shape for W in net.weights] == [(4, 3), (3, 2)]
    assert [b.shape for b in net.biases] == [(3,), (2,)]
    assert all(np.shares_memory(W, net.params) for W in net.weights)
    net.params[0] = 42.0
    assert net.weights[0][0, 0] == 42.0
    net.weights[1] = np.full((3, 2), 7.0)          # assignment copies into the view
    assert np.all(net.params[15:21] == 7.0)
    net.biases[0][...] = 1.5
    assert np.all(net.params[12:15] == 1.5)


def test_layout_names_every_array_in_flat_order():
    net = hn.MLP([4, 3, 2])
    assert net.layout() == [("W0", 0, (4, 3)), ("b0", 12, (3,)), ("W1", 15, (3, 2)), ("b1", 21, (2,))]
    mask = net.weight_mask()
    assert mask.sum() == 18 and np.all(mask[12:15] == 0) and np.all(mask[21:] == 0)


@pytest.mark.parametrize("init,check", [
    ("glorot", lambda W, n_in, n_out: np.abs(W).max() <= np.sqrt(6 / (n_in + n_out))),
    ("uniform", lambda W, n_in, n_out: np.abs(W).max() <= 0.12 and np.abs(W).max() > 0.1),
    ("normal", lambda W, n_in, n_out: 0.9 < W.std() < 1.1),
])
def test_initialisations(init, check):
    net = hn.MLP([300, 200, 10], init=init, seed=4)
    for W, b in zip(net.weights, net.biases):
        assert check(W, *W.shape)
        assert np.all(b == 0)


def test_seed_makes_initialisation_reproducible():
    a, b, c = hn.MLP([5, 4, 3], seed=1), hn.MLP([5, 4, 3], seed=1), hn.MLP([5, 4, 3], seed=2)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)


def test_forward_propagation_layer_by_layer():
    rng = np.random.default_rng(0)
    net = hn.MLP([3, 4, 2], hidden="tanh", output="softmax", seed=0)
    X = rng.normal(size=(5, 3))
    acts = net.forward(X)
    assert len(acts) == 3 and acts[0] is not None
    np.testing.assert_array_equal(acts[0], X)
    a1 = np.tanh(X @ net.weights[0] + net.biases[0])
    z2 = a1 @ net.weights[1] + net.biases[1]
    a2 = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    # the same products and functions written with plain numpy: apart by rounding alone
    # (tanh' <= 1 carries z's rounding over to a_1; a_1's own rounding is a few u more)
    z1_bound = product_bound(np.hstack([X, np.ones((5, 1))]), np.vstack([net.weights[0], net.biases[0]]))
    assert_within(acts[1], a1, z1_bound + ops_rtol(2) * np.abs(a1))
    assert_within(acts[2], a2, forward_bound(net, X)[:, None])
    np.testing.assert_array_equal(net.predict_proba(X), acts[2])
    np.testing.assert_array_equal(net.predict(X), np.argmax(a2, axis=1))


def test_predict_for_one_sigmoid_output_and_for_regression():
    net = hn.MLP([1, 1])
    net.weights[0], net.biases[0] = [[1.0]], [0.0]
    np.testing.assert_array_equal(net.predict([[-2.0], [0.0], [3.0]]), [0, 1, 1])
    reg = hn.MLP([1, 1], output="identity")
    reg.weights[0], reg.biases[0] = [[2.0]], [1.0]
    np.testing.assert_array_equal(reg.predict([[1.0], [2.0]]), [[3.0], [5.0]])


def test_copy_is_independent():
    net = hn.MLP([3, 2])
    other = net.copy()
    other.params[...] = 0
    assert not np.all(net.params == 0)
    assert repr(other) == repr(net)


def test_repr_and_summary_show_the_architecture():
    net = hn.MLP([64, 25, 10])
    assert repr(net) == ("MLP([64, 25, 10], hidden='sigmoid', output='sigmoid', cost='cross_entropy')"
                         "  # 1885 parameters")
    text = net.summary()
    assert "(64, 25)" in text and "(25, 10)" in text and "1625" in text and "260" in text
