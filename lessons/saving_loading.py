"""Saving and loading a network: handnet's .npz of named arrays, why not pickle, and the checks on load.

A trained network is a handful of arrays plus the few facts needed to use them (layer sizes,
activations, cost). This lesson saves one with `hn.save`, opens the file with plain NumPy,
shows why handnet never uses pickle, what the atomic write protects against, and which broken
files `hn.load` refuses, with what message.

Run it from the project root:  python -m lessons.saving_loading  [--quick] [--out DIR]
"""

# %% [markdown]
# ## 1. What goes into a model file
#
# A `[64, 25, 10]` network is four arrays: $W_1$ (64×25), $b_1$ (25), $W_2$ (25×10),
# $b_2$ (10), 1885 numbers in all. Those numbers alone are not enough to use it: the file must
# also say which activation each layer applies and which cost it was trained with, and which
# version of the format it is written in, so that a later handnet knows whether it can read it.
#
# handnet writes an `.npz` file: a zip archive holding one `.npy` file per named array. The
# arrays are called `W0, b0, W1, b1, ...` (layers counted from 0 in Python, from 1 in the
# equations) and one more member, `meta`, is a JSON string:
#
#     {"format": "handnet.mlp", "version": 1, "layer_sizes": [64, 25, 10],
#      "hidden": "sigmoid", "output": "sigmoid", "cost": "cross_entropy", ...}
#
# `hn.save(net, path)` writes it; `hn.load(path)` checks it and rebuilds the network. The
# parameters are float64 and stored bit for bit, so the loaded network must give *exactly*
# the same predictions, not merely close ones.

# %%
from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pandas as pd

import handnet as hn
from handnet.io import atomic_write
from lessons._common import start
from lessons._saving_loading_plots import plot_array_sizes, plot_loaded_weights

if __name__ == "__main__":
    run = start("saving_loading")    # in a notebook: quick mode from HANDNET_LESSON_QUICK=1


# %% [markdown]
# Train a small network on the digits, save it, load it back and compare, bit for bit.

# %%
def train_small_model(epochs=100, seed=0):
    """A [64, 25, 10] sigmoid network trained on the README's training split of the digits.

    Returns (net, X_test, y_test).
    """
    X, y = hn.datasets.load_digits()
    X_train, X_test, y_train, y_test = hn.datasets.train_test_split(X, y, test_size=0.2, seed=0)
    net = hn.MLP([64, 25, 10], seed=seed)
    hn.train(net, X_train, y_train, epochs=epochs, progress=False)
    return net, X_test, y_test


def round_trip(net, path, X):
    """Save ``net`` to ``path``, load it back and compare: a dict of the loaded net and the checks.

    params_identical: the flat parameter vectors have the same bytes;
    predictions_identical: predict_proba(X) (N, K) is equal element for element (==, not allclose).
    """
    hn.save(net, path)
    loaded = hn.load(path)
    p_before, p_after = net.predict_proba(X), loaded.predict_proba(X)
    return {"loaded": loaded,
            "params_identical": net.params.tobytes() == loaded.params.tobytes(),
            "predictions_identical": bool(np.array_equal(p_before, p_after)),
            "max_difference": float(np.max(np.abs(p_before - p_after))),
            "same_description": repr(net) == repr(loaded)}


if __name__ == "__main__":
    epochs = 30 if run.quick else 150
    net, X_test, y_test = train_small_model(epochs=epochs)
    model_path = run.path("model.npz")
    rt = round_trip(net, model_path, X_test)
    loaded = rt["loaded"]
    run.say(f"""
        Trained a {net.layer_sizes} sigmoid network for {epochs} epochs (held-out accuracy
        {hn.accuracy(y_test, net.predict(X_test)):.1%}), saved it to {model_path}
        ({os.path.getsize(model_path):,} bytes) and loaded it back as
        {loaded!r}
    """)
    run.expect("save/load round trip: parameters identical byte for byte", rt["params_identical"],
               f"{net.n_params} float64 parameters")
    run.expect("save/load round trip: predictions identical bit for bit",
               rt["predictions_identical"] and rt["same_description"],
               f"{X_test.shape[0]} test digits x 10 outputs, largest difference {rt['max_difference']:g}")


