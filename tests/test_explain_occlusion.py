"""Occlusion against a slow, obviously-correct reference; exact values for a linear network;
Captum itself when it is installed; and the bad inputs."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handnet.explain import gradient_x_input, normalize_max, occlusion, window_grid
from conftest import HIDDEN_STACKS, assert_within, forward_bound, ops_rtol, random_net


def occlusion_bound(net, X, baseline):
    """(N, 1): how far two computations of an occlusion map may differ. Each drop is
    y_t(x) - y_t(x with a window at the baseline), each output off by at most forward_bound
    for inputs of size |x| + |baseline|; a mean of drops is off by no more than its worst."""
    size = np.abs(X) + np.abs(np.broadcast_to(baseline, X.shape))
    return 2 * forward_bound(net, size)[:, None]


def reference_occlusion(net, X, t, window, stride, baseline, shape):
    """Captum's definition, written plainly: for every window position (starts 0, s, 2s, ...
    along each axis, ceil((n - w) / s) + 1 of them, the last cut off at the edge) a full
    forward pass with the window set to the baseline; each feature averages the drops of
    the windows covering it."""
    N, D = X.shape
    base = np.broadcast_to(np.asarray(baseline, dtype=float).reshape(-1, D) if np.ndim(baseline)
                           else np.full((1, D), float(baseline)), (N, D))
    y = net.predict_proba(X)[np.arange(N), t]
    total = np.zeros((N, D))
    count = np.zeros(D)
    starts = [range(0, math.ceil((n - w) / s) * s + 1, s) for n, w, s in zip(shape, window, stride)]
    for corner in itertools.product(*starts):
        mask = np.zeros(shape, dtype=bool)
        mask[tuple(slice(c, c + w) for c, w in zip(corner, window))] = True
        mask = mask.ravel()
        Xo = X.copy()
        Xo[:, mask] = base[:, mask]
        drop = y - net.predict_proba(Xo)[np.arange(N), t]
        total[:, mask] += drop[:, None]
        count[mask] += 1
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


@given(D=st.integers(1, 12), window=st.integers(1, 12), stride=st.integers(1, 5),
       n_rows=st.integers(1, 4), seed=st.integers(0, 1000), baseline_kind=st.sampled_from(
           ["zero", "scalar", "row", "per-row"]),
       hidden_sizes=st.lists(st.integers(1, 5), max_size=3),
       hidden=HIDDEN_STACKS,
       output=st.sampled_from(["sigmoid", "softmax", "identity"]))
def test_1d_occlusion_matches_the_reference(D, window, stride, n_rows, seed, baseline_kind,
                                            hidden_sizes, hidden, output):
    window = min(window, D)
    rng = np.random.default_rng(seed)
    net = random_net([D] + hidden_sizes + [3], hidden, output, seed)
    X = rng.normal(size=(n_rows, D))
    t = rng.integers(0, 3, size=n_rows)
    baseline = {"zero": 0.0, "scalar": 0.3, "row": rng.normal(size=D),
                "per-row": rng.normal(size=(n_rows, D))}[baseline_kind]
    A = occlusion(net, X, t, window, stride=stride, baseline=baseline)
    expected = reference_occlusion(net, X, t, (window,), (stride,), baseline, (D,))
    assert_within(A, expected, occlusion_bound(net, X, baseline))


@given(h=st.integers(1, 6), w=st.integers(1, 6), wh=st.integers(1, 6), ww=st.integers(1, 6),
       sh=st.integers(1, 4), sw=st.integers(1, 4), seed=st.integers(0, 1000))
def test_2d_occlusion_matches_the_reference(h, w, wh, ww, sh, sw, seed):
    wh, ww = min(wh, h), min(ww, w)
    rng = np.random.default_rng(seed)
    net = random_net([h * w, 5, 4], "sigmoid", "sigmoid", seed)
    X = rng.uniform(size=(3, h * w))
    t = rng.integers(0, 4, size=3)
    A = occlusion(net, X, t, (wh, ww), stride=(sh, sw), image_shape=(h, w))
    expected = reference_occlusion(net, X, t, (wh, ww), (sh, sw), 0.0, (h, w))
    assert_within(A, expected, occlusion_bound(net, X, 0.0))


def test_digits_2x2_occlusion_matches_the_reference(digits):
    X, y = digits
    net = random_net([64, 10, 10], seed=3)
    A = occlusion(net, X[:20], None, (2, 2), image_shape=(8, 8))
    t = net.predict(X[:20])
    assert_within(A, reference_occlusion(net, X[:20], t, (2, 2), (1, 1), 0.0, (8, 8)),
                  occlusion_bound(net, X[:20], 0.0))


@pytest.mark.parametrize("window", [1, 2, 3, 5])
def test_linear_network_occlusion_is_the_window_sum_of_w_times_x(window):
    """No hidden layer, identity output: y = x @ w + b. Occluding a window with baseline 0 drops
    y by sum_{j in window} w_j x_j exactly; a feature gets the mean of its windows' drops."""
    rng = np.random.default_rng(window)
    D = 7
    net = random_net([D, 2], output="identity", seed=window)
    X = rng.normal(size=(5, D))
    w = net.weights[0][:, 1]
    contributions = w * X                                          # (N, D): w_j x_j
    expected = np.zeros((5, D))
    count = np.zeros(D)
    for start in range(D - window + 1):                            # stride 1: no cut-off window
        expected[:, start:start + window] += contributions[:, start:start + window].sum(1, keepdims=True)
        count[start:start + window] += 1
    A = occlusion(net, X, 1, window)
    bound = occlusion_bound(net, X, 0.0)
    assert_within(A, expected / count, bound)
    if window == 1:
        assert_within(A, gradient_x_input(net, X, 1), bound)


