"""Model files: hn.save / hn.load.

Round trips are bit-identical; loading never unpickles and turns every kind of
bad file into a ValueError that names ``path``; saving is atomic.
"""

from __future__ import annotations

import gc
import io
import json
import os
import re
import stat
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import handnet as hn
from conftest import assert_within, forward_bound
import handnet.io as hio

ARCHITECTURES = [
    ([3, 1], "sigmoid", "sigmoid", None),
    ([4, 5, 3], "tanh", "softmax", None),
    ([2, 6, 5, 2], "relu", "identity", None),
    ([3, 4, 2], "identity", "sigmoid", "quadratic"),
    ([5, 3, 3], "sigmoid", "softmax", "quadratic"),
    ([64, 25, 10], "sigmoid", "sigmoid", None),
]


def random_net(sizes=(3, 4, 2), hidden="sigmoid", output="sigmoid", cost=None, seed=0):
    net = hn.MLP(list(sizes), hidden=hidden, output=output, cost=cost)
    net.params = np.random.default_rng(seed).normal(size=net.n_params)     # biases too, not just 0
    return net


def read_meta(path):
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(str(archive["meta"]))


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


LAYERS = {"W0": np.ones((3, 4)), "b0": np.zeros(4), "W1": np.ones((4, 2)), "b1": np.zeros(2)}

# ----------------------------------------------------------------------------
# Round trips
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("sizes, hidden, output, cost", ARCHITECTURES, ids=lambda v: str(v))
def test_round_trip_is_bit_identical(tmp_path, sizes, hidden, output, cost):
    net = random_net(sizes, hidden, output, cost)
    path = tmp_path / "model.npz"
    assert hn.save(net, path) == str(path)
    loaded = hn.load(path)
    X = np.random.default_rng(5).normal(scale=3, size=(50, sizes[0]))
    assert np.array_equal(loaded.params, net.params)
    assert np.array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert np.array_equal(loaded.predict(X), net.predict(X))
    for a, b in zip(loaded.forward(X), net.forward(X)):
        assert np.array_equal(a, b)
    assert loaded.layer_sizes == net.layer_sizes
    assert (loaded.hidden.name, loaded.output.name, loaded.cost) == (net.hidden.name, net.output.name, net.cost)
    assert repr(loaded) == repr(net)
    # the loaded network is independent of the saved one
    loaded.params[0] += 1.0
    assert loaded.params[0] != net.params[0]


@pytest.mark.parametrize("sizes, hidden, output, cost", ARCHITECTURES, ids=lambda v: str(v))
def test_meta_is_stored_and_identical_after_a_second_round_trip(tmp_path, sizes, hidden, output, cost):
    net = random_net(sizes, hidden, output, cost)
    hn.save(net, tmp_path / "a.npz")
    meta = read_meta(tmp_path / "a.npz")
    assert meta == {"format": "handnet.mlp", "version": 1, "handnet_version": hn.__version__,
                    "layer_sizes": net.layer_sizes, "hidden": hidden, "output": output, "cost": net.cost}
    hn.save(hn.load(tmp_path / "a.npz"), tmp_path / "b.npz")
    assert read_meta(tmp_path / "b.npz") == meta


def test_file_is_a_zip_of_npy_members(tmp_path):
    net = random_net([4, 5, 3, 2])
    path = hn.save(net, tmp_path / "model.npz")
    assert zipfile.is_zipfile(path)
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        assert z.testzip() is None
    assert names == sorted(["W0.npy", "b0.npy", "W1.npy", "b1.npy", "W2.npy", "b2.npy", "meta.npy"])
    with np.load(path, allow_pickle=False) as archive:        # readable without handnet
        assert archive["W1"].dtype == np.float64 and archive["W1"].shape == (5, 3)
        assert archive["b2"].shape == (2,)
        assert np.array_equal(archive["W0"], net.weights[0])
        assert archive["meta"].dtype.kind == "U" and archive["meta"].shape == ()


def test_save_keeps_the_path_exactly_as_given(tmp_path):
    net = random_net()
    for name in ("model", "model.bin", "model.npz", "weights.v2"):
        path = tmp_path / name
        assert hn.save(net, str(path)) == str(path)
        assert path.exists()
        assert np.array_equal(hn.load(str(path)).params, net.params)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "model.bin", "model.npz", "weights.v2"]
    assert not (tmp_path / "model.npz.npz").exists() and not (tmp_path / "model.bin.npz").exists()


