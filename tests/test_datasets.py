"""Tests for handnet.datasets: the shipped digits, one_hot, train_test_split, MinMaxScaler."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handnet import datasets as hd
from handnet.datasets import (
    DIGITS_SHA256,
    MinMaxScaler,
    load_digits,
    minmax_normalise,
    one_hot,
    train_test_split,
)

# Per-class counts of the UCI optdigits test set (also listed by UCI for optdigits.tes).
DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# --------------------------------------------------------------------------- #
# load_digits
# --------------------------------------------------------------------------- #


def test_load_digits_shape_dtype_range(digits):
    X, y = digits
    assert X.shape == (1797, 64) == hd.DIGITS_SHAPE
    assert y.shape == (1797,)
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_load_digits_counts_are_whole_numbers_0_to_16(digits):
    X, y = digits
    C, y2 = load_digits(return_counts=True)
    assert C.dtype == np.float64 and C.shape == (1797, 64)
    np.testing.assert_array_equal(C, np.round(C))
    assert C.min() == 0 and C.max() == 16
    np.testing.assert_array_equal(C / 16, X)  # scaled = counts / 16, exactly
    np.testing.assert_array_equal(y2, y)


def test_load_digits_class_counts(digits):
    _, y = digits
    counts = np.bincount(y, minlength=10)
    assert counts.tolist() == DIGIT_COUNTS
    assert counts.sum() == 1797


def test_load_digits_first_image_row_major():
    C, y = load_digits(return_counts=True)
    # First record of the file: a 0. Row 0 of the 8x8 image is columns p0..p7.
    assert y[0] == 0
    image = C[0].reshape(8, 8)
    assert image[0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert image[1].tolist() == [0, 0, 13, 15, 10, 15, 5, 0]
    assert image[7].tolist() == [0, 0, 6, 13, 10, 0, 0, 0]


def test_load_digits_returns_fresh_arrays():
    X1, y1 = load_digits()
    X1[:] = -1
    y1[:] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0.0 and y2.min() == 0


def test_shipped_file_matches_checksum():
    blob = hd._digits_file().read_bytes()
    assert hashlib.sha256(blob).hexdigest() == DIGITS_SHA256
    # deterministic gzip header: FLG = 0 (no file name), MTIME = 0
    assert blob[:2] == b"\x1f\x8b"
    assert blob[3] == 0
    assert blob[4:8] == b"\x00\x00\x00\x00"


def test_readme_records_the_checksum_and_counts():
    readme = (hd._data_dir() / "README.md").read_text(encoding="utf-8")
    assert DIGITS_SHA256 in readme
    assert "| images | " + " | ".join(map(str, DIGIT_COUNTS)) + " | 1797 |" in readme


def test_handnet_datasets_does_not_import_sklearn():
    code = "import sys, handnet.datasets as d; d.load_digits(); print('sklearn' in sys.modules)"
    # run from the folder that holds the imported handnet, so a source checkout works too
    cwd = Path(hd.__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- #
# one_hot
# --------------------------------------------------------------------------- #


def test_one_hot_basic():
    Y = one_hot([0, 2, 1, 2])
    np.testing.assert_array_equal(Y, [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    assert Y.dtype == np.float64 and Y.shape == (4, 3)


def test_one_hot_num_classes_pads_columns():
    Y = one_hot([1, 0], num_classes=5)
    assert Y.shape == (2, 5)
    np.testing.assert_array_equal(Y, [[0, 1, 0, 0, 0], [1, 0, 0, 0, 0]])


def test_one_hot_base_1_ex4_labels():
    y = np.array([10, 1, 5, 10, 9])  # ex4: label 10 is the digit 0
    Y = one_hot(y, base=1)
    assert Y.shape == (5, 10)
    np.testing.assert_array_equal(Y.argmax(axis=1), y - 1)  # column k is label k + 1
    assert Y[0, 9] == 1.0 and Y[0].sum() == 1.0  # label 10 -> column 9
    np.testing.assert_array_equal(Y.argmax(axis=1) + 1, y)
    np.testing.assert_array_equal(y % 10, [0, 1, 5, 0, 9])  # the digit shown


def test_one_hot_accepts_whole_floats_and_unsigned():
    np.testing.assert_array_equal(one_hot(np.array([0.0, 2.0])), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(one_hot(np.array([1, 0], dtype=np.uint8)), [[0, 1], [1, 0]])


def test_one_hot_on_digits(digits):
    _, y = digits
    Y = one_hot(y)
    assert Y.shape == (1797, 10)
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(Y.sum(axis=0), DIGIT_COUNTS)
    np.testing.assert_array_equal(Y.argmax(axis=1), y)


@given(st.lists(st.integers(0, 20), min_size=1, max_size=50), st.integers(-3, 3))
@settings(max_examples=50, deadline=None)
def test_one_hot_roundtrip_property(labels, base):
    y = np.array(labels) + base
    Y = one_hot(y, base=base)
    assert Y.shape == (len(y), max(labels) + 1)
    np.testing.assert_array_equal(Y.argmax(axis=1) + base, y)
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    assert set(np.unique(Y)) <= {0.0, 1.0}


@pytest.mark.parametrize(
    "y, kwargs, pattern",
    [
        ([0, 1, 2, -1], {}, r"^y: expected integer class labels >= 0 \(base=0\), got -1 at index 3$"),
        ([0, 1, 2, -1], {"num_classes": 10}, r"^y: expected integer class labels in 0\.\.9, got -1 at index 3$"),
        ([1, 2, 0], {"base": 1}, r"^y: .*>= 1 \(base=1\), got 0 at index 2$"),
        ([0, 1.5, 2], {}, r"^y: expected integer class labels, got 1\.5 at index 1$"),
        ([0.0, 1.0, np.nan], {}, r"^y: expected integer class labels, got nan at index 2$"),
        ([0.0, np.inf], {}, r"^y: expected integer class labels, got inf at index 1$"),
        ([0, 3, 10], {"num_classes": 10}, r"^y: expected integer class labels in 0\.\.9 \(num_classes=10, base=0\), got 10 at index 2$"),
        ([1, 11], {"num_classes": 10, "base": 1}, r"^y: expected integer class labels in 1\.\.10 .*got 11 at index 1$"),
        ([[0, 1], [1, 0]], {}, r"^y: expected a 1-D array of class labels, got shape \(2, 2\)$"),
        ([[1], [2]], {}, r"^y: expected a 1-D array .*got shape \(2, 1\) \(for a column vector use y\.ravel\(\)\)$"),
        (3, {}, r"^y: expected a 1-D array of class labels, got shape \(\)$"),
        (["a", "b"], {}, r"^y: expected integer class labels, got an array of dtype <U1$"),
        ([], {}, r"^y: got no labels"),
    ],
)
def test_one_hot_rejects_bad_labels(y, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        one_hot(y, **kwargs)


@pytest.mark.parametrize("num_classes, exc", [(0, ValueError), (-2, ValueError), (2.0, TypeError), (True, TypeError)])
def test_one_hot_rejects_bad_num_classes(num_classes, exc):
    with pytest.raises(exc, match=r"^num_classes: "):
        one_hot([0, 1], num_classes=num_classes)


def test_one_hot_empty_with_num_classes():
    Y = one_hot(np.array([], dtype=int), num_classes=3)
    assert Y.shape == (0, 3)


# --------------------------------------------------------------------------- #
# train_test_split
# --------------------------------------------------------------------------- #


def _row_ids(X):
    """Tie each row back to its original position through a unique id column."""
    return X[:, 0].astype(int)


def _indexed(n, d=3):
    """X whose column 0 is the row id, and a label vector of 3 unbalanced classes."""
    X = np.column_stack([np.arange(n), np.ones((n, d - 1))]).astype(float)
    y = np.arange(n) % 7 % 3  # classes 0, 1, 2 in proportions 3:2:2
    return X, y


def test_split_sizes_float(digits):
    X, y = digits
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0)
    assert X_te.shape == (359, 64) and y_te.shape == (359,)  # round(0.2 * 1797) = 359
    assert X_tr.shape == (1438, 64) and y_tr.shape == (1438,)
    assert X_tr.dtype == X.dtype and y_tr.dtype == y.dtype


@pytest.mark.parametrize("stratify", [True, False])
def test_split_sizes_int(digits, stratify):
    X, y = digits
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=500, seed=1, stratify=stratify)
    assert len(X_te) == len(y_te) == 500
    assert len(X_tr) == len(y_tr) == 1297


def test_split_is_stratified(digits):
    X, y = digits
    for test_size in (0.2, 0.33, 0.5, 101):
        _, _, y_tr, y_te = train_test_split(X, y, test_size=test_size, seed=3)
        frac = len(y_te) / len(y)
        test_counts = np.bincount(y_te, minlength=10)
        train_counts = np.bincount(y_tr, minlength=10)
        np.testing.assert_array_equal(test_counts + train_counts, DIGIT_COUNTS)
        # each class's test share is its exact share rounded up or down
        exact = np.array(DIGIT_COUNTS) * frac
        assert np.all(np.abs(test_counts - exact) < 1), (test_size, test_counts, exact)


def test_split_stratified_small_unbalanced():
    X, y = _indexed(70)  # 30 / 20 / 20 of classes 0 / 1 / 2
    _, _, y_tr, y_te = train_test_split(X, y, test_size=0.1, seed=0)
    assert np.bincount(y_te).tolist() == [3, 2, 2]
    assert np.bincount(y_tr).tolist() == [27, 18, 18]


def test_split_unstratified_can_unbalance():
    # With stratify=False classes are not forced to keep their proportion:
    # across seeds the test counts of class 0 must vary.
    X, y = _indexed(70)
    seen = {np.bincount(train_test_split(X, y, test_size=0.1, seed=s, stratify=False)[3], minlength=3)[0] for s in range(20)}
    assert len(seen) > 1


@pytest.mark.parametrize("stratify", [True, False])
def test_split_is_a_partition(stratify):
    X, y = _indexed(103)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, seed=7, stratify=stratify)
    ids_tr, ids_te = _row_ids(X_tr), _row_ids(X_te)
    assert len(set(ids_tr) & set(ids_te)) == 0  # disjoint
    assert sorted(np.concatenate([ids_tr, ids_te]).tolist()) == list(range(103))  # complete, no repeats
    np.testing.assert_array_equal(y_tr, y[ids_tr])  # labels travel with their rows
    np.testing.assert_array_equal(y_te, y[ids_te])


@pytest.mark.parametrize("stratify", [True, False])
def test_split_deterministic_by_seed(stratify):
    X, y = _indexed(200)
    a = train_test_split(X, y, seed=42, stratify=stratify)
    b = train_test_split(X, y, seed=42, stratify=stratify)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("stratify", [True, False])
def test_split_differs_across_seeds(stratify):
    X, y = _indexed(200)
    ids_0 = set(_row_ids(train_test_split(X, y, seed=0, stratify=stratify)[1]))
    ids_1 = set(_row_ids(train_test_split(X, y, seed=1, stratify=stratify)[1]))
    assert ids_0 != ids_1


def test_split_parts_are_shuffled_not_grouped_by_class(digits):
    X, y = digits
    _, _, y_tr, y_te = train_test_split(X, y, seed=0)
    assert not np.all(np.diff(y_tr) >= 0)  # not sorted by class
    assert not np.all(np.diff(y_te) >= 0)


def test_split_with_one_hot_targets(digits):
    X, y = digits
    Y = one_hot(y)
    X_tr, X_te, Y_tr, Y_te = train_test_split(X, Y, test_size=0.2, seed=0)
    assert Y_tr.shape == (1438, 10) and Y_te.shape == (359, 10)
    np.testing.assert_array_equal(Y_tr.sum(axis=0) + Y_te.sum(axis=0), DIGIT_COUNTS)


def test_split_whole_float_labels_are_stratified():
    X, y = _indexed(70)
    _, _, _, y_te = train_test_split(X, y.astype(float), test_size=0.1, seed=5)
    assert np.bincount(y_te.astype(int)).tolist() == [3, 2, 2]


@given(
    n=st.integers(2, 120),
    n_classes=st.integers(1, 6),
    frac=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=60, deadline=None)
def test_split_property(n, n_classes, frac, seed):
    X = np.arange(n, dtype=float)[:, None]
    y = np.random.default_rng(seed).integers(0, n_classes, n)
    n_test = int(np.floor(frac * n + 0.5))
    if not 1 <= n_test <= n - 1:
        with pytest.raises(ValueError, match=r"^test_size: "):
            train_test_split(X, y, test_size=frac, seed=seed)
        return
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=frac, seed=seed)
    assert len(X_te) == n_test and len(X_tr) == n - n_test
    ids = np.concatenate([X_tr[:, 0], X_te[:, 0]]).astype(int)
    assert sorted(ids.tolist()) == list(range(n))
    sizes = np.bincount(y, minlength=n_classes)
    exact = sizes * n_test / n
    assert np.all(np.abs(np.bincount(y_te, minlength=n_classes) - exact) < 1)


@pytest.mark.parametrize(
    "X, y, kwargs, exc, pattern",
    [
        (np.zeros(10), np.zeros(10, int), {}, ValueError, r"^X: expected a 2-D array .*got shape \(10,\)$"),
        (np.zeros((10, 2)), np.zeros(9, int), {}, ValueError, r"^y: expected one target per row of X \(10\), got 9$"),
        (np.zeros((10, 2)), np.zeros((10, 2, 2)), {}, ValueError, r"^y: .*got shape \(10, 2, 2\)$"),
        (np.zeros((1, 2)), np.zeros(1, int), {}, ValueError, r"^X: expected at least 2 samples"),
        (np.zeros((10, 2)), np.zeros(10, int), {"test_size": 0.0}, ValueError, r"^test_size: expected a fraction in \(0, 1\), got 0\.0$"),
        (np.zeros((10, 2)), np.zeros(10, int), {"test_size": 1.0}, ValueError, r"^test_size: "),
        (np.zeros((10, 2)), np.zeros(10, int), {"test_size": 0.01}, ValueError, r"^test_size: 0\.01 of 10 samples gives 0 test samples"),
        (np.zeros((10, 2)), np.zeros(10, int), {"test_size": 10}, ValueError, r"^test_size: expected a count in 1\.\.9 for 10 samples, got 10$"),
        (np.zeros((10, 2)), np.zeros(10, int), {"test_size": 0}, ValueError, r"^test_size: "),
        (np.zeros((10, 2)), np.zeros(10, int), {"test_size": "0.2"}, TypeError, r"^test_size: "),
        (np.zeros((10, 2)), np.zeros(10, int), {"test_size": True}, TypeError, r"^test_size: "),
        (np.zeros((10, 2)), np.zeros(10, int), {"stratify": "yes"}, TypeError, r"^stratify: "),
    ],
)
def test_split_validation(X, y, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        train_test_split(X, y, **kwargs)


# --------------------------------------------------------------------------- #
# MinMaxScaler
# --------------------------------------------------------------------------- #


def test_minmax_maps_columns_to_unit_interval():
    X = np.array([[1.0, -2.0, 10.0], [3.0, 0.0, 10.0], [2.0, 2.0, 10.0]])
    s = MinMaxScaler().fit(X)
    np.testing.assert_array_equal(s.min_, [1.0, -2.0, 10.0])
    np.testing.assert_array_equal(s.max_, [3.0, 2.0, 10.0])
    Z = s.transform(X)
    np.testing.assert_allclose(Z, [[0.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.5, 1.0, 0.0]])


def test_minmax_constant_column_is_zero_without_warning():
    # filterwarnings = error makes any divide-by-zero RuntimeWarning fail this test
    X = np.array([[5.0, 1.0], [5.0, 2.0], [5.0, 3.0]])
    Z = minmax_normalise(X)
    np.testing.assert_array_equal(Z[:, 0], 0.0)
    np.testing.assert_array_equal(Z[:, 1], [0.0, 0.5, 1.0])
    assert np.all(np.isfinite(Z))
    # and for new data, a constant column still maps to 0 whatever the value
    np.testing.assert_array_equal(MinMaxScaler().fit(X).transform([[7.0, 4.0]]), [[0.0, 1.5]])


def test_minmax_uses_training_range_on_new_data():
    s = MinMaxScaler().fit([[0.0], [10.0]])
    np.testing.assert_allclose(s.transform([[-5.0], [5.0], [20.0]]), [[-0.5], [0.5], [2.0]])


def test_minmax_fit_transform_equals_fit_then_transform(digits):
    X, _ = digits
    C = X * 16
    np.testing.assert_array_equal(MinMaxScaler().fit_transform(C), MinMaxScaler().fit(C).transform(C))
    np.testing.assert_array_equal(minmax_normalise(C), MinMaxScaler().fit_transform(C))
    Z = minmax_normalise(C)
    assert Z.min() == 0.0 and Z.max() == 1.0
    # digits have constant (always-blank) columns: they must come out as 0
    constant = C.min(axis=0) == C.max(axis=0)
    assert constant.any()
    np.testing.assert_array_equal(Z[:, constant], 0.0)


def test_minmax_wrong_width_raises():
    s = MinMaxScaler().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"^X: expected 3 columns \(as in fit\), got 2$"):
        s.transform(np.zeros((4, 2)))


def test_minmax_validation():
    with pytest.raises(RuntimeError, match="call fit"):
        MinMaxScaler().transform([[1.0]])
    with pytest.raises(ValueError, match=r"^X: expected a 2-D array .*got shape \(3,\)$"):
        MinMaxScaler().fit([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^X: expected finite numbers, got nan at index \(1, 0\)$"):
        MinMaxScaler().fit([[1.0], [np.nan]])
    with pytest.raises(ValueError, match=r"^X: expected at least one row"):
        MinMaxScaler().fit(np.zeros((0, 3)))
    with pytest.raises(TypeError, match=r"^X: "):
        MinMaxScaler().fit([["a", "b"]])


# --------------------------------------------------------------------------- #
# Huge and unchecked arguments (issue 11): refused by name or computed without overflow
# --------------------------------------------------------------------------- #


def test_minmax_of_values_near_the_float64_limit_is_computed_without_overflow():
    # max - min = 2e308 overflows float64; the scaled values do not
    Z = minmax_normalise([[1e308, 0.0], [-1e308, 1.0], [0.0, 0.5]])
    np.testing.assert_array_equal(Z, [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])


def test_minmax_result_beyond_float64_is_refused_naming_X():
    s = MinMaxScaler().fit([[0.0], [1e-300]])
    with pytest.raises(ValueError, match=r"^X: the value 1e\+300 at row 0, column 0 scales to inf"):
        s.transform([[1e300]])


def test_split_refuses_a_bad_seed_naming_it():
    X, y = np.zeros((10, 2)), np.arange(10) % 2
    with pytest.raises(TypeError, match=r"^seed: expected a non-negative integer"):
        train_test_split(X, y, seed="abc")
    with pytest.raises(TypeError, match=r"^seed: "):
        train_test_split(X, y, seed=-1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_split_refuses_a_non_finite_X_naming_it(bad):
    X, y = np.zeros((10, 2)), np.arange(10) % 2
    X[3, 1] = bad
    with pytest.raises(ValueError, match=r"^X: expected finite numbers, got (nan|inf) at index \(3, 1\)$"):
        train_test_split(X, y)


def test_split_refuses_a_nan_target_naming_y():
    X, y = np.zeros((10, 2)), np.linspace(0, 1, 10)
    y[4] = np.nan
    with pytest.raises(ValueError, match=r"^y: expected finite numbers, got nan at index 4$"):
        train_test_split(X, y, stratify=False)


def test_split_keeps_the_dtype_of_X():
    X = np.arange(20).reshape(10, 2)
    X_train, X_test, _, _ = train_test_split(X, np.arange(10) % 2)
    assert X_train.dtype == X.dtype and X_test.dtype == X.dtype
