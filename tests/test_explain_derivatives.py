"""hn.explain's input derivatives against central finite differences.

Every derivative is checked on random architectures and activations (hypothesis):
the input gradient and the Jacobian against central differences of the output,
the Hessian (diagonal and full) against central differences of the analytic
gradient AND against second differences of the output itself, which share no
code with handnet.explain.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import handnet as hn
from handnet.explain import (gradient_x_input, input_gradient, input_hessian, input_hessian_diag,
                             jacobian, region_map, region_maps, sensitivity)
from conftest import (HIDDEN, assert_gradients_close, assert_within, away_from_kinks, central_difference,
                      hessian_bound, jacobian_bound, ops_rtol, product_bound, random_net)

OUTPUTS = ("sigmoid", "softmax", "identity")


def output_of(net, k):
    """x (D,) -> y_k(x): the network as a plain function of one input."""
    return lambda x: net.predict_proba(x[None, :])[0, k]


def logit_of(net, k):
    return lambda x: net.forward_pass(x[None, :])[0][-1][0, k]


def second_difference(f, x, h=1e-4):
    """d2f/dx_j^2 ~ (f(x + h e_j) - 2 f(x) + f(x - h e_j)) / h^2, independent of handnet."""
    out = np.empty(x.size)
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = h
        out[j] = (f(x + e) - 2.0 * f(x) + f(x - e)) / h**2
    return out


def second_difference_tolerance(f, x, h=1e-4):
    """The rounding error of second_difference: each f carries about eps |f| of error and the
    difference is divided by h^2, so allow 1e-6 (about 4 eps / h^2) per unit of |f|."""
    return 1e-6 * max(1.0, abs(f(x)))


architectures = dict(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5),
    hidden=st.sampled_from(HIDDEN),
    output=st.sampled_from(OUTPUTS),
    n_rows=st.integers(1, 4),
    seed=st.integers(0, 10_000),
)


def build(sizes, hidden, output, n_rows, seed):
    if output == "softmax":
        sizes = sizes[:-1] + [max(2, sizes[-1])]
    net = random_net(sizes, hidden, output, seed)
    rng = np.random.default_rng(seed + 1)
    X = rng.normal(size=(n_rows, sizes[0]))
    assume(away_from_kinks(net, X, margin=1e-3))
    t = rng.integers(0, sizes[-1], size=n_rows)
    return net, X, t


# ----------------------------------------------------------------------------
# First derivatives
# ----------------------------------------------------------------------------

@given(**architectures)
def test_input_gradient_matches_central_differences(sizes, hidden, output, n_rows, seed):
    net, X, t = build(sizes, hidden, output, n_rows, seed)
    g = input_gradient(net, X, t)
    assert g.shape == X.shape and g.dtype == np.float64
    for i in range(n_rows):
        numerical = central_difference(output_of(net, t[i]), X[i])
        assert_gradients_close(g[i], numerical, rtol=1e-7, atol=1e-9)


@given(**architectures)
def test_jacobian_matches_central_differences(sizes, hidden, output, n_rows, seed):
    net, X, t = build(sizes, hidden, output, n_rows, seed)
    J = jacobian(net, X)
    K = net.layer_sizes[-1]
    assert J.shape == (n_rows, K, X.shape[1])
    for i in range(n_rows):
        for k in range(K):
            assert_gradients_close(J[i, k], central_difference(output_of(net, k), X[i]),
                                   rtol=1e-7, atol=1e-9)


@given(**architectures)
def test_preactivation_jacobian_matches_central_differences(sizes, hidden, output, n_rows, seed):
    net, X, t = build(sizes, hidden, output, n_rows, seed)
    J = jacobian(net, X, wrt="preactivation")
    g = input_gradient(net, X, t, wrt="preactivation")
    for i in range(n_rows):
        for k in range(net.layer_sizes[-1]):
            assert_gradients_close(J[i, k], central_difference(logit_of(net, k), X[i]),
                                   rtol=1e-7, atol=1e-9)
        # two batchings of the same recursion: apart by rounding alone
        assert_within(g[i], J[i, t[i]], jacobian_bound(net, X[i:i + 1])[0, t[i]])


@given(**architectures)
def test_input_gradient_is_the_targets_row_of_the_jacobian(sizes, hidden, output, n_rows, seed):
    net, X, t = build(sizes, hidden, output, n_rows, seed)
    J = jacobian(net, X)
    g = input_gradient(net, X, t)
    # one output unit against all at once: the same recursion batched differently
    assert_within(g, J[np.arange(n_rows), t], jacobian_bound(net, X)[np.arange(n_rows), t])


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 1000])
def test_jacobian_in_chunks_equals_one_pass(chunk_size):
    net = random_net([7, 6, 5, 4], "tanh", "softmax", seed=2)
    X = np.random.default_rng(0).normal(size=(10, 7))
    np.testing.assert_array_equal(jacobian(net, X, chunk_size=chunk_size),
                                  jacobian(net, X, chunk_size=10))


def test_jacobian_memory_is_chunked(monkeypatch):
    """With a tiny working-memory budget the rows go through in many small chunks."""
    from handnet.explain import gradients

    net = random_net([6, 5, 3], "sigmoid", "sigmoid", seed=1)
    X = np.random.default_rng(1).normal(size=(40, 6))
    full = jacobian(net, X)
    calls = []
    real = gradients.backpropagate

    def spy(net_, zs, acts, delta, **kw):
        calls.append(delta.shape[0])
        return real(net_, zs, acts, delta, **kw)

    monkeypatch.setattr(gradients, "CHUNK_ELEMENTS", 100)
    monkeypatch.setattr(gradients, "backpropagate", spy)
    np.testing.assert_array_equal(jacobian(net, X), full)
    assert len(calls) > 1 and max(calls) < 40 and sum(calls) == 40


def test_target_none_is_the_predicted_class():
    net = random_net([5, 4, 3], "sigmoid", "softmax", seed=4)
    X = np.random.default_rng(2).normal(size=(8, 5))
    predicted = net.predict(X)
    np.testing.assert_array_equal(input_gradient(net, X), input_gradient(net, X, predicted))
    np.testing.assert_array_equal(input_gradient(net, X, 2), input_gradient(net, X, [2] * 8))


def test_single_output_network_explains_its_one_unit():
    net = random_net([3, 4, 1], "tanh", "sigmoid", seed=5)
    X = np.random.default_rng(3).normal(size=(4, 3))
    np.testing.assert_array_equal(input_gradient(net, X), input_gradient(net, X, 0))


def test_sensitivity_and_gradient_x_input_are_built_on_the_gradient():
    net = random_net([6, 5, 3], "sigmoid", "sigmoid", seed=6)
    X = np.random.default_rng(4).normal(size=(5, 6))
    g = input_gradient(net, X, 1)
    np.testing.assert_array_equal(sensitivity(net, X, 1), np.abs(g))
    np.testing.assert_array_equal(gradient_x_input(net, X, 1), g * X)
    np.testing.assert_array_equal(gradient_x_input(net, X, 1, absolute=True), np.abs(g) * X)


def test_linear_network_gradient_x_input_is_w_times_x():
    """No hidden layer, identity output: y = x @ w + b, so dy/dx_j * x_j = w_j x_j exactly."""
    net = random_net([5, 2], "sigmoid", "identity", seed=7)
    X = np.random.default_rng(5).normal(size=(6, 5))
    w = net.weights[0][:, 1]
    np.testing.assert_array_equal(input_gradient(net, X, 1), np.broadcast_to(w, X.shape))
    np.testing.assert_allclose(gradient_x_input(net, X, 1), w * X, rtol=0, atol=0)


# ----------------------------------------------------------------------------
# Second derivatives
# ----------------------------------------------------------------------------

@given(**architectures)
def test_hessian_diagonal_matches_differences_of_the_gradient(sizes, hidden, output, n_rows, seed):
    net, X, t = build(sizes, hidden, output, n_rows, seed)
    H = input_hessian_diag(net, X, t)
    assert H.shape == X.shape
    for i in range(n_rows):
        for j in range(X.shape[1]):
            def dy_dxj(v, i=i, j=j):
                x = X[i].copy()
                x[j] = v[0]
                return input_gradient(net, x[None, :], int(t[i]))[0, j]
            numerical = central_difference(dy_dxj, X[i, j:j + 1])
            assert_gradients_close(H[i, j:j + 1], numerical, rtol=1e-6, atol=1e-9)


@given(**architectures)
def test_hessian_diagonal_matches_second_differences_of_the_output(sizes, hidden, output, n_rows,
                                                                   seed):
    net, X, t = build(sizes, hidden, output, n_rows, seed)
    H = input_hessian_diag(net, X, t)
    for i in range(n_rows):
        f = output_of(net, t[i])
        assert_gradients_close(H[i], second_difference(f, X[i]), rtol=1e-4,
                               atol=second_difference_tolerance(f, X[i]))


@given(**architectures)
def test_full_hessian_matches_differences_of_the_gradient(sizes, hidden, output, n_rows, seed):
    net, X, t = build(sizes, hidden, output, n_rows, seed)
    x, target = X[0], int(t[0])
    H = input_hessian(net, x, target)
    D = x.size
    assert H.shape == (D, D)
    numerical = np.empty((D, D))
    for j in range(D):
        numerical[:, j] = central_difference(lambda v: input_gradient(net, v[None, :], target)[0, j], x)
    assert_gradients_close(H, numerical, rtol=1e-6, atol=1e-9)
    bound = hessian_bound(net, x, target)       # J.T C J is symmetric up to its rounding
    assert_within(H, H.T, bound)
    assert_within(np.diag(H), input_hessian_diag(net, x[None, :], target)[0], np.diag(bound))


@given(**architectures)
def test_logit_hessian_matches_differences(sizes, hidden, output, n_rows, seed):
    net, X, t = build(sizes, hidden, output, n_rows, seed)
    H = input_hessian_diag(net, X, t, wrt="preactivation")
    for i in range(n_rows):
        f = logit_of(net, t[i])
        assert_gradients_close(H[i], second_difference(f, X[i]), rtol=1e-4,
                               atol=second_difference_tolerance(f, X[i]))


@pytest.mark.parametrize("output", ["identity", "sigmoid"])
def test_relu_network_hessian_is_exactly_zero_where_the_output_is_linear(output):
    """ReLU hidden layers add no curvature. With an identity output the whole Hessian is 0;
    with a sigmoid output only the output's own curvature remains (checked by differences)."""
    net = random_net([6, 8, 8, 3], "relu", output, seed=8)
    X = np.random.default_rng(6).normal(size=(5, 6))
    assert away_from_kinks(net, X)
    H = input_hessian_diag(net, X, 0)
    if output == "identity":
        assert np.all(H == 0.0)
        assert np.all(input_hessian(net, X[0], 0) == 0.0)
    else:
        assert np.max(np.abs(H)) > 1e-6
        for i in range(5):
            f = output_of(net, 0)
            assert_gradients_close(H[i], second_difference(f, X[i]), rtol=1e-4,
                                   atol=second_difference_tolerance(f, X[i]))


