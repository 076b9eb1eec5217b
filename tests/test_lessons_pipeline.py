"""The numbers behind lessons.crafting_by_hand and lessons.gradient_checking.

Wherever possible the expected values are computed here independently: the textbook
formulas written differently (log h instead of softplus), the independent central
difference of conftest, explicit matrix products, or exact known values.
"""

import os

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from lessons import crafting_by_hand as C
from lessons import gradient_checking as G
from conftest import assert_gradients_close, central_difference


# ----------------------------------------------------------------------------
# crafting_by_hand
# ----------------------------------------------------------------------------

def small_net_and_data(sizes=(6, 4, 3), m=11, seed=3):
    """A random network (weights and biases N(0, 0.8^2)), random inputs and labels."""
    rng = np.random.default_rng(seed)
    net = hn.MLP(list(sizes), seed=seed)
    net.params = rng.normal(scale=0.8, size=net.n_params)
    X = rng.normal(size=(m, sizes[0]))
    y = rng.integers(0, sizes[-1], size=m)
    return net, X, y, np.eye(sizes[-1])[y]


def test_one_hot_rows_are_unit_vectors():
    y = np.array([3, 0, 9, 3])
    Y = C.one_hot(y)
    assert Y.shape == (4, 10)
    assert np.array_equal(Y.sum(axis=1), np.ones(4))
    assert [int(np.flatnonzero(row)[0]) for row in Y] == [3, 0, 9, 3]


def test_split_is_seeded_and_scaled_on_the_training_part():
    X_train, X_val, y_train, y_val = C.split_and_normalise()
    assert X_train.shape == (1438, 64) and X_val.shape == (359, 64)
    again = C.split_and_normalise()
    assert np.array_equal(again[0], X_train) and np.array_equal(again[3], y_val)
    # every training column spans exactly [0, 1], or is constant 0
    lo, hi = X_train.min(axis=0), X_train.max(axis=0)
    assert np.all(lo == 0) and np.all((hi == 1) | (hi == 0))
    # validation is scaled with the training range, independently recomputed
    X, y = hn.datasets.load_digits()
    raw_train, raw_val, _, _ = hn.datasets.train_test_split(X, y, test_size=0.2, seed=C.SEED)
    span = raw_train.max(axis=0) - raw_train.min(axis=0)
    ok = span > 0
    expected = (raw_val[:, ok] - raw_train.min(axis=0)[ok]) / span[ok]
    assert np.allclose(X_val[:, ok], expected, rtol=0, atol=1e-15)
    assert np.all(X_val[:, ~ok] == 0)


def test_sigmoid_is_the_logistic_function():
    z = np.array([-800.0, -30.0, -1.0, 0.0, 2.5, 40.0, 800.0])
    with np.errstate(over="ignore"):
        expected = 1.0 / (1.0 + np.exp(-z))
    assert np.allclose(C.sigmoid(z), expected, rtol=1e-13, atol=0)
    assert np.allclose(G.sigmoid(z), expected, rtol=1e-13, atol=0)


def test_hand_cost_equals_the_textbook_formula():
    net, X, y, Y = small_net_and_data()
    W, b = list(net.weights), list(net.biases)
    # the course's formula, with log h and log(1 - h) taken directly
    a1 = 1 / (1 + np.exp(-(X @ W[0] + b[0])))
    h = 1 / (1 + np.exp(-(a1 @ W[1] + b[1])))
    m, lam = X.shape[0], 0.7
    J = np.sum(-Y * np.log(h) - (1 - Y) * np.log(1 - h)) / m
    J += lam / (2 * m) * (np.sum(W[0] ** 2) + np.sum(W[1] ** 2))
    assert C.cost(X, Y, W, b, lam) == pytest.approx(J, rel=1e-13)


def test_hand_backprop_against_independent_central_differences():
    net, X, y, Y = small_net_and_data()
    lam = 0.7

    def J(theta):
        weights, biases = net.unflatten(theta)
        return C.cost(X, Y, weights, biases, lam)

    _, grads = C.cost_and_gradient(X, Y, list(net.weights), list(net.biases), lam)
    assert_gradients_close(C.flat(grads), central_difference(J, net.params.copy()))