def test_save_accepts_str_and_pathlib_and_creates_folders(tmp_path):
    net = random_net()
    path = tmp_path / "new" / "folder" / "m.npz"
    hn.save(net, path)
    assert np.array_equal(hn.load(str(path)).params, net.params)
    assert np.array_equal(hn.load(path).params, net.params)


def test_save_then_load_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    net = random_net()
    assert hn.save(net, "here") == "here"
    assert np.array_equal(hn.load("here").params, net.params)
    assert os.listdir(".") == ["here"]


def test_save_rejects_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match=r"^net: expected a handnet MLP, got str \(arguments in the order net, path\)$"):
        hn.save("net", tmp_path / "m.npz")
    with pytest.raises(TypeError, match=r"^path: expected a file path, got int$"):
        hn.save(random_net(), 5)
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_a_network_it_could_not_load(tmp_path):
    net = random_net()
    path = hn.save(net, tmp_path / "m.npz")
    before = Path(path).read_bytes()
    broken = net.copy()
    broken.params[3] = np.nan                     # bypasses the setter: writes into the vector
    with pytest.raises(ValueError, match=r"^net: parameter 3 is nan; a model with NaN or infinite parameters"):
        hn.save(broken, path)
    assert Path(path).read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


# ----------------------------------------------------------------------------
# Loading never unpickles
# ----------------------------------------------------------------------------


class _Exploit:
    """Unpickling this would create a file: proof that a loader ran pickle."""

    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    _Exploit.marker = tmp_path / "PWNED"
    payload = np.empty((3, 4), dtype=object)
    payload[...] = 1.0
    payload[0, 0] = _Exploit()
    path = tmp_path / "evil.npz"
    np.savez(path, W0=payload, b0=np.zeros(4))                # np.savez pickles object arrays
    with pytest.raises(ValueError, match=r"^path: '.*evil\.npz' is not a valid handnet model file: array 'W0' "
                                         r"holds Python objects \(dtype object\), which only pickle could read, "
                                         r"and handnet never unpickles \(allow_pickle=False\)$"):
        hn.load(path)
    assert not _Exploit.marker.exists()


def test_object_meta_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, **LAYERS, meta=np.array({"hidden": "tanh"}, dtype=object))
    with pytest.raises(ValueError, match=r"^path: .*not a valid handnet model file: array 'meta' holds Python "
                                         r"objects .*allow_pickle=False"):
        hn.load(path)


def test_a_raw_pickle_is_refused(tmp_path):
    import pickle

    _Exploit.marker = tmp_path / "PWNED"
    path = tmp_path / "m.npz"
    path.write_bytes(pickle.dumps({"W0": _Exploit()}))
    with pytest.raises(ValueError, match=r"^path: .* is not a valid handnet model file: it is not an \.npz archive"):
        hn.load(path)
    assert not _Exploit.marker.exists()