def test_window_positions_and_cut_off_edges():
    index, M = window_grid((5,), (2,), (2,))
    # ceil((5 - 2) / 2) + 1 = 3 windows: [0, 1], [2, 3], [4] (cut off, padded with D = 5)
    np.testing.assert_array_equal(index, [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(M, [[1, 1, 0, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 0, 1]])
    index, M = window_grid((3, 4), (2, 2), (1, 3))
    assert index.shape == (2 * 2, 4)                   # rows: 2 positions; columns: 0 and 3
    np.testing.assert_array_equal(M.sum(axis=0).reshape(3, 4), [[1, 1, 0, 1], [2, 2, 0, 2],
                                                                [1, 1, 0, 1]])


def test_features_no_window_covers_get_zero():
    net = random_net([6, 3, 2])
    X = np.random.default_rng(0).normal(size=(2, 6))
    A = occlusion(net, X, 0, 1, stride=2)              # windows at 0, 2, 4: 1, 3, 5 uncovered
    assert np.all(A[:, 1::2] == 0.0) and np.all(np.isfinite(A))
    assert np.all(A[:, 0::2] != 0.0)


def test_normalize_max_scales_each_row():
    net = random_net([8, 4, 3], seed=5)
    X = np.random.default_rng(5).normal(size=(6, 8))
    A = occlusion(net, X, 2, 2)
    An = occlusion(net, X, 2, 2, normalize="max")
    np.testing.assert_array_equal(np.max(np.abs(An), axis=1), 1.0)          # x / x is exactly 1
    # the same occlusion twice, then one division each: equal up to that division's rounding
    np.testing.assert_allclose(An, A / np.max(np.abs(A), axis=1, keepdims=True), rtol=ops_rtol(1), atol=0)
    np.testing.assert_array_equal(normalize_max(np.zeros((2, 3))), np.zeros((2, 3)))


def test_chunked_occlusion_equals_one_batch():
    net = random_net([16, 6, 3], seed=6)
    X = np.random.default_rng(6).normal(size=(11, 16))
    one = occlusion(net, X, None, (2, 2), image_shape=(4, 4), chunk_size=11)
    for chunk in (1, 3, 5):
        # another chunk size may change BLAS's blocking, hence the rounding, and nothing else
        assert_within(occlusion(net, X, None, (2, 2), image_shape=(4, 4), chunk_size=chunk), one,
                      occlusion_bound(net, X, 0.0))


def test_extreme_inputs_give_finite_values_without_warnings():
    net = random_net([6, 4, 3], seed=7)
    X = np.array([[1e4, -1e4, 3e3, 0.0, -5e3, 1e4]])
    A = occlusion(net, X, 0, 2, baseline=-1e4)
    assert np.all(np.isfinite(A))


def test_same_numbers_as_captum_when_installed(digits):
    torch = pytest.importorskip("torch")
    captum_attr = pytest.importorskip("captum.attr")
    X, _ = digits
    X = X[:10]
    net = random_net([64, 12, 10], seed=8)
    W1, W2 = (torch.tensor(np.asarray(W)) for W in net.weights)
    b1, b2 = (torch.tensor(np.asarray(b)) for b in net.biases)

    def model(images):
        a1 = torch.sigmoid(images.reshape(images.shape[0], -1) @ W1 + b1)
        return torch.sigmoid(a1 @ W2 + b2)

    t = net.predict(X)
    for window, stride in [((2, 2), 1), ((3, 3), (2, 3))]:
        expected = captum_attr.Occlusion(model).attribute(
            torch.tensor(X.reshape(-1, 8, 8)), sliding_window_shapes=window, strides=stride,
            baselines=0.0, target=torch.tensor(t)).numpy().reshape(10, 64)
        A = occlusion(net, X, t, window, stride=stride, image_shape=(8, 8))
        # Captum (0.9) casts its summed drops to float32 before dividing by the window
        # counts (FeatureAblation: single_attrib.float() / weight), so it agrees with
        # float64 to float32's 6e-8 relative; the float64 reference above agrees to 1e-10.
        np.testing.assert_allclose(A, expected, rtol=2e-7, atol=1e-9)


# ----------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------

@pytest.fixture
def small():
    return random_net([6, 4, 3]), np.random.default_rng(0).normal(size=(2, 6))


@pytest.mark.parametrize("kwargs,match", [
    (dict(window=7), r"window: a 7 window does not fit in the 6 input"),
    (dict(window=(2, 4), image_shape=(2, 3)), r"window: a 2 x 4 window .*axis 1: 4 > 3"),
    (dict(window=2, stride=0), r"stride: expected positive sizes, got \(0,\)"),
    (dict(window=2, stride=-1), r"stride: expected positive sizes"),
    (dict(window=0), r"window: expected positive sizes"),
    (dict(window=2, image_shape=(4, 4)), r"image_shape: 4 x 4 = 16 features, but there are D = 6"),
    (dict(window=2, image_shape=(0, 6)), r"image_shape: expected positive sizes, got \(0, 6\)"),
    (dict(window=(2, 2)), r"window: expected 1 size\(s\), one per axis"),
    (dict(window=2, baseline=np.zeros(5)), r"baseline: expected a number, an array of shape \(6,\)"),
    (dict(window=2, baseline=np.zeros((3, 6))), r"baseline: .*got shape \(3, 6\)"),
    (dict(window=2, baseline=np.nan), r"baseline: expected finite numbers"),
    (dict(window=2, normalize="sum"), r"normalize: expected one of \(None, 'max'\), got str 'sum'"),
    (dict(window=2, target=3), r"target: expected an output unit in 0..2 .* got 3"),
    (dict(window=2, target=-1), r"target: expected an output unit in 0..2"),
    (dict(window=2, target=[0, 5]), r"target: expected output units in 0..2 .* got 5 at index 1"),
    (dict(window=2, target=[0, 1, 2]), r"target: expected 2 output units \(one per row of X\), got 3"),
])
def test_bad_arguments_are_clear_value_errors(small, kwargs, match):
    call_with_bad_argument(small, kwargs, ValueError, match)


@pytest.mark.parametrize("kwargs,match", [
    (dict(window=2.5), r"window: expected an int or a tuple of 1 ints, got float 2.5"),
    (dict(window="2"), r"window: expected an int or a tuple"),
    (dict(window=2, stride=True), r"stride: expected an int or a tuple"),
    (dict(window=2, target="cat"), r"target: expected an int, 2 ints \(one per row of X\) or None"),
    (dict(window=2, target=True), r"target: expected an int"),
])
def test_bad_argument_types_are_clear_type_errors(small, kwargs, match):
    call_with_bad_argument(small, kwargs, TypeError, match)


def call_with_bad_argument(small, kwargs, error, match):
    net, X = small
    kwargs = dict(kwargs)
    target = kwargs.pop("target", 0)
    with pytest.raises(error, match=match):
        occlusion(net, X, target, **kwargs)


def test_bad_X_is_named(small):
    net, _ = small
    with pytest.raises(ValueError, match=r"X: expected 6 columns"):
        occlusion(net, np.zeros((2, 5)), 0, 2)
    with pytest.raises(ValueError, match=r"X: expected finite numbers"):
        occlusion(net, np.full((1, 6), np.inf), 0, 2)


@pytest.mark.parametrize("workers", [2, 3])
def test_threads_give_the_numbers_of_one_thread(workers):
    net = random_net([16, 6, 3], seed=9)
    X = np.random.default_rng(9).normal(size=(13, 16))
    one = occlusion(net, X, None, (2, 2), image_shape=(4, 4), workers=1)
    many = occlusion(net, X, None, (2, 2), image_shape=(4, 4), workers=workers, chunk_size=3)
    assert_within(many, one, occlusion_bound(net, X, 0.0))        # other chunks: rounding only


@given(h=st.integers(1, 5), w=st.integers(1, 5), wh=st.integers(1, 5), ww=st.integers(1, 5),
       n_rows=st.integers(1, 9), chunk=st.integers(1, 4), workers=st.integers(1, 3),
       seed=st.integers(0, 1000), hidden_sizes=st.lists(st.integers(1, 6), max_size=3),
       hidden=HIDDEN_STACKS, output=st.sampled_from(["sigmoid", "softmax", "identity"]))
def test_batches_threads_and_any_architecture_give_the_plain_definition(
        h, w, wh, ww, n_rows, chunk, workers, seed, hidden_sizes, hidden, output):
    # many batches per thread reuse one workspace: a batch shorter than the last, a layer
    # wider than the first, a softmax (every z_L) or no hidden layer must not leave stale numbers
    wh, ww = min(wh, h), min(ww, w)
    rng = np.random.default_rng(seed)
    net = random_net([h * w] + hidden_sizes + [3], hidden, output, seed)
    X = rng.normal(size=(n_rows, h * w))
    t = rng.integers(0, 3, size=n_rows)
    baseline = rng.normal(size=(n_rows, h * w))
    A = occlusion(net, X, t, (wh, ww), baseline=baseline, image_shape=(h, w), chunk_size=chunk,
                  workers=workers)
    expected = reference_occlusion(net, X, t, (wh, ww), (1, 1), baseline, (h, w))
    assert_within(A, expected, occlusion_bound(net, X, baseline))


def test_bad_workers_is_named(small):
    net, X = small
    with pytest.raises(ValueError, match=r"workers: expected a positive integer, got 0"):
        occlusion(net, X, 0, 2, workers=0)
