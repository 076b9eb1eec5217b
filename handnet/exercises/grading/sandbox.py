"""Where a student's code runs: a contained child process, and how the grading side ends it.

    box = containment()                  # chosen once per grading process, by trying
    print(box.sentence)                  # what it gives, for the report header
    proc = start_worker(workdir, worker_args, box, token)
    end_tree(proc, token)                # the child and everything it started, setsid or not

The modes, strongest first:

    "nobody+namespaces"  run as root: the child drops to the user ``nobody`` and lives in new
                         user, mount, PID and network namespaces: every file system is
                         mounted read-only except its own working folder, it sees only its
                         own processes (it cannot signal the grader), it has no network
    "nobody"             root, but namespaces are not usable: the child runs as ``nobody``
    "namespaces"         an ordinary user with unprivileged user namespaces (``unshare``):
                         the same read-only view, own PID namespace and no network, with
                         the teacher's user id
    "none"               the child runs with the teacher's rights (the report says so)

Every mode also has what ``worker.py`` sets up before any student code runs
(resource limits, the audit hook that refuses handnet, the grader's folders,
programs, signals and writes outside the working folder), a fresh working
folder per check and its own session. At the end of a check the whole tree
is killed: the session's process group, then every process carrying the
check's token in its environment (children that called setsid included; the
grading process is made a child subreaper on Linux, so orphans come back to
it and are reaped). In the namespace modes the PID namespace ends with its
first process as well.

``HANDNET_CONTAINMENT`` (auto, nobody+namespaces, nobody, namespaces, none)
lets a teacher or a test ask for a weaker mode; the default is the strongest
that works.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

__all__ = ["Containment", "containment", "start_worker", "end_tree", "sweep", "make_workdir",
           "remove_workdir", "become_subreaper", "processes_of", "sweep_stale", "children_of",
           "reap_orphans", "run_folder", "remove_stale_folders", "TOKEN_VARIABLE", "MODES"]

TOKEN_VARIABLE = "HANDNET_SANDBOX"
MODES = ("nobody+namespaces", "nobody", "namespaces", "none")

#: Every mount but the working folder becomes read-only (remounting what cannot be is skipped).
_READ_ONLY = r"""for mp in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do
  [ "$mp" = "$work" ] || mount -n -o remount,bind,ro "$mp" 2>/dev/null || true
