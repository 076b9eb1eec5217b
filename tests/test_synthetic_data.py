"""Tests for the generated data sets: make_delivery_times, field_slices and make_sine.

These data sets exist to have known answers, so besides shapes and ranges the
tests check the answers themselves: which fields the target depends on, the
formula it follows, and that the documented training recipes really work.
"""

from __future__ import annotations

import numpy as np
import pytest

import handnet as hn
from handnet import datasets as hd
from handnet.datasets import (
    DELIVERY_FIELDS,
    FieldData,
    field_slices,
    make_delivery_times,
    make_sine,
)

CONTROLS = ("positive", "nonlinear")


def r_squared(y, pred):
    """R^2 = 1 - sum (y - pred)^2 / sum (y - mean y)^2."""
    return 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)


# --------------------------------------------------------------------------- #
# Public names
# --------------------------------------------------------------------------- #


def test_public_names():
    for name in ("FieldData", "field_slices", "make_delivery_times", "make_sine", "DELIVERY_FIELDS"):
        assert name in hd.__all__
        assert getattr(hn.datasets, name) is getattr(hd, name)


# --------------------------------------------------------------------------- #
# field_slices
# --------------------------------------------------------------------------- #


def test_field_slices_lays_fields_side_by_side():
    got = field_slices([("Hour", 2), ("Distance", 1), ("Store Number", 4)])
    assert got == [("Hour", slice(0, 2)), ("Distance", slice(2, 3)), ("Store Number", slice(3, 7))]
    assert field_slices((("a", np.int64(3)),)) == [("a", slice(0, 3))]


def test_field_slices_of_the_delivery_fields_cover_every_column_once():
    D = sum(w for _, w in DELIVERY_FIELDS)
    cols = np.concatenate([np.arange(D)[sl] for _, sl in field_slices(DELIVERY_FIELDS)])
    np.testing.assert_array_equal(cols, np.arange(D))


@pytest.mark.parametrize(
    "fields, error, pattern",
    [
        ("Hour", TypeError, r"^fields: expected a list of \(name, width\) pairs"),
        ({"Hour": 2}, TypeError, r"^fields: expected a list"),
        (None, TypeError, r"^fields: expected a list"),
        ([], ValueError, r"^fields: expected at least one"),
        ([("Hour", 2), "Distance"], TypeError, r"^fields\[1\]: expected a \(name, width\) pair"),
        ([("Hour", 2, 3)], TypeError, r"^fields\[0\]: expected a \(name, width\) pair"),
        ([(3, 2)], TypeError, r"^fields\[0\]: expected the name to be a str, got int 3"),
        ([("  ", 2)], ValueError, r"^fields\[0\]: expected a non-empty name"),
        ([("Hour", 2), ("Hour", 1)], ValueError, r"^fields\[1\]: expected distinct names, got 'Hour' again"),
        ([("Hour", 0)], ValueError, r"^fields\[0\] width \('Hour'\): expected a positive integer, got 0"),
        ([("Hour", -2)], ValueError, r"^fields\[0\] width \('Hour'\): expected a positive integer"),
        ([("Hour", 2.5)], TypeError, r"^fields\[0\] width \('Hour'\): expected a positive integer"),
        ([("Hour", True)], TypeError, r"^fields\[0\] width \('Hour'\): expected a positive integer"),
        ([("Hour", "2")], TypeError, r"^fields\[0\] width \('Hour'\): expected a positive integer"),
    ],
)
def test_field_slices_rejects_bad_fields(fields, error, pattern):
    with pytest.raises(error, match=pattern):
        field_slices(fields)


# --------------------------------------------------------------------------- #
# make_delivery_times: layout, ranges, determinism
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module", params=CONTROLS)
def delivery(request):
    return make_delivery_times(2000, control=request.param, seed=0)


def test_delivery_shapes_dtypes_and_fields(delivery):
    X, y, fields, relevant, description = delivery
    assert isinstance(delivery, FieldData)
    D = sum(width for _, width in fields)
    assert X.shape == (2000, D) and y.shape == (2000,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert 15 <= D <= 25 and 8 <= len(fields) <= 12
    assert sum(width > 1 for _, width in fields) >= 2          # several multi-column fields
    assert fields == list(DELIVERY_FIELDS)
    assert all(isinstance(name, str) and isinstance(w, int) for name, w in fields)
    assert len(field_slices(fields)) == len(fields)            # valid: unique names, positive widths
    names = [name for name, _ in fields]
    assert isinstance(relevant, tuple) and set(relevant) <= set(names)
    assert list(relevant) == [name for name in names if name in relevant]   # in column order
    assert isinstance(description, str) and "Synthetic" in description and "\n" not in description
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))