@pytest.mark.parametrize("chunk_size", [1, 4, 100])
def test_hessian_diagonal_in_chunks_equals_one_pass(chunk_size):
    net = random_net([5, 6, 4, 3], "sigmoid", "softmax", seed=9)
    X = np.random.default_rng(7).normal(size=(9, 5))
    # other chunk sizes may change BLAS's blocking, hence the rounding, and nothing else
    bound = np.array([np.diag(hessian_bound(net, x, 1)) for x in X])
    assert_within(input_hessian_diag(net, X, 1, chunk_size=chunk_size),
                  input_hessian_diag(net, X, 1, chunk_size=9), bound)


def test_sigmoid_unit_curvature_by_hand():
    """One input, one sigmoid unit: y = s(w x + b), y'' = w^2 s (1 - s)(1 - 2 s)."""
    net = hn.MLP([1, 1], output="sigmoid")
    net.weights[0] = [[1.7]]
    net.biases[0] = [-0.4]
    x = np.array([[0.9]])
    s = 1.0 / (1.0 + np.exp(-(1.7 * 0.9 - 0.4)))
    expected = 1.7**2 * s * (1 - s) * (1 - 2 * s)
    # a dozen roundings on either side (z, exp, the sigmoid, the products), no cancellation
    # except in 1 - 2s = 0.41 (which loses at most a factor 1/0.41 of accuracy)
    np.testing.assert_allclose(input_hessian_diag(net, x, 0), [[expected]], rtol=ops_rtol(12) / 0.41)
    np.testing.assert_allclose(input_gradient(net, x, 0), [[1.7 * s * (1 - s)]], rtol=ops_rtol(12))