done
"""


#: Host folders covered by an empty read-only tmpfs in the namespace modes, but for what this Python
#: needs under them and the working folder: other checks' folders (/tmp), the teacher's files and
#: other users' (homes, projects, the grading run's own folders).
COVERED = ("/tmp", "/var/tmp", "/home", "/root", "/work", "/srv", "/opt", "/mnt", "/media")


def namespace_script(workdir, hide=(), covers=(), drop=None):
    """The ``sh`` script run first inside the new namespaces, then replaced by the worker ("$@").

    The working folder stays writable and every other mount becomes read-only. Each (folder,
    keep) of ``covers`` (outermost first) is covered by a read-only tmpfs holding only the paths
    in ``keep`` (bind-mounted back, read-only: the Python, its standard library and packages)
    and, when it holds it, the working folder: so /tmp shows no other check's folder, and the
    teacher's files are out of sight. Each folder in ``hide`` is then covered by an empty
    read-only tmpfs (the installed handnet package, the submissions, the grades). /proc shows
    only the namespace's processes. The worker then starts with no capabilities (and as
    ``drop`` = (uid, gid) when given), so it cannot undo any of it.

    Mounts name the working folder by the shell's current folder (``mount -c ... .``): once
    a tmpfs covers its path, that is the only way left to it.
    """
    q = shlex.quote
    workdir = os.path.realpath(workdir)
    lines = ["set -e", f"work={q(workdir)}", 'mount -n --bind "$work" "$work"', _READ_ONLY, 'cd "$work"']
    for i, (folder, keep) in enumerate(covers):
        for n, path in enumerate(keep):
            lines += [f"mkdir -p .handnet-keep/{i}-{n}", f"mount -n -c --bind {q(path)} .handnet-keep/{i}-{n}"]
        lines.append(f"mount -n -t tmpfs -o mode=755,size=64k handnet-cover {q(folder)}")
        for n, path in enumerate(keep):
            lines += [f"mkdir -p {q(path)}", f"mount -n -c --move .handnet-keep/{i}-{n} {q(path)}",
                      f"mount -n -o remount,bind,ro {q(path)}"]
        if _under(workdir, folder):
            lines += ['mkdir -p "$work"', 'mount -n -c --bind . "$work"', 'cd "$work"']
        lines.append(f"mount -n -o remount,ro {q(folder)}")
    lines.append("rm -rf .handnet-keep")
    for folder in hide:
        lines.append(f"mount -n -t tmpfs -o ro,mode=755,size=4k handnet-hidden {q(folder)} 2>/dev/null || true")
    lines += ["mount -n -t proc proc /proc", 'cd "$work"']
    ids = "" if drop is None else f"--reuid={int(drop[0])} --regid={int(drop[1])} --clear-groups "
    lines.append(f'exec setpriv {ids}--bounding-set -all --no-new-privs "$@"')
    return "\n".join(lines) + "\n"


def _under(path, folder):
    folder = folder.rstrip(os.sep) or os.sep
    return path == folder or path.startswith(folder if folder == os.sep else folder + os.sep)


def _needed():
    """The folders this Python needs in the child: the interpreter, its prefixes, numpy and site-packages."""
    import numpy

    needed = {os.path.dirname(os.path.abspath(sys.executable)), os.path.dirname(os.path.realpath(sys.executable)),
              sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(numpy.__file__))}
    needed |= {p for p in sys.path if p and os.path.isabs(p) and os.path.isdir(p) and "site-packages" in p}
    return sorted({os.path.realpath(p) for p in needed if os.path.isdir(p)})


def _covers(box):
    """[(folder, [paths kept])], outermost first: the COVERED folders this machine has (but one this
    Python lives in), and, for a child running as another user, each folder on the way to this
    Python that others cannot pass through (a Python installed under /root)."""
    needed = _needed()
    covers = {}
    for folder in COVERED:
        if not os.path.isdir(folder) or os.path.islink(folder):
            continue
        folder = os.path.realpath(folder)
        if any(_under(folder, path) for path in needed) or folder == os.sep:
            continue                                   # the Python itself lives there
        covers.setdefault(folder, set()).update(p for p in needed if _under(p, folder))
    if box.user is not None:
        for path in needed:
            current = os.sep
            for part in [p for p in path.split(os.sep) if p]:
                try:
                    mode = os.stat(current).st_mode
                except OSError:
                    break
                fresh = any(_under(current, f) and not any(_under(current, k) for k in kept)
                            for f, kept in covers.items())      # made by mkdir on a cover's tmpfs: 755
                if not mode & 0o001 and not fresh:
                    covers.setdefault(current, set()).add(os.path.join(current, part))
                current = os.path.join(current, part)
    out = []
    for folder in sorted(covers, key=lambda f: f.count(os.sep) if f != os.sep else 0):
        keep = sorted(covers[folder])
        keep = [p for p in keep if not any(p != other and _under(p, other) for other in keep)]
        out.append((folder, keep))
    return out


_SENTENCES = {
    "nobody+namespaces": "submissions ran as the user 'nobody' in their own user, mount, PID and network "
                         "namespaces (every file read-only except their working folder, no network, no view "
                         "of other processes)",
    "nobody": "submissions ran as the user 'nobody' (no namespaces: they could read, but not change, files "
              "readable by everyone)",
    "namespaces": "submissions ran in their own user, mount, PID and network namespaces (every file read-only "
                  "except their working folder, no network, no view of other processes)",
    "none": "submissions ran with the teacher's rights (no unprivileged user and no namespaces were used): "
            "only the guards inside the child's own Python process (no handnet, no signals, no writes outside "
            "its folder) limit what they can do, and a determined student can defeat in-process guards "
            "(whatever the teacher may read or change, their code could)",
}


@dataclass(frozen=True)
class Containment:
    """What a student's child process runs under: ``mode`` (see MODES), the user and group it drops
    to (None: stays), and whether it is wrapped in new namespaces."""

    mode: str
    user: int | None = None
    group: int | None = None
    namespaces: bool = False

    @property
    def sentence(self):
        """One sentence for a report header."""
        return _SENTENCES[self.mode]


_CHOSEN = {}
_LOCK = threading.Lock()


def _nobody():
    try:
        import grp
        import pwd

        user = pwd.getpwnam("nobody")
        try:
            group = grp.getgrnam("nogroup").gr_gid
        except KeyError:
            group = user.pw_gid
        return user.pw_uid, group
    except (ImportError, KeyError):
        return None


def _candidates():
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    nobody = _nobody() if is_root else None
    tools = all(shutil.which(t) for t in ("unshare", "setpriv", "mount", "awk", "sort", "sh"))
    out = []
    if nobody and tools:
        out.append(Containment("nobody+namespaces", *nobody, namespaces=True))
    if nobody:
        out.append(Containment("nobody", *nobody))
    if tools and sys.platform.startswith("linux"):
        out.append(Containment("namespaces", namespaces=True))
    out.append(Containment("none"))
    return out


def _works(box):
    """True when a child started under ``box`` can run Python with numpy and write its folder."""
    workdir = make_workdir(box)
    try:
        import handnet

        package = os.path.dirname(os.path.abspath(handnet.__file__))
        probe = ("import numpy, os, sys; open('probe', 'w').write('ok'); "
                 f"sys.exit(3 if {box.namespaces!r} and os.path.isdir({package!r}) and os.listdir({package!r}) else "
                 f"4 if {box.namespaces!r} and os.listdir(os.path.dirname(os.getcwd())) != "
                 "[os.path.basename(os.getcwd())] else 0)")
        command = wrap_command([sys.executable, "-I", "-B", "-c", probe], workdir, box, hide=[package])
        try:
            result = subprocess.run(command, cwd=workdir, capture_output=True, timeout=60,
                                    env=child_environment("probe"), **user_options(box))
        except (OSError, subprocess.SubprocessError):
            return False
        return result.returncode == 0 and os.path.exists(os.path.join(workdir, "probe"))
    finally:
        remove_workdir(workdir)


def containment():
    """The strongest Containment that works on this machine (tried once, then remembered)."""
    asked = os.environ.get("HANDNET_CONTAINMENT", "auto").strip() or "auto"
    if asked != "auto" and asked not in MODES:
        raise ValueError(f"HANDNET_CONTAINMENT: expected auto or one of {', '.join(MODES)}, got {asked!r}")
    with _LOCK:
        if asked not in _CHOSEN:
            candidates = _candidates()
            if asked != "auto":
                order = MODES[MODES.index(asked):]
                candidates = [c for c in candidates if c.mode in order]
            _CHOSEN[asked] = next((c for c in candidates if c.mode == "none" or _works(c)), Containment("none"))
        return _CHOSEN[asked]


def user_options(box):
    """The Popen keywords that drop to the box's user (none when it stays, or when the namespace
    set-up script drops after mounting)."""
    if box.user is None or box.namespaces:
        return {}
    return {"user": box.user, "group": box.group, "extra_groups": []}


def wrap_command(command, workdir, box, hide=()):
    """``command`` as run under ``box``: inside the namespaces and their set-up script when it has them.

    hide: folders the child must not see at all (covered by an empty tmpfs in the namespace modes).
    """
    if not box.namespaces:
        return list(command)
    hide = [os.path.realpath(h) for h in hide if os.path.isdir(h)]
    if box.user is not None:               # root: new namespaces without a user namespace, then nobody
        script = namespace_script(workdir, hide, _covers(box), drop=(box.user, box.group))
        return ["unshare", "--mount", "--pid", "--net", "--fork", "--kill-child", "sh", "-c", script,
                "handnet-sandbox", *command]
    script = namespace_script(workdir, hide, _covers(box))
    return ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--net", "--fork", "--kill-child",
            "sh", "-c", script, "handnet-sandbox", *command]


def child_environment(token):
    """A small environment for the child: no PYTHON* variables, one BLAS thread, the check's token."""
    env = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "HOME": tempfile.gettempdir(), TOKEN_VARIABLE: token}
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = os.environ.get(name, "1")
    return env


