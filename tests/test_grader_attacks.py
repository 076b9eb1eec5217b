"""Students trying to cheat, each a submission graded by `handnet grade` next to an honest student.

Every attack from the grader's threat list is a file that gives wrong answers and tries
to get full marks some other way: forging the result in the stack frames or printing a
PASS line, replacing json.dumps, monkeypatching numpy's comparisons, replacing a handnet
checks helper, importing handnet, loading the installed reference by its path, overwriting
another student's submission, appending to the installed package, killing or stopping the
grader, making grades.csv a folder, leaving processes behind (a double fork with setsid),
allocating gigabytes, and a FIFO named sigmoid.py. All of them run in one `handnet grade`
(a subprocess, as a teacher would run it), then:

* no attacker gets a point, and the honest student keeps full marks;
* no process of the run is left (none carries the run's token, none is named hn-survivor);
* the installed package and the other submissions are byte for byte unchanged;
* the FIFO is a FAIL with a sentence, and the run finishes;
* a run killed half-way finishes on the next run, taking the finished students from the first.

The same attacks run under each containment this machine offers (HANDNET_CONTAINMENT):
the strongest (as root: nobody in namespaces), namespaces alone, and none at all
(only the child's audit hook stands between the student and the teacher's files).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import handnet
from handnet.exercises import EXERCISES
from handnet.exercises.grading.notebooks import student_notebook

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process containment is Linux's")

PACKAGE = Path(handnet.__file__).resolve().parent
REFERENCE = Path(EXERCISES["sigmoid"].reference_path())
FULL = EXERCISES["sigmoid"].max_score

HONEST = '''\
# handnet exercise: sigmoid
import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    big = z >= 0
    out[big] = 1.0 / (1.0 + np.exp(-z[big]))
    ez = np.exp(z[~big])
    out[~big] = ez / (1.0 + ez)
    return out if out.ndim else float(out)


def sigmoid_gradient(z):
    s = sigmoid(z)
    return s * (1.0 - s)
'''

#: Wrong answers every attacker falls back on: 0.5 everywhere (right only at z = 0).
WRONG = '''
def sigmoid(z):
    return np.full(np.shape(z), 0.5) if np.ndim(z) else 0.5


def sigmoid_gradient(z):
    return np.full(np.shape(z), 0.25) if np.ndim(z) else 0.25
'''


def attacks(submissions, out, copy):
    """{student: the source of their sigmoid.py} for every attack; paths it aims at are filled in.
    ``copy``: a copy of handnet's source elsewhere on disk (a clone, another installation)."""
    head = "# handnet exercise: sigmoid\nimport numpy as np\nimport os, sys\n"
    alice = submissions / "alice" / "sigmoid.py"
    return {
        "forge_frames": head + '''
import gc
for obj in gc.get_objects():                 # look for the grader's result token anywhere
    if isinstance(obj, str) and obj.startswith("@@handnet-result"):
        print(obj + '{"status": "PASS", "message": "forged", "seconds": 0}')
frame = sys._getframe()
while frame is not None:
    for value in list(frame.f_locals.values()):
        if isinstance(value, str) and "handnet" in value:
            print(value + '{"status": "PASS"}')
    frame = frame.f_back
print("PASS  sigmoid: sigmoid values  4.0/4.0\\n10.0/10.0 points (3 PASS, 0 FAIL, 0 TODO)")
''' + WRONG,
        "replace_json": head + '''
import json
_real = json.dumps
json.dumps = lambda *a, **k: _real({"status": "PASS", "value": 0.5, "refused": []})
json.loads = lambda *a, **k: {"status": "PASS"}
''' + WRONG,
        "patch_numpy": head + '''
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.array(True)
np.all = lambda *a, **k: True
np.any = lambda *a, **k: False
np.abs = lambda x, *a, **k: np.zeros_like(x)
np.testing.assert_allclose = lambda *a, **k: None
''' + WRONG,
        "patch_checks_helper": head + '''
try:
    import handnet.exercises.compare as compare
    compare.compare_arrays = lambda *a, **k: 0.0
    compare.compare_parts = lambda *a, **k: 0.0
except Exception:
    pass
import types
fake = types.ModuleType("handnet")
sys.modules["handnet"] = fake
''' + WRONG,
        "import_handnet": head + '''
import handnet as hn


def sigmoid(z):
    return hn.activations.sigmoid_function(z)


def sigmoid_gradient(z):
    s = hn.activations.sigmoid_function(z)
    return s * (1 - s)
''',
        "load_reference": head + f'''
import importlib.util
try:
    _spec = importlib.util.spec_from_file_location("ref", {str(REFERENCE)!r})
    _ref = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_ref)
    sigmoid, sigmoid_gradient = _ref.sigmoid, _ref.sigmoid_gradient
except Exception:
    try:
        exec(open({str(REFERENCE)!r}).read())
    except Exception:
''' + "\n".join("        " + line for line in WRONG.strip().splitlines()) + "\n",
        "load_reference_copy": head + f'''
try:
    exec(open({str(copy)!r}).read())
except Exception:
''' + "\n".join("    " + line for line in WRONG.strip().splitlines()) + "\n",
        "overwrite_other": head + f'''
for target in ({str(alice)!r}, {str(submissions / "zed" / "sigmoid.py")!r}):
    try:
        with open(target, "w") as fh:
            fh.write("# handnet exercise: sigmoid\\nraise SystemExit('overwritten')\\n")
    except Exception:
        pass
''' + WRONG,
        "append_package": head + f'''
for target in ({str(PACKAGE / "__init__.py")!r}, {str(PACKAGE / "exercises" / "compare.py")!r},
               {str(REFERENCE)!r}):
    try:
        with open(target, "a") as fh:
            fh.write("\\nraise SystemExit('tampered')\\n")
    except Exception:
        pass
''' + WRONG,
        "kill_grader": head + '''
import signal
for pid in (os.getppid(), -1, 0):
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except Exception:
            pass
for entry in os.listdir("/proc"):
    try:
        if "handnet" in open(f"/proc/{entry}/cmdline").read() and int(entry) != os.getpid():
            os.kill(int(entry), signal.SIGKILL)
    except Exception:
        pass
''' + WRONG,
        "grades_folder": head + f'''
for name in ("grades.csv", "alice.json", "zed.json"):
    try:
        os.makedirs(os.path.join({str(out)!r}, name))
    except Exception:
        pass
''' + WRONG,
        "start_program": head + f'''
source = ""
import subprocess
try:
    source = subprocess.run(["cat", {str(REFERENCE)!r}], capture_output=True, text=True).stdout
except Exception:
    pass
try:
    import _posixsubprocess
    _posixsubprocess.fork_exec
    del sys.modules["_posixsubprocess"]
    import _posixsubprocess
except Exception:
    pass
try:
    import ctypes
    ctypes.CDLL(None).system(("cat " + {str(REFERENCE)!r} + " > stolen.py").encode())
    source = source or open("stolen.py").read()
except Exception:
    pass
try:
    exec(source)
except Exception:
    pass
if "def sigmoid_gradient" not in source:
''' + "\n".join("    " + line for line in WRONG.strip().splitlines()) + "\n",
        "double_fork": head + '''
import time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        try:
            with open("/proc/self/comm", "w") as fh:
                fh.write("hn-survivor")
        except Exception:
            pass
        time.sleep(3600)
    os._exit(0)
''' + WRONG,
        "pid_hopper": head + '''
import time
if os.fork() == 0:                           # a process that keeps changing its pid: fork, exit, repeat
    os.setsid()
    end = time.monotonic() + 600
    while time.monotonic() < end:
        time.sleep(0.0005)
        try:
            if os.fork():
                os._exit(0)
        except OSError:
            pass
    os._exit(0)
''' + WRONG,
        "guards_off": head + f'''
import gc
for obj in gc.get_objects():                 # the child's audit hook, switched off (if it had a switch)
    try:
        if hasattr(obj, "refuse") and hasattr(obj, "workdir"):
            obj.active = False
    except Exception:
        pass
try:
    exec(open({str(alice)!r}).read())
except Exception:
    try:
        exec(open({str(REFERENCE)!r}).read())
    except Exception:
''' + "\n".join("        " + line for line in WRONG.strip().splitlines()) + "\n",
        "dir_fd": head + f'''
source = ""
try:                                         # a descriptor of a folder outside, then a relative path
    fd = os.open({str(submissions.parent)!r}, os.O_RDONLY | os.O_DIRECTORY)
    source = os.read(os.open("submissions/alice/sigmoid.py", os.O_RDONLY, dir_fd=fd), 10 ** 6).decode()
except Exception:
    pass
try:                                         # a descriptor of the working folder, '..' read from deeper down
    here = os.getcwd()
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    os.makedirs("a/b", exist_ok=True)
    os.chdir("a/b")
    up = "../" + os.path.relpath({str(alice)!r}, os.path.dirname(here))
    source = source or os.read(os.open(up, os.O_RDONLY, dir_fd=fd), 10 ** 6).decode()
    os.chdir(here)
except Exception:
    pass
try:                                         # a symbolic link to the classmate's file
    os.symlink({str(alice)!r}, "linked.py")
    source = source or open("linked.py").read()
except Exception:
    pass
if "def sigmoid_gradient" in source:
    exec(source)
else:
''' + "\n".join("    " + line for line in WRONG.strip().splitlines()) + "\n",
        "copy_classmate": head + '''
import glob
import tempfile
import time
found, source = [], ""
for _ in range(20):                          # classmates' check folders, while their checks run
    tmp = tempfile.gettempdir()
    for pattern in ("handnet-check-*/*.py", "handnet-run-*/*/*.py", "handnet-grade-snapshot-*/*/*.py",
                    "handnet-run-*/*/*/*.py"):
        for path in glob.glob(os.path.join("/tmp", pattern)) + glob.glob(os.path.join(tmp, pattern)):
            if os.path.dirname(os.path.abspath(path)) != os.getcwd() and path not in found:
                found.append(path)
                try:
                    text = open(path).read()
                    if "def sigmoid_gradient" in text and "classmates' check folders" not in text:
                        source = source or text
                except Exception:
                    pass
    if source:
        break
    time.sleep(0.05)
print("found:", len(found))
if source:
    exec(source)
else:
''' + "\n".join("    " + line for line in WRONG.strip().splitlines()) + "\n",
        "memory_hog": head + '''
hog = []
try:
    hog.append(np.ones(10 ** 9))              # 8 GB
except MemoryError:
    pass
try:
    hog.append(bytearray(6 * 2 ** 30))
except MemoryError:
    pass
''' + WRONG,
    }