# ----------------------------------------------------------------------------
# Region maps
# ----------------------------------------------------------------------------

def test_region_maps_of_a_single_layer_are_its_weight_columns():
    net = random_net([7, 3], "sigmoid", "sigmoid", seed=10)
    np.testing.assert_array_equal(region_maps(net), net.weights[0].T)
    np.testing.assert_array_equal(region_map(net, 2), net.weights[0][:, 2])


@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5), seed=st.integers(0, 1000))
def test_region_maps_equal_the_jacobian_of_a_linear_network(sizes, seed):
    """With identity activations everywhere the network is x @ (W_1 ... W_L) + const, so the
    backward projection of e_c is exactly dy_c/dx, whatever the biases."""
    net = random_net(sizes, "identity", "identity", seed)
    X = np.random.default_rng(seed).normal(size=(2, sizes[0]))
    maps = region_maps(net)
    assert maps.shape == (sizes[-1], sizes[0])
    # the same product of weight matrices, multiplied in other batchings: apart by rounding
    # alone (hypothesis found [5, 5, 5, 5, 3] 1.8e-15 apart, beyond a typed atol of 1e-15)
    bound = product_bound(np.eye(sizes[-1]), *[W.T for W in reversed(net.weights)])
    assert_within(jacobian(net, X)[0], maps, bound)
    for c in range(sizes[-1]):
        assert_within(region_map(net, c), maps[c], bound[c])


