"""Model files from strangers, and saving to awkward places.

hn.load looks at every member's name, compression, declared sizes and .npy
header before it decompresses or allocates anything, so a hostile file is a
ValueError naming ``path``, never a hang, a MemoryError or a RecursionError.
hn.save names ``path`` (not its temporary file) in every error, and cleans the
temporary files that a killed save left behind, but never one a live process
is still writing.
"""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import handnet as hn
import handnet._atomic as atomic
import handnet.io  # noqa: F401  (hn.io below)

LAYERS = {"W0": np.ones((3, 4)), "b0": np.zeros(4), "W1": np.ones((4, 2)), "b1": np.zeros(2)}


def npy_bytes(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=False)
    return buf.getvalue()


def zip_of(path, members, compression=zipfile.ZIP_STORED):
    """Write a zip with the given {member name: bytes}, in that order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)          # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", compression=compression) as z:
            for name, data in members:
                z.writestr(name, data)
    return path


def layer_members(**extra):
    members = [(f"{k}.npy", npy_bytes(v)) for k, v in LAYERS.items()]
    return members + [(k, v) for k, v in extra.items()]


def load_error(path):
    with pytest.raises(ValueError) as info:
        hn.load(path)
    message = str(info.value)
    assert message.startswith(f"path: {str(path)!r}"), message
    return message


# ----------------------------------------------------------------------------
# Sizes the file cannot hold, checked before anything is read
# ----------------------------------------------------------------------------


def test_a_header_declaring_a_trillion_floats_is_refused_before_allocating(tmp_path):
    """The old loader handed this to numpy, which raised MemoryError trying to allocate 8 TB."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (1_000_000, 1_000_000)})
    members = layer_members()
    members[0] = ("W0.npy", header.getvalue() + b"\0" * 96)
    path = zip_of(tmp_path / "m.npz", members)
    message = load_error(path)
    assert message.endswith("is not a valid handnet model file: array 'W0' declares shape (1000000, 1000000) "
                            "of float64 (8000000000000 bytes) but its member holds 96 bytes of data")


@pytest.mark.parametrize("shape, data", [((3, 4), 95), ((3, 4), 97), ((3, 5), 96), ((), 0)],
                         ids=["one byte short", "one byte extra", "shape too big", "scalar without data"])
def test_the_declared_shape_must_match_the_member_exactly(tmp_path, shape, data):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
    members = layer_members()
    members[0] = ("W0.npy", header.getvalue() + b"\0" * data)
    message = load_error(zip_of(tmp_path / "m.npz", members))
    assert f"array 'W0' declares shape {shape} of float64" in message


def _set_uncompressed_size(path, member, size):
    """Patch the uncompressed size of ``member`` in the zip's central directory (a lying header)."""
    data = bytearray(Path(path).read_bytes())
    entry = data.index(b"PK\x01\x02")                     # the first central-directory entry
    while True:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46:entry + 46 + name_length].decode() == member:
            break
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, size)
    Path(path).write_bytes(bytes(data))


def test_a_member_claiming_more_than_deflate_can_expand_to_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    np.savez_compressed(path, **LAYERS)
    with zipfile.ZipFile(path) as z:
        stored = z.getinfo("W0.npy").compress_size
    _set_uncompressed_size(path, "W0.npy", 4_000_000_000)
    message = load_error(path)
    assert message.endswith(f"its member 'W0.npy' claims 4000000000 bytes uncompressed, more than its "
                            f"{stored} stored bytes can hold")


def test_a_stored_member_claiming_more_than_it_stores_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, **LAYERS)
    _set_uncompressed_size(path, "b1.npy", 10**9)
    assert "its member 'b1.npy' claims 1000000000 bytes uncompressed" in load_error(path)


def test_a_compressed_model_still_loads(tmp_path):
    """np.savez_compressed (deflate) is a valid model file; the bounds do not get in its way."""
    rng = np.random.default_rng(0)
    arrays = {"W0": rng.normal(size=(3, 4)), "b0": rng.normal(size=4), "W1": np.zeros((4, 2000)),
              "b1": np.zeros(2000)}                              # zeros: deflate's best case
    np.savez_compressed(tmp_path / "m.npz", **arrays)
    net = hn.load(tmp_path / "m.npz")
    assert np.array_equal(net.weights[0], arrays["W0"]) and net.layer_sizes == [3, 4, 2000]


