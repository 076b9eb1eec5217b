"""Red team: answers a cheating child can put on the wire, and what the grading side makes of them.

The student's code runs in the child process, so it can write anything to the pipe the
grading side reads (it finds the answer descriptor by trying to write to each one: the
request pipe's end is read-only). Each attacker below gives wrong answers and tries to have
them read as right, or to break the reader:

    nan_inf         NaN and infinities for every value
    liar_types      a float subclass and an ndarray subclass whose comparisons always say "equal"
    two_answers     one forged answer (the call's own argument) before the real one
    huge_frame      a frame header announcing 2**62 bytes
    json_tricks     duplicate keys, NaN literals, 1e999, an empty "refused"
    deep            a JSON value nested 100,000 deep
    not_utf8        bytes that are not UTF-8
    fake_function   a value tagged as one of the grader's functions (``__function__``), well and badly formed
    npy_header      an ``__array__`` whose .npy header declares 10**12 entries

All of them run in one ``handnet grade`` next to two honest students; none gains a point,
the honest students keep full marks, the run ends normally and leaves no process behind.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from handnet.exercises import EXERCISES

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process containment is Linux's")

FULL = EXERCISES["sigmoid"].max_score
HONEST = '''\
# handnet exercise: sigmoid
import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_gradient(z):
    s = sigmoid(z)
    return s * (1.0 - s)
'''

#: Sends one raw frame on whichever descriptor accepts a write (the answer pipe).
SEND = '''\
# handnet exercise: sigmoid
import os
import struct

import numpy as np


def send(payload, size=None):
    header = struct.pack(">Q", len(payload) if size is None else size)
    for fd in range(3, 64):
        try:
            os.write(fd, header + payload)
            return
        except OSError:
            pass

'''

ATTACKS = {
    "nan_inf": '''\
# handnet exercise: sigmoid
import numpy as np


def sigmoid(z):
    return np.full(np.shape(z), np.nan)


def sigmoid_gradient(z):
    return np.full(np.shape(z), np.inf)
''',
    "liar_types": '''\
# handnet exercise: sigmoid
import numpy as np


class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

    __ne__ = lambda self, other: np.zeros(np.shape(self), dtype=bool)
    __lt__ = __le__ = __gt__ = __ge__ = __eq__

    def __array_ufunc__(self, *args, **kwargs):
        return 0.0


class Number(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__

    def __abs__(self):
        return 0.0


def sigmoid(z):
    return np.zeros(np.shape(z)).view(Liar) if np.ndim(z) else Number(7.0)


def sigmoid_gradient(z):
    return np.zeros(np.shape(z)).view(Liar) if np.ndim(z) else Number(7.0)
''',
    "two_answers": SEND + '''\
def sigmoid(z):
    send(('{"value": %s, "refused": []}' % np.asarray(z, dtype=float).tolist()).encode())
    return np.zeros(np.shape(z))


sigmoid_gradient = sigmoid
''',
    "huge_frame": SEND + '''\
def sigmoid(z):
    send(b"{}", size=2 ** 62)
    return np.zeros(np.shape(z))


sigmoid_gradient = sigmoid
''',
    "json_tricks": SEND + '''\
def sigmoid(z):
    send(b'{"value": NaN, "refused": ["x"], "value": [1e999, -Infinity], "refused": []}')
    return np.zeros(np.shape(z))


sigmoid_gradient = sigmoid
''',
    "deep": SEND + '''\
def sigmoid(z):
    send(b'{"value": ' + b"[" * 100000 + b"0.5" + b"]" * 100000 + b', "refused": []}')
    return np.zeros(np.shape(z))


sigmoid_gradient = sigmoid
''',
    "not_utf8": SEND + '''\
def sigmoid(z):
    send(b'{"value": 0.5, "refused": [], "x": "\\xff\\xfe"}'.replace(b"\\\\xff\\\\xfe", bytes([255, 254])))
    return np.zeros(np.shape(z))


sigmoid_gradient = sigmoid
''',
    "fake_function": SEND + '''\
CALLS = [0]


def sigmoid(z):
    CALLS[0] += 1
    forms = [b'{"__function__": "quadratic", "args": [[[1.0]], [0.0]]}',
             b'{"__function__": "quadratic", "args": ["x", "y"]}',
             b'{"__function__": "sum_sin", "args": [1, 2, 3]}']
    send(b'{"value": ' + forms[CALLS[0] % 3] + b', "refused": []}')
    return np.zeros(np.shape(z))


sigmoid_gradient = sigmoid
''',
    "npy_header": SEND + '''\
import base64


def sigmoid(z):
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
    header += b" " * (117 - len(header)) + b"\\n"
    npy = b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little") + header + bytes(16)
    send(b'{"value": {"__array__": "' + base64.b64encode(npy) + b'"}, "refused": []}')
    return np.zeros(np.shape(z))


sigmoid_gradient = sigmoid
''',
}


def _live_processes_of(grader_pid):
    """Processes (not zombies) still carrying the run's token."""
    found = []
    marker = f"HANDNET_SANDBOX={grader_pid}:".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read()
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and marker in environ:
            found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("redteam")
    submissions, out = root / "submissions", root / "grades"
    sources = {"alice": HONEST, "zoe": HONEST.replace("e = ", "small = ").replace(", e)", ", small)")
               .replace("+ e)", "+ small)"), **ATTACKS}
    for student, source in sources.items():
        (submissions / student).mkdir(parents=True)
        (submissions / student / "sigmoid.py").write_text(source)
    command = [sys.executable, "-m", "handnet", "grade", str(submissions), "--seed", "5", "--out", str(out),
               "--jobs", "2", "--no-progress"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate()
    return {"returncode": proc.returncode, "stdout": stdout, "stderr": stderr, "pid": proc.pid, "out": out}


def test_the_run_ends_normally(graded):
    assert graded["returncode"] == 0, graded["stderr"]


def test_no_forged_answer_gains_a_point_and_the_honest_students_keep_full_marks(graded):
    totals = pd.read_csv(graded["out"] / "grades.csv", keep_default_na=False).groupby("student")["score"].sum()
    assert totals["alice"] == totals["zoe"] == FULL, graded["stdout"]
    assert {student: totals[student] for student in ATTACKS if totals[student] > 0} == {}, graded["stdout"]
    assert set(totals.index) == {"alice", "zoe", *ATTACKS}


def test_no_process_of_the_run_is_left(graded):
    assert _live_processes_of(graded["pid"]) == []
