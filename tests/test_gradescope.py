"""handnet gradescope: the bundle, the wheel in it, and run_autograder on a folder laid out like
Gradescope's (source/, submission/, results/), graded by a Python that imports handnet from the
wheel alone."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from handnet.exercises.grading import gradescope as gs
from conftest import assert_one_line_error, run_cli
from handnet.exercises import EXERCISES
from planted_bugs import reference_text, student_text

NAMES = ["sigmoid", "cost"]
SEED = 7
MAX_SCORE = sum(EXERCISES[name].max_score for name in NAMES)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    return out, gs.write_bundle(NAMES, seed=SEED, out_dir=out, timeout=60)


@pytest.fixture(scope="module")
def wheel_python(bundle, tmp_path_factory):
    """A Python whose handnet is the bundle's wheel, installed by pip (numpy and the other
    dependencies come from this test run's environment, so nothing is downloaded)."""
    out, _ = bundle
    base = tmp_path_factory.mktemp("wheel-env")
    target = base / "installed"
    wheel = next(out.glob("handnet-*-py3-none-any.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(target), str(wheel)], check=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")], check=True)
    python = base / "venv" / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the wheel's handnet first, then this environment's dependencies
    Path(site, "handnet-test.pth").write_text(f"{target}\n{sysconfig.get_paths()['purelib']}\n")
    where = subprocess.run([str(python), "-c", "import handnet; print(handnet.__file__)"],
                           capture_output=True, text=True, check=True, cwd=base).stdout.strip()
    assert Path(where).is_relative_to(target), where
    return python


def gradescope_root(tmp_path, bundle, files):
    """tmp_path/autograder laid out like Gradescope's: the zip extracted in source/, the student's
    files in submission/, an empty results/."""
    out, _ = bundle
    root = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(out / "autograder.zip") as archive:
        archive.extractall(root / "source")
    for name, text in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)
    return root


def run_autograder(root, python):
    env = dict(os.environ, **{gs.ROOT_VARIABLE: str(root), gs.PYTHON_VARIABLE: str(python)})
    return subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=600)


def assert_gradescope_results(results):
    """The shape Gradescope's 'Autograder Specifications' give for results.json."""
    assert set(results) <= {"score", "execution_time", "output", "output_format", "test_output_format",
                            "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
                            "leaderboard"}
    assert isinstance(results["score"], float) and isinstance(results["tests"], list) and results["tests"]
    for test in results["tests"]:
        assert {"score", "max_score", "name", "output", "status"} <= set(test)
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert 0.0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert (test["status"] == "passed") == (test["score"] == test["max_score"])
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    assert sum(t["max_score"] for t in results["tests"]) == results["extra_data"]["max_score"] == MAX_SCORE


# --------------------------------------------------------------------------- #
# The bundle and the wheel
# --------------------------------------------------------------------------- #

def test_the_bundle_holds_what_gradescope_asks_for_at_the_root_of_its_zip(bundle):
    out, paths = bundle
    wheel = next(out.glob("handnet-*-py3-none-any.whl")).name
    shipped = {"setup.sh", "run_autograder", wheel, gs.CONFIG_NAME}
    assert {Path(p).name for p in paths} == shipped | {"README.md", "autograder.zip"}
    with zipfile.ZipFile(out / "autograder.zip") as archive:
        assert set(archive.namelist()) == shipped                  # files, not a folder of them
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        for name in shipped:
            assert archive.read(name) == (out / name).read_bytes()
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR and os.stat(out / script).st_mode & stat.S_IXUSR
        assert (out / script).read_text().startswith("#!/usr/bin/env bash\n")
        subprocess.run(["bash", "-n", str(out / script)], check=True)      # parses
    config = json.loads((out / gs.CONFIG_NAME).read_text())
    assert config == {"exercises": NAMES, "seed": SEED, "timeout": 60.0, "jobs": None, "memory": None,
                      "max_score": MAX_SCORE, "handnet": wheel.split("-")[1]}
    setup = (out / "setup.sh").read_text()
    assert f'pip install --no-cache-dir "$ROOT/source/{wheel}"' in setup
    assert f"-m handnet validate sigmoid cost --seed {SEED}" in setup


