"""hn.from_keras with h5py only: the committed .keras and legacy .h5 files written by Keras 3 (their
outputs equal what Keras computed, to 1e-12 in float64 and to float32 rounding in float32), files
written here with h5py for every refusal, and load_model."""

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

import handnet as hn
from conftest import assert_within, forward_bound, keras_dense as dense, write_legacy_h5

h5py = pytest.importorskip("h5py")

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "interop")
FILES = [("sequential", "keras"), ("sequential", "h5"), ("functional64", "keras"), ("functional64", "h5")]


def fixture(name, ext):
    return os.path.join(FIXTURES, f"keras_{name}.{ext}")


def keras_outputs(name):
    with np.load(os.path.join(FIXTURES, "keras_predictions.npz"), allow_pickle=False) as archive:
        return archive[f"X_{name}"], archive[f"P_{name}"]


@pytest.mark.parametrize("name, ext", FILES)
def test_committed_keras_files_give_keras_outputs(name, ext):
    net = hn.from_keras(fixture(name, ext))
    X, P = keras_outputs(name)
    if P.dtype == np.float64:
        np.testing.assert_allclose(net.predict_proba(X), P, rtol=1e-12, atol=1e-12)
    else:
        float32_rounding = forward_bound(net, np.abs(X), u=2.0**-24)[:, None]   # (N, 1)
        assert_within(net.predict_proba(X), P, float32_rounding, "output")


def test_the_committed_files_hold_what_their_readme_says():
    seq = hn.from_keras(fixture("sequential", "keras"))
    assert (seq.layer_sizes, seq.hidden_names, seq.output.name) == ([6, 7, 5, 4], ["relu", "tanh"], "softmax")
    fun = hn.from_keras(fixture("functional64", "h5"))
    assert (fun.layer_sizes, fun.hidden_names, fun.output.name) == ([5, 4, 1], ["sigmoid"], "sigmoid")
    assert np.all(fun.biases[1] == 0)                          # Dense(use_bias=False)
    for name in ("sequential", "functional64"):
        assert np.array_equal(hn.from_keras(fixture(name, "keras")).params, hn.from_keras(fixture(name, "h5")).params)


def test_load_model_reads_npz_keras_and_h5_by_their_contents(tmp_path):
    net = hn.from_keras(fixture("sequential", "keras"))
    hn.save(net, tmp_path / "model.npz")
    shutil.copy(fixture("sequential", "keras"), tmp_path / "renamed.bin")
    for path in (tmp_path / "model.npz", fixture("sequential", "h5"), tmp_path / "renamed.bin"):
        assert np.array_equal(hn.interop.load_model(path).params, net.params)


# ----------------------------------------------------------------------------
# Refusals, with files written here by h5py
# ----------------------------------------------------------------------------

W34, b4, W42, b2 = np.ones((3, 4)), np.zeros(4), np.ones((4, 2)), np.zeros(2)


def test_a_hand_written_legacy_file_converts(tmp_path):
    path = write_legacy_h5(tmp_path / "m.h5", [dense("d0", 4, "tanh"), {"class_name": "Dropout", "config":
                           {"name": "drop"}}, dense("d1", 2), {"class_name": "Activation", "config":
                           {"name": "act", "activation": "softmax"}}], {"d0": [W34, b4], "d1": [W42, b2]})
    net = hn.from_keras(path)
    assert (net.layer_sizes, net.hidden_names, net.output.name) == ([3, 4, 2], ["tanh"], "softmax")