def test_region_maps_ignore_biases_and_nonlinearities():
    net = random_net([4, 3, 2], "sigmoid", "sigmoid", seed=11)
    other = net.copy()
    other.biases[0] = [50.0, -50.0, 3.0]          # saturate two hidden units: the maps do not care
    np.testing.assert_array_equal(region_maps(net), region_maps(other))
    W1, W2 = net.weights
    assert_within(region_maps(net), (W1 @ W2).T, product_bound(W1, W2).T)


# ----------------------------------------------------------------------------
# Bad input and extreme input
# ----------------------------------------------------------------------------

@pytest.fixture
def net3():
    return random_net([4, 3, 3], "sigmoid", "sigmoid", seed=12)


@pytest.mark.parametrize("call,exc,match", [
    (lambda n, X: input_gradient(n, X, 3), ValueError, r"target: expected an output unit in 0..2"),
    (lambda n, X: input_gradient(n, X, [0, 1]), ValueError, r"target: expected 3 output units"),
    (lambda n, X: input_gradient(n, X, [0, 1, 1.5]), ValueError, r"got 1.5 at index 2"),
    (lambda n, X: input_gradient(n, X, np.zeros((3, 1))), TypeError, r"target: expected an int"),
    (lambda n, X: input_gradient(n, X, 0, wrt="logits"), ValueError, r"wrt: expected one of"),
    (lambda n, X: jacobian(n, X, wrt=None), ValueError, r"wrt: expected one of"),
    (lambda n, X: jacobian(n, X, chunk_size=0), ValueError, r"chunk_size: expected a positive"),
    (lambda n, X: jacobian(n, X[:, :3]), ValueError, r"X: expected 4 columns"),
    (lambda n, X: sensitivity(n, X[0]), ValueError, r"X: expected a 2-D array .* x.reshape\(1, -1\)"),
    (lambda n, X: input_hessian_diag(n, X, -1), ValueError, r"target: expected an output unit"),
    (lambda n, X: input_hessian(n, X, 0), ValueError,
     r"x: expected one input of shape \(4,\) or \(1, 4\), got shape \(3, 4\)"),
    (lambda n, X: input_hessian(n, X[0, :2], 0), ValueError, r"x: expected one input"),
    (lambda n, X: region_map(n, 3), ValueError, r"c: expected a class index in 0..2"),
    (lambda n, X: region_map(n, 1.0), TypeError, r"c: expected a class index"),
    (lambda n, X: gradient_x_input(n, np.where(X > 0, np.nan, X)), ValueError,
     r"X: expected finite numbers"),
])
def test_bad_arguments_are_named(net3, call, exc, match):
    X = np.random.default_rng(0).normal(size=(3, 4))
    with pytest.raises(exc, match=match):
        call(net3, X)


def test_regression_network_needs_an_explicit_target():
    net = random_net([3, 4, 2], "tanh", "identity", seed=13)
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"target: None means the predicted class, but this "
                                         r"network has 2 real-valued \(identity\) outputs"):
        input_gradient(net, X)
    assert input_gradient(net, X, 1).shape == (2, 3)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", OUTPUTS)
def test_extreme_inputs_give_finite_derivatives_without_warnings(hidden, output):
    """Saturated units give derivatives of exactly 0, never NaN or an overflow warning
    (pytest turns warnings into errors)."""
    net = random_net([4, 5, 3], hidden, output, seed=14)
    X = np.array([[1e4, -1e4, 5e3, -3e3], [0.0, 1e4, 1e4, -1e4]])
    for values in (input_gradient(net, X, 0), jacobian(net, X), input_hessian_diag(net, X, 0),
                   input_hessian(net, X[0], 0)):
        assert np.all(np.isfinite(values))
