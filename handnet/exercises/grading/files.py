"""Reading a submission without ever blocking or following it somewhere else.

Only regular files are read: a FIFO named ``sigmoid.py`` would block ``open``
forever, a device could be endless, a symbolic link could point at another
student's file or at the grader's. Each of those is a ``NotRegularFile`` (a
ValueError) whose message is the sentence a report shows.
"""

from __future__ import annotations

import hashlib
import os
import stat

__all__ = ["NotRegularFile", "read_regular", "file_kind", "sha256", "MAX_SUBMISSION_BYTES"]

#: A submission larger than this is not read (an exercise file is a few kilobytes).
MAX_SUBMISSION_BYTES = 4 * 1024 * 1024


class NotRegularFile(ValueError):
    """The path is not a regular file (a FIFO, a device, a socket, a folder, a symbolic link), or too large."""


def file_kind(mode):
    """'a FIFO', 'a socket', 'a device', 'a folder', 'a symbolic link' or 'a special file' for a st_mode."""
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "a special file"


def read_regular(path, limit=MAX_SUBMISSION_BYTES):
    """The bytes of the regular file ``path``; NotRegularFile otherwise (never blocks, never follows a
    symbolic link); OSError when it cannot be read."""
    path = os.fspath(path)
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(f"{os.path.basename(path)} is {file_kind(info.st_mode)}, not a regular file: "
                             "only regular files are graded")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)                       # the file opened, not one swapped in since the lstat
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"{os.path.basename(path)} is {file_kind(info.st_mode)}, not a regular "
                                 "file: only regular files are graded")
        if info.st_size > limit:
            raise NotRegularFile(f"{os.path.basename(path)} has {info.st_size} bytes, more than the "
                                 f"{limit} an exercise file may have")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise NotRegularFile(f"{os.path.basename(path)} has more than the {limit} bytes an exercise "
                                     "file may have")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def sha256(data):
    """The hex SHA-256 of ``data`` (bytes)."""
    return hashlib.sha256(data).hexdigest()