# %% [markdown]
# ## 2. Opening the file without handnet
#
# Because the format is just named arrays, anyone with NumPy can read it:
# `np.load(path, allow_pickle=False)` returns a lazy dictionary of the members. `meta` comes
# back as a 0-d string array; `json.loads(str(...))` turns it into a dict. With the arrays in
# hand, forward propagation is two lines,
#
# $$a_1 = \sigma(x W_1 + b_1), \qquad h = \sigma(a_1 W_2 + b_2),$$
#
# which is a good test that the file means what we think it means: it should reproduce
# handnet's outputs to rounding error. The bar chart shows what each member costs on disk: the
# weights are nearly everything, the `.npy` headers and `meta` a few hundred bytes.

# %%
def inspect_npz(path):
    """(table, meta): one row per member (name, shape, dtype, bytes) read with allow_pickle=False, and meta as a dict."""
    rows, meta = [], None
    with np.load(path, allow_pickle=False) as archive:
        for name in archive.files:
            arr = archive[name]
            rows.append({"name": name, "shape": arr.shape, "dtype": str(arr.dtype), "bytes": arr.nbytes})
            if name == "meta":
                meta = json.loads(str(arr))
    with zipfile.ZipFile(path) as zf:
        stored = {info.filename.removesuffix(".npy"): info.file_size for info in zf.infolist()}
    table = pd.DataFrame(rows).set_index("name")
    table["bytes in the zip (with .npy header)"] = pd.Series(stored)
    return table, meta


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{-z}), elementwise (written here without handnet; fine for moderate z)."""
    return 1.0 / (1.0 + np.exp(-z))


def forward_from_file(path, X):
    """Forward propagation of an all-sigmoid model using nothing but the arrays in the file; X (N, D) -> (N, K).

    a_0 = X;  a_{l+1} = σ(a_l W_l + b_l)  for l = 0 .. L-1.
    """
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
        if (meta["hidden"], meta["output"]) != ("sigmoid", "sigmoid"):
            raise ValueError(f"forward_from_file handles sigmoid layers only, got {meta['hidden']}/{meta['output']}")
        a = np.asarray(X, dtype=np.float64)
        for l in range(len(meta["layer_sizes"]) - 1):
            a = sigmoid(a @ archive[f"W{l}"] + archive[f"b{l}"])
    return a


if __name__ == "__main__":
    table, meta = inspect_npz(model_path)
    run.table(table, "np.load(path, allow_pickle=False) lists the members:")
    run.say(f"meta = {json.dumps(meta)}")
    expected = ["W0", "b0", "W1", "b1", "meta"]
    run.expect("the file holds W0, b0, W1, b1 (float64) and a JSON meta",
               sorted(table.index) == sorted(expected) and meta["layer_sizes"] == net.layer_sizes
               and all(table.loc[n, "dtype"] == "float64" for n in expected[:-1]),
               f"members {list(table.index)}")
    plain = forward_from_file(model_path, X_test)
    diff = float(np.max(np.abs(plain - net.predict_proba(X_test))))
    run.expect("two lines of plain NumPy on the file's arrays reproduce handnet's outputs", diff < 1e-12,
               f"largest difference {diff:.1e}")
    run.figure(plot_array_sizes(table), "array_sizes.png")


# %% [markdown]
# ## 3. Why not pickle
#
# Python's `pickle` can save any object, which is exactly the problem. A pickle is not data but a
# small program for rebuilding an object: an object's `__reduce__` method tells pickle *which
# function to call, with which arguments*, and `pickle.loads` calls it. Whoever wrote the file
# chooses the function, so loading a pickle from someone else runs their code on your machine.
# (The Python documentation says it plainly: "Never unpickle data received from an untrusted
# source.")
#
# Below, a harmless class whose `__reduce__` names `print`: loading it prints a line instead of
# rebuilding an object. A real attack would name `os.system` instead; we only print.
#
# NumPy stores an array of Python objects (`dtype=object`) with pickle, so `.npz` files are not
# automatically safe either. `np.load(..., allow_pickle=False)` refuses such arrays, and
# `hn.load` always loads that way. There are also duller reasons to avoid pickle for models: a
# pickle refers to classes by their module path, so renaming or moving a class breaks every old
# file, and no tool outside Python can read it, while an `.npz` of float arrays opens anywhere.

# %%
class LoudOnLoad:
    """A harmless stand-in for a malicious object: unpickling it calls print(...) instead of rebuilding it."""

    MESSAGE = "  >>> this line was printed by code that ran while the file was being loaded <<<"

    def __reduce__(self):
        return (print, (self.MESSAGE,))


def pickle_runs_code():
    """Pickle a LoudOnLoad and unpickle it; return (what was printed while loading, the object returned)."""
    data = pickle.dumps(LoudOnLoad())
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        obj = pickle.loads(data)                 # calls print(MESSAGE): code chosen by the file's author
    return captured.getvalue(), obj


def object_array_file(path):
    """Write an .npz whose 'W0' is an object array holding a LoudOnLoad (np.savez pickles it); return path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    arr = np.empty(1, dtype=object)
    arr[0] = LoudOnLoad()
    np.savez(path, W0=arr, b0=np.zeros(1))
    return path