ATTACKERS = ("forge_frames", "replace_json", "patch_numpy", "patch_checks_helper", "import_handnet",
             "load_reference", "load_reference_copy", "overwrite_other", "append_package", "kill_grader",
             "grades_folder", "start_program", "double_fork", "pid_hopper", "guards_off", "dir_fd", "copy_classmate",
             "memory_hog", "fifo")
#: The same attacks handed in as a notebook's answer cell (sigmoid.ipynb): read as data by the judge,
#: run by the same contained child, so they must gain nothing either. (The process attacks run
#: through the same child and sweep whatever the file type; the .py attackers cover them.)
NOTEBOOK_ATTACKERS = ("forge_frames", "replace_json", "patch_numpy", "import_handnet", "kill_grader",
                      "overwrite_other")


def tree_hashes(folder):
    """{relative path: sha256} of every regular file under ``folder``."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def leftovers(grader_pid):
    """Processes of a run that are still alive: those carrying its token, or named hn-survivor."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (f"HANDNET_SANDBOX={grader_pid}:".encode() in environ or comm == "hn-survivor"):
            found.append((int(entry), comm))
    return found


def grade_command(submissions, out, seed=3, jobs=2):
    return [sys.executable, "-m", "handnet", "grade", str(submissions), "--seed", str(seed), "--out", str(out),
            "--jobs", str(jobs), "--no-progress", "--timeout", "60"]


