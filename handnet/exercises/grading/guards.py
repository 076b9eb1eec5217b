"""What the child sets up around the student's code before loading it: resource limits and guards.

``set_limits`` caps the child's address space, CPU seconds, file size, open
files and processes (so a child whose grader died still ends by itself);
``Guards`` is the audit hook (``sys.addaudithook``: it cannot be removed) that
refuses, and records, importing handnet, opening anything under a forbidden
folder or inside any folder named like the package (the installed handnet, a
copy of its source, the submissions, the grades), writing outside the working
folder, opening a folder outside it (a descriptor of it, passed as ``dir_fd``,
would open files under it that no audit event names), relative paths that go
up (``..``: relative to such a descriptor they mean something else), symbolic
links, starting programs, using ctypes and sending signals; ``watch_grader``
ends the child when the grading side goes away.

The hook has no off switch: the worker installs it just before the student's
file is loaded, for the rest of the process's life, and needs nothing it
refuses after that (its answers go out with ``os.write`` on a pipe it already
holds, which raises no audit event). Its state is ordinary Python objects all
the same, which code in the same process can find and change (``gc``): the
hook is defence in depth, the wall is the containment around the process
(``sandbox``: another user, namespaces, hidden folders).

This module imports the standard library only: the child loads it from its own
copy, never through handnet.
"""

from __future__ import annotations

import os
import select

__all__ = ["set_limits", "Guards", "disarm", "watch_grader"]


def set_limits(memory, cpu, file_size, open_files, processes):
    """Resource limits of this process (and what it starts): bytes, seconds, bytes, count, count."""
    import resource

    for name, value in (("RLIMIT_AS", memory), ("RLIMIT_CPU", cpu), ("RLIMIT_FSIZE", file_size),
                        ("RLIMIT_NOFILE", open_files), ("RLIMIT_NPROC", processes), ("RLIMIT_CORE", 0)):
        limit = getattr(resource, name, None)
        if limit is None or value is None:
            continue
        soft, hard = resource.getrlimit(limit)
        value = int(value)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        hard_value = value + 2 if name == "RLIMIT_CPU" and (hard == resource.RLIM_INFINITY or hard > value + 2) \
            else value
        try:
            resource.setrlimit(limit, (value, hard_value))
        except (ValueError, OSError):
            resource.setrlimit(limit, (value, value))


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
#: Audit events refused outright, and what they mean to a student.
_REFUSED = {
    "subprocess.Popen": "start a program", "os.system": "start a program", "os.exec": "start a program",
    "os.posix_spawn": "start a program", "os.spawn": "start a program", "os.startfile": "start a program",
    "pty.spawn": "start a program", "os.kill": "send a signal",
    "os.killpg": "send a signal", "signal.pthread_kill": "send a signal", "socket.connect": "open a connection",
    "socket.bind": "open a connection", "sys.remote_exec": "attach to another process",
    "os.symlink": "make a symbolic link",
}
#: Modules whose (fresh) import is refused: they start programs without the audit events above
#: (``disarm`` takes the function out of the copy imported before the guards).
_REFUSED_MODULES = {"_posixsubprocess": "start a program"}
#: Audit events that change files, and the positions of their path arguments.
_FILE_CHANGES = {"os.remove": (0,), "os.rename": (0, 1), "os.mkdir": (0,), "os.rmdir": (0,), "os.chmod": (0,),
                 "os.chown": (0,), "os.link": (0, 1), "os.truncate": (0,),
                 "os.utime": (0,), "os.mkfifo": (0,), "os.mknod": (0,), "os.chflags": (0,),
                 "os.lchflags": (0,), "os.setxattr": (0,), "os.removexattr": (0,), "shutil.rmtree": (0,)}


#: Folders of other checks and runs (the working folder itself is allowed before this is looked at).
_OTHER_CHECKS = ("handnet-check-", "handnet-run-", "handnet-grade-snapshot-")


