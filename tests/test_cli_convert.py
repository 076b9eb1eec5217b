"""``handnet convert`` and ``handnet explain --model`` with Keras files (h5py needed), in-process."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import handnet as hn
from conftest import assert_one_line_error, keras_dense, run_cli, write_legacy_h5

pytest.importorskip("h5py")

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "interop")


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_convert_writes_the_converted_network(tmp_path, capsys, ext):
    source = os.path.join(FIXTURES, f"keras_sequential.{ext}")
    status, out, err = run_cli(capsys, "convert", source, tmp_path / "m.npz")
    assert (status, err) == (0, "")
    assert out.startswith(f"{source} -> {tmp_path / 'm.npz'}\nMLP([6, 7, 5, 4], hidden=['relu', 'tanh']")
    assert np.array_equal(hn.load(tmp_path / "m.npz").params, hn.from_keras(source).params)


@pytest.mark.parametrize("args, fragments", [
    (lambda tmp: [os.path.join(FIXTURES, "keras_sequential.keras"), tmp / "m.bin"],
     ["OUT: expected a file name ending in .npz, got"]),
    (lambda tmp: [tmp / "missing.keras", tmp / "m.npz"], ["no model file at", "missing.keras"]),
    (lambda tmp: [write_legacy_h5(tmp / "conv.h5", [keras_dense("d0", 4, "relu"),
                                                    {"class_name": "Conv2D", "config": {"name": "conv"}}],
                                  {"d0": [np.ones((3, 4)), np.zeros(4)]}), tmp / "m.npz"],
     ["layer 1 'conv' (Conv2D) is not supported"]),
])
def test_convert_errors_are_one_line(tmp_path, capsys, args, fragments):
    status, out, err = run_cli(capsys, "convert", *args(tmp_path))
    assert_one_line_error(status, out, err, *fragments)
    assert not (tmp_path / "m.npz").exists()


def test_convert_refuses_to_overwrite_its_input(tmp_path, capsys):
    net = hn.MLP([3, 2])
    hn.save(net, tmp_path / "m.npz")
    assert_one_line_error(*run_cli(capsys, "convert", tmp_path / "m.npz", tmp_path / "m.npz"),
                          "OUT: ", "is the input file itself")


def test_a_missing_h5py_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    from handnet.interop import keras

    def no_h5py():
        raise ImportError("reading Keras files needs h5py: pip install 'handnet[keras]'")

    monkeypatch.setattr(keras, "_h5py", no_h5py)
    assert_one_line_error(*run_cli(capsys, "convert", os.path.join(FIXTURES, "keras_sequential.h5"),
                                   tmp_path / "m.npz"), "IN: reading Keras files needs h5py")


def test_explain_reads_a_keras_model_like_its_converted_npz(tmp_path, capsys):
    rng = np.random.default_rng(0)
    weights = {"d0": [rng.normal(size=(64, 12)), rng.normal(size=12)],
               "d1": [rng.normal(size=(12, 10)), rng.normal(size=10)]}
    keras_file = write_legacy_h5(tmp_path / "digits.h5", [keras_dense("d0", 12, "tanh"),
                                                          keras_dense("d1", 10, "softmax")], weights)
    assert run_cli(capsys, "convert", keras_file, tmp_path / "digits.npz")[0] == 0
    tables = []
    for model, out in ((keras_file, "from_keras"), (tmp_path / "digits.npz", "from_npz")):
        status, _, err = run_cli(capsys, "explain", "--model", model, "--method", "sensitivity", "--rows", "0:3",
                                 "--out", tmp_path / out)
        assert (status, err) == (0, "")
        tables.append(pd.read_csv(tmp_path / out / "sensitivity.csv"))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    X = hn.datasets.load_digits()[0][:3]
    net = hn.from_keras(keras_file)
    expected = np.abs(hn.explain.input_gradient(net, X, net.predict(X)))
    np.testing.assert_allclose(tables[0][[f"x{j}" for j in range(64)]].to_numpy(), expected, rtol=1e-12,
                               atol=1e-15)