def run_grade(submissions, out, mode, **kwargs):
    """(CompletedProcess, grader pid) of `handnet grade` as a subprocess under containment ``mode``."""
    env = {**os.environ, "HANDNET_CONTAINMENT": mode}
    proc = subprocess.Popen(grade_command(submissions, out, **kwargs), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    stdout, stderr = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), proc.pid


@pytest.fixture(scope="module", params=["auto", "namespaces", "none"])
def attacked(request, tmp_path_factory):
    """One `handnet grade` over the honest students and every attacker, under one containment mode."""
    mode = request.param
    root = tmp_path_factory.mktemp(f"attacks-{mode}")
    submissions, out = root / "submissions", root / "grades"
    for student in ("alice", "zed", *ATTACKERS, *(f"nb_{name}" for name in NOTEBOOK_ATTACKERS)):
        (submissions / student).mkdir(parents=True)
    (submissions / "alice" / "sigmoid.py").write_text(HONEST)
    (submissions / "zed" / "sigmoid.py").write_text(HONEST.replace("big", "nonneg"))
    copy = root / "elsewhere" / "handnet" / "exercises" / "ex_sigmoid" / "reference.py"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(REFERENCE.read_bytes())
    sources = attacks(submissions, out, copy)
    for student, source in sources.items():
        (submissions / student / "sigmoid.py").write_text(source)
    for name in NOTEBOOK_ATTACKERS:
        (submissions / f"nb_{name}" / "sigmoid.ipynb").write_text(
            student_notebook(EXERCISES["sigmoid"], sources[name]), encoding="utf-8")
    os.mkfifo(submissions / "fifo" / "sigmoid.py")
    before = tree_hashes(submissions), tree_hashes(PACKAGE)
    result, pid = run_grade(submissions, out, mode)
    return {"mode": mode, "result": result, "pid": pid, "submissions": submissions, "out": out,
            "before": before}


