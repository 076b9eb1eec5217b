"""The numbers behind the derivative lessons: sensitivity_analysis, jacobian_cost, sine_derivatives.

Each lesson function is checked against something computed independently here: exact
formulas, the central differences of tests/conftest.py, or handnet's own API.
"""

import numpy as np
import pytest

import handnet as hn
from lessons import jacobian_cost as jc
from lessons import sensitivity_analysis as sa
from lessons import sine_derivatives as sd
from conftest import central_difference, random_net


# ----------------------------------------------------------------------------
# sensitivity_analysis
# ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits_net():
    """The lesson's MNIST network after a short training (two epochs)."""
    net, X_test, y_test, acc = sa.train_mnist_network(epochs=2)
    return net, X_test, y_test, acc


def test_one_digit_per_class_is_correct_and_covers_every_class(digits_net):
    net, X_test, y_test, acc = digits_net
    assert acc > 0.8
    idx = sa.one_digit_per_class(net, X_test, y_test)
    assert idx.shape == (10,)
    assert np.array_equal(y_test[idx], np.arange(10))
    assert np.array_equal(net.predict(X_test[idx]), np.arange(10))


def test_sensitivity_maps_shape_and_agreement_with_finite_differences(digits_net):
    net, X_test, y_test, _ = digits_net
    idx = sa.one_digit_per_class(net, X_test, y_test)
    x, t = X_test[idx[:3]], y_test[idx[:3]]
    g = sa.input_gradients(net, x, t)
    S = sa.sensitivity_maps(net, x, t)
    assert S.shape == (3, 784) and np.all(S >= 0)
    assert np.array_equal(S, np.abs(g))
    stacked = sa.central_difference_gradient(net, x, t)
    assert sa.relative_error(g, stacked, floor=1e-4).max() < 1e-6
    logits = sa.central_difference_gradient(net, x, t, wrt="preactivation")
    assert sa.relative_error(sa.input_gradients(net, x, t, wrt="preactivation"), logits).max() < 1e-6
    # the lesson's stacked differences against the independent loop of conftest, a few pixels of row 0
    pixels = [0, 300, 406, 783]
    def y_of(v):
        full = x[0].copy()
        full[pixels] = v
        return net.predict_proba(full[None])[0, t[0]]
    loop = central_difference(y_of, x[0, pixels])
    np.testing.assert_allclose(stacked[0, pixels], loop, rtol=1e-6, atol=1e-10)


def test_relative_error_uses_the_floor_only_for_tiny_rows():
    a = np.array([[1.0, -2.0], [1e-12, 0.0]])
    n = np.array([[1.0, -2.002], [3e-12, 0.0]])
    np.testing.assert_allclose(sa.relative_error(a, n, floor=1e-4), [1e-3, 2e-8])
    np.testing.assert_allclose(sa.relative_error(a, n)[1], 2.0)


# -- the post's four readings ------------------------------------------------------------------

def _flood_outside(blank):
    """Reference for enclosed_blank: a breadth-first search from the border, one image at a time."""
    h, w = blank.shape
    seen = np.zeros_like(blank)
    queue = [(r, c) for r in range(h) for c in range(w) if (r in (0, h - 1) or c in (0, w - 1)) and blank[r, c]]
    for r, c in queue:
        seen[r, c] = True
    while queue:
        r, c = queue.pop()
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and blank[rr, cc] and not seen[rr, cc]:
                seen[rr, cc] = True
                queue.append((rr, cc))
    return blank & ~seen


def test_enclosed_blank_finds_a_ring_hole_and_nothing_in_an_open_shape():
    ring = np.zeros((28, 28))
    ring[8:20, 8:20] = 1.0
    ring[10:18, 10:18] = 0.0                 # an 8x8 hole inside a 2-pixel ring
    open_c = ring.copy()
    open_c[10:18, 18:20] = 0.0               # cut the right side: the hole meets the outside
    holes = sa.enclosed_blank(np.stack([ring.ravel(), open_c.ravel()]))
    assert holes[0].sum() == 64 and holes[0].reshape(28, 28)[10:18, 10:18].all()
    assert holes[1].sum() == 0