def test_hand_pieces_agree_with_handnet():
    net, X, y, Y = small_net_and_data(sizes=(5, 7, 4, 3), m=9)
    diffs = C.compare_with_handnet(net, X, Y, lam=1.3)
    assert diffs["cost_rel"] < 1e-13 and diffs["grad_rel"] < 1e-13
    idx, a, n, rel = C.compare_with_central_differences(net, X, Y, lam=1.3, n_entries=10)
    assert len(set(idx)) == 10
    assert np.all(np.abs(a - n) <= 1e-7 * np.maximum(np.abs(a), np.abs(n)) + 1e-9)
    assert np.allclose(rel, np.abs(a - n) / np.maximum(np.abs(a), np.abs(n)))


def test_entry_names_follow_handnet_layout():
    net = hn.MLP([3, 2, 2])          # W0 (3, 2) at 0, b0 at 6, W1 (2, 2) at 8, b1 at 12
    assert [C.entry_name(net, i) for i in (0, 5, 6, 7, 8, 11, 13)] == \
        ["W0[0, 0]", "W0[2, 1]", "b0[0]", "b0[1]", "W1[0, 0]", "W1[1, 1]", "b1[1]"]


def test_gradient_descent_step_is_theta_minus_lr_gradient():
    net, X, y, Y = small_net_and_data()
    W, b = list(net.weights), list(net.biases)
    _, grads = C.cost_and_gradient(X, Y, W, b, 0.5)
    W2, b2 = C.gradient_descent_step(W, b, grads, 0.3)
    expected = net.params - 0.3 * hn.cost_and_gradient(net, X, Y, l2=0.5)[1]
    assert np.allclose(C.flat(list(zip(W2, b2))), expected, rtol=0, atol=1e-15)
    assert np.array_equal(W[0], net.weights[0])          # the inputs are untouched


def test_training_by_hand_retraces_hn_train(digits):
    X, y = digits
    X, y = X[:300], y[:300]
    net = hn.MLP([64, 12, 10], seed=1)
    W, b = [w.copy() for w in net.weights], [v.copy() for v in net.biases]
    weights, biases, history = C.train_by_hand(X, y, W, b, epochs=25, lr=1.5, lam=0.5,
                                               validation=(X[:50], y[:50]))
    hn_history = hn.train(net, X, y, epochs=25, lr=1.5, l2=0.5, validation=(X[:50], y[:50]), progress=False)
    assert list(history["epoch"]) == list(range(26))
    assert list(history.columns) == list(hn_history.columns)
    for column in ("loss", "accuracy", "val_loss", "val_accuracy", "penalty", "cost"):
        assert np.allclose(history[column], hn_history[column], rtol=1e-12, atol=1e-14), column
    assert np.allclose(C.flat(list(zip(weights, biases))), net.params, rtol=0, atol=1e-12)
    # the penalty is lambda/(2m) sum W^2 with m = 300; the validation loss has none
    sq = sum(float(np.sum(w * w)) for w in net.weights)
    last = history.iloc[-1]
    assert last["penalty"] == pytest.approx(0.5 / 600 * sq, rel=1e-12)
    assert last["cost"] - last["loss"] == pytest.approx(0.5 / 600 * sq, rel=1e-9)
    assert last["val_loss"] == pytest.approx(hn.cost(net, X[:50], y[:50]), rel=1e-12)
    # the recorded accuracy is recomputed here from the final parameters
    assert history["accuracy"].iloc[-1] == hn.accuracy(y, net.predict(X))
    assert np.array_equal(C.predict(X, weights, biases), net.predict(X))


def test_quick_training_learns_the_digits():
    X_train, X_val, y_train, y_val = C.split_and_normalise()
    net = hn.MLP([64, C.HIDDEN, 10], seed=C.SEED)
    weights, biases, history = C.train_by_hand(X_train, y_train, list(net.weights), list(net.biases),
                                               epochs=C.QUICK_EPOCHS)
    assert np.all(np.diff(history["cost"]) < 0)
    assert hn.accuracy(y_val, C.predict(X_val, weights, biases)) > 0.85


def test_region_maps_by_hand_are_the_weight_products():
    net, *_ = small_net_and_data(sizes=(6, 4, 5, 3))
    W = list(net.weights)
    maps = C.region_maps_by_hand(W)
    assert maps.shape == (3, 6)
    assert np.allclose(maps, (W[0] @ W[1] @ W[2]).T, rtol=1e-13, atol=1e-15)
    assert np.allclose(maps, hn.explain.region_maps(net), rtol=1e-13, atol=1e-15)