# ----------------------------------------------------------------------------
# Names are checked before any member is decompressed
# ----------------------------------------------------------------------------


def _corrupt_deflated(path, member):
    """Overwrite the compressed data of ``member`` with bytes that are not a deflate stream."""
    data = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    start = info.header_offset + 30 + len(info.filename)
    data[start:start + info.compress_size] = b"\xff" * info.compress_size
    Path(path).write_bytes(bytes(data))


def test_an_unexpected_member_is_refused_by_name_before_it_is_decompressed(tmp_path, monkeypatch):
    """The first member is a corrupt deflate stream named 'payload.npy': reading it would raise a
    zlib error. The refusal names it instead, and no member is ever opened."""
    path = zip_of(tmp_path / "m.npz", [("payload.npy", b"\0" * 5000)] + layer_members(),
                  compression=zipfile.ZIP_DEFLATED)
    _corrupt_deflated(path, "payload.npy")
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(name)
                        or real_open(self, name, *a, **k))
    message = load_error(path)
    assert message.endswith("it holds an unexpected array 'payload'; expected W0, b0, W1, b1, ... and meta")
    assert opened == []


@pytest.mark.parametrize("members, expected", [
    ([("W0.npy", npy_bytes(np.ones((3, 4)))), ("W0.npy", npy_bytes(np.ones((3, 4))))],
     "it holds more than one member named 'W0.npy'"),
    ([("notes.txt", b"hello")], "its member 'notes.txt' is not a .npy array"),
    ([("W0.npy", b"hello, not an npy file at all")], "its member 'W0.npy' is not a .npy array ("),
    ([("../W0.npy", npy_bytes(np.ones(3)))], "it holds an unexpected array '../W0'"),
], ids=["duplicate", "text member", "not npy", "path in name"])
def test_bad_members(tmp_path, members, expected):
    message = load_error(zip_of(tmp_path / "m.npz", members))
    assert expected in message


def test_an_unknown_compression_method_is_refused(tmp_path):
    path = zip_of(tmp_path / "m.npz", layer_members(), compression=zipfile.ZIP_BZIP2)
    assert load_error(path).endswith("its member 'W0.npy' uses zip compression method 12; handnet reads stored "
                                     "or deflated members (np.savez, np.savez_compressed)")


def test_an_encrypted_member_is_refused(tmp_path):
    path = zip_of(tmp_path / "m.npz", layer_members())
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")                            # the first central-directory entry
    struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | 1)
    path.write_bytes(bytes(data))
    assert load_error(path).endswith("its member 'W0.npy' is encrypted")


# ----------------------------------------------------------------------------
# meta: bounded size and depth
# ----------------------------------------------------------------------------


def test_meta_nested_100000_levels_is_refused_without_recursion(tmp_path):
    """The old loader raised RecursionError from json.loads."""
    np.savez(tmp_path / "m.npz", **LAYERS, meta=np.array("[" * 100_000 + "]" * 100_000))
    message = load_error(tmp_path / "m.npz")
    assert message.endswith(": 'meta' is nested 100000 levels deep; a handnet meta is at most 32")


def test_brackets_inside_meta_strings_do_not_count_as_depth(tmp_path):
    meta = {"format": "handnet.mlp", "note": "[[[[" * 50 + '"{{' * 50, "hidden": "tanh"}
    np.savez(tmp_path / "m.npz", **LAYERS, meta=np.array(json.dumps(meta)))
    assert hn.load(tmp_path / "m.npz").hidden.name == "tanh"


def test_a_huge_meta_is_refused(tmp_path):
    text = json.dumps({"hidden": "tanh", "padding": "x" * hn.io.MAX_META_CHARS})
    np.savez(tmp_path / "m.npz", **LAYERS, meta=np.array(text))
    assert load_error(tmp_path / "m.npz").endswith(
        f": 'meta' is {len(text)} characters long; a handnet meta is at most {hn.io.MAX_META_CHARS}")


