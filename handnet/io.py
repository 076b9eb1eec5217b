"""Saving and loading networks as ``.npz`` files, never with pickle.

File format (a numpy .npz archive):

    W0, b0, W1, b1, ...   float64 arrays; W_l of shape (n_l, n_{l+1}), b_l of shape (n_{l+1},)
    meta                  a JSON string: {"format": "handnet.mlp", "version": 1,
                          "handnet_version": ..., "layer_sizes": [...], "hidden": ...,
                          "output": ..., "cost": ...}
                          "hidden" is one activation name for every hidden layer, or
                          (a mixed stack) a list with one name per hidden layer

A file without ``meta`` (for example one a student wrote with np.savez) loads
as an all-sigmoid network with the cross-entropy cost.

Saving is atomic: the archive is written to a temporary file in the same
folder, flushed to disk, then renamed over the target, so a crash or Ctrl-C
never leaves a half-written model (the old file, if any, stays intact). The
file keeps the permissions of the one it replaces (a new one gets the umask's).
Loading uses ``allow_pickle=False`` and checks names, dtypes and shapes.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import zipfile
import zlib

import numpy as np

from .network import MLP

__all__ = ["save", "load", "atomic_write", "FORMAT", "FORMAT_VERSION"]

FORMAT = "handnet.mlp"
FORMAT_VERSION = 1


def atomic_write(path, write):
    """Call write(file_object) on a temporary file next to ``path``, then rename it to ``path``.

    The new file gets the permissions of the file it replaces, or the usual
    0o666 & ~umask for a new file (mkstemp alone would leave it 0o600).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)
    return path


def _mode_for(path):
    """The permission bits for the file written at ``path``: those of the file it replaces, else
    0o666 & ~umask, like open() would give."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    umask = None
    try:                                  # Linux: read the umask without changing it
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    umask = int(line.split()[1], 8)
                    break
    except (OSError, ValueError):
        pass
    if umask is None:
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _meta(net):
    from . import __version__

    return {"format": FORMAT, "version": FORMAT_VERSION, "handnet_version": __version__,
            "layer_sizes": net.layer_sizes, "hidden": net.hidden_argument, "output": net.output.name,
            "cost": net.cost}


def save(net, path):
    """Write ``net`` to ``path`` as an .npz (W0, b0, ..., meta); atomic. Returns the path.

    The path is used exactly as given (no '.npz' is appended).
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net: expected a handnet MLP, got {type(net).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path, got {type(path).__name__}")
    if not np.all(np.isfinite(net.params)):
        i = int(np.argmax(~np.isfinite(net.params)))
        raise ValueError(f"net: parameter {i} is {net.params[i]}; a model with NaN or infinite "
                         "parameters cannot be saved (load would refuse it)")
    arrays = {}
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"] = np.ascontiguousarray(W, dtype=np.float64)
        arrays[f"b{l}"] = np.ascontiguousarray(b, dtype=np.float64)
    arrays["meta"] = np.array(json.dumps(_meta(net)))
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))


_NAME = re.compile(r"([Wb])(0|[1-9][0-9]*)")    # W0, b12; not W01 (fullmatch)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")       # a zip file, or an empty one
_NPY_MAGIC = b"\x93NUMPY"


def load(path):
    """Read a network saved by ``save`` (or any npz with W0, b0, W1, b1, ...).

    Raises FileNotFoundError for a missing file, TypeError when ``path`` is
    not a path, and ValueError for anything that is not a valid model file (a
    folder, not an npz, truncated, object arrays, members that are not .npy,
    missing or extra arrays, inconsistent shapes, non-finite values, bad meta).
    A file that exists but cannot be opened (permissions) raises the OSError
    of ``open``.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path: expected a file path, got {type(path).__name__} {path!r}"[:160])
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"path: no model file at {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"path: {path!r} is a folder, not a model file")
    with open(path, "rb") as fh:          # we own the handle: closed even when numpy fails
        try:
            arrays = _read_archive(fh)
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


def _read_archive(fh):
    """{name: array} of every member of the .npz in the open binary file ``fh``; never unpickles."""
    magic = fh.read(len(_NPY_MAGIC))
    if not magic:
        raise ValueError("the file is empty")
    if magic.startswith(_NPY_MAGIC):
        raise ValueError("it holds a single .npy array, not an .npz archive")
    if not magic.startswith(_ZIP_MAGIC):
        raise ValueError(f"it is not an .npz archive (a zip file); it starts with {magic!r}")
    fh.seek(0)
    archive = np.load(fh, allow_pickle=False)
    if not isinstance(archive, np.lib.npyio.NpzFile):      # cannot happen after the magic check
        raise ValueError("it is not an .npz archive")
    arrays = {}
    with archive:
        for name in archive.files:
            arr = archive[name]
            if not isinstance(arr, np.ndarray):   # a zip member that is not a .npy file
                raise ValueError(f"its member {name!r} is not a .npy array")
            arrays[name] = arr
    return arrays


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
    version = meta.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"path: {path!r}: meta 'version' must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(f"path: {path!r} was written in format version {meta['version']}, newer than this "
                         f"handnet reads ({FORMAT_VERSION}); upgrade handnet")
    return meta


def _read_layers(arrays, path):
    layers = {}
    for name, arr in arrays.items():
        match = _NAME.fullmatch(name)
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