def test_enclosed_blank_matches_a_breadth_first_search_on_real_zeros(digits_net):
    _, X_test, y_test, _ = digits_net
    zeros = X_test[y_test == 0][:8]
    holes = sa.enclosed_blank(zeros)
    for i in range(len(zeros)):
        expected = _flood_outside(zeros[i].reshape(28, 28) == 0)
        assert np.array_equal(holes[i].reshape(28, 28), expected)


def test_quadrant_shares_and_principal_axis_on_known_maps():
    M = np.zeros((28, 28))
    M[5:9, 5:9] = 1.0
    M[20, 20] = 1.0
    shares = sa.quadrant_shares(M.ravel())
    assert shares["top-left"] == pytest.approx(16 / 17) and shares["bottom-right"] == pytest.approx(1 / 17)
    diagonal = np.zeros((28, 28))
    diagonal[np.arange(8, 20), np.arange(8, 20)] = 1.0         # down-right on screen: 135 degrees
    angle, elongation = sa.principal_axis(diagonal.ravel(), top_fraction=12 / 784)
    assert angle == pytest.approx(135.0) and elongation > 1e6
    assert sa.is_diagonal(angle, elongation)
    flat = np.zeros((28, 28))
    flat[14, 6:22] = np.linspace(1, 2, 16)
    angle, elongation = sa.principal_axis(flat.ravel(), top_fraction=16 / 784)
    assert angle == pytest.approx(0.0, abs=1e-9) or angle == pytest.approx(180.0)
    assert not sa.is_diagonal(angle, elongation)


def test_post_readings_recomputed_from_the_jacobian(digits_net):
    net, X_test, y_test, _ = digits_net
    idx = sa.one_digit_per_class(net, X_test, y_test)
    readings, maps = sa.post_readings(net, X_test, y_test, idx)
    correct = net.predict(X_test) == y_test
    # reading 1: the hole's share of |dy0/dx| against its share of the pixels, median over zeros
    zeros = X_test[correct & (y_test == 0)]
    S0 = np.abs(hn.explain.jacobian(net, zeros)[:, 0])
    hole = sa.enclosed_blank(zeros)
    has = hole.any(axis=1)
    ratio = (S0 * hole).sum(axis=1)[has] / S0.sum(axis=1)[has] / hole.mean(axis=1)[has]
    assert readings["zero"]["median ratio"] == pytest.approx(np.median(ratio), rel=1e-12)
    assert readings["zero"]["holds"] == bool(np.median(ratio) > 1)
    # readings 2 and 3: quadrant shares of the mean normalised |d(y_a - y_b)/dx|
    for key, (a, b) in (("four-nine", (4, 9)), ("seven-nine", (7, 9))):
        J = hn.explain.jacobian(net, X_test[correct & (y_test == a)])
        D = J[:, a] - J[:, b]
        mean_abs = (np.abs(D) / np.abs(D).sum(axis=1, keepdims=True)).mean(axis=0).reshape(28, 28)
        top_left = mean_abs[4:14, 4:14].sum() / mean_abs.sum()
        assert readings[key]["share top-left"] == pytest.approx(top_left, rel=1e-12)
        others = [mean_abs[r, c].sum() / mean_abs.sum() for r, c in
                  ((slice(4, 14), slice(14, 24)), (slice(14, 24), slice(4, 14)), (slice(14, 24), slice(14, 24)))]
        assert readings[key]["holds"] == bool(top_left > max(others))
        np.testing.assert_allclose(maps[(a, b)], (D / np.abs(D).sum(axis=1, keepdims=True)).mean(axis=0),
                                   rtol=1e-12, atol=1e-15)
    # reading 4: the verdict follows from the stored angles and elongations
    r = readings["five-six-eight"]
    assert r["holds"] == (sa.is_diagonal(r["angle to 6 (deg)"], r["elongation to 6"])
                          and sa.is_diagonal(r["angle to 8 (deg)"], r["elongation to 8"]))
    for b in (6, 8):
        assert (r[f"angle to {b} (deg)"], r[f"elongation to {b}"]) == \
            pytest.approx(sa.principal_axis(np.maximum(maps[(b, 5)], 0.0)), rel=1e-12)


