"""The numbers behind lessons.crafting_by_hand (the notebook's recipe) and lessons.gradient_checking.

Wherever possible the expected values are computed here independently: the textbook
formulas written differently (log h instead of softplus), the independent central
difference of conftest, explicit matrix products, or exact known values.
"""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from lessons import _crafting_by_hand_plumbing as P
from lessons import crafting_by_hand as C
from lessons import gradient_checking as G
from conftest import assert_gradients_close, central_difference


# ----------------------------------------------------------------------------
# crafting_by_hand
# ----------------------------------------------------------------------------

def small_pairs_and_data(sizes=(6, 4, 3), m=11, seed=3):
    """Random [(W_l, b_l)] (N(0, 1) as the notebook draws them), random inputs in [0, 1], one-hot targets."""
    rng = np.random.default_rng(seed)
    pairs = C.normal_parameters(list(sizes), rng)
    X = rng.uniform(size=(m, sizes[0]))
    y = rng.integers(0, sizes[-1], size=m)
    return pairs, X, y, np.eye(sizes[-1])[y]


def notebook_thetas(pairs):
    """The notebook's layout: theta_l = [b_l; W_l], shape (n_in + 1, n_out)."""
    return [np.vstack([b[None, :], W]) for W, b in pairs]


def notebook_step(thetas, X, Y, alpha, lam):
    """One step of the notebook's equations, written here with a column of ones glued in front of each
    layer's input (its own layout), log h taken directly. -> (new thetas, J_nb before the step)."""
    m = len(X)
    a = [np.hstack([np.ones((m, 1)), X])]
    for theta in thetas:
        s = 1 / (1 + np.exp(-(a[-1] @ theta)))
        a.append(np.hstack([np.ones((m, 1)), s]))
    h = a[-1][:, 1:]
    J = (np.sum(-Y * np.log(h) - (1 - Y) * np.log(1 - h))
         + lam / 2 * sum(np.sum(theta ** 2) for theta in thetas)) / m
    d = h - Y
    new = [None] * len(thetas)
    for l in range(len(thetas) - 1, -1, -1):
        penalty = np.vstack([np.zeros((1, thetas[l].shape[1])), thetas[l][1:]])
        new[l] = thetas[l] - alpha * (a[l].T @ d / m + lam * penalty)
        if l > 0:
            d = (d @ thetas[l][1:].T) * a[l][:, 1:] * (1 - a[l][:, 1:])
    return new, J


def test_each_image_is_scaled_on_its_own():
    X = np.array([[2.0, 4.0, 6.0], [0.0, 0.5, 0.25], [3.0, 3.0, 3.0]])
    np.testing.assert_array_equal(C.scale_each_image(X), [[0, 0.5, 1], [0, 1, 0.5], [0, 0, 0]])


def test_sigmoid_is_the_logistic_function():
    z = np.array([-800.0, -30.0, -1.0, 0.0, 2.5, 40.0, 800.0])
    with np.errstate(over="ignore"):
        expected = 1.0 / (1.0 + np.exp(-z))
    assert np.allclose(C.sigmoid(z), expected, rtol=1e-13, atol=0)
    assert np.allclose(G.sigmoid(z), expected, rtol=1e-13, atol=0)


def test_notebook_split_is_a_seeded_half_and_half_partition():
    train, val = C.notebook_split(5000, np.random.default_rng(0))
    assert len(train) == len(val) == 2500
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(5000))
    again = C.notebook_split(5000, np.random.default_rng(0))
    assert np.array_equal(again[0], train)
    assert [len(part) for part in C.notebook_split(7, np.random.default_rng(1))] == [4, 3]   # ceil(3.5)


def test_normal_parameters_split_each_theta_into_bias_row_and_weights():
    pairs = C.normal_parameters([5, 3, 2], np.random.default_rng(4))
    thetas = [np.random.default_rng(4).standard_normal((6, 3))]
    assert [W.shape for W, _ in pairs] == [(5, 3), (3, 2)] and [b.shape for _, b in pairs] == [(3,), (2,)]
    np.testing.assert_array_equal(pairs[0][1], thetas[0][0])
    np.testing.assert_array_equal(pairs[0][0], thetas[0][1:])