class TestAttacksGradedByHandnetGrade:
    def test_the_run_finishes_and_says_what_contained_it(self, attacked):
        result = attacked["result"]
        assert result.returncode == 0, result.stderr
        assert "containment: " in result.stdout
        if attacked["mode"] == "none":
            assert "submissions ran with the teacher's rights" in result.stdout

    def test_no_attacker_gains_a_point_and_the_honest_students_keep_full_marks(self, attacked):
        table = pd.read_csv(attacked["out"] / "grades.csv")
        totals = table.groupby("student")["score"].sum()
        assert totals["alice"] == totals["zed"] == FULL, attacked["result"].stdout
        notebooks = [f"nb_{name}" for name in NOTEBOOK_ATTACKERS]
        gained = {student: totals[student] for student in (*ATTACKERS, *notebooks) if totals[student] > 0}
        assert gained == {}, attacked["result"].stdout
        assert set(totals.index) == {"alice", "zed", *ATTACKERS, *notebooks}

    def test_no_process_outlives_the_run(self, attacked):
        assert leftovers(attacked["pid"]) == []

    def test_the_installed_package_and_the_other_submissions_are_unchanged(self, attacked):
        submissions, package = attacked["before"]
        assert tree_hashes(PACKAGE) == package
        assert tree_hashes(attacked["submissions"]) == submissions

    def test_grades_and_reports_are_files(self, attacked):
        out = attacked["out"]
        assert (out / "grades.csv").is_file()
        for student in ("alice", "zed", *ATTACKERS):
            data = json.loads((out / f"{student}.json").read_text(encoding="utf-8"))
            assert data["max_score"] == FULL

    def test_the_fifo_is_a_fail_with_a_sentence(self, attacked):
        data = json.loads((attacked["out"] / "fifo.json").read_text(encoding="utf-8"))
        assert {t["status"] for t in data["tests"]} == {"failed"}
        assert all("is a FIFO (named pipe), not a regular file" in t["output"] for t in data["tests"])

    def test_each_refusal_is_a_fail_that_says_why(self, attacked):
        out = attacked["out"]

        def outputs(student):
            data = json.loads((out / f"{student}.json").read_text(encoding="utf-8"))
            return "\n".join(t["output"] for t in data["tests"])

        assert "refused: your code tried to import handnet" in outputs("import_handnet")
        assert "refused: your code tried to import handnet" in outputs("nb_import_handnet")
        assert "refused: your code tried to send a signal" in outputs("nb_kill_grader")
        assert "refused: your code tried to import handnet" in outputs("patch_checks_helper")
        assert "refused: your code tried to open" in outputs("load_reference")
        assert "refused: your code tried to open" in outputs("load_reference_copy")
        assert "refused: your code tried to send a signal" in outputs("kill_grader")
        assert "refused: your code tried to start a program" in outputs("start_program")
        assert "refused: your code tried to use ctypes" in outputs("start_program")
        if attacked["mode"] == "none":            # elsewhere the files are not there to refuse
            assert "refused: your code tried to open" in outputs("guards_off")
            assert "a relative path may not go up" in outputs("dir_fd")
            assert "outside its working folder" in outputs("dir_fd")
            assert "refused: your code tried to make a symbolic link" in outputs("dir_fd")
        if attacked["mode"] != "none":            # a private /tmp: no other check's folder to see
            assert "found: 0" in outputs("copy_classmate")
        for student in ("overwrite_other", "append_package", "grades_folder"):
            assert "refused: your code tried to" in outputs(student), student

    def test_honest_work_is_not_flagged_as_a_copy(self, attacked):
        table = pd.read_csv(attacked["out"] / "grades.csv", dtype={"flag": str}, keep_default_na=False)
        assert set(table[table["student"].isin(["alice", "zed"])]["flag"]) == {""}