class Guards:
    """The audit hook: refuses (and records) what an exercise file has no business doing."""

    def __init__(self, workdir, forbidden):
        self.workdir = os.path.realpath(workdir)
        self.forbidden = tuple(os.path.realpath(d) for d in forbidden)
        self.names = frozenset(os.path.basename(d) for d in self.forbidden if os.path.basename(d) == "handnet")
        self.refused = []

    def _resolve(self, path):
        if isinstance(path, int):
            return None
        try:
            return os.path.realpath(os.fsdecode(path))
        except BaseException:  # noqa: BLE001
            return None

    def _under(self, path, folders):
        return any(path == d or path.startswith(d.rstrip(os.sep) + os.sep) for d in folders)

    def _forbidden(self, raw):
        """True for a path under a forbidden folder, or inside any folder named like the package (another
        copy of handnet's source holds the reference solutions too; a path relative to a descriptor of
        a parent folder is caught this way as well)."""
        path = self._resolve(raw)
        if path is None or self._under(path, [self.workdir]):
            return False
        if self._under(path, self.forbidden):
            return True
        try:
            text = os.fsdecode(raw).replace("\\", "/")
        except BaseException:  # noqa: BLE001
            return False
        folders = text.split("/")[:-1] + path.split(os.sep)[:-1]
        return bool(self.names.intersection(folders)) or any(f.startswith(_OTHER_CHECKS) for f in folders)

    def refuse(self, what):
        sentence = (f"your code tried to {what}; exercise files may use only numpy and the standard "
                    "library, and only their own working folder")
        if sentence not in self.refused:
            self.refused.append(sentence)
        raise PermissionError(f"refused by the grader: {sentence}")

    def _climbs(self, raw):
        """True for a relative path with a '..' part: relative to a descriptor (``dir_fd``, which no audit
        event shows) it could name something else than relative to the working folder."""
        try:
            text = os.fsdecode(raw).replace("\\", "/")
        except BaseException:  # noqa: BLE001
            return True
        return not text.startswith("/") and ".." in text.split("/")

    def _outside_folder(self, path, flags):
        """True when ``path`` opens a folder (or a path-only descriptor) outside the working folder: such
        a descriptor, given as ``dir_fd``, would open anything under it unseen."""
        resolved = self._resolve(path)
        if resolved is None or self._under(resolved, [self.workdir]):
            return False
        asked = isinstance(flags, int) and flags & (getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_PATH", 0))
        return bool(asked) or os.path.isdir(resolved)

    def __call__(self, event, args):
        if event == "import":
            name = args[0] if args else ""
            if isinstance(name, str) and (name == "handnet" or name.startswith("handnet.")):
                self.refuse("import handnet")
            if name in _REFUSED_MODULES:
                self.refuse(_REFUSED_MODULES[name])
        elif event.startswith("ctypes."):            # C calls and raw memory: around every other guard
            self.refuse("use ctypes")
        elif event == "open":
            path = args[0] if args else None
            if path is None or isinstance(path, int):
                return
            if self._forbidden(path):
                self.refuse(f"open {os.fsdecode(path)!r}, which belongs to the grader (handnet's own files, the "
                            "submissions or the grades)")
            mode, flags = (args + (None, None))[1:3]
            if self._climbs(path):
                self.refuse(f"open {os.fsdecode(path)!r}: a relative path may not go up ('..')")
            if self._outside_folder(path, flags):
                self.refuse(f"open the folder {os.fsdecode(path)!r}, outside its working folder")
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(flags, int) and flags & _WRITE_FLAGS)
            resolved = self._resolve(path)
            if writing and resolved is not None and not self._under(resolved, [self.workdir, os.devnull]):
                self.refuse(f"write {os.fsdecode(path)!r}, outside its working folder")
        elif event in _REFUSED:
            self.refuse(_REFUSED[event])
        elif event in _FILE_CHANGES:
            for i in _FILE_CHANGES[event]:
                path = args[i] if len(args) > i else None
                if path is not None and not isinstance(path, int) and self._climbs(path):
                    self.refuse(f"change {os.fsdecode(path)!r}: a relative path may not go up ('..')")
                resolved = self._resolve(path) if path is not None else None
                if resolved is not None and not self._under(resolved, [self.workdir]):
                    self.refuse(f"change {os.fsdecode(path)!r}, outside its working folder")


def disarm():
    """Import subprocess (so that a student's ``import subprocess`` works) and take ``fork_exec`` out of
    the C module under it: it starts programs without an audit event. A fresh import is refused."""
    import importlib

    importlib.import_module("subprocess")
    vars(importlib.import_module("_posixsubprocess")).pop("fork_exec", None)


def watch_grader(fd, stop):
    """End this process when the grading side goes away (its end of the request pipe closes)."""
    exit_now = os._exit
    poller = select.poll()
    poller.register(fd, select.POLLHUP | select.POLLERR)
    while not stop.is_set():
        for _, events in poller.poll(1000):
            if events & (select.POLLHUP | select.POLLERR):
                exit_now(3)
