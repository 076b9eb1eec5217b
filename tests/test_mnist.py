"""The shipped MNIST subset: checksum, composition, the 20x20 area resampling, installation."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from handnet import datasets as hd

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mnist28():
    return hd.load_mnist(28)


def test_shipped_file_matches_checksum_and_readme():
    blob = (hd._data_dir() / "mnist_5k.npz").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == hd.MNIST_SHA256
    assert hd.MNIST_SHA256 in (hd._data_dir() / "README.md").read_text(encoding="utf-8")


def test_file_holds_uint8_arrays_without_pickle():
    with (hd._data_dir() / "mnist_5k.npz").open("rb") as f, np.load(f, allow_pickle=False) as data:
        assert sorted(data.files) == ["labels", "pixels"]
        assert data["pixels"].dtype == np.uint8 and data["pixels"].shape == (5000, 784)
        assert data["labels"].dtype == np.uint8 and data["labels"].shape == (5000,)


def test_load_mnist_28_shapes_range_and_500_per_digit(mnist28):
    X, y = mnist28
    assert X.shape == (5000, 784) and X.dtype == np.float64
    assert y.shape == (5000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.round(X * 255), X * 255)   # pixel / 255 of whole bytes
    np.testing.assert_array_equal(np.bincount(y, minlength=10), np.full(10, 500))
    assert y.min() == 0 and y.max() == 9


def test_images_are_row_major_digits(mnist28):
    """A 1 is an upright stroke: read row-major, the mean 1's ink piles up in a few middle
    columns (a tall peak of the column sums) and spreads evenly down the rows."""
    X, y = mnist28
    ones = X[y == 1].reshape(-1, 28, 28).mean(axis=0)             # the mean 1, (28, 28)
    assert ones.sum(axis=0).max() > 2 * ones.sum(axis=1).max()      # 11.1 against 3.2


def test_resampling_matrix_rows_sum_to_one_and_keep_constants():
    R = hd.area_resampling_matrix(20, 28)
    assert R.shape == (20, 28) and R.min() >= 0.0
    np.testing.assert_allclose(R.sum(axis=1), np.ones(20), rtol=0, atol=4 * np.finfo(float).eps)
    # each input pixel is spread over outputs in total 20/28 of one output (the columns' sum)
    np.testing.assert_allclose(R.sum(axis=0), np.full(28, 20 / 28), rtol=0, atol=32 * np.finfo(float).eps)
    constant = np.full((1, 28, 28), 0.37)
    np.testing.assert_allclose(hd.resample_images(constant, R), np.full((1, 20, 20), 0.37),
                               rtol=4 * np.finfo(float).eps, atol=0)
    # the first output pixel covers input 0 fully (5/7 of its width) and 2/7 of input 1
    np.testing.assert_allclose(R[0, :3], [5 / 7, 2 / 7, 0.0], rtol=0, atol=1e-15)


def test_load_mnist_20_equals_R_I_Rt_of_the_28x28_images(mnist28):
    X28, y28 = mnist28
    X20, y20 = hd.load_mnist(size=20)
    assert X20.shape == (5000, 400) and X20.dtype == np.float64
    np.testing.assert_array_equal(y20, y28)
    R = hd.area_resampling_matrix(20, 28)
    images = X28.reshape(-1, 28, 28)
    expected = np.einsum("ia,nab,jb->nij", R, images, R).reshape(5000, 400)   # R I Rᵀ, written out
    # 28 + 28 products of numbers in [0, 1] summed per entry: a few ulps of 1
    np.testing.assert_allclose(X20, expected, rtol=0, atol=64 * np.finfo(float).eps)
    assert X20.min() >= 0.0 and X20.max() <= 1.0 + 64 * np.finfo(float).eps
    # area averaging keeps each image's total ink up to the area ratio (20/28)^2
    np.testing.assert_allclose(X20.sum(axis=1), X28.sum(axis=1) * (20 / 28) ** 2, rtol=1e-12)


@pytest.mark.parametrize("size", [16, 0, 28.0, "28", None, True])
def test_bad_size_is_refused_naming_it(size):
    with pytest.raises(ValueError, match=r"^size: expected one of \(28, 20\)"):
        hd.load_mnist(size=size)


def test_mnist_loads_from_a_non_editable_build(tmp_path):
    """Build the package exactly as a wheel would hold it (setuptools' build_py, which copies the
    packages and their package-data) and load the data from there, away from the source tree."""
    lib = tmp_path / "lib"
    subprocess.run([sys.executable, "-W", "ignore", "-c",
                    "import sys, setuptools; sys.argv = ['setup.py', '-q', 'build_py', '--build-lib', "
                    f"{str(lib)!r}]; setuptools.setup()"], cwd=ROOT, check=True, capture_output=True)
    code = ("import handnet as hn; X, y = hn.datasets.load_mnist(20); "
            "print(hn.__file__); print(X.shape, int(y.sum()))")
    env = {**os.environ, "PYTHONPATH": str(lib)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert Path(out[0]).resolve().is_relative_to(lib.resolve())
    assert out[1] == f"(5000, 400) {500 * sum(range(10))}"