_RUN = []
_RUN_LOCK = threading.Lock()
#: The name of a grading process's run folder in the temporary folder: handnet-run-PID-random.
RUN_PREFIX = "handnet-run-"
#: Seconds after which a folder left by an older handnet right in the temporary folder is stale.
STALE_SECONDS = 3600


def run_folder():
    """This grading process's folder for its checks' folders and snapshots: /tmp/handnet-run-PID-xxxx,
    owned by the grader, mode 0711 (a child running as another user may enter its own folder,
    whose random name it is given, but cannot list the others). Removed at exit, or by
    ``sweep_stale`` once this process is gone."""
    import atexit

    with _RUN_LOCK:
        if not _RUN or _RUN[0][0] != os.getpid():
            path = tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-")
            os.chmod(path, 0o711)
            _RUN[:] = [(os.getpid(), path)]
            atexit.register(_remove_own_run, os.getpid(), path)
        return _RUN[0][1]


def _remove_own_run(pid, path):
    if os.getpid() == pid:
        remove_workdir(path)


def make_workdir(box):
    """A fresh private folder for one child, inside ``run_folder()``, owned by the user the child runs as."""
    workdir = tempfile.mkdtemp(prefix="handnet-check-", dir=run_folder())
    if box.user is not None:
        os.chown(workdir, box.user, box.group)
    return workdir