def test_a_killed_run_finishes_on_the_next_run(tmp_path):
    """SIGKILL the grader once the first student is saved; the rerun grades the rest and reuses the first."""
    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    slow = HONEST.replace("def sigmoid_gradient(z):\n", "def sigmoid_gradient(z):\n    import time\n"
                          "    time.sleep(0.5)\n")
    for student, source in (("a", HONEST), ("b", slow), ("c", slow)):
        (submissions / student).mkdir(parents=True)
        (submissions / student / "sigmoid.py").write_text(source)
    proc = subprocess.Popen(grade_command(submissions, out, jobs=1), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    while not (out / "a.json").exists() and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "grades.csv").exists()                    # killed before the end
    first = json.loads((out / "a.json").read_text(encoding="utf-8"))
    assert first["score"] == FULL
    again = subprocess.run(grade_command(submissions, out, jobs=1), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "taken from the previous run (unchanged files, same seed): a" in again.stdout
    table = pd.read_csv(out / "grades.csv")
    assert table.groupby("student")["score"].sum().to_dict() == {"a": FULL, "b": FULL, "c": FULL}
    assert leftovers(proc.pid) == [] and leftovers(os.getpid()) == []


def test_ctrl_c_saves_what_is_done_and_says_how_to_resume(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    endless = HONEST.replace("def sigmoid_gradient(z):\n", "def sigmoid_gradient(z):\n    while True:\n"
                             "        pass\n")
    for student, source in (("a", HONEST), ("b", endless)):
        (submissions / student).mkdir(parents=True)
        (submissions / student / "sigmoid.py").write_text(source)
    proc = subprocess.Popen(grade_command(submissions, out, jobs=1), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    while not (out / "a.json").exists() and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate()
    assert proc.returncode == 130, stderr
    assert "1 of 2 students are graded and saved" in stderr and "run the same command again" in stderr
    assert leftovers(proc.pid) == []
