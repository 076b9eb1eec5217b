"""Validation at the API boundary.

Every bad argument must be a ValueError or TypeError raised by handnet whose
message starts with the argument's name and says what it got and what was
expected: never a bare numpy traceback, never a silent NaN. Each test asserts
the exception type AND the message (``match`` patterns are anchored at the
argument name).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from conftest import assert_within, forward_bound

N = 5                     # rows of the default X
Y_LABELS = np.array([0, 1, 1, 0, 1])


def make_net(output="sigmoid", hidden="sigmoid", sizes=(3, 4, 2), cost=None):
    net = hn.MLP(list(sizes), hidden=hidden, output=output, cost=cost, seed=0)
    net.params = np.random.default_rng(1).normal(size=net.n_params)
    return net


def make_X(rows=N):
    return np.random.default_rng(2).normal(size=(rows, 3))


# The public functions that take X, called with everything else valid.
X_FUNCTIONS = {
    "cost": lambda net, X, Y: hn.cost(net, X, Y),
    "gradient": lambda net, X, Y: hn.gradient(net, X, Y),
    "check_gradient": lambda net, X, Y: hn.check_gradient(net, X, Y, subset=2),
    "train": lambda net, X, Y: hn.train(net, X, Y, epochs=1, progress=False),
    "forward": lambda net, X, Y: net.forward(X),
    "predict": lambda net, X, Y: net.predict(X),
}
Y_FUNCTIONS = {k: X_FUNCTIONS[k] for k in ("cost", "gradient", "check_gradient", "train")}


def _labels_for(X):
    """Labels with one entry per row of X when X has rows, so only X is wrong."""
    try:
        rows = np.shape(X)[0]
    except (IndexError, TypeError, ValueError):
        rows = N
    return np.arange(rows) % 2


def _nan_X():
    X = make_X()
    X[1, 2] = np.nan
    return X


def _inf_X():
    X = make_X()
    X[3, 0] = -np.inf
    return X


BAD_X = [
    ("wrong width", lambda: make_X()[:, :2], ValueError,
     r"^X: expected 3 columns \(the network's input size\), got shape \(5, 2\)$"),
    ("too wide", lambda: np.ones((N, 4)), ValueError, r"^X: expected 3 columns .*got shape \(5, 4\)$"),
    ("1-D", lambda: np.ones(3), ValueError,
     r"^X: expected a 2-D array of shape \(N, 3\), got shape \(3,\) \(for one sample use x\.reshape\(1, -1\)\)$"),
    ("3-D", lambda: np.ones((N, 3, 1)), ValueError,
     r"^X: expected a 2-D array of shape \(N, 3\), got shape \(5, 3, 1\)$"),
    ("0-D", lambda: np.float64(1.0), ValueError, r"^X: expected a 2-D array .*got shape \(\)$"),
    ("NaN", _nan_X, ValueError, r"^X: expected finite numbers, got nan at index \(1, 2\)$"),
    ("inf", _inf_X, ValueError, r"^X: expected finite numbers, got -inf at index \(3, 0\)$"),
    ("strings", lambda: np.full((N, 3), "a"), TypeError, r"^X: expected a numeric array, got dtype <U1$"),
    ("numeric strings", lambda: [["1", "2", "3"]] * N, TypeError, r"^X: expected a numeric array, got dtype <U1$"),
    ("a string", lambda: "1 2 3", TypeError, r"^X: expected a numeric array, got str '1 2 3'$"),
    ("object array", lambda: np.ones((N, 3), dtype=object), TypeError,
     r"^X: expected a numeric array, got dtype object$"),
    ("None", lambda: None, TypeError, r"^X: expected a numeric array, got dtype object$"),
    ("ragged", lambda: [[1, 2, 3], [1, 2]], TypeError, r"^X: expected a numeric array, got list"),
    ("complex", lambda: make_X() + 1j, TypeError, r"^X: expected real numbers, got complex dtype complex128$"),
    ("empty", lambda: np.empty((0, 3)), ValueError,
     r"^X: expected at least one row, got an empty array of shape \(0, 3\)$"),
    ("empty list", lambda: [], ValueError, r"^X: expected a 2-D array .*got shape \(0,\)"),
]


@pytest.mark.parametrize("func", list(X_FUNCTIONS))
@pytest.mark.parametrize("case, make_bad, exc, pattern", BAD_X, ids=[c[0] for c in BAD_X])
def test_bad_X_is_rejected(func, case, make_bad, exc, pattern):
    net = make_net()
    before = net.params.copy()
    X = make_bad()
    with pytest.raises(exc, match=pattern):
        X_FUNCTIONS[func](net, X, _labels_for(X))
    assert np.array_equal(net.params, before), "a rejected call must not touch the network"


@pytest.mark.parametrize("func", list(X_FUNCTIONS))
def test_good_X_in_many_forms_is_accepted(func):
    """Lists, ints, bools and float32 are fine: the checks must not reject valid data."""
    net = make_net()
    for X in (make_X().tolist(), np.arange(15).reshape(5, 3), make_X().astype(np.float32),
              np.ones((N, 3), dtype=bool), np.asfortranarray(make_X())):
        X_FUNCTIONS[func](net, X, Y_LABELS)


# ----------------------------------------------------------------------------
# Y
# ----------------------------------------------------------------------------

def _with(values, i, v):
    out = np.array(values, dtype=float)
    out[i] = v
    return out


BAD_Y = [
    # (case, output, n_outputs, Y, exc, pattern)
    ("label out of range", "sigmoid", 2, [0, 1, 2, 0, 1], ValueError,
     r"^Y: expected integer class labels in 0\.\.1, got 2 at index 2$"),
    ("label K of 1..K coding", "softmax", 3, [1, 2, 3, 1, 2], ValueError,
     r"^Y: expected integer class labels in 0\.\.2, got 3 at index 2 \(labels 1\.\.K as in the course data\? "
     r"use hn\.one_hot\(y, K, base=1\)\)$"),
    ("negative label", "softmax", 3, [0, -1, 2, 0, 1], ValueError,
     r"^Y: expected integer class labels in 0\.\.2, got -1 at index 1$"),
    ("fractional label", "softmax", 3, [0, 1, 0.5, 0, 1], ValueError,
     r"^Y: expected integer class labels in 0\.\.2, got the fractional value 0\.5 at index 2$"),
    ("NaN label", "softmax", 3, _with([0, 1, 2, 0, 1], 3, np.nan), ValueError,
     r"^Y: expected finite numbers, got nan at index 3$"),
    ("NaN target", "sigmoid", 2, _with(np.zeros((5, 2)), (4, 1), np.nan), ValueError,
     r"^Y: expected finite numbers, got nan at index \(4, 1\)$"),
    ("inf target", "identity", 2, _with(np.zeros((5, 2)), (0, 0), np.inf), ValueError,
     r"^Y: expected finite numbers, got inf at index \(0, 0\)$"),
    ("too few labels", "sigmoid", 2, [0, 1, 0], ValueError,
     r"^Y: expected 5 labels \(one per row of X\), got 3$"),
    ("too many labels", "sigmoid", 1, [0, 1, 0, 1, 0, 1], ValueError,
     r"^Y: expected 5 labels \(one per row of X\), got 6$"),
    ("too few rows", "sigmoid", 2, np.zeros((3, 2)), ValueError,
     r"^Y: expected 5 rows \(one per row of X\), got shape \(3, 2\)$"),
    ("width not the outputs", "sigmoid", 2, np.zeros((5, 3)), ValueError,
     r"^Y: expected 2 columns \(the network's output size\), got shape \(5, 3\)$"),
    ("one-hot for the wrong K", "softmax", 3, np.eye(2)[[0, 1, 0, 1, 0]], ValueError,
     r"^Y: expected 3 columns \(the network's output size\), got shape \(5, 2\)$"),
    ("sigmoid target > 1", "sigmoid", 2, _with(np.zeros((5, 2)), (0, 1), 1.5), ValueError,
     r"^Y: a sigmoid output needs targets in \[0, 1\], got 1\.5 at index \(0, 1\)$"),
    ("sigmoid target < 0", "sigmoid", 2, _with(np.zeros((5, 2)), (2, 0), -0.25), ValueError,
     r"^Y: a sigmoid output needs targets in \[0, 1\], got -0\.25 at index \(2, 0\)$"),
    ("binary label 2", "sigmoid", 1, [0, 1, 2, 0, 1], ValueError,
     r"^Y: a sigmoid output needs targets in \[0, 1\], got 2 at index 2$"),
    ("softmax target < 0", "softmax", 3, _with(np.full((5, 3), 1 / 3), (1, 2), -0.5), ValueError,
     r"^Y: a softmax output needs targets in \[0, 1\], got -0\.5 at index \(1, 2\)$"),
    ("3-D", "sigmoid", 2, np.zeros((5, 2, 1)), ValueError,
     r"^Y: expected labels of shape \(5,\) or targets of shape \(5, 2\), got shape \(5, 2, 1\)$"),
    ("0-D", "sigmoid", 2, np.float64(1.0), ValueError,
     r"^Y: expected labels of shape \(5,\) or targets of shape \(5, 2\), got shape \(\)$"),
    ("strings", "softmax", 3, ["a", "b", "c", "a", "b"], TypeError, r"^Y: expected a numeric array, got dtype <U1$"),
    ("None", "sigmoid", 2, None, TypeError, r"^Y: expected a numeric array, got dtype object$"),
    ("complex", "identity", 2, np.zeros((5, 2), dtype=complex), TypeError, r"^Y: expected real numbers"),
]


@pytest.mark.parametrize("func", list(Y_FUNCTIONS))
@pytest.mark.parametrize("case, output, K, Y, exc, pattern", BAD_Y, ids=[c[0] for c in BAD_Y])
def test_bad_Y_is_rejected(func, case, output, K, Y, exc, pattern):
    net = make_net(output=output, sizes=(3, 4, K))
    before = net.params.copy()
    with pytest.raises(exc, match=pattern):
        Y_FUNCTIONS[func](net, make_X(), Y)
    assert np.array_equal(net.params, before)


@pytest.mark.parametrize("func", list(Y_FUNCTIONS))
def test_good_Y_in_many_forms_is_accepted(func):
    X = make_X()
    cases = [
        ("sigmoid", 2, Y_LABELS),                        # labels -> one-hot
        ("sigmoid", 2, Y_LABELS.astype(float)),           # whole floats are labels
        ("sigmoid", 2, np.eye(2)[Y_LABELS]),              # one-hot
        ("sigmoid", 2, np.full((N, 2), 0.3)),             # soft targets
        ("sigmoid", 1, Y_LABELS),                         # binary labels as a column
        ("sigmoid", 1, np.full(N, 0.7)),                  # soft binary targets
        ("softmax", 3, [0, 1, 2, 2, 1]),
        ("identity", 2, np.full((N, 2), -40.0)),          # regression targets may be anything finite
        ("identity", 1, np.linspace(-5, 5, N)),
    ]
    for output, K, Y in cases:
        Y_FUNCTIONS[func](make_net(output=output, sizes=(3, 4, K)), X, Y)


# ----------------------------------------------------------------------------
# Scalars: l2, lr, epochs, batch_size, momentum, validation, gradcheck settings
# ----------------------------------------------------------------------------

BAD_L2 = [
    (-1.0, ValueError, r"^l2: expected a number >= 0, got -1\.0$"),
    (-1e-12, ValueError, r"^l2: expected a number >= 0, got -1e-12$"),
    (np.nan, ValueError, r"^l2: expected a finite number, got nan$"),
    (np.inf, ValueError, r"^l2: expected a finite number, got inf$"),
    (10 ** 400, ValueError, r"^l2: expected a finite number, got an integer of 401 digits$"),
    ("1.0", TypeError, r"^l2: expected a real number, got str '1\.0'$"),
    (None, TypeError, r"^l2: expected a real number, got NoneType None$"),
    (True, TypeError, r"^l2: expected a real number, got bool True$"),
    (np.array([1.0]), TypeError, r"^l2: expected a real number, got array of shape \(1,\)"),
    (1 + 0j, TypeError, r"^l2: expected a real number, got complex"),
]


@pytest.mark.parametrize("func", ["cost", "gradient", "cost_and_gradient", "check_gradient", "train"])
@pytest.mark.parametrize("l2, exc, pattern", BAD_L2, ids=lambda v: repr(v)[:20])
def test_bad_l2(func, l2, exc, pattern):
    net = make_net()
    call = {
        "cost": lambda: hn.cost(net, make_X(), Y_LABELS, l2=l2),
        "gradient": lambda: hn.gradient(net, make_X(), Y_LABELS, l2=l2),
        "cost_and_gradient": lambda: hn.cost_and_gradient(net, make_X(), Y_LABELS, l2=l2),
        "check_gradient": lambda: hn.check_gradient(net, make_X(), Y_LABELS, l2=l2),
        "train": lambda: hn.train(net, make_X(), Y_LABELS, l2=l2, epochs=1, progress=False),
    }[func]
    with pytest.raises(exc, match=pattern):
        call()


def test_good_l2_values():
    net = make_net()
    for l2 in (0, 0.0, 3, np.float32(0.5), np.int64(2), 1e6):
        assert np.isfinite(hn.cost(net, make_X(), Y_LABELS, l2=l2))


BAD_TRAIN = [
    ({"lr": 0}, ValueError, r"^lr: expected a number > 0, got 0$"),
    ({"lr": -0.5}, ValueError, r"^lr: expected a number > 0, got -0\.5$"),
    ({"lr": np.nan}, ValueError, r"^lr: expected a finite number, got nan$"),
    ({"lr": "0.1"}, TypeError, r"^lr: expected a real number, got str '0\.1'$"),
    ({"lr": None}, TypeError, r"^lr: expected a real number, got NoneType None$"),
    ({"epochs": 0}, ValueError, r"^epochs: expected a positive integer, got 0$"),
    ({"epochs": -3}, ValueError, r"^epochs: expected a positive integer, got -3$"),
    ({"epochs": -2.0}, ValueError, r"^epochs: expected a positive integer, got -2$"),
    ({"epochs": 0.0}, ValueError, r"^epochs: expected a positive integer, got 0$"),
    ({"epochs": 2.5}, TypeError, r"^epochs: expected a positive integer, got float 2\.5$"),
    ({"epochs": "3"}, TypeError, r"^epochs: expected a positive integer, got str '3'$"),
    ({"epochs": True}, TypeError, r"^epochs: expected a positive integer, got bool True$"),
    ({"epochs": None}, TypeError, r"^epochs: expected a positive integer, got NoneType None$"),
    ({"epochs": np.nan}, TypeError, r"^epochs: expected a positive integer, got float nan$"),
    ({"batch_size": 0}, ValueError, r"^batch_size: expected a positive integer, got 0$"),
    ({"batch_size": -4}, ValueError, r"^batch_size: expected a positive integer, got -4$"),
    ({"batch_size": 2.5}, TypeError, r"^batch_size: expected a positive integer, got float 2\.5$"),
    ({"batch_size": "all"}, TypeError, r"^batch_size: expected a positive integer, got str 'all'$"),
    ({"momentum": -0.1}, ValueError, r"^momentum: expected a number >= 0, got -0\.1$"),
    ({"momentum": 1}, ValueError, r"^momentum: expected a number in \[0, 1\), got 1$"),
    ({"momentum": 1.5}, ValueError, r"^momentum: expected a number in \[0, 1\), got 1\.5$"),
    ({"momentum": np.nan}, ValueError, r"^momentum: expected a finite number, got nan$"),
    ({"momentum": "0.9"}, TypeError, r"^momentum: expected a real number, got str '0\.9'$"),
    ({"validation": make_X()}, TypeError, r"^validation: expected a pair \(X_val, Y_val\), got ndarray$"),
    ({"validation": (make_X(),)}, TypeError, r"^validation: expected a pair \(X_val, Y_val\), got tuple$"),
    ({"validation": (make_X(), Y_LABELS, Y_LABELS)}, TypeError,
     r"^validation: expected a pair \(X_val, Y_val\), got tuple$"),
    ({"validation": "val"}, TypeError, r"^validation: expected a pair \(X_val, Y_val\), got str$"),
    ({"seed": -1}, TypeError, r"^seed: expected a non-negative integer, None or a numpy Generator, got int -1$"),
    ({"seed": "zero"}, TypeError, r"^seed: expected a non-negative integer"),
]


@pytest.mark.parametrize("kwargs, exc, pattern", BAD_TRAIN, ids=lambda v: repr(v)[:40])
def test_bad_training_settings(kwargs, exc, pattern):
    net = make_net()
    before = net.params.copy()
    with pytest.raises(exc, match=pattern):
        hn.train(net, make_X(), Y_LABELS, progress=False, **{"epochs": 1, **kwargs})
    assert np.array_equal(net.params, before), "a rejected call must not train the network"


def test_good_training_settings():
    for kwargs in ({"epochs": 2.0}, {"batch_size": 2}, {"batch_size": 100}, {"momentum": 0.0},
                   {"momentum": 0.99}, {"lr": np.float32(0.1)}, {"epochs": np.int64(2)},
                   {"validation": (make_X(3), [0, 1, 0])}, {"validation": [make_X(2), np.eye(2)]}):
        history = hn.train(make_net(), make_X(), Y_LABELS, progress=False, **{"epochs": 1, **kwargs})
        assert np.all(np.isfinite(history["cost"]))


@pytest.mark.parametrize("validation", [
    (make_X(), Y_LABELS[:3]),                  # rows of Y_val do not match X_val
    (make_X()[:, :2], Y_LABELS),               # X_val has the wrong width
    (_nan_X(), Y_LABELS),                      # X_val holds NaN
    (make_X(), np.zeros((N, 3))),              # Y_val has the wrong width
], ids=["rows", "width", "nan", "Y width"])
def test_mismatched_validation_names_validation(validation):
    with pytest.raises(ValueError, match=r"^validation"):
        hn.train(make_net(), make_X(), Y_LABELS, epochs=1, progress=False, validation=validation)


@pytest.mark.parametrize("validation", [(make_X(), Y_LABELS[:3]), (make_X()[:, :2], Y_LABELS)],
                         ids=["rows", "width"])
def test_mismatched_validation_is_a_value_error(validation):
    """Whatever it names, a mismatched validation pair is a ValueError, before any training."""
    net = make_net()
    before = net.params.copy()
    with pytest.raises(ValueError, match=r"^(validation|X|Y)\b.*expected"):
        hn.train(net, make_X(), Y_LABELS, epochs=1, progress=False, validation=validation)
    assert np.array_equal(net.params, before)


BAD_GRADCHECK = [
    ({"h": 0}, ValueError, r"^h: expected a number > 0, got 0$"),
    ({"h": -1e-5}, ValueError, r"^h: expected a number > 0, got -1e-05$"),
    ({"h": np.nan}, ValueError, r"^h: expected a finite number, got nan$"),
    ({"h": "1e-5"}, TypeError, r"^h: expected a real number, got str '1e-5'$"),
    ({"threshold": 0}, ValueError, r"^threshold: expected a number > 0, got 0$"),
    ({"threshold": -1e-6}, ValueError, r"^threshold: expected a number > 0, got -1e-06$"),
    ({"threshold": "tight"}, TypeError, r"^threshold: expected a real number, got str 'tight'$"),
    ({"subset": 0}, ValueError, r"^subset: expected a positive integer, got 0$"),
    ({"subset": -2}, ValueError, r"^subset: expected a positive integer, got -2$"),
    ({"subset": 2.5}, TypeError, r"^subset: expected a positive integer, got float 2\.5$"),
    ({"subset": "all"}, TypeError, r"^subset: expected a positive integer, got str 'all'$"),
]


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh"])
@pytest.mark.parametrize("kwargs, exc, pattern", BAD_GRADCHECK, ids=lambda v: repr(v)[:30])
def test_bad_gradcheck_settings(hidden, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        hn.check_gradient(make_net(hidden=hidden), make_X(), Y_LABELS, **kwargs)


@pytest.mark.parametrize("kwargs, exc, pattern", [c for c in BAD_GRADCHECK if not isinstance(c[0].get("h"), str)],
                         ids=lambda v: repr(v)[:30])
def test_bad_gradcheck_settings_relu(kwargs, exc, pattern):
    """The same checks with ReLU hidden units (where the kink note uses h); h='1e-5' is below."""
    with pytest.raises(exc, match=pattern):
        hn.check_gradient(make_net(hidden="relu"), make_X(), Y_LABELS, **kwargs)


@pytest.mark.parametrize("h", ["1e-5", None])
def test_non_numeric_h_with_relu_names_h(h):
    with pytest.raises(TypeError, match=r"^h: expected a real number"):
        hn.check_gradient(make_net(hidden="relu"), make_X(), Y_LABELS, h=h)


def test_numerical_gradient_checks_h():
    with pytest.raises(ValueError, match=r"^h: expected a number > 0, got 0$"):
        hn.numerical_gradient(lambda t: float(t @ t), np.ones(3), h=0)


# ----------------------------------------------------------------------------
# The network itself
# ----------------------------------------------------------------------------

BAD_SIZES = [
    ([], ValueError, r"^layer_sizes: expected at least two sizes \(input and output\), got \[\]$"),
    ([3], ValueError, r"^layer_sizes: expected at least two sizes \(input and output\), got \[3\]$"),
    ([3, 0], ValueError, r"^layer_sizes: expected positive integers, got 0 at position 1$"),
    ([0, 3], ValueError, r"^layer_sizes: expected positive integers, got 0 at position 0$"),
    ([3, -2, 1], ValueError, r"^layer_sizes: expected positive integers, got -2 at position 1$"),
    ([3, 2.5], TypeError, r"^layer_sizes: expected positive integers, got 2\.5 at position 1$"),
    ([3.0, 2], TypeError, r"^layer_sizes: expected positive integers, got 3\.0 at position 0$"),
    ([3, "3"], TypeError, r"^layer_sizes: expected positive integers, got '3' at position 1$"),
    ([3, True], TypeError, r"^layer_sizes: expected positive integers, got True at position 1$"),
    ([3, None], TypeError, r"^layer_sizes: expected positive integers, got None at position 1$"),
    (3, TypeError, r"^layer_sizes: expected a list of positive integers like \[64, 25, 10\], got int 3$"),
    ("3, 2", TypeError, r"^layer_sizes: expected a list of positive integers .*got str '3, 2'$"),
    (None, TypeError, r"^layer_sizes: expected a list of positive integers .*got NoneType None$"),
    ({3, 2}, TypeError, r"^layer_sizes: expected a list of positive integers .*got set"),
    ({3: 1, 2: 1}, TypeError, r"^layer_sizes: expected a list of positive integers .*got dict"),
]


@pytest.mark.parametrize("sizes, exc, pattern", BAD_SIZES, ids=lambda v: repr(v)[:30])
def test_bad_layer_sizes(sizes, exc, pattern):
    with pytest.raises(exc, match=pattern):
        hn.MLP(sizes)


def test_good_layer_sizes():
    for sizes in ([3, 1], (3, 4, 2), np.array([3, 4, 2]), [np.int32(3), np.int64(2)], range(3, 0, -1)):
        net = hn.MLP(sizes)
        assert net.layer_sizes == [int(n) for n in sizes]
        assert all(type(n) is int for n in net.layer_sizes)


BAD_NAMES = [
    ({"hidden": "swish"}, ValueError,
     r"^hidden: unknown activation 'swish'; expected one of \('sigmoid', 'tanh', 'relu', 'identity'\)$"),
    ({"hidden": "softmax"}, ValueError, r"^hidden: 'softmax' cannot be used here; expected one of \('sigmoid', 'tanh', 'relu', 'identity'\) \(softmax is an output activation\)$"),
    ({"hidden": "Sigmoid"}, ValueError, r"^hidden: unknown activation 'Sigmoid'"),
    ({"hidden": 3}, TypeError, r"^hidden: expected an activation name, one of .*got int 3$"),
    ({"hidden": None}, TypeError, r"^hidden: expected an activation name, one of .*got NoneType None$"),
    ({"output": "relu"}, ValueError,
     r"^output: 'relu' cannot be used here; expected one of \('sigmoid', 'softmax', 'identity'\)$"),
    ({"output": "linear"}, ValueError, r"^output: unknown activation 'linear'"),
    ({"output": 0}, TypeError, r"^output: expected an activation name"),
    ({"init": "xavier"}, ValueError,
     r"^init: unknown initialisation 'xavier'; expected one of \('glorot', 'uniform', 'normal'\)$"),
    ({"init": None}, ValueError, r"^init: unknown initialisation None"),
    ({"init": 3}, ValueError, r"^init: unknown initialisation 3"),
    ({"cost": "hinge"}, ValueError,
     r"^cost: unknown cost 'hinge'; expected one of \('cross_entropy', 'softmax_cross_entropy', 'quadratic'\)$"),
    ({"cost": "mse"}, ValueError, r"^cost: unknown cost 'mse'"),
    ({"cost": 3}, TypeError, r"^cost: expected a cost name, one of .*got 3$"),
    ({"seed": -1}, TypeError, r"^seed: expected a non-negative integer"),
    ({"seed": 1.5}, TypeError, r"^seed: expected a non-negative integer, None or a numpy Generator, got float 1\.5$"),
]


@pytest.mark.parametrize("kwargs, exc, pattern", BAD_NAMES, ids=lambda v: repr(v)[:30])
def test_bad_names(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        hn.MLP([3, 4, 2], **kwargs)


def test_array_init_names_init():
    with pytest.raises((TypeError, ValueError), match=r"^init: "):
        hn.MLP([3, 4, 2], init=np.array(["glorot", "normal"]))


MISFIT_COSTS = [
    ("identity", "cross_entropy", r"^cost: 'cross_entropy' does not fit the identity output layer "
                                  r"\(it needs sigmoid\); use cost='quadratic'$"),
    ("sigmoid", "softmax_cross_entropy", r"^cost: 'softmax_cross_entropy' does not fit the sigmoid output "
                                         r"layer \(it needs softmax\); use cost='cross_entropy'$"),
    ("softmax", "cross_entropy", r"^cost: 'cross_entropy' does not fit the softmax output layer "
                                 r"\(it needs sigmoid\); use cost='softmax_cross_entropy'$"),
    ("identity", "softmax_cross_entropy", r"^cost: 'softmax_cross_entropy' does not fit the identity output"),
]


@pytest.mark.parametrize("output, cost, pattern", MISFIT_COSTS)
def test_cost_that_does_not_fit_the_output(output, cost, pattern):
    with pytest.raises(ValueError, match=pattern):
        hn.MLP([3, 4, 2], output=output, cost=cost)


@pytest.mark.parametrize("func", ["cost", "gradient", "check_gradient", "train"])
@pytest.mark.parametrize("output, cost, pattern", MISFIT_COSTS)
def test_cost_override_that_does_not_fit_the_output(func, output, cost, pattern):
    """hn.cost(..., cost=...) etc. check the pairing too, not only the constructor."""
    net = make_net(output=output)
    call = {
        "cost": lambda: hn.cost(net, make_X(), np.eye(2)[Y_LABELS], cost=cost),
        "gradient": lambda: hn.gradient(net, make_X(), np.eye(2)[Y_LABELS], cost=cost),
        "check_gradient": lambda: hn.check_gradient(net, make_X(), np.eye(2)[Y_LABELS], cost=cost),
        "train": lambda: hn.train(net, make_X(), np.eye(2)[Y_LABELS], cost=cost, epochs=1, progress=False),
    }[func]
    with pytest.raises(ValueError, match=pattern):
        call()


def test_softmax_with_one_output_unit():
    with pytest.raises(ValueError, match=r"^output: softmax needs at least 2 output units, got layer_sizes "
                                         r"\[3, 4, 1\]; use output='sigmoid' for a single unit$"):
        hn.MLP([3, 4, 1], output="softmax")


def test_every_valid_pairing_builds():
    for output, costs in (("sigmoid", ("cross_entropy", "quadratic", None)),
                          ("softmax", ("softmax_cross_entropy", "quadratic", None)),
                          ("identity", ("quadratic", None))):
        for cost in costs:
            net = hn.MLP([3, 4, 2], output=output, cost=cost)
            assert net.cost == (cost or {"sigmoid": "cross_entropy", "softmax": "softmax_cross_entropy",
                                         "identity": "quadratic"}[output])


# ----------------------------------------------------------------------------
# Parameter views: net.weights[l] = M, net.biases[l] = v, net.params = theta
# ----------------------------------------------------------------------------

def test_weights_assignment_with_wrong_shape():
    net = make_net()
    before = net.params.copy()
    with pytest.raises(ValueError, match=r"^weights\[0\]: expected shape \(3, 4\), got \(4, 3\)$"):
        net.weights[0] = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"^weights\[1\]: expected shape \(4, 2\), got \(8,\)$"):
        net.weights[1] = np.ones(8)                     # same size, wrong shape: no silent reshape
    with pytest.raises(ValueError, match=r"^weights\[0\]: expected shape \(3, 4\), got \(1, 4\)$"):
        net.weights[0] = np.ones((1, 4))                # would broadcast; must not
    with pytest.raises(ValueError, match=r"^biases\[0\]: expected shape \(4,\), got \(3,\)$"):
        net.biases[0] = np.ones(3)
    with pytest.raises(ValueError, match=r"^biases\[1\]: expected shape \(2,\), got \(\)$"):
        net.biases[1] = 0.0
    assert np.array_equal(net.params, before)


def test_weights_assignment_with_bad_values():
    net = make_net()
    before = net.params.copy()
    bad = np.ones((3, 4))
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"^weights\[0\]: expected finite numbers, got nan at index \(2, 1\)$"):
        net.weights[0] = bad
    with pytest.raises(TypeError, match=r"^weights\[0\]: expected a numeric array, got str 'zeros'$"):
        net.weights[0] = "zeros"
    with pytest.raises(TypeError, match=r"^biases\[1\]: expected a numeric array, got dtype object$"):
        net.biases[1] = [None, None]
    assert np.array_equal(net.params, before)


def test_params_assignment_with_wrong_length():
    net = make_net()
    before = net.params.copy()
    with pytest.raises(ValueError, match=r"^params: expected shape \(26,\), got \(25,\)$"):
        net.params = np.zeros(25)
    with pytest.raises(ValueError, match=r"^params: expected shape \(26,\), got \(27,\)$"):
        net.params = np.zeros(27)
    with pytest.raises(ValueError, match=r"^params: expected a 1-D array, got 2-D with shape \(2, 13\)$"):
        net.params = np.zeros((2, 13))
    with pytest.raises(ValueError, match=r"^params: expected finite numbers, got inf at index 5$"):
        net.params = np.where(np.arange(26) == 5, np.inf, 0.0)
    with pytest.raises(TypeError, match=r"^params: expected a numeric array"):
        net.params = None
    assert np.array_equal(net.params, before)


def test_weights_assignment_writes_through_to_params():
    net = make_net()
    flat = net.params                                   # the same vector object before and after
    M = np.arange(12.0).reshape(3, 4)
    net.weights[0] = M
    assert net.params is flat
    assert np.array_equal(net.params[:12], M.ravel())
    assert np.array_equal(net.weights[0], M)
    assert np.shares_memory(net.weights[0], net.params)
    net.biases[1] = [7.0, -7.0]
    b1_start = dict((name, start) for name, start, _ in net.layout())["b1"]
    assert np.array_equal(net.params[b1_start:b1_start + 2], [7.0, -7.0])
    # and the network uses it
    X = make_X()
    a1 = 1 / (1 + np.exp(-(X @ M + net.biases[0])))
    z2 = a1 @ net.weights[1] + np.array([7.0, -7.0])
    assert_within(net.predict_proba(X), 1 / (1 + np.exp(-z2)), forward_bound(net, X)[:, None])  # rounding only


def test_params_assignment_writes_through_to_weights():
    net = make_net()
    W0 = net.weights[0]
    theta = np.linspace(-1, 1, net.n_params)
    net.params = theta
    assert np.array_equal(W0, theta[:12].reshape(3, 4))      # the old view sees the new values
    assert np.array_equal(net.params, theta)
    assert not np.shares_memory(net.params, theta)             # copied in, not aliased
    net.params[0] = 99.0
    assert net.weights[0][0, 0] == 99.0


# ----------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------

def test_accuracy_by_hand():
    assert hn.accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    assert hn.accuracy([1, 1, 1], [1, 1, 1]) == 1.0
    assert hn.accuracy([0, 0], [1, 1]) == 0.0
    assert hn.accuracy(np.array([3]), np.array([3.0])) == 1.0
    # one-hot rows on either side
    assert hn.accuracy(np.eye(3)[[0, 1, 2, 2]], [0, 1, 1, 2]) == 0.75
    assert hn.accuracy([0, 1, 2, 2], np.array([[.8, .1, .1], [.2, .7, .1], [.1, .5, .4], [0, .3, .7]])) == 0.75
    # a single column of probabilities: >= 0.5 is class 1
    assert hn.accuracy([0, 1, 1, 0], np.array([[0.2], [0.5], [0.49], [0.9]])) == 0.5   # right, right, wrong, wrong
    assert isinstance(hn.accuracy([0], [0]), float)


def test_confusion_matrix_by_hand():
    y_true = [0, 1, 2, 2, 1, 0]
    y_pred = [0, 2, 2, 1, 1, 0]
    C = hn.confusion_matrix(y_true, y_pred)
    expected = pd.DataFrame([[2, 0, 0],
                             [0, 1, 1],
                             [0, 1, 1]],
                            index=pd.Index([0, 1, 2], name="true"),
                            columns=pd.Index([0, 1, 2], name="predicted"))
    pd.testing.assert_frame_equal(C, expected, check_dtype=False)
    assert C.index.name == "true" and C.columns.name == "predicted"
    assert C.loc[1, 2] == 1 and C.loc[2, 1] == 1        # rows are true, columns predicted
    assert int(C.values.sum()) == 6
    assert np.trace(C.values) / 6 == hn.accuracy(y_true, y_pred)


def test_confusion_matrix_is_not_transposed():
    C = hn.confusion_matrix([0, 0, 0], [1, 1, 1])
    assert C.values.tolist() == [[0, 3], [0, 0]]


def test_confusion_matrix_with_labels_and_unseen_classes():
    C = hn.confusion_matrix([0, 1, 1], [1, 1, 0], labels=["cat", "dog", "fox"])
    expected = pd.DataFrame([[0, 1, 0], [1, 1, 0], [0, 0, 0]],
                            index=pd.Index(["cat", "dog", "fox"], name="true"),
                            columns=pd.Index(["cat", "dog", "fox"], name="predicted"))
    pd.testing.assert_frame_equal(C, expected, check_dtype=False)
    # a class that only appears in the predictions still gets its row and column
    C = hn.confusion_matrix([0, 0], [0, 3])
    assert C.shape == (4, 4) and C.loc[0, 3] == 1 and C.loc[0, 0] == 1 and int(C.values.sum()) == 2


def test_confusion_matrix_from_one_hot():
    C = hn.confusion_matrix(np.eye(2)[[0, 1, 1]], np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]]))
    assert C.values.tolist() == [[1, 0], [1, 1]]


@pytest.mark.parametrize("func", ["accuracy", "confusion_matrix"])
@pytest.mark.parametrize("y_true, y_pred, exc, pattern", [
    ([0, 1, 2], [0, 1], ValueError, r"^y_pred: expected 3 labels like y_true, got 2$"),
    ([], [], ValueError, r"^y_true: expected at least one label, got none$"),
    ([0, -1], [0, 1], ValueError, r"^y_true: expected integer class labels >= 0 \(class numbers 0\.\.K-1\), got -1 at index 1$"),
    ([0, 1], [0, 0.5], ValueError, r"^y_pred: expected integer class labels >= 0 \(class numbers 0\.\.K-1\), got the fractional "
                                      r"value 0\.5 at index 1$"),
    ([0, np.nan], [0, 1], ValueError, r"^y_true: expected finite numbers, got nan at index 1$"),
    ([0, 1], [0, np.inf], ValueError, r"^y_pred: expected finite numbers, got inf at index 1$"),
    (np.zeros((2, 2, 2)), [0, 1], ValueError, r"^y_true: expected labels \(m,\) or one-hot rows \(m, K\), "
                                              r"got shape \(2, 2, 2\)$"),
    (np.zeros((2, 0)), [0, 1], ValueError, r"^y_true: expected labels \(m,\) or one-hot rows \(m, K\) with "
                                           r"K >= 1, got shape \(2, 0\)$"),
    (1, 1, ValueError, r"^y_true: expected labels \(m,\) or one-hot rows \(m, K\), got shape \(\)$"),
    (["a", "b"], [0, 1], TypeError, r"^y_true: expected a numeric array, got dtype <U1$"),
    ([0, 1], None, TypeError, r"^y_pred: expected a numeric array, got dtype object$"),
    ([0, 1], [0, 1j], TypeError, r"^y_pred: expected real numbers, got complex dtype complex128$"),
], ids=lambda v: repr(v)[:20])
def test_metrics_bad_inputs(func, y_true, y_pred, exc, pattern):
    with pytest.raises(exc, match=pattern):
        getattr(hn, func)(y_true, y_pred)


@pytest.mark.parametrize("labels, exc, pattern", [
    (["a", "b"], ValueError, r"^labels: expected at least 3 names \(the largest label is 2\), got 2$"),
    (5, TypeError, r"^labels: expected a list of class names, got int 5$"),
    ("abc", TypeError, r"^labels: expected a list of class names, got str 'abc'$"),
    (["a", "b", "a"], ValueError, r"^labels: expected distinct class names, got \['a', 'b', 'a'\]$"),
], ids=lambda v: repr(v)[:20])
def test_confusion_matrix_bad_labels(labels, exc, pattern):
    with pytest.raises(exc, match=pattern):
        hn.confusion_matrix([0, 1, 2], [0, 1, 1], labels=labels)