def remove_workdir(workdir):
    """Remove a child's folder, whatever permissions the student's code left in it."""
    def retry(function, path, _):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            function(path)
        except OSError:
            pass

    shutil.rmtree(workdir, onerror=retry)


def start_worker(command, workdir, box, token, hide=()):
    """Start ``command`` (the worker) under ``box``: pipes for requests, answers and output."""
    with _TRACKED_LOCK:                          # not reaped by reap_orphans before Popen knows it
        proc = subprocess.Popen(wrap_command(command, workdir, box, hide), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=workdir,
                                env=child_environment(token), start_new_session=True, close_fds=True,
                                **user_options(box))
        _TRACKED.add(proc)
    return proc


# ----------------------------------------------------------------------------
# Ending a child and everything it started
# ----------------------------------------------------------------------------

_SUBREAPER = []


def become_subreaper():
    """Make this process the child subreaper (Linux), so orphaned descendants come back to it."""
    if _SUBREAPER or not sys.platform.startswith("linux"):
        return bool(_SUBREAPER)
    with _LOCK:
        if _SUBREAPER:
            return True
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(36, 1, 0, 0, 0) == 0:           # PR_SET_CHILD_SUBREAPER
                _SUBREAPER.append(True)
                threading.Thread(target=_reap_forever, name="handnet-reaper", daemon=True).start()
        except (OSError, AttributeError):
            pass
    return bool(_SUBREAPER)


def _read(path, mode="rb"):
    try:
        with open(path, mode) as fh:
            return fh.read()
    except OSError:
        return None


def _carries(pid, marker):
    """Whether process ``pid``'s environment holds an item starting with ``marker`` (bytes)."""
    data = _read(f"/proc/{pid}/environ")
    return bool(data) and any(item.startswith(marker) for item in data.split(b"\0"))


def processes_of(prefix):
    """The pids of processes whose environment holds TOKEN_VARIABLE=<prefix...> (those we can read)."""
    marker = f"{TOKEN_VARIABLE}={prefix}".encode()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    own = os.getpid()
    return [int(e) for e in entries if e.isdigit() and int(e) != own and _carries(int(e), marker)]


def children_of(pid):
    """The pids of the children of every thread of process ``pid`` (/proc/PID/task/*/children)."""
    out = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        text = _read(f"/proc/{pid}/task/{task}/children", "r")
        if text:
            out.update(int(p) for p in text.split())
    return out


def _stat(pid):
    """(state, session id) of process ``pid`` (state: R, S, D, T, t, Z, X ...), or (None, None) when gone."""
    text = _read(f"/proc/{pid}/stat", "r")
    if not text or ")" not in text:
        return None, None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[3])


def _state(pid):
    """The one-letter state of process ``pid``, or None when it is gone."""
    return _stat(pid)[0]


#: Popen objects started by start_worker and not yet ended: sweeps never reap their pids (Popen does).
_TRACKED = set()
_TRACKED_LOCK = threading.Lock()
#: Seconds between two rounds of the subreaper's background reaping of orphaned zombies.
REAP_INTERVAL = 0.25


def reap_orphans():
    """Reap the zombie children of this process that are orphans handed to it as child subreaper.

    Only zombies in a session other than ours (a check's tree is in the worker's session or one it
    made) whose pid is not a Popen of ours still running (``start_worker``): a Popen's own child
    is left for its ``wait``. Returns how many were reaped.
    """
    try:
        own_session = os.getsid(0)
    except OSError:                                # pragma: no cover
        return 0
    reaped = 0
    with _TRACKED_LOCK:
        tracked = {proc.pid for proc in _TRACKED if proc.returncode is None}
        for pid in children_of(os.getpid()) - tracked:
            state, session = _stat(pid)
            if state != "Z" or session == own_session:
                continue
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    reaped += 1
            except ChildProcessError:
                pass
    return reaped


def _reap_forever():
    while True:
        time.sleep(REAP_INTERVAL)
        reap_orphans()