def test_handnet_never_enables_pickle():
    """grep handnet/: allow_pickle only ever appears as allow_pickle=False, and pickle is never imported."""
    root = Path(hn.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 5
    uses = 0
    for file in files:
        text = file.read_text(encoding="utf-8")
        for match in re.finditer(r"allow_pickle\s*=\s*(\w+)", text):
            uses += 1
            assert match.group(1) == "False", f"{file.name}: {match.group(0)}"
        assert not re.search(r"^\s*(import|from)\s+(c?pickle|dill|joblib|shelve)\b", text, re.M), file.name
        assert not re.search(r"\bpickle\.loads?\(", text), file.name
    assert uses >= 1, "io.load should pass allow_pickle=False explicitly"


# ----------------------------------------------------------------------------
# Bad files
# ----------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^path: no model file at '.*nothing\.npz'$"):
        hn.load(tmp_path / "nothing.npz")


def test_load_rejects_a_non_path():
    with pytest.raises(TypeError, match=r"^path: expected a file path, got int 5$"):
        hn.load(5)
    with pytest.raises(TypeError, match=r"^path: expected a file path, got NoneType None$"):
        hn.load(None)


def test_a_folder_is_not_a_model(tmp_path):
    with pytest.raises(ValueError, match=r"^path: '.*' is a folder, not a model file$"):
        hn.load(tmp_path)


@pytest.mark.parametrize("fraction", [0.5, 0.1, 0.9, 0.99])
def test_truncated_file(tmp_path, fraction):
    good = Path(hn.save(random_net([4, 5, 3]), tmp_path / "good.npz")).read_bytes()
    path = tmp_path / "truncated.npz"
    path.write_bytes(good[: int(len(good) * fraction)])
    with pytest.raises(ValueError, match=r"^path: '.*truncated\.npz' is not a valid handnet model file"):
        hn.load(path)


def test_truncated_file_does_not_leak_the_file_handle(tmp_path):
    """numpy's np.load(path) leaks its handle when the zip is unreadable; handnet opens the file itself."""
    good = Path(hn.save(random_net(), tmp_path / "good.npz")).read_bytes()
    path = tmp_path / "truncated.npz"
    path.write_bytes(good[: len(good) // 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            with pytest.raises(ValueError):
                hn.load(path)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_corrupted_member_is_a_value_error(tmp_path):
    path = Path(hn.save(random_net([4, 5, 3]), tmp_path / "m.npz"))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("W0.npy")
    start = info.header_offset + 30 + len(info.filename) + 200     # inside W0's data
    data[start:start + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"^path: '.*m\.npz' is not a valid handnet model file"):
        hn.load(path)


@pytest.mark.parametrize("content, pattern", [
    (b"hello, this is a text file\n", r"it is not an \.npz archive \(a zip file\); it starts with b'hello,'"),
    (bytes(np.random.default_rng(0).integers(0, 256, size=500, dtype=np.uint8)), r"it is not an \.npz archive"),
    (b"", r"the file is empty"),
    (b"PK", r"it is not an \.npz archive"),
    (b"PK\x03\x04" + b"\x00" * 40, r"not a valid handnet model file"),
    (b"W0,b0\n1,2\n", r"it is not an \.npz archive"),
], ids=["text", "random bytes", "empty", "PK", "zip header only", "csv"])
def test_not_a_model_file(tmp_path, content, pattern):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"^path: '.*m\.npz' .*" + pattern):
        hn.load(path)


def test_a_single_npy_is_not_a_model(tmp_path):
    np.save(tmp_path / "W0.npy", np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"^path: '.*W0\.npy' is not a valid handnet model file: it holds a "
                                         r"single \.npy array, not an \.npz archive$"):
        hn.load(tmp_path / "W0.npy")


def test_a_zip_that_is_not_an_npz(tmp_path):
    for members in ({"W0.npy": b"garbage", "b0.npy": b"x"}, {"W0": b"garbage"}, {"readme.txt": b"hi"}):
        path = tmp_path / "m.npz"
        with zipfile.ZipFile(path, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
        with pytest.raises(ValueError, match=r"^path: '.*m\.npz' "):
            hn.load(path)


def test_an_empty_npz(tmp_path):
    np.savez(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"^path: '.*' holds arrays \[\]; expected W0, b0, \.\.\."):
        hn.load(tmp_path / "m.npz")


def _layers(**changes):
    arrays = {k: v.copy() for k, v in LAYERS.items()}
    for k, v in changes.items():
        if v is None:
            del arrays[k]
        else:
            arrays[k] = v
    return arrays


@pytest.mark.parametrize("arrays, pattern", [
    (_layers(W1=np.ones((5, 2))), r"W1 has 5 rows but W0 has 4 columns; the layers do not connect$"),
    (_layers(b0=np.zeros(3)), r"layer 0 has W0 \(3, 4\) and b0 \(3,\); expected W0 \(n_in, n_out\) and b0 \(n_out,\)$"),
    (_layers(b1=np.zeros((2, 1))), r"layer 1 has W1 \(4, 2\) and b1 \(2, 1\)"),
    (_layers(W0=np.ones(12)), r"layer 0 has W0 \(12,\) and b0 \(4,\)"),
    (_layers(W0=np.ones((3, 4, 1))), r"layer 0 has W0 \(3, 4, 1\)"),
    (_layers(W0=np.ones((0, 4))), r"W0 is empty, shape \(0, 4\)$"),
    (_layers(b1=None), r"holds arrays \['W0', 'W1', 'b0'\]; expected W0, b0, \.\.\., W\{L-1\}, b\{L-1\} with no gaps$"),
    (_layers(W1=None, b1=None, W2=np.ones((4, 2)), b2=np.zeros(2)), r"holds arrays \['W0', 'W2', 'b0', 'b2'\]"),
    (_layers(W2=np.ones((2, 2))), r"holds arrays \['W0', 'W1', 'W2', 'b0', 'b1'\]"),
    (_layers(W2=np.ones((2, 2)), b2=np.zeros(2), b3=np.zeros(1)), r"holds arrays .*'b3'"),
    (_layers(extra=np.ones(3)), r"holds an unexpected array 'extra'; expected W0, b0, W1, b1, \.\.\. and meta$"),
    (_layers(W01=np.ones((4, 2))), r"holds an unexpected array 'W01'"),
    (_layers(w0=np.ones((3, 4))), r"holds an unexpected array 'w0'"),
    (_layers(W0=np.ones((3, 4), dtype=bool)), r"array 'W0' has dtype bool; expected float64$"),
    (_layers(b1=np.zeros(2, dtype=complex)), r"array 'b1' has dtype complex128; expected float64$"),
    (_layers(W1=np.array([["a", "b"]] * 4)), r"array 'W1' has dtype <U1; expected float64$"),
], ids=["W1 rows", "b0 length", "b1 2-D", "W0 1-D", "W0 3-D", "W0 empty", "missing b1", "gap",
        "extra W2", "extra b3", "extra name", "W01", "lowercase", "bool", "complex", "strings"])
def test_inconsistent_layers(tmp_path, arrays, pattern):
    path = write_npz(tmp_path / "m.npz", **arrays)
    with pytest.raises(ValueError, match=r"^path: '.*m\.npz'.* " + pattern):
        hn.load(path)


@pytest.mark.parametrize("where, value", [("W0", np.nan), ("b1", np.inf), ("W1", -np.inf)])
def test_non_finite_weights(tmp_path, where, value):
    arrays = _layers()
    arrays[where].flat[0] = value
    path = write_npz(tmp_path / "m.npz", **arrays)
    layer = where[1]
    with pytest.raises(ValueError, match=rf"^path: '.*m\.npz': layer {layer} holds NaN or infinite values$"):
        hn.load(path)


def test_file_without_meta_is_an_all_sigmoid_cross_entropy_network(tmp_path):
    rng = np.random.default_rng(0)
    W0, b0, W1, b1 = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)), rng.normal(size=2)
    path = tmp_path / "student.npz"
    np.savez(path, W0=W0, b0=b0, W1=W1, b1=b1)                # plain numpy, as a student would
    net = hn.load(path)
    assert net.layer_sizes == [3, 4, 2]
    assert (net.hidden.name, net.output.name, net.cost) == ("sigmoid", "sigmoid", "cross_entropy")
    X = rng.normal(size=(7, 3))
    sig = lambda z: 1 / (1 + np.exp(-z))                      # noqa: E731
    # the same forward pass written with plain numpy: apart by rounding alone
    assert_within(net.predict_proba(X), sig(sig(X @ W0 + b0) @ W1 + b1), forward_bound(net, X)[:, None])
    assert np.array_equal(net.weights[1], W1) and np.array_equal(net.biases[0], b0)


def test_integer_weights_without_meta_load_as_float(tmp_path):
    path = write_npz(tmp_path / "m.npz", W0=np.arange(12).reshape(3, 4), b0=np.zeros(4, dtype=np.int32))
    net = hn.load(path)
    assert net.params.dtype == np.float64 and np.array_equal(net.weights[0], np.arange(12).reshape(3, 4))


def _with_meta(tmp_path, meta, raw=False):
    value = np.array(meta if raw else json.dumps(meta))
    return write_npz(tmp_path / "m.npz", **LAYERS, meta=value)


@pytest.mark.parametrize("meta, exc_pattern", [
    ({"hidden": "swish"}, r"has unusable meta: hidden: unknown activation 'swish'"),
    ({"output": "relu"}, r"has unusable meta: output: 'relu' cannot be used here"),
    ({"hidden": 3}, r"has unusable meta: hidden: expected an activation name"),
    ({"cost": "hinge"}, r"has unusable meta: cost: unknown cost 'hinge'"),
    ({"output": "identity", "cost": "cross_entropy"}, r"has unusable meta: cost: 'cross_entropy' does not fit"),
    ({"layer_sizes": [3, 5, 2]}, r"is inconsistent: meta says layer_sizes \[3, 5, 2\] but the arrays give \[3, 4, 2\]$"),
    ({"format": "keras"}, r": meta format is 'keras', expected 'handnet\.mlp'$"),
    ({"version": 99}, r"was written in format version 99, newer than this handnet reads \(1\); upgrade handnet$"),
    ({"version": "one"}, r": meta 'version' must be a positive integer, got 'one'$"),
    ({"version": None}, r": meta 'version' must be a positive integer, got None$"),
    ({"version": 1.5}, r": meta 'version' must be a positive integer, got 1\.5$"),
    ({"version": True}, r": meta 'version' must be a positive integer, got True$"),
    (["not", "a", "dict"], r": 'meta' must be a JSON object, got list$"),
])
def test_bad_meta(tmp_path, meta, exc_pattern):
    path = _with_meta(tmp_path, meta)
    with pytest.raises(ValueError, match=r"^path: '.*m\.npz'.*" + exc_pattern):
        hn.load(path)


def test_meta_that_is_not_json(tmp_path):
    path = _with_meta(tmp_path, "{hidden: tanh", raw=True)
    with pytest.raises(ValueError, match=r"^path: '.*m\.npz': 'meta' is not valid JSON \("):
        hn.load(path)
    path = write_npz(tmp_path / "m.npz", **LAYERS, meta=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"^path: '.*m\.npz': 'meta' must be a JSON string, got an array of "
                                         r"dtype float64 and shape \(2,\)$"):
        hn.load(path)


def test_partial_meta_uses_the_defaults(tmp_path):
    net = hn.load(_with_meta(tmp_path, {"hidden": "tanh"}))
    assert (net.hidden.name, net.output.name, net.cost) == ("tanh", "sigmoid", "cross_entropy")
    net = hn.load(_with_meta(tmp_path, {"output": "softmax"}))
    assert net.cost == "softmax_cross_entropy"


# ----------------------------------------------------------------------------
# Atomic saving
# ----------------------------------------------------------------------------


def _crash_halfway(monkeypatch, exc=KeyboardInterrupt):
    """Make numpy.savez (what io.save calls) write half of the archive, then raise ``exc``."""
    real_savez = np.savez
    calls = []

    def crashing_savez(file, *args, **kwds):
        buf = io.BytesIO()
        real_savez(buf, *args, **kwds)
        data = buf.getvalue()
        file.write(data[: len(data) // 2])
        file.flush()
        calls.append(len(data))
        raise exc() if isinstance(exc, type) else exc

    monkeypatch.setattr(np, "savez", crashing_savez)
    return calls


@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError(28, "No space left on device"), MemoryError],
                         ids=["KeyboardInterrupt", "disk full", "MemoryError"])
def test_crash_while_saving_over_a_model_keeps_the_old_one(tmp_path, monkeypatch, exc):
    old, new = random_net(seed=1), random_net(seed=2)
    path = tmp_path / "model.npz"
    hn.save(old, path)
    before = path.read_bytes()
    calls = _crash_halfway(monkeypatch, exc)
    with pytest.raises(exc if isinstance(exc, type) else type(exc)):
        hn.save(new, path)
    assert calls, "io.save no longer calls numpy.savez: update _crash_halfway"
    monkeypatch.undo()
    assert path.read_bytes() == before
    X = np.random.default_rng(0).normal(size=(10, 3))
    assert np.array_equal(hn.load(path).predict_proba(X), old.predict_proba(X))
    assert os.listdir(tmp_path) == ["model.npz"], "temporary files were left behind"


def test_crash_while_saving_a_new_model_leaves_nothing(tmp_path, monkeypatch):
    _crash_halfway(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        hn.save(random_net(), tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_crash_just_before_the_rename_keeps_the_old_model(tmp_path, monkeypatch):
    old = random_net(seed=1)
    path = tmp_path / "model.npz"
    hn.save(old, path)
    before = path.read_bytes()

    def interrupted_replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(hio.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        hn.save(random_net(seed=2), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_successful_save_over_a_model_replaces_it_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "model.npz"
    hn.save(random_net(seed=1), path)
    new = random_net(seed=2)
    hn.save(new, path)
    assert np.array_equal(hn.load(path).params, new.params)
    assert os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_saved_file_has_normal_permissions(tmp_path):
    """A new model is 0o666 & ~umask (as open() would make it), not mkstemp's private 0o600;
    saving over a model keeps that file's permissions."""
    umask = os.umask(0o022)
    os.umask(umask)
    path = tmp_path / "model.npz"
    hn.save(random_net(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    os.chmod(path, 0o640)
    hn.save(random_net(seed=3), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
