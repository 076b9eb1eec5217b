"""Training: the cost goes down, the defaults are good, Ctrl-C stops cleanly."""

import os
import signal

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from conftest import assert_within, ops_rtol
from handnet.training import DEFAULTS, TrainingDiverged


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return hn.datasets.train_test_split(X, y, test_size=0.2, seed=0)


def test_defaults_reach_95_percent_on_held_out_digits(split):
    X_train, X_test, y_train, y_test = split
    net = hn.MLP([64, 25, 10], seed=0)
    history = hn.train(net, X_train, y_train, progress=False)
    assert len(history) == DEFAULTS["epochs"] + 1
    assert hn.accuracy(y_test, net.predict(X_test)) >= 0.95


def test_cost_decreases_and_history_is_a_dataframe(split):
    X_train, X_test, y_train, y_test = split
    net = hn.MLP([64, 16, 10], seed=1)
    history = hn.train(net, X_train, y_train, epochs=40, lr=0.5, l2=1.0, validation=(X_test, y_test),
                       progress=False)
    assert isinstance(history, pd.DataFrame)
    assert list(history.columns) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "penalty", "cost"]
    assert list(history["epoch"]) == list(range(41))
    assert np.all(np.diff(history["cost"]) < 0)      # small steps of full-batch descent: monotone
    # the recorded row describes the parameters the network ends with
    last = history.iloc[-1]
    assert last["cost"] == pytest.approx(hn.cost(net, X_train, y_train, l2=1.0), rel=1e-12)
    assert last["loss"] == pytest.approx(hn.cost(net, X_train, y_train), rel=1e-12)
    assert last["val_loss"] == pytest.approx(hn.cost(net, X_test, y_test), rel=1e-12)    # no penalty
    squares = sum(float(np.sum(W ** 2)) for W in net.weights)
    assert last["penalty"] == pytest.approx(1.0 / (2 * len(y_train)) * squares, rel=1e-12)
    assert np.array_equal(history["cost"], history["loss"] + history["penalty"])
    assert history["val_accuracy"].iloc[-1] == hn.accuracy(y_test, net.predict(X_test))
    assert not history.attrs["interrupted"]


def test_with_l2_the_validation_curve_is_the_data_loss_and_falls_as_accuracy_rises(split):
    """The old val_cost added lambda/(2 m_val) sum W^2, about four times the weight the training cost
    gives the penalty (m_val = 359 vs m = 1438): with `handnet train --l2 1` it climbed from 1.290 to
    1.486 while held-out accuracy went from 95% to 97.5%. val_loss is the data loss alone."""
    X_train, X_test, y_train, y_test = split
    net = hn.MLP([64, 25, 10], seed=0)
    history = hn.train(net, X_train, y_train, l2=1.0, validation=(X_test, y_test), progress=False)
    rows = history.set_index("epoch").loc[[100, 500]]
    squares = rows["penalty"] * 2 * len(y_train) / 1.0                 # sum W^2 at those epochs
    old_val_cost = rows["val_loss"] + 1.0 / (2 * len(y_test)) * squares
    assert old_val_cost.iloc[1] > old_val_cost.iloc[0]                  # the old column rose ...
    assert rows["val_accuracy"].iloc[1] > rows["val_accuracy"].iloc[0]  # ... while accuracy improved,
    assert rows["val_loss"].iloc[1] < rows["val_loss"].iloc[0]          # and the data loss falls


@pytest.mark.parametrize("kwargs", [{"batch_size": 64}, {"batch_size": 64, "momentum": 0.9},
                                    {"momentum": 0.9}])
def test_minibatches_and_momentum_learn_the_digits(split, kwargs):
    X_train, X_test, y_train, y_test = split
    net = hn.MLP([64, 25, 10], seed=0)
    lr, epochs = (0.5, 40) if "batch_size" in kwargs else (0.5, 150)     # 150 full-batch steps
    history = hn.train(net, X_train, y_train, epochs=epochs, lr=lr, progress=False, seed=3, **kwargs)
    assert history["cost"].iloc[-1] < 0.5 * history["cost"].iloc[0]
    assert hn.accuracy(y_test, net.predict(X_test)) > 0.9


def test_minibatch_training_is_reproducible_by_seed(split):
    X_train, _, y_train, _ = split
    runs = []
    for seed in (5, 5, 6):
        net = hn.MLP([64, 10, 10], seed=0)
        hn.train(net, X_train[:300], y_train[:300], epochs=3, lr=0.5, batch_size=32, seed=seed, progress=False)
        runs.append(net.params.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_one_step_is_exactly_gradient_descent():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 2, 10)
    net = hn.MLP([3, 4, 1])
    theta0 = net.params.copy()
    g = hn.cost_and_gradient(net, X, y, l2=0.3)[1]
    hn.train(net, X, y, epochs=1, lr=0.7, l2=0.3, progress=False)
    # the same few operations (a product with lr, a subtraction) in another order: apart by
    # their rounding, relative to the sizes of the terms (the subtraction may cancel)
    assert_within(net.params, theta0 - 0.7 * g, ops_rtol(3) * (np.abs(theta0) + 0.7 * np.abs(g)))


def test_regression_history_has_no_accuracy():
    x = np.linspace(-2, 2, 50).reshape(-1, 1)
    net = hn.MLP([1, 8, 1], hidden="tanh", output="identity")
    history = hn.train(net, x, np.sin(x), epochs=200, lr=0.1, progress=False)
    assert list(history.columns) == ["epoch", "loss", "penalty", "cost"]
    assert np.all(history["penalty"] == 0) and np.array_equal(history["loss"], history["cost"])
    assert history["cost"].iloc[-1] < history["cost"].iloc[0]


def _recorder(stop_at, how):
    """A callback that keeps each epoch's parameters and interrupts at ``stop_at``."""
    seen = {}

    def callback(epoch, net, row):
        seen[epoch] = net.params.copy()
        if epoch == stop_at:
            if how == "signal":
                os.kill(os.getpid(), signal.SIGINT)       # a real Ctrl-C
            else:
                raise KeyboardInterrupt                   # as a second Ctrl-C would
    return seen, callback


@pytest.mark.parametrize("batch_size", [None, 50])
@pytest.mark.parametrize("how", ["signal", "raise"])
def test_ctrl_c_stops_cleanly_with_the_model_matching_the_last_row(split, how, batch_size, capsys):
    X_train, _, y_train, _ = split
    net = hn.MLP([64, 12, 10], seed=0)
    seen, callback = _recorder(5, how)
    history = hn.train(net, X_train, y_train, epochs=50, lr=0.5, batch_size=batch_size, progress=False,
                       callback=callback)
    assert history.attrs["interrupted"]
    last = int(history["epoch"].iloc[-1])
    assert 5 <= last <= 6 and last < 50
    np.testing.assert_array_equal(net.params, seen[last])
    assert history["cost"].iloc[-1] == pytest.approx(hn.cost(net, X_train, y_train), rel=1e-12)
    assert "interrupted" in capsys.readouterr().err
    # Ctrl-C works normally again afterwards
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_divergence_is_an_error_not_a_silent_nan():
    x = np.linspace(-1, 1, 20).reshape(-1, 1) * 1e3
    net = hn.MLP([1, 5, 1], hidden="identity", output="identity")
    with pytest.raises(TrainingDiverged, match="lr=") as info:
        hn.train(net, x, x * 2, epochs=500, lr=10.0, progress=False)
    assert np.all(np.isfinite(net.params))
    assert isinstance(info.value.history, pd.DataFrame) and len(info.value.history) >= 1