@pytest.mark.parametrize("layers, weights, message", [
    ([dense("d0", 4, "relu"), {"class_name": "Conv2D", "config": {"name": "conv"}}], {"d0": [W34, b4]},
     r"^layer 1 'conv' \(Conv2D\) is not supported: handnet converts Dense, Activation, InputLayer \(flat inputs\) "
     r"and Dropout layers, with the activations linear, sigmoid, tanh, relu, softmax, in a Sequential model or a "
     r"single-chain functional model; nothing is dropped silently"),
    ([dense("d0", 4, "relu"), {"class_name": "BatchNormalization", "config": {"name": "bn"}}, dense("d1", 2)],
     {"d0": [W34, b4], "d1": [W42, b2]}, r"^layer 1 'bn' \(BatchNormalization\) is not supported"),
    ([dense("d0", 4, "gelu"), dense("d1", 2)], {"d0": [W34, b4], "d1": [W42, b2]},
     r"^layer 0 'd0' \(Dense\): activation 'gelu' is not supported; expected one of linear, sigmoid, tanh, relu, "
     r"softmax$"),
    ([{"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, 28, 28]}}, dense("d0", 4)],
     {"d0": [W34, b4]}, r"^layer 0 'in' \(InputLayer\) takes inputs of shape \(28, 28\); handnet's network takes "
                        r"flat vectors"),
    ([dense("d0", 4, "relu")], {"d0": [W34]}, r"^layer 0 'd0' \(Dense\): expected 2 weight arrays \(kernel, bias\), "
                                              r"found 1 in the file$"),
    ([dense("d0", 4, "sigmoid"), {"class_name": "Activation", "config": {"name": "a", "activation": "relu"}},
      dense("d1", 2)], {"d0": [W34, b4], "d1": [W42, b2]},
     r"^layer 1 'a' \(Activation\): a second activation \(relu\) right after sigmoid in layer 0 'd0' \(Dense\)"),
    ([dense("d0", 4, "relu")], {"d0": [W34, b4]}, r"^layer 0 'd0' \(Dense\): the output layer's activation 'relu'"),
    ([], {}, r"has no Dense/Linear layer to convert$"),
])
def test_unsupported_layers_are_refused_by_name(tmp_path, layers, weights, message):
    with pytest.raises(ValueError, match=message):
        hn.from_keras(write_legacy_h5(tmp_path / "m.h5", layers, weights))


def test_a_dense_without_bias_converts_with_exact_zero_biases(tmp_path):
    net = hn.from_keras(write_legacy_h5(tmp_path / "m.h5", [dense("d0", 4, "tanh", use_bias=False), dense("d1", 2)],
                                        {"d0": [W34], "d1": [W42, b2]}))
    assert np.all(net.biases[0] == 0) and np.array_equal(net.weights[0], W34)


def legacy_functional(tmp_path, layers, inputs, outputs):
    return write_legacy_h5(tmp_path / "f.h5", layers, {"d0": [W34, b4], "d1": [W42, b2], "d2": [W42, b2]},
                           kind="Functional", extra={"input_layers": inputs, "output_layers": outputs})


def layer_from(layer, *sources, calls=1):
    """A functional layer config reading from ``sources`` (Keras 2's inbound_nodes form)."""
    return {**layer, "name": layer["config"]["name"],
            "inbound_nodes": [[[s, 0, 0, {}] for s in sources]] * calls}


def test_a_single_chain_functional_model_converts(tmp_path):
    layers = [layer_from({"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 3]}}),
              layer_from(dense("d0", 4, "tanh"), "x"), layer_from(dense("d1", 2, "sigmoid"), "d0")]
    layers[0]["inbound_nodes"] = []
    net = hn.from_keras(legacy_functional(tmp_path, layers, [["x", 0, 0]], [["d1", 0, 0]]))
    assert (net.layer_sizes, net.hidden_names, net.output.name) == ([3, 4, 2], ["tanh"], "sigmoid")


@pytest.mark.parametrize("make, output, message", [
    (lambda x, d0: [x, d0, layer_from(dense("d1", 2), "d0"), layer_from(dense("d2", 2), "d0"),
                    layer_from({"class_name": "Add", "config": {"name": "add"}}, "d1", "d2")], "add",
     r"^layer 'add' \(Add\) takes 2 inputs: the model is not a single chain"),
    (lambda x, d0: [x, d0, layer_from(dense("d1", 2), "d0"), layer_from(dense("d2", 2), "d0")], "d1",
     r"^layer 'd2' \(Dense\) is a branch off the chain from 'x' to 'd1'"),
    (lambda x, d0: [x, layer_from(dense("d0", 4, "tanh"), "x", calls=2), layer_from(dense("d1", 2), "d0")], "d1",
     r"^layer 'd0' \(Dense\) is called 2 times \(a shared layer\)"),
])
def test_branches_are_refused(tmp_path, make, output, message):
    x = {**layer_from({"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 3]}}),
         "inbound_nodes": []}
    layers = make(x, layer_from(dense("d0", 4, "tanh"), "x"))
    with pytest.raises(ValueError, match=message):
        hn.from_keras(legacy_functional(tmp_path, layers, [["x", 0, 0]], [[output, 0, 0]]))


def test_two_inputs_and_other_model_kinds_are_refused(tmp_path):
    path = legacy_functional(tmp_path, [], [["x", 0, 0], ["y", 0, 0]], [["d1", 0, 0]])
    with pytest.raises(ValueError, match=r"^model: a functional model with 2 input layers is not a single chain"):
        hn.from_keras(path)
    path = write_legacy_h5(tmp_path / "m.h5", [], {}, kind="MyModel")
    with pytest.raises(ValueError, match=r"^model: a Keras MyModel model is not supported"):
        hn.from_keras(path)


def test_files_that_are_not_keras_models(tmp_path):
    with h5py.File(tmp_path / "weights.h5", "w") as f:
        f["layers/dense/vars/0"] = W34
    with pytest.raises(ValueError, match=r"holds weights only \(no model_config\); save the whole model"):
        hn.from_keras(tmp_path / "weights.h5")
    (tmp_path / "text.keras").write_text("hello")
    with pytest.raises(ValueError, match=r"is neither a \.keras archive \(zip\) nor an HDF5 \.h5 model"):
        hn.from_keras(tmp_path / "text.keras")
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match=r"is a zip archive without config\.json and model\.weights\.h5"):
        hn.from_keras(tmp_path / "other.keras")
    with pytest.raises(FileNotFoundError, match=r"^model: no file at"):
        hn.from_keras(tmp_path / "missing.keras")
    with pytest.raises(TypeError, match=r"^model: expected a path to a \.keras or \.h5 file, or a Keras model, "
                                        r"got int$"):
        hn.from_keras(3)


def test_damaged_files_are_value_errors(tmp_path):
    data = Path(fixture("sequential", "h5")).read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[:len(data) // 3])
    with pytest.raises(ValueError, match=r"is not a readable Keras model file"):
        hn.from_keras(tmp_path / "cut.h5")
    data = Path(fixture("sequential", "keras")).read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r"is not a readable"):
        hn.from_keras(tmp_path / "cut.keras")


def test_a_cycle_or_a_missing_layer_in_the_graph_is_refused(tmp_path):
    x = {**layer_from({"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 3]}}),
         "inbound_nodes": []}
    cycle = [x, layer_from(dense("d0", 4, "tanh"), "d1"), layer_from(dense("d1", 2), "d0")]
    with pytest.raises(ValueError, match=r"^model: the functional model's graph reaches 'd1' twice \(a cycle\)"):
        hn.from_keras(legacy_functional(tmp_path, cycle, [["x", 0, 0]], [["d1", 0, 0]]))
    dangling = [x, layer_from(dense("d1", 2), "nowhere")]
    with pytest.raises(ValueError, match=r"^model: the functional model's graph reaches 'nowhere' but has no such"):
        hn.from_keras(legacy_functional(tmp_path, dangling, [["x", 0, 0]], [["d1", 0, 0]]))


def test_hostile_contents_are_value_errors(tmp_path):
    path = write_legacy_h5(tmp_path / "m.h5", [dense("d0", 4, "tanh"), dense("d1", 2)],
                           {"d0": [W34, b4], "d1": [W42, b2]})
    with h5py.File(path, "a") as f:
        del f["model_weights/d1/d1/bias"]
        f["model_weights/d1/d1/bias"] = np.array([b"a", b"b"])
    with pytest.raises(ValueError, match=r"^model: the array '/model_weights/d1/d1/bias' has dtype \|S1; "
                                         r"expected numbers$"):
        hn.from_keras(path)
    with h5py.File(path, "a") as f:
        f.attrs["model_config"] = "[" * 100_000 + "]" * 100_000      # deeper than json can recurse
    with pytest.raises(ValueError, match=r"is not a readable Keras model file \(RecursionError"):
        hn.from_keras(path)


def test_an_array_larger_than_memory_is_refused_before_reading(tmp_path):
    path = write_legacy_h5(tmp_path / "m.h5", [dense("d0", 4, "tanh"), dense("d1", 2)],
                           {"d0": [W34, b4], "d1": [W42, b2]})
    with h5py.File(path, "a") as f:                  # declared, never written: the file stays small
        del f["model_weights/d0/d0/kernel"]
        f.create_dataset("model_weights/d0/d0/kernel", shape=(10**9, 10**9), dtype="f4", chunks=(1, 4))
    with pytest.raises(ValueError, match=r"^model: the array '/model_weights/d0/d0/kernel' needs .*, more than "
                                         r"this machine lets the process use"):
        hn.from_keras(path)
    assert path.stat().st_size < 100_000