def test_the_wheel_is_reproducible_and_its_record_is_right(bundle, tmp_path):
    out, _ = bundle
    wheel = next(out.glob("handnet-*-py3-none-any.whl"))
    again = gs.build_wheel(tmp_path)
    assert Path(again).read_bytes() == wheel.read_bytes()
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/RECORD"))
        rows = list(csv.reader(io.StringIO(archive.read(f"{info}/RECORD").decode())))
        assert {row[0] for row in rows} == names
        for name, digest, size in rows:
            if name.endswith("RECORD"):
                assert digest == size == ""
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data)
        metadata = archive.read(f"{info}/METADATA").decode()
        assert "Requires-Dist: numpy" in metadata and "extra ==" not in metadata
        assert archive.read(f"{info}/entry_points.txt").decode() == "[console_scripts]\nhandnet = handnet.cli:main\n"
    package = Path(gs.__file__).parents[2]
    for path in package.rglob("*.py"):
        if "__pycache__" not in path.parts:
            assert "handnet/" + path.relative_to(package).as_posix() in names
    assert "handnet/_data/digits.csv.gz" in names


def test_the_wheel_holds_every_subpackage_and_the_data(wheel_python, tmp_path):
    code = ("import handnet.exercises, handnet.explain, handnet; from handnet.datasets import load_digits; "
            "print(handnet.__version__, load_digits()[0].shape)")
    done = subprocess.run([str(wheel_python), "-c", code], capture_output=True, text=True, check=True,
                          cwd=tmp_path)
    import handnet

    assert done.stdout.split() == [handnet.__version__, "(1797,", "64)"]


# --------------------------------------------------------------------------- #
# run_autograder
# --------------------------------------------------------------------------- #

def test_run_autograder_on_a_gradescope_layout_writes_a_valid_results_json(bundle, wheel_python, tmp_path):
    root = gradescope_root(tmp_path, bundle, {
        "sigmoid.py": reference_text("sigmoid"),                     # right
        "hw/cost.py": student_text("cost_missing_1_over_m"),          # a bug, in a subfolder
        "notes.py": "print('scratch work')\n",                        # no header: a note
    })
    done = run_autograder(root, wheel_python)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert_gradescope_results(results)
    tests = {t["name"]: t for t in results["tests"]}
    sigmoid = [t for name, t in tests.items() if name.startswith("sigmoid: ")]
    assert len(sigmoid) == len(EXERCISES["sigmoid"].checks)
    assert all(t["status"] == "passed" for t in sigmoid)
    wrong = tests["cost: cost (lambda = 0)"]
    assert wrong["score"] == 0.0 and "missing 1/m" in wrong["output"]
    assert results["score"] == pytest.approx(MAX_SCORE - 9.0 - 6.0)
    assert f"seed {SEED}" in results["output"] and "notes.py" in results["output"]
    assert results["output"].splitlines()[0] in done.stdout     # stdout: what Gradescope shows the teacher


def test_an_empty_submission_scores_0_of_the_full_maximum(bundle, tmp_path):
    root = gradescope_root(tmp_path, bundle, {})
    path = gs.run_autograder(root)
    results = json.loads(Path(path).read_text())
    assert_gradescope_results(results)
    assert results["score"] == 0.0
    assert all("no file submitted" in t["output"] for t in results["tests"])


@pytest.mark.parametrize("mode", ["auto", "none"])
def test_a_submission_that_reads_the_bundle_gets_nothing(bundle, tmp_path, monkeypatch, mode):
    """The wheel in source/ holds the reference solutions and the settings hold the seed: a student's
    file that reads them (knowing Gradescope's layout) scores 0, in any containment (with none, only
    the child's guards refuse: here, where tmp_path is under /tmp, the namespace modes hide it anyway)."""
    monkeypatch.setenv("HANDNET_CONTAINMENT", mode)
    root = tmp_path / "autograder"
    thief = f'''# handnet exercise: sigmoid
import glob, os, zipfile
import numpy as np
stolen = ""
for path in glob.glob({str(root / "source")!r} + "/*"):
    try:
        if path.endswith(".whl"):
            with zipfile.ZipFile(path) as wheel:
                stolen = wheel.read("handnet/exercises/ex_sigmoid/reference.py").decode()
        print(path, open(path).read()[:200])
    except Exception as exc:
        print("no:", path, exc)
exec(stolen or "def sigmoid(z):\\n    return np.full(np.shape(z), 0.5)\\nsigmoid_gradient = sigmoid\\n")
'''
    gradescope_root(tmp_path, bundle, {"sigmoid.py": thief})
    assert list((root / "source").glob("*.whl"))                 # what a local try has, setup.sh aside
    results = json.loads(Path(gs.run_autograder(root)).read_text())
    assert results["score"] == 0.0, results["output"]
    sigmoid = [t for t in results["tests"] if t["name"].startswith("sigmoid: ")]
    assert sigmoid and all(t["score"] == 0.0 for t in sigmoid)