# ----------------------------------------------------------------------------
# Only regular files
# ----------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    """The old loader opened the FIFO and waited forever for a writer."""
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"^path: '.*model\.npz' is a FIFO \(named pipe\); a model file is a "
                                         r"regular file$"):
        hn.load(fifo)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="a character device")
def test_a_device_is_refused():
    """/dev/zero would otherwise be read forever."""
    with pytest.raises(ValueError, match=r"^path: '/dev/zero' is a character device; a model file is a "
                                         r"regular file$"):
        hn.load("/dev/zero")


# ----------------------------------------------------------------------------
# Saving: the path argument is named, in every error
# ----------------------------------------------------------------------------


def net_():
    net = hn.MLP([3, 4, 2])
    net.params = np.random.default_rng(0).normal(size=net.n_params)
    return net


def test_save_to_an_empty_path():
    with pytest.raises(ValueError, match=r"^path: expected a file path, got an empty string$"):
        hn.save(net_(), "")


def test_save_to_a_folder(tmp_path):
    with pytest.raises(ValueError, match=r"^path: '.*' is a folder; give a file name, e.g. '.*model\.npz'$"):
        hn.save(net_(), tmp_path)
    with pytest.raises(ValueError, match=r"^path: '\.\.' is a folder"):
        hn.save(net_(), "..")
    assert list(tmp_path.iterdir()) == []


def test_save_to_a_name_ending_in_a_separator(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^path: 'newdir/' ends with a path separator, so it names a folder; "
                                         r"give a file name, e.g. 'newdir/model\.npz'$"):
        hn.save(net_(), "newdir/")
    assert list(tmp_path.iterdir()) == []


def test_save_below_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    target = tmp_path / "notes.txt" / "model.npz"
    with pytest.raises(NotADirectoryError) as info:
        hn.save(net_(), target)
    assert str(info.value) == (f"[Errno 20] path: cannot write {str(target)!r}: "
                               f"{str(tmp_path / 'notes.txt')!r} is a file, not a folder")


def test_an_os_error_names_the_path_not_the_temporary_file(tmp_path, monkeypatch):
    def refused(src, dst):
        raise PermissionError(13, "Permission denied", src, dst)

    monkeypatch.setattr(atomic.os, "replace", refused)
    target = tmp_path / "model.npz"
    with pytest.raises(PermissionError) as info:
        hn.save(net_(), target)
    assert info.value.errno == 13
    assert str(info.value) == f"[Errno 13] path: cannot write {str(target)!r}: Permission denied"
    assert ".tmp" not in str(info.value)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


class _PathLike:
    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return self.path


@pytest.mark.parametrize("kind", [bytes, _PathLike, Path, str])
def test_save_accepts_the_path_types_load_accepts(tmp_path, kind):
    net = net_()
    target = str(tmp_path / "model.npz")
    path = kind(os.fsencode(target)) if kind is bytes else kind(target)
    assert hn.save(net, path) == target
    assert np.array_equal(hn.load(path).params, net.params)


# ----------------------------------------------------------------------------
# Temporary files left by a killed save
# ----------------------------------------------------------------------------


def temporaries(folder, name="model.npz"):
    pattern = atomic._temporary_pattern(os.path.join(folder, name))
    return sorted(n for n in os.listdir(folder) if pattern.fullmatch(n))


