"""Training that tells the truth: the plain equations, a warning when it is stuck, clear refusals.

- a few epochs of hn.train equal the update equations written out here, on random architectures,
  full batch and minibatch, with and without momentum and L2;
- a run that is not learning says so once (TrainingWarning), with the likely cause;
- arguments that can only fail later (a callback that is not callable, an L2 weight that makes
  the weights blow up) are refused up front, naming the argument.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import HIDDEN, OUTPUT_COSTS, random_problem
from hypothesis import assume, given, reject
from hypothesis import strategies as st

import handnet as hn
from handnet.training import STALL_EPOCHS, TrainingDiverged, TrainingWarning


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return hn.datasets.train_test_split(X, y, test_size=0.2, seed=0)


# ----------------------------------------------------------------------------
# hn.train is the equations
# ----------------------------------------------------------------------------


def plain_training(net, X, Y, epochs, lr, l2, mu, batch_size, seed):
    """The history columns and final parameters, from the equations and the public API only:
        v <- mu v - lr dJ_B/dtheta,  theta <- theta + v,  J_B with lambda * |B| / m on a batch B
    (full batch: B = all rows); row e: loss = J_data, penalty = lambda/(2m) sum W^2, J = loss + penalty."""
    m = X.shape[0]
    rng = np.random.default_rng(seed)
    v = np.zeros(net.n_params)
    rows = []
    for epoch in range(epochs + 1):
        loss = hn.cost(net, X, Y)
        penalty = l2 / (2 * m) * sum(float(np.sum(W * W)) for W in net.weights)
        rows.append((epoch, loss, penalty, hn.cost(net, X, Y, l2=l2)))
        if epoch == epochs:
            break
        batches = [np.arange(m)] if batch_size is None else np.array_split(
            rng.permutation(m), np.arange(batch_size, m, batch_size))
        for B in batches:
            g = hn.cost_and_gradient(net, X[B], Y[B], l2=l2 * len(B) / m)[1]
            v = mu * v - lr * g
            net.params = net.params + v
    return np.array(rows), net.params


@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       hidden=st.sampled_from(HIDDEN),
       output_cost=st.sampled_from(OUTPUT_COSTS),
       l2=st.sampled_from([0.0, 0.7]),
       mu=st.sampled_from([0.0, 0.8]),
       batch_size=st.sampled_from([None, 3, 5]),
       seed=st.integers(0, 2**16))
def test_a_few_epochs_are_exactly_the_update_equations(sizes, hidden, output_cost, l2, mu, batch_size, seed):
    output, cost = output_cost
    assume(output != "softmax" or sizes[-1] >= 2)
    net, X, Y = random_problem(sizes, hidden, output, cost, n_rows=11, seed=seed)
    plain = net.copy()
    try:
        history = hn.train(net, X, Y, epochs=3, lr=0.01, l2=l2, momentum=mu, batch_size=batch_size, seed=seed,
                           progress=False)
    except TrainingDiverged:      # a deep linear network can blow up in a few steps: not this test's case
        reject()
    rows, theta = plain_training(plain, X, Y, 3, 0.01, l2, mu, batch_size, seed)
    # The same floating-point operations in the same order: equal to the last bit ...
    np.testing.assert_array_equal(net.params, theta)
    np.testing.assert_array_equal(history[["epoch", "loss", "cost"]].to_numpy(), rows[:, [0, 1, 3]])
    # ... except the penalty, summed here in another order: a sum of P squares differs by at most
    # about P rounding errors, P < 100.
    np.testing.assert_allclose(history["penalty"], rows[:, 2], rtol=100 * np.finfo(float).eps, atol=0)


# ----------------------------------------------------------------------------
# A run that is not learning says so, once
# ----------------------------------------------------------------------------


def test_the_old_readme_momentum_example_warns_that_lr_is_too_large(split):
    """The README's `hn.train(net, X, y, batch_size=64, momentum=0.9, validation=...)` kept the
    default lr 2.0, whose steps with momentum reach lr/(1 - 0.9) = 20 gradients: 20% accuracy after
    500 epochs, silently. The warning comes at epoch STALL_EPOCHS, so 30 epochs show it."""
    X_train, X_test, y_train, y_test = split
    net = hn.MLP([64, 25, 10], seed=0)
    with pytest.warns(TrainingWarning) as caught:
        hn.train(net, X_train, y_train, batch_size=64, momentum=0.9, validation=(X_test, y_test),
                 epochs=30, progress=False)
    assert len(caught) == 1                                                     # once
    assert str(caught[0].message) == (
        f"training looks stuck at epoch {STALL_EPOCHS}: training accuracy has stayed at chance (10%, the most "
        f"common class) for {STALL_EPOCHS} epochs; the cost rose in 11 of the last {STALL_EPOCHS}, so the steps are probably too "
        "large: lr=2 with momentum=0.9 (steps up to lr/(1 - momentum) = 20 times the gradient); try lr=0.2")
    assert caught[0].filename == __file__                                       # points at the caller


def test_the_readme_momentum_example_learns_without_a_warning(split):
    X_train, X_test, y_train, y_test = split
    net = hn.MLP([64, 25, 10], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = hn.train(net, X_train, y_train, lr=0.1, epochs=50, batch_size=64, momentum=0.9,
                           validation=(X_test, y_test), progress=False)
    assert history["val_accuracy"].iloc[-1] > 0.97


def test_a_learning_rate_too_small_is_named_as_such(split):
    X_train, _, y_train, _ = split
    with pytest.warns(TrainingWarning, match=r"at chance .* the cost only went down, so the steps may be "
                                             r"too small: lr=0\.01"):
        hn.train(hn.MLP([64, 25, 10], seed=0), X_train, y_train, lr=0.01, epochs=40, progress=False)


def test_a_cost_that_makes_no_new_low_warns():
    """A regression (no accuracy to be at chance) that oscillates: lr just below divergence."""
    x = np.linspace(-1, 1, 40).reshape(-1, 1)
    net = hn.MLP([1, 1], hidden="identity", output="identity")
    net.params = np.array([0.0, 0.0])
    # J = (1/2m) sum (w x + b - 2x)^2 has curvature mean(x^2) ~ 0.35 in w: lr = 5.7 gives |1 - lr c| = 1
    # in w (no progress, w flips sign) while b converges.
    with pytest.warns(TrainingWarning, match=r"the cost has made no new low \(still above half its first value\) for 20 epochs; the cost rose in "
                                               r"\d+ of the last 20, so the steps are probably too large: lr=5\.7"):
        hn.train(net, x, 2 * x, lr=2 / np.mean(x ** 2), epochs=60, progress=False)


# ----------------------------------------------------------------------------
# Refused up front, naming the argument
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("callback", ["x", 3, [print]])
def test_a_callback_that_is_not_callable_is_refused_before_training(split, callback):
    """It used to fail after the first epoch, with "'str' object is not callable"."""
    X_train, _, y_train, _ = split
    net = hn.MLP([64, 25, 10], seed=0)
    before = net.params.copy()
    with pytest.raises(TypeError, match=r"^callback: expected a function callback\(epoch, net, row\) or None, "
                                        r"got "):
        hn.train(net, X_train, y_train, callback=callback, progress=False)
    np.testing.assert_array_equal(net.params, before)


def test_an_l2_that_makes_the_weights_blow_up_is_refused_naming_l2(split):
    """train(l2=1e308) said 'training diverged ... Try a smaller lr'."""
    X_train, _, y_train, _ = split
    net = hn.MLP([64, 25, 10], seed=0)
    with pytest.raises(ValueError, match=r"^l2: 1e\+308 is too large for lr=2 and 1438 rows: lr\*l2/m = "
                                         r"1\.39e\+305 >= 2\(1 \+ momentum\) = 2, so the penalty alone makes "
                                         r"the weights oscillate and grow; use l2 < 1\.44e\+03$"):
        hn.train(net, X_train, y_train, l2=1e308, progress=False)


def test_the_l2_bound_is_the_stability_of_weight_decay():
    """With X = 0 the data gives W_1 no gradient, so W_1 follows weight decay alone:
    w <- w + v, v <- mu v - lr (l2/m) w, which converges iff c = lr*l2/m < 2(1 + mu) (heavy-ball
    on a quadratic). At 0.9 of the bound W_1 shrinks to nothing; at the bound l2 is refused."""
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    for mu in (0.0, 0.5):
        limit = 2 * (1 + mu) * 4 / 0.5                        # l2 with lr * l2 / m = 2(1 + mu)
        with pytest.raises(ValueError, match=r"^l2: "):
            hn.train(hn.MLP([2, 2, 1], seed=0), X, y, lr=0.5, l2=limit, momentum=mu, epochs=3, progress=False)
        net = hn.MLP([2, 2, 1], seed=0)
        W1 = net.weights[0].copy()
        with pytest.warns(TrainingWarning, match="at chance"):       # X = 0: nothing to learn, and it says so
            hn.train(net, X, y, lr=0.5, l2=0.9 * limit, momentum=mu, epochs=200, progress=False)
        assert np.max(np.abs(net.weights[0])) < 1e-12 * np.max(np.abs(W1))     # |root| <= 0.8: 0.8^200


def test_weights_whose_penalty_would_overflow_are_refused_by_name():
    """sum W^2 of weights near 1e160 is 6e320, past float64: such parameters never reach train."""
    net = hn.MLP([1, 3, 1], hidden="identity", output="identity")
    with pytest.raises(ValueError, match=r"^params: expected numbers of magnitude at most 1e\+100"):
        net.params = np.full(net.n_params, 1e160)