def test_setup_removes_the_wheel_once_installed(bundle):
    out, _ = bundle
    setup = (out / "setup.sh").read_text()
    install, remove = setup.index("pip install"), setup.index('rm -f "$ROOT/source/handnet-')
    assert install < remove


# --------------------------------------------------------------------------- #
# Bad arguments
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("kwargs,fragment", [
    (dict(names=["sigmoid", "nope"]), "no exercise named 'nope'"),
    (dict(names=[]), "names: expected one or more exercise names"),
    (dict(names="sigmoid"), "names: expected one or more exercise names"),
    (dict(seed=-1), "seed: expected a non-negative integer"),
    (dict(seed=None), "seed: expected a non-negative integer"),
    (dict(timeout=0), "timeout"),
    (dict(memory=0), "memory: expected a positive integer"),
    (dict(jobs=1.5), "jobs: expected a positive integer"),
])
def test_bad_arguments_are_named(kwargs, fragment, tmp_path):
    arguments = dict(names=["sigmoid"], seed=1, out_dir=tmp_path / "gs") | kwargs
    with pytest.raises((ValueError, TypeError), match=fragment):
        gs.write_bundle(**arguments)
    assert not (tmp_path / "gs").exists()


def test_the_output_folder_must_not_be_a_file(tmp_path):
    (tmp_path / "gs").write_text("")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        gs.write_bundle(["sigmoid"], seed=1, out_dir=tmp_path / "gs")


# --------------------------------------------------------------------------- #
# The command
# --------------------------------------------------------------------------- #

def test_the_command_writes_the_bundle_and_says_what_to_upload(capsys, tmp_path):
    status, out, _ = run_cli(capsys, "gradescope", "cost", "sigmoid", "cost", "--seed", 4, "-o", tmp_path / "gs",
                             "--memory", "1G", "--jobs", 2)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == (f"wrote the Gradescope autograder for cost, sigmoid ({MAX_SCORE:g} points, graded on "
                        f"seed 4) to {tmp_path / 'gs'}{os.sep}")
    assert lines[-1] == f"upload {tmp_path / 'gs' / 'autograder.zip'} as the autograder (base image Ubuntu 22.04 or newer)"
    config = json.loads((tmp_path / "gs" / gs.CONFIG_NAME).read_text())
    assert config["exercises"] == ["cost", "sigmoid"] and config["seed"] == 4 and config["timeout"] == 30.0
    assert config["memory"] == 1024 ** 3 and config["jobs"] == 2


@pytest.mark.parametrize("argv,fragments", [
    (["gradescope", "sigmod", "--seed", "1", "-o", "{out}"], ["no exercise named 'sigmod'", "did you mean"]),
    (["gradescope", "sigmoid", "--seed", "-1", "-o", "{out}"], ["--seed: expected a non-negative integer"]),
    (["gradescope", "sigmoid", "--seed", "1", "-o", "{out}", "--timeout", "0"], ["--timeout"]),
    (["gradescope", "sigmoid", "--seed", "1", "-o", "{out}", "--memory", "1K"], ["--memory"]),
    (["gradescope", "sigmoid", "--seed", "1", "-o", "{file}"], ["exists and is not a folder"]),
])
def test_bad_command_lines_are_one_line_errors(capsys, tmp_path, argv, fragments):
    (tmp_path / "file").write_text("")
    argv = [a.format(out=tmp_path / "gs", file=tmp_path / "file") for a in argv]
    assert_one_line_error(*run_cli(capsys, *argv), *fragments)
    assert not (tmp_path / "gs").exists()
