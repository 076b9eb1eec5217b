"""A Gradescope autograder bundle for some of handnet's exercises, and the grading it runs there.

    paths = write_bundle(["sigmoid", "cost"], seed=7, out_dir="gs-hw1")   # handnet gradescope
    # upload gs-hw1/autograder.zip as the assignment's autograder; on Gradescope:
    run_autograder("/autograder")      # what run_autograder does for every submission

The bundle (the files Gradescope's "Autograder Specifications" ask for, at the
root of the zip):

    setup.sh                     run once, as root, when Gradescope builds the image: a
                                 virtual environment in /autograder/handnet-venv with the
                                 wheel below and its dependencies from PyPI, then
                                 ``handnet validate`` of the bundle's exercises on that image
    run_autograder               run for every submission: grades /autograder/submission/
                                 and writes /autograder/results/results.json
    handnet-V-py3-none-any.whl   the teacher's own handnet, byte for byte (see build_wheel)
    handnet-autograder.json      the exercises, the seed, the time limit per check

How handnet gets onto the image. The wheel is built here from the handnet the
teacher runs (the code that was validated, whether it was installed from a
wheel, a source tree or in editable mode), so the image does not depend on a
handnet release on PyPI or on a source checkout, and grades with exactly the
checks the teacher tried. Its dependencies (numpy, pandas, ...) come from PyPI,
at the newest versions allowed by handnet's ranges for the image's Python:
pinning the teacher's versions could name wheels that do not exist for the
image's Python (Gradescope's Ubuntu 22.04 has 3.10); setup.sh runs
``handnet validate`` on the image, so a dependency that broke a check stops the
build with the reason instead of grading a class wrongly.

What a submission's code may see there. The bundle holds the reference
solutions (in the wheel) and the seed (in the settings): setup.sh removes the
wheel once it is installed, and run_autograder makes source/ readable by root
only (the children run as ``nobody`` when the image allows it), forbids the
children to open source/, submission/ and results/, and hides them in the
namespace modes (see ``sandbox``).

The autograder root is /autograder, or $HANDNET_AUTOGRADER_ROOT; the Python that
runs the grading is $ROOT/handnet-venv/bin/python, or $HANDNET_AUTOGRADER_PYTHON.
With both, run_autograder runs on any machine against a folder laid out like
Gradescope's (source/, submission/, results/); the tests do exactly that.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile

from ..._validate import as_positive, as_positive_int, is_integer

__all__ = ["write_bundle", "build_wheel", "run_autograder", "CONFIG_NAME",
           "ROOT_VARIABLE", "PYTHON_VARIABLE", "VENV"]

#: The bundle's settings file, read by run_autograder from $ROOT/source/.
CONFIG_NAME = "handnet-autograder.json"
#: Environment variables naming the autograder root and the Python that grades (both optional).
ROOT_VARIABLE = "HANDNET_AUTOGRADER_ROOT"
PYTHON_VARIABLE = "HANDNET_AUTOGRADER_PYTHON"
#: setup.sh's virtual environment, relative to the autograder root.
VENV = "handnet-venv"
#: The zip the teacher uploads, and the files it holds.
ZIP_NAME = "autograder.zip"
#: Packages of handnet whose files live outside handnet's folder in a source tree (pyproject maps
#: the top-level datasets/ folder to handnet._data).
MAPPED_PACKAGES = ("handnet._data",)
#: 1980-01-01, the earliest time a zip can hold: the same handnet gives the same wheel, byte for byte.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (written by
# 'handnet gradescope'). It installs the handnet wheel next to it, with its dependencies
# from PyPI, into $ROOT/{venv}, then checks on this image that the references pass and
# the untouched student copies do not, on the public run and on the grading seed.
set -euo pipefail
ROOT="${{{root_variable}:-/autograder}}"
PYTHON="${{HANDNET_SETUP_PYTHON:-python3}}"
if ! "$PYTHON" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-venv python3-pip
fi
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "handnet needs Python 3.10 or newer, this image has " + sys.version.split()[0] + ": choose a newer Ubuntu base image")'
"$PYTHON" -m venv "$ROOT/{venv}"
"$ROOT/{venv}/bin/python" -m pip install --no-cache-dir "$ROOT/source/{wheel}"
# the wheel holds the reference solutions: installed, it is not needed (nor left to read)
rm -f "$ROOT/source/{wheel}"
"$ROOT/{venv}/bin/python" -m handnet validate {names} --seed {seed}
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission (written by 'handnet gradescope'): it grades
# $ROOT/submission/ with the exercises and seed of $ROOT/source/{config} and writes
# $ROOT/results/results.json. ROOT is /autograder unless {root_variable} names another
# folder laid out the same way; {python_variable} chooses the Python (default: setup.sh's).
set -eu
ROOT="${{{root_variable}:-/autograder}}"
export {root_variable}="$ROOT"
exec "${{{python_variable}:-$ROOT/{venv}/bin/python}}" -m {module} "$ROOT"
"""