def test_notebook_cost_is_the_textbook_formula_with_biases_penalised():
    pairs, X, y, Y = small_pairs_and_data()
    _, J = notebook_step(notebook_thetas(pairs), X, Y, alpha=0.0, lam=0.7)
    assert C.notebook_cost(X, Y, pairs, 0.7) == pytest.approx(J, rel=1e-13)


def test_notebook_gradient_is_the_gradient_of_hn_cost_with_l2_lambda_m_not_of_its_own_cost():
    pairs, X, y, Y = small_pairs_and_data(sizes=(5, 4, 3), m=9)
    lam, m = 0.7, 9
    g = C.flat(C.notebook_gradient(X, Y, pairs, lam))
    net = C.network([5, 4, 3], pairs)

    def J_nb(theta):
        return C.notebook_cost(X, Y, list(zip(*net.unflatten(theta))), lam)

    def J_hn(theta):
        return hn.cost(C.network([5, 4, 3], list(zip(*net.unflatten(theta)))), X, Y, l2=lam * m)

    assert_gradients_close(g, central_difference(J_hn, net.params.copy()))
    # against its own cost: off by lam W (1 - 1/m) on the weights and by lam b / m on the biases
    expected = central_difference(J_nb, net.params.copy())
    mask = net.weight_mask()
    assert_gradients_close(g - expected, lam * net.params * (mask * (1 - 1 / m) - (1 - mask) / m))


def test_checker_rejects_the_notebook_gradient_for_its_own_cost_and_accepts_it_for_hn_cost():
    pairs, X, y, Y = small_pairs_and_data(sizes=(8, 5, 3), m=20)
    own, handnets = C.check_both_costs(X, Y, pairs, 0.5, subset=None)
    assert not own.passed and own.max_rel_error > 1e-2
    assert handnets.passed


def test_notebook_recipe_trajectory_equals_hn_train_step_by_step():
    """hn.train(lr = alpha, l2 = lambda m) from the notebook's N(0, 1) weights follows the notebook's own
    equations (written out above in its theta layout) at every step."""
    X, y = hn.datasets.load_mnist(size=20)
    X, y = C.scale_each_image(X[::25]), y[::25]                    # 200 images, 20 of each digit
    Y, m, steps = hn.one_hot(y, 10), len(y), 30
    pairs = C.normal_parameters(C.DIMENSIONS, np.random.default_rng(5))
    net = C.network(C.DIMENSIONS, pairs)
    seen = []
    history = hn.train(net, X, y, epochs=steps, lr=C.ALPHA, l2=C.LAMBDA_T * m, progress=False,
                       callback=lambda epoch, n, row: seen.append(n.params.copy()))
    thetas = notebook_thetas(pairs)
    costs = []
    for epoch in range(steps):
        thetas, J = notebook_step(thetas, X, Y, C.ALPHA, C.LAMBDA_T)
        costs.append(J)
        expected = C.flat([(theta[1:], theta[0]) for theta in thetas])
        np.testing.assert_allclose(seen[-steps + epoch], expected, rtol=0, atol=1e-12 * (1 + epoch))
    # what the notebook prints is J_nb, not hn.train's cost: they differ exactly by the two penalties
    np.testing.assert_allclose(costs, C.train_notebook(X, Y, pairs, steps=steps)[1][0], rtol=1e-12)
    weights_sq = sum(float(np.sum(W * W)) for W, _ in pairs)
    biases_sq = sum(float(np.sum(b * b)) for _, b in pairs)
    cross_entropy = costs[0] - C.LAMBDA_T / (2 * m) * (weights_sq + biases_sq)
    assert history["cost"].iloc[0] == pytest.approx(cross_entropy + C.LAMBDA_T / 2 * weights_sq, rel=1e-12)


def test_cost_vd_one_row_uses_the_last_rows_outputs_for_every_label():
    pairs, X, y, Y = small_pairs_and_data(m=7)
    lam = 0.3
    _, acts = C.forward(X, pairs)
    h = acts[-1][-1]                                                 # the last example's outputs
    expected = np.sum(-Y * np.log(h) - (1 - Y) * np.log(1 - h)) / 7 + C.penalty_nb(pairs, lam, 7)
    assert C.cost_vd_one_row(X, Y, pairs, lam) == pytest.approx(expected, rel=1e-12)
    assert C.cost_vd_one_row(X, Y, pairs, lam) != pytest.approx(C.notebook_cost(X, Y, pairs, lam), rel=1e-3)


