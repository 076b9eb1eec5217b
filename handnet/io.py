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
never leaves a half-written model (the old file, if any, stays intact). The
file keeps the permissions of the one it replaces (a new one gets the umask's).
A process killed mid-save leaves its temporary file behind; the next save of
the same path removes it (never one a live process is writing: see the notes
in handnet/_atomic.py). Errors name the ``path`` argument, not the
temporary file.

Loading treats the file as untrusted: only regular files are opened (a FIFO
cannot block it); every member's name, compression and declared size, and
each .npy header (shape, dtype), are checked against the file's size before
any array is decompressed or allocated; ``meta`` is bounded in size and
nesting depth; arrays are read with ``allow_pickle=False``. Any failure is a
ValueError "path: ... is not a valid handnet model file: ...".
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import struct
import zipfile
import zlib

import numpy as np

from . import _validate as V
from ._atomic import _as_target, atomic_write
from .network import MLP

__all__ = ["save", "load", "atomic_write", "FORMAT", "FORMAT_VERSION"]

FORMAT = "handnet.mlp"
FORMAT_VERSION = 1


def _meta(net):
    from . import __version__

    return {"format": FORMAT, "version": FORMAT_VERSION, "handnet_version": __version__,
            "layer_sizes": net.layer_sizes, "hidden": net.hidden.name, "output": net.output.name,
            "cost": net.cost}


def save(net, path):
    """Write ``net`` to ``path`` as an .npz (W0, b0, ..., meta); atomic. Returns the path (a str).

    ``path``: a str, bytes or os.PathLike file path, used exactly as given (no
    '.npz' is appended); missing folders are created. An empty path or a
    folder is a ValueError; an OS error names ``path`` (see atomic_write).
    """
    V.as_net(net, "net, path")
    path = _as_target(path)
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

    ``path``: a str, bytes or os.PathLike path to a regular file. Raises
    FileNotFoundError for a missing file, TypeError when ``path`` is not a
    path, and ValueError for anything that is not a valid model file (a folder,
    a FIFO or device, not an npz, truncated, object arrays, members that are
    not .npy, missing or extra arrays, sizes the file cannot hold, inconsistent
    shapes, non-finite values, bad meta). A file that exists but cannot be
    opened (permissions) raises the OSError of ``open``.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path: expected a file path, got {type(path).__name__} {path!r}"[:160])
    path = os.fspath(path)
    with _open_regular_file(path) as fh:  # we own the handle: closed even when numpy fails
        try:
            arrays = _read_archive(fh, os.fstat(fh.fileno()).st_size)
        except _DECODING_ERRORS as exc:
            reason = str(exc) if type(exc) is ValueError else f"{type(exc).__name__}: {exc}"
            raise ValueError(f"path: {path!r} is not a valid handnet model file: {reason}") from None
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


# ----------------------------------------------------------------------------
# Reading an untrusted file: look at everything before decompressing anything
# ----------------------------------------------------------------------------

#: What a broken or hostile file can make the readers raise; each becomes "not a valid handnet
#: model file". (zipfile raises NotImplementedError for unknown compression, RuntimeError for
#: encryption; numpy ValueError for bad headers; RecursionError/MemoryError are defence in depth.)
_DECODING_ERRORS = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error,
                    NotImplementedError, RuntimeError, OverflowError, MemoryError, struct.error)
_MEMBER = re.compile(r"(meta|[Wb](?:0|[1-9][0-9]*))\.npy")     # W0.npy, b12.npy, meta.npy; not W01
_DEFLATE_MAX_RATIO = 1032        # deflate cannot expand data more than about 1032-fold (zlib's docs)


