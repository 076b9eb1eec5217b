"""The training workspace computes the plain equations' numbers.

A step through a Workspace (reused arrays, either memory layout, either form of the weight
gradient) against hn.cost_and_gradient on fresh arrays, on random architectures and every
activation; and hn.train (full batch and minibatch, l2, momentum, chunked history) against a
plain loop written from hn.cost / hn.cost_and_gradient. The two differ only in the order of the
matrix products' sums (and of the history's chunk sums), so they agree within rounding: the
tolerance is a few u times the number of operations along a path (N rows plus the layer
sizes, twice, per step), times the magnitude the quantity is built from (computed on absolute
values), never a typed-in number.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import handnet as hn
from conftest import HIDDEN_STACKS, OUTPUT_COSTS, assert_within, gamma, random_problem
from handnet import _epochs, _workspace
from handnet._workspace import Workspace
from handnet.backprop import _cost_terms_and_gradient
from handnet.costs import prepare

LAYOUTS = [("C", False), ("C", True), ("F", False), ("F", True)]


def magnitudes(net, X, Y, l2):
    """|dJ/dtheta| computed on absolute values, flat (P,): each z_l, a_l, delta_l replaced by a
    bound of its size (|a| |W| + |b| forward; (|h| + |y|) / m times |f'| + |f''| |z| backward,
    so that a rounding difference in z, carried into f', is covered too)."""
    zs, acts = net.forward_pass(X)
    m = X.shape[0]
    Z = [np.abs(a) @ np.abs(W) + np.abs(b) for a, W, b in zip(acts, net.weights, net.biases)]

    def slope(l):
        f = net.activation(l)
        if not f.elementwise:                  # softmax: rows of da/dz sum to at most 1/2 in absolute value
            return np.ones_like(Z[l])
        return np.abs(f.df(zs[l])) + np.abs(f.d2f(zs[l])) * Z[l]

    D = [None] * net.n_layers
    D[-1] = (np.abs(acts[-1]) + np.abs(Y)) / m
    if net.cost == "quadratic":
        D[-1] = D[-1] * slope(net.n_layers - 1)
    for l in range(net.n_layers - 2, -1, -1):
        D[l] = (D[l + 1] @ np.abs(net.weights[l + 1]).T) * slope(l)
    parts = []
    for l in range(net.n_layers):
        A = np.abs(acts[l]) + (Z[l - 1] if l else 0)
        parts += [(A.T @ D[l] + l2 / m * np.abs(net.weights[l])).ravel(), D[l].sum(axis=0)]
    return np.concatenate(parts)


def path_length(net, rows):
    """Roundings along one path through a step: the rows summed in a gradient, the layer sizes
    summed forward and back, a few element-wise operations per layer."""
    return rows + 2 * sum(net.layer_sizes) + 8 * net.n_layers


@given(sizes=st.lists(st.integers(1, 7), min_size=2, max_size=5), hidden=HIDDEN_STACKS,
       output_cost=st.sampled_from(OUTPUT_COSTS), rows=st.integers(1, 40), l2=st.sampled_from([0.0, 0.7]),
       layout=st.sampled_from(LAYOUTS), seed=st.integers(0, 2 ** 31 - 1))
def test_a_workspace_step_computes_the_plain_cost_and_gradient(sizes, hidden, output_cost, rows, l2, layout,
                                                               seed):
    output, cost = output_cost
    if output == "softmax" and sizes[-1] < 2:
        sizes = sizes[:-1] + [2]
    net, X, Y = random_problem(sizes, hidden, output, cost, rows, seed)
    X, Y, _ = prepare(net, X, Y, l2)
    order, transposed = layout
    ws = Workspace(net, rows, order=order, transposed=transposed)
    grad = np.full(net.n_params, np.nan)
    for _ in range(2):                 # the second step reuses every array: nothing stale may leak in
        (data, penalty), g, out = _cost_terms_and_gradient(net, X, Y, l2, net.cost, out=grad, ws=ws)
        J_ref, g_ref = hn.cost_and_gradient(net, X, Y, l2=l2)
        c = 4 * gamma(path_length(net, rows))
        assert g is grad
        assert_within(g, g_ref, c * magnitudes(net, X, Y, l2), "gradient entry")
        assert data + penalty == pytest.approx(J_ref, rel=c, abs=c * np.abs(Y).sum())
        np.testing.assert_allclose(out, net.predict_proba(X), rtol=c, atol=c)
        X = X[::-1].copy()             # new rows in the same workspace
        Y = Y[::-1].copy()


def plain_train(net, X, Y, epochs, lr, l2, batch_size, mu, seed):
    """hn.train written plainly: hn.cost and hn.accuracy for every row of the history, hn.cost_and_gradient
    on X[batch] for every step, v <- mu v - lr g, theta <- theta + v. Returns (rows, params)."""
    rng = np.random.default_rng(seed)
    labels = hn.metrics.labels_from_targets(Y)
    m = X.shape[0]
    theta, v = net.params, np.zeros(net.n_params)
    rows = []
    for epoch in range(epochs + 1):
        loss = hn.cost(net, X, Y)
        penalty = hn.cost(net, X, Y, l2=l2) - loss if l2 else 0.0
        rows.append([loss, hn.accuracy(labels, net.predict(X)), penalty])
        if epoch == epochs:
            break
        batches = [np.arange(m)] if batch_size is None else np.array_split(
            rng.permutation(m), range(batch_size, m, batch_size))
        for batch in batches:
            _, g = hn.cost_and_gradient(net, X[batch], Y[batch], l2=l2 * len(batch) / m)
            v = mu * v - lr * g
            theta += v
    return np.array(rows), theta.copy()


@pytest.mark.parametrize("batch_size", [None, 7, 40, 64])
@pytest.mark.parametrize("l2, mu", [(0.0, 0.0), (0.5, 0.0), (0.5, 0.8)])
@pytest.mark.parametrize("force_layout", [False, True])
def test_train_gives_the_plain_loop_s_history_and_parameters(batch_size, l2, mu, force_layout, monkeypatch):
    """Full batch and minibatches (the last one short), l2 and momentum, through workspaces in
    the layout the row count picks and, forced, in Fortran order with the transposed gradient and
    a history in chunks of 16 rows."""
    if force_layout:
        monkeypatch.setattr(_workspace, "F_ORDER_FROM", 1)
        monkeypatch.setattr(_workspace, "TRANSPOSED_GRADIENT_FROM", 1)
        monkeypatch.setattr(_epochs, "HISTORY_CHUNK", 16)
    net, X, y = random_problem([5, 6, 4, 3], ["tanh", "sigmoid"], "softmax", "softmax_cross_entropy", 90, 3)
    X, Y, _ = prepare(net, X, y, l2)
    ref = net.copy()
    epochs, lr = 3, 0.3
    history = hn.train(net, X, Y, epochs=epochs, lr=lr, l2=l2, batch_size=batch_size, momentum=mu,
                       progress=False)
    rows, theta = plain_train(ref, X, Y, epochs, lr, l2, batch_size, mu, seed=0)
    steps = epochs * (1 if batch_size is None else -(-90 // batch_size))
    c = 4 * gamma(steps * path_length(net, 90))
    scale = np.abs(theta).max()
    assert_within(net.params, theta, c * scale, "parameter")
    np.testing.assert_allclose(history[["loss", "accuracy", "penalty"]].to_numpy(), rows, rtol=c, atol=c * scale)


def test_running_history_is_the_mean_of_the_minibatches():
    """history="running": each row after the first is the mean over the epoch's batches of the
    batch loss and accuracy at the parameters the batch's step started from."""
    net, X, y = random_problem([4, 5, 3], "sigmoid", "softmax", "softmax_cross_entropy", 50, 1)
    X, Y, _ = prepare(net, X, y, 0.0)
    ref = net.copy()
    history = hn.train(net, X, Y, epochs=2, lr=0.5, batch_size=16, history="running", progress=False)
    rng, m, labels = np.random.default_rng(0), 50, hn.metrics.labels_from_targets(Y)
    expected = [[hn.cost(ref, X, Y), hn.accuracy(labels, ref.predict(X))]]
    for _ in range(2):
        loss = correct = 0.0
        for batch in np.array_split(rng.permutation(m), range(16, m, 16)):
            J, g = hn.cost_and_gradient(ref, X[batch], Y[batch])
            loss += J * len(batch) / m
            correct += np.sum(ref.predict(X[batch]) == labels[batch])
            ref.params -= 0.5 * g
        expected.append([loss, correct / m])
    c = 4 * gamma(6 * path_length(net, m))
    np.testing.assert_allclose(history[["loss", "accuracy"]].to_numpy(), expected, rtol=c)
    np.testing.assert_allclose(net.params, ref.params, rtol=0, atol=c * np.abs(ref.params).max())
    assert history.attrs["history"] == "running"


@pytest.mark.parametrize("bad", ["Exact", "mean", None, 1])
def test_history_mode_is_checked(bad):
    net, X, y = random_problem([4, 3, 2], "sigmoid", "sigmoid", "cross_entropy", 10, 0)
    with pytest.raises(ValueError, match="history: expected one of"):
        hn.train(net, X, y, epochs=1, history=bad, progress=False)