README = """\
# Gradescope autograder: {names}

Written by `handnet gradescope` (handnet {version}). Exercises {names}, {points:g} points in
all; every submission is graded on the hidden variant seed {seed}, each check with a time
limit of {timeout:g} s.

1. In Gradescope, create a "Programming Assignment", choose "Ubuntu 22.04" (or newer) as the
   base image and upload `{zip}` as the autograder (the files are at the root of the zip, as
   Gradescope requires). The image build runs `setup.sh`: it installs handnet from the wheel
   in the bundle and its dependencies from PyPI, then runs `handnet validate` there.
2. Students upload their files (`sigmoid.py`, ...; any names, in folders or not: the first
   line `# handnet exercise: NAME` says which exercise a file is). Each exercise missing from
   a submission scores 0 with the output "no file submitted", so every student has the same
   maximum, {points:g}.

Trying it on your own machine, in a folder laid out like Gradescope's:

    mkdir -p try/source try/submission try/results
    cp setup.sh run_autograder {wheel} {config} try/source/
    cp my-solutions/*.py try/submission/
    {root_variable}=$PWD/try {python_variable}=$(which python) bash try/source/run_autograder
    cat try/results/results.json

({python_variable} is the Python in which you installed handnet; on Gradescope it is the
virtual environment that setup.sh makes.)
"""


def _exercises(names, registry=None):
    """The registry's exercises named in ``names`` (each once, in the given order)."""
    from ..registry import load_registry

    if isinstance(names, str) or not names:
        raise ValueError(f"names: expected one or more exercise names, got {names!r}")
    exercises = load_registry(registry)
    unknown = [name for name in names if name not in exercises]
    if unknown:
        raise ValueError(f"names: no exercise named {', '.join(map(repr, unknown))}; expected some of "
                         f"{', '.join(exercises) or '(none)'}")
    return [exercises[name] for name in dict.fromkeys(names)]


def _check_seed(seed):
    if not is_integer(seed) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer (the hidden variant), got {seed!r}")
    return int(seed)


