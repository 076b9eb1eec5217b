"""Saving and loading networks as ``.npz`` files, never with pickle.

File format (a numpy .npz archive):

    W0, b0, W1, b1, ...   float64 arrays; W_l of shape (n_l, n_{l+1}), b_l of shape (n_{l+1},)
    meta                  a JSON string: {"format": "handnet.mlp", "version": 1,
                          "handnet_version": ..., "layer_sizes": [...], "hidden": ...,
                          "output": ..., "cost": ...}

A file without ``meta`` (for example one a student wrote with np.savez) loads
as an all-sigmoid network with the cross-entropy cost.

Saving is atomic: the archive is written to a temporary file in the same
folder, flushed to disk, then renamed over the target, so a crash or Ctrl-C
never leaves a half-written model (the old file, if any, stays intact).
Loading uses ``allow_pickle=False`` and checks names, dtypes and shapes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
import zlib

import numpy as np

from .network import MLP

__all__ = ["save", "load", "atomic_write", "FORMAT", "FORMAT_VERSION"]

FORMAT = "handnet.mlp"
FORMAT_VERSION = 1


def atomic_write(path, write):
    """Call write(file_object) on a temporary file next to ``path``, then rename it to ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _meta(net):
    from . import __version__

    return {"format": FORMAT, "version": FORMAT_VERSION, "handnet_version": __version__,
            "layer_sizes": net.layer_sizes, "hidden": net.hidden.name, "output": net.output.name,
            "cost": net.cost}


def save(net, path):
    """Write ``net`` to ``path`` as an .npz (W0, b0, ..., meta); atomic. Returns the path.

    The path is used exactly as given (no '.npz' is appended).
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net: expected a handnet MLP, got {type(net).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path, got {type(path).__name__}")
    arrays = {}
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"] = np.ascontiguousarray(W, dtype=np.float64)
        arrays[f"b{l}"] = np.ascontiguousarray(b, dtype=np.float64)
    arrays["meta"] = np.array(json.dumps(_meta(net)))
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))


_NAME = re.compile(r"^([Wb])(\d+)$")


def load(path):
    """Read a network saved by ``save`` (or any npz with W0, b0, W1, b1, ...).

    Raises FileNotFoundError for a missing file and ValueError for anything
    that is not a valid model file (not an npz, truncated, object arrays,
    missing or extra arrays, inconsistent shapes, non-finite values, bad meta).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"path: no model file at {path!r}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not an .npz archive")
        with archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as exc:
        raise ValueError(f"path: {path!r} is not a valid handnet model file ({exc})") from None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, KeyError) as exc:
        raise ValueError(f"path: {path!r} is not a valid handnet model file: it is not a readable "
                         f".npz archive ({type(exc).__name__}: {exc})") from None
    meta = _read_meta(arrays.pop("meta", None), path)
    weights, biases = _read_layers(arrays, path)
    sizes = [weights[0].shape[0]] + [W.shape[1] for W in weights]
    if meta.get("layer_sizes", sizes) != sizes:
        raise ValueError(f"path: {path!r} is inconsistent: meta says layer_sizes {meta['layer_sizes']} "
                         f"but the arrays give {sizes}")
    try:
        net = MLP(sizes, hidden=meta.get("hidden", "sigmoid"), output=meta.get("output", "sigmoid"),
                  cost=meta.get("cost"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"path: {path!r} has unusable meta: {exc}") from None
    for l in range(len(weights)):
        net.weights[l] = weights[l]
        net.biases[l] = biases[l]
    return net


def _read_meta(raw, path):
    if raw is None:
        return {}
    if raw.dtype.kind not in "US" or raw.shape != ():
        raise ValueError(f"path: {path!r}: 'meta' must be a JSON string, got an array of dtype {raw.dtype} "
                         f"and shape {raw.shape}")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ValueError(f"path: {path!r}: 'meta' is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"path: {path!r}: 'meta' must be a JSON object, got {type(meta).__name__}")
    if meta.get("format", FORMAT) != FORMAT:
        raise ValueError(f"path: {path!r}: meta format is {meta['format']!r}, expected {FORMAT!r}")
    if int(meta.get("version", FORMAT_VERSION)) > FORMAT_VERSION:
        raise ValueError(f"path: {path!r} was written in format version {meta['version']}, newer than this "
                         f"handnet reads ({FORMAT_VERSION}); upgrade handnet")
    return meta


def _read_layers(arrays, path):
    layers = {}
    for name, arr in arrays.items():
        match = _NAME.match(name)
        if match is None:
            raise ValueError(f"path: {path!r} holds an unexpected array {name!r}; expected W0, b0, W1, b1, ... "
                             "and meta")
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"path: {path!r}: array {name!r} has dtype {arr.dtype}; expected float64")
        layers[(match.group(1), int(match.group(2)))] = arr.astype(np.float64)
    L = len(layers) // 2
    expected = {(k, l) for l in range(L) for k in "Wb"}
    if L == 0 or set(layers) != expected:
        have = sorted(f"{k}{l}" for k, l in layers)
        raise ValueError(f"path: {path!r} holds arrays {have}; expected W0, b0, ..., W{{L-1}}, b{{L-1}} "
                         "with no gaps")
    weights = [layers[("W", l)] for l in range(L)]
    biases = [layers[("b", l)] for l in range(L)]
    for l in range(L):
        W, b = weights[l], biases[l]
        if W.ndim != 2 or b.ndim != 1 or b.shape[0] != W.shape[1]:
            raise ValueError(f"path: {path!r}: layer {l} has W{l} {W.shape} and b{l} {b.shape}; "
                             f"expected W{l} (n_in, n_out) and b{l} (n_out,)")
        if l > 0 and W.shape[0] != weights[l - 1].shape[1]:
            raise ValueError(f"path: {path!r}: W{l} has {W.shape[0]} rows but W{l - 1} has "
                             f"{weights[l - 1].shape[1]} columns; the layers do not connect")
        if W.size == 0:
            raise ValueError(f"path: {path!r}: W{l} is empty, shape {W.shape}")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(f"path: {path!r}: layer {l} holds NaN or infinite values")
    return weights, biases