def test_delivery_relevant_fields_per_control():
    assert make_delivery_times(10, control="positive").relevant == ("Distance",)
    nonlinear = make_delivery_times(10, control="nonlinear").relevant
    assert set(nonlinear) == {"Hour", "Total Items", "Busy Dashers", "Idle Dashers"}


def test_delivery_every_column_is_in_unit_interval_and_spread(delivery):
    X = delivery.X
    assert X.min() >= 0.0 and X.max() <= 1.0
    spread = X.std(axis=0)
    assert np.all(spread > 0.2) and np.all(spread < 0.55)       # similar spread, no dead column
    assert np.all(X.min(axis=0) < 0.1) and np.all(X.max(axis=0) > 0.9)


def test_delivery_encodings_follow_the_documented_rules(delivery):
    col = dict(field_slices(delivery.fields))
    X = delivery.X
    bits = X[:, col["Store Number"]]
    assert set(np.unique(bits)) == {0.0, 1.0}
    store = bits @ np.array([8, 4, 2, 1])
    assert set(np.unique(store)) == set(range(16))
    for circle in ("Hour", "Weekday"):                          # (sin, cos) on the unit circle
        s, c = (2 * X[:, col[circle]] - 1).T
        np.testing.assert_allclose(s ** 2 + c ** 2, 1.0, atol=1e-12)
    s, c = (2 * X[:, col["Weekday"]] - 1).T
    day = np.round(np.mod(np.arctan2(s, c), 2 * np.pi) * 7 / (2 * np.pi)) % 7
    assert set(np.unique(day)) == set(range(7))
    for field, steps in (("Market", 5), ("Order Protocol", 6), ("Total Items", 19),
                         ("Busy Dashers", 40), ("Idle Dashers", 40), ("Outstanding Orders", 60)):
        counts = X[:, col[field]][:, 0] * steps                 # back to whole numbers 0..steps
        np.testing.assert_allclose(counts, np.round(counts), atol=1e-9)


