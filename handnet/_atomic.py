"""Atomic file writes: a reader sees the old file or the new one, never half of one.

    write to  <folder>/.<name>.<8 hex digits>.tmp,  flush, fsync,  rename over <folder>/<name>

Used for model files (handnet.io.save), figures, CSVs and reports. Errors name
the ``path`` argument, never the temporary file.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat

__all__ = ["atomic_write"]


def atomic_write(path, write):
    """Call write(file_object) on a temporary file next to ``path``, then rename it to ``path``.

    ``path`` is a str, bytes or os.PathLike file path (not a folder); missing
    folders are created. Returns the path as a str. An OS error (no permission,
    disk full, a file where a folder should be) is re-raised with its type and
    errno, naming ``path`` rather than the temporary file.

    The new file gets the permissions of the file it replaces, or the usual
    0o666 & ~umask for a new file. Temporary files that an earlier save of the
    same ``path`` left behind when its process was killed are removed first
    (see _remove_stale_temporaries for why that is safe).
    """
    path = _as_target(path)
    folder = os.path.dirname(os.path.abspath(path))
    _make_folders(folder, path)
    try:
        mode = _mode_for(path)
        _remove_stale_temporaries(path)
        fd, tmp = _create_temporary(path)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            if _LOCKS:                 # rename while still holding the lock (see _create_temporary)
                os.replace(tmp, path)
        if not _LOCKS:                 # Windows cannot rename a file that is open
            os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise _naming(exc, path) from None
        raise
    _fsync_folder(folder)
    return path


def _as_target(path):
    """``path`` (str, bytes or os.PathLike) as a str naming a file to write; TypeError/ValueError if not."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path: expected a file path, got {type(path).__name__}")
    path = os.fsdecode(os.fspath(path))
    if path == "":
        raise ValueError("path: expected a file path, got an empty string")
    if path.endswith(os.sep) or (os.altsep and path.endswith(os.altsep)):
        raise ValueError(f"path: {path!r} ends with a path separator, so it names a folder; "
                         f"give a file name, e.g. {os.path.join(path, 'model.npz')!r}")
    if os.path.isdir(path):
        raise ValueError(f"path: {path!r} is a folder; give a file name, e.g. "
                         f"{os.path.join(path, 'model.npz')!r}")
    return path


def _make_folders(folder, path):
    """Create ``folder`` and its parents; an error names ``path`` and the file in the way, if any."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        blocker = folder
        while blocker and not os.path.lexists(blocker):
            blocker = os.path.dirname(blocker)
        if os.path.lexists(blocker) and not os.path.isdir(blocker):
            raise NotADirectoryError(errno.ENOTDIR, f"path: cannot write {path!r}: {blocker!r} is a file, "
                                     "not a folder") from None
        raise _naming(exc, path) from None


def _naming(exc, path):
    """The same kind of OSError (type, errno), with a message that names ``path`` (not the
    temporary file): '[Errno 13] path: cannot write 'out/model.npz': Permission denied'."""
    reason = exc.strerror or str(exc)
    try:
        if exc.errno is None:
            return type(exc)(f"path: cannot write {path!r}: {reason}")
        return type(exc)(exc.errno, f"path: cannot write {path!r}: {reason}")
    except Exception:                     # an OSError subclass with another constructor
        return exc


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


# ----------------------------------------------------------------------------
# Temporary files, and the ones a killed process leaves behind
# ----------------------------------------------------------------------------
#
# A save writes ".<name>.<8 hex digits>.tmp" next to <name> and renames it over <name> at the end.
# A process killed mid-write (SIGKILL, power cut) leaves that file behind; the next save of the same
# <name> removes such files, safely:
#   - only names of exactly that pattern, for that target, in that folder; only regular files (never
#     a symlink or a folder), and on POSIX only files owned by the current user;
#   - never a file that a live process is still writing. On POSIX every writer holds an exclusive
#     flock on its temporary file from creation until after the rename, and the kernel drops the
#     lock when the process dies, however it dies. The cleaner takes the lock without waiting; if it
#     cannot, a writer is alive and the file stays. If it can, it checks the name still refers to the
#     file it locked, then unlinks it. The one gap, between a writer creating its file and locking
#     it, is closed on the writer's side: after locking, a writer whose file has no name any more
#     (st_nlink == 0, a cleaner took it in that instant) starts again with a new file.
#   - On Windows (no flock) a file that is open cannot be deleted, so the unlink fails for a live
#     writer's file and the file stays.
#   - On a file system where flock fails (some network mounts) writers go on unlocked, and cleaners,
#     unable to lock anything there, remove nothing: litter stays rather than risk a live file.
# The pattern's 8 characters [0-9a-z_] also cover the mkstemp names of older handnet versions, which
# did not lock: a file one of those is writing at that very moment could be taken.

try:
    import fcntl
except ImportError:                       # Windows
    fcntl = None
_LOCKS = fcntl is not None


def _temporary_name(path, token):
    """The temporary file for ``path``: '.<name>.<token>.tmp' in the same folder."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{token}.tmp")


def _temporary_pattern(path):
    """Matches the base names of ``path``'s temporary files, and nothing else."""
    name = os.path.basename(os.path.abspath(path))
    return re.compile(re.escape(f".{name}.") + r"[0-9a-z_]{8}" + re.escape(".tmp"))


def _create_temporary(path):
    """(fd, name) of a new, empty, 0o600 temporary file for ``path``, exclusively locked on POSIX."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    while True:
        tmp = _temporary_name(path, secrets.token_hex(4))
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileExistsError:
            continue
        if not _LOCKS:
            return fd, tmp
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:                   # a file system without flock: no cleaner can lock it either,
            return fd, tmp                # so none will ever remove it
        if os.fstat(fd).st_nlink > 0:
            return fd, tmp
        os.close(fd)                      # a cleaner removed it before we locked it: start again


def _remove_stale_temporaries(path):
    """Delete the temporary files of ``path`` that no live process holds; return their names."""
    folder = os.path.dirname(os.path.abspath(path))
    pattern = _temporary_pattern(path)
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if pattern.fullmatch(name) and _remove_if_abandoned(os.path.join(folder, name)):
            removed.append(name)
    return removed


def _remove_if_abandoned(tmp):
    """Unlink the temporary file ``tmp`` if no process holds it; True if it was removed."""
    try:
        info = os.lstat(tmp)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return False
    if not _LOCKS:
        try:
            os.unlink(tmp)                # fails while a writer has it open
            return True
        except OSError:
            return False
    try:
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino != os.lstat(tmp).st_ino:
            return False                  # the name now refers to another file
        os.unlink(tmp)
        return True
    except OSError:                       # locked by a live writer, or gone meanwhile
        return False
    finally:
        os.close(fd)