def load_object_array(path, allow_pickle):
    """Read 'W0' with np.load(path, allow_pickle=...); return (printed while loading, error or None)."""
    captured = io.StringIO()
    error = None
    with contextlib.redirect_stdout(captured):
        try:
            with np.load(path, allow_pickle=allow_pickle) as archive:
                archive["W0"]
        except ValueError as exc:
            error = exc
    return captured.getvalue(), error


if __name__ == "__main__":
    run.say("""
        Why not pickle? LoudOnLoad is a harmless class whose __reduce__ tells pickle to rebuild it
        by calling print(...). Watch what loading does.
    """)
    printed, obj = pickle_runs_code()
    run.say(f"""
        pickle.loads(pickle.dumps(LoudOnLoad())) printed, while loading:
        {printed.strip()}
        and returned {obj!r}, not a LoudOnLoad: the file decided what ran.
    """)
    run.expect("unpickling runs code chosen by the file", printed.strip() == LoudOnLoad.MESSAGE.strip())
    crafted = run.path("crafted")
    obj_path = object_array_file(os.path.join(crafted, "object_array.npz"))
    printed_unsafe, _ = load_object_array(obj_path, allow_pickle=True)
    printed_safe, error = load_object_array(obj_path, allow_pickle=False)
    run.say(f"""
        The same trick inside an .npz (an object array 'W0'):
        np.load(allow_pickle=True) printed  {printed_unsafe.strip()!r}
        np.load(allow_pickle=False) printed nothing and raised  {type(error).__name__}: {error}
    """)
    run.expect("np.load(allow_pickle=False) refuses the object array before running anything",
               printed_unsafe.strip() != "" and printed_safe == "" and isinstance(error, ValueError))


# %% [markdown]
# ## 4. The atomic write
#
# Writing a file takes time; if the program dies half-way (a crash, Ctrl-C, a full disk), a
# plain `open(path, "wb")` leaves a truncated file where the good model used to be. `hn.save`
# instead writes to a temporary file in the same folder, flushes it to disk, and only then
# renames it over the target. On POSIX and Windows a rename within one folder is atomic: other
# programs see either the old file or the new one, never a mixture. If anything fails before
# the rename, the temporary file is removed and the old model is untouched.
#
# We simulate a crash with a writer that writes half of a model's bytes and then raises.

# %%
class SimulatedCrash(RuntimeError):
    """Raised by the writer below half-way through a file."""


def read_bytes(path):
    """The contents of the file at ``path`` (closed again at once)."""
    with open(path, "rb") as fh:
        return fh.read()