def test_delivery_is_deterministic_given_the_seed():
    for control in CONTROLS:
        a = make_delivery_times(300, control=control, seed=7)
        b = make_delivery_times(300, control=control, seed=7)
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.y, b.y)
        assert a.fields == b.fields and a.description == b.description
        c = make_delivery_times(300, control=control, seed=8)
        assert not np.allclose(a.X, c.X) and not np.allclose(a.y, c.y)
    g1 = make_delivery_times(50, seed=np.random.default_rng(3))
    g2 = make_delivery_times(50, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(g1.y, g2.y)


def test_delivery_controls_share_X_for_the_same_seed():
    pos = make_delivery_times(100, control="positive", seed=4)
    non = make_delivery_times(100, control="nonlinear", seed=4)
    np.testing.assert_array_equal(pos.X, non.X)
    assert not np.allclose(pos.y, non.y)


def test_delivery_fields_is_a_fresh_list_and_the_container_is_immutable():
    data = make_delivery_times(5)
    data.fields.append(("Extra", 1))
    assert make_delivery_times(5).fields == list(DELIVERY_FIELDS)
    with pytest.raises(AttributeError):
        data.X = None


# --------------------------------------------------------------------------- #
# make_delivery_times: the known answer
# --------------------------------------------------------------------------- #


def _raw_fields(data):
    """The raw order values read back from the scaled columns (the inverse of the documented scaling)."""
    col = dict(field_slices(data.fields))
    X = data.X
    s, c = (2 * X[:, col["Hour"]] - 1).T
    return {"km": 10 * X[:, col["Distance"]][:, 0],
            "B": 40 * X[:, col["Busy Dashers"]][:, 0],
            "I": 40 * X[:, col["Idle Dashers"]][:, 0],
            "k": 1 + 19 * X[:, col["Total Items"]][:, 0],
            "h": np.mod(np.arctan2(s, c), 2 * np.pi) * 24 / (2 * np.pi)}   # hour of the order, [0, 24)


@pytest.mark.parametrize("control", CONTROLS)
def test_delivery_target_is_the_documented_formula(control):
    """The formula as written in DELIVERY_TARGETS (raw units), evaluated here on the raw values,
    equals what make_delivery_times computes from the scaled columns."""
    data = make_delivery_times(500, control=control, seed=1, noise=0.0)
    names = {"exp": np.exp, "cos": np.cos, "pi": np.pi, **_raw_fields(data)}
    expected = eval(hd.DELIVERY_TARGETS[control], {"__builtins__": {}}, names)   # noqa: S307 (our constant)
    np.testing.assert_allclose(data.y, expected, rtol=0, atol=1e-10)
    assert hd.DELIVERY_TARGETS[control] in data.description
    assert 10 <= data.y.min() and data.y.max() <= 15 + 40 + 15 + 15


def test_delivery_noise_is_gaussian_with_the_given_sd():
    for control in CONTROLS:
        clean = make_delivery_times(20000, control=control, seed=2, noise=0.0)
        noisy = make_delivery_times(20000, control=control, seed=2, noise=3.0)
        np.testing.assert_array_equal(clean.X, noisy.X)
        e = (noisy.y - clean.y) / 3.0
        assert abs(e.mean()) < 0.03 and abs(e.std() - 1) < 0.03
        np.testing.assert_array_equal(clean.y, hd._delivery_minutes(clean.X, control))


@pytest.mark.parametrize("control", CONTROLS)
def test_delivery_target_depends_on_the_relevant_fields_only(control):
    data = make_delivery_times(1000, control=control, seed=3)
    rng = np.random.default_rng(99)
    base = hd._delivery_minutes(data.X, control)
    for name, sl in field_slices(data.fields):
        X = data.X.copy()
        X[:, sl] = rng.uniform(size=(len(X), sl.stop - sl.start))   # redraw only this field
        changed = np.abs(hd._delivery_minutes(X, control) - base)
        if name in data.relevant:
            assert changed.max() > 1.0, f"{name} is relevant but y did not move"
        else:
            assert changed.max() == 0.0, f"{name} is irrelevant but y moved by {changed.max()}"


def test_delivery_positive_control_ranks_distance_first():
    data = make_delivery_times(2000, control="positive", seed=0)
    corr = np.array([np.corrcoef(data.X[:, j], data.y)[0, 1] for j in range(data.X.shape[1])])
    distance = dict(field_slices(data.fields))["Distance"].start
    assert corr[distance] > 0.95
    assert np.abs(np.delete(corr, distance)).max() < 0.1     # every other column is noise


def test_delivery_nonlinear_signal_dominates_the_default_noise():
    data = make_delivery_times(20000, control="nonlinear", seed=0)
    clean = hd._delivery_minutes(data.X, "nonlinear")
    assert r_squared(data.y, clean) > 0.95                   # the ceiling a model can reach


# --------------------------------------------------------------------------- #
# make_delivery_times: bad arguments
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"n": 0}, ValueError, r"^n: expected a positive integer, got 0"),
        ({"n": -5}, ValueError, r"^n: expected a positive integer, got -5"),
        ({"n": 2.5}, TypeError, r"^n: expected a positive integer, got float 2.5"),
        ({"n": "100"}, TypeError, r"^n: expected a positive integer, got str '100'"),
        ({"n": True}, TypeError, r"^n: expected a positive integer"),
        ({"control": "linear"}, ValueError, r"^control: expected 'positive' or 'nonlinear', got 'linear'"),
        ({"control": None}, TypeError, r"^control: expected 'positive' or 'nonlinear', got NoneType"),
        ({"noise": -0.1}, ValueError, r"^noise: expected a number >= 0, got -0.1"),
        ({"noise": float("nan")}, ValueError, r"^noise: expected a finite number"),
        ({"noise": "2"}, TypeError, r"^noise: expected a real number"),
        ({"seed": -1}, TypeError, r"^seed: expected a non-negative integer, None or a numpy Generator"),
        ({"seed": 1.5}, TypeError, r"^seed: expected a non-negative integer"),
        ({"seed": "0"}, TypeError, r"^seed: expected a non-negative integer"),
    ],
)
def test_delivery_rejects_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        make_delivery_times(**kwargs)


# --------------------------------------------------------------------------- #
# make_sine
# --------------------------------------------------------------------------- #