def _open_regular_file(path):
    """The file at ``path`` opened for binary reading, refusing anything but a regular file.

    It is opened non-blocking, so a FIFO with no writer cannot hang us, then checked with fstat on
    the open descriptor (no window between the check and the open).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"path: no model file at {path!r}") from None
    except IsADirectoryError:             # Windows
        raise ValueError(f"path: {path!r} is a folder, not a model file") from None
    kind = stat.S_IFMT(os.fstat(fd).st_mode)
    if kind != stat.S_IFREG:
        os.close(fd)
        if kind == stat.S_IFDIR:
            raise ValueError(f"path: {path!r} is a folder, not a model file")
        what = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
                stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}.get(kind, "not a regular file")
        raise ValueError(f"path: {path!r} is {what}; a model file is a regular file")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _read_archive(fh, file_size):
    """{name: array} of every member of the .npz in the open binary file ``fh``; never unpickles.

    Before any array is read, every member's name, compression, declared size, and .npy header
    (shape, dtype) are checked against each other and against ``file_size``, so a file can never
    make us allocate more than its members declare and its bytes can hold.
    """
    magic = fh.read(len(_NPY_MAGIC))
    if not magic:
        raise ValueError("the file is empty")
    if magic.startswith(_NPY_MAGIC):
        raise ValueError("it holds a single .npy array, not an .npz archive")
    if not magic.startswith(_ZIP_MAGIC):
        raise ValueError(f"it is not an .npz archive (a zip file); it starts with {magic!r}")
    fh.seek(0)
    with zipfile.ZipFile(fh) as archive:
        members = archive.infolist()
        for info in members:
            _check_member(info, file_size)
        names = [info.filename for info in members]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"it holds more than one member named {twice[0]!r}")
        for info in members:
            _check_npy_header(archive, info)
        arrays = {}
        for info in members:
            with archive.open(info) as member:
                arrays[info.filename[:-len(".npy")]] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _check_member(info, file_size):
    """A member's name is W<l>.npy, b<l>.npy or meta.npy, and its declared sizes fit the file."""
    name = info.filename
    if _MEMBER.fullmatch(name) is None:
        if not name.endswith(".npy"):
            raise ValueError(f"its member {name!r} is not a .npy array")
        raise ValueError(f"it holds an unexpected array {name[:-4]!r}; expected W0, b0, W1, b1, ... and meta")
    if info.flag_bits & 0x1:
        raise ValueError(f"its member {name!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"its member {name!r} uses zip compression method {info.compress_type}; "
                         "handnet reads stored or deflated members (np.savez, np.savez_compressed)")
    if info.header_offset + info.compress_size > file_size:
        raise ValueError(f"its member {name!r} claims {info.compress_size} bytes at offset "
                         f"{info.header_offset}, past the end of the {file_size}-byte file")
    most = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
        _DEFLATE_MAX_RATIO * info.compress_size + 64
    if info.file_size > most:
        raise ValueError(f"its member {name!r} claims {info.file_size} bytes uncompressed, more than its "
                         f"{info.compress_size} stored bytes can hold")


def _check_npy_header(archive, info):
    """Read only the .npy header of a member: its dtype holds no Python objects, and the data its
    shape and dtype declare is exactly what the member holds (so no shape can ask for more memory)."""
    name = info.filename
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
        except ValueError as exc:
            raise ValueError(f"its member {name!r} is not a .npy array ({exc})") from None
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"its member {name!r} is a .npy file of version {version}, which handnet "
                             "does not read")
        header_bytes = member.tell()
    if dtype.hasobject:
        raise ValueError(f"array {name[:-4]!r} holds Python objects (dtype {dtype}), which only pickle "
                         "could read, and handnet never unpickles (allow_pickle=False)")
    data_bytes = math.prod(shape) * dtype.itemsize
    if header_bytes + data_bytes != info.file_size:
        raise ValueError(f"array {name[:-4]!r} declares shape {shape} of {dtype} ({data_bytes} bytes) but "
                         f"its member holds {info.file_size - header_bytes} bytes of data")


#: Bounds on the JSON in ``meta``: handnet writes a few hundred characters, two levels deep.
MAX_META_CHARS = 1 << 20
MAX_META_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _json_depth(text):
    """The deepest nesting of [ and { in JSON ``text``, brackets inside strings not counted.

    depth = max over positions of (#opening - #closing brackets so far): a cumulative sum, so a
    hostile meta 100,000 levels deep is measured without recursion.
    """
    codes = np.frombuffer(_JSON_STRING.sub("", text).encode("utf-8"), dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.max(np.cumsum(steps), initial=0))


def _read_meta(raw, path):
    if raw is None:
        return {}
    if raw.dtype.kind not in "US" or raw.shape != ():
        raise ValueError(f"path: {path!r}: 'meta' must be a JSON string, got an array of dtype {raw.dtype} "
                         f"and shape {raw.shape}")
    text = str(raw)
    if len(text) > MAX_META_CHARS:
        raise ValueError(f"path: {path!r}: 'meta' is {len(text)} characters long; a handnet meta is at most "
                         f"{MAX_META_CHARS}")
    depth = _json_depth(text)
    if depth > MAX_META_DEPTH:
        raise ValueError(f"path: {path!r}: 'meta' is nested {depth} levels deep; a handnet meta is at most "
                         f"{MAX_META_DEPTH}")
    try:
        meta = json.loads(text)
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
        match = _NAME.fullmatch(name)         # _read_archive admitted only such names
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