def test_naive_step_is_the_same_step_as_handnets(digits):
    X, y = digits
    X, Y = X[:120], hn.one_hot(y[:120], 10)
    net = hn.MLP([64, 9, 10], seed=2)
    theta1, theta2 = C.thetas_from_net(net)
    assert theta1.shape == (65, 9) and np.array_equal(theta1[0], net.biases[0])
    new1, new2, J = C.naive_step(theta1, theta2, X, Y, 1.0, 0.5)
    J_hn, g = hn.cost_and_gradient(net, X, Y, l2=1.0)
    assert J == pytest.approx(J_hn, rel=1e-13)
    new_W, new_b = net.unflatten(net.params - 0.5 * g)
    assert np.allclose(new1, np.vstack([new_b[0][None, :], new_W[0]]), rtol=0, atol=1e-13)
    assert np.allclose(new2, np.vstack([new_b[1][None, :], new_W[1]]), rtol=0, atol=1e-13)
    result = C.compare_naive_and_handnet(net, X, Y, lam=1.0, lr=0.5, repeats=1)
    assert result["max_param_diff"] < 1e-12 and result["cost_diff"] < 1e-12
    assert result["naive_s"] > 0 and result["handnet_s"] > 0 and result["repeats"] == 1


def test_run_log_appends_one_row_per_call(tmp_path):
    path = tmp_path / "log" / "hyperparameters.csv"
    first = C.append_run_log(path, {"timestamp": "t1", "hidden": 25, "val_accuracy": 0.9})
    second = C.append_run_log(path, {"timestamp": "t2", "hidden": 30, "val_accuracy": 0.95})
    assert len(first) == 1 and len(second) == 2
    back = pd.read_csv(path)
    assert list(back["timestamp"]) == ["t1", "t2"] and list(back["hidden"]) == [25, 30]
    assert sorted(os.listdir(path.parent)) == ["hyperparameters.csv"]     # no temporary file left


