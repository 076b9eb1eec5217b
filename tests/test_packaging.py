"""pyproject.toml lists every subpackage: a missing one installs fine in editable mode and then
fails with ImportError after a plain `pip install .`. The lessons are a package too, installed with
handnet, so `import lessons` works from any folder (a notebook's, a student's home, Colab)."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The top-level folders whose packages pyproject.toml must list (datasets/ is mapped to handnet._data).
PACKAGE_ROOTS = ("handnet", "lessons")


def _listed_packages():
    text = (ROOT / "pyproject.toml").read_text()
    return set(re.findall(r'"([\w.]+)"', re.search(r"^packages = \[(.*?)\]", text, re.M | re.S).group(1)))


def test_every_subpackage_is_listed_in_pyproject():
    listed = _listed_packages()
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for top in PACKAGE_ROOTS for p in (ROOT / top).rglob("__init__.py")}
    assert {"handnet", "lessons"} <= found
    assert found <= listed, f"add {sorted(found - listed)} to packages in pyproject.toml"


def test_lessons_import_from_another_folder(tmp_path):
    """The installed lessons (editable here) import outside the project folder, without running one."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import lessons, lessons._common, lessons.variance_identity as v, os; "
            "print(os.path.dirname(lessons.__file__)); print(len(lessons.LESSONS))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    folder, count = done.stdout.split()
    assert Path(folder).resolve() == (ROOT / "lessons").resolve() and int(count) == len(list_lessons())


def list_lessons():
    import lessons

    return lessons.LESSONS


def test_the_wheel_holds_every_lesson_file(tmp_path):
    """`pip install .` installs what the wheel holds: every lessons/*.py, the helpers _*.py included.
    Built from a copy of the project, so the worktree gets no build/ folder."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in ("handnet", "datasets", "lessons"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                           str(source)], capture_output=True, text=True)
    if done.returncode != 0 and "No matching distribution found for setuptools" in done.stderr:
        pytest.skip("pip cannot fetch setuptools to build the wheel here (no package index)")
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("handnet-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"lessons/{p.name}" for p in (ROOT / "lessons").glob("*.py")}
    assert {"lessons/__init__.py", "lessons/_common.py"} <= expected
    assert any(Path(n).name.startswith("_") and n != "lessons/__init__.py" for n in expected)
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    assert "handnet/cli/lessons.py" in names and "handnet/exercises/grading/notebooks.py" in names


def test_the_readme_test_command_installs_every_extra_the_tests_need():
    """.ci/run runs the README's test command and refuses one without these extras; each exists in pyproject."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"<!-- ci:test -->\n```bash\n(.*)\n", readme).group(1)
    extras = set(re.search(r'"\.\[([\w,]+)\]"', command).group(1).split(","))
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    required = set(re.search(r"^for extra in ([\w ]+); do", ci, re.M).group(1).split())
    assert required == {"test", "interop", "notebooks"} and required <= extras
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for extra in required:
        assert re.search(rf"^{extra} = \[", pyproject, re.M), extra