def _signal_all(pids, signum):
    """Send ``signum`` to each of ``pids`` that still exists and that we may signal."""
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _freeze(prefix, deadline):
    """SIGSTOP every process of the tree carrying a token that starts with ``prefix``; the set stopped.

    A stopped process cannot fork or exit, so the set is closed once: (1) every child of a stopped
    process is stopped too (its descendants are ours whatever their environment), and (2) no child of
    this process (the child subreaper, which every orphan of a check comes back to) carries the token
    unstopped. Then every live process of the tree is in the set: walk up from any of them, its oldest
    ancestor below us is a child of ours (so stopped, by 2), and each child of a stopped process is
    stopped (by 1). A listing of /proc alone cannot promise this: a process that forks a child with a
    lower (wrapped-around) pid and exits while the listing runs is missed by it, with its child.
    """
    marker = f"{TOKEN_VARIABLE}={prefix}".encode()
    own = os.getpid()
    stopped = set()
    frontier = set(processes_of(prefix))
    while True:
        resumed = {pid for pid in stopped if _state(pid) not in (None, "T", "t", "Z", "X")}   # a SIGCONT
        stopped -= resumed
        frontier |= resumed | {pid for pid in children_of(own) if pid not in stopped and _carries(pid, marker)}
        frontier -= stopped
        if not frontier or time.monotonic() > deadline:
            return stopped | frontier
        while frontier:
            _signal_all(frontier, signal.SIGSTOP)
            pause = 0.001
            waiting = set(frontier)
            while waiting and time.monotonic() < deadline:
                waiting = {pid for pid in waiting if _state(pid) not in (None, "T", "t", "Z", "X")}
                if waiting:
                    time.sleep(pause)
                    pause = min(2 * pause, 0.05)
            stopped |= frontier
            frontier = set().union(*(children_of(pid) for pid in frontier)) - stopped


def sweep(prefix, patience=10.0):
    """End every process carrying a token that starts with ``prefix``, and everything they started.

    First all of them are stopped (``_freeze``: a closed set, found without racing their forks),
    then killed together; then /proc is listed again until no process carries the token (a killed
    process lingers until the kernel has torn it down, longer on a loaded machine), for up to
    ``patience`` seconds; zombies handed to us are reaped.
    """
    deadline = time.monotonic() + patience
    frozen = _freeze(prefix, deadline) if sys.platform.startswith("linux") else set()
    pids, pause = set(frozen), 0.005
    while True:
        _signal_all(pids, signal.SIGKILL)
        reap_orphans()
        pids = set(processes_of(prefix)) | {pid for pid in frozen if _state(pid) not in (None, "Z", "X")}
        if not pids or time.monotonic() > deadline:
            reap_orphans()
            return
        time.sleep(pause)
        pause = min(2 * pause, 0.2)


def end_tree(proc, token):
    """Kill the worker's session (process group), the worker, then every process with its token."""
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:              # pragma: no cover - a process SIGKILL cannot end
        pass
    with _TRACKED_LOCK:
        _TRACKED.discard(proc)
    if sys.platform.startswith("linux"):
        sweep(token)


def sweep_stale():
    """Kill leftovers of grading processes that no longer run (a grader killed with SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    marker = f"{TOKEN_VARIABLE}=".encode()
    stale = set()
    for pid in processes_of(""):
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                items = [i for i in fh.read().split(b"\0") if i.startswith(marker)]
        except OSError:
            continue
        for item in items:
            owner = item[len(marker):].split(b":", 1)[0]
            if owner.isdigit() and not os.path.exists(f"/proc/{int(owner)}"):
                stale.add(item[len(marker):].decode("ascii", "replace"))
    for token in stale:
        sweep(token)
    remove_stale_folders()


def remove_stale_folders(parent=None):
    """Remove the run folders (checks' folders, snapshots) of grading processes that no longer run, and
    folders an older handnet left right in the temporary folder over STALE_SECONDS ago."""
    parent = parent or tempfile.gettempdir()
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        name = entry.name
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            if name.startswith(RUN_PREFIX):
                pid = name[len(RUN_PREFIX):].split("-", 1)[0]
                stale = pid.isdigit() and int(pid) != os.getpid() and not os.path.exists(f"/proc/{int(pid)}")
            elif name.startswith(("handnet-check-", "handnet-grade-snapshot-")):
                stale = now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS
            else:
                continue
        except OSError:
            continue
        if stale:
            remove_workdir(entry.path)