def _record_hash(data):
    """A file's hash as a wheel's RECORD writes it: sha256, urlsafe base64 without padding (PEP 376/427)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"sha256={digest}"


def _package_files():
    """{name in the wheel: path on disk} for every file of the importable handnet package."""
    import handnet

    files = {}

    def add_tree(folder, prefix):
        for here, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
            for name in sorted(names):
                path = os.path.join(here, name)
                if name.startswith(".") or name.endswith(".pyc") or not os.path.isfile(path):
                    continue
                relative = os.path.relpath(path, folder).replace(os.sep, "/")
                files[f"{prefix}/{relative}"] = path

    add_tree(os.path.dirname(os.path.abspath(handnet.__file__)), "handnet")
    for package in MAPPED_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            add_tree(list(spec.submodule_search_locations)[0], package.replace(".", "/"))
    return files


def _metadata():
    """(version, METADATA text, entry_points.txt text) of the installed handnet: its name, version,
    Python range and the runtime dependencies (the extras are not needed to grade)."""
    try:
        meta = importlib.metadata.metadata("handnet")
        dist = importlib.metadata.distribution("handnet")
    except importlib.metadata.PackageNotFoundError:
        raise ValueError("handnet is not installed (its dependencies are read from the installed "
                         "package): run 'pip install .' in the project folder first") from None
    version = meta["Version"]
    lines = ["Metadata-Version: 2.1", "Name: handnet", f"Version: {version}"]
    if meta["Summary"]:
        lines.append(f"Summary: {meta['Summary']}")
    if meta["Requires-Python"]:
        lines.append(f"Requires-Python: {meta['Requires-Python']}")
    lines += [f"Requires-Dist: {req}" for req in (dist.requires or []) if "extra ==" not in req]
    scripts = [ep for ep in dist.entry_points if ep.group == "console_scripts"]
    entry_points = "[console_scripts]\n" + "".join(f"{ep.name} = {ep.value}\n" for ep in scripts)
    return version, "\n".join(lines) + "\n", entry_points


def build_wheel(out_dir):
    """Write handnet-VERSION-py3-none-any.whl of the handnet this process imports into ``out_dir``.

    A wheel is a zip of the package's files plus a ``.dist-info`` folder (METADATA, WHEEL,
    entry_points.txt and RECORD, the hash of every file; PEP 427). Built from the
    importable package, it works however handnet was installed; fixed file times make the
    same code give the same bytes. Returns the wheel's path.
    """
    from ..._atomic import atomic_write

    version, metadata, entry_points = _metadata()
    info = f"handnet-{version}.dist-info"
    contents = {}
    for name, path in _package_files().items():
        with open(path, "rb") as fh:
            contents[name] = fh.read()
    contents[f"{info}/METADATA"] = metadata.encode("utf-8")
    contents[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: handnet gradescope\n"
                                 b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    contents[f"{info}/entry_points.txt"] = entry_points.encode("utf-8")
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in contents.items())
    contents[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode("utf-8")
    return atomic_write(os.path.join(os.fspath(out_dir), f"handnet-{version}-py3-none-any.whl"),
                        lambda fh: fh.write(_zip_bytes(contents)))


def _zip_bytes(contents, executable=()):
    """A deflated zip of {name: bytes}, with fixed times; the names in ``executable`` get mode 0755."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            entry.external_attr = (0o100755 if name in executable else 0o100644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return buffer.getvalue()