def test_blank_pixel_share_on_known_values():
    S = np.array([[1.0, 1.0, 1.0, 1.0], [3.0, 1.0, 0.0, 0.0]])
    X = np.array([[0.0, 0.5, 0.0, 1.0], [0.0, 0.2, 0.3, 0.0]])
    np.testing.assert_allclose(sa.blank_pixel_share(S, X), [0.5, 0.75])


def test_gradient_times_input_is_zero_on_blank_pixels(digits_net):
    net, X_test, _, _ = digits_net
    G = sa.gradient_times_input(net, X_test[:20])
    assert np.all(G[X_test[:20] == 0] == 0)
    np.testing.assert_allclose(G, sa.input_gradients(net, X_test[:20]) * X_test[:20], rtol=1e-12, atol=0)


def test_saturation_table_follows_the_softmax_chain_rule(digits_net):
    net, X_test, _, _ = digits_net
    table, chain_err = sa.saturation_table(net, X_test[:50])
    assert chain_err < 1e-12
    y = net.predict_proba(X_test[:50]).max(axis=1)
    np.testing.assert_allclose(table["confidence y_t"], y)
    np.testing.assert_allclose(table["1 - y_t"], 1 - y)
    frame, ratio_out, ratio_logit = sa.quartile_comparison(table)
    assert list(frame.index) == ["least confident 25%", "most confident 25%"]
    assert ratio_out > 1 and ratio_out > ratio_logit


def test_fading_prediction_is_first_order_exact_for_small_steps(digits_net):
    net, X_test, y_test, _ = digits_net
    x, t = X_test[:5], y_test[:5]
    actual, predicted = sa.fading_prediction(net, x, [0.0, 1e-4, 1.0], t)
    assert actual.shape == predicted.shape == (3, 5)
    assert np.all(actual[0] == 0) and np.all(predicted[0] == 0)
    np.testing.assert_allclose(actual[1], predicted[1], rtol=1e-2)
    linear = -np.sum(hn.explain.input_gradient(net, x, t) * x, axis=1)          # s = 1
    np.testing.assert_allclose(predicted[2], linear, rtol=1e-12)
    exact = net.predict_proba(np.zeros_like(x))[np.arange(5), t] - net.predict_proba(x)[np.arange(5), t]
    np.testing.assert_allclose(actual[2], exact, rtol=1e-12)


# ----------------------------------------------------------------------------
# jacobian_cost
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("sizes, hidden", [([12, 6, 4], "sigmoid"), ([9, 7, 5, 3], "tanh")])
def test_finite_difference_jacobians_agree_with_handnet(sizes, hidden):
    net = random_net(sizes, hidden=hidden, seed=3)
    X = np.random.default_rng(3).normal(size=(5, sizes[0]))
    J = jc.analytic_jacobian(net, X)
    assert J.shape == (5, sizes[-1], sizes[0])
    assert jc.relative_difference(J, jc.finite_difference_jacobian(net, X)) < 1e-7
    assert jc.relative_difference(J, jc.first_layer_reuse_jacobian(net, X)) < 1e-7
    # column j of the Jacobian by the independent loop of conftest, for row 0
    for j in (0, sizes[0] - 1):
        def f(v, j=j):
            x = X[0].copy()
            x[j] = v[0]
            return net.predict_proba(x[None])[0]
        column = np.array([central_difference(lambda v, k=k: f(v)[k], X[0, j:j + 1])[0]
                           for k in range(sizes[-1])])
        np.testing.assert_allclose(J[0, :, j], column, rtol=1e-6, atol=1e-10)


def test_partial_finite_differences_leave_other_columns_zero():
    net = random_net([10, 5, 3], seed=1)
    X = np.random.default_rng(1).uniform(size=(4, 10))
    J = jc.finite_difference_jacobian(net, X, features=range(3))
    assert np.all(J[:, :, 3:] == 0)
    assert jc.relative_difference(jc.analytic_jacobian(net, X)[:, :, :3], J[:, :, :3]) < 1e-7