def test_notebook_confusion_matrix_is_11_by_11_with_an_empty_first_row_and_column():
    y_true, y_pred = np.array([0, 3, 9, 9]), np.array([0, 5, 9, 1])
    guesses = C.notebook_confusion(y_true, y_pred)
    assert guesses.shape == (11, 11) and guesses.sum() == 4
    assert not guesses[0].any() and not guesses[:, 0].any()
    np.testing.assert_array_equal(guesses[1:, 1:], hn.confusion_matrix(y_true, y_pred, labels=range(10)))


def test_published_rows_are_the_notebooks_seven():
    assert len(P.PUBLISHED_ROWS) == 7
    best = max(P.PUBLISHED_ROWS, key=lambda row: row[5])
    assert best[5] == P.PUBLISHED_BEST and (best[3], best[4]) == (2.0, 0.010)
    shown = [row for row in P.PUBLISHED_ROWS if (row[3], row[4]) == (C.ALPHA, C.LAMBDA_T)]
    assert len(shown) == 1 and shown[0][5] == P.PUBLISHED_SHOWN
    assert P.dimensions_of(4, 120) == [400, 120, 120, 10] and P.dimensions_of(3, 14) == C.DIMENSIONS


def test_settings_trained_side_by_side_equal_each_trained_alone():
    """The wide network (first layers side by side, second layers block-diagonal) trains each setting
    exactly as the notebook's loop does alone: parameters and J_nb at every step."""
    pairs, X, y, Y = small_pairs_and_data(sizes=(6, 4, 3), m=11)
    settings = [(2.0, 0.5), (0.3, 0.0), (1.0, 2.0)]
    together, costs = C.train_notebook(X, Y, pairs, settings, steps=15)
    assert costs.shape == (3, 15)
    for k, (alpha, lam) in enumerate(settings):
        thetas, expected = notebook_thetas(pairs), []
        for _ in range(15):
            thetas, J = notebook_step(thetas, X, Y, alpha, lam)
            expected.append(J)
        np.testing.assert_allclose(costs[k], expected, rtol=1e-12)
        np.testing.assert_allclose(C.flat(together[k]), C.flat([(t[1:], t[0]) for t in thetas]),
                                   rtol=0, atol=1e-12)
    wide, block = P.side_by_side(pairs, 3)
    assert wide[0][0].shape == (6, 12) and wide[1][0].shape == (12, 9) and not wide[1][0][block == 0].any()
    np.testing.assert_array_equal(C.flat(P.split_side_by_side(wide, 3)[2]), C.flat(pairs))


@pytest.mark.parametrize("counts, expected", [
    ([[5, 0, 0], [0, 5, 0], [0, 0, 5]], "No mistakes"),
    ([[5, 1, 0], [0, 5, 1], [1, 0, 5]], "3 mistakes in 3 different (true, answer) pairs: no confusion occurs "
                                        "more than once."),
    ([[5, 3, 1], [0, 5, 0], [1, 0, 5]], "5 mistakes in 3 different (true, answer) pairs; the most frequent "
                                        "confusion is a true 0 read as 1 (3 times, 60% of them)."),
    ([[5, 2, 0], [0, 5, 0], [2, 1, 5]], "5 mistakes in 3 different (true, answer) pairs; 2 pairs share the "
                                        "largest count, 2 each: a true 0 read as 1, a true 2 read as 0."),
])
def test_the_confusion_sentence_says_only_what_the_counts_show(counts, expected):
    assert P.describe_confusions(np.array(counts)).startswith(expected)


def test_the_lesson_writes_the_notebooks_csv_beside_handnets(tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "lessons.crafting_by_hand", "--quick", "--out", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "FAIL" not in proc.stdout
    log = pd.read_csv(out / "hyperparameters.csv")
    assert list(log.columns[:10]) == P.NOTEBOOK_COLUMNS
    published = log[log["source"] == "notebook (published)"]
    assert sorted(published["accuracy"]) == sorted(row[5] for row in P.PUBLISHED_ROWS)
    ours = log[log["source"] == "handnet"]
    assert len(ours) == 6 and (ours["steps"] == C.QUICK_STEPS).all()          # quick: no 120-120 network
    assert ours["accuracy"].between(0, 100).all() and np.isfinite(ours["cost_vd"]).all()
    for png in ("examples.png", "model_progress.png", "confusion_matrix.png", "hyperparameters.png"):
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