def write_bundle(names, seed, out_dir, timeout=None, jobs=None, memory=None, registry=None):
    """Write the Gradescope autograder for the exercises ``names``, graded on ``seed``, to ``out_dir``.

    Writes setup.sh, run_autograder, the handnet wheel, handnet-autograder.json, a
    README.md for the teacher, and autograder.zip holding the first four (the file to
    upload). ``timeout`` (seconds), ``jobs`` (checks at once) and ``memory`` (bytes of
    address space of the child running the student's code) are handnet grade's, used on
    Gradescope (None: grade's defaults). Returns the paths written, the zip last.
    """
    from ..._atomic import atomic_write
    from . import runner

    exercises = _exercises(names, registry)
    seed = _check_seed(seed)
    timeout = float(as_positive(runner.DEFAULT_TIMEOUT if timeout is None else timeout, "timeout"))
    jobs = as_positive_int(jobs, "jobs", allow_none=True)
    memory = as_positive_int(memory, "memory", allow_none=True)
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"out_dir: {out_dir!r} exists and is not a folder")
    os.makedirs(out_dir, exist_ok=True)
    wheel_path = build_wheel(out_dir)
    wheel = os.path.basename(wheel_path)
    version = wheel.split("-")[1]
    listed = " ".join(e.name for e in exercises)
    points = sum(e.max_score for e in exercises)
    fields = dict(venv=VENV, root_variable=ROOT_VARIABLE, python_variable=PYTHON_VARIABLE, wheel=wheel,
                  config=CONFIG_NAME, names=listed, seed=seed, timeout=timeout, points=points,
                  version=version, zip=ZIP_NAME, module=__name__)
    config = {"exercises": [e.name for e in exercises], "seed": seed, "timeout": timeout, "jobs": jobs,
              "memory": memory, "max_score": points, "handnet": version}
    files = {
        "setup.sh": SETUP_SH.format(**fields).encode("utf-8"),
        "run_autograder": RUN_AUTOGRADER.format(**fields).encode("utf-8"),
        CONFIG_NAME: (json.dumps(config, indent=2) + "\n").encode("utf-8"),
    }
    scripts = ("setup.sh", "run_autograder")
    paths = []
    for name, data in files.items():
        path = atomic_write(os.path.join(out_dir, name), lambda fh, data=data: fh.write(data))
        if name in scripts:
            os.chmod(path, 0o755)
        paths.append(path)
    paths.insert(2, wheel_path)
    readme = README.format(**fields).encode("utf-8")
    paths.append(atomic_write(os.path.join(out_dir, "README.md"), lambda fh: fh.write(readme)))
    with open(wheel_path, "rb") as fh:
        files[wheel] = fh.read()
    archive = _zip_bytes(files, executable=scripts)
    paths.append(atomic_write(os.path.join(out_dir, ZIP_NAME), lambda fh: fh.write(archive)))
    return paths


def _read_config(path):
    with open(path, encoding="utf-8") as fh:
        config = json.load(fh)
    if not isinstance(config, dict) or not isinstance(config.get("exercises"), list) \
            or not isinstance(config.get("seed"), int):
        raise ValueError(f"{path}: expected the settings written by 'handnet gradescope' "
                         "(exercises, seed, timeout)")
    return config


def run_autograder(root):
    """Grade ``root``/submission/ with the settings in ``root``/source/, write ``root``/results/results.json.

    The submission is copied into a temporary class folder (one student) and graded
    like ``handnet grade`` does, with the bundle's exercises fixed: an exercise without
    a file scores 0 ("no file submitted"). Returns the path of results.json.
    """
    from ..._atomic import atomic_write
    from . import grade as grading
    from .report import results_json

    root = os.path.abspath(os.fspath(root))
    source = os.path.join(root, "source")
    config = _read_config(os.path.join(source, CONFIG_NAME))
    submission = os.path.join(root, "submission")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chmod(source, 0o700)        # the wheel (reference solutions), the seed: not for a child as nobody
    # the children may not open (and in the namespace modes do not see) the bundle, the original
    # submission or the results
    hidden = [folder for folder in (source, submission, os.path.join(root, "results")) if os.path.isdir(folder)]
    with tempfile.TemporaryDirectory(prefix="handnet-gradescope-") as classroom:
        student = "submission"
        if os.path.isdir(submission):
            shutil.copytree(submission, os.path.join(classroom, student), symlinks=True)
        else:
            os.mkdir(os.path.join(classroom, student))
        grades = grading.grade(classroom, config["seed"], timeout=config.get("timeout"), jobs=config.get("jobs"),
                               memory=config.get("memory"), progress=False, exercises=config["exercises"],
                               forbid=hidden)
    flags = {exercise: text for (who, exercise), text in grades.flags.items() if who == student}
    results = results_json(grades.results[student], title=f"seed {config['seed']}",
                           extra={"containment": grades.containment, "flags": flags},
                           notes=grades.student_notes[student])
    # Gradescope takes the assignment's total from its own settings; results.json has no max_score
    results.setdefault("extra_data", {})["max_score"] = results.pop("max_score")
    data = (json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    path = atomic_write(os.path.join(root, "results", "results.json"), lambda fh: fh.write(data))
    print(results["output"])
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: python -m {__spec__.name} AUTOGRADER_ROOT")
    run_autograder(sys.argv[1])
