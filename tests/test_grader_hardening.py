"""The grader's housekeeping under attack: folders of other checks and runs, orphaned zombies.

* every check's folder lives in its grading process's run folder (mode 0711: a child running as
  another user can enter its own folder but list no other), and the run folders of grading
  processes that are gone are removed by the next run;
* zombies handed to the grading process (it is the child subreaper) are reaped, and a Popen
  of its own is left to its wait.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

from handnet.exercises.grading import sandbox
from planted_bugs import reference_text

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process containment is Linux's")


def test_check_folders_live_in_a_run_folder_others_cannot_list():
    box = sandbox.containment()
    workdir = sandbox.make_workdir(box)
    try:
        parent = os.path.dirname(workdir)
        assert parent == sandbox.run_folder()
        assert os.path.basename(parent).startswith(f"handnet-run-{os.getpid()}-")
        assert stat.S_IMODE(os.stat(parent).st_mode) == 0o711
        assert os.stat(parent).st_uid == os.getuid()
    finally:
        sandbox.remove_workdir(workdir)


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_folders_of_runs_that_are_gone_are_removed(tmp_path):
    dead = tmp_path / f"handnet-run-{_dead_pid()}-abc" / "handnet-check-x"
    dead.mkdir(parents=True)
    (dead / "sigmoid.py").write_text("secret")
    os.chmod(dead, 0o500)                                 # whatever a student left behind
    alive = tmp_path / f"handnet-run-{os.getpid()}-def" / "handnet-check-y"
    alive.mkdir(parents=True)
    old = tmp_path / "handnet-check-legacy"              # made by an older handnet, right in /tmp
    old.mkdir()
    os.utime(old, (time.time() - 2 * sandbox.STALE_SECONDS,) * 2)
    recent = tmp_path / "handnet-check-recent"
    recent.mkdir()
    sandbox.remove_stale_folders(str(tmp_path))
    assert not dead.parent.exists() and not old.exists()
    assert alive.exists() and recent.exists()


def test_orphaned_zombies_are_reaped_and_a_popen_is_left_to_its_wait():
    sandbox.become_subreaper()
    # an orphan: a child that starts a grandchild in a new session and exits; the grandchild exits too
    script = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(0.2)\n    os._exit(0)\nos._exit(0)\n"
    subprocess.run([sys.executable, "-c", script], check=True)
    with sandbox._TRACKED_LOCK:                          # as start_worker does
        own = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
        sandbox._TRACKED.add(own)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            zombies = [pid for pid in sandbox.children_of(os.getpid())
                       if sandbox._state(pid) == "Z" and pid != own.pid]
            if not zombies and sandbox._state(own.pid) == "Z":
                break
            sandbox.reap_orphans()
            time.sleep(0.05)
        assert zombies == []
        assert sandbox._state(own.pid) == "Z"              # not reaped behind Popen's back
        assert own.wait() == 0
    finally:
        with sandbox._TRACKED_LOCK:
            sandbox._TRACKED.discard(own)




def test_a_long_folder_name_and_a_formula_are_graded_and_written_safely(tmp_path):
    """A 252-character student folder once aborted the whole run (ENAMETOOLONG); a folder named like a
    spreadsheet formula became one in grades.csv."""
    import json

    import pandas as pd

    from handnet.exercises import EXERCISES

    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    long_name = "s" * 252
    formula = '=HYPERLINK("evil.example.invalid","x")'
    for student in (long_name, formula, "+1", "alice"):
        (submissions / student).mkdir(parents=True)
        (submissions / student / "sigmoid.py").write_text(reference_text("sigmoid"))
    result = subprocess.run([sys.executable, "-m", "handnet", "grade", str(submissions), "--seed", "2", "--out",
                             str(out), "--no-progress"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "grades.csv", keep_default_na=False)
    totals = table.groupby("student")["score"].sum()
    full = EXERCISES["sigmoid"].max_score
    assert totals.to_dict() == {long_name: full, "'" + formula: full, "'+1": full, "alice": full}
    assert not any(str(cell).startswith(("=", "+", "-", "@")) for cell in table.to_numpy().ravel()
                   if isinstance(cell, str))
    names = sorted(p.name for p in out.glob("*.json"))
    assert all(len(name.encode()) <= 120 for name in names) and len(names) == 4
    students = {json.loads((out / name).read_text(encoding="utf-8"))["extra_data"]["student"] for name in names}
    assert students == {long_name, formula, "+1", "alice"}
    again = subprocess.run([sys.executable, "-m", "handnet", "grade", str(submissions), "--seed", "2", "--out",
                            str(out), "--no-progress"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "taken from the previous run" in again.stdout and long_name in again.stdout