def half_then_crash(data):
    """A writer(fh) that writes the first half of ``data`` and then raises SimulatedCrash."""
    def write(fh):
        fh.write(data[: len(data) // 2])
        raise SimulatedCrash("the power went out")
    return write


def crash_while_saving(path, new_bytes, atomic):
    """Overwrite the model at ``path`` with ``new_bytes`` but crash half-way; report what is left.

    Returns a dict: intact (the old bytes are still there), size, leftovers (temporary files left
    in the folder), and loadable (hn.load accepts what is left) with the error if not.
    """
    folder = os.path.dirname(os.path.abspath(path))
    old = read_bytes(path)
    before = set(os.listdir(folder))
    try:
        if atomic:
            atomic_write(path, half_then_crash(new_bytes))
        else:
            with open(path, "wb") as fh:
                half_then_crash(new_bytes)(fh)
    except SimulatedCrash:
        pass
    now = read_bytes(path)
    report = {"intact": now == old, "size": len(now), "leftovers": sorted(set(os.listdir(folder)) - before)}
    try:
        hn.load(path)
        report.update(loadable=True, error="")
    except (ValueError, TypeError) as exc:
        report.update(loadable=False, error=f"{type(exc).__name__}: {exc}")
    return report


if __name__ == "__main__":
    new_bytes = read_bytes(model_path)
    rows = {}
    for label, atomic in (("plain open(path, 'wb')", False), ("handnet.io.atomic_write", True)):
        hn.save(net, model_path)                                   # a good model to overwrite
        rows[label] = crash_while_saving(model_path, new_bytes, atomic)
    crash = pd.DataFrame(rows).T
    run.table(crash[["intact", "size", "loadable", "leftovers"]],
              f"A crash half-way through overwriting the {len(new_bytes):,}-byte model:")
    run.say(f"What hn.load says about the plainly written half file: {crash.loc[list(rows)[0], 'error']}")
    plain_row, atomic_row = rows["plain open(path, 'wb')"], rows["handnet.io.atomic_write"]
    run.expect("a crash during a plain write leaves a broken file; during an atomic write, the old one",
               not plain_row["intact"] and not plain_row["loadable"]
               and atomic_row["intact"] and atomic_row["loadable"] and atomic_row["leftovers"] == [],
               f"plain: {plain_row['size']:,} bytes left; atomic: {atomic_row['size']:,} bytes, no temporary file")


# %% [markdown]
# ## 5. Checks on load
#
# A loader is a border crossing: everything that comes in gets checked, and a bad file is
# stopped with a message that says what is wrong, not with a NumPy traceback from deep inside
# a matrix product ten minutes later. `hn.load` checks that
#
# * the file is an `.npz` archive (a zip of `.npy` members), not text, a single `.npy` or
#   half a file;
# * no member needs pickle (object arrays are refused);
# * the members are exactly `W0, b0, ..., W{L-1}, b{L-1}` and `meta`, with no gaps;
# * every $W_l$ is 2-D, $b_l$ has one entry per column of $W_l$, and consecutive layers connect
#   ($W_l$ has as many rows as $W_{l-1}$ has columns);
# * every number is finite;
# * `meta` is a JSON object of the right format, in a version this handnet can read
#   (a file from a *newer* handnet is refused with "upgrade handnet" rather than misread),
#   and its `layer_sizes` agree with the arrays.
#
# One thing it deliberately accepts: a file **without** `meta` (for example one a student wrote
# with `np.savez(path, W0=..., b0=...)`) loads as an all-sigmoid network with the cross-entropy
# cost. That is convenient, and also a reminder of what `meta` is for: a softmax network saved
# without it comes back as a sigmoid one. Its predicted classes agree (both are the argmax of
# the same $z$) but its probabilities do not.

# %%
def write_npz(path, arrays, meta=None):
    """Write ``arrays`` (and ``meta`` as a JSON string, unless None) to an .npz at ``path``; return path."""
    members = dict(arrays)
    if meta is not None:
        members["meta"] = np.array(json.dumps(meta))
    atomic_write(path, lambda fh: np.savez(fh, **members))
    return path


def model_arrays(net):
    """{'W0': ..., 'b0': ..., ...}: copies of a network's parameter arrays, named as in the file."""
    arrays = {}
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"], arrays[f"b{l}"] = W.copy(), b.copy()
    return arrays


def model_meta(net, **changes):
    """The meta dict hn.save writes for ``net``, with ``changes`` applied."""
    meta = {"format": "handnet.mlp", "version": 1, "handnet_version": hn.__version__,
            "layer_sizes": net.layer_sizes, "hidden": net.hidden_argument, "output": net.output.name,
            "cost": net.cost}
    meta.update(changes)
    return meta


def craft_broken_files(folder, net, good_path):
    """Write one broken model file per problem into ``folder``; return a list of (problem, path, keyword).

    ``keyword`` is a word the error message should contain for it to name the problem
    (checked case-insensitively).
    """
    os.makedirs(folder, exist_ok=True)
    A, meta = model_arrays(net), model_meta(net)
    n_hidden = A["W0"].shape[1]
    path = lambda name: os.path.join(folder, name)     # noqa: E731
    cases = []

    bad = dict(A, W1=np.zeros((n_hidden - 5, A["W1"].shape[1])))
    cases.append(("layers do not connect (W1 has 5 rows too few)",
                  write_npz(path("layers_do_not_connect.npz"), bad), "W1"))
    bad = dict(A, b0=np.zeros(n_hidden + 1))
    cases.append(("b0 does not match W0", write_npz(path("bias_mismatch.npz"), bad, meta), "b0"))
    bad = {k: v for k, v in A.items() if k != "b1"}
    cases.append(("an array is missing (no b1)", write_npz(path("missing_b1.npz"), bad, meta), "W0, b0"))
    cases.append(("meta from a future format version",
                  write_npz(path("future_version.npz"), A, model_meta(net, version=99)), "version"))
    cases.append(("meta disagrees with the arrays",
                  write_npz(path("meta_disagrees.npz"), A, model_meta(net, layer_sizes=[64, 30, 10])),
                  "layer_sizes"))
    cases.append(("an unknown activation in meta",
                  write_npz(path("unknown_activation.npz"), A, model_meta(net, hidden="swish")), "swish"))
    bad = dict(A, W1=A["W1"].copy())
    bad["W1"][3, 4] = np.nan
    cases.append(("a NaN weight", write_npz(path("nan_weight.npz"), bad, meta), "NaN"))
    cases.append(("an object array (needs pickle)", object_array_file(path("object_array.npz")), "object"))
    with open(path("notes.npz"), "w") as fh:
        fh.write("W0 = [[0.1, 0.2], [0.3, 0.4]]\n")
    cases.append(("a text file named .npz", path("notes.npz"), "npz"))
    np.save(path("single_array.npy"), A["W0"])
    cases.append(("a single .npy array", path("single_array.npy"), "npz"))
    data = read_bytes(good_path)
    with open(path("truncated.npz"), "wb") as fh:
        fh.write(data[: len(data) // 2])
    cases.append(("half a file (a crash during a plain write)", path("truncated.npz"), "npz"))
    return cases


def try_load(path):
    """Load ``path`` with hn.load; return (exception type name or '' if it loaded, message)."""
    try:
        net = hn.load(path)
    except (ValueError, TypeError) as exc:
        return type(exc).__name__, str(exc)
    return "", f"loaded {net!r}"


def load_without_meta(folder, seed=0, X=None):
    """Save a softmax [64, 12, 10] network without its meta and load it back; compare the two.

    Returns a dict: loaded output activation, whether predicted classes agree, the largest
    probability difference, and the row sums of the loaded network's outputs (softmax rows sum to 1).
    """
    net = hn.MLP([64, 12, 10], output="softmax", seed=seed)
    X = np.random.default_rng(seed).random((50, 64)) if X is None else X
    path = write_npz(os.path.join(folder, "softmax_without_meta.npz"), model_arrays(net))
    loaded = hn.load(path)
    p, q = net.predict_proba(X), loaded.predict_proba(X)
    return {"output": loaded.output.name, "same_classes": bool(np.array_equal(net.predict(X), loaded.predict(X))),
            "max_probability_difference": float(np.max(np.abs(p - q))),
            "row_sums": (float(q.sum(axis=1).min()), float(q.sum(axis=1).max()))}


if __name__ == "__main__":
    hn.save(net, model_path)
    cases = craft_broken_files(crafted, net, model_path)
    results = []
    for problem, path, keyword in cases:
        kind, message = try_load(path)
        results.append({"problem": problem, "error": kind, "names it": keyword.lower() in message.lower(),
                        "message": message.replace(str(path), os.path.basename(path))})
    results = pd.DataFrame(results)
    run.table(results.set_index("problem")[["error", "names it"]],
              f"hn.load on {len(cases)} broken files (written to {crafted}):")
    run.say("The messages:\n" + "\n".join(f"- {r.problem}:\n    {r.error}: {r.message}"
                                           for r in results.itertuples()))
    refused = results["error"].isin(["ValueError", "TypeError"])
    run.expect("every broken file is refused with a ValueError/TypeError", bool(refused.all()),
               f"{int(refused.sum())} of {len(results)}")
    run.expect("every error message names the problem", bool(results["names it"].all()),
               ", ".join(results.loc[~results["names it"], "problem"]) or "all named")
    nometa = load_without_meta(crafted)
    run.say(f"""
        A softmax network saved without meta loads as output={nometa['output']!r}.
        Predicted classes agree: {nometa['same_classes']}. Probabilities differ by up to
        {nometa['max_probability_difference']:.3f}; the rows now sum to {nometa['row_sums'][0]:.2f}..{nometa['row_sums'][1]:.2f}, not 1.
    """)
    run.expect("a file without meta loads with the documented defaults (sigmoid), so meta matters",
               nometa["output"] == "sigmoid" and nometa["same_classes"]
               and nometa["max_probability_difference"] > 1e-3)


# %% [markdown]
# ## 6. What the loaded network learned
#
# The loaded network's first-layer weights, one 8×8 image per hidden unit (column $j$ of $W_1$
# is the pattern of pixels that excites unit $j$), and its second-layer weights as a heatmap:
# the arrays the file carried, now shown as what they do.

# %%
if __name__ == "__main__":
    run.figure(plot_loaded_weights(loaded), "loaded_weights.png")


# %%
if __name__ == "__main__":
    run.end()