# The child saves a large model (8 MB) over ``path``, but its numpy.savez writes half of the archive,
# says so, and waits: the parent kills it there with SIGKILL, as a crash or the OOM killer would.
_CHILD = textwrap.dedent("""
    import io, sys
    import numpy as np
    import handnet as hn

    real_savez = np.savez

    def half_then_wait(fh, **arrays):
        buf = io.BytesIO()
        real_savez(buf, **arrays)
        data = buf.getvalue()
        fh.write(data[: len(data) // 2])
        fh.flush()
        print("half written", len(data), flush=True)
        sys.stdin.read()                       # wait for the kill

    np.savez = half_then_wait
    hn.save(hn.MLP([1000, 1000, 10], seed=1), sys.argv[1])
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_killed_save_keeps_the_old_model_and_the_next_save_cleans_its_litter(tmp_path):
    path = tmp_path / "model.npz"
    old = net_()
    hn.save(old, path)
    before = path.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.startswith("half written"), line
        total = int(line.split()[-1])
        litter = temporaries(tmp_path)
        assert len(litter) == 1 and (tmp_path / litter[0]).stat().st_size == total // 2

        # while the child is alive (and holds its lock), another save leaves its file alone
        hn.save(net_(), tmp_path / "model.npz")
        assert temporaries(tmp_path) == litter
    finally:
        child.kill()                           # SIGKILL: no cleanup code runs in the child
        child.wait()
        child.stdin.close()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert temporaries(tmp_path) == litter     # the litter a crash leaves
    hn.save(old, path)
    assert path.read_bytes() == before         # the save during the child's write was complete and atomic
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    assert np.array_equal(hn.load(path).params, old.params)


@pytest.mark.skipif(not atomic._LOCKS, reason="flock")
def test_a_temporary_file_held_by_a_live_writer_is_kept(tmp_path):
    import fcntl

    path = tmp_path / "model.npz"
    held = tmp_path / ".model.npz.0123abcd.tmp"
    with open(held, "wb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)               # as a saving process holds it
        hn.save(net_(), path)
        assert held.exists()
    hn.save(net_(), path)                                     # released: now it is litter
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_only_this_targets_temporary_files_are_removed(tmp_path):
    keep = [".model.npz.tmp", ".model.npz.0123abc.tmp", ".model.npz.0123abcde.tmp", ".model.npz.0123ABCD.tmp",
            ".other.npz.0123abcd.tmp", "model.npz.0123abcd.tmp", ".model.npz.0123abcd.tmp.bak",
            ".xmodel.npz.0123abcd.tmp"]
    for name in keep:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".model.npz.folder01.tmp").mkdir()                              # not a regular file
    os.symlink(tmp_path / "model.npz.0123abcd.tmp", tmp_path / ".model.npz.link0000.tmp")
    stale = [".model.npz.0123abcd.tmp", ".model.npz.x_y9zz00.tmp"]             # this target's pattern
    for name in stale:
        (tmp_path / name).write_bytes(b"half a model")
    hn.save(net_(), tmp_path / "model.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(keep + ["model.npz", ".model.npz.folder01.tmp",
                                                          ".model.npz.link0000.tmp"])


@pytest.mark.skipif(not atomic._LOCKS, reason="flock")
def test_a_writer_whose_new_file_was_cleaned_before_it_locked_it_starts_again(tmp_path, monkeypatch):
    """The one gap in the protocol: a cleaner unlinks a writer's file between its creation and its
    lock. The writer sees st_nlink == 0 after locking and makes a new file."""
    import fcntl

    real_flock = fcntl.flock
    raced = []

    def flock_after_a_cleaner(fd, op):
        if not raced:
            raced.append(fd)
            atomic._remove_stale_temporaries(tmp_path / "model.npz")       # the cleaner wins the race
        return real_flock(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock_after_a_cleaner)
    net = net_()
    hn.save(net, tmp_path / "model.npz")
    assert raced and sorted(os.listdir(tmp_path)) == ["model.npz"]
    assert np.array_equal(hn.load(tmp_path / "model.npz").params, net.params)


@pytest.mark.skipif(not atomic._LOCKS, reason="flock")
def test_a_file_system_without_flock_still_saves_and_never_cleans(tmp_path, monkeypatch):
    """Where flock fails (some network file systems), saving works as before; no temporary file can
    be locked by a cleaner either, so none is removed: litter stays rather than risk a live writer's."""
    import errno
    import fcntl

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    (tmp_path / ".model.npz.0123abcd.tmp").write_bytes(b"half a model")
    net = net_()
    hn.save(net, tmp_path / "model.npz")
    assert np.array_equal(hn.load(tmp_path / "model.npz").params, net.params)
    assert sorted(os.listdir(tmp_path)) == [".model.npz.0123abcd.tmp", "model.npz"]