def test_cost_model_slope_and_published_ratio():
    assert jc.multiply_add_ratio([65536, 25, 13]) == pytest.approx(2 * 65536 / 14)
    D = np.array([64.0, 256.0, 1024.0])
    assert jc.log_log_slope(D, 0.18 * D) == pytest.approx(1.0)
    assert jc.log_log_slope(D, 3.0 * D ** 0.5) == pytest.approx(0.5)
    image = {"m": 16, "analytic (s)": 0.004, "finite differences, extrapolated (s)": 180.0,
             "ratio (extrapolated / analytic)": 45000.0, "model 2D/(K+1)": 9362.3}
    table = jc.claims_table(image)
    assert table.loc["published (source material)", "ratio"] == "12,960"
    assert table.loc["this run", "ratio"] == "45,000"


def test_interleaved_times_and_timing_table_shapes():
    calls = []
    def make(name):
        def f():
            calls.append(name)
            return len(calls)
        return f

    times, results = jc.interleaved_times({"a": make("a"), "b": make("b")}, rounds=3, min_seconds=0.0)
    assert set(times) == {"a", "b"} and all(len(t) == 3 and np.all(t >= 0) for t in times.values())
    assert calls.count("a") == calls.count("b") == 4                    # one sizing call + 3 rounds
    assert results == {"a": 1, "b": 2}                                  # the sizing calls' results
    table = jc.time_jacobians((4, 8), n_rows=3, hidden=5, K=3, rounds=1)
    assert list(table.index) == [4, 8]
    assert (table["max rel. difference"] < 1e-7).all()
    assert (table["model 2D/(K+1)"] == [2.0, 4.0]).all()


def test_jacobian_vs_forward_table_and_the_mnist_jacobian():
    net, X_test, acc, diff = jc.mnist_jacobian(epochs=1)
    assert net.layer_sizes == [784, 64, 10] and X_test.shape[1] == 784 and acc > 0.5
    assert diff < 1e-6
    table = jc.jacobian_vs_forward(net, X_test, batch_sizes=(1, 7), rounds=1)
    assert list(table.index) == [1, 7] and (table["model K+1"] == 11).all()
    assert np.all(np.isfinite(table.to_numpy())) and np.all(table.to_numpy() > 0)