def test_sine_grid_and_values():
    X, y = make_sine()
    assert X.shape == (200, 1) and y.shape == (200, 1)
    assert X.dtype == np.float64 and y.dtype == np.float64
    np.testing.assert_array_equal(X[:, 0], np.linspace(-2 * np.pi, 2 * np.pi, 200))
    assert X[0, 0] == -2 * np.pi and X[-1, 0] == 2 * np.pi
    np.testing.assert_allclose(np.diff(X[:, 0]), 4 * np.pi / 199, rtol=1e-12)   # evenly spaced, increasing
    np.testing.assert_array_equal(y, np.sin(X))                                  # noise = 0: exact

    X, y = make_sine(n=2, low=0, high=1)
    np.testing.assert_array_equal(X, [[0.0], [1.0]])
    np.testing.assert_array_equal(y, np.sin([[0.0], [1.0]]))


def test_sine_noise_is_seeded():
    X, y = make_sine(5000, noise=0.1, seed=1)
    e = (y - np.sin(X)) / 0.1
    assert abs(e.mean()) < 0.05 and abs(e.std() - 1) < 0.05
    _, same = make_sine(5000, noise=0.1, seed=1)
    _, other = make_sine(5000, noise=0.1, seed=2)
    np.testing.assert_array_equal(y, same)
    assert not np.allclose(y, other)
    np.testing.assert_array_equal(make_sine(50, seed=1)[1], make_sine(50, seed=2)[1])  # no noise: no seed effect


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"n": 1}, ValueError, r"^n: expected an integer >= 2"),
        ({"n": 0}, ValueError, r"^n: expected a positive integer, got 0"),
        ({"n": 3.5}, TypeError, r"^n: expected a positive integer"),
        ({"low": 1.0, "high": 1.0}, ValueError, r"^high: expected a number greater than low \(1.0\), got 1.0"),
        ({"low": 2.0, "high": -2.0}, ValueError, r"^high: expected a number greater than low"),
        ({"low": -np.inf}, ValueError, r"^low: expected a finite number"),
        ({"high": np.nan}, ValueError, r"^high: expected a finite number"),
        ({"low": "0"}, TypeError, r"^low: expected a real number"),
        ({"noise": -1}, ValueError, r"^noise: expected a number >= 0, got -1"),
        ({"seed": -3}, TypeError, r"^seed: expected a non-negative integer"),
    ],
)
def test_sine_rejects_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        make_sine(**kwargs)


# --------------------------------------------------------------------------- #
# The training recipes of the lessons (occlusion_and_saliency.train_control, sine_derivatives.fit_tanh)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("control", CONTROLS)
def test_delivery_training_recipe_reaches_r2_above_0_9(control):
    data = hn.datasets.make_delivery_times(2000, control=control, seed=0)
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(
        data.X, data.y, test_size=0.25, seed=0, stratify=False)
    mean, std = y_train.mean(), y_train.std()
    net = hn.MLP([16, 16, 1], hidden="tanh", output="identity", seed=0)
    hn.train(net, X_train, (y_train - mean) / std, epochs=1000, lr=0.2, momentum=0.9,
             progress=False)
    pred = mean + std * net.forward(X_test)[-1][:, 0]
    assert pred.shape == y_test.shape == (500,)
    assert r_squared(y_test, pred) > 0.9


def test_sine_training_recipe_fits_within_0_05():
    X, y = hn.datasets.make_sine()
    net = hn.MLP([1, 32, 1], hidden="tanh", output="identity", seed=0)
    hn.train(net, X / (2 * np.pi), y, epochs=8000, lr=0.1, momentum=0.95, progress=False)
    f = net.forward(X / (2 * np.pi))[-1]
    assert f.shape == (200, 1)
    assert np.abs(f - np.sin(X)).max() < 0.05


# --------------------------------------------------------------------------- #
# Huge arguments: refused by name, never a silent inf or NaN (issue 11)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("make, kwargs, name", [
    (make_sine, {"low": -1e308, "high": 1e308}, "high"),
    (make_sine, {"noise": 1e308}, "noise"),
    (make_delivery_times, {"noise": 1e308}, "noise"),
])
def test_huge_arguments_are_refused_naming_them(make, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name}: expected .*1e\+308"):
        make(**kwargs)


def test_large_but_representable_arguments_still_work():
    X, y = make_sine(n=3, low=1e307, high=1e308, noise=1e300, seed=0)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))
    assert np.all(np.isfinite(make_delivery_times(10, noise=1e300).y))