def test_running_the_lesson_twice_logs_two_runs(tmp_path, capsys):
    out = tmp_path / "out"
    assert C.main(["--quick", "--out", str(out)]) == 0
    assert C.main(["--quick", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "FAIL" not in text
    log = pd.read_csv(out / C.LOG_NAME)
    assert len(log) == 2
    assert list(log["epochs"]) == [C.QUICK_EPOCHS] * 2 and list(log["mode"]) == ["quick"] * 2
    assert log["val_accuracy"].iloc[0] == log["val_accuracy"].iloc[1] > 0.8     # seeded: the same run
    for png in ("loss_curve.png", "confusion_matrix.png", "region_maps.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


# ----------------------------------------------------------------------------
# gradient_checking
# ----------------------------------------------------------------------------

def test_central_and_forward_differences():
    assert G.central_difference(np.sin, 0.3) == pytest.approx(np.cos(0.3), rel=1e-10)
    # f(t) = t^2: the central difference is exact up to rounding, the forward one is off by h
    assert G.central_difference(lambda t: t * t, 2.0, h=1e-3) == pytest.approx(4.0, rel=1e-12)
    assert G.forward_difference(lambda t: t * t, 2.0, h=1e-3) == pytest.approx(4.001, rel=1e-12)
    warm = G.warm_up_example()
    assert warm["forward"] == pytest.approx(G.H / 2, rel=1e-3)       # error h/2 f''/f' = h/2 for e^t
    assert warm["central"] < 1e-9


def test_relative_error_known_values():
    a = np.array([1.0, 0.0, 1.0, -2.0, 1e-3])
    n = np.array([1.1, 0.0, -1.0, -2.0, 2e-3])
    expected = np.array([0.1 / 1.1, 0.0, 2.0, 0.0, 0.5])
    assert np.allclose(G.relative_error(a, n), expected, rtol=1e-15, atol=0)
    assert np.allclose(G.relative_error(a, n), hn.gradcheck.relative_error(a, n))


def test_theory_best_h_minimises_the_error_model():
    assert G.theory_best_h() == pytest.approx((3 * 2.220446049250313e-16) ** (1 / 3))
    assert 8e-6 < G.theory_best_h() < 9e-6
    T, R = 0.05, 3.0
    hs = np.logspace(-7, -3, 200001)
    model = T * hs**2 / 6 + R * G.EPS / hs
    assert G.theory_best_h(T, R) == pytest.approx(hs[np.argmin(model)], rel=1e-3)


def test_error_against_step_is_the_central_difference_error():
    J, theta, g, layout = G.real_cost_problem(n_rows=20)
    idx = np.array([int(np.argmax(np.abs(g))), 7])
    rel = G.error_against_step(J, theta, g, idx, np.array([1e-2, 1e-5]))
    n = np.empty(2)
    for k, i in enumerate(idx):                          # written out here, independently of handnet
        e = np.zeros_like(theta)
        e[i] = 1e-2
        n[k] = (J(theta + e) - J(theta - e)) / 2e-2
    assert np.allclose(rel[0], np.abs(n - g[idx]) / np.abs(g[idx]), rtol=1e-6)
    assert np.all(rel[1] < 1e-7)
    assert G.entry_name(layout, 64 * 25) == "b0[0]" and G.entry_name(layout, 64 * 25 + 25 + 3) == "W1[0, 3]"


def test_loglog_slope_of_exact_powers():
    hs = np.logspace(-1, -5, 9)
    assert G.loglog_slope(hs, 3 * hs**2) == pytest.approx(2.0, abs=1e-12)
    assert G.loglog_slope(hs, 1e-16 / hs) == pytest.approx(-1.0, abs=1e-12)


def test_step_sweep_shows_the_v():
    sweep = G.step_sweep(quick=True)
    assert sweep["rel"].shape == (23, 16)
    assert abs(sweep["slope_truncation"] - 2) < 0.1 and abs(sweep["slope_rounding"] + 1) < 0.3
    assert 0.25 < sweep["best_h"] / sweep["h_fitted"] < 4
    assert sweep["best_rel"] < 1e-9
    assert sweep["median"].min() == sweep["best_rel"]


def test_handnets_checker_passes_on_the_small_network():
    report = G.small_network_check()
    assert report.passed and report.max_rel_error < 1e-6 and len(report.entries) == 64 * 6 + 6 + 6 * 10 + 10


def test_each_planted_bug_is_caught_and_the_correct_version_passes():
    reports = G.planted_bug_reports()
    assert list(reports) == ["correct", *G.BUGS]
    assert reports["correct"].passed and reports["correct"].max_rel_error < 1e-6
    for name in G.BUGS:
        assert not reports[name].passed, name
        assert reports[name].max_rel_error > 0.1, name
    assert set(reports["bias regularised in the cost only"].failures["param"]) == {"b0", "b1"}
    n = G.SIZES[1]
    off_diagonal = {f"W0[{j}, {k}]" for j in range(n) for k in range(n) if j != k}
    assert set(reports["transposed weight gradient"].failures["entry"]) == off_diagonal
    summary = G.bug_summary(reports)
    assert list(summary["caught"]) == [False, True, True, True, True]


def test_planted_bugs_are_exactly_the_mistakes_they_claim_to_be():
    theta, X, Y, layout = G.small_problem()
    net = hn.MLP(G.SIZES)
    net.params = theta
    lam, m = G.LAMBDA, X.shape[0]
    J_true, g_true = hn.cost_and_gradient(net, X, Y, l2=lam)
    reg = lam / m * theta * net.weight_mask()                           # the L2 part of the gradient
    assert G.cost(theta, X, Y) == pytest.approx(J_true, rel=1e-14)
    assert np.allclose(G.gradient(theta, X, Y), g_true, rtol=0, atol=1e-15)
    g = {name: G.gradient(theta, X, Y, bug=name) for name in G.BUGS}
    assert np.allclose(g["sign flip"] - reg, -(g_true - reg), atol=1e-15)
    assert np.allclose(g["missing 1/m"] - reg, m * (g_true - reg), atol=1e-14)
    assert np.allclose(g["bias regularised in the cost only"], g_true, atol=1e-15)
    b1, b2 = theta[25:30], theta[45:48]
    assert G.cost(theta, X, Y, bug="bias regularised in the cost only") == \
        pytest.approx(J_true + lam / (2 * m) * (b1 @ b1 + b2 @ b2), rel=1e-14)
    dW1_true, dW1_bug = g_true[:25].reshape(5, 5), g["transposed weight gradient"][:25].reshape(5, 5)
    assert np.allclose(dW1_bug, dW1_true.T, atol=1e-15)
    assert np.allclose(g["transposed weight gradient"][25:], g_true[25:], atol=1e-15)


def test_a_transposed_non_square_gradient_is_refused_by_shape():
    refused, message = G.transposed_non_square_is_refused()
    assert refused and "dW2" in message and "(3, 5)" in message
    with pytest.raises(ValueError, match="dW1"):
        G.pack(np.zeros((4, 5)), np.zeros(5), np.zeros((5, 3)), np.zeros(3))