def test_digit_jacobian_rows_are_the_per_class_gradients():
    net, x, label, J = jc.digit_jacobian(epochs=20)
    assert J.shape == (10, 64) and x.shape == (1, 64) and 0 <= label <= 9
    for k in (0, label, 9):
        np.testing.assert_allclose(J[k], hn.explain.input_gradient(net, x, k)[0], rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------
# sine_derivatives
# ----------------------------------------------------------------------------

def test_derivatives_of_a_one_unit_tanh_net_are_the_exact_chain_rule():
    """g(u) = tanh(a u), so f(x) = tanh(c x) with c = a / 2pi: f' = c sech^2, f'' = -2 c^2 tanh sech^2."""
    a = 1.7
    net = hn.MLP([1, 1, 1], hidden="tanh", output="identity")
    net.weights[0] = [[a]]
    net.biases[0] = [0.0]
    net.weights[1] = [[1.0]]
    net.biases[1] = [0.0]
    X = np.linspace(-2 * np.pi, 2 * np.pi, 41)[:, None]
    f, f1, f2 = sd.derivatives(net, X)
    c = a / (2 * np.pi)
    th = np.tanh(c * X[:, 0])
    np.testing.assert_allclose(f, th, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(f1, c * (1 - th ** 2), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(f2, -2 * c ** 2 * th * (1 - th ** 2), rtol=1e-12, atol=1e-15)


def test_derivatives_match_central_differences_in_x():
    net = random_net([1, 8, 1], hidden="tanh", output="identity", seed=5)
    X = np.linspace(-6, 6, 7)[:, None]
    f, f1, f2 = sd.derivatives(net, X)
    for i in range(len(X)):
        fd1 = central_difference(lambda v: net.predict_proba(v[None] / sd.SCALE)[0, 0], X[i])[0]
        fd2 = central_difference(lambda v: sd.derivatives(net, v[None])[1][0], X[i])[0]
        assert f1[i] == pytest.approx(fd1, rel=1e-6, abs=1e-10)
        assert f2[i] == pytest.approx(fd2, rel=1e-6, abs=1e-10)
    lesson_fd1, lesson_fd2 = sd.central_differences(net, X)
    assert sd.scaled_difference(f1, lesson_fd1) < 1e-6 and sd.scaled_difference(f2, lesson_fd2) < 1e-6


def test_errors_against_sine_are_zero_for_the_exact_answer():
    X = np.linspace(-2 * np.pi, 2 * np.pi, 50)[:, None]
    x = X[:, 0]
    err = sd.errors_against_sine(X, np.sin(x), np.cos(x), -np.sin(x))
    assert list(err) == list(sd.ERROR_NAMES)
    assert err["max |f - sin|"] == err["max |f' - cos|"] == err["max |f'' + sin|"] == 0
    assert err["corr(f'', -sin)"] == pytest.approx(1.0)
    assert sd.interpolation_model(0.1) == pytest.approx((0.00125, 0.05))


def test_tanh_fit_quick_settings_meet_the_quick_tolerances():
    X, y = hn.datasets.make_sine()
    tol = sd.TOLERANCES["quick"]
    net = sd.fit_tanh(X, y, epochs=tol["epochs"])
    err = sd.errors_against_sine(X, *sd.derivatives(net, X))
    assert err["max |f - sin|"] < tol["f"]
    assert err["max |f' - cos|"] < tol["f1"]
    assert err["max |f'' + sin|"] < tol["f2"] and err["corr(f'', -sin)"] > tol["corr"]


def test_spread_kinks_places_the_kinks_evenly():
    net = sd.spread_kinks(hn.MLP([1, 9, 1], hidden="relu", output="identity"), seed=2)
    kinks, _ = sd.relu_kinks(net)
    np.testing.assert_allclose(np.sort(kinks), 2 * np.pi * np.linspace(-1, 1, 9), atol=1e-12)
    assert set(np.abs(net.weights[0][0])) == {1.0}


@pytest.mark.parametrize("seed", [0, 1])
def test_relu_second_derivative_is_exactly_zero_and_slopes_jump_by_v_abs_w(seed):
    net = random_net([1, 12, 1], hidden="relu", output="identity", seed=seed, scale=2.0)
    grid = np.linspace(-2 * np.pi, 2 * np.pi, 1001)
    f, f1, f2 = sd.derivatives(net, grid[:, None])
    assert np.all(f2 == 0)
    kinks, jumps = sd.relu_kinks(net)
    u = kinks / sd.SCALE                                            # the unit's pre-activation is 0 there
    np.testing.assert_allclose(u * net.weights[0][0] + net.biases[0], 0, atol=1e-12)
    w, v = net.weights[0][0], net.weights[1][:, 0]
    np.testing.assert_allclose(jumps, v * np.abs(w) / (2 * np.pi))
    observed, predicted = sd.slope_jumps_on_grid(net, grid)
    np.testing.assert_allclose(observed, predicted, atol=1e-12)
    assert np.count_nonzero(observed) == sd.cells_with_kinks(grid, kinks)
    # the slope just left and right of one kink inside, by handnet's input gradient
    inside = kinks[(kinks > grid[0]) & (kinks < grid[-1])]
    k = int(np.flatnonzero(kinks == inside[0])[0])
    left, right = sd.derivatives(net, np.array([[kinks[k] - 1e-7], [kinks[k] + 1e-7]]))[1]
    assert right - left == pytest.approx(jumps[k], abs=1e-9)


def test_relu_fit_values_are_closer_than_its_slopes():
    X, y = hn.datasets.make_sine()
    net = sd.fit_relu(X, y)
    err = sd.errors_against_sine(X, *sd.derivatives(net, X))
    assert err["max |f - sin|"] < 0.05
    assert err["max |f' - cos|"] > 3 * err["max |f - sin|"]
    assert err["max |f'' + sin|"] == pytest.approx(np.max(np.abs(np.sin(X))))   # f'' = 0


def test_sparse_fit_matches_values_but_not_slopes():
    net, X, y = sd.fit_sparse()
    assert X.shape == (10, 1)
    f, f1, _ = sd.derivatives(net, X)
    assert np.max(np.abs(f - y[:, 0])) < 0.01
    assert np.max(np.abs(f1 - np.cos(X[:, 0]))) > 0.5


def test_top_pixel_share_on_known_values():
    S = np.array([[4.0, 3.0, 2.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(sa.top_pixel_share(S, k=2), [0.7, 0.5])
